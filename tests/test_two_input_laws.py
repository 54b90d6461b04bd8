"""The two-input laws (theory.md sections 3, 5, 10, 14): kernel, derivative kernel and the
covariance / correlation / overlap / distance maps.

Every test loops over the registries (``symfield.registered_laws()`` x ``symfield.registered_activations()``), so a new
two-input law or activation is checked automatically (a new law fails until it gets a
hand-written reference in ``oracles_pair.reference_pair_law``).

References (``support/oracles_pair.py``) never call symfield's numerics:

* an independent 2-D quadrature of each law's *definition*: polar coordinates with the
  radial integral done exactly for the piecewise-linear family (the kinks are rays), a
  certified product trapezoid rule for smooth activations, nested ``mpmath.quad`` for the
  degenerate pair;
* the literature closed forms (Williams 1997 for erf; Cho & Saul 2009 arc-cosine kernels n = 0,
  1 for ReLU; NT's ABRelu family for leaky ReLU and abs), composed into the maps by hand;
* the golden values G05-G07, G12, G13, G18, G19 of theory.md section 14.

Hypothesis draws the points: variances log-uniform, correlations uniform in [-1, 1] or at
+-(1 - 10^-k) and +-1 exactly. tanh and sigmoid (series forms, slow to evaluate) get one
fixed point per law in CI and Hypothesis examples in the ``slow`` tests.
"""
from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import warnings
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import currently_in_test_context, example, given, note, settings
from hypothesis import strategies as st

import symfield
from symfield.activations.piecewise_linear import alpha as ALPHA_SYMBOL
from symfield.errors import InvalidValueError
from symfield.expectation import bivariate_expectation, u1, u2
from symfield.laws.two_input import check_pair
from symfield.symbols import q1, q2, rho, sigma_b, sigma_w

from support.compare import assert_close
from support.laws import law_of
from support.oracles import ReferenceError_, cheap_or_full, oracle_for, to_mpf
from support.oracles_pair import (EXPECTED_PAIR_VARIABLES, GOLDEN_PAIR, LITERATURE_PAIR,
                                  ab_relu_forms, is_homogeneous, literature_law, reference_dps,
                                  reference_pair_law, two_input_laws)

LAWS = two_input_laws()
ACTIVATIONS = list(symfield.registered_activations())
PAIRS = [(law, act) for law in LAWS for act in ACTIVATIONS]
#: Activations with a literature closed form (theory.md section 10).
LITERATURE_ACTS = [a for a in ACTIVATIONS if a in LITERATURE_PAIR]
HOMOGENEOUS_ACTS = [a for a in ACTIVATIONS
                    if oracle_for(a) is not None and is_homogeneous(oracle_for(a))]
SMOOTH_ACTS = [a for a in ACTIVATIONS if symfield.registered_activations()[a].smooth]

REL = to_mpf(10) ** -20
EVAL_DPS = 30



# ------------------------------------------------------------------------------------------
# Points: one raw draw serves every law
# ------------------------------------------------------------------------------------------
def _exact(x) -> Fraction:
    return Fraction(x)


#: sqrt of a variance, so that rho = c sqrt(q1 q2) is exact: q in [0.01, 20].
SQRT_VAR = st.floats(-1.0, 0.65).map(lambda e: Fraction(10.0**e))
#: A correlation in [-1, 1]: uniform, or +-(1 - 10^-k) (nearly degenerate, far beyond
#: float64: k up to 40), or 0, +-1.
CORR = st.one_of(
    st.floats(-1.0, 1.0).map(_exact),
    st.builds(lambda k, s: s * (1 - Fraction(1, 10**k)), st.integers(1, 40), st.sampled_from([1, -1])),
    st.sampled_from([Fraction(0), Fraction(1), Fraction(-1)]),
)
#: A fraction of the largest distance 4A: uniform, or near 0 / 1.
UNIT = st.one_of(
    st.floats(0.0, 1.0).map(_exact),
    st.builds(lambda k: Fraction(1, 10**k), st.integers(1, 12)),
    st.builds(lambda k: 1 - Fraction(1, 10**k), st.integers(1, 12)),
    st.sampled_from([Fraction(0), Fraction(1)]),
)
SIGMA_W = st.floats(0.2, 3.0).map(_exact)
#: sigma_b = 0, tiny (sigma_b^2 far below the working precision next to sigma_w^2 A: the
#: second precision carries the inputs' magnitudes) or moderate.
SIGMA_B = st.one_of(st.just(Fraction(0)), st.floats(1e-3, 1.5).map(_exact),
                    st.builds(lambda k: Fraction(1, 10**k), st.integers(4, 30)))
ALPHA = st.floats(0.001, 2.0).map(_exact)
RAW = st.tuples(SQRT_VAR, SQRT_VAR, CORR, UNIT, SIGMA_W, SIGMA_B, ALPHA)


def values_for(law: str, raw, names) -> dict:
    """The law's variables from one raw draw (a, b, c, u, sigma_w, sigma_b, alpha)."""
    a, b, c, u, sw, sb, alpha = raw
    if abs(c) == 1 or u in (0, 1):
        # exactly degenerate pairs with few-bit variances: the domain checks compare at 53 bits
        # (a separate xfail test shows the false rejection of big-fraction boundary points)
        a = max(Fraction(round(a * 16), 16), Fraction(1, 16))
        b = max(Fraction(round(b * 16), 16), Fraction(1, 16))
    if law in ("kernel", "derivative_kernel", "covariance_map"):
        v = {"q1": a * a, "q2": b * b, "rho": c * a * b}
    elif law in ("correlation_map", "correlation_map_slope"):
        v = {"c": c, "q": a * a}
    elif law == "overlap_map":
        v = {"A": a * a, "C": c * a * a}
    elif law == "distance_map":
        v = {"A": a * a, "D": 4 * a * a * u}
    else:
        pytest.fail(f"new two-input law {law!r}: add it to values_for and to "
                    "oracles_pair.reference_pair_law")
    v.update(sigma_w=sw, sigma_b=sb, alpha=alpha)
    return {k: x for k, x in v.items() if k in names}


def act_params(values: dict) -> dict:
    return {k: v for k, v in values.items() if k == "alpha"}


def check_against_2d(law_name: str, act: str, raw, dps: int = EVAL_DPS):
    law = law_of(law_name, act)
    values = values_for(law_name, raw, {s.name for s in law.variables})
    if currently_in_test_context():   # also called from plain (non-Hypothesis) tests
        note(f"{law_name}[{act}] at {values}")
    oracle = oracle_for(act, act_params(values))
    if oracle is None:
        pytest.skip(f"no mpmath phi/phi' for the new activation {act!r}")
    if law_name == "distance_map" and values["D"] == 0:
        # identical inputs: the distance is 0 by definition (the 2-D reference of a singular
        # pair crawls for exp's growth: minutes)
        assert law.evaluate(dps=dps, **values) == 0
        return
    reference = reference_pair_law(law_name, oracle, values, dps=reference_dps(law_name, values))
    value = law.evaluate(dps=dps, **values)
    assert_close(value, reference, REL, what=f"{law_name}[{act}] at {values}")


NEAR_ONE = 1 - Fraction(1, 10**9)
EXAMPLES = [  # (a, b, c, u, sigma_w, sigma_b, alpha)
    (Fraction(1), Fraction(3, 2), -NEAR_ONE, Fraction(1, 10**8), Fraction(13, 10), Fraction(1, 5), Fraction(1, 10)),
    (Fraction(7, 10), Fraction(2), NEAR_ONE, 1 - Fraction(1, 10**7), Fraction(9, 10), Fraction(0), Fraction(3, 2)),
    (Fraction(3, 2), Fraction(2, 5), Fraction(-7, 10), Fraction(1, 3), Fraction(2), Fraction(1, 2), Fraction(1, 100)),
]


def with_examples(test):
    for ex in EXAMPLES:
        test = example(raw=ex)(test)
    return test


# ------------------------------------------------------------------------------------------
# Registry and the Law API
# ------------------------------------------------------------------------------------------
def test_registry_holds_the_two_input_laws():
    assert set(EXPECTED_PAIR_VARIABLES) <= set(LAWS)
    assert {"erf", "tanh", "relu", "linear", "leaky_relu", "abs"} <= set(ACTIVATIONS)


@pytest.mark.parametrize("law_name,act", PAIRS)
def test_law_api(law_name, act):
    law = law_of(law_name, act)
    names = [s.name for s in law.variables]
    expected = EXPECTED_PAIR_VARIABLES.get(law_name)
    if expected is not None:
        params = [n for n in law.activation.parameters]
        assert tuple(names) == expected + tuple(p for p in params if p in names)
    assert isinstance(law.expr, sp.Expr)
    assert law.form in ("closed", "integral", "series")
    assert law.closed_form == (law.form == "closed")
    assert len(law.derivation) >= 2
    assert law.derivation[0].rule == "definition"
    assert all(isinstance(str(step), str) for step in law.derivation)
    assert isinstance(law.latex(), str) and law.latex()
    assert law.name in str(law)
    assert not law.divergent


@pytest.mark.parametrize("act", ["erf", "relu", "leaky_relu", "abs", "linear"])
@pytest.mark.parametrize("law_name", list(EXPECTED_PAIR_VARIABLES))
def test_required_closed_forms(law_name, act):
    law = law_of(law_name, act)
    assert law.form == "closed", f"{law_name}[{act}] is {law.form}: {law.expr}"
    assert not law.expr.has(sp.Sum, sp.Integral)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_derivative_kernel_has_no_sigma_w(act):
    for name in ("kernel", "derivative_kernel"):
        law = law_of(name, act)
        assert not law.expr.has(sigma_w) and not law.expr.has(sigma_b)


def test_relu_kernel_closed_form_does_not_depend_on_machine_speed():
    """manualintegrate runs under a CPU-time budget (MANUAL_SECONDS); the arc-sine integrals
    of Price's theorem go by the circular substitution, which has none, so even a budget far
    below what manualintegrate needs (1 ms, simulated here) leaves the ReLU kernel closed
    (an expected failure until the circular substitution landed)."""
    code = ("import symfield.gaussian.integrate as I; I.MANUAL_SECONDS = 0.001; "
            "import symfield; print(symfield.derive('kernel', 'relu').form)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "closed"


# ------------------------------------------------------------------------------------------
# Literature closed forms (theory.md section 10)
# ------------------------------------------------------------------------------------------
def _symbolic_zero(diff: sp.Expr) -> bool:
    d = diff.rewrite(sp.asin)  # acos = pi/2 - asin
    d = sp.powsimp(sp.powdenest(d, force=True), force=True)
    return sp.simplify(d) == 0


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "abs", "linear", "erf"])
@pytest.mark.parametrize("law_name", ["kernel", "derivative_kernel"])
def test_engine_closed_form_equals_literature_symbolically(law_name, act):
    expr = law_of(law_name, act).expr
    lit = (ab_relu_forms(ALPHA_SYMBOL, 1) if act == "leaky_relu" else LITERATURE_PAIR[act])[law_name]
    if _symbolic_zero(expr - lit):
        return
    # Williams' kernel: 2/pi asin(X) with X the same up to how the square root is split;
    # asin is injective, so compare sin(pi K / 2) (both have the sign of rho).
    assert act == "erf" and law_name == "kernel", f"{expr} != {lit}"
    a, b = sp.sin(sp.pi * expr / 2), sp.sin(sp.pi * lit / 2)
    assert sp.simplify((a / b) ** 2) == 1
    assert sp.simplify(a.subs(rho, sp.Rational(1, 3)) / b.subs(rho, sp.Rational(1, 3))).is_positive


#: 50-digit points, both signs of rho, |rho| close to and equal to sqrt(q1 q2).
LIT_POINTS = [(1, 1, "1/2"), (1, 1, "-1/2"), (2, "1/2", "-7/10"), ("3/10", 5, "1/10"),
              (4, "1/4", 1), (4, "1/4", -1), (4, "1/4", "0.999999999999"),
              (4, "1/4", "-0.999999999999"), ("1/100", 20, 0), (9, 16, "-11.99999")]


@pytest.mark.parametrize("act", LITERATURE_ACTS)
@pytest.mark.parametrize("law_name", ["kernel", "derivative_kernel"])
def test_kernels_equal_literature_at_50_digits(law_name, act):
    law = law_of(law_name, act)
    for a, b, r in LIT_POINTS:
        values = {"q1": a, "q2": b, "rho": r}
        with mp.workdps(70):
            ref = literature_law(act, law_name, values)
        assert_close(law.evaluate(dps=50, **values), ref, to_mpf(10) ** -48,
                     floor=to_mpf(10) ** -60, what=f"{law_name}[{act}] {values}")


@settings(max_examples=cheap_or_full(8, 25))
@given(raw=RAW)
@pytest.mark.parametrize("act", LITERATURE_ACTS)
@pytest.mark.parametrize("law_name", list(EXPECTED_PAIR_VARIABLES))
def test_laws_equal_literature_compositions(law_name, act, raw):
    """Each map composed by hand from the literature kernel (covariance = sigma_w^2 K +
    sigma_b^2, c-map = (sigma_w^2 K(q, q, qc) + sigma_b^2) / (sigma_w^2 K(q, q, q) + sigma_b^2),
    ...) equals the derived law at 45 digits, for both signs of rho and near the boundary."""
    law = law_of(law_name, act)
    values = values_for(law_name, raw, {s.name for s in law.variables})
    with mp.workdps(90):
        ref = literature_law(act, law_name, values, alpha=values.get("alpha"))
    assert_close(law.evaluate(dps=50, **values), ref, to_mpf(10) ** -45,
                 floor=to_mpf(10) ** -60, what=f"{law_name}[{act}] {values}")


# ------------------------------------------------------------------------------------------
# Golden values (theory.md section 14)
# ------------------------------------------------------------------------------------------
GOLDEN_CASES = [
    ("G05", "kernel", "erf", dict(q1=1, q2=1, rho="1/2")),
    ("G06", "derivative_kernel", "erf", dict(q1=1, q2=1, rho="1/2")),
    ("G07", "kernel", "erf", dict(q1=2, q2="1/2", rho="-7/10")),
    ("G12", "kernel", "relu", dict(q1=1, q2=1, rho="1/2")),
    ("G13", "derivative_kernel", "relu", dict(q1=1, q2=1, rho="1/2")),
    ("G18", "kernel", "tanh", dict(q1=1, q2=1, rho="1/2")),
    ("G19", "derivative_kernel", "tanh", dict(q1=1, q2=1, rho="1/2")),
]


@pytest.mark.parametrize("gid,law_name,act,values", GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden_values(gid, law_name, act, values):
    value = law_of(law_name, act).evaluate(dps=30, **values)
    with mp.workdps(40):
        golden = to_mpf(GOLDEN_PAIR[gid])
    # 30 significant digits are printed: agreement to 1e-29 relative
    assert_close(value, golden, to_mpf(10) ** -29, floor=0, what=gid)


def test_golden_closed_values_are_exact():
    with mp.workdps(50):
        assert_close(law_of("derivative_kernel", "erf").evaluate(dps=50, q1=1, q2=1, rho="1/2"),
                     mp.sqrt(2) / mp.pi, to_mpf(10) ** -48, what="G06 = sqrt(2)/pi")
        assert_close(law_of("kernel", "relu").evaluate(dps=50, q1=1, q2=1, rho="1/2"),
                     to_mpf(1) / 6 + mp.sqrt(3) / (4 * mp.pi), to_mpf(10) ** -48, what="G12")
        assert_close(law_of("derivative_kernel", "relu").evaluate(dps=50, q1=1, q2=1, rho="1/2"),
                     to_mpf(1) / 3, to_mpf(10) ** -48, what="G13")


def test_golden_values_match_the_independent_2d_quadrature():
    """The oracle itself reproduces theory.md's goldens (so a failure elsewhere is symfield's)."""
    for gid, law_name, act, values in GOLDEN_CASES:
        ref = reference_pair_law(law_name, oracle_for(act), values, dps=26)
        with mp.workdps(40):
            assert_close(ref, to_mpf(GOLDEN_PAIR[gid]), to_mpf(10) ** -23, what=f"oracle {gid}")


# ------------------------------------------------------------------------------------------
# Independent 2-D quadrature of the definitions (1e-20)
# ------------------------------------------------------------------------------------------
@settings(max_examples=cheap_or_full(4, 12))
@with_examples
@given(raw=RAW)
@pytest.mark.parametrize("act", HOMOGENEOUS_ACTS)
@pytest.mark.parametrize("law_name", LAWS)
def test_piecewise_linear_laws_match_2d_quadrature(law_name, act, raw):
    check_against_2d(law_name, act, raw)


@settings(max_examples=cheap_or_full(1, 3))
# the near-singular correlation (EXAMPLES[0]) makes the 2-D reference of a smooth phi cost a
# minute: the default run takes the moderate example, SYMFIELD_FULL=1 both
@example(raw=cheap_or_full(EXAMPLES[2], EXAMPLES[0]))
@given(raw=RAW)
@pytest.mark.parametrize("act", SMOOTH_ACTS)
@pytest.mark.parametrize("law_name", LAWS)
def test_smooth_closed_form_laws_match_2d_quadrature(law_name, act, raw):
    if law_of(law_name, act).form != "closed":
        pytest.skip("series/integral forms: one point in CI, Hypothesis in the slow test")
    check_against_2d(law_name, act, raw)


#: One moderate point per law for the slow-to-evaluate forms (negative correlation).
ONE_POINT = (Fraction(4, 5), Fraction(13, 10), Fraction(-13, 20), Fraction(7, 20),
             Fraction(6, 5), Fraction(3, 10), Fraction(1, 5))


@pytest.mark.parametrize("act", SMOOTH_ACTS)
@pytest.mark.parametrize("law_name", LAWS)
def test_series_laws_match_2d_quadrature_at_one_point(law_name, act):
    if law_of(law_name, act).form == "closed":
        pytest.skip("closed forms are covered by the Hypothesis test")
    if law_name not in ("kernel", "derivative_kernel", "correlation_map") and not os.environ.get("SYMFIELD_FULL"):
        pytest.skip("the other maps of series forms run in the slow test")
    check_against_2d(law_name, act, ONE_POINT)


@pytest.mark.slow
@settings(max_examples=3)
@with_examples
@given(raw=RAW)
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("law_name", LAWS)
def test_every_law_matches_2d_quadrature_slow(law_name, act, raw):
    if law_of(law_name, act).form == "closed":
        pytest.skip("closed forms: the Hypothesis tests above draw more points")
    check_against_2d(law_name, act, raw)


def test_power_check_perturbed_oracle_fails():
    """The comparison has resolution: an oracle with phi scaled by 1 + 1e-18, or a pair whose
    correlation is off by 1e-17, must fail the very same assertion."""
    values = {"q1": Fraction(4, 5), "q2": Fraction(13, 10), "rho": Fraction(-1, 2)}
    for act in ("relu", "erf"):
        law = law_of("kernel", act)
        value = law.evaluate(dps=30, **values)
        oracle = oracle_for(act)
        good = reference_pair_law("kernel", oracle, values, dps=26)
        assert_close(value, good, REL, what="unperturbed")
        phi = oracle.phi
        bad_oracle = dataclasses.replace(oracle, phi=lambda x: phi(x) * (1 + to_mpf(10) ** -18))
        bad = reference_pair_law("kernel", bad_oracle, values, dps=26)
        with pytest.raises(AssertionError):
            assert_close(value, bad, REL, what="perturbed oracle")
        shifted = dict(values, rho=values["rho"] * (1 + Fraction(1, 10**17)))
        bad = reference_pair_law("kernel", oracle, shifted, dps=26)
        with pytest.raises(AssertionError):
            assert_close(value, bad, REL, what="perturbed correlation")


# ------------------------------------------------------------------------------------------
# Structure: composition, symmetry, parity, Mehler positivity (cheap, float64 and 30 digits)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_maps_are_composed_from_the_kernel(act):
    """covariance_map = sigma_w^2 K + sigma_b^2 etc., checked on symfield's own kernel at one
    point (30 digits; 16 for kernels by series or 2-D quadrature, where 30 digits cost a
    minute per activation): a wiring error between the laws would show here."""
    K = law_of("kernel", act)
    dps = 30 if K.form == "closed" else 16
    tol = to_mpf(10) ** (3 - dps)

    def value(name, **kw):
        return law_of(name, act).evaluate(dps=dps, **kw)
    pt = {"alpha": Fraction(1, 5)} if "alpha" in {s.name for s in K.variables} else {}
    sw, sb = Fraction(6, 5), Fraction(3, 10)
    qv, cv = Fraction(4, 5), Fraction(-13, 20)
    Kv = lambda a, b, r: value("kernel", q1=a, q2=b, rho=r, **pt)  # noqa: E731
    with mp.workdps(40):
        w2, b2 = to_mpf(sw) ** 2, to_mpf(sb) ** 2
        cov = value("covariance_map", q1=qv, q2=qv, rho=qv * cv, sigma_w=sw, sigma_b=sb, **pt)
        assert_close(cov, w2 * Kv(qv, qv, qv * cv) + b2, tol, what="covariance")
        cm = value("correlation_map", c=cv, q=qv, sigma_w=sw, sigma_b=sb, **pt)
        assert_close(cm, (w2 * Kv(qv, qv, qv * cv) + b2) / (w2 * Kv(qv, qv, qv) + b2),
                     tol, what="correlation")
        A = qv
        qq = w2 * A + b2
        ov = value("overlap_map", C=A * cv, A=A, sigma_w=sw, sigma_b=sb, **pt)
        assert_close(ov, Kv(qq, qq, w2 * to_mpf(A * cv) + b2), tol, what="overlap")
        D = Fraction(7, 10)
        dm = value("distance_map", D=D, A=A, sigma_w=sw, sigma_b=sb, **pt)
        assert_close(dm, 2 * (Kv(qq, qq, qq) - Kv(qq, qq, qq - w2 * to_mpf(D) / 2)),
                     10 * tol, what="distance")


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_kernel_symmetry_parity_and_cauchy_schwarz_float64(act):
    K = law_of("kernel", act).to_numpy()
    Kd = law_of("derivative_kernel", act).to_numpy()
    rng_q1 = np.array([0.05, 0.3, 1.0, 2.5, 7.0])
    rng_q2 = np.array([1.3, 0.02, 4.0, 0.6, 7.0])
    c = np.array([-0.9, -0.3, 0.2, 0.6, 0.95])
    r = c * np.sqrt(rng_q1 * rng_q2)
    for f in (K, Kd):
        a, b = f(q1=rng_q1, q2=rng_q2, rho=r), f(q1=rng_q2, q2=rng_q1, rho=r)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    parity = symfield.registered_activations()[act].parity
    if parity in ("odd", "even"):
        sign = -1 if parity == "odd" else 1
        np.testing.assert_allclose(K(q1=rng_q1, q2=rng_q2, rho=-r),
                                   sign * K(q1=rng_q1, q2=rng_q2, rho=r), rtol=1e-12, atol=1e-14)
    chi1 = K(q1=rng_q1, q2=rng_q1, rho=rng_q1)
    chi2 = K(q1=rng_q2, q2=rng_q2, rho=rng_q2)
    assert np.all(np.abs(K(q1=rng_q1, q2=rng_q2, rho=r)) <= np.sqrt(chi1 * chi2) * (1 + 1e-12))


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_correlation_map_increasing_and_convex_on_0_1(act):
    """Mehler: K(q, q, qc) = sum a_k^2 c^k with a_k^2 >= 0, so on [0, 1] the c-map is
    non-decreasing and convex (theory.md section 3, T3)."""
    f = law_of("correlation_map", act).to_numpy()
    c = np.linspace(0.0, 1.0, 41)
    for qv, sw, sb in ((0.5, 1.0, 0.0), (2.0, 1.7, 0.4)):
        v = f(c=c, q=qv, sigma_w=sw, sigma_b=sb)
        d1 = np.diff(v)
        assert np.all(d1 >= -1e-12), v
        assert np.all(np.diff(d1) >= -1e-11), v
        assert abs(v[-1] - 1) < 1e-12


@pytest.mark.parametrize("law_name,act", PAIRS)
def test_to_numpy_agrees_with_evaluate(law_name, act):
    law = law_of(law_name, act)
    names = {s.name for s in law.variables}
    raw = (Fraction(9, 10), Fraction(6, 5), Fraction(-2, 5), Fraction(1, 4), Fraction(7, 5),
           Fraction(1, 4), Fraction(1, 10))
    values = values_for(law_name, raw, names)
    expected = float(law.evaluate(dps=20, **values))
    got = law.to_numpy()(**{k: float(v) for k, v in values.items()})
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert abs(float(got) - expected) <= 1e-11 * max(abs(expected), 1e-3)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_to_numpy_broadcasts(act):
    f = law_of("kernel", act).to_numpy()
    q1v = np.array([[0.5], [2.0]])
    out = f(q1=q1v, q2=1.0, rho=np.array([-0.3, 0.0, 0.4]))
    assert out.shape == (2, 3) and np.all(np.isfinite(out))


# ------------------------------------------------------------------------------------------
# Numerical robustness of to_numpy (no NaN at the edges of the domain)
# ------------------------------------------------------------------------------------------
#: (q1, q2) pairs where rho = +-sqrt(q1 q2) is on the boundary in float64; for the first the
#: rounded rho**2 exceeds q1 q2 (q1 q2 - rho**2 = -1.4e-20).
BOUNDARY_VARIANCES = [(1e-12, 1e8), (1.0, 1.0), (0.3, 7.0), (5.0, 7.0), (1e-12, 1e-12),
                      (1e8, 1e8), (3.0, 1 / 3)]
ARC_COSINE = {"relu", "leaky_relu", "abs"}


def _boundary_rhos(q1v, q2v):
    r = np.sqrt(q1v * q2v)
    return np.array([r, -r, r * (1 - 1e-15), -r * (1 - 1e-15), r * (1 + 1e-15), -r * (1 + 1e-15),
                     np.sqrt(q1v) * np.sqrt(q2v), 0.0])


def _finite_or_inf(v):
    return not np.any(np.isnan(v))


def _assert_beyond_float64(law, value, **point):
    """An infinite float64 value is right only where the law is infinite (E[delta(u1)
    delta(u2)] at |c| = 1: sign's derivative kernel) or overflows float64 (exp's kernel,
    exp(q) at q = 1e8), with the law's sign."""
    try:
        exact = law.evaluate(dps=15, **point)
    except InvalidValueError:
        return  # a singular point of the law (a division by zero): infinite there
    if abs(exact) > np.finfo(float).max:
        assert mp.sign(exact) == np.sign(value), (law.name, point, value, exact)
        return
    assert "rho" in point, (
        f"{law.name}[{law.activation.name}] at {point}: float64 {value}, law {exact}")
    # Within an ulp of |c| = 1 a law singular there (E[delta(u1) delta(u2)]) is read as the
    # singular point in float64: 1/(2 pi sqrt(gap)) with a gap of 1e-17 (issue 19).
    c = point["rho"] / math.sqrt(point["q1"] * point["q2"])
    at_boundary = abs(abs(c) - 1) <= 4 * np.finfo(float).eps
    singular = {k: v for k, v in point.items() if k not in ("q1", "q2", "rho")}
    try:
        singular_value = law.evaluate(dps=15, q1=1, q2=1, rho=int(np.sign(c)), **singular)
    except InvalidValueError:
        singular_value = mp.inf
    assert at_boundary and mp.isinf(singular_value), (
        f"{law.name}[{law.activation.name}] at {point}: float64 {value}, law {exact}")


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("law_name", ["kernel", "derivative_kernel", "covariance_map"])
def test_to_numpy_no_nan_at_rho_boundary_moderate_variances(law_name, act):
    law = law_of(law_name, act)
    f = law.to_numpy()
    extra = {"sigma_w": 100.0, "sigma_b": 0.5} if law_name == "covariance_map" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for q1v, q2v in BOUNDARY_VARIANCES:
            if q1v >= 1e8 and law.form != "closed":
                continue  # series forms at 1e8: test_to_numpy_huge_variance_series (slow)
            rhos = _boundary_rhos(q1v, q2v)
            v = f(q1=q1v, q2=q2v, rho=rhos, **extra)
            assert _finite_or_inf(v), f"{law_name}[{act}] q1={q1v} q2={q2v}: {v}"
            for rho_value, value in zip(rhos, v):
                if not np.isfinite(value):  # only where the law itself is beyond float64
                    _assert_beyond_float64(law, value, q1=q1v, q2=q2v, rho=float(rho_value),
                                           **extra)


@pytest.mark.parametrize("act", sorted(ARC_COSINE & set(ACTIVATIONS)))
def test_relu_family_kernel_at_float_boundary_is_not_nan(act):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = law_of("kernel", act).to_numpy()(q1=1e-12, q2=1e8, rho=np.sqrt(1e-12 * 1e8))
    assert not np.isnan(v)


def test_relu_kernel_float64_accuracy_near_c_equal_one():
    """c -> 1: the kernel is well conditioned there, and float64 holds a few ulps (once only
    1e-7 was required, for a loss of 1e-9). Near c = -1 with q1 != q2 it is not: see
    test_float64_accuracy.py for the bound in terms of the condition number."""
    f = law_of("kernel", "relu").to_numpy()
    for q1v, q2v in ((1.0, 3.0), (2.0, 3.0), (0.5, 0.5)):
        r = np.sqrt(q1v * q2v) * (1 - 1e-15)
        exact = law_of("kernel", "relu").evaluate(dps=20, q1=q1v, q2=q2v, rho=float(r))
        assert abs(float(f(q1=q1v, q2=q2v, rho=r)) - float(exact)) <= 1e-14 * float(exact)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("law_name", ["correlation_map", "overlap_map", "distance_map"])
def test_to_numpy_maps_finite_at_edges(law_name, act):
    """c = +-1, +-(1 - 1e-15); C = +-A; D = 0, 4A; tiny and large scales; sigma_w up to 100."""
    law = law_of(law_name, act)
    f = law.to_numpy()
    series = law.form != "closed"
    scales = [1e-12, 1e-6, 1.0, 1e4] if series else [1e-12, 1e-6, 1.0, 1e4, 1e8]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for s in scales:
            for sw in (0.1, 1.0, 100.0):
                if series and s * sw**2 > 1e4:
                    continue  # variance above 1e4 for series forms: slow test
                for sb in (0.0, 0.3):
                    if law_name == "correlation_map":
                        name, xs, rest = "c", [1.0, -1.0, 1 - 1e-15, -1 + 1e-15, 0.0], {"q": s}
                    elif law_name == "overlap_map":
                        name, xs, rest = "C", [s, -s, s * (1 - 1e-15), 0.0], {"A": s}
                    else:
                        name, xs, rest = "D", [0.0, 4 * s, 4 * s * (1 - 1e-15), 1e-15 * s, s], \
                            {"A": s}
                    v = f(**{name: np.array(xs)}, **rest, sigma_w=sw, sigma_b=sb)
                    assert _finite_or_inf(v), f"{law_name}[{act}] scale={s} sw={sw} sb={sb}: {v}"
                    for x, value in zip(xs, v):
                        if not np.isfinite(value):  # only where the law is beyond float64
                            _assert_beyond_float64(law, value, **{name: x}, **rest,
                                                   sigma_w=sw, sigma_b=sb)


@pytest.mark.slow
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_to_numpy_huge_variance(act):
    """q = 1e8 for every activation (series forms: one point; they take seconds and GBs)."""
    f = law_of("kernel", act).to_numpy()
    v = f(q1=1e8, q2=1e8, rho=0.3e8)
    assert np.isfinite(v)
    with mp.workdps(30):  # large q: K -> (2/pi) asin(c) for odd saturating phi
        if act == "tanh" or act == "erf":
            assert abs(float(v) - 2 / np.pi * np.arcsin(0.3)) < 1e-3


def _second_derivative_kernel():
    return symfield.LawDefinition(
        name="second_derivative_kernel_test", title="E[phi''(u1) phi''(u2)]", latex_name="K2",
        variables=(q1, q2, rho),
        define=lambda phi: bivariate_expectation(phi(u1, 2) * phi(u2, 2), q1, rho, q2),
        check_domain=check_pair)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_second_derivative_kernel_at_c_one_is_inf_or_finite_never_nan(act):
    """E[phi''(u1) phi''(u2)]: ReLU's E[delta delta] = 1/(2 pi sqrt(q1 q2 - rho^2)) is
    genuinely singular at c -> 1 (+inf allowed), erf's is finite."""
    law = symfield.derive(_second_derivative_kernel(), act)
    f = law.to_numpy()
    for q1v, q2v in ((1.0, 1.0), (0.3, 0.7), (2.0, 3.0), (5.0, 7.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            v = f(q1=q1v, q2=q2v, rho=_boundary_rhos(q1v, q2v)[:4])
        assert not np.any(np.isnan(v)), v
        if act == "erf":
            assert np.all(np.isfinite(v))
        else:
            assert np.all(v[np.isfinite(v)] > 0)


def test_relu_delta_delta_no_nan_at_rounded_boundary():
    f = symfield.derive(_second_derivative_kernel(), "relu").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        v = np.concatenate([f(q1=1.0, q2=1.0, rho=np.array([1.0 + 1e-15])),
                            f(q1=1e-12, q2=1e8, rho=np.array([np.sqrt(1e-12 * 1e8)]))])
    assert not np.any(np.isnan(v)), v


def test_relu_delta_delta_evaluate_at_c_one():
    law = symfield.derive(_second_derivative_kernel(), "relu")
    try:
        value = law.evaluate(q1=1, q2=1, rho=1)
    except ValueError:
        return
    assert value == mp.inf


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------
BAD = [
    ("kernel", dict(q1=1, q2=1, rho="1.0000001"), "rho"),
    ("kernel", dict(q1=2, q2="1/2", rho=-1.5), "rho"),
    ("derivative_kernel", dict(q1=4, q2=9, rho="6.000000000000000000001"), "rho"),
    ("covariance_map", dict(q1=1, q2=1, rho=2, sigma_w=1, sigma_b=0), "rho"),
    ("kernel", dict(q1=0, q2=1, rho=0), "q1"),
    ("kernel", dict(q1=1, q2=-1, rho=0), "q2"),
    ("derivative_kernel", dict(q1="-1/3", q2=1, rho=0), "q1"),
    ("correlation_map", dict(c=1.5, q=1, sigma_w=1, sigma_b=0), "c"),
    ("correlation_map", dict(c="-1.0000001", q=1, sigma_w=1, sigma_b=0), "c"),
    ("correlation_map", dict(c="1/2", q=0, sigma_w=1, sigma_b=0), "q"),
    ("correlation_map", dict(c="1/2", q=1, sigma_w=0, sigma_b=0), "sigma_w"),
    ("correlation_map", dict(c="1/2", q=1, sigma_w=1, sigma_b=-1), "sigma_b"),
    ("overlap_map", dict(C=2, A=1, sigma_w=1, sigma_b=0), "C"),
    ("overlap_map", dict(C="-1.000001", A=1, sigma_w=1, sigma_b=0), "C"),
    ("overlap_map", dict(C=0, A=0, sigma_w=1, sigma_b=0), "A"),
    ("overlap_map", dict(C=0, A=-2, sigma_w=1, sigma_b=0), "A"),
    ("distance_map", dict(D="-0.1", A=1, sigma_w=1, sigma_b=0), "D"),
    ("distance_map", dict(D="4.0000001", A=1, sigma_w=1, sigma_b=0), "D"),
    ("distance_map", dict(D=1, A=0, sigma_w=1, sigma_b=0), "A"),
]


@pytest.mark.parametrize("act", ["erf", "relu", "tanh"])
@pytest.mark.parametrize("law_name,values,var", BAD, ids=[f"{b[0]}-{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_values_raise_one_line_value_error(law_name, values, var, act):
    law = law_of(law_name, act)
    with pytest.raises(ValueError) as info:
        law.evaluate(**values)
    message = str(info.value)
    assert "\n" not in message and var in message, message


DOMAIN_PRECISION_BUGS = [
    ("correlation_map", dict(c="1.00000000000000000001", q=1, sigma_w=1, sigma_b=0)),
    ("correlation_map", dict(c="-1.00000000000000000001", q=1, sigma_w=1, sigma_b=0)),
    ("overlap_map", dict(C="-1.00000000000000000001", A=1, sigma_w=1, sigma_b=0)),
    ("kernel", dict(q1=1, q2=1, rho="1.00000000000000000001")),
    ("derivative_kernel", dict(q1=4, q2=9, rho="-6.0000000000000000001")),
]


@pytest.mark.parametrize("law_name,values", DOMAIN_PRECISION_BUGS,
                         ids=[f"{n}-{i}" for i, (n, _v) in enumerate(DOMAIN_PRECISION_BUGS)])
def test_points_just_outside_the_domain_are_rejected(law_name, values):
    with pytest.raises(ValueError):
        law_of(law_name, "erf").evaluate(**values)


def test_exact_boundary_with_long_fraction_is_accepted():
    A = Fraction(10.0**0.5) ** 2
    value = law_of("overlap_map", "erf").evaluate(C=A, A=A, sigma_w=1, sigma_b=0)
    assert mp.isfinite(value)


@pytest.mark.parametrize("law_name,act,values,dps,true_value", [
    ("overlap_map", "relu", dict(A=1, C=-1, sigma_w=1, sigma_b="1e-20"), 15,
     "4.2441318157838756205e-61"),
    ("overlap_map", "abs", dict(A=1, C=-1, sigma_w=1, sigma_b="1e-25"), 30, None),
], ids=["relu-dps15", "abs-dps30"])
def test_tiny_sigma_b_certification(law_name, act, values, dps, true_value):
    """sigma_b^2 far below the working precision next to A = 1: the two-precision check once
    agreed on the same wrong digits (3.2e-21 for a true 4.2e-61), later gave up on the ReLU
    case (41 cancelling digits). Now the digits are right."""
    law = law_of(law_name, act)
    value = law.evaluate(dps=dps, **values)
    with mp.workdps(300):
        ref = literature_law(act, law_name, values) if true_value is None else to_mpf(true_value)
    assert_close(value, ref, to_mpf(10) ** -(dps - 1), floor=0, what=f"{law_name}[{act}]")


@pytest.mark.parametrize("act", ["erf", "relu"])
def test_domain_edges_are_accepted(act):
    """The closed boundary is inside the domain: |rho| = sqrt(q1 q2), c = +-1, C = +-A,
    D = 0 and D = 4A."""
    for law_name, values in [("kernel", dict(q1=4, q2=9, rho=6)), ("kernel", dict(q1=4, q2=9, rho=-6)),
                             ("correlation_map", dict(c=1, q=1, sigma_w=1, sigma_b=0)),
                             ("correlation_map", dict(c=-1, q=1, sigma_w=1, sigma_b=0)),
                             ("overlap_map", dict(C=1, A=1, sigma_w=1, sigma_b="1/2")),
                             ("overlap_map", dict(C=-1, A=1, sigma_w=1, sigma_b=0)),
                             ("distance_map", dict(D=0, A=1, sigma_w=1, sigma_b=0)),
                             ("distance_map", dict(D=4, A=1, sigma_w=1, sigma_b=0))]:
        value = law_of(law_name, act).evaluate(dps=20, **values)
        assert mp.isfinite(value)
    assert law_of("distance_map", act).evaluate(dps=20, D=0, A=1, sigma_w=1, sigma_b=0) == 0
    assert law_of("correlation_map", act).evaluate(dps=20, c=1, q=1, sigma_w="3/2", sigma_b="1/3") == 1
