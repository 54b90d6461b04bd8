"""Canonical symbols of the mean-field theory, with fixed assumptions.

Every part of symfield builds its expressions from these objects, so that a law derived in
one place and a formula parsed from user text in another refer to the *same* SymPy symbols.
Conventions follow ``theory.md`` section 2: ``q`` is a pre-activation variance, ``rho`` a
covariance, ``c`` a correlation; ``A``, ``C``, ``D`` are Amari's post-activation activity,
overlap and distance.
"""
from __future__ import annotations

from fractions import Fraction

import sympy as sp
from sympy.core.function import UndefinedFunction

from .errors import InvalidValueError

# Pre-activation statistics (Poole / Schoenholz variables).
q = sp.Symbol("q", positive=True)
q1 = sp.Symbol("q1", positive=True)
q2 = sp.Symbol("q2", positive=True)
rho = sp.Symbol("rho", real=True)
c = sp.Symbol("c", real=True)

# Weight and bias scales. W_ij ~ N(0, sigma_w^2/n), b_i ~ N(0, sigma_b^2).
sigma_w = sp.Symbol("sigma_w", positive=True)
sigma_b = sp.Symbol("sigma_b", positive=True)

# Amari's post-activation variables.
A = sp.Symbol("A", positive=True)
C = sp.Symbol("C", real=True)
D = sp.Symbol("D", nonnegative=True)

# Depth and geometry.
L = sp.Symbol("L", integer=True, positive=True)
kappa2 = sp.Symbol("kappa2", nonnegative=True)
#: The NTK of the previous layer, in the NTK recursion.
Theta = sp.Symbol("Theta", real=True)
#: A component of the pulled-back metric, and the Kronecker delta of two input directions.
g = sp.Symbol("g", real=True)
delta_ab = sp.Symbol("delta_ab", integer=True, nonnegative=True)

#: Every canonical symbol, by name (the names users type and the keywords ``evaluate`` takes).
CANONICAL: dict[str, sp.Symbol] = {
    s.name: s for s in (q, q1, q2, rho, c, sigma_w, sigma_b, A, C, D, L, kappa2, Theta, g, delta_ab)
}

#: Symbols that must be strictly positive when given a value (variances and scales).
STRICTLY_POSITIVE = frozenset({"q", "q1", "q2", "A", "sigma_w"})
#: Symbols that must be non-negative when given a value.
NON_NEGATIVE = frozenset({"sigma_b", "D", "kappa2"})

#: How each symbol is written in LaTeX.
LATEX_NAMES: dict[str, str] = {
    "q": "q",
    "q1": "q_1",
    "q2": "q_2",
    "rho": r"\rho",
    "c": "c",
    "sigma_w": r"\sigma_w",
    "sigma_b": r"\sigma_b",
    "A": "A",
    "C": "C",
    "D": "D",
    "L": "L",
    "kappa2": r"\bar\kappa^2",
    "Theta": r"\Theta",
    "g": "g",
    "delta_ab": r"\delta_{ab}",
}


def symbol(name: str) -> sp.Symbol:
    """The canonical symbol called ``name`` (``ValueError`` naming the valid ones otherwise)."""
    try:
        return CANONICAL[name]
    except KeyError:
        raise ValueError(
            f"unknown symbol {name!r}; canonical symbols are: {', '.join(CANONICAL)}"
        ) from None


class TextFreeFunction(UndefinedFunction):
    """An undefined SymPy function (such as the generic activation varphi) that refuses text
    arguments: SymPy would ``sympify`` them, which runs code. Formulas in text go through the
    safe parser (symfield.verification.parse_expression)."""

    def __call__(cls, *args, **options):
        for arg in args:
            if isinstance(arg, bool) or not isinstance(arg, (sp.Basic, int, float, Fraction)):
                raise InvalidValueError(
                    f"{cls.__name__} takes SymPy expressions or numbers, got "
                    f"{type(arg).__name__}; parse text with symfield.verification.parse_expression")
        return super().__call__(*args, **options)
