"""Helpers for the benchmark scripts: timing and ratio printing."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def median_of(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(name: str, ours: float, baseline: float, target: str, ok: bool, unit: str = "s") -> None:
    """One line: our time, the baseline's, the ratio, the target and whether it is met."""
    ratio = baseline / ours if ours else float("inf")
    print(f"{name:55s} ours {ours:9.4f} {unit}  baseline {baseline:9.4f} {unit}  "
          f"speed-up {ratio:7.2f}x  target {target:14s} {'OK' if ok else 'MISSED'}")
