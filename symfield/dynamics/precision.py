"""Working precisions and the digit count verified by recomputation.

A high-precision result of the dynamics is computed twice: at a working precision W1 a little
above the requested ``dps`` and at a higher W2 (other quadrature grids, other rounding, and
root iterations that run to their own convergence). The number of significant digits on
which the two agree is the *verified* digit count reported with the result; the value
returned is the W2 one, rounded to ``dps`` digits.
"""
from __future__ import annotations

import math

import mpmath
import sympy as sp

#: (W1 - dps, W2 - dps) tried in turn: the second pair only when the first one verifies
#: fewer than ``dps - MAX_SHORTFALL`` digits of some quantity.
GUARDS = ((1, 6), (12, 24))
#: Digits a well-conditioned quantity may miss before the precisions are raised.
MAX_SHORTFALL = 2


def agreement_digits(a, b, dps: int) -> int:
    """Significant digits on which ``a`` and ``b`` agree, capped at ``dps``.

    Exact equality (including two infinities of one sign, or two exact zeros) counts as
    ``dps``. A value that is zero at one precision and not at the other counts by the
    absolute difference against 1.
    """
    if a is None or b is None:
        return dps if a is b else 0
    if isinstance(a, sp.Basic) and isinstance(b, sp.Basic):
        return dps if sp.simplify(a - b) == 0 else 0
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if a == b:
        return dps
    if mpmath.isinf(a) or mpmath.isinf(b) or mpmath.isnan(a) or mpmath.isnan(b):
        return 0
    with mpmath.workdps(max(dps, 15) + 30):
        scale = max(abs(a), abs(b))
        diff = abs(a - b)
        if scale == 0:
            return dps
        relative = diff / scale if scale >= 1e-300 else diff
        if relative == 0:
            return dps
        return max(0, min(dps, int(math.floor(-float(mpmath.log10(relative))))))


def rounded(value, dps: int):
    """An mpmath number at ``dps`` digits (None and SymPy numbers are converted too)."""
    if value is None:
        return None
    if isinstance(value, sp.Basic):
        if value.is_infinite:
            return mpmath.inf if value.is_extended_positive else -mpmath.inf
        with mpmath.workdps(dps):
            return +mpmath.mpf(sp.N(value, dps + 10)._mpf_) if not value.is_Rational else \
                mpmath.mpf(int(value.p)) / int(value.q)
    with mpmath.workdps(dps):
        return +mpmath.mpf(value)


__all__ = ["GUARDS", "MAX_SHORTFALL", "agreement_digits", "rounded"]
