"""Results of propagating inputs (and their derivatives) through a sampled network.

Layers are numbered as in theory.md §2.1: 1..L, with layer 0 the input. The tuples below hold
layers 1..L at indices 0..L-1; the accessor methods take the 1-based layer number.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...errors import InvalidValueError
from . import geometry
from .validation import check_layer


@dataclass(frozen=True)
class ForwardPass:
    """u^1..u^L and x^1..x^L for one input ``(n0,)`` or a batch ``(batch, n0)`` (rows)."""

    inputs: np.ndarray
    pre_activations: tuple[np.ndarray, ...]
    post_activations: tuple[np.ndarray, ...]

    @property
    def depth(self) -> int:
        return len(self.pre_activations)

    def u(self, layer: int) -> np.ndarray:
        """Pre-activation u^layer, layer in 1..L."""
        return self.pre_activations[check_layer("layer", layer, 1, self.depth) - 1]

    def x(self, layer: int) -> np.ndarray:
        """Post-activation x^layer, layer in 0..L (x^0 is the input)."""
        layer = check_layer("layer", layer, 0, self.depth)
        return self.inputs if layer == 0 else self.post_activations[layer - 1]

    def q(self) -> np.ndarray:
        """q^l = mean_i (u^l_i)^2 for l = 1..L: shape (L,) or (L, batch)."""
        return np.array([geometry.mean_square(u) for u in self.pre_activations])

    def activity(self) -> np.ndarray:
        """A^l = mean_i (x^l_i)^2 for l = 1..L: shape (L,) or (L, batch)."""
        return np.array([geometry.mean_square(x) for x in self.post_activations])

    def _rows(self, first: int, second: int) -> tuple[int, int]:
        if self.inputs.ndim != 2:
            raise InvalidValueError("pair statistics need a batch of inputs, shape (batch, n0)")
        batch = self.inputs.shape[0]
        return (check_layer("first input index", first, 0, batch - 1),
                check_layer("second input index", second, 0, batch - 1))

    def q12(self, first: int = 0, second: int = 1) -> np.ndarray:
        """q^l_12 = mean_i u^l_i(x) u^l_i(x') for two batch rows, l = 1..L."""
        i, j = self._rows(first, second)
        return np.array([geometry.mean_product(u[i], u[j]) for u in self.pre_activations])

    def correlation(self, first: int = 0, second: int = 1) -> np.ndarray:
        """c^l = q^l_12 / sqrt(q^l_11 q^l_22) for two batch rows, l = 1..L."""
        i, j = self._rows(first, second)
        return np.array([geometry.correlation(u[i], u[j]) for u in self.pre_activations])

    def overlap(self, first: int = 0, second: int = 1) -> np.ndarray:
        """C^l = mean_i x^l_i(x) x^l_i(x') (post-activation overlap), l = 1..L."""
        i, j = self._rows(first, second)
        return np.array([geometry.mean_product(x[i], x[j]) for x in self.post_activations])


class Jet:
    """One layer's value, tangents and (optionally) second derivatives at one point.

    Stored packed, as the network computes them: columns ``[value | k tangents | pairs]``
    where the pairs are (a, b) with a <= b in ``np.triu_indices(k)`` order.
    """

    def __init__(self, packed: np.ndarray, directions: int, order: int) -> None:
        self.packed = packed
        self.directions = directions
        self.order = order

    @property
    def width(self) -> int:
        return self.packed.shape[0]

    @property
    def value(self) -> np.ndarray:
        """The layer itself, shape (n,)."""
        return self.packed[:, 0]

    @property
    def tangents(self) -> np.ndarray:
        """d(layer)/d(xi^a), shape (n, k)."""
        return self.packed[:, 1:1 + self.directions]

    @cached_property
    def second(self) -> np.ndarray:
        """d_a d_b (layer), shape (n, k, k), symmetric in (a, b)."""
        if self.order < 2:
            raise InvalidValueError(
                "second derivatives were not propagated: use forward_curve or "
                "forward_second_order instead of forward_tangents"
            )
        k = self.directions
        rows, cols = np.triu_indices(k)
        pairs = self.packed[:, 1 + k:]
        full = np.empty((self.width, k, k))
        full[:, rows, cols] = pairs
        full[:, cols, rows] = pairs
        return full

    @property
    def velocity(self) -> np.ndarray:
        """For a curve (k = 1): the first derivative, shape (n,)."""
        return self._curve_column(1)

    @property
    def acceleration(self) -> np.ndarray:
        """For a curve (k = 1): the second derivative, shape (n,)."""
        if self.order < 2:
            raise InvalidValueError("second derivatives were not propagated")
        return self._curve_column(2)

    def _curve_column(self, column: int) -> np.ndarray:
        if self.directions != 1:
            raise InvalidValueError(
                f"velocity/acceleration are defined for one direction (a curve); this jet has "
                f"{self.directions}: use .tangents / .second"
            )
        return self.packed[:, column]

    def metric(self) -> np.ndarray:
        """g_ab = (1/n) e_a . e_b, shape (k, k)."""
        return geometry.metric_tensor(self.tangents)

    def normalized_curvature_squared(self) -> np.ndarray:
        """kappa_bar_ab^2 = n |H_perp_ab|^2 / (|e_a|^2 |e_b|^2), shape (k, k); [0, 0] of a curve
        is Poole's N kappa^2."""
        return geometry.normalized_extrinsic_curvature_squared(self.tangents, self.second)


@dataclass(frozen=True)
class JetPass:
    """Jets of the input (layer 0), the pre-activations u^l and the post-activations x^l."""

    input: Jet
    pre: tuple[Jet, ...]
    post: tuple[Jet, ...]

    @property
    def depth(self) -> int:
        return len(self.pre)

    def layer(self, layer: int, post_activation: bool = False) -> Jet:
        """The jet of u^layer (default, Poole's variables) or x^layer; layer 0 is the input."""
        layer = check_layer("layer", layer, 0, self.depth)
        if layer == 0:
            return self.input
        return (self.post if post_activation else self.pre)[layer - 1]

    def metric(self, layer: int, post_activation: bool = False) -> np.ndarray:
        """g^l_ab = (1/n_l) e_a . e_b of u^l (or x^l), shape (k, k)."""
        return self.layer(layer, post_activation).metric()

    def normalized_curvature_squared(self, layer: int, post_activation: bool = False) -> np.ndarray:
        """kappa_bar^2_ab of u^l (or x^l), shape (k, k)."""
        return self.layer(layer, post_activation).normalized_curvature_squared()

    def q(self) -> np.ndarray:
        """q^l = mean_i (u^l_i)^2 at the point, l = 1..L."""
        return np.array([geometry.mean_square(jet.value) for jet in self.pre])
