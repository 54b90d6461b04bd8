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

from ..symbolic import parity

#: The variable every activation is written in.
x = sp.Symbol("x", real=True)

_NUMPY_MODULES = [{"Heaviside": lambda a, h0=0.5: np.heaviside(a, h0)}, "numpy", "scipy"]


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
        if order < 0:
            raise ValueError("derivative order must be >= 0")
        return sp.diff(self.phi, x, order) if order else self.phi

    def __call__(self, arg: sp.Expr, order: int = 0) -> sp.Expr:
        """phi^{(order)}(arg) as a SymPy expression."""
        return self.derivative(order).subs(x, arg)

    def with_parameters(self, **values: object) -> "Activation":
        """The same activation with some parameters fixed to values (symbols or numbers)."""
        unknown = set(values) - set(self.parameters)
        if unknown:
            valid = ", ".join(self.parameters) or "none"
            raise ValueError(
                f"activation {self.name!r} has no parameter {sorted(unknown)[0]!r}; valid: {valid}"
            )
        subs = {self.parameters[k][0]: sp.nsimplify(v) if isinstance(v, (int, float)) else v
                for k, v in values.items()}
        remaining = {k: v for k, v in self.parameters.items() if k not in values}
        tag = ",".join(f"{k}={v}" for k, v in values.items())
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
