"""Sampled random neural fields: finite realisations against the field kernel law.

A realisation has n channels at each of G positions of a ring or torus. Layer l draws, for
every channel pair (i, j), the weights w_ij(z', z) as one Gaussian vector over (z', z) with
covariance (sigma_w^2 / n_{l-1}) C_w, through a factor of C_w: for separable covariances
C_w = A (x) B the product A^{1/2} Xi B^{1/2} of the two G x G square roots (Xi applied to
the layer's input through its QR factor, exact in distribution), for a shared
filter its i.i.d. taps applied by circular shifts (the FFT-diagonal structure: no G^2 x G^2
matrix), for an explicit array the square root of the (G^2, G^2) matrix (eigenvalues
clipped at 0: semi-definite covariances such as mean pooling have no Cholesky factor).
Biases b_i(z') ~ N(0, sigma_b^2 C_b) likewise. Randomness comes from a numpy Generator per
(trial, layer, part), addressed below one seed.

:func:`check_field` compares the empirical kernel Q_hat(x, x'; z1', z2') = (1/n) sum_i
u_i(x, z1') u_i(x', z2') of the last layer, averaged over independent trials (standard error
std / sqrt(trials)), with :func:`symfield.dynamics.field.field_kernel`. At depth 1 Q_hat is
unbiased; deeper, its mean differs from the law by O(1/n) (the previous layer's kernel is
itself an average of n terms), so the check needs n large against trials.

:func:`self_averaging` measures where the law is not about one realisation: with ONE
channel the only averaging left is over positions, and long-range correlated weights make
the positions move together; the spatial mean (1/G) sum_z u(z)^2 then keeps an O(1) relative
spread from realisation to realisation however large G is, while with independent weights
the spread shrinks like G^{-1/2}.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..activations import Activation, get_activation
from ..dynamics.field import (
    Grid,
    WeightCovariance,
    build_bias_covariance,
    build_weight_covariance,
    check_field_inputs,
    check_grid,
    check_scalars,
    field_kernel,
)
from ..errors import InvalidValueError, quoted
from ..laws.recursion import check_depth
from .limits import check_flops, check_integer, check_scales
from .networks.seeds import SeedLike, as_seed_sequence, child_sequence
from .networks.validation import check_memory

#: Probability that a true law is reported as departing, for all entries of a check together.
DEFAULT_LEVEL = 1e-3
# Keys of the random streams below one trial's seed.
_WEIGHTS, _BIAS = range(2)
#: Largest ring in a self-averaging study (its correlation matrices are G x G, factored).
MAX_SELF_AVERAGING_SIZE = 1024
#: Bound on trials x depth x sum G^2 x n^2 of a self-averaging study.
MAX_SELF_AVERAGING_WORK = 2e9
#: Bootstrap resamples for the standard error of a relative spread.
_BOOTSTRAP = 400


def square_root(matrix: np.ndarray) -> np.ndarray:
    """F with F F^T = matrix for a symmetric positive semi-definite matrix (eigenvalues
    rounded below 0 are clipped: a Cholesky factor does not exist for singular ones)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


@dataclass(frozen=True)
class _Factors:
    """What a layer needs to draw its weights and biases."""

    covariance: WeightCovariance
    output: np.ndarray | None  # separable: A^{1/2}
    input: np.ndarray | None   # separable: B^{1/2}
    dense: np.ndarray | None   # explicit: (G^2, G^2) square root
    bias: np.ndarray           # C_b^{1/2}


def _factors(covariance: WeightCovariance, bias: np.ndarray) -> _Factors:
    if covariance.structure == "separable":
        return _Factors(covariance, square_root(np.asarray(covariance.output, float)),
                        square_root(np.asarray(covariance.input, float)), None,
                        square_root(bias))
    if covariance.structure == "dense":
        return _Factors(covariance, None, None, square_root(covariance.matrix()),
                        square_root(bias))
    return _Factors(covariance, None, None, None, square_root(bias))


def _layer_fields(x: np.ndarray, factors: _Factors, n_out: int, sigma_w: float,
                  sigma_b: float, stream: np.random.SeedSequence) -> np.ndarray:
    """u (T, n_out, G) = sum_{j, z} w_ij(z', z) x_j(z) + b_i(z') for x of shape (T, n_in, G)."""
    T, n_in, G = x.shape
    rng = np.random.default_rng(child_sequence(stream, _WEIGHTS))
    scale = sigma_w / math.sqrt(n_in)
    covariance = factors.covariance
    if covariance.structure == "conv":
        window, shape = covariance.window, covariance.grid.shape
        taps = rng.standard_normal((len(window), n_out, n_in)) * (scale / math.sqrt(len(window)))
        grid_x = x.reshape((T, n_in) + shape)
        u = np.zeros((T, n_out) + shape)
        axes = tuple(range(2, 2 + len(shape)))
        for tap, offset in zip(taps, window):
            # w(z', z' + a) = v(a): the input read at z' + a
            moved = covariance.grid.shift(grid_x, offset, axes)
            u += np.einsum("ij,tj...->ti...", tap, moved)
        u = u.reshape(T, n_out, G)
    elif covariance.structure == "separable":
        # w_ij = A^{1/2} Xi_ij B^{1/2 T}, so u = A^{1/2} [Xi Y] with Y = B^{1/2 T} x as an
        # (n_in G) x T matrix and Xi i.i.d. standard normal (n_out G) x (n_in G). Xi is
        # independent of Y and its rows isotropic: with Y = Q R, Xi Y = (Xi Q) R has the law
        # of Z R, Z (n_out G) x rank i.i.d. -- the same weights for all T inputs at O(n G T)
        # cost instead of O(n^2 G^2) (exact in distribution, as for fresh recurrent weights)
        y = np.einsum("zb,tjz->jbt", factors.input, x).reshape(n_in * G, T)
        _, triangle = np.linalg.qr(y)
        v = (rng.standard_normal((n_out * G, triangle.shape[0])) @ triangle)
        u = np.einsum("ab,ibt->tia", factors.output, v.reshape(n_out, G, T)) * scale
    else:
        xi = rng.standard_normal((n_out, n_in, factors.dense.shape[1]))
        weights = (xi @ factors.dense.T).reshape(n_out, n_in, G, G)
        u = np.einsum("ijab,tjb->tia", weights, x) * scale
    bias_rng = np.random.default_rng(child_sequence(stream, _BIAS))
    b = bias_rng.standard_normal((n_out, G)) @ factors.bias.T
    return u + sigma_b * b[None]


@dataclass(frozen=True)
class _Setup:
    activation: Activation
    inputs: np.ndarray
    depth: int
    sigma_w: float
    sigma_b: float
    grid: Grid
    covariance: WeightCovariance
    bias: np.ndarray
    n: int
    factors: _Factors


def _setup(activation, inputs, depth, sigma_w, sigma_b, grid, weight_covariance,
           bias_covariance, n, trials, max_memory, max_flops) -> _Setup:
    check_scalars(depth=depth, sigma_w=sigma_w, sigma_b=sigma_b, n=n, trials=trials)
    act = get_activation(activation)
    depth = check_depth(depth)
    w, b = check_scales(sigma_w, sigma_b)
    grid = check_grid(grid)
    covariance = build_weight_covariance(weight_covariance, grid)
    bias = build_bias_covariance(bias_covariance, grid)
    X = check_field_inputs(inputs, grid)
    n = check_integer("n (channels)", n, 1)
    T, G, n0 = X.shape
    widest = max(n, n0)
    if covariance.structure == "conv":
        weights, per_layer = 8.0 * len(covariance.window) * widest * n, \
            2.0 * T * n * widest * G * len(covariance.window)
    elif covariance.structure == "separable":  # Z R: (n G) x T draws, two G x G products
        weights, per_layer = 8.0 * 2 * widest * G * T, 2.0 * T * widest * G * (2 * G + T)
    else:  # explicit: the weights themselves, n^2 G^2 of them from r = G^2 factors each
        weights, per_layer = 8.0 * 2 * widest * n * G ** 2, 2.0 * widest * n * G ** 4
    what = f"sample_field (n = {n}, {G} positions, depth {depth})"
    check_memory(weights + 8.0 * 4 * T * widest * G, what, max_memory,
                 "use fewer channels or positions")
    check_flops(trials * depth * per_layer, what, max_flops)
    return _Setup(act, X, depth, float(w), float(b), grid, covariance, bias, n,
                  _factors(covariance, bias))


def _realise(setup: _Setup, stream: np.random.SeedSequence) -> np.ndarray:
    """The last layer's pre-activations u^depth, shape (T, n, G), of one realisation."""
    phi = setup.activation.numpy_functions[0]
    factors = setup.factors
    x = np.ascontiguousarray(setup.inputs.transpose(0, 2, 1))  # (T, n0, G)
    u = x
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(setup.depth):
            u = _layer_fields(x, factors, setup.n, setup.sigma_w, setup.sigma_b,
                              child_sequence(stream, layer))
            x = phi(u)
    if not np.all(np.isfinite(u)):
        raise InvalidValueError(f"the sampled field left float64 by layer {setup.depth}; use "
                                f"fewer layers or a smaller sigma_w")
    return u


def sample_field(activation: str | Activation, inputs: object, depth: int, sigma_w: float,
                 sigma_b: float, grid: object, weight_covariance: object = "independent",
                 bias_covariance: object = "independent", n: int = 64, seed: SeedLike = 0, *,
                 max_memory: int | None = None, max_flops: float | None = None) -> np.ndarray:
    """One finite realisation: the last layer's pre-activations u^depth_i(x, z'), an array of
    shape (T, n, G) for inputs of shape (T, G, n0) (the same weights for all T inputs).

    Arguments as in :func:`symfield.dynamics.field.field_kernel`; ``n`` channels per position
    in every hidden layer; ``seed`` an int, SeedSequence or Generator. Refused before anything
    is drawn when it would not fit in memory or exceed ``max_flops``."""
    setup = _setup(activation, inputs, depth, sigma_w, sigma_b, grid, weight_covariance,
                   bias_covariance, n, 1, max_memory, max_flops)
    check_scalars(seed=seed)
    return _realise(setup, as_seed_sequence(seed))


def empirical_kernel(fields: np.ndarray) -> np.ndarray:
    """Q_hat(t, s, z1, z2) = (1/n) sum_i u_i(t, z1) u_i(s, z2) for fields of shape (T, n, G)."""
    return np.einsum("tia,sib->tsab", fields, fields) / fields.shape[1]


@dataclass(frozen=True)
class FieldCheck:
    """The law's field kernel against the mean empirical kernel over independent trials.

    Arrays have shape (T, T, G, G); ``rows`` is the number of distinct entries (the kernel
    is symmetric under (t, z1) <-> (s, z2)) over which :meth:`critical_z` is Bonferroni'd.
    """

    label: str
    n: int
    trials: int
    depth: int
    predicted: np.ndarray
    measured: np.ndarray
    standard_error: np.ndarray

    @property
    def rows(self) -> int:
        side = self.predicted.shape[0] * self.predicted.shape[2]
        return side * (side + 1) // 2

    @property
    def z(self) -> np.ndarray:
        difference = self.measured - self.predicted
        rounding = 64 * np.finfo(float).eps * np.maximum(np.abs(self.predicted), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.abs(difference) <= rounding, 0.0,
                            difference / self.standard_error)

    def critical_z(self, level: float = DEFAULT_LEVEL) -> float:
        """Two-sided Student t quantile (trials - 1 degrees of freedom) at level / rows."""
        from scipy import stats

        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise InvalidValueError(f"level must be a probability in (0, 1), got {quoted(level)}")
        return float(stats.t.isf(level / (2 * self.rows), self.trials - 1))

    def agrees(self, level: float = DEFAULT_LEVEL) -> bool:
        z = self.z
        return bool(np.all(np.isfinite(z)) and np.all(np.abs(z) <= self.critical_z(level)))

    def format(self) -> str:
        z = np.abs(self.z)
        worst = np.unravel_index(np.nanargmax(z), z.shape)
        verdict = "agrees with" if self.agrees() else "DEPARTS from"
        bias = "" if self.depth == 1 else (f"; at depth {self.depth} the mean also carries "
                                           f"an O(1/n) = O({1 / self.n:.2g}) finite-width bias")
        return (f"{self.label}: n = {self.n}, {self.trials} trials, depth {self.depth}: the "
                f"sampled kernel {verdict} the law (largest |z| = {z[worst]:.2f} at (t, s, z1, "
                f"z2) = {tuple(int(i) for i in worst)}, critical {self.critical_z():.2f} for "
                f"{self.rows} entries at level {DEFAULT_LEVEL:g}){bias}")


def check_field(activation: str | Activation, inputs: object, depth: int, sigma_w: float,
                sigma_b: float, grid: object, weight_covariance: object = "independent",
                bias_covariance: object = "independent", n: int = 64, trials: int = 16,
                seed: SeedLike = 0, *, max_memory: int | None = None,
                max_flops: float | None = None) -> FieldCheck:
    """Sample ``trials`` independent realisations and compare their mean empirical kernel
    with the law (:func:`symfield.dynamics.field.field_kernel`, float64)."""
    check_scalars(trials=trials, seed=seed)
    trials = check_integer("trials", trials, 2)
    setup = _setup(activation, inputs, depth, sigma_w, sigma_b, grid, weight_covariance,
                   bias_covariance, n, trials, max_memory, max_flops)
    predicted = field_kernel(setup.activation, setup.inputs, setup.depth, setup.sigma_w,
                             setup.sigma_b, setup.grid, setup.covariance,
                             setup.bias)
    root = as_seed_sequence(seed)
    samples = np.stack([empirical_kernel(_realise(setup, child_sequence(root, r)))
                        for r in range(trials)])
    return FieldCheck(f"{setup.activation.name} field, {setup.covariance.label} weights on a "
                      f"{setup.grid.label()}", setup.n, trials, setup.depth, predicted,
                      samples.mean(axis=0), samples.std(axis=0, ddof=1) / math.sqrt(trials))


@dataclass(frozen=True)
class SelfAveraging:
    """Relative spread over realisations of the spatial mean q_hat = (1/(n G)) sum u^2.

    ``spread[label]`` and ``spread_error[label]`` are arrays over ``sizes``; ``exponent[label]``
    the least-squares slope of log spread against log G (-1/2: self-averaging; about 0: not).
    """

    activation: str
    n: int
    depth: int
    trials: int
    sizes: tuple[int, ...]
    labels: tuple[str, ...]
    spread: dict
    spread_error: dict
    exponent: dict

    def format(self) -> str:
        head = f"{'G':>6}" + "".join(f"  {label:>34}" for label in self.labels)
        title = (f"Self-averaging of one realisation ({self.activation}, n = {self.n} "
                 f"channel(s), depth {self.depth}, {self.trials} realisations per size): "
                 f"relative spread sd(q_hat)/mean(q_hat) of the spatial mean q_hat")
        lines = [title, head]
        for k, G in enumerate(self.sizes):
            lines.append(f"{G:>6}" + "".join(
                f"  {self.spread[label][k]:>24.3f} +- {self.spread_error[label][k]:<7.3f}"
                for label in self.labels))
        lines.append(f"{'slope':>6}" + "".join(f"  {self.exponent[label]:>34.2f}"
                                               for label in self.labels))
        lines.append("slope of log spread vs log G: -1/2 where positions average out, about 0 "
                     "where the field does not self-average (the mean-field law then describes "
                     "the ensemble, not the realisation)")
        return "\n".join(lines)


def self_averaging(activation: str | Activation = "erf", sigma_w: float = 1.5,
                   sigma_b: float = 0.1, sizes: tuple[int, ...] = (16, 32, 64, 128),
                   depth: int = 2, n: int = 1, trials: int = 200, length_fraction: float = 0.5,
                   seed: SeedLike = 0) -> SelfAveraging:
    """Measure the self-averaging failure on rings of the given sizes: independent weights
    against Gaussian-correlated ones whose input and output correlation lengths are
    ``length_fraction`` x G (long-range at every size). The input is the constant field 1
    with one channel."""
    if not isinstance(sizes, (list, tuple, np.ndarray)) or np.ndim(sizes) != 1 \
            or not 2 <= len(sizes) <= 16:
        raise InvalidValueError(f"sizes must be a list of 2 to 16 grid sizes (got "
                                f"{quoted(sizes) if np.ndim(sizes) == 0 else np.shape(sizes)})")
    sizes = tuple(check_integer("grid size", G, 4, MAX_SELF_AVERAGING_SIZE) for G in sizes)
    check_scalars(sigma_w=sigma_w, sigma_b=sigma_b, depth=depth, n=n, trials=trials, seed=seed,
                  length_fraction=length_fraction)
    trials = check_integer("trials", trials, 8, 100_000)
    depth = check_depth(depth)
    n = check_integer("n (channels)", n, 1, 64)
    work = trials * depth * sum(G * G for G in sizes) * n * n
    if work > MAX_SELF_AVERAGING_WORK:
        raise InvalidValueError(f"trials x depth x sum of G^2 x n^2 = {work:.3g} exceeds "
                                f"{MAX_SELF_AVERAGING_WORK:.3g}; use fewer trials, layers or "
                                f"smaller grids")
    if not (isinstance(length_fraction, (int, float)) and 0 < length_fraction <= 10):
        raise InvalidValueError(f"length_fraction must be in (0, 10], got "
                                f"{quoted(length_fraction)}")
    act = get_activation(activation)
    root = as_seed_sequence(seed)
    kinds = {"independent": lambda G: "independent",
             f"correlated (length {length_fraction:g} G)":
                 lambda G: ("correlated", "gaussian", length_fraction * G, length_fraction * G)}
    spread = {label: np.empty(len(sizes)) for label in kinds}
    error = {label: np.empty(len(sizes)) for label in kinds}
    for k, G in enumerate(sizes):
        for m, (label, spec) in enumerate(kinds.items()):
            setup = _setup(act, np.ones((1, G, 1)), depth, sigma_w, sigma_b, G, spec(G),
                           "independent", n, trials, None, None)
            q = np.array([np.mean(_realise(setup, child_sequence(root, k, m, r)) ** 2)
                          for r in range(trials)])
            spread[label][k] = q.std(ddof=1) / q.mean()
            # bootstrap over the realisations (q_hat is far from normal at one channel)
            resample = np.random.default_rng(child_sequence(root, k, m, trials)).integers(
                0, trials, size=(_BOOTSTRAP, trials))
            boot = q[resample]
            error[label][k] = float(np.std(boot.std(axis=1, ddof=1) / boot.mean(axis=1)))
    logs = np.log(np.array(sizes, dtype=float))
    exponent = {label: float(np.polyfit(logs, np.log(spread[label]), 1)[0]) for label in kinds}
    return SelfAveraging(act.name, n, depth, trials, sizes, tuple(kinds), spread, error,
                         exponent)


def plot_spatial_correlation(profile, path=None):
    """The field's spatial correlation (a :class:`symfield.dynamics.field.SpatialCorrelation`):
    left, c^l(d) against the offset d for layers spread over the depth; right, c^l(d) against
    the layer for each offset, labelled with its depth scale. On a torus the offsets along
    the first axis are drawn. Returns the Figure, saved at ``path`` when given."""
    from ..dynamics.field import SpatialCorrelation
    from ..output.plots import STYLE, _figure, _matplotlib, save

    if not isinstance(profile, SpatialCorrelation):
        raise InvalidValueError(f"profile must be a SpatialCorrelation (from "
                                f"spatial_correlation), not {quoted(profile)}")
    matplotlib, _ = _matplotlib()
    along = np.all(profile.offsets[:, 1:] == 0, axis=1)
    distance = profile.offsets[along, 0]
    correlation = profile.correlation[:, along]
    depth = correlation.shape[0]
    with matplotlib.rc_context(STYLE):
        fig, (left, right) = _figure(size=(9.6, 3.9), ncols=2)
        shown = sorted({0, depth // 8, depth // 4, depth // 2, depth - 1})
        colours = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, len(shown)))
        for colour, layer in zip(colours, shown):
            left.plot(distance, correlation[layer], "o-", color=colour, markersize=3, lw=1,
                      label=f"layer {layer + 1}")
        left.set_xlabel("offset $d$")
        left.set_ylabel("$c^l(d)$")
        left.legend(fontsize=7)
        layers = np.arange(1, depth + 1)
        scales = profile.depth_scale[along]
        for k, d in enumerate(distance):
            if d == 0:
                continue
            scale = f"{scales[k]:.3g}" if np.isfinite(scales[k]) else "n/a"
            right.plot(layers, correlation[:, k], "-", color=f"C{k % 10}", lw=1,
                       label=f"d = {int(d)}: depth scale {scale}")
        right.set_xlabel("layer $l$")
        right.set_ylabel("$c^l(d)$")
        right.legend(fontsize=6, ncol=2)
        fig.suptitle(f"spatial correlation on a {profile.grid.label()}, {profile.label} weights")
        if path is not None:
            save(fig, path)
    return fig


def plot_field_kernel(activation: str | Activation, inputs: object, depth: int,
                      sigma_w: object, sigma_b: object, grid: object,
                      weight_covariance: object = "independent",
                      bias_covariance: object = "independent", path=None):
    """The spatial correlation of the field kernel over offsets and layers, drawn (the
    figure of ``symfield field --plot``): :func:`symfield.dynamics.field.spatial_correlation`
    then :func:`plot_spatial_correlation`. Returns the Figure, saved at ``path`` when given."""
    from ..dynamics.field import spatial_correlation
    from ..output.plots import check_figure_path

    if path is not None:
        check_figure_path(path, "path")
    profile = spatial_correlation(activation, inputs, depth, sigma_w, sigma_b, grid,
                                  weight_covariance, bias_covariance)
    return plot_spatial_correlation(profile, path)


__all__ = ["DEFAULT_LEVEL", "FieldCheck", "SelfAveraging", "check_field", "empirical_kernel",
           "plot_field_kernel", "plot_spatial_correlation", "sample_field", "self_averaging", "square_root"]
