"""Cheap, predictable simplification of derived results (full ``simplify`` is slow and erratic)."""
from __future__ import annotations

import sympy as sp


def _with_square_factor(base: sp.Expr) -> sp.Expr:
    factored = sp.factor(base)
    squares = [f for f in sp.Mul.make_args(factored)
               if isinstance(f, sp.Pow) and f.exp.is_Integer and f.exp % 2 == 0]
    return factored if squares else base


def factor_radicands(expr: sp.Expr) -> sp.Expr:
    """sqrt(4q^2 + 4q + 1) -> 2q + 1: factor a radicand when that exposes a square."""
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and e.exp.q == 2 and e.base.is_Add,
        lambda e: sp.Pow(_with_square_factor(e.base), e.exp))


def tidy(expr: sp.Expr) -> sp.Expr:
    """Try a few inexpensive normal forms and keep the shortest."""
    if expr.is_infinite or not expr.free_symbols or expr.has(sp.oo, -sp.oo, sp.zoo):
        return expr
    expr = factor_radicands(expr)
    expanded = sp.expand(expr)
    candidates = [expr, sp.powsimp(sp.factor_terms(sp.together(expr))), expanded,
                  sp.factor_terms(expanded)]
    if not expr.has(sp.Function):
        candidates.append(sp.factor(expanded))
    return min(candidates, key=sp.count_ops)
