"""Where predictions meet measurements: the derived laws against finite random networks.

This package may import both the laws (``symfield.laws``) and the sampling laboratory
(``symfield.sampling``); the laboratory itself never imports the laws.

- :func:`check_law` - one law against R independent sampled networks, with a z-test;
- :func:`check_width_scaling` - a power law in the width (the domino off-diagonal ~ n^-1/2);
- :func:`simulate` - the per-layer table behind ``symfield simulate``.
"""
from __future__ import annotations

from .checks import DEFAULT_REPLICAS, DEFAULT_Z, check_law, supported_laws
from .predictions import Predictor
from .report import LawCheck, Row, ScalingCheck
from .scaling import check_width_scaling
from .table import Quantity, SimulationTable, simulate


__all__ = [
    "DEFAULT_REPLICAS", "DEFAULT_Z", "LawCheck", "Predictor", "Quantity", "Row", "ScalingCheck",
    "SimulationTable", "check_law", "check_width_scaling", "simulate", "supported_laws",
]
