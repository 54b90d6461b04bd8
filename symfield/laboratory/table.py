"""``simulate``: a per-layer table of predicted vs measured statistics (``symfield simulate``).

One sampled network per replica (independent seeds), three passes per network sharing its
weights: a forward pass with ``directions`` coordinate tangents at x0 (q, metric, domino), a
great circle through x0 (curvature; skipped where the law diverges), and a second input x0'
(correlation). Ratios are ratios of replica means with delta-method errors (see checks.py).
"""
from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, UnknownNameError, quoted
from .networks import great_circle, sample_network
from .networks.geometry import mean_product, mean_square
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence
from . import inputs as geometry
from . import measurements as measure
from .checks import combine_replicas
from .limits import (MAX_DEPTH, SimulationSize, check_correlation, check_integer,
                     check_scales, simulation_size)
from .predictions import Predictor
from .progress import Progress


@dataclass(frozen=True)
class Quantity:
    """One column group of the table: a quantity per layer, its law and convention."""

    name: str
    law: str
    convention: str
    prediction: np.ndarray      # (L,); nan where the law gives no number
    estimate: np.ndarray        # (L,)
    standard_error: np.ndarray  # (L,)
    #: What the reference column holds: a law's prediction, or only a scale (offdiag).
    reference: str = "pred"

    def z_scores(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.estimate - self.prediction) / self.standard_error


@dataclass(frozen=True)
class SimulationTable:
    """Predicted vs measured statistics, layer by layer, from R independent networks."""

    activation: str
    sigma_w: float
    sigma_b: float
    width: int
    depth: int
    replicas: int
    seed: int | None
    directions: int
    q0: float
    c0: float
    quantities: tuple[Quantity, ...]
    notes: tuple[str, ...] = ()
    #: Wall time of drawing the weights, and of the passes through the sampled networks.
    sampling_seconds: float = 0.0
    propagation_seconds: float = 0.0
    #: 2 n_out n_in (columns) summed over every matmul of every pass.
    propagation_flops: float = 0.0
    matmul_shapes: tuple[tuple[int, int, int], ...] = field(default=())

    def quantity(self, name: str) -> Quantity:
        """The quantity called ``name`` (UnknownNameError naming the table's quantities)."""
        for item in self.quantities:
            if item.name == name:
                return item
        raise UnknownNameError(f"the table has no quantity {quoted(name)}; its quantities: "
                               f"{', '.join(item.name for item in self.quantities)}")

    # -- text -------------------------------------------------------------------------------
    def header(self) -> list[str]:
        lines = [f"symfield simulate: {self.activation}, sigma_w={self.sigma_w:g}, "
                 f"sigma_b={self.sigma_b:g}, width={self.width}, depth={self.depth}, "
                 f"{self.replicas} independent networks (seed {self.seed}), input mean square "
                 f"q0={self.q0:g}, input correlation c0={self.c0:g}, {self.directions} "
                 f"directions",
                 "conventions (prediction from the law named; estimate +- standard error):"]
        for item in self.quantities:
            lines.append(f"  {item.name:>9}: {item.convention} [{item.law}]")
        lines.extend(f"  note: {note}" for note in self.notes)
        lines.append(f"  note: standard errors are the spread of {self.replicas} independent "
                     f"networks: (meas - pred)/err is Student-t with {self.replicas - 1} degrees "
                     f"of freedom, and deep products (metric, domino) are skewed, so small R "
                     f"underestimates their errors")
        return lines

    def format(self) -> str:
        cells = [["layer"] + [f"{q.name} {q.reference}" if i == 0 else f"{q.name} meas"
                              for q in self.quantities for i in (0, 1)]]
        for layer in range(self.depth):
            row = [str(layer + 1)]
            for item in self.quantities:
                row.append(_number(item.prediction[layer]))
                row.append(f"{_number(item.estimate[layer])} +- "
                           f"{_number(item.standard_error[layer], 2)}")
            cells.append(row)
        widths = [max(len(r[c]) for r in cells) for c in range(len(cells[0]))]
        table = ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        return "\n".join(self.header() + [""] + table)

    def __str__(self) -> str:
        return self.format()

    # -- files ------------------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike) -> None:
        """One row per layer: prediction, estimate, standard error and z per quantity;
        InvalidValueError (naming the file and the reason) when it cannot be written."""
        try:
            name = os.fspath(path)
        except TypeError:
            raise InvalidValueError(f"the CSV path must be a file name, got "
                                    f"{quoted(path)}") from None
        try:
            handle = open(name, "w", newline="", encoding="utf-8")
        except (OSError, ValueError) as error:  # ValueError: an embedded NUL byte
            reason = getattr(error, "strerror", None) or "not a valid file name"
            raise InvalidValueError(f"cannot write the CSV {quoted(name)}: {reason}") from None
        with handle:
            writer = csv.writer(handle)
            names = ["layer"]
            for item in self.quantities:
                names += [f"{item.name}_prediction", f"{item.name}_estimate",
                          f"{item.name}_stderr", f"{item.name}_z"]
            writer.writerow(names)
            for layer in range(self.depth):
                row: list[object] = [layer + 1]
                for item in self.quantities:
                    z = item.z_scores()[layer]
                    row += [_csv(item.prediction[layer]), _csv(item.estimate[layer]),
                            _csv(item.standard_error[layer]), _csv(z)]
                writer.writerow(row)


def _number(value: float, digits: int = 5) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.{digits}g}"


def _csv(value: float) -> str:
    return "" if not np.isfinite(value) else repr(float(value))


def _curvature_applies(predictor: Predictor) -> bool:
    return not predictor.law("curvature_map").divergent


def simulate(activation: str | Activation, sigma_w: float, sigma_b: float, width: int,
             depth: int, replicas: int = 16, seed: SeedLike = 0, directions: int = 4,
             q0: float = 1.0, c0: float = 0.5,
             progress: Callable[[], None] | None = None, *, max_memory: int | None = None,
             max_flops: float | None = None) -> SimulationTable:
    """Sample ``replicas`` independent networks and tabulate, per layer, the predicted and
    measured q, c, metric factor, curvature and domino diagonal / off-diagonal.

    ``progress`` is called once per finished network. The sizes are checked before anything
    is sampled: the arrays must fit in memory (``max_memory`` bytes, default a share of the
    available memory; networks whose weights do not all fit are regenerated per pass) and
    the work must stay below ``max_flops`` (default ``limits.DEFAULT_MAX_FLOPS``).
    """
    act = get_activation(activation)
    width = check_integer("width", width, 2)
    depth = check_integer("depth", depth, 1, MAX_DEPTH)
    replicas = check_integer("replicas", replicas, 2)
    directions = check_integer("directions", directions, 2)
    if directions + 3 > width:
        raise InvalidValueError(f"width {width} is too small for {directions} directions")
    sigma_w, sigma_b = check_scales(sigma_w, sigma_b)
    q0 = geometry.check_q0(q0)
    c0 = check_correlation("c0", c0)
    predictor = Predictor(act, sigma_w, sigma_b)
    curvature = _curvature_applies(predictor)
    columns_per_layer = 1 + directions + 1 + (3 if curvature else 0)
    size = simulation_size(width, depth, replicas, columns_per_layer, 3 if curvature else 2,
                           "simulate", max_memory, max_flops)
    # Degenerate statistics (a zero variance in a ratio) show as n/a, never as warnings.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _simulate(act, predictor, curvature, size, sigma_w, sigma_b, width, depth,
                         replicas, seed, directions, q0, c0, progress)


def _simulate(act: Activation, predictor: Predictor, curvature: bool, size: SimulationSize,
              sigma_w: float, sigma_b: float, width: int, depth: int, replicas: int,
              seed: SeedLike, directions: int, q0: float, c0: float,
              progress: Callable[[], None] | None) -> SimulationTable:
    root = as_seed_sequence(seed)
    rng = np.random.default_rng(child_sequence(root, 1))
    frame = geometry.input_frame(rng, width, q0, 2, axes=directions)
    axes = geometry.coordinate_directions(width, directions)
    circle = great_circle(0.0, frame.point, frame.others[:, 0], frame.radius)
    second_input = geometry.partner(frame, c0, index=1)

    values = []
    sampling = propagation = 0.0
    for replica in range(replicas):
        start = time.perf_counter()
        network = sample_network(act, sigma_w, sigma_b, [width] * (depth + 1),
                                 child_sequence(root, 0, replica), lazy=size.lazy,
                                 max_memory=size.memory_limit)
        middle = time.perf_counter()
        jets = network.forward_tangents(frame.point, axes)
        partner_pass = network.forward(second_input)
        curve = network.forward_curve(*circle) if curvature else None
        propagation += time.perf_counter() - middle
        sampling += middle - start
        values.append(_replica_row(jets, partner_pass, curve, width))
        del network, jets, partner_pass, curve  # one network in memory at a time
        if progress is not None:
            progress()

    columns_per_layer = 1 + directions + 1 + (3 if curvature else 0)
    shapes = [(width, width, 1 + directions), (width, width, 1)] + (
        [(width, width, 3)] if curvature else [])
    flops = 2.0 * width * width * columns_per_layer * depth * replicas
    quantities = _quantities(np.array(values), predictor, depth, width, q0, c0, curvature)
    notes = [] if curvature else [
        f"curvature: not applicable to {act.name} (chi2 diverges; curvature concentrates at "
        f"the kinks, which the pointwise chain rule of a sampled network does not see)"]
    return SimulationTable(
        activation=act.name, sigma_w=float(sigma_w), sigma_b=float(sigma_b), width=width,
        depth=depth, replicas=replicas, seed=seed if isinstance(seed, (int, np.integer)) else None,
        directions=directions, q0=float(q0), c0=float(c0), quantities=tuple(quantities),
        notes=tuple(notes), sampling_seconds=sampling, propagation_seconds=propagation,
        propagation_flops=flops, matmul_shapes=tuple(shapes))


# Raw per-layer moments of one network, in this order (ratios are formed after averaging).
_RAW = ("q11", "q22", "q12", "g", "aa_curve", "av_curve", "vv_curve", "diag", "off_square")


def _replica_row(jets, partner_pass, curve, width: int) -> np.ndarray:
    depth = jets.depth
    out = np.full((depth, len(_RAW)), np.nan)
    grams = measure.jacobian_grams(jets)
    domino = measure.domino_moments(grams)
    for layer in range(1, depth + 1):
        u = jets.layer(layer).value
        other = partner_pass.u(layer)
        g = np.diagonal(jets.metric(layer)).mean() * width  # g^0_aa = 1/n0 for unit axes
        row = [mean_square(u), mean_square(other), mean_product(u, other), g]
        if curve is not None:
            full, cross, gc = measure.curvature_moments(curve)[layer - 1, 0, 0]
            row += [full, cross, gc]
        else:
            row += [np.nan, np.nan, np.nan]
        row += [domino[layer - 1, 0], domino[layer - 1, 2]]
        out[layer - 1] = row
    return out.ravel()


def _quantities(values: np.ndarray, predictor: Predictor, depth: int, width: int, q0: float,
                c0: float, curvature: bool) -> list[Quantity]:
    index = {name: i for i, name in enumerate(_RAW)}
    size = len(_RAW)

    def column(fn: Callable[[np.ndarray], np.ndarray], needed: tuple[str, ...]):
        picks = [layer * size + index[name] for layer in range(depth) for name in needed]
        sub = values[:, picks]
        return combine_replicas(sub, lambda m: fn(m.reshape(depth, len(needed)).T))

    out = []
    q_est, q_err = column(lambda m: m[0], ("q11",))
    out.append(Quantity("q", "length_map", "q^l = mean_i (u^l_i)^2, pre-activation (Poole)",
                        predictor.lengths(q0, depth), q_est, q_err))
    c_est, c_err = column(lambda m: m[2] / np.sqrt(m[0] * m[1]), ("q11", "q22", "q12"))
    out.append(Quantity("c", "correlation_map",
                        "c^l = q12/sqrt(q11 q22) of two inputs, pre-activation (Poole)",
                        predictor.correlations(c0, q0, depth), c_est, c_err))
    g_est, g_err = column(lambda m: m[0], ("g",))
    out.append(Quantity("metric", "metric_law",
                        "g^l_aa/g^0_aa, g = (1/n) e_a.e_b of pre-activations u^l, coordinate "
                        "directions tangent to the input sphere (conformal factor)",
                        predictor.metrics(np.eye(1), q0, depth)[1:, 0, 0], g_est, g_err))
    if curvature:
        # |a_perp|^2/n = |a|^2/n - (a.v/n)^2 / (|v|^2/n), projected after averaging
        k_est, k_err = column(lambda m: (m[0] - m[1] ** 2 / m[2]) / m[2] ** 2,
                              ("aa_curve", "av_curve", "vv_curve"))
        k_pred = predictor.curvatures(np.array([[1.0 / q0]]), q0, depth, "curvature_map")[:, 0, 0]
    else:
        k_est = k_err = k_pred = np.full(depth, np.nan)
    out.append(Quantity("curvature", "curvature_map",
                        "kbar^2 = n kappa^2 along a great circle, pre-activation (Poole)",
                        k_pred, k_est, k_err))
    d_est, d_err = column(lambda m: m[0], ("diag",))
    out.append(Quantity("domino", "domino",
                        "[J^T J]_aa, J = dx^l/dx^0 = B^l...B^1 (post-activation, Amari), "
                        "coordinate directions; predicted prod_j chi1(q^j)",
                        predictor.dominoes(q0, depth), d_est, d_err))
    o_est, o_err = column(lambda m: np.sqrt(m[1]) / m[0], ("diag", "off_square"))
    out.append(Quantity("offdiag", "domino",
                        f"rms_(a!=b) [J^T J]_ab / diagonal; theory O(n^-1/2) with no constant: "
                        f"the reference column is the scale n^-1/2 = {1 / math.sqrt(width):.4g}"
                        f" (the width scaling is tested by check_width_scaling)",
                        np.full(depth, 1 / math.sqrt(width)), o_est, o_err, reference="n^-1/2"))
    return out
