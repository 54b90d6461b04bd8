"""The float64 one-variable rule's reach, measured side by side in one run.

float64 to_numpy() of silu's length_map and chi1 as the edge-of-chaos search calls them: 41
values of sigma_w in [0.2, 6] at one variance q per call (sigma_b = 0.3), for 12 variances
log-uniform in [1, 1e6]; the rule reaching 11 sd (symfield's) against the same rule reaching
9 sd (the rule before, set for the run). At 9 sd the last node still weighs ~1e-18
of a constant integrand and 1e-16 of x^2, which the rule's end check reads as a truncated
rule: those points were certified in mpmath one by one (silu's edge of chaos took ~4 min).
Both routes must agree with 25-digit certified values at 12 of the points to 1e-14; the
target is a 20x speed-up. Measured 2026-12-06 (2 cores): 0.0024 s against 3.3 s (length_map)
and 0.62 s (chi1), errors below 1.2e-15 for both.

Second line: softplus' chi1 = sigma_w^2 E[exp(2x)/(exp(x) + 1)^2], whose float64 integrand was
inf/inf beyond x = 355 (every variance above ~1e3): rewritten as expit(x)^2 it stays in
float64; the baseline is what the NaN led to, each point certified in mpmath (17 digits). 41
points at each of 4 variances in [1e3, 1e8]; target 20x. Measured 2026-12-06: 0.0009 s against
3.8 s, error 4e-16.

Run: python benchmarks/bench_single_input_reach.py
"""
from __future__ import annotations

import numpy as np

import symfield
from _common import best_of, report
from symfield.gaussian.numerics import quadrature


def main() -> None:
    variances = 10.0 ** np.random.default_rng(3).uniform(0, 6, 12)
    sigma_w = np.linspace(0.2, 6.0, 41)
    laws = {"length_map": {"sigma_w": sigma_w, "sigma_b": 0.3}, "chi1": {"sigma_w": sigma_w}}
    for name, fixed in laws.items():
        law = symfield.derive(name, "silu")
        checked = [(k, j) for k in range(0, 12, 2) for j in (0, 40)]
        reference = {(k, j): float(law.evaluate(**{**fixed, "sigma_w": sigma_w[j],
                                                     "q": variances[k]}, dps=25))
                     for k, j in checked}

        def run(reach: float) -> tuple[float, float]:
            quadrature._FP_CUTOFF_1D = reach
            fn = law.to_numpy()

            def sweep() -> list[np.ndarray]:
                return [fn(q=np.full(41, v), **fixed) for v in variances]

            values = sweep()
            error = max(abs(values[k][j] - r) / abs(r) for (k, j), r in reference.items())
            return best_of(sweep, repeat=1), float(error)

        try:
            baseline, baseline_error = run(9.0)
            ours, our_error = run(11.0)
        finally:
            quadrature._FP_CUTOFF_1D = 11.0
        print(f"  {name}: largest relative error ours {our_error:.1e}, "
              f"9-sd rule {baseline_error:.1e}")
        report(f"silu {name}, 12 calls of 41 points", ours, baseline, ">= 20x",
               baseline / ours >= 20 and our_error < 1e-14)


def softplus() -> None:
    law = symfield.derive("chi1", "softplus")
    fn = law.to_numpy()
    variances = [1e3, 1e4, 1e6, 1e8]
    sigma_w = np.linspace(0.2, 6.0, 41)
    ours = best_of(lambda: [fn(q=np.full(41, v), sigma_w=sigma_w) for v in variances], repeat=3)
    reference = [[law.evaluate(dps=17, q=v, sigma_w=w) for w in sigma_w] for v in variances]
    baseline = best_of(lambda: [[law.evaluate(dps=17, q=v, sigma_w=w) for w in sigma_w]
                                for v in variances], repeat=1)
    error = max(abs(float(r) - value) / float(r)
                for row, v in zip(reference, variances)
                for r, value in zip(row, fn(q=np.full(41, v), sigma_w=sigma_w)))
    print(f"  softplus chi1: largest relative error {error:.1e}")
    report("softplus chi1, 4 calls of 41 points", ours, baseline, ">= 20x",
           baseline / ours >= 20 and error < 1e-14)


if __name__ == "__main__":
    main()
    softplus()
