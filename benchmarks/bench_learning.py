"""Speed of the Fisher statistics and of the lazy-training study (issue 13), measured side
by side with plain numpy baselines in one run.

1. ``fisher_statistics`` in float64 (the engine's laws composed layer by layer) against a
   hand-written numpy recursion of the same statistics with the erf closed forms typed in
   (target: <= 50 ms per call after warm-up).
2. The sampled check at width 512, depth 3, T = 64 (one network): the Gram matrix of
   per-example gradients from per-layer Grams against the plain route, the explicit
   T x P Jacobian by one backpropagation per example (target: <= 10 s).
3. ``lazy_training`` over widths 64 ... 2048, depth 2, n_train = 32 (three seeds) against the
   bare gradient-descent loops of the same runs (same steps, no measurements)
   (target: <= 60 s on 2 cores).

Run: python benchmarks/bench_learning.py
"""
from __future__ import annotations

import time

import numpy as np
from scipy.special import erf

import symfield
from _common import best_of, report
from symfield.learning import check_fisher_statistics, fisher_statistics, lazy_training
from symfield.learning.lazy import regression_task
from symfield.learning.networks import Network


def plain_fisher(widths, sw, sb, q_in, samples):
    """The statistics by a hand-written recursion (erf closed forms typed in)."""
    def kernel(q1, q2, r):
        return 2 / np.pi * np.arcsin(2 * r / np.sqrt((1 + 2 * q1) * (1 + 2 * q2)))

    def dot(q1, q2, r):
        return 4 / np.pi / np.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * r * r)

    depth = len(widths) - 1
    qh, qh2, q, q12 = [q_in], [0.0], [None], [None]
    for l in range(1, depth + 1):
        q.append(sw**2 * qh[-1] + sb**2)
        q12.append(sw**2 * qh2[-1] + sb**2)
        if l < depth:
            qh.append(kernel(q[l], q[l], q[l]))
            qh2.append(kernel(q[l], q[l], q12[l]))
    qt, qt2 = [1.0] * (depth + 1), [1.0] * (depth + 1)
    for l in range(depth - 1, 0, -1):
        qt[l] = sw**2 * dot(q[l], q[l], q[l]) * qt[l + 1]
        qt2[l] = sw**2 * dot(q[l], q[l], q12[l]) * qt2[l + 1]
    k1 = sum(qt[l] * (widths[l - 1] * qh[l - 1] + 1) for l in range(1, depth + 1))
    k2 = sum(qt2[l] * (widths[l - 1] * qh2[l - 1] + 1) for l in range(1, depth + 1))
    count = sum(widths[l] * (widths[l - 1] + 1) for l in range(1, depth + 1))
    c, t = widths[-1], samples
    return c * k1 / count, c * (k1**2 / t + (1 - 1 / t) * k2**2) / count, k1 / t + (1 - 1 / t) * k2


def bench_fisher_statistics() -> None:
    widths = [784, 512, 512, 512, 512, 512]
    fisher_statistics("erf", 1.5, 0.5, widths, outputs=10, samples=64)  # warm-up (derivations)
    ours = best_of(lambda: fisher_statistics("erf", 1.5, 0.5, widths, outputs=10, samples=64),
                   20)
    base = best_of(lambda: plain_fisher(widths + [10], 1.5, 0.5, 1.0, 64), 20)
    a = fisher_statistics("erf", 1.5, 0.5, widths, outputs=10, samples=64)
    b = plain_fisher(widths + [10], 1.5, 0.5, 1.0, 64)
    diff = max(abs(x / y - 1) for x, y in zip((a.m_lambda, a.s_lambda, a.lambda_max), b))
    report(f"fisher_statistics erf, 6 layers, float64 (rel diff {diff:.1e})", 1e3 * ours,
           1e3 * base, "<= 50 ms", ours <= 0.05, unit="ms")


def explicit_jacobian_gram(network: Network, inputs: np.ndarray) -> np.ndarray:
    """The plain route: one backpropagation per example and output, then J J^T."""
    outputs = network.widths[-1]
    rows = []
    for k in range(outputs):
        for t in range(inputs.shape[0]):
            cache = network.forward(inputs[t:t + 1])
            weights = np.zeros((1, outputs))
            weights[0, k] = 1
            gw, gb = network.gradient(cache, weights)
            rows.append(np.concatenate([g.ravel() for g in gw] + [g.ravel() for g in gb]))
    J = np.array(rows)
    return J @ J.T


def bench_sampled_check() -> None:
    act = symfield.registered_activations()["erf"]
    shape = (512, 512, 512, 1)
    rng = np.random.default_rng(0)
    network = Network(*act.numpy_functions[:2], shape, 1.5, 0.5, "standard", rng)
    inputs = rng.standard_normal((64, 512))
    start = time.perf_counter()
    check_fisher_statistics("erf", 1.5, 0.5, widths=(512,), depth=3, samples=64, replicas=2)
    ours = (time.perf_counter() - start) / 2  # per network, prediction included
    base = best_of(lambda: explicit_jacobian_gram(network, inputs), 2)
    diff = np.max(np.abs(network.tangent_kernel(inputs) - explicit_jacobian_gram(network, inputs)))
    report(f"sampled check width 512 depth 3 T=64, per network (max diff {diff:.1e})", ours,
           base, "<= 10 s", ours <= 10)


def bench_lazy_training() -> None:
    widths = (64, 128, 256, 512, 1024, 2048)
    start = time.perf_counter()
    result = lazy_training("erf", 1.5, 0.2, widths=widths, depth=2, n_train=32, n_test=32,
                           replicas=3, seed=0)
    ours = time.perf_counter() - start
    act = symfield.registered_activations()["erf"]

    def bare_loops():
        for run in result.runs:
            data = np.random.default_rng(np.random.SeedSequence([0, run.replica, 0]))
            x, y = regression_task(64, 4, data)
            x, y = x[:32], y[:32]
            net = Network(*act.numpy_functions[:2], (4, run.width, 1), 1.5, 0.2, "ntk",
                          np.random.default_rng(1))
            for _ in range(run.steps):
                cache = net.forward(x)
                gw, gb = net.gradient(cache, (cache.output[:, 0] - y)[:, None] / 32)
                for layer in range(net.depth):
                    net.weights[layer] -= run.lr * gw[layer]
                    net.biases[layer] -= run.lr * gb[layer]

    base = best_of(bare_loops, 1)
    report("lazy_training widths 64..2048, depth 2, n_train 32, 3 seeds", ours, base,
           "<= 60 s", ours <= 60)
    print("  exponents:", {k: tuple(round(v, 3) for v in e) for k, e in result.exponents.items()})


if __name__ == "__main__":
    bench_fisher_statistics()
    bench_sampled_check()
    bench_lazy_training()
