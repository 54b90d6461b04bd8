"""What a formula may name: symbols, aliases, constants and functions.

Every name maps to a prebuilt SymPy object, so parsed formulas use the *same* symbols as the
engine (``symfield.symbols.CANONICAL``) and compare equal to its laws. Nothing here creates a
symbol from user text.
"""
from __future__ import annotations

import difflib
from fractions import Fraction
from types import MappingProxyType
from typing import Callable, Mapping

import sympy as sp
from sympy.core.function import UndefinedFunction

from ..activations.base import x as activation_x
from ..activations.parameters import NAMED_PARAMETERS
from ..errors import SymfieldError
from ..expectation import u1, u2
from ..symbols import CANONICAL
from ..piecewise import log1p, logistic, normal_cdf, relu, softplus

# -- integration variables --------------------------------------------------------------------
#: u ~ N(0, q): the pre-activation (same role as the activation variable x).
u = sp.Symbol("u", real=True)
#: Standard normals (theory.md 2.1: z, z1, z2, v are independent N(0, 1)).
z = sp.Symbol("z", real=True)
v = sp.Symbol("v", real=True)
z1 = sp.Symbol("z1", real=True)
z2 = sp.Symbol("z2", real=True)
x = activation_x

class _TextFreeFunction(UndefinedFunction):
    """An undefined SymPy function that refuses text arguments (SymPy would ``sympify``
    them, which runs code): formulas in text go through the parser."""

    def __call__(cls, *args, **options):
        for arg in args:
            if isinstance(arg, bool) or not isinstance(arg, (sp.Basic, int, float, Fraction)):
                raise SymfieldError(f"{cls.__name__} takes SymPy expressions or numbers, got "
                                    f"{type(arg).__name__}; parse text with "
                                    f"symfield.verification.parse_expression")
        return super().__call__(*args, **options)


#: The network's activation, left unspecified; ``bind.substitute_activation`` fills it in.
phi = _TextFreeFunction("phi", real=True)


def _activation_parameters() -> dict[str, sp.Symbol]:
    """Parameters of the named activations (e.g. leaky ReLU's ``alpha``), by name."""
    return dict(NAMED_PARAMETERS)


_SYMBOLS: dict[str, sp.Expr] = {
    **CANONICAL,
    **_activation_parameters(),
    "x": x, "u": u, "z": z, "v": v, "u1": u1, "u2": u2, "z1": z1, "z2": z2,
    "pi": sp.pi, "e": sp.E, "E": sp.E,
}

#: Other spellings of the same objects (subscripts written out, LaTeX-style names).
_ALIASES: dict[str, str] = {
    "q_1": "q1", "q_2": "q2", "u_1": "u1", "u_2": "u2", "z_1": "z1", "z_2": "z2",
    "sigmaw": "sigma_w", "sigmab": "sigma_b", "kappa_2": "kappa2",
}

#: Every name a formula may use for a value, by spelling (read-only).
SYMBOLS: Mapping[str, sp.Expr] = MappingProxyType(
    {**_SYMBOLS, **{alias: _SYMBOLS[target] for alias, target in _ALIASES.items()}})

#: Bound variables of expectations and the distribution each family stands for.
INTEGRATION_VARIABLES = frozenset({x, u, z, v, u1, u2, z1, z2})

# -- functions --------------------------------------------------------------------------------


#: name -> (builder, minimum number of arguments, maximum number or None for any).
_FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], int, int | None]] = {
    "sqrt": (sp.sqrt, 1, 1),
    "exp": (sp.exp, 1, 1),
    "log": (sp.log, 1, 1),
    "erf": (sp.erf, 1, 1),
    "erfc": (sp.erfc, 1, 1),
    "asin": (sp.asin, 1, 1),
    "acos": (sp.acos, 1, 1),
    "atan": (sp.atan, 1, 1),
    "atan2": (sp.atan2, 2, 2),
    "asinh": (sp.asinh, 1, 1),
    "acosh": (sp.acosh, 1, 1),
    "atanh": (sp.atanh, 1, 1),
    "sin": (sp.sin, 1, 1),
    "cos": (sp.cos, 1, 1),
    "tan": (sp.tan, 1, 1),
    "sec": (sp.sec, 1, 1),
    "csc": (sp.csc, 1, 1),
    "cot": (sp.cot, 1, 1),
    "sinh": (sp.sinh, 1, 1),
    "cosh": (sp.cosh, 1, 1),
    "tanh": (sp.tanh, 1, 1),
    "sech": (sp.sech, 1, 1),
    "Abs": (sp.Abs, 1, 1),
    "Max": (sp.Max, 2, None),
    "Min": (sp.Min, 2, None),
    "Heaviside": (sp.Heaviside, 1, 1),
    "sign": (sp.sign, 1, 1),
    # activation building blocks (symfield.piecewise writes them as the calculus reads them)
    "Phi": (normal_cdf, 1, 1),
    "sigmoid": (logistic, 1, 1),
    "softplus": (softplus, 1, 1),
    "relu": (relu, 1, 1),
    "log1p": (log1p, 1, 1),
}

_FUNCTION_ALIASES: dict[str, str] = {
    "ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "arsinh": "asinh",
    "arcsinh": "asinh", "arcosh": "acosh", "arccosh": "acosh", "artanh": "atanh",
    "arctanh": "atanh", "abs": "Abs", "max": "Max", "min": "Min", "sgn": "sign",
    "heaviside": "Heaviside", "step": "Heaviside",
}

#: Every function name, by spelling (read-only): value is the canonical name.
FUNCTION_NAMES: Mapping[str, str] = MappingProxyType(
    {**{name: name for name in _FUNCTIONS}, **_FUNCTION_ALIASES})

#: Spellings of the activation and its derivatives: name -> derivative order.
ACTIVATION_NAMES: Mapping[str, int] = MappingProxyType({
    "phi": 0, "varphi": 0, "dphi": 1, "d2phi": 2, "d3phi": 3, "d4phi": 4,
})
#: Highest derivative of phi a formula may take.
MAX_PHI_DERIVATIVE = 4


def function_spec(name: str) -> tuple[str, Callable[..., sp.Expr], int, int | None] | None:
    """(canonical name, builder, min args, max args) for a function spelling, else None."""
    canonical = FUNCTION_NAMES.get(name)
    if canonical is None:
        return None
    builder, low, high = _FUNCTIONS[canonical]
    return canonical, builder, low, high


def phi_derivative(order: int, argument: sp.Expr) -> sp.Expr:
    """phi^(order) evaluated at ``argument``: Derivative(phi(x), x, order) at x = argument.

    For a symbol argument this is ``Derivative(phi(u), u)``; otherwise SymPy keeps it as
    ``Subs(Derivative(phi(x), x), x, argument)``.
    """
    if order == 0:
        return phi(argument)
    return sp.Derivative(phi(x), (x, order)).subs(x, argument)


def valid_symbol_names() -> str:
    """The names a formula may use, for error messages (canonical names first)."""
    extra = [n for n in _SYMBOLS if n not in CANONICAL]
    return ", ".join([*CANONICAL, *extra])


def valid_function_names() -> str:
    """The function names a formula may use, for error messages."""
    return ", ".join([*_FUNCTIONS, *ACTIVATION_NAMES, "phi'", "phi''"])


def suggestion(name: str) -> str:
    """' (did you mean ...?)' for a near miss among symbols and functions, else ''."""
    if name in ("sigma", "σ"):
        return " (did you mean sigma_w or sigma_b?)"
    if name in ("kappa", "κ"):
        return " (the curvature is kappa2, written kappa^2 in LaTeX)"
    pool = list(SYMBOLS) + list(FUNCTION_NAMES) + list(ACTIVATION_NAMES)
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""
