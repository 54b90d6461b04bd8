"""The one base of the rules of the Gaussian calculus, and the measures they act under.

A rule looks at a subject under a Gaussian measure and, when it applies, returns the
subject's expectation, leaving a ``Step`` in the engine's trace. Rules may call back into the
engine for the simpler expectations they reduce to. What a rule looks at is data on the class
(``acts_on``); the engine holds all rules in one ordered tuple and picks them by it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import sympy as sp

from ...expectation import Expectation
from ..normal_form import collect_terms, split_terms

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


@dataclass(frozen=True)
class PairMeasure:
    """(u1, u2) ~ N(0, [[q1, rho], [rho, q2]])."""

    u1: sp.Symbol
    u2: sp.Symbol
    q1: sp.Expr
    rho: sp.Expr
    q2: sp.Expr

    def expectation(self, integrand: sp.Expr) -> Expectation:
        return Expectation(integrand, (self.u1, self.u2), (self.q1, self.rho, self.q2))


class Factors(NamedTuple):
    """The subject of a pair rule: the integrand f(u1) g(u2), kept as its two factors."""

    f: sp.Expr
    g: sp.Expr


#: What a rule can act on: a normal-form ``Term`` under a ``Measure``; a whole one-variable
#: integrand under a ``Measure`` (when the term rules fail); ``Factors`` under a ``PairMeasure``.
ARITIES = ("term", "integrand", "pair")


def expect_pieces(integrand: sp.Expr, m: Measure, engine: "GaussianCalculus") -> sp.Expr:
    """E[integrand] term by term, each term's constant factor taken out first, so that the
    integrand rules (diagonal lift, heat equation) see erf(x)^2 itself, not q erf(x)^2."""
    # split_terms, not SymPy's expand: that would move Gaussian factors into denominators
    total = sp.S.Zero
    for coeff, dependent in collect_terms(split_terms(integrand, m.x)):
        total += coeff * engine.expect_integrand(dependent, m)
    return total


class Rule(ABC):
    """One method of the calculus: ``applies`` looks, ``apply`` evaluates (or raises
    NotTractable / Divergent)."""

    #: The rule's name in the derivation steps.
    name: ClassVar[str] = ""
    #: One of ARITIES.
    acts_on: ClassVar[str]
    #: Expensive rules run only after the cheap rules of their arity failed, and never in a
    #: restricted pass (the cheap-only passes inside a pair, the direct-only pass of the
    #: derivatives in Price's theorem).
    expensive: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "acts_on", None) not in ARITIES:
            raise TypeError(f"{cls.__name__}.acts_on must be one of {ARITIES}")

    def applies(self, subject: Any, measure: Any) -> bool:
        """Whether ``apply`` may be tried on this subject (by default: always)."""
        return True

    @abstractmethod
    def apply(self, subject: Any, measure: Any, engine: "GaussianCalculus") -> sp.Expr:
        """E[subject] under ``measure``, recording its steps in ``engine``."""
