"""The engine of the Gaussian calculus: applies the rules, records the steps, validates.

``GaussianCalculus().expect(E)`` returns an :class:`Outcome`: a closed form when the rules
reach one, otherwise the exact unevaluated ``Expectation`` (with the reason), or a divergence
with its reason. Every intermediate SymPy result is checked for leftovers (``check_exact``).
"""
from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp

from ..derivation import Step
from ..errors import InvalidValueError, as_expression, quoted
from ..expectation import Expectation
from .integrate import check_exact, definite_integral
from .normal_form import (Divergent, NotTractable, collect_terms, parse_term, prepare,
                          split_terms)
from .rules.base import Factors, Measure, PairMeasure, Rule
from .rules.bivariate import (ConditioningRule, DiagonalLiftRule, ErfPriceRule, ErfProductRule,
                              PriceRule)
from .rules.characteristic import CharacteristicFunctionRule, PairCharacteristicRule
from .rules.delta import DeltaRule
from .rules.erf import ErfLinearRule, SlopeDerivativeRule, SteinRule
from .rules.gaussian import DeterminantRule, MomentRule
from .rules.heat import HeatEquationRule
from .rules.parity import ParityRule
from .rules.piecewise import TruncationRule
from .rules.poles import MehlerPoleRule, PoleExpansionRule
from .simplify import tidy
from .structure import dummy_free, separate

#: The variance symbol derivations run in (substituted by the actual variance at the end).
_VAR = sp.Dummy("s", positive=True)
#: ... and the pair covariance (q1, rho, q2) and variables of bivariate derivations.
_Q1, _Q2 = sp.Dummy("q1", positive=True), sp.Dummy("q2", positive=True)
_RHO = sp.Dummy("rho", real=True)
_U1, _U2 = sp.Dummy("u1", real=True), sp.Dummy("u2", real=True)


@dataclass
class Outcome:
    """The result of taking an expectation."""

    value: sp.Expr
    closed: bool
    steps: list[Step] = field(default_factory=list)
    divergence: str | None = None
    reason: str | None = None  # why no closed form, when closed is False


class GaussianCalculus:
    """Walks its rules in order, picking them by what they act on.

    A one-variable integrand: the cheap term rules on each of its terms; when they fail, the
    integrand rules (not inside another integrand rule or a pair); then every term rule, the
    expensive ones included (not inside a pair). A pair f(u1) g(u2): the cheap pair rules,
    then the expensive ones (not on the derivatives of Price's theorem). Successes and
    failures are both remembered.
    """

    #: Every rule, in the order the engine tries them; each is picked by what it acts on.
    rules: tuple[Rule, ...] = (
        ParityRule(),
        DeltaRule(),
        PoleExpansionRule(),
        DeterminantRule(),
        CharacteristicFunctionRule(),
        TruncationRule(),
        ErfLinearRule(),
        SteinRule(),
        ErfProductRule(),
        SlopeDerivativeRule(),
        MomentRule(),
        DiagonalLiftRule(),
        HeatEquationRule(),
        ErfPriceRule(),
        PairCharacteristicRule(),
        ConditioningRule(on_first=True),
        ConditioningRule(on_first=False),
        PriceRule(),
        MehlerPoleRule(),
    )

    def __init__(self) -> None:
        # One derivation at a time: the trace frames and the fallback counters are state of
        # the derivation in progress (Dask workers may call derive from several threads).
        self._lock = threading.RLock()
        self._frames: list[list[Step]] = [[]]
        self._divergences: list[str] = []
        self._cache: dict = {}     # key -> (value, steps)
        self._failures: dict = {}  # (key, mode) -> (exception type, args, divergence notes)
        self._fallback_depth = 0  # > 0: no integrand-level rules (no recursion through them)
        self._cheap_only = 0      # > 0: no expensive term rules
        self._splitting = False   # inside a term-by-term evaluation (no nested splits)
        self.lifting = 0          # > 0: inside a diagonal lift made by a term rule

    def _rules(self, acts_on: str, expensive: bool) -> list[Rule]:
        """The rules acting on ``acts_on``, in order; the expensive ones only if allowed."""
        return [r for r in self.rules if r.acts_on == acts_on and (expensive or not r.expensive)]

    # -- trace ----------------------------------------------------------------------------
    def record(self, before: sp.Expr, after: sp.Expr, rule: str, justification: str = "") -> None:
        self._frames[-1].append(Step(before, after, rule, justification))

    def note_divergence(self, reason: str) -> None:
        self._divergences.append(reason)

    def attempt(self, fn, *args):
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
        """int_lo^hi f d(var), verified (text is refused: SymPy would run it as code)."""
        if not isinstance(var, sp.Symbol):
            raise InvalidValueError(f"the integration variable must be a SymPy Symbol, got "
                                    f"{quoted(var)}")
        f, lo, hi = (as_expression(f, "the integrand"), as_expression(lo, "the lower limit"),
                     as_expression(hi, "the upper limit"))
        for what, value in (("the integrand", f), ("the lower limit", lo),
                            ("the upper limit", hi)):
            if value.has(sp.nan):
                raise InvalidValueError(f"{what} is or contains NaN")
        return definite_integral(f, var, lo, hi)

    def _memoised(self, key, compute):
        """compute() once per key; a cache hit replays the recorded steps into the trace.

        Failures (NotTractable, Divergent) are remembered too, so that an intractable
        expectation is not retried in every law that holds it. What fails in a restricted
        mode (no integrand rules, no expensive rules) may succeed in a freer one, so failures
        are keyed by the mode; a hit raises the same error again. Failures are keyed up to
        the renaming of dummies (``dummy_free``): the rules pose the same doomed sub-problem
        with fresh variance and slope dummies each time."""
        hit = self._cache.get(key)
        if hit is not None:
            value, steps = hit
            self._frames[-1].extend(steps)
            return value
        failure_key = (_dummy_free_key(key), self._fallback_depth > 0, self._cheap_only > 0)
        failed = self._failures.get(failure_key)
        if failed is not None:
            kind, args, notes = failed
            self._divergences.extend(notes)
            raise kind(*args)
        notes_before = len(self._divergences)
        self._frames.append([])
        try:
            value = compute()
        except (NotTractable, Divergent) as failure:
            self._failures[failure_key] = (type(failure), failure.args,
                                           tuple(self._divergences[notes_before:]))
            raise
        finally:
            steps = self._frames.pop()
        self._frames[-1].extend(steps)
        self._cache[key] = (value, steps)
        return value

    def expect_integrand(self, integrand: sp.Expr, m: Measure) -> sp.Expr:
        """E[integrand] under m, in closed form, or raise NotTractable / Divergent."""
        integrand = as_expression(integrand, "the integrand")
        _check_measure(m, Measure)
        return self._memoised((integrand, m), lambda: self._expect_uncached(integrand, m))

    def _expect_uncached(self, integrand: sp.Expr, m: Measure) -> sp.Expr:
        x = m.x
        pairs = prepare(integrand, x)
        if all(dep == 1 for _c, dep in pairs):
            return sp.Add(*[c for c, _d in pairs])
        try:
            return self.attempt(self._by_terms, pairs, m, False)
        except NotTractable as no_terms:
            failure = no_terms
        if len(pairs) > 1 and self._fallback_depth == 0 and not self._splitting:
            # Linearity first: each term with every rule it may need (erf^2 needs the
            # diagonal lift on its own, not on the square of the whole sum).
            self._splitting = True
            try:
                return self.attempt(self._by_integrands, pairs, m)
            except NotTractable as e:
                failure = e
            finally:
                self._splitting = False
        if self._fallback_depth == 0:
            for rule in self._rules("integrand", True):
                if rule.applies(integrand, m):
                    self._fallback_depth += 1
                    try:
                        return check_exact(self.attempt(rule.apply, integrand, m, self), (x,))
                    except NotTractable as e:
                        failure = e
                    finally:
                        self._fallback_depth -= 1
        if self._cheap_only:
            raise failure
        try:
            return self.attempt(self._by_terms, pairs, m, True)
        except NotTractable:
            raise failure from None

    def _by_integrands(self, pairs: list, m: Measure) -> sp.Expr:
        # the highest powers first: one term no rule takes dooms the sum, and it is found
        # before the easier terms' long expansions (SiLU's mu_3: x^6 tanh^12 after a minute
        # of the 60 others); the trace keeps the sum's order
        values, steps = {}, {}
        for i in sorted(range(len(pairs)), key=lambda i: -_total_power(pairs[i][1])):
            self._frames.append([])
            try:
                values[i] = self.expect_integrand(pairs[i][1], m)
            finally:
                steps[i] = self._frames.pop()
        total = sp.S.Zero
        for i, (coeff, _dep) in enumerate(pairs):
            self._frames[-1].extend(steps[i])
            total += _scaled(coeff, values[i])
        if total is sp.nan:
            raise Divergent("divergent terms of opposite signs: the expectation is ill-defined")
        expanded = sp.Add(*[c * m.expectation(d) for c, d in pairs])
        self.record(expanded, total, "linearity",
                    "expand the integrand and take each term's expectation")
        return check_exact(total, (m.x,))

    def _by_terms(self, pairs: list, m: Measure, expensive: bool) -> sp.Expr:
        # every term's rule is chosen before any is applied: one term no rule takes dooms
        # the sum, and the others may be long pole expansions (SiLU's mu_3: minutes)
        rules = self._rules("term", expensive)
        chosen = [(coeff, self._rule_for(dep, m, rules)) for coeff, dep in pairs]
        total = sp.S.Zero
        for coeff, (term, rule) in chosen:
            total += _scaled(coeff, rule.apply(term, m, self))
        if total is sp.nan:
            raise Divergent("divergent terms of opposite signs: the expectation is ill-defined")
        if len(pairs) > 1:
            expanded = sp.Add(*[c * m.expectation(d) for c, d in pairs])
            self.record(expanded, total, "linearity",
                        "expand the integrand and take each term's expectation")
        return check_exact(total, (m.x,))

    @staticmethod
    def _rule_for(expr: sp.Expr, m: Measure, rules: list[Rule]) -> tuple:
        """(expr's term, the first rule that applies to it), or NotTractable naming what is
        left."""
        term = parse_term(expr, m.x)
        for rule in rules:
            if rule.applies(term, m):
                return term, rule
        if term.other:
            names = ", ".join(sorted({sp.sstr(o) for o in term.other}))
            raise NotTractable(f"no rule of the calculus integrates {names} against a Gaussian")
        raise NotTractable(f"no rule applies to {sp.sstr(expr)}")

    # -- Gaussian pairs -------------------------------------------------------------------
    def pair_integrand(self, integrand: sp.Expr, m: PairMeasure, direct_only: bool = False) -> sp.Expr:
        """E[integrand(u1, u2)] for the pair m, in closed form (or raise NotTractable)."""
        integrand = as_expression(integrand, "the integrand")
        _check_measure(m, PairMeasure)
        return self._memoised(("pair", integrand, m, direct_only),
                              lambda: self._pair_uncached(integrand, m, direct_only))

    def _pair_uncached(self, integrand: sp.Expr, m: PairMeasure, direct_only: bool) -> sp.Expr:
        # Inside a pair no integrand-level fallbacks (they lift back to pairs) and no
        # expensive term rules: Price's theorem is the way forward there.
        self._fallback_depth += 1
        self._cheap_only += 1
        try:
            # Keep f(u1) g(u2) whole when the integrand factorises: Price's theorem then acts
            # on the whole activation (|x| is one derivation, not four ReLU pieces).
            terms = [(sp.S.One, integrand)] if separate(integrand, m.u1, m.u2) else \
                collect_terms(split_terms(integrand, m.u1, m.u2))
            total = sp.S.Zero
            for coeff, dep in terms:
                total += _scaled(coeff, self._pair_term(dep, m, direct_only))
            return check_exact(total, (m.u1, m.u2))
        finally:
            self._fallback_depth -= 1
            self._cheap_only -= 1

    def _pair_term(self, dep: sp.Expr, m: PairMeasure, direct_only: bool) -> sp.Expr:
        parts = separate(dep, m.u1, m.u2)
        if parts is None:
            raise NotTractable(f"{sp.sstr(dep)} couples u1 and u2 in a way no rule handles")
        c, f, g = parts
        if g == 1:
            return c * self.expect_integrand(f, Measure(m.u1, sp.S.Zero, m.q1))
        if f == 1:
            return c * self.expect_integrand(g, Measure(m.u2, sp.S.Zero, m.q2))
        factors = Factors(f, g)
        failure: Exception = NotTractable("no rule applies")
        for rule in self._rules("pair", not direct_only):
            if rule.applies(factors, m):
                try:
                    return c * self.attempt(rule.apply, factors, m, self)
                except NotTractable as e:
                    failure = e
        raise failure

    # -- public ---------------------------------------------------------------------------
    def expect(self, e: Expectation) -> Outcome:
        """Take the expectation e: closed form, divergence, or e itself (with the reason)."""
        if not isinstance(e, Expectation):
            raise InvalidValueError(f"e must be a symfield.Expectation, got {quoted(e)}; build "
                                    "one with Expectation(integrand, variables, covariance)")
        with self._lock:
            return self._expect_locked(e)

    def _expect_locked(self, e: Expectation) -> Outcome:
        if not e.centred:
            return Outcome(e, False, [], None, "only centred Gaussians are supported")
        self._divergences = []
        self._frames = [[]]
        if e.dimension == 1:
            (x,) = e.variables
            back = {_VAR: e.covariance[0]}
            run = lambda: self.expect_integrand(e.integrand, Measure(x, sp.S.Zero, _VAR))  # noqa: E731
        else:
            v1, v2 = e.variables
            integrand = e.integrand.xreplace({v1: _U1, v2: _U2})
            back = {**dict(zip((_Q1, _RHO, _Q2), e.covariance)), _U1: v1, _U2: v2}
            run = lambda: self.pair_integrand(integrand, PairMeasure(_U1, _U2, _Q1, _RHO, _Q2))  # noqa: E731
        try:
            value = run()
        except Divergent as d:
            return Outcome(sp.nan, False, self._relabel(self._frames[0], back), str(d), None)
        except NotTractable as n:
            return Outcome(e, False, [], None, str(n))
        value = tidy(value.xreplace({k: v for k, v in back.items() if v.is_Symbol})
                     .subs({k: v for k, v in back.items() if not v.is_Symbol}, simultaneous=True))
        steps = self._relabel(self._frames[0], back)
        # Divergences are read off the steps (cached sub-results replay their steps too).
        reasons = [st.justification for st in self._frames[0]
                   if st.rule == DeltaRule.name and st.after.has(sp.oo, -sp.oo)]
        divergence = "; ".join(dict.fromkeys(reasons + self._divergences)) or None
        return Outcome(value, True, steps, divergence, None)

    @staticmethod
    def _relabel(steps: list[Step], back: dict) -> list[Step]:
        names = tuple((k, v) for k, v in back.items() if v.is_Symbol)
        values = tuple((k, v) for k, v in back.items() if not v.is_Symbol)
        return [Step(_relabelled(s.before, names, values), _relabelled(s.after, names, values),
                     s.rule, s.justification) for s in steps]


@lru_cache(maxsize=8192)
def _relabelled(e: sp.Expr, names: tuple, values: tuple) -> sp.Expr:
    """A step's expression in the caller's variables. Variables (bound symbols included) are
    renamed with xreplace, which subs refuses for bound variables; parameters are substituted
    with subs, which turns a derivative in a parameter that becomes an expression into a
    proper Subs(...). Cached: memoised sub-results replay their steps into every law that
    meets them, with the same variables (GELU: 1644 relabellings, 408 distinct; subs was a
    tenth of the cold derivation)."""
    e = e.xreplace(dict(names))
    return e.subs(dict(values), simultaneous=True) if values else e


def _dummy_free_key(key: tuple) -> tuple:
    """A memo key with its measures spread into their fields and its dummies renamed
    canonically (the SymPy parts as one ``dummy_free`` tuple, so that a dummy shared by the
    integrand and the measure keeps one name)."""
    shape, exprs = [], []
    for part in key:
        if dataclasses.is_dataclass(part):
            values = [getattr(part, f.name) for f in dataclasses.fields(part)]
            shape.append((type(part).__name__, len(values)))
            exprs.extend(values)
        elif isinstance(part, sp.Basic):
            shape.append("expr")
            exprs.append(part)
        else:
            shape.append(part)
    return tuple(shape), dummy_free(*exprs)


def _check_measure(m: object, kind: type) -> None:
    if not isinstance(m, kind):
        raise InvalidValueError(f"the measure must be a {kind.__name__}, got {quoted(m)}")


def _total_power(expr: sp.Expr) -> int:
    """The sum of the integer exponents in expr (x^6 tanh(x)^12: 18), a cheap measure of how
    hard its expectation is."""
    return sum(abs(int(p.exp)) for p in expr.atoms(sp.Pow) if p.exp.is_Integer)


def _scaled(coeff: sp.Expr, value: sp.Expr) -> sp.Expr:
    """coeff * value, keeping 0 * oo = 0 when a symbolic coefficient may vanish."""
    # the coefficient's questions first: is_infinite of a long pole series costs seconds
    if coeff.is_number or coeff.is_zero is False or not value.is_infinite:
        return coeff * value
    sign = 1 if coeff.is_nonnegative else (-1 if coeff.is_nonpositive else sp.sign(coeff))
    return sp.Piecewise((sp.S.Zero, sp.Eq(coeff, 0)), (sign * value, True))

