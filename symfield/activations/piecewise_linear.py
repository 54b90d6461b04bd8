"""The piecewise-linear family phi(x) = a*min(x, 0) + b*max(x, 0) as a constructor.

The registry's members (relu, leaky_relu, abs, ab_relu, linear) are formulas in
``catalogue``; this builds a member directly from SymPy slopes (a, b), for code that makes
its own: phi' = a*H(-x) + b*H(x), phi'' = (b - a)*delta(x).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import as_expression
from .base import Activation, x
from .parameters import alpha


def piecewise_linear(name: str, a: sp.Expr, b: sp.Expr, description: str,
                     parameters: dict | None = None) -> Activation:
    """A member of the family a*min(x, 0) + b*max(x, 0) (a, b SymPy expressions or numbers)."""
    a, b = as_expression(a, "the slope a"), as_expression(b, "the slope b")
    numpy_phi = None
    if a.is_number and b.is_number:
        fa, fb = float(a), float(b)
        numpy_phi = lambda u: fa * np.minimum(u, 0.0) + fb * np.maximum(u, 0.0)  # noqa: E731
    return Activation(
        name=name,
        phi=a * sp.Min(0, x) + b * sp.Max(0, x),
        description=description,
        family="ab_relu",
        parameters=parameters or {},
        kinks=(sp.S.Zero,),
        numpy=numpy_phi,
    )


__all__ = ["alpha", "piecewise_linear"]
