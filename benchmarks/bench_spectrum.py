"""Speed of the Jacobian-spectrum issue (15), measured side by side in one run.

1. The moments m1, m2 at 30 digits (``jacobian_spectrum``, tanh, depth 50, orthogonal; target
   <= 0.5 s after the laws are derived) against certifying the same numbers the plain way:
   each mu_k by ``Law.evaluate`` and the moments summed from them in mpmath (the cost floor).
2. The density on 400 points (target <= 2 s) against the same resolvent equations solved
   point by point (no vectorisation over the grid), on the same quadrature rule.
3. A sampled check at width 1024, depth 20, one network (target <= 20 s) against the bare
   numpy work it cannot avoid: drawing the weights, the Jacobian product and one SVD.

The laws are derived once before timing (the derivation of tanh's pole series is a one-time
cost per process, reported on its own line).

Run: python benchmarks/bench_spectrum.py
"""
from __future__ import annotations

import time

import mpmath
import numpy as np

from _common import best_of, report

ACT, SW, SB, DEPTH = "tanh", 1.05, 0.02, 50


def moments() -> None:
    from symfield.dynamics.spectrum import jacobian_spectrum
    from symfield.laws.spectrum import derivative_moment

    start = time.perf_counter()
    first = jacobian_spectrum(ACT, SW, SB, DEPTH, "orthogonal", dps=30)
    print(f"{'first call (derives mu1, mu2 and the fixed-point laws)':55s} "
          f"{time.perf_counter() - start:9.2f} s")
    q_star = first._q_work
    laws = [derivative_moment(ACT, k) for k in (1, 2)]

    def baseline():
        with mpmath.workdps(35):
            mu1, mu2 = (law.evaluate(dps=35, q=q_star) for law in laws)
            m1 = (mpmath.mpf(SW) ** 2 * mu1) ** DEPTH
            return m1, m1**2 * (1 + DEPTH * (mu2 / mu1**2 - 1))

    ours = best_of(lambda: jacobian_spectrum(ACT, SW, SB, DEPTH, "orthogonal", dps=30), 3)
    base = best_of(baseline, 3)
    report("moments m1, m2 at 30 digits (tanh, L = 50)", ours, base, "<= 0.5 s", ours <= 0.5)


def density() -> None:
    from symfield.dynamics.spectrum import jacobian_spectrum

    spectrum = jacobian_spectrum(ACT, SW, SB, DEPTH, "orthogonal")
    grid = np.linspace(0.01, 1.05 * spectrum.support_edge, 400)

    def ours():
        fresh = jacobian_spectrum(ACT, SW, SB, DEPTH, "orthogonal")
        fresh.density(grid)

    solver = spectrum._solver

    def baseline():
        for x in grid[::20]:  # a twentieth of the grid point by point, scaled up below
            solver.density(np.array([x]))

    mine = best_of(ours, 2)
    base = best_of(baseline, 1) * 20
    report("density on 400 points (tanh, L = 50)", mine, base, "<= 2 s", mine <= 2.0)


def sampled() -> None:
    from symfield.dynamics.spectrum import jacobian_spectrum
    from symfield.laboratory.networks import sample_network
    from symfield.laboratory.spectrum import check_jacobian_spectrum

    prediction = jacobian_spectrum(ACT, SW, SB, 20, "orthogonal")

    def ours():
        check_jacobian_spectrum(ACT, SW, SB, 20, "orthogonal", width=1024, networks=2, seed=1,
                                prediction=prediction)

    def baseline():
        for seed in (1, 2):
            network = sample_network(ACT, SW, SB, [1024] * 21, seed, weights="orthogonal")
            jacobian = network.jacobian_product(np.full(1024, 0.3))
            np.linalg.svd(jacobian, compute_uv=False)

    mine = best_of(ours, 1) / 2
    base = best_of(baseline, 1) / 2
    report("sampled check, width 1024, depth 20 (per network)", mine, base, "<= 20 s",
           mine <= 20.0)


if __name__ == "__main__":
    moments()
    density()
    sampled()
