"""Structural facts about integrands that both the rules and the numerics read.

Pure functions of SymPy expressions: how a pair integrand factorises, where a piecewise
integrand has kinks, whether a pair integrand is jointly even.
"""
from __future__ import annotations

import sympy as sp

from ..piecewise import heaviside_form
from .normal_form import split_terms


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


#: Most erf factors in one term for which the routes through an integral in a parameter
#: (heat equation in the variance, slope derivative, diagonal lift and Price's theorem) are
#: tried. With three or more, the parameter integral is over arcsines (the closed forms of
#: two-erf expectations) and is an orthant probability of three or more correlated
#: Gaussians, not elementary: those attempts can only fail, after manualintegrate's whole
#: time budget for each.
MAX_ERF_FACTORS = 2


def erf_factor_count(expr: sp.Expr, x: sp.Symbol) -> int:
    """The most erf factors of x (counted with their powers) in one term of expr, with
    split_terms' expansion (so x^4 (1 + erf(x))^4 counts four)."""
    if not expr.has(sp.erf):
        return 0  # no expansion of erf-free integrands (a polynomial activation to the 4th)
    most = 0
    for _coeff, dependent in split_terms(expr, x):
        count = 0
        for base, exponent in dependent.as_powers_dict().items():
            if isinstance(base, sp.erf) and base.has(x):
                count += int(exponent) if exponent.is_Integer and exponent > 0 else 99
        most = max(most, count)
    return most


#: Offset of the dummy indices ``dummy_free`` gives: far above any Dummy a run creates.
_CANONICAL_INDEX = 10**12


def dummy_free(*exprs: sp.Basic) -> sp.Tuple:
    """exprs with their Dummy symbols renamed canonically (in order of name, then creation),
    so that the same problem posed with fresh dummies (each heat-equation or slope step makes
    its own) gives the same key. Assumptions are kept: a positive and a real dummy stay
    distinct."""
    bundle = sp.Tuple(*exprs)
    dummies = sorted(bundle.atoms(sp.Dummy), key=lambda d: (d.name, d.dummy_index))
    renamed = {d: sp.Dummy(f"c{i}", dummy_index=_CANONICAL_INDEX + i, **d.assumptions0)
               for i, d in enumerate(dummies)}
    return bundle.xreplace(renamed)
