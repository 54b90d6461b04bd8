"""Are two formulas the same function of their free symbols?

``compare`` tries a cheap symbolic proof first (``simplify(a - b) == 0``, in a child process
with a time limit) and then evaluates both sides at points covering the whole domain
(:mod:`.domains`: typical values, the extremes, and the scales the formulas name) in 50-digit
arithmetic. Symbolic simplification is only ever trusted to say *equal*: SymPy misses
identities such as asin(2q/(1+2q)) = atan(2q/sqrt(1+4q)) (``equals`` even answers False
there), so "not equal" always comes from a numerical counterexample, re-checked at higher
precision, or from an expectation that does not exist.

Agreement is relative, never absolute: a side that vanishes only matches a side that
vanishes too, and "vanishes" means exactly 0, or a cancellation that evalf has followed far
below every quantity the formula is built from (:mod:`.numeric`); 10^-60 sigma_w is not 0.
Every expectation a claim stands for must exist at every point (:mod:`.existence`): one that
does not makes the claim ill-posed, never equal. The work is bounded before it starts
(:mod:`.sizes`, :mod:`.limits`).
"""
from __future__ import annotations

import math
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Literal

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import SymfieldError
from ..expectation import Expectation
from . import limits, sizes
from .domains import Domain, PointSampler, describe_checked, scales_of
from .existence import decide
from .numeric import EvaluationFailed, Value, value_at

Status = Literal["equal", "not_equal", "undecided"]
Method = Literal["identical", "symbolic", "numeric", "symbolic+numeric", "existence", "none"]

DEFAULT_SEED = 20240917


@dataclass(frozen=True)
class Counterexample:
    """A point where the two formulas differ, with both values.

    ``difference`` is the first minus the second when it was computed on its own: for two
    formulas that agree beyond the digits shown (exp(exp(-1000)) against 1), it is the
    evidence that they differ.
    """

    point: dict[sp.Symbol, sp.Expr]
    value_a: mpmath.mpc
    value_b: mpmath.mpc
    difference: mpmath.mpc | None = None

    def relative_difference(self) -> mpmath.mpf:
        a, b = self.value_a.real, self.value_b.real
        scale = max(abs(a), abs(b))
        gap = abs(self.difference) if self.difference is not None else abs(a - b)
        return gap / scale if scale else mpmath.mpf(1)

    def describe(self, digits: int | None = None) -> str:
        """'at q=0.5 the first is ... and the second is ...', with ``digits`` digits (default:
        enough to see where the two values part)."""
        if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int)
                                   or not 1 <= digits <= 1000):
            raise SymfieldError(f"digits must be a whole number from 1 to 1000, got "
                                f"{_quoted(digits)}")
        gap = self.relative_difference()
        if digits is None:  # enough digits to see where the two values part
            digits = 12 if gap == 0 or gap > 1e-9 else min(60, int(-mpmath.log10(gap)) + 4)
        where = ", ".join(f"{s}={_show_number(v)}" for s, v in
                          sorted(self.point.items(), key=lambda kv: kv[0].name))
        values = (f"the first is {_show(self.value_a, digits)} and the second is "
                  f"{_show(self.value_b, digits)}")
        if self.difference is not None:
            values += f", their difference is {_show(self.difference, 6)}"
        return f"at {where} {values}" if where else values


@dataclass(frozen=True)
class Verdict:
    """The outcome of :func:`compare`.

    ``status`` is "equal", "not_equal" or "undecided"; ``reason`` is one readable sentence;
    ``method`` says what decided; ``digits`` is the smallest number of agreeing digits over the
    points compared (None when no numbers were compared); ``points`` counts the points where
    both sides were compared, ``skipped`` the sampled points where that was not possible;
    ``counterexample`` is set when not equal at a point; ``checked`` says which ranges of the
    free symbols the compared points covered (e.g. "q in [1.2e-11, 3.4e+11]").
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
    checked: str = ""

    @property
    def equal(self) -> bool:
        return self.status == "equal"

    def __str__(self) -> str:
        return self.reason


def compare(a: sp.Expr, b: sp.Expr, *, domain: Domain | None = None, points: int = 8,
            dps: int = 50, rng_seed: int = DEFAULT_SEED, symbolic_seconds: float = 2.0,
            numeric_seconds: float = 60.0, expectations: Iterable[Expectation] = (),
            budget: limits.Budget | None = None) -> Verdict:
    """Decide whether ``a`` and ``b`` are equal as functions of their free symbols.

    ``domain`` maps symbols (or their names) to an :class:`~.domains.Interval`, a
    ``(low, high)`` pair or a fixed value, overriding the theory's defaults (see
    :mod:`.domains`). Equal needs agreement to within a relative 10^-(dps-10) at ``points``
    points where both sides are real (a side that vanishes must meet one that vanishes); one
    confirmed disagreement makes "not_equal"; points where a side is complex, infinite or
    cannot be evaluated are skipped, and too few comparable points give "undecided".
    ``expectations`` are expectations the formulas stood for before they were replaced by
    closed forms: like those still in ``a`` and ``b``, each must exist at every point, or
    the comparison is ill-posed ("not_equal", with the reason). Formulas too large to check
    (:mod:`.sizes`) are "undecided". ``budget`` bounds the wall-clock time of the whole
    comparison cooperatively (any thread). Deterministic for a given ``rng_seed``. Never
    raises for formulas that merely cannot be evaluated; raises ``SymfieldError`` for
    invalid arguments.
    """
    a, b = _as_expr(a, "first"), _as_expr(b, "second")
    for name, value, low, high in (("points", points, 1, limits.MAX_POINTS),
                                   ("dps", dps, 15, limits.MAX_DPS)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SymfieldError(f"compare needs a whole number {low} <= {name} <= {high}, "
                                f"got {_quoted(value)}")
    for name, value in (("symbolic_seconds", symbolic_seconds),
                        ("numeric_seconds", numeric_seconds)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not 0 <= value < math.inf:
            raise SymfieldError(f"{name} must be a number of seconds >= 0, got {_quoted(value)}")
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, int):
        raise SymfieldError(f"rng_seed must be an integer, got {_quoted(rng_seed)}")
    required = _expectations(expectations) | a.atoms(Expectation) | b.atoms(Expectation)
    if budget is not None and not isinstance(budget, limits.Budget):
        raise SymfieldError(f"budget must be a symfield.verification.limits.Budget or None, got "
                            f"{type(budget).__name__}")
    too_big = sizes.too_large([a, b, *required])
    if too_big is not None:
        return Verdict("undecided", f"undecided: too large to check: {too_big}")
    budget = budget if budget is not None else limits.Budget(None)
    if a == b and not required:
        return Verdict("equal", "equal: the two expressions are identical", "identical")
    if a == b:
        symbolic_note: bool | str = "identical"
    else:
        symbolic_note = _symbolic_zero(a - b, min(symbolic_seconds, _left(budget)), budget)
    numeric = _NumericComparison(a, b, domain, points, dps, rng_seed, required,
                                 identical=a == b)
    inner = limits.Budget(min(numeric_seconds, _left(budget)))
    try:
        with limits.deadline(inner.remaining()):
            outcome = numeric.run(inner)
    except (TimeoutError, limits.OutOfTime):
        outcome = numeric.timed_out(inner.seconds)
    return _combine(symbolic_note, outcome)


def _expectations(values: object) -> frozenset:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise SymfieldError(f"expectations must be a collection of Expectation objects, got "
                            f"{type(values).__name__}")
    found = []
    for value in values:
        if not isinstance(value, Expectation):
            raise SymfieldError(f"expectations must hold Expectation objects, got "
                                f"{type(value).__name__}")
        found.append(value)
        if len(found) > limits.MAX_EXPECTATIONS:
            raise SymfieldError(f"at most {limits.MAX_EXPECTATIONS} expectations")
    return frozenset(found)


def _quoted(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _left(budget: limits.Budget) -> float:
    left = budget.remaining()
    return math.inf if left is None else left


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
                            f"(symfield.verification.parse_expression)")
    if not isinstance(value, sp.Expr):
        raise SymfieldError(f"the {which} argument of compare must be a SymPy expression, "
                            f"got {type(value).__name__}")
    return value


#: Larger differences are not worth a simplify (it would only time out).
_MAX_SIMPLIFY_OPS = 400
#: Outcomes of simplify by (difference, CPU seconds): a repeated claim costs no new child.
_SIMPLIFIED: OrderedDict = OrderedDict()
_SIMPLIFIED_SIZE = 512
_SIMPLIFIED_LOCK = threading.Lock()


def _symbolic_zero(difference: sp.Expr, seconds: float,
                   budget: limits.Budget | None = None) -> bool | str:
    """True if simplify proves the difference is 0; otherwise a note on why not. Runs in a
    child process killed after ``seconds`` of CPU time, so it is bounded in any thread."""
    if seconds <= 0:
        return "symbolic simplification disabled"
    if difference.has(Expectation, sp.Sum):
        # simplify cannot reach 0 through an unevaluated expectation or a series, and it
        # costs a quarter of a second to find out
        return "symbolic simplification skipped (unevaluated expectation or series)"
    if sp.count_ops(difference) > _MAX_SIMPLIFY_OPS:
        return "symbolic simplification skipped (too large)"
    key = (difference, seconds)
    with _SIMPLIFIED_LOCK:
        if key in _SIMPLIFIED:
            return _SIMPLIFIED[key]
    try:
        proven = limits.run_in_child(_simplifies_to_zero, difference, cpu_seconds=seconds,
                                     wall_seconds=None if budget is None else budget.remaining())
        note: bool | str = True if proven else "simplify did not reach 0"
    except limits.OutOfCPU:
        note = f"symbolic simplification gave up after {seconds:g} s of CPU time"
    except TimeoutError:  # wall clock: not remembered, a quieter machine may finish
        return "symbolic simplification ran out of time"
    except limits.ChildFailed as exc:
        note = f"symbolic simplification failed ({str(exc).split(':')[0]})"
    with _SIMPLIFIED_LOCK:  # the child's work is lost with it: remember the outcome here
        _SIMPLIFIED[key] = note
        while len(_SIMPLIFIED) > _SIMPLIFIED_SIZE:
            _SIMPLIFIED.popitem(last=False)
    return note


def _simplifies_to_zero(difference: sp.Expr) -> bool:
    return sp.simplify(difference) == 0


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
    compared: list = field(default_factory=list)  # the points where both sides agreed
    fixed: set = field(default_factory=set)  # symbols the caller fixed
    #: (expectation, point, reason) for an expectation that does not exist at a point
    ill_posed: tuple | None = None
    unknown: str | None = None  # why it cannot be told whether an expectation exists


class _Skip(Exception):
    """This point cannot be compared (message: why)."""


class _NumericComparison:
    """Evaluation of both sides at points of the whole domain, at ``dps`` digits."""

    def __init__(self, a: sp.Expr, b: sp.Expr, domain: Domain | None, points: int, dps: int,
                 seed: int, required: frozenset, identical: bool = False) -> None:
        self.a, self.b, self.dps = a, b, dps
        self.required = sorted(required, key=sp.default_sort_key)
        self.identical = identical
        self.symbols = a.free_symbols | b.free_symbols
        for e in required:
            self.symbols |= e.free_symbols
        self.sampler = PointSampler(self.symbols, domain, random.Random(seed),
                                    scales_of(a, b, *required))
        self.outcome = _Outcome(needed=points if self.symbols else 1, dps=dps,
                                constant=not self.symbols,
                                fixed=self.symbols - self.sampler.free)
        self._difference = None if identical or not _exact_difference_applies(a, b) else a - b

    def run(self, budget: limits.Budget) -> _Outcome:
        outcome = self.outcome
        unbound = _unbound_functions(self.a) | _unbound_functions(self.b)
        if unbound:
            outcome.blocked = (f"the formulas contain {', '.join(sorted(unbound))}, which has no "
                               f"numerical value until an activation is substituted")
            return outcome
        attempts = max(4 * outcome.needed, 12)
        for point, kind in self.sampler.schedule(attempts):
            if outcome.counterexample is not None or outcome.ill_posed or outcome.unknown:
                break
            if outcome.agreed >= outcome.needed and kind != "probe":
                break
            budget.check("the numerical comparison")
            self._one_point(point)
            if not self.symbols:
                break  # constants: one point says it all
        return outcome

    def timed_out(self, seconds: float | None) -> _Outcome:
        self.outcome.timeout = f"numerical evaluation took longer than {seconds:g} s"
        return self.outcome

    def _one_point(self, point: dict) -> None:
        outcome = self.outcome
        for e in self.required:
            try:
                existence = decide(e, point)
            except EvaluationFailed as why:
                self._skip(f"the expectation {_show_e(e)}: {why}")
                return
            if existence.status == "diverges":
                shown = {s: v for s, v in point.items() if s in e.free_symbols}
                outcome.ill_posed = (e, shown, existence.reason)
                return
            if existence.status == "unknown":
                outcome.unknown = existence.reason
                return
        if self.identical:
            self._agree(point, self.dps)
            return
        try:
            digits = self._compare_at(point, self.dps, final=False)
            if digits is None:  # a disagreement, or zero against tiny: twice the precision
                digits = self._compare_at(point, 2 * self.dps + 20, final=True)
        except _Skip as why:
            self._skip(str(why))
            return
        if digits is None:
            shown = {s: v for s, v in point.items() if s in self.symbols}
            outcome.counterexample = Counterexample(shown, *self._last)
            return
        self._agree(point, digits)

    def _differs_exactly(self, va: Value, vb: Value, point: dict, dps: int) -> bool:
        """Two formulas that agree numerically must also have a difference that vanishes:
        evalf follows a - b far below every quantity in it, so near-identities that agree
        beyond any fixed tolerance (exp(exp(-1000)) = 1) are told apart. Not for a side that
        is a quoted decimal value (meant to agree to its digits) or that holds an
        expectation (quadrature cannot resolve below its digits)."""
        if self._difference is None or (va.exact is not None and vb.exact is not None):
            return False
        try:
            gap = value_at(self._difference, point, dps)
        except EvaluationFailed:
            return False  # cannot be resolved further: the numbers decide
        if gap.vanishes:
            return False
        self._last = (va.number, vb.number, gap.number)
        return True

    def _agree(self, point: dict, digits: int) -> None:
        outcome = self.outcome
        outcome.agreed += 1
        outcome.digits = digits if outcome.digits is None else min(outcome.digits, digits)
        outcome.compared.append({s: v for s, v in point.items() if s in self.symbols})

    def _compare_at(self, point: dict, dps: int, final: bool) -> int | None:
        """Digits of agreement at one point, or None when the values differ; raises _Skip
        when the point cannot be compared."""
        with mpmath.workdps(dps + 20):
            va = self._value(self.a, point, dps, "the first expression")
            vb = self._value(self.b, point, dps, "the second expression")
            self._last = (va.number, vb.number)
            digits = self._judge(va, vb, dps, final)
            if digits is not None and self._differs_exactly(va, vb, point, dps):
                return None
            return digits

    def _value(self, expr: sp.Expr, point: dict, dps: int, which: str) -> Value:
        try:
            value = value_at(expr, point, dps)
        except EvaluationFailed as exc:
            raise _Skip(f"{which}: {exc}") from None
        if not _finite(value.number):
            raise _Skip("a value is infinite or undefined")
        return value

    def _judge(self, va: Value, vb: Value, dps: int, final: bool) -> int | None:
        rel_tol = mpmath.mpf(10) ** (-(self.dps - 10))
        for value in (va, vb):
            if not value.vanishes and not _real(value.number, rel_tol):
                raise _Skip("a value is not real (the point is outside a formula's domain)")
        if va.exact is not None and vb.exact is not None:
            return self.dps if va.exact == vb.exact else None
        if va.vanishes and vb.vanishes:
            # both are 0, or cancel far below every quantity they are made of; a value only
            # known to be under the quadrature's floor is confirmed at twice the precision
            unsettled = any(v.zero_bound is not None and v.exact is None and not final
                            and _from_quadrature(v, dps) for v in (va, vb))
            return None if unsettled else self.dps
        if va.vanishes or vb.vanishes:
            zero, other = (va, vb) if va.vanishes else (vb, va)
            if zero.zero_bound is not None and abs(other.number) <= 10 * zero.zero_bound:
                if final:
                    raise _Skip("cannot tell whether a tiny value is 0 at this point")
                return None
            return None  # zero against a value known to be nonzero
        x, y = va.number.real, vb.number.real
        difference = abs(x - y)
        scale = max(abs(x), abs(y))
        if difference == 0:
            return self.dps
        if difference > rel_tol * scale:
            return None
        return min(self.dps, int(math.floor(-mpmath.log10(difference / scale))))

    def _skip(self, reason: str) -> None:
        self.outcome.skipped += 1
        self.outcome.skip_reasons[reason] = self.outcome.skip_reasons.get(reason, 0) + 1


def _exact_difference_applies(a: sp.Expr, b: sp.Expr) -> bool:
    """Whether a - b can be resolved exactly by evalf (see ``_differs_exactly``)."""
    if _is_quoted_value(a) or _is_quoted_value(b):
        return False
    return not (a.has(Expectation, sp.Sum) or b.has(Expectation, sp.Sum))


def _is_quoted_value(expr: sp.Expr) -> bool:
    """A number written as a decimal with 6 or more digits after the point: a value quoted to
    its digits (0.3942944903978...), to be compared within the tolerance, not exactly."""
    if not expr.is_Rational or expr.is_Integer:
        return False
    denominator = int(expr.q)
    twos = (denominator & -denominator).bit_length() - 1
    rest = denominator >> twos
    fives = 0
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    return rest == 1 and max(twos, fives) >= 6


def _real(value: mpmath.mpc, rel_tol: mpmath.mpf) -> bool:
    return abs(value.imag) <= rel_tol * abs(value.real)


def _from_quadrature(value: Value, dps: int) -> bool:
    """A vanishing value whose bound is the certified evaluator's floor (not a cancellation
    that evalf followed)."""
    return value.zero_bound == mpmath.mpf(10) ** (-(dps + 6))


def _combine(symbolic_note: bool | str, outcome: _Outcome) -> Verdict:
    proven = symbolic_note is True
    counted = dict(points=outcome.agreed, skipped=outcome.skipped, digits=outcome.digits)
    notes = tuple(f"{reason} ({count} point{'s' if count > 1 else ''})"
                  for reason, count in outcome.skip_reasons.items())
    if outcome.ill_posed is not None:
        e, point, reason = outcome.ill_posed
        where = f" at {_where(point)}" if point else ""
        return Verdict("not_equal", f"not equal: the claim is ill-posed: {_show_e(e)} does not "
                       f"exist{where} ({reason})", "existence", notes=notes, **counted)
    if outcome.unknown is not None:
        return Verdict("undecided", f"undecided: {outcome.unknown}", "none", notes=notes,
                       **counted)
    if outcome.counterexample is not None:
        if proven:
            return Verdict("undecided", "undecided: symbolic simplification says equal but "
                           f"the numbers differ ({outcome.counterexample.describe()})",
                           "symbolic+numeric", counterexample=outcome.counterexample,
                           notes=notes, **counted)
        relative = outcome.counterexample.relative_difference()
        return Verdict("not_equal", f"not equal: {outcome.counterexample.describe()} "
                       f"(relative difference {mpmath.nstr(relative, 3)})", "numeric",
                       counterexample=outcome.counterexample, notes=notes, **counted)
    enough = outcome.agreed >= outcome.needed
    evidence = _evidence(outcome)
    checked = describe_checked(outcome.compared, outcome.fixed)
    domain = f"; checked {checked}" if checked else ""
    if symbolic_note == "identical" and enough:
        return Verdict("equal", f"equal: the two expressions are identical (every expectation "
                       f"in them exists at {outcome.agreed} points{domain})", "identical",
                       notes=notes, checked=checked, **counted)
    if proven:
        check = (f"confirmed: {evidence}{domain}" if enough else
                 f"not checked numerically: {_why_short(outcome)}")
        return Verdict("equal", f"equal by symbolic simplification ({check})",
                       "symbolic+numeric" if enough else "symbolic", notes=notes,
                       checked=checked, **counted)
    if enough:
        return Verdict("equal", f"equal: {evidence}{domain}", "numeric", notes=notes,
                       checked=checked, **counted)
    why = _why_short(outcome)
    if isinstance(symbolic_note, str) and outcome.blocked:
        why += f"; {symbolic_note}"
    return Verdict("undecided", f"undecided: {why}", "none", notes=notes, **counted)


def _where(point: dict) -> str:
    return ", ".join(f"{s}={_show_number(v)}" for s, v in
                     sorted(point.items(), key=lambda kv: kv[0].name))


def _show_e(e: Expectation) -> str:
    text = f"E[{sp.sstr(e.integrand)}]"
    return text if len(text) <= 60 else text[:57] + "...]"


def _evidence(outcome: _Outcome) -> str:
    if outcome.constant and outcome.agreed == 1 and outcome.digits is not None:
        return f"the two constants agree to {outcome.digits} digits"
    return (f"agree to {outcome.digits} digits at {outcome.agreed} random "
            f"point{'s' if outcome.agreed != 1 else ''} ({outcome.dps}-digit arithmetic)")


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
    """Six significant digits, or enough to tell a value near +-1 (c = 1 - 1e-9) from it."""
    if value.is_Integer:
        return str(value)
    digits = 6
    try:
        gap = abs(1 - abs(float(sp.N(value, 30))))
        if 0 < gap < 1e-4:
            digits += math.ceil(-math.log10(gap))
    except (TypeError, ValueError, OverflowError):
        pass
    return sp.sstr(sp.N(value, digits))
