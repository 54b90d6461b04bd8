"""Polynomial x exp(quadratic): the determinant rule (complete the square) and moments."""
from __future__ import annotations

import sympy as sp

from ..normal_form import Divergent, NotTractable, Term
from .base import Measure, Rule


class DeterminantRule(Rule):
    """E[g(x) exp(a x^2 + b x)] = K * E'[g(x)]: absorb the exponential into the Gaussian.

    With 1/s' = 1/s - 2a and mu' = s'(mu/s + b), the prefactor is
    K = sqrt(s'/s) exp(mu'^2/(2 s') - mu^2/(2 s)) (the 1-D determinant rule det(1 + Sigma M)^(-1/2)).
    """

    name = "Gaussian (determinant) rule"
    acts_on = "term"

    def applies(self, term: Term, m: Measure) -> bool:
        return term.quad != 0 or term.lin != 0

    def apply(self, term, m, engine):
        precision = sp.cancel(1 / m.var - 2 * term.quad)
        if precision.is_positive is False or precision.is_zero:
            raise Divergent(f"the factor exp({term.quad}*x**2) grows faster than the Gaussian "
                            f"density decays")
        if precision.is_positive is None and not (term.quad.is_nonpositive):
            raise NotTractable(f"cannot decide whether 1/{m.var} - 2*({term.quad}) > 0")
        new_var = sp.cancel(1 / precision)
        new_mean = sp.cancel(new_var * (m.mean / m.var + term.lin))
        exponent = sp.cancel(new_mean**2 / (2 * new_var) - m.mean**2 / (2 * m.var))
        factor = sp.sqrt(sp.cancel(new_var / m.var)) * sp.exp(exponent)
        rest = term.copy(quad=sp.S.Zero, lin=sp.S.Zero)
        inner = Measure(m.x, new_mean, new_var)
        after = term.coeff * factor * inner.expectation(rest.rebuild(m.x, coeff=False))
        engine.record(m.expectation(term.rebuild(m.x)), after, self.name,
                      "complete the square: the exponential becomes part of a new Gaussian")
        return term.coeff * factor * engine.expect_integrand(rest.rebuild(m.x, coeff=False), inner)


def gaussian_moment(n: int, mean: sp.Expr, var: sp.Expr) -> sp.Expr:
    """E[x^n] for x ~ N(mean, var)."""
    # Expand in placeholders: expanding after substitution would also multiply out
    # denominators such as (2q + 1)^k, which makes high moments slow and unreadable.
    m, v = sp.Dummy("mean"), sp.Dummy("var", positive=True)
    total = sp.S.Zero
    for k in range(0, n + 1, 2):  # odd central moments vanish
        total += sp.binomial(n, k) * m ** (n - k) * v ** sp.Rational(k, 2) * sp.factorial2(k - 1)
    return sp.expand(total).xreplace({m: mean, v: var})


class MomentRule(Rule):
    """E[c x^n] from the Gaussian moments (odd central moments vanish, even ones are (k-1)!!)."""

    name = "Gaussian moments"
    acts_on = "term"

    def applies(self, term, m):
        return not (term.erfs or term.steps or term.deltas or term.other or term.quad or term.lin)

    def apply(self, term, m, engine):
        value = term.coeff * gaussian_moment(term.power, m.mean, m.var)
        if term.power:
            engine.record(m.expectation(term.rebuild(m.x)), value, self.name,
                          f"E[x^{term.power}] of a Gaussian")
        return value
