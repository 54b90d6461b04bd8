"""High-precision speed goals of issue 19, each measured side by side with a baseline in one run.

* tanh kernel at 30 digits (item 10: goal <= 0.5 s a point; wave 1 took 5-12 s): symfield's
  certified evaluation against a nested mpmath.quad of the same Gaussian integral at the same
  precision (one evaluation, not certified: the baseline does less work than symfield).
* tanh kernel at large variances (item 4b: q1 = 1000, q2 = 500, c = -0.7 took > 240 s; goal
  <= 2 s anywhere in the domain), against the same nested quadrature.
* float64 tanh kernel on a 250k-point grid (item 10: one fast accurate path) against the
  Hermite-grid float64 path of the project (kernel_grid), and the error of each against
  certified values.

Timings are wall clock: run on an idle machine (the load average is printed).

Run: python benchmarks/bench_numerics.py
"""
from __future__ import annotations

import os
import time

import mpmath as mp
import numpy as np

import symfield
from _common import best_of, report


def nested_quad_kernel(q1: str, q2: str, c: str, dps: int = 30) -> mp.mpf:
    """E[tanh(u1) tanh(u2)] by mpmath.quad over u1 and the conditional u2 | u1."""
    with mp.workdps(dps):
        a, b, r = mp.mpf(q1), mp.mpf(q2), mp.mpf(c)
        rho = r * mp.sqrt(a * b)
        slope, s = rho / a, mp.sqrt(b - rho * rho / a)

        def inner(u1):
            mu = slope * u1
            return mp.quad(lambda y: mp.tanh(y) * mp.npdf(y, mu, s),
                           sorted({mu - 10 * s, mp.mpf(0), mu + 10 * s}))

        sd = mp.sqrt(a)
        return mp.quad(lambda u1: mp.tanh(u1) * inner(u1) * mp.npdf(u1, 0, sd),
                       [-10 * sd, 0, 10 * sd])


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def high_precision(points, goal: float, label: str) -> None:
    law = symfield.derive("kernel", "tanh")
    for q1, q2, c in points:
        rho = mp.mpf(c) * mp.sqrt(mp.mpf(q1) * mp.mpf(q2))
        law.evaluate(dps=15, q1=q1, q2=q2, rho=rho)  # compiled once: the warm cost
        ours = timed(lambda: law.evaluate(dps=30, q1=q1, q2=q2, rho=rho))
        base = timed(lambda: nested_quad_kernel(q1, q2, c))
        report(f"{label} (q1, q2, c) = ({q1}, {q2}, {c})", ours, base,
               f"<= {goal:g} s", ours <= goal)


def float64_grid() -> None:
    from symfield.laws.hermite import kernel_grid

    q = np.exp(np.linspace(np.log(0.1), np.log(10), 500))
    c = np.linspace(-1, 1, 500)
    Q, C = np.meshgrid(q, c, indexing="ij")
    law = symfield.derive("kernel", "tanh")
    f = law.to_numpy()
    f(q1=Q[:2, :2], q2=Q[:2, :2], rho=(Q * C)[:2, :2])
    ours = best_of(lambda: f(q1=Q, q2=Q, rho=Q * C), 1)
    base = best_of(lambda: kernel_grid("tanh", q, c), 1)
    mine, grid = f(q1=Q, q2=Q, rho=Q * C), kernel_grid("tanh", q, c)
    rng = np.random.default_rng(10)
    err_mine = err_grid = 0.0
    for i, j in [tuple(rng.integers(500, size=2)) for _ in range(20)] + [(499, 498), (0, 1)]:
        ref = float(law.evaluate(dps=20, q1=q[i], q2=q[i], rho=q[i] * c[j]))
        err_mine = max(err_mine, abs(mine[i, j] - ref) / abs(ref))
        err_grid = max(err_grid, abs(grid[i, j] - ref) / abs(ref))
    report(f"tanh to_numpy, 250k (q, c) points (rel err {err_mine:.1e} vs grid {err_grid:.1e})",
           ours, base, "<= 1.2x grid", ours <= 1.2 * base)


if __name__ == "__main__":
    print(f"(load average {os.getloadavg()[0]:.1f})")
    print("== tanh kernel at 30 digits vs nested mpmath.quad ==")
    high_precision([("1", "1", "0.5"), ("2", "0.5", "-0.7"), ("100", "100", "0.99")], 0.5,
                   "tanh kernel, 30 digits")
    print("== tanh kernel at large variances, 30 digits ==")
    high_precision([("1000", "500", "-0.7")], 2.0, "tanh kernel, 30 digits, large q")
    print("== float64 tanh kernel on a grid ==")
    float64_grid()
