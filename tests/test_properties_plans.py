"""Hypothesis properties: every law with a sampled plan and no dedicated property file is
checked against sampled networks, and a version of it 20 % off is rejected.

The laws come from the registry: each ``supported_laws()`` entry not in DEDICATED (whose
files test_properties_maps/geometry/domino tailor strategies and wrong laws to the law) is
drawn here, with the options its plan kind declares (input pairs or orthogonal inputs). A new
law that names a plan kind is therefore checked the day it is registered; a new law without
one must give its ``unsampled_reason`` (test_simulation.py checks that).

Statistics as in test_properties_common (|z| <= 5, R = 32 independent networks). The wrong
laws are 6/5 of the true one at every layer: at these settings the standard errors are 1-2.5 %
of the compared quantity at the first compared layer (activities, overlaps, covariances,
distances, kernel values, slope products, radial stretches; 2.3 % for the leaky ReLU kernel at
sigma_b = 0.5, where more input pairs do not help: the spread is between networks), so 20 %
is >= 8 SE there and a wrong law is rejected with room for the z-score's own spread.
The back-propagated plans (the Fisher backward order parameters) compare qtilde^l/qtilde^L
for l < L; a single input's ratio has a standard error of 3-5 % (sigmoid far in the chaotic
phase), so they average over 16 inputs or 8 pairs and 32 readouts (1-3 %) and draw depths
3-4, where the wrong law is 21-33 % off at layer 1 (the factors compound down from the top);
heavy-tailed activations are drawn at depth 2 and width 1024 (test_properties_common), where
it is 20 % off.
Fewer examples per law than the dedicated files: each law has its own test, and the plans
share their measurements (forward passes of inputs or input pairs) with checks tested there.
"""
from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import sympy as sp
from hypothesis import Phase, assume, given, note, settings
from hypothesis import strategies as st

import symfield
from symfield.laboratory import PLAN_KINDS, check_law, supported_laws
from test_properties_common import REPLICAS, Z, network_settings

#: Laws whose properties have their own file (tailored strategies and wrong laws).
DEDICATED = {"length_map", "correlation_map", "metric_law", "chi1", "curvature_map",
             "curvature_map_directions", "curvature_map_post", "domino", "gradient_norm"}
PLANNED = tuple(name for name in supported_laws() if name not in DEDICATED)

INPUTS, PAIRS, READOUTS = 16, 8, 32
#: Input correlations: away from 0 and 1, where overlaps and distances are both large.
CORRELATIONS = st.sampled_from([0.5, 0.8])
#: A quarter (true law) and a tenth (wrong law) of the profile's examples per law.
TRUE_LAW = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    max_examples=max(4, settings().max_examples // 4))
WRONG_LAW = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate],
                     max_examples=max(3, settings().max_examples // 10))
OFF = sp.Rational(6, 5)
#: Plan kinds that need deeper networks to resolve the wrong law (see the module docstring).
DEPTHS = {"backward_order_parameter": st.integers(3, 4),
          "backward_pair_order_parameter": st.integers(3, 4)}


def settings_of(name: str):
    """network_settings for the law, with the depths its plan kind needs."""
    depths = DEPTHS.get(symfield.registered_laws()[name].sampled_check)
    return network_settings(name) if depths is None else network_settings(name, depths=depths)


class _ScaledValues:
    """Mixed into a derived law's class: its float64 values 6/5 of the true ones."""

    def to_numpy(self):
        values = super().to_numpy()
        return lambda **point: float(OFF) * values(**point)


def wrong_law(name: str, activation: str):
    """The law 20 % off at every layer: its definition scaled by 6/5, or, for a recursion
    over depth (whose numerics iterate the registered kernels, not the definition), its
    derived values."""
    definition = symfield.registered_laws()[name]
    if definition.law_class is None:
        return replace(definition, define=lambda phi: OFF * definition.define(phi))
    law = copy.copy(symfield.derive(name, activation))
    law.__class__ = type(f"Wrong{type(law).__name__}", (_ScaledValues, type(law)), {})
    return law


def _check(law, name: str, case, c0: float):
    activation, sigma_w, sigma_b, width, depth, seed = case
    kind = PLAN_KINDS.get(symfield.registered_laws()[name].sampled_check)
    options = {}
    if "pairs" in kind.options:
        options.update(c0=c0, pairs=PAIRS)
    if "inputs" in kind.options:
        options.update(inputs=INPUTS)
    if "readouts" in kind.options:
        options.update(readouts=READOUTS)
    report = check_law(law, activation, sigma_w, sigma_b, width, depth, seed,
                       replicas=REPLICAS, z=Z, **options)
    note(str(report))
    return report


def test_the_planned_laws_are_the_new_plans():
    """The registry loop is not empty and covers Amari's maps, the kernels and the NNGP."""
    assert {"activity_map", "overlap_map", "distance_map", "covariance_map", "chi0",
            "kernel", "derivative_kernel", "nngp", "length_map_slope",
            "backward_order_parameter", "backward_order_parameter_pair"} <= set(PLANNED)


@pytest.mark.parametrize("name", PLANNED)
def test_planned_law_predicts_every_layer(name):
    @TRUE_LAW
    @given(case=settings_of(name), c0=CORRELATIONS)
    def check(case, c0):
        report = _check(name, name, case, c0)
        assert report.passed, str(report)

    check()


@pytest.mark.parametrize("name", PLANNED)
def test_planned_check_rejects_the_law_20_percent_off(name):
    @WRONG_LAW
    @given(case=settings_of(name), c0=CORRELATIONS)
    def check(case, c0):
        # a law that is 0 for this activation (an odd phi's mean) is 0 when 20 % off too
        assume(symfield.derive(name, case[0]).expr != 0)
        report = _check(wrong_law(name, case[0]), name, case, c0)
        assert not report.passed, str(report)

    check()
