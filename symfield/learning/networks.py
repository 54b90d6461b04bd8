"""Finite fully connected networks in numpy, with hand-written backpropagation.

The networks here are the independent witness of the Fisher and NTK laws: they use the
activation's float64 functions (phi, phi') and numpy only, never the Gaussian calculus or
the laws (tests/test_fisher_statistics.py checks the imports).

A network has layers l = 1..L with widths n_0 (inputs), n_1, ..., n_L (linear outputs):

    u^l = a_l V^l h^{l-1} + c_l beta^l,   h^l = phi(u^l) (l < L),   f = u^L,

where V^l and beta^l are the trained parameters and a_l, c_l fixed multipliers. The three
parameterisations differ only in where the scale sits:

* ``standard``: V^l = W^l ~ N(0, sigma_w^2/n_{l-1}), beta^l = b^l ~ N(0, sigma_b^2), a = c = 1;
* ``ntk``: V^l, beta^l ~ N(0, 1), a_l = sigma_w/sqrt(n_{l-1}), c_l = sigma_b (Jacot et al.);
* ``mean_field``: as ``ntk`` in the hidden layers; the output layer has a_L = sigma_w/n_{L-1}
  (1/n instead of 1/sqrt(n)) and no bias (an O(1) output bias would move O(n) under the
  mean-field learning rate), so that weights move O(1) when the function moves O(1).

At initialisation the three give the same function in distribution (mean_field: scaled by
1/sqrt(n_{L-1}) and without the output bias).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

PARAMETERIZATIONS = ("ntk", "standard", "mean_field")


@dataclass
class ForwardCache:
    """Post-activations h^0..h^{L-1} (rows are inputs), pre-activations u^1..u^L."""

    activities: list[np.ndarray]
    preactivations: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        return self.preactivations[-1]


class Network:
    """A random network with trainable parameters (see the module docstring).

    ``weights[l-1]`` is V^l of shape (n_l, n_{l-1}), ``biases[l-1]`` is beta^l (n_l,);
    ``weight_scale[l-1]`` and ``bias_scale[l-1]`` are a_l and c_l.
    """

    def __init__(self, phi: Callable[[np.ndarray], np.ndarray],
                 dphi: Callable[[np.ndarray], np.ndarray], widths: Sequence[int],
                 sigma_w: float, sigma_b: float, parameterization: str,
                 rng: np.random.Generator) -> None:
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"parameterization must be one of {', '.join(PARAMETERIZATIONS)}")
        self.phi, self.dphi = phi, dphi
        self.widths = tuple(int(n) for n in widths)
        self.parameterization = parameterization
        depth = len(self.widths) - 1
        self.weights, self.biases = [], []
        self.weight_scale, self.bias_scale = [], []
        for layer in range(1, depth + 1):
            fan_in, fan_out = self.widths[layer - 1], self.widths[layer]
            last = layer == depth
            raw_w = rng.standard_normal((fan_out, fan_in))
            raw_b = rng.standard_normal(fan_out)
            if parameterization == "standard":
                self.weights.append(raw_w * (sigma_w / np.sqrt(fan_in)))
                self.biases.append(raw_b * sigma_b)
                a, c = 1.0, 1.0
            else:
                self.weights.append(raw_w)
                self.biases.append(raw_b)
                a, c = sigma_w / np.sqrt(fan_in), sigma_b
                if parameterization == "mean_field" and last:
                    a, c = sigma_w / fan_in, 0.0
                    self.biases[-1] = np.zeros(fan_out)
            self.weight_scale.append(float(a))
            self.bias_scale.append(float(c))

    @property
    def depth(self) -> int:
        return len(self.weights)

    @property
    def parameter_count(self) -> int:
        """Trained parameters (an absent output bias is not one)."""
        return sum(w.size + (b.size if c != 0 else 0)
                   for w, b, c in zip(self.weights, self.biases, self.bias_scale))

    def copy_parameters(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return [w.copy() for w in self.weights], [b.copy() for b in self.biases]

    # -- forward and backward -------------------------------------------------------------
    def forward(self, inputs: np.ndarray) -> ForwardCache:
        h = np.asarray(inputs, dtype=float)
        activities, pre = [h], []
        for layer in range(self.depth):
            u = self.weight_scale[layer] * (h @ self.weights[layer].T) \
                + self.bias_scale[layer] * self.biases[layer]
            pre.append(u)
            if layer < self.depth - 1:
                h = self.phi(u)
                activities.append(h)
        return ForwardCache(activities, pre)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """Outputs, shape (inputs, n_L)."""
        return self.forward(inputs).output

    def output_deltas(self, cache: ForwardCache) -> list[np.ndarray]:
        """delta^l = d f_k / d u^l for every output k: arrays of shape (n_L, inputs, n_l),
        l = 1..L (the last one is the identity: the outputs are linear)."""
        outputs = self.widths[-1]
        count = cache.output.shape[0]
        delta = np.broadcast_to(np.eye(outputs)[:, None, :], (outputs, count, outputs))
        deltas = [np.array(delta)]
        for layer in range(self.depth - 1, 0, -1):
            back = self.weight_scale[layer] * (deltas[0] @ self.weights[layer])
            deltas.insert(0, back * self.dphi(cache.preactivations[layer - 1])[None])
        return deltas

    def gradient(self, cache: ForwardCache, output_weights: np.ndarray
                 ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradient of sum_i output_weights[i] . f(x_i) with respect to the trained parameters
        (``output_weights`` has the shape of the outputs): backpropagation of one signal."""
        delta = np.asarray(output_weights, dtype=float)
        grads_w, grads_b = [None] * self.depth, [None] * self.depth
        for layer in range(self.depth - 1, -1, -1):
            grads_w[layer] = self.weight_scale[layer] * (delta.T @ cache.activities[layer])
            grads_b[layer] = self.bias_scale[layer] * delta.sum(axis=0)
            if layer > 0:
                delta = self.weight_scale[layer] * (delta @ self.weights[layer]) \
                    * self.dphi(cache.preactivations[layer - 1])
        return grads_w, grads_b

    def tangent_kernel(self, inputs: np.ndarray, per_layer: bool = False):
        """The empirical tangent kernel Theta[(i, k), (j, k')] = grad f_k(x_i) . grad f_k'(x_j)
        over the trained parameters, shape (inputs * n_L, inputs * n_L), input-major within
        each output block (index k * inputs + i).

        Computed without forming the Jacobian, layer by layer from
        grad_V f_k(x) . grad_V f_k'(x') = a^2 (delta_k . delta_k')(h . h') and the bias term
        c^2 (delta_k . delta_k'). With ``per_layer`` also the list of each layer's part."""
        cache = self.forward(inputs)
        deltas = self.output_deltas(cache)
        outputs, count = self.widths[-1], cache.output.shape[0]
        total = np.zeros((outputs * count, outputs * count))
        parts = []
        for layer in range(self.depth):
            h = cache.activities[layer]
            d = deltas[layer].reshape(outputs * count, -1)
            activity_gram = np.tile(h @ h.T, (outputs, outputs))
            delta_gram = d @ d.T
            part = self.weight_scale[layer] ** 2 * delta_gram * activity_gram \
                + self.bias_scale[layer] ** 2 * delta_gram
            total += part
            parts.append(part)
        return (total, parts) if per_layer else total


def network_parameter_count(widths: Sequence[int], output_bias: bool = True) -> int:
    """Weights and biases of a network with these widths (n_0, ..., n_L)."""
    widths = [int(n) for n in widths]
    count = sum(widths[i] * widths[i - 1] + widths[i] for i in range(1, len(widths)))
    return count - (0 if output_bias else widths[-1])


__all__ = ["ForwardCache", "Network", "PARAMETERIZATIONS", "network_parameter_count"]
