"""Finite random networks (theory.md §2.1), sampled in float64 numpy.

u^l = W^l x^{l-1} + b^l,  x^l = phi(u^l),
W^l_ij ~ N(0, sigma_w^2/n_{l-1}),  b^l_i ~ N(0, sigma_b^2),  all independent.

With ``weights="orthogonal"`` each W^l is instead sigma_w times a Haar-distributed matrix with
orthonormal rows or columns (QR of a Gaussian matrix with the signs of R's diagonal moved into
Q, Mezzadri 2007), scaled by sqrt(n_l/n_{l-1}) when it widens, so that E[W_ij^2] =
sigma_w^2/n_{l-1} as for Gaussian weights (a square layer is sigma_w times an orthogonal matrix).

This package is the project's independent numerical witness: it must never import the symbolic
laws or the Gaussian calculus, only the activation registry (for phi, phi', phi'' as numpy).
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ...activations import Activation, get_activation
from ...errors import InvalidValueError, quoted
from .passes import ForwardPass, Jet, JetPass
from .seeds import (
    SeedLike,
    as_seed_sequence,
    child_sequence,
    scaled_normal_matrix,
    scaled_normal_vector,
)
from .validation import (check_layer, check_memory, check_scale, check_shape, check_widths,
                         real_array)

# Stream keys below a layer's key (see seeds.py).
_BIAS_KEY = 0
_WEIGHT_KEY = 1

#: The weight ensembles a network can be drawn from.
WEIGHT_ENSEMBLES = ("gaussian", "orthogonal")


def check_weights(weights: object) -> str:
    """The weight ensemble's name ('gaussian' or 'orthogonal'), or InvalidValueError."""
    if not isinstance(weights, str) or weights.strip().lower() not in WEIGHT_ENSEMBLES:
        raise InvalidValueError(f"unknown weight ensemble {quoted(weights)}; valid ensembles: "
                                f"{', '.join(WEIGHT_ENSEMBLES)}")
    return weights.strip().lower()


def check_lazy(lazy: object) -> bool:
    """The ``lazy`` flag as a bool (True, False or a numpy bool), or InvalidValueError."""
    if not isinstance(lazy, (bool, np.bool_)):
        raise InvalidValueError(f"lazy must be True or False, got {quoted(lazy)}")
    return bool(lazy)


def haar_semi_orthogonal(shape: tuple[int, int], stream: np.random.SeedSequence) -> np.ndarray:
    """A Haar-distributed matrix of the given shape with orthonormal rows (wide) or columns
    (tall): the Q of a Gaussian matrix's QR, its columns' signs fixed by R's diagonal."""
    rows, cols = shape
    tall = (max(rows, cols), min(rows, cols))
    gaussian = scaled_normal_matrix(tall, stream, 1.0)
    factor_q, factor_r = np.linalg.qr(gaussian)
    signs = np.sign(np.diag(factor_r))
    signs[signs == 0] = 1.0  # a zero pivot has probability 0; keep the column as it is
    factor_q *= signs[None, :]
    return np.ascontiguousarray(factor_q if rows >= cols else factor_q.T)


class RandomNetwork:
    """One draw of the random fully connected network; build it with ``sample_network``.

    With ``lazy=True`` weights are regenerated from their seeds whenever needed, so memory stays
    O(width^2) at the price of regenerating them on every pass; the numbers are identical to the
    eager network's.
    """

    def __init__(self, activation: Activation, sigma_w: float, sigma_b: float,
                 widths: tuple[int, ...], stream: np.random.SeedSequence, lazy: bool,
                 weights: str = "gaussian") -> None:
        if not isinstance(activation, Activation):
            raise InvalidValueError(f"activation must be an Activation (such as "
                                    f"get_activation('tanh'); sample_network also takes a "
                                    f"name), got {quoted(activation)}")
        if not isinstance(stream, np.random.SeedSequence):
            raise InvalidValueError(f"stream must be a numpy.random.SeedSequence (sample_network "
                                    f"also takes an int seed), got {quoted(stream)}")
        self.activation = activation
        self.weights = check_weights(weights)
        self.sigma_w = check_scale("sigma_w", sigma_w)
        self.sigma_b = check_scale("sigma_b", sigma_b)
        self.widths = check_widths(widths)
        self.stream = stream
        self.lazy = check_lazy(lazy)
        self._phi, self._dphi, self._ddphi = activation.numpy_functions
        self._stored: list[tuple[np.ndarray, np.ndarray]] | None = None
        if not lazy:
            self._stored = [self._generate(layer) for layer in range(1, self.depth + 1)]

    def __repr__(self) -> str:
        return (f"RandomNetwork({self.activation.name!r}, sigma_w={self.sigma_w}, "
                f"sigma_b={self.sigma_b}, widths={list(self.widths)}, lazy={self.lazy}"
                + ("" if self.weights == "gaussian" else f", weights={self.weights!r}") + ")")

    @property
    def depth(self) -> int:
        """L, the number of layers (excluding the input)."""
        return len(self.widths) - 1

    # -- parameters -----------------------------------------------------------------------
    def _generate(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        fan_in, fan_out = self.widths[layer - 1], self.widths[layer]
        layer_stream = child_sequence(self.stream, layer)
        weight_stream = child_sequence(layer_stream, _WEIGHT_KEY)
        if self.weights == "orthogonal":
            weight = haar_semi_orthogonal((fan_out, fan_in), weight_stream)
            weight *= self.sigma_w * math.sqrt(max(1.0, fan_out / fan_in))
        else:
            weight = scaled_normal_matrix((fan_out, fan_in), weight_stream,
                                          self.sigma_w / math.sqrt(fan_in))
        bias = scaled_normal_vector(fan_out, child_sequence(layer_stream, _BIAS_KEY), self.sigma_b)
        # Read-only, so that no caller can silently change the sampled network.
        weight.flags.writeable = False
        bias.flags.writeable = False
        return weight, bias

    def _parameters(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        if self._stored is not None:
            return self._stored[layer - 1]
        return self._generate(layer)

    def weight(self, layer: int) -> np.ndarray:
        """W^layer, shape (n_layer, n_{layer-1}), read-only; layer in 1..L."""
        return self._parameters(check_layer("layer", layer, 1, self.depth))[0]

    def bias(self, layer: int) -> np.ndarray:
        """b^layer, shape (n_layer,), read-only; layer in 1..L."""
        return self._parameters(check_layer("layer", layer, 1, self.depth))[1]

    # -- plain forward pass ---------------------------------------------------------------
    def forward(self, inputs: np.ndarray) -> ForwardPass:
        """u^l and x^l for one input (n0,) or a batch of inputs (batch, n0), l = 1..L."""
        current = real_array("inputs", inputs)
        n0 = self.widths[0]
        if current.ndim == 1:
            check_shape("inputs", current, (n0,), f"({n0},) or (batch, {n0})")
        else:
            check_shape("inputs", current, (None, n0), f"({n0},) or (batch, {n0})")
        inputs_copy = current.copy()  # the pass must not change if the caller's array does
        pre, post = [], []
        for layer in range(1, self.depth + 1):
            weight, bias = self._parameters(layer)
            u = current @ weight.T  # rows stay inputs; BLAS reads W transposed without a copy
            u += bias
            current = self._phi(u)
            pre.append(u)
            post.append(current)
        return ForwardPass(inputs_copy, tuple(pre), tuple(post))

    # -- forward-mode derivatives ---------------------------------------------------------
    def forward_tangents(self, point: np.ndarray, directions: np.ndarray) -> JetPass:
        """Jacobian-vector products: tangents of u^l and x^l along the k columns of
        ``directions`` (n0, k) at ``point`` (n0,). One matmul per layer for all k."""
        point, directions = self._point_and_directions(point, directions)
        return self._propagate(point, directions, None)

    def forward_curve(self, position: np.ndarray, velocity: np.ndarray,
                      acceleration: np.ndarray | None = None) -> JetPass:
        """Position, velocity and acceleration of a curve through the layers (k = 1):
        dx = phi'(u) du, d^2x = phi''(u) du^2 + phi'(u) d^2u. The acceleration defaults to 0
        (a straight line); ``geometry.great_circle`` gives Poole's circle."""
        n0 = self.widths[0]
        velocity = real_array("velocity", velocity)
        check_shape("velocity", velocity, (n0,), f"({n0},)")
        if acceleration is None:
            acceleration = np.zeros(n0)
        acceleration = real_array("acceleration", acceleration)
        check_shape("acceleration", acceleration, (n0,), f"({n0},)")
        point, directions = self._point_and_directions(position, velocity[:, None])
        return self._propagate(point, directions, acceleration[:, None])

    def forward_second_order(self, point: np.ndarray, directions: np.ndarray,
                             input_second: np.ndarray | None = None) -> JetPass:
        """Tangents and all second derivatives d_a d_b of u^l and x^l for input coordinates
        xi^1..xi^k with d x^0/d xi^a = directions[:, a] and d_a d_b x^0 = input_second[:, a, b]
        (default 0: affine coordinates). The k(k+1)/2 pairs ride in the same matmul."""
        point, directions = self._point_and_directions(point, directions)
        n0, k = directions.shape
        if input_second is None:
            packed_second = np.zeros((n0, k * (k + 1) // 2))
        else:
            input_second = real_array("input_second", input_second)
            check_shape("input_second", input_second, (n0, k, k), f"({n0}, {k}, {k})")
            if not np.allclose(input_second, input_second.transpose(0, 2, 1), rtol=1e-12, atol=0):
                raise InvalidValueError("input_second must be symmetric in its last two axes")
            rows, cols = np.triu_indices(k)
            packed_second = input_second[:, rows, cols]
        return self._propagate(point, directions, packed_second)

    def _point_and_directions(self, point: np.ndarray,
                              directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n0 = self.widths[0]
        point = real_array("point", point)
        check_shape("point", point, (n0,), f"({n0},)")
        directions = real_array("directions", directions)
        check_shape("directions", directions, (n0, None),
                    f"({n0}, k) with k >= 1 (one column per direction; use v[:, None] for one)")
        return point, directions

    def _propagate(self, point: np.ndarray, directions: np.ndarray,
                   packed_second: np.ndarray | None) -> JetPass:
        """Push packed jets [value | tangents | second-derivative pairs] through every layer.

        Derivatives are the pointwise chain rule with phi', phi'' from the activation registry:
        for piecewise-linear phi, phi'' = 0 off the kinks, so the curvature that mean-field
        theory puts *at* the kinks (delta terms, theory §6.4) is absent from sampled networks.
        """
        k = directions.shape[1]
        order = 1 if packed_second is None else 2
        blocks = [point[:, None], directions] + ([] if packed_second is None else [packed_second])
        state = np.ascontiguousarray(np.hstack(blocks))
        # For each packed pair (a, b), the packed columns of the tangents e_a and e_b.
        pair_a, pair_b = (index + 1 for index in np.triu_indices(k))
        input_jet = Jet(state, k, order)
        pre, post = [], []
        for layer in range(1, self.depth + 1):
            weight, bias = self._parameters(layer)
            z = weight @ state  # value and every derivative column in one matmul
            z[:, 0] += bias     # the bias moves the value only
            u = z[:, 0]
            slope = self._dphi(u)
            out = np.empty_like(z)
            out[:, 0] = self._phi(u)
            np.multiply(z[:, 1:], slope[:, None], out=out[:, 1:])
            if order == 2:
                # d_a d_b x = phi''(u) d_a u d_b u + phi'(u) d_a d_b u
                out[:, 1 + k:] += self._ddphi(u)[:, None] * (z[:, pair_a] * z[:, pair_b])
            pre.append(Jet(z, k, order))
            post.append(Jet(out, k, order))
            state = out
        return JetPass(input_jet, tuple(pre), tuple(post))

    # -- Jacobians --------------------------------------------------------------------------
    def _slopes(self, point: np.ndarray, last_layer: int) -> list[np.ndarray]:
        """phi'(u^l) at ``point`` for l = 1..last_layer."""
        n0 = self.widths[0]
        current = real_array("point", point)
        check_shape("point", current, (n0,), f"({n0},)")
        slopes = []
        for layer in range(1, last_layer + 1):
            weight, bias = self._parameters(layer)
            u = weight @ current + bias
            slopes.append(self._dphi(u))
            current = self._phi(u)
        return slopes

    def layer_jacobian(self, point: np.ndarray, layer: int) -> np.ndarray:
        """B^l = diag(phi'(u^l)) W^l = d x^l / d x^{l-1} at ``point``, shape (n_l, n_{l-1})."""
        layer = check_layer("layer", layer, 1, self.depth)
        return self._slopes(point, layer)[layer - 1][:, None] * self.weight(layer)

    def jacobian_product(self, point: np.ndarray, from_layer: int = 0,
                         to_layer: int | None = None) -> np.ndarray:
        """B^{to} ... B^{from+1} = d x^{to} / d x^{from} at ``point`` (theory §6.1, §6.3),
        shape (n_to, n_from). Costs n^3 per layer: meant for modest widths."""
        to_layer = self.depth if to_layer is None else to_layer
        to_layer = check_layer("to_layer", to_layer, 0, self.depth)
        from_layer = check_layer("from_layer", from_layer, 0, to_layer)
        slopes = self._slopes(point, to_layer)
        product = np.eye(self.widths[from_layer])
        for layer in range(from_layer + 1, to_layer + 1):
            product = slopes[layer - 1][:, None] * (self.weight(layer) @ product)
        return product


def parameter_bytes(widths: Sequence[int], lazy: bool) -> int:
    """Bytes of the weights and biases a network holds at once: every layer's when eager,
    the largest layer's when lazy (regenerated per use)."""
    sizes = [8 * (fan_out * fan_in + fan_out) for fan_in, fan_out in zip(widths, widths[1:])]
    return max(sizes) if lazy else sum(sizes)


def sample_network(activation: str | Activation, sigma_w: float, sigma_b: float,
                   widths: Sequence[int], seed: SeedLike, *, lazy: bool = False,
                   max_memory: int | None = None, weights: str = "gaussian") -> RandomNetwork:
    """Draw a random network: W^l_ij ~ N(0, sigma_w^2/n_{l-1}), b^l_i ~ N(0, sigma_b^2).

    ``weights="orthogonal"`` draws each W^l as sigma_w times a Haar (semi-)orthogonal matrix
    instead, with the same E[W_ij^2] (see the module's documentation).

    ``widths`` = [n0, n1, ..., nL]. ``seed``: a non-negative int, a ``SeedSequence`` or a
    ``Generator``; equal seeds give equal networks. ``lazy=True`` keeps memory O(width^2).
    A network whose parameters would not fit in memory is refused before anything is drawn
    (the limit is a share of the available memory, or ``max_memory`` bytes).
    """
    activation = get_activation(activation)
    sigma_w = check_scale("sigma_w", sigma_w)
    sigma_b = check_scale("sigma_b", sigma_b)
    widths = check_widths(widths)
    weights = check_weights(weights)
    lazy = check_lazy(lazy)
    check_memory(parameter_bytes(widths, lazy),
                 f"a network of widths {_summary(widths)}{' (lazy)' if lazy else ''}",
                 max_memory, "use smaller widths" + ("" if lazy else " or lazy=True"))
    return RandomNetwork(activation, sigma_w, sigma_b, widths, as_seed_sequence(seed), lazy,
                         weights)


def _summary(widths: tuple[int, ...]) -> str:
    """[n0, ..., nL] for a message, shortened for deep networks."""
    if len(widths) <= 6:
        return str(list(widths))
    return f"[{widths[0]}, {widths[1]}, ..., {widths[-1]}] ({len(widths) - 1} layers)"
