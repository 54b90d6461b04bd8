"""Input checks shared by the sampling modules; every failure is an ``InvalidValueError``."""
from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np

from ..errors import InvalidValueError


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """``[n0, n1, ..., nL]`` as a tuple of positive ints (at least an input and one layer)."""
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise InvalidValueError(
            f"widths must be a sequence [n0, n1, ..., nL] of positive ints, got {widths!r}"
        )
    if len(widths) < 2:
        raise InvalidValueError(
            f"widths must have at least 2 entries (input width n0 and one layer), "
            f"got {list(widths)!r}"
        )
    checked = []
    for index, width in enumerate(widths):
        if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, np.integer)):
            raise InvalidValueError(
                f"widths[{index}] must be an int, got {type(width).__name__} {width!r}"
            )
        if width <= 0:
            raise InvalidValueError(f"widths[{index}] must be positive, got {width}")
        checked.append(int(width))
    return tuple(checked)


def check_scale(name: str, value: object) -> float:
    """A finite, non-negative real standard deviation such as ``sigma_w`` or ``sigma_b``."""
    is_complex = isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
    if is_complex or isinstance(value, (bool, np.bool_, str, bytes)):
        raise InvalidValueError(f"{name} must be a real number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidValueError(f"{name} must be finite, got {value!r}")
    if number < 0:
        raise InvalidValueError(
            f"{name} is a standard deviation and must be >= 0, got {value!r}"
        )
    return number


def real_array(name: str, value: object) -> np.ndarray:
    """``value`` as a finite float64 array (a copy is made only when needed)."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise InvalidValueError(f"{name} must be a real array: {exc}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == np.bool_):
        raise InvalidValueError(f"{name} must be a real numeric array, got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise InvalidValueError(f"{name} must be real, got a complex array")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise InvalidValueError(f"{name} contains NaN or infinite entries")
    return array


def check_shape(name: str, array: np.ndarray, expected: tuple[int | None, ...],
                description: str) -> None:
    """Raise unless ``array.shape`` matches ``expected`` (``None`` = any positive size)."""
    shape = array.shape
    ok = len(shape) == len(expected) and all(
        (want is None and have > 0) or have == want for have, want in zip(shape, expected)
    )
    if not ok:
        raise InvalidValueError(f"{name} must have shape {description}, got {shape}")


def check_layer(name: str, layer: object, low: int, high: int) -> int:
    """A layer number in ``[low, high]``."""
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
        raise InvalidValueError(f"{name} must be an int layer number, got {layer!r}")
    if not low <= layer <= high:
        raise InvalidValueError(f"{name} must be between {low} and {high}, got {layer}")
    return int(layer)
