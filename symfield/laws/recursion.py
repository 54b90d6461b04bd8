"""NNGP and NTK recursions over depth (theory.md section 9), NTK parameterisation.

Sigma^1 = sigma_w^2 x.x'/n0 + sigma_b^2, Theta^1 = Sigma^1, and for l >= 1
Sigma^{l+1} = sigma_w^2 K(Sigma^l) + sigma_b^2, dSigma^{l+1} = sigma_w^2 Kdot(Sigma^l),
Theta^{l+1} = Sigma^{l+1} + dSigma^{l+1} * Theta^l, with K and Kdot the derived kernel and
derivative kernel. The layer maps are the laws' expressions; ``at_depth`` composes them
symbolically for small depths; numerics iterate (float64, or mpmath with certified entries).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, get_activation
from ..errors import InvalidValueError
from ..gaussian.expectation import Expectation
from ..symbols import L, Theta, q1, q2, rho, sigma_b, sigma_w
from .base import Law, check_dps, to_exact, to_mpf

MAX_SYMBOLIC_DEPTH = 6


def _check_depth(depth: object) -> int:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InvalidValueError(f"depth must be an integer >= 1 (got {depth!r})")
    return int(depth)


def _check_scales(sw: object, sb: object) -> tuple:
    w, b = to_exact(sw, "sigma_w"), to_exact(sb, "sigma_b")
    if not w > 0:
        raise InvalidValueError(f"sigma_w must be > 0 (got {sw})")
    if b < 0:
        raise InvalidValueError(f"sigma_b must be >= 0 (got {sb})")
    return w, b


def _input_matrix(inputs: object, exact: bool = False) -> np.ndarray:
    """The inputs as an (m, n0) array: float64, or (exact=True) exact numbers kept exact."""
    try:
        X = np.array(inputs, dtype=object if exact else float)
    except (TypeError, ValueError):
        raise InvalidValueError("inputs must be a numeric array of shape (m, n0)") from None
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise InvalidValueError(f"inputs must have shape (m, n0) with m, n0 >= 1 (got {X.shape})")
    if exact:
        return np.vectorize(lambda v: to_exact(v, "input entry"), otypes=[object])(X)
    if not np.all(np.isfinite(X)):
        raise InvalidValueError("inputs contain NaN or infinite entries")
    return X


def _kernels(activation):
    from . import derive

    act = get_activation(activation)
    return act, derive("kernel", act), derive("derivative_kernel", act)


def _layer_np(K, Kd, Sigma: np.ndarray, sw: float, sb: float):
    d = np.diag(Sigma)
    Q1, Q2 = np.meshgrid(d, d, indexing="ij")
    bound = np.sqrt(Q1 * Q2)
    R = np.clip(Sigma, -bound, bound)  # rounding can step over |rho| = sqrt(q1 q2)
    new = sw**2 * K(q1=Q1, q2=Q2, rho=R) + sb**2
    dot = sw**2 * Kd(q1=Q1, q2=Q2, rho=R)
    return new, dot


def nngp_ntk(activation: str | Activation, inputs: object, depth: int, sigma_w: object,
             sigma_b: object, dps: int | None = None):
    """The NNGP kernel Sigma^depth and the NTK Theta^depth for the rows of ``inputs``.

    float64 numpy arrays when ``dps`` is None; otherwise ``mpmath.matrix`` objects whose
    entries are certified to ``dps`` digits at each layer (computed with 10 guard digits).
    """
    depth = _check_depth(depth)
    sw, sb = _check_scales(sigma_w, sigma_b)
    X = _input_matrix(inputs, exact=dps is not None)
    act, kernel, dkernel = _kernels(activation)
    n0 = X.shape[1]
    if dps is None:
        swf, sbf = float(sw), float(sb)
        Sigma = swf**2 * (X @ X.T) / n0 + sbf**2
        Theta_ = Sigma.copy()
        K, Kd = kernel.to_numpy(), dkernel.to_numpy()
        for _ in range(depth - 1):
            Sigma, dot = _layer_np(K, Kd, Sigma, swf, sbf)
            Theta_ = Sigma + dot * Theta_
        return Sigma, Theta_
    check_dps(dps)
    work = min(dps + 10, 100)
    with mpmath.workdps(work + 10):
        w, b = to_mpf(sw), to_mpf(sb)
        m = X.shape[0]
        Xm = [[to_mpf(v) for v in row] for row in X]
        Sigma = mpmath.matrix(m, m)
        for i in range(m):
            for j in range(m):
                Sigma[i, j] = w**2 * mpmath.fsum(a * c for a, c in zip(Xm[i], Xm[j])) / n0 + b**2
        Theta_ = Sigma.copy()
        for _ in range(depth - 1):
            new, dot = mpmath.matrix(m, m), mpmath.matrix(m, m)
            for i in range(m):
                for j in range(i, m):
                    point = dict(q1=Sigma[i, i], q2=Sigma[j, j], rho=Sigma[i, j])
                    new[i, j] = new[j, i] = w**2 * kernel.evaluate(dps=work, **point) + b**2
                    dot[i, j] = dot[j, i] = w**2 * dkernel.evaluate(dps=work, **point)
            updated = mpmath.matrix(m, m)
            for i in range(m):
                for j in range(m):
                    updated[i, j] = new[i, j] + dot[i, j] * Theta_[i, j]
            Sigma, Theta_ = new, updated
        return _round(Sigma, dps), _round(Theta_, dps)


def _round(M, dps: int):
    with mpmath.workdps(dps):
        out = mpmath.matrix(M.rows, M.cols)
        for i in range(M.rows):
            for j in range(M.cols):
                out[i, j] = +M[i, j]
        return out
