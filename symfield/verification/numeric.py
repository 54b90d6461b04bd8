"""Numerical values of formulas at exact points: the one place to switch evaluators.

Formulas holding Gaussian expectations go to the certified evaluator of
``symfield.gaussian.numerics.evaluate.evaluate_expr`` when it is available; everything else
(and the fallback) is SymPy's adaptive ``evalf``, which keeps *relative* accuracy through
cancellation. :func:`value_at` also says how much is known about a value — exact, accurate
to the requested digits, or only known to vanish to within a bound — because a comparison
with 0 must never rest on an absolute tolerance (10^-60 sigma_w is not 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import mpmath
import sympy as sp

from ..expectation import Expectation

#: Extra digits asked of evalf beyond the requested precision.
GUARD_DIGITS = 10
#: How far evalf may raise its precision to tell a cancelling sum from zero, in multiples of
#: the requested digits, and in absolute digits at most.
ZERO_SEARCH_FACTOR = 6
MAX_ZERO_DIGITS = 3000


#: Largest |log10| of any value met while evaluating a formula at a point, and largest
#: argument of a periodic function: beyond them one evaluation can take hours (q^q at
#: q = 4e9 is an exact integer with 4e10 digits; exp(exp(q)) at q = 1e12 needs 10^11-digit
#: arithmetic), so such a point is skipped before anything is computed.
MAX_LOG10_MAGNITUDE = 10**6
MAX_PERIODIC_ARGUMENT = mpmath.mpf(10) ** 1000


class EvaluationFailed(Exception):
    """A formula has no numerical value at a point (message says why)."""


@dataclass(frozen=True)
class Value:
    """A formula's value at a point and what is known about it.

    ``number`` is the value (complex); ``exact`` the exact rational when the formula reduces
    to one at the point; ``zero_bound`` is set when the value could not be told from zero:
    then only |value| <= zero_bound is known (``number`` is 0).
    """

    number: mpmath.mpc
    exact: sp.Rational | None = None
    zero_bound: mpmath.mpf | None = None

    @property
    def vanishes(self) -> bool:
        """Known to be 0, or indistinguishable from 0 at the precision reached."""
        return self.zero_bound is not None or (self.exact is not None and self.exact == 0)


def numeric_value(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], dps: int) -> mpmath.mpc:
    """The value of ``expr`` at ``values`` to about ``dps`` digits, as an mpmath complex.

    Raises EvaluationFailed when the formula cannot be evaluated there (an expectation the
    numerics cannot do, an unbound function, a leftover symbol).
    """
    return value_at(expr, values, dps).number


def value_at(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], dps: int) -> Value:
    """The value of ``expr`` at ``values`` with what is known about it (see :class:`Value`)."""
    needed = {s: values[s] for s in expr.free_symbols if s in values}
    missing = expr.free_symbols - set(needed)
    if missing:
        raise EvaluationFailed(f"no value for {', '.join(sorted(map(str, missing)))}")
    smallest = check_magnitudes(expr, needed)
    if expr.has(Expectation, sp.Sum):  # also the engine's pole series
        certified = _certified_evaluator()
        if certified is not None:
            try:
                value = certified(expr, needed, dps)
                with mpmath.workdps(dps + GUARD_DIGITS):  # mpc() rounds to the context
                    number = mpmath.mpc(value)
            except TimeoutError:
                raise  # the caller's time limit: never swallowed as a skipped point
            except Exception as exc:  # noqa: BLE001 - numerics raise assorted errors
                raise EvaluationFailed(f"the expectation could not be evaluated: "
                                       f"{_one_line(exc)}") from None
            # certified digits are relative, with an absolute floor of 10^-(dps + 6) for
            # values that are (close to) zero: below it, only smallness is known
            floor = mpmath.mpf(10) ** (-(dps + 6))
            if abs(number) <= floor:
                _check_parts_resolved(expr, needed, dps, certified, floor)
                return Value(mpmath.mpc(0), None, floor)
            return Value(number)
    return _evalf(expr, needed, dps, smallest)


class _Extreme(Exception):
    pass


_EXP_LIKE = {sp.exp: mpmath.exp, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh,
             sp.tanh: mpmath.tanh, sp.sech: mpmath.sech, sp.csch: mpmath.csch,
             sp.erf: mpmath.erf, sp.erfc: mpmath.erfc}
_PERIODIC = {sp.sin: mpmath.sin, sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.sec: mpmath.sec,
             sp.csc: mpmath.csc, sp.cot: mpmath.cot}
_TAME = {sp.log: mpmath.log, sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.atan: mpmath.atan,
         sp.asinh: mpmath.asinh, sp.acosh: mpmath.acosh, sp.atanh: mpmath.atanh,
         sp.Abs: abs}


def check_magnitudes(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr]) -> mpmath.mpf | None:
    """Raise EvaluationFailed if evaluating ``expr`` at ``values`` would meet a number beyond
    10^(+-MAX_LOG10_MAGNITUDE) or a periodic function of an argument beyond
    MAX_PERIODIC_ARGUMENT. Each node is estimated at 20 digits from its children before it
    is computed, so the check itself never meets such a number.

    Returns the smallest nonzero size among the parts of ``expr`` (the whole excluded), or
    None when some part could not be estimated.
    """
    estimator = _Estimator(values)
    try:
        with mpmath.workdps(20):
            estimator.value(expr)
    except _Extreme as why:
        raise EvaluationFailed(f"a value at this point is too extreme to compute ({why})") \
            from None
    sizes = [size for node, size in estimator.sizes.items() if node is not expr]
    if not estimator.complete:
        return None
    return min(sizes, default=mpmath.mpf(1))


class _Estimator:
    """Values of the nodes of a formula at 20 digits, bottom-up, each node once."""

    def __init__(self, values: Mapping[sp.Symbol, sp.Expr]) -> None:
        self.values = values
        self.memo: dict[sp.Basic, mpmath.mpc | None] = {}
        self.sizes: dict[sp.Basic, mpmath.mpf] = {}  # nonzero sizes of the nodes estimated
        self.complete = True

    def value(self, node: sp.Basic) -> mpmath.mpc | None:
        if node in self.memo:
            return self.memo[node]
        value = self._compute(node)
        if value is None:
            self.complete = False
        elif value != 0:
            self.sizes[node] = abs(value)
        self.memo[node] = value
        return value

    def _compute(self, node: sp.Basic) -> mpmath.mpc | None:
        if isinstance(node, Expectation):
            for part in (node.integrand, *node.covariance):
                self.value(part)  # its parameters (the bound variables have no value)
            return None
        if node.is_Symbol:
            value = self.values.get(node)
            return None if value is None else self.value(value)
        if node.is_Rational:
            return _bounded(mpmath.mpc(mpmath.mpf(int(node.p)) / int(node.q)), node)
        if node.is_Number or isinstance(node, sp.NumberSymbol):
            try:
                return _bounded(mpmath.mpc(sp.N(node, 20)), node)
            except (TypeError, ValueError):
                return None
        args = [self.value(arg) if isinstance(arg, sp.Basic) else None for arg in node.args]
        if any(arg is None for arg in args):
            return None
        try:
            return _apply(node, args)
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            return None


def _apply(node: sp.Basic, args: list) -> mpmath.mpc | None:
    if node.is_Add:
        return _bounded(mpmath.fsum(args), node)
    if node.is_Mul:
        return _bounded(mpmath.fprod(args), node)
    if node.is_Pow:
        base, exponent = args
        if base == 0:
            return mpmath.mpc(0)
        _check_exponent(exponent * mpmath.log(base), node)
        return _bounded(mpmath.power(base, exponent), node)
    func = type(node)
    if func in _EXP_LIKE:
        if func is not sp.erf and func is not sp.erfc:
            _check_exponent(args[0], node)
        return _bounded(_EXP_LIKE[func](args[0]), node)
    if func in _PERIODIC:
        if abs(args[0]) > MAX_PERIODIC_ARGUMENT:
            raise _Extreme(f"{_short(node)} of an argument beyond 1e1000")
        return _bounded(_PERIODIC[func](args[0]), node)
    if func in _TAME:
        return _bounded(mpmath.mpc(_TAME[func](args[0])), node)
    reals = [mpmath.re(a) for a in args]
    if func is sp.Max:
        return mpmath.mpc(max(reals))
    if func is sp.Min:
        return mpmath.mpc(min(reals))
    if func is sp.sign:
        return mpmath.mpc(mpmath.sign(reals[0]))
    if func is sp.Heaviside:
        return mpmath.mpc(1 if reals[0] > 0 else 0 if reals[0] < 0 else mpmath.mpf(1) / 2)
    if func is sp.atan2:
        return mpmath.mpc(mpmath.atan2(reals[0], reals[1]))
    return None


def _check_exponent(exponent: mpmath.mpc, node: sp.Basic) -> None:
    """exp(exponent) must stay within 10^(+-MAX_LOG10_MAGNITUDE)."""
    if abs(mpmath.re(exponent)) > MAX_LOG10_MAGNITUDE * mpmath.log(10):
        power = mpmath.nstr(mpmath.re(exponent) / mpmath.log(10), 3)
        raise _Extreme(f"{_short(node)} is about 10^({power})")


def _bounded(value: mpmath.mpc, node: sp.Basic) -> mpmath.mpc:
    value = mpmath.mpc(value)
    size = abs(value)
    if size != 0 and mpmath.isfinite(size) and \
            abs(mpmath.log10(size)) > MAX_LOG10_MAGNITUDE:
        raise _Extreme(f"{_short(node)} is about 10^({mpmath.nstr(mpmath.log10(size), 3)})")
    return value


def _short(node: sp.Basic) -> str:
    text = sp.sstr(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_parts_resolved(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], dps: int,
                          certified, floor: mpmath.mpf) -> None:
    """A formula with expectations that comes out below the quadrature's floor vanishes only
    if its expectations are themselves well above it (a cancellation, like
    E[tanh(u)^2] - 1 + E[sech(u)^2]); an expectation that is itself that small
    (E[tanh(u) Heaviside(u - 50)] ~ 1e-545) cannot be told from 0."""
    for e in sorted(expr.atoms(Expectation), key=sp.default_sort_key):
        if e == expr:
            part = mpmath.mpf(0)
        else:
            try:
                part = abs(mpmath.mpc(certified(e, {s: values[s] for s in e.free_symbols},
                                                dps)))
            except TimeoutError:
                raise
            except Exception as exc:  # noqa: BLE001 - numerics raise assorted errors
                raise EvaluationFailed(f"the expectation could not be evaluated: "
                                       f"{_one_line(exc)}") from None
        if part <= floor * mpmath.mpf(10) ** (dps // 2):
            raise EvaluationFailed(f"cannot tell whether the value is 0: {_short(e)} is "
                                   f"below 10^-{dps // 2 + 6} here, beyond what quadrature "
                                   f"resolves")


def _certified_evaluator():
    try:
        from ..gaussian.numerics.evaluate import evaluate_expr
    except Exception:  # noqa: BLE001 - module absent or broken: fall back to evalf
        return None
    return evaluate_expr


def _evalf(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], dps: int,
           smallest: mpmath.mpf | None = None) -> Value:
    try:
        exact = expr.subs(values)
    except TimeoutError:
        raise
    except Exception as exc:  # noqa: BLE001 - SymPy raises assorted errors here
        raise EvaluationFailed(f"evaluation failed: {_one_line(exc)}") from None
    if exact.is_Rational:
        with mpmath.workdps(dps + GUARD_DIGITS):
            return Value(mpmath.mpc(mpmath.mpf(int(exact.p)) / int(exact.q)), exact)
    if exact.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise EvaluationFailed("the value is undefined or infinite")
    value = _evalf_once(exact, dps, ZERO_SEARCH_FACTOR * (dps + GUARD_DIGITS))
    if value.zero_bound is None:
        return value
    # It cancels to (near) zero. That is only believed far below every quantity the formula
    # is made of: exp(10^-300 q) - 1 cancels to ~10^-190 at the first try but is 10^-301.
    if smallest is None:
        smallest = _smallest_magnitude(exact, dps)
    wanted = smallest * mpmath.mpf(10) ** (-(dps + GUARD_DIGITS))
    if value.zero_bound <= wanted:
        return value
    digits = int(-mpmath.log10(wanted)) + dps + 2 * GUARD_DIGITS
    if digits > MAX_ZERO_DIGITS:
        raise EvaluationFailed(f"cannot tell whether the value is 0 (it cancels below "
                               f"10^-{MAX_ZERO_DIGITS})")
    value = _evalf_once(exact, dps, digits)
    if value.zero_bound is not None and value.zero_bound > wanted:
        raise EvaluationFailed("cannot tell whether the value is 0 (it cancels beyond the "
                               "precision reached)")
    return value


def _evalf_once(exact: sp.Expr, dps: int, search_digits: int) -> Value:
    try:
        result = exact.evalf(dps + GUARD_DIGITS, maxn=max(search_digits, dps + GUARD_DIGITS))
    except TimeoutError:
        raise
    except Exception as exc:  # noqa: BLE001 - SymPy raises assorted errors here
        raise EvaluationFailed(f"evaluation failed: {_one_line(exc)}") from None
    if result.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise EvaluationFailed("the value is undefined or infinite")
    if result.free_symbols or not result.is_number:
        raise EvaluationFailed(f"the value could not be computed (left: {sp.sstr(result)[:80]})")
    real, imag = result.as_real_imag()
    parts = []
    bounds = []
    for part in (real, imag):
        if part.is_zero:
            parts.append(mpmath.mpf(0))
            continue
        if not isinstance(part, (sp.Float, sp.Integer, sp.Rational)):
            raise EvaluationFailed(f"the value could not be computed ({sp.sstr(result)[:80]})")
        bound = _cancellation_bound(part, dps)
        if bound is not None:
            bounds.append(bound)
            parts.append(mpmath.mpf(0))
            continue
        with mpmath.workdps(dps + GUARD_DIGITS):
            parts.append(mpmath.mpf(sp.Float(part, dps + GUARD_DIGITS)))
    with mpmath.workdps(dps + GUARD_DIGITS):
        number = mpmath.mpc(parts[0], parts[1])
    if bounds and parts[0] == 0 and parts[1] == 0:
        return Value(number, None, max(bounds))
    return Value(number)


def _cancellation_bound(part: sp.Expr, dps: int) -> mpmath.mpf | None:
    """For a Float that evalf could not resolve (a sum cancelling to nothing), the bound on
    its size; None for an accurate value."""
    if not isinstance(part, sp.Float):
        return None
    wanted_bits = int(dps * math.log2(10))
    if part._prec >= wanted_bits:  # noqa: SLF001 - evalf reports the accuracy reached here
        return None
    sign, mantissa, exponent, bits = part._mpf_  # noqa: SLF001
    return mpmath.mpf(2) ** (exponent + max(bits, 1))


def _smallest_magnitude(expr: sp.Expr, dps: int) -> mpmath.mpf:
    """The smallest nonzero size among the parts of a numeric formula (at 15 digits)."""
    smallest = mpmath.mpf(1)
    for node in sp.preorder_traversal(expr):
        if node is expr or (node.is_Atom and not node.is_Number):
            continue
        try:
            real, imag = node.evalf(15).as_real_imag()
            sizes = [abs(mpmath.mpf(sp.Float(p, 15))) for p in (real, imag)
                     if not (isinstance(p, sp.Float) and p._prec < 10)]  # noqa: SLF001
        except Exception:  # noqa: BLE001 - only a scale estimate
            continue
        for size in sizes:
            if size != 0 and mpmath.isfinite(size) and size < smallest:
                smallest = size
    return smallest


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
