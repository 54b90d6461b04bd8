"""LaTeX formulas: a token-level pre-pass, SymPy's ANTLR parser, then a whitelist rebuild.

SymPy's ANTLR backend never evaluates user text, but it silently reads what it does not know
as products of letters (``\\operatorname{erf}(x)`` becomes ``operatorname*x*e*f*r``). So:

1. the pre-pass accepts only known commands (``\\frac``, ``\\sqrt``, ``\\sigma``, ...), rewrites the
   spellings ANTLR does not know (``\\operatorname{erf}``, ``\\mathrm{e}``, ``\\bar\\kappa^2``,
   ``q1`` for ``q_1``, decimals as exact fractions), rejects unknown words, and replaces every
   expectation ``\\mathbb{E}[...]``, ``E[...]`` or ``\\langle ... \\rangle`` by a placeholder after
   parsing its integrand on its own;
2. ANTLR parses the result; its work is bounded by the number of tokens it is given (per
   formula and per claim, :mod:`.limits`), never by a clock, and its grammar is loaded once,
   thread-safely, before any formula is parsed;
3. the SymPy tree it returns is rebuilt node by node through :mod:`.build`, which maps names to
   the canonical symbols and rejects any node type or name outside the whitelist.
"""
from __future__ import annotations

import importlib
import sys
import re
import threading
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from . import build, limits
from .errors import ParseError, quote
from .names import ACTIVATION_NAMES, FUNCTION_NAMES, SYMBOLS

# -- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # "cmd", "letters", "number", "space", "char"
    text: str


_TOKEN = re.compile(r"(?P<cmd>\\(?:[A-Za-z]+|.))|(?P<letters>[A-Za-z]+)"
                    r"|(?P<number>\d+(?:\.\d+)?)|(?P<space>\s+)|(?P<char>.)", re.S)


def tokenize(text: str) -> list[Token]:
    return [Token(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)]


# -- what the pre-pass accepts ------------------------------------------------------------------

#: Commands ANTLR understands and that mean what they say here.
_PASS_THROUGH = frozenset({
    r"\frac", r"\dfrac", r"\tfrac", r"\sqrt", r"\cdot", r"\times", r"\div",
    r"\pi", r"\sigma", r"\rho", r"\alpha", r"\kappa", r"\phi", r"\varphi", r"\Theta",
    r"\exp", r"\log", r"\ln", r"\sin", r"\cos", r"\tan", r"\sec", r"\csc", r"\cot",
    r"\arcsin", r"\arccos", r"\arctan", r"\sinh", r"\cosh", r"\tanh",
    r"\arsinh", r"\arcosh", r"\artanh",
})
#: Function commands ANTLR does not know: it reads \name(args) as an undefined function, which
#: the rebuild maps by name. They need parentheses.
_FUNCTION_COMMANDS = frozenset({r"\erf", r"\erfc", r"\sech", r"\sgn", r"\sign", r"\max", r"\min",
                                r"\abs", r"\Heaviside", r"\step"})
#: Spacing and delimiter sizing: dropped.
_DROPPED = frozenset({r"\,", r"\;", r"\:", r"\!", r"\ ", r"\quad", r"\qquad", r"\rm",
                      r"\displaystyle", r"\textstyle", r"\limits"})
_SIZING = frozenset({r"\left", r"\right", r"\big", r"\Big", r"\bigg", r"\Bigg", r"\bigl",
                     r"\bigr", r"\Bigl", r"\Bigr", r"\biggl", r"\biggr", r"\Biggl", r"\Biggr",
                     r"\bigm", r"\Bigm"})
_FONTS = frozenset({r"\operatorname", r"\mathrm", r"\text", r"\textrm", r"\mathit", r"\mathbb"})
#: Why some familiar commands are refused.
_REFUSED = {
    r"\int": "write Gaussian integrals \\int Dz f(z) as \\mathbb{E}[f(z)]",
    r"\sum": "sums are not supported", r"\prod": "products are not supported",
    r"\lim": "limits are not supported", r"\partial": "derivatives are not supported "
    "(only phi'(u), phi''(u) of the activation)",
    r"\infty": "infinite values are not allowed",
    r"\le": "only '=' relations are supported", r"\leq": "only '=' relations are supported",
    r"\ge": "only '=' relations are supported", r"\geq": "only '=' relations are supported",
    r"\neq": "only '=' relations are supported", r"\ne": "only '=' relations are supported",
    r"\approx": "only '=' relations are supported", r"\sim": "only '=' relations are supported",
    r"\equiv": "only '=' relations are supported",
    r"\binom": "binomial coefficients are not supported",
    r"\delta": "the delta function is not supported",
    r"\\": "line breaks belong between the steps of a chain",
}
#: Words written without a backslash that are still understood (e.g. 'erf(x)', 'sigma_w').
_GREEK_WORDS = frozenset({"sigma", "rho", "pi", "alpha", "kappa", "phi", "varphi"})
#: Letters that are symbols on their own, so a run of them is a product ('qc' = q*c).
_LETTER_SYMBOLS = frozenset(name for name in SYMBOLS if len(name) == 1)
#: Letter + digit spellings read as subscripts ('q1' = q_1).
_DIGIT_SUBSCRIPTED = frozenset({"q1", "q2", "u1", "u2", "z1", "z2"})
#: Placeholder names: letters only, and no 'd' (ANTLR lexes 'd' + letter as a differential).
_PLACEHOLDER_PREFIX = "zzexpectationmarker"
_PLACEHOLDER_ALPHABET = "abcefghijklmnopqrstuvwxyz"


def _known_commands() -> str:
    names = sorted(_PASS_THROUGH | _FUNCTION_COMMANDS | _FONTS | {r"\bar", r"\langle"})
    return " ".join(names)


# -- the pre-pass -----------------------------------------------------------------------------


class _PrePass:
    """Rewrites a token list into text ANTLR reads correctly; collects expectations."""

    def __init__(self, tokens: list[Token], expectations: dict[str, sp.Expr],
                 tally: TokenTally) -> None:
        self.tokens = tokens
        self.pos = 0
        self.out: list[str] = []
        self.expectations = expectations
        self.tally = tally

    # -- cursor helpers ---------------------------------------------------------------------
    def peek(self, skip_space: bool = True) -> Token | None:
        i = self.pos
        while skip_space and i < len(self.tokens) and self.tokens[i].kind == "space":
            i += 1
        return self.tokens[i] if i < len(self.tokens) else None

    def next(self, skip_space: bool = True) -> Token | None:
        while skip_space and self.pos < len(self.tokens) and self.tokens[self.pos].kind == "space":
            self.pos += 1
        if self.pos >= len(self.tokens):
            return None
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def read_group(self, what: str) -> str:
        """The raw text of a {...} group (or a single token) following a command."""
        token = self.next()
        if token is None:
            raise ParseError(f"{what} needs an argument")
        if token.text != "{":
            return token.text
        depth, parts = 1, []
        while True:
            token = self.next(skip_space=False)
            if token is None:
                raise ParseError(f"unbalanced braces after {what}")
            if token.text == "{":
                depth += 1
            elif token.text == "}":
                depth -= 1
                if depth == 0:
                    return "".join(parts)
            parts.append(token.text)

    # -- main loop --------------------------------------------------------------------------
    def run(self) -> str:
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            self.pos += 1
            handler = getattr(self, f"_on_{token.kind}")
            handler(token)
        return "".join(self.out)

    def _on_space(self, token: Token) -> None:
        self.out.append(" ")

    def _on_number(self, token: Token) -> None:
        literal = token.text
        digits = literal.replace(".", "")
        if len(digits) > limits.MAX_LITERAL_DIGITS:
            raise ParseError(f"the number {quote(literal)} has more than "
                             f"{limits.MAX_LITERAL_DIGITS} digits")
        if "." in literal:  # exact: 2.2 is 11/5, never a binary float
            whole, frac = literal.split(".")
            self.out.append(f"\\frac{{{int(whole + frac)}}}{{1{'0' * len(frac)}}}")
        else:
            self.out.append(str(int(literal)))

    def _on_char(self, token: Token) -> None:
        char = token.text
        if char == "_":
            self._subscript()
            return
        if char == "~":
            self.out.append(" ")
            return
        if char == "[" and self._last_is_letter("E"):
            self.out.pop()
            self._expectation(declared=None)
            return
        if char in "=<>":
            raise ParseError(f"'{char}' is only allowed between the steps of a claim "
                             f"(and only '=' relations are supported)")
        if char == ":":
            raise ParseError("':' is not an operator here: divide with / or \\frac{a}{b} "
                             "(braces only group; sets and dictionaries are not formulas)")
        if char in "&$%#@\"?;!":
            what = "factorials are" if char == "!" else f"the character '{char}' is"
            raise ParseError(f"{what} not allowed in a LaTeX formula")
        self.out.append(char)

    def _last_is_letter(self, letter: str) -> bool:
        """Was the last thing emitted (spaces aside) this single letter? Drops the spaces."""
        while self.out and self.out[-1] == " ":
            self.out.pop()
        return bool(self.out) and self.out[-1] == letter

    def _on_letters(self, token: Token) -> None:
        run = token.text
        follower = self.peek(skip_space=False)
        # 'q1' means q_1; other letter-digit contacts are ambiguous in LaTeX.
        if follower is not None and follower.kind == "number":
            tail = run[-1] + follower.text[0]
            if tail in _DIGIT_SUBSCRIPTED and len(follower.text) == 1:
                if len(run) > 1:
                    self._letters(run[:-1])
                self.pos += 1
                self.out.append(f"{run[-1]}_{{{follower.text}}}")
                return
            raise ParseError(f"{quote(run + follower.text)} is ambiguous in LaTeX: write a "
                             f"subscript ({run[-1]}_{{{follower.text}}}) or a product "
                             f"({run[-1]} \\cdot {follower.text})")
        self._letters(run)

    def _letters(self, run: str) -> None:
        if run in FUNCTION_NAMES or run in ("sqrt",):
            self._function_word(run)
        elif run in _GREEK_WORDS:
            self.out.append(f"\\{run} ")
        elif all(letter in _LETTER_SYMBOLS for letter in run):
            for letter in run:  # a run of one-letter symbols is their product
                self.out.append(letter)
                self.out.append(" ")
            if self.out:
                self.out.pop()
        else:
            bad = next((letter for letter in run if letter not in _LETTER_SYMBOLS), run)
            raise ParseError(f"{quote(run)} is not understood in LaTeX: letters next to each "
                             f"other multiply, and {quote(bad)} is not a symbol; write functions "
                             f"as \\operatorname{{erf}}(...) and Greek letters with a backslash")

    def _next_opens_expectation(self) -> bool:
        token = self.peek()
        return token is not None and (token.text in ("[", "_") or token.text in _SIZING)

    def _function_word(self, word: str) -> None:
        canonical = FUNCTION_NAMES.get(word, word)
        grammar = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "Abs": "abs",
                   "Max": "max", "Min": "min", "asinh": "arsinh", "acosh": "arcosh",
                   "atanh": "artanh"}.get(canonical, canonical)
        command = f"\\{grammar}"
        if command not in _PASS_THROUGH and command not in _FUNCTION_COMMANDS \
                and command != r"\sqrt":
            raise ParseError(f"the function {word} is not available in LaTeX input")
        if command in _FUNCTION_COMMANDS:
            self._hoist_power()
        self.out.append(command + " ")

    def _hoist_power(self) -> None:
        """\\sech^2(x) -> \\sech(x)^2: ANTLR only allows powers on the functions it knows."""
        i = self.pos
        while i < len(self.tokens) and self.tokens[i].kind == "space":
            i += 1
        if i >= len(self.tokens) or self.tokens[i].text != "^":
            return
        power_start, j = i, i + 1
        while j < len(self.tokens) and self.tokens[j].kind == "space":
            j += 1
        if j < len(self.tokens) and self.tokens[j].text == "{":
            depth = 0
            while j < len(self.tokens):
                depth += {"{": 1, "}": -1}.get(self.tokens[j].text, 0)
                if depth == 0:
                    break
                j += 1
        power_end = j + 1
        k = power_end
        while k < len(self.tokens) and self.tokens[k].kind == "space":
            k += 1
        if k >= len(self.tokens) or self.tokens[k].text != "(":
            return
        depth, m = 0, k
        while m < len(self.tokens):
            depth += {"(": 1, ")": -1}.get(self.tokens[m].text, 0)
            if depth == 0:
                break
            m += 1
        else:
            return
        power = self.tokens[power_start:power_end]
        call = self.tokens[k:m + 1]
        self.tokens[power_start:m + 1] = call + power

    def _on_cmd(self, token: Token) -> None:
        command = token.text
        if command in _DROPPED:
            self.out.append(" ")
        elif command in _SIZING:
            follower = self.peek()
            if follower is not None and follower.text == ".":  # \left. is an invisible delimiter
                self.next()
            elif follower is not None and follower.text == "[" and self._last_is_letter("E"):
                self.next()  # E\left[ ... \right]
                self.out.pop()
                self._expectation(declared=None)
                return
            self.out.append(" ")
        elif command in _FUNCTION_COMMANDS:
            self._hoist_power()
            self.out.append(command + " ")
        elif command in _PASS_THROUGH:
            self.out.append(command + " ")
        elif command in _FONTS:
            self._font(command)
        elif command in (r"\bar", r"\overline"):
            self._bar(command)
        elif command == r"\langle":
            self._expectation(declared=None, closer=r"\rangle")
        elif command in _REFUSED:
            raise ParseError(f"the LaTeX command {command} is not supported: {_REFUSED[command]}")
        elif command in (r"\{", r"\}"):
            raise ParseError("literal braces \\{ \\} are not allowed; use ( ) for grouping")
        else:
            raise ParseError(f"the LaTeX command {command} is not understood; known commands: "
                             f"{_known_commands()}")

    def _font(self, command: str) -> None:
        content = self.read_group(command).strip()
        if command == r"\mathbb":
            if content != "E":
                raise ParseError(f"\\mathbb{{{content}}} is not understood; only \\mathbb{{E}} "
                                 f"(expectation) is")
            if not self._next_opens_expectation():
                raise ParseError("\\mathbb{E} must be followed by [...], e.g. \\mathbb{E}[\\phi(u)^2]")
            self.out.append("E")
            self._expectation_after_e()
            return
        if content == "E" and self._next_opens_expectation():
            self.out.append("E")
            self._expectation_after_e()
            return
        if content in FUNCTION_NAMES or content in ACTIVATION_NAMES:
            if content in ACTIVATION_NAMES:
                self.out.append(f"\\{content} ")
            else:
                self._function_word(content)
            return
        if re.fullmatch(r"[A-Za-z]", content):
            self.out.append(content)
            return
        if content in _GREEK_WORDS:
            self.out.append(f"\\{content} ")
            return
        raise ParseError(f"{command}{{{content}}} is not understood; known functions: "
                         f"{', '.join(sorted(set(FUNCTION_NAMES.values())))}")

    def _bar(self, command: str) -> None:
        content = self.read_group(command).strip()
        if content != r"\kappa":
            raise ParseError(f"{command} is only understood in \\bar\\kappa^2 (the curvature)")
        self.out.append(r"\kappa ")

    def _subscript(self) -> None:
        content = self.read_group("the subscript '_'")
        cleaned = re.sub(r"\\(?:mathrm|text|rm|mathit)\s*", "", content)
        cleaned = re.sub(r"[{}\s]", "", cleaned)
        if not re.fullmatch(r"[A-Za-z0-9]+", cleaned):
            raise ParseError(f"the subscript {quote(content)} is not understood; subscripts name "
                             f"variables such as \\sigma_w, q_1")
        if self._last_is_letter("E") and self._next_opens_expectation():
            self.out.pop()
            self._expectation_after_e(declared_text=cleaned)
            return
        self.out.append(f"_{{{cleaned}}}")

    # -- expectations -----------------------------------------------------------------------
    def _expectation_after_e(self, declared_text: str | None = None) -> None:
        """After an 'E' was emitted: read an optional subscript and the bracketed integrand."""
        if self.out and self.out[-1] == "E":
            self.out.pop()
        token = self.next()
        if token is not None and token.text == "_" and declared_text is None:
            declared_text = re.sub(r"[{}\s]", "", self.read_group("the subscript of E"))
            token = self.next()
        while token is not None and token.text in _SIZING:
            token = self.next()
        if token is None or token.text != "[":
            raise ParseError("an expectation is written \\mathbb{E}[...] with square brackets")
        self._expectation(declared=_declared_variables(declared_text))

    def _expectation(self, declared: tuple[sp.Symbol, ...] | None, closer: str = "]") -> None:
        """Parse the integrand up to the matching closer and emit a placeholder for E[...]."""
        start, depth = self.pos, 1
        while self.pos < len(self.tokens):
            text = self.tokens[self.pos].text
            if text in ("[", r"\langle"):
                depth += 1
            elif text in ("]", r"\rangle"):
                depth -= 1
                if depth == 0:
                    if text != closer:
                        raise ParseError(f"the expectation is closed by {text} instead of {closer}")
                    break
            self.pos += 1
        else:
            raise ParseError(f"the expectation is not closed (missing {closer})")
        body = self.tokens[start:self.pos]
        self.pos += 1
        # The closing \right or \bigr belongs to the bracket: drop it from the integrand.
        while body and (body[-1].kind == "space" or body[-1].text in _SIZING):
            body = body[:-1]
        if not any(t.kind != "space" for t in body):
            raise ParseError("the expectation E[...] is empty")
        integrand = _parse_tokens(body, self.tally)
        name = _PLACEHOLDER_PREFIX + _letters_for(len(self.expectations))
        self.expectations[name] = build.expectation(integrand, declared)
        self.out.append(f"\\mathit{{{name}}}")


def _letters_for(index: int) -> str:
    """A letters-only counter for placeholder names (0 -> 'a', 1 -> 'b', ...)."""
    base = len(_PLACEHOLDER_ALPHABET)
    out = ""
    while True:
        out = _PLACEHOLDER_ALPHABET[index % base] + out
        index //= base
        if index == 0:
            return out


def _declared_variables(text: str | None) -> tuple[sp.Symbol, ...] | None:
    if text is None:
        return None
    names = [n for n in re.split(r"[,\s]+", text) if n]
    found = []
    for name in names:
        symbol = SYMBOLS.get(name) or SYMBOLS.get(re.sub(r"^([a-z])_?(\d)$", r"\1\2", name))
        if symbol is None or symbol not in build.INTEGRATION_VARIABLES:
            raise ParseError(f"the subscript of E must name its integration variables "
                             f"(e.g. \\mathbb{{E}}_{{z}}[...]); got {quote(text)}")
        found.append(symbol)
    return tuple(found)


# -- ANTLR and the rebuild --------------------------------------------------------------------

def _check_superscripts(tokens: list[Token]) -> None:
    """TeX rejects a^b^c ('double superscript'); ANTLR would silently read (a^b)^c."""
    significant = [t for t in tokens if t.kind != "space"]
    i = 0
    while i < len(significant):
        if significant[i].text != "^":
            i += 1
            continue
        end = i + 1
        if end < len(significant) and significant[end].text == "{":
            depth = 0
            while end < len(significant):
                depth += {"{": 1, "}": -1}.get(significant[end].text, 0)
                if depth == 0:
                    break
                end += 1
        elif end < len(significant) and significant[end].kind == "letters" \
                and len(significant[end].text) > 1:
            i = end  # only the first letter is the exponent: no double superscript possible
            continue
        if end + 1 < len(significant) and significant[end + 1].text == "^":
            raise ParseError("double superscript (a^b^c): write a^{b^c} or {a^b}^c")
        i = end + 1


def _check_brackets(tokens: list[Token]) -> None:
    depth = 0
    for token in tokens:
        if token.text in ("{", "(", "["):
            depth += 1
            if depth > limits.MAX_BRACKET_DEPTH:
                raise ParseError(f"the formula is nested too deeply (more than "
                                 f"{limits.MAX_BRACKET_DEPTH} open brackets)")
        elif token.text in ("}", ")", "]"):
            depth -= 1
            if depth < 0:
                raise ParseError(f"unbalanced brackets: an extra '{token.text}'")
    if depth:
        raise ParseError("unbalanced brackets: a '{', '(' or '[' is not closed")


class TokenTally:
    """ANTLR tokens spent so far on one claim (every step and integrand counts)."""

    def __init__(self) -> None:
        self.used = 0

    def spend(self, count: int) -> None:
        self.used += count
        if self.used > limits.MAX_CLAIM_LATEX_TOKENS:
            raise ParseError(f"the LaTeX claim is too long ({self.used}+ tokens; limit "
                             f"{limits.MAX_CLAIM_LATEX_TOKENS} for a whole claim): check a "
                             f"long chain in parts")


#: What ANTLR reads as one token, roughly: a command, a letter, a number or a character; a
#: placeholder \mathit{...} for an expectation is one name.
_ANTLR_TOKEN = re.compile(r"\\mathit\{[a-z]+\}|\\[A-Za-z]+|\\.|[A-Za-z]|\d+|\S")


def antlr_token_count(text: str) -> int:
    """How many tokens ANTLR will read in ``text`` (the measure of its work)."""
    return sum(1 for _ in _ANTLR_TOKEN.finditer(text))


def _parse_tokens(tokens: list[Token], tally: TokenTally) -> sp.Expr:
    """Pre-pass, ANTLR and rebuild for one formula (an expectation's integrand included)."""
    _check_brackets(tokens)
    _check_superscripts(tokens)
    expectations: dict[str, sp.Expr] = {}
    text = _PrePass(tokens, expectations, tally).run().strip()
    if not text:
        raise ParseError("the formula is empty")
    if len(text) > limits.MAX_LATEX_CHARS:
        raise ParseError(f"the LaTeX formula is too long ({len(text)} characters after "
                         f"normalisation; limit {limits.MAX_LATEX_CHARS} per step)")
    count = antlr_token_count(text)
    if count > limits.MAX_LATEX_TOKENS:
        raise ParseError(f"the LaTeX formula is too long ({count} tokens; limit "
                         f"{limits.MAX_LATEX_TOKENS} per formula): split it into steps")
    tally.spend(count)
    raw = _antlr(text)
    return _Rebuild(expectations).build(raw, 0)


def parse_latex_expression(text: str, tally: TokenTally | None = None) -> sp.Expr:
    """A SymPy expression from one LaTeX formula (no '=' in it)."""
    return _parse_tokens(tokenize(text), tally if tally is not None else TokenTally())


def _antlr(text: str) -> sp.Expr:
    parse_latex, LaTeXParsingError = _antlr_parser()
    try:
        # strict: without it ANTLR silently drops what it cannot read ('1,0' -> 1).
        return parse_latex(text, strict=True, backend="antlr")
    except LaTeXParsingError as exc:
        raise ParseError(f"LaTeX syntax error: {_syntax_detail(text, exc)}") from None
    except RecursionError:
        raise ParseError("the LaTeX formula is nested too deeply") from None
    except ImportError as exc:  # SymPy checks the antlr runtime version at call time
        raise ParseError(f"LaTeX input needs antlr4-python3-runtime 4.11 ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - ANTLR/SymPy internals: report, never a traceback
        raise ParseError(f"the LaTeX formula could not be read ({type(exc).__name__})") from None


_GRAMMAR_LOCK = threading.Lock()
_ANTLR_MODULE = "sympy.parsing.latex._parse_latex_antlr"


def _antlr_parser():
    """(parse_latex, LaTeXParsingError) with SymPy's ANTLR grammar loaded and intact.

    The first load takes ~1 s; it runs once, under a lock, and under no time limit. SymPy's
    module swallows any exception raised while it imports the generated lexer and parser
    (an alarm that fired there used to leave ``LaTeXLexer = None`` for the rest of the
    process, failing every later LaTeX claim): a missing lexer or parser is detected here
    and the module reloaded; if that does not help, the error says so.
    """
    try:
        from sympy.parsing.latex import parse_latex
        from sympy.parsing.latex.errors import LaTeXParsingError
    except ImportError:  # pragma: no cover - depends on the installation
        raise ParseError("LaTeX input needs antlr4-python3-runtime 4.11 "
                         "(pip install 'antlr4-python3-runtime==4.11.*')") from None
    if _grammar_intact():
        return parse_latex, LaTeXParsingError
    with _GRAMMAR_LOCK:
        if not _grammar_intact():
            _load_grammar(parse_latex, LaTeXParsingError)
    return parse_latex, LaTeXParsingError


_GRAMMAR_WARM = False


def _grammar_intact() -> bool:
    module = sys.modules.get(_ANTLR_MODULE)
    return _GRAMMAR_WARM and module is not None and \
        module.LaTeXLexer is not None and module.LaTeXParser is not None


def _load_grammar(parse_latex, parsing_error) -> None:
    global _GRAMMAR_WARM
    try:
        module = importlib.import_module(_ANTLR_MODULE)
        if module.LaTeXLexer is None or module.LaTeXParser is None:
            module = importlib.reload(module)  # an earlier import was interrupted
    except Exception as exc:  # noqa: BLE001 - reported as a clear error below
        raise ParseError(f"LaTeX input is unavailable: SymPy's LaTeX parser could not be "
                         f"loaded ({type(exc).__name__}: {str(exc)[:120]})") from None
    if module.LaTeXLexer is None or module.LaTeXParser is None:
        raise ParseError("LaTeX input is unavailable: SymPy could not load its ANTLR lexer "
                         "and parser (is antlr4-python3-runtime 4.11 installed?)")
    try:
        parse_latex("1", strict=True, backend="antlr")  # builds ANTLR's tables (~1 s)
    except ImportError as exc:
        raise ParseError(f"LaTeX input needs antlr4-python3-runtime 4.11 ({exc})") from None
    except parsing_error:  # pragma: no cover - '1' always parses
        pass
    _GRAMMAR_WARM = True


def _syntax_detail(text: str, exc: Exception) -> str:
    """ANTLR's own message when it has one; strict mode only says 'Invalid LaTeX'."""
    from sympy.parsing.latex import parse_latex
    from sympy.parsing.latex.errors import LaTeXParsingError

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if first and first != "Invalid LaTeX":
        return first
    try:
        parse_latex(text, strict=False, backend="antlr")  # same size: bounded like the first
    except LaTeXParsingError as lenient:
        detail = str(lenient).strip().splitlines()
        if detail and detail[0]:
            return detail[0]
    except Exception:  # noqa: BLE001 - only looking for a better message
        pass
    return "part of the formula could not be read (a stray character, operator or comma?)"


_UNSUPPORTED_NODES = {
    "factorial": "factorials are not supported",
    "binomial": "binomial coefficients are not supported",
    "floor": "floor is not supported", "ceiling": "ceiling is not supported",
    "conjugate": "\\overline is only understood in \\bar\\kappa^2",
    "Integral": "write Gaussian integrals as \\mathbb{E}[...]",
    "Sum": "sums are not supported", "Product": "products are not supported",
    "Limit": "limits are not supported",
    "Derivative": "derivatives are not supported (only phi'(u), phi''(u) of the activation)",
}

_TRIG = frozenset({"sin", "cos", "tan", "sec", "csc", "cot", "sinh", "cosh", "tanh", "asin",
                   "acos", "atan", "asinh", "acosh", "atanh", "acot", "asec", "acsc", "exp",
                   "Abs"})


class _Rebuild:
    """Rebuilds ANTLR's SymPy tree through the safe constructors of :mod:`.build`."""

    def __init__(self, expectations: dict[str, sp.Expr]) -> None:
        self.expectations = expectations
        self.nodes = 0

    def build(self, node: sp.Basic, depth: int) -> sp.Expr:
        self.nodes += 1
        if self.nodes > limits.MAX_NODES:
            raise ParseError(f"the formula is too large (more than {limits.MAX_NODES} nodes)")
        if depth > limits.MAX_TREE_DEPTH:
            raise ParseError(f"the formula is nested too deeply (limit {limits.MAX_TREE_DEPTH})")
        if isinstance(node, sp.Rational):
            return build.check_size(node)
        if isinstance(node, sp.Float):
            raise ParseError("decimal numbers could not be read exactly; write them as fractions")
        if isinstance(node, sp.Symbol):
            return self._symbol(node.name)
        if node is sp.E or node is sp.pi:  # \log's default base, or SymPy's own constants
            return node
        if isinstance(node, (sp.Add, sp.Mul)):
            return self._flat(node, depth)
        if isinstance(node, sp.Pow):
            base, exponent = node.args
            if isinstance(base, sp.Symbol) and base.name == "kappa":
                return build.kappa_power(self.build(exponent, depth + 1))
            return build.power(self.build(base, depth + 1), self.build(exponent, depth + 1))
        if isinstance(node, sp.log):
            args = [self.build(a, depth + 1) for a in node.args]
            value = build.call("log", args[:1])
            if len(args) == 2 and args[1] != sp.E:
                value = build.divide(value, build.call("log", args[1:]))
            return value
        if isinstance(node, AppliedUndef):
            return self._undefined_function(node, depth)
        name = type(node).__name__
        if isinstance(node, sp.Function) and name in _TRIG:
            return build.call(name, [self.build(a, depth + 1) for a in node.args])
        if name in _UNSUPPORTED_NODES:
            raise ParseError(_UNSUPPORTED_NODES[name])
        if isinstance(node, sp.core.relational.Relational):
            raise ParseError("relations are only allowed between the steps of a claim")
        raise ParseError(f"{name} is not supported in a formula")

    def _flat(self, node: sp.Basic, depth: int) -> sp.Expr:
        """Add/Mul chains come nested from ANTLR (evaluate=False): flatten them iteratively."""
        kind = type(node)
        operands, stack = [], [node]
        while stack:
            current = stack.pop()
            if type(current) is kind:
                stack.extend(reversed(current.args))
            else:
                operands.append(current)
        built = [self.build(operand, depth + 1) for operand in operands]
        return build.add(*built) if kind is sp.Add else build.multiply(*built)

    def _symbol(self, raw: str) -> sp.Expr:
        if raw in self.expectations:
            return self.expectations[raw]
        name = raw.replace("{", "").replace("}", "")
        if name in ACTIVATION_NAMES or name.rstrip("'") in ACTIVATION_NAMES:
            raise ParseError(f"\\{name.rstrip(chr(39))} is the activation: apply it to an "
                             f"argument, e.g. \\phi(u)")
        return build.symbol(name)

    def _undefined_function(self, node: AppliedUndef, depth: int) -> sp.Expr:
        raw = type(node).__name__
        stripped = raw.rstrip("'")
        primes = len(raw) - len(stripped)
        name = stripped.replace("{", "").replace("}", "")
        if name in SYMBOLS and not primes:
            # Even for a constant (\pi(1+4q)^{3/2}) the parser has already attached the
            # exponent to the whole application, so reading a product would be wrong.
            raise ParseError(f"{name} is not a function; write {name} \\cdot (...) for a product")
        if not (name in ACTIVATION_NAMES or name in FUNCTION_NAMES):
            return build.call(name, [])  # unknown function: raises before reading arguments
        args = [self.build(a, depth + 1) for a in node.args]
        return build.call(name, args, phi_order=primes)
