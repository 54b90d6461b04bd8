"""Cheap, predictable simplification of derived results (full ``simplify`` is slow and erratic)."""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .faddeeva import faddeeva


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


@lru_cache(maxsize=4096)
def merge_series(expr: sp.Expr) -> sp.Expr:
    """sum_i c_i Sum(f_i, (k, 0, oo)) -> Sum(sum_i c_i f_i, (k, 0, oo)): one series per
    expression (all the series involved converge), its summand collected in the Faddeeva
    value and each coefficient factored."""
    expr = sp.expand(expr, deep=False)
    summands: dict = {}
    rest = sp.S.Zero
    for term in sp.Add.make_args(expr):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) == 1 and len(sums[0].limits) == 1 and sums[0].limits[0][1:] == (0, sp.oo):
            key = sums[0].limits[0]
            summands[key] = summands.get(key, sp.S.Zero) + (term / sums[0]) * sums[0].function
        else:
            rest += term
    for (index, lo, hi), summand in summands.items():
        summand = sp.expand(summand)
        if summand == 0:   # the series cancelled (an odd derivative of sigmoid): no Sum(0)
            continue
        values = list(summand.atoms(faddeeva))
        if len(values) == 1:
            (w,) = values
            collected = sp.collect(summand, w, evaluate=False)
            neat = w.func(sp.factor(w.args[0]))  # i*pi*(2k+1)/(2*sqrt(2q)), not expanded
            summand = sum((sp.factor(c) * (neat if key == w else key)
                           for key, c in collected.items()), sp.S.Zero)
        rest += sp.Sum(summand, (index, lo, hi))
    return rest


@lru_cache(maxsize=4096)
def tidy(expr: sp.Expr) -> sp.Expr:
    """Try a few inexpensive normal forms and keep the shortest."""
    if expr.has(sp.Sum):
        return merge_series(expr)
    if expr.is_infinite or not expr.free_symbols or expr.has(sp.oo, -sp.oo, sp.zoo):
        return expr
    expr = factor_radicands(expr)
    expanded = sp.expand(expr)
    candidates = [expr, sp.powsimp(sp.factor_terms(sp.together(expr))), expanded,
                  sp.factor_terms(expanded)]
    best = min(candidates, key=sp.count_ops)
    # factor is the costly candidate (tens of seconds on high Hermite moments); a single
    # product is already as short as it gets.
    if not expr.has(sp.Function):
        candidates.append(sp.factor(expanded if best.is_Add else best))
    return min(candidates, key=sp.count_ops)
