"""Law.evaluate backed by balls (issue 16) against the two-precision route it replaced, side by
side in one run: ``evaluate(...)`` (the default: rounded from a proven enclosure where the law's
form is closed, a pole series or an expectation over one variable) and
``evaluate(..., proven=False)`` (two working precisions that agree, the old route). The first
call of each route is timed apart (it compiles the ball program, or the mpmath one), then the
best of several calls. Targets (issue 16): closed forms and pole series at 50 digits no slower
than 2x the two-precision route; one-variable integral forms at most 0.5 s at 30 digits.

Run: python benchmarks/bench_evaluate_balls.py
"""
from __future__ import annotations

import time

import symfield
from _common import best_of

CASES = [
    ("chi1", "erf", {"q": "0.7", "sigma_w": "1.3"}),
    ("chi1", "gelu", {"q": "2.5", "sigma_w": "1.3"}),
    ("length_map", "elu", {"q": "0.8", "sigma_w": "1.2", "sigma_b": "0.1"}),
    ("kernel", "relu", {"q1": "1.1", "q2": "0.9", "rho": "-0.4"}),
    ("correlation_map", "erf", {"q": "0.9", "c": "0.3", "sigma_w": "1.5", "sigma_b": "0.2"}),
    ("distance_map", "gelu", {"A": "1.2", "D": "0.01", "sigma_w": "1.4", "sigma_b": "0.1"}),
    # Faddeeva pole series
    ("chi0", "tanh", {"q": "1"}),
    ("chi1", "tanh", {"q": "30", "sigma_w": "1.1"}),
    ("chi2", "sigmoid", {"q": "0.05", "sigma_w": "1"}),
    # expectations over one Gaussian variable
    ("chi0", "softplus", {"q": "1"}),
    ("chi1", "mish", {"q": "0.7", "sigma_w": "1.1"}),
    ("length_map", "mish", {"q": "30", "sigma_w": "1.2", "sigma_b": "0.1"}),
]
DIGITS = (30, 50, 100)
TARGET_RATIO = 2.0       # closed forms and series at 50 digits
INTEGRAL_TARGET = 0.5    # seconds, one-variable integral forms at 30 digits


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    print(f"{'law':24s} {'form':9s} {'dps':>4s} {'certificate':>11s} {'balls s':>9s} "
          f"{'2-prec s':>9s} {'ratio':>6s} {'1st balls':>10s} {'1st 2-prec':>10s}")
    worst, slowest = 0.0, 0.0
    for name, act, values in CASES:
        law = symfield.derive(name, act)
        for dps in DIGITS:
            first_agreed = timed(lambda: law.evaluate(dps=dps, proven=False, **values))
            first_balls = timed(lambda: law.evaluate(dps=dps, **values))
            certificate = law.certified(dps=dps, **values).certificate
            balls = best_of(lambda: law.evaluate(dps=dps, **values), 5)
            agreed = best_of(lambda: law.evaluate(dps=dps, proven=False, **values), 5)
            ratio = balls / agreed
            if dps == 50 and law.form != "integral":
                worst = max(worst, ratio)
            if dps == 30 and law.form == "integral":
                slowest = max(slowest, balls)
            print(f"{name + '[' + act + ']':24s} {law.form:9s} {dps:4d} {certificate:>11s} "
                  f"{balls:9.5f} {agreed:9.5f} {ratio:6.2f} {first_balls:10.4f} "
                  f"{first_agreed:10.4f}")
    print(f"worst ratio at 50 digits, closed forms and series: {worst:.2f}x "
          f"(target <= {TARGET_RATIO}x): {'OK' if worst <= TARGET_RATIO else 'MISSED'}")
    print(f"slowest one-variable integral form at 30 digits: {slowest:.3f} s "
          f"(target <= {INTEGRAL_TARGET} s): {'OK' if slowest <= INTEGRAL_TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
