"""Hostile input: nothing executes, nothing hangs, every rejection is one line.

Each payload that could run code tries to create a marker file; the marker must never exist.
Every input must raise a ``SymfieldError`` in every syntax mode, and the parser must work
normally afterwards. "Nothing hangs" is tested by the work done, not by a clock (a clock fails
on a busy machine for the wrong reason): ANTLR, the only part whose cost grows with the text,
must never be handed more than its token limit, and huge numbers must be refused before they
are computed.
"""
from __future__ import annotations

import pathlib
import re
import signal

import pytest
import sympy as sp

import symfield.verification as verify_package
from symfield.errors import SymfieldError
from symfield.symbols import q
from symfield.verification import compare, parse_claim, parse_expression
from symfield.verification import latex as latex_module
from symfield.verification import limits

MARKER_NAME = "MARKER_FILE"


def code_execution_payloads(marker: str) -> list[str]:
    shell = f"__import__('os').system('touch {marker}')"
    return [
        shell,
        "().__class__.__bases__[0].__subclasses__()",
        f"sqrt.__globals__['__builtins__']['__import__']('os').system('touch {marker}')",
        f"(1).__class__.__new__.__globals__['__builtins__']['__import__']('os')"
        f".system('touch {marker}')",
        f"(lambda: {shell})()",
        f"[{shell} for _ in (1,)]",
        f"{{{shell} for _ in (1,)}}",
        f"({shell} for _ in (1,))",
        "f\"{" + shell + "}\"",
        f"(y := {shell})",
        f"sqrt(*[{shell}])",
        f"sqrt(x={shell})",
        f"q if {shell} else c",
        f"exec(\"import os; os.system('touch {marker}')\")",
        f"eval(\"{shell}\")",
        f"sympify(\"{shell}\")",
        f"open('{marker}', 'w')",
        "getattr(q, '__class__')",
        "globals()['__builtins__']",
        "__builtins__",
        "q.__class__.__mro__",
        "x.__class__",
        "E[q].__reduce__()",
        "breakpoint()",
        r"\input{/etc/passwd}",
        r"\def\x{1} \x",
        r"\immediate\write18{touch " + marker + "}",
        r"\mathit{zzexpectationmarkera}",  # an attempt to forge the parser's placeholder
        r"\operatorname{system}(q)",
    ]


DENIAL_OF_SERVICE = [
    "9**9**9**9",
    "9^9^9^9",
    r"9^{9^{9^9}}",
    "factorial(10**7)",
    "(10**7)!",
    r"(10^{7})!",
    "1" + "0" * 200,
    "10**1000**1000",
    "2**-10000",
    "E[phi(u)]**100000",
    "10.5e99999999",
    "q+" * 500_000 + "q",  # about 1 MB
    "(" * 10_000 + "q" + ")" * 10_000,
    "{" * 10_000 + "q" + "}" * 10_000,
    "(" * 1000 + "q" + ")" * 1000,
    "{" * 1000 + "q" + "}" * 1000,
    r"\sqrt{" * 500 + "q" + "}" * 500,
    "-" * 4999 + "1",
    "2**" * 1500 + "2",
    "q" + "+q" * 2400,
    r"\sum_{i=1}^{10^{10}} i",
    r"\binom{10^9}{5}",
]

MALFORMED = [
    "y",
    "foo(q)",
    r"\foo{q}",
    r"\frac{1}{2",
    r"\left( q",
    r"\mathbb{E}[\phi(u)",
    "E[E[phi(u)]]",
    "",
    "   \n\t  ",
    "q\x00",
    "\x00",
    "q\x1b[31m",
    "ｑ+1",  # fullwidth q
    "q\u202e+1",  # right-to-left override
    "q\u200b",  # zero-width space
    "\u0430+1",  # Cyrillic a
    "q\u0301",  # combining accent
    "\U0001F600",
    "\ud800",  # lone surrogate
    "0x1F",
    "1j",
    "b'abc'",
    "...",
    "True",
    "None",
    "q @ q",
    "q | c",
    "not q",
    "q and c",
    "q // 2",
    "await q",
    "q; q",
    "1/0",
    "q = = c",
    "q <= c",
]


def corpus(marker: str) -> list[str]:
    return code_execution_payloads(marker) + DENIAL_OF_SERVICE + MALFORMED


def test_corpus_is_large_enough(tmp_path):
    assert len(corpus(str(tmp_path / MARKER_NAME))) >= 40


@pytest.fixture(scope="module", autouse=True)
def warm_latex_parser():
    parse_expression(r"\frac{1}{2}")  # ANTLR's first call loads the grammar (~0.5 s)


@pytest.fixture
def antlr_inputs(monkeypatch):
    """The token counts of every text handed to ANTLR."""
    seen: list[int] = []
    original = latex_module._antlr

    def recording(text):
        seen.append(latex_module.antlr_token_count(text))
        return original(text)

    monkeypatch.setattr(latex_module, "_antlr", recording)
    return seen


@pytest.mark.parametrize("syntax", ["auto", "plain", "latex"])
@pytest.mark.parametrize("index", range(len(corpus("m"))))
def test_hostile_input_is_rejected_in_one_line_with_bounded_work(index, syntax, tmp_path,
                                                                 antlr_inputs):
    marker = tmp_path / MARKER_NAME
    text = corpus(str(marker))[index]
    handler_before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(SymfieldError) as info:
        parse_claim(text, syntax=syntax)
    message = str(info.value)
    assert all(count <= limits.MAX_LATEX_TOKENS for count in antlr_inputs), antlr_inputs
    assert sum(antlr_inputs) <= limits.MAX_CLAIM_LATEX_TOKENS
    assert message and "\n" not in message and len(message) < 1000
    assert "Traceback" not in message
    assert not marker.exists(), f"payload executed: {text[:80]!r}"
    assert signal.getsignal(signal.SIGALRM) is handler_before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_payloads_do_not_run_in_compare_domains_either(tmp_path):
    marker = tmp_path / MARKER_NAME
    for payload in code_execution_payloads(str(marker)):
        with pytest.raises(SymfieldError):
            compare(q, q + 1, domain={"q": payload})
    assert not marker.exists()


def test_parser_still_works_after_the_corpus(tmp_path):
    for text in corpus(str(tmp_path / MARKER_NAME)):
        with pytest.raises(SymfieldError):
            parse_claim(text)
    assert parse_expression(r"\frac{4\sigma_w^2}{\pi\sqrt{1+4q}}") == \
        parse_expression("4*sigma_w^2/(pi*sqrt(1+4q))")
    verdict = compare(parse_expression("(2/pi)*asin(2q/(1+2q))"),
                      parse_expression("(2/pi)*atan(2q/sqrt(1+4q))"), points=3)
    assert verdict.status == "equal"


def test_long_latex_is_refused_by_its_size_before_antlr(antlr_inputs):
    # ANTLR needs ~2.5 ms of CPU per token: a long formula is refused by counting its tokens,
    # never by a clock (a deadline used to fail ordinary claims on a busy machine)
    with pytest.raises(SymfieldError, match="too long.*tokens"):
        parse_expression("q " * 999, syntax="latex")
    assert antlr_inputs == []
    terms = (limits.MAX_LATEX_TOKENS + 1) // 2  # q + q + ... + q: 2 * terms - 1 tokens
    assert parse_expression(" + ".join(["q"] * terms), syntax="latex") == terms * q
    assert antlr_inputs == [2 * terms - 1]


def test_a_long_latex_chain_is_refused_as_a_whole(antlr_inputs):
    step = " + ".join(["q"] * 150)  # 299 tokens: each step is fine on its own
    chain = " \\\\ ".join(["&= " + step] * 8)
    with pytest.raises(SymfieldError, match="whole claim"):
        parse_claim(r"\begin{align} q " + chain + r" \end{align}")
    assert sum(antlr_inputs) <= limits.MAX_CLAIM_LATEX_TOKENS


def test_huge_numbers_are_bounded_not_computed():
    with pytest.raises(SymfieldError, match="too large"):
        parse_expression("(10**999)**999")
    assert parse_expression("2**100") == sp.Integer(2)**100


@pytest.mark.parametrize("tower", ["((q^1000)^1000)^1000", "(((q^1000)^1000)^1000)^1000",
                                   "q^1000*q^1000", r"{{{q^{1000}}^{1000}}^{1000}}"])
def test_power_towers_are_refused_by_their_combined_exponent(tower):
    # SymPy combines (q^1000)^1000 into q^1000000, whose exact value at a point took a minute
    with pytest.raises(SymfieldError, match="combine to"):
        parse_claim(f"{tower} = q")


_FORBIDDEN_CALLS = re.compile(r"(?<![\w.])(eval|exec|compile|sympify|parse_expr|literal_eval|"
                              r"__import__)\s*\(|\bS\s*\(\s*['\"a-z]|lambdify")


def test_source_never_evaluates_text():
    package = pathlib.Path(verify_package.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if _FORBIDDEN_CALLS.search(code):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders
