"""Recurrent statistical neurodynamics (issue 12, part 2): one fixed W acting again against the
layered (fresh-weights) law.

The prediction is the engine's activity and overlap maps iterated; here it is checked against
closed forms written out independently (Williams' arcsine kernel for erf, the Cho-Saul
arc-cosine kernel for ReLU) at 30 digits. The simulation is checked against the law where it
must hold (fresh weights: the layered net itself), shown to reject a wrong prediction, and
used for the finding: with i.i.d. (asymmetric) fixed weights the law still holds (deviations
shrink like n^-1/2), with symmetric weights it fails by O(1) from t = 2 on, partial symmetry
in between.
"""
from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np
import pytest
from hypothesis import Phase, given, note, settings
from hypothesis import strategies as st

import symfield
from symfield.activations import get_activation
from symfield.dynamics.recurrent import layered_macrodynamics
from symfield.laboratory.networks.seeds import child_sequence
from symfield.laboratory.recurrent import (
    check_sizes,
    fixed_weights,
    fresh_fields,
    initial_states,
    recurrent,
    recurrent_comparison,
    recurrent_scaling,
)

#: Monte Carlo tests: two seeds drawn by Hypothesis, never shrunk (each run is seconds).
MONTE_CARLO = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                       phases=[Phase.explicit, Phase.generate])
SEEDS = st.integers(0, 2**32 - 1)
Z = 5.0


# ------------------------------------------------------------------------------------------
# The prediction against independent closed forms (oracles written here, mpmath, 40 digits)
# ------------------------------------------------------------------------------------------
def _erf_maps(activity, overlap, w2, b2):
    """Williams: E[erf(u) erf(u')] = (2/pi) asin(2 Cov / (1 + 2 Var)) at equal variances."""
    variance, covariance = w2 * activity + b2, w2 * overlap + b2
    return (2 / mpmath.pi * mpmath.asin(2 * variance / (1 + 2 * variance)),
            2 / mpmath.pi * mpmath.asin(2 * covariance / (1 + 2 * variance)))


def _relu_maps(activity, overlap, w2, b2):
    """Cho-Saul: E[relu(u) relu(u')] = q (sin t + (pi - t) cos t) / (2 pi), cos t = c."""
    variance, covariance = w2 * activity + b2, w2 * overlap + b2
    angle = mpmath.acos(covariance / variance)
    return (variance / 2, variance * (mpmath.sin(angle) + (mpmath.pi - angle)
                                      * mpmath.cos(angle)) / (2 * mpmath.pi))


ORACLES = {"erf": _erf_maps, "relu": _relu_maps}


def _oracle(activation, sigma_w, sigma_b, steps, overlap0):
    with mpmath.workdps(40):
        w2, b2 = mpmath.mpf(sigma_w) ** 2, mpmath.mpf(sigma_b) ** 2
        activity, overlap = [mpmath.mpf(1)], [mpmath.mpf(overlap0)]
        for _ in range(steps):
            a, c = ORACLES[activation](activity[-1], overlap[-1], w2, b2)
            activity.append(a)
            overlap.append(c)
        return activity, overlap


@pytest.mark.parametrize("activation", sorted(ORACLES))
@settings(max_examples=6)
@given(sigma_w=st.sampled_from(["0.5", "1.2", "1.5", "2.5"]),
       sigma_b=st.sampled_from(["0", "0.1", "0.7"]),
       overlap0=st.sampled_from(["-0.6", "0", "0.3", "0.9", "1"]))
def test_prediction_is_the_engines_law(activation, sigma_w, sigma_b, overlap0):
    steps = 6
    want_activity, want_overlap = _oracle(activation, sigma_w, sigma_b, steps, overlap0)
    certified = layered_macrodynamics(activation, sigma_w, sigma_b, steps, overlap0, dps=30)
    floats = layered_macrodynamics(activation, float(sigma_w), float(sigma_b), steps,
                                   float(overlap0))
    for t in range(steps + 1):
        for got, want, fast in ((certified.activity[t], want_activity[t], floats.activity[t]),
                                (certified.overlap[t], want_overlap[t], floats.overlap[t])):
            scale = max(abs(want), mpmath.mpf(1))
            assert abs(got - want) <= mpmath.mpf(10) ** -27 * scale, (t, got, want)
            assert abs(fast - float(want)) <= 1e-12 * float(scale), (t, fast, want)


def test_a_wrong_oracle_is_caught():
    """The reference test's comparison can fail: erf's law against ReLU's closed form."""
    _, want_overlap = _oracle("relu", "1.5", "0.1", 3, "0.9")
    got = layered_macrodynamics("erf", "1.5", "0.1", 3, "0.9", dps=30)
    assert abs(got.overlap[3] - want_overlap[3]) > 0.1


def test_sign_is_amaris_arcsine_law():
    """x(t+1) = sgn(W x(t)): C_{t+1} = (2/pi) arcsin C_t (activity 1), when sign is registered."""
    try:
        get_activation("sign")
    except symfield.SymfieldError:
        pytest.skip("the sign activation is not registered in this checkout")
    got = layered_macrodynamics("sign", 1, 0, 5, "0.9", dps=30)
    with mpmath.workdps(40):
        overlap = mpmath.mpf("0.9")
        for t in range(1, 6):
            overlap = 2 / mpmath.pi * mpmath.asin(overlap)
            assert abs(got.overlap[t] - overlap) < mpmath.mpf(10) ** -27
            assert abs(got.activity[t] - 1) < mpmath.mpf(10) ** -27


def test_zero_steps_and_the_correlation():
    law = layered_macrodynamics("erf", 1.5, 0.1, 0, overlap0=-0.25, activity0=2)
    assert law.activity.tolist() == [2.0] and law.overlap.tolist() == [-0.25]
    assert law.correlation.tolist() == [-0.125]


# ------------------------------------------------------------------------------------------
# The sampled net
# ------------------------------------------------------------------------------------------
def test_initial_states_have_the_overlap():
    states = initial_states(50, -0.3, np.random.default_rng(1))
    gram = states.T @ states / 50
    assert np.allclose(gram, [[1, -0.3], [-0.3, 1]], atol=1e-13)
    same = initial_states(7, 1.0, np.random.default_rng(2))
    assert np.allclose(same[:, 0], same[:, 1])


@pytest.mark.parametrize("weights,kappa", [("asymmetric", None), ("symmetric", None),
                                           ("partial", 0.3), ("partial", 0.0)])
def test_weights_have_the_variance_and_symmetry(weights, kappa):
    n, sigma_w = 400, 1.7
    matrix = fixed_weights(weights, kappa, n, sigma_w, np.random.SeedSequence(5))
    upper = np.triu_indices(n, 1)
    pairs = np.stack([matrix[upper], matrix.T[upper]]) * math.sqrt(n) / sigma_w
    count = pairs.shape[1]
    symmetry = {"asymmetric": 0.0, "symmetric": 1.0}.get(weights, kappa)
    # off-diagonal variance 1 (in units of sigma_w^2/n); SE of a variance sqrt(2/count)
    assert abs(pairs[0].var() - 1) < Z * math.sqrt(2 / count)
    correlation = np.mean(pairs[0] * pairs[1])
    if symmetry == 1.0:
        assert np.array_equal(matrix, matrix.T)
    else:  # SE of E[xy] for a correlation r: sqrt((1 + r^2)/count)
        assert abs(correlation - symmetry) < Z * math.sqrt((1 + symmetry**2) / count)


def test_fresh_fields_have_the_layered_covariance():
    """(W x, W x') row by row ~ N(0, sigma_w^2 X^T X / n) + the shared bias."""
    rng = np.random.default_rng(3)
    n = 20000
    states = initial_states(n, 0.6, rng) * np.array([1.0, 1.5])
    fields = fresh_fields(states, 1.3, 0.4, rng)
    want = 1.3**2 * states.T @ states / n + 0.4**2
    got = np.cov(fields, rowvar=False, bias=True)
    errors = np.sqrt((want**2 + np.outer(np.diag(want), np.diag(want))) / n)
    assert np.all(np.abs(got - want) < Z * errors), (got, want)


# ------------------------------------------------------------------------------------------
# The control: fresh weights are the layered net, so the law must hold
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["erf", "relu", "sign"])
@MONTE_CARLO
@given(seed=SEEDS)
def test_fresh_weights_agree_with_the_law(activation, seed):
    report = recurrent(activation, 1.5, 0.1, 4000, 8, "fresh", trials=16, seed=seed)
    note(report.format())
    assert report.agrees(), report.format()
    assert abs(report.measured_overlap[0] - 0.9) < 1e-14


@MONTE_CARLO
@given(seed=SEEDS)
def test_the_control_rejects_a_wrong_prediction(seed):
    """Power: the same measurement against the law at a 10% larger sigma_w fails."""
    report = recurrent("erf", 1.5, 0.1, 4000, 8, "fresh", trials=16, seed=seed)
    wrong = layered_macrodynamics("erf", 1.65, 0.1, 8, 0.9)
    rival = dataclasses.replace(report, predicted_overlap=wrong.overlap,
                                predicted_activity=wrong.activity)
    note(rival.format())
    assert report.agrees() and not rival.agrees()
    assert np.max(np.abs(rival.z_overlap)) > 2 * rival.critical_z()


# ------------------------------------------------------------------------------------------
# The finding: asymmetric fixed weights keep the law, symmetric ones break it
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation,sigma_w,sigma_b", [("erf", 1.5, 0.1), ("sign", 1, 0)])
@MONTE_CARLO
@given(seed=SEEDS)
def test_asymmetric_weights_keep_the_law_and_symmetric_ones_break_it(activation, sigma_w,
                                                                     sigma_b, seed):
    comparison = recurrent_comparison(activation, sigma_w, sigma_b, 1000, 8,
                                      ["asymmetric", "symmetric", "partial"], trials=8,
                                      seed=seed)
    note(comparison.format())
    asymmetric, symmetric, partial = comparison.reports
    assert asymmetric.agrees()
    assert asymmetric.max_deviation < 0.06
    # t = 1 is exact for every kind (W has not acted on a state it made)
    for report in comparison.reports:
        assert abs(report.z_overlap[1]) <= report.critical_z()
    # from t = 2 on the symmetric net departs by O(1), far beyond its errors
    assert not symmetric.agrees() and symmetric.max_deviation > 0.15
    assert np.max(symmetric.z_overlap[2:]) > symmetric.critical_z()
    # partial symmetry kappa = 1/2 departs too, by less
    assert not partial.agrees()
    assert asymmetric.max_deviation < partial.max_deviation < symmetric.max_deviation


@settings(max_examples=1, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate])
@given(seed=SEEDS)
def test_the_deviation_shrinks_like_n_to_the_minus_half_only_without_symmetry(seed):
    """Each trial's max_t |C_t - law| at n = 500 and 2000 (a factor 2 apart if it is sampling
    noise, ~n^-1/2): the fitted exponent's 95% interval meets -1/2 and excludes 0 for
    asymmetric weights, and excludes -1/2 for symmetric ones, whose deviation stays O(1)
    (it also carries the noise, which makes its slope slightly negative at small n)."""
    scaling = recurrent_scaling("erf", 1.5, 0.1, sizes=(500, 2000), steps=6,
                                kinds=["asymmetric", "symmetric"], trials=10, seed=seed)
    note(scaling.format())
    asymmetric = scaling.exponents["asymmetric"]
    symmetric = scaling.exponents["symmetric"]
    assert asymmetric.consistent and asymmetric.high < -0.2
    assert symmetric.low > -0.5 and symmetric.slope > -0.3
    assert np.all(scaling.mean("symmetric") > 0.15)
    assert np.all(scaling.mean("asymmetric") < 0.06)


def test_reports_are_reproducible_and_print(tmp_path):
    first = recurrent("erf", 1.5, 0.1, 64, 3, "partial", trials=2, seed=9, kappa=0.25)
    again = recurrent("erf", 1.5, 0.1, 64, 3, "partial", trials=2,
                      seed=np.random.SeedSequence(9), kappa=0.25)
    assert np.array_equal(first.trial_overlap, again.trial_overlap)
    assert first.predicted_overlap.shape == first.measured_overlap.shape == (4,)
    assert first.se_overlap.shape == first.measured_activity.shape == (4,)
    assert first.predicted_overlap[0] == 0.9 and abs(first.measured_overlap[0] - 0.9) < 1e-14
    assert "partial (kappa = 0.25)" in first.format() and first.as_dict()["kappa"] == 0.25
    comparison = recurrent_comparison("erf", 1.5, 0.1, 64, 3, trials=2, seed=9)
    assert [r.weights for r in comparison.reports] == ["asymmetric", "symmetric", "partial",
                                                       "fresh"]
    assert "fresh" in comparison.format()
    path = tmp_path / "c.png"
    comparison.plot(path)
    assert path.read_bytes().startswith(b"\x89PNG")
    scaling = recurrent_scaling("erf", 1.5, 0.1, sizes=[32, 64], steps=2,
                                kinds=["fresh"], trials=2, seed=1)
    assert set(scaling.as_dict()["kinds"]) == {"fresh"} and "fresh" in scaling.format()
    scaling.plot(tmp_path / "s.png")
    assert (tmp_path / "s.png").exists()


# ------------------------------------------------------------------------------------------
# Bad input: one clear line, before anything is drawn
# ------------------------------------------------------------------------------------------
GOOD = dict(activation="erf", sigma_w=1.5, sigma_b=0.1, n=64, steps=3, trials=2)


@pytest.mark.parametrize("change,match", [
    (dict(n=0), "n must be an integer >= 2"),
    (dict(n=1), "n must be an integer >= 2"),
    (dict(n=2.5), "n must be an integer"),
    (dict(steps=-1), "steps must be an integer from 0"),
    (dict(steps=10**9), "steps must be an integer from 0"),
    (dict(overlap0=1.5), r"overlap0 \(a correlation\) must be a number in \[-1, 1\]"),
    (dict(overlap0=float("nan")), r"overlap0 \(a correlation\)"),
    (dict(overlap0="0.5"), r"overlap0 \(a correlation\)"),
    (dict(weights="partial", kappa=1.5), r"kappa .* must be a number in \[0, 1\]"),
    (dict(weights="partial", kappa=-0.1), r"kappa .* must be a number in \[0, 1\]"),
    (dict(weights="partial", kappa=float("nan")), r"kappa .* must be a number in \[0, 1\]"),
    (dict(kappa=0.5), "kappa is the symmetry of weights='partial'"),
    (dict(weights="banana"), "weights must be one of asymmetric, symmetric, partial, fresh"),
    (dict(weights=3), "weights must be one of"),
    (dict(n=10**7), "needs about .* of memory"),
    (dict(n=10**5, steps=10**5, trials=200), "trials x steps"),
    (dict(n=5000, steps=5 * 10**4, trials=100), "floating-point operations"),
    (dict(trials=1), "trials must be an integer >= 2"),
    (dict(seed=-1), "seed must be non-negative"),
    (dict(seed="x"), "seed must be"),
    (dict(sigma_w=0), "sigma_w must be > 0"),
    (dict(sigma_b=float("inf")), "sigma_b must be finite"),
    (dict(activation="nope"), "unknown activation"),
])
def test_bad_input_is_one_line(change, match):
    arguments = {**GOOD, **change}
    with pytest.raises(symfield.InvalidValueError if "activation" not in change
                       else symfield.SymfieldError, match=match) as info:
        recurrent(**arguments)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("call,match", [
    (lambda: layered_macrodynamics("erf", 1, 0, -2), "steps must be an integer"),
    (lambda: layered_macrodynamics("erf", 1, 0, 3, overlap0=2), r"overlap0 must lie in"),
    (lambda: layered_macrodynamics("erf", 1, 0, 3, activity0=0), "activity0"),
    (lambda: layered_macrodynamics("erf", 1, 0, 3, dps=3), "dps must be an integer"),
    (lambda: layered_macrodynamics("erf", 1, 0, 5000, dps=20), "at most 1000 steps"),
    (lambda: layered_macrodynamics("erf", -1, 0, 3), "sigma_w must be > 0"),
    (lambda: layered_macrodynamics("relu", 1000, 0, 500), "leaves float64"),
    (lambda: recurrent_comparison("erf", 1, 0, 8, 2, kinds=["asymmetric"], kappa=0.2),
     "kappa is the symmetry"),
    (lambda: recurrent_comparison("erf", 1, 0, 8, 2, kinds="fresh"), "kinds must be"),
    (lambda: recurrent_comparison("erf", 1, 0, 8, 2, kinds=["fresh", "fresh"]), "repeat"),
    (lambda: check_sizes([500]), "sizes must be a list of 2"),
    (lambda: check_sizes([500, 500]), "distinct"),
    (lambda: check_sizes([1, 500]), "sizes entry must be an integer >= 2"),
    (lambda: recurrent_scaling("erf", 1, 0, sizes=[4000, 8000], steps=10**4, trials=100),
     "floating-point operations"),
])
def test_bad_input_elsewhere_is_one_line(call, match):
    with pytest.raises(symfield.InvalidValueError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_the_verdict_allows_for_estimated_errors():
    """With 4 trials the errors are estimated from 3 degrees of freedom: the critical |z| of
    the report is the Student t quantile, far above the normal 5; with many trials it nears
    the normal quantile at the same level (Bonferroni over 2 x steps rows)."""
    few = recurrent("erf", 1.5, 0.1, 32, 5, "fresh", trials=4, seed=1)
    many = recurrent("erf", 1.5, 0.1, 32, 5, "fresh", trials=400, seed=1)
    normal = float(mpmath.sqrt(2) * mpmath.erfinv(1 - mpmath.mpf(10) ** -3 / 10))
    assert few.critical_z() > 3 * normal
    assert normal < many.critical_z() < 1.03 * normal
    with pytest.raises(symfield.InvalidValueError, match="level must be a probability"):
        few.agrees(level=2)


def test_streams_are_keyed_by_trial():
    """Trial r of a run is the stream at key (r,): two runs share their first trials."""
    short = recurrent("erf", 1.5, 0.1, 32, 2, trials=2, seed=4)
    long = recurrent("erf", 1.5, 0.1, 32, 2, trials=3, seed=4)
    assert np.array_equal(short.trial_overlap, long.trial_overlap[:2])
    assert child_sequence(np.random.SeedSequence(4), 0).spawn_key == (0,)
