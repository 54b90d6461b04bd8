"""The 1/n laws against many independent small networks (issue 14, part 3): V^l and K1^l from
fits in 1/n across widths 16 ... 128 with honest (batch) standard errors, a power test, and
ReLU's exact (1 + 5/n)^L - 1 at n = 8, L = 3. Sizes are fixed; no test times anything."""
from __future__ import annotations

import math

import numpy as np
import pytest
from dataclasses import replace

from hypothesis import Phase, given, settings, strategies as st

import symfield
from symfield.errors import InvalidValueError
from symfield.laboratory.finite_width import (AcrossWidthsCheck, DEFAULT_WIDTHS, WidthEstimate,
                                              check_exact_variance, check_finite_width,
                                              fit_in_inverse_width)


@pytest.fixture(scope="module")
def tanh_check():
    return check_finite_width("tanh", 1.2, 0.1, depth=3, seed=20240514)


def test_tanh_vertex_and_mean_shift_pass(tanh_check):
    assert tanh_check.passed, str(tanh_check)
    vertex = [row for row in tanh_check.rows if row.quantity == "V"]
    # the speed target's accuracy: about 3 % (or better) on V from four widths
    assert all(row.standard_error < 0.03 * row.prediction for row in vertex), str(tanh_check)
    assert {row.quantity for row in tanh_check.rows} == {"V", "var_Q", "K1"}


def test_a_wrong_vertex_is_rejected(tanh_check):
    """The same networks (same seed) against V off by 10 %: rejected."""
    wrong = check_finite_width("tanh", 1.2, 0.1, depth=3, seed=20240514, vertex_scale=1.1)
    assert not wrong.passed
    worst = max(abs(row.z_score) for row in wrong.rows if row.quantity == "V")
    assert worst > wrong.z
    assert [row.estimate for row in wrong.rows] == [row.estimate for row in tanh_check.rows]


@pytest.fixture(scope="module")
def relu_exact():
    return check_exact_variance("relu", math.sqrt(2), width=8, depth=3, seed=11)


def test_relu_exact_law_at_n_8_and_3_layers(relu_exact):
    check = relu_exact
    assert check.prediction == pytest.approx((1 + 5 / 8) ** 3 - 1, rel=1e-12)
    assert check.passed, (check.estimate, check.standard_error, check.prediction)
    assert check.standard_error < 0.06 * check.prediction


def test_relu_exact_law_rejects_a_wrong_exponent_base(relu_exact):
    """(1 + 6/n)^L - 1 instead of (1 + 5/n)^L - 1 is 25 % off: rejected by the same networks."""
    check = relu_exact
    wrong = (1 + 6 / 8) ** 3 - 1
    assert abs(check.estimate - wrong) > check.z * check.standard_error


def test_relu_at_criticality_through_the_fit():
    check = check_finite_width("relu", math.sqrt(2), 0.0, depth=3, seed=7, networks=3000)
    assert check.passed, str(check)
    vertex = [row.prediction for row in check.rows if row.quantity == "V"]
    assert vertex == pytest.approx([5.0, 10.0, 15.0], rel=1e-12)


@settings(max_examples=4)
@given(seed=st.integers(0, 2**32 - 1),
       case=st.sampled_from([("tanh", 1.5, 0.3), ("erf", 1.1, 0.0), ("sigmoid", 2.0, 0.5),
                             ("relu", 1.3, 0.2)]))
def test_property_true_laws_pass_for_any_seed(seed, case):
    activation, sigma_w, sigma_b = case
    check = check_finite_width(activation, sigma_w, sigma_b, depth=2, seed=seed,
                               widths=(16, 32, 64), networks=1200, batches=24)
    assert check.passed, str(check)


def test_fit_recovers_a_known_line():
    estimates = [WidthEstimate(n, 2.0 + 3.0 / n, 0.01) for n in (16, 32, 64, 128)]
    intercept, error, slope, chi2 = fit_in_inverse_width(estimates)
    assert intercept == pytest.approx(2.0) and slope == pytest.approx(3.0)
    assert chi2 == pytest.approx(0.0, abs=1e-12) and 0 < error < 0.05


@pytest.mark.parametrize("kwargs,match", [
    ({"widths": (16,)}, "two different widths"),
    ({"widths": (16, 1)}, "width"),
    ({"networks": 2}, "networks"),
    ({"batches": 1}, "batches"),
    ({"depth": 0}, "depth"),
    ({"q0": 0.001}, "q0 must exceed"),
    ({"z": -1}, "z must be"),
])
def test_bad_sizes_are_refused_before_sampling(kwargs, match):
    args = {"activation": "tanh", "sigma_w": 1.2, "sigma_b": 0.1, "depth": 2, "seed": 1}
    args.update(kwargs)
    with pytest.raises(InvalidValueError, match=match):
        check_finite_width(**args)


def test_exact_check_refuses_activations_that_are_not_scale_invariant():
    with pytest.raises(InvalidValueError, match="scale-invariant"):
        check_exact_variance("tanh", 1.0, width=8, depth=2, seed=1, networks=8, batches=2)


def test_batch_errors_are_honest():
    """Over seeds, the fitted intercepts scatter as their standard errors say (a check of the
    error estimate itself: 12 independent runs, their z-scores have spread near 1)."""
    scores = []
    for seed in range(12):
        check = check_finite_width("linear", 1.0, 0.0, depth=1, seed=seed,
                                   widths=(16, 64), networks=800, batches=20)
        scores += [row.z_score for row in check.rows if row.quantity == "V"]
    spread = float(np.std(scores, ddof=1))
    assert 0.5 < spread < 1.6, scores


# ------------------------------------------------------------------------------------------
# check_law routes the 1/n laws to the fit across widths
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def routed_vertex():
    return symfield.check_law("four_point_vertex", "tanh", 1.2, 0.1, None, 3, seed=20240514,
                              widths=DEFAULT_WIDTHS)


def test_check_law_routes_the_vertex_to_the_fit_across_widths(routed_vertex, tanh_check):
    report = routed_vertex
    assert isinstance(report, AcrossWidthsCheck) and report.passed, str(report)
    assert report.widths == DEFAULT_WIDTHS and report.width == max(DEFAULT_WIDTHS)
    assert [row.quantity for row in report.rows] == ["V"] * 3
    # the same networks and the same fit as check_finite_width (not a second implementation)
    direct = [row for row in tanh_check.rows if row.quantity == "V"]
    assert [(r.prediction, r.estimate, r.standard_error) for r in report.rows] == \
        [(r.prediction, r.estimate, r.standard_error) for r in direct]
    text = str(report)
    assert "widths=[16, 32, 64, 128]" in text and "PASS" in text


def test_check_law_rejects_a_vertex_off_by_ten_percent(routed_vertex):
    wrong = symfield.check_law("four_point_vertex", "tanh", 1.2, 0.1, list(DEFAULT_WIDTHS), 3,
                               seed=20240514, scale=1.1)
    assert not wrong.passed and abs(wrong.z_score) > wrong.z, str(wrong)
    assert [r.estimate for r in wrong.rows] == [r.estimate for r in routed_vertex.rows]
    assert [r.prediction for r in wrong.rows] == \
        pytest.approx([1.1 * r.prediction for r in routed_vertex.rows], rel=1e-12)


def test_check_law_routes_the_mean_shift():
    report = symfield.check_law("mean_shift", "erf", 1.1, 0.2, (16, 32, 64), 2, seed=3,
                                replicas=1200)
    assert report.passed and [row.quantity for row in report.rows] == ["K1", "K1"], str(report)
    assert report.rows[0].prediction == 0.0  # K1^2 = chi_par K1^1 + ... V^1 = 0


@settings(max_examples=3, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 2**32 - 1),
       case=st.sampled_from([("four_point_vertex", "tanh", 1.5, 0.3),
                             ("mean_shift", "sigmoid", 2.0, 0.5),
                             ("four_point_vertex", "relu", 1.3, 0.2)]))
def test_property_routed_laws_pass_for_any_seed(seed, case):
    law, activation, sigma_w, sigma_b = case
    report = symfield.check_law(law, activation, sigma_w, sigma_b, None, 2, seed,
                                replicas=1200, widths=(16, 32, 64), batches=24)
    assert report.passed, str(report)


@pytest.mark.parametrize("width,kwargs,match", [
    (32, {}, "at one width .* pass widths="),
    ([32], {}, "two different widths"),
    ([32, 32], {}, "two different widths"),
    ([16, 0], {}, "width must be an integer >= 2"),
    ([16, -8], {}, "width must be an integer >= 2"),
    (None, {"widths": "16,32"}, "widths must be a list"),
    ([16, 32], {"widths": [16, 32]}, "give the widths once"),
    (None, {"widths": [16, 32], "c0": 0.5}, "no option 'c0'"),
    (None, {"widths": [16, 32], "scale": "x"}, "scale must be"),
    (None, {"widths": [16, 32], "replicas": 2}, "replicas"),
])
def test_routed_check_refuses_bad_widths_in_one_line(width, kwargs, match):
    with pytest.raises(InvalidValueError, match=match) as info:
        symfield.check_law("four_point_vertex", "tanh", 1.2, 0.1, width, 2, 0, **kwargs)
    assert "\n" not in str(info.value)


def test_single_width_laws_refuse_several_widths_and_edited_laws_are_refused():
    with pytest.raises(InvalidValueError, match="checked at one width: pass width=N"):
        symfield.check_law("length_map", "tanh", 1.2, 0.1, [16, 32], 2, 0)
    from symfield.laws import get_law
    edited = replace(get_law("four_point_vertex"), title="edited")
    with pytest.raises(InvalidValueError, match="registered law only; .* scale="):
        symfield.check_law(edited, "tanh", 1.2, 0.1, [16, 32], 2, 0)
