"""The deep random neural field's mean-field kernel (issue 12, part 1): reductions as tests.

Independent weights give the MLP on the flattened field; shared input weights give mean
pooling; a shared filter gives the CNN-GP kernel, here computed by hand (loops over taps and
Williams' arcsine kernel for erf written out in mpmath at 40 digits); the ring and the torus
keep translation invariance; the homogeneous fixed point is the MLP's q*; bad input is one
line.
"""
from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symfield
from symfield.dynamics.field import (
    build_bias_covariance,
    build_weight_covariance,
    check_grid,
    field_kernel,
    stationary_correlation,
)
from symfield.errors import InvalidValueError
from symfield.laws.recursion import nngp_ntk

SEEDS = st.integers(0, 2**32 - 1)
FEW = settings(max_examples=8)


def _williams_erf(q1, q2, rho):
    """E[erf(u1) erf(u2)] = (2/pi) asin(2 rho / sqrt((1 + 2 q1)(1 + 2 q2))) (Williams 1997)."""
    return 2 / mpmath.pi * mpmath.asin(2 * rho / mpmath.sqrt((1 + 2 * q1) * (1 + 2 * q2)))


def _inputs(seed: int, T: int, G: int, n0: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(T, G, n0))


# ------------------------------------------------------------------------------------------
# Reductions
# ------------------------------------------------------------------------------------------
@FEW
@given(seed=SEEDS, depth=st.integers(1, 5), activation=st.sampled_from(["erf", "relu", "tanh"]))
def test_independent_weights_are_the_mlp_on_the_flattened_field(seed, depth, activation):
    X = _inputs(seed, 3, 6, 2)
    Q = field_kernel(activation, X, depth, 1.3, 0.2, 6, "independent")
    mlp, _ = nngp_ntk(activation, X.reshape(3, -1), depth, 1.3, 0.2)
    for z in range(6):  # every output position is one MLP unit
        np.testing.assert_allclose(Q[:, :, z, z], mlp, rtol=1e-12, atol=1e-14)
    # distinct output positions share nothing but (independent) biases: 0 off the diagonal
    off = Q[:, :, ~np.eye(6, dtype=bool)]
    assert np.all(off == 0)
    shared = field_kernel(activation, X, depth, 1.3, 0.2, 6, "independent", "shared")
    np.testing.assert_allclose(shared[:, :, 0, 1], np.full((3, 3), 0.2**2), rtol=1e-14)


@FEW
@given(seed=SEEDS)
def test_shared_input_weights_are_mean_pooling(seed):
    X = _inputs(seed, 2, 5, 3)
    sw, sb = 1.4, 0.3
    Q1 = field_kernel("erf", X, 1, sw, sb, 5, "shared_input")
    mean = X.mean(axis=1)
    np.testing.assert_allclose(Q1[:, :, 1, 1], sw**2 * mean @ mean.T / 3 + sb**2, rtol=1e-13)
    # second layer: the pooled (averaged over z1, z2) erf kernel of the first, by hand
    Q2 = field_kernel("erf", X, 2, sw, sb, 5, "shared_input", dps=30)
    with mpmath.workdps(40):
        for t, s in itertools.product(range(2), repeat=2):
            pooled = mpmath.fsum(
                _williams_erf(mpmath.mpf(Q1[t, t, a, a]), mpmath.mpf(Q1[s, s, b, b]),
                              mpmath.mpf(Q1[t, s, a, b]))
                for a in range(5) for b in range(5)) / 25
            expected = sw**2 * pooled + sb**2
            for z in range(5):
                assert abs(Q2[t, s, z, z] - expected) < 1e-13  # Q1 is float64 here
            assert Q2[t, s, 0, 1] == 0


def _conv_by_hand(X, depth, sw, sb, G, width, periodic=True):
    """CNN-GP on a ring of G points, filter offsets -(width-1)//2 .. width//2, erf: each
    layer's sum over taps written as a loop over (z1', z2') and offsets, in mpmath. Floats
    are read as the decimals they print as (symfield's convention for user numbers). On a
    segment (``periodic=False``) a tap reading past an end reads 0 (zero padding)."""
    sw, sb = mpmath.mpf(repr(sw)), mpmath.mpf(repr(sb))
    T, _, n0 = X.shape
    taps = [a - (width - 1) // 2 for a in range(width)]
    X = [[[mpmath.mpf(repr(float(v))) for v in X[t, z]] for z in range(G)] for t in range(T)]
    K = {(t, s, a, b): mpmath.fsum(x * y for x, y in zip(X[t][a], X[s][b])) / n0
         for t in range(T) for s in range(T) for a in range(G) for b in range(G)}
    for layer in range(depth):
        Q = {}
        for t, s, z1, z2 in itertools.product(range(T), range(T), range(G), range(G)):
            if periodic:
                total = mpmath.fsum(K[t, s, (z1 + a) % G, (z2 + a) % G] for a in taps)
            else:
                total = mpmath.fsum(K[t, s, z1 + a, z2 + a] for a in taps
                                    if 0 <= z1 + a < G and 0 <= z2 + a < G)
            Q[t, s, z1, z2] = sw**2 * total / width + (sb**2 if z1 == z2 else 0)
        K = {key: _williams_erf(Q[key[0], key[0], key[2], key[2]],
                                Q[key[1], key[1], key[3], key[3]], Q[key])
             for key in Q}
    return Q


@pytest.mark.parametrize("width", [2, 3])
def test_shared_filter_is_the_cnn_kernel_computed_by_hand(width):
    X = _inputs(7, 2, 4, 2)
    with mpmath.workdps(40):
        expected = _conv_by_hand(X, 3, 1.5, 0.1, 4, width)
    certified = field_kernel("erf", X, 3, 1.5, 0.1, 4, ("conv", width), dps=30)
    plain = field_kernel("erf", X, 3, 1.5, 0.1, 4, ("conv", width))
    with mpmath.workdps(40):
        for key, value in expected.items():
            assert abs(certified[key] - value) <= mpmath.mpf(10) ** -28 * max(1, abs(value))
            assert abs(plain[key] - float(value)) <= 1e-13
    # a wrong filter width is not the same kernel (the test can fail)
    other = field_kernel("erf", X, 3, 1.5, 0.1, 4, ("conv", 1 if width == 2 else 2))
    assert np.abs(other - plain).max() > 1e-3


@pytest.mark.parametrize("width", [2, 3])
def test_shared_filter_on_a_segment_is_the_zero_padded_cnn_kernel(width):
    """grid=("segment", G): the filter reads 0 past the ends (no wrap-around), by hand; the
    structured and the dense covariance agree; and it is not the ring's kernel."""
    X = _inputs(8, 2, 5, 2)
    with mpmath.workdps(40):
        expected = _conv_by_hand(X, 3, 1.5, 0.1, 5, width, periodic=False)
    certified = field_kernel("erf", X, 3, 1.5, 0.1, ("segment", 5), ("conv", width), dps=30)
    plain = field_kernel("erf", X, 3, 1.5, 0.1, ("segment", 5), ("conv", width))
    with mpmath.workdps(40):
        for key, value in expected.items():
            assert abs(certified[key] - value) <= mpmath.mpf(10) ** -28 * max(1, abs(value))
            assert abs(plain[key] - float(value)) <= 1e-13
    dense = build_weight_covariance(("conv", width), ("segment", 5)).matrix().reshape(5, 5, 5, 5)
    slow = field_kernel("erf", X, 3, 1.5, 0.1, ("segment", 5), dense)
    np.testing.assert_allclose(plain, slow, rtol=1e-12, atol=1e-14)
    ring = field_kernel("erf", X, 3, 1.5, 0.1, 5, ("conv", width))
    assert np.abs(ring - plain).max() > 1e-3


def test_segment_correlations_are_the_correlation_itself():
    """On a segment R(z1, z2) = r(|z1 - z2|) unperiodised (exp(-d/l), exp(-d^2/2l^2)), positive
    semi-definite; the ends see fewer neighbours, so a constant field's first-layer variance
    under a zero-padded filter is lower at the ends by the share of taps that fall outside."""
    grid = check_grid(("segment", 6))
    assert grid.label() == "segment of 6" and not grid.periodic
    d = np.abs(np.subtract.outer(np.arange(6), np.arange(6)))
    np.testing.assert_allclose(stationary_correlation(grid, "exponential", 2.0),
                               np.exp(-d / 2.0), rtol=1e-15)
    R = stationary_correlation(grid, "gaussian", 1.5)
    np.testing.assert_allclose(R, np.exp(-d**2 / 4.5), rtol=1e-15)
    assert np.linalg.eigvalsh(R).min() > -1e-12
    ones = np.ones((1, 6, 1))
    Q = field_kernel("linear", ones, 1, 1.0, 0.0, ("segment", 6), ("conv", 3))
    np.testing.assert_allclose(np.diagonal(Q[0, 0]), [2 / 3, 1, 1, 1, 1, 2 / 3], rtol=1e-14)


def test_conv_on_the_torus_against_its_dense_covariance():
    X = _inputs(3, 2, 12, 2)
    spec = ("conv", (3, 2))
    fast = field_kernel("relu", X, 3, 1.2, 0.1, (4, 3), spec)
    dense = build_weight_covariance(spec, (4, 3)).matrix().reshape(12, 12, 12, 12)
    slow = field_kernel("relu", X, 3, 1.2, 0.1, (4, 3), dense)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("grid", [9, (3, 4)])
def test_correlation_length_interpolates_independent_and_shared(grid):
    G = check_grid(grid).size
    X = _inputs(11, 2, G, 2)
    args = ("tanh", X, 3, 1.3, 0.1, grid)
    short = field_kernel(*args, ("correlated", "gaussian", 1e-3))
    np.testing.assert_allclose(short, field_kernel(*args, "independent"), rtol=1e-12,
                               atol=1e-14)
    long = field_kernel(*args, ("correlated", "gaussian", 1e3))
    np.testing.assert_allclose(long, field_kernel(*args, "shared_input"), rtol=1e-4, atol=1e-6)
    middle = field_kernel(*args, ("correlated", "exponential", 2.0))
    assert np.abs(middle - short).max() > 1e-3 and np.abs(middle - long).max() > 1e-3


@pytest.mark.parametrize("grid", [7, 16, (4, 5)])
@pytest.mark.parametrize("kind", ["gaussian", "exponential"])
@pytest.mark.parametrize("length", [0.3, 2.0, 50.0])
def test_stationary_correlations_are_positive_semidefinite(grid, kind, length):
    R = stationary_correlation(check_grid(grid), kind, length)
    assert np.allclose(np.diagonal(R), 1) and np.array_equal(R, R.T)  # exactly symmetric
    assert np.linalg.eigvalsh(R)[0] > -1e-12
    # a plain truncated Gaussian of the ring distance is NOT always PSD; periodising is
    # what makes it so (checked on a ring where the truncation fails)
    if grid == 16 and kind == "gaussian" and length == 50.0:
        ring = check_grid(16).offsets()[..., 0]
        assert np.linalg.eigvalsh(np.exp(-ring**2 / (2 * 6.0**2)))[0] < -1e-6


# ------------------------------------------------------------------------------------------
# Translation invariance and the homogeneous fixed point
# ------------------------------------------------------------------------------------------
SPECS = ["independent", "shared_input", ("conv", 3), ("correlated", "gaussian", 1.5),
         ("correlated", "exponential", 2.0, 1.0)]


@settings(max_examples=10)
@given(seed=SEEDS, spec=st.sampled_from(SPECS), shift=st.integers(1, 6),
       torus=st.booleans())
def test_translation_invariance_on_ring_and_torus(seed, spec, shift, torus):
    grid, shape = ((3, 4), (3, 4)) if torus else (8, (8,))
    G = int(np.prod(shape))
    X = _inputs(seed, 2, G, 2)
    bias = ("correlated", "gaussian", 1.0)
    Q = field_kernel("erf", X, 3, 1.4, 0.3, grid, spec, bias)
    moved = np.roll(X.reshape((2,) + shape + (2,)), shift, axis=1).reshape(2, G, 2)
    Qm = field_kernel("erf", moved, 3, 1.4, 0.3, grid, spec, bias)
    index = np.arange(G).reshape(shape)
    perm = np.roll(index, -shift, axis=0).ravel()  # perm[p] = p + s (along the first axis)
    # Q_moved(z1 + s, z2 + s) = Q(z1, z2)
    np.testing.assert_allclose(Qm[:, :, perm][:, :, :, perm], Q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("spec", ["independent", ("conv", 3), ("conv", 5)])
def test_homogeneous_fixed_point_is_the_mlp_q_star(spec):
    """Covariances local in z (C_w(z', z1; z', z2) = 0 for z1 != z2, fan-in sum 1) keep the
    diagonal on the MLP's length map, so a constant field converges to q*."""
    report = symfield.fixed_point("erf", sigma_w=1.5, sigma_b=0.3, dps=30)
    X = np.ones((1, 8, 3)) * 0.7  # a constant field
    Q = field_kernel("erf", X, 80, 1.5, 0.3, 8, spec)
    np.testing.assert_allclose(np.diagonal(Q[0, 0]), float(report.q_star), rtol=1e-12)


def test_correlated_input_weights_rescale_the_fixed_point():
    """Correlated input weights with delta output: positions decouple after one layer, erf's
    cross-position kernel is E[erf u]^2 = 0, so q -> sigma_w^2 K(q) / sum_d R(d) + sigma_b^2,
    the MLP at sigma_w / sqrt(sum_d R(d)) (not q* itself: the summed-weight normalisation
    spreads the fan-in over correlated positions)."""
    spec = ("correlated", "gaussian", 2.0)
    R = stationary_correlation(check_grid(8), "gaussian", 2.0)
    effective = 1.5 / np.sqrt(R[0].sum())
    report = symfield.fixed_point("erf", sigma_w=repr(float(effective)), sigma_b=0.3, dps=30)
    Q = field_kernel("erf", np.ones((1, 8, 3)) * 0.7, 80, 1.5, 0.3, 8, spec)
    np.testing.assert_allclose(np.diagonal(Q[0, 0]), float(report.q_star), rtol=1e-12)
    unscaled = symfield.fixed_point("erf", sigma_w=1.5, sigma_b=0.3, dps=30)
    assert abs(float(unscaled.q_star) - Q[0, 0, 0, 0]) > 0.1


# ------------------------------------------------------------------------------------------
# Layers, precision and bad input
# ------------------------------------------------------------------------------------------
def test_all_layers_and_certified_digits():
    X = _inputs(5, 2, 3, 2)
    layers = field_kernel("erf", X, 3, 1.5, 0.1, 3, ("conv", 2), all_layers=True)
    assert len(layers) == 3 and all(Q.shape == (2, 2, 3, 3) for Q in layers)
    np.testing.assert_allclose(layers[-1], field_kernel("erf", X, 3, 1.5, 0.1, 3, ("conv", 2)))
    high = field_kernel("erf", X, 3, 1.5, 0.1, 3, ("conv", 2), dps=50, all_layers=True)
    with mpmath.workdps(50):
        expected = _conv_by_hand(X, 3, 1.5, 0.1, 3, 2)
        for key, value in expected.items():
            assert abs(high[2][key] - value) <= mpmath.mpf(10) ** -47 * max(1, abs(value))


@pytest.mark.parametrize("call, words", [
    (dict(grid=5), "shape (T, G, n0)"),
    (dict(grid=0), "grid"),
    (dict(grid=(2, 2, 1)), "axes"),
    (dict(grid=("segment", 0)), "integer >= 1"),
    (dict(grid=("line", 4)), "('segment', G)"),
    (dict(grid=("segment", 4), weight_covariance=("conv", 5)), "exceeds"),
    (dict(weight_covariance="pooling"), "unknown weight covariance"),
    (dict(weight_covariance=("conv", 5)), "exceeds"),
    (dict(weight_covariance=("conv",)), "takes 1"),
    (dict(weight_covariance=("correlated", "cauchy", 1.0)), "gaussian, exponential"),
    (dict(weight_covariance=("correlated", "gaussian", -1.0)), "> 0"),
    (dict(weight_covariance=("correlated", "gaussian", float("nan"))), "length"),
    (dict(weight_covariance=-np.eye(16).reshape(4, 4, 4, 4)), "smallest eigenvalue -1"),
    (dict(weight_covariance=np.eye(9).reshape(3, 3, 3, 3)), "shape (4, 4, 4, 4)"),
    (dict(bias_covariance=np.array([[1.0, 2.0], [2.0, 1.0]])), "shape (4, 4)"),
    (dict(bias_covariance=np.ones((4, 4)) - 2 * np.eye(4)), "not positive semi-definite"),
    (dict(bias_covariance="pooled"), "bias_covariance"),
    (dict(depth=0), "depth"),
    (dict(sigma_w=-1), "sigma_w"),
    (dict(inputs=np.full((1, 4, 1), np.nan)), "NaN"),
    (dict(inputs="x"), "numeric"),
    (dict(all_layers="yes"), "all_layers"),
    (dict(dps=5), "dps"),
    (dict(inputs=np.ones((40, 4, 1)), dps=30), "certified"),
    (dict(inputs=np.ones((3000, 4, 1))), "too large"),
])
def test_bad_input_is_one_line(call, words):
    arguments = dict(activation="erf", inputs=np.ones((2, 4, 1)), depth=2, sigma_w=1.5,
                     sigma_b=0.1, grid=4, weight_covariance="independent")
    arguments.update(call)
    with pytest.raises(InvalidValueError) as info:
        field_kernel(**arguments)
    message = str(info.value)
    assert "\n" not in message and words in message, message


def test_bias_covariances():
    assert np.array_equal(build_bias_covariance("independent", 3), np.eye(3))
    assert np.array_equal(build_bias_covariance("shared", 3), np.ones((3, 3)))
    R = build_bias_covariance(("correlated", "exponential", 1.0), 4)
    with mpmath.workdps(30):  # ring of 4, periodised exp(-|d|): R(1)/R(0) by the image sums
        image = lambda d: mpmath.nsum(lambda m: mpmath.exp(-abs(d + 4 * m)), [-mpmath.inf, mpmath.inf])
        assert abs(R[0, 1] - float(image(1) / image(0))) < 1e-14
        assert abs(R[0, 2] - float(image(2) / image(0))) < 1e-14


@pytest.mark.parametrize("length", [0.7, 4.0, 9.0, 40.0])  # images below G = 6, Fourier above
def test_gaussian_ring_profile_against_image_sums(length):
    R = stationary_correlation(check_grid(6), "gaussian", length)
    with mpmath.workdps(30):
        def image(d):
            return mpmath.nsum(lambda m: mpmath.exp(-(d + 6 * m) ** 2 / (2 * mpmath.mpf(length) ** 2)),
                               [-mpmath.inf, mpmath.inf])
        for d in range(1, 4):
            assert abs(R[0, d] - float(image(d) / image(0))) < 1e-14


def test_hostile_values_get_one_line_errors(tmp_path):
    """Every parameter fed text payloads (never evaluated: the marker file stays absent) and
    wrong types: a SymfieldError of one line or a result, nothing else."""
    from support.security_payloads import payloads

    from symfield.errors import SymfieldError

    marker = tmp_path / "marker"
    texts = [p.text for p in payloads(str(marker), str(tmp_path / "secret"))][:25]
    typed = [None, {}, -1, 1e308, float("nan"), True, 10**100, np.ones((2, 2, 2, 2, 2)),
             ("conv",), ("conv", 10**30), ("correlated", "gaussian", 10**400), 1j, b"x",
             np.array([object()])]
    base = dict(activation="erf", inputs=np.ones((2, 4, 1)), depth=2, sigma_w=1.5,
                sigma_b=0.1, grid=4, weight_covariance="independent",
                bias_covariance="independent", dps=None, all_layers=False)
    for name in base:
        for value in texts + typed:
            try:
                field_kernel(**{**base, name: value})
            except SymfieldError as e:
                assert "\n" not in str(e) and len(str(e)) < 1000, (name, value, str(e))
    assert not marker.exists()


@pytest.mark.parametrize("spec", [("correlated", "gaussian", 1.5, 1.0), "explicit",
                                  "shared_input"])
def test_certified_separable_and_explicit_covariances(spec):
    """dps: computed and explicit covariance arrays enter as their float64 values, the
    structural 1/G^2 exactly; the result agrees with float64 to rounding and with a 40-digit
    hand recursion (tensor sums in mpmath, Williams' kernel)."""
    G = 3
    pooled = spec == "shared_input"
    if spec == "explicit":
        factor = np.random.default_rng(2).normal(size=(G * G, 4))
        spec = (factor @ factor.T).reshape(G, G, G, G) / 10
    X = _inputs(4, 2, G, 1)
    certified = field_kernel("erf", X, 2, 1.3, 0.2, G, spec, dps=30)
    plain = field_kernel("erf", X, 2, 1.3, 0.2, G, spec)
    built = build_weight_covariance(spec, G)
    C = built.matrix().reshape(G, G, G, G)
    with mpmath.workdps(40):
        def entry(a, b, e, f):  # a separable covariance's product is formed in mpmath
            if pooled:
                return mpmath.mpf(1) / G**2 if a == e else 0
            if built.structure == "separable":
                return mpmath.mpf(float(built.output[a, e])) * mpmath.mpf(float(built.input[b, f]))
            return mpmath.mpf(float(C[a, b, e, f]))

        sw, sb = mpmath.mpf("1.3"), mpmath.mpf("0.2")
        x = [[mpmath.mpf(repr(float(X[t, z, 0]))) for z in range(G)] for t in range(2)]
        c = [[[[entry(a, b, e, f) for f in range(G)] for e in range(G)] for b in range(G)]
             for a in range(G)]
        keys = list(itertools.product(range(2), range(2), range(G), range(G)))
        K = {(t, s, a, b): x[t][a] * x[s][b] for t, s, a, b in keys}
        for _ in range(2):
            Q = {(t, s, a, e): sw**2 * mpmath.fsum(c[a][b][e][f] * K[t, s, b, f]
                                                   for b in range(G) for f in range(G))
                 + (sb**2 if a == e else 0) for t, s, a, e in keys}
            K = {(t, s, a, b): _williams_erf(Q[t, t, a, a], Q[s, s, b, b], Q[t, s, a, b])
                 for t, s, a, b in keys}
        for key in keys:
            assert abs(certified[key] - Q[key]) <= mpmath.mpf(10) ** -28 * max(1, abs(Q[key]))
            assert abs(plain[key] - float(Q[key])) <= 1e-13
