"""The delta rule: E[g(x) delta^(k)(gamma x + eta)] from the density at the root."""
from __future__ import annotations

import sympy as sp

from ..normal_form import Divergent, NotTractable
from ..simplify import tidy
from .base import Measure, Rule


def _density_derivative(m: Measure, j: int, at: sp.Expr) -> sp.Expr:
    """p^(j)(at) = (-1)^j s^(-j/2) He_j((at - mu)/sqrt(s)) p(at) for the Gaussian density p."""
    z = (at - m.mean) / sp.sqrt(m.var)
    return (-1) ** j * m.var ** sp.Rational(-j, 2) * sp.hermite_prob(j, z) * m.density(at)


def _derivative_of_weighted_density(g: sp.Expr, m: Measure, order: int, at: sp.Expr) -> sp.Expr:
    """(g p)^(order) at a point by Leibniz' rule, with p's derivatives in Hermite form (direct
    differentiation of the Gaussian k times is slow and bloated for large k)."""
    total = sp.S.Zero
    g_derivative = g
    for i in range(order + 1):  # i derivatives on g, order - i on p
        if i:
            g_derivative = sp.diff(g_derivative, m.x)
        if g_derivative == 0:
            break
        total += sp.binomial(order, i) * g_derivative.subs(m.x, at) * _density_derivative(m, order - i, at)
    return total


class DeltaRule(Rule):
    """E[g(x) delta(gamma x + eta)] = g(t) p(t) / |gamma| with t = -eta/gamma; derivatives of
    delta move onto g p by parts. A second delta at the same point makes the expectation
    divergent (delta(0) p(0)); a step function jumping at t makes it ill-defined."""

    name = "delta rule"
    acts_on = "term"

    def applies(self, term, m):
        return bool(term.deltas)

    def apply(self, term, m, engine):
        x = m.x
        (gamma, eta, order), others = term.deltas[0], term.deltas[1:]
        root = sp.cancel(-eta / gamma)
        for g2, e2, k2 in others:
            other_root = sp.cancel(-e2 / g2)
            same = sp.simplify(other_root - root)
            if same == 0:
                weight = (term.copy(deltas=[]).rebuild(x) * m.density(x)).subs(x, root)
                sign = sp.sign(sp.simplify(weight))
                reason = (f"E[delta({sp.sstr(gamma * x + eta)})^2 ...] = delta(0) * p({sp.sstr(root)}) "
                          f"is infinite: a product of delta functions at the same point")
                if sign == 0 or sign.has(sp.sign):
                    raise Divergent(reason + " (with a vanishing or undetermined weight: ill-defined)")
                engine.record(m.expectation(term.rebuild(x)), sign * sp.oo, self.name, reason)
                engine.note_divergence(reason)
                return sign * sp.oo
            if same.is_number:
                continue  # delta at a different point: the product vanishes there
            raise NotTractable("deltas at points that cannot be compared")
        # A step jumping where the delta sits is harmless only if the rest vanishes there
        # whatever value the step takes; otherwise the product of distributions is undefined.
        jumping = [(g2, e2) for g2, e2 in term.steps if sp.simplify(g2 * root + e2) == 0]
        steps_left = [s for s in term.steps if s not in jumping]
        term = term.copy(steps=steps_left)
        if jumping:
            if order or sp.simplify(term.copy(deltas=[]).rebuild(x).subs(x, root)) != 0:
                g2, e2 = jumping[0]
                raise Divergent(
                    f"Heaviside({sp.sstr(g2 * x + e2)}) jumps where delta({sp.sstr(gamma * x + eta)}) "
                    f"sits: the product of distributions is ill-defined")
            engine.record(m.expectation(term.rebuild(x) * sp.Mul(*[sp.Heaviside(g * x + e) for g, e in jumping])),
                          sp.S.Zero, self.name,
                          "the rest of the integrand vanishes where the delta sits, whatever the step's value there")
            return sp.S.Zero
        rest = term.copy(deltas=[]).rebuild(x)
        if others:  # distinct points: the product is zero
            value = sp.S.Zero
        else:
            at_root = _derivative_of_weighted_density(rest, m, order, root)
            value = tidy((-1) ** order * at_root / gamma**order / sp.Abs(gamma))
        engine.record(m.expectation(term.rebuild(x)), value, self.name,
                      f"evaluate the rest times the density at x = {sp.sstr(root)}")
        return value
