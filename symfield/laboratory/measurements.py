"""Per-network statistics of sampled networks: one value (per layer) for one network.

Each function takes one ``RandomNetwork`` and returns plain arrays indexed by layer; the
replica machinery averages them over independent networks. All propagation goes through
``symfield.laboratory.networks`` (forward passes and exact forward-mode derivatives); only the
backward pass for gradient norms is written here, from the network's public weights.
"""
from __future__ import annotations

import numpy as np

from .networks import JetPass, RandomNetwork
from .networks.geometry import mean_square


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


def pair_moments(network: RandomNetwork, pairs: np.ndarray) -> np.ndarray:
    """(q11, q22, q12) of the input pairs (rows 2j, 2j+1), averaged over pairs; (L, 3)."""
    result = network.forward(pairs)
    out = []
    for u in result.pre_activations:
        first, second = u[0::2], u[1::2]
        out.append([mean_square(first).mean(), mean_square(second).mean(),
                    np.mean(first * second, axis=-1).mean()])
    return np.array(out)


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


def gradient_norms(network: RandomNetwork, point: np.ndarray, readouts: np.ndarray
                   ) -> np.ndarray:
    """qtilde^l = mean_i (delta^l_i)^2 for l = 1..L, averaged over the readout columns.

    delta^l = dE/du^l for E = r . u^L (one loss per readout column r), by back-propagation
    through the same weights as the forward pass (no gradient-independence assumption is
    made here: the measurement is the real gradient).
    """
    dphi = network.activation.numpy_functions[1]
    forward = network.forward(point)
    delta = np.asarray(readouts, dtype=np.float64)
    norms = [mean_square(delta, axis=0).mean()]
    for layer in range(network.depth - 1, 0, -1):
        delta = network.weight(layer + 1).T @ delta
        delta *= dphi(forward.u(layer))[:, None]
        norms.append(mean_square(delta, axis=0).mean())
    return np.array(norms[::-1])
