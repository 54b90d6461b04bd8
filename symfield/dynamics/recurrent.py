"""The layered (fresh-weights) macrodynamics of two states: Amari's activity A_t and overlap C_t.

Statistical neurodynamics asks whether the macroscopic law derived for a net with fresh
weights at every step, X_{t+1} = F(X_t), also describes a recurrent net x(t+1) =
phi(W x(t) + b) in which one fixed W acts again and again. This module is the prediction side
of that question: the law for fresh weights, obtained by iterating the engine's derived
``activity_map`` (A -> E[phi(u)^2], Var u = sigma_w^2 A + sigma_b^2) and ``overlap_map``
(C -> E[phi(u) phi(u')], Cov(u, u') = sigma_w^2 C + sigma_b^2) from (A_0, C_0). Both states
have the same activity at every step (they start equal), which is the overlap map's domain.
Nothing here states a formula: every number is a derived law's value. The sampled side is
:mod:`symfield.laboratory.recurrent`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath
import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, quoted
from ..laws import Law, derive
from ..numbers import check_dps, check_scales, to_exact, to_mpf

#: Longest trajectory predicted: every step is a law evaluation at Python level.
MAX_STEPS = 100_000
#: Longest certified trajectory: each step certifies two laws (milliseconds for closed forms
#: at 30 digits, much more for quadratures at high precision).
MAX_CERTIFIED_STEPS = 1000


@dataclass(frozen=True)
class LayeredMacrodynamics:
    """A_t and C_t for t = 0..steps under the fresh-weights law.

    ``activity`` and ``overlap`` are float64 arrays (``dps`` None) or tuples of mpmath
    numbers certified to ``dps`` digits at every step (each step evaluates the law at the
    previous step's certified value).
    """

    activation: str
    sigma_w: float
    sigma_b: float
    steps: int
    activity: np.ndarray | tuple
    overlap: np.ndarray | tuple
    dps: int | None

    @property
    def correlation(self) -> np.ndarray | tuple:
        """C_t / A_t (the cosine of the two states)."""
        return tuple(c / a for c, a in zip(self.overlap, self.activity)) if self.dps else \
            np.asarray(self.overlap) / np.asarray(self.activity)


def check_steps(steps: object) -> int:
    """Steps t = 1..steps of a trajectory: an int from 0 to MAX_STEPS."""
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)) \
            or not 0 <= steps <= MAX_STEPS:
        shown = repr(steps) if isinstance(steps, (int, np.integer)) else type(steps).__name__
        raise InvalidValueError(f"steps must be an integer from 0 to {MAX_STEPS}, got {shown}")
    return int(steps)


def _start(activity0: object, overlap0: object) -> tuple[Fraction, Fraction]:
    """(A_0, C_0) exact, with A_0 > 0 and |C_0| <= A_0 (two states of equal activity)."""
    activity = to_exact(activity0, "activity0")
    overlap = to_exact(overlap0, "overlap0")
    if not activity > 0:
        raise InvalidValueError(f"activity0 (the states' mean square |x|^2/n) must be > 0, "
                                f"got {quoted(activity0)}")
    if abs(overlap) > activity:
        raise InvalidValueError(f"overlap0 must lie in [-activity0, activity0] = "
                                f"[{-float(activity):g}, {float(activity):g}] (|C_0| <= A_0 "
                                f"for two states of activity A_0), got {quoted(overlap0)}")
    return activity, overlap


def _maps(activation: Activation) -> tuple[Law, Law]:
    laws = derive("activity_map", activation), derive("overlap_map", activation)
    for law in laws:
        if law.divergent:
            raise InvalidValueError(f"{law.name} diverges for {activation.name} "
                                    f"({law.divergence}): no macrodynamics to iterate")
    return laws


def layered_macrodynamics(activation: str | Activation, sigma_w: object, sigma_b: object,
                          steps: int, overlap0: object = 0.9, activity0: object = 1,
                          dps: int | None = None) -> LayeredMacrodynamics:
    """Iterate A_{t+1} = activity_map(A_t), C_{t+1} = overlap_map(C_t, A_t) from
    (activity0, overlap0) for ``steps`` steps (the engine's laws for ``activation``).

    Numbers may be ints, floats (read as the decimal they print as), "p/q" strings or
    Fractions. ``dps`` None gives float64 (the laws' ``to_numpy``); an int from 15 to 1000
    gives mpmath numbers certified to that many digits at each step. Raises
    InvalidValueError for bad input, and when a float64 trajectory leaves float64 (the
    activity overflows, or underflows to 0 where the overlap map needs A > 0): ``dps``
    follows it further.
    """
    act = get_activation(activation)
    steps = check_steps(steps)
    w, b = check_scales(sigma_w, sigma_b)
    start_activity, start_overlap = _start(activity0, overlap0)
    if dps is not None:
        dps = check_dps(dps)
        if steps > MAX_CERTIFIED_STEPS:
            raise InvalidValueError(f"certified trajectories (dps given) have at most "
                                    f"{MAX_CERTIFIED_STEPS} steps, got {steps}; float64 "
                                    f"(dps=None) goes to {MAX_STEPS}")
    activity_law, overlap_law = _maps(act)
    if dps is None:
        activity, overlap = _iterate_float64(activity_law, overlap_law, float(w), float(b),
                                             float(start_activity), float(start_overlap),
                                             steps)
    else:
        activity, overlap = _iterate_certified(activity_law, overlap_law, w, b, start_activity,
                                               start_overlap, steps, dps)
    return LayeredMacrodynamics(act.name, float(w), float(b), steps, activity, overlap, dps)


def _iterate_float64(activity_law: Law, overlap_law: Law, w: float, b: float,
                     activity0: float, overlap0: float, steps: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    activity_map, overlap_map = activity_law.to_numpy(), overlap_law.to_numpy()
    activity = np.empty(steps + 1)
    overlap = np.empty(steps + 1)
    activity[0], overlap[0] = activity0, overlap0
    for t in range(steps):
        a, c = activity[t], overlap[t]
        if not (np.isfinite(a) and a > 0):
            raise InvalidValueError(
                f"the layered activity leaves float64 at step {t} (A_{t} = {a!r}); use fewer "
                f"steps or certified numbers (dps=...)")
        with np.errstate(over="ignore", under="ignore"):
            activity[t + 1] = activity_map(A=a, sigma_w=w, sigma_b=b)
            # |C| <= A holds exactly; the two laws' float64 values may differ by rounding
            overlap[t + 1] = overlap_map(C=min(max(c, -a), a), A=a, sigma_w=w, sigma_b=b)
    if not np.isfinite(activity[-1]):
        raise InvalidValueError(
            f"the layered activity overflows float64 by step {steps}; use fewer steps or "
            f"certified numbers (dps=...)")
    return activity, overlap


def _iterate_certified(activity_law: Law, overlap_law: Law, w: Fraction, b: Fraction,
                       activity0: Fraction, overlap0: Fraction, steps: int, dps: int
                       ) -> tuple[tuple, tuple]:
    with mpmath.workdps(dps):
        activity = [+to_mpf(activity0)]
        overlap = [+to_mpf(overlap0)]
        for _ in range(steps):
            a, c = activity[-1], overlap[-1]
            activity.append(activity_law.evaluate(dps=dps, A=a, sigma_w=w, sigma_b=b))
            overlap.append(overlap_law.evaluate(dps=dps, C=max(min(c, a), -a), A=a,
                                                sigma_w=w, sigma_b=b))
    return tuple(activity), tuple(overlap)


__all__ = ["MAX_CERTIFIED_STEPS", "MAX_STEPS", "LayeredMacrodynamics", "check_steps",
           "layered_macrodynamics"]
