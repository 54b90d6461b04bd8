"""Two-input laws (theory.md sections 3, 5, 9): kernels, covariance/correlation/overlap maps
and Amari's distance map.

The pair (u1, u2) is centred Gaussian with variances q1, q2 and covariance rho. Each law is a
definition in Gaussian expectations; the calculus derives the closed forms (Price's theorem,
conditioning) where they exist.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Mapping

import mpmath
import numpy as np
import sympy as sp

from ..activations import x
from ..errors import InvalidValueError
from ..expectation import bivariate_expectation, expectation, u1, u2
from ..microdynamics import mean_field_step
from ..symbols import A, C, D, c, q, q1, q2, rho, sigma_b, sigma_w
from ..numbers import to_exact, to_mpf
from .base import LawDefinition

#: The covariance of the next layer's pre-activations given the overlap C (microdynamics).
NEXT_COVARIANCE, PAIR_MEAN_FIELD_STEPS = mean_field_step(two_inputs=True)
NEXT_VARIANCE, MEAN_FIELD_STEPS = mean_field_step(two_inputs=False)


def _values(point: Mapping[str, object], *names: str) -> list:
    """The values as exact Fractions when they all are (the domain's boundary is then decided
    exactly), else as 60-digit mpf; compare them under ``_COMPARE``."""
    raw = [to_exact(point[n], n) for n in names]
    if all(isinstance(v, Fraction) for v in raw):
        return raw
    with mpmath.workdps(60):
        return [to_mpf(point[n], n) for n in names]


def _compare():
    """Arithmetic on 60-digit values must run at 60 digits too (not at mpmath's default 53 bits)."""
    return mpmath.workdps(60)


def check_pair(point: Mapping[str, object], activation=None) -> None:
    """|rho| <= sqrt(q1 q2): a covariance matrix must be positive semi-definite."""
    a, r, b = _values(point, "q1", "rho", "q2")
    with _compare():
        outside = r * r > a * b
    if outside:
        raise InvalidValueError(
            f"|rho| must be <= sqrt(q1*q2) (got rho={point['rho']}, q1={point['q1']}, "
            f"q2={point['q2']}): not a covariance matrix")


def check_correlation(point: Mapping[str, object], activation=None) -> None:
    (value,) = _values(point, "c")
    with _compare():
        outside = abs(value) > 1
    if outside:
        raise InvalidValueError(f"the correlation c must lie in [-1, 1] (got c={point['c']})")


def check_overlap(point: Mapping[str, object], activation=None) -> None:
    overlap, activity = _values(point, "C", "A")
    with _compare():
        outside = abs(overlap) > activity
    if outside:
        raise InvalidValueError(f"the overlap must satisfy |C| <= A (got C={point['C']}, A={point['A']})")


def check_distance(point: Mapping[str, object], activation=None) -> None:
    distance, activity = _values(point, "D", "A")
    with _compare():
        outside = distance > 4 * activity
    if outside:
        raise InvalidValueError(
            f"the distance must satisfy 0 <= D <= 4A (got D={point['D']}, A={point['A']}): "
            "D = A + A - 2C with |C| <= A")


# ------------------------------------------------------------------------------------------
# The same domains for float64 arrays (to_numpy): a closed edge may be exceeded by rounding
# (a few ulps: rho = c sqrt(q1 q2) with c = 1), never by more
# ------------------------------------------------------------------------------------------
#: Relative excess over a closed edge that float64 input may carry (8 ulps).
EDGE_ROUNDING = 8 * float(np.finfo(float).eps)


def refuse_entries(outside: np.ndarray, message: str,
                   arrays: Mapping[str, np.ndarray]) -> None:
    """InvalidValueError naming the first entry where ``outside`` holds, if any."""
    if not np.any(outside):
        return
    shape = outside.shape
    index = tuple(int(i) for i in np.argwhere(outside)[0])
    values = ", ".join(f"{n}={float(np.broadcast_to(a, shape)[index])!r}"
                       for n, a in arrays.items())
    where = f" at entry {index[0] if len(index) == 1 else index}" if shape else ""
    raise InvalidValueError(f"{message}{where} (got {values})")


def check_pair_np(arrays: Mapping[str, np.ndarray], activation=None) -> None:
    a, r, b = arrays["q1"], arrays["rho"], arrays["q2"]
    with np.errstate(over="ignore"):
        outside = np.abs(r) > np.sqrt(a) * np.sqrt(b) * (1 + EDGE_ROUNDING)
    refuse_entries(outside, "|rho| must be <= sqrt(q1*q2) (a covariance matrix)",
                   {"q1": a, "q2": b, "rho": r})


def check_correlation_np(arrays: Mapping[str, np.ndarray], activation=None) -> None:
    value = arrays["c"]
    refuse_entries(np.abs(value) > 1 + EDGE_ROUNDING, "the correlation c must lie in [-1, 1]",
                   {"c": value})


def check_overlap_np(arrays: Mapping[str, np.ndarray], activation=None) -> None:
    overlap, activity = arrays["C"], arrays["A"]
    refuse_entries(np.abs(overlap) > activity * (1 + EDGE_ROUNDING),
                   "the overlap must satisfy |C| <= A", {"C": overlap, "A": activity})


def check_distance_np(arrays: Mapping[str, np.ndarray], activation=None) -> None:
    distance, activity = arrays["D"], arrays["A"]
    refuse_entries(distance > 4 * activity * (1 + EDGE_ROUNDING),
                   "the distance must satisfy 0 <= D <= 4A", {"D": distance, "A": activity})


def _pair(phi, order: int, a, r, b):
    return bivariate_expectation(phi(u1, order) * phi(u2, order), a, r, b)


KERNEL = LawDefinition(
    name="kernel",
    title="kernel E[phi(u1) phi(u2)] of a centred Gaussian pair (NNGP / dual activation)",
    latex_name="K",
    variables=(q1, q2, rho),
    define=lambda phi: _pair(phi, 0, q1, rho, q2),
    convention="(u1, u2) ~ N(0, [[q1, rho], [rho, q2]]); no sigma_w^2 factor",
    check_domain=check_pair,
    check_domain_np=check_pair_np,
    sampled_check="overlap_at_covariance",
)

DERIVATIVE_KERNEL = LawDefinition(
    name="derivative_kernel",
    title="derivative kernel E[phi'(u1) phi'(u2)] (the NTK 'dot' kernel without sigma_w^2)",
    latex_name=r"\dot K",
    variables=(q1, q2, rho),
    define=lambda phi: _pair(phi, 1, q1, rho, q2),
    convention="(u1, u2) ~ N(0, [[q1, rho], [rho, q2]]); no sigma_w^2 factor",
    check_domain=check_pair,
    check_domain_np=check_pair_np,
    sampled_check="slope_product_at_covariance",
)

COVARIANCE_MAP = LawDefinition(
    name="covariance_map",
    title="covariance map rho -> sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2 (Poole's C-map)",
    latex_name=r"\mathcal{C}",
    variables=(q1, q2, rho, sigma_w, sigma_b),
    define=lambda phi: NEXT_COVARIANCE.subs(C, _pair(phi, 0, q1, rho, q2)),
    convention="q12^{l} = sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2 with the layer l-1 covariance",
    check_domain=check_pair,
    check_domain_np=check_pair_np,
    prelude=PAIR_MEAN_FIELD_STEPS,
    sampled_check="pair_covariance",
)

CORRELATION_MAP = LawDefinition(
    name="correlation_map",
    title="correlation map c -> c' at equal variances q (Poole's c-map)",
    latex_name="f",
    variables=(c, q, sigma_w, sigma_b),
    define=lambda phi: NEXT_COVARIANCE.subs(C, _pair(phi, 0, q, q * c, q))
    / NEXT_VARIANCE.subs(A, expectation(phi(x) ** 2, x, q)),
    convention="c' = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q', u1, u2 ~ N(0, q) with "
               "correlation c, q' = sigma_w^2 chi0(q) + sigma_b^2 (q' = q at the fixed point)",
    check_domain=check_correlation,
    check_domain_np=check_correlation_np,
    sampled_check="pair_correlation",
)

OVERLAP_MAP = LawDefinition(
    name="overlap_map",
    title="overlap map C -> C' of post-activations at equal activity A (Amari)",
    latex_name=r"\mathcal{O}",
    variables=(C, A, sigma_w, sigma_b),
    define=lambda phi: _pair(phi, 0, NEXT_VARIANCE, NEXT_COVARIANCE, NEXT_VARIANCE),
    convention="C^{l+1} = E[phi(u) phi(u')], Var u = Var u' = sigma_w^2 A + sigma_b^2, "
               "Cov = sigma_w^2 C + sigma_b^2 (post-activation, Amari)",
    check_domain=check_overlap,
    check_domain_np=check_overlap_np,
    prelude=PAIR_MEAN_FIELD_STEPS,
    sampled_check="pair_overlap",
)

DISTANCE_MAP = LawDefinition(
    name="distance_map",
    title="distance map D -> K(D) at equal activity A (Amari), K(0) = 0",
    latex_name=r"\mathcal{K}",
    variables=(D, A, sigma_w, sigma_b),
    define=lambda phi: 2 * (expectation(phi(x) ** 2, x, NEXT_VARIANCE)
                            - _pair(phi, 0, NEXT_VARIANCE,
                                    NEXT_COVARIANCE.subs(C, A - D / 2), NEXT_VARIANCE)),
    convention="D' = A' + A' - 2C' with C = A - D/2 (post-activation distance, Amari)",
    # D is the variance of the difference of the two pre-activations: at D = 0 the pair is
    # degenerate (u1 = u2) and the definition gives E[(phi(u1) - phi(u2))^2] = 0 exactly,
    # where a closed form cancels to noise that cannot be certified relative to 0
    zero_variances=("D",),
    check_domain=check_distance,
    check_domain_np=check_distance_np,
    prelude=MEAN_FIELD_STEPS,
    sampled_check="pair_distance",
)

CORRELATION_MAP_SLOPE = LawDefinition(
    name="correlation_map_slope",
    title="slope df/dc of the correlation map (chi_c at a fixed point c*; chi1 at c = 1 "
          "when q is q*)",
    latex_name="f'",
    variables=(c, q, sigma_w, sigma_b),
    # the calculus differentiates the pair expectation in its covariance (Price's theorem)
    define=lambda phi: sp.diff(CORRELATION_MAP.define(phi), c),
    convention="df/dc = sigma_w^2 q E[phi'(u1) phi'(u2)] / q', u1, u2 ~ N(0, q) with "
               "correlation c, q' = sigma_w^2 chi0(q) + sigma_b^2; at the fixed point "
               "(q' = q, c = c*) it is chi_c, whose log sets the depth scale of correlations",
    check_domain=check_correlation,
    check_domain_np=check_correlation_np,
    sampled_check="correlation_stretch",
)

ENTRIES = (KERNEL, DERIVATIVE_KERNEL, COVARIANCE_MAP, CORRELATION_MAP, OVERLAP_MAP, DISTANCE_MAP,
           CORRELATION_MAP_SLOPE)

__all__ = ["EDGE_ROUNDING", "ENTRIES", "check_pair", "check_pair_np", "q", "refuse_entries"]
