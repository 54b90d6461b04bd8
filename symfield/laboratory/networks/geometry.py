"""Macroscopic statistics of sampled layers (theory.md §2.2, §6.2, §6.4), as plain functions.

Conventions: a layer's units run along the *last* axis of value arrays (``(n,)`` or
``(batch, n)``), and along the *first* axis of tangent arrays (``(n, k)``: column ``a`` is
e_a = d(layer)/d(xi^a)), matching ``J @ V`` with ``V`` of shape ``(n0, k)``. Second derivatives
are ``(n, k, k)`` arrays ``H[:, a, b] = d_a d_b (layer)``.
"""
from __future__ import annotations

import numpy as np

from ...errors import InvalidValueError, quoted
from .validation import check_shape, real_array


def _is_real_number(value: object) -> bool:
    """A real scalar (int, float, numpy real), not a bool, text or array."""
    return isinstance(value, (int, float, np.integer, np.floating)) \
        and not isinstance(value, (bool, np.bool_))


def mean_square(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """(1/n) sum_i v_i^2: q^l for pre-activations, A^l for post-activations."""
    values = real_array("values", values, finite=False)
    return np.mean(values * values, axis=axis)


def mean_product(first: np.ndarray, second: np.ndarray, axis: int = -1) -> np.ndarray:
    """(1/n) sum_i v_i w_i: q^l_12 for pre-activations, C^l for post-activations."""
    return np.mean(real_array("first", first, finite=False)
                   * real_array("second", second, finite=False), axis=axis)


def correlation(first: np.ndarray, second: np.ndarray, axis: int = -1) -> np.ndarray:
    """q_12 / sqrt(q_11 q_22): c^l for pre-activations."""
    return mean_product(first, second, axis) / np.sqrt(
        mean_square(first, axis) * mean_square(second, axis))


def metric_tensor(tangents: np.ndarray) -> np.ndarray:
    """g_ab = (1/n) e_a . e_b for tangents of shape (n, k); returns (k, k)."""
    tangents = real_array("tangents", tangents, finite=False)
    if tangents.ndim != 2:
        raise InvalidValueError(f"tangents must have shape (n, k), got {tangents.shape}")
    return tangents.T @ tangents / tangents.shape[0]


def curve_curvature_squared(velocity: np.ndarray, acceleration: np.ndarray) -> float:
    """Poole's local curvature kappa^2 = |a|^2/|v|^4 - (v.a)^2/|v|^6 of a curve (theory §6.4).

    Evaluated as |a_perp|^2/|v|^4 with a_perp = a - (v.a/|v|^2) v: the same number, but never
    negative from cancellation.
    """
    velocity = real_array("velocity", velocity, finite=False).ravel()
    acceleration = real_array("acceleration", acceleration, finite=False).ravel()
    if velocity.shape != acceleration.shape:
        raise InvalidValueError(f"velocity and acceleration must have the same number of "
                                f"entries, got {velocity.size} and {acceleration.size}")
    speed_squared = float(velocity @ velocity)
    if speed_squared == 0.0:
        raise InvalidValueError("the curve's velocity is zero: its curvature is undefined")
    normal = acceleration - (float(velocity @ acceleration) / speed_squared) * velocity
    return float(normal @ normal) / speed_squared**2


def normalized_curve_curvature_squared(velocity: np.ndarray, acceleration: np.ndarray) -> float:
    """kappa_bar^2 = N kappa^2 with N the layer width (Poole's width-independent curvature)."""
    return np.asarray(velocity).size * curve_curvature_squared(velocity, acceleration)


def second_fundamental_mean_square(tangents: np.ndarray, second: np.ndarray,
                                   normal_only: bool = True) -> np.ndarray:
    """(1/n) |H_ab|^2 for every pair (a, b); with ``normal_only`` the part H_perp normal to
    span{e_1..e_k} (theory §6.4). Returns (k, k)."""
    tangents = real_array("tangents", tangents, finite=False)
    second = real_array("second", second, finite=False)
    if tangents.ndim != 2:
        raise InvalidValueError(f"tangents must have shape (n, k), got {tangents.shape}")
    n, k = tangents.shape
    if second.shape != (n, k, k):
        raise InvalidValueError(
            f"second derivatives must have shape {(n, k, k)}, got {second.shape}")
    flat = second.reshape(n, k * k)
    if normal_only:
        basis, _ = np.linalg.qr(tangents)  # orthonormal basis of the tangent space
        flat = flat - basis @ (basis.T @ flat)
    return np.einsum("ij,ij->j", flat, flat).reshape(k, k) / n


def normalized_extrinsic_curvature_squared(tangents: np.ndarray, second: np.ndarray) -> np.ndarray:
    """kappa_bar_ab^2 = N |H_perp_ab|^2 / (|e_a|^2 |e_b|^2) = h_ab / (g_aa g_bb), with
    h = |H_perp|^2/N (theory §6.4, the (1 + 2 delta_ab) law). For k = 1 this is N kappa^2."""
    diagonal = np.diag(metric_tensor(tangents))
    if np.any(diagonal == 0.0):
        raise InvalidValueError("a tangent vector is zero: the curvature is undefined")
    return second_fundamental_mean_square(tangents, second) / np.outer(diagonal, diagonal)


def great_circle(angle: float, first: np.ndarray, second: np.ndarray,
                 radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position, velocity and acceleration of h(t) = radius (cos t e1 + sin t e2) at t = angle.

    e1, e2 are ``first`` and ``second`` orthonormalised (Gram-Schmidt). Poole et al. use
    radius = sqrt(n0 q) so that every point has q^0 = q; then kappa_bar^2 = 1/q at the input.
    """
    first = real_array("first", first)
    second = real_array("second", second)
    if first.ndim != 1:
        raise InvalidValueError(f"first must be a vector, got shape {first.shape}")
    check_shape("second", second, first.shape, f"{first.shape} like first")
    if not (_is_real_number(radius) and np.isfinite(radius) and radius > 0):
        raise InvalidValueError(f"radius must be finite and positive, got {quoted(radius)}")
    if not (_is_real_number(angle) and np.isfinite(angle)):
        raise InvalidValueError(f"angle must be a finite real number, got {quoted(angle)}")
    norm1 = np.linalg.norm(first)
    if norm1 == 0.0:
        raise InvalidValueError("first must be a non-zero vector")
    e1 = first / norm1
    e2 = second - (e1 @ second) * e1
    norm2 = np.linalg.norm(e2)
    if norm2 <= 1e-12 * np.linalg.norm(second) or norm2 == 0.0:
        raise InvalidValueError("second must be non-zero and not parallel to first")
    e2 = e2 / norm2
    cos, sin = np.cos(angle), np.sin(angle)
    position = radius * (cos * e1 + sin * e2)
    velocity = radius * (-sin * e1 + cos * e2)
    return position, velocity, -position
