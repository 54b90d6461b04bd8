"""Unit tests of symfield.laboratory and ``symfield simulate`` (the Monte Carlo properties
themselves are in test_properties_*.py)."""
from __future__ import annotations

import csv
import math
from dataclasses import replace

import numpy as np
import pytest

import symfield
from symfield.cli.main import main
from symfield.errors import InvalidValueError, UnknownNameError
from symfield.laws.single_input import LENGTH_MAP
from symfield.laboratory import (PLAN_KINDS, LawCheck, Predictor, check_law, simulate,
                                 supported_laws)
from symfield.laboratory import inputs as geometry
from symfield.laboratory.checks import combine_replicas


def test_check_law_report_fields_and_lazy_entry_point():
    report = symfield.check_law("length_map", "erf", 1.2, 0.1, 64, 2, 3, replicas=8)
    assert isinstance(report, LawCheck)
    assert (report.law, report.activation, report.replicas, report.z) == ("length_map", "erf",
                                                                          8, 5.0)
    assert "q^{l}" in report.convention and len(report.rows) == 2
    worst = max(report.rows, key=lambda r: abs(r.z_score))
    assert report.z_score == worst.z_score and report.prediction == worst.prediction
    assert report.passed == all(abs(r.z_score) <= 5 for r in report.rows)
    assert "length_map[erf]" in str(report)
    # reproducible from the seed
    again = check_law("length_map", "erf", 1.2, 0.1, 64, 2, 3, replicas=8)
    assert [r.estimate for r in again.rows] == [r.estimate for r in report.rows]


def test_first_layer_predictions_are_the_linear_input_layer():
    predictor = Predictor("tanh", 1.5, 0.4)
    assert predictor.lengths(2.0, 1)[0] == pytest.approx(1.5**2 * 2.0 + 0.4**2)
    c1 = predictor.correlations(0.3, 2.0, 1)[0]
    assert c1 == pytest.approx((1.5**2 * 0.6 + 0.16) / (1.5**2 * 2.0 + 0.16))
    assert predictor.metrics(np.eye(2), 1.0, 1)[1] == pytest.approx(1.5**2 * np.eye(2))
    kappa = predictor.curvatures(np.array([[2.0]]), 1.0, 1, "curvature_map")[0, 0, 0]
    assert kappa == pytest.approx(2.0 / 1.5**2)
    assert predictor.gradients(1.0, 3)[-1] == 1.0


def test_domino_prediction_is_the_domino_law_at_a_fixed_point():
    # start at q* so that q^l = q* for every layer: prod chi1(q^j) = domino(q*, L)
    predictor = Predictor("erf", 1.4, 0.0)
    length = symfield.derive("length_map", "erf").to_numpy()
    q = 1.0
    for _ in range(2000):
        q = float(length(q=q, sigma_w=1.4, sigma_b=0.0))
    q0 = q / 1.4**2  # input mean square with q^1 = q*
    expected = float(symfield.derive("domino", "erf").evaluate(q=q, sigma_w=1.4, L=3))
    assert predictor.dominoes(q0, 3)[-1] == pytest.approx(expected, rel=1e-8)


def test_wrong_law_overrides_reach_the_prediction():
    wrong = replace(LENGTH_MAP, define=lambda phi: LENGTH_MAP.define(phi) * 2)
    assert Predictor("erf", 1.0, 0.0, {"length_map": wrong}).lengths(1.0, 1)[0] == 2.0
    derived = symfield.derive("length_map", "erf")
    report = check_law(derived, "erf", 1.0, 0.0, 32, 1, 0, replicas=4)
    assert report.law == "length_map"
    with pytest.raises(InvalidValueError, match="derived for erf"):
        check_law(derived, "tanh", 1.0, 0.0, 32, 1, 0, replicas=4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(law="chi2"), "cannot simulate 'chi2': in a network chi2 only creates curvature"),
    (dict(law="ntk"), "cannot simulate 'ntk': the empirical NTK"),
    (dict(law="curvature_map", activation="relu"), "does not apply"),
    (dict(replicas=1), "replicas"),
    (dict(width=0), "width"),
    (dict(depth=0), "depth"),
    (dict(z=0), "z must be"),
    (dict(points=2), "no option 'points'"),
    (dict(q0=-1.0), "q0"),
])
def test_check_law_refuses_bad_input(kwargs, message):
    base = dict(law="length_map", activation="erf", sigma_w=1.0, sigma_b=0.0, width=16,
                depth=2, seed=0, replicas=4)
    base.update(kwargs)
    with pytest.raises((InvalidValueError, UnknownNameError), match=message):
        check_law(**base)


def test_every_registered_law_says_how_sampled_networks_check_it():
    """A law names a plan kind the laboratory provides, or says why none can check it:
    exactly one of the two, so a new law is never silently left unchecked."""
    for name, definition in symfield.registered_laws().items():
        planned = definition.sampled_check is not None
        assert planned != bool(definition.unsampled_reason.strip()), name
        if planned:
            assert definition.sampled_check in PLAN_KINDS, (name, definition.sampled_check)
        else:
            with pytest.raises(InvalidValueError, match=f"cannot simulate '{name}': "):
                check_law(name, "erf", 1.0, 0.0, 16, 2, 0, replicas=2)
    assert set(supported_laws()) == {name for name, definition in symfield.registered_laws().items()
                                     if definition.sampled_check}


def test_a_definition_cannot_both_name_a_plan_and_refuse_one():
    with pytest.raises(ValueError, match="contradict"):
        replace(LENGTH_MAP, unsampled_reason="no network")
    unplanned = replace(LENGTH_MAP, sampled_check=None)
    with pytest.raises(InvalidValueError, match="gives no reason"):
        check_law(unplanned, "erf", 1.0, 0.0, 16, 2, 0, replicas=2)
    unknown = replace(LENGTH_MAP, sampled_check="no_such_plan")
    with pytest.raises(InvalidValueError, match="does not provide"):
        check_law(unknown, "erf", 1.0, 0.0, 16, 2, 0, replicas=2)


def test_hostile_text_is_refused_with_a_short_excerpt():
    """Text where an array, a row list or a number belongs: one short line, never the whole
    (here 1 MB) input."""
    from symfield.laboratory import LawCheck, check_width_scaling

    text = "q+" * 500_000
    predictor = Predictor("erf", 1.0, 0.1)
    calls = [lambda: predictor.metrics(text, 1.0, 2),
             lambda: predictor.curvatures(text, 1.0, 2, "curvature_map"),
             lambda: predictor.metrics(np.eye(2), 1.0, 2, post_activation=text),
             lambda: LawCheck.build(text, 5.0),
             lambda: check_law("length_map", "erf", 1.0, 0.0, 16, 2, 0, replicas=2, z=text),
             lambda: check_width_scaling("erf", 1.0, 0.0, (16, 32), 1, 0, z=text),
             lambda: check_width_scaling("erf", 1.0, 0.0, (16, 32), 1, 0, expected=text)]
    for call in calls:
        with pytest.raises(InvalidValueError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and len(message) < 300, message[:300]
    with pytest.raises(InvalidValueError, match="must be a square"):
        predictor.metrics(np.ones(3), 1.0, 2)
    with pytest.raises(InvalidValueError, match="at least one compared row"):
        LawCheck.build([], 5.0)


def test_every_supported_law_runs():
    for name in supported_laws():
        options = {"directions": 2} if name == "curvature_map_post" else {}
        report = check_law(name, "erf", 1.3, 0.2, 24, 2, 1, replicas=3, **options)
        assert report.rows and all(np.isfinite(r.prediction) for r in report.rows), name


def test_backward_plans_predict_the_gradient_norm_products():
    """The backward order parameter iterated down from the top is the gradient-norm product
    (the same chi1 factors), and the pair law at identical inputs is the one-input law."""
    predictor = Predictor("tanh", 1.3, 0.2)
    single = predictor.backward_order_parameters(0.7, 4)
    assert single == pytest.approx(predictor.gradients(0.7, 4), rel=1e-12)
    pair = predictor.backward_pair_order_parameters(1.0, 0.7, 0.7, 4)
    assert pair == pytest.approx(single, rel=1e-9)
    assert pair[-1] == single[-1] == 1.0


def test_pair_gradient_products_of_identical_inputs_are_the_gradient_norms():
    from symfield.laboratory import measurements as measure
    from symfield.laboratory.networks import sample_network

    rng = np.random.default_rng(3)
    network = sample_network("erf", 1.2, 0.1, [12, 10, 9, 8], rng)
    point = rng.standard_normal(12)
    readouts = rng.standard_normal((8, 5))
    pairs = np.stack([point, point, -point, -point])
    products = measure.pair_gradient_products(network, pairs[:2], readouts)
    assert products == pytest.approx(measure.gradient_norms(network, point, readouts),
                                     rel=1e-12)
    # two pairs: the average of each pair's products, each input back-propagated alone
    both = measure.pair_gradient_products(network, pairs, readouts)
    alone = (measure.gradient_norms(network, point, readouts)
             + measure.gradient_norms(network, -point, readouts)) / 2
    assert both == pytest.approx(alone, rel=1e-12)


def test_combine_replicas_delta_method_matches_the_ratio_variance():
    rng = np.random.default_rng(0)
    numerator = 2.0 + 0.1 * rng.standard_normal(4000)
    denominator = 1.0 + 0.05 * rng.standard_normal(4000)
    values = np.stack([numerator, denominator], axis=1)
    estimate, error = combine_replicas(values, lambda m: np.array([m[0] / m[1]]))
    assert estimate[0] == pytest.approx(numerator.mean() / denominator.mean())
    # Var(N/D) ~ (sN^2 + (N/D)^2 sD^2)/D^2 / R for independent N, D
    expected = math.sqrt((0.1**2 + 4 * 0.05**2) / 4000)
    assert error[0] == pytest.approx(expected, rel=0.05)
    mean, plain = combine_replicas(values, None)
    assert plain == pytest.approx(values.std(axis=0, ddof=1) / math.sqrt(4000))


def test_input_geometry_is_exact():
    rng = np.random.default_rng(1)
    frame = geometry.input_frame(rng, 50, 0.7, 2, axes=3)
    assert frame.point @ frame.point / 50 == pytest.approx(0.7)
    assert np.allclose(frame.point[:3], 0)  # orthogonal to the coordinate directions
    gram = geometry.equicorrelated_gram(3, 1.0, 0.3)
    directions = geometry.directions_with_gram(frame, gram)
    assert directions.T @ directions / 50 == pytest.approx(gram)
    assert np.allclose(directions.T @ frame.point, 0)
    partner = geometry.partner(frame, 0.4)
    assert partner @ frame.point / (frame.point @ frame.point) == pytest.approx(0.4)
    torus = geometry.flat_torus(rng, 40, 1.5)
    point, tangents, second = torus.at(0.3, 1.1)
    assert point @ point / 40 == pytest.approx(1.5)
    assert tangents.T @ tangents / 40 == pytest.approx(0.75 * np.eye(2))
    assert np.allclose(second[:, 0, 1], 0)
    pairs = geometry.correlated_pairs(rng, 30, 2.0, -0.3, 3)
    assert pairs[0] @ pairs[1] / (pairs[0] @ pairs[0]) == pytest.approx(-0.3)
    assert abs(pairs[0] @ pairs[2]) < 1e-9
    with pytest.raises(InvalidValueError, match="too small"):
        geometry.input_frame(rng, 4, 1.0, 3, axes=3)


def test_simulate_table_csv_and_conventions(tmp_path):
    table = simulate("erf", 1.5, 0.2, 48, 3, replicas=3, seed=2, directions=3)
    names = [q.name for q in table.quantities]
    assert names == ["q", "c", "metric", "curvature", "domino", "offdiag"]
    text = table.format()
    assert "pre-activation (Poole)" in text and "post-activation, Amari" in text
    assert table.quantity("q").prediction[0] == pytest.approx(1.5**2 + 0.04)
    path = tmp_path / "table.csv"
    table.to_csv(str(path))
    rows = list(csv.DictReader(open(path)))
    assert len(rows) == 3 and float(rows[0]["q_prediction"]) == pytest.approx(2.29)
    with pytest.raises(UnknownNameError, match="no quantity 'nope'; its quantities: q, c,"):
        table.quantity("nope")
    with pytest.raises(InvalidValueError, match="cannot write the CSV .*No such file"):
        table.to_csv(str(tmp_path / "missing" / "table.csv"))
    relu = simulate("relu", 1.4, 0.1, 32, 2, replicas=2, seed=0, directions=2)
    assert np.all(np.isnan(relu.quantity("curvature").estimate))
    assert "not applicable to relu" in relu.format()


def test_cli_simulate_prints_table_and_writes_files(tmp_path, capsys):
    csv_path, png_path = tmp_path / "out.csv", tmp_path / "out.png"
    code = main(["simulate", "tanh", "--sigma-w", "2.5", "--sigma-b", "0.3", "--width", "48",
                 "--depth", "3", "--replicas", "3", "--directions", "2", "--csv",
                 str(csv_path), "--plot", str(png_path), "--progress"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "curvature pred" in out and "[length_map]" in out
    assert "3/3 networks" in err  # the progress bar
    assert csv_path.exists() and png_path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["simulate", "nope", "--sigma-w", "1", "--sigma-b", "0"], "unknown activation"),
    (["simulate", "erf", "--sigma-w", "-1", "--sigma-b", "0"], "sigma_w"),
    (["simulate", "erf", "--sigma-w", "1", "--sigma-b", "0", "--replicas", "1"], "replicas"),
    (["simulate", "erf", "--sigma-w", "1", "--sigma-b", "0", "--width", "4"], "too small"),
    (["simulate", "erf", "--sigma-w", "1", "--sigma-b", "0", "--seed", "-3"], "seed"),
])
def test_cli_simulate_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_cli_simulate_unwritable_csv(tmp_path, capsys):
    code = main(["simulate", "erf", "--sigma-w", "1", "--sigma-b", "0", "--width", "16",
                 "--depth", "1", "--replicas", "2", "--directions", "2", "--csv",
                 str(tmp_path / "missing" / "x.csv")])
    assert code == 2 and "cannot write" in capsys.readouterr().err
