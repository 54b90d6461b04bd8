"""Certified high-precision evaluation.

Every number symfield returns at ``dps`` digits has been computed twice, at two working
precisions above ``dps``; the digits are returned only if both agree to ``dps`` digits (more
guard digits are tried before giving up). This catches cancellation in closed forms (e.g.
``4*atan(sqrt(1+4q))/pi - 1`` at q = 1e-6) as well as quadrature trouble.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping

import mpmath
import sympy as sp

from ...errors import PrecisionError
from ..expectation import set_numeric_evaluator
from .compile import CompiledExpr

#: Extra digits of the two working precisions, tried in turn.
_GUARDS = ((6, 12), (20, 40), (60, 100))


def certified(compute: Callable[[int], object], dps: int, spread: int = 0):
    """Run ``compute(working_dps)`` at two precisions and return the value to ``dps`` digits.

    Agreement is relative, with an absolute floor of 10^-(dps + guard) for values that are
    (close to) zero. ``spread`` extra digits go to the higher precision only: when the inputs
    span many orders of magnitude (sigma_b = 1e-20 next to A = 1), a sum such as
    sigma_w^2 A + sigma_b^2 can lose the small input at both precisions alike, and the two
    evaluations would agree on the same wrong digits. Raises PrecisionError if the digits
    cannot be confirmed.
    """
    last = None
    for low, high in _GUARDS:
        a = compute(dps + low)
        b = compute(dps + high + spread)
        if mpmath.isinf(a) or mpmath.isinf(b):
            if a == b:
                return b
            raise PrecisionError("the value is infinite at one working precision only")
        with mpmath.workdps(dps + high):
            diff = abs(a - b)
            size = abs(b)
            if diff <= mpmath.mpf(10) ** (-dps - 1) * size or diff <= mpmath.mpf(10) ** (-(dps + low)):
                with mpmath.workdps(dps):
                    return +b
            last = diff / size if size else diff
    raise PrecisionError(
        f"could not certify {dps} digits (relative disagreement {mpmath.nstr(last, 3)} "
        f"between working precisions)")


@lru_cache(maxsize=512)
def _compiled(expr: sp.Expr, symbols: tuple) -> CompiledExpr:
    return CompiledExpr(expr, symbols)


def compiled(expr: sp.Expr, symbols) -> CompiledExpr:
    """Cached ``CompiledExpr`` for an expression and an ordered tuple of symbols."""
    return _compiled(expr, tuple(symbols))


def evaluate_expr(expr: sp.Expr, values: Mapping[sp.Symbol, object], dps: int):
    """Certified value of ``expr`` at ``values`` (symbol -> number) to ``dps`` digits.

    ``expr`` may contain unevaluated Gaussian expectations. Numbers may be ints, floats,
    strings mpmath understands, Fractions, SymPy numbers or mpmath numbers.
    """
    symbols = tuple(sorted(values, key=lambda s: s.name))
    fn = compiled(expr, symbols)
    raw = [values[s] for s in symbols]

    def at(work: int):
        with mpmath.workdps(work):
            return fn.mp([_to_mp(v) for v in raw], work)

    return certified(at, dps, _magnitude_spread(raw))


#: Cap of the extra digits for inputs of very different magnitudes.
_MAX_SPREAD = 120


def _magnitude_spread(raw) -> int:
    """Twice the largest |log10 |v|| over the nonzero real inputs (squares double it)."""
    widest = 0
    with mpmath.workdps(15):
        for v in raw:
            try:
                x = abs(_to_mp(v))
            except (TypeError, ValueError):
                continue
            if isinstance(x, mpmath.mpf) and x != 0 and mpmath.isfinite(x):
                widest = max(widest, abs(int(mpmath.floor(mpmath.log10(x)))))
    return min(2 * widest, _MAX_SPREAD)


def _to_mp(v):
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return v
    if isinstance(v, sp.Basic):
        return mpmath.mpf(sp.Rational(v)) if v.is_Rational else mpmath.mpf(sp.N(v, mpmath.mp.dps))
    if hasattr(v, "numerator") and hasattr(v, "denominator"):  # Fraction
        return mpmath.mpf(v.numerator) / v.denominator
    return mpmath.mpf(v)


def expectation_value(e: sp.Expr, dps: int):
    """Certified value of an expectation with no free symbols (used by ``evalf``)."""
    return evaluate_expr(e, {}, dps)


set_numeric_evaluator(expectation_value)
