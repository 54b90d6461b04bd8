"""Input checks shared by the sampled-network modules; every failure is an ``InvalidValueError``."""
from __future__ import annotations

import math
import numbers
import os
from typing import Sequence

import numpy as np

from ...errors import InvalidValueError, quoted
from ...numbers import MAX_SCALE
#: Share of the available memory a computation may plan to use by default (the rest is left
#: for the interpreter, temporaries and everything else running).
MEMORY_SHARE = 0.8


def _cgroup_memory_left() -> int | None:
    """Bytes left under a cgroup v2 memory limit (containers), if there is one."""
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            limit = fh.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as fh:
            used = int(fh.read().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def available_memory() -> int:
    """Bytes of memory this process can expect to get: MemAvailable (Linux) or the free
    physical pages, lowered to what a container's memory limit leaves."""
    found: int | None = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            found = 4 << 30  # no way to ask this OS: assume a small machine
    left = _cgroup_memory_left()
    return found if left is None else min(found, left)


def format_bytes(size: float) -> str:
    """``7.2 GB``, ``800 TB``: a byte count for a message."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.3g} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def memory_limit(max_memory: object = None) -> int:
    """The bytes a computation may plan to use: ``max_memory`` if given (a positive int),
    else a share (MEMORY_SHARE) of :func:`available_memory`."""
    if max_memory is None:
        return int(MEMORY_SHARE * available_memory())
    if isinstance(max_memory, (bool, np.bool_)) or not isinstance(max_memory, (int, np.integer)) \
            or max_memory < 1:
        raise InvalidValueError(f"max_memory must be a positive number of bytes, got "
                                f"{quoted(max_memory)}")
    return int(max_memory)


def check_memory(needed: float, what: str, max_memory: object = None, advice: str = "") -> None:
    """Refuse (before any allocation) a computation whose arrays need more than the memory
    limit (:func:`memory_limit`); the message names the need, the limit and how to lift it."""
    limit = memory_limit(max_memory)
    if needed <= limit:
        return
    source = ("the limit max_memory" if max_memory is not None else
              f"{MEMORY_SHARE:.0%} of the memory available")
    raise InvalidValueError(
        f"{what} needs about {format_bytes(needed)} of memory, more than {source} "
        f"({format_bytes(limit)}); {advice + ', or ' if advice else ''}raise the limit with "
        f"max_memory= (bytes; --max-memory on the command line) if the machine has it")


def check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    """``[n0, n1, ..., nL]`` as a tuple of positive ints (at least an input and one layer)."""
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__"):
        raise InvalidValueError(
            f"widths must be a sequence [n0, n1, ..., nL] of positive ints, got {quoted(widths)}"
        )
    if len(widths) < 2:
        raise InvalidValueError(
            f"widths must have at least 2 entries (input width n0 and one layer), "
            f"got {quoted(list(widths))}"
        )
    checked = []
    for index, width in enumerate(widths):
        if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, np.integer)):
            raise InvalidValueError(
                f"widths[{index}] must be an int, got {type(width).__name__} {quoted(width)}"
            )
        if width <= 0:
            raise InvalidValueError(f"widths[{index}] must be positive, got {width}")
        checked.append(int(width))
    return tuple(checked)


def check_scale(name: str, value: object) -> float:
    """A finite, non-negative real standard deviation such as ``sigma_w`` or ``sigma_b``, at
    most MAX_SCALE."""
    is_complex = isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
    if is_complex or isinstance(value, (bool, np.bool_, str, bytes)):
        raise InvalidValueError(f"{name} must be a real number, got {quoted(value)}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name} must be a real number, got {quoted(value)}") from None
    if not math.isfinite(number):
        raise InvalidValueError(f"{name} must be finite, got {quoted(value)}")
    if number < 0:
        raise InvalidValueError(
            f"{name} is a standard deviation and must be >= 0, got {quoted(value)}"
        )
    if number > MAX_SCALE:
        raise InvalidValueError(f"{name} must be at most {MAX_SCALE:g}, got {number:g}")
    return number


def real_array(name: str, value: object, finite: bool = True) -> np.ndarray:
    """``value`` as a float64 array (a copy is made only when needed), finite unless
    ``finite`` is False (then NaN and infinities pass, e.g. an overflowed layer's values)."""
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise InvalidValueError(f"{name} must be a real array: {exc}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == np.bool_):
        got = f"text {quoted(value)}" if isinstance(value, (str, bytes)) else \
            f"dtype {array.dtype}"
        raise InvalidValueError(f"{name} must be a real numeric array, got {got}")
    if np.iscomplexobj(array):
        raise InvalidValueError(f"{name} must be real, got a complex array")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if finite and not np.all(np.isfinite(array)):
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
        raise InvalidValueError(f"{name} must be an int layer number, got {quoted(layer)}")
    if not low <= layer <= high:
        raise InvalidValueError(f"{name} must be between {low} and {high}, got {layer}")
    return int(layer)
