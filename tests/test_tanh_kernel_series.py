"""tanh and sigmoid two-input kernels as Hermite-Faddeeva (Mehler) double series.

theory.md 2.4 (the pair u1 = sqrt(q1) z1, u2 = sqrt(q2)(c z1 + sqrt(1 - c^2) z2)), 3 (T1 Price,
T3 Mehler / Hermite), 10.3, 14 (G18, G19). The kernel E[phi(u1) phi(u2)] and the derivative
kernel E[phi'(u1) phi'(u2)] are sums over n of rho^n/n! E[f^(n)] E[g^(n)] with ``tanh_moment``
coefficients (valid for |c| < 1). Checked here:

* the series route (``method="series"``) at 25 digits against an independent 2-D reference
  (a product trapezoid rule in (z1, z2) written here, its step chosen from the strip of
  analyticity and certified by a coarser grid; hand-written integrands) to 1e-20, at a handful
  of points including negative c, c = +-0.95 and q1 != q2 (the expensive points are ``slow``),
  one sigmoid check each. (oracles_pair.trapezoid_expect is not used: it returns a value off
  by 3e-17 at q1 = 1/4, q2 = 4, rho = -7/10, see the report);
* golden values G18, G19 (theory.md 14);
* the structure of the result (a Sum over n >= 1 of ``tanh_moment`` products, no Integral,
  LaTeX with ``\\sum``; each coefficient is one ``rewrite(Sum)`` away from a Faddeeva series);
* the Mehler coefficients: rho-derivatives at 0 (Price) and Parseval at c -> 1 (the derivative
  kernel at c = 1 is chi1/sigma_w^2 = E[sech^4]);
* ``MehlerSeries`` refuses (``SeriesNotConvergent``) where it cannot converge;
* power: every numerical comparison fails for a reference perturbed by 1e-15 relative.
"""
from __future__ import annotations

from fractions import Fraction
from functools import partial

import mpmath as mp
import pytest
import sympy as sp

import symfield
from symfield.expectation import Expectation
from symfield.gaussian.faddeeva import faddeeva, tanh_moment
from symfield.gaussian.numerics.mehler import MehlerSeries, SeriesNotConvergent
from symfield.symbols import q1 as Q1, q2 as Q2, rho as RHO

from support import compare
from support.oracles_pair import GOLDEN_PAIR

#: relative errors at 60 digits (the references carry up to 45)
relerr = partial(compare.relerr, min_dps=60)

DPS = 25
TOL = 1e-20


# ------------------------------------------------------------------------------------------
# Hand-written integrands and the independent reference
# ------------------------------------------------------------------------------------------
def _sech2(x):
    return 1 / mp.cosh(x) ** 2


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _dsigmoid(x):
    e = mp.exp(-x)
    return e / (1 + e) ** 2


INTEGRANDS = {  # (f, jointly even, pole scale: tanh's poles at i pi/2, the sigmoid's at i pi)
    ("tanh", "kernel"): (mp.tanh, True, 1),
    ("tanh", "derivative_kernel"): (_sech2, True, 1),
    ("sigmoid", "kernel"): (_sigmoid, False, 2),
    ("sigmoid", "derivative_kernel"): (_dsigmoid, True, 2),
}


def to_mpf(x: Fraction):
    return mp.mpf(x.numerator) / x.denominator


def pair_trapezoid(f, q1, q2, rho, dps, pole_scale, even, step_factor=1):
    """E[f(u1) f(u2)], u1 = sqrt(q1) z1, u2 = sqrt(q2) (c z1 + s z2), by the product
    trapezoid rule in (z1, z2). The integrand is analytic in a strip of half-width d (the
    nearest pole of f(u1) or f(u2) seen from z1, resp. z2, with a margin), so the error is
    ~ exp(d^2/2 - 2 pi d/h): the step is chosen for ``dps`` digits."""
    with mp.workdps(dps + 5):
        q1, q2, rho = to_mpf(q1), to_mpf(q2), to_mpf(rho)
        s1, s2 = mp.sqrt(q1), mp.sqrt(q2)
        c = rho / (s1 * s2)
        s = mp.sqrt((1 - c) * (1 + c))
        pole = mp.pi / 2 * pole_scale
        d1 = pole / s1 if c == 0 else min(pole / s1, pole / (s2 * abs(c)))
        d2 = pole / (s2 * s)
        d1, d2 = min(mp.mpf("0.8") * d1, mp.mpf("2.5")), min(mp.mpf("0.8") * d2, mp.mpf("2.5"))
        digits = (dps + 2) * mp.log(10)
        h1 = 2 * mp.pi * d1 / (digits + d1 * d1 / 2 + 3) * step_factor
        h2 = 2 * mp.pi * d2 / (digits + d2 * d2 / 2 + 3) * step_factor
        Z = mp.sqrt(2 * (dps + 12) * mp.log(10))
        n1, n2 = int(Z / h1) + 1, int(Z / h2) + 1
        z2s = [j * h2 for j in range(-n2, n2 + 1)]
        w2 = [mp.exp(-z * z / 2) for z in z2s]
        total = mp.mpf(0)
        for i in (range(0, n1 + 1) if even else range(-n1, n1 + 1)):
            z1 = i * h1
            weight = (2 if even and i else 1) * mp.exp(-z1 * z1 / 2) * f(s1 * z1)
            total += weight * mp.fdot(w2, [f(s2 * (c * z1 + s * z2)) for z2 in z2s])
        return total * h1 * h2 / (2 * mp.pi)


def reference(act, law, q1, q2, rho, dps=22):
    """The fine grid, certified by a 1.25x coarser one (agreement to 1e-21)."""
    f, even, scale = INTEGRANDS[(act, law)]
    fine = pair_trapezoid(f, q1, q2, rho, dps, scale, even)
    coarse = pair_trapezoid(f, q1, q2, rho, dps, scale, even, step_factor=1.25)
    assert relerr(coarse, fine) <= 1e-21, "2-D reference not converged"
    return fine


def point(q1, q2, c):
    """(q1, q2, rho) as exact fractions; sqrt(q1 q2) is rational at every point used."""
    q1, q2, c = Fraction(q1), Fraction(q2), Fraction(c)
    root = Fraction(sp.sqrt(sp.Rational(q1.numerator * q2.numerator,
                                        q1.denominator * q2.denominator)))
    return q1, q2, c * root


_SERIES: dict = {}


def series_value(act, law, a, b, r):
    """Law.evaluate(method="series") at 25 digits, memoised (a few seconds per point)."""
    key = (act, law, a, b, r)
    if key not in _SERIES:
        _SERIES[key] = symfield.derive(law, act).evaluate(dps=DPS, method="series",
                                                           q1=a, q2=b, rho=r)
    return _SERIES[key]


def check(act, law, q1, q2, c):
    a, b, r = point(q1, q2, c)
    got = series_value(act, law, a, b, r)
    ref = reference(act, law, a, b, r)
    err = relerr(got, ref)
    assert err <= TOL, f"{act} {law} at q1={a}, q2={b}, c={c}: {mp.nstr(got, DPS)} vs " \
                       f"{mp.nstr(ref, 30)} (rel. {mp.nstr(err, 3)})"
    with mp.workdps(40):
        bad = ref * (1 + mp.mpf("1e-15"))
    assert relerr(got, bad) > TOL, "power check"
    return got


FAST = [
    ("tanh", "kernel", 1, 1, "1/2"),
    ("tanh", "kernel", 1, 1, "-1/2"),
    ("tanh", "kernel", "1/5", "1/20", "1/2"),                  # q1 != q2
    ("tanh", "kernel", 1, 1, "19/20"),
    ("tanh", "derivative_kernel", 1, 1, "1/2"),
    ("tanh", "derivative_kernel", "1/10", "1/10", "-19/20"),   # c = -0.95 at small variance
    ("sigmoid", "kernel", 1, 1, "1/2"),
]

SLOW = [
    ("tanh", "kernel", 1, 1, "-19/20"),
    ("tanh", "kernel", 2, "1/2", "-19/20"),
    ("tanh", "kernel", "9/4", "1/4", "9/10"),
    ("tanh", "kernel", "1/4", "4", "-7/10"),
    ("tanh", "kernel", "1/10", "1/10", "19/20"),
    ("tanh", "derivative_kernel", 1, 1, "-1/2"),
    ("tanh", "derivative_kernel", 1, 1, "9/10"),
    ("tanh", "derivative_kernel", 1, 1, "19/20"),
    ("tanh", "derivative_kernel", 1, 1, "-19/20"),
    ("tanh", "derivative_kernel", 2, "1/2", "-7/10"),
    ("tanh", "derivative_kernel", "1/10", "1/10", "19/20"),
    ("sigmoid", "kernel", 1, 1, "-19/20"),
    ("sigmoid", "kernel", 2, "1/2", "-7/10"),
    ("sigmoid", "derivative_kernel", 1, 1, "1/2"),
]


@pytest.mark.parametrize("act,law,q1,q2,c", FAST)
def test_kernel_series_against_2d_reference(act, law, q1, q2, c):
    check(act, law, q1, q2, c)


@pytest.mark.slow
@pytest.mark.parametrize("act,law,q1,q2,c", SLOW)
def test_kernel_series_against_2d_reference_expensive_points(act, law, q1, q2, c):
    check(act, law, q1, q2, c)


def test_golden_values_g18_g19():
    K = symfield.derive("kernel", "tanh")
    D = symfield.derive("derivative_kernel", "tanh")
    for law, key in ((K, "G18"), (D, "G19")):
        got = series_value("tanh", law.name, Fraction(1), Fraction(1), Fraction(1, 2))
        with mp.workdps(40):
            golden = mp.mpf(GOLDEN_PAIR[key])
        assert relerr(got, golden) <= 1e-24
        assert relerr(got, golden * (1 + mp.mpf("1e-22"))) > 1e-24


def test_series_and_quadrature_routes_agree_and_auto_is_quadrature():
    for law in ("kernel",):
        a, b, r = point("1/5", "1/20", "1/2")
        L = symfield.derive(law, "tanh")
        series = series_value("tanh", law, a, b, r)
        quad = L.evaluate(dps=DPS, method="quadrature", q1=a, q2=b, rho=r)
        auto = L.evaluate(dps=DPS, q1=a, q2=b, rho=r)
        assert relerr(series, quad) <= 1e-24
        assert relerr(series, quad * (1 + mp.mpf("1e-22"))) > 1e-24
        assert auto == quad


# ------------------------------------------------------------------------------------------
# Structure
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("law", ["kernel", "derivative_kernel"])
def test_kernel_laws_are_mehler_series_of_tanh_moments(act, law):
    L = symfield.derive(law, act)
    assert L.form == "series" and L.closed_form is False
    assert set(L.variables) >= {Q1, Q2, RHO}
    mehler = [s for s in L.expr.atoms(sp.Sum) if s.function.has(tanh_moment)]
    assert len(mehler) == 1
    (n, lo, hi), = mehler[0].limits
    assert (lo, hi) == (1, sp.oo)
    assert mehler[0].function.has(RHO) and mehler[0].function.has(sp.factorial(n))
    for s in L.expr.atoms(sp.Sum):
        assert not s.function.has(sp.Integral) and not s.function.has(Expectation)
    assert not L.expr.has(sp.Integral) and not L.expr.has(Expectation)
    assert L.definition.has(Expectation)
    tex = L.latex()
    assert r"\sum" in tex
    # each coefficient is a Faddeeva series one rewrite away
    moment = sorted(mehler[0].function.atoms(tanh_moment), key=sp.default_sort_key)[0]
    concrete = [moment.subs(n, j).subs({Q1: 1, Q2: 1}) for j in (2, 3)]
    assert any(t.rewrite(sp.Sum).has(faddeeva) for t in concrete)
    if law == "derivative_kernel":  # E[phi'] E[phi'] is a product of single pole series
        assert any(s.function.has(faddeeva) for s in L.expr.atoms(sp.Sum))


def test_kernel_derivation_names_the_mehler_expansion():
    steps = list(symfield.derive("kernel", "tanh").derivation)
    assert any("Mehler" in s.rule and "Faddeeva" in s.rule for s in steps)
    assert any("Price" in s.justification for s in steps)


# ------------------------------------------------------------------------------------------
# The Mehler coefficients: Price's theorem at rho = 0, Parseval at c = 1
# ------------------------------------------------------------------------------------------
def test_mehler_coefficients_are_the_rho_derivatives_at_zero():
    """d^n/drho^n E[tanh(u1) tanh(u2)] at rho = 0 is E[tanh^(n)(u1)] E[tanh^(n)(u2)] (Price):
    the summand times n!/rho^n, against quadrature of the hand-differentiated tanh."""
    L = symfield.derive("kernel", "tanh")
    (mehler,) = [s for s in L.expr.atoms(sp.Sum) if s.function.has(tanh_moment)]
    n = mehler.limits[0][0]
    yv = sp.Symbol("y")
    for order, (a, b) in [(1, ("1/2", "3")), (3, ("1/2", "3")), (5, ("2", "2"))]:
        coeff = (mehler.function * sp.factorial(n) / RHO**n).subs(n, order)
        coeff = coeff.subs({Q1: sp.Rational(a), Q2: sp.Rational(b)})
        got = sp.N(coeff, 30)
        d = sp.lambdify(yv, sp.diff(sp.tanh(yv), yv, order), modules="mpmath")

        def moment(v):
            with mp.workdps(45):
                v = mp.mpf(sp.Rational(v).p) / sp.Rational(v).q
                s = mp.sqrt(v)
                g = lambda z: d(s * z) * mp.exp(-z * z / 2)  # noqa: E731
                pts = [0] + [k / s for k in (0.5, 1, 2, 4)] + [1, 2, 4, 8, 14, mp.inf]
                return 2 * mp.quad(g, sorted(set(pts))) / mp.sqrt(2 * mp.pi)

        with mp.workdps(45):
            ref = moment(a) * moment(b)
            assert relerr(mp.mpf(str(got)), ref) <= 1e-25, order
            assert relerr(mp.mpf(str(got)), ref * (1 + mp.mpf("1e-23"))) > 1e-25  # power


def test_derivative_kernel_coefficients_satisfy_parseval():
    """sum_n q^n/n! E[sech2^(n)]^2 over n >= 0 = E[sech^4] = chi1/sigma_w^2 at c = 1 (the
    series' value at c -> 1): partial sums never exceed it and approach it."""
    from symfield.gaussian.numerics.pole_moments import tanh_derivative_moments

    v = mp.mpf(1) / 4
    with mp.workdps(35):
        moments, _ = tanh_derivative_moments(61, v, 30)
        chi1 = symfield.derive("chi1", "tanh").evaluate(dps=30, q="1/4", sigma_w=1)
        partial = mp.mpf(0)
        for k in range(61):
            partial += v**k / mp.factorial(k) * moments[k + 1] ** 2
            assert partial <= chi1 * (1 + mp.mpf(10) ** -27)
        assert chi1 - partial <= mp.mpf("1e-15") * chi1


def test_series_route_refuses_at_c_equal_one_and_quadrature_takes_over():
    """The Mehler series is valid for |c| < 1 only: at c = 1 the series route raises
    SeriesNotConvergent (a PrecisionError, so a ValueError); the quadrature route (and 'auto')
    gives the degenerate pair, E[tanh(u)^2] = chi0 (G14)."""
    K = symfield.derive("kernel", "tanh")
    with pytest.raises(SeriesNotConvergent):
        K.evaluate(dps=20, method="series", q1=1, q2=1, rho=1)
    with pytest.raises(SeriesNotConvergent):
        K.evaluate(dps=20, method="series", q1=1, q2=1, rho="-1")
    quad = K.evaluate(dps=25, method="quadrature", q1=1, q2=1, rho=1)
    auto = K.evaluate(dps=25, q1=1, q2=1, rho=1)
    with mp.workdps(40):
        g14 = mp.mpf("0.394294490397841174416459772444")
    assert relerr(quad, g14) <= 1e-24 and auto == quad


def test_mehler_series_has_no_float64_path_but_the_law_does():
    L = symfield.derive("kernel", "tanh")
    (mehler,) = [s for s in L.expr.atoms(sp.Sum) if s.function.has(tanh_moment)]
    ms = MehlerSeries(mehler, [Q1, Q2, RHO])
    with pytest.raises((NotImplementedError, ValueError)):
        ms.np(1.0, 1.0, 0.5)
    f = L.to_numpy()  # 'auto': quadrature
    got = float(f(q1=1.0, q2=1.0, rho=0.5))
    with mp.workdps(40):
        assert relerr(got, mp.mpf(GOLDEN_PAIR["G18"])) <= 1e-12
