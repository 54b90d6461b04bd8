"""The mean-field model of one activation, as the dynamics needs it.

:class:`MeanField` gathers the derived laws of one activation (length map, its slope, the
chi's, the kernels, the correlation map and its slope, the distance map, the mean activity
and slope) and compiles each law once, in the form every law is evaluated by
(``laws.base.evaluated_form``), into an mpmath function (any working precision, not certified
by itself: the dynamics certifies its results by recomputing them at a second precision) and a
vectorised float64 function. No Gaussian integral is written here: every number comes from a
registered law.

:class:`Scales` holds sigma_w^2 and sigma_b^2 exactly (rationals or SymPy numbers), so that a
setting such as sigma_w^2 = 2 is represented exactly and exact statements (chi1 = 1 for ReLU
at sigma_w^2 = 2) can be decided exactly.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, PrecisionError, UnknownNameError, quoted
from ..expectation import Expectation
from ..gaussian.numerics.evaluate import compiled
from ..laws import derive
from ..laws.base import evaluated_form
from ..numbers import MAX_SCALE, MIN_SCALE, to_mpf, to_sympy
from ..symbols import q, sigma_b, sigma_w

#: Held while laws are derived or compiled: the Gaussian calculus is not re-entrant across
#: threads (sweeps on Dask run tasks in threads).
_PREPARING = threading.RLock()

#: Laws the dynamics evaluates (all are registered laws of symfield.laws).
LAW_NAMES = ("chi0", "chi1", "chi2", "length_map", "length_map_slope", "kernel",
             "derivative_kernel", "correlation_map", "distance_map", "activity_map",
             "mean_activity", "mean_slope", "correlation_map_slope")


# ------------------------------------------------------------------------------------------
# sigma_w, sigma_b
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scales:
    """sigma_w^2 and sigma_b^2, exact."""

    sigma_w2: sp.Expr
    sigma_b2: sp.Expr

    @property
    def sigma_w(self) -> sp.Expr:
        return sp.sqrt(self.sigma_w2)

    @property
    def sigma_b(self) -> sp.Expr:
        return sp.sqrt(self.sigma_b2)

    @property
    def zero_bias(self) -> bool:
        return self.sigma_b2 == 0

    def mp(self, work: int) -> dict[str, mpmath.mpf]:
        """sigma_w, sigma_b, sigma_w2, sigma_b2 as mpmath numbers at ``work`` digits."""
        with mpmath.workdps(work):
            return {name: to_mpf(getattr(self, name), name)
                    for name in ("sigma_w", "sigma_b", "sigma_w2", "sigma_b2")}

    def floats(self) -> dict[str, float]:
        return {name: float(getattr(self, name))
                for name in ("sigma_w", "sigma_b", "sigma_w2", "sigma_b2")}

    def substitutions(self) -> dict[sp.Symbol, sp.Expr]:
        return {sigma_w: self.sigma_w, sigma_b: self.sigma_b}

    def __str__(self) -> str:
        return f"sigma_w^2 = {self.sigma_w2}, sigma_b^2 = {self.sigma_b2}"


def parse_scales(sigma_w: object = None, sigma_b: object = None, *, sigma_w2: object = None,
                 sigma_b2: object = None) -> Scales:
    """Exact scales from sigma_w or sigma_w^2 (required) and sigma_b or sigma_b^2 (default 0).

    Numbers may be ints, floats, decimal or "p/q" strings, Fractions, mpmath or SymPy numbers
    (e.g. ``sympy.sqrt(2)``). Raises InvalidValueError for missing, doubled, non-finite or
    out-of-range values.
    """
    if (sigma_w is None) == (sigma_w2 is None):
        raise InvalidValueError("give exactly one of sigma_w and sigma_w2")
    if sigma_b is not None and sigma_b2 is not None:
        raise InvalidValueError("give at most one of sigma_b and sigma_b2")
    if sigma_w is not None:
        w2 = _scale_squared(sigma_w, "sigma_w", squared=False, zero=False)
    else:
        w2 = _scale_squared(sigma_w2, "sigma_w2", squared=True, zero=False)
    if sigma_b2 is not None:
        b2 = _scale_squared(sigma_b2, "sigma_b2", squared=True, zero=True)
    else:
        b2 = _scale_squared(0 if sigma_b is None else sigma_b, "sigma_b", squared=False,
                            zero=True)
    return Scales(w2, b2)


def _scale_squared(raw: object, name: str, squared: bool, zero: bool) -> sp.Expr:
    """sigma^2 from sigma or sigma^2 as given, with sigma in [MIN_SCALE, MAX_SCALE] (or 0 if
    ``zero``): outside, float64 starting values over- or underflow and no law is cheap to
    certify, and a huge exact number would fill every message."""
    value = to_sympy(raw, name)
    low, high = sp.Rational(repr(MIN_SCALE)), sp.Rational(repr(MAX_SCALE))
    if squared:
        low, high = low**2, high**2
    valid = f"{'0 or ' if zero else ''}from {float(low):g} to {float(high):g}"
    if value < 0 or (value == 0 and not zero) or (value != 0 and not low <= value <= high):
        shown = quoted(raw) if isinstance(raw, (str, float)) else mpmath.nstr(
            to_mpf(value, name), 6)
        sign = ">= 0" if zero else "> 0"
        needs = f"{sign} ({valid})" if value <= 0 else valid
        raise InvalidValueError(f"{name} must be {needs}, got {shown}")
    return value if squared else sp.expand(value**2)


# ------------------------------------------------------------------------------------------
# compiled law expressions
# ------------------------------------------------------------------------------------------
class Evaluator:
    """An expression of the given symbols as an mpmath function (any working precision) and
    a vectorised float64 function. Values are passed by symbol name.

    ``fallback`` is an equivalent expression (the law's definition in Gaussian expectations)
    used where the derived form has no evaluator at that precision: a derived series may have
    no float64 evaluator, or may not compile at all. The switch is made once per path.
    """

    def __init__(self, expr: sp.Expr, symbols: tuple[sp.Symbol, ...], label: str,
                 fallback: sp.Expr | None = None):
        self.expr = expr
        self.symbols = tuple(symbols)
        self.names = tuple(s.name for s in symbols)
        self.label = label
        self.fallback = fallback if fallback is not None and fallback != expr else None
        self._fallback_fn = None
        try:
            self._fn = compiled(expr, self.symbols)
        except Exception:  # noqa: BLE001 - any failure to compile: use the other form
            if self.fallback is None:
                raise
            self._fn = None
        self._use_fallback = {"mp": self._fn is None, "np": self._fn is None}

    @property
    def closed_form(self) -> bool:
        return has_closed_form(self.expr)

    def _fallback(self):
        if self._fallback_fn is None:
            self._fallback_fn = compiled(self.fallback, self.symbols)
        return self._fallback_fn

    def _call(self, path: str, call):
        if not self._use_fallback[path]:
            try:
                return call(self._fn)
            except Exception as e:  # noqa: BLE001 - decided below
                if self.fallback is None or not _no_evaluator(e):
                    raise
                self._use_fallback[path] = True
        return call(self._fallback())

    def mp(self, work: int, **values: mpmath.mpf) -> mpmath.mpf:
        """Value at working precision ``work`` (about ``work`` correct digits; the callers
        verify digits by recomputing at a second precision)."""
        args = [values[n] for n in self.names]
        with mpmath.workdps(work):
            out = self._call("mp", lambda fn: fn.mp(args, work))
            if isinstance(out, mpmath.mpc):
                if abs(out.imag) > abs(out.real) * mpmath.mpf(10) ** (4 - work):
                    raise InvalidValueError(f"{self.label} is not real at {values}")
                out = out.real
            return +mpmath.mpf(out)

    def np(self, **arrays: object) -> np.ndarray:
        """float64 values, vectorised over broadcastable arrays."""
        args = [np.asarray(arrays[n], dtype=float) for n in self.names]
        with np.errstate(all="ignore"):
            return self._call("np", lambda fn: fn.np(*args))


def has_closed_form(expr: sp.Expr) -> bool:
    """No unevaluated expectation and no infinite series."""
    return not (expr.has(Expectation) or expr.has(sp.Sum))


def law_evaluator(derived: sp.Expr, definition: sp.Expr, symbols, label: str) -> "Evaluator":
    """The evaluator of a law: the form ``laws.base.evaluated_form`` chooses (the choice
    every law makes), the other standing in where the chosen one has no evaluator."""
    chosen, other = evaluated_form(derived, definition)
    return Evaluator(chosen, symbols, label, other)


def _no_evaluator(error: Exception) -> bool:
    """Errors meaning "this form cannot be evaluated here" (not "the input is invalid")."""
    if isinstance(error, (InvalidValueError, UnknownNameError)):
        return False
    return isinstance(error, (NotImplementedError, PrecisionError, ValueError, TypeError,
                              ArithmeticError))


def _continuous_at_zero(integrand: sp.Expr) -> bool:
    return not integrand.has(sp.Heaviside, sp.DiracDelta, sp.Piecewise, sp.sign, sp.Abs,
                             sp.Max, sp.Min)


def zero_variance_limit(expr: sp.Expr, variable: sp.Symbol = q) -> sp.Expr:
    """The limit variable -> 0+ of a law expression.

    A Gaussian of vanishing variance is a point mass at its mean, so an expectation
    E[f(x); x ~ N(0, s)] with s -> 0 tends to f(0) when f is continuous at 0; the rest of the
    expression goes through SymPy's ``limit``. (Used at q* = 0: the ordered phase of an odd
    activation without bias, where the laws' own domain q > 0 excludes the point itself.)
    """
    swaps = {}
    for e in expr.atoms(Expectation):
        if e.dimension != 1 or not e.centred:
            continue
        (var,) = e.covariance
        if var.has(variable) and sp.simplify(var.subs(variable, 0)) == 0:
            if not _continuous_at_zero(e.integrand):
                raise ValueError(f"no zero-variance limit of {e}: integrand not continuous at 0")
            swaps[e] = e.integrand.subs(e.variables[0], 0)
    out = expr.xreplace(swaps)
    if out.has(variable):
        out = sp.limit(out, variable, 0, "+")
    return sp.simplify(out)


class MeanField:
    """The laws of one activation, compiled for the dynamics (use :func:`mean_field`)."""

    def __init__(self, activation: Activation):
        self.activation = activation
        self.name = activation.name
        #: activation parameters (e.g. leaky ReLU's alpha) at their default values
        self.parameter_values = {sym: default for sym, default in activation.parameters.values()}
        self._evaluators: dict[str, Evaluator] = {}

    # -- laws --------------------------------------------------------------------------------
    def law(self, name: str):
        # the Gaussian calculus keeps state while it derives: one derivation at a time
        # (Dask runs tasks in threads)
        with _PREPARING:
            return derive(name, self.activation)

    def expr(self, name: str) -> sp.Expr:
        """The derived law's expression with the activation's parameters at their values."""
        return self.law(name).expr.subs(self.parameter_values)

    def definition(self, name: str) -> sp.Expr:
        """The law's definition (its Gaussian expectations) with the parameters' values."""
        return self.law(name).definition.subs(self.parameter_values)

    def variables(self, name: str) -> tuple[sp.Symbol, ...]:
        return tuple(v for v in self.law(name).variables if v not in self.parameter_values)

    def evaluator(self, name: str) -> Evaluator:
        """The compiled law ``name``, or a derived expression registered by this class."""
        found = self._evaluators.get(name)
        if found is None:
            with _PREPARING:
                return self._new_evaluator(name)
        return found

    def _new_evaluator(self, name: str) -> Evaluator:
        found = self._evaluators.get(name)
        if found is None:
            found = law_evaluator(self.expr(name), self.definition(name), self.variables(name),
                                  f"{name}[{self.name}]")
            self._evaluators[name] = found
        return found

    def register_derivative(self, name: str, law: str, variable: sp.Symbol, order: int) -> None:
        """Register d^order/d variable^order of a law as the evaluator ``name``.

        A closed form is differentiated as it stands. Otherwise the derivative is taken on the
        law's definition, under the Gaussian integral (heat equation in a variance, Price's
        theorem in a covariance: ``Expectation`` differentiates itself so) and evaluated by
        quadrature: a derived series form need not stay in a shape its numerics accept once
        differentiated.
        """
        with _PREPARING:
            self._register_derivative(name, law, variable, order)

    def _register_derivative(self, name: str, law: str, variable: sp.Symbol, order: int) -> None:
        expr = self.expr(law)
        if not has_closed_form(expr):
            expr = self.definition(law)
        self._evaluators[name] = Evaluator(sp.diff(expr, variable, order), self.variables(law),
                                           f"d^{order} {law}/d{variable}^{order} [{self.name}]")

    def mp(self, name: str, work: int, **values) -> mpmath.mpf:
        return self.evaluator(name).mp(work, **values)

    def evaluate_task(self, task: tuple) -> mpmath.mpf:
        """A law value described as data, (name, working precision, ((variable, value),
        ...)): the unit of work the dynamics hands to worker processes."""
        name, work, values = task
        return self.mp(name, work, **dict(values))

    def np(self, name: str, **arrays) -> np.ndarray:
        return self.evaluator(name).np(**arrays)

    # -- facts about the activation and its laws ----------------------------------------------
    @cached_property
    def odd(self) -> bool:
        return self.activation.parity == "odd"

    @cached_property
    def chi2_divergent(self) -> bool:
        """chi2 = +oo (phi'' has a delta: the piecewise-linear family), at these parameters."""
        return self.law("chi2").divergent and bool(sp.simplify(self.expr("chi2")).is_infinite)

    @cached_property
    def linear_length_map(self) -> tuple[sp.Expr, sp.Expr] | None:
        """(slope, intercept) when the length map is affine in q (the piecewise-linear
        family and linear), else None: then q* has a closed form."""
        v = self.expr("length_map")
        if v.has(Expectation) or v.has(sp.oo):
            return None
        poly = sp.Poly(sp.expand(v), q) if v.is_polynomial(q) else None
        if poly is None or poly.degree() > 1:
            return None
        return sp.expand(poly.coeff_monomial(q)), sp.expand(poly.coeff_monomial(1))

    @lru_cache(maxsize=None)
    def at_zero_q(self, name: str) -> sp.Expr:
        """The law ``name`` in the limit q -> 0+ (an expression in sigma_w, sigma_b).

        Taken on the law's *definition* (its expectations of the activation), where the
        limit of a vanishing variance is a point mass; the derived form may be a series that
        is singular term by term at q = 0 (tanh's pole expansion). Activations with a kink at
        0 fall back to the limit of the derived closed form.
        """
        law = self.law(name)
        try:
            return zero_variance_limit(law.definition.subs(self.parameter_values), q)
        except ValueError:
            return zero_variance_limit(self.expr(name), q)

    def __repr__(self) -> str:
        return f"MeanField({self.name})"


@lru_cache(maxsize=None)
def _mean_field(activation: Activation) -> MeanField:
    return MeanField(activation)


def mean_field(activation: str | Activation) -> MeanField:
    """The (cached) :class:`MeanField` of an activation name or object."""
    return _mean_field(get_activation(activation))


__all__ = ["Evaluator", "MeanField", "Scales", "has_closed_form", "mean_field", "parse_scales",
           "zero_variance_limit"]
