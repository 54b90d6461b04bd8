"""Sampled random neural fields (issue 12, part 1) against the field kernel law.

Depth 1 is exact in expectation (the empirical kernel is unbiased), so every covariance's
sampler is checked there, together with a 10 % wrong law that must be rejected; depth 2
checks the propagation through the activation at a width where the O(1/n) bias is small
against the standard errors; the self-averaging failure at one channel is measured.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from symfield.dynamics.field import field_kernel
from symfield.errors import InvalidValueError
from symfield.laboratory.field import (
    check_field,
    empirical_kernel,
    sample_field,
    self_averaging,
    square_root,
)

#: Monte Carlo tests: seeds drawn by Hypothesis, never shrunk (each run is seconds).
MONTE_CARLO = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                       phases=[Phase.explicit, Phase.generate])
SEEDS = st.integers(0, 2**32 - 1)
SPECS = ["independent", "shared_input", ("conv", 3), ("correlated", "exponential", 2.0, 1.5),
         "explicit"]


def _spec(name, G):
    if name != "explicit":
        return name
    # a random PSD covariance over (z', z), normalised to fan-in 1 on constant fields
    factor = np.random.default_rng(5).normal(size=(G * G, G * G // 2))
    matrix = factor @ factor.T
    return (matrix / matrix.reshape(G, G, G, G).sum(axis=(1, 3)).trace() * G).reshape(G, G, G, G)


@MONTE_CARLO
@given(seed=SEEDS)
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_depth_one_agrees_and_a_wrong_law_is_rejected(spec, seed):
    X = np.random.default_rng(seed % 1000).normal(size=(2, 5, 2))
    check = check_field("tanh", X, 1, 1.3, 0.4, 5, _spec(spec, 5),
                        ("correlated", "gaussian", 1.0), n=256, trials=24, seed=seed)
    assert check.agrees(), check.format()
    wrong = dataclasses.replace(check, predicted=check.predicted * 1.1)
    assert not wrong.agrees(), wrong.format()


@MONTE_CARLO
@given(seed=SEEDS)
@pytest.mark.parametrize("spec, grid", [("independent", 5), (("conv", 2), (2, 3)),
                                        (("correlated", "gaussian", 1.5), 5)], ids=str)
def test_depth_two_agrees_through_the_activation(spec, grid, seed):
    G = 5 if grid == 5 else 6
    X = np.random.default_rng(seed % 1000).normal(size=(2, G, 2))
    check = check_field("erf", X, 2, 1.5, 0.2, grid, spec, n=400, trials=24, seed=seed)
    assert check.agrees(), check.format()
    wrong = dataclasses.replace(check, predicted=check.predicted * 1.1)
    assert not wrong.agrees()


def test_realisations_are_reproducible_and_shaped():
    X = np.ones((3, 4, 2))
    a = sample_field("relu", X, 2, 1.2, 0.1, 4, ("conv", 3), n=7, seed=11)
    b = sample_field("relu", X, 2, 1.2, 0.1, 4, ("conv", 3), n=7,
                     seed=np.random.SeedSequence(11))
    c = sample_field("relu", X, 2, 1.2, 0.1, 4, ("conv", 3), n=7, seed=12)
    assert a.shape == (3, 7, 4) and np.array_equal(a, b) and not np.allclose(a, c)
    assert empirical_kernel(a).shape == (3, 3, 4, 4)


def test_square_root_of_a_singular_covariance():
    G = 6
    pooled = np.full((G, G), 1.0 / G**2)  # rank one: no Cholesky factor
    F = square_root(pooled)
    np.testing.assert_allclose(F @ F.T, pooled, atol=1e-15)


def test_shared_input_field_is_one_number_per_channel():
    """Shared input weights: u(z') = w(z') sum_z x(z) with w independent across z' (delta
    output covariance): the sampled kernel has the pooled variance on the diagonal and is
    zero (up to sampling noise) between positions, as the law says."""
    X = np.random.default_rng(0).normal(size=(1, 5, 3))
    u = sample_field("erf", X, 1, 1.0, 0.0, 5, "shared_input", n=4000, seed=2)
    Q = empirical_kernel(u)[0, 0]
    law = field_kernel("erf", X, 1, 1.0, 0.0, 5, "shared_input")[0, 0]
    np.testing.assert_allclose(np.diagonal(Q), np.diagonal(law), rtol=0.1)
    assert np.abs(Q - np.diag(np.diagonal(Q))).max() < 0.1 * law[0, 0]


@MONTE_CARLO
@given(seed=SEEDS)
def test_one_channel_with_long_range_weights_does_not_self_average(seed):
    report = self_averaging("erf", 1.5, 0.1, sizes=(8, 16, 32, 64), depth=2, n=1, trials=80,
                            seed=seed)
    independent, correlated = report.labels
    assert -0.85 < report.exponent[independent] < -0.3, report.format()
    assert report.exponent[correlated] > -0.2, report.format()
    # O(1) at the largest grid, many standard errors above the independent spread
    assert report.spread[correlated][-1] > 0.8
    assert report.spread[correlated][-1] - report.spread[independent][-1] > \
        5 * report.spread_error[correlated][-1]
    assert "does not self-average" in report.format()


@pytest.mark.parametrize("call, words", [
    (dict(n=0), "n (channels)"),
    (dict(n=10**12), "memory"),
    (dict(grid=3), "shape (T, G, n0)"),
    (dict(weight_covariance=("conv", 9)), "exceeds"),
    (dict(seed=-1), "seed"),
])
def test_bad_input_is_one_line(call, words):
    arguments = dict(activation="erf", inputs=np.ones((1, 4, 1)), depth=1, sigma_w=1.0,
                     sigma_b=0.0, grid=4, weight_covariance="independent", n=4)
    arguments.update(call)
    with pytest.raises(InvalidValueError) as info:
        sample_field(**arguments)
    assert "\n" not in str(info.value) and words in str(info.value), str(info.value)


def test_bad_checks_are_one_line():
    with pytest.raises(InvalidValueError, match="trials"):
        check_field("erf", np.ones((1, 4, 1)), 1, 1.0, 0.0, 4, trials=1)
    with pytest.raises(InvalidValueError, match="2 to 16 grid sizes"):
        self_averaging(sizes=(16,))


@MONTE_CARLO
@given(seed=SEEDS)
@pytest.mark.parametrize("spec", [("conv", 3), ("correlated", "exponential", 2.0)], ids=str)
def test_fields_on_a_segment_agree_and_a_wrong_law_is_rejected(spec, seed):
    """A segment's zero-padded filter and its unperiodised correlations, sampled."""
    X = np.random.default_rng(seed % 1000).normal(size=(2, 5, 2))
    check = check_field("erf", X, 2, 1.5, 0.2, ("segment", 5), spec, n=400, trials=24,
                        seed=seed)
    assert check.agrees(), check.format()
    wrong = dataclasses.replace(check, predicted=check.predicted * 1.1)
    assert not wrong.agrees()
