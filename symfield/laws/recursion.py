"""NNGP and NTK recursions over depth (theory.md section 9), NTK parameterisation.

Sigma^1 = sigma_w^2 x.x'/n0 + sigma_b^2, Theta^1 = Sigma^1, and for l >= 1
Sigma^{l+1} = sigma_w^2 K(Sigma^l) + sigma_b^2, dSigma^{l+1} = sigma_w^2 Kdot(Sigma^l),
Theta^{l+1} = Sigma^{l+1} + dSigma^{l+1} * Theta^l, with K and Kdot the derived kernel and
derivative kernel.

The recursion is written once (:func:`propagate`), against an evaluation context: exactly in
SymPy (``at_depth``), at any precision in mpmath (``evaluate``, ``nngp_ntk(dps=...)``: the
whole recursion is certified at two working precisions), vectorised in float64
(``to_numpy``, ``nngp_ntk``). It acts on a set of diagonal entries and a list of
off-diagonal pairs, so a Gram matrix is updated on its upper triangle only and a single pair
(q1, q2, rho) is the 2 x 2 case.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, SymfieldError, quoted
from ..gaussian.numerics.compile import FusedFloat64
from ..numbers import (LAW_POLICY, check_dps, check_scales, input_digits, magnitude_spread,
                       to_exact)
from ..symbols import L, Theta, q1, q2, rho, sigma_b, sigma_w
from .base import Law, LawDefinition
from .calculus import derive
from .evaluation import (BallContext, EvaluationContext, Float64Context, MultiPrecisionContext,
                         SymbolicContext)
from .two_input import COVARIANCE_MAP, DERIVATIVE_KERNEL, PAIR_MEAN_FIELD_STEPS, check_pair

MAX_SYMBOLIC_DEPTH = 6


def _max_work(activation: Activation, dps: int) -> int:
    """Working-digit cap of a recursion: that of its costlier kernel route."""
    return min(derive(name, activation).compiled().max_work(dps)
               for name in ("kernel", "derivative_kernel"))


def check_depth(depth: object) -> int:
    """The depth, if an integer >= 1 (InvalidValueError otherwise)."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InvalidValueError(f"depth must be an integer >= 1 (got {quoted(depth)})")
    return int(depth)


@dataclass
class Layers:
    """Sigma and Theta at the last layer: diagonal entries and the off-diagonal pairs."""

    diagonal: np.ndarray
    off_diagonal: np.ndarray
    ntk_diagonal: np.ndarray
    ntk_off_diagonal: np.ndarray


class _RecursionFloat64(Float64Context):
    """float64 for a recursion's own layers: the kernels' evaluators without the input
    checks of ``to_numpy`` (the covariances are clipped, and a variance that overflowed is
    +inf, the law's value, not a user's mistake to refuse)."""

    def law(self, law: Law):
        evaluate = law.numpy_evaluator()
        names = [s.name for s in law.variables]
        defaults = {n: float(sp.S(d)) for n, (_s, d) in law.activation.parameters.items()}

        def by_name(**values):
            return evaluate(*(np.asarray(values[n] if n in values else defaults[n], dtype=float)
                              for n in names))
        return by_name


def _overflowed_ntk_step(activation: Activation, theta: np.ndarray, var1, var2, cov,
                         previous, sw2, sb2, parameters: dict) -> np.ndarray:
    """Theta = sw2 K + sb2 + sw2 Kdot Theta_prev where float64 gave NaN from finite inputs:
    K and Kdot Theta_prev overflowed with opposite signs (exp's kernels at q = 1e8, inf -
    inf). The step is recomputed from the same float64 inputs with the laws certified in
    mpmath (no overflow there) and rounded once: +-inf or the finite value, never NaN. Inputs
    that are infinite themselves carry no more information: those entries stay NaN."""
    arrays = np.broadcast_arrays(theta, var1, var2, cov, previous,
                                 *[np.asarray(v, dtype=float) for v in parameters.values()])
    redo = np.isnan(arrays[0])
    for a in arrays[1:]:
        redo &= np.isfinite(a)
    if not np.any(redo):
        return theta
    kernel, dot = derive("kernel", activation), derive("derivative_kernel", activation)
    theta = np.array(arrays[0], dtype=float)
    names = list(parameters)
    for index in zip(*np.nonzero(redo)):
        a, b, r, t, *extra = (float(x[index]) for x in arrays[1:])
        point = {"q1": a, "q2": b, "rho": r, **dict(zip(names, extra))}
        try:
            with mpmath.workdps(30):
                value = (sw2 * kernel.evaluate(dps=20, **point) + sb2
                         + sw2 * dot.evaluate(dps=20, **point) * t)
        except SymfieldError:   # a singular point of the laws: NaN is then the honest value
            continue
        theta[index] = float(value)
    return theta


def propagate(context: EvaluationContext, activation: Activation, diagonal: np.ndarray,
              rows: np.ndarray, cols: np.ndarray, off_diagonal: np.ndarray, depth: int,
              sigma_w_value, sigma_b_value, parameters: dict | None = None,
              ntk_diagonal: bool = True) -> Layers:
    """Iterate the layer map depth - 1 times from Sigma^1 (= Theta^1).

    ``diagonal[i]`` are the variances Sigma^1_ii, ``off_diagonal[k]`` the covariances
    Sigma^1_{rows[k], cols[k]} (arrays in the context's representation; a leading axis indexes
    the entries, further axes broadcast). ``ntk_diagonal=False`` skips Theta_ii where only the
    pairs are wanted.
    """
    parameters = parameters or {}
    kernel = context.law(derive("kernel", activation))
    dot_kernel = context.law(derive("derivative_kernel", activation))
    sw2, sb2 = sigma_w_value**2, sigma_b_value**2
    theta_diagonal, theta_off = diagonal, off_diagonal
    for _ in range(depth - 1):
        var1, var2 = diagonal[rows], diagonal[cols]
        cov = context.clip_covariance(var1, var2, off_diagonal)
        new_diagonal = sw2 * kernel(q1=diagonal, q2=diagonal, rho=diagonal, **parameters) + sb2
        new_off = sw2 * kernel(q1=var1, q2=var2, rho=cov, **parameters) + sb2
        previous = theta_off
        theta_off = new_off + sw2 * dot_kernel(q1=var1, q2=var2, rho=cov, **parameters) * theta_off
        if isinstance(context, Float64Context):
            theta_off = _overflowed_ntk_step(activation, theta_off, var1, var2, cov, previous,
                                             sw2, sb2, parameters)
        if ntk_diagonal:
            theta_diagonal = new_diagonal + sw2 * dot_kernel(
                q1=diagonal, q2=diagonal, rho=diagonal, **parameters) * theta_diagonal
        diagonal, off_diagonal = new_diagonal, new_off
    return Layers(diagonal, off_diagonal, theta_diagonal, theta_off)


# ------------------------------------------------------------------------------------------
# Gram matrices of input vectors
# ------------------------------------------------------------------------------------------
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


def _gram(context: EvaluationContext, X: np.ndarray, sw, sb) -> np.ndarray:
    """Sigma^1 = sigma_w^2 X X^T / n0 + sigma_b^2."""
    if isinstance(context, Float64Context):
        return sw**2 * (X @ X.T) / X.shape[1] + sb**2
    m, n0 = X.shape
    rows = [[context.number(v, "input entry") for v in row] for row in X]
    gram = np.empty((m, m), dtype=object)
    for i in range(m):
        for j in range(i, m):
            dot = context.total(a * b for a, b in zip(rows[i], rows[j]))
            gram[i, j] = gram[j, i] = sw**2 * dot / n0 + sb**2
    return gram


@lru_cache(maxsize=64)
def pair_kernels_float64(activation: Activation) -> Callable[..., tuple]:
    """(K, Kdot)(q1, q2, rho, *parameters) in float64: for closed forms one fused function
    (the angle shared by the kernel and the derivative kernel), otherwise the two laws'
    evaluators (their inputs assumed checked: the recursion's covariances are clipped)."""
    kernel = derive("kernel", activation)
    dot = derive("derivative_kernel", activation)
    if kernel.closed_form and dot.closed_form:
        fused = FusedFloat64([kernel.expr, dot.expr], kernel.variables)

        def both(*args):
            return tuple(fused(*args))
        return both
    first, second = kernel.numpy_evaluator(), dot.numpy_evaluator()

    def separately(*args):
        return first(*args), second(*args)
    return separately


def _parameter_names(act: Activation) -> list[str]:
    """The activation's parameters among the kernel's variables (defaults in the recursion)."""
    variables = derive("kernel", act).variables
    return [n for n, (symbol, _d) in act.parameters.items() if symbol in variables]


def _gram_layers_float64(act: Activation, X: np.ndarray, depth: int, sw: float,
                         sb: float) -> tuple[np.ndarray, np.ndarray]:
    """The recursion on whole Gram matrices: the variances broadcast along rows and columns
    (no gathering of pairs), the updates in place."""
    pair = pair_kernels_float64(act)
    closed = derive("kernel", act).closed_form and derive("derivative_kernel", act).closed_form
    parameters = [float(sp.S(d)) for _n, (_s, d) in act.parameters.items()
                  if _s in derive("kernel", act).variables]
    sw2, sb2 = sw * sw, sb * sb
    S = X @ X.T
    S *= sw2 / X.shape[1]
    S += sb2
    T = S.copy()
    for layer in range(2, depth + 1):
        d = np.diagonal(S).copy()
        var1, var2 = d[:, None], d[None, :]
        if not closed:  # quadratures need |rho| <= sqrt(q1 q2) exactly; closed forms clamp
            bound = np.sqrt(var1 * var2)
            S = np.minimum(np.maximum(S, -bound), bound)
        K, Kdot = pair(var1, var2, S, *parameters)
        # a law's float64 form need not be symmetric in (q1, q2) to the last ulp (the erf
        # kernel's (1 + 2 q1)(1 + 2 q2)): the Gram matrices are, exactly
        K = 0.5 * (K + K.T)
        Kdot = 0.5 * (Kdot + Kdot.T)
        K *= sw2
        K += sb2
        Kdot *= sw2
        previous = T.copy()
        T *= Kdot
        T += K
        if np.isnan(T).any():
            T = _overflowed_ntk_step(act, T, var1, var2, S, previous, sw2, sb2,
                                     dict(zip(_parameter_names(act), parameters)))
        if np.isnan(K).any() or np.isnan(T).any():
            # a kernel of overflowed variances (inf - inf, inf/inf): the covariance's value
            # and sign left float64 with them; NaN would be a silent wrong answer
            raise InvalidValueError(
                f"the NNGP/NTK recursion of {act.name} leaves float64 at layer {layer} (a "
                f"variance beyond 1.8e308 takes the covariances' values with it); use dps=30 "
                f"(mpmath has no such limit) or fewer layers or a smaller sigma_w")
        S = K
    return S, T


def _gram_layers(context: EvaluationContext, act: Activation, X: np.ndarray, depth: int,
                 sw, sb) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(context, Float64Context):
        return _gram_layers_float64(act, X, depth, sw, sb)
    gram = _gram(context, X, sw, sb)
    m = gram.shape[0]
    rows, cols = np.triu_indices(m, 1)
    out = propagate(context, act, np.diagonal(gram).copy(), rows, cols, gram[rows, cols],
                    depth, sw, sb)
    result = []
    for diagonal, off in ((out.diagonal, out.off_diagonal),
                          (out.ntk_diagonal, out.ntk_off_diagonal)):
        M = np.empty((m, m), dtype=gram.dtype)
        M[np.arange(m), np.arange(m)] = diagonal
        M[rows, cols] = off
        M[cols, rows] = off
        result.append(M)
    return result[0], result[1]


def nngp_ntk(activation: str | Activation, inputs: object, depth: int, sigma_w: object,
             sigma_b: object, dps: int | None = None, proven: bool = False):
    """The NNGP kernel Sigma^depth and the NTK Theta^depth for the rows of ``inputs``.

    float64 numpy arrays when ``dps`` is None; otherwise ``mpmath.matrix`` objects whose
    entries are certified to ``dps`` digits (the whole recursion computed at two working
    precisions that agree on every entry). With ``proven=True`` (and a ``dps``, default 30):
    (m, m) numpy arrays of ``Enclosure`` balls, each with rad <= 10^-dps |value| / 2, from
    the recursion run in ball arithmetic (as ``derive("ntk", act).enclose``).
    """
    depth = check_depth(depth)
    sw, sb = check_scales(sigma_w, sigma_b)
    act = get_activation(activation)
    if not isinstance(proven, bool):
        raise InvalidValueError(f"proven must be True or False (got {quoted(proven)})")
    X = _input_matrix(inputs, exact=dps is not None or proven)
    if proven:
        return _proven_gram_layers(act, X, depth, sw, sb, check_dps(30 if dps is None else dps))
    if dps is None:
        context = Float64Context()
        return _gram_layers(context, act, X, depth, context.number(sw), context.number(sb))
    dps = check_dps(dps)

    def at(work: int):
        context = MultiPrecisionContext(work)
        with mpmath.workdps(work):
            S, T = _gram_layers(context, act, X, depth, context.number(sw), context.number(sb))
        return [*S.ravel(), *T.ravel()]

    values = LAW_POLICY.certify(at, dps, magnitude_spread([sw, sb]), _max_work(act, dps),
                                input_digits([sw, sb, *X.ravel()]))
    m = X.shape[0]
    return mpmath.matrix(np.reshape(values[:m * m], (m, m)).tolist()), \
        mpmath.matrix(np.reshape(values[m * m:], (m, m)).tolist())


def _proven_gram_layers(act: Activation, X: np.ndarray, depth: int, sw, sb,
                        dps: int) -> tuple[np.ndarray, np.ndarray]:
    from ..gaussian.numerics.enclosure import enclose_computation

    context = BallContext(_diagonal_law)
    m = X.shape[0]

    def compute():
        S, T = _gram_layers(context, act, X, depth, context.number(sw), context.number(sb))
        return [*S.ravel(), *T.ravel()]

    balls = enclose_computation(compute, dps, f"the NNGP/NTK of {act.name} at depth {depth}")
    S, T = np.empty(m * m, dtype=object), np.empty(m * m, dtype=object)
    S[:], T[:] = balls[:m * m], balls[m * m:]
    return S.reshape(m, m), T.reshape(m, m)


# ------------------------------------------------------------------------------------------
# The recursions as laws: the layer map is the expression; depth is a variable
# ------------------------------------------------------------------------------------------
def _diagonal_law(law: Law) -> tuple[Law, dict] | None:
    """The single-input law a pair law equals at rho = q1 = q2 (one Gaussian variable):
    E[phi(u)^2] = chi0(q), E[phi'(u)^2] = chi1(q) at sigma_w = 1."""
    if law.name == "kernel":
        return derive("chi0", law.activation), {}
    if law.name == "derivative_kernel":
        return derive("chi1", law.activation), {"sigma_w": 1}
    return None


class RecursionLaw(Law):
    """A law iterated over depth L from the layer-1 covariance [[q1, rho], [rho, q2]].

    ``expr`` is the layer map (layer l covariance -> layer l+1); for ``ntk`` it also holds
    Theta, the layer-l NTK entry. ``at_depth(L)`` composes the map symbolically; ``evaluate``
    and ``to_numpy`` iterate numerically (Theta^1 = Sigma^1).
    """

    @property
    def is_ntk(self) -> bool:
        return self.name == "ntk"

    def _pair(self, context: EvaluationContext, depth: int, a, b, r, sw, sb,
              parameters: dict | None = None):
        """Sigma^depth_12 or Theta^depth_12 from the pair (a, b, r) in ``context``."""
        diagonal, off = context.array([a, b]), context.array([r])
        if isinstance(context, Float64Context):
            diagonal, off = np.array(np.broadcast_arrays(a, b, r)[:2]), np.asarray(r, float)[None]
            off = np.broadcast_to(off, (1,) + diagonal.shape[1:])
        out = propagate(context, self.activation, diagonal, np.array([0]), np.array([1]), off,
                        depth, sw, sb, parameters, ntk_diagonal=False)
        return (out.ntk_off_diagonal if self.is_ntk else out.off_diagonal)[0]

    def at_depth(self, depth: int) -> sp.Expr:
        """Sigma^depth_12 (nngp) or Theta^depth_12 (ntk) as an explicit SymPy expression."""
        depth = check_depth(depth)
        if depth > MAX_SYMBOLIC_DEPTH:
            raise InvalidValueError(f"symbolic depth is limited to {MAX_SYMBOLIC_DEPTH} "
                                    f"(expressions grow quickly); evaluate numerically instead")
        return self._pair(SymbolicContext(), depth, q1, q2, rho, sigma_w, sigma_b)

    def _point(self, values) -> dict:
        values = dict(values)
        if "L" not in values:
            raise InvalidValueError(f"{self.name} needs the depth L (an integer >= 1)")
        depth = check_depth(values.pop("L"))
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
        check_pair(values, self.activation)
        check_scales(values["sigma_w"], values["sigma_b"])
        for n in ("q1", "q2"):
            if not to_exact(values[n], n) > 0:
                raise InvalidValueError(f"{n} must be > 0 (got {values[n]})")
        return {"depth": depth, **values}

    def _parameter_names(self) -> tuple[str, ...]:
        """The activation's family parameters among the variables (leaky ReLU's alpha)."""
        return tuple(s.name for s in self.variables if s.name in self.activation.parameters)

    def evaluate(self, dps: int = 30, proven: bool | None = None,
                 **values: object) -> mpmath.mpf:
        """Sigma^L_12 or Theta^L_12 to dps digits: two working precisions agree on them, or
        with ``proven=True`` rounded from the recursion's proven enclosure (``enclose``;
        ``Law.certified`` says which)."""
        if proven is not None:
            return self.certified(dps, proven=proven, **values).value
        dps = check_dps(dps)
        point = self._point(values)
        parameters = {n: point[n] for n in self._parameter_names() if n in point}
        raw = [point[n] for n in ("q1", "q2", "rho", "sigma_w", "sigma_b")]

        def at(work: int):
            context = MultiPrecisionContext(work)
            with mpmath.workdps(work):
                return self._pair(context, point["depth"], *(context.number(v) for v in raw),
                                  parameters)

        return LAW_POLICY.certify(at, dps, magnitude_spread(raw),
                                  _max_work(self.activation, dps), input_digits(raw))

    def enclose(self, dps: int = 30, **values: object):
        """A proven enclosure of Sigma^L_12 (nngp) or Theta^L_12 (ntk): the recursion run in
        ball arithmetic (BallContext: each layer's kernels enclosed on the previous layer's
        balls, so the radius carries every rounding and truncation through the depth), at a
        working precision raised until rad <= 10^-dps |value| / 2. Same values as
        ``evaluate``. NotEnclosable where a kernel cannot be enclosed (a coupled
        two-variable integrand), PrecisionError with the digits proven
        when the effort cap is reached first."""
        from ..gaussian.numerics.enclosure import enclose_computation

        dps = check_dps(dps)
        point = self._point(values)
        parameters = {n: point[n] for n in self._parameter_names() if n in point}
        raw = [point[n] for n in ("q1", "q2", "rho", "sigma_w", "sigma_b")]
        context = BallContext(_diagonal_law)

        def compute():
            return [self._pair(context, point["depth"], *(context.number(v) for v in raw),
                               parameters)]

        return enclose_computation(compute, dps, f"{self.name} for {self.activation.name} "
                                   f"at depth {point['depth']}")[0]

    def to_numpy(self):
        is_ntk, parameters, law_name = self.is_ntk, self._parameter_names(), self.name
        context = _RecursionFloat64()
        pair = self._pair

        def recursion_numpy(*, L: int, q1, q2, rho, sigma_w, sigma_b, **extra) -> np.ndarray:
            unknown = sorted(set(extra) - set(parameters))
            if unknown:
                raise InvalidValueError(f"{law_name} has no variable {unknown[0]!r}")
            depth = check_depth(L)
            a, b, r, w, s = np.broadcast_arrays(*(np.asarray(v, dtype=float)
                                                  for v in (q1, q2, rho, sigma_w, sigma_b)))
            return pair(context, depth, a, b, r, w, s, extra)

        recursion_numpy.__name__ = f"{self.name}_{self.activation.name}"
        recursion_numpy.__doc__ = f"float64 {'NTK' if is_ntk else 'NNGP'} recursion over depth L"
        return recursion_numpy


def _ntk_step(phi):
    return COVARIANCE_MAP.define(phi) + sigma_w**2 * DERIVATIVE_KERNEL.define(phi) * Theta


NNGP = LawDefinition(
    name="nngp",
    title="NNGP recursion: Sigma^{l+1} = sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2 over depth L",
    latex_name=r"\Sigma^{l+1}",
    variables=(q1, q2, rho, sigma_w, sigma_b, L),
    define=COVARIANCE_MAP.define,
    convention="Sigma^1 = [[q1, rho], [rho, q2]] (= sigma_w^2 x.x'/n0 + sigma_b^2); the "
               "expression is the layer map from Sigma^l = [[q1, rho], [rho, q2]]",
    law_class=RecursionLaw,
    prelude=PAIR_MEAN_FIELD_STEPS,
    sampled_check="depth_covariance",
)

NTK = LawDefinition(
    name="ntk",
    title="NTK recursion: Theta^{l+1} = Sigma^{l+1} + sigma_w^2 E[phi'(u1) phi'(u2)] Theta^l",
    latex_name=r"\Theta^{l+1}",
    variables=(q1, q2, rho, sigma_w, sigma_b, L),
    define=_ntk_step,
    convention="NTK parameterisation, Theta^1 = Sigma^1; the expression is the layer map "
               "with Theta = Theta^l_12 (Jacot et al. 2018 with sigma_w^2 in dSigma)",
    law_class=RecursionLaw,
    prelude=PAIR_MEAN_FIELD_STEPS,
    unsampled_reason=(
        "the empirical NTK is a sum over every weight and bias of products of the output's "
        "parameter gradients (NTK parameterisation); the laboratory's sampled networks propagate "
        "inputs and input tangents (and back-propagate to the pre-activations), never parameter "
        "gradients, so they give no estimate of Theta. The recursion is checked against an "
        "independent reference recursion in tests/test_recursions.py, and its layer map's parts by "
        "sampled plans: Sigma by nngp's, sigma_w^2 E[phi'(u1) phi'(u2)] by derivative_kernel's"),
)

ENTRIES = (NNGP, NTK)
