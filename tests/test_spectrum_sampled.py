"""The Jacobian spectrum against sampled networks (issue 15): Haar orthogonal weights, the
moments of the squared singular values with honest errors, a power test, the histogram.

Bounded: width 256 (one case 128), at most 8 networks, depth <= 4.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symfield.errors import InvalidValueError
from symfield.laboratory.networks import sample_network
from symfield.laboratory.networks.random_network import haar_semi_orthogonal
from symfield.laboratory.networks.seeds import as_seed_sequence, child_sequence
from symfield.laboratory.spectrum import check_jacobian_spectrum

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


# -- Haar orthogonal weights ----------------------------------------------------------------------
@settings(max_examples=5, deadline=None)
@given(seed=SEEDS)
def test_orthogonal_weights_are_scaled_orthogonal(seed):
    network = sample_network("tanh", 1.3, 0.1, [40, 40, 70, 30], seed, weights="orthogonal")
    square, tall, wide = (network.weight(layer) for layer in (1, 2, 3))
    np.testing.assert_allclose(square @ square.T, 1.69 * np.eye(40), atol=1e-12)
    # widening: orthonormal columns scaled by sqrt(70/40), so E[W_ij^2] = sigma_w^2/fan_in
    np.testing.assert_allclose(tall.T @ tall, 1.69 * 70 / 40 * np.eye(40), atol=1e-12)
    np.testing.assert_allclose(wide @ wide.T, 1.69 * np.eye(30), atol=1e-12)
    for weight, fan_in in ((square, 40), (tall, 40), (wide, 70)):
        assert np.mean(weight**2) == pytest.approx(1.69 / fan_in, rel=1e-12)
    lazy = sample_network("tanh", 1.3, 0.1, [40, 40, 70, 30], seed, weights="orthogonal",
                          lazy=True)
    assert np.array_equal(lazy.weight(2), tall)


def test_haar_signs_are_unbiased():
    """Without moving R's signs into Q, numpy's Householder QR gives Q_11 a mean near -0.35
    at n = 6; Haar's is 0 (standard error 1/sqrt(6 R))."""
    root = as_seed_sequence(7)
    corner = [haar_semi_orthogonal((6, 6), child_sequence(root, r))[0, 0] for r in range(600)]
    assert abs(np.mean(corner)) < 5 / np.sqrt(6 * 600)
    assert np.var(corner) == pytest.approx(1 / 6, rel=0.25)


def test_unknown_ensemble_is_refused():
    with pytest.raises(InvalidValueError, match="unknown weight ensemble 'haar'; valid"):
        sample_network("tanh", 1.0, 0.0, [4, 4], 0, weights="haar")


def test_gaussian_default_unchanged():
    a = sample_network("erf", 1.1, 0.2, [8, 8], 3)
    b = sample_network("erf", 1.1, 0.2, [8, 8], 3, weights="gaussian")
    assert np.array_equal(a.weight(1), b.weight(1))


# -- moments against the free-probability prediction ---------------------------------------
CASES = [
    ("linear", 1, 0, 3, "gaussian"),
    ("erf", "1.2", "0.1", 4, "orthogonal"),
    ("relu", sp.sqrt(2), 0, 3, "gaussian"),
    ("tanh", "1.05", "0.02", 4, "orthogonal"),
]


@pytest.mark.parametrize("activation,sigma_w,sigma_b,depth,weights", CASES)
def test_sampled_moments_agree(activation, sigma_w, sigma_b, depth, weights):
    check = check_jacobian_spectrum(activation, sigma_w, sigma_b, depth, weights, width=256,
                                    networks=6, seed=11)
    for order in (1, 2, 3):
        assert check.agrees(order), str(check)
    assert check.total_variation(bins=25) < 0.06


def test_power_wrong_formulas_are_rejected():
    """The check must be able to fail: the moments of the other ensemble, and m2 without the
    slopes' spread (mu2 -> mu1^2), are rejected by the same samples."""
    linear = check_jacobian_spectrum("linear", 1, 0, 3, "gaussian", width=256, networks=6, seed=5)
    assert linear.agrees(2)
    assert not linear.agrees(2, value=1.0)  # orthogonal weights: a point mass, m2 = 1
    relu = check_jacobian_spectrum("relu", 1.2, 0.0, 3, "orthogonal", width=256, networks=6,
                                   seed=5)
    assert relu.agrees(2)
    m1 = relu.predicted(1)
    assert not relu.agrees(2, value=m1**2)              # the spread of phi'^2 dropped
    assert not relu.agrees(2, value=m1**2 * (1 + 3 * 2))  # Gaussian weights' formula


def test_sampled_check_bad_input():
    with pytest.raises(InvalidValueError, match="width must be an integer from 16"):
        check_jacobian_spectrum("erf", 1.0, 0.1, 2, width=8)
    with pytest.raises(InvalidValueError, match="networks must be an integer from 2"):
        check_jacobian_spectrum("erf", 1.0, 0.1, 2, networks=1)
    with pytest.raises(InvalidValueError, match="z must be a number from 0"):
        check_jacobian_spectrum("erf", 1.0, 0.1, 2, z=float("nan"))
    with pytest.raises(InvalidValueError, match="width\\^3 x depth x networks"):
        check_jacobian_spectrum("erf", 1.0, 0.1, 200, width=2048, networks=1000)
