"""Hostile strings for the security tests (tests/test_security.py).

Each payload is a template: ``@MARKER@`` stands for a file path the test controls (a payload
that executes would create it) and ``@SECRET@`` for a file holding a token (a payload that
reads files would leak the token into a result or a message). :func:`payloads` fills both in.

The corpus covers: Python code execution (``__import__``, ``open``, ``exec``/``eval``, lambdas,
comprehensions, f-strings, walrus, dunder chains through ``__class__``/``__globals__``/
``__subclasses__``, NFKC-normalised identifiers), LaTeX file and shell access (``\\input``,
``\\include``, ``\\openin``, ``\\openout``, ``\\write18``, ``\\catcode``, ``\\def``,
``\\csname``), denial of service (power towers, factorials, huge exponents, deep nesting,
megabyte inputs) and malformed text (NUL bytes, control characters, Unicode tricks).
"""
from __future__ import annotations

from dataclasses import dataclass

MARKER = "@MARKER@"
SECRET = "@SECRET@"

#: Python text that would create the marker file if evaluated.
_TOUCH = "__import__('os').system('touch @MARKER@')"
_OPEN = "open('@MARKER@', 'w')"

CODE_EXECUTION = {
    "import-system": _TOUCH,
    "import-system-double-quotes": '__import__("os").system("touch @MARKER@")',
    "import-subprocess": "__import__('subprocess').call(['touch', '@MARKER@'])",
    "import-pathlib": "__import__('pathlib').Path('@MARKER@').touch()",
    "import-popen": "__import__('os').popen('touch @MARKER@').read()",
    "import-builtins-open": "__import__('builtins').open('@MARKER@', 'w')",
    "open-write": _OPEN,
    "open-write-close": "open('@MARKER@', 'w').close()",
    "exec-string": "exec(\"open('@MARKER@', 'w')\")",
    "eval-string": "eval(\"open('@MARKER@', 'w')\")",
    "eval-compile": "eval(compile(\"open('@MARKER@', 'w')\", 'x', 'exec'))",
    "eval-hex-escapes": "eval('\\x5f\\x5fimport\\x5f\\x5f(\"os\").system(\"touch @MARKER@\")')",
    "sympify-string": f'sympify("{_OPEN}")',
    "S-string": f'S("{_OPEN}")',
    "parse-expr-string": f'parse_expr("{_OPEN}")',
    "lambdify-string": f"lambdify(x, \"{_OPEN}\")(1)",
    "lambda-call": f"(lambda: {_OPEN})()",
    "lambda-default": f"(lambda a={_OPEN}: a)()",
    "list-comprehension": f"[{_OPEN} for _ in (1,)]",
    "set-comprehension": f"{{{_OPEN} for _ in (1,)}}",
    "dict-comprehension": f"{{k: {_OPEN} for k in (1,)}}",
    "generator-consumed": f"list({_OPEN} for _ in (1,))",
    "f-string": 'f"{' + _OPEN + '}"',
    "f-string-format-spec": "f'{q:{" + '__import__("os").system("touch @MARKER@")' + "}}'",
    "walrus": f"(y := {_OPEN})",
    "conditional": f"q if {_OPEN} else c",
    "call-argument": f"sqrt({_OPEN})",
    "call-keyword": f"sqrt(x={_OPEN})",
    "call-star": f"sqrt(*[{_OPEN}])",
    "sum-term": f"q + {_TOUCH}",
    "statement-semicolon": f"q; {_TOUCH}",
    "statement-newline": f"q\n{_TOUCH}",
    "statement-import": "import os; os.system('touch @MARKER@')",
    "comment-then-code": f"#\n{_TOUCH}",
    "subclasses": "().__class__.__bases__[0].__subclasses__()",
    "subclasses-base": "().__class__.__base__.__subclasses__()",
    "subclasses-globals": "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ "
                          "== 'catch_warnings'][0]()._module.__builtins__['open']('@MARKER@', 'w')",
    "function-globals": "sqrt.__globals__['__builtins__']['__import__']('os')"
                        ".system('touch @MARKER@')",
    "literal-globals": "(1).__class__.__new__.__globals__['__builtins__']['__import__']('os')"
                       ".system('touch @MARKER@')",
    "symbol-new-globals": "Symbol.__new__.__globals__['__builtins__']['open']('@MARKER@', 'w')",
    "mro": "q.__class__.__mro__[-1].__subclasses__()",
    "getattr-builtins": "getattr(__builtins__, 'open')('@MARKER@', 'w')",
    "globals-builtins": "globals()['__builtins__']['open']('@MARKER@', 'w')",
    "builtins-dict": "__builtins__.__dict__['__import__']('os').system('touch @MARKER@')",
    "loader": "__loader__.load_module('os').system('touch @MARKER@')",
    "type-del": "type('X', (), {'__del__': lambda s: " + _OPEN + "})()",
    "reduce": "Integer(1).__reduce_ex__(2)",
    "breakpoint": "breakpoint()",
    "os-attribute": "os.system('touch @MARKER@')",
    # Python normalises identifiers (NFKC): these spell __import__ and open
    "nfkc-mathematical-i": "__\U0001d4bemport__('os').system('touch @MARKER@')",
    "nfkc-fullwidth-underscore": "\uff3f\uff3fimport\uff3f\uff3f('os').system('touch @MARKER@')",
    "nfkc-script-e": "\u212fval(\"open('@MARKER@', 'w')\")",
    "pickle-loads": "__import__('pickle').loads(b'cos\\nsystem\\n(S\"touch @MARKER@\"\\ntR.')",
}

LATEX_FILE_ACCESS = {
    "input-secret": r"\input{@SECRET@}",
    "input-secret-bare": r"\input @SECRET@ ",
    "input-etc-passwd": r"\input{/etc/passwd}",
    "include-secret": r"\include{@SECRET@}",
    "openin-read": r"\newread\r \openin\r=@SECRET@ \read\r to\x \x",
    "openin-immediate": r"\immediate\openin15=@SECRET@",
    "openout-marker": r"\newwrite\w \immediate\openout\w=@MARKER@ \immediate\write\w{x}"
                      r"\immediate\closeout\w",
    "write18": r"\write18{touch @MARKER@}",
    "immediate-write18": r"\immediate\write18{touch @MARKER@}",
    "input-pipe": r"\input{|touch @MARKER@}",
    "input-pipe-quoted": r'\input|"touch @MARKER@" ',
    "catcode-escape": r"\catcode`\^^5c=0 ^^5cinput{@SECRET@}",
    "catcode-letter": r"\catcode`\@=11 \input{@SECRET@}",
    "def-macro": r"\def\x{\input{@SECRET@}}\x",
    "let-macro": r"\let\x\input \x{@SECRET@}",
    "csname": r"\csname input\endcsname{@SECRET@}",
    "expandafter": r"\expandafter\input\expandafter{@SECRET@}",
    "usepackage": r"\usepackage{@SECRET@}",
    "verbatiminput": r"\verbatiminput{@SECRET@}",
    "lstinputlisting": r"\lstinputlisting{@SECRET@}",
    "special": r"\special{! (@MARKER@) (w) file}",
    "pdfobj-file": r"\pdfobj file {@SECRET@}",
    "end-document": r"\end{document}\input{@SECRET@}",
    "frac-with-input": r"\frac{\input{@SECRET@}}{2}",
    "operatorname-input": r"\operatorname{\input{@SECRET@}}(q)",
    "mathbb-input": r"\mathbb{E}[\input{@SECRET@}]",
    "text-input": r"\text{\input{@SECRET@}}",
    "def-loop": r"\def\x{\x}\x",
    "operatorname-system": r"\operatorname{system}(q)",
    "placeholder-forgery": r"\mathit{zzexpectationmarkera}",
}

DENIAL_OF_SERVICE = {
    "power-tower": "9**9**9**9",
    "power-tower-caret": "9^9^9^9",
    "power-tower-latex": r"9^{9^{9^{9}}}",
    "factorial": "factorial(10**7)",
    "factorial-bang": "(10**7)!",
    "factorial-latex": r"(10^{7})!",
    "power-of-power": "(10**999)**999",
    "nested-powers": "2**" * 1500 + "2",
    "huge-integer-text": "1" + "0" * 5000,
    "huge-exponent": "1e999999999",
    "huge-negative-exponent": "1e-999999999",
    "huge-exponent-fraction": "1/1e999999999",
    "binomial-latex": r"\binom{10^9}{5}",
    "sum-latex": r"\sum_{i=1}^{10^{10}} i",
    "deep-parentheses": "(" * 10_000 + "q" + ")" * 10_000,
    "deep-brackets": "[" * 10_000 + "q" + "]" * 10_000,
    "deep-braces": "{" * 10_000 + "q" + "}" * 10_000,
    "deep-sqrt-latex": r"\sqrt{" * 500 + "q" + "}" * 500,
    "deep-unary": "-" * 5000 + "1",
    "long-sum": "q" + "+q" * 2400,
    "megabyte-sum": "q+" * 500_000 + "q",
    "megabyte-letters": "a" * 1_000_000,
}

MALFORMED = {
    "empty": "",
    "blank": "   \n\t  ",
    "nul-alone": "\x00",
    "nul-inside": "q\x00+1",
    "nul-in-name": "relu\x00",
    "escape-sequence": "q\x1b[31m",
    "newlines": "q\n\n\nq",
    "fullwidth-q": "\uff51+1",
    "right-to-left-override": "q\u202e+1",
    "zero-width-space": "q\u200b",
    "cyrillic-a": "\u0430+1",
    "combining-accent": "q\u0301",
    "emoji": "\U0001F600",
    "lone-surrogate": "\ud800",
    "bom": "\ufeffq",
    "hex-literal": "0x1F",
    "complex-literal": "1j",
    "bytes-literal": "b'abc'",
    "ellipsis": "...",
    "nan-text": "nan",
    "inf-text": "inf",
    "minus-infinity": "-1e400",
    "path-traversal": "../../../../etc/passwd",
    "absolute-path": "/etc/passwd",
    "url": "tcp://127.0.0.1:1",
    "shell-metacharacters": "$(touch @MARKER@)`touch @MARKER@`; touch @MARKER@ |",
    "format-string": "%s%n{0}{__class__}",
}

CATEGORIES = {"code": CODE_EXECUTION, "latex": LATEX_FILE_ACCESS, "dos": DENIAL_OF_SERVICE,
              "malformed": MALFORMED}


@dataclass(frozen=True)
class Payload:
    name: str
    category: str
    text: str


def payloads(marker: str, secret: str) -> list[Payload]:
    """Every payload, with the marker and secret paths filled in."""
    out = []
    for category, table in CATEGORIES.items():
        for name, template in table.items():
            text = template.replace(MARKER, marker).replace(SECRET, secret)
            out.append(Payload(name, category, text))
    return out


__all__ = ["CATEGORIES", "MARKER", "Payload", "SECRET", "payloads"]
