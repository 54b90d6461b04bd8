"""``check_law``: a law's prediction against R independent sampled networks.

The law's definition names how it is checked (``LawDefinition.sampled_check``, a plan kind of
:mod:`.plans`): the input geometry, the per-network statistic (measured with
``symfield.laboratory.networks``) and the prediction (iterated with ``Predictor``), both
flattened to one vector per layer. One value per independent network; the standard error is
std/sqrt(R) over networks (never over units of one network, which are not independent).

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

from typing import Callable, Sequence

import numpy as np
import sympy as sp

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, quoted
from ..laws import Law, LawDefinition, get_law, registered_laws
from .finite_width import ACROSS_WIDTHS, check_law_across_widths
from .limits import MAX_DEPTH, check_integer, check_real, check_scales, simulation_size
from .networks import replicate_networks
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence
from .plans import PLAN_KINDS, PlanContext, PlanKind
from .predictions import Predictor
from .report import LawCheck, Row

DEFAULT_Z = 5.0
DEFAULT_REPLICAS = 16

# Keys below the root seed: the networks of replica r are at (0, r), the inputs at (1,).
_NETWORK_KEY, _INPUT_KEY = 0, 1


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
    """Names of the registered laws ``check_law`` can compare with sampled networks (those
    whose definition names a plan kind)."""
    return tuple(name for name, definition in registered_laws().items() if definition.sampled_check)


def _resolve(law: object, activation: Activation) -> tuple[LawDefinition, dict[str, object]]:
    """The definition of the law under test and the predictor's overrides for it."""
    if isinstance(law, Law):
        if law.activation is not activation and law.activation.name != activation.name:
            raise InvalidValueError(f"the law was derived for {law.activation.name}, not "
                                    f"{activation.name}")
        return law._spec or get_law(law.name), {law.name: law}
    if isinstance(law, LawDefinition):
        return law, {law.name: law}
    if not isinstance(law, str):
        raise InvalidValueError(f"law must be a law name, a Law or a LawDefinition, not "
                                f"{quoted(law)}")
    return get_law(law), {}


def plan_kind_of(definition: LawDefinition) -> PlanKind:
    """The plan kind that checks ``definition`` against sampled networks; InvalidValueError
    with the law's own reason when it has none."""
    if definition.sampled_check is None:
        reason = definition.unsampled_reason.strip() or "its definition gives no reason"
        raise InvalidValueError(
            f"check_law cannot simulate {definition.name!r}: {reason} (laws with a sampled "
            f"check: {', '.join(supported_laws())})")
    if definition.sampled_check not in PLAN_KINDS:
        raise InvalidValueError(
            f"{definition.name} names the plan kind {quoted(definition.sampled_check)}, which "
            f"the laboratory does not provide (plan kinds: {', '.join(PLAN_KINDS.names())})")
    return PLAN_KINDS.get(definition.sampled_check)


def sampling_refusal(law: str | LawDefinition, activation: str | Activation) -> str | None:
    """Why sampled networks cannot check ``law`` (a name or definition) for ``activation``,
    or None: a plan that reads phi' pointwise (tangents, back-propagation, slope averages)
    sees 0 almost everywhere where phi' is a Dirac delta (sign, step), while the law counts
    the delta."""
    definition = law if isinstance(law, LawDefinition) else get_law(law)
    activation = get_activation(activation)
    if definition.sampled_check is None or definition.sampled_check not in PLAN_KINDS:
        return None
    if PLAN_KINDS.get(definition.sampled_check).reads_slopes \
            and activation.derivative(1).has(sp.DiracDelta):
        return (f"its plan ({definition.sampled_check}) reads phi' pointwise, and phi' of "
                f"{activation.name} holds a Dirac delta that a sampled network's phi' (0 almost "
                f"everywhere) cannot show")
    return None


def _count(options: dict, name: str, default: int) -> int:
    """A count option as given (validated later by the plan), for the size estimate."""
    value = options.get(name, default)
    return int(value) if isinstance(value, (int, np.integer)) and value > 0 else default


def _columns(kind: PlanKind, options: dict) -> int:
    """Vectors pushed through each layer per network, at most, for any plan of ``kind``'s
    options: the size estimate of ``simulation_size``."""
    k = _count(options, "directions", 8)
    inputs, pairs = _count(options, "inputs", 8), 2 * _count(options, "pairs", 4)
    # back-propagation pushes one column per input and readout
    backward = _count(options, "readouts", 8) * (
        pairs if "pairs" in kind.options else inputs if "inputs" in kind.options else 1)
    return 1 + max(inputs, pairs, k + k * (k + 1) // 2, 3, backward)


def _passes(options: dict) -> int:
    """Passes through each network (each regenerates a lazy network's weights)."""
    return max(1, _count(options, "points", 4), _count(options, "inputs", 8),
               2 * _count(options, "pairs", 4))


def _is_sequence(value: object) -> bool:
    return isinstance(value, (list, tuple, range, np.ndarray))


def check_law(law: str | Law | LawDefinition, activation: str | Activation, sigma_w: float,
              sigma_b: float, width: int | Sequence[int] | None, depth: int, seed: SeedLike,
              replicas: int | None = None, z: float = DEFAULT_Z, *,
              widths: Sequence[int] | None = None, max_memory: int | None = None,
              max_flops: float | None = None, **options: object) -> LawCheck:
    """Compare ``law`` for ``activation`` with ``replicas`` independent random networks of
    ``depth`` layers of ``width`` units (input width = width), at |z| <= ``z``.

    ``law`` is a name (see :func:`supported_laws`), or a ``Law``/``LawDefinition`` to test in
    place of the registered one (used to show that wrong laws are rejected). The plan kind
    comes from the law's definition (``sampled_check``; a law without one is refused with its
    ``unsampled_reason``). Options: q0 (input mean square, default 1), and those of the plan
    kind (``PLAN_KINDS.get(kind).options``: inputs, c0, q0_partner, pairs, directions, cosine,
    post_activation, points, readouts). Raises ``InvalidValueError`` when the law does not
    apply (e.g. curvature laws for ReLU, whose chi2 diverges), and before anything is sampled
    when the networks would not fit in memory (``max_memory`` bytes, default a share of the
    available memory) or the work exceeds ``max_flops`` (see ``symfield.laboratory.limits``).
    """
    act = get_activation(activation)
    definition, overrides = _resolve(law, act)
    if _is_sequence(width):
        if widths is not None:
            raise InvalidValueError("give the widths once: as width=[...] or as widths=[...]")
        width, widths = None, width
    if definition.name in ACROSS_WIDTHS:
        if widths is None:
            raise InvalidValueError(
                f"check_law cannot simulate {definition.name!r}: at one width (got width="
                f"{quoted(width)}); a 1/n law is checked by a fit across widths: pass "
                f"widths=[16, 32, 64, 128] (at least two different widths)")
        if width is not None:
            raise InvalidValueError("give the widths once: as width=[...] or as widths=[...]")
        if overrides and definition is not get_law(definition.name):
            # the fit's predictions come from the registered layer laws, not from this one
            raise InvalidValueError(
                f"{definition.name} is checked across widths with the registered law only; "
                f"for a power test pass scale=1.1 (multiplies the prediction)")
        return check_law_across_widths(definition.name, act, sigma_w, sigma_b, widths, depth,
                                       seed, replicas, z, options, max_memory, max_flops)
    if widths is not None:
        raise InvalidValueError(
            f"{definition.name} is checked at one width: pass width=N (several widths are "
            f"for the 1/n laws: {', '.join(ACROSS_WIDTHS)})")
    replicas = DEFAULT_REPLICAS if replicas is None else replicas
    kind = plan_kind_of(definition)
    name = definition.name
    refusal = sampling_refusal(definition, act)
    if refusal is not None:
        raise InvalidValueError(f"check_law cannot sample {name} for {act.name}: {refusal}")
    width = check_integer("width", width, 2)
    depth = check_integer("depth", depth, 1, MAX_DEPTH)
    replicas = check_integer("replicas", replicas, 2)
    sigma_w, sigma_b = check_scales(sigma_w, sigma_b)
    z = check_real("z", z, positive=True)
    unknown = sorted(set(options) - set(kind.options))
    if unknown:
        raise InvalidValueError(f"{name} has no option {quoted(unknown[0])}; its options: "
                                f"{', '.join(kind.options)}")
    size = simulation_size(width, depth, replicas, _columns(kind, options), _passes(options),
                           f"check_law({name})", max_memory, max_flops)
    predictor = Predictor(act, sigma_w, sigma_b, overrides)
    root = as_seed_sequence(seed)
    rng = np.random.default_rng(child_sequence(root, _INPUT_KEY))
    plan = kind.build(PlanContext(name, predictor, rng, width, depth, dict(options)))
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
