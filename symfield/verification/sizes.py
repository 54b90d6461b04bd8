"""The size of the work a claim asks for, measured before any of it starts.

The parser already bounds the text (characters, nodes, nesting, exponents). What it cannot
see is how much work the *mathematics* of a short text is: E[u1^1000 u2^1000] is 19
characters and a moment of degree 2000 (over ten minutes of calculus), (1 + u + u^2)^16
multiplies out to 153 terms. :func:`too_large` measures every expectation's polynomial
degree in its integration variables and the number of terms it expands to, and counts the
expectations, against :mod:`.limits`; the verifier answers "undecided: too large" instead of
starting.
"""
from __future__ import annotations

import math
from typing import Iterable

import sympy as sp

from ..expectation import Expectation
from . import limits

#: Beyond this, counts are only "very large".
_CAP = 10**9


def integrand_degree(expr: sp.Expr, variables: frozenset | set) -> int:
    """Polynomial degree of ``expr`` in ``variables``, reading any function of them as at
    least degree 1 (so erf(u)^50 has degree 50 and exp(u^4) degree 4)."""
    if not expr.free_symbols & variables:
        return 0
    if expr.is_Symbol:
        return 1
    if expr.is_Add:
        return max(integrand_degree(a, variables) for a in expr.args)
    if expr.is_Mul:
        return min(_CAP, sum(integrand_degree(a, variables) for a in expr.args))
    if expr.is_Pow:
        base, exponent = expr.args
        inner = integrand_degree(base, variables)
        if exponent.is_Rational:
            return min(_CAP, math.ceil(abs(exponent) * inner))
        return min(_CAP, inner + integrand_degree(exponent, variables))
    return max([1] + [integrand_degree(a, variables) for a in expr.args
                      if isinstance(a, sp.Expr)])


def expanded_terms(expr: sp.Expr) -> int:
    """How many terms ``expr`` has once products and integer powers of sums are multiplied
    out (an estimate from above, capped)."""
    if expr.is_Add:
        return min(_CAP, sum(expanded_terms(a) for a in expr.args))
    if expr.is_Mul:
        total = 1
        for factor in expr.args:
            total = min(_CAP, total * expanded_terms(factor))
        return total
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 1:
        terms, power = expanded_terms(expr.base), int(expr.exp)
        if terms == 1:
            return 1
        if power > 10_000:
            return _CAP
        return min(_CAP, math.comb(terms + power - 1, power))
    return 1


def too_large(exprs: Iterable[sp.Expr]) -> str | None:
    """Why checking these formulas would be too much work, or None."""
    expectations: set[Expectation] = set()
    for expr in exprs:
        expectations |= expr.atoms(Expectation)
    if len(expectations) > limits.MAX_EXPECTATIONS:
        return (f"the claim holds {len(expectations)} different expectations (limit "
                f"{limits.MAX_EXPECTATIONS})")
    for e in sorted(expectations, key=sp.default_sort_key):
        variables = frozenset(e.variables)
        degree = integrand_degree(e.integrand, variables)
        if degree > limits.MAX_INTEGRAND_DEGREE:
            return (f"{_show(e)} has degree {degree} in its integration variables (limit "
                    f"{limits.MAX_INTEGRAND_DEGREE})")
        terms = expanded_terms(e.integrand)
        if terms > limits.MAX_EXPANDED_TERMS:
            shown = "over a billion" if terms >= _CAP else str(terms)
            return (f"{_show(e)} multiplies out to {shown} terms (limit "
                    f"{limits.MAX_EXPANDED_TERMS})")
    return None


def _show(e: Expectation) -> str:
    text = f"E[{sp.sstr(e.integrand)}]"
    return text if len(text) <= 50 else text[:47] + "...]"
