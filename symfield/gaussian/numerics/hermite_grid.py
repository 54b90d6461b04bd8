"""float64 kernels on a grid of (q, c) by the Mehler (Hermite) series.

E[f(u1) g(u2)] at equal variances q and correlation c is sum_n a_n(q) b_n(q) c^n with
a_n(q) = E[f(sqrt(q) z) He_n(z)]/sqrt(n!) (probabilists' Hermite polynomials). On a grid the
coefficients are computed once per q (one trapezoid pass with the normalised three-term
recurrence for He_n/sqrt(n!)), and every c costs only a polynomial evaluation: this is what
makes whole (q, c) grids cheap compared with a tensor-product rule per point. The truncation
is bounded by Parseval (sum_n a_n^2 = E[f^2]); at |c| = 1 the pair is degenerate and the
value E[f g] is computed directly.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

#: z-range of the trapezoid: the integrand decays like exp(-z^2/4) times a normalised
#: Hermite function (e^-39 ~ 1e-17 at z = 12.5).
_Z_MAX = 12.5


def hermite_coefficients(f: Callable[[np.ndarray], np.ndarray], q: np.ndarray, n_max: int,
                         pole_distance: float = math.pi / 2) -> np.ndarray:
    """a_n(q) for n = 0..n_max, shape (len(q), n_max + 1).

    ``pole_distance`` is the distance of f's nearest singularity from the real axis in its
    own variable (pi/2 for tanh); it sets the step in z together with the oscillation of
    He_n, so that the trapezoid rule is accurate to ~1e-16.
    """
    q = np.asarray(q, dtype=float)
    q_max = float(np.max(q))
    strip = pole_distance / math.sqrt(q_max)               # in z: distance of f's poles
    h = min(2 * math.pi * strip / 37.0, 0.5 * math.pi / math.sqrt(n_max + 1), 0.25)
    count = math.ceil(_Z_MAX / h)
    probe = np.linspace(0.1, 3.0, 7)
    parity = _parity(f, probe)
    # Odd (even) f pairs only with odd (even) He_n, and the integrand is even: half line.
    z = np.arange(0 if parity else -count, count + 1) * h
    weight = h * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    if parity:
        weight[1:] *= 2.0
    values = f(np.sqrt(q)[:, None] * z[None, :]) * weight           # (Q, Z)
    out = np.zeros((q.size, n_max + 1))
    h_prev = np.zeros_like(z)
    h_cur = np.ones_like(z)
    for n in range(n_max + 1):
        if parity is None or (parity == "odd") == (n % 2 == 1):
            out[:, n] = values @ h_cur
        # He_{n+1}/sqrt((n+1)!) = (z He_n/sqrt(n!) - sqrt(n) He_{n-1}/sqrt((n-1)!))/sqrt(n+1)
        h_prev, h_cur = h_cur, (z * h_cur - math.sqrt(n) * h_prev) / math.sqrt(n + 1)
    return out


def _parity(f: Callable, probe: np.ndarray) -> str | None:
    plus, minus = f(probe), f(-probe)
    if np.allclose(minus, -plus, rtol=1e-14, atol=1e-300):
        return "odd"
    if np.allclose(minus, plus, rtol=1e-14, atol=1e-300):
        return "even"
    return None


def kernel_on_grid(f: Callable, g: Callable | None, q: np.ndarray, c: np.ndarray,
                   n_max: int = 400, pole_distance: float = math.pi / 2,
                   diagonal: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """E[f(u1) g(u2)] for u1, u2 ~ N(0, q) with correlation c, on the grid q x c (float64).

    ``diagonal(q)`` gives E[f(u) g(u)] (used at c = 1, and c = -1 through parity when
    provided); without it the series is summed there too.
    """
    q = np.asarray(q, dtype=float)
    c = np.asarray(c, dtype=float)
    a = hermite_coefficients(f, q, n_max, pole_distance)
    b = a if g is None or g is f else hermite_coefficients(g, q, n_max, pole_distance)
    products = a * b                                                     # (Q, N)
    keep = np.nonzero(np.any(np.abs(products) > 1e-300, axis=0))[0]
    last = int(keep[-1]) if keep.size else 0
    odd_only = not np.any(products[:, 0::2])
    even_only = not np.any(products[:, 1::2])
    out = np.zeros((q.size, c.size))
    if odd_only or even_only:                                            # Horner in c^2
        c2 = (c * c)[None, :]
        first = 1 if odd_only else 0
        for n in range(last - (last - first) % 2, first - 1, -2):
            out = out * c2 + products[:, n:n + 1]
        if odd_only:
            out = out * c[None, :]
    else:
        for n in range(last, -1, -1):                                    # Horner in c
            out = out * c[None, :] + products[:, n:n + 1]
    if diagonal is not None:
        ends = np.abs(np.abs(c) - 1.0) < 1e-15
        if np.any(ends):
            exact = np.asarray(diagonal(q), dtype=float)[:, None]
            signs = np.sign(c[ends])[None, :]
            # c = -1: E[f(u) g(-u)]; for odd or even pairs this is +-E[f g]
            out[:, ends] = exact * np.where(signs > 0, 1.0, _parity_sign(a, b))
    return out


def _parity_sign(a: np.ndarray, b: np.ndarray) -> float:
    """+1 if only even terms contribute, -1 if only odd ones (then E at c = -1 is -E at 1)."""
    even = np.abs(a[:, 0::2] * b[:, 0::2]).sum()
    odd = np.abs(a[:, 1::2] * b[:, 1::2]).sum()
    if odd <= 1e-300:
        return 1.0
    if even <= 1e-300:
        return -1.0
    return float("nan")  # mixed parity: no shortcut
