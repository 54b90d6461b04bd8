"""Laws: a definition in Gaussian expectations, and the derived result.

A :class:`LawDefinition` says *what* to compute (an expression holding ``Expectation`` objects,
built from the activation); :func:`symfield.laws.derive` lets the Gaussian calculus decide *how*
and returns a :class:`Law`: the SymPy result, whether it is a closed form, the derivation
steps, and certified numerics (mpmath at 15-100 digits, vectorised float64).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math
from fractions import Fraction
from typing import Callable, Mapping

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation
from ..derivation import Derivation
from ..errors import InvalidValueError, SymfieldError, UnknownNameError
from ..gaussian.expectation import Expectation
from ..gaussian.numerics.evaluate import compiled, evaluate_expr
from ..symbols import NON_NEGATIVE, STRICTLY_POSITIVE

MIN_DPS, MAX_DPS = 15, 100


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
        missing = [n for n in names if n not in values and n not in self._defaults()]
        if missing:
            raise InvalidValueError(
                f"{self.name} needs a value for {', '.join(missing)} "
                f"(variables: {', '.join(names)})")
        point: dict[sp.Symbol, object] = {}
        merged = {**{k: v for k, v in self._defaults().items()}, **values}
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

    def _defaults(self) -> dict[str, object]:
        return {name: default for name, (sym, default) in self.activation.parameters.items()
                if sym in self.variables}

    def evaluate(self, dps: int = 30, method: str = "auto", **values: object) -> mpmath.mpf:
        """The law's value at ``values`` (keyed by symbol name), correct to ``dps`` digits.

        Every digit is certified by evaluating at two working precisions. Divergent laws
        return +-inf. ``method`` chooses the route for laws whose exact form is a series
        (see METHODS). Raises ValueError for unknown or missing variables, values outside
        the domain, non-finite values, or dps outside 15..100.
        """
        check_dps(dps)
        point = self._check(values)
        if self.expr.is_infinite:
            return mpmath.inf if self.expr.is_extended_positive else -mpmath.inf
        if self.form == "closed" and all(_small_fraction(v) for v in point.values()):
            # Exact points first: at a fixed point such as D = 0 the closed form collapses to
            # a rational, which floating evaluation would return as a tiny nonzero number.
            # (Small fractions only: SymPy factors the integers under a square root.)
            exact = self.expr.subs(point)
            if exact.is_Rational:
                with mpmath.workdps(dps):
                    return mpmath.mpf(exact.p) / exact.q
        try:
            value = evaluate_expr(self._numeric_expr(method), point, dps)
        except ZeroDivisionError:
            # e.g. E[delta(u1) delta(u2)] = 1/(2 pi sqrt(q1 q2 - rho^2)) at |c| = 1
            raise InvalidValueError(
                f"{self.name} for {self.activation.name} is infinite or undefined at these "
                f"values (a division by zero: the point is a singularity of the law)") from None
        if not isinstance(value, (mpmath.mpf, mpmath.mpc)):  # a constant law: 0 -> mpf(0)
            with mpmath.workdps(dps):
                value = mpmath.mpmathify(value)
        if isinstance(value, mpmath.mpc):
            if abs(value.imag) > abs(value.real) * mpmath.mpf(10) ** (-dps):
                raise InvalidValueError(f"{self.name} is not real at these values")
            value = value.real
        if mpmath.isnan(value):
            raise InvalidValueError(f"{self.name} is undefined at these values")
        return value

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
        defaults = self._defaults()
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


def check_dps(dps: object) -> None:
    if not isinstance(dps, int) or isinstance(dps, bool) or not MIN_DPS <= dps <= MAX_DPS:
        raise InvalidValueError(f"dps must be an integer from {MIN_DPS} to {MAX_DPS} (got {dps!r})")


def _small_fraction(value: object) -> bool:
    return isinstance(value, Fraction) and max(abs(value.numerator), value.denominator) < 2**32


def to_exact(raw: object, name: str = "value") -> Fraction | mpmath.mpf | sp.Basic:
    """A finite real number, kept exact until the working precision is known.

    Decimal strings become Fractions ("1.4" is 7/5); so do Python floats, read as the decimal
    they print as (0.3 is 3/10, as a theorist typing sigma_b=0.3 means it, not the binary
    neighbour 0.29999999999999998890); the same convention holds in the dynamics and the
    verifier. "p/q" strings are fractions, SymPy numbers stay symbolic, and mpmath numbers
    pass through (use mpmath.mpf(x) for a float's exact binary value). No text is ever
    evaluated as code.
    """
    try:
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, (int, np.integer)):
            value: object = Fraction(int(raw))
        elif isinstance(raw, (float, np.floating)):
            if not math.isfinite(float(raw)):
                raise OverflowError
            value = Fraction(repr(float(raw)))
        elif isinstance(raw, Fraction):
            value = raw
        elif isinstance(raw, mpmath.mpf):
            if not mpmath.isfinite(raw):
                raise OverflowError
            value = raw
        elif isinstance(raw, sp.Basic):
            if not raw.is_number or raw.is_real is False or not raw.is_finite:
                raise TypeError
            value = Fraction(int(raw.p), int(raw.q)) if raw.is_Rational else raw
        elif isinstance(raw, str):
            text = raw.strip()
            if len(text) > 200:
                raise TypeError
            if "/" in text:
                num, den = text.split("/", 1)
                value = Fraction(num.strip()) / Fraction(den.strip())
            else:
                value = Fraction(text)
        else:
            raise TypeError
    except OverflowError:
        raise InvalidValueError(f"{name} must be finite (got {raw!r})") from None
    except (TypeError, ValueError, ZeroDivisionError):
        raise InvalidValueError(f"{name} must be a finite real number (got {raw!r})") from None
    return value


def to_mpf(raw: object, name: str = "value") -> mpmath.mpf:
    """``to_exact`` converted at the current mpmath precision."""
    value = to_exact(raw, name)
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    if isinstance(value, sp.Basic):
        return mpmath.mpf(sp.N(value, mpmath.mp.dps + 5))
    return value


__all__ = ["Law", "LawDefinition", "check_dps", "to_exact", "to_mpf", "SymfieldError"]
