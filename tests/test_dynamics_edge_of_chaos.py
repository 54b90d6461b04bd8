"""The edge of chaos and the depth scales against independent computations.

References: ``mpmath.quad`` + ``mpmath.findroot`` on hand-written tanh integrands (the tanh
critical line at sigma_b^2 = 0.05, Schoenholz et al.'s phase diagram), the erf closed forms of
theory.md section 10.1 and golden values G08/G09, and sign changes of chi1 - 1 on a float64
grid. The ReLU power law 1 - c^l ~ 9 pi^2/(2 l^2) is checked symbolically and by iterating the
map (theory.md section 5.3: l^2 (1 - c^l) = 44.25 at l = 10^4).
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import symfield
from symfield.dynamics import (critical_line, critical_point, critical_sigma_w, depth_scales,
                               edge_of_chaos, edge_power_law, fixed_point,
                               fixed_points_float64, iterate_correlation_map)
from symfield.errors import InvalidValueError
from symfield.symbols import q

from support.oracles import tanh_expect


def test_tanh_critical_line_published_setting():
    point = critical_point("tanh", sigma_b2="0.05", dps=30)
    with mp.workdps(40):
        sech4 = lambda x: 1 / mp.cosh(x) ** 4  # noqa: E731
        tanh2 = lambda x: mp.tanh(x) ** 2  # noqa: E731
        b2 = lambda v: v - tanh_expect(tanh2, v) / tanh_expect(sech4, v)  # noqa: E731
        q_star = mp.findroot(lambda v: b2(v) - mp.mpf("0.05"), (mp.mpf("0.3"), mp.mpf(1)),
                             solver="anderson")
        sigma_w = 1 / mp.sqrt(tanh_expect(sech4, q_star))
        assert abs(point.sigma_w - sigma_w) < mp.mpf(10) ** -28 * sigma_w
        assert abs(point.q_star - q_star) < mp.mpf(10) ** -28 * q_star
    assert point.digits >= 28
    assert critical_sigma_w("tanh", sigma_b2="0.05", dps=30) == point.sigma_w
    # on the line, chi1 = 1 at the fixed point (the report agrees)
    report = fixed_point("tanh", sigma_w2=point.sigma_w2, sigma_b2="0.05", dps=20)
    assert report.phase == "critical" or abs(report.chi1 - 1) < mp.mpf(10) ** -17


def test_tanh_without_bias_is_critical_at_sigma_w_one():
    assert critical_sigma_w("tanh", sigma_b=0) == 1
    eoc = edge_of_chaos("tanh")
    assert eoc.kind == "curve" and eoc.limit == (1, 0)


def test_erf_curve_and_its_limit_pi_over_4():
    eoc = edge_of_chaos("erf")
    assert eoc.kind == "curve"
    assert sp.simplify(eoc.sigma_w2 - sp.pi * sp.sqrt(1 + 4 * q) / 4) == 0
    literature = q - sp.sqrt(1 + 4 * q) / 2 * sp.asin(2 * q / (1 + 2 * q))
    assert sp.simplify(eoc.sigma_b2 - literature) == 0
    assert eoc.limit == (sp.pi / 4, 0)
    with mp.workdps(45):
        assert abs(critical_sigma_w("erf", 0, dps=40) - mp.sqrt(mp.pi) / 2) < mp.mpf(10) ** -39


def test_erf_golden_G08_G09():
    # sigma_b^2(q* = 1) is G09; the critical point there has q* = 1 and sigma_w^2 = G08
    point = critical_point("erf", sigma_b2="0.184139677807452753527766366939", dps=30)
    with mp.workdps(35):
        assert abs(point.q_star - 1) < mp.mpf(10) ** -28
        assert abs(point.sigma_w2 - mp.mpf("1.7562036827601815982890936608")) < \
            mp.mpf(10) ** -27


def test_relu_edge_of_chaos_is_a_derived_point():
    eoc = edge_of_chaos("relu")
    assert eoc.kind == "point" and eoc.sigma_w2 == 2 and eoc.sigma_b2 == 0
    assert any("single point" in s for s in eoc.steps)
    with mp.workdps(40):
        assert abs(critical_sigma_w("relu", 0, dps=40) - mp.sqrt(2)) < mp.mpf(10) ** -39
    with pytest.raises(InvalidValueError, match="single point"):
        critical_sigma_w("relu", sigma_b="0.3")
    assert edge_of_chaos("linear").kind == "point"


def test_critical_line_matches_sign_changes_of_chi1_minus_1():
    ws = np.linspace(0.9, 2.2, 1301)
    for sb in (0.0, 0.1, 0.3, 0.6):
        chi1 = fixed_points_float64("tanh", ws, np.full_like(ws, sb))["chi1"]
        gap = chi1 - 1
        k = np.nonzero((gap[:-1] < 0) & (gap[1:] >= 0))[0]
        assert k.size == 1, sb
        i = k[0]
        crossing = ws[i] - gap[i] * (ws[i + 1] - ws[i]) / (gap[i + 1] - gap[i])
        assert crossing == pytest.approx(float(critical_sigma_w("tanh", repr(sb), dps=15)),
                                         abs=2e-5)
    line = critical_line("tanh", 0.8, n=12)
    inside = line["sigma_b"] > 0.01
    report = fixed_points_float64("tanh", line["sigma_w"][inside], line["sigma_b"][inside])
    assert np.allclose(report["chi1"], 1.0, atol=1e-8)


def test_depth_scales_follow_the_report():
    xi = depth_scales("tanh", sigma_w="2.5", sigma_b="0.3", dps=20)
    r = fixed_point("tanh", sigma_w="2.5", sigma_b="0.3", dps=20)
    assert xi == {"xi_q": r.xi_q, "xi_c": r.xi_c, "xi_grad": r.xi_grad}
    assert xi["xi_grad"] < 0 < xi["xi_c"]


def test_relu_power_law_is_derived():
    law = edge_power_law("relu")
    eps = symfield.dynamics.depth.EPS
    assert sp.simplify(law.coefficient - 2 * sp.sqrt(2) / (3 * sp.pi)) == 0
    assert law.power == sp.Rational(3, 2) and law.exponent == 2
    assert sp.simplify(law.constant - 9 * sp.pi**2 / 2) == 0
    expected = 1 - eps + 2 * sp.sqrt(2) / (3 * sp.pi) * eps ** sp.Rational(3, 2) \
        + sp.sqrt(2) / (30 * sp.pi) * eps ** sp.Rational(5, 2)
    assert sp.simplify(law.expansion - expected) == 0
    with pytest.raises(InvalidValueError):
        edge_power_law("tanh")


def test_relu_power_law_against_iterating_the_map():
    cs = iterate_correlation_map("relu", sigma_w2=2, c0=0, depth=10_000)
    scaled = 10_000**2 * (1 - cs[-1])
    assert scaled == pytest.approx(44.25, abs=0.01)
    assert scaled / (9 * np.pi**2 / 2) == pytest.approx(1, abs=5e-3)
    # approaching the constant from below as l grows
    values = [l * l * (1 - cs[l]) for l in (100, 1000, 10_000)]
    assert values[0] < values[1] < values[2] < 9 * np.pi**2 / 2
    precise = iterate_correlation_map("relu", sigma_w2=2, c0=0, depth=200, dps=25)
    assert abs(float(precise[200]) - cs[200]) < 1e-13


def test_bad_input_for_the_critical_point():
    with pytest.raises(InvalidValueError):
        critical_point("tanh", sigma_b="-0.1")
    with pytest.raises(InvalidValueError):
        critical_point("tanh", sigma_b="inf")
    with pytest.raises(InvalidValueError):
        critical_point("tanh", sigma_b=0.1, sigma_b2=0.01)
    with pytest.raises(InvalidValueError):
        critical_point("tanh", sigma_b=0.1, dps=5)
