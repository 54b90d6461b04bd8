"""Monte Carlo estimates with honest errors: one value per independent replica.

Replica r uses the stream at key (r,) below the root seed, so replicas are independent and the
whole estimate is reproducible from one seed. Never re-use one network for several replicas:
the standard error std/sqrt(R) is only honest for independent draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ...activations import Activation
from ...errors import InvalidValueError, quoted
from .random_network import RandomNetwork, sample_network
from .seeds import SeedLike, as_seed_sequence, child_sequence
from .validation import real_array


@dataclass(frozen=True)
class Estimate:
    """Mean and standard error (std with ddof=1, over sqrt(R)) of R independent replicas.

    For an array-valued statistic, ``mean`` and ``standard_error`` are element-wise.
    """

    mean: np.ndarray | float
    standard_error: np.ndarray | float
    replicas: int
    values: np.ndarray  # shape (R, ...), one row per replica

    def z_score(self, reference: np.ndarray | float) -> np.ndarray | float:
        """(mean - reference) / standard_error; +-inf when the error is 0 but the mean differs."""
        difference = np.asarray(self.mean) - _real_values("reference", reference)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(difference == 0, 0.0, difference / np.asarray(self.standard_error))
        return float(z) if np.ndim(z) == 0 else z


def _real_values(name: str, value: object) -> np.ndarray:
    """A number or array of numbers as float64 in its own shape (a scalar stays 0-d);
    NaN and infinities pass through."""
    return real_array(name, value, finite=False).reshape(np.shape(value))


def _check_replicas(replicas: object) -> int:
    if isinstance(replicas, (bool, np.bool_)) or not isinstance(replicas, (int, np.integer)):
        raise InvalidValueError(f"replicas must be an int, got {quoted(replicas)}")
    if replicas < 2:
        raise InvalidValueError(f"replicas must be >= 2 for a standard error, got {replicas}")
    return int(replicas)


def _check_statistic(statistic: object) -> None:
    if not callable(statistic):
        raise InvalidValueError(f"statistic must be a function of one replica's generator or "
                                f"network, got {quoted(statistic)}")


def _summarise(values: Sequence[np.ndarray | float]) -> Estimate:
    stacked = np.array([_real_values("the statistic's value", v) for v in values])
    count = stacked.shape[0]
    mean = stacked.mean(axis=0)
    error = stacked.std(axis=0, ddof=1) / np.sqrt(count)
    if mean.ndim == 0:
        return Estimate(float(mean), float(error), count, stacked)
    return Estimate(mean, error, count, stacked)


def replicate(statistic: Callable[[np.random.Generator], np.ndarray | float], replicas: int,
              seed: SeedLike) -> Estimate:
    """Evaluate ``statistic(rng)`` with R independent generators spawned from ``seed``."""
    _check_statistic(statistic)
    replicas = _check_replicas(replicas)
    root = as_seed_sequence(seed)
    values = [statistic(np.random.default_rng(child_sequence(root, r))) for r in range(replicas)]
    return _summarise(values)


def replicate_networks(statistic: Callable[[RandomNetwork], np.ndarray | float],
                       activation: str | Activation, sigma_w: float, sigma_b: float,
                       widths: Sequence[int], replicas: int, seed: SeedLike, *,
                       lazy: bool = False, max_memory: int | None = None,
                       weights: str = "gaussian") -> Estimate:
    """Evaluate ``statistic(network)`` on R independently sampled networks (one in memory at
    a time; ``lazy``, ``max_memory`` and ``weights`` as in ``sample_network``)."""
    _check_statistic(statistic)
    replicas = _check_replicas(replicas)
    root = as_seed_sequence(seed)
    values = []
    for r in range(replicas):
        network = sample_network(activation, sigma_w, sigma_b, widths,
                                 child_sequence(root, r), lazy=lazy, max_memory=max_memory,
                                 weights=weights)
        values.append(statistic(network))
    return _summarise(values)
