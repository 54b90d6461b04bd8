"""Arguments of the learning experiments, checked before any work (one-line errors)."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import InvalidValueError, quoted

#: Widest layer accepted by the laws (formulas: any size is cheap) and by a trained or
#: sampled network (its weights are held in memory).
MAX_LAW_WIDTH = 10**12
MAX_NETWORK_WIDTH = 65_536
#: Most layers of a network whose order parameters are computed.
MAX_DEPTH = 1000


def check_integer(name: str, value: object, low: int, high: int | None = None) -> int:
    """An integer in [low, high] (high None: no upper bound)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        raise InvalidValueError(f"{name} must be an integer {bound} (got {quoted(value)})")
    return int(value)


def check_widths(widths: object, name: str = "widths", high: int = MAX_LAW_WIDTH,
                 min_length: int = 1, max_length: int = MAX_DEPTH) -> tuple[int, ...]:
    """A non-empty sequence of integer widths >= 1."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise InvalidValueError(f"{name} must be a list of integers >= 1 (got {quoted(widths)})")
    values = list(widths)
    if not min_length <= len(values) <= max_length:
        raise InvalidValueError(f"{name} must hold from {min_length} to {max_length} widths "
                                f"(got {len(values)})")
    return tuple(check_integer(f"{name}[{i}]", w, 1, high) for i, w in enumerate(values))


def check_positive(name: str, value: object, high: float = math.inf) -> float:
    """A finite float in (0, high]."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, (bool, str, bytes)) or not (0 < number <= high) \
            or not math.isfinite(number):
        bound = "> 0" if high == math.inf else f"in (0, {high:g}]"
        raise InvalidValueError(f"{name} must be a finite number {bound} (got {quoted(value)})")
    return number


def check_seed(seed: object) -> int:
    return check_integer("seed", seed, 0, 2**63 - 1)


__all__ = ["MAX_DEPTH", "MAX_LAW_WIDTH", "MAX_NETWORK_WIDTH", "check_integer", "check_positive",
           "check_seed", "check_widths"]
