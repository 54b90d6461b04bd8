"""Exact references for what the rest of the suite once let through (issue 19 items 1, 4, 4b,
8b): bugs planted one at a time (a delta of negative slope signed wrongly, the curvature
creation coefficient 3 -> 2.5, a 1/(n-1) normalisation in the curvature measurement) must
fail a test here, and every value is compared with a reference computed independently —
by hand, from the literature formulas, or with mpmath directly — never with symfield's own
numerics at another precision.
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import symfield
from symfield.activations import x
from symfield.errors import InvalidValueError, PrecisionError
from symfield.gaussian import GaussianCalculus, expectation
from symfield.laboratory.networks.geometry import (great_circle, mean_product, mean_square,
                                                   metric_tensor,
                                                   normalized_curve_curvature_squared,
                                                   normalized_extrinsic_curvature_squared,
                                                   second_fundamental_mean_square)
from symfield.symbols import q

from support.compare import relerr
from support.laws import law_of
from support.oracles import activation_oracle, reference_law



# ------------------------------------------------------------------------------------------
# The delta rule for deltas of negative slope: E[delta(1 - x)] once came out negative
# ------------------------------------------------------------------------------------------
def _density(at, var):
    return sp.exp(-at**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)


NEGATIVE_SLOPE = [
    # (integrand, value by hand: the density at the root over |slope|, derivatives by parts)
    (sp.DiracDelta(1 - x), _density(1, q)),
    (sp.DiracDelta(3 - 2 * x), _density(sp.Rational(3, 2), q) / 2),
    (x**2 * sp.DiracDelta(-x - 1), _density(-1, q)),
    # int delta'(1 - x) p(x) dx: with u = 1 - x, delta'(u) p(1 - u) du -> -(d/du) p(1 - u) = p'(1)
    (sp.DiracDelta(1 - x, 1), sp.diff(_density(x, q), x).subs(x, 1)),
    (sp.DiracDelta(-2 * x, 1) * sp.exp(x),
     # int delta'(-2x) g(x) dx = -g'(0) / ((-2) |-2|) with g = e^x p(x)
     -sp.diff(sp.exp(x) * _density(x, q), x).subs(x, 0) / (-2 * 2)),
]


@pytest.mark.parametrize("integrand,expected", NEGATIVE_SLOPE, ids=[str(i) for i, _ in NEGATIVE_SLOPE])
def test_delta_rule_with_negative_slopes(integrand, expected):
    outcome = GaussianCalculus().expect(expectation(integrand, x, q))
    assert any(s.rule == "delta rule" for s in outcome.steps)
    for qv in (sp.Rational(1, 3), 2, 7):
        got, ref = (sp.N(e.subs(q, qv), 40) for e in (outcome.value, expected))
        assert abs(got - ref) <= 1e-35 * abs(ref), (integrand, qv, got, ref)


@pytest.mark.parametrize("slope", [-3, -1, 1, 2])
def test_plain_deltas_of_either_slope_are_positive(slope):
    """E[delta(slope x + 1)] = p(-1/slope)/|slope| > 0: a density, whatever the sign."""
    outcome = GaussianCalculus().expect(expectation(sp.DiracDelta(slope * x + 1), x, q))
    expected = _density(sp.Rational(-1, slope), q) / abs(slope)
    assert sp.simplify(outcome.value - expected) == 0
    assert sp.N(outcome.value.subs(q, 1)) > 0


def test_delta_rule_negative_slope_against_quadrature():
    """E[delta(1 - x)] as the limit of narrow Gaussians (independent of the rule)."""
    outcome = GaussianCalculus().expect(expectation(sp.DiracDelta(1 - x), x, q))
    with mp.workdps(30):
        qv, eps = mp.mpf(2), mp.mpf(10) ** -8
        nascent = mp.quad(lambda t: mp.exp(-(1 - t) ** 2 / (2 * eps**2)) / (eps * mp.sqrt(2 * mp.pi))
                          * mp.exp(-t**2 / (2 * qv)) / mp.sqrt(2 * mp.pi * qv),
                          [1 - 40 * eps, 1, 1 + 40 * eps])
    assert abs(sp.N(outcome.value.subs(q, 2), 30) - nascent) <= 1e-12 * nascent


# ------------------------------------------------------------------------------------------
# Curvature creation: the coefficient 3 (Isserlis, E[y^4] = 3 E[y^2]^2), exactly
# ------------------------------------------------------------------------------------------
def _erf_chis(qv, sw):
    """chi1, chi2 for erf by hand (engineering notes 1.3)."""
    chi1 = 4 * sw**2 / (mp.pi * mp.sqrt(1 + 4 * qv))
    chi2 = 16 * qv * sw**2 / (mp.pi * (1 + 4 * qv) ** mp.mpf(1.5))
    return chi1, chi2


@pytest.mark.parametrize("qv,sw,k2", [("0.3", "1.7", "0"), ("2", "0.9", "1.5"), ("1/7", "3", "0.25")])
def test_curvature_maps_equal_poole_with_coefficient_three(qv, sw, k2):
    with mp.workdps(50):
        Q, W, K = (mp.mpf(sp.Rational(v)) for v in (qv, sw, k2))
        chi1, chi2 = _erf_chis(Q, W)
        poole = 3 * chi2 / chi1**2 + K / chi1              # Poole et al. 2016, eq. for kbar^2
        directions = {0: chi2 / chi1**2 + K / chi1, 1: 3 * chi2 / chi1**2 + K / chi1}
        post = {d: (1 + 2 * d) * W**2 * chi2 / chi1**2 + K / chi1 for d in (0, 1)}
        fixed_point = 3 * chi2 / (chi1 * (chi1 - 1))  # at 50 digits, like the others
    values = dict(q=qv, sigma_w=sw, kappa2=k2)
    got = law_of("curvature_map", "erf").evaluate(dps=45, **values)
    assert relerr(got, poole) <= mp.mpf(10) ** -44
    for d in (0, 1):
        got = law_of("curvature_map_directions", "erf").evaluate(dps=45, delta_ab=d, **values)
        assert relerr(got, directions[d]) <= mp.mpf(10) ** -44
        got = law_of("curvature_map_post", "erf").evaluate(dps=45, delta_ab=d, **values)
        assert relerr(got, post[d]) <= mp.mpf(10) ** -44
    if chi1 > 1:
        fixed = law_of("curvature_fixed_point", "erf").evaluate(dps=45, q=qv, sigma_w=sw)
        assert relerr(fixed, fixed_point) <= mp.mpf(10) ** -44


def test_curvature_map_for_tanh_against_independent_quadrature():
    """The same coefficient for a law without a closed form: chi1 and chi2 by mpmath.quad."""
    oracle = activation_oracle("tanh")
    with mp.workdps(40):
        chi1 = reference_law("chi1", oracle, {"q": "1/2", "sigma_w": "2"}, dps=40)
        chi2 = reference_law("chi2", oracle, {"q": "1/2", "sigma_w": "2"}, dps=40)
        expected = 3 * chi2 / chi1**2 + mp.mpf("0.4") / chi1
    got = law_of("curvature_map", "tanh").evaluate(dps=30, q="1/2", sigma_w=2, kappa2="0.4")
    assert relerr(got, expected) <= mp.mpf(10) ** -29


# ------------------------------------------------------------------------------------------
# The curvature measurement's normalisations (1/n, never 1/(n - 1)), on tiny exact examples
# ------------------------------------------------------------------------------------------
def test_layer_statistics_divide_by_n():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([2.0, 0.0, -1.0, 1.0])
    assert mean_square(v) == 30.0 / 4
    assert mean_product(v, w) == (2 + 0 - 3 + 4) / 4
    T = np.array([[1.0, 0.0], [1.0, 2.0], [0.0, 1.0]])       # n = 3, k = 2
    np.testing.assert_array_equal(metric_tensor(T), np.array([[2.0, 2.0], [2.0, 5.0]]) / 3)


def test_second_fundamental_form_divides_by_n():
    """Tangents e1, e2 along the first two axes of R^4; H has normal parts along axes 3, 4."""
    T = np.zeros((4, 2))
    T[0, 0], T[1, 1] = 1.0, 1.0
    H = np.zeros((4, 2, 2))
    H[:, 0, 0] = [5.0, 0.0, 3.0, 0.0]     # normal part (0, 0, 3, 0): |.|^2 = 9
    H[:, 0, 1] = H[:, 1, 0] = [0.0, 7.0, 1.0, 2.0]    # normal part (0, 0, 1, 2): 5
    H[:, 1, 1] = [0.0, 0.0, 0.0, 4.0]     # 16
    expected = np.array([[9.0, 5.0], [5.0, 16.0]]) / 4
    np.testing.assert_allclose(second_fundamental_mean_square(T, H), expected, rtol=1e-15)
    # kbar_ab^2 = h_ab / (g_aa g_bb) with g = diag(1/4): = 16 h_ab = 4 |H_perp|^2
    np.testing.assert_allclose(normalized_extrinsic_curvature_squared(T, H),
                               4 * np.array([[9.0, 5.0], [5.0, 16.0]]), rtol=1e-15)


@pytest.mark.parametrize("n0", [3, 4, 7])
def test_great_circle_curvature_is_one_over_q_at_small_width(n0):
    """A circle of radius sqrt(n0 q) has kbar^2 = n0 / r^2 = 1/q: at n0 = 3 a 1/(n - 1) in
    any normalisation would be off by 50 %."""
    rng = np.random.default_rng(n0)
    q0 = 0.7
    _pos, velocity, acceleration = great_circle(0.4, rng.standard_normal(n0),
                                                rng.standard_normal(n0), np.sqrt(n0 * q0))
    assert normalized_curve_curvature_squared(velocity, acceleration) == pytest.approx(1 / q0, rel=1e-12)
    extrinsic = normalized_extrinsic_curvature_squared(velocity[:, None], acceleration[:, None, None])
    assert extrinsic[0, 0] == pytest.approx(1 / q0, rel=1e-12)


# ------------------------------------------------------------------------------------------
# Item 1: cancellation near c = -1 (no digit was right from c = -(1 - 1e-24) on)
# ------------------------------------------------------------------------------------------
def _cho_saul(c):
    """E[relu(u1) relu(u2)] / sqrt(q1 q2) by hand in theta near pi (at the current precision):
    (sin(phi) - phi cos(phi)) / (2 pi) with phi = pi - arccos(c), phi from 1 + c directly."""
    phi = 2 * mp.asin(mp.sqrt((1 + c) / 2))
    return (mp.sin(phi) - phi * mp.cos(phi)) / (2 * mp.pi)


@pytest.mark.parametrize("k", [10, 24, 30, 60, 200])
@pytest.mark.parametrize("dps", [15, 30, 50])
def test_relu_kernel_and_maps_near_minus_one(k, dps):
    gap = sp.Rational(1, 10**k)
    rho = -(1 - gap)
    with mp.workdps(3 * k + 100):
        c = mp.mpf(rho.p) / rho.q
        ref = _cho_saul(c)
    got = law_of("kernel", "relu").evaluate(dps=dps, q1=1, q2=1, rho=rho)
    assert relerr(got, ref) <= mp.mpf(10) ** (1 - dps), (k, dps, got, ref)
    got = law_of("overlap_map", "relu").evaluate(dps=dps, C=rho, A=1, sigma_w=1, sigma_b=0)
    assert relerr(got, ref) <= mp.mpf(10) ** (1 - dps)
    with mp.workdps(3 * k + 100):
        expected = ref / (mp.mpf(1) / 2)                   # c-map at sigma_b = 0: K / chi0
    got = law_of("correlation_map", "relu").evaluate(dps=dps, c=rho, q=1, sigma_w=1, sigma_b=0)
    assert relerr(got, expected) <= mp.mpf(10) ** (1 - dps)


def test_issue_value_at_thirty_digits():
    got = law_of("kernel", "relu").evaluate(dps=30, q1=1, q2=1,
                                            rho="-0.999999999999999999999999999999")
    assert mp.nstr(got, 30) == "1.50052719359517678259199865168e-46"


def test_exact_zeros_are_structural():
    """Odd expectations and the distance at D = 0 are exactly 0 (no absolute tolerance):
    with inputs that are not small fractions too."""
    a = mp.mpf(0.3)                               # a float's binary value: a long fraction
    for act in ("relu", "erf", "tanh"):
        assert law_of("distance_map", act).evaluate(D=0, A=a, sigma_w="1.2", sigma_b="0.1") == 0
    for act in ("erf", "tanh", "linear"):
        assert law_of("kernel", act).evaluate(q1=a, q2=2, rho=0) == 0
        assert law_of("covariance_map", act).evaluate(q1=a, q2=2, rho=0, sigma_w=1, sigma_b=0) == 0


# ------------------------------------------------------------------------------------------
# Item 4b
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["relu", "abs", "leaky_relu"])
def test_divergent_curvature_fixed_point_is_plus_infinity(act):
    """chi1 > 1 (chaotic) and chi2 = +oo: +oo, signed at the point (SymPy cannot sign
    sigma_w^2/2 - 1 for a symbolic sigma_w)."""
    assert law_of("curvature_fixed_point", act).evaluate(q=1, sigma_w=3) == mp.inf
    assert np.all(law_of("curvature_fixed_point", act).to_numpy()(q=1.0, sigma_w=[3.0, 5.0]) == np.inf)


def test_curvature_fixed_point_to_numpy_refuses_the_ordered_phase():
    f = law_of("curvature_fixed_point", "sigmoid").to_numpy()
    with pytest.raises(InvalidValueError, match="chi1 > 1"):
        f(q=1.0, sigma_w=np.array([3.0, 5.0]))
    with pytest.raises(InvalidValueError, match="chi1 > 1"):
        law_of("curvature_fixed_point", "sigmoid").evaluate(q=1, sigma_w=3)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "abs", "sigmoid", "erf", "tanh"])
def test_float64_distance_map_at_tiny_distance(act):
    """2 (chi0 - K) cancelled to 1e-3 (relu) ... 7e-7 (tanh) at D = 1e-10 once."""
    law = law_of("distance_map", act)
    got = float(law.to_numpy()(D=1e-10, A=1.0, sigma_w=1.3, sigma_b=0.2))
    ref = law.evaluate(dps=20, D=1e-10, A=1, sigma_w=1.3, sigma_b=0.2)
    assert relerr(got, ref) <= 1e-13


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_length_map_slope_sign_at_huge_variance(act):
    law = law_of("length_map_slope", act)
    got = float(law.to_numpy()(q=1e30, sigma_w=1.0))
    ref = law.evaluate(dps=20, q="1e30", sigma_w=1)
    assert ref > 0 and relerr(got, ref) <= 1e-13


def test_dps_up_to_one_thousand_for_closed_forms():
    with mp.workdps(1020):
        qv = mp.mpf(7) / 10
        ref = 2 / mp.pi * mp.asin(2 * qv / (1 + 2 * qv))    # Williams' chi0, by hand
    got = law_of("chi0", "erf").evaluate(dps=1000, q="0.7")
    with mp.workdps(1020):
        assert relerr(got, ref) <= mp.mpf(10) ** -999
    with pytest.raises(InvalidValueError, match="1000"):
        law_of("chi0", "erf").evaluate(dps=1001, q=1)


def test_two_dimensional_quadrature_refuses_a_thousand_digits_at_once():
    """Bounded work: the route's cap is checked before any quadrature runs."""
    law = law_of("kernel", "tanh")
    with pytest.raises(PrecisionError, match="working precision"):
        law.evaluate(dps=1000, q1=1, q2=1, rho="0.5")


def test_tanh_kernel_at_large_variances_is_right():
    """q1 = 1000, q2 = 500, c = -0.7 took minutes; the value against an independent nested
    mpmath.quad (in the conditional form, split at the kinks of tanh's saturation)."""
    rho = -mp.mpf("0.7") * mp.sqrt(500000)
    got = law_of("kernel", "tanh").evaluate(dps=20, q1=1000, q2=500, rho=rho)
    with mp.workdps(30):
        q1, q2, r = mp.mpf(1000), mp.mpf(500), rho
        slope, s = r / q1, mp.sqrt(q2 - r * r / q1)

        def inner(u1):
            mu = slope * u1
            g = lambda y: mp.tanh(y) * mp.exp(-(y - mu) ** 2 / (2 * s * s))  # noqa: E731
            pts = sorted({mp.mpf(-30), mp.mpf(0), mp.mpf(30), mu - 12 * s, mu + 12 * s})
            return mp.quad(g, pts) / (s * mp.sqrt(2 * mp.pi))

        outer = lambda u1: mp.tanh(u1) * inner(u1) * mp.exp(-u1 * u1 / (2 * q1))  # noqa: E731
        # jointly even integrand: twice the half line
        ref = 2 * mp.quad(outer, [0, 1, 4, 30, 12 * mp.sqrt(q1)]) / mp.sqrt(2 * mp.pi * q1)
    assert relerr(got, ref) <= mp.mpf(10) ** -19


# ------------------------------------------------------------------------------------------
# Item 8b: to_numpy checks its inputs like evaluate
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("law,values,name", [
    ("chi0", dict(q=-1.0), "q"),
    ("chi1", dict(q=float("nan"), sigma_w=1.5), "q"),
    ("chi1", dict(q=None, sigma_w=1.5), "q"),
    ("chi1", dict(q=[1.0, "x"], sigma_w=1.5), "q"),
    ("chi1", dict(q=1.0, sigma_w=0.0), "sigma_w"),
    ("length_map", dict(q=1.0, sigma_w=1.0, sigma_b=-0.1), "sigma_b"),
    ("kernel", dict(q1=[1.0, 1.0], q2=1.0, rho=[0.5, 1.5]), "rho"),
    ("correlation_map", dict(c=[0.2, -1.01], q=1.0, sigma_w=1.0, sigma_b=0.0), "c"),
    ("distance_map", dict(D=5.0, A=1.0, sigma_w=1.0, sigma_b=0.0), "D"),
    ("domino", dict(q=1.0, sigma_w=1.0, L=2.5), "L"),
])
def test_to_numpy_refuses_what_evaluate_refuses(law, values, name):
    with pytest.raises(InvalidValueError) as info:
        law_of(law, "relu").to_numpy()(**values)
    message = str(info.value)
    assert name in message and "\n" not in message
    if isinstance(values.get(name), list) and all(isinstance(v, float) for v in values[name]):
        assert "entry 1" in message            # the first bad entry of an array is named


def test_to_numpy_accepts_rounding_over_a_closed_edge():
    """rho = c sqrt(q1 q2) with c = 1 may round a few ulps past the edge: that is the edge."""
    f = law_of("kernel", "relu").to_numpy()
    edge = np.sqrt(0.3 * 7.0)
    got = f(q1=0.3, q2=7.0, rho=edge * (1 + 4e-16))
    assert abs(float(got) - edge / 2) <= 1e-15 * edge


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "erf", "relu"])
def test_q_zero_is_the_degenerate_gaussian(act):
    """chi0(0) = phi(0)^2, chi1(0) = sigma_w^2 lim phi'(0)^2 (relu: the mean of the one-sided
    limits, 1/2), never NaN, and the same in evaluate and to_numpy."""
    with mp.workdps(40):   # the references to 40 digits, compared at 40 (30 are claimed)
        phi0 = {"tanh": 0, "sigmoid": mp.mpf(1) / 4, "erf": 0, "relu": 0}[act]
        dphi0 = {"tanh": 1, "sigmoid": mp.mpf(1) / 16, "erf": 4 / mp.pi,
                 "relu": mp.mpf(1) / 2}[act]
        chi0 = law_of("chi0", act).evaluate(q=0)
        assert (chi0 == 0 if phi0 == 0
                else relerr(chi0, phi0, min_dps=40, keep_digits=True) <= 1e-29), chi0
        assert relerr(law_of("chi1", act).evaluate(q=0, sigma_w=2), 4 * dphi0, min_dps=40,
                      keep_digits=True) <= 1e-29
    assert float(law_of("chi0", act).to_numpy()(q=0.0)) == pytest.approx(float(phi0), abs=1e-300)
    assert float(law_of("chi1", act).to_numpy()(q=0.0, sigma_w=2.0)) == pytest.approx(
        float(4 * dphi0), rel=1e-15)


def test_chi2_erf_does_not_underflow_at_huge_q():
    got = float(law_of("chi2", "erf").to_numpy()(q=1e300, sigma_w=1.5))
    with mp.workdps(30):
        qv = mp.mpf(10) ** 300
        ref = 16 * qv * mp.mpf("2.25") / (mp.pi * (4 * qv + 1) ** mp.mpf(1.5))
    assert relerr(got, ref) <= 1e-14


# ------------------------------------------------------------------------------------------
# Item 3: a user-typed hard tanh gave chi1 as a "closed" NaN with a false divergence message
# ------------------------------------------------------------------------------------------
def test_user_typed_hard_tanh_chi1_is_the_probability_of_the_linear_part():
    """chi1 = sigma_w^2 P(|u| < 1), u ~ N(0, q), by hand (erf(1/sqrt(2q))); sigma_w^2 at q = 0."""
    law = symfield.derive("chi1", symfield.activation("Max(-1, Min(1, x))"))
    assert not law.divergent and law.divergence is None
    for qv in ("1/4", "1", "9"):
        with mp.workdps(40):
            ref = mp.mpf("2.25") * mp.erf(1 / mp.sqrt(2 * mp.mpf(sp.Rational(qv))))
        assert relerr(law.evaluate(dps=30, q=qv, sigma_w="1.5"), ref) <= mp.mpf(10) ** -29
        got = float(law.to_numpy()(q=float(sp.Rational(qv)), sigma_w=1.5))
        assert relerr(got, ref) <= 1e-14
    assert float(law.to_numpy()(q=0.0, sigma_w=1.5)) == 2.25
    assert law.evaluate(q=0, sigma_w="1.5") == mp.mpf("2.25")
