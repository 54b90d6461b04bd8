"""Hermite (Mehler) expansion of the kernel, with coefficients from Stein's identity.

With probabilists' Hermite polynomials He_k and z standard normal,
phi(sqrt(q) z) = sum_k a_k He_k(z)/sqrt(k!), and Stein's identity E[f(z) He_k(z)] = E[f^(k)(z)]
gives a_k(q) = q^(k/2) E[phi^(k)(x)]/sqrt(k!), x ~ N(0, q): the engine evaluates the k-th
derivative's expectation (a closed form for erf and the piecewise-linear family, an exact
expectation otherwise). Mehler's formula then gives
E[phi(u1) phi(u2)] = sum_k a_k(q1) a_k(q2) c^k, c = rho/sqrt(q1 q2) (theory.md section 3, T3).
It is a cross-check of the closed forms and a numerical fallback.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation, get_activation, x
from ..expectation import expectation
from ..gaussian.simplify import tidy
from ..symbols import q, q1, q2, rho
from .calculus import ENGINE, derive


@lru_cache(maxsize=None)
def _coefficient(act: Activation, k: int) -> sp.Expr:
    outcome = ENGINE.expect(expectation(act.derivative(k), x, q))
    if outcome.divergence:
        raise ValueError(f"E[phi^({k})] diverges for {act.name}: {outcome.divergence}")
    return tidy(q ** sp.Rational(k, 2) * outcome.value / sp.sqrt(sp.factorial(k)))


def hermite_coefficient(activation: str | Activation, k: int, variance: sp.Expr = q) -> sp.Expr:
    """a_k(variance) = variance^(k/2) E[phi^(k)(x)]/sqrt(k!), x ~ N(0, variance)."""
    if not isinstance(k, int) or k < 0:
        raise ValueError(f"the Hermite index must be an integer >= 0 (got {k!r})")
    return _coefficient(get_activation(activation), k).subs(q, variance)


def mehler_kernel(activation: str | Activation, order: int, q1_: sp.Expr = q1,
                  q2_: sp.Expr = q2, rho_: sp.Expr = rho) -> sp.Expr:
    """The Mehler partial sum sum_{k <= order} a_k(q1) a_k(q2) c^k of E[phi(u1) phi(u2)]."""
    act = get_activation(activation)
    corr = rho_ / sp.sqrt(q1_ * q2_)
    return sp.Add(*[hermite_coefficient(act, k, q1_) * hermite_coefficient(act, k, q2_) * corr**k
                    for k in range(order + 1)])


def kernel_grid(activation: str | Activation, q, c, derivative: bool = False,
                n_max: int = 300):
    """float64 E[phi(u1) phi(u2)] (or E[phi'(u1) phi'(u2)]) on the grid q x c, with u1, u2 ~
    N(0, q) and correlation c: the Mehler series with numerically computed Hermite
    coefficients (one pass per q), exact at c = +-1 through the diagonal law."""
    import math

    import numpy as np

    from ..gaussian.numerics.hermite_grid import kernel_on_grid

    act = get_activation(activation)
    phi, dphi, _ = act.numpy_functions
    f = dphi if derivative else phi
    if derivative:
        diag_law = derive("chi1", act).to_numpy()

        def diagonal(qv):
            return diag_law(q=qv, sigma_w=1.0)
    else:
        chi0 = derive("chi0", act).to_numpy()

        def diagonal(qv):
            return chi0(q=qv)
    # The pole distance of tanh-family activations sets the quadrature step; others are
    # treated like tanh (unit-scale features), which is conservative for erf and sigmoid.
    return kernel_on_grid(f, None, np.asarray(q, dtype=float), np.asarray(c, dtype=float),
                          n_max=n_max, pole_distance=math.pi / 2, diagonal=diagonal)
