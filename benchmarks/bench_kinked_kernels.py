"""Kinked pair kernels (ELU, SELU, hard_tanh), measured side by side in one run.

float64 to_numpy() of the kernel on 10^4 (q1, q2, rho) triples: symfield's route (Gaussian
conditioning with the calculus's closed-form inner expectation, tanh-sinh pieces split at the
kinks) against the nested trapezoid pair rule it replaced (expect2_np on the same integrand),
with the largest relative error of each against 20-digit certified values at 12 of the
points. Target: errors below 1e-13 (the pair rule's were 1e-4..1e-2). The time is printed
beside the pair rule's: the split rule itself costs about half of it, but to_numpy recomputes
in certified mpmath the few points whose kernel cancels (|E[phi phi]| << E[|phi phi|], an
error estimate above 1e-13: ~0.2 % of these triples, 0.3 s each), which dominates (measured
2026-12-06: 1.3-6 s against 0.6-0.8 s for 10^4 triples). The 20-digit certified value itself:
0.3-0.5 s per point (it raised PrecisionError before).

Run: python benchmarks/bench_kinked_kernels.py
"""
from __future__ import annotations

import time

import numpy as np
import sympy as sp

import symfield
from _common import best_of, report
from symfield.gaussian.numerics.compile import np_modules
from symfield.gaussian.numerics.quadrature import expect2_np


def main() -> None:
    rng = np.random.default_rng(0)
    n = 10**4
    q1 = np.exp(rng.uniform(np.log(1e-2), np.log(1e2), n))
    q2 = np.exp(rng.uniform(np.log(1e-2), np.log(1e2), n))
    rho = rng.uniform(-0.99, 0.99, n) * np.sqrt(q1 * q2)
    checked = np.arange(0, n, n // 12)[:12]
    for act in ("elu", "selu", "hard_tanh"):
        law = symfield.derive("kernel", act)
        f = law.to_numpy()
        (expectation,) = law.expr.atoms(symfield.Expectation)
        a, b = expectation.variables
        params = {s: d for s, d in law.activation.parameters.values()}
        integrand = sp.lambdify([a, b], expectation.integrand.subs(params), modules=np_modules())

        def pair_rule():
            return expect2_np(integrand, q1, rho, q2)

        ours = best_of(lambda: f(q1=q1, q2=q2, rho=rho), 3)
        base = best_of(pair_rule, 3)
        t0 = time.perf_counter()
        exact = np.array([float(law.evaluate(dps=20, q1=q1[i], q2=q2[i], rho=rho[i]))
                          for i in checked])
        per_point = (time.perf_counter() - t0) / checked.size
        ours_err = np.max(np.abs(f(q1=q1, q2=q2, rho=rho)[checked] - exact) / np.abs(exact))
        base_err = np.max(np.abs(pair_rule()[checked] - exact) / np.abs(exact))
        report(f"{act} kernel float64, 1e4 triples (err {ours_err:.1e} vs {base_err:.1e})",
               ours, base, "err<1e-13", ours_err < 1e-13)
        print(f"    20-digit certified value: {per_point:.2f} s per point")


if __name__ == "__main__":
    main()
