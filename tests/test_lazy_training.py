"""The lazy (NTK) regime, checked by training (issue 13, part 2).

Finite networks are trained by full-batch gradient descent (hand-written backpropagation);
the exponents of the width are fitted across widths with confidence intervals. Bounds are
honest: each is the theory's exponent with a margin covering the spread seen over seeds at
these (pre-asymptotic) widths, and each has a power check showing it can fail.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import Phase, currently_in_test_context, given, note, settings
from hypothesis import strategies as st

import symfield
from symfield.cli.main import main
from symfield.learning import TrainingDiverged, lazy_training, theory_exponents
from symfield.learning.lazy import (fit_exponent, infinite_width_kernel, linear_prediction,
                                    regression_task)
from symfield.learning.networks import Network

MONTE_CARLO = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                       phases=[Phase.explicit, Phase.generate])
#: The scaling study of the tests: one hidden layer, widths 64..1024, three seeds each.
STUDY = dict(widths=(64, 128, 256, 512, 1024), depth=2, n_train=16, n_test=16, replicas=3)


def _study(activation, parameterization, seed):
    sw = 1.4 if activation == "relu" else 1.5
    report = lazy_training(activation, sw, 0.2, parameterization=parameterization, seed=seed,
                           **STUDY)
    if currently_in_test_context():
        note(report.format())
    return report


def shows_lazy_decay(report) -> bool:
    """The relative weight change decays like n^-1/2 (slope within 0.25 of -1/2)."""
    slope = report.exponents["relative_weight_change"][0]
    return -0.75 <= slope <= -0.25


def excludes_lazy_decay(report) -> bool:
    """Weights move O(1): the slope's interval lies above -1/2 and the slope near 0."""
    slope, low, _high = report.exponents["relative_weight_change"]
    return low > -0.5 and slope > -0.2


# ------------------------------------------------------------------------------------------
# The scaling study
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["erf", "relu"])
@MONTE_CARLO
@given(seed=st.integers(0, 2**32 - 1))
def test_ntk_parameterisation_is_lazy(activation, seed):
    """Exponents within honest bounds of the theory (over 6 seeds: relative weight change
    -0.46..-0.63, initial-kernel error -0.42..-0.61, kernel change -0.74..-1.09 for erf
    (theory -1) and -0.72..-0.85 for ReLU (theory -3/4: kink crossings), function distance
    -0.38..-0.61)."""
    report = _study(activation, "ntk", seed)
    e = report.exponents
    assert set(e) >= {"relative_weight_change", "max_weight_change", "kernel_change",
                      "ntk_init_error", "function_distance"}
    assert all(low <= slope <= high for slope, low, high in e.values())
    assert shows_lazy_decay(report)
    assert -0.75 <= e["ntk_init_error"][0] <= -0.3
    assert -0.8 <= e["function_distance"][0] <= -0.2
    kernel = report.theory["kernel_change"]
    assert kernel == (-0.75 if activation == "relu" else -1.0)
    assert kernel - 0.35 <= e["kernel_change"][0] <= kernel + 0.3
    # the maximum entry: -1/2 up to the extreme-value factor of a maximum over n entries
    assert -0.7 <= e["max_weight_change"][0] <= -0.1
    assert all(r.reached_target for r in report.runs)
    assert report.fits["ntk_init_error"].consistent


@MONTE_CARLO
@given(seed=st.integers(0, 2**32 - 1))
def test_mean_field_parameterisation_is_not_lazy(seed):
    """Weights move O(1): the -1/2 slope must be absent (and it is present for ntk)."""
    mean_field = _study("erf", "mean_field", seed)
    assert excludes_lazy_decay(mean_field)
    assert not shows_lazy_decay(mean_field)
    assert mean_field.exponents["kernel_change"][0] > -0.2
    assert all(r.reached_target for r in mean_field.runs)


def test_the_mean_field_check_can_fail():
    """Power check: the NTK parameterisation fails the mean-field test."""
    lazy = _study("erf", "ntk", 5)
    assert shows_lazy_decay(lazy) and not excludes_lazy_decay(lazy)


def test_standard_parameterisation_trains_to_the_target_and_its_output_layer_is_lazy():
    report = lazy_training("tanh", 1.5, 0.2, widths=(64, 256, 1024), depth=2, n_train=16,
                           n_test=8, replicas=2, parameterization="standard", seed=3)
    assert all(r.reached_target for r in report.runs)
    output_layer = np.array([r.layer_relative_change[-1] for r in report.runs])
    widths = np.array([r.width for r in report.runs], dtype=float)
    slope = fit_exponent(widths, output_layer, None).slope
    assert -0.75 <= slope <= -0.3
    assert report.theory["kernel_change"] == -2.0  # one hidden layer: frozen first layer
    assert report.exponents["kernel_change"][0] < -1.4


# ------------------------------------------------------------------------------------------
# The pieces
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("parameterization", ["ntk", "standard", "mean_field"])
def test_gradient_and_tangent_kernel_against_finite_differences(parameterization):
    act = symfield.registered_activations()["erf"]
    rng = np.random.default_rng(4)
    net = Network(*act.numpy_functions[:2], (3, 6, 5, 1), 1.3, 0.3, parameterization, rng)
    X = rng.standard_normal((5, 3))
    rows = []
    for group in (net.weights, net.biases):
        for array in group:
            for index in np.ndindex(array.shape):
                old = array[index]
                array[index] = old + 1e-6
                plus = net(X)[:, 0]
                array[index] = old - 1e-6
                minus = net(X)[:, 0]
                array[index] = old
                rows.append((plus - minus) / 2e-6)
    J = np.array(rows).T
    np.testing.assert_allclose(net.tangent_kernel(X), J @ J.T, atol=1e-7)
    weights = rng.standard_normal((5, 1))
    grads_w, grads_b = net.gradient(net.forward(X), weights)
    flat = np.concatenate([g.ravel() for g in grads_w] + [g.ravel() for g in grads_b])
    np.testing.assert_allclose(flat, J.T @ weights[:, 0], atol=1e-7)


def test_linear_prediction_is_gradient_descent_on_the_linear_model():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((9, 30))
    kernel = A @ A.T / 30  # 6 training points, 3 test points
    f0, y, lr = rng.standard_normal(9), rng.standard_normal(6), 0.7
    f = f0.copy()
    path = [f.copy()]
    for _ in range(12):
        f = f - lr / 6 * kernel[:, :6] @ (f[:6] - y)
        path.append(f.copy())
    predicted = linear_prediction(kernel, 6, f0, y, lr, np.array([0, 5, 12]))
    np.testing.assert_allclose(predicted, np.array(path)[[0, 5, 12]], atol=1e-10)


@pytest.mark.parametrize("parameterization", ["ntk", "standard", "mean_field"])
def test_wide_networks_have_the_engines_kernel(parameterization):
    """The empirical tangent kernel at width 4096 is within a few percent of the limit, in
    every parameterisation (a sampled check of infinite_width_kernel)."""
    act = symfield.registered_activations()["tanh"]
    X, _ = regression_task(6, 4, np.random.default_rng(1))
    widths = (4, 4096, 1)
    net = Network(*act.numpy_functions[:2], widths, 1.5, 0.2, parameterization,
                  np.random.default_rng(2))
    limit = infinite_width_kernel("tanh", X, widths, 1.5, 0.2, parameterization)
    empirical = net.tangent_kernel(X)
    assert np.linalg.norm(empirical - limit) / np.linalg.norm(limit) < 0.06
    if parameterization == "ntk":
        np.testing.assert_allclose(limit, symfield.nngp_ntk("tanh", X, 2, 1.5, 0.2)[1])


@given(seed=st.integers(0, 2**32 - 1), slope=st.floats(-1.5, 0.5))
@settings(max_examples=20, deadline=None, phases=[Phase.explicit, Phase.generate])
def test_fit_exponent_recovers_a_power_law(seed, slope):
    rng = np.random.default_rng(seed)
    widths = np.repeat([64.0, 128, 256, 512, 1024], 4)
    values = 3 * widths**slope * np.exp(0.05 * rng.standard_normal(widths.size))
    fit = fit_exponent(widths, values, slope)
    assert fit.low < fit.slope < fit.high
    assert abs(fit.slope - slope) < 0.1 and fit.high - fit.low < 0.2


def test_report_contents_plot_and_theory(tmp_path):
    report = lazy_training("erf", 1.5, 0.2, widths=(32, 64, 128), depth=2, n_train=8,
                           n_test=4, replicas=2, seed=1)
    assert len(report.runs) == 6
    assert report.theory == theory_exponents("ntk", 2, kinks=False)
    run = report.runs[0]
    assert len(run.layer_relative_change) == 2 and run.lr > 0 and run.steps > 0
    assert run.time_course.size == run.checkpoints.size > 3
    text = report.format()
    assert "exponents of the width" in text and "nan" not in text.lower()
    data = json.loads(json.dumps(report.as_dict()))
    assert set(data["exponents"]) == set(report.exponents)
    path = tmp_path / "lazy.png"
    report.plot(path)
    assert path.read_bytes().startswith(b"\x89PNG")


# ------------------------------------------------------------------------------------------
# Bad input and failed runs
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    (dict(widths=[0, 8]), r"widths\[0\] must be an integer"),
    (dict(widths=[]), "from 1 to"),
    (dict(depth=0), "depth must be an integer"),
    (dict(depth=1), "no hidden width"),
    (dict(n_train=200, widths=[8, 16]), "not P >> N"),
    (dict(lr=float("nan")), "lr must be a finite number"),
    (dict(lr=float("inf")), "lr must be a finite number"),
    (dict(lr=-1), "lr must be a finite number > 0"),
    (dict(parameterization="mup"), "parameterization must be one of"),
    (dict(widths=[64, 64], replicas=1), "two distinct widths"),
    (dict(steps=0), "steps must be an integer"),
    (dict(target_loss=2), "target_loss"),
    (dict(widths=[8192, 16384], depth=8), "floating-point operations"),
    (dict(seed=-1), "seed must be"),
])
def test_bad_input_is_one_clear_line(kwargs, match):
    args = dict(activation="erf", sigma_w=1.5, sigma_b=0.1, widths=[16, 32], n_train=4,
                n_test=2, replicas=2)
    args.update(kwargs)
    with pytest.raises(symfield.SymfieldError, match=match) as info:
        lazy_training(**args)
    assert "\n" not in str(info.value)


def test_a_diverging_run_reports_the_step_and_the_loss():
    with pytest.raises(TrainingDiverged) as info:
        lazy_training("erf", 1.5, 0.1, widths=[16, 32], n_train=8, n_test=4, replicas=2,
                      lr=50)
    error = info.value
    assert error.step >= 1 and error.width == 16 and error.loss > 1e5
    assert f"at step {error.step}" in str(error) and "loss" in str(error)
    assert "nan" not in str(error).lower()


def test_a_learning_rate_beyond_the_ntk_edge_has_no_lazy_prediction():
    """Above 2/lambda_max the linear model diverges; if the network converges anyway (the
    catapult phase) the run is reported as such, never as a table of huge distances."""
    with pytest.raises(symfield.InvalidValueError, match="exceeds 2/lambda_max"):
        lazy_training("erf", 1.5, 0.1, widths=[64, 128], n_train=32, n_test=4, replicas=2,
                      lr=3, seed=0)


def test_cli_lazy_and_fisher(tmp_path, capsys):
    assert main(["lazy", "erf", "--sigma-w", "1.5", "--sigma-b", "0.2", "--widths", "32,64",
                 "--n-train", "8", "--n-test", "4", "--replicas", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameterization"] == "ntk" and len(data["runs"]) == 4
    plot = tmp_path / "s.png"
    assert main(["fisher", "relu", "--sigma-w", "1.4", "--sigma-b", "0.1", "--widths",
                 "8,16,16", "--outputs", "2", "--check", "16,32", "--replicas", "2",
                 "--samples", "8", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "lambda_max" in out and "eigenvector_overlap" in out and plot.exists()
    assert main(["fisher", "relu", "--sigma-w", "1.4", "--sigma-b", "0.1", "--widths", "8,16",
                 "--latex"]) == 0
    assert capsys.readouterr().out.startswith("\\documentclass")
    assert main(["fisher", "erf", "--sigma-w", "1.5", "--sigma-b", "0", "--widths", "4,4",
                 "--dps", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dps"] == 20


@pytest.mark.parametrize("argv", [
    ["lazy", "erf", "--sigma-w", "1", "--sigma-b", "0", "--depth", "0"],
    ["lazy", "erf", "--sigma-w", "1", "--sigma-b", "0", "--widths", "8,16", "--n-train", "400"],
    ["lazy", "erf", "--sigma-w", "1", "--sigma-b", "0", "--lr", "nan"],
    ["lazy", "erf", "--sigma-w", "1.5", "--sigma-b", "0.1", "--widths", "16,32", "--lr", "50",
     "--n-train", "8", "--n-test", "2", "--replicas", "2"],
    ["lazy", "erf", "--sigma-w", "1", "--sigma-b", "0", "--widths", "8,x"],
    ["fisher", "erf", "--sigma-w", "1", "--sigma-b", "0", "--widths", "0"],
    ["fisher", "erf", "--sigma-w", "inf", "--sigma-b", "0", "--widths", "4"],
    ["fisher", "erf", "--sigma-w", "1", "--sigma-b", "0", "--widths", "4", "--plot", "x.png"],
    ["fisher", "erf", "--sigma-w", "1", "--sigma-b", "0", "--widths", "4", "--dps", "3"],
])
def test_cli_bad_input_exits_2_with_one_line(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("symfield")
    assert "Traceback" not in captured.err and "nan" not in captured.out.lower()
