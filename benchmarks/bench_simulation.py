"""Speed of ``symfield simulate`` at width 2048, depth 30, 8 tangent directions.

Target: the sampled-network work (the passes through sampled networks: matmuls plus the
element-wise activation and derivative work) runs at >= 50 % of this machine's numpy matmul
throughput, measured in the same run on plain matmuls of exactly the same shapes
(W @ S with S of 1 + k, 1 and 3 columns per layer). Weight sampling is timed and reported
separately: it is drawing random numbers, paid once per network, not propagation.

Also printed: the throughput of one plain W @ (n x (1 + k)) product (the reference of
``symfield.laboratory.networks.benchmark.measure_throughput``) and of a square matmul, for
context.

Run: python benchmarks/bench_simulation.py [--replicas R]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _common import report
from symfield.laboratory import simulate

WIDTH, DEPTH, DIRECTIONS = 2048, 30, 8


def plain_matmul_seconds(shapes, depth: int, repeats: int = 3) -> float:
    """Best time of ``depth`` plain products W @ S for every (n_out, n_in, columns) shape."""
    rng = np.random.default_rng(0)
    n_out, n_in, _ = shapes[0]
    weights = [rng.standard_normal((n_out, n_in)) for _ in range(4)]
    blocks = [rng.standard_normal((n_in, columns)) for (_, _, columns) in shapes]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for layer in range(depth):
            weight = weights[layer % len(weights)]  # distinct matrices: no cache reuse
            for block in blocks:
                weight @ block
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()

    simulate("tanh", 2.5, 0.3, 64, 2, replicas=2)  # warm up: derivations, compiled laws
    start = time.perf_counter()
    table = simulate("tanh", 2.5, 0.3, WIDTH, DEPTH, replicas=args.replicas, seed=0,
                     directions=DIRECTIONS)
    wall = time.perf_counter() - start
    ours = table.propagation_flops / table.propagation_seconds / 1e9
    per_network_flops = table.propagation_flops / args.replicas
    same_shapes = plain_matmul_seconds(table.matmul_shapes, DEPTH)
    reference = per_network_flops / same_shapes / 1e9
    single = [(WIDTH, WIDTH, 1 + DIRECTIONS)]
    single_gflops = 2.0 * WIDTH * WIDTH * (1 + DIRECTIONS) * DEPTH / plain_matmul_seconds(
        single, DEPTH) / 1e9
    rng = np.random.default_rng(1)
    square = rng.standard_normal((WIDTH, WIDTH))
    start = time.perf_counter()
    square @ square
    square_gflops = 2.0 * WIDTH**3 / (time.perf_counter() - start) / 1e9

    print(f"simulate tanh width={WIDTH} depth={DEPTH} directions={DIRECTIONS} "
          f"replicas={args.replicas}: wall {wall:.2f} s (sampling weights "
          f"{table.sampling_seconds:.2f} s, passes {table.propagation_seconds:.2f} s)")
    print(f"  passes per layer: {', '.join(f'W @ ({n} x {c})' for _, n, c in table.matmul_shapes)}")
    print(f"  sampled-network work: {ours:.2f} GFLOP/s; plain numpy matmul, same shapes: "
          f"{reference:.2f} GFLOP/s -> {100 * ours / reference:.0f} %")
    print(f"  context: plain W @ ({WIDTH} x {1 + DIRECTIONS}) {single_gflops:.2f} GFLOP/s "
          f"(sampled work = {100 * ours / single_gflops:.0f} % of it); square {WIDTH}^3 "
          f"matmul {square_gflops:.1f} GFLOP/s")
    report("simulate passes vs plain matmul (same shapes), time per network",
           table.propagation_seconds / args.replicas, same_shapes, ">= 0.5x", ours >= 0.5 * reference)


if __name__ == "__main__":
    main()
