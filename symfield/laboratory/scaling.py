"""Width scaling of the domino theorem's off-diagonal: rms [J^T J]_{i'i''} / diagonal ~ n^-1/2.

The theorem (theory 6.3) states the leading order only: (J^T J) = prod chi1 (I + O(n^-1/2)).
No law gives the constant, so the check is on the exponent: each replica draws one network
at each of two widths (independent), and log(s2/s1)/log(n2/n1) is one independent estimate of
the exponent. Its O(1/n) correction, -(b/2)(1/n1 - 1/n2)/log(n2/n1) for s^2 = a/n (1 + b/n),
is small against the standard error for the widths used here (n >= 64).
"""
from __future__ import annotations

import math

import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError
from .networks import replicate, sample_network
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence
from . import inputs as geometry
from . import measurements as measure
from .checks import DEFAULT_Z
from .limits import MAX_DEPTH, check_integer, check_real, check_scales, simulation_size
from .report import ScalingCheck


def check_width_scaling(activation: str | Activation, sigma_w: float, sigma_b: float,
                        widths: tuple[int, int], depth: int, seed: SeedLike,
                        replicas: int = 16, z: float = DEFAULT_Z, expected: float = -0.5,
                        directions: int = 16, q0: float = 1.0, *,
                        max_memory: int | None = None,
                        max_flops: float | None = None) -> ScalingCheck:
    """Fit the exponent of rms_{a<b} [J^T J]_ab / mean_a [J^T J]_aa in the width at layer
    ``depth`` (J = d x^depth / d x^0 over the first ``directions`` input coordinates) and
    compare it with ``expected`` (the domino theorem: -1/2) at |z| <= ``z``. Sizes are
    checked first, as in ``check_law`` (``max_memory``, ``max_flops``)."""
    act = get_activation(activation)
    if not (isinstance(widths, (tuple, list)) and len(widths) == 2):
        raise InvalidValueError(f"widths must be two increasing integers >= 2, got "
                                f"{type(widths).__name__} {widths!r:.60}")
    n1, n2 = (check_integer("widths", w, 2) for w in widths)
    if not n1 < n2:
        raise InvalidValueError(f"widths must be two increasing widths >= 2, got ({n1}, {n2})")
    depth = check_integer("depth", depth, 1, MAX_DEPTH)
    replicas = check_integer("replicas", replicas, 2)
    directions = check_integer("directions", directions, 2)
    sigma_w, sigma_b = check_scales(sigma_w, sigma_b)
    z, expected = check_real("z", z, positive=True), check_real("expected", expected)
    q0 = geometry.check_q0(q0)
    size = simulation_size(n2, depth, replicas, 1 + directions, 1, "check_width_scaling",
                           max_memory, max_flops)
    root = as_seed_sequence(seed)
    frame_rng = np.random.default_rng(child_sequence(root, 1))
    frames = [geometry.input_frame(frame_rng, n, q0, 0, axes=directions) for n in (n1, n2)]
    axes = [geometry.coordinate_directions(n, directions) for n in (n1, n2)]
    log_ratio = math.log(n2 / n1)

    def statistic(rng: np.random.Generator) -> np.ndarray:
        ratios = []
        for n, frame, basis in zip((n1, n2), frames, axes):
            network = sample_network(act, sigma_w, sigma_b, [n] * (depth + 1), rng,
                                     lazy=size.lazy, max_memory=size.memory_limit)
            grams = measure.jacobian_grams(network.forward_tangents(frame.point, basis))
            diag, _, square = measure.domino_moments(grams[-1:])[0]
            ratios.append(math.sqrt(square) / diag)
        s1, s2 = ratios
        return np.array([math.log(s2 / s1) / log_ratio,
                         s1 * n1 ** (-expected), s2 * n2 ** (-expected)])

    estimate = replicate(statistic, replicas, child_sequence(root, 0))
    mean, error = estimate.mean, estimate.standard_error
    return ScalingCheck(
        quantity="rms[JtJ]_ab/diag", activation=act.name, sigma_w=float(sigma_w),
        sigma_b=float(sigma_b), widths=(n1, n2), depth=depth, replicas=estimate.replicas,
        seed=seed if isinstance(seed, (int, np.integer)) else None, z=float(z),
        expected=float(expected), exponent=float(mean[0]), standard_error=float(error[0]),
        scaled=(float(mean[1]), float(mean[2])), scaled_errors=(float(error[1]), float(error[2])))
