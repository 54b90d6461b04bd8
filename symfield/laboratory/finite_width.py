"""The 1/n laws against many independent small networks (issue 14, part 3).

For one input x with layer-1 variance q^1 = sigma_w^2 |x|^2/n0 + sigma_b^2 = q0, every sampled
network of width n (``symfield.laboratory.networks``) gives, for l = 2 ... depth + 1,

* the conditional variance s^l = sigma_w^2 (1/n) sum_j phi(u_j^{l-1})^2 + sigma_b^2 (from the
  activity of layer l - 1), with E[s^l] = q^l + K1^l/n and Var[s^l] = V^l/n + O(n^-2);

and for l = 1 ... depth the empirical layer variance Q^l = (1/n) sum_i (u_i^l)^2, what a user
measures, with Var[Q^l] = (2 (q^l)^2 + V^l)/n + O(n^-2).

How the O(n^-2) remainder is handled: at each width the variance (or the mean shift) is
estimated, times n, over B independent batches of networks (the batch values are independent,
so the standard error std/sqrt(B) is honest); then n Var = V + c/n is fitted across the widths
by weighted least squares, and the intercept V (with its standard error from the fit) is
compared with the law. The same for n (E[s] - q) = K1 + d/n. The chi^2 of each fit is reported:
a large one says the widths are too small for the two-term expansion.

For two inputs (:func:`check_finite_width_pair`, the laws of ``symfield.laws.finite_width_pair``)
each network is fed two inputs whose layer-1 kernel is [[q1, rho], [rho, q2]]; the statistics
are the kernel entries s^l_11, s^l_12, s^l_22, and the same batches and fit give n Cov[s_i, s_j]
= V_ij + c/n and n (E[s_i] - K_i) = K1_i + d/n for the six vertex entries and three shifts.

For scale-invariant activations at sigma_b = 0 the exact law (``scale_invariant_variance``)
is checked at one width: Var[s^{L+1}]/q^2 against (1 + 5/n)^L - 1 for ReLU at sigma_w^2 = 2.

Predictions come from the derived laws (``symfield.laws.finite_width``, float64). ``check_law``
routes the laws of ``ACROSS_WIDTHS`` here when given several widths
(:func:`check_law_across_widths`): a multi-width check with variance statistics does not fit a
single-width plan kind.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, quoted
from ..laws.calculus import derive
from ..laws.finite_width import RecursionFloat64Context, propagate
from ..laws import get_law
from .limits import MAX_DEPTH, check_integer, check_real, check_scales, simulation_size
from .networks import replicate_networks
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence
from .report import LawCheck, Row

DEFAULT_WIDTHS = (16, 32, 64, 128)
DEFAULT_NETWORKS = 4000
DEFAULT_BATCHES = 40
DEFAULT_Z = 5.0


@dataclass(frozen=True)
class WidthEstimate:
    """n times a variance (or n times a mean shift) at one width, with its standard error."""

    width: int
    value: float
    standard_error: float


@dataclass(frozen=True)
class FitRow(Row):
    """A law's constant against the intercept of a fit in 1/n across widths."""

    slope: float = math.nan              # the fitted O(1/n) coefficient of the remainder
    chi2: float = math.nan               # of the two-parameter fit (widths - 2 dof)
    per_width: tuple[WidthEstimate, ...] = ()


@dataclass(frozen=True)
class FiniteWidthCheck:
    """The 1/n laws against sampled networks: one row per quantity and layer (quantities
    'V' from Var[s^l], 'var_Q' = 2 q^2 + V from Var[Q^l], 'K1' from E[s^l]); passes when every
    |z| <= z."""

    activation: str
    sigma_w: float
    sigma_b: float
    q0: float
    depth: int
    widths: tuple[int, ...]
    networks: int
    batches: int
    z: float
    rows: tuple[FitRow, ...]
    passed: bool
    notes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        head = (f"{self.activation}: sigma_w = {self.sigma_w:g}, sigma_b = {self.sigma_b:g}, "
                f"q^1 = {self.q0:g}; widths {list(self.widths)}, {self.networks} networks each "
                f"in {self.batches} batches; |z| <= {self.z:g}: "
                f"{'passed' if self.passed else 'FAILED'}")
        lines = [head, "  quantity layer   predicted    fitted (n -> oo)   std.err      z    "
                       "slope (1/n)   chi2"]
        for row in self.rows:
            lines.append(f"  {row.quantity:8s} {row.layer:5d} {row.prediction:11.6g} "
                         f"{row.estimate:14.6g} {row.standard_error:12.3g} {row.z_score:6.2f} "
                         f"{row.slope:12.4g} {row.chi2:8.2f}")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


@dataclass(frozen=True)
class ExactVarianceCheck:
    """Var[s^{L+1}]/q^2 at one width against the exact law of scale-invariant activations."""

    activation: str
    sigma_w: float
    width: int
    depth: int
    networks: int
    prediction: float
    estimate: float
    standard_error: float
    z: float
    passed: bool

    @property
    def z_score(self) -> float:
        return (self.estimate - self.prediction) / self.standard_error


def _input(q0: float, sigma_w: float, sigma_b: float) -> np.ndarray:
    """A one-dimensional input with sigma_w^2 x^2 + sigma_b^2 = q0 (n0 = 1: the layer-1
    pre-activations are then i.i.d. N(0, q0), whatever the input's direction)."""
    square = (q0 - sigma_b**2) / sigma_w**2
    if not square > 0:
        raise InvalidValueError(f"q0 must exceed sigma_b^2 = {sigma_b**2:g} (the layer-1 "
                                f"variance is sigma_w^2 |x|^2/n0 + sigma_b^2), got {q0:g}")
    return np.array([math.sqrt(square)])


def _batched(values: np.ndarray, batches: int, statistic) -> tuple[np.ndarray, np.ndarray]:
    """``statistic`` (over axis 0) of each of ``batches`` consecutive blocks of networks:
    the mean over blocks and its standard error std/sqrt(B) (blocks are independent)."""
    blocks = np.array_split(values, batches, axis=0)
    per_block = np.array([statistic(block) for block in blocks])
    return per_block.mean(axis=0), per_block.std(axis=0, ddof=1) / math.sqrt(batches)


def fit_in_inverse_width(estimates: Sequence[WidthEstimate]) -> tuple[float, float, float, float]:
    """Weighted least squares y = a + c/n: (a, its standard error, c, chi^2)."""
    n = np.array([e.width for e in estimates], dtype=float)
    y = np.array([e.value for e in estimates])
    se = np.array([e.standard_error for e in estimates])
    if np.any(~(se > 0)):
        raise InvalidValueError("a width gave a zero standard error: more batches are needed")
    design = np.column_stack([np.ones_like(n), 1 / n])
    weights = 1 / se**2
    normal = design.T @ (design * weights[:, None])
    covariance = np.linalg.inv(normal)
    coefficients = covariance @ (design.T @ (weights * y))
    residual = y - design @ coefficients
    chi2 = float(np.sum(weights * residual**2))
    return float(coefficients[0]), float(math.sqrt(covariance[0, 0])), \
        float(coefficients[1]), chi2


def theory(activation: Activation, sigma_w: float, sigma_b: float, q0: float, layers: int):
    """q^l, V^l, K1^l for l = 1 ... layers from the derived laws (float64)."""
    out = propagate(RecursionFloat64Context(), activation, float(q0), layers, float(sigma_w),
                    float(sigma_b))
    return (np.array(out.q, dtype=float), np.array(out.V, dtype=float),
            np.array(out.K1, dtype=float))


def _checked_sizes(activation, sigma_w, sigma_b, depth, networks, batches, widths, z):
    """The arguments of a fit across widths, validated before anything is sampled."""
    act = get_activation(activation)
    sigma_w, sigma_b = check_scales(sigma_w, sigma_b)
    depth = check_integer("depth", depth, 1, MAX_DEPTH)
    networks = check_integer("networks", networks, 4)
    batches = check_integer("batches", batches, 2, networks // 2)
    if isinstance(z, bool) or not (isinstance(z, (int, float)) and math.isfinite(z) and z > 0):
        raise InvalidValueError(f"z must be a positive number, got {quoted(z)}")
    return act, sigma_w, sigma_b, depth, networks, batches, check_widths(widths), z


def check_finite_width(activation: str | Activation, sigma_w: float, sigma_b: float,
                       depth: int, seed: SeedLike, q0: float = 1.0,
                       widths: Sequence[int] = DEFAULT_WIDTHS,
                       networks: int = DEFAULT_NETWORKS, batches: int = DEFAULT_BATCHES,
                       z: float = DEFAULT_Z, vertex_scale: float = 1.0,
                       shift_scale: float = 1.0, max_memory: int | None = None,
                       max_flops: float | None = None) -> FiniteWidthCheck:
    """V^l and K1^l (and 2 (q^l)^2 + V^l) against ``networks`` independent networks of each
    width, ``depth`` layers deep (see the module doc). ``vertex_scale``/``shift_scale``
    multiply the predictions (a power test: 1.1 must fail). Raises InvalidValueError for bad
    sizes before anything is sampled."""
    act, sigma_w, sigma_b, depth, networks, batches, widths, z = _checked_sizes(
        activation, sigma_w, sigma_b, depth, networks, batches, widths, z)
    x = _input(float(q0), sigma_w, sigma_b)
    for w in widths:
        simulation_size(w, depth, networks, 1, 1, "check_finite_width", max_memory, max_flops)
    q, V, K1 = theory(act, sigma_w, sigma_b, q0, depth + 1)
    root = as_seed_sequence(seed)

    def statistic(network) -> np.ndarray:
        passed = network.forward(x)
        s = sigma_w**2 * passed.activity() + sigma_b**2       # s^2 ... s^{depth+1}
        return np.concatenate([s, passed.q()])                # then Q^1 ... Q^depth

    per_width: dict[str, list[list[WidthEstimate]]] = {"V": [], "var_Q": [], "K1": []}
    for k, n in enumerate(widths):
        values = replicate_networks(statistic, act, sigma_w, sigma_b, [1] + [n] * depth,
                                    networks, child_sequence(root, k), max_memory=max_memory
                                    ).values
        s, Q = values[:, :depth], values[:, depth:]
        var_s, se_var_s = _batched(s, batches, lambda b: b.var(axis=0, ddof=1))
        var_Q, se_var_Q = _batched(Q, batches, lambda b: b.var(axis=0, ddof=1))
        mean_s, se_mean_s = _batched(s, batches, lambda b: b.mean(axis=0))
        shift = mean_s - q[1:]
        for name, value, error in (("V", var_s, se_var_s), ("var_Q", var_Q, se_var_Q),
                                   ("K1", shift, se_mean_s)):
            per_width[name].append([WidthEstimate(n, float(n * v), float(n * e))
                                    for v, e in zip(value, error)])

    predicted = {"V": vertex_scale * V[1:], "K1": shift_scale * K1[1:],
                 "var_Q": 2 * q[:-1] ** 2 + vertex_scale * V[:-1]}
    first_layer = {"V": 2, "K1": 2, "var_Q": 1}
    rows = []
    for name in ("V", "var_Q", "K1"):
        for index in range(depth):
            estimates = [per_width[name][k][index] for k in range(len(widths))]
            intercept, error, slope, chi2 = fit_in_inverse_width(estimates)
            rows.append(FitRow(name, first_layer[name] + index, float(predicted[name][index]),
                               intercept, error, slope=slope, chi2=chi2,
                               per_width=tuple(estimates)))
    passed = all(row.passed(z) for row in rows)
    notes = (f"chi^2 of each fit has {len(widths) - 2} degrees of freedom",)
    return FiniteWidthCheck(act.name, float(sigma_w), float(sigma_b), float(q0), depth, widths,
                            networks, batches, float(z), tuple(rows), passed, notes)


# ------------------------------------------------------------------------------------------
# Two inputs: the covariances and means of the kernel entries s^l_11, s^l_12, s^l_22
# ------------------------------------------------------------------------------------------
def _pair_inputs(q1: float, q2: float, rho: float, sigma_w: float,
                 sigma_b: float) -> np.ndarray:
    """Two inputs in n0 = 2 dimensions whose layer-1 kernel sigma_w^2 X X^T/2 + sigma_b^2 is
    [[q1, rho], [rho, q2]] (the pre-activations of each layer-1 unit are then exactly that
    Gaussian pair)."""
    gram = (np.array([[q1, rho], [rho, q2]]) - sigma_b**2) * 2 / sigma_w**2
    if not (gram[0, 0] > 0 and gram[1, 1] > 0 and np.linalg.det(gram) > 0):
        raise InvalidValueError(
            f"the layer-1 kernel [[q1, rho], [rho, q2]] minus sigma_b^2 = {sigma_b**2:g} in "
            f"every entry must be positive definite (two distinct inputs with sigma_w^2 "
            f"x.x'/n0 + sigma_b^2 = rho), got q1={q1:g}, q2={q2:g}, rho={rho:g}")
    return np.linalg.cholesky(gram)


def pair_theory(activation: Activation, sigma_w: float, sigma_b: float, q1: float, q2: float,
                rho: float, layers: int):
    """The two-input recursion for l = 1 ... layers from the derived laws (float64)."""
    from ..laws.finite_width_pair import propagate_pair

    return propagate_pair(RecursionFloat64Context(), activation, (float(q1), float(q2),
                          float(rho)), layers, float(sigma_w), float(sigma_b))


def check_finite_width_pair(activation: str | Activation, sigma_w: float, sigma_b: float,
                            depth: int, seed: SeedLike, q1: float = 1.0, q2: float = 1.0,
                            rho: float = 0.5, widths: Sequence[int] = DEFAULT_WIDTHS,
                            networks: int = DEFAULT_NETWORKS, batches: int = DEFAULT_BATCHES,
                            z: float = DEFAULT_Z, vertex_scale: float = 1.0,
                            shift_scale: float = 1.0, max_memory: int | None = None,
                            max_flops: float | None = None, theory=None) -> FiniteWidthCheck:
    """The two-input vertex V^l_ij (i, j in 11, 12, 22) and mean shift K1^l_i against
    ``networks`` networks of each width fed two inputs with layer-1 kernel
    [[q1, rho], [rho, q2]]: per layer l = 2 ... depth + 1, n Cov[s^l_i, s^l_j] = V_ij + c/n and
    n (E[s^l_i] - K^l_i) = K1_i + d/n fitted across widths (rows 'V_i,j' and 'K1_i').
    ``vertex_scale``/``shift_scale`` multiply the predictions, ``theory`` replaces the
    recursion (a PairLayers; both for power tests)."""
    from ..laws.finite_width_pair import ENTRIES_2X2, VERTEX_ENTRIES

    act, sigma_w, sigma_b, depth, networks, batches, widths, z = _checked_sizes(
        activation, sigma_w, sigma_b, depth, networks, batches, widths, z)
    q1, q2, rho = (check_real(name, v) for name, v in (("q1", q1), ("q2", q2), ("rho", rho)))
    inputs = _pair_inputs(q1, q2, rho, sigma_w, sigma_b)
    for w in widths:
        simulation_size(w, depth, networks, 2, 1, "check_finite_width_pair", max_memory,
                        max_flops)
    layers = theory or pair_theory(act, sigma_w, sigma_b, q1, q2, rho, depth + 1)
    index = {"11": (0, 0), "12": (0, 1), "22": (1, 1)}
    root = as_seed_sequence(seed)

    def statistic(network) -> np.ndarray:
        passed = network.forward(inputs)
        # s^{l+1}_ab from layer l's activity, l = 1 ... depth: shape (depth, 3)
        return np.array([[sigma_w**2 * float(np.mean(x[index[i][0]] * x[index[i][1]]))
                          + sigma_b**2 for i in ENTRIES_2X2] for x in passed.post_activations])

    def covariances(block: np.ndarray) -> np.ndarray:
        centred = block - block.mean(axis=0)
        return np.stack([(centred[..., ENTRIES_2X2.index(i)] * centred[..., ENTRIES_2X2.index(j)]
                          ).sum(axis=0) / (len(block) - 1) for i, j in VERTEX_ENTRIES], axis=-1)

    names = [f"V_{i},{j}" for i, j in VERTEX_ENTRIES] + [f"K1_{i}" for i in ENTRIES_2X2]
    per_width: dict[str, list[list[WidthEstimate]]] = {name: [] for name in names}
    kernel = np.array([[layers.kernel[l][i] for i in ENTRIES_2X2]
                       for l in range(1, depth + 1)], dtype=float)
    for k, n in enumerate(widths):
        values = replicate_networks(statistic, act, sigma_w, sigma_b, [2] + [n] * depth,
                                    networks, child_sequence(root, k), max_memory=max_memory
                                    ).values.reshape(networks, depth, 3)
        cov, se_cov = _batched(values, batches, covariances)
        mean, se_mean = _batched(values, batches, lambda b: b.mean(axis=0))
        measured = np.concatenate([cov, mean - kernel], axis=-1)
        errors = np.concatenate([se_cov, se_mean], axis=-1)
        for column, name in enumerate(names):
            per_width[name].append([WidthEstimate(n, float(n * v), float(n * e)) for v, e in
                                    zip(measured[:, column], errors[:, column])])
    rows = []
    for column, name in enumerate(names):
        for index_ in range(depth):
            layer = index_ + 2
            if column < len(VERTEX_ENTRIES):
                predicted = vertex_scale * layers.V[layer - 1][VERTEX_ENTRIES[column]]
            else:
                predicted = shift_scale * layers.K1[layer - 1][ENTRIES_2X2[column - 6]]
            estimates = [per_width[name][k][index_] for k in range(len(widths))]
            intercept, error, slope, chi2 = fit_in_inverse_width(estimates)
            rows.append(FitRow(name, layer, float(predicted), intercept, error, slope=slope,
                               chi2=chi2, per_width=tuple(estimates)))
    notes = (f"two inputs, layer-1 kernel [[{q1:g}, {rho:g}], [{rho:g}, {q2:g}]]",
             f"chi^2 of each fit has {len(widths) - 2} degrees of freedom")
    return FiniteWidthCheck(act.name, float(sigma_w), float(sigma_b), float(q1), depth, widths,
                            networks, batches, float(z), tuple(rows),
                            all(row.passed(z) for row in rows), notes)


#: The laws that ``check_law`` checks by a fit across widths, and the row quantity of
#: :func:`check_finite_width` (one input) or :func:`check_finite_width_pair` (two inputs)
#: that measures each.
ACROSS_WIDTHS = {"four_point_vertex": "V", "mean_shift": "K1",
                 "four_point_vertex_pair": "V_12,12", "nngp_correction": "K1_12"}
#: What each measured quantity is.
_MEASURED = {
    "V": "n Var[s^l] over networks, s^l = sigma_w^2 (1/n) sum_j phi(u_j^{l-1})^2 + sigma_b^2, "
         "fitted as V + c/n across widths",
    "K1": "n (E[s^l] - q^l) over networks, fitted as K1 + d/n across widths",
    "V_12,12": "n Var[s^l_12] over networks fed two inputs, s^l_12 = sigma_w^2 (1/n) sum_j "
               "phi(u_j^{l-1}(x)) phi(u_j^{l-1}(x')) + sigma_b^2, fitted as V + c/n across widths",
    "K1_12": "n (E[s^l_12] - K^l_12) over networks fed two inputs (K the NNGP kernel), fitted "
             "as K1 + d/n across widths",
}
#: The options of each kind of fit (the layer-1 variance, or the layer-1 kernel of the pair).
_STATE_OPTIONS = {"V": ("q0",), "K1": ("q0",), "V_12,12": ("q1", "q2", "rho"),
                  "K1_12": ("q1", "q2", "rho")}


@dataclass(frozen=True)
class AcrossWidthsCheck(LawCheck):
    """``check_law``'s report for a law checked across widths: each row is a :class:`FitRow`
    (the law's constant against the n -> oo intercept of a fit in 1/n); ``width`` is the
    largest width, ``replicas`` the networks per width, ``batches`` the blocks whose spread
    gives the standard errors."""

    widths: tuple[int, ...] = ()
    batches: int = 0

    def __str__(self) -> str:
        lines = super().__str__().splitlines()
        lines[0] = lines[0].replace(f"width={self.width} ", f"widths={list(self.widths)} ", 1)
        lines.insert(1, f"  fitted n x statistic = constant + slope/n across the widths; "
                        f"{self.replicas} networks per width in {self.batches} batches")
        return "\n".join(lines)


def check_widths(widths: object) -> tuple[int, ...]:
    """At least two distinct widths >= 2 (a fit in 1/n has two parameters)."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, (list, tuple, range,
                                                                   np.ndarray)):
        raise InvalidValueError(f"widths must be a list of layer widths (integers >= 2), got "
                                f"{quoted(widths)}")
    checked = tuple(check_integer("width", w, 2) for w in widths)
    if len(set(checked)) < 2:
        raise InvalidValueError(f"a fit in 1/n needs at least two different widths, got "
                                f"{quoted(list(widths))}")
    return checked


def check_law_across_widths(name: str, activation: Activation, sigma_w: float, sigma_b: float,
                            widths: Sequence[int], depth: int, seed: SeedLike,
                            networks: int | None, z: float, options: dict,
                            max_memory: int | None = None,
                            max_flops: float | None = None) -> AcrossWidthsCheck:
    """The law ``name`` (a key of ACROSS_WIDTHS) against ``networks`` networks of each width:
    :func:`check_finite_width`'s (or :func:`check_finite_width_pair`'s) fit, reported as a
    LawCheck. Options: q0 (one input) or q1, q2, rho (the layer-1 kernel of two inputs),
    batches, and ``scale`` (multiplies the law's prediction: a power test)."""
    quantity = ACROSS_WIDTHS[name]
    allowed = _STATE_OPTIONS[quantity] + ("batches", "scale")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InvalidValueError(f"{name} has no option {quoted(unknown[0])}; its options: "
                                f"{', '.join(allowed)}")
    scale = check_real("scale", options.get("scale", 1.0))
    networks = DEFAULT_NETWORKS if networks is None else \
        check_integer("replicas (networks per width)", networks, 4)
    # batches of >= 25 networks, so that each batch's variance is itself well estimated
    batches = options.get("batches", min(DEFAULT_BATCHES, max(2, networks // 25)))
    scales = {"vertex_scale": scale} if quantity.startswith("V") else {"shift_scale": scale}
    state = {key: options[key] for key in _STATE_OPTIONS[quantity] if key in options}
    check = check_finite_width if quantity in ("V", "K1") else check_finite_width_pair
    fit = check(activation, sigma_w, sigma_b, depth, seed, widths=check_widths(widths),
                networks=networks, batches=batches, z=z, max_memory=max_memory,
                max_flops=max_flops, **state, **scales)
    rows = [row for row in fit.rows if row.quantity == quantity]
    return AcrossWidthsCheck.build(
        rows, fit.z, law=name, activation=fit.activation,
        convention=get_law(name).convention, measured=_MEASURED[quantity],
        sigma_w=fit.sigma_w, sigma_b=fit.sigma_b, width=max(fit.widths), depth=depth,
        seed=seed if isinstance(seed, (int, np.integer)) else None, replicas=fit.networks,
        details={f"chi2 of the fit at layer {row.layer}": row.chi2 for row in rows},
        widths=fit.widths, batches=fit.batches)


def check_exact_variance(activation: str | Activation, sigma_w: float, width: int,
                         depth: int, seed: SeedLike, networks: int = 20000,
                         batches: int = DEFAULT_BATCHES, z: float = DEFAULT_Z,
                         q0: float = 1.0) -> ExactVarianceCheck:
    """Var[s^{depth+1}]/q0^2 over ``networks`` networks of one width against the exact law
    ``scale_invariant_variance`` (sigma_b = 0; the law refuses activations that are not
    scale-invariant)."""
    act = get_activation(activation)
    sigma_w, _ = check_scales(sigma_w, 0.0)
    width = check_integer("width", width, 1)
    depth = check_integer("depth", depth, 1, MAX_DEPTH)
    networks = check_integer("networks", networks, 4)
    batches = check_integer("batches", batches, 2, networks // 2)
    prediction = float(derive("scale_invariant_variance", act).to_numpy()(
        sigma_w=sigma_w, n=width, L=depth))
    x = _input(float(q0), sigma_w, 0.0)

    def statistic(network) -> float:
        return sigma_w**2 * float(network.forward(x).activity()[-1]) / q0

    values = replicate_networks(statistic, act, sigma_w, 0.0, [1] + [width] * depth, networks,
                                as_seed_sequence(seed)).values
    estimate, error = _batched(values, batches, lambda b: b.var(ddof=1))
    return ExactVarianceCheck(act.name, float(sigma_w), width, depth, networks, prediction,
                              float(estimate), float(error), float(z),
                              abs(float(estimate) - prediction) <= z * float(error))


__all__ = ["ACROSS_WIDTHS", "AcrossWidthsCheck", "DEFAULT_WIDTHS", "ExactVarianceCheck", "FiniteWidthCheck", "FitRow",
           "WidthEstimate", "check_exact_variance", "check_finite_width", "check_law_across_widths",
           "check_widths", "check_finite_width_pair", "pair_theory",
           "fit_in_inverse_width", "theory"]
