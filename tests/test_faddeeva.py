"""The Faddeeva function and the pole building blocks (theory.md 10.3; issue "tanh in exact form").

Checked here, against references written in this file (``mpmath.quad`` of hand-written
integrands, never symfield's numerics):

* ``faddeeva`` / ``faddeeva_mp`` / ``faddeeva_np``: the integral representation
  w(z) = (i/pi) int exp(-t^2)/(z - t) dt (Im z > 0) and, on the imaginary axis,
  w(iy) = erfcx(y) = (2/sqrt(pi)) int_0^oo exp(-t^2 - 2yt) dt (relative accuracy up to y = 1e6);
  the SymPy side (fdiff w' = -2zw + 2i/sqrt(pi) checked symbolically against the erfc rewrite,
  conjugation, realness on the positive imaginary axis, evalf, LaTeX ``w\\left(z\\right)``);
* the Mittag-Leffler / Faddeeva building block: E[1/(y - a)] = i sqrt(pi/(2v)) w(a/sqrt(2v)) and
  its a-derivative E[1/(y - a)^2] for a in the upper half plane, and the pole expansions
  sech^2(y) = -sum_k (y - i pi (k + 1/2))^-2, tanh(y) = sum_k 2y/(y^2 + pi^2 (k + 1/2)^2);
* ``tanh_moment`` and ``tanh_derivative_moments``: E[tanh^(n)(y)] against quadrature of
  d^n tanh/dy^n (n <= 7, Hypothesis over v), parity, the Faddeeva-series rewrite, Parseval
  sum_n v^n/n! T(n, v)^2 -> E[tanh(y)^2] (Bessel's inequality on the way), and the derivatives
  of erfcx that feed them (``erfcx_derivatives``) against their integral representation.

Every numerical comparison has a power check: the same comparison with a reference perturbed
by a small relative amount must fail.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import mpmath as mp
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from symfield.gaussian.faddeeva import (
    MP_FUNCTIONS, NP_FUNCTIONS, faddeeva, faddeeva_mp, faddeeva_np, tanh_moment,
)
from symfield.gaussian.numerics.pole_moments import erfcx_derivatives, tanh_derivative_moments

from support import compare

# every digit of the values kept: a 60-digit mpf compared at the default precision still counts
relerr = partial(compare.relerr, keep_digits=True)
assert_close_with_power = partial(compare.assert_close_with_power, keep_digits=True)

z = sp.Symbol("z")


# ------------------------------------------------------------------------------------------
# References (hand-written integrands, mpmath.quad)
# ------------------------------------------------------------------------------------------
def w_ref(zv, dps=45):
    """w(z) for Im z > 0 from w(z) = (i/pi) int_R exp(-t^2)/(z - t) dt, split at Re z."""
    with mp.workdps(dps):
        zv = mp.mpc(zv)
        x, y = zv.real, zv.imag
        assert y > 0
        pts = sorted({x - 4 * y, x - y, x, x + y, x + 4 * y, mp.mpf(-6), mp.mpf(0), mp.mpf(6)})
        pts = [p for p in pts if -12 < p < 12]
        val = mp.quad(lambda t: mp.exp(-t * t) / (zv - t), [-mp.inf] + pts + [mp.inf])
        return 1j / mp.pi * val


def erfcx_ref(y, dps=45):
    """w(iy) = erfcx(y) = (2/sqrt(pi)) int_0^oo exp(-t^2 - 2 y t) dt, split on the scale 1/y."""
    with mp.workdps(dps):
        y = mp.mpf(y)
        scale = min(1 / y, mp.mpf(1))
        pts = [0] + [scale * k for k in (0.25, 1, 4, 16, 64)] + [mp.inf]
        return 2 / mp.sqrt(mp.pi) * mp.quad(lambda t: mp.exp(-t * t - 2 * y * t), pts)


def gauss_y(f, v, dps, even=False, centre=None):
    """E[f(y)], y ~ N(0, v), by mpmath.quad in y, split at 0, at multiples of the Gaussian
    width and at |y| ~ 1 (the scale of tanh's poles) and, if given, at ``centre``."""
    with mp.workdps(dps):
        v = mp.mpf(v)
        s = mp.sqrt(v)
        cut = s * mp.sqrt(2 * (dps + 15) * mp.log(10)) + 2
        pts = {mp.mpf(0)} | {s * k for k in (0.5, 1, 2, 4, 8)} | {mp.mpf(k) for k in (0.5, 1, 2, 4)}
        if centre is not None:
            pts.add(mp.mpf(centre))
        pos = sorted(p for p in pts if 0 <= p < cut)
        if even:
            nodes = pos + [cut, mp.inf]
        else:
            neg = sorted({-p for p in pts if 0 < p < cut} | {p for p in pts if -cut < p < 0})
            nodes = [-mp.inf, -cut] + neg + pos + [cut, mp.inf]
        g = lambda y: f(y) * mp.exp(-y * y / (2 * v))  # noqa: E731
        val, err = mp.quad(g, nodes, error=True)
        val = (2 if even else 1) * val / mp.sqrt(2 * mp.pi * v)
        assert abs(err) < mp.mpf(10) ** (-(dps - 10)) * max(abs(val), 1), "reference quadrature"
        return val


def close(a, b, tol):
    return relerr(a, b) <= tol


def sp_to_mp(e):
    """A SymPy (complex) Float as an mpmath number, all digits kept."""
    re_part, im_part = e.as_real_imag()
    with mp.workdps(120):
        value = mp.mpc(mp.mpf(str(re_part)), mp.mpf(str(im_part)))
    return value.real if value.imag == 0 else value


def tanh_derivative_mp(n):
    """d^n tanh(y)/dy^n as an mpmath function (SymPy's own differentiation, not symfield's)."""
    y = sp.Symbol("y")
    return sp.lambdify(y, sp.diff(sp.tanh(y), y, n), modules="mpmath")


# ------------------------------------------------------------------------------------------
# w(z): values
# ------------------------------------------------------------------------------------------
uhp_points = st.tuples(st.floats(-4, 4), st.floats(0.05, 4))


@settings(max_examples=6)
@given(uhp_points)
@example((0.0, 0.05))
@example((-3.9, 0.1))
@example((2.5, 4.0))
def test_faddeeva_matches_its_integral_representation(point):
    x, y = point
    zv = mp.mpc(x, y)  # exact binary values of the drawn floats
    with mp.workdps(40):
        ref = w_ref(zv, dps=40)
    with mp.workdps(30):
        got_mp = faddeeva_mp(zv)
    assert_close_with_power(got_mp, ref, 1e-27)
    got_sp = sp.N(faddeeva(sp.Float(x, 40) + sp.I * sp.Float(y, 40)), 30)
    assert_close_with_power(sp_to_mp(got_sp), ref, 1e-27)
    got_np = complex(faddeeva_np(np.array([complex(x, y)]))[0])
    assert close(got_np, ref, 1e-13)


@pytest.mark.parametrize("y", ["1e-6", "0.01", "0.7", "3", "27.5", "1e3", "1e6"])
def test_faddeeva_on_the_imaginary_axis_is_erfcx_with_relative_accuracy(y):
    ref = erfcx_ref(y, dps=50)
    with mp.workdps(30):
        got = faddeeva_mp(mp.mpc(0, mp.mpf(y)))
    assert isinstance(got, mp.mpf) or got.imag == 0, "w(iy) must come out real"
    assert_close_with_power(got, ref, 1e-28)
    got_sp = sp.N(faddeeva(sp.I * sp.Rational(y)), 30)
    assert got_sp.is_real
    assert_close_with_power(sp_to_mp(got_sp), ref, 1e-27)
    got_np = faddeeva_np(1j * np.array([float(y)]))
    assert close(complex(got_np[0]).real, ref, 2e-15) and complex(got_np[0]).imag == 0


def test_faddeeva_np_vectorised_matches_mpmath_on_and_off_the_axis():
    ys = np.logspace(-3, 5, 17)
    on_axis = faddeeva_np(1j * ys)
    off_axis = faddeeva_np(np.concatenate([1j * ys, [0.5 + 0.5j, -2 + 0.01j]]))
    for i, y in enumerate(ys):
        with mp.workdps(30):
            ref = faddeeva_mp(mp.mpc(0, y))
        assert close(on_axis[i].real, ref, 1e-14) and on_axis[i].imag == 0
        assert close(off_axis[i].real, ref, 1e-13)
    with mp.workdps(30):
        assert close(complex(off_axis[-1]), faddeeva_mp(mp.mpc(-2, 0.01)), 1e-13)
        assert close(complex(off_axis[-2]), faddeeva_mp(mp.mpc(0.5, 0.5)), 1e-13)


def test_lambdify_modules_evaluate_faddeeva():
    f_mp = sp.lambdify(z, faddeeva(z) * z, modules=[MP_FUNCTIONS, "mpmath"])
    f_np = sp.lambdify(z, faddeeva(z) * z, modules=[NP_FUNCTIONS, "numpy"])
    with mp.workdps(30):
        ref = w_ref(mp.mpc(0.3, 0.8)) * mp.mpc(0.3, 0.8)
        assert close(f_mp(mp.mpc(0.3, 0.8)), ref, 1e-27)
    assert close(complex(f_np(np.array([0.3 + 0.8j]))[0]), ref, 1e-13)


# ------------------------------------------------------------------------------------------
# w(z): the SymPy function
# ------------------------------------------------------------------------------------------
def test_faddeeva_derivative_is_the_erfc_rewrite_derivative_symbolically():
    w = faddeeva(z)
    assert sp.simplify(sp.diff(w, z) - (-2 * z * w + 2 * sp.I / sp.sqrt(sp.pi))) == 0
    # the same derivative from the definition exp(-z^2) erfc(-iz): no numerics
    via_erfc = sp.diff(w.rewrite(sp.erfc), z)
    assert sp.simplify(via_erfc - sp.diff(w, z).rewrite(sp.erfc)) == 0
    assert w.rewrite(sp.erfc) == sp.exp(-z**2) * sp.erfc(-sp.I * z)
    # second derivative stays linear in w
    second = sp.expand(sp.diff(w, z, 2))
    assert sp.expand(second - (4 * z**2 - 2) * w + 4 * sp.I * z / sp.sqrt(sp.pi)) == 0


def test_faddeeva_derivative_numerically():
    with mp.workdps(30):
        z0 = mp.mpc("0.4", "0.9")
        numeric = mp.diff(faddeeva_mp, z0)
        formula = sp.N(sp.diff(faddeeva(z), z).subs(z, sp.Float("0.4", 40) + sp.I * sp.Float("0.9", 40)), 30)
        formula = sp_to_mp(formula)
        assert_close_with_power(formula, numeric, 1e-25)


def test_faddeeva_special_values_conjugation_and_realness():
    assert faddeeva(0) == 1
    assert isinstance(faddeeva(z), faddeeva)  # stays unevaluated
    yp = sp.Symbol("y", positive=True)
    assert faddeeva(sp.I * yp).is_extended_real is True
    assert faddeeva(sp.I * yp).is_finite is True
    assert faddeeva(z).is_extended_real is None
    assert faddeeva(-sp.I * yp).is_extended_real is not False  # w(-iy) = e^(y^2) erfc(-y), real
    assert sp.conjugate(faddeeva(z)) == faddeeva(-sp.conjugate(z))
    with mp.workdps(30):
        z0 = mp.mpc("0.7", "1.3")
        assert close(mp.conj(faddeeva_mp(z0)), faddeeva_mp(-mp.conj(z0)), 1e-28)
    # evalf on the imaginary axis: real, and equal to erfcx
    val = sp.N(faddeeva(2 * sp.I), 50)
    assert val.is_real
    assert_close_with_power(sp_to_mp(val), erfcx_ref(2, dps=60), 1e-48)


def test_faddeeva_latex():
    assert sp.latex(faddeeva(z)) == r"w\left(z\right)"
    assert sp.latex(faddeeva(z) ** 2) == r"w\left(z\right)^{2}"
    assert r"w\left(" in sp.latex(faddeeva(sp.I * sp.pi / (2 * sp.sqrt(2 * sp.Symbol("v")))))


# ------------------------------------------------------------------------------------------
# The building block: E[1/(y - a)] and E[1/(y - a)^2], y ~ N(0, v), Im a > 0
# ------------------------------------------------------------------------------------------
a_sym, v_sym = sp.symbols("a v")
#: theory of the issue: E[(y - a)^-1] = i sqrt(pi/(2v)) w(a/sqrt(2v))
FIRST = sp.I * sp.sqrt(sp.pi / (2 * v_sym)) * faddeeva(a_sym / sp.sqrt(2 * v_sym))
#: d/da E[(y - a)^-1] = E[(y - a)^-2]: differentiated by SymPy through fdiff
SECOND = sp.diff(FIRST, a_sym)


@settings(max_examples=3)
@given(st.tuples(st.floats(-3, 3), st.floats(0.2, 3)), st.floats(-2, 2))
@example((0.0, float(np.pi / 2)), 0.0)
@example((0.3, 0.2), -2.0)
@example((-2.0, 1.5), 2.0)
def test_pole_expectations_are_faddeeva_values(a_point, log10_v):
    a_re, a_im = a_point
    v = 10.0 ** log10_v
    a = mp.mpc(a_re, a_im)
    dps = 30
    with mp.workdps(dps + 10):
        ref1 = gauss_y(lambda y: 1 / (y - a), v, dps + 10, centre=a_re)
        ref2 = gauss_y(lambda y: 1 / (y - a) ** 2, v, dps + 10, centre=a_re)
    subs = {a_sym: sp.Float(a_re, 40) + sp.I * sp.Float(a_im, 40), v_sym: sp.Float(v, 40)}
    got1 = sp.N(FIRST.subs(subs), dps)
    got2 = sp.N(SECOND.subs(subs), dps)
    assert_close_with_power(sp_to_mp(got1), ref1, 1e-25)
    assert_close_with_power(sp_to_mp(got2), ref2, 1e-24)


def _sech2_by_poles(y):
    """-sum_{k in Z} (y - i pi (k + 1/2))^-2, conjugate poles (k, -k-1) paired."""
    def pair(k):
        a = 1j * mp.pi * (k + mp.mpf(1) / 2)
        return -(1 / (y - a) ** 2 + 1 / (y + a) ** 2)
    return mp.nsum(pair, [0, mp.inf])


def _tanh_by_poles(y):
    return mp.nsum(lambda k: 2 * y / (y * y + (mp.pi * (k + mp.mpf(1) / 2)) ** 2), [0, mp.inf])


@pytest.mark.parametrize("y", ["0.3", "2.5", "-7", "0.4+0.9j", "-1.1+0.2j"])
def test_mittag_leffler_expansions_of_sech2_and_tanh(y):
    with mp.workdps(30):
        yv = mp.mpmathify(y)
        assert_close_with_power(_sech2_by_poles(yv), 1 / mp.cosh(yv) ** 2, 1e-20)
        assert_close_with_power(_tanh_by_poles(yv), mp.tanh(yv), 1e-20)


# ------------------------------------------------------------------------------------------
# tanh_moment: T(n, v) = E[tanh^(n)(y)], y ~ N(0, v)
# ------------------------------------------------------------------------------------------
def test_tanh_moment_symbolic_behaviour():
    v = sp.Symbol("v", positive=True)
    for n in (0, 2, 4, 10):
        assert tanh_moment(n, v) == 0  # parity: even derivatives of tanh are odd functions
    assert isinstance(tanh_moment(3, v), tanh_moment)
    with pytest.raises(ValueError):
        tanh_moment(-1, v)
    tex = sp.latex(tanh_moment(3, v))
    assert r"\tanh^{(3)}" in tex and r"\mathcal{N}" in tex
    assert "tanh^(3)" in sp.sstr(tanh_moment(3, v))


@pytest.mark.parametrize("n", [1, 3])
def test_tanh_moment_rewrite_is_a_faddeeva_series_with_the_right_value(n):
    v = sp.Rational(1, 2)
    rewritten = tanh_moment(n, v).rewrite(sp.Sum)
    sums = list(rewritten.atoms(sp.Sum))
    assert len(sums) == 1 and sums[0].has(faddeeva) and not rewritten.has(sp.Integral)
    (k, lo, hi), = sums[0].limits
    assert (lo, hi) == (0, sp.oo)
    # sum the rewritten series term by term (mpmath's own series acceleration) and compare with
    # quadrature of d^n tanh
    summand = sp.lambdify(k, sums[0].function, modules=[MP_FUNCTIONS, "mpmath"])
    prefactor = rewritten / sums[0]
    with mp.workdps(30):
        total = mp.nsum(lambda kk: summand(kk), [0, mp.inf])
        value = sp_to_mp(sp.N(prefactor, 40)) * total.real
        ref = gauss_y(tanh_derivative_mp(n), v, 40, even=True)
    assert_close_with_power(value, ref, 1e-18)
    # general (symbolic) n gives a Sum over a Subs of a derivative
    nn = sp.Symbol("n", integer=True, positive=True)
    assert tanh_moment(nn, v).rewrite(sp.Sum).has(sp.Sum)


@pytest.mark.parametrize("n,v", [(1, "1"), (3, "0.01"), (5, "7"), (7, "1/3")])
def test_tanh_moment_evalf_against_quadrature(n, v):
    vv = sp.Rational(v)
    got = sp.N(tanh_moment(n, vv), 30)
    with mp.workdps(50):
        ref = gauss_y(tanh_derivative_mp(n), mp.mpf(vv.p) / vv.q, 50, even=True)
    assert_close_with_power(sp_to_mp(got), ref, 1e-27)


@settings(max_examples=3)
@given(st.floats(-3, 2))
@example(-3.0)
@example(2.0)
def test_tanh_derivative_moments_against_quadrature(log10_v):
    v = 10.0 ** log10_v  # exact binary value, used on both sides
    dps = 30
    with mp.workdps(dps + 5):
        moments, bound = tanh_derivative_moments(7, mp.mpf(v), dps)
    assert len(moments) == 8
    assert bound >= 0 and bound < mp.mpf(10) ** -dps
    for n in range(8):
        if n % 2 == 0:
            assert moments[n] == 0
            continue
        ref = gauss_y(tanh_derivative_mp(n), v, dps + 10, even=True)
        assert_close_with_power(moments[n], ref, 1e-26)


@pytest.mark.parametrize("v,n_max,gap", [("0.05", 40, 1e-27), ("0.25", 80, 1e-20), ("1", 80, 1e-10)])
def test_parseval_hermite_coefficients_of_tanh_sum_to_chi0(v, n_max, gap):
    """sum_n v^n/n! T(n, v)^2 = E[tanh(y)^2] (Parseval for tanh(sqrt(v) z) in Hermite
    polynomials): every partial sum is below (Bessel) and the last is within ``gap``."""
    dps = 30
    with mp.workdps(dps + 5):
        vv = mp.mpf(v)
        moments, _ = tanh_derivative_moments(n_max, vv, dps)
        chi0 = gauss_y(lambda y: mp.tanh(y) ** 2, vv, dps + 10, even=True)
        partial = mp.mpf(0)
        gaps = []
        for n in range(n_max + 1):
            partial += vv**n / mp.factorial(n) * moments[n] ** 2
            assert partial <= chi0 * (1 + mp.mpf(10) ** -(dps - 3)), f"Bessel violated at n={n}"
            gaps.append(chi0 - partial)
        assert gaps[-1] <= gap * chi0
        assert gaps[n_max // 2] > gaps[-1] or gaps[-1] <= mp.mpf(10) ** -(dps - 3)
        # power: a coefficient off by 1e-6 relative breaks the identity at this accuracy
        if gap <= 1e-20:
            wrong = partial + vv / mp.factorial(1) * moments[1] ** 2 * mp.mpf("2e-6")
            assert abs(chi0 - wrong) > gap * chi0


# ------------------------------------------------------------------------------------------
# Derivatives of erfcx (the Hermite coefficients' building block)
# ------------------------------------------------------------------------------------------
def erfcx_derivative_ref(n, y, dps=45):
    """erfcx^(n)(y) = (2/sqrt(pi)) (-2)^n int_0^oo s^n exp(-s^2 - 2ys) ds, split around the
    saddle s0 of the integrand."""
    with mp.workdps(dps):
        y = mp.mpf(y)
        s0 = (-y + mp.sqrt(y * y + 2 * n)) / 2 if n else 1 / (1 + y)
        pts = [0, s0 / 4, s0 / 2, s0, s0 + 1, s0 + 2, s0 + 4, 2 * s0 + 8, mp.inf]
        return 2 / mp.sqrt(mp.pi) * (-2) ** n * mp.quad(
            lambda s: s**n * mp.exp(-s * s - 2 * y * s), pts)


@pytest.mark.parametrize("y,n_max", [("0.5", 30), ("1", 40), ("5", 40), ("20", 20), ("40", 12)])
def test_erfcx_derivatives_against_integral_representation(y, n_max):
    dps = 30
    with mp.workdps(dps + 5):
        got = erfcx_derivatives(mp.mpf(y), n_max, dps)
    assert len(got) == n_max + 1
    for n in sorted({0, 1, 2, 3, n_max // 2, n_max - 1, n_max}):
        assert_close_with_power(got[n], erfcx_derivative_ref(n, y), 1e-27)


# Bugs found (see the report): for derivative orders comparable to Y (the asymptotic branch is
# entered when Y^2 > 4 (n_max + dps) + 20, but its series diverges from the first term once
# n^2 > 4 Y^2; the forward recurrence loses more digits than _forward_extra_digits adds).
def test_erfcx_derivatives_asymptotic_branch_for_high_orders():
    with mp.workdps(35):
        got = erfcx_derivatives(mp.mpf(20), 40, 30)
    assert close(got[40], erfcx_derivative_ref(40, 20), 1e-27)


def test_erfcx_derivatives_forward_recurrence_for_high_orders():
    with mp.workdps(35):
        got = erfcx_derivatives(mp.mpf(2), 100, 30)
    assert close(got[100], erfcx_derivative_ref(100, 2), 1e-27)


def test_tanh_moment_high_order_is_precision_independent():
    """A correct evaluation gives the same 30 digits at 30 and at 100 digits."""
    v = sp.Rational(1, 10)
    lo = sp.N(tanh_moment(201, v), 30)
    hi = sp.N(tanh_moment(201, v), 50)
    assert close(sp_to_mp(lo), sp_to_mp(hi), 1e-27)


def test_bessel_inequality_holds_for_high_order_coefficients():
    dps = 30
    with mp.workdps(dps + 5):
        v = mp.mpf(1)
        moments, _ = tanh_derivative_moments(512, v, dps)
        chi0 = gauss_y(lambda y: mp.tanh(y) ** 2, v, dps + 10, even=True)
        partial = mp.mpf(0)
        for n in range(513):
            partial += v**n / mp.factorial(n) * moments[n] ** 2
            assert partial <= chi0 * (1 + mp.mpf(10) ** -(dps - 3)), f"Bessel violated at n={n}"
