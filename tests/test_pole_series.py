"""tanh and sigmoid single-input laws as Faddeeva pole (Mittag-Leffler) series.

theory.md 2.3 (chi0, chi1, chi2 with sigma_w^2 in chi1, chi2), 3 (T2 heat equation), 10.3, 14
(G14-G16). What is checked, with references written here (``mpmath.quad`` of hand-written
integrands in z, split near |z| ~ 1/sqrt(q) where tanh/sigmoid saturate):

* chi0, chi1, chi2 of tanh and sigmoid from the series (``method="series"``) at dps = 40 agree
  with the reference to 1e-35 relative for q log-uniform in [1e-4, 1e3] (Hypothesis, with the
  end points as explicit examples); the quadrature route and ``auto`` give the same digits;
* the reduction identities symbolically: sech^(2m+2) = ((2m)^2 sech^2m - (sech^2m)'')/(2m(2m+1)),
  tanh^2 = 1 - sech^2, the heat equation for the Gaussian density, and the first series term
  from the Faddeeva building block with paired conjugate poles;
* ``sech_moment_series(m)`` (m = 1..3) numerically; the truncation bound of ``CompiledSeries``
  is never violated (public ``mp(..., with_bound=True)`` at low dps against 60-digit values,
  and the tail bound on its own with the tail forced to start early, where it is not tiny);
  ``hurwitz_zetas`` against direct summation for large orders and exact values
  zeta(s, 1/2) = (2^s - 1) zeta(s); ``remainder_mp`` / ``remainder_np``;
* float64: ``to_numpy(method="series")`` against mpmath across q in [1e-4, 1e3];
* the form of the results: ``Law.form == "series"``, no ``Integral`` / ``Expectation`` in any
  summand, LaTeX with ``w\\left(`` and ``\\sum``, derivation steps naming the pole expansion,
  the Faddeeva evaluation and the reduction identities;
* the CLI: ``symfield derive chi0 tanh`` prints the series, ``--at q=1 --dps 60`` 60 digits;
* power: every numerical comparison also fails for a reference perturbed by a small amount.
"""
from __future__ import annotations

import re
from fractions import Fraction
from functools import partial

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import symfield
from symfield.expectation import Expectation
from symfield.gaussian.faddeeva import MP_FUNCTIONS, faddeeva
from symfield.gaussian.numerics.series import (
    CompiledSeries, expansion_coefficient_mp, hurwitz_zetas, remainder_mp, remainder_np,
)
from symfield.gaussian.rules.poles import _V, k as K_INDEX, sech_moment_series

from support import compare
from support.cli_runner import run

LAWS = ("chi0", "chi1", "chi2")
SIGMA_W = "13/10"  # chi1, chi2 carry sigma_w^2 (theory.md 2.3); exact value on both sides


# ------------------------------------------------------------------------------------------
# Independent references: hand-written integrands, mpmath.quad in z
# ------------------------------------------------------------------------------------------
def _tanh_set():
    def phi(x):
        return mp.tanh(x)

    def dphi(x):
        return 1 / mp.cosh(x) ** 2

    def d2phi(x):
        return -2 * mp.tanh(x) / mp.cosh(x) ** 2

    return phi, dphi, d2phi


def _sigmoid_set():
    # 1/(1 + e^-x), written without tanh; s' = e^-x/(1 + e^-x)^2, s'' = s' (1 - e^-x)/(1 + e^-x)
    def phi(x):
        return 1 / (1 + mp.exp(-x))

    def dphi(x):
        e = mp.exp(-x)
        return e / (1 + e) ** 2

    def d2phi(x):
        e = mp.exp(-x)
        return e / (1 + e) ** 2 * (-mp.expm1(-x)) / (1 + e)

    return phi, dphi, d2phi


ACTIVATIONS = {"tanh": (_tanh_set(), True, 1), "sigmoid": (_sigmoid_set(), False, 2)}


def exact_mpf(x):
    """An int, Fraction or decimal string at the current precision, without rounding first."""
    x = Fraction(x)
    return mp.mpf(x.numerator) / x.denominator


def gauss_z(g, q, dps, even, scale=1):
    """E[g(sqrt(q) z)], z ~ N(0, 1): mpmath.quad in z, split at 0, at |z| = 1, 2, 4, 8 and at
    |z| = k scale/sqrt(q) (k = 1/2 .. 32), where the activation saturates."""
    with mp.workdps(dps):
        q = exact_mpf(q)
        sq = mp.sqrt(q)
        cut = mp.sqrt(2 * (dps + 15) * mp.log(10)) + 2
        pts = {mp.mpf(0)} | {mp.mpf(k) for k in (1, 2, 4, 8)} \
            | {scale * mp.mpf(k) / sq for k in (0.5, 1, 2, 4, 8, 16, 32)}
        pos = sorted(p for p in pts if 0 <= p < cut) + [cut, mp.inf]
        nodes = pos if even else [-p for p in reversed(pos[1:])] + pos
        f = lambda zz: g(sq * zz) * mp.exp(-zz * zz / 2)  # noqa: E731
        val, err = mp.quad(f, nodes, error=True)
        val = (2 if even else 1) * val / mp.sqrt(2 * mp.pi)
        assert err <= mp.mpf(10) ** (-(dps - 8)) * abs(val), "reference quadrature"
        return val


def reference_chi(act, law, q, dps=50):
    (phi, dphi, d2phi), even, scale = ACTIVATIONS[act]
    with mp.workdps(dps):
        sw2 = (mp.mpf(13) / 10) ** 2
        if law == "chi0":
            return gauss_z(lambda x: phi(x) ** 2, q, dps, even, scale)
        if law == "chi1":
            return sw2 * gauss_z(lambda x: dphi(x) ** 2, q, dps, True, scale)
        return sw2 * gauss_z(lambda x: d2phi(x) ** 2, q, dps, True, scale)


# the series are checked to 1e-59: compared at 80 digits at least, every digit of the values kept
relerr = partial(compare.relerr, min_dps=80, keep_digits=True)
assert_close_with_power = partial(compare.assert_close_with_power, min_dps=80, keep_digits=True)


def law_values(law, q):
    return {"q": q} if law == "chi0" else {"q": q, "sigma_w": SIGMA_W}


# ------------------------------------------------------------------------------------------
# chi0, chi1, chi2 from the series against independent quadrature (dps 40, 1e-35)
# ------------------------------------------------------------------------------------------
def check_chi_series(act, log10_q):
    # an exact rational, the same on both sides (floats are read as their decimal repr)
    q = Fraction(repr(10.0**log10_q))
    for law in LAWS:
        L = symfield.derive(law, act)
        assert L.form == "series" and L.closed_form is False
        series = L.evaluate(dps=40, method="series", **law_values(law, q))
        ref = reference_chi(act, law, q, dps=50)
        assert_close_with_power(series, ref, 1e-35, perturb=1e-30)
        # the two routes and 'auto' agree (auto takes quadrature, the faster one)
        quad = L.evaluate(dps=40, method="quadrature", **law_values(law, q))
        auto = L.evaluate(dps=40, **law_values(law, q))
        assert relerr(series, quad) <= 1e-38
        assert relerr(auto, quad) <= 1e-39


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@settings(max_examples=3)
@given(log10_q=st.floats(-4, 3))
@example(log10_q=-4.0)
@example(log10_q=3.0)
def test_chi_series_equal_independent_quadrature(act, log10_q):
    check_chi_series(act, log10_q)


@pytest.mark.slow
@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@settings(max_examples=12)
@given(log10_q=st.floats(-4, 3))
@example(log10_q=-4.0)
@example(log10_q=3.0)
@example(log10_q=-1.6)   # q ~ 0.025: the float64 evaluator's asymptotic switch (tanh)
def test_chi_series_equal_independent_quadrature_more_examples(act, log10_q):
    check_chi_series(act, log10_q)


GOLDEN = {  # theory.md section 14 (tanh, q = 1, 30 significant digits as printed)
    "chi0": "0.394294490397841174416459772444",     # G14
    "chi1": "0.464402902448268241972021461116",     # G15 (E[sech^4], sigma_w = 1)
    "chi2": "0.300203812004187410724868136975",     # G16 (E[4 tanh^2 sech^4], sigma_w = 1)
}


@pytest.mark.parametrize("law", LAWS)
def test_tanh_series_reproduce_golden_values(law):
    values = {"q": 1} if law == "chi0" else {"q": 1, "sigma_w": 1}
    got = symfield.derive(law, "tanh").evaluate(dps=35, method="series", **values)
    with mp.workdps(40):
        golden = mp.mpf(GOLDEN[law])
    assert_close_with_power(got, golden, 2e-29, perturb=1e-27)


# ------------------------------------------------------------------------------------------
# Reduction identities and the first term, symbolically
# ------------------------------------------------------------------------------------------
y = sp.Symbol("y", real=True)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_sech_power_reduction_identity_symbolically(m):
    """sech^(2m+2) = ((2m)^2 sech^2m - (sech^2m)'')/(2m(2m+1)), rewritten in exp."""
    s2m = sp.sech(y) ** (2 * m)
    rhs = ((2 * m) ** 2 * s2m - sp.diff(s2m, y, 2)) / (2 * m * (2 * m + 1))
    diff = (sp.sech(y) ** (2 * m + 2) - rhs).rewrite(sp.exp)
    assert sp.simplify(diff) == 0
    # power: the identity with a wrong coefficient is not an identity
    wrong = (sp.sech(y) ** (2 * m + 2) - rhs * sp.Rational(2 * m + 1, 2 * m + 2)).rewrite(sp.exp)
    assert sp.simplify(wrong) != 0


def test_tanh_square_and_derivatives_symbolically():
    assert sp.simplify((sp.tanh(y) ** 2 - 1 + sp.sech(y) ** 2).rewrite(sp.exp)) == 0
    assert sp.simplify((sp.diff(sp.tanh(y), y) - sp.sech(y) ** 2).rewrite(sp.exp)) == 0
    # theory.md 10.3: phi'' = -2 tanh sech^2
    assert sp.simplify((sp.diff(sp.tanh(y), y, 2) + 2 * sp.tanh(y) * sp.sech(y) ** 2)
                       .rewrite(sp.exp)) == 0


def test_heat_equation_for_the_gaussian_density_symbolically():
    """d/dv N(y; 0, v) = (1/2) d^2/dy^2 N(y; 0, v), hence E[f''(y)] = 2 d/dv E[f(y)]."""
    v = sp.Symbol("v", positive=True)
    density = sp.exp(-y**2 / (2 * v)) / sp.sqrt(2 * sp.pi * v)
    assert sp.simplify(sp.diff(density, v) - sp.diff(density, y, 2) / 2) == 0
    assert sp.simplify(sp.diff(density, v) - sp.diff(density, y, 2)) != 0  # power


def test_first_series_term_is_the_paired_faddeeva_building_block():
    """The k-th term of E[sech^2] is -E[(y - a)^-2] - E[(y + a)^-2], a = i pi (k + 1/2), with
    E[(y - a)^-1] = i sqrt(pi/(2v)) w(a/sqrt(2v)) differentiated in a (the lower pole is the
    conjugate, so the pair is -2 Re E[(y - a)^-2])."""
    a, v = sp.symbols("a v")
    first = sp.I * sp.sqrt(sp.pi / (2 * v)) * faddeeva(a / sp.sqrt(2 * v))
    second = sp.diff(first, a)  # E[(y - a)^-2], through faddeeva.fdiff
    kk = sp.Symbol("k", integer=True, nonnegative=True)
    vp = sp.Symbol("v", positive=True)
    pair = (-2 * second).subs(a, sp.I * sp.pi * (kk + sp.Rational(1, 2))).subs(v, vp)
    summand = sech_moment_series(1).function.subs(_V, vp).subs(K_INDEX, kk)
    assert sp.simplify(sp.expand(pair - summand)) == 0
    series = sech_moment_series(1)
    assert isinstance(series, sp.Sum) and series.limits[0][1:] == (0, sp.oo)
    assert sp.simplify(sp.expand(pair - 2 * summand)) != 0  # power


@pytest.mark.parametrize("m", [2, 3])
def test_sech_moment_series_follows_the_reduction_and_heat_equation(m):
    """E[sech^(2m+2)] = ((2m)^2 E[sech^2m] - 2 d/dv E[sech^2m])/(2m(2m+1)), termwise."""
    prev = sech_moment_series(m - 1).function
    n = m - 1
    expected = ((2 * n) ** 2 * prev - 2 * sp.diff(prev, _V)) / (2 * n * (2 * n + 1))
    got = sech_moment_series(m).function
    assert sp.simplify(sp.expand(got - expected)) == 0


# ------------------------------------------------------------------------------------------
# sech_moment_series and the truncation bound of CompiledSeries
# ------------------------------------------------------------------------------------------
def sech_moment_ref(m, v, dps=60):
    """E[sech^2m(y)], y ~ N(0, v), by quadrature in z = y/sqrt(v)."""
    return gauss_z(lambda x: 1 / mp.cosh(x) ** (2 * m), v, dps, even=True)


_COMPILED: dict = {}


def compiled_sech(m):
    if m not in _COMPILED:
        _COMPILED[m] = CompiledSeries(sech_moment_series(m), [_V])
    return _COMPILED[m]


@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("v", ["0.01", "0.5", "3", "200"])
def test_compiled_series_value_and_bound_at_low_precision(m, v):
    """value +- (bound + rounding) holds the 60-digit value; the bound certifies the digits."""
    exact = sech_moment_ref(m, v)
    cs = compiled_sech(m)
    for dps in (15, 20, 25):
        with mp.workdps(dps):
            value, bound = cs.mp([mp.mpf(v)], dps, with_bound=True)
        assert bound >= 0
        assert bound <= mp.mpf(10) ** (-(dps - 2)) * abs(exact)
        err = relerr(value, exact) * abs(exact)
        assert err <= bound + mp.mpf(10) ** (-(dps - 1)) * abs(exact), \
            f"m={m} v={v} dps={dps}: error {mp.nstr(err, 3)}, bound {mp.nstr(bound, 3)}"
    # power: the 25-digit value does not pass against a reference off by 1e-21
    with mp.workdps(25):
        value = cs.mp([mp.mpf(v)], 25)
    assert relerr(value, exact * (1 + mp.mpf("1e-21"))) > mp.mpf(10) ** -24


@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("v", ["0.01", "0.5", "3", "200"])
def test_tail_bound_is_never_violated_when_the_tail_starts_early(m, v):
    """The tail sum_{k >= k0} by the asymptotic expansion, with k0 forced small (where the
    expansion is poor and the bound is large), against the exact tail: 80-digit value minus
    the exact head. Arithmetic at 70 digits so that only the truncation is measured; the
    truncation order is chosen for 15 and 20 digits. (Uses the evaluator's _tail_mp.)"""
    cs = compiled_sech(m)
    summand = sp.lambdify([K_INDEX, _V], sech_moment_series(m).function,
                          modules=[MP_FUNCTIONS, "mpmath"])
    exact = sech_moment_ref(m, v, dps=80)
    ratios = []
    for target in (15, 20):
        for k0 in (0, 1, 2, 4):
            with mp.workdps(70):
                vals = [mp.mpf(v)]
                beta = mp.mpf(cs.beta_mp(*vals))
                P = [(p, mp.mpf(c(*vals))) for p, c in cs.p_mp]
                B = [(j, mp.mpf(c(*vals))) for j, c in cs.b_mp]
                tail, bound, _largest = cs._tail_mp(P, B, beta, k0, cs.shape.subtracted, target)
            with mp.workdps(80):
                head = mp.fsum(mp.re(summand(kk, mp.mpf(v))) for kk in range(k0))
                actual = abs(tail - (exact - head))
            assert actual <= bound + mp.mpf(10) ** -55, \
                f"m={m} v={v} k0={k0}: tail error {mp.nstr(actual, 3)} > bound {mp.nstr(bound, 3)}"
            ratios.append(actual / bound if bound else 0)
    # power: the bound is tight enough (within a factor 20 of the actual error for some k0)
    # that a bound too small by that factor would be caught
    assert max(ratios) > mp.mpf("0.05")


def test_hurwitz_zetas_large_orders_against_direct_summation():
    """mpmath.zeta(s, a) loses relative accuracy for large s (the evaluator's docstring)."""
    def direct(s, a, dps):
        with mp.workdps(dps + 20):
            a = mp.mpf(a)
            total, j = mp.mpf(0), 0
            while True:
                total += (j + a) ** (-s)
                j += 1
                if (j - 1 + a) ** (1 - s) / (s - 1) < mp.mpf(10) ** (-dps - 10) * total:
                    return total

    worst_mpmath = mp.mpf(0)
    for s, a in [(40, "30.5"), (60, "10.5"), (25, "3.5"), (200, "100.5"), (120, "0.5")]:
        with mp.workdps(60):
            got = hurwitz_zetas([2, s, s + 1], mp.mpf(a))
            worst_mpmath = max(worst_mpmath, relerr(mp.zeta(s, mp.mpf(a)), direct(s, a, 60)))
        ref = direct(s, a, 60)
        assert_close_with_power(got[s], ref, 1e-57, perturb=1e-55)
    assert worst_mpmath > 1e-40  # the reason this function exists (zeta(40, 30.5): ~1e-25)


@pytest.mark.parametrize("s", [2, 3, 4, 17, 40, 41])
def test_hurwitz_zetas_at_one_half_exactly(s):
    with mp.workdps(60):
        got = hurwitz_zetas([s], mp.mpf(1) / 2)[s]
        exact = (mp.mpf(2) ** s - 1) * mp.zeta(s)
    assert_close_with_power(got, exact, 1e-57, perturb=1e-55)


def test_hurwitz_zetas_shift_recurrence_and_empty():
    with mp.workdps(50):
        a = mp.mpf("7.25")
        z0, z1 = hurwitz_zetas([2, 5, 9], a), hurwitz_zetas([2, 5, 9], a + 1)
        for s in (2, 5, 9):
            assert abs(z0[s] - z1[s] - a ** (-s)) <= mp.mpf(10) ** -48 * z0[s]
    assert hurwitz_zetas([], 1) == {}


def remainder_ref(n, yy):
    with mp.workdps(60):
        Y = mp.mpf(yy)
        return mp.exp(Y * Y) * mp.erfc(Y) - mp.fsum(
            expansion_coefficient_mp(i2) * Y ** (-(2 * i2 + 1)) for i2 in range(n))


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_remainders_of_the_erfcx_expansion(n):
    ys = np.array([0.5, 1.5, 3.0, 6.9, 7.1, 20.0, 100.0])
    got_np, size = remainder_np(n, ys)
    for i, yy in enumerate(ys):
        ref = remainder_ref(n, yy)
        with mp.workdps(30):
            got = remainder_mp(n, mp.mpf(yy), 30)
        # relative accuracy ("without cancellation"); only 1e-25 because of the bug below
        assert relerr(got, ref) <= 1e-25
        # float64: the error is within rounding of the largest piece (the size it reports)
        assert abs(got_np[i] - float(ref)) <= 1e-15 * size[i] + 1e-300
    # R_n is bounded by the first omitted term (alternating expansion), at large y
    with mp.workdps(30):
        Y = mp.mpf(20)
        assert abs(remainder_mp(n, Y, 30)) <= abs(expansion_coefficient_mp(n) * Y ** (-(2 * n + 1)))


@pytest.mark.parametrize("n,yy", [(4, 9.0), (3, 7.1)])
def test_remainder_mp_keeps_relative_accuracy_at_moderate_y(n, yy):
    with mp.workdps(30):
        got = remainder_mp(n, mp.mpf(yy), 30)
    assert relerr(got, remainder_ref(n, yy)) <= 1e-28


# ------------------------------------------------------------------------------------------
# float64
# ------------------------------------------------------------------------------------------
QS = np.logspace(-4, 3, 29)


def check_to_numpy(law, qs):
    L = symfield.derive(law, "tanh")
    f = L.to_numpy(method="series")
    kw = {"q": qs} if law == "chi0" else {"q": qs, "sigma_w": 1.3}
    out = f(**kw)
    assert out.shape == qs.shape and out.dtype == np.float64
    bad = []
    for qv, got in zip(qs, out):
        ref = L.evaluate(dps=20, method="quadrature", **law_values(law, float(qv)))
        if relerr(got, ref) > 1e-12:
            bad.append(f"q={qv!r}: {got!r} vs {mp.nstr(ref, 17)}")
        # power: a value off by 1e-11 relative would be caught
        assert relerr(float(ref) * (1 + 1e-11), ref) > 1e-12
    assert not bad, f"{law}: " + "; ".join(bad)


@pytest.mark.parametrize("law", ["chi0", "chi1", "chi2"])
def test_tanh_to_numpy_series_matches_mpmath(law):
    check_to_numpy(law, QS)


@pytest.mark.parametrize("law", LAWS)
def test_tanh_to_numpy_series_at_small_and_large_q(law):
    """Issue 19 (4b): at q = 1e-6 the float64 series once stayed wrong by ~1e-10 because the
    documented switch to quadrature did not happen; at q = 1e30 it summed for minutes. Both
    ends now go to the quadrature (and a cancelling quadrature to mpmath)."""
    check_to_numpy(law, np.array([1e-8, 1e-6, 1e-4, 1e3, 1e8, 1e30]))


# Found while writing the test above: in the all-asymptotic float64 regime (beta >= 14, i.e.
# q just below pi^2/(2*14^2) ~ 0.0252 for tanh) 16 expansion terms are not enough, and its
# cancellation estimate is set to |value|, so the quadrature fallback never triggers.
def test_tanh_chi2_to_numpy_series_near_the_asymptotic_switch():
    L = symfield.derive("chi2", "tanh")
    qs = np.array([0.015, 0.02, 0.022, 0.025])
    out = L.to_numpy(method="series")(q=qs, sigma_w=1.0)
    for qv, got in zip(qs, out):
        ref = L.evaluate(dps=20, method="quadrature", q=float(qv), sigma_w=1)
        assert relerr(got, ref) <= 1e-12


def test_tanh_chi0_to_numpy_series_at_small_q():
    L = symfield.derive("chi0", "tanh")
    got = L.to_numpy(method="series")(q=np.array([1e-4]))[0]
    assert relerr(got, L.evaluate(dps=20, method="quadrature", q=1e-4)) <= 1e-12


def test_sigmoid_chi2_to_numpy_series_near_the_asymptotic_switch():
    L = symfield.derive("chi2", "sigmoid")
    got = L.to_numpy(method="series")(q=np.array([0.1]), sigma_w=1.0)[0]
    assert relerr(got, L.evaluate(dps=20, method="quadrature", q=0.1, sigma_w=1)) <= 1e-12


# ------------------------------------------------------------------------------------------
# Form of the results: series, no integrals, LaTeX, derivation steps
# ------------------------------------------------------------------------------------------
SINGLE = ("chi0", "chi1", "chi2", "length_map", "activity_map", "length_map_slope")


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("law", SINGLE)
def test_single_input_laws_are_faddeeva_series_without_integrals(act, law):
    L = symfield.derive(law, act)
    assert L.form == "series" and L.closed_form is False
    sums = L.expr.atoms(sp.Sum)
    assert sums, "no Sum in the result"
    for s in sums:
        assert s.function.has(faddeeva)
        assert not s.function.has(sp.Integral) and not s.function.has(Expectation)
        assert s.limits[0][1:] == (0, sp.oo)
    assert not L.expr.has(sp.Integral) and not L.expr.has(Expectation)
    assert L.definition.has(Expectation)  # the definition keeps the Gaussian expectation
    tex = L.latex()
    assert r"w\left(" in tex and r"\sum" in tex
    assert "Faddeeva" in str(L)


def test_every_tanh_and_sigmoid_law_is_integral_free():
    for act in ("tanh", "sigmoid"):
        for law in symfield.registered_laws():
            L = symfield.derive(law, act)
            assert not L.expr.has(sp.Integral), (act, law)
            for s in L.expr.atoms(sp.Sum):
                assert not s.function.has(sp.Integral), (act, law)


def _step_text(L):
    return [(s.rule, s.justification) for s in L.derivation]


@pytest.mark.parametrize("law", ["chi1", "chi2"])
def test_tanh_derivation_names_pole_expansion_faddeeva_and_reduction(law):
    """The general pole rule (issue 11) writes phi'^2 as a polynomial in tanh, expands each power
    by its principal parts at a_k = i pi (k + 1/2) and maps each term to a Faddeeva value."""
    steps = _step_text(symfield.derive(law, "tanh"))
    rules = [r for r, _ in steps]
    text = " | ".join(f"{r}: {j}" for r, j in steps)
    assert "polynomial in tanh" in rules
    assert "pole expansion (Mittag-Leffler) and Faddeeva series" in rules
    assert "linearity" in rules  # sech^4 = 1 - 2 tanh^2 + tanh^4: one series per power
    assert "w(a/sqrt(2v))" in text and "i pi (k + 1/2)" in text
    # principal parts of tanh^2, tanh^4 (and tanh^6 for chi2) at a pole, from
    # tanh(a + u) = 1/u + u/3 - u^3/45 + ...:
    assert "y = x: 1/(y - a_k)^2;" in text
    assert "4/3/(y - a_k)^2 + 1/(y - a_k)^4" in text
    if law == "chi2":
        assert "23/15/(y - a_k)^2 + 2/(y - a_k)^4 + 1/(y - a_k)^6" in text


@pytest.mark.parametrize("power", [2, 4, 6])
def test_the_principal_parts_named_in_the_derivation_are_tanh_laurent_series(power):
    """The hand-checked coefficients above, against SymPy's own Laurent series of tanh^n."""
    u = sp.Symbol("u")
    laurent = sp.series(sp.tanh(sp.I * sp.pi / 2 + u) ** power, u, 0, 1).removeO()
    principal = {m: laurent.coeff(u, -m) for m in range(1, power + 1)}
    expected = {2: {2: 1}, 4: {2: sp.Rational(4, 3), 4: 1},
                6: {2: sp.Rational(23, 15), 4: 2, 6: 1}}[power]
    assert {m: c for m, c in principal.items() if c != 0} == expected


def test_series_law_result_step_is_not_called_closed_form():
    L = symfield.derive("chi0", "tanh")
    last = L.derivation[len(L.derivation) - 1]
    assert last.rule == "result"
    assert "closed form" not in last.justification


def test_series_law_latex_document_labels_the_result_as_a_series():
    doc = symfield.derive("chi1", "tanh").latex(document=True)
    assert r"\textbf{Result} (exact unevaluated Gaussian expectation)" not in doc


# ------------------------------------------------------------------------------------------
# CLI
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_cli_derive_prints_the_series(capsys, act):
    code, out, err = run(capsys, "derive", "chi0", act)
    assert code == 0, err
    assert "Sum(" in out and "faddeeva(" in out and "Faddeeva pole series" in out
    assert "Integral" not in out and "E[" not in out.split("=", 1)[1]
    code, out, _ = run(capsys, "derive", "chi0", act, "--latex")
    assert code == 0 and r"w\left(" in out and r"\sum" in out


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_cli_value_has_60_correct_digits(capsys, act):
    code, out, err = run(capsys, "derive", "chi0", act, "--at", "q=1", "--dps", "60")
    assert code == 0, err
    line = [ln for ln in out.splitlines() if "value at" in ln][-1]
    printed = line.split(":")[-1].strip()
    digits = re.sub(r"[^0-9]", "", printed.split("e")[0]).lstrip("0")
    assert len(digits) >= 59, printed  # nstr drops trailing zeros
    ref = reference_chi(act, "chi0", 1, dps=80)
    with mp.workdps(80):
        got = mp.mpf(printed)
    assert_close_with_power(got, ref, 1e-59, perturb=1e-57)


def test_a_pole_expansion_beyond_the_degree_bound_is_refused_before_any_series_is_built(
        monkeypatch):
    """E[x^n P(tanh)] with deg P + n > MAX_TANH_DEGREE (Stein's lemma would reach tanh to
    that degree) is refused before expanding anything, also as one term of a sum whose other
    terms are expandable: SiLU's mu_3 spent minutes on its 61 other terms first."""
    from symfield.gaussian.engine import GaussianCalculus
    from symfield.gaussian.rules.poles import MAX_TANH_DEGREE, PoleExpansionRule

    calls = []
    apply = PoleExpansionRule.apply
    monkeypatch.setattr(PoleExpansionRule, "apply",
                        lambda self, *args: calls.append(args[0]) or apply(self, *args))
    x = sp.Symbol("x", real=True)
    q = sp.Symbol("q", positive=True)
    doomed = x ** 6 * sp.tanh(x / 2) ** (MAX_TANH_DEGREE - 4)
    for integrand in (doomed, x ** 2 * sp.tanh(x / 2) ** 2 + doomed):
        outcome = GaussianCalculus().expect(Expectation(integrand, (x,), (q,)))
        assert not outcome.closed
    assert calls == []
    # within the bound, the same sum's expandable term is expanded (the counter works)
    GaussianCalculus().expect(Expectation(x ** 2 * sp.tanh(x / 2) ** 2, (x,), (q,)))
    assert calls
