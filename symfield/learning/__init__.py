"""Learning near a random network: Fisher information statistics and the lazy (NTK) regime.

* :func:`fisher_statistics` — m_lambda, s_lambda, lambda_max of the Fisher information of a
  random deep network, from the engine's laws (``symfield.laws.fisher``);
* :func:`check_fisher_statistics` — the same statistics measured exactly on finite random
  networks (the Gram matrix of per-example gradients), at several widths;
* :func:`lazy_training` — finite networks trained by full-batch gradient descent, their
  weight and kernel changes and their distance to the NTK prediction, with exponents fitted
  across widths.

The finite networks (``networks``) use numpy only: they are an independent witness of the laws.
"""
from __future__ import annotations

from .fisher import FisherReport, LayerOrderParameters, fisher_statistics
from .fisher_check import FisherCheck, check_fisher_statistics
from .lazy import LazyTrainingReport, TrainingDiverged, lazy_training, theory_exponents

__all__ = ["FisherCheck", "FisherReport", "LayerOrderParameters", "LazyTrainingReport",
           "TrainingDiverged", "check_fisher_statistics", "fisher_statistics", "lazy_training",
           "theory_exponents"]
