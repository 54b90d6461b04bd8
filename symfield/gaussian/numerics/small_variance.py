"""float64 evaluation of closed single-input laws near a zero variance.

ELU's and SELU's laws hold erfcx(k sqrt(v)) = w(i k sqrt(v)) beside constants (chi0 =
alpha^2 (w(sqrt(2v))/2 - w(sqrt(v/2)) + 1/2) + v/2): as v -> 0 terms of size alpha^2 cancel
to a value of size v (and at ELU's alpha = 1 the mean activation's terms of size sqrt(v)
cancel too). The derived expression is unchanged; near v = 0 its float64 evaluation is its
Taylor series in t = sqrt(v), which SymPy computes from the expression itself: v is solved
for from v(law variables) = t^2, each erfcx(k t) (and erfc(k t) = exp(-k^2 t^2) erfcx(k t))
becomes its Taylor polynomial (from SymPy's series of erf and exp), so the coefficients of
each power of t are combined exactly (the cancelling orders are symbolic zeros, a
coefficient (1 - alpha) vanishes exactly at alpha = 1 in float64) and float64 sums the
polynomial for t < SMALL_ROOT.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
import sympy as sp

from ..faddeeva import faddeeva

#: Powers t^0 .. t^(TERMS - 1) kept: erfcx(sqrt(2) t)'s coefficients are
#: 2^(k/2)/Gamma(k/2 + 1), so the first omitted term at t = SMALL_ROOT is
#: 2^-17/Gamma(18) ~ 2e-19 times alpha^2, below an ulp of the value (~ (1 + alpha^2) t^2/2).
TERMS = 34
#: The series is used where t = sqrt(v) < SMALL_ROOT: there the closed form cancels its
#: O(1) terms to O(v) (ELU's chi0 missed 16 ulps (1 + kappa) for v in [0.06, 0.25]; from
#: v = 0.25 on it kept them, within 0.41 of the bound on 200 points of each law).
SMALL_ROOT = 0.5
#: The series replaces a closed form only where that cancels: measured once, at v = PROBE
#: (at large v: 1/PROBE^2; other variables 1, sigma_b 0), a closed form within AGREEMENT of
#: the series keeps its digits there (ELU's chi1, the metric law) and stays alone.
PROBE = 1e-6
AGREEMENT = 1e-12
#: Negative powers of t = 1/sqrt(v) a Laurent polynomial at large v may start from.
LAURENT_SHIFT = 8
#: Variables that are variances of the Gaussian (the law's sqrt(v) is in them).
VARIANCE_NAMES = ("q", "A")

_t = sp.Dummy("t", positive=True)


class NotApplicable(Exception):
    """No single variance under the law's error functions."""


@lru_cache(maxsize=1)
def _erfcx_polynomial() -> sp.Expr:
    """exp(t^2) erfc(t) to t^(TERMS - 1), from SymPy's Taylor terms of erf and exp."""
    erfc = sp.Poly(1 - sp.Add(*[sp.erf.taylor_term(n, _t) for n in range(TERMS)]), _t)
    exp = sp.Poly(sp.Add(*[sp.exp.taylor_term(n, _t**2) for n in range(TERMS // 2 + 1)]), _t)
    product = erfc * exp
    return sp.Add(*[product.coeff_monomial(_t**k) * _t**k for k in range(TERMS)])


def _exp_polynomial(c: sp.Expr) -> sp.Expr:
    """exp(c t^2) to t^(TERMS - 1)."""
    return sp.Add(*[sp.exp.taylor_term(n, c * _t**2) for n in range(TERMS // 2 + 1)])


def _erf_polynomial(y: sp.Expr) -> sp.Expr:
    """erf(y) to y^(TERMS - 1), from SymPy's Taylor terms."""
    return sp.Add(*[sp.erf.taylor_term(n, _t) for n in range(TERMS)]).xreplace({_t: y})


def _radicand(expr: sp.Expr, variance: sp.Symbol) -> tuple[sp.Expr, bool]:
    """(X, large): every error function's argument is k sqrt(X) (large False) or
    k / sqrt(X) (large True), X holding the variance."""
    found = set()
    for atom in expr.atoms(faddeeva, sp.erfc, sp.erf):
        roots = {(p.base, p.exp < 0) for p in atom.args[0].atoms(sp.Pow)
                 if abs(p.exp) == sp.Rational(1, 2) and p.base.has(variance)}
        if len(roots) != 1:
            raise NotApplicable(f"{atom}: not one square root of the variance")
        found.add(roots.pop())
    if len(found) != 1:
        raise NotApplicable("not one variance under the error functions")
    return found.pop()


class SmallVarianceSeries:
    """A closed law as its Taylor polynomial in t = sqrt(v) near v = 0, or as its Laurent
    polynomial in t = 1/sqrt(v) at large v when its error functions are of k/sqrt(v)
    (hard tanh: q erf(1/sqrt(2q)) - sqrt(2q/pi) exp(-1/2q) cancels to O(1/sqrt q)); module
    documentation."""

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol]):
        self.symbols = list(symbols)
        variances = [s for s in symbols if s.name in VARIANCE_NAMES and expr.has(s)]
        if len(variances) != 1 or not expr.has(faddeeva, sp.erfc, sp.erf):
            raise NotApplicable("no variance under an error function")
        (variance,) = variances
        radicand, self.large = _radicand(expr, variance)
        poly = sp.Poly(radicand, variance)
        if poly.degree() != 1:
            raise NotApplicable("the variance does not enter its radicand linearly")
        a, b = poly.all_coeffs()
        G = expr.subs(variance, ((_t**-2 if self.large else _t**2) - b) / a)
        if G.has(variance):
            raise NotApplicable("the variance is left over")
        unit = _erfcx_polynomial()

        def multiple(y):
            k = sp.cancel(y / _t)
            if k.has(_t):
                raise NotApplicable(f"an error function of {y}, not of a multiple of t")
            return k

        def erfcx_of(y):
            return unit.xreplace({_t: multiple(y) * _t})

        G = G.replace(lambda e: isinstance(e, faddeeva), lambda e: erfcx_of(e.args[0] / sp.I))
        if self.large:   # erf(k t) at small t: its own Taylor polynomial
            G = G.replace(lambda e: isinstance(e, sp.erfc),
                          lambda e: 1 - _erf_polynomial(multiple(e.args[0]) * _t))
        else:
            G = G.replace(lambda e: isinstance(e, sp.erfc),
                          lambda e: sp.exp(-e.args[0] ** 2) * erfcx_of(e.args[0]))
        G = G.replace(lambda e: isinstance(e, sp.erf),
                      lambda e: _erf_polynomial(multiple(e.args[0]) * _t))
        G = sp.powsimp(sp.expand(G), combine="exp")

        def exponential(e):
            c = sp.cancel(sp.expand(e.args[0]) / _t**2)
            if c.has(_t):
                raise NotApplicable(f"exp({e.args[0]}) is not exp(c v)")
            return _exp_polynomial(c)

        G = G.replace(lambda e: isinstance(e, sp.exp) and e.has(_t), exponential)
        if G.has(sp.erf, sp.erfc, faddeeva, sp.exp(_t)) or any(
                a.has(_t) for a in G.atoms(sp.Function)):
            raise NotApplicable("functions of the variance remain")
        # a Laurent polynomial at large v (q erf(k t) = erf(k t)/t^2 ...): shifted to a
        # polynomial, then back
        shift = LAURENT_SHIFT if self.large else 0
        series = sp.Poly(sp.expand(G * _t**shift), _t)
        exact = [sp.factor(series.coeff_monomial(_t**k)) for k in range(TERMS + shift)]
        self.lowest = next((k for k, c in enumerate(exact) if c != 0), 0)
        #: exact coefficients of t^lowest, t^(lowest + 1), ... (factored: (alpha - 1) stays
        #: one factor); the value is t^(lowest - shift) times their polynomial
        self.coefficients = exact[self.lowest:self.lowest + TERMS]
        self.lowest -= shift
        self.radicand = radicand
        self._np = None

    def _grouped(self, modules: list):
        """The series as sum_g g(parameters) P_g(t): each exact coefficient is a number
        times a factor g of the other variables (kept factored: alpha - 1, sigma_b^2 +
        sigma_w^2), P_g's coefficients floats rounded from 30 digits; so arrays of
        parameters cost one multiplication per group, not one per power."""
        groups: dict = {}
        for k, c in enumerate(self.coefficients):
            number, factor = c.as_independent(*self.symbols, as_Add=False)
            row = groups.setdefault(factor, [0.0] * len(self.coefficients))
            row[k] = float(sp.N(number, 30))
        factors = list(groups)
        evaluate = sp.lambdify(self.symbols, factors, modules=modules, cse=True)
        return evaluate, [groups[f] for f in factors]

    def cancels(self, closed, modules: list) -> bool:
        """Whether the float64 closed form ``closed`` (a function of the symbols) loses
        digits near v = 0: off the series by more than AGREEMENT at the law's variance
        variable = PROBE (the others 1, sigma_b 0)."""
        variance = next(s for s in self.symbols if s.name in VARIANCE_NAMES
                        and self.radicand.has(s))
        probe = 1 / PROBE**2 if self.large else PROBE
        args = [np.array([probe if s == variance else 0.0 if s.name == "sigma_b" else 1.0])
                for s in self.symbols]
        radicand = sp.lambdify(self.symbols, self.radicand, modules=modules)(*args)
        with np.errstate(all="ignore"):
            series = self.np(args, np.array([np.nan]), [radicand], modules)
            direct = np.asarray(closed(*args), dtype=float).reshape(-1)
        return not bool(abs(direct[0] - series[0]) <= AGREEMENT * abs(series[0]))

    def parts(self) -> tuple[sp.Expr]:
        """(v,): the series is used where v < SMALL_ROOT^2."""
        return (self.radicand,)

    def np(self, arrays: Sequence[np.ndarray], out: np.ndarray, parts, modules: list
           ) -> np.ndarray:
        """``out`` with the points of small variance replaced by the series."""
        shape = out.shape
        (v,) = (np.broadcast_to(np.asarray(p, dtype=float), shape) for p in parts)
        near = (v > 1 / SMALL_ROOT**2) & np.isfinite(v) if self.large else \
            (v >= 0) & (v < SMALL_ROOT**2)
        if not np.any(near):
            return out
        if self._np is None:
            self._np = self._grouped(modules)
        factors, polynomials = self._np
        # a parameter given as one number (alpha, the usual case) stays one
        sub = [a if np.ndim(a) == 0 else np.broadcast_to(np.asarray(a, dtype=float), shape)[near]
               for a in arrays]
        t = 1 / np.sqrt(v[near]) if self.large else np.sqrt(v[near])
        total = np.zeros_like(t)
        for factor, row in zip(factors(*sub), polynomials):
            part = np.full_like(t, row[-1])
            for c in reversed(row[:-1]):   # Horner in t, number coefficients
                part *= t
                part += c
            total += factor * part
        if self.lowest:
            total *= t ** float(self.lowest)
        result = np.array(out, dtype=float)
        result[near] = total
        return result


@lru_cache(maxsize=256)
def small_variance_series(expr: sp.Expr, symbols: tuple) -> SmallVarianceSeries | None:
    """The small-variance series of a closed law, or None when it has none."""
    if not isinstance(expr, sp.Basic) or not expr.has(faddeeva, sp.erfc, sp.erf):
        return None
    try:
        return SmallVarianceSeries(expr, symbols)
    except (NotApplicable, sp.PolynomialError):
        return None


__all__ = ["SMALL_ROOT", "SmallVarianceSeries", "TERMS", "small_variance_series"]
