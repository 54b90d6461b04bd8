"""Speed of ``recurrent`` (issue 12, part 2): n = 8000, 20 steps, 4 trials, one fixed W per
trial (target: <= 20 s on 2 cores), measured side by side with a bare numpy loop doing the
same work (draw one n x n normal matrix per trial and apply it 20 times to two states, no
checks, no law, no measurements). The ratio says what the laboratory adds; on a loaded
machine both times grow together, so the load average is printed too.

The fresh-weights control is timed as well: it never forms W (the fields are drawn from
their exact distribution, O(n) per step), against one drawn n x n matrix per step.

Run: python benchmarks/bench_recurrent.py [n]
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np
from _common import report
from scipy.special import erf

from symfield.laboratory.recurrent import recurrent

N = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
STEPS, TRIALS = 20, 4


def bare_loop(n: int, steps: int, trials: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        weights = rng.standard_normal((n, n))
        weights *= 1.5 / np.sqrt(n)
        states = rng.standard_normal((n, 2))
        for _ in range(steps):
            states = erf(weights @ states)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    recurrent("erf", 1.5, 0.1, 64, 2, trials=2)  # warm-up: the laws are derived once
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; n = {N}, "
          f"{STEPS} steps, {TRIALS} trials")
    for weights in ("asymmetric", "symmetric"):
        ours = timed(lambda kind=weights: recurrent("erf", 1.5, 0.1, N, STEPS, kind, trials=TRIALS))
        baseline = timed(lambda: bare_loop(N, STEPS, TRIALS))
        report(f"recurrent {weights} (n={N}, {STEPS} steps, {TRIALS} trials)", ours,
               baseline, "<= 20 s", ours <= 20.0)
    ours = timed(lambda: recurrent("erf", 1.5, 0.1, N, STEPS, "fresh", trials=TRIALS))
    baseline = timed(lambda: bare_loop(N, 1, 1))  # one drawn matrix: 1/80 of the honest loop
    report(f"recurrent fresh (n={N}) vs one drawn matrix of 80", ours, baseline, "< 1 matrix",
           ours < baseline)


if __name__ == "__main__":
    main()
