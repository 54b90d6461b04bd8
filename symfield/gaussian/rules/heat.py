"""The heat equation in the variance: differentiation under the integral in q.

For x ~ N(0, q), d/dq E[F(x)] = (1/2) E[F''(x)] (the Gaussian density solves the heat
equation). So E_q[F] = F(0) + (1/2) int_0^q E_s[F''] ds whenever E[F''] has a closed form:
this is how E[erf(x)^2] is reached when no other rule applies.
"""
from __future__ import annotations

import sympy as sp

from ..normal_form import NotTractable
from ..structure import MAX_ERF_FACTORS, erf_factor_count
from .base import Measure, Rule


class HeatEquationRule(Rule):
    """Evaluate E[F''] and integrate back in the variance."""

    name = "heat equation in the variance"
    acts_on = "integrand"

    def applies(self, integrand: sp.Expr, m: Measure) -> bool:
        # Only polynomials, exponentials and at most two erfs: F'' keeps the other functions
        # of x that F has (tanh, log, ...), so E[F''] is no closed form either (at best a pole
        # series, which the integral in the variance cannot take).
        return (m.mean == 0 and isinstance(m.var, sp.Symbol) and not integrand.has(m.var)
                and not integrand.has(sp.Heaviside, sp.DiracDelta)
                and erf_factor_count(integrand, m.x) <= MAX_ERF_FACTORS
                and all(isinstance(f, (sp.exp, sp.erf)) for f in integrand.atoms(sp.Function)
                        if f.has(m.x)))

    def apply(self, integrand, m, engine):
        s = sp.Dummy("s", positive=True)
        second = sp.diff(integrand, m.x, 2)
        at_zero = integrand.subs(m.x, 0)
        if at_zero.has(sp.nan, sp.zoo):
            raise NotTractable("the integrand has no finite value at x = 0")
        inner_measure = Measure(m.x, sp.S.Zero, s)
        engine.record(m.expectation(integrand),
                      at_zero + sp.Integral(inner_measure.expectation(second) / 2, (s, 0, m.var)),
                      self.name, "d/dq E[F] = E[F'']/2; integrate back from q = 0, where E[F] = F(0)")
        inner = engine.expect_integrand(second, inner_measure)
        value = at_zero + engine.integrate(inner / 2, s, 0, m.var)
        engine.record(m.expectation(integrand), value, "integrate in the variance",
                      f"int_0^q of {sp.sstr(inner / 2)} ds")
        return value
