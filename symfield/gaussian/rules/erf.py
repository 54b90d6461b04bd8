"""Rules for erf of a linear argument: the erf rule, Stein's lemma, differentiation in a slope."""
from __future__ import annotations

import sympy as sp

from ..normal_form import NotTractable
from .base import Measure, Rule, expect_pieces


class ErfLinearRule(Rule):
    """E[erf(alpha x + beta)] = erf((alpha mu + beta) / sqrt(1 + 2 alpha^2 s))."""

    name = "erf rule"
    acts_on = "term"

    def applies(self, term, m):
        return (len(term.erfs) == 1 and term.power == 0
                and not (term.steps or term.deltas or term.other or term.quad or term.lin))

    def apply(self, term, m, engine):
        (alpha, beta), = term.erfs
        value = term.coeff * sp.erf((alpha * m.mean + beta) / sp.sqrt(1 + 2 * alpha**2 * m.var))
        engine.record(m.expectation(term.rebuild(m.x)), value, self.name,
                      "E[erf(alpha x + beta)] = erf((alpha mu + beta)/sqrt(1 + 2 alpha^2 s))")
        return value


class SteinRule(Rule):
    """Stein's lemma E[(x - mu) g(x)] = s E[g'(x)]: lowers the power of x next to erfs (the
    derivative of each erf is a Gaussian, absorbed by the determinant rule, so both the power
    and the number of erfs go down: x^2 erf(x)^2 of GELU ends at E[erf^2])."""

    name = "Stein's lemma"
    acts_on = "term"

    def applies(self, term, m):
        return (len(term.erfs) >= 1 and term.power >= 1
                and not (term.steps or term.deltas or term.other or term.quad or term.lin))

    def apply(self, term, m, engine):
        x, n = m.x, term.power
        g = term.copy(power=n - 1).rebuild(x, coeff=False)
        reduced = m.mean * g + m.var * sp.diff(g, x)
        after = term.coeff * m.expectation(reduced)
        engine.record(m.expectation(term.rebuild(x)), after, self.name,
                      "E[x g(x)] = mu E[g(x)] + s E[g'(x)]")
        # term by term: each piece (erf^2, x erf erf', ...) then reaches the rule for it
        return term.coeff * expect_pieces(reduced, m, engine)


class SlopeDerivativeRule(Rule):
    """Two or more erfs: differentiate under the integral in the slope of one of them.

    G(t) = E[... erf(t alpha x + beta) ...]; G(1) = G(0) + int_0^1 G'(t) dt, where G'(t) carries
    erf' = (2/sqrt(pi)) exp(-(.)^2), which the determinant rule absorbs, leaving one erf fewer.
    """

    name = "differentiation under the integral (erf slope)"
    acts_on = "term"
    expensive = True  # its t-integral is often hard; the heat equation is tried first

    def applies(self, term, m):
        # Exactly two erfs: with more, G'(t) holds a product of two or more erfs whose closed
        # form is an arcsine in t, and its t-integral (an orthant probability of three or more
        # correlated Gaussians) is not elementary, so the attempt could only fail, after
        # manualintegrate's whole time budget.
        # Centred erfs under a centred measure: G'(t) is algebraic and its t-integral an
        # arctangent that manualintegrate does not find (it spends its whole budget); the
        # diagonal lift reaches these products through Price's theorem instead.
        centred = m.mean == 0 and all(offset == 0 for _slope, offset in term.erfs)
        return (len(term.erfs) == 2 and not centred
                and not (term.steps or term.deltas or term.other or term.quad or term.lin))

    def apply(self, term, m, engine):
        x = m.x
        t = sp.Dummy("t", positive=True)
        (alpha, beta), rest = term.erfs[0], term.erfs[1:]
        others = term.copy(erfs=rest).rebuild(x, coeff=False)
        derivative_integrand = sp.expand(
            x * alpha * 2 / sp.sqrt(sp.pi) * sp.exp(-(t * alpha * x + beta) ** 2) * others)
        at_zero = sp.erf(beta) * engine.expect_integrand(others, m) if beta != 0 else sp.S.Zero
        slope_derivative = engine.expect_integrand(derivative_integrand, m)
        integral = engine.integrate(slope_derivative, t, 0, 1)
        value = term.coeff * (at_zero + integral)
        engine.record(m.expectation(term.rebuild(x)), value, self.name,
                      f"d/dt of erf(t*({sp.sstr(alpha * x)}) + ...) under the integral, integrated over t in [0, 1]")
        return value


__all__ = ["ErfLinearRule", "SteinRule", "SlopeDerivativeRule", "NotTractable"]
