"""Speed of the two-input laws, measured side by side in one run.

1. float64 to_numpy() of the erf and ReLU kernel and derivative kernel on 10^6 (q1, q2, rho)
   triples against a hand-written numpy expression of the same formula (target: within 2x).
2. tanh kernel in float64 on a 500 x 500 grid of (q, c): symfield's Mehler-grid evaluator
   against a 25 x 25 tensor-product Gauss-Hermite rule (target: >= 10x faster at equal or
   better accuracy against mpmath).
3. tanh kernel at 30 digits (target: <= 2 s per point).

Run: python benchmarks/bench_kernels.py
"""
from __future__ import annotations

import time

import numpy as np

import symfield
from _common import best_of, report
from symfield.laws.hermite import kernel_grid


def float64_closed_forms() -> None:
    rng = np.random.default_rng(0)
    n = 10**6
    q1 = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n))
    q2 = np.exp(rng.uniform(np.log(1e-3), np.log(1e3), n))
    rho = rng.uniform(-1, 1, n) * np.sqrt(q1 * q2)

    def relu_kernel():
        s = np.sqrt(q1 * q2)
        cc = np.clip(rho / s, -1, 1)
        theta = np.arccos(cc)
        return s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * cc)

    hand = {
        ("kernel", "erf"): lambda: 2 / np.pi * np.arcsin(2 * rho / np.sqrt((1 + 2 * q1) * (1 + 2 * q2))),
        ("derivative_kernel", "erf"): lambda: 4 / np.pi / np.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * rho**2),
        ("kernel", "relu"): relu_kernel,
        ("derivative_kernel", "relu"): lambda: (np.pi - np.arccos(np.clip(rho / np.sqrt(q1 * q2), -1, 1))) / (2 * np.pi),
    }
    for (name, act), fn in hand.items():
        f = symfield.derive(name, act).to_numpy()
        ours = best_of(lambda: f(q1=q1, q2=q2, rho=rho), 5)
        base = best_of(fn, 5)
        diff = np.max(np.abs(f(q1=q1, q2=q2, rho=rho) - fn()) / np.maximum(np.abs(fn()), 1e-300))
        report(f"{act} {name} to_numpy, 1e6 triples (max rel diff {diff:.1e})", ours, base,
               "within 2x", ours <= 2 * base)


def gauss_hermite_25(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    x, w = np.polynomial.hermite.hermgauss(25)
    z, w = x * np.sqrt(2), w / np.sqrt(np.pi)
    out = np.empty((q.size, c.size))
    for i in range(0, q.size, 25):
        s = np.sqrt(q[i:i + 25])[:, None, None, None]
        cc = c[None, :, None, None]
        u1 = s * z[:, None]
        u2 = s * (cc * z[:, None] + np.sqrt(np.maximum(1 - cc**2, 0)) * z[None, :])
        out[i:i + 25] = np.einsum("qcij,i,j->qc", np.tanh(u1) * np.tanh(u2), w, w)
    return out


def tanh_grid() -> None:
    q = np.exp(np.linspace(np.log(0.1), np.log(10), 500))
    c = np.linspace(-1, 1, 500)
    kernel_grid("tanh", q[:5], c[:5])  # warm
    ours = best_of(lambda: kernel_grid("tanh", q, c), 3)
    base = best_of(lambda: gauss_hermite_25(q, c), 1)
    K, G = kernel_grid("tanh", q, c), gauss_hermite_25(q, c)
    law = symfield.derive("kernel", "tanh")
    rng = np.random.default_rng(1)
    points = [(rng.integers(500), rng.integers(500)) for _ in range(25)] + \
        [(499, 498), (499, 1), (499, 250), (0, 499)]
    err_ours = err_gh = 0.0
    for i, j in points:
        ref = float(law.evaluate(dps=20, q1=q[i], q2=q[i], rho=q[i] * c[j]))
        err_ours = max(err_ours, abs(K[i, j] - ref))
        err_gh = max(err_gh, abs(G[i, j] - ref))
    report(f"tanh kernel 500x500 (q, c) grid (max err {err_ours:.1e} vs GH {err_gh:.1e})",
           ours, base, ">= 10x", base / ours >= 10 and err_ours <= err_gh)


def tanh_high_precision() -> None:
    law = symfield.derive("kernel", "tanh")
    for q1, q2, rho in (("1", "1", "0.5"), ("2", "0.5", "-0.7"), ("100", "100", "99")):
        t0 = time.perf_counter()
        law.evaluate(dps=30, q1=q1, q2=q2, rho=rho)
        took = time.perf_counter() - t0
        print(f"tanh kernel at 30 digits, (q1, q2, rho) = ({q1}, {q2}, {rho}): {took:.2f} s "
              f"(target <= 2 s: {'OK' if took <= 2 else 'MISSED'})")


if __name__ == "__main__":
    print("== float64 closed forms ==")
    float64_closed_forms()
    print("== tanh kernel on a grid ==")
    tanh_grid()
    print("== tanh kernel at 30 digits ==")
    tanh_high_precision()
