"""The engine of the Gaussian calculus: applies the rules, records the steps, validates.

``GaussianCalculus().expect(E)`` returns an :class:`Outcome`: a closed form when the rules
reach one, otherwise the exact unevaluated ``Expectation`` (with the reason), or a divergence
with its reason. Every intermediate SymPy result is checked for leftovers (``check_exact``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..derivation import Step
from .expectation import Expectation
from .integrate import check_exact, definite_integral
from .normal_form import Divergent, NotTractable, parse_term, prepare
from .rules.base import Measure
from .rules.delta import DeltaRule
from .rules.erf import ErfLinearRule, SlopeDerivativeRule, SteinRule
from .rules.gaussian import DeterminantRule, MomentRule
from .rules.heat import HeatEquationRule
from .rules.parity import ParityRule
from .rules.piecewise import TruncationRule

#: The variance symbol derivations run in (substituted by the actual variance at the end).
_VAR = sp.Dummy("s", positive=True)


@dataclass
class Outcome:
    """The result of taking an expectation."""

    value: sp.Expr
    closed: bool
    steps: list[Step] = field(default_factory=list)
    divergence: str | None = None
    reason: str | None = None  # why no closed form, when closed is False


class GaussianCalculus:
    """Applies the term rules in order; integrand-level rules are the fallback."""

    term_rules = (
        ParityRule(),
        DeltaRule(),
        DeterminantRule(),
        TruncationRule(),
        ErfLinearRule(),
        SteinRule(),
        SlopeDerivativeRule(),
        MomentRule(),
    )
    integrand_rules = (HeatEquationRule(),)

    def __init__(self) -> None:
        self._frames: list[list[Step]] = [[]]
        self._divergences: list[str] = []
        self._cache: dict = {}
        self._fallback_depth = 0

    # -- trace ----------------------------------------------------------------------------
    def record(self, before: sp.Expr, after: sp.Expr, rule: str, justification: str = "") -> None:
        self._frames[-1].append(Step(before, after, rule, justification))

    def note_divergence(self, reason: str) -> None:
        self._divergences.append(reason)

    def _attempt(self, fn, *args):
        """Run fn in a fresh trace frame; keep its steps only if it succeeds."""
        self._frames.append([])
        try:
            value = fn(*args)
        except BaseException:
            self._frames.pop()
            raise
        steps = self._frames.pop()
        self._frames[-1].extend(steps)
        return value

    # -- calculus -------------------------------------------------------------------------
    def integrate(self, f: sp.Expr, var: sp.Symbol, lo, hi) -> sp.Expr:
        value = definite_integral(f, var, lo, hi)
        return value

    def expect_integrand(self, integrand: sp.Expr, m: Measure) -> sp.Expr:
        """E[integrand] under m, in closed form, or raise NotTractable / Divergent."""
        key = (integrand, m)
        hit = self._cache.get(key)
        if hit is not None:
            value, steps = hit
            self._frames[-1].extend(steps)
            return value
        self._frames.append([])
        try:
            value = self._expect_uncached(integrand, m)
        finally:
            steps = self._frames.pop()
        self._frames[-1].extend(steps)
        self._cache[key] = (value, steps)
        return value

    def _expect_uncached(self, integrand: sp.Expr, m: Measure) -> sp.Expr:
        x = m.x
        pairs = prepare(integrand, x)
        if all(dep == 1 for _c, dep in pairs):
            return sp.Add(*[c for c, _d in pairs])
        try:
            return self._attempt(self._by_terms, pairs, m, False)
        except NotTractable as no_terms:
            failure = no_terms
        if self._fallback_depth == 0:
            for rule in self.integrand_rules:
                if rule.applies(integrand, m):
                    self._fallback_depth += 1
                    try:
                        return check_exact(self._attempt(rule.apply, integrand, m, self), (x,))
                    except NotTractable as e:
                        failure = e
                    finally:
                        self._fallback_depth -= 1
        try:
            return self._attempt(self._by_terms, pairs, m, True)
        except NotTractable:
            raise failure from None

    def _by_terms(self, pairs: list, m: Measure, expensive: bool) -> sp.Expr:
        total = sp.S.Zero
        for coeff, dep in pairs:
            total += _scaled(coeff, self._term(dep, m, expensive))
        if total is sp.nan:
            raise Divergent("divergent terms of opposite signs: the expectation is ill-defined")
        if len(pairs) > 1:
            expanded = sp.Add(*[c * m.expectation(d) for c, d in pairs])
            self.record(expanded, total, "linearity",
                        "expand the integrand and take each term's expectation")
        return check_exact(total, (m.x,))

    def _term(self, expr: sp.Expr, m: Measure, expensive: bool) -> sp.Expr:
        term = parse_term(expr, m.x)
        for rule in self.term_rules:
            if (expensive or not rule.expensive) and rule.applies(term, m):
                return rule.apply(term, m, self)
        if term.other:
            names = ", ".join(sorted({sp.sstr(o) for o in term.other}))
            raise NotTractable(f"no rule of the calculus integrates {names} against a Gaussian")
        raise NotTractable(f"no rule applies to {sp.sstr(expr)}")

    # -- public ---------------------------------------------------------------------------
    def expect(self, e: Expectation) -> Outcome:
        """Take the expectation e: closed form, divergence, or e itself (with the reason)."""
        if e.dimension != 1 or not e.centred:
            return Outcome(e, False, [], None, "no bivariate rules in this version")
        (variance,) = e.covariance
        (x,) = e.variables
        self._divergences = []
        self._frames = [[]]
        try:
            value = self.expect_integrand(e.integrand, Measure(x, sp.S.Zero, _VAR))
        except Divergent as d:
            return Outcome(sp.nan, False, self._relabel(self._frames[0], variance), str(d), None)
        except NotTractable as n:
            return Outcome(e, False, [], None, str(n))
        value = tidy(value.subs(_VAR, variance))
        steps = self._relabel(self._frames[0], variance)
        divergence = "; ".join(dict.fromkeys(self._divergences)) or None
        return Outcome(value, True, steps, divergence, None)

    @staticmethod
    def _relabel(steps: list[Step], variance: sp.Expr) -> list[Step]:
        return [Step(s.before.subs(_VAR, variance), s.after.subs(_VAR, variance), s.rule,
                     s.justification) for s in steps]


def _scaled(coeff: sp.Expr, value: sp.Expr) -> sp.Expr:
    """coeff * value, keeping 0 * oo = 0 when a symbolic coefficient may vanish."""
    if not value.is_infinite or coeff.is_zero is False or coeff.is_number:
        return coeff * value
    sign = 1 if coeff.is_nonnegative else (-1 if coeff.is_nonpositive else sp.sign(coeff))
    return sp.Piecewise((sp.S.Zero, sp.Eq(coeff, 0)), (sign * value, True))


def tidy(expr: sp.Expr) -> sp.Expr:
    """Cheap simplification for presentation (no full ``simplify``: it is slow and erratic).

    Tries a few inexpensive normal forms and keeps the shortest."""
    if expr.is_infinite or not expr.free_symbols or expr.has(sp.oo, -sp.oo):
        return expr
    candidates = [expr, sp.powsimp(sp.factor_terms(sp.together(expr)))]
    if not expr.has(sp.Function):
        candidates.append(sp.factor(sp.expand(expr)))
    return min(candidates, key=sp.count_ops)
