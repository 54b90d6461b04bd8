"""Laws: a definition in Gaussian expectations, and the derived result.

A :class:`LawDefinition` says *what* to compute (an expression holding ``Expectation`` objects,
built from the activation); :func:`symfield.laws.derive` lets the Gaussian calculus decide *how*
and returns a :class:`Law`: the SymPy result, whether it is a closed form, the derivation
steps, and certified numerics (mpmath at 15-100 digits, vectorised float64).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation
from ..derivation import Derivation, Step
from ..errors import InvalidValueError, SymfieldError, UnknownNameError
from ..gaussian.expectation import Expectation
from ..gaussian.numerics.evaluate import compiled
from ..numbers import (LAW_POLICY, MAX_DPS, MIN_DPS, check_dps, is_small_fraction,
                       magnitude_spread, to_exact, to_mpf)
from ..symbols import NON_NEGATIVE, STRICTLY_POSITIVE


@dataclass(frozen=True)
class LawDefinition:
    """What a law is: its variables and its value as an expression in expectations."""

    name: str
    title: str
    latex_name: str
    variables: tuple[sp.Symbol, ...]
    #: define(phi) -> expression in expectations; phi(arg, order) is the activation's
    #: derivative of that order at arg (a generic varphi for display, or the real one).
    define: Callable[[Callable[..., sp.Expr]], sp.Expr]
    convention: str = ""
    #: check_domain(values by name, activation) raises InvalidValueError outside the domain.
    check_domain: Callable[[Mapping[str, object], Activation], None] | None = None
    #: Laws this one is a special case of, for documentation.
    notes: str = ""
    #: The class of the derived law (recursions over depth override the numerics).
    law_class: type | None = None
    #: Steps shown before the activation is substituted: how the law's Gaussian follows from
    #: the microdynamics (symfield.network.mean_field_step), for laws stated in its variables.
    prelude: Sequence[Step] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "prelude", tuple(self.prelude))  # hashable, like the rest


@dataclass
class Law:
    """A derived law for one activation."""

    name: str
    activation: Activation
    definition: sp.Expr
    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    derivation: Derivation
    title: str = ""
    latex_name: str = ""
    convention: str = ""
    divergence: str | None = None
    reasons: list[str] = field(default_factory=list)
    _spec: LawDefinition | None = None

    # -- what kind of result --------------------------------------------------------------
    @property
    def closed_form(self) -> bool:
        """True when ``expr`` is a closed form (or +-oo): no expectation, no series."""
        return not self.expr.has(Expectation, sp.Sum)

    @property
    def form(self) -> str:
        """Which exact representation ``expr`` is: 'closed', 'series' (a convergent
        Faddeeva pole series) or 'integral' (an unevaluated Gaussian expectation)."""
        if self.expr.has(Expectation):
            return "integral"
        return "series" if self.expr.has(sp.Sum) else "closed"

    #: Numerical routes: 'series' evaluates ``expr``; 'quadrature' the ``definition`` (its
    #: Gaussian expectations by certified quadrature). 'auto' takes the faster route,
    #: quadrature for the pole series (benchmarks/bench_tanh_series.py measures both).
    METHODS = ("auto", "series", "quadrature")

    def _numeric_expr(self, method: str) -> sp.Expr:
        if method not in self.METHODS:
            raise InvalidValueError(f"method must be one of {', '.join(self.METHODS)} "
                                    f"(got {method!r})")
        if self.form != "series":
            return self.expr
        return self.expr if method == "series" else self.definition

    @property
    def divergent(self) -> bool:
        return self.divergence is not None

    # -- numerics -------------------------------------------------------------------------
    def _check(self, values: Mapping[str, object]) -> dict[sp.Symbol, object]:
        names = {s.name: s for s in self.variables}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise UnknownNameError(
                f"{self.name} for {self.activation.name} has no variable {unknown[0]!r}; "
                f"its variables are: {', '.join(names)}")
        missing = [n for n in names if n not in values and n not in self.parameter_defaults()]
        if missing:
            raise InvalidValueError(
                f"{self.name} needs a value for {', '.join(missing)} "
                f"(variables: {', '.join(names)})")
        point: dict[sp.Symbol, object] = {}
        merged = {**{k: v for k, v in self.parameter_defaults().items()}, **values}
        for name, raw in merged.items():
            if name not in names:
                continue
            value = to_exact(raw, name)
            if name in STRICTLY_POSITIVE and not value > 0:
                raise InvalidValueError(f"{name} must be > 0 (got {raw})")
            if name in NON_NEGATIVE and value < 0:
                raise InvalidValueError(f"{name} must be >= 0 (got {raw})")
            if name in self.activation.parameters and names[name].is_positive and not value > 0:
                raise InvalidValueError(f"{name} must be > 0 (got {raw})")
            point[names[name]] = value
        if self._spec is not None and self._spec.check_domain is not None:
            self._spec.check_domain({s.name: v for s, v in point.items()}, self.activation)
        return point

    def parameter_defaults(self) -> dict[str, object]:
        """Default values of the activation's parameters that are variables of the law."""
        return {name: default for name, (sym, default) in self.activation.parameters.items()
                if sym in self.variables}

    _defaults = parameter_defaults  # the old private name, still used by symfield/cli/derive.py

    def compiled(self, method: str = "auto"):
        """The numeric form of the law (see METHODS) compiled over ``variables`` in order."""
        return compiled(self._numeric_expr(method), tuple(self.variables))

    def real_value(self, value, dps: int, imaginary_digits: int | None = None) -> mpmath.mpf:
        """A computed value as a real mpmath number: an imaginary part below
        10^-imaginary_digits relative (default ``dps``) is rounding at the edge of a square
        root's or an arcsine's domain and is dropped; a larger one, or NaN, is an error."""
        if not isinstance(value, (mpmath.mpf, mpmath.mpc)):  # a constant law: 0 -> mpf(0)
            with mpmath.workdps(dps):
                value = mpmath.mpmathify(value)
        if isinstance(value, mpmath.mpc):
            if imaginary_digits is None:
                scale, digits = abs(value.real), dps
            else:
                scale, digits = max(abs(value.real), 1), imaginary_digits
            if abs(value.imag) > scale * mpmath.mpf(10) ** (-digits):
                raise InvalidValueError(f"{self.name} is not real at these values")
            value = value.real
        if mpmath.isnan(value):
            raise InvalidValueError(f"{self.name} is undefined at these values")
        return value

    def evaluate(self, dps: int = 30, method: str = "auto", **values: object) -> mpmath.mpf:
        """The law's value at ``values`` (keyed by symbol name), correct to ``dps`` digits.

        Every digit is certified by evaluating at two working precisions
        (``symfield.numbers.LAW_POLICY``). Divergent laws return +-inf. ``method`` chooses the
        route for laws whose exact form is a series (see METHODS). Raises ValueError for
        unknown or missing variables, values outside the domain, non-finite values, or dps
        outside the allowed range.
        """
        dps = check_dps(dps)
        point = self._check(values)
        if self.expr.is_infinite:
            return mpmath.inf if self.expr.is_extended_positive else -mpmath.inf
        if self.form == "closed" and all(is_small_fraction(v) for v in point.values()):
            # Exact points first: at a fixed point such as D = 0 the closed form collapses to
            # a rational, which floating evaluation would return as a tiny nonzero number.
            # (Small fractions only: SymPy factors the integers under a square root.)
            exact = self.expr.subs(point)
            if exact.is_Rational:
                with mpmath.workdps(dps):
                    return mpmath.mpf(exact.p) / exact.q
        fn = self.compiled(method)
        raw = [point[s] for s in self.variables]

        def at(work: int):
            with mpmath.workdps(work):
                return fn.mp([to_mpf(v) for v in raw], work)

        try:
            value = LAW_POLICY.certify(at, dps, magnitude_spread(raw))
        except ZeroDivisionError:
            # e.g. E[delta(u1) delta(u2)] = 1/(2 pi sqrt(q1 q2 - rho^2)) at |c| = 1
            raise InvalidValueError(
                f"{self.name} for {self.activation.name} is infinite or undefined at these "
                f"values (a division by zero: the point is a singularity of the law)") from None
        return self.real_value(value, dps)

    def to_numpy(self, method: str = "auto") -> Callable[..., np.ndarray]:
        """A vectorised float64 function taking the same keywords as ``evaluate``.

        For a pole series, 'series' sums it with scipy's Faddeeva function (erfcx/wofz) and
        recomputes by quadrature the points where its cancellation estimate exceeds 1e-14;
        'auto' uses the quadrature, which is faster in float64.
        """
        order = tuple(self.variables)
        fn = compiled(self._numeric_expr(method), order)
        fallback = compiled(self.definition, order) if (
            method == "series" and self.form == "series") else None
        defaults = self.parameter_defaults()
        names = [s.name for s in order]
        law_name = self.name

        def law_numpy(**arrays: object) -> np.ndarray:
            unknown = sorted(set(arrays) - set(names))
            if unknown:
                raise UnknownNameError(f"{law_name} has no variable {unknown[0]!r}; "
                                       f"its variables are: {', '.join(names)}")
            args = []
            for n in names:
                if n in arrays:
                    args.append(np.asarray(arrays[n], dtype=float))
                elif n in defaults:
                    args.append(np.asarray(float(sp.S(defaults[n])), dtype=float))
                else:
                    raise InvalidValueError(f"{law_name} needs a value for {n}")
            out = fn.np(*args)
            if fallback is not None and fn.last_error_estimate is not None:
                bad = np.broadcast_to(fn.last_error_estimate, out.shape) > 1e-14
                if np.any(bad):
                    shape = out.shape
                    sub = [np.broadcast_to(a, shape)[bad] for a in args]
                    out = out.copy()
                    out[bad] = fallback.np(*sub)
            return out

        law_numpy.__name__ = f"{self.name}_{self.activation.name}"
        law_numpy.__doc__ = f"float64 {self.name} for {self.activation.name}: {sp.sstr(self.expr)}"
        return law_numpy

    # -- display --------------------------------------------------------------------------
    def equation(self) -> sp.Eq:
        args = ", ".join(s.name for s in self.variables)
        return sp.Eq(sp.Symbol(f"{self.name}({args})"), self.expr, evaluate=False)

    def latex(self, document: bool = False) -> str:
        """LaTeX of the result (or a standalone document with the derivation)."""
        from ..output.latex import law_document, law_equation

        return law_document(self) if document else law_equation(self)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def __str__(self) -> str:
        args = ", ".join(s.name for s in self.variables)
        kind = "divergent" if self.divergent else {
            "closed": "closed form", "series": "exact Faddeeva pole series",
            "integral": "exact Gaussian expectation"}[self.form]
        lines = [f"{self.name}[{self.activation.name}]({args}) = {sp.sstr(self.expr)}   ({kind})"]
        if self.divergence:
            lines.append(f"  diverges: {self.divergence}")
        return "\n".join(lines)

    __repr__ = __str__


__all__ = ["Law", "LawDefinition", "MAX_DPS", "MIN_DPS", "SymfieldError", "check_dps",
           "to_exact", "to_mpf"]
