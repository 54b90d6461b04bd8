"""Per-network statistics of sampled networks: one value (per layer) for one network.

Each function takes one ``RandomNetwork`` and returns plain arrays indexed by layer; the
replica machinery averages them over independent networks. All propagation goes through
``symfield.laboratory.networks`` (forward passes and exact forward-mode derivatives); only the
backward pass for gradient norms is written here, from the network's public weights.
"""
from __future__ import annotations

import numpy as np

from .networks import JetPass, RandomNetwork
from .networks.geometry import mean_product, mean_square


def lengths(network: RandomNetwork, inputs: np.ndarray) -> np.ndarray:
    """q^l = mean_i (u^l_i)^2 averaged over the rows of ``inputs``; shape (L,)."""
    return network.forward(inputs).q().mean(axis=1)


def metrics(jets: JetPass, post_activation: bool = False) -> np.ndarray:
    """g^l_ab = (1/n_l) e_a . e_b for l = 0..L; shape (L+1, k, k)."""
    return np.array([jets.metric(layer, post_activation) for layer in range(jets.depth + 1)])


def jacobian_grams(jets: JetPass) -> np.ndarray:
    """(J_l V)^T (J_l V) with J_l = d x^l / d x^0 (post-activation, B^l ... B^1) for
    l = 1..L; with V = coordinate axes this is a principal block of J^T J. Shape (L, k, k)."""
    return np.array([jet.tangents.T @ jet.tangents for jet in jets.post])


def activities(network: RandomNetwork, inputs: np.ndarray) -> np.ndarray:
    """A^l = mean_i (x^l_i)^2 (post-activation) averaged over the rows of ``inputs``; (L,)."""
    return network.forward(inputs).activity().mean(axis=1)


def mean_activities(network: RandomNetwork, inputs: np.ndarray) -> np.ndarray:
    """mean_i x^l_i (post-activation) averaged over the rows of ``inputs``; (L,)."""
    return np.array([x.mean() for x in network.forward(inputs).post_activations])


def mean_slopes(network: RandomNetwork, inputs: np.ndarray) -> np.ndarray:
    """mean_i phi'(u^l_i) of the pre-activations, averaged over the rows of ``inputs``;
    (L,). phi' as in the chain rule of ``forward_tangents``."""
    dphi = network.activation.numpy_functions[1]
    return np.array([dphi(u).mean() for u in network.forward(inputs).pre_activations])


def turning_directions(pairs: np.ndarray) -> np.ndarray:
    """Per input pair (rows 2j, 2j+1), v = the part of x orthogonal to x': moving x' along v
    changes the pair's covariance and keeps |x'| to first order; shape (pairs, n0)."""
    first, second = pairs[0::2], pairs[1::2]
    return first - (np.sum(first * second, axis=1) / np.sum(second * second, axis=1))[:, None] \
        * second


def correlation_tangents(network: RandomNetwork, pairs: np.ndarray) -> np.ndarray:
    """Per layer l = 1..L, (1/n) u^l . e'^l, q^l and q'^l for the input pairs (rows 2j,
    2j+1), averaged over the pairs; shape (3, L). e' = du'/dt along x'(t) = x' + t v with v
    the part of x orthogonal to x': the pair's covariance moves at rate (1/n) u . e' while
    |x'| stays put to first order, so rate / sqrt(q q') is dc^l/dt."""
    out = []
    for first, second, v in zip(pairs[0::2], pairs[1::2], turning_directions(pairs)):
        u = network.forward(first[None, :]).pre_activations
        jets = network.forward_tangents(second, v[:, None])
        out.append([[mean_product(a[0], jet.tangents[:, 0]), mean_square(a[0]),
                     mean_square(jet.value)] for a, jet in zip(u, jets.pre)])
    return np.mean(out, axis=0).T


def _pair_layers(network: RandomNetwork, pairs: np.ndarray, post_activation: bool
                 ) -> tuple[np.ndarray, ...]:
    result = network.forward(pairs)
    return result.post_activations if post_activation else result.pre_activations


def pair_moments(network: RandomNetwork, pairs: np.ndarray,
                 post_activation: bool = False) -> np.ndarray:
    """(m11, m22, m12) of the input pairs (rows 2j, 2j+1), averaged over pairs; (L, 3): the
    variances q11, q22 and covariance q12 of pre-activations, or with ``post_activation``
    Amari's activities A, A' and overlap C."""
    out = []
    for layer in _pair_layers(network, pairs, post_activation):
        first, second = layer[0::2], layer[1::2]
        out.append([mean_square(first).mean(), mean_square(second).mean(),
                    mean_product(first, second).mean()])
    return np.array(out)


def pair_distances(network: RandomNetwork, pairs: np.ndarray) -> np.ndarray:
    """Amari's distance D^l = mean_i (x^l_i - x'^l_i)^2 of post-activations, averaged over the
    pairs (rows 2j, 2j+1); (L,)."""
    return np.array([mean_square(x[0::2] - x[1::2]).mean()
                     for x in _pair_layers(network, pairs, True)])


def slope_products(network: RandomNetwork, pairs: np.ndarray) -> np.ndarray:
    """mean_i phi'(u^l_i) phi'(u'^l_i) of the pairs' pre-activations, averaged over the pairs
    (rows 2j, 2j+1); (L,). phi' is the activation's pointwise derivative, as in the chain
    rule of ``forward_tangents``."""
    dphi = network.activation.numpy_functions[1]
    return np.array([mean_product(dphi(u[0::2]), dphi(u[1::2])).mean()
                     for u in _pair_layers(network, pairs, False)])


def radial_moments(network: RandomNetwork, points: np.ndarray) -> np.ndarray:
    """(1/n) u^l . e^l with e^l = d u^l / dt along the radial curve x(t) = (1 + t) x0, for
    l = 1..L, averaged over the rows x0 of ``points``; (L,). Per network this is exactly
    half the derivative of q^l = |u^l|^2/n along the curve."""
    out = []
    for point in points:
        jets = network.forward_tangents(point, point[:, None])
        out.append([mean_product(jet.value, jet.tangents[:, 0]) for jet in jets.pre])
    return np.mean(out, axis=0)


def domino_moments(grams: np.ndarray) -> np.ndarray:
    """Per layer: mean diagonal, mean off-diagonal and mean squared off-diagonal of the
    (k x k) blocks (J V)^T (J V); shape (L, 3)."""
    k = grams.shape[1]
    rows, cols = np.triu_indices(k, 1)
    off = grams[:, rows, cols]
    return np.stack([np.diagonal(grams, axis1=1, axis2=2).mean(axis=1), off.mean(axis=1),
                     (off**2).mean(axis=1)], axis=1)


def curvature_moments(jets: JetPass, post_activation: bool = False) -> np.ndarray:
    """Per layer l = 1..L, the moments whose network averages give the mean-field curvature:
    ``[..., 0]`` = H_ab . H_ab / n, ``[..., 1 + c]`` = H_ab . e_c / n, and (in the same
    layout, stored at a = b = 0 ... k-1 of the last block) g_ab = e_a . e_b / n.

    Returned as an array of shape (L, k, k, 2 + k): entries [l, a, b, 0] = |H_ab|^2/n,
    [l, a, b, 1:1+k] = (H_ab . e_c)/n for c = 1..k, [l, a, b, 1+k] = g_ab.
    The normal part is projected out *after* averaging over networks (see ``normal_part``):
    the mean-field curvature is a statement about kernel derivatives (theory 6.4), in which
    the tangential part of H vanishes; projecting per network adds an O(1/n) bias instead.
    """
    out = []
    for layer in range(1, jets.depth + 1):
        jet = jets.layer(layer, post_activation)
        tangents, second = jet.tangents, jet.second
        n, k = tangents.shape
        block = np.empty((k, k, 2 + k))
        block[:, :, 0] = np.einsum("iab,iab->ab", second, second) / n
        block[:, :, 1:1 + k] = np.einsum("iab,ic->abc", second, tangents) / n
        block[:, :, 1 + k] = tangents.T @ tangents / n
        out.append(block)
    return np.array(out)


def normal_part(moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h_perp, g) from (averaged) ``curvature_moments`` of one layer, shape (k, k, 2 + k):
    h_perp_ab = |H_ab|^2/n - t_ab G^-1 t_ab with t_ab,c = H_ab . e_c / n."""
    k = moments.shape[0]
    full, cross, gram = moments[:, :, 0], moments[:, :, 1:1 + k], moments[:, :, 1 + k]
    solved = np.linalg.solve(gram, cross.reshape(k * k, k).T).T.reshape(k, k, k)
    return full - np.einsum("abc,abc->ab", cross, solved), gram


def _backpropagated(network: RandomNetwork, inputs: np.ndarray, readouts: np.ndarray
                    ) -> list[np.ndarray]:
    """delta^l = dE/du^l for l = L..1 (top first), each (n_l, inputs, readouts): every row
    of ``inputs`` (batch, n0) back-propagates every loss E = r . u^L (r a column of
    ``readouts``) through the weights of its own forward pass. No gradient-independence
    assumption is made here: these are the real gradients."""
    dphi = network.activation.numpy_functions[1]
    forward = network.forward(inputs)
    readouts = np.asarray(readouts, dtype=np.float64)
    batch, count = len(inputs), readouts.shape[1]
    delta = np.tile(readouts, (1, batch))  # column input * count + readout
    out = [delta]
    for layer in range(network.depth - 1, 0, -1):
        delta = network.weight(layer + 1).T @ delta
        delta *= np.repeat(dphi(forward.u(layer)).T, count, axis=1)
        out.append(delta)
    return [delta.reshape(len(delta), batch, count) for delta in out]


def gradient_norms(network: RandomNetwork, points: np.ndarray, readouts: np.ndarray
                   ) -> np.ndarray:
    """qtilde^l = mean_i (delta^l_i)^2 for l = 1..L, averaged over the readout columns and
    the points (one input (n0,) or a batch (batch, n0)); delta^l = dE/du^l for E = r . u^L
    by back-propagation through the same weights as the forward pass."""
    points = np.atleast_2d(points)
    return np.array([mean_square(delta, axis=0).mean()
                     for delta in _backpropagated(network, points, readouts)[::-1]])


def pair_gradient_products(network: RandomNetwork, pairs: np.ndarray, readouts: np.ndarray
                           ) -> np.ndarray:
    """qtilde^l_12 = mean_i delta^l_i(x) delta^l_i(x') for l = 1..L, averaged over the input
    pairs (rows 2j, 2j+1) and the readout columns: both inputs of a pair back-propagate the
    same loss E = r . u^L through the same weights."""
    out = []
    for delta in _backpropagated(network, pairs, readouts)[::-1]:
        out.append(mean_product(delta[:, 0::2], delta[:, 1::2], axis=0).mean())
    return np.array(out)
