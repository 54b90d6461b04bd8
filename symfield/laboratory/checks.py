"""``check_law``: a law's prediction against R independent sampled networks.

Each supported law has a *plan*: the input geometry, the per-network statistic (measured with
``symfield.laboratory.networks``) and the prediction (iterated with ``Predictor``), both flattened to one
vector per layer. One value per independent network; the standard error is std/sqrt(R) over
networks (never over units of one network, which are not independent).

Ratios (curvatures, correlations, cosines, stretches) are formed from replica means of their
numerators and denominators (ratio of means), with delta-method standard errors; the mean of
per-network ratios would add an O(1/n) estimator bias (for a curve, E[1/|v|^4] alone gives
+6/n at the first layer).

Finite-width bias. What remains is the network's own O(1/n) deviation from the mean-field
limit (e.g. E[V(q)] != V(E[q]) through the curvature of the maps), while the standard error is
O(1/sqrt(n R)): the bias is about c sqrt(R/n) standard errors with c of order 1 (larger for
curvature at depth). Keep R well below n or the check measures finite-width corrections
rather than the law.

The z-score uses the replicas' own standard error, so it is Student-t with R - 1 degrees of
freedom rather than Gaussian: P(|t| > 5) is 2e-5 for R = 32 and 5e-6 for R = 64 (5.7e-7 in
the Gaussian limit). Use R >= 32 where many comparisons are made.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, UnknownNameError
from ..laws import Law, LawDefinition, get_law
from .networks import RandomNetwork, great_circle, replicate_networks
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence
from . import inputs as geometry
from . import measurements as measure
from .limits import MAX_DEPTH, check_integer, check_scales, simulation_size
from .predictions import Predictor
from .report import LawCheck, Row

DEFAULT_Z = 5.0
DEFAULT_REPLICAS = 16

# Keys below the root seed: the networks of replica r are at (0, r), the inputs at (1,).
_NETWORK_KEY, _INPUT_KEY = 0, 1


@dataclass
class Plan:
    """What to measure on each network and what the law predicts for it."""

    statistic: Callable[[RandomNetwork], np.ndarray]
    prediction: np.ndarray               # (rows,)
    labels: list[tuple[str, int]]        # (quantity, layer) per row
    measured: str
    details: list[str] = field(default_factory=list)  # extra combined entries, reported only
    #: Maps the replica mean of the raw statistic to the compared values (identity if None).
    #: Ratios are formed *after* averaging over networks (ratio of means), whose bias is
    #: O(1/(n R)); a mean of per-network ratios would carry an O(1/n) bias (e.g. E[1/|v|^4]).
    combine: Callable[[np.ndarray], np.ndarray] | None = None


Builder = Callable[[Predictor, np.random.Generator, int, int, dict], Plan]


def _layers(depth: int) -> range:
    return range(1, depth + 1)


def _option(options: dict, name: str, default, kind=float):
    value = options.pop(name, default)
    try:
        if kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError
            return bool(value)
        if kind is int:
            if isinstance(value, bool) or int(value) != value:
                raise TypeError
            return int(value)
        value = float(value)
        if not math.isfinite(value):
            raise TypeError
        return value
    except (TypeError, ValueError):
        raise InvalidValueError(f"option {name} must be a finite {kind.__name__}, "
                                f"got {value!r}") from None


def _positive_int(options: dict, name: str, default: int) -> int:
    value = _option(options, name, default, int)
    if value < 1:
        raise InvalidValueError(f"option {name} must be >= 1, got {value}")
    return value


# -- single input ---------------------------------------------------------------------------
def _length_plan(predictor, rng, width, depth, options) -> Plan:
    q0 = _option(options, "q0", 1.0)
    count = _positive_int(options, "inputs", 8)
    inputs = geometry.orthogonal_inputs(rng, width, q0, count)
    return Plan(
        statistic=lambda net: measure.lengths(net, inputs),
        prediction=predictor.lengths(q0, depth),
        labels=[("q", layer) for layer in _layers(depth)],
        measured=f"q^l = mean_i (u^l_i)^2 (pre-activation), averaged over {count} orthogonal "
                 f"inputs of mean square q0={q0:g}; q^1 from the linear input layer",
    )


def _correlation_plan(predictor, rng, width, depth, options) -> Plan:
    q0 = _option(options, "q0", 1.0)
    c0 = _option(options, "c0", 0.5)
    count = _positive_int(options, "pairs", 4)
    pairs = geometry.correlated_pairs(rng, width, q0, c0, count)

    def combine(mean: np.ndarray) -> np.ndarray:
        q11, q22, q12 = mean.reshape(depth, 3).T
        return q12 / np.sqrt(q11 * q22)

    return Plan(
        statistic=lambda net: measure.pair_moments(net, pairs).ravel(),
        prediction=predictor.correlations(c0, q0, depth),
        labels=[("c", layer) for layer in _layers(depth)],
        measured=f"c^l = q12/sqrt(q11 q22) of pre-activations (moments averaged over networks "
                 f"and {count} input pairs of mean square q0={q0:g}, correlation c0={c0:g})",
        combine=combine,
    )


# -- metric ---------------------------------------------------------------------------------
def _metric_summary(grams: np.ndarray, gram0: np.ndarray) -> np.ndarray:
    """Per layer: mean_a g_aa/g0_aa, mean_{a<b} g_ab/g0_ab, mean_{a<b} cos(e_a, e_b)."""
    k = gram0.shape[0]
    diag = np.diagonal(grams, axis1=1, axis2=2)
    out = [(diag / np.diag(gram0)).mean(axis=1)]
    if k > 1:
        rows, cols = np.triu_indices(k, 1)
        off = grams[:, rows, cols]
        if np.all(gram0[rows, cols] != 0):
            out.append((off / gram0[rows, cols]).mean(axis=1))
        out.append((off / np.sqrt(diag[:, rows] * diag[:, cols])).mean(axis=1))
    return np.stack(out, axis=1).ravel()


def _metric_labels(k: int, cosine: float, depth: int) -> list[tuple[str, int]]:
    names = ["g_aa/g0_aa"]
    if k > 1:
        if cosine != 0:
            names.append("g_ab/g0_ab")
        names.append("cos(e_a,e_b)")
    return [(name, layer) for layer in _layers(depth) for name in names]


def _metric_plan(predictor, rng, width, depth, options) -> Plan:
    q0 = _option(options, "q0", 1.0)
    k = _positive_int(options, "directions", 3)
    cosine = _option(options, "cosine", 0.3)
    post = _option(options, "post_activation", False, bool)
    frame = geometry.input_frame(rng, width, q0, 0, axes=k)
    gram0 = geometry.equicorrelated_gram(k, 1.0, cosine)
    directions = geometry.directions_with_gram(frame, gram0)
    predicted = predictor.metrics(gram0, q0, depth, post_activation=post)[1:]

    def statistic(net: RandomNetwork) -> np.ndarray:
        return measure.metrics(net.forward_tangents(frame.point, directions), post)[1:].ravel()

    variables = "post-activation x^l (Amari)" if post else "pre-activation u^l (Poole)"
    return Plan(
        statistic=statistic,
        prediction=_metric_summary(predicted, gram0),
        labels=_metric_labels(k, cosine, depth),
        measured=f"g^l_ab = (1/n) e_a . e_b of {variables} for {k} tangent directions with "
                 f"input g0_ab = delta_ab + {cosine:g}(1 - delta_ab) at a point of mean square "
                 f"q0={q0:g}; conformal: every entry scales alike and angles are kept",
        combine=lambda mean: _metric_summary(mean.reshape(depth, k, k), gram0),
    )


def _chi1_plan(predictor, rng, width, depth, options) -> Plan:
    q0 = _option(options, "q0", 1.0)
    k = _positive_int(options, "directions", 4)
    frame = geometry.input_frame(rng, width, q0, 0, axes=k)
    directions = geometry.directions_with_gram(frame, np.eye(k))

    def statistic(net: RandomNetwork) -> np.ndarray:
        grams = measure.metrics(net.forward_tangents(frame.point, directions), True)
        return np.trace(grams, axis1=1, axis2=2)

    return Plan(
        statistic=statistic,
        prediction=predictor.stretches(q0, depth),
        labels=[("stretch", layer) for layer in _layers(depth)],
        measured=f"one-layer metric stretch tr g(x^l) / tr g(x^{{l-1}}) of post-activations "
                 f"(B^l = diag(phi'(u^l)) W^l) for {k} orthonormal tangent directions; "
                 f"predicted chi1(q^l) with q^l from the length map (q0={q0:g})",
        combine=lambda mean: mean[1:] / mean[:-1],
    )


# -- curvature ------------------------------------------------------------------------------
def _circle_plan(predictor, rng, width, depth, options, law_name: str, post: bool) -> Plan:
    q0 = _option(options, "q0", 1.0)
    points = _positive_int(options, "points", 4)
    frame = geometry.input_frame(rng, width, q0, 1)
    first, second = frame.point, frame.others[:, 0] * frame.radius
    angles = 2 * np.pi * np.arange(points) / points

    def statistic(net: RandomNetwork) -> np.ndarray:
        values = []
        for angle in angles:
            jets = net.forward_curve(*great_circle(angle, first, second, frame.radius))
            values.append(measure.curvature_moments(jets, post))
        return np.mean(values, axis=0).ravel()

    def combine(mean: np.ndarray) -> np.ndarray:
        out = []
        for moments in mean.reshape(depth, 1, 1, 3):
            h, g = measure.normal_part(moments)
            out.append(h[0, 0] / g[0, 0] ** 2)  # kbar^2 = (|a_perp|^2/n) / (|v|^2/n)^2
        return np.array(out)

    kappa0 = np.array([[1.0 / q0]])  # a great circle of radius sqrt(n0 q0)
    variables = "post-activation x^l (Amari)" if post else "pre-activation u^l (Poole)"
    return Plan(
        statistic=statistic,
        prediction=predictor.curvatures(kappa0, q0, depth, law_name, post)[:, 0, 0],
        labels=[("kbar^2", layer) for layer in _layers(depth)],
        measured=f"kbar^2 = n kappa^2 = (|a_perp|^2/n)/(|v|^2/n)^2 of {variables} along a great "
                 f"circle of mean square q0={q0:g} (input kbar^2 = 1/q0), from the moments "
                 f"|a|^2/n, a.v/n, |v|^2/n averaged over {points} points and over networks "
                 f"(a_perp projected after averaging: the kernel-derivative form of the law)",
        combine=combine,
    )


def _torus_plan(predictor, rng, width, depth, options, law_name: str, post: bool) -> Plan:
    q0 = _option(options, "q0", 1.0)
    points = _positive_int(options, "points", 2)
    torus = geometry.flat_torus(rng, width, q0)
    angles = 2 * np.pi * (np.arange(points)[:, None] + np.array([0.0, 0.5])) / points

    def reduce(kappa: np.ndarray) -> np.ndarray:
        return np.stack([(kappa[:, 0, 0] + kappa[:, 1, 1]) / 2, kappa[:, 0, 1]], axis=1).ravel()

    def statistic(net: RandomNetwork) -> np.ndarray:
        values = []
        for t1, t2 in angles:
            jets = net.forward_second_order(*torus.at(t1, t2))
            values.append(measure.curvature_moments(jets, post))
        return np.mean(values, axis=0).ravel()

    def combine(mean: np.ndarray) -> np.ndarray:
        out = []
        for moments in mean.reshape(depth, 2, 2, 4):
            h, g = measure.normal_part(moments)
            diag = np.diag(g)
            out.append(h / np.outer(diag, diag))
        return reduce(np.array(out))

    kappa0 = np.diag([2.0 / q0, 2.0 / q0])
    variables = "post-activation x^l (Amari)" if post else "pre-activation u^l (Poole)"
    return Plan(
        statistic=statistic,
        prediction=reduce(predictor.curvatures(kappa0, q0, depth, law_name, post)),
        labels=[(name, layer) for layer in _layers(depth)
                for name in ("kbar^2_aa", "kbar^2_ab")],
        measured=f"kbar^2_ab = (|H_perp_ab|^2/n)/(g_aa g_bb) of {variables} on a flat torus of "
                 f"mean square q0={q0:g} (orthogonal isotropic coordinates; input kbar^2_aa = "
                 f"2/q0, kbar^2_12 = 0); aa = mean of 11 and 22; moments |H|^2/n, H.e/n, g "
                 f"averaged over {points} points and over networks, projected after averaging",
        combine=combine,
    )


def _curvature_plan(predictor, rng, width, depth, options) -> Plan:
    return _circle_plan(predictor, rng, width, depth, options, "curvature_map", False)


def _curvature_directions_plan(predictor, rng, width, depth, options) -> Plan:
    return _torus_plan(predictor, rng, width, depth, options, "curvature_map_directions", False)


def _curvature_post_plan(predictor, rng, width, depth, options) -> Plan:
    k = _positive_int(options, "directions", 1)
    if k == 1:
        return _circle_plan(predictor, rng, width, depth, options, "curvature_map_post", True)
    if k == 2:
        return _torus_plan(predictor, rng, width, depth, options, "curvature_map_post", True)
    raise InvalidValueError("curvature_map_post: directions must be 1 (a great circle) or 2 "
                            "(a flat torus)")


# -- Jacobians and gradients -------------------------------------------------------------------
def domino_moments(grams: np.ndarray) -> np.ndarray:
    """Per layer: mean diagonal, mean off-diagonal and mean squared off-diagonal of the
    (k x k) blocks (J V)^T (J V); shape (L, 3)."""
    k = grams.shape[1]
    rows, cols = np.triu_indices(k, 1)
    off = grams[:, rows, cols]
    return np.stack([np.diagonal(grams, axis1=1, axis2=2).mean(axis=1), off.mean(axis=1),
                     (off**2).mean(axis=1)], axis=1)


def _domino_plan(predictor, rng, width, depth, options) -> Plan:
    q0 = _option(options, "q0", 1.0)
    k = _positive_int(options, "directions", 8)
    if k < 2:
        raise InvalidValueError("domino needs directions >= 2 (off-diagonal entries)")
    frame = geometry.input_frame(rng, width, q0, 0, axes=k)
    axes = geometry.coordinate_directions(width, k)
    diag = predictor.dominoes(q0, depth)

    def statistic(net: RandomNetwork) -> np.ndarray:
        jets = net.forward_tangents(frame.point, axes)
        return domino_moments(measure.jacobian_grams(jets)).ravel()

    def combine(mean: np.ndarray) -> np.ndarray:
        d, off, square = mean.reshape(depth, 3).T
        return np.concatenate([np.stack([d, off / d], axis=1).ravel(),
                               np.sqrt(width * square) / d])

    return Plan(
        statistic=statistic,
        prediction=np.stack([diag, np.zeros(depth)], axis=1).ravel(),
        labels=[(name, layer) for layer in _layers(depth)
                for name in ("[JtJ]_aa", "[JtJ]_ab/diag")],
        measured=f"J = B^l...B^1 = d x^l/d x^0 (post-activation), [J^T J]_{{i'i''}} over the "
                 f"first {k} input coordinates at a point of mean square q0={q0:g} orthogonal "
                 f"to them; diagonal vs prod chi1(q^j); mean off-diagonal vs 0 (exact by "
                 f"symmetry); sqrt(n) rms off-diagonal / diagonal reported (theory: O(1))",
        details=[f"sqrt(n) rms[JtJ]_ab/diag, layer {layer}" for layer in _layers(depth)],
        combine=combine,
    )


def _gradient_plan(predictor, rng, width, depth, options) -> Plan:
    if depth < 2:
        raise InvalidValueError("gradient_norm needs depth >= 2")
    q0 = _option(options, "q0", 1.0)
    count = _positive_int(options, "readouts", 8)
    frame = geometry.input_frame(rng, width, q0, 0)
    readouts = rng.standard_normal((width, count))
    return Plan(
        statistic=lambda net: measure.gradient_norms(net, frame.point, readouts),
        prediction=predictor.gradients(q0, depth)[:-1],
        labels=[("qt^l/qt^L", layer) for layer in range(1, depth)],
        measured=f"qtilde^l = mean_i (dE/du^l_i)^2 by real back-propagation (shared weights) "
                 f"for {count} fixed random readouts E = r . u^L, relative to the top layer; "
                 f"the law assumes gradient independence (q0={q0:g})",
        combine=lambda mean: mean[:-1] / mean[-1],
    )


PLANS: dict[str, Builder] = {
    "length_map": _length_plan,
    "correlation_map": _correlation_plan,
    "metric_law": _metric_plan,
    "chi1": _chi1_plan,
    "curvature_map": _curvature_plan,
    "curvature_map_directions": _curvature_directions_plan,
    "curvature_map_post": _curvature_post_plan,
    "domino": _domino_plan,
    "gradient_norm": _gradient_plan,
}

OPTIONS = {
    "length_map": ("q0", "inputs"),
    "correlation_map": ("q0", "c0", "pairs"),
    "metric_law": ("q0", "directions", "cosine", "post_activation"),
    "chi1": ("q0", "directions"),
    "curvature_map": ("q0", "points"),
    "curvature_map_directions": ("q0", "points"),
    "curvature_map_post": ("q0", "points", "directions"),
    "domino": ("q0", "directions"),
    "gradient_norm": ("q0", "readouts"),
}


def combine_replicas(values: np.ndarray, combine: Callable[[np.ndarray], np.ndarray] | None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``combine`` of the replica mean, with delta-method standard errors.

    ``values`` has one row per independent replica. The standard error of combine(mean) is
    sqrt(J S J^T) with S the covariance of the mean (sample covariance / R) and J the Jacobian
    of ``combine`` at the mean (central differences), exact to O(1/R) like any ratio estimate.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    count = values.shape[0]
    mean = values.mean(axis=0)
    if combine is None:
        return mean, values.std(axis=0, ddof=1) / np.sqrt(count)
    centre = np.asarray(combine(mean), dtype=np.float64)
    covariance = np.atleast_2d(np.cov(values, rowvar=False, ddof=1)) / count
    jacobian = np.empty((centre.size, mean.size))
    for j in range(mean.size):
        step = 1e-6 * max(abs(mean[j]), np.sqrt(covariance[j, j]), 1e-300)
        up, down = mean.copy(), mean.copy()
        up[j] += step
        down[j] -= step
        jacobian[:, j] = (np.asarray(combine(up)) - np.asarray(combine(down))) / (2 * step)
    variance = np.einsum("ij,jk,ik->i", jacobian, covariance, jacobian)
    return centre, np.sqrt(np.maximum(variance, 0.0))


def supported_laws() -> tuple[str, ...]:
    """Names of the laws ``check_law`` can compare with sampled networks."""
    return tuple(PLANS)


def _resolve(law: str | Law | LawDefinition, activation: Activation
             ) -> tuple[str, dict[str, Law | LawDefinition]]:
    if isinstance(law, Law):
        if law.activation is not activation and law.activation.name != activation.name:
            raise InvalidValueError(f"the law was derived for {law.activation.name}, not "
                                    f"{activation.name}")
        return law.name, {law.name: law}
    if isinstance(law, LawDefinition):
        return law.name, {law.name: law}
    return get_law(law).name, {}


def _count(options: dict, name: str, default: int) -> int:
    """A count option as given (validated later by the plan), for the size estimate."""
    value = options.get(name, default)
    return int(value) if isinstance(value, (int, np.integer)) and value > 0 else default


def _columns(options: dict) -> int:
    """Vectors pushed through each layer per network, at most, for any plan: the size
    estimate of ``simulation_size``."""
    k = _count(options, "directions", 8)
    return 1 + max(_count(options, "inputs", 8), 2 * _count(options, "pairs", 4),
                   k + k * (k + 1) // 2, 3, _count(options, "readouts", 8))


def _passes(options: dict) -> int:
    """Passes through each network (each regenerates a lazy network's weights)."""
    return max(1, _count(options, "points", 4), 2 * _count(options, "pairs", 4))


def check_law(law: str | Law | LawDefinition, activation: str | Activation, sigma_w: float,
              sigma_b: float, width: int, depth: int, seed: SeedLike,
              replicas: int = DEFAULT_REPLICAS, z: float = DEFAULT_Z, *,
              max_memory: int | None = None, max_flops: float | None = None,
              **options: object) -> LawCheck:
    """Compare ``law`` for ``activation`` with ``replicas`` independent random networks of
    ``depth`` layers of ``width`` units (input width = width), at |z| <= ``z``.

    ``law`` is a name (see :func:`supported_laws`), or a ``Law``/``LawDefinition`` to test in
    place of the registered one (used to show that wrong laws are rejected). Options:
    q0 (input mean square, default 1), and per law: inputs, c0, pairs, directions, cosine,
    post_activation, points, readouts (see ``OPTIONS``). Raises ``InvalidValueError`` when
    the law does not apply (e.g. curvature laws for ReLU, whose chi2 diverges), and before
    anything is sampled when the networks would not fit in memory (``max_memory`` bytes,
    default a share of the available memory) or the work exceeds ``max_flops`` (see
    ``symfield.laboratory.limits``).
    """
    act = get_activation(activation)
    name, overrides = _resolve(law, act)
    if name not in PLANS:
        raise UnknownNameError(f"check_law cannot simulate {name!r}; supported laws: "
                               f"{', '.join(PLANS)}")
    width = check_integer("width", width, 2)
    depth = check_integer("depth", depth, 1, MAX_DEPTH)
    replicas = check_integer("replicas", replicas, 2)
    sigma_w, sigma_b = check_scales(sigma_w, sigma_b)
    if not (isinstance(z, (int, float)) and math.isfinite(z) and z > 0):
        raise InvalidValueError(f"z must be a positive number, got {z!r}")
    unknown = sorted(set(options) - set(OPTIONS[name]))
    if unknown:
        raise InvalidValueError(f"{name} has no option {unknown[0]!r}; its options: "
                                f"{', '.join(OPTIONS[name])}")
    size = simulation_size(width, depth, replicas, _columns(options), _passes(options),
                           f"check_law({name})", max_memory, max_flops)
    predictor = Predictor(act, sigma_w, sigma_b, overrides)
    root = as_seed_sequence(seed)
    rng = np.random.default_rng(child_sequence(root, _INPUT_KEY))
    plan = PLANS[name](predictor, rng, width, depth, dict(options))
    estimate = replicate_networks(plan.statistic, act, sigma_w, sigma_b, [width] * (depth + 1),
                                  replicas, child_sequence(root, _NETWORK_KEY), lazy=size.lazy,
                                  max_memory=size.memory_limit)
    mean, error = combine_replicas(estimate.values, plan.combine)
    count = len(plan.labels)
    rows = [Row(quantity, layer, float(plan.prediction[i]), float(mean[i]), float(error[i]))
            for i, (quantity, layer) in enumerate(plan.labels)]
    details = {}
    for i, label in enumerate(plan.details):
        details[label] = float(mean[count + i])
        details[f"{label} (std.err)"] = float(error[count + i])
    derived = predictor.law(name)
    return LawCheck.build(
        rows, z, law=name, activation=act.name, convention=derived.convention,
        measured=plan.measured, sigma_w=float(sigma_w), sigma_b=float(sigma_b), width=width,
        depth=depth, seed=seed if isinstance(seed, (int, np.integer)) else None,
        replicas=replicas, details=details)
