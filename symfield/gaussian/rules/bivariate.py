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

from ...piecewise import NotAnalysable, distributional_derivative, piecewise_smooth
from ...expectation import u1, u2
from ..normal_form import NotTractable
from ..simplify import tidy
from ..structure import MAX_ERF_FACTORS, erf_factor_count, separate  # noqa: F401  (separate: re-exported)
from .base import Factors, Measure, PairMeasure, Rule

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import GaussianCalculus

#: Highest order of Price's theorem tried for smooth factors (two reaches delta for
#: piecewise-linear phi).
MAX_PRICE_ORDER = 3
#: Highest order for piecewise polynomials: degree d reaches pure deltas after d + 1 steps
#: (max(x, 0)^k: the order-k arc-cosine kernel by k + 1 integrations back).
MAX_DELTA_ORDER = 7


def delta_order(f: sp.Expr, u: sp.Symbol) -> int | None:
    """The order of Price's theorem at which a piecewise polynomial's derivative is a sum of
    deltas (its largest piece degree + 1); None for anything else."""
    if not f.has(sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign, sp.Piecewise, sp.DiracDelta):
        return None
    try:
        pieces = piecewise_smooth(f, u)
    except NotAnalysable:
        return None
    degrees = []
    for piece in pieces.pieces:
        if not piece.has(u):
            degrees.append(0)
            continue
        try:
            poly = sp.Poly(piece, u)
        except sp.PolynomialError:
            return None
        if any(c.has(u) for c in poly.all_coeffs()):
            return None
        degrees.append(poly.degree())
    return max(degrees) + 1


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

    def applies(self, factors: Factors, m: PairMeasure) -> bool:
        # erf(u1)^2 erf(u2)^2: the derivatives leave arcsines in rho to integrate back (an
        # orthant probability of four correlated Gaussians), which can only fail.
        return (erf_factor_count(factors.f, m.u1) + erf_factor_count(factors.g, m.u2)
                <= MAX_ERF_FACTORS)

    def apply(self, factors: Factors, m: PairMeasure, engine: "GaussianCalculus") -> sp.Expr:
        f, g = factors
        # Piecewise polynomials: straight to the order where only deltas are left (the
        # intermediate orders hold steps times polynomials, which conditioning cannot do).
        orders = [o for o in (delta_order(f, m.u1), delta_order(g, m.u2)) if o is not None]
        if len(orders) == 2:
            if max(orders) > MAX_DELTA_ORDER:
                raise NotTractable(f"Price's theorem would need {max(orders)} steps (limit "
                                   f"{MAX_DELTA_ORDER})")
            # Lower orders hold steps times polynomials on both sides (conditioning cannot do
            # them); the order with nothing but deltas left comes first. Then the lower
            # order where one side is already a delta (conditioning on it leaves a truncated
            # Gaussian moment of the other): relu(u1)^3 relu(u2) fails at order 4 (delta''
            # against delta) and succeeds at order 2 (6 u1 Theta(u1) against delta(u2)).
            tried = sorted({max(orders), min(orders)}, reverse=True)
        else:
            tried = list(range(1, MAX_PRICE_ORDER + 1))
        derivatives = [(f, g)]
        failure: Exception = NotTractable("Price's theorem found no tractable derivative")
        for k in tried:
            while len(derivatives) <= k:
                fk, gk = derivatives[-1]
                derivatives.append((distributional_derivative(fk, m.u1),
                                    distributional_derivative(gk, m.u2)))
            fk, gk = derivatives[k]
            try:
                top = engine.attempt(self._derivative, f, g, fk, gk, k, m, engine)
                return engine.attempt(self._integrate_back, top, derivatives, k, m, engine)
            except NotTractable as e:
                failure = e
        raise failure

    def _derivative(self, f, g, fk, gk, k, m: PairMeasure, engine) -> sp.Expr:
        engine.record(sp.Derivative(m.expectation(f * g), (m.rho, k)), m.expectation(fk * gk),
                      self.name, f"d^{k}/drho^{k} E[f(u1) g(u2)] = E[f^({k})(u1) g^({k})(u2)]")
        if fk == 0 or gk == 0:
            return sp.S.Zero
        off_origin = _delta_away_from_origin(fk, m.u1) or _delta_away_from_origin(gk, m.u2)
        if off_origin is not None:
            # E[delta(u1 - t1) ...] is the pair density at t != 0: its integral in rho is
            # Owen's T function, not elementary, so integrating back cannot succeed.
            raise NotTractable(f"a delta at u = {sp.sstr(off_origin)}: the pair density there "
                               f"has no elementary integral in rho")
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


def _delta_away_from_origin(f: sp.Expr, u: sp.Symbol) -> sp.Expr | None:
    """A point t != 0 where f holds a delta, if any."""
    for d in sorted(f.atoms(sp.DiracDelta), key=sp.default_sort_key):  # the same one each run
        slope = sp.diff(d.args[0], u)
        if slope != 0 and not slope.has(u):
            point = sp.cancel(-d.args[0].subs(u, 0) / slope)
            if point != 0:
                return point
    return None


def erf_affine(f: sp.Expr, u: sp.Symbol) -> bool:
    """f = c0 + c1 erf(a u) (one erf of a centred linear argument, nothing else in u)."""
    erfs = [e for e in f.atoms(sp.erf) if e.has(u)]
    if len(erfs) != 1:
        return False
    (e,) = erfs
    arg = sp.expand(e.args[0])
    slope = sp.diff(arg, u)
    if slope.has(u) or arg.subs(u, 0) != 0:
        return False
    placeholder = sp.Dummy("E")
    rest = sp.expand(f.xreplace({e: placeholder}))
    return not rest.has(u) and sp.diff(rest, placeholder, 2) == 0


class ErfPriceRule(PriceRule):
    """Price's theorem first for the erf family (f, g affine in one erf): one derivative
    leaves Gaussians, and integrating back in rho gives Williams' arcsine directly (the
    conditioning route reaches it too, in a longer form)."""

    expensive = False

    def applies(self, factors: Factors, m: PairMeasure) -> bool:
        return erf_affine(factors.f, m.u1) and erf_affine(factors.g, m.u2)


class DiagonalLiftRule(Rule):
    """E[f(x) g(x)] over N(0, q) as the pair expectation at rho = q."""

    name = "diagonal lift"
    acts_on = "integrand"

    def applies(self, integrand: sp.Expr, m: Measure) -> bool:
        # Three or more erf factors: the lift meets them again in the pair (Price's theorem
        # leaves arcsines whose integral in rho is not elementary), so it can only fail.
        return (m.mean == 0 and self._factors(integrand, m.x) is not None
                and erf_factor_count(integrand, m.x) <= MAX_ERF_FACTORS)

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


class ErfProductRule(DiagonalLiftRule):
    """E[erf(a x) erf(c x)] for centred x: the diagonal lift as a term rule, so that it also
    runs inside a pair (the outer integral of a conditioning, as in GELU's kernel), where
    integrand-level rules are not tried. Price's theorem then meets only Gaussians."""

    name = "diagonal lift"
    acts_on = "term"

    def applies(self, term, m: Measure) -> bool:
        # Different slopes only: the square erf(a x)^2 is the integrand-level lift's (and
        # stays out of the restricted passes inside pairs).
        return (m.mean == 0 and len(term.erfs) == 2 and all(b == 0 for _a, b in term.erfs)
                and term.erfs[0][0] != term.erfs[1][0]
                and not (term.power or term.steps or term.deltas or term.other
                         or term.quad or term.lin))

    def apply(self, term, m: Measure, engine: "GaussianCalculus") -> sp.Expr:
        if engine.lifting:
            # inside its own lift (conditioning there meets erf erf again): Price's theorem
            # is the way forward, not another lift
            raise NotTractable("erf times erf inside a diagonal lift")
        (a, _b), (c, _d) = term.erfs
        # (a x, c x) is a centred pair with covariance (a^2 s, a c s, c^2 s): take the
        # expectation of erf(u1) erf(u2) there (unit slopes: Price's theorem integrates
        # back in the covariance without sign cases) and substitute.
        q1, q2 = sp.Dummy("q1", positive=True), sp.Dummy("q2", positive=True)
        rho = sp.Dummy("rho", real=True)
        pair = PairMeasure(u1, u2, q1, rho, q2)
        engine.record(m.expectation(term.rebuild(m.x)),
                      term.coeff * sp.Subs(pair.expectation(sp.erf(u1) * sp.erf(u2)), (q1, q2, rho),
                                           (a**2 * m.var, c**2 * m.var, a * c * m.var)),
                      self.name, f"({sp.sstr(a * m.x)}, {sp.sstr(c * m.x)}) is a centred Gaussian "
                                 f"pair: E[erf(u1) erf(u2)] at its covariance")
        engine.lifting += 1
        try:
            general = engine.pair_integrand(sp.erf(u1) * sp.erf(u2), pair)
        finally:
            engine.lifting -= 1
        value = tidy(general.subs({q1: a**2 * m.var, q2: c**2 * m.var, rho: a * c * m.var},
                                  simultaneous=True))
        engine.record(m.expectation(term.rebuild(m.x)), term.coeff * value, "at the covariance",
                      "substitute the pair's variances and covariance")
        return term.coeff * value
