"""Evaluation contexts: one law, three number systems.

In the spirit of mpmath's contexts, a context says how numbers are represented and how a
derived law is evaluated on them:

* :class:`SymbolicContext` — exact SymPy expressions (a law is its expression, substituted);
* :class:`MultiPrecisionContext` — mpmath numbers at one working precision (a law is its
  compiled expression at that precision; *not* certified by itself: callers wrap a whole
  computation in :meth:`symfield.numbers.PrecisionPolicy.certify`, so that a composition such
  as a depth recursion is certified as a whole);
* :class:`Float64Context` — numpy float64 arrays (a law is its vectorised ``to_numpy``);
* :class:`BallContext` — Arb balls (python-flint) at the caller's working precision: every
  number a proven enclosure, so a composition (a depth recursion) is proven as a whole
  (:func:`symfield.gaussian.numerics.enclosure.enclose_computation` picks the precision).

Anything written against a context — a layer recursion, a fixed-point map — is written once
and runs exactly, at any precision, or vectorised.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Callable

import mpmath
import numpy as np
import sympy as sp

from ..numbers import to_exact, to_mpf, to_sympy

if TYPE_CHECKING:  # pragma: no cover
    from .base import Law

#: A law as a function of keyword values (by variable name) in some context.
LawFunction = Callable[..., Any]


class EvaluationContext(ABC):
    """How numbers are represented and laws evaluated."""

    name: str = ""

    @abstractmethod
    def number(self, raw: object, name: str = "value") -> Any:
        """A user's number in this context's representation."""

    @abstractmethod
    def law(self, law: "Law") -> LawFunction:
        """``law`` as a function of keyword values in this context."""

    def array(self, values) -> np.ndarray:
        """Values as an array that supports elementwise arithmetic in this context."""
        return np.array(values, dtype=object)

    def sqrt(self, value):
        return np.vectorize(self._sqrt, otypes=[object])(value) \
            if isinstance(value, np.ndarray) else self._sqrt(value)

    def total(self, values):
        """The sum of an iterable of numbers (exactly rounded where the context can)."""
        return sum(values)

    def _sqrt(self, value):  # pragma: no cover - overridden
        raise NotImplementedError

    def clip_covariance(self, var1, var2, cov):
        """cov clipped to |cov| <= sqrt(var1 var2): rounding can step over the edge of the
        covariance domain (identical inputs), exactly where the kernels are defined."""
        return cov


class SymbolicContext(EvaluationContext):
    """Exact SymPy expressions."""

    name = "sympy"

    def number(self, raw: object, name: str = "value") -> sp.Expr:
        return raw if isinstance(raw, sp.Basic) and not raw.is_number else to_sympy(raw, name)

    def law(self, law: "Law") -> LawFunction:
        """The law's expression with the given values substituted (a parameter not given,
        such as leaky ReLU's alpha, stays a symbol)."""
        expr, names = law.expr, {s.name: s for s in law.variables}

        def substitute(**values):
            point = {names[n]: v for n, v in values.items() if n in names}
            return expr.subs(point, simultaneous=True)

        return _elementwise(substitute)

    def _sqrt(self, value):
        return sp.sqrt(value)


class MultiPrecisionContext(EvaluationContext):
    """mpmath numbers at ``work`` significant digits (uncertified: see the module doc)."""

    name = "mpmath"

    def __init__(self, work: int) -> None:
        self.work = int(work)

    def number(self, raw: object, name: str = "value") -> mpmath.mpf:
        with mpmath.workdps(self.work):
            return to_mpf(raw, name)

    def law(self, law: "Law") -> LawFunction:
        fn, order = law.compiled(), [s.name for s in law.variables]
        defaults = law.parameter_defaults()
        work = self.work

        def at(**values):
            merged = {**defaults, **values}
            with mpmath.workdps(work):
                args = [to_mpf(merged[n], n) for n in order]
                # Inputs on the edge of the covariance domain (rho = sqrt(q1 q2) up to
                # rounding) give asin(1 + eps) = pi/2 - i sqrt(2 eps): the real part is right
                # and the imaginary part, O(10^(-work/2)), is rounding.
                return law.real_value(fn.mp(args, work), work, imaginary_digits=work // 2 - 3)

        return _elementwise(at)

    def _sqrt(self, value):
        with mpmath.workdps(self.work):
            return mpmath.sqrt(value)

    def total(self, values):
        with mpmath.workdps(self.work):
            return mpmath.fsum(values)

    def clip_covariance(self, var1, var2, cov):
        def clip(a, b, r):
            # Only a covariance whose square exceeds var1 var2 *as computed* is moved, and only
            # as far as needed: a law's sqrt(q1 q2 - rho^2) must see 0, not a rounding residue
            # (identical inputs give r*r == a*b exactly and are left alone).
            with mpmath.workdps(self.work):
                if r * r <= a * b:
                    return r
                bound = mpmath.sqrt(a * b)
                while bound * bound > a * b:
                    bound *= 1 - mpmath.eps
                return bound if r > 0 else -bound

        if isinstance(cov, np.ndarray):
            return np.vectorize(clip, otypes=[object])(var1, var2, cov)
        return clip(var1, var2, cov)


class Float64Context(EvaluationContext):
    """Vectorised numpy float64."""

    name = "float64"

    def number(self, raw: object, name: str = "value") -> float:
        return float(to_mpf(raw, name))

    def law(self, law: "Law") -> LawFunction:
        return law.to_numpy()

    def array(self, values) -> np.ndarray:
        return np.array(values, dtype=float)

    def sqrt(self, value):
        return np.sqrt(value)

    def clip_covariance(self, var1, var2, cov):
        bound = np.sqrt(var1 * var2)
        return np.minimum(np.maximum(cov, -bound), bound)


class BallContext(EvaluationContext):
    """Arb balls at the working precision of ``flint.ctx`` (set by the caller). A law runs its
    enclosed form (``Law.enclosed_form``: the derived expression, or a series' expectations).

    ``diagonal`` maps a pair law to the single-input law it equals at rho = q1 = q2 (with
    values it fixes), e.g. the kernel to chi0: a recursion passes one ball for all three
    there, and as three independent balls rho^2 <= q1 q2 cannot be shown (the dependency
    problem of interval arithmetic), while it is one Gaussian variable.

    ``what`` (the composition, e.g. "four_point_vertex for tanh at depth 5"): a law that
    cannot be enclosed, at translation or at a value, raises NotEnclosable in one line naming
    ``what`` and that law."""

    name = "arb"

    def __init__(self, diagonal: Callable[["Law"], tuple["Law", dict] | None] | None = None,
                 what: str | None = None):
        self.diagonal = diagonal
        self.what = what

    def _refused(self, law: "Law", error: Exception) -> Exception:
        from ..gaussian.numerics.enclosure import NotEnclosable

        reason = " ".join(str(error).split())
        return NotEnclosable(f"{self.what}: its layer law {law.name} for {law.activation.name} "
                             f"has no enclosure ({reason})")

    def number(self, raw: object, name: str = "value"):
        from flint import acb, arb

        from ..gaussian.numerics.enclosure import exact_ball

        if isinstance(raw, (arb, acb)):   # already a ball (a previous layer's value)
            return raw
        return exact_ball(to_exact(raw, name))

    def law(self, law: "Law") -> LawFunction:
        from ..gaussian.numerics.enclosure import NotEnclosable, ball_function

        what = f"{law.name} for {law.activation.name}"
        order = [s.name for s in law.variables]
        single = self.diagonal(law) if self.diagonal is not None else None
        try:
            function = ball_function(law.enclosed_form(), law.variables, what)
            if single is not None:
                single_law, fixed = single
                single_order = [s.name for s in single_law.variables]
                single_function = ball_function(single_law.enclosed_form(),
                                                single_law.variables, what)
        except NotEnclosable as error:
            if self.what is None:
                raise
            raise self._refused(law, error) from None
        defaults = law.parameter_defaults()

        def at(**values):
            merged = {**defaults, **values}
            try:
                if single is not None and merged["q1"] is merged["rho"] is merged["q2"]:
                    merged = {**merged, **fixed, "q": merged["rho"]}
                    return single_function([self.number(merged[n], n) for n in single_order])
                return function([self.number(merged[n], n) for n in order])
            except NotEnclosable as error:  # refused at this value (an integral's variance)
                if self.what is None:
                    raise
                raise self._refused(law, error) from None

        return _elementwise(at)

    def _sqrt(self, value):
        return value.sqrt()


def _elementwise(fn: Callable[..., Any]) -> LawFunction:
    """fn of scalars, applied elementwise when any argument is an (object) array."""
    def apply(**values):
        if not any(isinstance(v, np.ndarray) for v in values.values()):
            return fn(**values)
        names = list(values)
        arrays = np.broadcast_arrays(*[np.asarray(values[n], dtype=object) for n in names])
        out = np.empty(arrays[0].shape, dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = fn(**{n: a[index] for n, a in zip(names, arrays)})
        return out

    return apply


__all__ = ["BallContext", "EvaluationContext", "Float64Context", "MultiPrecisionContext",
           "SymbolicContext"]
