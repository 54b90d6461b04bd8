"""Single-input laws (theory.md sections 2.3, 4): chi0, chi1, chi2 and the length maps.

Each law is data: its variables and its definition in Gaussian expectations. The argument of
the chi's is the pre-activation variance q; chi1 and chi2 include sigma_w^2 (project
convention). ``activity_map`` is Amari's post-activation form A -> chi0(sigma_w^2 A + sigma_b^2).
"""
from __future__ import annotations

from ..activations import x
from ..expectation import expectation
from ..microdynamics import mean_field_step
from ..symbols import A, q, sigma_b, sigma_w
from .base import LawDefinition

#: The pre-activation variance one layer above activity A (derived from the microdynamics).
NEXT_VARIANCE, MEAN_FIELD_STEPS = mean_field_step()

CHI0 = LawDefinition(
    name="chi0",
    title="chi0: mean squared activity E[phi(sqrt(q) z)^2]",
    latex_name=r"\chi_0",
    variables=(q,),
    zero_variances=("q",),
    define=lambda phi: expectation(phi(x) ** 2, x, q),
    convention="argument q = pre-activation variance; no sigma_w^2 factor",
    sampled_check="activity_at_variance",
)

CHI1 = LawDefinition(
    name="chi1",
    title="chi1: slope of the correlation map at c = 1 (metric stretch factor)",
    latex_name=r"\chi_1",
    variables=(q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: sigma_w**2 * expectation(phi(x, 1) ** 2, x, q),
    convention="chi1 = sigma_w^2 E[phi'(u)^2], u ~ N(0, q) (includes sigma_w^2; Poole et al.)",
    sampled_check="one_layer_stretch",
)

CHI2 = LawDefinition(
    name="chi2",
    title="chi2: curvature creation coefficient",
    latex_name=r"\chi_2",
    variables=(q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: sigma_w**2 * expectation(phi(x, 2) ** 2, x, q),
    convention="chi2 = sigma_w^2 E[phi''(u)^2], u ~ N(0, q) (includes sigma_w^2; Poole et al.)",
    unsampled_reason=(
        "in a network chi2 only creates curvature (phi'' enters through the second derivative d^2x "
        "= phi''(u) du^2 + phi'(u) d^2u), so it is checked where it acts: the creation terms of "
        "curvature_map, curvature_map_directions and curvature_map_post are this expectation, and "
        "each of those laws has a sampled plan"),
)

LENGTH_MAP = LawDefinition(
    name="length_map",
    title="length map V(q): pre-activation variance of the next layer (Poole et al.)",
    latex_name=r"\mathcal{V}",
    variables=(q, sigma_w, sigma_b),
    zero_variances=("q",),
    define=lambda phi: NEXT_VARIANCE.subs(A, expectation(phi(x) ** 2, x, q)),
    convention="q^{l} = sigma_w^2 E[phi(u)^2] + sigma_b^2, u ~ N(0, q^{l-1})",
    sampled_check="layer_variance",
)

ACTIVITY_MAP = LawDefinition(
    name="activity_map",
    title="activity map F(A): post-activation activity of the next layer (Amari)",
    latex_name="F",
    variables=(A, sigma_w, sigma_b),
    zero_variances=("A",),
    define=lambda phi: expectation(phi(x) ** 2, x, NEXT_VARIANCE),
    convention="A^{l+1} = chi0(sigma_w^2 A^l + sigma_b^2) (post-activation, Amari)",
    prelude=MEAN_FIELD_STEPS,
    sampled_check="layer_activity",
)

LENGTH_MAP_SLOPE = LawDefinition(
    name="length_map_slope",
    title="slope of the length map V'(q) (stability of q*)",
    latex_name=r"\mathcal{V}'",
    variables=(q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: sigma_w**2 * expectation(phi(x, 1) ** 2 + phi(x) * phi(x, 2), x, q),
    convention="V'(q) = sigma_w^2 E[phi'(u)^2 + phi(u) phi''(u)] (heat equation)",
    sampled_check="radial_stretch",
)

MEAN_ACTIVITY = LawDefinition(
    name="mean_activity",
    title="mean activity E[phi(sqrt(q) z)] of one unit (its square is the kernel at c = 0)",
    latex_name=r"\bar\varphi",
    variables=(q,),
    zero_variances=("q",),
    define=lambda phi: expectation(phi(x), x, q),
    convention="argument q = pre-activation variance; the post-activation mean over units "
               "(0 for an odd activation)",
    sampled_check="mean_activity_at_variance",
)

MEAN_SLOPE = LawDefinition(
    name="mean_slope",
    title="mean slope E[phi'(sqrt(q) z)] of one unit (its square is the derivative kernel "
          "at c = 0)",
    latex_name=r"\bar\varphi'",
    variables=(q,),
    zero_variances=("q",),
    define=lambda phi: expectation(phi(x, 1), x, q),
    convention="argument q = pre-activation variance; no sigma_w factor (E[phi'(u)] = "
               "E[u phi(u)]/q by Stein's lemma)",
    sampled_check="mean_slope_at_variance",
)

ENTRIES = (CHI0, CHI1, CHI2, LENGTH_MAP, ACTIVITY_MAP, LENGTH_MAP_SLOPE, MEAN_ACTIVITY,
           MEAN_SLOPE)
