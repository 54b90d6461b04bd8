"""Speed of the field kernel (issue 12, part 1), side by side with a bare numpy loop doing the
same recursion (erf through Williams' arcsine formula written inline, the covariance applied
the same way, no checks):

- 4 inputs on a 64-point ring, depth 20, float64 (target <= 1 s), independent weights and a
  5-point shared filter;
- one input on a 32 x 32 torus with a 3 x 3 shared filter, depth 10 (target <= 10 s): the
  filter is applied by 9 circular shifts of the (G x G) kernel, never as a G^2 x G^2 sum.

On a loaded machine both times grow together; the load average is printed.

Run: python benchmarks/bench_field.py
"""
from __future__ import annotations

import os
import time

import numpy as np
from _common import report

from symfield.dynamics.field import field_kernel


def bare_conv_erf(X: np.ndarray, depth: int, sw: float, sb: float, shape: tuple[int, ...],
                  width: int) -> np.ndarray:
    T, G, n0 = X.shape
    taps = np.arange(width) - (width - 1) // 2
    offsets = np.stack(np.meshgrid(*[taps] * len(shape), indexing="ij"), -1).reshape(-1, len(shape))
    d = len(shape)
    first, second = tuple(range(2, 2 + d)), tuple(range(2 + d, 2 + 2 * d))

    def conv(K):
        field = K.reshape((T, T) + shape + shape)
        total = sum(np.roll(field, tuple(-a for a in o) * 2, axis=first + second) for o in offsets)
        return (total / len(offsets)).reshape(T, T, G, G)

    Q = sw**2 * conv(np.einsum("tac,sbc->tsab", X, X) / n0) + sb**2 * np.eye(G)
    for _ in range(depth - 1):
        M = Q.transpose(0, 2, 1, 3).reshape(T * G, T * G)
        q = np.diagonal(M)
        K = 2 / np.pi * np.arcsin(2 * M / np.sqrt((1 + 2 * q[:, None]) * (1 + 2 * q[None, :])))
        Q = sw**2 * conv(K.reshape(T, G, T, G).transpose(0, 2, 1, 3)) + sb**2 * np.eye(G)
    return Q


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    rng = np.random.default_rng(0)
    ring = rng.standard_normal((4, 64, 3))
    torus = rng.standard_normal((1, 1024, 3))
    field_kernel("erf", ring[:, :4], 2, 1.5, 0.1, 4)  # warm-up: the law is derived once
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for spec, width in (("independent", None), (("conv", 5), 5)):
        ours = timed(lambda s=spec: field_kernel("erf", ring, 20, 1.5, 0.1, 64, s))
        if width is None:
            baseline = timed(lambda: bare_conv_erf(ring, 20, 1.5, 0.1, (64,), 1))
        else:
            baseline = timed(lambda w=width: bare_conv_erf(ring, 20, 1.5, 0.1, (64,), w))
        report(f"field_kernel 4 inputs, ring 64, depth 20, {spec}", ours, baseline, "<= 1 s",
               ours <= 1.0)
    ours = timed(lambda: field_kernel("erf", torus, 10, 1.5, 0.1, (32, 32), ("conv", 3)))
    baseline = timed(lambda: bare_conv_erf(torus, 10, 1.5, 0.1, (32, 32), 3))
    report("field_kernel 1 input, 32x32 torus, 3x3 filter, depth 10", ours, baseline,
           "<= 10 s", ours <= 10.0)
    check = field_kernel("erf", torus, 10, 1.5, 0.1, (32, 32), ("conv", 3))
    print(f"largest difference from the bare loop: "
          f"{np.abs(check - bare_conv_erf(torus, 10, 1.5, 0.1, (32, 32), 3)).max():.2e}")


if __name__ == "__main__":
    main()
