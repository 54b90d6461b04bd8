"""The activation object: a SymPy expression of one real variable plus metadata.

Derivatives are SymPy's, which are distributional for the non-smooth building blocks
(``diff(Max(0, x), x) == Heaviside(x)``, ``diff(Heaviside(x), x) == DiracDelta(x)``). That is why
non-smooth activations are written with ``Max``/``Min``/``Abs``/``Piecewise`` and never as
``x*Heaviside(x)``, whose square-derivative produces the meaningless ``x**2*DiracDelta(x)**2``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from ..errors import InvalidValueError, as_expression, quoted
from ..numbers import to_sympy
from ..symbolic import parity

#: The variable every activation is written in.
x = sp.Symbol("x", real=True)

_NUMPY_MODULES = [{"Heaviside": lambda a, h0=0.5: np.heaviside(a, h0)}, "numpy", "scipy"]

#: Highest derivative order asked of an activation (the Mehler series uses up to ~40).
MAX_DERIVATIVE_ORDER = 64
#: Longest activation name.
MAX_NAME_CHARS = 1000


@dataclass(frozen=True, eq=False)
class Activation:
    """A registered activation function phi(x).

    ``parameters`` maps a parameter name to ``(symbol, default)``; ``phi`` may contain the
    symbols. ``kinks`` lists the points where phi is not smooth. ``numpy`` is an optional fast
    float64 implementation (otherwise phi is lambdified).
    """

    name: str
    phi: sp.Expr
    description: str
    family: str | None = None
    parameters: Mapping[str, tuple[sp.Symbol, sp.Expr]] = field(default_factory=dict)
    kinks: tuple[sp.Expr, ...] = ()
    numpy: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        # Every field is checked here, so nothing later (parity, lambdify, documents, the
        # float64 defaults) can meet text where it expects a SymPy object.
        for what, value in (("name", self.name), ("description", self.description)):
            if not isinstance(value, str) or not value.strip() and what == "name":
                raise InvalidValueError(f"the activation {what} must be text (got {quoted(value)})")
        if len(self.name) > MAX_NAME_CHARS:
            raise InvalidValueError(f"activation names have at most {MAX_NAME_CHARS} characters")
        if self.family is not None and not isinstance(self.family, str):
            raise InvalidValueError(f"family must be text or None (got {quoted(self.family)})")
        if self.numpy is not None and not callable(self.numpy):
            raise InvalidValueError(f"numpy must be a function or None (got {quoted(self.numpy)})")
        object.__setattr__(self, "phi", as_expression(self.phi, "phi"))
        if isinstance(self.kinks, (str, bytes)) or not isinstance(self.kinks, (tuple, list)):
            raise InvalidValueError(f"kinks must be a tuple (got {quoted(self.kinks)})")
        object.__setattr__(self, "kinks", tuple(as_expression(k, "a kink") for k in self.kinks))
        if not isinstance(self.parameters, Mapping):
            raise InvalidValueError(f"parameters must map a name to (symbol, default) "
                                    f"(got {quoted(self.parameters)})")
        checked = {}
        for key, entry in self.parameters.items():
            if not isinstance(key, str) or not isinstance(entry, tuple) or len(entry) != 2 \
                    or not isinstance(entry[0], sp.Symbol):
                raise InvalidValueError(f"parameters must map a name to (symbol, default) "
                                        f"(got {quoted(key)})")
            checked[key] = (entry[0], parameter_value(entry[1], entry[0], key))
        object.__setattr__(self, "parameters", checked)

    # -- symbolic -------------------------------------------------------------------------
    @property
    def smooth(self) -> bool:
        """True when phi is infinitely differentiable on the real line."""
        return not self.kinks

    @cached_property
    def parity(self) -> str | None:
        """'even', 'odd', or None, decided symbolically."""
        return parity(self.phi, x)

    def derivative(self, order: int = 1) -> sp.Expr:
        """The distributional derivative of the given order, as a SymPy expression in ``x``."""
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) \
                or not 0 <= order <= MAX_DERIVATIVE_ORDER:
            raise InvalidValueError(f"derivative order must be an integer from 0 to "
                                    f"{MAX_DERIVATIVE_ORDER} (got {quoted(order)})")
        return sp.diff(self.phi, x, int(order)) if order else self.phi

    def __call__(self, arg: sp.Expr, order: int = 0) -> sp.Expr:
        """phi^{(order)}(arg) as a SymPy expression."""
        return self.derivative(order).subs(x, as_expression(arg, "the argument"))

    def with_parameters(self, **values: object) -> "Activation":
        """The same activation with some parameters fixed to values: SymPy expressions, or
        numbers (int, float, Fraction, mpmath, or a decimal / "p/q" string)."""
        unknown = set(values) - set(self.parameters)
        if unknown:
            valid = ", ".join(self.parameters) or "none"
            raise InvalidValueError(
                f"activation {self.name!r} has no parameter {quoted(sorted(unknown)[0])}; "
                f"valid: {valid}")
        fixed = {k: parameter_value(v, self.parameters[k][0], k) for k, v in values.items()}
        subs = {self.parameters[k][0]: v for k, v in fixed.items()}
        remaining = {k: v for k, v in self.parameters.items() if k not in values}
        tag = ",".join(f"{k}={sp.sstr(v)}" for k, v in fixed.items())
        return Activation(
            name=f"{self.name}[{tag}]",
            phi=self.phi.subs(subs),
            description=self.description,
            family=self.family,
            parameters=remaining,
            kinks=tuple(k.subs(subs) for k in self.kinks),
            numpy=None,
        )

    # -- float64 --------------------------------------------------------------------------
    def pointwise_derivative(self, order: int) -> sp.Expr:
        """The classical derivative almost everywhere (delta terms dropped): what a finite
        network computes by the chain rule."""
        return self.derivative(order).replace(sp.DiracDelta, lambda *a: sp.S.Zero)

    @cached_property
    def numpy_functions(self) -> tuple[Callable[[np.ndarray], np.ndarray], ...]:
        """float64 phi, phi', phi'' (pointwise derivatives), vectorised over arrays."""
        defaults = {s: d for s, d in self.parameters.values()}
        fns = []
        for order in range(3):
            if order == 0 and self.numpy is not None:
                fns.append(self.numpy)
                continue
            expr = self.pointwise_derivative(order).subs(defaults)
            f = sp.lambdify(x, expr, modules=_NUMPY_MODULES)
            if not expr.has(x):  # lambdify of a constant returns a scalar: broadcast it
                const = float(expr)
                f = (lambda c: lambda a: np.full(np.shape(a), c))(const)
            fns.append(f)
        return tuple(fns)

    def __repr__(self) -> str:
        return f"Activation({self.name!r}: phi(x) = {sp.sstr(self.phi)})"


def parameter_value(value: object, symbol: sp.Symbol, name: str) -> sp.Expr:
    """The value of an activation parameter: a SymPy expression, or a number read exactly
    (strings only by the number parser); a positive parameter must get a positive number."""
    if isinstance(value, sp.Basic):
        value = as_expression(value, name)
    else:
        value = to_sympy(value, name)
    if value.is_number and (value.is_extended_real is False or not value.is_finite):
        raise InvalidValueError(f"{name} must be a finite real number (got {quoted(value)})")
    if symbol.is_positive and value.is_positive is False:
        raise InvalidValueError(f"{name} must be > 0 (got {quoted(value)})")
    return value
