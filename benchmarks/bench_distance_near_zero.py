"""Amari's distance map near a degenerate pair, measured side by side in one run.

float64 to_numpy() of distance_map at 200 points with D log-uniform in [1e-12, 1e-1] (A in
[0.5, 2], sigma_w = 1.3, sigma_b = 0.2): symfield's route (where the law's own form was found
to cancel near u2 = u1, the points with var(u1 - u2) < 0.3 var((u1 + u2)/2) are computed by
the definition E[(phi(u1) - phi(u2))^2], its rule split at the kinks for ELU and hard_tanh)
against the law's own form alone (2 (chi0 - K): closed for GELU, closed chi0 minus the
conditioned pair quadrature for ELU and hard_tanh), with the largest relative error of each
against 25-digit certified values at 10 of the points. Target: errors below 1e-14 (the own
forms lose ~log10(A/D) digits: 1e-6 at D = 1e-10). The time is the price of the accuracy:
the smooth difference rule costs ~2-20 ms a point; the split one ~10 ms a point where a
half-range Gauss rule in d applies (var(d) <= var(m)/4, kink lines not crossing within 9
sd(d)) and 0.2-2 s where it nests tanh-sinh pieces (hard_tanh for D above ~0.03). Measured
2026-12-06 on a loaded 2-core machine: errors 3.5e-16..5.9e-16 against 2.7e-5..5.6e-5; GELU
4.7 s, ELU 8.8 s, hard_tanh 232 s (before the half-range rule's cutoff was relaxed to 9
sd(d)) for the 200 points.

Run: python benchmarks/bench_distance_near_zero.py
"""
from __future__ import annotations

import numpy as np

import symfield
from _common import best_of, report
from symfield.gaussian.numerics.evaluate import compiled


def main() -> None:
    rng = np.random.default_rng(1)
    n = 200
    D = 10.0 ** rng.uniform(-12, -1, n)
    A = rng.uniform(0.5, 2.0, n)
    fixed = {"sigma_w": np.full(n, 1.3), "sigma_b": np.full(n, 0.2)}
    checked = np.arange(0, n, n // 10)[:10]
    for act in ("gelu", "elu", "hard_tanh"):
        law = symfield.derive("distance_map", act)
        order = tuple(law.variables)
        points = {"D": D, "A": A, **fixed,
                  **{k: np.full(n, float(v)) for k, v in law.parameter_defaults().items()}}
        args = [points[s.name] for s in order]
        f = law.to_numpy()
        own = compiled(law.expr, order)
        ours = best_of(lambda: f(**points), 1)
        base = best_of(lambda: own.np(*args), 3)
        exact = np.array([float(law.evaluate(dps=25, **{k: float(v[i]) for k, v in points.items()}))
                          for i in checked])
        ours_err = np.max(np.abs(f(**points)[checked] - exact) / np.abs(exact))
        base_err = np.max(np.abs(own.np(*args)[checked] - exact) / np.abs(exact))
        report(f"{act} distance map near D = 0, 200 points (err {ours_err:.1e} vs {base_err:.1e})",
               ours, base, "err<1e-14", ours_err < 1e-14)


if __name__ == "__main__":
    main()
