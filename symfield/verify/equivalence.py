"""Are two formulas the same function of their free symbols?

``compare`` tries a cheap symbolic proof first (``simplify(a - b) == 0`` under a time limit)
and then evaluates both sides at random points of the theory's domain in 50-digit arithmetic.
Symbolic simplification is only ever trusted to say *equal*: SymPy misses identities such as
asin(2q/(1+2q)) = atan(2q/sqrt(1+4q)) (``equals`` even answers False there), so "not equal"
always comes from a numerical counterexample, re-checked at higher precision.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import SymfieldError
from . import limits
from .domains import Domain, PointSampler
from ..gaussian.expectation import Expectation
from .numeric import EvaluationFailed, numeric_value

Status = Literal["equal", "not_equal", "undecided"]
Method = Literal["identical", "symbolic", "numeric", "symbolic+numeric", "none"]

DEFAULT_SEED = 20240917


@dataclass(frozen=True)
class Counterexample:
    """A point where the two formulas differ, with both values."""

    point: dict[sp.Symbol, sp.Expr]
    value_a: mpmath.mpc
    value_b: mpmath.mpc

    def describe(self, digits: int | None = None) -> str:
        if digits is None:  # enough digits to see where the two values part
            a, b = self.value_a.real, self.value_b.real
            scale = max(abs(a), abs(b))
            gap = abs(a - b) / scale if scale else 1
            digits = 12 if gap == 0 or gap > 1e-9 else min(60, int(-mpmath.log10(gap)) + 4)
        where = ", ".join(f"{s}={_show_number(v)}" for s, v in
                          sorted(self.point.items(), key=lambda kv: kv[0].name))
        values = (f"the first is {_show(self.value_a, digits)} and the second is "
                  f"{_show(self.value_b, digits)}")
        return f"at {where} {values}" if where else values


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`compare`.

    ``status`` is "equal", "not_equal" or "undecided"; ``reason`` is one readable sentence;
    ``method`` says what decided; ``digits`` is the smallest number of agreeing digits over the
    points compared (None when no numbers were compared); ``points`` counts the points where
    both sides were compared, ``skipped`` the sampled points where that was not possible;
    ``counterexample`` is set when not equal.
    """

    status: Status
    reason: str
    method: Method = "none"
    digits: int | None = None
    points: int = 0
    skipped: int = 0
    counterexample: Counterexample | None = None
    notes: tuple[str, ...] = field(default=())
    #: For a chain of steps: the 1-based index of the first step that does not follow from
    #: the previous one (None when every step follows, or for a single comparison).
    failed_step: int | None = None

    @property
    def equal(self) -> bool:
        return self.status == "equal"

    def __str__(self) -> str:
        return self.reason


def compare(a: sp.Expr, b: sp.Expr, *, domain: Domain | None = None, points: int = 8,
            dps: int = 50, rng_seed: int = DEFAULT_SEED, symbolic_seconds: float = 2.0,
            numeric_seconds: float = 60.0) -> Verdict:
    """Decide whether ``a`` and ``b`` are equal as functions of their free symbols.

    ``domain`` maps symbols (or their names) to an :class:`~.domains.Interval`, a
    ``(low, high)`` pair or a fixed value, overriding the theory's defaults (see
    :mod:`.domains`). Equal needs agreement to within a relative 10^-(dps-10) (absolute
    10^-(dps+5) for values that vanish) at ``points`` random points where both sides are
    real; one confirmed disagreement makes "not_equal"; points where a side is complex,
    infinite or cannot be evaluated are skipped, and too few comparable points give
    "undecided". Deterministic for a given ``rng_seed``. Never raises for formulas that merely
    cannot be evaluated; raises ``SymfieldError`` for invalid arguments.
    """
    a, b = _as_expr(a, "first"), _as_expr(b, "second")
    if points < 1 or dps < 15:
        raise SymfieldError("compare needs points >= 1 and dps >= 15")
    if a == b:
        return Verdict("equal", "equal: the two expressions are identical", "identical")

    symbolic_note = _symbolic_zero(a - b, symbolic_seconds)
    proven = symbolic_note is True
    numeric = _NumericComparison(a, b, domain, points, dps, rng_seed)
    try:
        with limits.deadline(numeric_seconds):
            outcome = numeric.run()
    except TimeoutError:
        outcome = numeric.timed_out(numeric_seconds)
    return _combine(proven, symbolic_note, outcome)


def _as_expr(value: object, which: str) -> sp.Expr:
    if isinstance(value, bool):
        raise SymfieldError(f"the {which} argument of compare must be a SymPy expression")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        fraction = Fraction(repr(value))
        return sp.Rational(fraction.numerator, fraction.denominator)
    if isinstance(value, str):
        raise SymfieldError(f"the {which} argument of compare is text: parse it first "
                            f"(symfield.verify.parse_expression)")
    if not isinstance(value, sp.Expr):
        raise SymfieldError(f"the {which} argument of compare must be a SymPy expression, "
                            f"got {type(value).__name__}")
    return value


def _symbolic_zero(difference: sp.Expr, seconds: float) -> bool | str:
    """True if simplify proves the difference is 0; otherwise a note on why not."""
    if seconds <= 0:
        return "symbolic simplification disabled"
    if difference.has(Expectation, sp.Sum):
        # simplify cannot reach 0 through an unevaluated expectation or a series, and it
        # costs a quarter of a second to find out
        return "symbolic simplification skipped (unevaluated expectation or series)"
    try:
        with limits.deadline(seconds) as armed:
            if not armed:
                return "symbolic simplification skipped (no time limit outside the main thread)"
            return True if sp.simplify(difference) == 0 else "simplify did not reach 0"
    except TimeoutError:
        return f"symbolic simplification gave up after {seconds:g} s"
    except Exception as exc:  # noqa: BLE001 - simplify raises assorted errors; only a bonus
        return f"symbolic simplification failed ({type(exc).__name__})"


@dataclass
class _Outcome:
    agreed: int = 0
    digits: int | None = None
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    counterexample: Counterexample | None = None
    needed: int = 0
    blocked: str | None = None  # why no point can be evaluated at all
    timeout: str | None = None
    dps: int = 50
    constant: bool = False  # neither side has free symbols


class _NumericComparison:
    """Random-point evaluation of both sides at ``dps`` digits."""

    def __init__(self, a: sp.Expr, b: sp.Expr, domain: Domain | None, points: int, dps: int,
                 seed: int) -> None:
        self.a, self.b, self.dps = a, b, dps
        self.symbols = a.free_symbols | b.free_symbols
        self.sampler = PointSampler(self.symbols, domain, random.Random(seed))
        self.outcome = _Outcome(needed=points if self.symbols else 1, dps=dps,
                                constant=not self.symbols)
        self.rel_tol = mpmath.mpf(10) ** (-(dps - 10))
        self.abs_tol = mpmath.mpf(10) ** (-(dps + 5))

    def run(self) -> _Outcome:
        outcome = self.outcome
        unbound = _unbound_functions(self.a) | _unbound_functions(self.b)
        if unbound:
            outcome.blocked = (f"the formulas contain {', '.join(sorted(unbound))}, which has no "
                               f"numerical value until an activation is substituted")
            return outcome
        attempts = max(4 * outcome.needed, 12)
        for _ in range(attempts):
            if outcome.agreed >= outcome.needed or outcome.counterexample is not None:
                break
            self._one_point(self.sampler.sample())
        return outcome

    def timed_out(self, seconds: float) -> _Outcome:
        self.outcome.timeout = f"numerical evaluation took longer than {seconds:g} s"
        return self.outcome

    def _one_point(self, point: dict) -> None:
        outcome = self.outcome
        with mpmath.workdps(self.dps + 20):
            try:
                va = numeric_value(self.a, point, self.dps)
            except EvaluationFailed as exc:
                return self._skip(f"the first expression: {exc}")
            try:
                vb = numeric_value(self.b, point, self.dps)
            except EvaluationFailed as exc:
                return self._skip(f"the second expression: {exc}")
            if not (_finite(va) and _finite(vb)):
                return self._skip("a value is infinite or undefined")
            if not (self._real(va) and self._real(vb)):
                return self._skip("a value is not real (the point is outside a formula's domain)")
            digits = self._agreement(va.real, vb.real)
            if digits is None:
                digits = self._recheck(point)
            if digits is None:
                shown = {s: v for s, v in point.items() if s in self.symbols}
                outcome.counterexample = Counterexample(shown, va, vb)
                return None
            outcome.agreed += 1
            outcome.digits = digits if outcome.digits is None else min(outcome.digits, digits)
        return None

    def _recheck(self, point: dict) -> int | None:
        """A disagreement is only believed if it survives twice the precision."""
        dps = 2 * self.dps + 20
        with mpmath.workdps(dps + 20):
            try:
                va = numeric_value(self.a, point, dps)
                vb = numeric_value(self.b, point, dps)
            except EvaluationFailed:
                return None
            if not (_finite(va) and _finite(vb) and self._real(va) and self._real(vb)):
                return None
            return self._agreement(va.real, vb.real)

    def _skip(self, reason: str) -> None:
        self.outcome.skipped += 1
        self.outcome.skip_reasons[reason] = self.outcome.skip_reasons.get(reason, 0) + 1

    def _real(self, value: mpmath.mpc) -> bool:
        return abs(value.imag) <= self.rel_tol * abs(value.real) + self.abs_tol

    def _agreement(self, x: mpmath.mpf, y: mpmath.mpf) -> int | None:
        """Digits of agreement (capped at dps), or None if beyond tolerance."""
        difference = abs(x - y)
        scale = max(abs(x), abs(y))
        if difference <= self.abs_tol:
            return self.dps
        if difference > self.rel_tol * scale:
            return None
        return min(self.dps, int(math.floor(-mpmath.log10(difference / scale))))


def _combine(proven: bool, symbolic_note: bool | str, outcome: _Outcome) -> Verdict:
    counted = dict(points=outcome.agreed, skipped=outcome.skipped, digits=outcome.digits)
    notes = tuple(f"{reason} ({count} point{'s' if count > 1 else ''})"
                  for reason, count in outcome.skip_reasons.items())
    if outcome.counterexample is not None:
        if proven:
            return Verdict("undecided", "undecided: symbolic simplification says equal but "
                           f"the numbers differ ({outcome.counterexample.describe()})",
                           "symbolic+numeric", counterexample=outcome.counterexample,
                           notes=notes, **counted)
        a, b = outcome.counterexample.value_a.real, outcome.counterexample.value_b.real
        relative = abs(a - b) / max(abs(a), abs(b))
        return Verdict("not_equal", f"not equal: {outcome.counterexample.describe()} "
                       f"(relative difference {mpmath.nstr(relative, 3)})", "numeric",
                       counterexample=outcome.counterexample, notes=notes, **counted)
    enough = outcome.agreed >= outcome.needed
    evidence = _evidence(outcome)
    if proven:
        check = (f"confirmed: {evidence}" if enough else
                 f"not checked numerically: {_why_short(outcome)}")
        return Verdict("equal", f"equal by symbolic simplification ({check})",
                       "symbolic+numeric" if enough else "symbolic", notes=notes, **counted)
    if enough:
        return Verdict("equal", f"equal: {evidence}", "numeric", notes=notes, **counted)
    why = _why_short(outcome)
    if isinstance(symbolic_note, str) and outcome.blocked:
        why += f"; {symbolic_note}"
    return Verdict("undecided", f"undecided: {why}", "none", notes=notes, **counted)


def _evidence(outcome: _Outcome) -> str:
    if outcome.constant and outcome.agreed == 1 and outcome.digits is not None:
        return f"the two constants agree to {outcome.digits} digits"
    return (f"agree to {outcome.digits} digits at {outcome.agreed} random points "
            f"({outcome.dps}-digit arithmetic)")


def _why_short(outcome: _Outcome) -> str:
    if outcome.blocked:
        return outcome.blocked
    if outcome.timeout:
        return outcome.timeout
    if outcome.agreed == 0:
        common = max(outcome.skip_reasons, key=outcome.skip_reasons.get, default="no points")
        return f"no sampled point could be compared ({common})"
    common = max(outcome.skip_reasons, key=outcome.skip_reasons.get, default="")
    return (f"only {outcome.agreed} of {outcome.needed} points could be compared"
            + (f" (others: {common})" if common else ""))


def _unbound_functions(expr: sp.Expr) -> set[str]:
    return {type(f).__name__ for f in expr.atoms(AppliedUndef)}


def _finite(value: mpmath.mpc) -> bool:
    return mpmath.isfinite(value.real) and mpmath.isfinite(value.imag)


def _show(value: mpmath.mpc, digits: int) -> str:
    if value.imag == 0:
        return mpmath.nstr(value.real, digits)
    return mpmath.nstr(value, digits)


def _show_number(value: sp.Expr) -> str:
    if value.is_Integer:
        return str(value)
    return sp.sstr(sp.N(value, 6))
