"""Rules for a centred Gaussian pair (u1, u2) with variances q1, q2 and covariance rho.

* Conditioning: E[f(u1) g(u2)] = E_{u1}[f(u1) E[g(u2) | u1]] with u2 | u1 ~
  N(rho u1/q1, q2 - rho^2/q1); both expectations are one-dimensional.
* Price's theorem: d^k/drho^k E[f(u1) g(u2)] = E[f^(k)(u1) g^(k)(u2)] (distributional
  derivatives). Differentiate until conditioning succeeds, then integrate back from rho = 0,
  where the pair is independent and E[f g] = E[f] E[g].
* Diagonal lift (one-dimensional): E[f(x) g(x)], x ~ N(0, q), is the pair expectation at
  q1 = q2 = rho = q, so Price's theorem also reaches products such as erf(x)^2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from ..expectation import u1, u2
from ..normal_form import NotTractable
from ..simplify import tidy
from ..structure import separate  # noqa: F401  (re-exported: its old home)
from .base import Factors, Measure, PairMeasure, Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import GaussianCalculus

#: Highest order of Price's theorem tried (two reaches delta for piecewise-linear phi).
MAX_PRICE_ORDER = 3


@dataclass(frozen=True)
class ConditioningRule(Rule):
    """E[f(u1) g(u2)] = E_{u1}[f(u1) E[g(u2) | u1]] (on_first=False: the roles swapped)."""

    name = "Gaussian conditioning"
    acts_on = "pair"
    on_first: bool = True

    def apply(self, factors: Factors, m: PairMeasure, engine: "GaussianCalculus") -> sp.Expr:
        f, g = factors
        if not self.on_first:
            f, g, m = g, f, PairMeasure(m.u2, m.u1, m.q2, m.rho, m.q1)
        cond_var = sp.Dummy("v", positive=True)  # stands for q2 - rho^2/q1 > 0
        inner_measure = Measure(m.u2, m.rho * m.u1 / m.q1, cond_var)
        outer_measure = Measure(m.u1, sp.S.Zero, m.q1)
        engine.record(m.expectation(f * g),
                      outer_measure.expectation(f * inner_measure.expectation(g)), self.name,
                      f"condition on {sp.sstr(m.u1)}: the other variable is N(rho {sp.sstr(m.u1)}/q1, "
                      f"v) with v = q2 - rho^2/q1")
        inner = engine.expect_integrand(g, inner_measure)
        outer = engine.expect_integrand(f * inner, outer_measure)
        value = tidy(outer.subs(cond_var, m.q2 - m.rho**2 / m.q1))
        engine.record(m.expectation(f * g), value, "conditioning result",
                      "insert v = q2 - rho^2/q1")
        return value


class PriceRule(Rule):
    """Differentiate in rho k times (Price), evaluate, integrate back k times from rho = 0."""

    name = "Price's theorem in rho"
    acts_on = "pair"
    expensive = True  # after conditioning failed; never on its own derivatives

    def apply(self, factors: Factors, m: PairMeasure, engine: "GaussianCalculus") -> sp.Expr:
        f, g = factors
        derivatives = [(f, g)]
        failure: Exception = NotTractable("Price's theorem found no tractable derivative")
        for k in range(1, MAX_PRICE_ORDER + 1):
            fk = sp.diff(derivatives[-1][0], m.u1)
            gk = sp.diff(derivatives[-1][1], m.u2)
            derivatives.append((fk, gk))
            try:
                top = engine.attempt(self._derivative, f, g, fk, gk, k, m, engine)
            except NotTractable as e:
                failure = e
                continue
            return self._integrate_back(top, derivatives, k, m, engine)
        raise failure

    def _derivative(self, f, g, fk, gk, k, m: PairMeasure, engine) -> sp.Expr:
        engine.record(sp.Derivative(m.expectation(f * g), (m.rho, k)), m.expectation(fk * gk),
                      self.name, f"d^{k}/drho^{k} E[f(u1) g(u2)] = E[f^({k})(u1) g^({k})(u2)]")
        if fk == 0 or gk == 0:
            return sp.S.Zero
        return engine.pair_integrand(fk * gk, m, True)

    def _integrate_back(self, top, derivatives, k, m: PairMeasure, engine) -> sp.Expr:
        r = sp.Dummy("r", real=True)
        value = top
        for j in range(k - 1, -1, -1):
            fj, gj = derivatives[j]
            constant = (engine.expect_integrand(fj, Measure(m.u1, sp.S.Zero, m.q1))
                        * engine.expect_integrand(gj, Measure(m.u2, sp.S.Zero, m.q2)))
            integral = engine.integrate(value.subs(m.rho, r), r, 0, m.rho)
            value = tidy(constant + integral)
            engine.record(m.expectation(fj * gj), value, "integrate back in rho",
                          "from rho = 0, where the pair is independent: constant E[f]E[g] = "
                          f"{sp.sstr(constant)}")
        return value


class DiagonalLiftRule(Rule):
    """E[f(x) g(x)] over N(0, q) as the pair expectation at rho = q."""

    name = "diagonal lift"
    acts_on = "integrand"

    def applies(self, integrand: sp.Expr, m: Measure) -> bool:
        return m.mean == 0 and self._factors(integrand, m.x) is not None

    @staticmethod
    def _factors(integrand: sp.Expr, x: sp.Symbol):
        if isinstance(integrand, sp.Pow) and integrand.exp == 2 and integrand.base.has(x):
            return integrand.base, integrand.base
        if isinstance(integrand, sp.Mul):
            dependent = [a for a in integrand.args if a.has(x)]
            if len(dependent) == 2:
                rest = sp.Mul(*[a for a in integrand.args if not a.has(x)])
                return rest * dependent[0], dependent[1]
        return None

    def apply(self, integrand: sp.Expr, m: Measure, engine: "GaussianCalculus") -> sp.Expr:
        f, g = self._factors(integrand, m.x)
        q1, q2 = sp.Dummy("q1", positive=True), sp.Dummy("q2", positive=True)
        rho = sp.Dummy("rho", real=True)
        pair = PairMeasure(u1, u2, q1, rho, q2)
        lifted = f.subs(m.x, u1) * g.subs(m.x, u2)
        engine.record(m.expectation(integrand),
                      sp.Subs(pair.expectation(lifted), (q1, q2, rho), (m.var, m.var, m.var)),
                      self.name, "E[f(x) g(x)] = E[f(u1) g(u2)] at q1 = q2 = rho = q (u1 = u2 = x)")
        general = engine.pair_integrand(lifted, pair)
        value = tidy(general.subs({q1: m.var, q2: m.var}).subs(rho, m.var))
        if value.has(sp.nan, sp.zoo) or value.is_infinite:
            raise NotTractable("the pair expectation is singular on the diagonal")
        engine.record(m.expectation(integrand), value, "on the diagonal",
                      "set q1 = q2 = rho = q in the pair result")
        return value
