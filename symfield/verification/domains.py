"""Where to sample the free symbols of a formula: the theory's whole domains, or the caller's.

A formula is only checked where it is sampled, so every domain is sampled as a whole, in three
kinds of points (:meth:`PointSampler.schedule`):

* *typical* points, where the theory usually lives (theory.md section 2): variances q, q1, q2,
  A and kappa2 log-uniform in [1e-2, 1e2]; sigma_w log-uniform in [0.1, 10]; sigma_b uniform
  in [0, 3]; correlations c in (-0.99, 0.99); a covariance rho = t*sqrt(q1*q2) with t in
  (-0.99, 0.99) (t*q when only q appears); C = t*A; D = t*4A with t in (0.01, 0.99); L an
  integer in [1, 20]; alpha in (0.01, 0.99); integration variables and other real symbols
  uniform in [-3, 3];
* *wide* points, reaching the rest of the stated domain: variances log-uniform in
  [1e-12, 1e12], sigma_w in [1e-6, 1e6], sigma_b in [1e-12, 1e6], correlations and the t of
  rho, C and D within 1e-12 of their bounds (|t| = 1 - 10^-k, k up to 12), reals up to 1e6 in
  magnitude; a caller's range (low, high) is approached within 1e-12 of its length at both
  ends;
* *probe* points at the scales the formula itself names: a constant K (100 in Min(q, 100),
  1e-30 in q + 1e-30) puts positive symbols at K, 1/K and K^2, a third above and below, so a
  formula that changes at q = 100 is seen on both sides of it.

Points are exact numbers (rationals, and algebraic values for rho), so both sides of a
comparison see exactly the same input; :func:`describe_checked` says which ranges the compared
points covered.
"""
from __future__ import annotations

import math
import numbers
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Mapping, Union

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
        for end in (self.low, self.high):
            if isinstance(end, bool) or not isinstance(end, (numbers.Real, sp.Number)):
                raise SymfieldError(f"an interval's ends must be numbers, got "
                                    f"{type(end).__name__}")
        if not isinstance(self.log, bool):
            raise SymfieldError(f"log must be True or False, got {type(self.log).__name__}")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise SymfieldError(f"an interval needs finite low <= high, got "
                                f"[{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise SymfieldError("a log-uniform interval needs low > 0")

    def sample(self, rng: random.Random) -> sp.Rational:
        """A point of the interval drawn with ``rng`` (a ``random.Random``), exactly."""
        if not isinstance(rng, random.Random):
            raise SymfieldError(f"rng must be a random.Random, got {type(rng).__name__}")
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            value = rng.uniform(self.low, self.high)
        return _exact(value)

    def near_an_end(self, rng: random.Random) -> sp.Rational:
        """A point within a tiny fraction (1e-12 to 1e-1) of the length from either end."""
        if not isinstance(rng, random.Random):
            raise SymfieldError(f"rng must be a random.Random, got {type(rng).__name__}")
        if self.low == self.high:
            return _exact(self.low)
        gap = _exact(10.0 ** -rng.uniform(1, 12))
        if self.log:
            span = math.log(self.high) - math.log(self.low)
            offset = float(gap) * span
            value = self.low * math.exp(offset) if rng.random() < 0.5 else \
                self.high * math.exp(-offset)
            return _exact(value)
        low, high = _exact(self.low), _exact(self.high)
        return low + gap * (high - low) if rng.random() < 0.5 else high - gap * (high - low)

    def contains(self, value: object) -> bool:
        """Whether a real number lies in [low, high]."""
        if isinstance(value, bool) or not isinstance(value, (numbers.Real, sp.Number)):
            raise SymfieldError(f"contains needs a real number, got {type(value).__name__}")
        return bool(self.low <= value <= self.high)


#: What a caller may give per symbol: an interval, a (low, high) pair, or a fixed value.
DomainValue = Union[Interval, tuple, int, float, Fraction, str, sp.Expr]
Domain = Mapping[Union[sp.Symbol, str], DomainValue]

_LOG_VARIANCE = Interval(1e-2, 1e2, log=True)
_WIDE_VARIANCE = Interval(1e-12, 1e12, log=True)
_DEFAULTS: dict[sp.Symbol, Interval] = {
    q: _LOG_VARIANCE, q1: _LOG_VARIANCE, q2: _LOG_VARIANCE, A: _LOG_VARIANCE,
    kappa2: _LOG_VARIANCE,
    sigma_w: Interval(0.1, 10, log=True),
    sigma_b: Interval(0, 3),
    c: Interval(-0.99, 0.99),
}
_WIDE: dict[sp.Symbol, Interval] = {
    q: _WIDE_VARIANCE, q1: _WIDE_VARIANCE, q2: _WIDE_VARIANCE, A: _WIDE_VARIANCE,
    kappa2: _WIDE_VARIANCE,
    sigma_w: Interval(1e-6, 1e6, log=True),
    sigma_b: Interval(1e-12, 1e6, log=True),
}
_FRACTION = Interval(-0.99, 0.99)
_UNIT_FRACTION = Interval(0.01, 0.99)
_REAL_LINE = Interval(-3, 3)
#: Correlation-like symbols: a fraction t of their bound, |t| < 1.
_CORRELATIONS = frozenset({c})
#: Most probe points one comparison tries (the most extreme scales first).
MAX_PROBES = 8


def _exact(value: float) -> sp.Rational:
    """A readable exact rational near ``value`` (6 significant digits)."""
    fraction = Fraction(f"{value:.6g}")
    return sp.Rational(fraction.numerator, fraction.denominator)


def _near_one(rng: random.Random) -> sp.Rational:
    """1 - 10^-k for k uniform in [1, 12], exactly (6 significant digits in the gap)."""
    return 1 - _exact(10.0 ** -rng.uniform(1, 12))


def _default_interval(symbol: sp.Symbol) -> Interval | None:
    """Interval for symbols without a theory rule, from their assumptions."""
    if symbol in _DEFAULTS:
        return _DEFAULTS[symbol]
    if symbol.name == "alpha":
        return _UNIT_FRACTION
    if symbol in INTEGRATION_VARIABLES:
        return _REAL_LINE
    if symbol.is_integer:
        return None  # handled by the integer rule
    if symbol.is_positive or symbol.is_nonnegative:
        return _LOG_VARIANCE
    return _REAL_LINE


def _is_scale(symbol: sp.Symbol) -> bool:
    """Positive, unbounded symbols: the ones probe points set to a formula's own scales."""
    return (symbol in _WIDE or bool(symbol.is_positive or symbol.is_nonnegative)) \
        and symbol.name not in ("alpha", "delta_ab") and symbol not in (D, C, rho)


class PointSampler:
    """Draws points for a set of symbols, honouring constraints between them.

    ``scales`` are the magnitudes the formulas mention (see :func:`scales_of`); they become
    probe points.
    """

    def __init__(self, symbols: set[sp.Symbol], domain: Domain | None, rng: random.Random,
                 scales: tuple[float, ...] = ()):
        self.symbols = set(symbols)
        self.rng = rng
        self.given = _resolve(domain or {}, self.symbols)
        self.scales = scales

    @property
    def free(self) -> set[sp.Symbol]:
        """Symbols that are sampled (not fixed by the caller)."""
        return {s for s in self._needed() if not self._is_fixed(s)}

    def schedule(self, attempts: int) -> Iterator[tuple[dict[sp.Symbol, sp.Expr], str]]:
        """Points in the order to try them, with their kind: a typical point first, then the
        probe points, then typical and wide points in turn."""
        yield self.sample("typical"), "typical"
        for probe in self._probes():
            yield probe, "probe"
        for index in range(1, attempts):
            kind = "wide" if index % 2 else "typical"
            yield self.sample(kind), kind

    def sample(self, kind: str = "typical") -> dict[sp.Symbol, sp.Expr]:
        point: dict[sp.Symbol, sp.Expr] = {}
        needed = self._needed()
        wide = self._wide_choice(needed) if kind == "wide" else set()
        for symbol in sorted(needed - {rho, C, D}, key=lambda s: s.name):
            point[symbol] = self._independent(symbol, symbol in wide)
        if rho in needed:
            point[rho] = self._given_or(rho, lambda: self._covariance(point, rho in wide))
        if C in needed:
            point[C] = self._given_or(C, lambda: self._fraction(C in wide) * point[A])
        if D in needed:
            point[D] = self._given_or(D, lambda: self._distance(point, D in wide))
        return point

    # -- pieces -------------------------------------------------------------------------------
    def _needed(self) -> set[sp.Symbol]:
        needed = set(self.symbols)
        if rho in needed and rho not in self.given:
            needed |= {q1, q2} if ({q1, q2} & needed or q not in needed) else {q}
        if C in needed and C not in self.given:
            needed.add(A)  # |C| < A
        return needed

    def _is_fixed(self, symbol: sp.Symbol) -> bool:
        return symbol in self.given and not isinstance(self.given[symbol], Interval)

    def _wide_choice(self, needed: set[sp.Symbol]) -> set[sp.Symbol]:
        """Each sampled symbol goes to its wide range with probability 1/2, at least one."""
        candidates = sorted((s for s in needed if not self._is_fixed(s)), key=lambda s: s.name)
        chosen = {s for s in candidates if self.rng.random() < 0.5}
        if candidates and not chosen:
            chosen.add(self.rng.choice(candidates))
        return chosen

    def _given_or(self, symbol: sp.Symbol, draw) -> sp.Expr:
        if symbol in self.given:
            return self._from_given(symbol, False)
        return draw()

    def _independent(self, symbol: sp.Symbol, wide: bool) -> sp.Expr:
        if symbol in self.given:
            return self._from_given(symbol, wide)
        if wide:
            return self._wide(symbol)
        interval = _default_interval(symbol)
        if interval is None:  # integers: depth L and the like
            return self._integer(symbol, 20)
        return interval.sample(self.rng)

    def _integer(self, symbol: sp.Symbol, high: int) -> sp.Integer:
        """An integer in the symbol's range: delta_ab is 0 or 1 (a Kronecker delta); positive
        ones from 1, non-negative ones from 0, others from -10, up to ``high``."""
        if symbol.name == "delta_ab":
            return sp.Integer(self.rng.randint(0, 1))
        low = 1 if (symbol.is_positive or symbol == L) else 0 if symbol.is_nonnegative else -10
        return sp.Integer(self.rng.randint(low, high))

    def _wide(self, symbol: sp.Symbol) -> sp.Expr:
        if symbol in _WIDE:
            return _WIDE[symbol].sample(self.rng)
        if symbol in _CORRELATIONS:
            return self._fraction(True)
        if symbol.name == "alpha":
            gap = _exact(10.0 ** -self.rng.uniform(1, 6))
            return gap if self.rng.random() < 0.5 else 1 - gap
        interval = _default_interval(symbol)
        if interval is None:  # integers: depth up to 1000
            return self._integer(symbol, 1000)
        if interval is _LOG_VARIANCE:
            return _WIDE_VARIANCE.sample(self.rng)
        magnitude = _exact(10.0 ** self.rng.uniform(-6, 6))
        return magnitude if self.rng.random() < 0.5 else -magnitude

    def _from_given(self, symbol: sp.Symbol, wide: bool) -> sp.Expr:
        value = self.given[symbol]
        if isinstance(value, Interval):
            return value.near_an_end(self.rng) if wide else value.sample(self.rng)
        return value

    def _fraction(self, wide: bool) -> sp.Expr:
        """t in (-1, 1): typical |t| < 0.99, wide |t| = 1 - 10^-k."""
        if not wide:
            return _FRACTION.sample(self.rng)
        edge = _near_one(self.rng)
        return edge if self.rng.random() < 0.5 else -edge

    def _covariance(self, point: dict, wide: bool) -> sp.Expr:
        return self._scaled_covariance(point, self._fraction(wide))

    def _distance(self, point: dict, wide: bool) -> sp.Expr:
        if A in point:
            if wide:
                t = _exact(10.0 ** -self.rng.uniform(1, 12))
                t = t if self.rng.random() < 0.5 else 1 - t
            else:
                t = _UNIT_FRACTION.sample(self.rng)
            return t * 4 * point[A]
        return (_WIDE_VARIANCE if wide else _LOG_VARIANCE).sample(self.rng)

    def _probes(self) -> list[dict[sp.Symbol, sp.Expr]]:
        """Points at the formula's own scales: for each scale, positive symbols a third above
        and below it (one symbol or all of them), and for a threshold near 1, correlations
        (c, and the t of rho = t sqrt(q1 q2) and C = t A) just beyond it; the rest typical."""
        needed = self._needed()
        scalable = sorted((s for s in needed if _is_scale(s) and s not in self.given),
                          key=lambda s: s.name)
        fractions = sorted((s for s in needed & {c, rho, C} if s not in self.given),
                           key=lambda s: s.name)
        values: list[tuple[str, sp.Rational]] = []
        for scale in self.scales:
            if 0.9 < scale < 1 and fractions:  # a threshold near the edge of (-1, 1)
                edge = 1 - _exact((1 - scale) / 3)
                values += [("fraction", edge), ("fraction", -edge)]
            elif scalable:
                for factor in (3.0, 1 / 3):
                    values.append(("scale", _exact(scale * factor)))
        probes = []
        for kind, value in values:
            if len(probes) >= MAX_PROBES:
                break
            targets = scalable if kind == "scale" else fractions
            point = self.sample("typical")
            chosen = targets if self.rng.random() < 0.5 else [self.rng.choice(targets)]
            for symbol in chosen:
                if kind == "scale" and symbol.is_integer:
                    point[symbol] = sp.Integer(max(1, min(10**6, round(float(value)))))
                elif kind == "scale":
                    point[symbol] = value
                else:
                    t = value
                    point[symbol] = t if symbol is c else \
                        t * point[A] if symbol is C else self._scaled_covariance(point, t)
            if rho in point and rho not in self.given and rho not in chosen:
                point[rho] = self._covariance(point, False)  # keep |rho| < sqrt(q1 q2)
            if C in point and C not in self.given and C not in chosen:
                point[C] = self._fraction(False) * point[A]
            if D in point and D not in self.given:
                point[D] = self._distance(point, False)
            probes.append(point)
        return probes

    def _scaled_covariance(self, point: dict, t: sp.Expr) -> sp.Expr:
        if q1 in point and q2 in point:
            return t * sp.sqrt(point[q1] * point[q2])
        return t * point[q]


def scales_of(*exprs: sp.Expr) -> tuple[float, ...]:
    """The magnitudes a formula names, most extreme first: each number or constant
    subexpression K (100 in Min(q, 100), exp(30) in Min(q, exp(30))) with |log10 K| >= 1, or
    near 1 from below, gives K, 1/K and K^2 (a variance next to a threshold on its square
    root)."""
    found: dict[int, float] = {}
    for size in _constant_sizes(exprs):
        exponent = math.log10(size)
        if abs(exponent) < 1 and not 0.9 < size < 1:
            continue
        for value in (size, 1 / size, size * size):
            if 1e-300 < value < 1e300:
                found.setdefault(round(math.log10(value) * 4), value)
    ordered = sorted(found.values(), key=lambda v: -abs(math.log10(v)))
    return tuple(ordered)


#: Constant subexpressions looked at for scales, at most (numbers are always looked at).
_MAX_CONSTANT_NODES = 50


def _constant_sizes(exprs: tuple[sp.Expr, ...]) -> list[float]:
    """|value| of every number and of the largest constant subexpressions, as floats."""
    from .numeric import EvaluationFailed, check_magnitudes

    sizes, looked = [], 0
    for expr in exprs:
        stack = [expr]
        while stack:
            node = stack.pop()
            if node.is_Number:
                candidates = [node]
            elif not node.free_symbols and isinstance(node, sp.Expr) and node.args \
                    and looked < _MAX_CONSTANT_NODES:
                looked += 1
                try:
                    check_magnitudes(node, {})  # never evaluate exp(exp(1000)) in full
                    candidates = [sp.N(node, 15)]
                except (EvaluationFailed, TypeError, ValueError):
                    candidates = []
                stack.extend(a for a in node.args if isinstance(a, sp.Basic))
            else:
                stack.extend(a for a in node.args if isinstance(a, sp.Basic))
                continue
            for value in candidates:
                try:
                    size = abs(complex(value))
                except (TypeError, ValueError, OverflowError):
                    continue
                if size != 0 and math.isfinite(size):
                    sizes.append(size)
    return sizes


def describe_checked(points: list[dict[sp.Symbol, sp.Expr]], fixed: set[sp.Symbol]) -> str:
    """'q in [1.2e-11, 3.4e+11], c in [-0.99999, 0.97]' for the compared points."""
    if not points:
        return ""
    names = sorted({s for point in points for s in point} - set(fixed), key=lambda s: s.name)
    parts = []
    for symbol in names:
        values = [_float(point[symbol]) for point in points if symbol in point]
        values = [v for v in values if v is not None]
        if not values:
            continue
        if symbol is rho:
            fractions = [_float(point[rho] / sp.sqrt(point[q1] * point[q2]) if q1 in point
                                else point[rho] / point[q]) for point in points if rho in point
                         and (q1 in point and q2 in point or q in point)]
            fractions = [f for f in fractions if f is not None]
            if fractions:
                parts.append(f"rho/sqrt(q1*q2) in [{_fmt(min(fractions))}, "
                             f"{_fmt(max(fractions))}]")
                continue
        low, high = min(values), max(values)
        parts.append(f"{symbol.name} = {_fmt(low)}" if low == high else
                     f"{symbol.name} in [{_fmt(low)}, {_fmt(high)}]")
    return ", ".join(parts)


def _float(value: sp.Expr) -> float | None:
    try:
        return float(sp.N(value, 17))
    except (TypeError, ValueError, OverflowError):
        return None


def _fmt(value: float) -> str:
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    if 0.999 < abs(value) < 1:
        return f"{value:.15g}"
    return f"{value:.4g}"


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
        from .errors import ParseError, quote
        from .parser import parse_expression  # the safe parser, never sympify

        if value.lstrip().startswith("="):
            raise SymfieldError(f"{what} is {quote(value)}: write one '=' (name=value)")
        try:
            value = parse_expression(value, syntax="plain")
        except ParseError as exc:
            raise SymfieldError(f"{what} {quote(value)} is not a number: {exc}") from None
    if isinstance(value, sp.Expr) and value.is_number and value.is_finite is not False:
        return value
    raise SymfieldError(f"{what} must be a number, got {value!r}")
