"""Parity: the expectation of an odd function under a centred Gaussian vanishes."""
from __future__ import annotations

import sympy as sp

from ...piecewise import parity
from .base import Measure, Rule


def term_is_odd(term, x) -> bool:
    """Structural parity of a normal-form term (True only when surely odd)."""
    sign = (-1) ** term.power
    if term.lin != 0 or term.steps:
        return False
    for _alpha, beta in term.erfs:
        if beta != 0:
            return False
        sign = -sign
    for _gamma, eta, order in term.deltas:
        if eta != 0:
            return False
        sign *= (-1) ** order
    for factor in term.other:
        p = parity(factor, x)
        if p is None:
            return False
        if p == "odd":
            sign = -sign
    return sign == -1


class ParityRule(Rule):
    """E[f(x)] = 0 for odd f and x ~ N(0, s)."""

    name = "parity"
    acts_on = "term"

    def applies(self, term, m):
        return m.mean == 0 and term_is_odd(term, m.x)

    def apply(self, term, m, engine):
        engine.record(m.expectation(term.rebuild(m.x)), sp.S.Zero, self.name,
                      "the integrand is odd and the Gaussian is centred")
        return sp.S.Zero
