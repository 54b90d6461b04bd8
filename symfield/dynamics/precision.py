"""Working precisions and the digit count verified by recomputation.

A high-precision result of the dynamics is computed twice: at a working precision W1 a little
above the requested ``dps`` and at a higher W2 (other quadrature grids, other rounding, and
root iterations that run to their own convergence). The number of significant digits on
which the two agree (``symfield.numbers.agreement_digits``, the measure the laws' certification
uses) is the *verified* digit count reported with the result; the value returned is the W2
one, rounded to ``dps`` digits.
"""
from __future__ import annotations

import mpmath
import sympy as sp

# One measure of agreement for the whole package (relative to the value, no absolute floor).
from ..numbers import agreement_digits

#: (W1 - dps, W2 - dps) tried in turn: the second pair only when the first one verifies
#: fewer than ``dps - MAX_SHORTFALL`` digits of some quantity.
GUARDS = ((1, 6), (12, 24))
#: Digits a well-conditioned quantity may miss before the precisions are raised.
MAX_SHORTFALL = 2


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


def enclosure_record(enclosure, dps: int) -> dict[str, object]:
    """A proven ball for JSON: its midpoint with ``dps`` + 5 digits, its radius, and the digits
    it proves ("exact" for a radius of 0: q* = 0, chi1 = +inf, an exact critical sigma_w)."""
    mid = enclosure.mid
    return {"mid": ("inf" if mid > 0 else "-inf") if mpmath.isinf(mid)
            else mpmath.nstr(mid, dps + 5),
            "rad": mpmath.nstr(enclosure.rad, 3),
            "digits": "exact" if enclosure.rad == 0 else int(enclosure.digits)}


__all__ = ["GUARDS", "MAX_SHORTFALL", "agreement_digits", "enclosure_record", "rounded"]
