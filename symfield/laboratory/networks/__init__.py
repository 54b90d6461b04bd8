"""The sampled-network laboratory: finite random networks in numpy, the independent numerical
witness for the symbolic laws. It imports only the activation registry from symfield (never the
Gaussian calculus or the laws), so agreement between the two is evidence, not an echo."""
from __future__ import annotations

from .geometry import (
    correlation,
    curve_curvature_squared,
    great_circle,
    mean_product,
    mean_square,
    metric_tensor,
    normalized_curve_curvature_squared,
    normalized_extrinsic_curvature_squared,
    second_fundamental_mean_square,
)
from .random_network import RandomNetwork, sample_network
from .passes import ForwardPass, Jet, JetPass
from .replicas import Estimate, replicate, replicate_networks

__all__ = [
    "Estimate",
    "ForwardPass",
    "Jet",
    "JetPass",
    "RandomNetwork",
    "correlation",
    "curve_curvature_squared",
    "great_circle",
    "mean_product",
    "mean_square",
    "metric_tensor",
    "normalized_curve_curvature_squared",
    "normalized_extrinsic_curvature_squared",
    "replicate",
    "replicate_networks",
    "sample_network",
    "second_fundamental_mean_square",
]
