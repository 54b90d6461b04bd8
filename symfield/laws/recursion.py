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


# ------------------------------------------------------------------------------------------
# The recursions as laws: the layer map is the expression; depth is a variable
# ------------------------------------------------------------------------------------------
class RecursionLaw(Law):
    """A law iterated over depth L from the layer-1 covariance [[q1, rho], [rho, q2]].

    ``expr`` is the layer map (layer l covariance -> layer l+1); for ``ntk`` it also holds
    Theta, the layer-l NTK entry. ``at_depth(L)`` composes the map symbolically; ``evaluate``
    and ``to_numpy`` iterate numerically (Theta^1 = Sigma^1).
    """

    @property
    def is_ntk(self) -> bool:
        return self.name == "ntk"

    def _step_maps(self):
        from . import derive

        kernel = derive("kernel", self.activation).expr
        dkernel = derive("derivative_kernel", self.activation).expr
        return kernel, dkernel

    def at_depth(self, depth: int) -> sp.Expr:
        """Sigma^depth_12 (nngp) or Theta^depth_12 (ntk) as an explicit SymPy expression."""
        depth = _check_depth(depth)
        if depth > MAX_SYMBOLIC_DEPTH:
            raise InvalidValueError(f"symbolic depth is limited to {MAX_SYMBOLIC_DEPTH} "
                                    f"(expressions grow quickly); evaluate numerically instead")
        kernel, dkernel = self._step_maps()
        a, b, r, t = q1, q2, rho, rho
        for _ in range(depth - 1):
            def K(x1, x2, x12, expr=kernel):
                return expr.subs({q1: x1, q2: x2, rho: x12}, simultaneous=True)
            new_a = sigma_w**2 * K(a, a, a) + sigma_b**2
            new_b = sigma_w**2 * K(b, b, b) + sigma_b**2
            new_r = sigma_w**2 * K(a, b, r) + sigma_b**2
            dot = sigma_w**2 * dkernel.subs({q1: a, q2: b, rho: r}, simultaneous=True)
            t = new_r + dot * t
            a, b, r = new_a, new_b, new_r
        return t if self.is_ntk else r

    def _point(self, values) -> dict:
        values = dict(values)
        if "L" not in values:
            raise InvalidValueError(f"{self.name} needs the depth L (an integer >= 1)")
        depth = _check_depth(values.pop("L"))
        if "Theta" in values:
            raise InvalidValueError("Theta^1 = Sigma^1 in the NTK recursion; do not pass Theta")
        names = ("q1", "q2", "rho", "sigma_w", "sigma_b")
        parameters = self._parameter_names()
        unknown = sorted(set(values) - set(names) - set(parameters))
        if unknown:
            raise InvalidValueError(f"{self.name} has no variable {unknown[0]!r}; its variables "
                                    f"are: {', '.join(names + parameters)}, L")
        missing = [n for n in names if n not in values]
        if missing:
            raise InvalidValueError(f"{self.name} needs a value for {', '.join(missing)}")
        from .two_input import check_pair

        check_pair(values, self.activation)
        _check_scales(values["sigma_w"], values["sigma_b"])
        for n in ("q1", "q2"):
            if not to_exact(values[n], n) > 0:
                raise InvalidValueError(f"{n} must be > 0 (got {values[n]})")
        return {"depth": depth, **values}

    def _parameter_names(self) -> tuple[str, ...]:
        """The activation's family parameters among the variables (leaky ReLU's alpha)."""
        return tuple(s.name for s in self.variables if s.name in self.activation.parameters)

    def evaluate(self, dps: int = 30, **values: object) -> mpmath.mpf:
        check_dps(dps)
        point = self._point(values)
        extra = {n: point[n] for n in self._parameter_names() if n in point}
        from . import derive

        kernel = derive("kernel", self.activation)
        dkernel = derive("derivative_kernel", self.activation)
        work = min(dps + 10, 100)
        with mpmath.workdps(work + 10):
            a, b, r = (to_mpf(point[n]) for n in ("q1", "q2", "rho"))
            w, s = to_mpf(point["sigma_w"]), to_mpf(point["sigma_b"])
            t = r
            for _ in range(point["depth"] - 1):
                pa = w**2 * kernel.evaluate(dps=work, q1=a, q2=a, rho=a, **extra) + s**2
                pb = w**2 * kernel.evaluate(dps=work, q1=b, q2=b, rho=b, **extra) + s**2
                pr = w**2 * kernel.evaluate(dps=work, q1=a, q2=b, rho=r, **extra) + s**2
                dot = w**2 * dkernel.evaluate(dps=work, q1=a, q2=b, rho=r, **extra)
                t = pr + dot * t
                a, b, r = pa, pb, pr
        with mpmath.workdps(dps):
            return +(t if self.is_ntk else r)

    def to_numpy(self):
        from . import derive

        K = derive("kernel", self.activation).to_numpy()
        Kd = derive("derivative_kernel", self.activation).to_numpy()
        is_ntk = self.is_ntk
        parameters = self._parameter_names()
        law_name = self.name

        def recursion_numpy(*, L: int, q1, q2, rho, sigma_w, sigma_b, **extra) -> np.ndarray:
            unknown = sorted(set(extra) - set(parameters))
            if unknown:
                raise InvalidValueError(f"{law_name} has no variable {unknown[0]!r}")
            depth = _check_depth(L)
            a, b, r = (np.asarray(v, dtype=float) for v in (q1, q2, rho))
            w, s = np.asarray(sigma_w, dtype=float), np.asarray(sigma_b, dtype=float)
            a, b, r, w, s = np.broadcast_arrays(a, b, r, w, s)
            t = r.copy()
            for _ in range(depth - 1):
                bound = np.sqrt(a * b)
                rc = np.clip(r, -bound, bound)
                pa = w**2 * K(q1=a, q2=a, rho=a, **extra) + s**2
                pb = w**2 * K(q1=b, q2=b, rho=b, **extra) + s**2
                pr = w**2 * K(q1=a, q2=b, rho=rc, **extra) + s**2
                t = pr + w**2 * Kd(q1=a, q2=b, rho=rc, **extra) * t
                a, b, r = pa, pb, pr
            return t if is_ntk else r

        recursion_numpy.__name__ = f"{self.name}_{self.activation.name}"
        return recursion_numpy


def _nngp_step(phi):
    from .two_input import COVARIANCE_MAP

    return COVARIANCE_MAP.define(phi)


def _ntk_step(phi):
    from .two_input import DERIVATIVE_KERNEL

    return _nngp_step(phi) + sigma_w**2 * DERIVATIVE_KERNEL.define(phi) * Theta


def _make_definitions():
    from .base import LawDefinition

    nngp = LawDefinition(
        name="nngp",
        title="NNGP recursion: Sigma^{l+1} = sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2 over depth L",
        latex_name=r"\Sigma^{l+1}",
        variables=(q1, q2, rho, sigma_w, sigma_b, L),
        define=_nngp_step,
        convention="Sigma^1 = [[q1, rho], [rho, q2]] (= sigma_w^2 x.x'/n0 + sigma_b^2); the "
                   "expression is the layer map from Sigma^l = [[q1, rho], [rho, q2]]",
        law_class=RecursionLaw,
    )
    ntk = LawDefinition(
        name="ntk",
        title="NTK recursion: Theta^{l+1} = Sigma^{l+1} + sigma_w^2 E[phi'(u1) phi'(u2)] Theta^l",
        latex_name=r"\Theta^{l+1}",
        variables=(q1, q2, rho, sigma_w, sigma_b, L),
        define=_ntk_step,
        convention="NTK parameterisation, Theta^1 = Sigma^1; the expression is the layer map "
                   "with Theta = Theta^l_12 (Jacot et al. 2018 with sigma_w^2 in dSigma)",
        law_class=RecursionLaw,
    )
    return nngp, ntk


ENTRIES = _make_definitions()
