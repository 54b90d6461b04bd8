"""Fixed points, stability, depth scales and phases against independent computations.

The references here never call symfield's numerics: one-dimensional Gaussian integrals are
``mpmath.quad`` of hand-written integrands, fixed points are ``mpmath.findroot``, the
two-dimensional tanh kernels are a hand-written product trapezoid rule (sinh-mapped, its
convergence checked by refining the step), and erf/ReLU use the literature closed forms
(Williams 1997, Cho & Saul 2009; theory.md section 10). Settings are the published ones
(theory.md section 15): tanh with sigma_b = 0.3 and sigma_w in {1.3, 2.5, 4.0}, erf with
sigma_w^2 = 2, sigma_b = 0 and sigma_w^2 = 3, sigma_b^2 = 1/4, ReLU with sigma_w^2 = 1.5,
sigma_b^2 = 0.1. Results must agree to >= 25 significant digits at dps = 30 (here: 27).
"""
from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, strategies as st

import symfield
from symfield.dynamics import fixed_point, fixed_points_float64

from support.oracles import tanh_expect

REF_DPS = 40
AGREE = 27  # significant digits required of dps = 30 results


def mpq(x):
    """An exact rational (Fraction or int) as an mpmath number at the current precision."""
    x = Fraction(x)
    return mp.mpf(x.numerator) / x.denominator


def agree(ours, ref, digits=AGREE):
    """ours and ref agree to ``digits`` significant digits (absolute floor for zero)."""
    with mp.workdps(REF_DPS + 10):
        ours, ref = mp.mpf(ours), mp.mpf(ref)
        scale = max(abs(ref), mp.mpf(10) ** -3)
        return abs(ours - ref) <= mp.mpf(10) ** (-digits) * scale


# ------------------------------------------------------------------------------------------
# independent references: tanh
# ------------------------------------------------------------------------------------------
def sech2(x):
    return 1 / mp.cosh(x) ** 2


TANH_1D = {
    "chi0": lambda x: mp.tanh(x) ** 2,
    "dphi2": lambda x: sech2(x) ** 2,
    "d2phi2": lambda x: 4 * mp.tanh(x) ** 2 * sech2(x) ** 2,
    "phi_d2phi": lambda x: -2 * mp.tanh(x) ** 2 * sech2(x),
}


def tanh_reference_1d(sw2, sb2):
    """q*, chi1, chi2, V'(q*) for tanh by quad + findroot."""
    with mp.workdps(REF_DPS):
        sw2, sb2 = mpq(sw2), mpq(sb2)
        q_star = mp.findroot(lambda q: sw2 * tanh_expect(TANH_1D["chi0"], q) + sb2 - q,
                             (sb2 + mp.mpf("0.01"), sb2 + sw2), solver="anderson")
        e = {k: tanh_expect(f, q_star) for k, f in TANH_1D.items() if k != "chi0"}
        return {"q_star": q_star, "chi1": sw2 * e["dphi2"], "chi2": sw2 * e["d2phi2"],
                "length_slope": sw2 * (e["dphi2"] + e["phi_d2phi"])}


def pair_expect(f1, f2, q, c, dps, refine=1.0):
    """E[f1(u1) f2(u2)], u1 = sqrt(q) z1, u2 = sqrt(q)(c z1 + sqrt(1-c^2) z2): product
    trapezoid rule in t with z = sinh(t). tanh's poles sit at distance pi/(2 sqrt(q)) from the
    real axis (in z), which sets the step for ``dps`` digits."""
    with mp.workdps(dps + 5):
        q, c = mp.mpf(q), mp.mpf(c)
        r, s = mp.sqrt(q), mp.sqrt(1 - c * c)
        d = mp.pi / (2 * r * max(1, s, abs(c)))
        h = 2 * mp.pi * d / (mp.log(10) * (dps + 6)) / refine
        t_max = mp.asinh(mp.sqrt(2 * (dps + 6) * mp.log(10)) + 2)
        n = int(mp.ceil(t_max / h))
        nodes = [mp.sinh(k * h) for k in range(-n, n + 1)]
        weights = [mp.cosh(k * h) * mp.npdf(z) * h for k, z in zip(range(-n, n + 1), nodes)]
        outer = [w * f1(r * z) for w, z in zip(weights, nodes)]
        total = mp.mpf(0)
        for a, z1 in zip(outer, nodes):
            if a == 0:
                continue
            shift = c * z1
            total += a * mp.fsum(w * f2(r * (shift + s * z2)) for w, z2 in zip(weights, nodes))
        return total


def tanh_reference_2d(sw2, sb2, q_star, c_ours):
    """Residual of the c-map at our c*, chi_c there, and the corrected independent c*."""
    dps = 32
    with mp.workdps(dps + 5):
        sw2, sb2 = mpq(sw2), mpq(sb2)
        kern = pair_expect(mp.tanh, mp.tanh, q_star, c_ours, dps)
        kern_fine = pair_expect(mp.tanh, mp.tanh, q_star, c_ours, dps, refine=1.25)
        assert abs(kern - kern_fine) < mp.mpf(10) ** -31  # the rule has converged
        slope = sw2 * pair_expect(sech2, sech2, q_star, c_ours, dps)
        residual = (sw2 * kern + sb2) / q_star - c_ours
        return {"residual": residual, "chi_c": slope,
                "c_star": c_ours - residual / (slope - 1)}


@pytest.fixture(scope="module")
def tanh_reports():
    return {w: fixed_point("tanh", sigma_w=w, sigma_b="0.3", dps=30)
            for w in ("1.3", "2.5", "4.0")}


@pytest.mark.parametrize("sigma_w", ["1.3", "2.5", "4.0"])
def test_tanh_published_single_input(tanh_reports, sigma_w):
    r = tanh_reports[sigma_w]
    ref = tanh_reference_1d(Fraction(sigma_w) ** 2, Fraction(9, 100))
    for key in ("q_star", "chi1", "chi2", "length_slope"):
        assert agree(getattr(r, key), ref[key]), (key, r.value(key), ref[key])
        assert r.digits[key] >= AGREE
    with mp.workdps(REF_DPS):
        sw2 = mpq(Fraction(sigma_w) ** 2)
        assert agree(r.A_star, (ref["q_star"] - mpq(Fraction(9, 100))) / sw2)
        assert agree(r.xi_q, -1 / mp.log(ref["length_slope"]))
        assert agree(r.xi_grad, -1 / mp.log(ref["chi1"]))
        if ref["chi1"] > 1:
            assert agree(r.kappa2_star, 3 * ref["chi2"] / (ref["chi1"] * (ref["chi1"] - 1)))
        else:
            assert r.kappa2_star is None
    assert r.phase == ("ordered" if sigma_w == "1.3" else "chaotic")


def test_tanh_published_ordered_correlations(tanh_reports):
    r = tanh_reports["1.3"]
    assert r.c_star == 1 and r.chi_c == r.chi1 and r.D_star == 0
    with mp.workdps(REF_DPS):
        assert agree(r.xi_c, -1 / mp.log(r.chi1))


@pytest.mark.parametrize("sigma_w", ["2.5", pytest.param("4.0", marks=pytest.mark.slow)])
def test_tanh_published_chaotic_correlations(tanh_reports, sigma_w):
    r = tanh_reports[sigma_w]
    ref_1d = tanh_reference_1d(Fraction(sigma_w) ** 2, Fraction(9, 100))
    ref = tanh_reference_2d(Fraction(sigma_w) ** 2, Fraction(9, 100), ref_1d["q_star"],
                            r.c_star)
    assert abs(ref["residual"]) < mp.mpf(10) ** -AGREE
    assert agree(r.c_star, ref["c_star"])
    assert agree(r.chi_c, ref["chi_c"])
    with mp.workdps(REF_DPS):
        assert agree(r.xi_c, -1 / mp.log(ref["chi_c"]))
        d_star = 2 * ref_1d["q_star"] * (1 - ref["c_star"]) / mpq(Fraction(sigma_w) ** 2)
        assert agree(r.D_star, d_star)
    assert min(r.digits.values()) >= AGREE


# ------------------------------------------------------------------------------------------
# erf: Williams' closed forms
# ------------------------------------------------------------------------------------------
def erf_reference(sw2, sb2):
    with mp.workdps(REF_DPS):
        sw2, sb2 = mpq(sw2), mpq(sb2)
        chi0 = lambda q: 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q))  # noqa: E731
        q_star = mp.findroot(lambda q: sw2 * chi0(q) + sb2 - q, mp.mpf(1))
        kern = lambda rho: 2 / mp.pi * mp.asin(2 * rho / (1 + 2 * q_star))  # noqa: E731
        dot = lambda rho: 4 / mp.pi / mp.sqrt((1 + 2 * q_star) ** 2 - 4 * rho**2)  # noqa: E731
        if sb2 == 0:
            c_star = mp.mpf(0)
        else:
            c_star = mp.findroot(lambda c: (sw2 * kern(q_star * c) + sb2) / q_star - c,
                                 mp.mpf("0.5"))
        chi1 = sw2 * 4 / (mp.pi * mp.sqrt(1 + 4 * q_star))
        chi2 = sw2 * 16 * q_star / (mp.pi * (1 + 4 * q_star) ** 1.5)
        slope = sw2 * (4 / (mp.pi * mp.sqrt(1 + 4 * q_star))
                       - 8 * q_star / (mp.pi * (1 + 2 * q_star) * mp.sqrt(1 + 4 * q_star)))
        chi_c = sw2 * dot(q_star * c_star)
        return {"q_star": q_star, "A_star": (q_star - sb2) / sw2, "chi1": chi1, "chi2": chi2,
                "length_slope": slope, "c_star": c_star, "chi_c": chi_c,
                "xi_q": -1 / mp.log(slope), "xi_c": -1 / mp.log(chi_c),
                "xi_grad": -1 / mp.log(chi1), "D_star": 2 * q_star * (1 - c_star) / sw2,
                "kappa2_star": 3 * chi2 / (chi1 * (chi1 - 1))}


@pytest.mark.parametrize("sw2, sb2", [(2, 0), (3, Fraction(1, 4))])
def test_erf_published(sw2, sb2):
    r = fixed_point("erf", sigma_w2=sw2, sigma_b2=sb2, dps=30)
    ref = erf_reference(sw2, sb2)
    assert r.phase == "chaotic"
    for key, value in ref.items():
        assert agree(r.value(key), value), (key, r.value(key), value)
    if sb2 == 0:
        assert r.c_star == 0 and r.digits["c_star"] == 30   # exactly, not approximately
        with mp.workdps(REF_DPS):
            assert agree(r.D_star, 2 * r.A_star)


#: sign and step: q* and the Gaussian orthant law E[H(u1) H(u2)] = 1/4 + asin(c)/(2 pi)
#: (Sheppard) give the c-map in closed form; c* is its root below 1 (the slope at c = 1 is
#: +inf: chi1 = +inf, so c = 1 is unstable whenever sigma_b > 0).
HARD_THRESHOLD = {
    "sign": (lambda sw2, sb2: sw2 + sb2, lambda c: 2 * mp.asin(c) / mp.pi),
    "step": (lambda sw2, sb2: sw2 / 2 + sb2, lambda c: mp.mpf(1) / 4 + mp.asin(c) / (2 * mp.pi)),
}


@pytest.mark.parametrize("act", sorted(HARD_THRESHOLD))
@pytest.mark.parametrize("sw2, sb2", [(Fraction(9, 4), Fraction(9, 100)), (1, Fraction(1, 2))])
def test_hard_threshold_with_bias_has_a_correlation_fixed_point_below_one(act, sw2, sb2):
    r = fixed_point(act, sigma_w2=sw2, sigma_b2=sb2, dps=30)
    length, kernel = HARD_THRESHOLD[act]
    with mp.workdps(REF_DPS):
        sw2m, sb2m = mpq(sw2), mpq(sb2)
        q_star = length(sw2m, sb2m)
        c_map = lambda c: (sw2m * kernel(c) + sb2m) / q_star  # noqa: E731
        c_star = mp.findroot(lambda c: c_map(c) - c, (mp.mpf(-1) + mp.mpf("1e-9"),
                                                       mp.mpf("0.999999")), solver="anderson")
        chi_c = mp.diff(c_map, c_star)
        assert abs(c_map(1) - 1) < mp.mpf(10) ** -30   # c = 1 is a fixed point, not taken
        assert r.phase == "chaotic" and r.chi1 == mp.inf
        for key, value in (("q_star", q_star), ("c_star", c_star), ("chi_c", chi_c),
                           ("D_star", 2 * q_star * (1 - c_star) / sw2m)):
            assert agree(r.value(key), value), (key, r.value(key), value)
            assert r.digits[key] >= AGREE, (key, r.digits[key])
    grid = fixed_points_float64(act, np.array([float(mp.sqrt(mpq(sw2)))]),
                                np.array([float(mp.sqrt(mpq(sb2)))]))
    assert grid["c_star"][0] == pytest.approx(float(c_star), rel=1e-12)


def test_relu_published_is_exact():
    r = fixed_point("relu", sigma_w2="1.5", sigma_b2="0.1", dps=30)
    with mp.workdps(40):
        for key, value in (("q_star", "0.4"), ("A_star", "0.2"), ("chi1", "0.75"),
                           ("chi_c", "0.75"), ("length_slope", "0.75"), ("c_star", 1)):
            assert agree(r.value(key), mp.mpf(value), 30) and r.digits[key] == 30, key
        assert agree(r.xi_c, -1 / mp.log(mp.mpf("0.75")), 30)
        assert agree(r.xi_q, -1 / mp.log(mp.mpf("0.75")), 30)
    assert r.chi2 == mp.inf and r.kappa2_star is None and r.D_star == 0
    assert r.phase == "ordered"
    assert any("closed form" in n for n in r.notes)


def test_verified_by_recomputation():
    r = fixed_point("erf", sigma_w2=3, sigma_b2="1/4", dps=40)
    assert r.working_precisions[1] > r.working_precisions[0] > 40 - 1
    assert all(d >= 38 for d in r.digits.values())
    low = fixed_point("erf", sigma_w2=3, sigma_b2="1/4", dps=20)
    assert agree(low.c_star, r.c_star, 19)


# ------------------------------------------------------------------------------------------
# special cases
# ------------------------------------------------------------------------------------------
def test_odd_activation_without_bias_chaotic_c_star_is_exactly_zero():
    r = fixed_point("tanh", sigma_w="1.5", sigma_b=0, dps=30)
    assert r.phase == "chaotic" and r.c_star == 0 and r.digits["c_star"] == 30
    with mp.workdps(REF_DPS):
        assert agree(r.D_star, 2 * r.A_star, 29)
    # chi_c = sigma_w^2 E[phi']^2 at c = 0, independently
    with mp.workdps(REF_DPS):
        mean_slope = tanh_expect(sech2, r.q_star)
        assert agree(r.chi_c, mp.mpf("2.25") * mean_slope**2)


def test_ordered_phase_without_bias_has_q_star_zero():
    r = fixed_point("tanh", sigma_w="0.8", sigma_b=0, dps=30)
    assert r.q_star == 0 and r.phase == "ordered"
    with mp.workdps(REF_DPS):
        assert agree(r.chi1, mpq(Fraction(16, 25)), 30)
        assert agree(r.length_slope, mpq(Fraction(16, 25)), 30)
    assert any("q* = 0" in n for n in r.notes)
    crit = fixed_point("tanh", sigma_w=1, sigma_b=0, dps=30)
    assert crit.phase == "critical" and crit.xi_c == mp.inf and crit.xi_q == mp.inf


def test_relu_critical_point_is_marginal():
    r = fixed_point("relu", sigma_w2=2, dps=30)
    assert r.phase == "critical" and r.q_star is None and r.chi1 == 1
    assert r.xi_c == mp.inf and r.D_star == 0


def test_fixed_points_agree_with_iterating_the_maps():
    m = symfield.dynamics.model.mean_field("tanh")
    r = fixed_point("tanh", sigma_w="2.5", sigma_b="0.3", dps=20)
    q = 1.0
    for _ in range(60):
        q = float(m.np("length_map", q=q, sigma_w=2.5, sigma_b=0.3))
    assert abs(q - float(r.q_star)) < 1e-12
    c = 0.6
    for _ in range(250):
        c = float(m.np("correlation_map", c=c, q=float(r.q_star), sigma_w=2.5, sigma_b=0.3))
    assert abs(c - float(r.c_star)) < 1e-12
    # Amari's activity and distance maps have the fixed points A*, D*
    a = float(m.np("activity_map", A=float(r.A_star), sigma_w=2.5, sigma_b=0.3))
    assert abs(a - float(r.A_star)) < 1e-13
    d = float(m.np("distance_map", D=float(r.D_star), A=float(r.A_star), sigma_w=2.5,
                   sigma_b=0.3))
    assert abs(d - float(r.D_star)) < 1e-12


def test_float64_grid_solver_matches_high_precision():
    ws, bs = np.array([1.3, 2.5, 4.0, 0.8, 1.5]), np.array([0.3, 0.3, 0.3, 0.0, 0.0])
    grid = fixed_points_float64("tanh", ws, bs)
    for i, (w, b) in enumerate(zip(ws, bs)):
        r = fixed_point("tanh", sigma_w=w, sigma_b=b, dps=16)
        for key in ("q_star", "chi1", "c_star", "chi_c", "xi_c"):
            assert grid[key][i] == pytest.approx(float(r.value(key)), rel=1e-11, abs=1e-13), key


def test_report_formats():
    r = fixed_point("erf", sigma_w2=3, sigma_b2="1/4", dps=25)
    data = r.as_dict()
    assert data["phase"] == "chaotic" and set(data["values"]) >= {"q_star", "c_star", "xi_c"}
    assert len(data["values"]["q_star"].replace(".", "").lstrip("0")) >= 25
    text = str(r)
    assert "q_star" in text and "digits verified" in text


# ------------------------------------------------------------------------------------------
# a property: erf fixed points solve their equations (independent closed forms)
# ------------------------------------------------------------------------------------------
@given(sw2=st.fractions(min_value=Fraction(1, 5), max_value=9, max_denominator=40),
       sb2=st.fractions(min_value=0, max_value=2, max_denominator=40))
def test_erf_fixed_points_solve_their_equations(sw2, sb2):
    r = fixed_point("erf", sigma_w2=sw2, sigma_b2=sb2, dps=20)
    with mp.workdps(40):
        w2, b2 = mpq(sw2), mpq(sb2)
        q = r.q_star
        assert abs(w2 * 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) + b2 - q) <= \
            mp.mpf(10) ** -18 * max(q, 1)
        chi1 = w2 * 4 / (mp.pi * mp.sqrt(1 + 4 * q))
        assert r.phase == ("chaotic" if chi1 > 1 else "ordered")
        if r.phase == "chaotic" and q > 0:
            fc = (w2 * 2 / mp.pi * mp.asin(2 * q * r.c_star / (1 + 2 * q)) + b2) / q
            assert abs(fc - r.c_star) <= mp.mpf(10) ** -18
            assert r.chi_c < 1  # the reported c* is the stable one
    grid = fixed_points_float64("erf", float(sw2) ** 0.5, float(sb2) ** 0.5)
    assert float(grid["q_star"]) == pytest.approx(float(r.q_star), rel=1e-10, abs=1e-12)


def test_curvature_fixed_point_agrees_with_the_law(tanh_reports):
    r = tanh_reports["2.5"]
    law = symfield.derive("curvature_fixed_point", "tanh")
    value = law.evaluate(dps=30, q=r.q_star, sigma_w="2.5")
    assert agree(r.kappa2_star, value)


def test_side_by_side_evaluation_gives_the_same_report():
    serial = fixed_point("erf", sigma_w2=3, sigma_b2="1/4", dps=25)
    forked = fixed_point("erf", sigma_w2=3, sigma_b2="1/4", dps=25, workers=2)
    for name in ("q_star", "chi1", "c_star", "chi_c", "xi_c", "kappa2_star"):
        assert forked.value(name) == serial.value(name), name
