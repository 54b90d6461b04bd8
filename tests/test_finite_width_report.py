"""``symfield.finite_width``: the per-layer report, its two number systems, its predictions
and its bad-input refusals (issue 14, part 1 API and 'Bad input')."""
from __future__ import annotations

import json

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import symfield
from symfield.dynamics.finite_width import MAX_DEPTH, FiniteWidthReport, finite_width
from symfield.errors import InvalidValueError, SymfieldError, UnknownNameError
from test_finite_width_laws import REL, close, reference_layers


def test_layer_one_is_exact_and_index_zero_is_layer_one():
    report = finite_width("tanh", "1.3", "0.2", "0.8", 4, dps=30)
    assert close(report.q[0], "4/5")
    assert report.V[0] == 0 and report.K1[0] == 0
    assert all(len(getattr(report, name)) == 4
               for name in ("q", "chi_parallel", "chi_perp", "V", "K1"))
    assert report.mean_layer_variance is None  # no width, no predictions


def test_values_match_the_reference_recursion():
    ref = reference_layers("tanh", "3/4", "11/10", "3/10", 3)
    report = finite_width("tanh", "1.1", "0.3", "0.75", 3, dps=30)
    for name in ("q", "chi_parallel", "V", "K1"):
        for got, want in zip(getattr(report, name), ref[name]):
            assert close(got, want), (name, got, want)


def test_chi_perp_is_chi1_at_each_layer():
    report = finite_width("tanh", "1.3", "0.2", "1", 3, dps=30)
    chi1 = symfield.derive("chi1", "tanh")
    for q_value, chi in zip(report.q, report.chi_perp):
        assert close(chi, chi1.evaluate(dps=30, q=q_value, sigma_w="1.3"))


def test_float64_agrees_with_certified_values():
    exact = finite_width("tanh", 1.3, 0.2, 1, 30, width=64, dps=30)
    fast = finite_width("tanh", 1.3, 0.2, 1, 30, width=64, dps=None)
    assert isinstance(fast.V, np.ndarray) and fast.V.dtype == float
    for name in ("q", "chi_parallel", "chi_perp", "V", "K1", "excess_kurtosis",
                 "var_layer_variance", "mean_layer_variance"):
        a = np.array([float(v) for v in getattr(exact, name)])
        assert np.allclose(getattr(fast, name), a, rtol=1e-11, atol=1e-14), name


def test_predictions_for_a_width():
    report = finite_width("relu", sp.sqrt(2), 0, 1, 4, width=8)
    # ReLU at criticality: q = 1, V^l = 5 (l - 1), K1 = 0
    assert [float(v) for v in report.V] == [0, 5, 10, 15]
    assert all(k == 0 for k in report.K1)
    assert [float(v) for v in report.var_layer_variance] == [(2 + 5 * k) / 8 for k in range(4)]
    assert [float(v) for v in report.excess_kurtosis] == [3 * 5 * k / 8 for k in range(4)]
    assert [float(v) for v in report.mean_layer_variance] == [1, 1, 1, 1]
    # the excess kurtosis at order 1/n is the first term of the exact 3((1 + 5/n)^(l-1) - 1)
    exact = symfield.derive("scale_invariant_variance", "relu")
    assert float(report.excess_kurtosis[1]) == pytest.approx(
        3 * float(exact.evaluate(sigma_w=sp.sqrt(2), n=8, L=1)), rel=1e-12)


def test_forms_are_reported():
    assert finite_width("relu", 1, 0, 1, 2).forms == {
        "chi_parallel": "closed", "four_point_vertex": "closed", "mean_shift": "closed",
        "chi_perp": "closed"}
    assert finite_width("tanh", 1, 0, 1, 2).forms["four_point_vertex"] == "series"


def test_json_and_text():
    report = finite_width("tanh", "1.2", "0.1", 1, 3, width=16, dps=20)
    data = json.loads(report.to_json())
    assert data["depth"] == 3 and len(data["V"]) == 3 and data["width"] == 16
    assert data["V"][0] == "0.0"
    text = str(report)
    assert "excess_kurtosis" in text and len(text.splitlines()) == 3 + 3


def test_depth_one_is_the_input_layer_only():
    report = finite_width("sigmoid", 1, 0.1, 2, 1, width=32, dps=None)
    assert report.q.tolist() == [2.0] and report.V.tolist() == [0.0]
    assert report.var_layer_variance.tolist() == [2 * 4 / 32]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"width": 0}, InvalidValueError, "width .* integer >= 1"),
    ({"width": -8}, InvalidValueError, "width .* integer >= 1"),
    ({"width": 2.5}, InvalidValueError, "width .* integer >= 1"),
    ({"width": True}, InvalidValueError, "width .* integer >= 1"),
    ({"depth": 0}, InvalidValueError, "depth must be an integer >= 1"),
    ({"depth": -1}, InvalidValueError, "depth must be an integer >= 1"),
    ({"depth": "3"}, InvalidValueError, "depth must be an integer >= 1"),
    ({"depth": MAX_DEPTH + 1}, InvalidValueError, "at most"),
    ({"q0": 0}, InvalidValueError, "q0 .* > 0"),
    ({"q0": "nan"}, InvalidValueError, "q0"),
    ({"sigma_w": 0}, InvalidValueError, "sigma_w"),
    ({"sigma_b": -1}, InvalidValueError, "sigma_b"),
    ({"dps": 5}, InvalidValueError, "dps"),
    ({"activation": "softsign"}, UnknownNameError, "valid activations"),
])
def test_bad_input_is_one_line(kwargs, error, match):
    args = {"activation": "tanh", "sigma_w": 1, "sigma_b": 0, "q0": 1, "depth": 3}
    args.update(kwargs)
    with pytest.raises(error, match=match) as info:
        finite_width(**args)
    assert "\n" not in str(info.value) and isinstance(info.value, SymfieldError)


def test_blow_up_is_an_error_not_inf():
    with pytest.raises(InvalidValueError, match="blow up"):
        finite_width("exp", 30, 0, 1, 8, dps=None)


def test_report_type():
    assert isinstance(finite_width("linear", 1, 0, 1, 2), FiniteWidthReport)
