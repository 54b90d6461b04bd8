"""Typesetting of the derivation documents: notes as mathematics and prose, formulas broken to
the line, numbered and cited equations, and no user text ever reaching pdflatex as a macro."""
from __future__ import annotations

import math
import random
import re
import shutil
import subprocess

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symfield
from symfield.output.breaking import LINE_UNITS, formula_lines, latex_width
from symfield.output.latex import (LITERATURE_FORMS, PREAMBLE, DocumentState, display,
                                   law_document, law_section)
from symfield.output.prose import BIBLIOGRAPHY, bibliography, formula_latex, note_latex

PDFLATEX = shutil.which("pdflatex")

#: Every macro a note may produce: the renderings of known names, the formula layout, the
#: escapes of special characters and the citation.
NOTE_MACROS = {
    "rho", "sigma_w", "sigma_b", "varphi", "Phi", "pi", "infty", "chi_", "parallel", "perp",
    "bar", "kappa", "tilde", "mathbb", "exp", "log", "sin", "cos", "tanh", "sinh", "cosh",
    "arcsin", "arccos", "det", "max", "min", "sum", "Theta", "operatorname", "mathcal",
    "mathrm", "sqrt", "sim", "to", "geq", "leq", "pm", "dots", "left", "right", "begin", "end",
    "allowbreak", "textbackslash", "cite", "_", "^", "&", "%", "#", "$", "{", "}", "~",
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "nu", "xi",
    "tau", "upsilon", "chi", "psi", "omega", "Gamma", "Delta", "Lambda", "Xi", "Sigma",
    "Upsilon", "Psi", "Omega", "sigma", "lambda", "mu", ",", "\\",
}


def _macros(latex: str) -> set[str]:
    # "\\sigma_w" is the macro \\sigma followed by _w
    return {m.rstrip("_") if len(m) > 1 else m
            for m in re.findall(r"\\([A-Za-z]+_?|.)", latex)}


# -- notes --------------------------------------------------------------------------------
@pytest.mark.parametrize("note, expected", [
    ("Price's theorem in rho: d^1/drho^1 E[f(u1) g(u2)] = E[f^(1)(u1) g^(1)(u2)]",
     r"Price's theorem~\cite{price1958} in $\rho$: $d^{1} / d\rho^{1} \mathbb{E} [ f ( u_{1} ) "
     r"g ( u_{2} ) ] = \mathbb{E} [ f^{(1)} ( u_{1} ) g^{(1)} ( u_{2} ) ]$"),
    ("condition on u1: the other variable is N(rho u1/q1, v) with v = q2 - rho^2/q1",
     r"condition on $u_{1}$: the other variable is $\mathcal{N} ( \rho u_{1} / q_{1} ,"
     r"\allowbreak v )$ with $v = q_{2} - \rho^{2} / q_{1}$"),
    ("chi1 = sigma_w^2 E[phi'(u)^2], u ~ N(0, q) (includes sigma_w^2; Poole et al.)",
     r"$\chi_{1} = \sigma_w^{2} \mathbb{E} [ \varphi' ( u )^{2} ] ,\allowbreak u \sim  "
     r"\mathcal{N} ( 0 ,\allowbreak q )$ (includes $\sigma_w^{2}$; Poole et al.~"
     r"\cite{poole2016})"),
    ("a delta at u = 0: a product of delta functions", r"a $\delta$ at $u = 0$: a product of "
                                                       r"$\delta$ functions"),
    ("(u1, u2) ~ N(0, [[q1, rho], [rho, q2]]); no factor",
     r"$( u_{1} ,\allowbreak u_{2} ) \sim  \mathcal{N} ( 0 ,\allowbreak \left(\begin"
     r"{smallmatrix}q_{1} & \rho \\ \rho & q_{2}\end{smallmatrix}\right) )$; no factor"),
    ("the fixed point q* of leaky_relu", r"the fixed point $q^{*}$ of $\mathrm{leaky\_relu}$"),
    ("exists (positive) only in the chaotic phase chi1 > 1",
     r"exists (positive) only in the chaotic phase $\chi_{1} > 1$"),
])
def test_a_note_is_typeset_as_prose_and_mathematics(note, expected):
    assert note_latex(note) == expected


def test_a_formula_the_whitelist_cannot_rebuild_stays_escaped_text():
    assert note_latex(r"see \input{/etc/passwd} now") == \
        r"see \textbackslash{}input\{/etc/passwd\} now"
    with pytest.raises(ValueError):
        formula_latex("f(x")
    with pytest.raises(ValueError):
        formula_latex("(" * 40 + "x" + ")" * 40)  # nesting beyond MAX_FORMULA_DEPTH


def test_citations_are_collected_for_the_bibliography():
    cited: set[str] = set()
    note_latex("by Stein's lemma and Price's theorem (Williams 1997)", cited)
    assert cited == {"stein1981", "price1958", "williams1997"}
    text = bibliography(cited)
    assert text.startswith(r"\begin{thebibliography}") and text.count(r"\bibitem") == 3
    assert bibliography(set()) == ""


HOSTILE_TEXT = st.lists(st.sampled_from(list("abqxuvE1209 _^*/()[]{}\\$%&#~'.,;:=+-<>|")
                                        + ["rho", "sigma_w", "phi", "sqrt(", "E[", r"\input",
                                           r"\def", "^^5c", "Poole et al.", " a ", "q1"]),
                        max_size=40).map("".join)


@given(HOSTILE_TEXT)
def test_no_note_produces_a_macro_outside_the_whitelist(text):
    latex = note_latex(text)
    assert _macros(latex) <= NOTE_MACROS, _macros(latex) - NOTE_MACROS
    assert "^^" not in latex.replace(r"\^{}", "")  # no TeX character codes
    unescaped = re.sub(r"\\.", "", latex)
    assert unescaped.count("{") == unescaped.count("}")
    assert unescaped.count("$") % 2 == 0


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
@settings(max_examples=3)
@given(st.lists(HOSTILE_TEXT | st.sampled_from([
    "delta^L_k . delta^L_k' = delta_kk'", "x^2^3", "q_1_2 and W^{l+1}_ji'", "f^(1)(u1)'",
    "(a_b)^c_d^e", "sqrt(x)^2_k'"]), min_size=40, max_size=40))
def test_any_note_compiles(tmp_path_factory, notes):
    """A note that TeX would reject (a double superscript, a prime after one) is rebuilt
    differently or left as text: 40 notes per document, one pdflatex run."""
    tmp_path = tmp_path_factory.mktemp("notes")
    body = "\n".join(note_latex(n) + r"\par" for n in notes)
    (tmp_path / "n.tex").write_text("\n".join([PREAMBLE, r"\begin{document}", body,
                                               r"\end{document}"]))
    done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "n.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, ([ln for ln in done.stdout.splitlines() if ln.startswith("!")],
                                  notes)


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed")
def test_notes_of_every_kind_compile(tmp_path):
    """Every note the engine writes for a few activations, typeset in one document."""
    notes = {step.rule + ": " + step.justification
             for act in ("erf", "relu", "tanh", "leaky_relu")
             for name in symfield.registered_laws()
             for step in symfield.derive(name, act).derivation}
    cited: set[str] = set()
    body = "\n".join(note_latex(n, cited) + r"\par" for n in sorted(notes))
    source = "\n".join([PREAMBLE, r"\begin{document}", body, bibliography(cited),
                        r"\end{document}"])
    (tmp_path / "notes.tex").write_text(source)
    for _ in range(2):
        done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error",
                               "notes.tex"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0, [ln for ln in done.stdout.splitlines() if ln.startswith("!")]
    assert "undefined" not in (tmp_path / "notes.log").read_text(errors="replace")
    assert cited <= set(BIBLIOGRAPHY)


# -- breaking -----------------------------------------------------------------------------
def test_the_width_estimate_grows_with_the_formula():
    assert latex_width("x") == 1
    assert latex_width("x + y") > latex_width("x y") > latex_width("x")
    assert latex_width(r"\frac{a}{b}") < latex_width("a b")  # stacked, not side by side
    assert latex_width(r"x^{2}") < latex_width("x 2")
    assert latex_width(r"\arcsin") > latex_width(r"\rho")


def test_a_long_sum_is_broken_into_lines_that_fit():
    x = sp.Symbol("x")
    expr = sum(sp.Rational(k + 1, k + 7) * sp.erf(x / (k + 2)) for k in range(30))
    lines = formula_lines(expr, LINE_UNITS)
    assert len(lines) > 3
    assert all(latex_width(line) <= LINE_UNITS for line in lines)
    assert lines[1].startswith(("+", "-"))


def test_a_long_product_inside_a_function_breaks_inside_fixed_brackets():
    x = sp.Symbol("x")
    long_sum = sum(sp.Rational(1, k + 3) * x ** k for k in range(40))
    lines = formula_lines(sp.sqrt(2) * sp.exp(x) * sp.sin(long_sum), 40)
    joined = " ".join(lines)
    assert len(lines) > 3 and joined.count(r"\Bigl(") == joined.count(r"\Bigr)")


def test_a_series_is_shown_with_its_general_term_under_the_sum():
    law = symfield.derive("chi1", "tanh")
    lines = formula_lines(law.expr, LINE_UNITS)
    assert len(lines) > 1 and r"\sum_{k=0}^{\infty}" in lines[0]


def test_display_numbers_and_breaks_an_equation():
    x = sp.Symbol("x")
    short = display("f(x)", x + 1, "eq:1")
    assert short.startswith(r"\begin{equation}") and r"\label{eq:1}" in short
    long = display("f(x)", sum(x ** k / (k + 1) for k in range(60)), "eq:2")
    assert long.startswith(r"\begin{align}") and long.count(r"\notag") == long.count(r"\\")
    assert long.rstrip().endswith(r"\label{eq:2}" + "\n" + r"\end{align}")
    with pytest.raises(ValueError, match="label"):
        display("f", x, "bad label}")


# -- documents ----------------------------------------------------------------------------
def test_a_law_document_numbers_its_result_and_cites_its_sources():
    document = law_document(symfield.derive("kernel", "erf"))
    assert r"\label{result:kernel}" in document and r"(\ref{result:kernel})" in document
    assert r"\cite{price1958}" in document and r"\bibitem{price1958}" in document
    assert r"\textit" not in document  # notes are typeset, not escaped ASCII in italics


def test_a_document_state_cites_repeated_steps():
    from symfield.output.latex import law_section

    state = DocumentState()
    law_section(symfield.derive("kernel", "erf"), state=state)
    again = law_section(symfield.derive("nngp", "erf"), state=state)
    assert "As derived in (" in again
    with pytest.raises(ValueError, match="DocumentState"):
        law_section(symfield.derive("kernel", "erf"), state="not a state")


# ------------------------------------------------------------------------------------------
# "It coincides with ...": every such claim is a published formula the derived law equals
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act, law_name", sorted(LITERATURE_FORMS))
def test_each_coincidence_claim_holds_at_30_digits(act, law_name):
    """The derived law against the published closed form, written independently in
    tests/support/oracles_pair.py (LITERATURE_PAIR), at random covariance matrices."""
    import mpmath as mp

    from support.oracles_pair import literature_kernel_mp

    law = symfield.derive(law_name, act)
    rng = random.Random(17)
    for _ in range(12):
        a, b = rng.uniform(0.05, 5), rng.uniform(0.05, 5)
        r = rng.uniform(-0.999, 0.999) * math.sqrt(a * b)
        with mp.workdps(40):
            ref = literature_kernel_mp(act, law_name, mp.mpf(a), mp.mpf(b), mp.mpf(r))
        assert ref is not None, (act, law_name)
        got = law.evaluate(dps=30, q1=mp.mpf(a), q2=mp.mpf(b), rho=mp.mpf(r))
        assert abs(got - ref) <= mp.mpf(10) ** -28 * abs(ref), (act, law_name, a, b, r)


def test_a_false_coincidence_claim_would_be_caught():
    """Power: the erf kernel is not the ReLU arc-cosine kernel."""
    import mpmath as mp

    from support.oracles_pair import literature_kernel_mp

    with mp.workdps(40):
        ref = literature_kernel_mp("relu", "kernel", mp.mpf(1), mp.mpf(2), mp.mpf("0.5"))
    got = symfield.derive("kernel", "erf").evaluate(dps=30, q1=1, q2=2, rho="0.5")
    assert abs(got - ref) > mp.mpf(10) ** -3


def test_coincidence_is_cited_on_the_result_line():
    state = DocumentState()
    body = law_section(symfield.derive("kernel", "erf"), state=state)
    assert r"It coincides with the arcsine kernel of Williams 1997~\cite{williams1997}." in body
    assert "williams1997" in state.cited
    plain = law_section(symfield.derive("kernel", "tanh"))
    assert "coincides" not in plain


def test_a_subscript_on_a_name_with_digits_is_a_group():
    """'K1_i' (the two-input laws' notes) was K_{1}_{i}: TeX's 'Double subscript' stopped
    every activation document."""
    assert note_latex("the mean shift K1_i of layer l", set()) == \
        "the mean shift ${K_{1}}_{i}$ of layer $l$"
    assert note_latex("q1_2", set()) == "${q_{1}}_{2}$"
    assert note_latex("sigma_w and V_ij", set()) == r"$\sigma_w$ and $V_{ij}$"
    assert note_latex("K1^l_i/n", set()) == "${K_{1}}^{l}_{i} / n$"
    assert note_latex("chi1^2", set()) == r"$\chi_{1}^{2}$"
    assert note_latex("K1'_12", set()) == "${K_{1}'}_{12 }$"
