"""Sizes of a simulation, checked before it starts.

A mistyped width, depth or replica count must be a one-line error naming the limit, not a
MemoryError an hour in or a run that never ends. The estimates count the arrays the
simulation holds at once (one network's parameters, the passes through it, one row of
moments per replica) and the floating-point work of every replica (drawing the weights and
the matrix products of the passes).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValueError, quoted
from ..numbers import MAX_SCALE
from .networks.validation import check_memory, check_scale, memory_limit

#: Deepest network simulated: every layer costs Python-level work per pass and per replica.
MAX_DEPTH = 100_000
#: Default bound of the floating-point work (an hour or more on a small machine).
DEFAULT_MAX_FLOPS = 1e14
#: Floating-point operations per drawn normal number (the generator and the scaling).
_NORMAL_COST = 10
#: Raw moments kept per layer and replica (``table._RAW`` and the check plans are smaller).
_MOMENTS_PER_LAYER = 9


@dataclass(frozen=True)
class SimulationSize:
    """What a simulation will hold and do: ``lazy`` networks regenerate their weights on each
    pass (chosen when all layers' weights would not fit in memory)."""

    lazy: bool
    bytes: float
    flops: float
    #: The memory limit the sizes were checked against (bytes).
    memory_limit: int


def check_integer(name: str, value: object, low: int, high: int | None = None) -> int:
    """An int in [low, high] (high None: no upper bound)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        shown = repr(value) if isinstance(value, (int, np.integer)) else type(value).__name__
        raise InvalidValueError(f"{name} must be an integer {bound}, got {shown}")
    return int(value)


def check_real(name: str, value: object, positive: bool = False) -> float:
    """A finite real number (``positive``: > 0), such as a z threshold or an exponent."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if isinstance(value, (bool, np.bool_, str, bytes)) or not np.isfinite(number) \
            or (positive and number <= 0):
        kind = "a positive number" if positive else "a finite real number"
        raise InvalidValueError(f"{name} must be {kind}, got {quoted(value)}")
    return number


def check_scales(sigma_w: object, sigma_b: object) -> tuple[float, float]:
    """sigma_w in (0, MAX_SCALE], sigma_b in [0, MAX_SCALE]: a zero weight scale gives a
    constant network, whose statistics (0/0 correlations and curvatures) say nothing."""
    w = check_scale("sigma_w", sigma_w)
    b = check_scale("sigma_b", sigma_b)
    if w == 0:
        raise InvalidValueError(f"sigma_w must be > 0 (and at most {MAX_SCALE:g}), got 0")
    return w, b


def check_correlation(name: str, value: object) -> float:
    """A correlation: a real number in [-1, 1]."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = float("nan")
    if isinstance(value, (bool, str, bytes)) or not -1.0 <= number <= 1.0:
        shown = repr(value) if isinstance(value, (int, float, np.number)) else type(value).__name__
        raise InvalidValueError(f"{name} (a correlation) must be a number in [-1, 1], got {shown}")
    return number


def check_flops(flops: float, what: str, max_flops: object = None) -> None:
    limit = DEFAULT_MAX_FLOPS if max_flops is None else max_flops
    if isinstance(limit, bool) or not isinstance(limit, (int, float, np.integer, np.floating)) \
            or not limit > 0:
        raise InvalidValueError(f"max_flops must be a positive number, got {quoted(max_flops)}")
    if flops > limit:
        source = "the default limit" if max_flops is None else "the limit max_flops"
        raise InvalidValueError(
            f"{what} is about {flops:.2g} floating-point operations, more than {source} "
            f"{float(limit):.2g} (hours of computing); use fewer replicas or a smaller width "
            f"or depth, or raise the limit with max_flops= (--max-flops on the command line) "
            f"to run it anyway")


def simulation_size(width: int, depth: int, replicas: int, columns: int, passes: int,
                    what: str, max_memory: int | None = None,
                    max_flops: float | None = None) -> SimulationSize:
    """Check a simulation of ``replicas`` networks of ``depth`` layers of ``width`` units whose
    passes push ``columns`` vectors through every layer (``passes`` separate passes, each of
    which regenerates the weights of a lazy network), and choose eager or lazy networks.

    Raises InvalidValueError naming the limit when the arrays do not fit in memory (see
    ``networks.validation.memory_limit``) or the work exceeds ``max_flops`` (default
    DEFAULT_MAX_FLOPS).
    """
    layer = 8.0 * (width * width + width)  # one layer's weights and biases
    # per layer, the packed pre- and post-activation jets of every pass
    activations = 16.0 * depth * width * columns
    moments = 3 * 8.0 * replicas * depth * _MOMENTS_PER_LAYER  # the rows and their copies
    rest = activations + moments
    eager = depth * layer + rest
    limit = memory_limit(max_memory)
    lazy = eager > limit
    needed = layer + rest if lazy else eager
    check_memory(needed, f"{what} (width {width}, depth {depth}, {replicas} replicas)",
                 limit if max_memory is not None else None,
                 "use a smaller width, depth or number of replicas")
    draws = float(width) * width * depth * (passes if lazy else 1)
    flops = replicas * (2.0 * width * width * columns * depth + _NORMAL_COST * draws)
    check_flops(flops, f"{what} (width {width}, depth {depth}, {replicas} replicas)",
                max_flops)
    return SimulationSize(lazy, needed, flops, limit)


__all__ = ["DEFAULT_MAX_FLOPS", "MAX_DEPTH", "SimulationSize", "check_correlation",
           "check_flops", "check_integer", "check_scales", "simulation_size"]
