"""Normal form of a one-dimensional Gaussian integrand term.

A term is parsed into ``coeff * x**power * exp(quad*x**2 + lin*x) * prod erf(alpha*x + beta)
* prod H(gamma*x + eta) * prod delta^(k)(gamma*x + eta) * (other factors)``. The rules of the
calculus act on this structure; an ``other`` factor (tanh, say) means no rule applies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..piecewise import canonical_steps, heaviside_form, normalise_delta_term


class NotTractable(Exception):
    """No rule of the calculus evaluates this expectation in closed form."""


class Divergent(Exception):
    """The expectation diverges (the message says why)."""


def linear_coefficients(arg: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """(slope, offset) if ``arg`` is linear in x with x-free coefficients, else None."""
    indep, dep = sp.expand(arg).as_independent(x, as_Add=True)
    slope = sp.cancel(dep / x)
    if slope.has(x) or slope == 0:
        return None
    return slope, indep


def quadratic_coefficients(arg: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """(a, b, c) with arg = a x^2 + b x + c, or None if not a quadratic polynomial in x."""
    try:
        poly = sp.Poly(arg, x)
    except sp.PolynomialError:
        return None
    if poly.degree() > 2 or any(co.has(x) for co in poly.all_coeffs()):
        return None
    coeffs = [sp.S.Zero] * (3 - len(poly.all_coeffs())) + list(poly.all_coeffs())
    return tuple(coeffs)


@dataclass
class Term:
    """One product term of an integrand, in normal form."""

    coeff: sp.Expr = sp.S.One
    power: int = 0
    quad: sp.Expr = sp.S.Zero
    lin: sp.Expr = sp.S.Zero
    erfs: list[tuple[sp.Expr, sp.Expr]] = field(default_factory=list)
    steps: list[tuple[sp.Expr, sp.Expr]] = field(default_factory=list)
    deltas: list[tuple[sp.Expr, sp.Expr, int]] = field(default_factory=list)
    other: list[sp.Expr] = field(default_factory=list)

    def rebuild(self, x: sp.Symbol, *, coeff: bool = True) -> sp.Expr:
        """The term as a SymPy expression again."""
        expr = (self.coeff if coeff else sp.S.One) * x**self.power
        if self.quad != 0 or self.lin != 0:
            expr *= sp.exp(self.quad * x**2 + self.lin * x)
        for a, b in self.erfs:
            expr *= sp.erf(a * x + b)
        for g, e in self.steps:
            expr *= sp.Heaviside(g * x + e)
        for g, e, k in self.deltas:
            expr *= sp.DiracDelta(g * x + e, k) if k else sp.DiracDelta(g * x + e)
        for o in self.other:
            expr *= o
        return expr

    def copy(self, **changes) -> "Term":
        fields = dict(coeff=self.coeff, power=self.power, quad=self.quad, lin=self.lin,
                      erfs=list(self.erfs), steps=list(self.steps), deltas=list(self.deltas),
                      other=list(self.other))
        fields.update(changes)
        return Term(**fields)


def _absorb(term: Term, factor: sp.Expr, x: sp.Symbol, times: int = 1) -> None:
    if not factor.has(x):
        term.coeff *= factor**times
        return
    if factor == x:
        term.power += times
        return
    if isinstance(factor, sp.Pow):
        base, exp = factor.args
        if exp.is_Integer and exp > 0:
            _absorb(term, base, x, times * int(exp))
            return
        if isinstance(base, sp.exp) or base is sp.E:
            _absorb(term, sp.exp(sp.log(base) * exp) if base is sp.E else sp.exp(base.args[0] * exp),
                    x, times)
            return
        term.other.append(factor**times)
        return
    if isinstance(factor, sp.exp):
        quad = quadratic_coefficients(sp.expand(factor.args[0] * times), x)
        if quad is None:
            term.other.append(factor**times)
            return
        a, b, c = quad
        term.quad += a
        term.lin += b
        term.coeff *= sp.exp(c)
        return
    if isinstance(factor, (sp.erf, sp.Heaviside, sp.DiracDelta)):
        lc = linear_coefficients(factor.args[0], x)
        if lc is None:
            term.other.append(factor**times)
            return
        if isinstance(factor, sp.erf):
            term.erfs.extend([lc] * times)
        elif isinstance(factor, sp.Heaviside):
            term.steps.append(lc)  # H**k == H almost everywhere
        else:
            order = int(factor.args[1]) if len(factor.args) > 1 else 0
            term.deltas.extend([(lc[0], lc[1], order)] * times)
        return
    term.other.append(factor**times)


def parse_term(expr: sp.Expr, x: sp.Symbol) -> Term:
    """Normal form of one product term (no top-level Add)."""
    term = Term()
    for factor in sp.Mul.make_args(expr):
        _absorb(term, factor, x)
    return term


def split_terms(expr: sp.Expr, *xs: sp.Symbol) -> list[tuple[sp.Expr, sp.Expr]]:
    """expr as a list of (coefficient free of xs, product depending on xs) pairs.

    SymPy's ``expand`` is avoided on purpose: it moves exp(-x**2) factors into common
    denominators (``s/(s*exp(x**2) + exp(x**2))``), which hides the Gaussian structure.
    """
    if not expr.has(*xs):
        return [(expr, sp.S.One)]
    if isinstance(expr, sp.Add):
        return [pair for arg in expr.args for pair in split_terms(arg, *xs)]
    if isinstance(expr, sp.Mul):
        pairs = [(sp.S.One, sp.S.One)]
        for factor in expr.args:
            pairs = [(c1 * c2, d1 * d2) for c1, d1 in pairs for c2, d2 in split_terms(factor, *xs)]
        return pairs
    if (isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 1
            and isinstance(expr.base, (sp.Add, sp.Mul))):
        pairs = [(sp.S.One, sp.S.One)]
        base = split_terms(expr.base, *xs)
        for _ in range(int(expr.exp)):
            pairs = [(c1 * c2, d1 * d2) for c1, d1 in pairs for c2, d2 in base]
        return pairs
    return [(sp.S.One, expr)]


def collect_terms(pairs: list[tuple[sp.Expr, sp.Expr]]) -> list[tuple[sp.Expr, sp.Expr]]:
    """Collect like terms; factor each coefficient (so that its sign can be read off)."""
    grouped: dict[sp.Expr, sp.Expr] = {}
    for coeff, dep in pairs:
        grouped[dep] = grouped.get(dep, sp.S.Zero) + coeff
    return [(sp.factor(c), d) for d, c in grouped.items() if c != 0]


def prepare(integrand: sp.Expr, x: sp.Symbol) -> list[tuple[sp.Expr, sp.Expr]]:
    """Step form (a.e.), expanded into (coefficient, x-dependent product) pairs, products
    with one delta rewritten at the delta's point (``normalise_deltas``: x*delta(x) = 0),
    like terms collected and each coefficient factored (so that its sign can be read off)."""
    stepped = canonical_steps(heaviside_form(integrand, x), x)
    pairs = split_terms(stepped, x)
    if stepped.has(sp.DiracDelta):
        pairs = [(c * cn, dn) for c, d in pairs
                 for cn, dn in split_terms(normalise_delta_term(d, x), x)]
    return collect_terms(pairs)
