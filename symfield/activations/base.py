"""The activation object: a SymPy expression of one real variable plus metadata.

Derivatives are distributional and built from the activation's own structure
(``symfield.piecewise.piecewise_smooth``): the derivative of each smooth piece on its interval,
plus Dirac deltas (and their derivatives) for every jump of phi or of a derivative, with
weights evaluated at the jump. So ``Max(-1, Min(1, x))'' = delta(x + 1) - delta(x - 1)`` and
``(x**2*H(x))''`` has no ``x*delta(x)`` left to square. Kinks and parity are found from phi
(``analysis_notes`` says what could not be decided).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from ..errors import InvalidValueError, as_expression, quoted
from ..numbers import to_sympy
from ..piecewise import (NONSMOOTH, NotAnalysable, distributional_derivative, parity,
                         piecewise_smooth)

#: The variable every activation is written in.
x = sp.Symbol("x", real=True)

_NUMPY_MODULES = [{"Heaviside": lambda a, h0=0.5: np.heaviside(a, h0)}, "numpy", "scipy"]

#: Highest derivative order asked of an activation (the Mehler series uses up to ~40).
MAX_DERIVATIVE_ORDER = 64
#: Longest activation name.
MAX_NAME_CHARS = 1000


@dataclass(frozen=True, eq=False)
class Activation:
    """An activation function phi(x).

    ``parameters`` maps a parameter name to ``(symbol, default)``; ``phi`` may contain the
    symbols, and the derived laws keep them as variables. ``structure`` holds the values of
    parameters that shape phi itself (the power k of ``relu_power``, a polynomial's
    coefficients): they are substituted before anything is derived, and ``rebuild`` makes the
    family member with other values. ``kinks`` (found from phi when not given) are the points
    where phi or a derivative jumps. ``numpy`` is an optional fast float64 implementation
    (otherwise phi is lambdified). ``formula`` is the text phi was parsed from, if any.
    """

    name: str
    phi: sp.Expr
    description: str
    family: str | None = None
    parameters: Mapping[str, tuple[sp.Symbol, sp.Expr]] = field(default_factory=dict)
    kinks: tuple[sp.Expr, ...] | None = None
    numpy: Callable[[np.ndarray], np.ndarray] | None = None
    formula: str | None = None
    structure: Mapping[str, object] = field(default_factory=dict)
    rebuild: Callable[..., "Activation"] | None = field(default=None, repr=False)
    _derivatives: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Every field is checked here, so nothing later (parity, lambdify, documents, the
        # float64 defaults) can meet text where it expects a SymPy object.
        for what, value in (("name", self.name), ("description", self.description)):
            if not isinstance(value, str) or not value.strip() and what == "name":
                raise InvalidValueError(f"the activation {what} must be text (got {quoted(value)})")
        if len(self.name) > MAX_NAME_CHARS:
            raise InvalidValueError(f"activation names have at most {MAX_NAME_CHARS} characters")
        for what, value in (("family", self.family), ("formula", self.formula)):
            if value is not None and not isinstance(value, str):
                raise InvalidValueError(f"{what} must be text or None (got {quoted(value)})")
        for what, value in (("numpy", self.numpy), ("rebuild", self.rebuild)):
            if value is not None and not callable(value):
                raise InvalidValueError(f"{what} must be a function or None (got {quoted(value)})")
        object.__setattr__(self, "phi", as_expression(self.phi, "phi"))
        if self.kinks is not None:
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
        if not isinstance(self.structure, Mapping):
            raise InvalidValueError(f"structure must map a name to a value "
                                    f"(got {quoted(self.structure)})")
        object.__setattr__(self, "structure", dict(self.structure))
        if self.kinks is None:
            object.__setattr__(self, "kinks", self._analysed_kinks)

    # -- analysis -------------------------------------------------------------------------
    @cached_property
    def _decomposition(self):
        """phi split into smooth pieces (``PiecewiseSmooth``), or the reason it could not be."""
        if not self.phi.has(*NONSMOOTH, sp.DiracDelta):
            return None
        try:
            return piecewise_smooth(self.phi, x)
        except NotAnalysable as e:
            return str(e)

    @property
    def _analysed_kinks(self) -> tuple[sp.Expr, ...]:
        found = self._decomposition
        return found.kinks if found is not None and not isinstance(found, str) else ()

    @property
    def analysis_notes(self) -> tuple[str, ...]:
        """What the analysis of phi could not decide (empty when everything was found)."""
        notes = []
        if isinstance(self._decomposition, str):
            notes.append(f"the points where phi switches branch could not be located "
                         f"({self._decomposition}); its derivatives are SymPy's, with deltas "
                         f"normalised where possible")
        if self.parity is None and not self.parameters:
            notes.append("parity undecided (phi is neither recognisably even nor odd)")
        return tuple(notes)

    @property
    def smooth(self) -> bool:
        """True when phi is infinitely differentiable on the real line."""
        return not self.kinks and not isinstance(self._decomposition, str)

    @cached_property
    def parity(self) -> str | None:
        """'even', 'odd', or None, decided symbolically."""
        return parity(self.phi, x)

    # -- symbolic -------------------------------------------------------------------------
    def derivative(self, order: int = 1) -> sp.Expr:
        """The distributional derivative of the given order, as a SymPy expression in ``x``."""
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) \
                or not 0 <= order <= MAX_DERIVATIVE_ORDER:
            raise InvalidValueError(f"derivative order must be an integer from 0 to "
                                    f"{MAX_DERIVATIVE_ORDER} (got {quoted(order)})")
        order = int(order)
        if order == 0:
            return self.phi
        found = self._derivatives.get(order)
        if found is None:
            found = distributional_derivative(self.phi, x, order)
            self._derivatives[order] = found
        return found

    def __call__(self, arg: sp.Expr, order: int = 0) -> sp.Expr:
        """phi^{(order)}(arg) as a SymPy expression."""
        return self.derivative(order).subs(x, as_expression(arg, "the argument"))

    def with_parameters(self, **values: object) -> "Activation":
        """The same activation with some parameters fixed to values: SymPy expressions, or
        numbers (int, float, Fraction, mpmath, or a decimal / "p/q" string). Structural
        parameters (``structure``) make the family member with those values."""
        unknown = set(values) - set(self.parameters) - set(self.structure)
        if unknown:
            valid = ", ".join([*self.parameters, *self.structure]) or "none"
            raise InvalidValueError(
                f"activation {self.name!r} has no parameter {quoted(sorted(unknown)[0])}; "
                f"valid: {valid}")
        shaping = {k: v for k, v in values.items() if k in self.structure}
        base = self
        if shaping:
            if self.rebuild is None:  # pragma: no cover - every structured entry rebuilds
                raise InvalidValueError(f"activation {self.name!r} cannot be rebuilt")
            base = self.rebuild(**{**self.structure, **shaping})
        symbolic = {k: v for k, v in values.items() if k in self.parameters}
        if not symbolic:
            return base
        fixed = {k: parameter_value(v, base.parameters[k][0], k) for k, v in symbolic.items()}
        subs = {base.parameters[k][0]: v for k, v in fixed.items()}
        remaining = {k: v for k, v in base.parameters.items() if k not in symbolic}
        tag = ",".join(f"{k}={sp.sstr(v)}" for k, v in fixed.items())
        return Activation(
            name=f"{base.name}[{tag}]",
            phi=base.phi.subs(subs),
            description=base.description,
            family=base.family,
            parameters=remaining,
            kinks=tuple(k.subs(subs) for k in base.kinks),
            numpy=None,
            formula=base.formula,
            structure=base.structure,
            rebuild=None,
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
