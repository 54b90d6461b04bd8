"""Geometry estimators (metric, curvature, pair statistics) and the replica helper."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support.oracles import cheap_or_full

from symfield.errors import InvalidValueError
from symfield.laboratory.networks import (
    curve_curvature_squared,
    great_circle,
    metric_tensor,
    normalized_curve_curvature_squared,
    normalized_extrinsic_curvature_squared,
    replicate,
    replicate_networks,
    sample_network,
    second_fundamental_mean_square,
)

SEEDS = st.integers(0, 2**32 - 1)
Z = 5.0


@settings(max_examples=cheap_or_full(8, 20), deadline=None)
@given(seed=SEEDS)
def test_curvature_is_poole_formula_and_the_one_direction_extrinsic_curvature(seed):
    rng = np.random.default_rng(seed)
    velocity, acceleration = rng.standard_normal(50), rng.standard_normal(50)
    v2, va, a2 = velocity @ velocity, velocity @ acceleration, acceleration @ acceleration
    poole = a2 / v2**2 - va**2 / v2**3  # theory §6.4, as in the authors' code
    assert curve_curvature_squared(velocity, acceleration) == pytest.approx(poole, rel=1e-10)
    assert normalized_curve_curvature_squared(velocity, acceleration) == pytest.approx(50 * poole,
                                                                                      rel=1e-10)
    extrinsic = normalized_extrinsic_curvature_squared(velocity[:, None],
                                                       acceleration[:, None, None])
    assert extrinsic.shape == (1, 1)
    assert extrinsic[0, 0] == pytest.approx(50 * poole, rel=1e-10)


def test_great_circle_in_the_input():
    rng = np.random.default_rng(0)
    n0, q0 = 40, 0.7
    radius = np.sqrt(n0 * q0)
    position, velocity, acceleration = great_circle(1.1, rng.standard_normal(n0),
                                                    rng.standard_normal(n0), radius)
    assert position @ position == pytest.approx(radius**2)
    assert velocity @ velocity == pytest.approx(radius**2)
    assert abs(position @ velocity) < 1e-9
    np.testing.assert_array_equal(acceleration, -position)
    # a circle of radius r has kappa = 1/r, so kappa_bar^2 = n0 / r^2 = 1 / q0
    assert normalized_curve_curvature_squared(velocity, acceleration) == pytest.approx(1 / q0)
    with pytest.raises(InvalidValueError, match="parallel"):
        great_circle(0.0, np.ones(3), 2 * np.ones(3), 1.0)
    with pytest.raises(InvalidValueError, match="radius"):
        great_circle(0.0, np.ones(3), np.arange(3.0), -1.0)


def test_metric_and_normal_projection():
    rng = np.random.default_rng(1)
    tangents = rng.standard_normal((30, 3))
    np.testing.assert_allclose(metric_tensor(tangents), tangents.T @ tangents / 30)
    # second derivatives inside the tangent space have no normal part
    coefficients = rng.standard_normal((3, 3, 3))
    coefficients = coefficients + coefficients.transpose(0, 2, 1)
    tangential = np.einsum("nc,cab->nab", tangents, coefficients)
    assert np.max(second_fundamental_mean_square(tangents, tangential)) < 1e-25
    full = second_fundamental_mean_square(tangents, tangential, normal_only=False)
    np.testing.assert_allclose(full, np.einsum("nab,nab->ab", tangential, tangential) / 30)
    with pytest.raises(InvalidValueError, match="zero"):
        normalized_extrinsic_curvature_squared(np.zeros((5, 1)), np.ones((5, 1, 1)))


def test_pair_statistics():
    net = sample_network("tanh", 1.5, 0.2, [10, 50, 40], 3)
    inputs = np.random.default_rng(4).standard_normal((3, 10))
    inputs[2] = inputs[0]
    result = net.forward(inputs)
    np.testing.assert_allclose(result.correlation(0, 2), 1.0)
    u = result.u(2)
    assert result.q12(0, 1)[1] == pytest.approx(np.mean(u[0] * u[1]))
    assert result.correlation(0, 1)[1] == pytest.approx(
        np.mean(u[0] * u[1]) / np.sqrt(np.mean(u[0] ** 2) * np.mean(u[1] ** 2)))
    x = result.x(1)
    assert result.overlap(0, 1)[0] == pytest.approx(np.mean(x[0] * x[1]))
    np.testing.assert_allclose(result.activity()[:, 1],
                               [np.mean(result.x(layer)[1] ** 2) for layer in (1, 2)])


def test_first_layer_metric_law():
    # u^1 = W x + b is linear: E[g^1_ab] = sigma_w^2 g^0_ab exactly (pre-activation metric)
    sigma_w = 1.3
    rng = np.random.default_rng(5)
    point, directions = rng.standard_normal(20), rng.standard_normal((20, 2))
    theory = sigma_w**2 * metric_tensor(directions)
    estimate = replicate_networks(
        lambda net: net.forward_tangents(point, directions).metric(1), "erf", sigma_w, 0.1,
        [20, 400], replicas=30, seed=6)
    assert estimate.mean.shape == (2, 2)
    assert np.all(np.abs(estimate.z_score(theory)) <= Z), estimate.z_score(theory)
    np.testing.assert_allclose(estimate.mean, estimate.mean.T)


# -- the replica helper -----------------------------------------------------------------------
def test_replicate_mean_standard_error_and_reproducibility():
    estimate = replicate(lambda rng: rng.standard_normal(), replicas=50, seed=7)
    values = estimate.values
    assert values.shape == (50,) and len(set(values.tolist())) == 50  # independent streams
    assert estimate.mean == pytest.approx(values.mean())
    assert estimate.standard_error == pytest.approx(values.std(ddof=1) / np.sqrt(50))
    np.testing.assert_array_equal(replicate(lambda rng: rng.standard_normal(), 50, 7).values,
                                  values)
    assert not np.array_equal(replicate(lambda rng: rng.standard_normal(), 50, 8).values, values)
    assert abs(estimate.z_score(0.0)) <= Z


def test_replicate_networks_uses_independent_networks():
    estimate = replicate_networks(lambda net: net.weight(1)[0, 0], "relu", 1.0, 0.0, [3, 4],
                                  replicas=10, seed=np.random.default_rng(3))
    assert len(set(estimate.values.tolist())) == 10


def test_z_score_with_zero_error():
    estimate = replicate(lambda rng: 2.0, replicas=3, seed=0)
    assert estimate.standard_error == 0.0
    assert estimate.z_score(2.0) == 0.0
    assert estimate.z_score(1.0) == np.inf
