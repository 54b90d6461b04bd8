"""Certified high-precision evaluation of expressions holding Gaussian expectations.

Every number symfield returns at ``dps`` digits has been computed twice, at two working
precisions above ``dps``; the digits are returned only if both agree to ``dps`` digits (more
guard digits are tried before giving up: the policy is ``symfield.numbers.LAW_POLICY``). This catches cancellation in closed forms (e.g.
``4*atan(sqrt(1+4q))/pi - 1`` at q = 1e-6) as well as quadrature trouble.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

import mpmath
import sympy as sp

from ...numbers import LAW_POLICY, input_digits, magnitude_spread
from ...expectation import set_numeric_evaluator
from .compile import CompiledExpr


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

    return LAW_POLICY.certify(at, dps, magnitude_spread(raw), fn.max_work(dps), input_digits(raw))


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
