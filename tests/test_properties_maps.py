"""Hypothesis properties: the length map and the correlation map against sampled networks.

Each property draws the activation (registry), sigma_w (ordered, near the edge of chaos,
chaotic), sigma_b, the width, the depth and the seed, and compares every layer at
|z| <= 5 with R = 32 independent networks (see test_properties_common for the statistics).
Each has a power test: the same check, same settings, with a deliberately wrong law, must
fail. The wrong laws are 10 % off per layer: at these settings the standard error of q^l and
c^l is about 1 % (~1.5 % where sigma_b^2 dominates q), so 10 % is >= 6.5 SE and the power is
essentially 1, while 5 % would be missed in a few corners of the strategy space.
"""
from __future__ import annotations

from dataclasses import replace

from hypothesis import given, note
from hypothesis import strategies as st

from symfield.laws.single_input import LENGTH_MAP
from symfield.laws.two_input import CORRELATION_MAP
from symfield.laboratory import check_law
from test_properties_common import NO_SHRINK, POWER, REPLICAS, Z, network_settings

#: 16 orthogonal inputs per network: the q of orthogonal inputs fluctuate nearly
#: independently, so they cut the standard error at no extra weight sampling.
INPUTS = 16
PAIRS = 8

WRONG_LENGTH_MAP = replace(LENGTH_MAP, define=lambda phi: LENGTH_MAP.define(phi) * 1.1)
WRONG_CORRELATION_MAP = replace(CORRELATION_MAP,
                                define=lambda phi: CORRELATION_MAP.define(phi) * 1.1)


def _length(law, case):
    activation, sigma_w, sigma_b, width, depth, seed = case
    report = check_law(law, activation, sigma_w, sigma_b, width, depth, seed,
                       replicas=REPLICAS, z=Z, inputs=INPUTS)
    note(str(report))
    return report


def _correlation(law, case, c0):
    activation, sigma_w, sigma_b, width, depth, seed = case
    report = check_law(law, activation, sigma_w, sigma_b, width, depth, seed,
                       replicas=REPLICAS, z=Z, c0=c0, pairs=PAIRS)
    note(str(report))
    return report


#: Input correlations. Not near 0: a 10 % error in a small c is below the resolution (the
#: check resolves c to ~0.005, so the power test needs c^1 >= ~0.4 to be certain).
CORRELATIONS = st.sampled_from([0.5, 0.8])


@NO_SHRINK
@given(case=network_settings("length_map"))
def test_length_map_predicts_q_at_every_layer(case):
    report = _length("length_map", case)
    assert report.passed, str(report)


@POWER
@given(case=network_settings("length_map"))
def test_length_map_check_rejects_a_map_10_percent_off(case):
    assert not _length(WRONG_LENGTH_MAP, case).passed


@NO_SHRINK
@given(case=network_settings("correlation_map"), c0=CORRELATIONS)
def test_correlation_map_predicts_c_at_every_layer(case, c0):
    report = _correlation("correlation_map", case, c0)
    assert report.passed, str(report)


@POWER
@given(case=network_settings("correlation_map"), c0=CORRELATIONS)
def test_correlation_map_check_rejects_a_map_10_percent_off(case, c0):
    assert not _correlation(WRONG_CORRELATION_MAP, case, c0).passed
