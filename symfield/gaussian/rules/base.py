"""Small abstract base for the rules of the Gaussian calculus.

A rule looks at one term in normal form under a Gaussian measure N(mean, var) and, when it
applies, returns the term's expectation, leaving a ``Step`` in the engine's trace. Rules may
call back into the engine for the simpler expectations they reduce to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from ..expectation import Expectation
from ..normal_form import Term

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import GaussianCalculus


@dataclass(frozen=True)
class Measure:
    """x ~ N(mean, var)."""

    x: sp.Symbol
    mean: sp.Expr
    var: sp.Expr

    def expectation(self, integrand: sp.Expr) -> Expectation:
        return Expectation(integrand, (self.x,), (self.var,), (self.mean,))

    def density(self, at: sp.Expr) -> sp.Expr:
        return sp.exp(-(at - self.mean) ** 2 / (2 * self.var)) / sp.sqrt(2 * sp.pi * self.var)


class TermRule:
    """A rule acting on one normal-form term."""

    name: str = ""
    #: Expensive rules run only after the cheap rules and the integrand-level rules failed.
    expensive: bool = False

    def applies(self, term: Term, m: Measure) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def apply(self, term: Term, m: Measure, engine: "GaussianCalculus") -> sp.Expr:
        raise NotImplementedError  # pragma: no cover - interface
