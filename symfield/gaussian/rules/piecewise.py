"""Piecewise pieces: a polynomial restricted by step functions, by truncated Gaussian moments."""
from __future__ import annotations

import sympy as sp

from ..normal_form import NotTractable
from .base import Measure, Rule


def _std_density(y: sp.Expr) -> sp.Expr:
    return sp.S.Zero if y.is_infinite else sp.exp(-y**2 / 2) / sp.sqrt(2 * sp.pi)


def _std_cdf(y: sp.Expr) -> sp.Expr:
    if y is sp.oo:
        return sp.S.One
    if y is sp.S.NegativeInfinity:
        return sp.S.Zero
    return (1 + sp.erf(y / sp.sqrt(2))) / 2


def truncated_standard_moment(k: int, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """int_a^b y^k phi(y) dy for the standard normal density phi (a, b may be infinite).

    Integration by parts gives M_k = [-y^(k-1) phi(y)]_a^b + (k-1) M_(k-2).
    """
    if k == 0:
        return _std_cdf(b) - _std_cdf(a)
    boundary = sp.S.Zero
    for y, sign in ((b, -1), (a, 1)):
        if not y.is_infinite:
            boundary += sign * y ** (k - 1) * _std_density(y)
    if k == 1:
        return boundary
    return boundary + (k - 1) * truncated_standard_moment(k - 2, a, b)


def _interval(steps, x):
    lower, upper = [], []
    for slope, offset in steps:
        point = sp.cancel(-offset / slope)
        if slope.is_positive:
            lower.append(point)
        elif slope.is_negative:
            upper.append(point)
        else:
            raise NotTractable(f"the sign of the step slope {slope} is unknown")
    try:
        lo = sp.Max(*lower) if lower else sp.S.NegativeInfinity
        hi = sp.Min(*upper) if upper else sp.oo
    except (TypeError, ValueError):  # pragma: no cover - defensive
        raise NotTractable("step points cannot be ordered") from None
    if isinstance(lo, (sp.Max, sp.Min)) or isinstance(hi, (sp.Max, sp.Min)):
        raise NotTractable("step points cannot be ordered")
    return lo, hi


class TruncationRule(Rule):
    """E[c x^n H(x - a) H(b - x)] = c * int_a^b x^n p(x) dx by truncated Gaussian moments.

    This is how piecewise activations are integrated: split at the kinks, integrate each piece.
    """

    name = "piecewise: truncated Gaussian moments"
    acts_on = "term"

    def applies(self, term, m):
        return bool(term.steps) and not (term.erfs or term.other or term.deltas
                                         or term.quad or term.lin)

    def apply(self, term, m, engine):
        lo, hi = _interval(term.steps, m.x)
        if (hi - lo).is_nonpositive:
            value = sp.S.Zero
        else:
            scale = sp.sqrt(m.var)
            a = lo if lo.is_infinite else (lo - m.mean) / scale
            b = hi if hi.is_infinite else (hi - m.mean) / scale
            total = sp.S.Zero
            n = term.power
            for k in range(n + 1):
                total += (sp.binomial(n, k) * m.mean ** (n - k) * scale**k
                          * truncated_standard_moment(k, a, b))
            value = sp.expand(term.coeff * total)
        engine.record(m.expectation(term.rebuild(m.x)), value, self.name,
                      f"integrate x^{term.power} against the Gaussian over ({sp.sstr(lo)}, {sp.sstr(hi)})")
        return value
