"""Geometry of the signal space (theory.md sections 6, 7): the conformal metric law, the
curvature recursions, the domino theorem and the backward gradient-norm law.

Conventions (stated in every law's ``convention``): the canonical curvature law is Poole's
pre-activation form with kbar^2 = N kappa^2 (theory 6.4); the post-activation (Amari) form
carries an extra sigma_w^2 in the creation term. q is the variance of the pre-activations
whose phi' and phi'' enter. The gradient law rests on the gradient-independence assumption.
"""
from __future__ import annotations

import mpmath
import sympy as sp

from ..errors import InvalidValueError

from ..activations import x
from ..expectation import expectation
from ..symbols import L, delta_ab, g, kappa2, q, sigma_w
from .base import LawDefinition
from .calculus import derive


def _chi1(phi):
    return sigma_w**2 * expectation(phi(x, 1) ** 2, x, q)


def _chi2(phi):
    return sigma_w**2 * expectation(phi(x, 2) ** 2, x, q)


METRIC_LAW = LawDefinition(
    name="metric_law",
    title="conformal metric law: every g_ab is multiplied by chi1 per layer",
    latex_name=r"g'",
    variables=(g, q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: _chi1(phi) * g,
    convention="g^l_ab = chi1(q) g^{l-1}_ab with g_ab = (1/n) e_a . e_b (conformal: angles kept)",
    sampled_check="tangent_metric",
)

CURVATURE_MAP = LawDefinition(
    name="curvature_map",
    title="Poole's curvature recursion kbar^2 -> 3 chi2/chi1^2 + kbar^2/chi1 (pre-activation)",
    latex_name=r"\bar\kappa'^2",
    variables=(kappa2, q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: 3 * _chi2(phi) / _chi1(phi) ** 2 + kappa2 / _chi1(phi),
    convention="pre-activation (Poole et al. 2016): kbar^2 = N kappa^2, kappa = |a_perp|/|v|^2 "
               "along a curve; chi's at the variance q",
    sampled_check="great_circle_curvature",
)

CURVATURE_MAP_DIRECTIONS = LawDefinition(
    name="curvature_map_directions",
    title="curvature recursion for two input directions a, b with the (1 + 2 delta_ab) factor",
    latex_name=r"\bar\kappa'^2_{ab}",
    variables=(kappa2, q, sigma_w, delta_ab),
    zero_variances=("q",),
    define=lambda phi: (1 + 2 * delta_ab) * _chi2(phi) / _chi1(phi) ** 2 + kappa2 / _chi1(phi),
    convention="pre-activation; kbar^2_ab = N |H_ab,perp|^2/(|e_a|^2 |e_b|^2) for orthogonal, "
               "isotropic coordinates (Isserlis: E[y_a^2 y_b^2] = g_aa g_bb + 2 g_ab^2)",
    sampled_check="flat_torus_curvature",
)

CURVATURE_MAP_POST = LawDefinition(
    name="curvature_map_post",
    title="curvature recursion in post-activation (Amari) variables: extra sigma_w^2",
    latex_name=r"\bar\kappa'^2_{x,ab}",
    variables=(kappa2, q, sigma_w, delta_ab),
    zero_variances=("q",),
    define=lambda phi: (1 + 2 * delta_ab) * sigma_w**2 * _chi2(phi) / _chi1(phi) ** 2
    + kappa2 / _chi1(phi),
    convention="post-activation (Amari): kappa_x = sigma_w kappa_h, so the creation term has "
               "an extra sigma_w^2; convention-dependent (theory 6.4, open question 1)",
    sampled_check="post_activation_curvature",
)

def check_chaotic(point, activation) -> None:
    """Poole's curvature fixed point exists only where chi1 > 1 (the chaotic phase)."""
    law = derive("chi1", activation)
    values = {s.name: point[s.name] for s in law.variables if s.name in point}
    chi1 = law.evaluate(dps=20, **values)
    if not chi1 > 1:
        raise InvalidValueError(
            f"the curvature fixed point exists only for chi1 > 1 (chaotic phase); here "
            f"chi1 = {mpmath.nstr(chi1, 8)}")


def check_chaotic_np(arrays, activation) -> None:
    """chi1 > 1 at every entry (float64)."""
    from .two_input import refuse_entries

    law = derive("chi1", activation)
    chi1 = law.numpy_evaluator()(*[arrays[s.name] for s in law.variables])
    refuse_entries(~(chi1 > 1), "the curvature fixed point exists only for chi1 > 1 "
                   "(chaotic phase)", {"q": arrays["q"], "sigma_w": arrays["sigma_w"],
                                       "chi1": chi1})


CURVATURE_FIXED_POINT = LawDefinition(
    name="curvature_fixed_point",
    title="fixed point of Poole's curvature recursion 3 chi2/(chi1 (chi1 - 1)) (chi1 > 1)",
    latex_name=r"\bar\kappa^{*2}",
    variables=(q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: 3 * _chi2(phi) / (_chi1(phi) * (_chi1(phi) - 1)),
    convention="pre-activation; exists (positive) only in the chaotic phase chi1 > 1",
    check_domain=check_chaotic,
    check_domain_np=check_chaotic_np,
    unsampled_reason=(
        "a fixed point, not a layer map: kbar*^2 is reached only as the depth grows without bound "
        "in the chaotic phase, while the curvature of a sampled network carries an O(1/n) bias "
        "that grows with depth (the curvature checks stay at depth <= 3); it is the fixed point of "
        "curvature_map, which the great_circle_curvature plan checks layer by layer"),
)

DOMINO = LawDefinition(
    name="domino",
    title="domino theorem: diagonal of the Gram matrix of L Jacobians at the fixed point",
    latex_name=r"[J^T J]_{ii}",
    variables=(q, sigma_w, L),
    zero_variances=("q",),
    define=lambda phi: _chi1(phi) ** L,
    convention="(B^L...B^1)^T (B^L...B^1) = chi1^L I + O(n^{-1/2}) with B = diag(phi'(u)) W, "
               "at a fixed variance q (equal widths)",
    sampled_check="input_output_jacobian",
)

GRADIENT_NORM = LawDefinition(
    name="gradient_norm",
    title="backward gradient norm ratio over L layers: qtilde^{l-L}/qtilde^l = chi1^L",
    latex_name=r"\tilde q^{l-L}/\tilde q^{l}",
    variables=(q, sigma_w, L),
    zero_variances=("q",),
    define=lambda phi: _chi1(phi) ** L,
    convention="gradient-independence assumption (backward weights treated as independent of "
               "the forward pass; Schoenholz et al. 2017), equal widths, fixed variance q",
    sampled_check="backpropagated_gradient",
)

ENTRIES = (METRIC_LAW, CURVATURE_MAP, CURVATURE_MAP_DIRECTIONS, CURVATURE_MAP_POST,
           CURVATURE_FIXED_POINT, DOMINO, GRADIENT_NORM)

__all__ = ["ENTRIES", "sp"]
