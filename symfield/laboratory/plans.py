"""Plan kinds: the ways a law is checked against sampled networks, one small object each.

A law's definition names the kind that checks it (``LawDefinition.sampled_check``), or says
why no sampled network can (``unsampled_reason``); :func:`symfield.laboratory.check_law` reads
it from there. A :class:`PlanKind` is a builder, the names of its options and a description,
held in one registry, :data:`PLAN_KINDS`. The builder gets a :class:`PlanContext` (the law
under test, a ``Predictor``, the input generator, width, depth, options) and returns a
:class:`Plan`: the per-network statistic (measured with ``symfield.laboratory.networks``) and
the prediction (iterated layer by layer from the law's ``to_numpy()``), both flattened to one
vector. One value per independent network; ratios are formed from the replica means (see
``checks.py``).

Each builder predicts with the law under test (``context.law``) for the quantity it
measures; the trajectories it starts from (variances, activities, covariances) come from the
registered laws.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from ..errors import InvalidValueError, quoted
from ..registry import Registry
from . import inputs as geometry
from . import measurements as measure
from .networks import RandomNetwork, great_circle
from .predictions import Predictor


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


@dataclass(frozen=True)
class PlanContext:
    """What a builder works with: the law under test and the sizes and options of the check."""

    law: str
    predictor: Predictor
    rng: np.random.Generator
    width: int
    depth: int
    options: Mapping[str, object]

    @property
    def layers(self) -> range:
        return range(1, self.depth + 1)

    def number(self, name: str, default: float) -> float:
        """A finite real option."""
        value = self.options.get(name, default)
        if isinstance(value, (bool, np.bool_)):
            value = math.nan
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):
            raise InvalidValueError(f"option {name} must be a finite number, got "
                                    f"{quoted(value)}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.options.get(name, default)
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidValueError(f"option {name} must be True or False, got {quoted(value)}")
        return bool(value)

    def count(self, name: str, default: int) -> int:
        """A positive integer option."""
        value = self.options.get(name, default)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
                or value < 1:
            raise InvalidValueError(f"option {name} must be an integer >= 1, got "
                                    f"{quoted(value)}")
        return int(value)


Builder = Callable[[PlanContext], Plan]


@dataclass(frozen=True)
class PlanKind:
    """One way of checking a law against sampled networks."""

    name: str
    build: Builder
    options: tuple[str, ...]
    description: str
    #: The statistic uses phi' pointwise (tangents, back-propagation, slope averages): a
    #: sampled network's phi' cannot hold a Dirac delta, so such a plan cannot check an
    #: activation whose phi' has one (sign, step) and check_law refuses it.
    reads_slopes: bool


#: Every plan kind the laboratory provides, by name.
PLAN_KINDS: Registry[PlanKind] = Registry("plan kind", lambda kind: kind.name)


def plan_kind(name: str, options: tuple[str, ...], description: str, *, reads_slopes: bool
              ) -> Callable[[Builder], Builder]:
    """Register the decorated builder as the plan kind ``name`` (``reads_slopes``: see
    PlanKind; required, so that every new kind decides it)."""
    def register(build: Builder) -> Builder:
        PLAN_KINDS.register(PlanKind(name, build, options, description, reads_slopes))
        return build
    return register


# -- one input ------------------------------------------------------------------------------
@plan_kind("layer_variance", ("q0", "inputs"),
           "pre-activation variance q^l of orthogonal inputs, the law iterated from the "
           "linear input layer",
           reads_slopes=False)
def _layer_variance(context: PlanContext) -> Plan:
    q0 = context.number("q0", 1.0)
    count = context.count("inputs", 8)
    inputs = geometry.orthogonal_inputs(context.rng, context.width, q0, count)
    return Plan(
        statistic=lambda net: measure.lengths(net, inputs),
        prediction=context.predictor.lengths(q0, context.depth, context.law),
        labels=[("q", layer) for layer in context.layers],
        measured=f"q^l = mean_i (u^l_i)^2 (pre-activation), averaged over {count} orthogonal "
                 f"inputs of mean square q0={q0:g}; q^1 from the linear input layer",
    )


@plan_kind("layer_activity", ("q0", "inputs"),
           "post-activation activity A^l of orthogonal inputs, the law iterated from the "
           "input's A^0 = q0 (Amari)",
           reads_slopes=False)
def _layer_activity(context: PlanContext) -> Plan:
    q0 = context.number("q0", 1.0)
    count = context.count("inputs", 8)
    inputs = geometry.orthogonal_inputs(context.rng, context.width, q0, count)
    return Plan(
        statistic=lambda net: measure.activities(net, inputs),
        prediction=context.predictor.activities(q0, context.depth, context.law),
        labels=[("A", layer) for layer in context.layers],
        measured=f"A^l = mean_i (x^l_i)^2 (post-activation), averaged over {count} orthogonal "
                 f"inputs of mean square A^0 = q0={q0:g}; predicted by iterating the law "
                 f"from A^0",
    )


def _unit_average_at_variance(context: PlanContext, statistic, quantity: str,
                              averaged: str) -> Plan:
    """A per-layer average over units of orthogonal inputs against the law at the layer's
    predicted variance q^l (``statistic(net, inputs)``; ``averaged`` says what it averages)."""
    q0 = context.number("q0", 1.0)
    count = context.count("inputs", 8)
    inputs = geometry.orthogonal_inputs(context.rng, context.width, q0, count)
    return Plan(
        statistic=lambda net: statistic(net, inputs),
        prediction=context.predictor.at_variances(context.law, q0, context.depth),
        labels=[(quantity, layer) for layer in context.layers],
        measured=f"{averaged}, averaged over {count} orthogonal inputs of mean square "
                 f"q0={q0:g}; predicted at q^l from the length map",
    )


@plan_kind("activity_at_variance", ("q0", "inputs"),
           "post-activation activity A^l against the law at the layer's predicted "
           "pre-activation variance q^l",
           reads_slopes=False)
def _activity_at_variance(context: PlanContext) -> Plan:
    return _unit_average_at_variance(context, measure.activities, "A",
                                     "A^l = mean_i phi(u^l_i)^2 (post-activation)")


@plan_kind("mean_activity_at_variance", ("q0", "inputs"),
           "post-activation mean over units against the law at the layer's predicted "
           "pre-activation variance q^l",
           reads_slopes=False)
def _mean_activity_at_variance(context: PlanContext) -> Plan:
    return _unit_average_at_variance(context, measure.mean_activities, "mean phi",
                                     "mean_i phi(u^l_i) (post-activation)")


@plan_kind("mean_slope_at_variance", ("q0", "inputs"),
           "mean slope phi'(u^l) over units against the law at the layer's predicted "
           "pre-activation variance q^l",
           reads_slopes=True)
def _mean_slope_at_variance(context: PlanContext) -> Plan:
    return _unit_average_at_variance(context, measure.mean_slopes, "mean phi'",
                                     "mean_i phi'(u^l_i) of pre-activations")


@plan_kind("radial_stretch", ("q0", "inputs"),
           "growth of q^l along the radial direction, dq^l/dq^{l-1}, against the law at "
           "q^{l-1}",
           reads_slopes=True)
def _radial_stretch(context: PlanContext) -> Plan:
    q0 = context.number("q0", 1.0)
    count = context.count("inputs", 4)
    points = geometry.orthogonal_inputs(context.rng, context.width, q0, count)
    # (1/n) u^0 . e^0 of the input itself: x0 . x0 / n0 = q0 exactly
    return Plan(
        statistic=lambda net: measure.radial_moments(net, points),
        prediction=context.predictor.radial_stretches(q0, context.depth, context.law),
        labels=[("dq^l/dq^(l-1)", layer) for layer in context.layers],
        measured=f"m^l = (1/n) u^l . e^l with e^l = du^l/dt along x(t) = (1 + t) x0 (m^l is "
                 f"half the derivative of q^l, exactly, per network), averaged over {count} "
                 f"orthogonal inputs of mean square q0={q0:g}; compared: m^l/m^(l-1) "
                 f"(m^0 = q0) against the law at q^(l-1), the first step linear",
        combine=lambda mean: np.concatenate([[mean[0] / q0], mean[1:] / mean[:-1]]),
    )


# -- two inputs -----------------------------------------------------------------------------
def _pairs(context: PlanContext, partner: bool
           ) -> tuple[np.ndarray, float, float, float, int]:
    """Input pairs (rows 2j, 2j+1): the options q0, c0, pairs and, with ``partner``, the
    second input's mean square q0_partner (default q0/2: unequal variances)."""
    q0 = context.number("q0", 1.0)
    c0 = context.number("c0", 0.5)
    count = context.count("pairs", 4)
    partner_q0 = context.number("q0_partner", q0 / 2) if partner else q0
    pairs = geometry.correlated_pairs(context.rng, context.width, q0, c0, count, partner_q0)
    return pairs, q0, c0, partner_q0, count


@plan_kind("pair_correlation", ("q0", "c0", "pairs"),
           "pre-activation correlation c^l of input pairs, the law iterated from the linear "
           "input layer",
           reads_slopes=False)
def _pair_correlation(context: PlanContext) -> Plan:
    pairs, q0, c0, _, count = _pairs(context, partner=False)
    depth = context.depth

    def combine(mean: np.ndarray) -> np.ndarray:
        q11, q22, q12 = mean.reshape(depth, 3).T
        return q12 / np.sqrt(q11 * q22)

    return Plan(
        statistic=lambda net: measure.pair_moments(net, pairs).ravel(),
        prediction=context.predictor.correlations(c0, q0, depth, context.law),
        labels=[("c", layer) for layer in context.layers],
        measured=f"c^l = q12/sqrt(q11 q22) of pre-activations (moments averaged over networks "
                 f"and {count} input pairs of mean square q0={q0:g}, correlation c0={c0:g})",
        combine=combine,
    )


@plan_kind("correlation_stretch", ("q0", "c0", "pairs"),
           "growth of the correlation of input pairs as one input turns towards the other, "
           "dc^l/dc^{l-1}, against the law at (c^{l-1}, q^{l-1})",
           reads_slopes=True)
def _correlation_stretch(context: PlanContext) -> Plan:
    pairs, q0, c0, _, count = _pairs(context, partner=False)
    first, second = pairs[0::2], pairs[1::2]
    turn = measure.turning_directions(pairs)
    # the input layer's rate dc^0/dt: the pairs are fixed, so this is exact
    rate0 = np.mean(np.mean(first * turn, axis=1))
    scale0 = np.mean(np.sqrt(np.mean(first**2, axis=1) * np.mean(second**2, axis=1)))
    depth = context.depth

    def combine(mean: np.ndarray) -> np.ndarray:
        # variances from their replica means (a per-network sqrt(q q') is biased by O(1/n))
        rate, q, q_partner = mean.reshape(3, depth)
        rates = np.concatenate([[rate0 / scale0], rate / np.sqrt(q * q_partner)])
        return rates[1:] / rates[:-1]

    return Plan(
        statistic=lambda net: measure.correlation_tangents(net, pairs).ravel(),
        prediction=context.predictor.correlation_stretches(c0, q0, depth, context.law),
        labels=[("dc^l/dc^(l-1)", layer) for layer in context.layers],
        measured=f"r^l = (1/n) u^l . e'^l / sqrt(q^l q'^l) (each a mean over networks) "
                 f"with e' = du'/dt as the second input "
                 f"of each pair turns towards the first (x'(t) = x' + t v, v the part of x "
                 f"orthogonal to x': r^l is dc^l/dt per network), averaged over {count} input "
                 f"pairs of mean square q0={q0:g}, correlation c0={c0:g}; compared: "
                 f"r^l/r^(l-1) (r^0 exact) against the law at (c^(l-1), q^(l-1)), the first "
                 f"step linear",
        combine=combine,
    )


@plan_kind("pair_covariance", ("q0", "q0_partner", "c0", "pairs"),
           "pre-activation covariance q12^l of input pairs of unequal mean squares, the law "
           "iterated from the linear input layer",
           reads_slopes=False)
def _pair_covariance(context: PlanContext) -> Plan:
    pairs, q0, c0, partner_q0, count = _pairs(context, partner=True)
    return Plan(
        statistic=lambda net: measure.pair_moments(net, pairs)[:, 2],
        prediction=context.predictor.covariances(c0, q0, partner_q0, context.depth,
                                                 context.law),
        labels=[("q12", layer) for layer in context.layers],
        measured=f"q12^l = mean_i u^l_i u'^l_i (pre-activation), averaged over {count} input "
                 f"pairs of mean squares q0={q0:g} and {partner_q0:g}, correlation c0={c0:g}; "
                 f"variances q^l of each input from the length map",
    )


@plan_kind("depth_covariance", ("q0", "q0_partner", "c0", "pairs"),
           "pre-activation covariance q12^l of input pairs against the recursion law at "
           "depth L = l from the layer-1 covariance Sigma^1",
           reads_slopes=False)
def _depth_covariance(context: PlanContext) -> Plan:
    pairs, q0, c0, partner_q0, count = _pairs(context, partner=True)
    return Plan(
        statistic=lambda net: measure.pair_moments(net, pairs)[:, 2],
        prediction=context.predictor.at_depths(context.law, c0, q0, partner_q0,
                                               context.depth),
        labels=[("Sigma_12", layer) for layer in context.layers],
        measured=f"Sigma^l_12 = mean_i u^l_i u'^l_i (pre-activation), averaged over {count} "
                 f"input pairs of mean squares q0={q0:g} and {partner_q0:g}, correlation "
                 f"c0={c0:g}; predicted by the law at L = l from Sigma^1 = sigma_w^2 x.x'/n0 "
                 f"+ sigma_b^2",
    )


@plan_kind("pair_overlap", ("q0", "c0", "pairs"),
           "post-activation overlap C^l of input pairs of equal mean square, the law iterated "
           "from C^0 = c0 q0 at the common activity A^l (Amari)",
           reads_slopes=False)
def _pair_overlap(context: PlanContext) -> Plan:
    pairs, q0, c0, _, count = _pairs(context, partner=False)
    return Plan(
        statistic=lambda net: measure.pair_moments(net, pairs, post_activation=True)[:, 2],
        prediction=context.predictor.overlaps(c0, q0, context.depth, context.law),
        labels=[("C", layer) for layer in context.layers],
        measured=f"C^l = mean_i x^l_i x'^l_i (post-activation), averaged over {count} input "
                 f"pairs of mean square q0={q0:g} (= A^0) and correlation c0={c0:g} (C^0 = "
                 f"c0 q0); activities A^l from the activity map",
    )


@plan_kind("pair_distance", ("q0", "c0", "pairs"),
           "post-activation distance D^l of input pairs of equal mean square, the law "
           "iterated from D^0 = 2 q0 (1 - c0) at the common activity A^l (Amari)",
           reads_slopes=False)
def _pair_distance(context: PlanContext) -> Plan:
    pairs, q0, c0, _, count = _pairs(context, partner=False)
    return Plan(
        statistic=lambda net: measure.pair_distances(net, pairs),
        prediction=context.predictor.distances(c0, q0, context.depth, context.law),
        labels=[("D", layer) for layer in context.layers],
        measured=f"D^l = mean_i (x^l_i - x'^l_i)^2 (post-activation), averaged over {count} "
                 f"input pairs of mean square q0={q0:g} (= A^0) and correlation c0={c0:g} "
                 f"(D^0 = 2 q0 (1 - c0)); activities A^l from the activity map",
    )


@plan_kind("overlap_at_covariance", ("q0", "q0_partner", "c0", "pairs"),
           "post-activation overlap C^l of input pairs against the law at the layer's "
           "predicted pre-activation covariance (q1^l, q2^l, q12^l)",
           reads_slopes=False)
def _overlap_at_covariance(context: PlanContext) -> Plan:
    pairs, q0, c0, partner_q0, count = _pairs(context, partner=True)
    return Plan(
        statistic=lambda net: measure.pair_moments(net, pairs, post_activation=True)[:, 2],
        prediction=context.predictor.at_covariances(context.law, c0, q0, partner_q0,
                                                    context.depth),
        labels=[("C", layer) for layer in context.layers],
        measured=f"C^l = mean_i phi(u^l_i) phi(u'^l_i) (post-activation), averaged over "
                 f"{count} input pairs of mean squares q0={q0:g} and {partner_q0:g}, "
                 f"correlation c0={c0:g}; predicted at (q1^l, q2^l, q12^l) from the length "
                 f"and covariance maps",
    )


@plan_kind("slope_product_at_covariance", ("q0", "q0_partner", "c0", "pairs"),
           "mean product phi'(u^l) phi'(u'^l) over the units of input pairs against the law "
           "at the layer's predicted pre-activation covariance",
           reads_slopes=True)
def _slope_product_at_covariance(context: PlanContext) -> Plan:
    pairs, q0, c0, partner_q0, count = _pairs(context, partner=True)
    return Plan(
        statistic=lambda net: measure.slope_products(net, pairs),
        prediction=context.predictor.at_covariances(context.law, c0, q0, partner_q0,
                                                    context.depth),
        labels=[("phi'phi'", layer) for layer in context.layers],
        measured=f"mean_i phi'(u^l_i) phi'(u'^l_i) of pre-activations (the pair's "
                 f"Jacobian-product factor), averaged over {count} input pairs of mean squares "
                 f"q0={q0:g} and {partner_q0:g}, correlation c0={c0:g}; predicted at "
                 f"(q1^l, q2^l, q12^l) from the length and covariance maps",
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


def _metric_labels(k: int, cosine: float, layers: range) -> list[tuple[str, int]]:
    names = ["g_aa/g0_aa"]
    if k > 1:
        if cosine != 0:
            names.append("g_ab/g0_ab")
        names.append("cos(e_a,e_b)")
    return [(name, layer) for layer in layers for name in names]


@plan_kind("tangent_metric", ("q0", "directions", "cosine", "post_activation"),
           "metric g_ab = (1/n) e_a . e_b of tangent directions at a point: every entry "
           "scales by the law, angles are kept",
           reads_slopes=True)
def _tangent_metric(context: PlanContext) -> Plan:
    q0 = context.number("q0", 1.0)
    k = context.count("directions", 3)
    cosine = context.number("cosine", 0.3)
    post = context.flag("post_activation", False)
    depth = context.depth
    frame = geometry.input_frame(context.rng, context.width, q0, 0, axes=k)
    gram0 = geometry.equicorrelated_gram(k, 1.0, cosine)
    directions = geometry.directions_with_gram(frame, gram0)
    predicted = context.predictor.metrics(gram0, q0, depth, post, context.law)[1:]

    def statistic(net: RandomNetwork) -> np.ndarray:
        return measure.metrics(net.forward_tangents(frame.point, directions), post)[1:].ravel()

    variables = "post-activation x^l (Amari)" if post else "pre-activation u^l (Poole)"
    return Plan(
        statistic=statistic,
        prediction=_metric_summary(predicted, gram0),
        labels=_metric_labels(k, cosine, context.layers),
        measured=f"g^l_ab = (1/n) e_a . e_b of {variables} for {k} tangent directions with "
                 f"input g0_ab = delta_ab + {cosine:g}(1 - delta_ab) at a point of mean square "
                 f"q0={q0:g}; conformal: every entry scales alike and angles are kept",
        combine=lambda mean: _metric_summary(mean.reshape(depth, k, k), gram0),
    )


@plan_kind("one_layer_stretch", ("q0", "directions"),
           "one layer's stretch of the post-activation metric, tr g(x^l) / tr g(x^{l-1}), "
           "against the law at q^l",
           reads_slopes=True)
def _one_layer_stretch(context: PlanContext) -> Plan:
    q0 = context.number("q0", 1.0)
    k = context.count("directions", 4)
    frame = geometry.input_frame(context.rng, context.width, q0, 0, axes=k)
    directions = geometry.directions_with_gram(frame, np.eye(k))

    def statistic(net: RandomNetwork) -> np.ndarray:
        grams = measure.metrics(net.forward_tangents(frame.point, directions), True)
        return np.trace(grams, axis1=1, axis2=2)

    return Plan(
        statistic=statistic,
        prediction=context.predictor.stretches(q0, context.depth, context.law),
        labels=[("stretch", layer) for layer in context.layers],
        measured=f"one-layer metric stretch tr g(x^l) / tr g(x^{{l-1}}) of post-activations "
                 f"(B^l = diag(phi'(u^l)) W^l) for {k} orthonormal tangent directions; "
                 f"predicted chi1(q^l) with q^l from the length map (q0={q0:g})",
        combine=lambda mean: mean[1:] / mean[:-1],
    )


# -- curvature ------------------------------------------------------------------------------
def _circle_plan(context: PlanContext, post: bool) -> Plan:
    q0 = context.number("q0", 1.0)
    points = context.count("points", 4)
    depth = context.depth
    frame = geometry.input_frame(context.rng, context.width, q0, 1)
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
        prediction=context.predictor.curvatures(kappa0, q0, depth, context.law, post)[:, 0, 0],
        labels=[("kbar^2", layer) for layer in context.layers],
        measured=f"kbar^2 = n kappa^2 = (|a_perp|^2/n)/(|v|^2/n)^2 of {variables} along a great "
                 f"circle of mean square q0={q0:g} (input kbar^2 = 1/q0), from the moments "
                 f"|a|^2/n, a.v/n, |v|^2/n averaged over {points} points and over networks "
                 f"(a_perp projected after averaging: the kernel-derivative form of the law)",
        combine=combine,
    )


def _torus_plan(context: PlanContext, post: bool) -> Plan:
    q0 = context.number("q0", 1.0)
    points = context.count("points", 2)
    depth = context.depth
    torus = geometry.flat_torus(context.rng, context.width, q0)
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
        prediction=reduce(context.predictor.curvatures(kappa0, q0, depth, context.law, post)),
        labels=[(name, layer) for layer in context.layers
                for name in ("kbar^2_aa", "kbar^2_ab")],
        measured=f"kbar^2_ab = (|H_perp_ab|^2/n)/(g_aa g_bb) of {variables} on a flat torus of "
                 f"mean square q0={q0:g} (orthogonal isotropic coordinates; input kbar^2_aa = "
                 f"2/q0, kbar^2_12 = 0); aa = mean of 11 and 22; moments |H|^2/n, H.e/n, g "
                 f"averaged over {points} points and over networks, projected after averaging",
        combine=combine,
    )


@plan_kind("great_circle_curvature", ("q0", "points"),
           "Poole's normalised curvature kbar^2 of pre-activations along a great circle",
           reads_slopes=True)
def _great_circle_curvature(context: PlanContext) -> Plan:
    return _circle_plan(context, post=False)


@plan_kind("flat_torus_curvature", ("q0", "points"),
           "normalised extrinsic curvatures kbar^2_ab of pre-activations on a flat torus "
           "(two orthogonal isotropic directions)",
           reads_slopes=True)
def _flat_torus_curvature(context: PlanContext) -> Plan:
    return _torus_plan(context, post=False)


@plan_kind("post_activation_curvature", ("q0", "points", "directions"),
           "normalised curvature of post-activations (Amari): along a great circle "
           "(directions=1) or on a flat torus (directions=2)",
           reads_slopes=True)
def _post_activation_curvature(context: PlanContext) -> Plan:
    k = context.count("directions", 1)
    if k not in (1, 2):
        raise InvalidValueError(f"{context.law}: directions must be 1 (a great circle) or 2 "
                                f"(a flat torus), got {k}")
    return _circle_plan(context, post=True) if k == 1 else _torus_plan(context, post=True)


# -- Jacobians and gradients -------------------------------------------------------------------
@plan_kind("input_output_jacobian", ("q0", "directions"),
           "Gram matrix J^T J of the input-output Jacobian over coordinate directions: "
           "diagonal against the law, off-diagonal against 0",
           reads_slopes=True)
def _input_output_jacobian(context: PlanContext) -> Plan:
    q0 = context.number("q0", 1.0)
    k = context.count("directions", 8)
    if k < 2:
        raise InvalidValueError(f"{context.law} needs directions >= 2 (off-diagonal entries)")
    width, depth = context.width, context.depth
    frame = geometry.input_frame(context.rng, width, q0, 0, axes=k)
    axes = geometry.coordinate_directions(width, k)
    diag = context.predictor.dominoes(q0, depth, context.law)

    def statistic(net: RandomNetwork) -> np.ndarray:
        jets = net.forward_tangents(frame.point, axes)
        return measure.domino_moments(measure.jacobian_grams(jets)).ravel()

    def combine(mean: np.ndarray) -> np.ndarray:
        d, off, square = mean.reshape(depth, 3).T
        return np.concatenate([np.stack([d, off / d], axis=1).ravel(),
                               np.sqrt(width * square) / d])

    return Plan(
        statistic=statistic,
        prediction=np.stack([diag, np.zeros(depth)], axis=1).ravel(),
        labels=[(name, layer) for layer in context.layers
                for name in ("[JtJ]_aa", "[JtJ]_ab/diag")],
        measured=f"J = B^l...B^1 = d x^l/d x^0 (post-activation), [J^T J]_{{i'i''}} over the "
                 f"first {k} input coordinates at a point of mean square q0={q0:g} orthogonal "
                 f"to them; diagonal vs prod chi1(q^j); mean off-diagonal vs 0 (exact by "
                 f"symmetry); sqrt(n) rms off-diagonal / diagonal reported (theory: O(1))",
        details=[f"sqrt(n) rms[JtJ]_ab/diag, layer {layer}" for layer in context.layers],
        combine=combine,
    )


def _gradient_plan(context: PlanContext, points: np.ndarray, described: str,
                   predict: Callable[[float], np.ndarray], q0: float) -> Plan:
    """qtilde^l / qtilde^L, l < L, by back-propagation from the rows of ``points``;
    ``predict(q0)`` gives the law's ratios for l = 1..L."""
    count = context.count("readouts", 8)
    readouts = context.rng.standard_normal((context.width, count))
    return Plan(
        statistic=lambda net: measure.gradient_norms(net, points, readouts),
        prediction=predict(q0)[:-1],
        labels=[("qt^l/qt^L", layer) for layer in range(1, context.depth)],
        measured=f"qtilde^l = mean_i (dE/du^l_i)^2 by real back-propagation (shared weights) "
                 f"for {count} fixed random readouts E = r . u^L, relative to the top layer, "
                 f"at {described} of mean square q0={q0:g}; the law assumes gradient "
                 f"independence",
        combine=lambda mean: mean[:-1] / mean[-1],
    )


def _needs_two_layers(context: PlanContext) -> None:
    if context.depth < 2:
        raise InvalidValueError(f"{context.law} needs depth >= 2")


@plan_kind("backpropagated_gradient", ("q0", "readouts"),
           "mean square of back-propagated gradients qtilde^l relative to the top layer, "
           "against the product of the law at L = 1 over the layers above",
           reads_slopes=True)
def _backpropagated_gradient(context: PlanContext) -> Plan:
    _needs_two_layers(context)
    q0 = context.number("q0", 1.0)
    frame = geometry.input_frame(context.rng, context.width, q0, 0)
    return _gradient_plan(
        context, frame.point, "one input",
        lambda q0: context.predictor.gradients(q0, context.depth, context.law), q0)


@plan_kind("backward_order_parameter", ("q0", "inputs", "readouts"),
           "mean square of back-propagated gradients qtilde^l of orthogonal inputs relative "
           "to the top layer, against the law iterated down from qtilde^L = 1",
           reads_slopes=True)
def _backward_order_parameter(context: PlanContext) -> Plan:
    _needs_two_layers(context)
    q0 = context.number("q0", 1.0)
    count = context.count("inputs", 8)
    points = geometry.orthogonal_inputs(context.rng, context.width, q0, count)
    return _gradient_plan(
        context, points, f"{count} orthogonal inputs",
        lambda q0: context.predictor.backward_order_parameters(q0, context.depth,
                                                               context.law), q0)


@plan_kind("backward_pair_order_parameter", ("q0", "q0_partner", "c0", "pairs", "readouts"),
           "product qtilde^l_12 of back-propagated gradients at the two inputs of a pair "
           "(same readout) relative to the top layer, against the law iterated down from "
           "qtilde^L_12 = 1",
           reads_slopes=True)
def _backward_pair_order_parameter(context: PlanContext) -> Plan:
    _needs_two_layers(context)
    pairs, q0, c0, partner_q0, count = _pairs(context, partner=True)
    readout_count = context.count("readouts", 8)
    readouts = context.rng.standard_normal((context.width, readout_count))
    return Plan(
        statistic=lambda net: measure.pair_gradient_products(net, pairs, readouts),
        prediction=context.predictor.backward_pair_order_parameters(
            c0, q0, partner_q0, context.depth, context.law)[:-1],
        labels=[("qt12^l/qt12^L", layer) for layer in range(1, context.depth)],
        measured=f"qtilde^l_12 = mean_i (dE/du^l_i)(x) (dE/du^l_i)(x') by real "
                 f"back-propagation (shared weights) of {readout_count} fixed random readouts "
                 f"E = r . u^L at both inputs of {count} pairs of mean squares q0={q0:g} and "
                 f"{partner_q0:g}, correlation c0={c0:g}, relative to the top layer; the law "
                 f"assumes gradient independence",
        combine=lambda mean: mean[:-1] / mean[-1],
    )


__all__ = ["PLAN_KINDS", "Plan", "PlanContext", "PlanKind", "plan_kind"]
