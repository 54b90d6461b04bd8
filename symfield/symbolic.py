"""Small symbolic utilities shared by the activations and the Gaussian calculus.

``heaviside_form`` rewrites the non-smooth building blocks (Max, Min, Abs, sign, Piecewise) as
sums of products with Heaviside steps. The rewrite is exact almost everywhere, which is what an
expectation needs; it must not be used before differentiating (that is the x*Heaviside(x) trap).
"""
from __future__ import annotations

import sympy as sp


def _step(arg: sp.Expr) -> sp.Expr:
    return sp.Heaviside(arg)


def _relational_to_step(cond: sp.Basic) -> sp.Expr:
    """Indicator of a condition built from linear inequalities (boundaries have measure zero)."""
    if cond is sp.true:
        return sp.S.One
    if cond is sp.false:
        return sp.S.Zero
    if isinstance(cond, sp.And):
        return sp.Mul(*[_relational_to_step(a) for a in cond.args])
    if isinstance(cond, sp.Or):
        # 1 - prod(1 - indicator)
        return 1 - sp.Mul(*[1 - _relational_to_step(a) for a in cond.args])
    if isinstance(cond, sp.Not):
        return 1 - _relational_to_step(cond.args[0])
    if isinstance(cond, (sp.StrictLessThan, sp.LessThan)):
        return _step(cond.rhs - cond.lhs)
    if isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan)):
        return _step(cond.lhs - cond.rhs)
    raise ValueError(f"cannot turn the condition {cond} into a step function")


def _piecewise_to_steps(*pairs: tuple) -> sp.Expr:
    total = sp.S.Zero
    not_before = sp.S.One  # indicator that no earlier condition held
    for expr, cond in pairs:
        ind = _relational_to_step(cond)
        total += expr * ind * not_before
        not_before = not_before * (1 - ind)
    return total


def _max_to_steps(*args: sp.Expr) -> sp.Expr:
    first, rest = args[0], args[1:]
    if not rest:
        return first
    other = _max_to_steps(*rest)
    return first * _step(first - other) + other * _step(other - first)


def _min_to_steps(*args: sp.Expr) -> sp.Expr:
    first, rest = args[0], args[1:]
    if not rest:
        return first
    other = _min_to_steps(*rest)
    return first * _step(other - first) + other * _step(first - other)


def heaviside_form(expr: sp.Expr) -> sp.Expr:
    """Rewrite Max, Min, Abs, sign and Piecewise with Heaviside steps (exact almost everywhere)."""
    if not expr.has(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise):
        return expr
    out = expr.replace(sp.Piecewise, lambda *pairs: _piecewise_to_steps(*pairs))
    out = out.replace(sp.Max, _max_to_steps).replace(sp.Min, _min_to_steps)
    out = out.replace(sp.Abs, lambda a: a * (2 * _step(a) - 1))
    out = out.replace(sp.sign, lambda a: 2 * _step(a) - 1)
    return out


def canonical_steps(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """Write every step as H(var - t) or 1 - H(var - t) (a.e.), so that reflections cancel."""

    def fix(arg, *h0):
        slope = sp.diff(arg, var)
        if slope.is_negative:
            return 1 - sp.Heaviside(-arg)
        return sp.Heaviside(arg)

    return expr.replace(sp.Heaviside, fix)


def parity(expr: sp.Expr, var: sp.Symbol) -> str | None:
    """'even', 'odd' or None (not decided), for an expression in ``var``."""
    if not expr.has(var):
        return "even"
    base = canonical_steps(heaviside_form(expr), var)
    flipped = canonical_steps(heaviside_form(expr.subs(var, -var)), var)
    if sp.expand(flipped - base) == 0:
        return "even"
    if sp.expand(flipped + base) == 0:
        return "odd"
    return None
