"""Speed of the activation catalogue (issue 11), measured side by side in one run.

1. Cold derivation of every law for one activation new to the process, by family: a formula
   the registry has never seen (a scaled GELU, sin with a phase, a ReLU power, ELU with its
   own alpha), in a fresh interpreter so no cache helps. Baseline: the same for erf, the
   activation whose every law is a closed form of the erf rules. Target: <= 3 s per
   closed-form family on 2 cores.
2. float64 kernel on 10^6 (q1, q2, rho) points for the integral/series-form activations silu
   and softplus against the erf closed form (target: <= 10x its cost), with the largest
   relative error against the 30-digit law at 20 of the points (target: <= 1e-12).

Run: python benchmarks/bench_activations.py
"""
from __future__ import annotations

import subprocess
import sys
import time

import mpmath as mp
import numpy as np

import symfield
from _common import best_of, report

#: Single-process script: derive every law for one activation, print the seconds.
_COLD = """
import time, symfield
from symfield.errors import SymfieldError
act = symfield.activation({spec!r})
t0 = time.perf_counter()
for name in symfield.registered_laws():
    try:
        symfield.derive(name, act)
    except SymfieldError:
        pass
print(time.perf_counter() - t0)
"""

COLD_CASES = {
    "erf (baseline)": "erf",
    "scaled GELU 2*x*Phi(3*x)": "2*x*Phi(3*x)",
    "sin(x + 1/2)": "sin(x + 1/2)",
    "max(x, 0)^3": "max(x, 0)^3",
    "ELU with alpha = 1/2": "max(x, 0) + (exp(min(x, 0)) - 1)/2",
    "sign(x)/2": "sign(x)/2",
}


def cold_seconds(spec: str) -> float:
    out = subprocess.run([sys.executable, "-c", _COLD.format(spec=spec)], capture_output=True,
                         text=True, timeout=900, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_derivations() -> None:
    baseline = cold_seconds(COLD_CASES["erf (baseline)"])
    print(f"cold derivation of all {len(symfield.registered_laws())} laws, erf baseline {baseline:.2f} s")
    for label, spec in COLD_CASES.items():
        if spec == "erf":
            continue
        ours = cold_seconds(spec)
        report(f"cold laws: {label}", ours, baseline, "<= 3 s", ours <= 3.0)


def float64_kernels() -> None:
    rng = np.random.default_rng(0)
    n = 10**6
    q1 = np.exp(rng.uniform(np.log(1e-2), np.log(1e2), n))
    q2 = np.exp(rng.uniform(np.log(1e-2), np.log(1e2), n))
    rho = rng.uniform(-1, 1, n) * np.sqrt(q1 * q2)
    erf_kernel = symfield.derive("kernel", "erf").to_numpy()
    baseline = best_of(lambda: erf_kernel(q1=q1, q2=q2, rho=rho), repeat=3)
    for name in ("silu", "softplus"):
        law = symfield.derive("kernel", name)
        f = law.to_numpy()
        ours = best_of(lambda: f(q1=q1, q2=q2, rho=rho), repeat=1)
        picks = rng.choice(n, 20, replace=False)
        values = f(q1=q1[picks], q2=q2[picks], rho=rho[picks])
        worst = 0.0
        for i, v in zip(picks, values):
            exact = law.evaluate(dps=30, q1=float(q1[i]), q2=float(q2[i]), rho=float(rho[i]))
            worst = max(worst, float(abs(mp.mpf(float(v)) - exact) / abs(exact)))
        print(f"  {name} kernel ({law.form}): largest relative error at 20 points {worst:.2e} "
              f"(target <= 1e-12: {'OK' if worst <= 1e-12 else 'MISSED'})")
        report(f"float64 {name} kernel, 10^6 points (ratio = erf/ours)", ours, baseline,
               ">= 0.1x", baseline / ours >= 0.1)


if __name__ == "__main__":
    t0 = time.perf_counter()
    cold_derivations()
    float64_kernels()
    print(f"total {time.perf_counter() - t0:.1f} s")
