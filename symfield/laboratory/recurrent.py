"""Recurrent statistical neurodynamics: one fixed W acting again, against the layered law.

Amari's question: the macroscopic law X_{t+1} = F(X_t) is derived for a net whose weights are
fresh at every step; does it still hold for the recurrent net x(t+1) = phi(W x(t) + b) with
ONE W and b for all steps (X(T x), X(T T x), ...)? :func:`recurrent` runs that net from two
states of activity A_0 = |x|^2/n = 1 and overlap C_0 = x.x'/n = ``overlap0`` and compares,
step by step, the measured activity A_t and overlap C_t (mean over independent trials, each
with its own W, b and initial states, so the standard errors are honest) with the layered
prediction of :mod:`symfield.dynamics.recurrent` (the engine's activity and overlap maps
iterated).

Weights (W_ij of variance sigma_w^2/n off the diagonal in every kind):

- ``"asymmetric"``: i.i.d. N(0, sigma_w^2/n), E[W_ij W_ji] = 0;
- ``"symmetric"``: (G + G^T)/sqrt(2) sigma_w/sqrt(n), E[W_ij W_ji] = sigma_w^2/n;
- ``"partial"``: sqrt(kappa) S + sqrt(1 - kappa) G with S symmetric as above and G i.i.d.,
  so that the correlation of W_ij and W_ji is ``kappa`` (0 asymmetric, 1 symmetric);
- ``"fresh"``: a new W and b at every step, the layered net itself (the control). Because W
  is then independent of x(t), (W x, W x') = (sigma_w/sqrt(n)) Z R row by row, with Z an
  n x 2 standard normal matrix and R the 2 x 2 triangle of x(t) = Q R: the same distribution
  as a drawn n x n matrix at O(n) cost instead of O(n^2) per step.

:func:`recurrent_comparison` runs the four kinds side by side (the table and plot of
``symfield recurrent``) and :func:`recurrent_scaling` fits how the largest deviation over
t <= T shrinks with n: like n^-1/2 where the macroscopic law holds, O(1) where it fails.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..activations import Activation, get_activation
from ..dynamics.recurrent import check_steps, layered_macrodynamics
from ..errors import InvalidValueError, quoted
from .limits import check_correlation, check_flops, check_integer, check_scales
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence, scaled_normal_matrix
from .networks.validation import check_memory

WEIGHT_KINDS = ("asymmetric", "symmetric", "partial", "fresh")
#: Symmetry of weights="partial" when none is given.
DEFAULT_KAPPA = 0.5
#: Probability that a true law is reported as departing, for all the steps of a report
#: together (Bonferroni over its rows, Student t with trials - 1 degrees of freedom: with the
#: default 4 trials a z-score of 6 is not yet evidence).
DEFAULT_LEVEL = 1e-3
#: Trials x steps bound: every step of every trial is Python-level work.
MAX_TRIAL_STEPS = 10_000_000
#: Sizes of the default scaling study (the issue's n = 500 ... 8000).
DEFAULT_SIZES = (500, 1000, 2000, 4000, 8000)
#: Longest list of sizes in one scaling study.
MAX_SIZES = 64
#: Rows (and columns) per block when a weight matrix is symmetrised or summed in place.
_BLOCK = 512
#: Differences below this many units in the last place of the prediction are rounding.
_ROUNDING_ULPS = 64

# Keys of the random streams below one trial's seed.
_STATES, _BIAS, _WEIGHTS, _ASYMMETRIC_PART, _FRESH = range(5)


# ------------------------------------------------------------------------------------------
# Input checks
# ------------------------------------------------------------------------------------------
def check_weights(weights: object, kappa: object) -> tuple[str, float | None]:
    """The weight kind and, for "partial", its symmetry kappa in [0, 1]."""
    if not isinstance(weights, str) or weights not in WEIGHT_KINDS:
        raise InvalidValueError(f"weights must be one of {', '.join(WEIGHT_KINDS)}, got "
                                f"{quoted(weights)}")
    if weights != "partial":
        if kappa is not None:
            raise InvalidValueError(f"kappa is the symmetry of weights='partial' (asymmetric "
                                    f"is kappa = 0, symmetric kappa = 1); weights={weights!r} "
                                    f"takes no kappa")
        return weights, None
    if kappa is None:
        return weights, DEFAULT_KAPPA
    try:
        value = float(kappa)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if isinstance(kappa, (bool, np.bool_, str, bytes)) or not 0.0 <= value <= 1.0:
        raise InvalidValueError(f"kappa (the correlation of W_ij and W_ji) must be a number in "
                                f"[0, 1], got {quoted(kappa)}")
    return weights, value


def _check_size(n: int, steps: int, trials: int, weights: str,
                max_memory: int | None, max_flops: float | None) -> float:
    """Refuse before anything is drawn: memory of the weights, work of every trial. Returns
    the estimated floating-point work."""
    if trials * max(steps, 1) > MAX_TRIAL_STEPS:
        raise InvalidValueError(f"trials x steps = {trials * max(steps, 1)} exceeds "
                                f"{MAX_TRIAL_STEPS} (each step of each trial is Python-level "
                                f"work); use fewer trials or steps")
    vectors = 16.0 * 8 * n  # states, fields, biases and the per-step draws
    matrix = 0.0 if weights == "fresh" else 8.0 * n * n
    what = f"recurrent ({weights} weights, n = {n}, {steps} steps, {trials} trials)"
    check_memory(matrix + vectors, what, max_memory, "use a smaller n")
    if weights == "fresh":
        flops = trials * steps * 40.0 * n
    else:
        draws = 2 if weights == "partial" else 1
        flops = trials * (10.0 * draws * n * n + 2.0 * n * n + 4.0 * steps * n * n)
    check_flops(flops, what, max_flops)
    return flops


# ------------------------------------------------------------------------------------------
# One trial
# ------------------------------------------------------------------------------------------
def initial_states(n: int, overlap0: float, rng: np.random.Generator) -> np.ndarray:
    """Two states (columns) with |x|^2/n = |x'|^2/n = 1 and x.x'/n = overlap0, in a
    uniformly random plane."""
    basis, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    first = basis[:, 0]
    second = overlap0 * basis[:, 0] + math.sqrt(max(1.0 - overlap0 * overlap0, 0.0)) * basis[:, 1]
    return math.sqrt(n) * np.stack([first, second], axis=1)


def _add_transpose(matrix: np.ndarray) -> None:
    """matrix <- matrix + matrix^T in place, block by block (no second n x n array)."""
    n = matrix.shape[0]
    for i0 in range(0, n, _BLOCK):
        i1 = min(i0 + _BLOCK, n)
        diagonal = matrix[i0:i1, i0:i1]
        diagonal += diagonal.T.copy()
        for j0 in range(i1, n, _BLOCK):
            j1 = min(j0 + _BLOCK, n)
            upper, lower = matrix[i0:i1, j0:j1], matrix[j0:j1, i0:i1]
            upper += lower.T
            lower[...] = upper.T


def fixed_weights(weights: str, kappa: float | None, n: int, sigma_w: float,
                  stream: np.random.SeedSequence) -> np.ndarray:
    """The n x n matrix W of a fixed-weights kind (off-diagonal variance sigma_w^2/n)."""
    scale = sigma_w / math.sqrt(n)
    symmetric_share = {"asymmetric": 0.0, "symmetric": 1.0}.get(weights, kappa)
    assert symmetric_share is not None
    if symmetric_share == 0.0:
        return scaled_normal_matrix((n, n), child_sequence(stream, _WEIGHTS), scale)
    # (G + G^T) sqrt(share / 2) scale: off-diagonal variance share * scale^2
    matrix = scaled_normal_matrix((n, n), child_sequence(stream, _WEIGHTS),
                                  scale * math.sqrt(symmetric_share / 2))
    _add_transpose(matrix)
    rest = 1.0 - symmetric_share
    if rest > 0:
        rng = np.random.default_rng(child_sequence(stream, _ASYMMETRIC_PART))
        for r0 in range(0, n, _BLOCK):
            rows = matrix[r0:r0 + _BLOCK]
            rows += (scale * math.sqrt(rest)) * rng.standard_normal(rows.shape)
    return matrix


def fresh_fields(states: np.ndarray, sigma_w: float, sigma_b: float,
                 rng: np.random.Generator) -> np.ndarray:
    """W X + b for a freshly drawn W (i.i.d. N(0, sigma_w^2/n)) and b (N(0, sigma_b^2)) at
    O(n) cost: with X = Q R (Q orthonormal columns), W X = (W Q) R and W Q has i.i.d.
    N(0, sigma_w^2/n) entries because W's rows are isotropic and independent of X."""
    n = states.shape[0]
    _, triangle = np.linalg.qr(states)
    fields = (sigma_w / math.sqrt(n)) * (rng.standard_normal((n, states.shape[1])) @ triangle)
    fields += sigma_b * rng.standard_normal((n, 1))
    return fields


def run_trial(phi, weights: str, kappa: float | None, sigma_w: float, sigma_b: float, n: int,
              steps: int, overlap0: float, stream: np.random.SeedSequence
              ) -> tuple[np.ndarray, np.ndarray]:
    """(A_t, C_t) for t = 0..steps of one trial: A_t = (|x|^2 + |x'|^2)/(2n), C_t = x.x'/n."""
    states = initial_states(n, overlap0, np.random.default_rng(child_sequence(stream, _STATES)))
    activity = np.empty(steps + 1)
    overlap = np.empty(steps + 1)

    def measure(t: int) -> None:
        activity[t] = np.einsum("ij,ij->", states, states) / (2 * n)
        overlap[t] = states[:, 0] @ states[:, 1] / n

    measure(0)
    if weights == "fresh":
        for t in range(steps):
            rng = np.random.default_rng(child_sequence(stream, _FRESH, t))
            states = phi(fresh_fields(states, sigma_w, sigma_b, rng))
            measure(t + 1)
        return activity, overlap
    bias = sigma_b * np.random.default_rng(child_sequence(stream, _BIAS)).standard_normal((n, 1))
    matrix = fixed_weights(weights, kappa, n, sigma_w, stream)
    for t in range(steps):
        states = phi(matrix @ states + bias)
        measure(t + 1)
    return activity, overlap


# ------------------------------------------------------------------------------------------
# Reports
# ------------------------------------------------------------------------------------------
def _z_scores(measured: np.ndarray, error: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(measured - predicted) / error, differences within rounding of the prediction counting
    as 0 (t = 0 is the construction; sign's activity is exactly 1 with error 0)."""
    difference = measured - predicted
    rounding = _ROUNDING_ULPS * np.finfo(float).eps * np.maximum(np.abs(predicted), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(np.abs(difference) <= rounding, 0.0, difference / error)
    return np.where(np.isnan(predicted) | np.isnan(measured), np.nan, z)


@dataclass(frozen=True)
class RecurrentReport:
    """Predicted (layered law) and measured activity and overlap, t = 0..steps.

    ``trial_activity`` and ``trial_overlap`` hold every trial's trajectory (trials, steps+1);
    the measured arrays are their means and the standard errors std (ddof 1)/sqrt(trials).
    """

    activation: str
    sigma_w: float
    sigma_b: float
    n: int
    steps: int
    weights: str
    kappa: float | None
    overlap0: float
    trials: int
    seed: int | None
    predicted_activity: np.ndarray
    predicted_overlap: np.ndarray
    measured_activity: np.ndarray
    se_activity: np.ndarray
    measured_overlap: np.ndarray
    se_overlap: np.ndarray
    trial_activity: np.ndarray
    trial_overlap: np.ndarray

    @property
    def label(self) -> str:
        return f"partial (kappa = {self.kappa:g})" if self.weights == "partial" else self.weights

    @property
    def z_overlap(self) -> np.ndarray:
        return _z_scores(self.measured_overlap, self.se_overlap, self.predicted_overlap)

    @property
    def z_activity(self) -> np.ndarray:
        return _z_scores(self.measured_activity, self.se_activity, self.predicted_activity)

    @property
    def trial_max_deviation(self) -> np.ndarray:
        """Per trial, max over t = 1..steps of |C_t - predicted C_t| (0 without steps)."""
        if self.steps == 0:
            return np.zeros(self.trials)
        return np.max(np.abs(self.trial_overlap[:, 1:] - self.predicted_overlap[1:]), axis=1)

    @property
    def max_deviation(self) -> float:
        """max over t = 1..steps of |measured C_t - predicted C_t| (the trial mean's)."""
        if self.steps == 0:
            return 0.0
        return float(np.max(np.abs(self.measured_overlap[1:] - self.predicted_overlap[1:])))

    def critical_z(self, level: float = DEFAULT_LEVEL) -> float:
        """The |z| a step may reach while the report as a whole still agrees at ``level``:
        the two-sided Student t quantile (trials - 1 degrees of freedom, the standard errors
        being estimated from the trials) at level / (2 steps) (overlap and activity rows)."""
        from scipy import stats

        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise InvalidValueError(f"level must be a probability in (0, 1), got {quoted(level)}")
        rows = 2 * max(self.steps, 1)
        return float(stats.t.isf(level / (2 * rows), self.trials - 1))

    def agrees(self, level: float = DEFAULT_LEVEL) -> bool:
        """Whether every step's overlap and activity lie within :meth:`critical_z` standard
        errors of the law (a true law fails with probability at most ``level``)."""
        limit = self.critical_z(level)
        scores = np.concatenate([self.z_overlap, self.z_activity])
        return bool(np.all(np.isfinite(scores)) and np.all(np.abs(scores) <= limit))

    def format(self) -> str:
        lines = [
            f"recurrent {self.activation}: x(t+1) = phi(W x(t) + b), {self.label} weights, "
            f"sigma_w={self.sigma_w:g} sigma_b={self.sigma_b:g} n={self.n} trials={self.trials} "
            f"seed={self.seed}",
            "  law: the layered (fresh-weights) macrodynamics, activity_map and overlap_map "
            "iterated from A_0 = 1, C_0 = overlap0",
            f"  {'t':>4} {'C law':>10} {'C measured':>11} {'+-':>9} {'z':>7} "
            f"{'A law':>10} {'A measured':>11} {'+-':>9}",
        ]
        z = self.z_overlap
        for t in range(self.steps + 1):
            lines.append(
                f"  {t:>4} {self.predicted_overlap[t]:>10.5f} {self.measured_overlap[t]:>11.5f} "
                f"{self.se_overlap[t]:>9.2g} {z[t]:>+7.2f} {self.predicted_activity[t]:>10.5f} "
                f"{self.measured_activity[t]:>11.5f} {self.se_activity[t]:>9.2g}")
        verdict = "agrees with" if self.agrees() else "departs from"
        lines.append(f"  max_t |C_t - law| = {self.max_deviation:.4g}; the measurement {verdict} "
                     f"the law: |z| <= {self.critical_z():.3g} at every step (Student t, "
                     f"{self.trials - 1} degrees of freedom, level {DEFAULT_LEVEL:g} for all "
                     f"steps together)")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "activation": self.activation, "sigma_w": self.sigma_w, "sigma_b": self.sigma_b,
            "n": self.n, "steps": self.steps, "weights": self.weights, "kappa": self.kappa,
            "overlap0": self.overlap0, "trials": self.trials, "seed": self.seed,
            "predicted_overlap": self.predicted_overlap.tolist(),
            "measured_overlap": self.measured_overlap.tolist(),
            "se_overlap": self.se_overlap.tolist(),
            "predicted_activity": self.predicted_activity.tolist(),
            "measured_activity": self.measured_activity.tolist(),
            "se_activity": self.se_activity.tolist(),
            "z_overlap": self.z_overlap.tolist(),
            "max_deviation": self.max_deviation, "agrees": self.agrees(),
        }


@dataclass(frozen=True)
class _Run:
    """Checked arguments shared by every run of a call."""

    activation: Activation
    sigma_w: float
    sigma_b: float
    steps: int
    overlap0: float
    trials: int
    root: np.random.SeedSequence
    #: The seed as given when it is an int (reports print it), else None.
    seed: int | None


def _check_run(activation, sigma_w, sigma_b, steps, overlap0, trials, seed) -> _Run:
    act = get_activation(activation)
    w, b = check_scales(sigma_w, sigma_b)
    steps = check_steps(steps)
    overlap0 = check_correlation("overlap0", overlap0)
    trials = check_integer("trials", trials, 2)
    root = as_seed_sequence(seed)  # a Generator is advanced once, here
    shown = int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) \
        else None
    return _Run(act, w, b, steps, overlap0, trials, root, shown)


def recurrent(activation: str | Activation, sigma_w: float, sigma_b: float, n: int,
              steps: int, weights: str = "asymmetric", overlap0: float = 0.9,
              trials: int = 4, seed: SeedLike = 0, *, kappa: float | None = None,
              max_memory: int | None = None, max_flops: float | None = None
              ) -> RecurrentReport:
    """Run x(t+1) = phi(W x(t) + b) for ``steps`` steps from two states of activity 1 and
    overlap ``overlap0``, ``trials`` times (each trial its own W, b and states), and compare
    with the layered law.

    ``weights``: "asymmetric", "symmetric", "partial" (symmetry ``kappa`` in [0, 1], default
    0.5) or "fresh" (a new W and b at every step: the control). n >= 2 (two states with a
    given overlap need two dimensions), trials >= 2 (a standard error needs two). ``seed``:
    an int, a SeedSequence or a Generator (trial r uses the stream at key (r,) below it).
    Raises InvalidValueError for bad input, and before anything is drawn when the weights do
    not fit in memory (``max_memory`` bytes, default a share of what is available) or the
    work exceeds ``max_flops`` (default ``symfield.laboratory.limits.DEFAULT_MAX_FLOPS``).
    """
    run = _check_run(activation, sigma_w, sigma_b, steps, overlap0, trials, seed)
    n = check_integer("n", n, 2)
    weights, kappa = check_weights(weights, kappa)
    _check_size(n, run.steps, run.trials, weights, max_memory, max_flops)
    return _simulate(run, n, weights, kappa, run.root)


def _simulate(run: _Run, n: int, weights: str, kappa: float | None,
              root: np.random.SeedSequence) -> RecurrentReport:
    """The trials of one (n, weights) with checked arguments; trial r draws from root/(r,)."""
    steps, trials = run.steps, run.trials
    law = layered_macrodynamics(run.activation, run.sigma_w, run.sigma_b, steps,
                                overlap0=run.overlap0)
    phi = run.activation.numpy_functions[0]
    activity = np.empty((trials, steps + 1))
    overlap = np.empty((trials, steps + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        for r in range(trials):
            activity[r], overlap[r] = run_trial(phi, weights, kappa, run.sigma_w, run.sigma_b,
                                                n, steps, run.overlap0, child_sequence(root, r))
    if not (np.all(np.isfinite(activity)) and np.all(np.isfinite(overlap))):
        raise InvalidValueError(f"the simulated states left float64 (sigma_w={run.sigma_w:g}, "
                                f"{steps} steps): use fewer steps or a smaller sigma_w")
    return RecurrentReport(
        activation=run.activation.name, sigma_w=run.sigma_w, sigma_b=run.sigma_b, n=n,
        steps=steps, weights=weights, kappa=kappa, overlap0=run.overlap0, trials=trials,
        seed=run.seed,
        predicted_activity=np.asarray(law.activity, dtype=float),
        predicted_overlap=np.asarray(law.overlap, dtype=float),
        measured_activity=activity.mean(axis=0),
        se_activity=activity.std(axis=0, ddof=1) / math.sqrt(trials),
        measured_overlap=overlap.mean(axis=0),
        se_overlap=overlap.std(axis=0, ddof=1) / math.sqrt(trials),
        trial_activity=activity, trial_overlap=overlap)


# ------------------------------------------------------------------------------------------
# The four kinds side by side, and the scaling with n
# ------------------------------------------------------------------------------------------
def _check_kinds(kinds: object) -> tuple[str, ...]:
    if isinstance(kinds, str) or not isinstance(kinds, (list, tuple)) or not kinds:
        raise InvalidValueError(f"kinds must be a non-empty list of weight kinds ("
                                f"{', '.join(WEIGHT_KINDS)})")
    for kind in kinds:
        check_weights(kind, None)
    if len(set(kinds)) != len(kinds):
        raise InvalidValueError("kinds must not repeat a weight kind")
    return tuple(kinds)


def _check_kappa(kinds: tuple[str, ...], kappa: object) -> None:
    if kappa is None:
        return
    if "partial" not in kinds:
        raise InvalidValueError("kappa is the symmetry of weights='partial', which is not "
                                "among the kinds run")
    check_weights("partial", kappa)


def _kappa_for(kind: str, kappa: float | None) -> float | None:
    return (DEFAULT_KAPPA if kappa is None else kappa) if kind == "partial" else None


@dataclass(frozen=True)
class RecurrentComparison:
    """One :class:`RecurrentReport` per weight kind, same net and initial overlap."""

    reports: tuple[RecurrentReport, ...]

    def format(self) -> str:
        first = self.reports[0]
        header = (f"recurrent {first.activation}: sigma_w={first.sigma_w:g} "
                  f"sigma_b={first.sigma_b:g} n={first.n} trials={first.trials} "
                  f"seed={first.seed}; overlap C_t, law = layered (fresh-weights) "
                  f"macrodynamics; measured +- standard error over trials")
        names = [r.label for r in self.reports]
        width = max(14, *(len(name) for name in names))
        lines = [header, f"  {'t':>4} {'law':>9} " + " ".join(f"{n:>{width}}" for n in names)]
        for t in range(first.steps + 1):
            cells = " ".join(f"{f'{r.measured_overlap[t]:.4f} +- {r.se_overlap[t]:.1g}':>{width}}"
                             for r in self.reports)
            lines.append(f"  {t:>4} {first.predicted_overlap[t]:>9.4f} {cells}")
        lines.append("  max_t |C_t - law|:  " + "; ".join(
            f"{r.label} {r.max_deviation:.3g} ({'agrees' if r.agrees() else 'departs'})"
            for r in self.reports))
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"reports": [r.as_dict() for r in self.reports]}

    def plot(self, path=None):
        """Predicted vs measured C_t for every kind (returns the Figure; saved at ``path``)."""
        return plot_comparison(self, path)


def recurrent_comparison(activation: str | Activation, sigma_w: float, sigma_b: float, n: int,
                         steps: int, kinds: Sequence[str] = WEIGHT_KINDS,
                         overlap0: float = 0.9, trials: int = 4, seed: SeedLike = 0, *,
                         kappa: float | None = None, max_memory: int | None = None,
                         max_flops: float | None = None) -> RecurrentComparison:
    """:func:`recurrent` for each weight kind in ``kinds`` (``kappa`` for "partial")."""
    run = _check_run(activation, sigma_w, sigma_b, steps, overlap0, trials, seed)
    n = check_integer("n", n, 2)
    kinds = _check_kinds(kinds)
    _check_kappa(kinds, kappa)
    total = sum(_check_size(n, run.steps, run.trials, kind, max_memory, max_flops)
                for kind in kinds)
    check_flops(total, f"recurrent_comparison ({len(kinds)} weight kinds)", max_flops)
    reports = tuple(_simulate(run, n, kind, _kappa_for(kind, kappa), run.root)
                    for kind in kinds)
    return RecurrentComparison(reports)


def check_sizes(sizes: object) -> tuple[int, ...]:
    """At least two distinct sizes n >= 2, at most MAX_SIZES of them, in increasing order."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (list, tuple, np.ndarray)) \
            or not 2 <= len(sizes) <= MAX_SIZES:
        raise InvalidValueError(f"sizes must be a list of 2 to {MAX_SIZES} sizes n >= 2 "
                                f"(such as 500, 1000, 2000), got {type(sizes).__name__}")
    checked = sorted(check_integer("sizes entry", n, 2) for n in sizes)
    if len(set(checked)) != len(checked):
        raise InvalidValueError(f"sizes must be distinct, got {checked}")
    return tuple(checked)


#: The exponent of max_t |C_t - law| in n where the law holds (sampling noise ~ n^-1/2) and
#: where it fails (an O(1) departure).
HOLDS_EXPONENT, FAILS_EXPONENT = -0.5, 0.0


@dataclass(frozen=True)
class RecurrentScaling:
    """How max_{1 <= t <= steps} |C_t - law| of each trial shrinks with n, per weight kind.

    ``deviations[label]`` has shape (len(sizes), trials); ``exponents[label]`` is the
    least-squares slope of log(deviation) against log(n) over every trial with a 95%
    interval (``symfield.learning.lazy.fit_exponent``); its theory is -1/2 for the kinds
    where the law is expected to hold (fresh, asymmetric) and 0 for the others.
    """

    activation: str
    sigma_w: float
    sigma_b: float
    steps: int
    overlap0: float
    trials: int
    seed: int | None
    sizes: tuple[int, ...]
    labels: tuple[str, ...]
    deviations: dict
    exponents: dict

    def mean(self, label: str) -> np.ndarray:
        return self.deviations[label].mean(axis=1)

    def standard_error(self, label: str) -> np.ndarray:
        return self.deviations[label].std(axis=1, ddof=1) / math.sqrt(self.trials)

    def format(self) -> str:
        lines = [f"recurrent {self.activation}: sigma_w={self.sigma_w:g} sigma_b={self.sigma_b:g} "
                 f"overlap0={self.overlap0:g} steps={self.steps} trials={self.trials} "
                 f"seed={self.seed}",
                 "  max over t = 1..steps of |C_t - law| per trial (mean +- standard error), "
                 "and its exponent in n (95% interval)",
                 f"  {'weights':>22} " + " ".join(f"{f'n={n}':>17}" for n in self.sizes)
                 + f" {'exponent':>26}"]
        for label in self.labels:
            cells = " ".join(f"{f'{m:.4f} +- {e:.1g}':>17}" for m, e in
                             zip(self.mean(label), self.standard_error(label)))
            fit = self.exponents[label]
            lines.append(f"  {label:>22} {cells} {fit.slope:>+8.3f} "
                         f"[{fit.low:+.2f}, {fit.high:+.2f}] (theory {fit.theory:+g})")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "activation": self.activation, "sigma_w": self.sigma_w, "sigma_b": self.sigma_b,
            "steps": self.steps, "overlap0": self.overlap0, "trials": self.trials,
            "seed": self.seed, "sizes": list(self.sizes),
            "kinds": {label: {"max_deviation": self.mean(label).tolist(),
                              "standard_error": self.standard_error(label).tolist(),
                              "exponent": self.exponents[label].slope,
                              "interval": [self.exponents[label].low,
                                           self.exponents[label].high],
                              "theory": self.exponents[label].theory}
                      for label in self.labels},
        }

    def plot(self, path=None):
        """max_t |C_t - law| against n on log-log axes (returns the Figure)."""
        return plot_scaling(self, path)


def recurrent_scaling(activation: str | Activation, sigma_w: float, sigma_b: float,
                      sizes: Sequence[int] = DEFAULT_SIZES, steps: int = 10,
                      kinds: Sequence[str] = WEIGHT_KINDS, overlap0: float = 0.9,
                      trials: int = 4, seed: SeedLike = 0, *, kappa: float | None = None,
                      max_memory: int | None = None, max_flops: float | None = None
                      ) -> RecurrentScaling:
    """:func:`recurrent` at every size in ``sizes`` for every kind in ``kinds``, and the
    exponent in n of each trial's largest deviation from the law over t = 1..steps.

    The whole study's work is checked against ``max_flops`` before anything is drawn.
    """
    from ..learning.lazy import fit_exponent

    run = _check_run(activation, sigma_w, sigma_b, steps, overlap0, trials, seed)
    sizes = check_sizes(sizes)
    kinds = _check_kinds(kinds)
    _check_kappa(kinds, kappa)
    total = sum(_check_size(n, run.steps, run.trials, kind, max_memory, max_flops)
                for n in sizes for kind in kinds)
    check_flops(total, f"recurrent_scaling ({len(sizes)} sizes, {len(kinds)} weight kinds)",
                max_flops)
    deviations: dict = {}
    exponents: dict = {}
    labels = []
    widths = np.repeat(np.array(sizes, dtype=float), run.trials)
    for kind in kinds:
        symmetry = _kappa_for(kind, kappa)
        # size i draws from root/(i,): every kind sees the same initial states at one size
        reports = [_simulate(run, n, kind, symmetry, child_sequence(run.root, index))
                   for index, n in enumerate(sizes)]
        label = reports[0].label
        labels.append(label)
        deviations[label] = np.array([report.trial_max_deviation for report in reports])
        holds = kind in ("fresh", "asymmetric") or (kind == "partial" and symmetry == 0)
        theory = HOLDS_EXPONENT if holds else FAILS_EXPONENT
        values = np.maximum(deviations[label].ravel(), np.finfo(float).tiny)
        exponents[label] = fit_exponent(widths, values, theory)
    return RecurrentScaling(run.activation.name, run.sigma_w, run.sigma_b, run.steps,
                            run.overlap0, run.trials, run.seed, sizes, tuple(labels),
                            deviations, exponents)


# ------------------------------------------------------------------------------------------
# Figures (matplotlib's object interface, like symfield.output.plots)
# ------------------------------------------------------------------------------------------
def plot_comparison(comparison: RecurrentComparison, path=None):
    """C_t of the layered law (line) and measured for each weight kind (points with
    standard errors). Returns the Figure, saved at ``path`` when given."""
    from ..output.plots import STYLE, _figure, _matplotlib, save

    matplotlib, _ = _matplotlib()
    with matplotlib.rc_context(STYLE):
        fig, (axis,) = _figure(size=(5.6, 3.9))
        first = comparison.reports[0]
        steps = np.arange(first.steps + 1)
        axis.plot(steps, first.predicted_overlap, "-", color="k", lw=1.2,
                  label="layered law (fresh weights)")
        for i, report in enumerate(comparison.reports):
            offset = (i - (len(comparison.reports) - 1) / 2) * 0.06
            axis.errorbar(steps + offset, report.measured_overlap, yerr=report.se_overlap,
                          fmt="o", color=f"C{i}", markersize=3, capsize=2, label=report.label)
        axis.set_xlabel("step $t$")
        axis.set_ylabel("overlap $C_t = x(t)\\cdot x'(t)/n$")
        axis.set_title(f"{first.activation}: $\\sigma_w$={first.sigma_w:g}, "
                       f"$\\sigma_b$={first.sigma_b:g}, n={first.n}, {first.trials} trials")
        axis.legend(fontsize=7)
        if path is not None:
            save(fig, path)
    return fig


def plot_scaling(scaling: RecurrentScaling, path=None):
    """Largest deviation from the law against n (log-log) per kind, with an n^-1/2 guide."""
    from ..output.plots import STYLE, _figure, _matplotlib, save

    matplotlib, _ = _matplotlib()
    with matplotlib.rc_context(STYLE):
        fig, (axis,) = _figure(size=(5.6, 3.9))
        sizes = np.array(scaling.sizes, dtype=float)
        for i, label in enumerate(scaling.labels):
            fit = scaling.exponents[label]
            axis.errorbar(sizes, scaling.mean(label), yerr=scaling.standard_error(label),
                          fmt="o-", color=f"C{i}", markersize=4, capsize=2, lw=0.8,
                          label=f"{label}: slope {fit.slope:+.2f}")
        guide = scaling.mean(scaling.labels[0])[0] * (sizes / sizes[0]) ** -0.5
        axis.plot(sizes, guide, "--", color="gray", lw=0.8, label="$n^{-1/2}$")
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("$n$")
        axis.set_ylabel("$\\max_{t \\leq T} |C_t - C_t^{law}|$")
        axis.set_title(f"{scaling.activation}: T = {scaling.steps}, {scaling.trials} trials per n")
        axis.legend(fontsize=7)
        if path is not None:
            save(fig, path)
    return fig


__all__ = [
    "DEFAULT_KAPPA",
    "DEFAULT_SIZES",
    "DEFAULT_LEVEL",
    "WEIGHT_KINDS",
    "RecurrentComparison",
    "RecurrentReport",
    "RecurrentScaling",
    "check_sizes",
    "check_weights",
    "fixed_weights",
    "fresh_fields",
    "initial_states",
    "recurrent",
    "recurrent_comparison",
    "recurrent_scaling",
    "run_trial",
]
