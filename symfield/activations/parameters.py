"""The parameter symbols of the named activations (a leaf module: SymPy only).

One symbol per name, shared by every activation that has a parameter of that name (the
slope alpha of leaky ReLU and of ELU is the same positive symbol), so that the formula
parser, the registry and the verifier's name table agree. Symbols of formulas typed by users
are made by the formula parser; these are only the named ones.
"""
from __future__ import annotations

from types import MappingProxyType

import sympy as sp

#: leaky ReLU and ELU slope / scale (positive).
alpha = sp.Symbol("alpha", positive=True)
#: Slopes of the piecewise-linear family a*min(x, 0) + b*max(x, 0).
a = sp.Symbol("a", real=True)
b = sp.Symbol("b", real=True)

#: Every named parameter symbol, by name (read-only).
NAMED_PARAMETERS = MappingProxyType({s.name: s for s in (alpha, a, b)})

__all__ = ["NAMED_PARAMETERS", "a", "alpha", "b"]
