"""Where to sample the free symbols of a formula: the theory's domains, or the caller's.

Defaults (theory.md section 2): variances q, q1, q2, A > 0 and kappa2 >= 0 log-uniform in
[1e-2, 1e2]; sigma_w log-uniform in [0.1, 10]; sigma_b uniform in [0, 3]; correlations c in
(-1, 1); a covariance rho = t*sqrt(q1*q2) with t in (-1, 1) (t*q when only q appears);
C = t*A with t in (-1, 1); D = t*4A with t in (0, 1) (log-uniform when A is absent); L an
integer in [1, 20]; alpha in (0, 1); integration variables and other real symbols uniform in
[-3, 3]. Points are exact numbers (rationals, and algebraic values for rho), so both sides of a
comparison see exactly the same input.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, Union

import sympy as sp

from ..errors import SymfieldError
from ..symbols import A, C, D, L, c, kappa2, q, q1, q2, rho, sigma_b, sigma_w
from .names import INTEGRATION_VARIABLES, SYMBOLS


@dataclass(frozen=True)
class Interval:
    """Sample uniformly in [low, high], or log-uniformly when ``log`` (needs 0 < low)."""

    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise SymfieldError(f"an interval needs finite low <= high, got [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise SymfieldError("a log-uniform interval needs low > 0")

    def sample(self, rng: random.Random) -> sp.Rational:
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return _exact(value)


#: What a caller may give per symbol: an interval, a (low, high) pair, or a fixed value.
DomainValue = Union[Interval, tuple, int, float, Fraction, str, sp.Expr]
Domain = Mapping[Union[sp.Symbol, str], DomainValue]

_LOG_VARIANCE = Interval(1e-2, 1e2, log=True)
_DEFAULTS: dict[sp.Symbol, Interval] = {
    q: _LOG_VARIANCE, q1: _LOG_VARIANCE, q2: _LOG_VARIANCE, A: _LOG_VARIANCE,
    kappa2: _LOG_VARIANCE,
    sigma_w: Interval(0.1, 10, log=True),
    sigma_b: Interval(0, 3),
    c: Interval(-0.99, 0.99),
}
_FRACTION = Interval(-0.99, 0.99)
_REAL_LINE = Interval(-3, 3)


def _exact(value: float) -> sp.Rational:
    """A readable exact rational near ``value`` (6 significant digits)."""
    fraction = Fraction(f"{value:.6g}")
    return sp.Rational(fraction.numerator, fraction.denominator)


def _default_interval(symbol: sp.Symbol) -> Interval | None:
    """Interval for symbols without a theory rule, from their assumptions."""
    if symbol in _DEFAULTS:
        return _DEFAULTS[symbol]
    if symbol.name == "alpha":
        return Interval(0.01, 0.99)
    if symbol in INTEGRATION_VARIABLES:
        return _REAL_LINE
    if symbol.is_integer:
        return None  # handled by the integer rule
    if symbol.is_positive or symbol.is_nonnegative:
        return _LOG_VARIANCE
    return _REAL_LINE


class PointSampler:
    """Draws points for a set of symbols, honouring constraints between them."""

    def __init__(self, symbols: set[sp.Symbol], domain: Domain | None, rng: random.Random):
        self.symbols = set(symbols)
        self.rng = rng
        self.given = _resolve(domain or {}, self.symbols)

    def sample(self) -> dict[sp.Symbol, sp.Expr]:
        point: dict[sp.Symbol, sp.Expr] = {}
        needed = set(self.symbols)
        if rho in needed and rho not in self.given:
            needed |= {q1, q2} if ({q1, q2} & needed or q not in needed) else {q}
        if C in needed and C not in self.given:
            needed.add(A)  # |C| < A
        for symbol in sorted(needed - {rho, C, D}, key=lambda s: s.name):
            point[symbol] = self._independent(symbol)
        if rho in needed:
            point[rho] = self._given_or(rho, lambda: self._covariance(point))
        if C in needed:
            point[C] = self._given_or(C, lambda: _FRACTION.sample(self.rng) * point[A])
        if D in needed:
            point[D] = self._given_or(D, lambda: self._distance(point))
        return point

    def _given_or(self, symbol: sp.Symbol, draw) -> sp.Expr:
        if symbol in self.given:
            return self._from_given(symbol)
        return draw()

    def _independent(self, symbol: sp.Symbol) -> sp.Expr:
        if symbol in self.given:
            return self._from_given(symbol)
        interval = _default_interval(symbol)
        if interval is None:  # integers: depth L and the like
            low = 1 if (symbol.is_positive or symbol == L) else -10
            return sp.Integer(self.rng.randint(low, 20))
        return interval.sample(self.rng)

    def _from_given(self, symbol: sp.Symbol) -> sp.Expr:
        value = self.given[symbol]
        return value.sample(self.rng) if isinstance(value, Interval) else value

    def _covariance(self, point: dict) -> sp.Expr:
        t = _FRACTION.sample(self.rng)
        if q1 in point and q2 in point:
            return t * sp.sqrt(point[q1] * point[q2])
        return t * point[q]

    def _distance(self, point: dict) -> sp.Expr:
        if A in point:
            return Interval(0.01, 0.99).sample(self.rng) * 4 * point[A]
        return _LOG_VARIANCE.sample(self.rng)


def _resolve(domain: Domain, symbols: set[sp.Symbol]) -> dict[sp.Symbol, object]:
    """Caller's domain keyed by symbol: names are looked up among the formula's symbols first,
    then among the parser's names; values become Intervals or exact numbers."""
    by_name = {s.name: s for s in symbols}
    resolved: dict[sp.Symbol, object] = {}
    for key, value in domain.items():
        if isinstance(key, sp.Symbol):
            symbol = key
        elif isinstance(key, str) and (key in by_name or key in SYMBOLS):
            symbol = by_name.get(key) or SYMBOLS[key]
            if not isinstance(symbol, sp.Symbol):
                raise SymfieldError(f"{key} is a constant, not a variable")
        else:
            valid = ", ".join(sorted(by_name)) or "none"
            raise SymfieldError(f"unknown symbol {key!r} in the domain; the formulas use: {valid}")
        resolved[symbol] = _domain_value(key, value)
    return resolved


def _domain_value(key: object, value: DomainValue) -> object:
    if isinstance(value, Interval):
        return value
    if isinstance(value, tuple):
        if len(value) != 2:
            raise SymfieldError(f"the range of {key} must be (low, high), got {value!r}")
        low, high = (exact_number(v, what=f"the range of {key}") for v in value)
        if not (low.is_real and high.is_real):
            raise SymfieldError(f"the range of {key} must be two real numbers, got {value!r}")
        return Interval(float(low), float(high))
    return exact_number(value, what=f"the value of {key}")


def exact_number(value: object, what: str = "a value") -> sp.Expr:
    """An exact SymPy number from an int, float (by its decimal text: 0.1 is 1/10),
    Fraction, SymPy number or a formula string parsed safely."""
    if isinstance(value, bool):
        raise SymfieldError(f"{what} must be a number, got {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SymfieldError(f"{what} must be finite, got {value!r}")
        fraction = Fraction(repr(value))
        return sp.Rational(fraction.numerator, fraction.denominator)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, str):
        from .parser import parse_expression  # the safe parser, never sympify

        value = parse_expression(value, syntax="plain")
    if isinstance(value, sp.Expr) and value.is_number and value.is_finite is not False:
        return value
    raise SymfieldError(f"{what} must be a number, got {value!r}")
