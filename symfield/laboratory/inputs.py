"""Input geometry for the checks: points on the sphere |x|^2 = n0 q0 and curves through them.

Every object here is built so that the mean-field statement it feeds is exact at the input:
- tangent directions are orthogonal to the base point (the metric law concerns directions
  tangent to the sphere; the radial direction is stretched by V'(q), not chi1);
- the base point is orthogonal to the first ``k`` coordinate axes, so that coordinate
  directions (the domino theorem's i', i'') are exact tangent directions, and the symmetry
  x_a -> -x_a makes E[(J^T J)_ab] = 0 exactly for a != b;
- curves are great circles (Poole's setting) or the flat (Clifford) torus: both have a
  stationary input kernel, which is what the curvature recursions assume (theory 6.4).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValueError


#: Largest input mean square (the square of the largest weight scale): beyond it float64
#: pre-activations of the deeper layers overflow.
MAX_Q0 = 1e6


def check_q0(q0: float) -> float:
    """The input mean square |x|^2/n0: a finite number in (0, MAX_Q0]."""
    try:
        value = float(q0)
    except (TypeError, ValueError, OverflowError):
        value = float("nan")
    if not (np.isfinite(value) and 0 < value <= MAX_Q0):
        shown = repr(q0) if isinstance(q0, (int, float, np.number)) else type(q0).__name__
        raise InvalidValueError(f"q0 (the input mean square |x|^2/n0) must be > 0 and at most "
                                f"{MAX_Q0:g}, got {shown}")
    return value


def _orthonormal_columns(rng: np.random.Generator, rows: int, columns: int,
                         skip_axes: int = 0) -> np.ndarray:
    """``columns`` random orthonormal vectors in R^rows, orthogonal to the first
    ``skip_axes`` coordinate axes."""
    if columns + skip_axes > rows:
        raise InvalidValueError(
            f"the input width {rows} is too small for {columns + skip_axes} orthogonal "
            f"input vectors: use a larger width or fewer directions/inputs")
    gaussian = rng.standard_normal((rows, columns))
    gaussian[:skip_axes] = 0.0
    basis, _ = np.linalg.qr(gaussian)
    return basis


@dataclass(frozen=True)
class InputFrame:
    """A base point ``x0`` (|x0|^2 = n0 q0) orthogonal to the first ``axes`` coordinate axes
    and to an orthonormal set ``others`` (columns) used to build curves and partners."""

    point: np.ndarray
    others: np.ndarray
    axes: int
    q0: float

    @property
    def width(self) -> int:
        return self.point.size

    @property
    def radius(self) -> float:
        return float(np.sqrt(self.width * self.q0))


def input_frame(rng: np.random.Generator, width: int, q0: float, others: int,
                axes: int = 0) -> InputFrame:
    """Draw a base point of mean square ``q0`` and ``others`` orthonormal companions, all
    orthogonal to the first ``axes`` coordinate axes."""
    q0 = check_q0(q0)
    basis = _orthonormal_columns(rng, width, others + 1, skip_axes=axes)
    radius = np.sqrt(width * q0)
    return InputFrame(radius * basis[:, 0], basis[:, 1:], axes, float(q0))


def coordinate_directions(width: int, count: int) -> np.ndarray:
    """The first ``count`` coordinate axes as columns (n0, count)."""
    return np.eye(width, count)


def directions_with_gram(frame: InputFrame, gram: np.ndarray) -> np.ndarray:
    """Tangent directions (n0, k) at ``frame.point`` whose Gram matrix, in the metric
    g_ab = (1/n0) e_a . e_b, is ``gram``. Built from the first k coordinate axes, so the
    frame must have been drawn with ``axes >= k``."""
    k = gram.shape[0]
    if frame.axes < k:
        raise InvalidValueError("the frame is not orthogonal to enough coordinate axes")
    factor = np.linalg.cholesky(gram * frame.width)  # columns' Euclidean Gram = n0 * gram
    return coordinate_directions(frame.width, k) @ factor.T


def equicorrelated_gram(k: int, scale: float, cosine: float) -> np.ndarray:
    """g_ab = scale (delta_ab + cosine (1 - delta_ab)): k directions at equal angles."""
    if not -1.0 / max(k - 1, 1) < cosine < 1.0:
        raise InvalidValueError(f"cosine must lie in (-1/(k-1), 1) for k = {k}, got {cosine}")
    return scale * ((1.0 - cosine) * np.eye(k) + cosine * np.ones((k, k)))


def partner(frame: InputFrame, correlation: float, index: int = 0) -> np.ndarray:
    """A second input of the same norm with x . x' / |x|^2 = ``correlation``."""
    if not -1.0 <= correlation <= 1.0:
        raise InvalidValueError(f"the input correlation must lie in [-1, 1], got {correlation}")
    other = frame.radius * frame.others[:, index]
    return correlation * frame.point + np.sqrt(1.0 - correlation**2) * other


def great_circle_through(frame: InputFrame, index: int = 0
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position, velocity, acceleration at ``frame.point`` of the great circle of radius
    sqrt(n0 q0) in the plane of the point and ``frame.others[:, index]``. Its normalised
    curvature is n0 kappa^2 = 1/q0."""
    velocity = frame.radius * frame.others[:, index]
    return frame.point.copy(), velocity, -frame.point


@dataclass(frozen=True)
class Torus:
    """The flat (Clifford) torus x(t1, t2) = h (cos t1 a1 + sin t1 a2 + cos t2 a3 + sin t2 a4),
    h = sqrt(n0 q0 / 2), with orthonormal a1..a4: every point has mean square q0, the input
    kernel is stationary, the coordinates are orthogonal and isotropic (g_aa = q0/2), and
    kbar^2_aa = 2/q0, kbar^2_12 = 0 (H_12 = 0)."""

    basis: np.ndarray   # (n0, 4), orthonormal columns a1..a4
    q0: float

    def at(self, t1: float, t2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point (n0,), tangents (n0, 2) and second derivatives (n0, 2, 2) at (t1, t2)."""
        width = self.basis.shape[0]
        half = np.sqrt(width * self.q0 / 2.0)
        a1, a2, a3, a4 = (self.basis[:, i] for i in range(4))
        first = half * (np.cos(t1) * a1 + np.sin(t1) * a2)
        other = half * (np.cos(t2) * a3 + np.sin(t2) * a4)
        tangents = half * np.stack([-np.sin(t1) * a1 + np.cos(t1) * a2,
                                    -np.sin(t2) * a3 + np.cos(t2) * a4], axis=1)
        second = np.zeros((width, 2, 2))
        second[:, 0, 0] = -first
        second[:, 1, 1] = -other
        return first + other, tangents, second


def flat_torus(rng: np.random.Generator, width: int, q0: float) -> Torus:
    """A flat torus on the sphere |x|^2 = n0 q0, in a random 4-plane."""
    q0 = check_q0(q0)
    return Torus(_orthonormal_columns(rng, width, 4), float(q0))


def orthogonal_inputs(rng: np.random.Generator, width: int, q0: float, count: int) -> np.ndarray:
    """``count`` mutually orthogonal inputs (rows) of mean square ``q0``."""
    q0 = check_q0(q0)
    return np.sqrt(width * q0) * _orthonormal_columns(rng, width, count).T


def correlated_pairs(rng: np.random.Generator, width: int, q0: float, correlation: float,
                     pairs: int, partner_q0: float | None = None) -> np.ndarray:
    """2 * ``pairs`` inputs (rows): rows 2j have mean square q0, rows 2j+1 mean square
    ``partner_q0`` (default q0), each pair with correlation ``correlation``; different pairs
    lie in mutually orthogonal planes."""
    if not -1.0 <= correlation <= 1.0:
        raise InvalidValueError(f"the input correlation must lie in [-1, 1], got {correlation}")
    q0 = check_q0(q0)
    scale = 1.0 if partner_q0 is None else np.sqrt(check_q0(partner_q0) / q0)
    basis = np.sqrt(width * q0) * _orthonormal_columns(rng, width, 2 * pairs).T
    out = np.empty_like(basis)
    out[0::2] = basis[0::2]
    out[1::2] = scale * (correlation * basis[0::2]
                         + np.sqrt(1.0 - correlation**2) * basis[1::2])
    return out
