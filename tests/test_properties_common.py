"""Shared strategies and settings for the Monte Carlo property tests (test_properties_*.py).

Statistics, stated once for every property test:
- Tolerance: |estimate - prediction| <= Z * SE with Z = 5, SE = the standard error over R
  independent networks (one value per network, ratios formed after averaging).
- With R = 32 the z-score is Student-t with 31 degrees of freedom: P(|t| > 5) ~ 2e-5 per
  compared number, so a suite of ~10 properties x 30 examples x ~10 rows stays below ~5 %
  family-wise even with fully independent rows (they are strongly correlated in practice).
- Finite-width bias: every statistic deviates from its mean-field value by O(1/n). Measured
  with R = 256 at n = 128 it is <= 1.2 standard errors at R = 32 for the maps, the metric and
  the domino diagonal, and up to ~1.7 for curvature at depth 4; hence curvature uses n >= 192
  and depth <= 3 (bias <= ~1 SE). R is kept well below n so that the test measures the law,
  not the O(1/n) correction (bias / SE ~ sqrt(R / n)). Heavy-tailed activations are drawn
  wider and shallower (HEAVY_TAILED_WIDTH): their bias grows with depth much faster.
- Seeds are drawn by Hypothesis and passed down explicitly (no global numpy state).
- Monte Carlo examples are never shrunk: shrinking re-runs expensive simulations and a
  "smaller" seed means nothing.
"""
from __future__ import annotations

from functools import lru_cache

from hypothesis import Phase, settings
from hypothesis import strategies as st

import symfield
from symfield.laboratory.predictions import edge_of_chaos

Z = 5.0
REPLICAS = 32

#: No shrinking for Monte Carlo properties (engineering notes 4).
NO_SHRINK = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])
#: Power tests repeat the same check with a wrong law; a third of the profile's examples is
#: plenty to show that the check can fail (and keeps the suite within its time budget).
POWER = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate],
                 max_examples=max(5, settings().max_examples // 3))

SEEDS = st.integers(0, 2**32 - 1)
SIGMA_B = st.sampled_from([0.0, 0.05, 0.3, 0.5])
#: sigma_w as a multiple of the edge of chaos: ordered, near the edge, chaotic.
PHASE = st.one_of(st.floats(0.6, 0.9), st.floats(0.97, 1.03), st.floats(1.15, 1.6))


#: phi' with heavy tails (a power of a Gaussian, a lognormal): sampled statistics built on
#: phi' (the domino off-diagonal, the created curvature) have such large O(n^-1/2) constants
#: that a 15-60 % error is not resolved at width <= 256 with 32 replicas, so the power tests
#: (which promise to reject a wrong law) do not draw them; the law tests still do.
HEAVY_TAILED_DERIVATIVE = {"monomial", "polynomial", "exp", "relu_power"}
#: The same activations' finite-width bias (and the skew of the per-network statistics, a
#: power or exponential of fluctuating variances) compounds with depth: measured with
#: R = 256 networks at n = 96, the maps, kernels, distances and slope products were off by up
#: to 3.3 standard errors of R = 32 at depth 2 and 4-6 at depth 4 (relu_power, polynomial at
#: sigma_b = 0, chaotic); at n = 1024 depth 3 still reaches 4-5. They are drawn at depth <= 2
#: and width 1024, where the worst of those cases measured <= 2 (R = 128).
HEAVY_TAILED_WIDTH, HEAVY_TAILED_MAX_DEPTH = 1024, 2


#: chi1 = +oo (phi' a Dirac delta: sign, step): every sigma_w is chaotic, there is no edge
#: to draw around; the laws that still apply (the length map) draw sigma_w in [0.5, 2].
@lru_cache(maxsize=None)
def has_no_edge_of_chaos(activation: str) -> bool:
    return symfield.derive("chi1", activation).divergent


@lru_cache(maxsize=None)
def critical_sigma_w(activation: str, sigma_b: float) -> float:
    return edge_of_chaos(activation, sigma_b)


@lru_cache(maxsize=None)
def applicable(law: str) -> tuple[str, ...]:
    """Registered activations for which ``law`` is finite and sampled networks can show it
    (the rest are skipped: e.g. the curvature laws for ReLU-like activations, whose chi2
    diverges; slope plans for sign and step, whose phi' is a delta: check_law refuses them)."""
    from symfield.laboratory import sampling_refusal

    definition = symfield.registered_laws()[law]
    return tuple(name for name in sorted(symfield.registered_activations())
                 if not symfield.derive(law, name).divergent
                 and sampling_refusal(definition, symfield.registered_activations()[name]) is None)


@st.composite
def network_settings(draw, law: str, widths=st.sampled_from([96, 128, 160]),
                     depths=st.integers(2, 4)):
    """(activation, sigma_w, sigma_b, width, depth, seed) for a property of ``law``."""
    activation = draw(st.sampled_from(applicable(law)))
    sigma_b = draw(SIGMA_B)
    if has_no_edge_of_chaos(activation):
        sigma_w = draw(st.floats(0.5, 2.0))
    else:
        sigma_w = draw(PHASE) * critical_sigma_w(activation, sigma_b)
    width, depth = draw(widths), draw(depths)
    if activation in HEAVY_TAILED_DERIVATIVE:
        width, depth = HEAVY_TAILED_WIDTH, min(depth, HEAVY_TAILED_MAX_DEPTH)
    return activation, sigma_w, sigma_b, width, depth, draw(SEEDS)


def test_every_registered_activation_is_either_checked_or_refused():
    """The loop over the registry is explicit: a law is either drawn for an activation or
    refused by check_law with a clear error (never silently skipped)."""
    import pytest

    from symfield.errors import InvalidValueError
    from symfield.laboratory import check_law

    for name in symfield.registered_activations():
        if name in applicable("curvature_map"):
            continue
        # chi2 diverges (ReLU-like), or phi' is a delta the sampled slopes cannot show (sign)
        with pytest.raises(InvalidValueError, match="does not apply|Dirac delta"):
            check_law("curvature_map", name, 1.0, 0.1, 16, 2, 0, replicas=2)


def test_phases_cover_both_sides_of_the_edge_of_chaos():
    chi1 = symfield.derive("chi1", "erf").to_numpy()
    length = symfield.derive("length_map", "erf").to_numpy()
    critical = critical_sigma_w("erf", 0.3)
    for factor, ordered in ((0.75, True), (1.4, False)):
        sigma_w, q = factor * critical, 1.0
        for _ in range(300):
            q = float(length(q=q, sigma_w=sigma_w, sigma_b=0.3))
        assert (float(chi1(q=q, sigma_w=sigma_w)) < 1) == ordered
