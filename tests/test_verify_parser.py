"""The safe parser: valid plain and LaTeX formulas become the engine's SymPy objects."""
from __future__ import annotations

import pytest
import sympy as sp

from symfield.activations import x
from symfield.errors import SymfieldError
from symfield.expectation import Expectation, u1, u2
from symfield.symbols import A, C, L, c, kappa2, q, q1, q2, rho, sigma_b, sigma_w
from symfield.verification import (ParseError, detect_syntax, parse_claim, parse_expression, phi,
                             substitute_activation)
from symfield.verification.names import u, v, z

pi = sp.pi


def d_phi(arg, order=1):
    """phi^(order) at arg, the way the parser represents it."""
    return sp.Derivative(phi(x), (x, order)).subs(x, arg)


WILLIAMS = 2 / pi * sp.asin(2 * q / (1 + 2 * q))
CHI1_ERF = 4 * sigma_w**2 / (pi * sp.sqrt(1 + 4 * q))

PLAIN = [
    ("4*sigma_w**2/(pi*sqrt(1+4*q))", CHI1_ERF),
    ("4 sigma_w^2/(pi*sqrt(1+4q))", CHI1_ERF),
    ("(2/pi)*asin(2q/(1+2q))", WILLIAMS),
    ("2/pi*arcsin(2*q/(1+2*q))", WILLIAMS),
    ("(2/pi)*atan(2q/sqrt(1+4q))", 2 / pi * sp.atan(2 * q / sp.sqrt(1 + 4 * q))),
    ("erf(x)^2 + erfc(x)", sp.erf(x)**2 + sp.erfc(x)),
    ("exp(-q) + e^(-q) + E**(-q)", 3 * sp.exp(-q)),
    ("log(q) + ln(q)", 2 * sp.log(q)),
    ("max(x, 0) - Max(0, x) + abs(x) - Abs(x)", sp.S.Zero),
    ("min(x, 0)", sp.Min(x, 0)),
    ("Heaviside(x) + sign(x)", sp.Heaviside(x) + sp.sign(x)),
    ("sech(x)^2 + tanh(x)^2", sp.sech(x)**2 + sp.tanh(x)**2),
    ("atan2(rho, c)", sp.atan2(rho, c)),
    ("q_1*q_2 - q1*q2", sp.S.Zero),
    ("σ_w^2 + σ_b²", sigma_w**2 + sigma_b**2),
    ("sqrt(q1*q2 - rho^2)", sp.sqrt(q1 * q2 - rho**2)),
    ("0.1*q + 2.5e-3", q / 10 + sp.Rational(1, 400)),
    ("kappa2 + kappa^2", 2 * kappa2),
    ("A - C + L", A - C + L),
    ("phi(u)", phi(u)),
    ("phi'(u)", sp.Derivative(phi(u), u)),
    ("phi''(sqrt(q)*z)", d_phi(sp.sqrt(q) * z, 2)),
    ("dphi(x) - phi'(x)", sp.S.Zero),
    ("π/2", pi / 2),
]


@pytest.mark.parametrize("text, expected", PLAIN)
def test_plain_formulas_build_the_canonical_objects(text, expected):
    assert sp.simplify(parse_expression(text) - expected) == 0
    assert parse_expression(text, syntax="plain").free_symbols == expected.free_symbols


def test_juxtaposition_of_names_is_an_error_not_a_guess():
    assert parse_expression("4 sigma_w^2 q") == 4 * sigma_w**2 * q  # a number juxtaposed
    with pytest.raises(ParseError, match="syntax error"):
        parse_expression("sigma_w q")


def test_parsed_symbols_are_the_engine_symbols():
    assert parse_expression("q") is q
    assert parse_expression("sigma_w") is sigma_w
    assert parse_expression("u1") is u1 and parse_expression("q_2") is q2
    assert parse_expression("x") is x


def test_decimals_are_exact():
    assert parse_expression("0.1") == sp.Rational(1, 10)
    assert parse_expression(r"2.2", syntax="latex") == sp.Rational(11, 5)
    assert not parse_expression("1.5*q").atoms(sp.Float)


def test_one_over_two_q_is_q_over_two_as_documented():
    assert parse_expression("1/2q") == q / 2
    assert parse_expression("1/(2q)") == 1 / (2 * q)


LATEX = [
    (r"\frac{2}{\pi}\arcsin\frac{2q}{1+2q}", WILLIAMS),
    (r"\frac{4\sigma_w^2}{\pi\sqrt{1+4q}}", CHI1_ERF),
    (r"\dfrac{4\sigma_{w}^{2}}{\pi\sqrt{1+4q}}", CHI1_ERF),
    (r"\tfrac{4\,\sigma_w^2}{\pi \cdot \sqrt{1 + 4 q}}", CHI1_ERF),
    (r"\operatorname{erf}(x)", sp.erf(x)),
    (r"\mathrm{erf}\left(x\right) + \operatorname{erfc}(x)", sp.erf(x) + sp.erfc(x)),
    (r"\operatorname{asin}(q) - \arcsin(q)", sp.S.Zero),
    (r"\operatorname{atan}(q) - \arctan q", sp.S.Zero),
    (r"e^{-q}", sp.exp(-q)),
    (r"\mathrm{e}^{-q/2} - \exp\left(-\frac{q}{2}\right)", sp.S.Zero),
    (r"\sigma_b^2 + \sigma_{b}^2", 2 * sigma_b**2),
    (r"\sigma_{\mathrm{w}}", sigma_w),
    (r"\rho/\sqrt{q_1 q_{2}}", rho / sp.sqrt(q1 * q2)),
    (r"q1 q2", q1 * q2),
    (r"\bar\kappa^2 + \kappa^2", 2 * kappa2),
    (r"\max(x, 0) + |x|", sp.Max(x, 0) + sp.Abs(x)),
    (r"\operatorname{Heaviside}(x) + \operatorname{sgn}(x)", sp.Heaviside(x) + sp.sign(x)),
    (r"\tanh^2(x) + \operatorname{sech}^2(x)", sp.tanh(x)**2 + sp.sech(x)**2),
    (r"\phi''(u)", sp.Derivative(phi(u), (u, 2))),
    (r"\varphi(\sqrt{q}\,z)", phi(sp.sqrt(q) * z)),
    (r"\log q + \ln q", 2 * sp.log(q)),
    (r"\sqrt[3]{q}", sp.cbrt(q)),
    (r"$\frac{1}{2}$", sp.Rational(1, 2)),
    ("σ_w^2 π", sigma_w**2 * pi),
]


@pytest.mark.parametrize("text, expected", LATEX)
def test_latex_formulas_build_the_canonical_objects(text, expected):
    assert sp.simplify(parse_expression(text, syntax="latex") - expected) == 0


def test_plain_and_latex_give_identical_objects():
    pairs = [
        ("(2/pi)*asin(2q/(1+2q))", r"\frac{2}{\pi}\arcsin\frac{2q}{1+2q}"),
        ("4*sigma_w^2/(pi*sqrt(1+4q))", r"\frac{4\sigma_w^2}{\pi\sqrt{1+4q}}"),
        ("E[phi'(u)^2]", r"\mathbb{E}[\phi'(u)^2]"),
        ("E[phi(u1)*phi(u2)]", r"\mathbb{E}\left[\varphi(u_1)\,\varphi(u_2)\right]"),
    ]
    for plain, latex in pairs:
        assert parse_expression(plain) == parse_expression(latex)


# -- expectations -------------------------------------------------------------------------------

def test_expectation_of_phi_prime_squared():
    expected = Expectation(sp.Derivative(phi(u), u)**2, (u,), (q,))
    assert parse_expression(r"\mathbb{E}[\phi'(u)^2]") == expected
    assert parse_expression("E[phi'(u)^2]") == expected
    assert parse_expression(r"\mathbb E\left[\phi'(u)^2\right]") == expected
    assert parse_expression(r"E[\phi'(u)^2]", syntax="latex") == expected
    assert parse_expression(r"\langle \phi'(u)^2 \rangle") == expected


def test_expectation_measures_follow_the_variables():
    assert parse_expression("E[phi(sqrt(q)*z)^2]") == \
        Expectation(phi(sp.sqrt(q) * z)**2, (z,), (1,))
    assert parse_expression("E[phi(v)]") == Expectation(phi(v), (v,), (1,))
    assert parse_expression("E[phi(x)^2]") == Expectation(phi(x)**2, (x,), (q,))
    assert parse_expression("E[phi(u1)*phi(u2)]") == \
        Expectation(phi(u1) * phi(u2), (u1, u2), (q1, rho, q2))
    assert parse_expression("E[phi(u2)^2]") == Expectation(phi(u2)**2, (u2,), (q2,))
    assert parse_expression(r"\mathbb{E}_{z}[\phi(\sqrt{q}z)^2]") == \
        Expectation(phi(sp.sqrt(q) * z)**2, (z,), (1,))


def test_expectation_composes_with_the_rest_of_a_formula():
    expr = parse_expression(r"\sigma_w^2\,\mathbb{E}[\phi(u)^2] + \sigma_b^2")
    assert expr == sigma_w**2 * Expectation(phi(u)**2, (u,), (q,)) + sigma_b**2
    two = parse_expression("E[phi(u)^2] - E[phi(sqrt(q)*z)^2]")
    assert len(two.atoms(Expectation)) == 2


@pytest.mark.parametrize("text, message", [
    ("E[q]", "no integration variable"),
    ("E[phi(u)*phi(z)]", "cannot mix"),
    ("E[E[phi(u)]]", "nested"),
    ("E(phi(u))", "square brackets"),
    (r"\mathbb{E}_{u}[\phi(z)]", "declared over u"),
    (r"\mathbb{E}[]", "empty"),
    (r"\mathbb{E}\phi(u)", "must be followed by"),
])
def test_expectations_that_cannot_be_understood_are_rejected(text, message):
    with pytest.raises(ParseError, match=message):
        parse_expression(text)


def test_substitute_activation_binds_phi_and_its_derivatives():
    erf_chi1 = substitute_activation(parse_expression("E[phi'(u)^2]"), "erf")
    assert erf_chi1 == Expectation(4 * sp.exp(-2 * u**2) / pi, (u,), (q,))
    relu = substitute_activation(parse_expression("E[phi'(sqrt(q)*z)^2]"), "relu")
    assert relu == Expectation(sp.Heaviside(sp.sqrt(q) * z)**2, (z,), (1,))
    custom = substitute_activation(parse_expression("phi(2*u)"), sp.tanh(x))
    assert custom == sp.tanh(2 * u)


# -- claims ---------------------------------------------------------------------------------

def test_equation():
    claim = parse_claim("E[phi(u)^2] = (2/pi)*asin(2q/(1+2q))")
    assert claim.kind == "equation" and claim.syntax == "plain" and claim.label is None
    assert claim.lhs == Expectation(phi(u)**2, (u,), (q,)) and claim.rhs == WILLIAMS


def test_plain_chain_over_lines_with_line_numbers():
    claim = parse_claim("E[phi(u)^2]\n= (2/pi)*asin(2q/(1+2q))\n"
                        "= (2/pi)*atan(2q/sqrt(1+4q))  # Neural Tangents' form\n")
    assert claim.kind == "chain"
    assert [s.line for s in claim.steps] == [1, 2, 3]
    assert claim.steps[2].expr == 2 / pi * sp.atan(2 * q / sp.sqrt(1 + 4 * q))
    assert len(claim.pairs()) == 2


def test_chain_on_one_line_and_double_equals():
    claim = parse_claim("q^2 = q*q == q**2")
    assert claim.kind == "chain" and claim.expressions == (q**2, q**2, q**2)


def test_long_formula_continues_after_an_operator():
    claim = parse_claim("q +\n  c = c\n  + q")
    assert claim.expressions == (q + c, q + c)


def test_align_block():
    text = r"""
    \begin{align}
      \chi_0(q) &= \mathbb{E}\left[\phi(u)^2\right] \nonumber \\
               &= \frac{2}{\pi}\arcsin\frac{2q}{1+2q} \label{eq:w} \\[2pt]
               &= \frac{2}{\pi}\arctan\frac{2q}{\sqrt{1+4q}}.
    \end{align}
    """
    claim = parse_claim(text)
    assert claim.syntax == "latex" and claim.kind == "chain"
    assert claim.label == "chi_0" and claim.label_arguments == ("q",)
    assert claim.expressions == (Expectation(phi(u)**2, (u,), (q,)), WILLIAMS,
                                 2 / pi * sp.atan(2 * q / sp.sqrt(1 + 4 * q)))
    assert [s.line for s in claim.steps] == [3, 4, 5]


def test_law_label_on_the_left():
    claim = parse_claim("chi_1 = 4*sigma_w^2/(pi*sqrt(1+4q))")
    assert claim.label == "chi_1" and claim.kind == "equation" and claim.rhs == CHI1_ERF
    latex = parse_claim(r"\chi_{1}(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+4q}}")
    assert latex.label == "chi_1" and latex.label_arguments == ("q",)


def test_latex_newlines_are_spaces_but_rows_must_continue():
    assert parse_expression("\\frac{2}{\\pi}\n\\arcsin q") == 2 / pi * sp.asin(q)
    with pytest.raises(ParseError, match="starts a new formula"):
        parse_claim(r"q = c \\ A = C")


@pytest.mark.parametrize("text, message", [
    ("q = c\nA = C", "line 2 starts a new formula"),
    ("= q", "empty step"),
    ("q = ", "empty step"),
    ("q <= c", "relation"),
    ("q != c", "relation"),
    ("q = c\n= sigma", "step 3 \\(line 2\\): unknown symbol 'sigma'"),
    (r"\begin{verbatim} q \end{verbatim}", "environment"),
])
def test_claim_errors(text, message):
    with pytest.raises(ParseError, match=message):
        parse_claim(text)


def test_parse_expression_refuses_equations():
    with pytest.raises(ParseError, match="single expression"):
        parse_expression("q = c")


def test_syntax_detection_and_override():
    assert detect_syntax(r"\frac{1}{2}") == "latex"
    assert detect_syntax("q^{2}") == "latex"
    assert detect_syntax("sigma_w^2*q") == "plain"
    assert parse_expression("q^2", syntax="latex") == q**2
    with pytest.raises(ParseError, match="unknown syntax"):
        parse_expression("q", syntax="tex")
    with pytest.raises(ParseError, match="backslash|LaTeX|not allowed|syntax"):
        parse_expression(r"\frac{1}{2}", syntax="plain")


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("syntax, text, message", [
    ("plain", "sigma", "did you mean sigma_w or sigma_b"),
    ("plain", "y + q", "unknown symbol 'y'.*valid symbols: q, q1"),
    ("plain", "foo(q)", "unknown function 'foo'.*valid functions: sqrt"),
    ("plain", "sqrt(q, c)", "sqrt takes 1 argument"),
    ("plain", "max(q)", "Max takes at least 2 arguments"),
    ("plain", "q(1+c)", "q is not a function"),
    ("plain", "phi", "phi is a function"),
    ("plain", "phi" + "'" * 5 + "(u)", "beyond order 4"),
    ("latex", r"\operatorname{foo}(x)", r"\\operatorname\{foo\} is not understood"),
    ("latex", "erfx", "'erfx' is not understood in LaTeX"),
    ("latex", r"\mathbb{R}", r"only \\mathbb\{E\}"),
    ("latex", r"\sigma_{wb}", "unknown symbol"),
    ("latex", "x2", "ambiguous"),
    ("latex", r"\kappa", "kappa2"),
    ("latex", r"\int_0^1 q", r"\\mathbb\{E\}"),
    ("latex", "q^2^3", "double superscript"),
    ("latex", r"\phi", "is the activation"),
    ("plain", "q^", "syntax error"),
    ("latex", r"\frac{1}{q", "unbalanced"),
])
def test_errors_name_what_is_wrong_and_what_is_valid(syntax, text, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_expression(text, syntax=syntax)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, SymfieldError) and isinstance(info.value, ValueError)


def test_colon_is_not_division_in_latex():
    # ANTLR reads ':' as division: {1: 2} = 1/2 was "equal"
    for text in ("{1: 2}", "q : 2", r"\frac{1}{2}:q"):
        with pytest.raises(ParseError, match="':' is not an operator"):
            parse_expression(text, syntax="latex")
    with pytest.raises(ParseError, match="dictionaries"):
        parse_expression("{1: 2}", syntax="plain")


def test_a_broken_antlr_module_is_repaired(monkeypatch):
    # SymPy leaves LaTeXLexer = None when its import was interrupted (it swallows the
    # exception); the parser must notice and reload the module rather than fail for ever
    import importlib

    module = importlib.import_module("sympy.parsing.latex._parse_latex_antlr")
    parse_expression(r"\frac{1}{q}")
    monkeypatch.setattr(module, "LaTeXLexer", None)
    assert parse_expression(r"\frac{1}{q}") == 1 / q
    assert module.LaTeXLexer is not None


def test_a_module_that_cannot_be_repaired_is_a_clear_error(monkeypatch):
    import importlib

    module = importlib.import_module("sympy.parsing.latex._parse_latex_antlr")
    parse_expression(r"\frac{1}{q}")
    monkeypatch.setattr(module, "LaTeXParser", None)
    monkeypatch.setattr(importlib, "reload", lambda m: m)  # the reload does not help
    with pytest.raises(ParseError, match="LaTeX input is unavailable"):
        parse_expression(r"\frac{1}{q}")


def test_non_text_input():
    with pytest.raises(ParseError, match="must be text"):
        parse_expression(42)  # type: ignore[arg-type]
