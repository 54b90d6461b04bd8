"""The Jacobian spectrum (issue 15): derived moments of phi'^2, the free-probability moments of
J J^T, the density and its edge, the dynamical-isometry verdict and bad input.

Oracles (literature, used only here): mu_k for erf = (4/pi)^k/sqrt(1 + 4 k q) (the Gaussian
integral of exp(-2k u^2)); products of L square Ginibre matrices have the Fuss-Catalan moments
binom((L + 1) k, k)/(L k + 1) and the upper edge (L + 1)^(L + 1)/L^L; Marchenko-Pastur's density
sqrt(x (4 - x))/(2 pi x); Pennington et al. 2017: m2/m1^2 - 1 = L (mu2/mu1^2 - 1 - s1), s1 = -1
(Gaussian), 0 (orthogonal).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from symfield.activations import Activation, x
from symfield.dynamics.spectrum import (MU, depth_symbol, dynamical_isometry, free_moments,
                                        jacobian_spectrum, revert_series,
                                        squared_slope_s_transform)
from symfield.errors import InvalidValueError
from symfield.laws.spectrum import DERIVATIVE_MOMENTS, derivative_moment
from symfield.symbols import q, sigma_w


def fuss_catalan(depth: int, k: int) -> int:
    return math.comb((depth + 1) * k, k) // (depth * k + 1)


# -- moment laws ------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 2, 3])
def test_erf_moments_closed_form(order):
    law = derivative_moment("erf", order)
    assert law.form == "closed"
    oracle = (4 / sp.pi) ** order / sp.sqrt(1 + 4 * order * q)
    assert sp.simplify(law.expr - oracle) == 0
    for value in ("0.3", "2.5"):
        with mpmath.workdps(40):
            expected = (4 / mpmath.pi) ** order / mpmath.sqrt(1 + 4 * order * mpmath.mpf(value))
        assert abs(law.evaluate(dps=35, q=value) - expected) < mpmath.mpf(10) ** -33


@pytest.mark.parametrize("activation,values", [("relu", (0.5, 0.5, 0.5)),
                                               ("linear", (1, 1, 1)), ("abs", (1, 1, 1))])
def test_piecewise_linear_moments(activation, values):
    for order, expected in zip((1, 2, 3), values):
        assert derivative_moment(activation, order).expr == sp.nsimplify(expected)


def test_tanh_moment_against_quadrature():
    law = derivative_moment("tanh", 2)
    with mpmath.workdps(40):
        reference = mpmath.quad(lambda z: mpmath.sech(mpmath.sqrt(mpmath.mpf("0.7")) * z) ** 8
                                * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])
    assert abs(law.evaluate(dps=30, q="0.7") - reference) < mpmath.mpf(10) ** -28


def test_moment_definitions_are_laws():
    assert [d.name for d in DERIVATIVE_MOMENTS] == ["derivative_moment1", "derivative_moment2",
                                                    "derivative_moment3"]
    assert all(d.unsampled_reason for d in DERIVATIVE_MOMENTS)


# -- the free-probability algebra ---------------------------------------------------------------
def test_series_reversion():
    a = sp.symbols("a1:4")
    b = revert_series(a)
    s = sp.Symbol("s")
    g = sum(bk * s ** (k + 1) for k, bk in enumerate(b))
    composed = sp.series(sum(ak * g ** (k + 1) for k, ak in enumerate(a)), s, 0, 4).removeO()
    assert sp.simplify(composed - s) == 0


@pytest.mark.parametrize("weights,s1", [("gaussian", -1), ("orthogonal", 0)])
def test_variance_ratio_matches_pennington(weights, s1):
    free = free_moments(weights)
    mu1, mu2, _mu3 = MU
    assert sp.simplify(free.moments[0] - (sigma_w**2 * mu1) ** depth_symbol) == 0
    oracle = depth_symbol * (mu2 / mu1**2 - 1 - s1)
    assert sp.simplify(free.variance_ratio - oracle) == 0


@pytest.mark.parametrize("depth", [1, 2, 3, 7])
def test_linear_gaussian_is_fuss_catalan(depth):
    free = free_moments("gaussian")
    linear = {MU[0]: 1, MU[1]: 1, MU[2]: 1, sigma_w: 1, depth_symbol: depth}
    for k in (1, 2, 3):
        assert sp.simplify(free.moments[k - 1].subs(linear)) == fuss_catalan(depth, k)


def test_linear_orthogonal_is_a_point_mass():
    free = free_moments("orthogonal")
    linear = {MU[0]: 1, MU[1]: 1, MU[2]: 1, sigma_w: 1}
    assert [sp.simplify(m.subs(linear)) for m in free.moments] == [1, 1, 1]


def test_wrong_composition_would_be_caught():
    """Power: the same algebra with S_WW^T of the wrong ensemble fails the Fuss-Catalan oracle."""
    free = free_moments("orthogonal")
    linear = {MU[0]: 1, MU[1]: 1, MU[2]: 1, sigma_w: 1, depth_symbol: 3}
    assert sp.simplify(free.moments[1].subs(linear)) != fuss_catalan(3, 2)


def test_s_transform_of_erf_slopes():
    series = squared_slope_s_transform("erf")
    m = sp.Symbol("m")
    # S(0) = 1/mu1; the first coefficient -(mu2 - mu1^2)/mu1^3 (the variance of d, scaled)
    mu1 = 4 / sp.pi / sp.sqrt(1 + 4 * q)
    mu2 = 16 / sp.pi**2 / sp.sqrt(1 + 8 * q)
    assert sp.simplify(series.subs(m, 0) - 1 / mu1) == 0
    assert sp.simplify(series.diff(m).subs(m, 0) + (mu2 - mu1**2) / mu1**3) == 0


# -- numbers at the fixed point ---------------------------------------------------------------
def test_erf_spectrum_moments_at_fixed_point():
    report = jacobian_spectrum("erf", "1.2", "0.1", 5, weights="orthogonal", dps=30)
    q_star = report.q_star
    with mpmath.workdps(40):
        mu1 = 4 / mpmath.pi / mpmath.sqrt(1 + 4 * q_star)
        mu2 = 16 / mpmath.pi**2 / mpmath.sqrt(1 + 8 * q_star)
        chi1 = mpmath.mpf("1.44") * mu1
        # q* solves q = sigma_w^2 (2/pi) asin(2q/(1 + 2q)) + sigma_b^2 (Williams)
        gap = q_star - (mpmath.mpf("1.44") * 2 / mpmath.pi
                        * mpmath.asin(2 * q_star / (1 + 2 * q_star)) + mpmath.mpf("0.01"))
        assert abs(gap) < mpmath.mpf(10) ** -28
        assert abs(report.m1 - chi1**5) < mpmath.mpf(10) ** -27
        assert abs(report.variance_ratio - 5 * (mu2 / mu1**2 - 1)) < mpmath.mpf(10) ** -27
        assert abs(report.m2 - chi1**10 * (1 + 5 * (mu2 / mu1**2 - 1))) < mpmath.mpf(10) ** -26
        # a wrong formula (the Gaussian-weight variance for orthogonal weights) is rejected
        assert abs(report.variance_ratio - 5 * mu2 / mu1**2) > 1


def test_relu_at_criticality_is_q_free():
    report = jacobian_spectrum("relu", sp.sqrt(2), 0, 4)
    assert report.q_star is None and report.m1 == 1
    assert report.variance_ratio == 8  # L mu2/mu1^2 = 4 * 2
    assert report.spread_depth(10) == 6  # 2 L > 10 first at L = 6


def test_relu_beyond_criticality_still_reports():
    report = jacobian_spectrum("relu", 1.5, 0.3, 2)
    assert report.q_star is None and "every q" in report.notes[0]
    assert abs(report.m1 - mpmath.mpf("1.125") ** 2) < 1e-14


# -- density --------------------------------------------------------------------------------
def test_marchenko_pastur_density_and_edge():
    report = jacobian_spectrum("linear", 1, 0, 1)
    grid = np.linspace(0.05, 3.95, 40)
    expected = np.sqrt(grid * (4 - grid)) / (2 * np.pi * grid)
    assert np.max(np.abs(report.density(grid) - expected)) < 1e-7
    assert abs(report.support_edge - 4) < 1e-9


@pytest.mark.parametrize("depth", [2, 5])
def test_fuss_catalan_edge(depth):
    report = jacobian_spectrum("linear", 1, 0, depth)
    assert abs(report.support_edge - (depth + 1) ** (depth + 1) / depth**depth) < 1e-8


@pytest.mark.parametrize("activation,sigma_w,sigma_b,depth,weights", [
    ("erf", "1.2", "0.1", 5, "orthogonal"),
    ("tanh", "1.1", "0.05", 6, "gaussian"),
    ("relu", "1.2", "0.3", 3, "gaussian"),
    # deep: the continuation must stay on the physical sheet of (z m S^L)^(1/L)
    ("tanh", "1.05", "0.02", 50, "orthogonal"),
])
def test_density_reproduces_moments(activation, sigma_w, sigma_b, depth, weights):
    report = jacobian_spectrum(activation, sigma_w, sigma_b, depth, weights=weights)
    edge = report.support_edge
    grid = np.concatenate([np.logspace(-9, math.log10(0.05 * edge), 1500),
                           np.linspace(0.05 * edge, 1.05 * edge, 6000)[1:]])
    density = report.density(grid)
    assert np.all(density[grid > edge * 1.001] < 1e-6 * density.max())
    assert np.all(density[(grid > 0.2 * edge) & (grid < 0.9 * edge)] > 0)
    m1 = np.trapezoid(grid * density, grid)
    m2 = np.trapezoid(grid**2 * density, grid)
    tolerance = 1e-4 if depth < 50 else 5e-4  # the trapezoid rule's own error on this grid
    assert abs(m1 / float(report.m1) - 1) < tolerance
    assert abs(m2 / float(report.m2) - 1) < tolerance
    m3 = np.trapezoid(grid**3 * density, grid)
    assert abs(m3 / float(report.m3) - 1) < tolerance
    if activation == "relu":
        assert report.atom_at_zero == pytest.approx(0.5, abs=1e-12)
        assert np.trapezoid(density, grid) < 0.5 + 1e-3


# -- dynamical isometry ------------------------------------------------------------------------
def test_isometry_verdicts():
    assert dynamical_isometry("erf", "orthogonal").achievable is True
    assert dynamical_isometry("erf", "gaussian").achievable is False
    relu = dynamical_isometry("relu", "orthogonal")
    assert relu.achievable is False and relu.growth == 1
    assert dynamical_isometry("linear", "orthogonal").achievable is True
    assert dynamical_isometry("linear", "gaussian").achievable is False


def test_spread_depth_erf():
    report = jacobian_spectrum("erf", "1.2", "0.1", 5, weights="orthogonal")
    rate = float(report.variance_ratio) / 5
    depth = report.spread_depth(2.0)
    assert (depth - 1) * rate <= 2.0 < depth * rate
    assert jacobian_spectrum("linear", 1, 0, 3, weights="orthogonal").spread_depth(1) is None


# -- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,fragment", [
    (dict(depth=0), "depth must be an integer from 1"),
    (dict(depth=2.5), "depth must be an integer"),
    (dict(depth=True), "depth must be an integer"),
    (dict(weights="uniform"), "unknown weight ensemble 'uniform'"),
    (dict(weights=3), "unknown weight ensemble"),
    (dict(dps=5), "dps"),
])
def test_bad_input(kwargs, fragment):
    arguments = dict(activation="erf", sigma_w=1.2, sigma_b=0.1, depth=3) | kwargs
    with pytest.raises(InvalidValueError) as error:
        jacobian_spectrum(**arguments)
    assert fragment in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("phi", [sp.sign(x), sp.Heaviside(x)])
def test_divergent_slope_moments(phi):
    step = Activation(name=f"test_{phi.func.__name__}", phi=phi, description="test",
                      kinks=(sp.S.Zero,))
    with pytest.raises(InvalidValueError, match="moments of phi'\\^2 diverge"):
        jacobian_spectrum(step, 1.0, 0.1, 3)


def test_density_refuses_bad_points():
    report = jacobian_spectrum("linear", 1, 0, 1)
    for bad in ([0.0, 1.0], [np.nan], [-1.0]):
        with pytest.raises(InvalidValueError, match="x must hold finite numbers > 0"):
            report.density(bad)
    with pytest.raises(InvalidValueError, match="threshold must be a finite number > 0"):
        report.spread_depth(-1)


def test_float64_scale_is_refused_with_a_reason():
    report = jacobian_spectrum("relu", "1.9", 0, 3000)
    assert report.m1 > mpmath.mpf(10) ** 700  # the moments are exact mpmath numbers
    with pytest.raises(InvalidValueError, match="beyond float64"):
        report.support_edge
    with pytest.raises(InvalidValueError, match="x must hold finite numbers > 0"):
        jacobian_spectrum("linear", 1, 0, 1).density("abc")
