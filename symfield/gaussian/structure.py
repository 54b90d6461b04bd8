"""Structural facts about integrands that both the rules and the numerics read.

Pure functions of SymPy expressions: how a pair integrand factorises, where a piecewise
integrand has kinks, whether a pair integrand is jointly even.
"""
from __future__ import annotations

import sympy as sp

from ..symbolic import heaviside_form


def separate(expr: sp.Expr, u1: sp.Symbol, u2: sp.Symbol) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """(c, f(u1), g(u2)) with expr = c f(u1) g(u2), or None if a factor couples u1 and u2."""
    c, f, g = sp.S.One, sp.S.One, sp.S.One
    for factor in sp.Mul.make_args(expr):
        has1, has2 = factor.has(u1), factor.has(u2)
        if has1 and has2:
            return None
        if has1:
            f *= factor
        elif has2:
            g *= factor
        else:
            c *= factor
    return c, f, g


def kinks(integrand: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """Points where a piecewise integrand is not smooth (roots of its step arguments)."""
    out = []
    for h in heaviside_form(integrand, var).atoms(sp.Heaviside):
        arg = h.args[0]
        roots = sp.solve(arg, var)
        out.extend(r for r in roots if r.is_real is not False)
    return out


def jointly_even(integrand: sp.Expr, v1: sp.Symbol, v2: sp.Symbol) -> bool:
    """F(-u1, -u2) == F(u1, u2), decided symbolically (False when unsure)."""
    flipped = integrand.subs({v1: -v1, v2: -v2}, simultaneous=True)
    return sp.expand(heaviside_form(flipped) - heaviside_form(integrand)) == 0
