"""Numerical values of formulas at exact points: the one place to switch evaluators.

Formulas holding Gaussian expectations go to the certified evaluator of
``symfield.gaussian.numerics.evaluate.evaluate_expr`` when it is available; everything else
(and the fallback) is SymPy's adaptive ``evalf`` with guard digits.
"""
from __future__ import annotations

from typing import Mapping

import mpmath
import sympy as sp

from ..gaussian.expectation import Expectation

#: Extra digits asked of evalf beyond the requested precision.
GUARD_DIGITS = 10


class EvaluationFailed(Exception):
    """A formula has no numerical value at a point (message says why)."""


def numeric_value(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], dps: int) -> mpmath.mpc:
    """The value of ``expr`` at ``values`` to about ``dps`` digits, as an mpmath complex.

    Raises EvaluationFailed when the formula cannot be evaluated there (an expectation the
    numerics cannot do, an unbound function, a leftover symbol).
    """
    needed = {s: values[s] for s in expr.free_symbols if s in values}
    missing = expr.free_symbols - set(needed)
    if missing:
        raise EvaluationFailed(f"no value for {', '.join(sorted(map(str, missing)))}")
    if expr.has(Expectation, sp.Sum):  # also the engine's pole series
        certified = _certified_evaluator()
        if certified is not None:
            try:
                value = certified(expr, needed, dps)
                with mpmath.workdps(dps + GUARD_DIGITS):  # mpc() rounds to the context
                    return mpmath.mpc(value)
            except TimeoutError:
                raise  # the caller's time limit: never swallowed as a skipped point
            except Exception as exc:  # noqa: BLE001 - numerics raise assorted errors
                raise EvaluationFailed(f"the expectation could not be evaluated: "
                                       f"{_one_line(exc)}") from None
    return _evalf(expr, needed, dps)


def _certified_evaluator():
    try:
        from ..gaussian.numerics.evaluate import evaluate_expr
    except Exception:  # noqa: BLE001 - module absent or broken: fall back to evalf
        return None
    return evaluate_expr


def _evalf(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr], dps: int) -> mpmath.mpc:
    try:
        result = expr.subs(values).evalf(dps + GUARD_DIGITS)
    except TimeoutError:
        raise
    except Exception as exc:  # noqa: BLE001 - SymPy raises assorted errors here
        raise EvaluationFailed(f"evaluation failed: {_one_line(exc)}") from None
    if result.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise EvaluationFailed("the value is undefined or infinite")
    if result.free_symbols or not result.is_number:
        raise EvaluationFailed(f"the value could not be computed (left: {sp.sstr(result)[:80]})")
    real, imag = result.as_real_imag()
    if not (isinstance(real, (sp.Float, sp.Integer, sp.Rational)) or real.is_zero) or \
            not (isinstance(imag, (sp.Float, sp.Integer, sp.Rational)) or imag.is_zero):
        raise EvaluationFailed(f"the value could not be computed ({sp.sstr(result)[:80]})")
    with mpmath.workdps(dps + GUARD_DIGITS):
        return mpmath.mpc(mpmath.mpf(sp.Float(real, dps + GUARD_DIGITS)),
                          mpmath.mpf(sp.Float(imag, dps + GUARD_DIGITS)))


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
