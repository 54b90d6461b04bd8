"""Hurwitz zeta values zeta(s, a) = sum_{k>=0} (k + a)^-s with relative accuracy, and a bound.

The tails of the Faddeeva pole series sum power by power to these values.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import mpmath


@lru_cache(maxsize=16)
def _bernoulli_weights(dps: int, count: int) -> tuple:
    """B_2j/(2j)! for j = 1..count at working precision dps."""
    with mpmath.workdps(dps):
        return tuple(mpmath.bernoulli(2 * j) / mpmath.factorial(2 * j) for j in range(1, count + 1))


def hurwitz_zetas(orders: Sequence[int], a) -> dict[int, mpmath.mpf]:
    """zeta(s, a) = sum_{k>=0} (k + a)^-s for integers s >= 2, a > 0, with *relative* accuracy.

    mpmath.zeta(s, a) is only absolutely accurate for large s (at 60 digits, zeta(40, 30.5)
    ~ 6e-60 comes out with a relative error of 1e-26), which large coefficients would amplify.
    Euler-Maclaurin after shifting a past the number of digits; the head is shared.
    """
    dps = mpmath.mp.dps
    a = mpmath.mpf(a)
    orders = sorted(set(orders))
    if not orders:
        return {}
    shift = max(0, dps + 10 - int(a))
    heads = {s: mpmath.mpf(0) for s in orders}
    for j in range(shift):
        inv = 1 / (j + a)
        power, at = inv ** orders[0], orders[0]
        for s in orders:
            power *= inv ** (s - at)
            at = s
            heads[s] += power
    b = a + shift
    weights = _bernoulli_weights(dps, dps + 40)
    tol = mpmath.mpf(10) ** (-dps - 5)
    out = {}
    for s in orders:
        total = b ** (1 - s) / (s - 1) + b ** (-s) / 2
        rising, power = mpmath.mpf(s), b ** (-s - 1)
        for j, weight in enumerate(weights, start=1):
            term = weight * rising * power
            total += term
            if abs(term) < tol * abs(total):
                break
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            power /= b * b
        out[s] = heads[s] + total
    return out


def hurwitz_zeta_upper(s: int, a: float) -> float:
    """An upper bound of zeta(s, a): a^-s + a^(1-s)/(s-1) (first term plus the integral)."""
    return a ** (-s) + a ** (1 - s) / (s - 1)
