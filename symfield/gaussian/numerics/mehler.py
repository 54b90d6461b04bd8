"""Evaluation of Mehler series sum_{n>=1} w(n) T(n + m1, v1) T(n + m2, v2), T = tanh_moment.

The terms are a_n(f) a_n(g) c^n up to a constant, with a_n the Hermite coefficients of
f = tanh^(m1)(sqrt(v1) z) (and g); by Parseval sum_n a_n(f)^2 = E[f^2], so the truncation
after N terms is bounded (Cauchy-Schwarz) by |C c^(N+1)| sqrt(E[f^2] - sum_{n<=N} a_n(f)^2)
sqrt(E[g^2] - ...), with E[f^2] from certified quadrature. The series converges for |c| < 1
only, slowly near |c| = 1: there SeriesNotConvergent is raised and callers use the
degenerate-pair quadrature instead.
"""
from __future__ import annotations

from typing import Sequence

import mpmath
import numpy as np
import sympy as sp

from ...errors import InvalidValueError, PrecisionError
from ..faddeeva import tanh_moment
from .pole_moments import tanh_derivative_moments
from .quadrature import expect_mp

MAX_TERMS = 3000
#: Beyond this |c| the series converges too slowly to be worth summing (use quadrature).
MAX_CORRELATION = 0.97


class SeriesNotConvergent(PrecisionError):
    """The Mehler series converges too slowly here (|c| too close to 1)."""


class MehlerSeries:
    """One Mehler Sum as a function of ``symbols``."""

    def __init__(self, series: sp.Sum, symbols: Sequence[sp.Symbol]):
        (n, lo, hi), = series.limits
        if hi is not sp.oo:
            raise ValueError("a Mehler series runs to infinity")
        moments = [t for t in series.function.atoms(tanh_moment)]
        if len(moments) not in (1, 2):
            raise ValueError("a Mehler series holds two tanh moments")
        if len(moments) == 1:  # f = g and v1 = v2: the summand holds T^2
            moments = moments * 2
        self.start = int(lo)
        self.shifts, self.variances = [], []
        for t in moments:
            order, variance = t.args
            shift = sp.simplify(order - n)
            if shift.free_symbols:
                raise ValueError("tanh moment orders must be n + constant")
            self.shifts.append(int(shift))
            self.variances.append(sp.lambdify(symbols, variance, modules="mpmath"))
        weight = series.function.xreplace({t: 1 for t in moments})
        self.weight = sp.lambdify([n, *symbols], weight, modules="mpmath")
        self.index = n

    def mp(self, values: Sequence, dps: int):
        with mpmath.workdps(dps + 5):
            v1, v2 = (mpmath.mpf(f(*values)) for f in self.variances)
            m1, m2 = self.shifts
            norms = [self._second_moment(m1, v1, dps), self._second_moment(m2, v2, dps)]
            # |c| from the weight: w(n) n!/sqrt(v1 v2)^n = C c^n
            w1, w2 = (abs(self.weight(k, *values)) * mpmath.factorial(k) / mpmath.sqrt(v1 * v2) ** k
                      for k in (1, 2))
            corr = w2 / w1 if w1 else mpmath.mpf(0)
            if corr > MAX_CORRELATION:
                raise SeriesNotConvergent(
                    f"|c| = {mpmath.nstr(corr, 6)} is too close to 1 for the Mehler series "
                    f"(limit {MAX_CORRELATION}); use method='quadrature'")
            n_max = 64
            while True:
                t1, _ = tanh_derivative_moments(n_max + m1, v1, dps)
                t2, _ = tanh_derivative_moments(n_max + m2, v2, dps) if (m2, v2) != (m1, v1) else (t1, None)
                total = mpmath.mpf(0)
                rest = [norms[0], norms[1]]
                for k in range(0, n_max + 1):
                    # Hermite coefficient magnitudes sqrt(v^k/k!) T(k + m) for Parseval
                    for which, (t, v, m) in enumerate(((t1, v1, m1), (t2, v2, m2))):
                        rest[which] -= v**k / mpmath.factorial(k) * t[k + m] ** 2
                    if k >= self.start:
                        total += self.weight(k, *values) * t1[k + m1] * t2[k + m2]
                for which in (0, 1):
                    # Parseval: the partial sums cannot exceed E[f^2]; if they do, the
                    # coefficients have lost their digits and nothing here can be trusted.
                    if rest[which] < -mpmath.mpf(10) ** (-(dps - 8)) * norms[which]:
                        raise PrecisionError("Hermite coefficients failed the Parseval check")
                nxt = n_max + 1
                scale = abs(self.weight(nxt, *values)) * mpmath.factorial(nxt) / mpmath.sqrt(v1 * v2) ** nxt
                bound = scale * mpmath.sqrt(max(rest[0], 0)) * mpmath.sqrt(max(rest[1], 0))
                if bound <= mpmath.mpf(10) ** (-(dps + 2)) * max(abs(total), mpmath.mpf(10) ** -dps):
                    return total
                if n_max >= MAX_TERMS:
                    raise SeriesNotConvergent(
                        f"the Mehler series needs more than {MAX_TERMS} terms here (|c| close to 1)")
                n_max = min(2 * n_max, MAX_TERMS)

    @staticmethod
    def _second_moment(m: int, v, dps: int):
        """E[(tanh^(m)(y))^2], y ~ N(0, v), by certified quadrature."""
        y = sp.Symbol("y")
        f = sp.lambdify(y, sp.diff(sp.tanh(y), y, m) ** 2, modules="mpmath")
        value, _ = expect_mp(f, v, dps + 10, even=True)
        return value

    def np(self, *arrays):
        raise InvalidValueError("the Mehler series has no float64 evaluator: use "
                                "to_numpy(method='auto') (quadrature) or kernel_grid for grids")


__all__ = ["MehlerSeries", "SeriesNotConvergent", "np"]
