"""The piecewise-linear family phi(x) = a*min(x, 0) + b*max(x, 0).

ReLU is (a, b) = (0, 1), leaky ReLU (alpha, 1), abs (-1, 1). The family is one definition;
each entry is data. Written with Max/Min so that SymPy's derivatives are the distributional
ones: phi' = a*H(-x) + b*H(x), phi'' = (b - a)*delta(x).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..errors import as_expression
from .base import Activation, x

alpha = sp.Symbol("alpha", positive=True)


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
        family="piecewise_linear",
        parameters=parameters or {},
        kinks=(sp.S.Zero,),
        numpy=numpy_phi,
    )


RELU = piecewise_linear("relu", 0, 1, "rectified linear unit max(x, 0) (Cho & Saul 2009)")
LEAKY_RELU = piecewise_linear(
    "leaky_relu", alpha, 1, "leaky ReLU max(x, 0) + alpha*min(x, 0)",
    parameters={"alpha": (alpha, sp.Rational(1, 100))},
)
ABS = piecewise_linear("abs", -1, 1, "absolute value |x|")

ENTRIES = (RELU, LEAKY_RELU, ABS)
