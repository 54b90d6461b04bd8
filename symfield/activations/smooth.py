"""Smooth activations: one entry each."""
from __future__ import annotations

import numpy as np
import sympy as sp

from .base import Activation, x


def _erf(a):
    from scipy.special import erf  # scipy loads on first numerical use, not on import

    return erf(a)


def _expit(a):
    from scipy.special import expit

    return expit(a)

ERF = Activation(
    name="erf",
    phi=sp.erf(x),
    description="error function erf(x) (Williams 1997)",
    numpy=_erf,
)

TANH = Activation(
    name="tanh",
    phi=sp.tanh(x),
    description="hyperbolic tangent (Poole et al. 2016)",
    numpy=np.tanh,
)

LINEAR = Activation(
    name="linear",
    phi=x,
    description="identity phi(x) = x (deep linear network)",
    numpy=lambda a: np.array(a, dtype=float, copy=True),
)

SIGMOID = Activation(
    name="sigmoid",
    # The logistic function written through tanh, so the pole expansion of tanh applies.
    phi=(1 + sp.tanh(x / 2)) / 2,
    description="logistic sigmoid 1/(1 + exp(-x)) = (1 + tanh(x/2))/2",
    numpy=_expit,
)

ENTRIES = (ERF, TANH, SIGMOID, LINEAR)
