"""Sampled random networks: reproducibility, shapes, derivatives, Jacobians, mean-field sanity
and input validation. Monte Carlo checks use independent replicas and a 5-standard-error band
(engineering notes §4)."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symfield.laboratory.networks as networks
import symfield.laboratory.networks.seeds as seeds
from symfield.errors import InvalidValueError, SymfieldError, UnknownNameError
from symfield.laboratory.networks import replicate_networks, sample_network

SEEDS = st.integers(0, 2**32 - 1)
Z = 5.0  # Monte Carlo band in standard errors (p ~ 6e-7 per check)
SMOOTH = ["tanh", "erf"]


def small_network(activation="tanh", seed=0, widths=(6, 20, 24, 10), **kwargs):
    return sample_network(activation, 1.5, 0.3, list(widths), seed, **kwargs)


def fixed_point(network, seed=1, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(network.widths[0]), rng.standard_normal((network.widths[0], k))


# -- reproducibility ---------------------------------------------------------------------------
def assert_same_parameters(first, second):
    for layer in range(1, first.depth + 1):
        np.testing.assert_array_equal(first.weight(layer), second.weight(layer))
        np.testing.assert_array_equal(first.bias(layer), second.bias(layer))


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS)
def test_same_seed_same_network_and_outputs(seed):
    first, second = small_network(seed=seed), small_network(seed=seed)
    assert_same_parameters(first, second)
    point = np.linspace(-1, 1, 6)
    np.testing.assert_array_equal(first.forward(point).x(3), second.forward(point).x(3))
    # fresh generators with equal seeds are equal seeds too
    assert_same_parameters(small_network(seed=np.random.default_rng(seed)),
                           small_network(seed=np.random.default_rng(seed)))
    # a SeedSequence is used, not consumed
    sequence = np.random.SeedSequence(seed)
    assert_same_parameters(small_network(seed=sequence), small_network(seed=sequence))


@settings(max_examples=10, deadline=None)
@given(seed=SEEDS)
def test_different_seeds_different_networks(seed):
    first, second = small_network(seed=seed), small_network(seed=seed + 1)
    assert not np.array_equal(first.weight(1), second.weight(1))
    # one generator used twice gives two independent networks
    rng = np.random.default_rng(seed)
    assert not np.array_equal(small_network(seed=rng).weight(1), small_network(seed=rng).weight(1))
    # layers are not copies of one another
    net = small_network(seed=seed, widths=(20, 20, 20))
    assert not np.array_equal(net.weight(1), net.weight(2))


def test_lazy_network_equals_eager_network():
    eager, lazy = small_network(seed=7), small_network(seed=7, lazy=True)
    assert_same_parameters(eager, lazy)
    point, directions = fixed_point(eager)
    np.testing.assert_array_equal(eager.forward_tangents(point, directions).post[-1].packed,
                                  lazy.forward_tangents(point, directions).post[-1].packed)


def test_layer_numbers_depend_only_on_seed_layer_and_shape():
    short, long = small_network(seed=3, widths=(6, 20)), small_network(seed=3, widths=(6, 20, 5))
    assert_same_parameters(short, long)


def test_threaded_generation_does_not_change_numbers(monkeypatch):
    stream = np.random.SeedSequence(11)
    shape = (4 * seeds.BLOCK_ROWS + 3, 2048)  # large enough for the thread pool
    assert shape[0] * shape[1] >= seeds._PARALLEL_MIN_ENTRIES
    threaded = seeds.scaled_normal_matrix(shape, stream, 0.5)
    monkeypatch.setattr(seeds, "available_cpus", lambda: 1)
    serial = seeds.scaled_normal_matrix(shape, stream, 0.5)
    np.testing.assert_array_equal(threaded, serial)
    assert threaded.flags.c_contiguous and threaded.dtype == np.float64


def test_parameters_are_read_only_and_correctly_scaled():
    sigma_w, sigma_b = 1.7, 0.4
    net = sample_network("relu", sigma_w, sigma_b, [400, 500, 300], 5)
    weight = net.weight(1)
    with pytest.raises(ValueError):
        weight[0, 0] = 1.0
    # 200 000 entries: relative standard error of the variance ~ 0.3 %
    assert np.var(weight) * 400 == pytest.approx(sigma_w**2, rel=0.03)
    assert np.var(net.weight(2)) * 500 == pytest.approx(sigma_w**2, rel=0.03)
    assert abs(np.mean(weight)) < 5 * sigma_w / np.sqrt(400) / np.sqrt(weight.size)
    biases = np.concatenate([net.bias(1), net.bias(2)])
    assert np.var(biases) == pytest.approx(sigma_b**2, rel=0.25)


# -- shapes and the forward pass ---------------------------------------------------------------
def test_shapes():
    net = small_network()
    single = net.forward(np.ones(6))
    batch = net.forward(np.ones((4, 6)))
    assert net.depth == 3 and single.depth == 3
    assert [u.shape for u in single.pre_activations] == [(20,), (24,), (10,)]
    assert [x.shape for x in batch.post_activations] == [(4, 20), (4, 24), (4, 10)]
    assert single.q().shape == (3,) and batch.q().shape == (3, 4)
    assert batch.correlation(0, 1).shape == (3,)
    point, directions = fixed_point(net, k=5)
    jets = net.forward_second_order(point, directions)
    assert jets.layer(0).tangents.shape == (6, 5)
    assert jets.layer(2).tangents.shape == (24, 5)
    assert jets.layer(2, post_activation=True).second.shape == (24, 5, 5)
    assert jets.metric(3).shape == (5, 5)
    assert net.jacobian_product(point).shape == (10, 6)
    assert net.jacobian_product(point, 1, 2).shape == (24, 20)
    assert net.layer_jacobian(point, 2).shape == (24, 20)


def test_forward_matches_definition_and_batches_row_by_row():
    net = small_network("erf")
    inputs = np.random.default_rng(2).standard_normal((3, 6))
    batch = net.forward(inputs)
    for row in range(3):
        x = inputs[row]
        for layer in range(1, 4):
            u = net.weight(layer) @ x + net.bias(layer)
            np.testing.assert_allclose(batch.u(layer)[row], u, rtol=1e-12, atol=1e-13)
            x = net.activation.numpy_functions[0](u)
        np.testing.assert_allclose(net.forward(inputs[row]).x(3), batch.x(3)[row],
                                   rtol=1e-12, atol=1e-13)
    jets = net.forward_tangents(inputs[0], np.eye(6)[:, :2])
    np.testing.assert_allclose(jets.pre[1].value, batch.u(2)[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(jets.q(), batch.q()[:, 0], rtol=1e-12)
    assert batch.x(0) is batch.inputs


# -- derivatives against finite differences ----------------------------------------------------
def central_difference(function, step):
    return (function(step) - function(-step)) / (2 * step)


@pytest.mark.parametrize("activation", SMOOTH)
@settings(max_examples=8, deadline=None)
@given(seed=SEEDS)
def test_tangents_match_finite_differences(activation, seed):
    net = small_network(activation, seed=seed)
    point, directions = fixed_point(net, seed=seed + 1, k=3)
    jets = net.forward_tangents(point, directions)
    for a in range(3):
        for layer in (1, 3):
            for post in (False, True):
                def along(h):
                    result = net.forward(point + h * directions[:, a])
                    return result.x(layer) if post else result.u(layer)
                expected = central_difference(along, 1e-5)
                np.testing.assert_allclose(jets.layer(layer, post).tangents[:, a], expected,
                                           rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("activation", SMOOTH)
@settings(max_examples=8, deadline=None)
@given(seed=SEEDS)
def test_second_derivatives_match_finite_differences_of_tangents(activation, seed):
    net = small_network(activation, seed=seed)
    point, directions = fixed_point(net, seed=seed + 1, k=3)
    jets = net.forward_second_order(point, directions)
    for b in range(3):
        for post in (False, True):
            def tangents_along(h):
                return net.forward_tangents(point + h * directions[:, b],
                                            directions).layer(3, post).tangents
            expected = central_difference(tangents_along, 1e-5)  # column a: d_b d_a
            second = jets.layer(3, post).second
            np.testing.assert_allclose(second[:, :, b], expected, rtol=1e-6, atol=1e-7)
            np.testing.assert_array_equal(second, second.transpose(0, 2, 1))
    # the tangent columns of the second-order pass are the plain tangents
    np.testing.assert_allclose(jets.post[-1].tangents,
                               net.forward_tangents(point, directions).post[-1].tangents,
                               rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("activation", SMOOTH)
def test_curve_derivatives_match_finite_differences_on_a_great_circle(activation):
    net = small_network(activation, seed=4)
    rng = np.random.default_rng(5)
    first, second = rng.standard_normal(6), rng.standard_normal(6)
    radius, angle = np.sqrt(6 * 1.3), 0.7
    jets = net.forward_curve(*networks.great_circle(angle, first, second, radius))

    def velocity_at(h):
        return net.forward_tangents(*_with_column(
            networks.great_circle(angle + h, first, second, radius))).post[-1].tangents[:, 0]

    def position_at(h):
        return net.forward(networks.great_circle(angle + h, first, second, radius)[0]).x(3)

    np.testing.assert_allclose(jets.post[-1].velocity, central_difference(position_at, 1e-5),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(jets.post[-1].acceleration, central_difference(velocity_at, 1e-5),
                               rtol=1e-6, atol=1e-7)
    # a curve is the one-direction case of the second-order pass with input_second = a
    position, velocity, acceleration = networks.great_circle(angle, first, second, radius)
    general = net.forward_second_order(position, velocity[:, None], acceleration[:, None, None])
    np.testing.assert_allclose(general.post[-1].second[:, 0, 0], jets.post[-1].acceleration,
                               rtol=1e-13, atol=1e-14)


def _with_column(curve_point):
    position, velocity, _ = curve_point
    return position, velocity[:, None]


# -- Jacobian products -------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_jacobian_product_matches_chain_of_b_matrices_and_tangents(activation):
    net = small_network(activation, seed=9, widths=(6, 20, 24, 16, 10))
    point, directions = fixed_point(net, k=4)
    chain = [net.layer_jacobian(point, layer) for layer in range(1, net.depth + 1)]
    slopes = net.activation.numpy_functions[1](net.forward(point).u(2))
    np.testing.assert_array_equal(chain[1], slopes[:, None] * net.weight(2))
    full = net.jacobian_product(point)
    np.testing.assert_allclose(full, np.linalg.multi_dot(chain[::-1]), rtol=1e-12, atol=1e-13)
    jets = net.forward_tangents(point, directions)
    np.testing.assert_allclose(full @ directions, jets.post[-1].tangents, rtol=1e-11, atol=1e-12)
    middle = net.jacobian_product(point, from_layer=1, to_layer=3)
    np.testing.assert_allclose(middle @ jets.post[0].tangents, jets.post[2].tangents,
                               rtol=1e-11, atol=1e-12)
    np.testing.assert_array_equal(net.jacobian_product(point, 2, 2), np.eye(24))


# -- linear activation: everything is exact ----------------------------------------------------
def test_linear_network_is_affine_and_exact():
    net = small_network("linear", seed=12)
    point, directions = fixed_point(net, k=3)
    product = np.linalg.multi_dot([net.weight(layer) for layer in (3, 2, 1)])
    offset = net.forward(np.zeros(6)).x(3)
    np.testing.assert_allclose(net.forward(point).x(3), product @ point + offset,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.jacobian_product(point), product, rtol=1e-12, atol=1e-13)
    jets = net.forward_second_order(point, directions)
    np.testing.assert_allclose(jets.post[-1].tangents, product @ directions, rtol=1e-12,
                               atol=1e-12)
    # tangents do not depend on the point, and there is no curvature at all
    other = net.forward_tangents(point + 3.0, directions)
    np.testing.assert_allclose(other.post[-1].tangents, jets.post[-1].tangents, rtol=1e-12,
                               atol=1e-12)
    assert not np.any(jets.post[-1].second)
    np.testing.assert_array_equal(jets.pre[1].packed, jets.post[1].packed)


# -- mean-field sanity (independent replicas) --------------------------------------------------
@pytest.mark.parametrize("activation,sigma_w,sigma_b", [("tanh", 1.5, 0.3), ("relu", 1.4, 0.1)])
def test_first_layer_length_matches_mean_field(activation, sigma_w, sigma_b):
    point = np.random.default_rng(0).standard_normal(64) * 1.2
    theory = sigma_w**2 * point @ point / 64 + sigma_b**2
    estimate = replicate_networks(lambda net: net.forward(point).q()[0], activation, sigma_w,
                                  sigma_b, [64, 1024], replicas=40, seed=2024)
    assert estimate.replicas == 40
    assert abs(estimate.z_score(theory)) <= Z, estimate
    assert estimate.standard_error < 0.02 * theory  # the check has power


def test_length_map_dictionary_holds_layer_by_layer():
    # E[q^{l+1} | x^l] = sigma_w^2 A^l + sigma_b^2 for any phi (theory §2.2), exactly
    sigma_w, sigma_b = 2.5, 0.3

    def residuals(net):
        result = net.forward(np.full(32, 0.8))
        return result.q()[1:] - (sigma_w**2 * result.activity()[:-1] + sigma_b**2)

    estimate = replicate_networks(residuals, "tanh", sigma_w, sigma_b, [32, 256, 256, 256],
                                  replicas=30, seed=99)
    assert np.all(np.abs(estimate.z_score(0.0)) <= Z), estimate.z_score(0.0)


# -- input validation --------------------------------------------------------------------------
@pytest.mark.parametrize("widths", [[5], [], [5, 0], [5, -3], [5, 2.5], [5, True], "55", 5])
def test_bad_widths(widths):
    with pytest.raises(InvalidValueError, match="widths"):
        sample_network("tanh", 1.0, 0.0, widths, 0)


@pytest.mark.parametrize("name", ["sigma_w", "sigma_b"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -0.5, "1.0", 1j, None, True])
def test_bad_scales(name, value):
    scales = {"sigma_w": 1.0, "sigma_b": 0.1, name: value}
    with pytest.raises(InvalidValueError, match=name):
        sample_network("tanh", scales["sigma_w"], scales["sigma_b"], [3, 4], 0)


def test_zero_scales_are_valid():
    net = sample_network("tanh", 0.0, 0.0, [3, 4, 2], 0)
    assert not np.any(net.forward(np.ones(3)).x(2))


@pytest.mark.parametrize("seed", [-1, 1.5, None, "seed", True])
def test_bad_seed(seed):
    with pytest.raises(InvalidValueError, match="seed"):
        sample_network("tanh", 1.0, 0.0, [3, 4], seed)


def test_unknown_activation():
    with pytest.raises(UnknownNameError, match="valid activations"):
        sample_network("softmaxx", 1.0, 0.0, [3, 4], 0)
    assert issubclass(UnknownNameError, SymfieldError) and issubclass(SymfieldError, ValueError)


def test_bad_inputs():
    net = small_network()
    good_point, good_directions = fixed_point(net)
    cases = [
        (lambda: net.forward(np.ones(5)), "inputs must have shape"),
        (lambda: net.forward(np.ones((2, 7))), "inputs must have shape"),
        (lambda: net.forward(np.ones((2, 2, 6))), "inputs must have shape"),
        (lambda: net.forward(np.full(6, np.nan)), "NaN"),
        (lambda: net.forward(np.ones(6, dtype=complex)), "real"),
        (lambda: net.forward(["a"] * 6), "real"),
        (lambda: net.forward_tangents(good_point, good_point), "directions must have shape"),
        (lambda: net.forward_tangents(good_point, np.ones((6, 0))), "directions must have shape"),
        (lambda: net.forward_tangents(np.ones(7), good_directions), "point must have shape"),
        (lambda: net.forward_curve(good_point, np.ones(5)), "velocity must have shape"),
        (lambda: net.forward_second_order(good_point, good_directions, np.ones((6, 3))),
         "input_second must have shape"),
        (lambda: net.forward_second_order(good_point, good_directions,
                                          np.arange(54.0).reshape(6, 3, 3)), "symmetric"),
        (lambda: net.forward_tangents(good_point, good_directions).post[0].second, "curve"),
        (lambda: net.forward_tangents(good_point, good_directions).post[0].velocity,
         "one direction"),
        (lambda: net.forward(good_point).u(0), "layer"),
        (lambda: net.forward(good_point).q12(), "batch"),
        (lambda: net.weight(4), "layer"),
        (lambda: net.jacobian_product(good_point, 3, 2), "from_layer"),
        (lambda: net.layer_jacobian(good_point, 0), "layer"),
    ]
    for call, message in cases:
        with pytest.raises(InvalidValueError, match=message):
            call()


def test_bad_replicas():
    with pytest.raises(InvalidValueError, match="replicas"):
        replicate_networks(lambda net: 0.0, "tanh", 1.0, 0.0, [3, 4], replicas=1, seed=0)


# -- architecture: an independent witness ------------------------------------------------------
NETWORKS_DIR = pathlib.Path(networks.__file__).parent
#: The ground floor the witness may stand on: the activation registry (phi, phi', phi'' as
#: numpy), errors, number and scale checks, worker counts. Never the calculus or the laws.
ALLOWED_SYMFIELD_MODULES = {"activations", "errors", "numbers", "processes"}


def test_sampled_networks_import_nothing_symbolic_but_the_activation_registry():
    for path in NETWORKS_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                # symfield.laboratory.*: the cross-checks import the laws
                raise AssertionError(f"{path.name} imports ..{node.module} (the laboratory's "
                                     f"cross-checks)")
            if isinstance(node, ast.ImportFrom) and node.level >= 3:
                top = (node.module or "").split(".")[0]
                assert top in ALLOWED_SYMFIELD_MODULES, f"{path.name} imports ...{node.module}"
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] != "sympy", f"{path.name} imports {name}"
                if name.startswith("symfield."):
                    assert name.startswith("symfield.laboratory.networks") or \
                        name.split(".")[1] in ALLOWED_SYMFIELD_MODULES, \
                        f"{path.name} imports {name}"


def test_importing_the_sampled_networks_loads_no_gaussian_or_laws_module():
    # symfield/__init__.py imports everything, so stand in an empty parent package: what
    # gets loaded then is exactly symfield.laboratory (its __init__ runs first),
    # symfield.laboratory.networks and what they import, directly or not.
    code = (
        "import sys, types\n"
        "root = types.ModuleType('symfield')\n"
        f"root.__path__ = [{str(NETWORKS_DIR.parent.parent)!r}]\n"
        "sys.modules['symfield'] = root\n"
        "import symfield.laboratory.networks\n"
        "bad = [m for m in sys.modules if m.startswith(('symfield.gaussian', 'symfield.laws',\n"
        "                                               'symfield.dynamics'))]\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
