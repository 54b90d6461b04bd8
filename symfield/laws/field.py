"""The field kernel law of a deep random neural field, derived from its microdynamics.

A field layer maps the activities x^{l-1}_j(z) (n channels at each of G positions) to
u^l_i(z') = sum_j sum_z w_ij(z', z) x^{l-1}_j(z) + b_i(z'), the weights independent across
channel pairs and correlated across positions with covariance sigma_w^2 C_w / n, the biases
with covariance sigma_b^2 C_b. ``symfield.microdynamics.field_mean_field_step`` derives the
covariance of u^l at two output positions and two inputs s, t from the moment rule of the
weights (the expectation passes through the finite sums, the Kronecker delta collapses the
channel sums) down to the channel average C(z1, z2) = (1/n) sum_j x_j(z1) x'_j(z2). In the
mean-field limit that average concentrates on one channel's expectation, the Gaussian pair
expectation E[phi(v1) phi(v2)] at the previous layer's kernel entries, which the Gaussian
calculus derives like every other expectation:

    Q^l[s, t, z1', z2'] = sigma_w^2 sum_{z1, z2} C_w[z1', z1, z2', z2] K(Q[s, s, z1, z1],
                          Q[t, t, z2, z2], Q[s, t, z1, z2]) + sigma_b^2 C_b[z1', z2'],

Q = Q^{l-1}, K the kernel law. It holds for n -> infinity at fixed G and depth; one
realisation at few channels needs the position sums to self-average, which long-range
correlated weights prevent (``symfield.laboratory.field`` measures it).

The law is the layer map, as the NNGP law is: its numerics (``FieldLaw.evaluate``,
``to_numpy``) apply it once to given arrays; ``symfield.field_kernel`` iterates the same map
(:func:`field_layer`) over depth with structured covariances.
"""
from __future__ import annotations

from typing import Any, Callable

import mpmath
import numpy as np
import sympy as sp

from ..errors import InvalidValueError, quoted
from ..gaussian.numerics.enclosure import NotEnclosable
from ..expectation import bivariate_expectation
from ..microdynamics import (G, channel_overlap, field_mean_field_step, s, t, z1, z1_out, z2,
                             z2_out)
from ..numbers import LAW_POLICY, check_dps, check_scales, input_digits, magnitude_spread
from ..symbols import q1, q2, rho, sigma_b, sigma_w
from .base import Law, LawDefinition
from .calculus import derive
from .evaluation import EvaluationContext, Float64Context, MultiPrecisionContext
from .two_input import u1, u2

#: The previous layer's kernel, indexed [s, t, z1, z2] like symfield.field_kernel's arrays.
Q = sp.IndexedBase("Q")

NEXT_FIELD_COVARIANCE, FIELD_MEAN_FIELD_STEPS = field_mean_field_step()

#: The kernel law's variables at the entries of Q the position pair (z1, z2) reads.
KERNEL_AT_ENTRIES = {q1: Q[s, s, z1, z1], q2: Q[t, t, z2, z2], rho: Q[s, t, z1, z2]}

#: Largest G of the explicit arrays ``FieldLaw.evaluate`` takes (a dense (G, G, G, G) C_w).
MAX_POSITIONS = 32


def _define(phi) -> sp.Expr:
    pair = bivariate_expectation(phi(u1, 0) * phi(u2, 0), KERNEL_AT_ENTRIES[q1],
                                 KERNEL_AT_ENTRIES[rho], KERNEL_AT_ENTRIES[q2])
    # xreplace: subs would not look inside a sum for an expression of its bound indices
    return NEXT_FIELD_COVARIANCE.xreplace({channel_overlap[z1, z2]: pair})


def field_layer(context: EvaluationContext, kernel: Callable[..., Any], Q_prev: np.ndarray,
                apply_weights: Callable[[np.ndarray], np.ndarray], bias: np.ndarray,
                sw2, sb2) -> np.ndarray:
    """One application of the field law: Q^l from Q^{l-1} = ``Q_prev`` of shape (T, T, G, G).

    ``kernel`` is the kernel law in ``context`` (keyword q1, q2, rho), ``apply_weights(K)``
    the sum over (z1, z2) of C_w(z1', z1; z2', z2) K[..., z1, z2] and ``bias`` C_b; float64
    arrays are evaluated at once, object (mpmath) arrays on the upper triangle of the
    (T G) x (T G) matrix of entries only (it is symmetric)."""
    T, _, positions, _ = Q_prev.shape
    side = T * positions
    M = Q_prev.transpose(0, 2, 1, 3).reshape(side, side)
    d = np.diagonal(M).copy()
    if Q_prev.dtype == object:
        rows, cols = np.triu_indices(side)
        values = kernel(q1=d[rows], q2=d[cols],
                        rho=context.clip_covariance(d[rows], d[cols], M[rows, cols]))
        K = np.empty((side, side), dtype=object)
        K[rows, cols] = values
        K[cols, rows] = values
    else:
        var1, var2 = d[:, None], d[None, :]
        K = kernel(q1=var1, q2=var2, rho=context.clip_covariance(var1, var2, M))
    K = K.reshape(T, positions, T, positions).transpose(0, 2, 1, 3)
    return sw2 * apply_weights(K) + sb2 * bias


def apply_dense_covariance(C_w_array: np.ndarray, K: np.ndarray) -> np.ndarray:
    """sum_{z1, z2} C_w[z1', z1, z2', z2] K[..., z1, z2] for a dense (G, G, G, G) C_w (float64
    or object arrays; leading axes of K broadcast)."""
    return np.tensordot(K, C_w_array, axes=([-2, -1], [1, 3]))


def _dense_weights(C_w_array: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda K: apply_dense_covariance(C_w_array, K)


def _array(value: object, name: str, ndim: int) -> np.ndarray:
    """A finite float64 array of ``ndim`` dimensions with equal sides (InvalidValueError)."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name} must be an array of real numbers "
                                f"(got {quoted(value)})") from None
    if array.ndim != ndim:
        raise InvalidValueError(f"{name} must have {ndim} axes (got shape {array.shape})")
    if not np.all(np.isfinite(array)):
        raise InvalidValueError(f"{name} contains NaN or infinite entries")
    return array


class FieldLaw(Law):
    """The field kernel law: ``expr`` is the layer map at output positions (z'1, z'2) and
    inputs (s, t), a double sum over positions of the derived kernel at the entries of Q."""

    _NAMES = ("Q", "C_w", "C_b", "sigma_w", "sigma_b")

    def _arrays(self, values: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        parameters = {n: values.pop(n) for n in list(values) if n in self.activation.parameters}
        unknown = sorted(set(values) - set(self._NAMES))
        if unknown:
            raise InvalidValueError(f"{self.name} has no variable {unknown[0]!r}; its variables "
                                    f"are: {', '.join(self._NAMES)} (arrays Q (T, T, G, G), "
                                    f"C_w (G, G, G, G), C_b (G, G))")
        missing = [n for n in self._NAMES if n not in values]
        if missing:
            raise InvalidValueError(f"{self.name} needs a value for {', '.join(missing)}")
        prev = _array(values["Q"], "Q", 4)
        T, T2, positions, positions2 = prev.shape
        if T != T2 or positions != positions2 or positions < 1:
            raise InvalidValueError(f"Q must have shape (T, T, G, G) (got {prev.shape})")
        if positions > MAX_POSITIONS:
            raise InvalidValueError(f"{self.name} takes explicit arrays on at most "
                                    f"{MAX_POSITIONS} positions (got G = {positions}); "
                                    f"symfield.field_kernel handles larger grids")
        weights = _array(values["C_w"], "C_w", 4)
        bias = _array(values["C_b"], "C_b", 2)
        if weights.shape != (positions,) * 4 or bias.shape != (positions,) * 2:
            raise InvalidValueError(f"C_w must have shape {(positions,) * 4} and C_b "
                                    f"{(positions,) * 2} for Q on G = {positions} positions "
                                    f"(got {weights.shape} and {bias.shape})")
        matrix = prev.transpose(0, 2, 1, 3).reshape(T * positions, T * positions)
        if not np.allclose(matrix, matrix.T, rtol=1e-12, atol=0) or \
                np.linalg.eigvalsh(matrix).min() < -1e-10 * max(1.0, np.abs(matrix).max()):
            raise InvalidValueError("Q must be a kernel: symmetric and positive semi-definite "
                                    "as a (T G) x (T G) matrix")
        return prev, weights, bias, parameters

    def evaluate(self, dps: int = 30, proven: bool | None = None,
                 **values: object) -> np.ndarray:
        """Q^l as a (T, T, G, G) object array of mpmath numbers, every entry certified to
        ``dps`` digits (the layer map computed at two working precisions that agree),
        from Q = Q^{l-1}, C_w, C_b and the scales. No proven (ball) route yet."""
        if proven:
            raise NotEnclosable(f"{self.name}: no ball enclosure of the field law yet; "
                                f"evaluate(proven=None) certifies by two precisions")
        dps = check_dps(dps)
        values = dict(values)
        prev, weights, bias, parameters = self._arrays(values)
        sw, sb = check_scales(values["sigma_w"], values["sigma_b"])
        kernel_law = derive("kernel", self.activation)
        raw = [float(v) for v in (*prev.ravel(), *weights.ravel(), *bias.ravel())]

        def at(work: int):
            context = MultiPrecisionContext(work)
            law = context.law(kernel_law)
            with mpmath.workdps(work):
                mp = np.vectorize(mpmath.mpf, otypes=[object])
                sw_, sb_ = context.number(sw), context.number(sb)
                out = field_layer(context, lambda **v: law(**v, **parameters), mp(prev),
                                  _dense_weights(mp(weights)), mp(bias), sw_ * sw_, sb_ * sb_)
            return list(out.ravel())

        result = LAW_POLICY.certify(at, dps, magnitude_spread([sw, sb]),
                                    kernel_law.compiled().max_work(dps),
                                    input_digits([sw, sb, *raw]))
        return np.array(result, dtype=object).reshape(prev.shape)

    def certified(self, dps: int = 30, proven: bool | None = None, **values: object):
        raise InvalidValueError(f"{self.name} is array-valued: evaluate(dps, Q=..., C_w=..., "
                                f"C_b=..., sigma_w=..., sigma_b=...) certifies every entry by "
                                f"two working precisions")

    def enclose(self, dps: int = 30, **values: object):
        raise NotEnclosable(f"{self.name}: no ball enclosure of the field law yet")

    def to_numpy(self, method: str = "auto"):
        law_name, kernel_law = self.name, derive("kernel", self.activation)
        arrays = self._arrays

        def field_law_numpy(**values) -> np.ndarray:
            prev, weights, bias, parameters = arrays(dict(values))
            sw, sb = check_scales(values["sigma_w"], values["sigma_b"])
            kernel = kernel_law.to_numpy(method)
            with np.errstate(over="ignore", invalid="ignore"):
                return field_layer(Float64Context(), lambda **v: kernel(**v, **parameters),
                                   prev, _dense_weights(weights), bias, float(sw) ** 2,
                                   float(sb) ** 2)

        field_law_numpy.__name__ = f"{law_name}_{self.activation.name}"
        field_law_numpy.__doc__ = "float64 field layer map Q^{l-1} -> Q^l (arrays)"
        return field_law_numpy


FIELD_KERNEL = LawDefinition(
    name="field_kernel",
    title="field kernel of a deep random neural field: Q^l(z1', z2') from the previous "
          "layer's kernel through the weight covariance C_w",
    latex_name="Q^{l}",
    variables=(s, t, z1_out, z2_out, G, sigma_w, sigma_b),
    define=_define,
    convention="Q[s, t, z1, z2] = Q^{l-1}(x_s, x_t; z1, z2), the previous layer's kernel of "
               "inputs s, t at positions z1, z2 (K^0 = x_s(z1) . x_t(z2) / n0); "
               "(v1, v2) ~ N(0, [[Q[s, s, z1, z1], Q[s, t, z1, z2]], [Q[s, t, z1, z2], "
               "Q[t, t, z2, z2]]]); holds as n -> oo at fixed G and depth",
    law_class=FieldLaw,
    prelude=FIELD_MEAN_FIELD_STEPS,
    unsampled_reason=(
        "the field law is checked against sampled fields by symfield.laboratory.field "
        "(check_field: n channels on G positions, weights drawn with the covariance), whose "
        "statistics are per position pair, not a layered net's"),
)


def field_law(activation) -> FieldLaw:
    """The field kernel law for ``activation``, derived by the Gaussian calculus."""
    return derive(FIELD_KERNEL, activation)


__all__ = ["FIELD_KERNEL", "FieldLaw", "KERNEL_AT_ENTRIES", "MAX_POSITIONS", "Q",
           "apply_dense_covariance",
           "field_law", "field_layer"]
