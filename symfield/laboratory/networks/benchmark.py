"""Throughput of the sampled-network propagation against a plain numpy matmul of the same size.

The propagation of a point and k tangents does one (n x n) @ (n x (1+k)) product per layer;
its useful work is 2 n^2 (1+k) flops per layer. Weight generation is timed separately: it is
sampling, paid once per network, not propagation.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .random_network import sample_network


@dataclass(frozen=True)
class Throughput:
    width: int
    depth: int
    directions: int
    sampling_seconds: float      # drawing all weights and biases
    propagation_seconds: float   # best of the repeats: forward + k tangents, all layers
    propagation_gflops: float
    matmul_gflops: float         # best of the repeats: plain W @ S, same shapes, same process

    @property
    def ratio(self) -> float:
        """propagation / plain matmul throughput."""
        return self.propagation_gflops / self.matmul_gflops


def _best_times(first, second, repeats: int) -> tuple[float, float]:
    """Best wall time of each callable, alternating them so that load from other processes
    hits both alike."""
    best = [float("inf"), float("inf")]
    for _ in range(repeats):
        for index, work in enumerate((first, second)):
            start = time.perf_counter()
            work()
            best[index] = min(best[index], time.perf_counter() - start)
    return best[0], best[1]


def measure_throughput(width: int = 2048, depth: int = 30, directions: int = 8,
                       repeats: int = 5, seed: int = 0) -> Throughput:
    """Time forward + ``directions`` tangents through a tanh network against ``depth`` plain
    matmuls of the same shapes (best of ``repeats``, after a warm-up)."""
    start = time.perf_counter()
    network = sample_network("tanh", 1.5, 0.1, [width] * (depth + 1), seed)
    sampling = time.perf_counter() - start
    rng = np.random.default_rng(seed)
    point = rng.standard_normal(width)
    tangents = rng.standard_normal((width, directions))
    weights = [network.weight(layer) for layer in range(1, depth + 1)]
    columns = rng.standard_normal((width, 1 + directions))

    def plain() -> None:
        for weight in weights:
            weight @ columns

    def propagate() -> None:
        network.forward_tangents(point, tangents)

    plain()
    propagate()
    flops = 2.0 * width * width * (1 + directions) * depth
    matmul, propagation = _best_times(plain, propagate, repeats)
    return Throughput(width, depth, directions, sampling, propagation,
                      flops / propagation / 1e9, flops / matmul / 1e9)
