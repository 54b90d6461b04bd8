"""The deep random neural field: layers over a grid of positions with correlated weights.

A field layer maps x^{l-1}(z) (n channels at each of G positions z) to
u^l_i(z') = sum_{j, z} w^l_ij(z', z) x^{l-1}_j(z) + b^l_i(z'), x^l = phi(u^l), with w_ij
independent across channel pairs, zero-mean Gaussian and correlated across positions,
Cov(w_ij(z1', z1), w_ij(z2', z2)) = (sigma_w^2 / n) C_w(z1', z1; z2', z2), and biases of
covariance sigma_b^2 C_b(z1', z2').

The mean-field law (n -> infinity), derived from the field's microdynamics by the Gaussian
calculus in :mod:`symfield.laws.field` (``symfield.field_law``). Conditioned on layer
l - 1, u^l_i is Gaussian with covariance sigma_w^2 sum_{z1, z2} C_w(z1', z1; z2', z2)
[(1/n) sum_j x_j(z1) x'_j(z2)] + sigma_b^2 C_b(z1', z2'); the bracket is an average of n
exchangeable terms, so it concentrates on its expectation, the engine's kernel law
K(q1, q2, rho) = E[phi(u1) phi(u2)] at the variances Q(x, x; z1, z1), Q(x', x'; z2, z2)
and the covariance Q(x, x'; z1, z2) of the previous layer. Exchanging the finite sum over
positions with that limit gives the field kernel

    Q^l(x, x'; z1', z2') = sigma_w^2 sum_{z1, z2} C_w(z1', z1; z2', z2) K^{l-1}(x, x'; z1, z2)
                           + sigma_b^2 C_b(z1', z2'),

with K^0(x, x'; z1, z2) = x(z1) . x'(z2) / n0. It holds for widths n -> infinity at fixed G
and depth; at one channel it needs the sum over positions itself to self-average, which
long-range correlated weights prevent (measured in :mod:`symfield.laboratory.field`).

Weight covariances are data (:data:`WEIGHT_COVARIANCES`), each normalised so that the
summed weights sum_z w(z', z) have variance sigma_w^2 / n0 (a constant field sees the MLP's
fan-in variance sigma_w^2), i.e. sum_{z1, z2} C_w(z', z1; z', z2) = 1:

- ``"independent"``: C_w = delta(z1', z2') delta(z1, z2) / G (the MLP on the flattened field);
- ``"shared_input"``: w(z', z) = w(z') for all z, C_w = delta(z1', z2') / G^2 (mean pooling);
- ``("conv", width)``: a shared filter, w(z', z) = v(z - z') for offsets in a window of
  ``width`` points per axis (centred), taps i.i.d. of variance 1/|window| (CNN-GP; on a
  segment zero-padded: a tap past an end reads 0, so the ends see fewer inputs);
- ``("correlated", "gaussian" | "exponential", length[, output_length])``: stationary weights
  C_w = R_out(z1' - z2') R_in(z1 - z2) / sum_{z1, z2} R_in(z1 - z2), R the periodised
  correlation of the given length (on a segment R itself, unperiodised; R(0) = 1; on the
  torus a product over the axes: Gaussian in the
  Euclidean offset, exponential in the L1 offset; ``output_length`` 0, the default, is delta
  in z'): ``length`` ->
  0 gives "independent", ``length`` -> infinity "shared_input" (Garriga-Alonso & van der
  Wilk 2021);
- an explicit array of shape (G, G, G, G) indexed (z1', z1, z2', z2), used as given (it must
  be symmetric and positive semi-definite as a (G^2, G^2) matrix).

Bias covariances: ``"independent"`` (delta), ``"shared"`` (all ones), ``("correlated", kind,
length)`` or an explicit (G, G) array.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, quoted
from ..laws import derive
from ..laws.evaluation import EvaluationContext, Float64Context, MultiPrecisionContext
from ..laws.field import apply_dense_covariance, field_layer
from ..laws.recursion import check_depth
from ..numbers import (
    LAW_POLICY,
    check_dps,
    check_scales,
    input_digits,
    magnitude_spread,
    to_exact,
)

#: Entries of one layer's (T G) x (T G) kernel (float64): 32 MB per array.
MAX_ENTRIES = 1 << 22
#: Kernel entries times depth evaluated in float64 (the activation's law on every entry).
MAX_FLOAT64_WORK = 1 << 28
#: Entries of an explicit (G, G, G, G) weight covariance (G <= 32 on a ring).
MAX_DENSE_ENTRIES = 1 << 20
#: Certified (dps) work: kernel-law evaluations (upper triangle) times depth.
MAX_CERTIFIED_WORK = 20_000
#: Longest correlation length, in grid spacings (beyond it the weights are all one).
MAX_LENGTH = 1e6
#: Relative tolerance of the positive semi-definiteness checks (rounding of user arrays).
PSD_TOLERANCE = 1e-10
CORRELATIONS = ("gaussian", "exponential")


# ------------------------------------------------------------------------------------------
# Grids
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """A ring (one axis) or a torus (two axes) of positions, flattened row-major; with
    ``periodic=False`` a segment (one axis: the ends are not neighbours, a filter reading
    past them reads 0, as a zero-padded convolution does)."""

    shape: tuple[int, ...]
    periodic: bool = True

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def coordinates(self) -> np.ndarray:
        """(G, d) integer coordinates of the flattened positions."""
        return np.stack(np.unravel_index(np.arange(self.size), self.shape), axis=1)

    def offsets(self) -> np.ndarray:
        """(G, G, d) offsets z2 - z1: periodic ones in (-G_k/2, G_k/2] on a ring or torus."""
        c = self.coordinates()
        raw = c[None, :, :] - c[:, None, :]
        if not self.periodic:
            return raw
        shape = np.array(self.shape)
        raw = raw % shape
        return np.where(raw > shape // 2, raw - shape, raw)

    def moved(self, coordinates: np.ndarray, offset) -> tuple[np.ndarray, np.ndarray]:
        """(flat index of z + offset, inside) for each row of ``coordinates``: wrapped on a
        ring or torus (always inside); on a segment the index is clipped and ``inside`` says
        whether z + offset is on the grid."""
        target = coordinates + np.asarray(offset)
        shape = np.array(self.shape)
        if self.periodic:
            return (np.ravel_multi_index(tuple((target % shape).T), self.shape),
                    np.ones(len(coordinates), dtype=bool))
        inside = np.all((target >= 0) & (target < shape), axis=1)
        clipped = np.clip(target, 0, shape - 1)
        return np.ravel_multi_index(tuple(clipped.T), self.shape), inside

    def shift(self, array: np.ndarray, offset, axes: tuple[int, ...]) -> np.ndarray:
        """out[..., z, ...] = array[..., z + offset, ...] along ``axes`` (one per grid axis,
        repeated for several position axes): wrapped on a ring or torus, 0 past a segment's
        ends."""
        steps = tuple(int(a) for a in offset) * (len(axes) // len(self.shape))
        if self.periodic:
            return np.roll(array, tuple(-a for a in steps), axis=axes)
        out = np.zeros_like(array)
        source, target = [slice(None)] * array.ndim, [slice(None)] * array.ndim
        for axis, step in zip(axes, steps):
            size = array.shape[axis]
            if abs(step) >= size:
                return out
            source[axis] = slice(max(step, 0), size + min(step, 0))
            target[axis] = slice(max(-step, 0), size - max(step, 0))
        out[tuple(target)] = array[tuple(source)]
        return out

    def label(self) -> str:
        if not self.periodic:
            return f"segment of {self.shape[0]}"
        return f"ring of {self.shape[0]}" if len(self.shape) == 1 else \
            f"{self.shape[0]}x{self.shape[1]} torus"


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise InvalidValueError(f"{what} must be an integer >= 1 (got {quoted(value)})")
    return int(value)


def check_scalars(**values: object) -> None:
    """Refuse arrays and containers where one number is expected (the shared checks quote
    their repr, which for an array spans lines)."""
    for name, value in values.items():
        if isinstance(value, (np.ndarray, list, tuple, dict, set)) \
                and not (isinstance(value, np.ndarray) and value.ndim == 0):
            raise InvalidValueError(f"{name} must be a single number, not a "
                                    f"{type(value).__name__}")


def check_grid(grid: object) -> Grid:
    """``grid``: G (a ring), (G1, G2) (a torus) or ("segment", G) (a line of G positions whose
    ends are not neighbours), positive integers."""
    if isinstance(grid, Grid):
        return grid
    periodic = True
    if isinstance(grid, (tuple, list)) and grid and isinstance(grid[0], str):
        if grid[0] != "segment" or len(grid) != 2:
            raise InvalidValueError(f"grid must be G (a ring), (G1, G2) (a torus) or "
                                    f"('segment', G), got {quoted(grid)}")
        periodic, grid = False, grid[1]
    if isinstance(grid, (tuple, list)):
        if len(grid) not in (1, 2):
            raise InvalidValueError(f"grid must be G (a ring), (G1, G2) (a torus) or "
                                    f"('segment', G), got {len(grid)} axes")
        shape = tuple(_positive_int(g, "each grid axis") for g in grid)
    else:
        shape = (_positive_int(grid, "grid (G, a ring, or (G1, G2), a torus)"),)
    if math.prod(shape) > MAX_ENTRIES:
        raise InvalidValueError(f"grid has {math.prod(shape)} positions; at most "
                                f"{MAX_ENTRIES} are supported")
    return Grid(shape, periodic)


# ------------------------------------------------------------------------------------------
# Correlations and covariances (as data)
# ------------------------------------------------------------------------------------------
def _check_kind(kind: object) -> str:
    if kind not in CORRELATIONS:
        raise InvalidValueError(f"correlation kind must be one of {', '.join(CORRELATIONS)} "
                                f"(got {quoted(kind)})")
    return str(kind)


def _check_length(length: object, what: str, allow_zero: bool = False) -> float:
    try:
        value = float(to_exact(length, what))
    except (InvalidValueError, TypeError, ValueError, OverflowError):
        raise InvalidValueError(f"{what} must be a number > 0 (got {quoted(length)})") from None
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= MAX_LENGTH):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidValueError(f"{what} must be {bound} and at most {MAX_LENGTH:g} grid "
                                f"spacings (got {quoted(length)})")
    return value


def _ring_profile(points: int, kind: str, length: float) -> np.ndarray:
    """r(d), d = 0 .. points - 1, of the correlation periodised on a ring (summed over its
    images d + m points, m integer), scaled to r(0) = 1. Periodising keeps it positive
    semi-definite: its Fourier coefficients are samples of the profile's positive Fourier
    transform (a plain truncation of exp(-d^2/2l^2) at the ring distance is not)."""
    d = np.arange(points, dtype=float)
    if kind == "exponential":
        # sum_m exp(-|d + m G| / l) in closed form, written without overflow for any l
        return (np.exp(-d / length) + np.exp(-(points - d) / length)) \
            / (1.0 + np.exp(-points / length))
    if length <= points:  # images: exp(-(m G)^2 / 2l^2) is negligible beyond |m| = 10
        m = np.arange(-10, 11, dtype=float)[:, None]
        profile = np.exp(-(d[None, :] + m * points) ** 2 / (2.0 * length * length)).sum(axis=0)
    else:  # Poisson summation: few Fourier terms exp(-2 pi^2 l^2 k^2 / G^2)
        k = np.arange(0, math.ceil(3.0 * points / length) + 2, dtype=float)[:, None]
        weight = np.exp(-2.0 * (math.pi * length * k / points) ** 2)
        weight[1:] *= 2.0
        profile = (weight * np.cos(2.0 * math.pi * k * d[None, :] / points)).sum(axis=0)
    # r(d) = r(G - d) exactly (the image sums differ in the last bit): C_w must be symmetric
    profile = (profile + profile[(-np.arange(points)) % points]) / 2
    return profile / profile[0]


def _line_profile(points: int, kind: str, length: float) -> np.ndarray:
    """r(d), d = 0 .. points - 1, on a segment: the correlation itself (exp(-d^2/2l^2) or
    exp(-d/l)), positive semi-definite on any set of points of the line."""
    d = np.arange(points, dtype=float)
    return np.exp(-d / length) if kind == "exponential" else np.exp(-d * d / (2.0 * length**2))


def stationary_correlation(grid: Grid, kind: str, length: float) -> np.ndarray:
    """(G, G) stationary correlation R(z2 - z1) on the grid, R(0) = 1, ``length`` 0 = delta.

    A product over the axes of ring profiles: on the torus the Gaussian is that of the
    Euclidean offset, the exponential that of the L1 offset exp(-(|d1| + |d2|)/l) (a product
    of positive semi-definite correlations, so again one). On a segment, R(|z2 - z1|)."""
    if length == 0:
        return np.eye(grid.size)
    coords = grid.coordinates()
    R = np.ones((grid.size, grid.size))
    for axis, points in enumerate(grid.shape):
        if grid.periodic:
            profile = _ring_profile(points, kind, length)
            R *= profile[(coords[None, :, axis] - coords[:, None, axis]) % points]
        else:
            profile = _line_profile(points, kind, length)
            R *= profile[np.abs(coords[None, :, axis] - coords[:, None, axis])]
    return R


def _check_psd(matrix: np.ndarray, what: str) -> None:
    if not np.allclose(matrix, matrix.T, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(matrix).max())):
        raise InvalidValueError(f"{what} must be symmetric (largest asymmetry "
                                f"{np.abs(matrix - matrix.T).max():.3g})")
    eigen = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    scale = max(float(np.abs(eigen).max()), 1e-300)
    if eigen[0] < -PSD_TOLERANCE * scale:
        raise InvalidValueError(f"{what} is not positive semi-definite: smallest eigenvalue "
                                f"{eigen[0]:.3g} (largest {eigen[-1]:.3g})")


def _explicit_array(value: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InvalidValueError(f"{what} array must be numeric") from None
    if array.shape != shape:
        raise InvalidValueError(f"{what} array must have shape {shape} for this grid (got "
                                f"{array.shape})")
    if not np.all(np.isfinite(array)):
        raise InvalidValueError(f"{what} array contains NaN or infinite entries")
    return array


@dataclass(frozen=True)
class WeightCovariance:
    """C_w(z1', z1; z2', z2) in one of three structures.

    ``separable``: C_w = output[z1', z2'] * input[z1, z2]; ``conv``: a shared filter over
    ``window`` (integer offsets, (taps, d)), C_w = delta(z1 - z1' = z2 - z2' in window) /
    taps; ``dense``: the (G, G, G, G) array. ``label`` names it in reports.
    """

    label: str
    grid: Grid
    structure: str
    output: np.ndarray | None = None
    input: np.ndarray | None = None
    window: np.ndarray | None = None
    dense: np.ndarray | None = None

    def apply(self, kernel: np.ndarray) -> np.ndarray:
        """sum_{z1, z2} C_w(z1', z1; z2', z2) kernel[..., z1, z2] (leading axes broadcast);
        works for float64 and for object (mpmath) arrays."""
        if self.structure == "separable":
            pooled = np.tensordot(kernel, self.input, axes=([-2, -1], [0, 1]))
            return pooled[..., None, None] * self.output
        if self.structure == "dense":
            return apply_dense_covariance(self.dense, kernel)
        lead, d = kernel.shape[:-2], len(self.grid.shape)
        field = kernel.reshape(lead + self.grid.shape + self.grid.shape)
        first = tuple(range(len(lead), len(lead) + d))
        second = tuple(range(len(lead) + d, len(lead) + 2 * d))
        total = None
        for offset in self.window:
            # K(z1' + a, z2' + a): both position axes moved back by the tap's offset (0 past a
            # segment's ends: the zero padding)
            moved = self.grid.shift(field, offset, first + second)
            total = moved if total is None else total + moved
        return (total / len(self.window)).reshape(kernel.shape)

    def matrix(self) -> np.ndarray:
        """The (G^2, G^2) covariance matrix, rows (z1', z1), columns (z2', z2), float64 (for
        sampling; bounded by MAX_DENSE_ENTRIES)."""
        G = self.grid.size
        if G ** 4 > MAX_DENSE_ENTRIES:
            raise InvalidValueError(f"a dense weight covariance on {G} positions has {G ** 4} "
                                    f"entries; at most {MAX_DENSE_ENTRIES} are supported")
        if self.structure == "dense":
            full = np.asarray(self.dense, dtype=float)
        elif self.structure == "separable":
            full = np.einsum("ac,bd->abcd", np.asarray(self.output, dtype=float),
                             np.asarray(self.input, dtype=float))
        else:
            full = _conv_dense(self.grid, self.window)
        return full.reshape(G * G, G * G)


def _conv_dense(grid: Grid, window: np.ndarray) -> np.ndarray:
    """C_w of a shared filter as a (G, G, G, G) array: tap a links z' to z' + a, and the
    same tap at two output positions is one variable."""
    G = grid.size
    coords, every = grid.coordinates(), np.arange(G)
    full = np.zeros((G, G, G, G))
    for a in window:
        target, inside = grid.moved(coords, a)
        both = inside[:, None] & inside[None, :]   # past a segment's end the tap reads 0
        full[every[:, None], target[:, None], every[None, :], target[None, :]] += both
    return full / len(window)


def _window(grid: Grid, width: object) -> np.ndarray:
    d = len(grid.shape)
    if isinstance(width, (tuple, list)):
        if len(width) != d:
            raise InvalidValueError(f"filter width must have {d} entries for a {grid.label()} "
                                    f"(got {len(width)})")
        widths = tuple(_positive_int(w, "filter width") for w in width)
    else:
        widths = (_positive_int(width, "filter width"),) * d
    for w, g in zip(widths, grid.shape):
        if w > g:
            raise InvalidValueError(f"filter width {w} exceeds the grid axis of {g} points")
    axes = [np.arange(w) - (w - 1) // 2 for w in widths]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)


def _independent(grid: Grid) -> WeightCovariance:
    G = grid.size
    return WeightCovariance("independent", grid, "separable", np.eye(G), np.eye(G) / G)


def _shared_input(grid: Grid) -> WeightCovariance:
    G = grid.size
    return WeightCovariance("shared_input", grid, "separable", np.eye(G),
                            np.full((G, G), 1.0 / (G * G)))


def _conv(grid: Grid, width: object) -> WeightCovariance:
    window = _window(grid, width)
    return WeightCovariance(f"conv width {width}", grid, "conv", window=window)


def _correlated(grid: Grid, kind: object, length: object,
                output_length: object = 0) -> WeightCovariance:
    kind = _check_kind(kind)
    length = _check_length(length, "correlation length")
    output_length = _check_length(output_length, "output correlation length", allow_zero=True)
    R_in = stationary_correlation(grid, kind, length)
    R_out = stationary_correlation(grid, kind, output_length)
    # sum_{z1, z2} R_in(z1 - z2) = G * (row sum): the constant field keeps its fan-in
    return WeightCovariance(f"correlated {kind} length {length:g}"
                            + (f" output length {output_length:g}" if output_length else ""),
                            grid, "separable", R_out, R_in / R_in.sum())


#: Named weight covariances: name -> builder(grid, *arguments).
WEIGHT_COVARIANCES: dict[str, Callable[..., WeightCovariance]] = {
    "independent": _independent,
    "shared_input": _shared_input,
    "conv": _conv,
    "correlated": _correlated,
}
#: Number of arguments each named covariance takes (after the grid): (least, most).
_ARITY = {"independent": (0, 0), "shared_input": (0, 0), "conv": (1, 1), "correlated": (2, 3)}


def build_weight_covariance(spec: object, grid: object) -> WeightCovariance:
    """The weight covariance ``spec`` on ``grid`` (see the module doc for the forms)."""
    grid = check_grid(grid)
    if isinstance(spec, WeightCovariance):
        if spec.grid != grid:
            raise InvalidValueError(f"weight covariance is for a {spec.grid.label()}, not a "
                                    f"{grid.label()}")
        return spec
    valid = ("valid: 'independent', 'shared_input', ('conv', width), ('correlated', "
             "'gaussian'|'exponential', length[, output_length]) or a (G, G, G, G) array")
    if isinstance(spec, str) or (isinstance(spec, tuple) and spec and isinstance(spec[0], str)):
        name, args = (spec, ()) if isinstance(spec, str) else (spec[0], spec[1:])
        if name not in WEIGHT_COVARIANCES:
            raise InvalidValueError(f"unknown weight covariance {quoted(name)}; {valid}")
        least, most = _ARITY[name]
        if not least <= len(args) <= most:
            raise InvalidValueError(f"weight covariance {name!r} takes {least}"
                                    f"{'' if least == most else f' to {most}'} argument(s), "
                                    f"got {len(args)}; {valid}")
        return WEIGHT_COVARIANCES[name](grid, *args)
    if isinstance(spec, (np.ndarray, list)):
        G = grid.size
        if G ** 4 > MAX_DENSE_ENTRIES:
            raise InvalidValueError(f"an explicit weight covariance on {G} positions has "
                                    f"{G ** 4} entries; at most {MAX_DENSE_ENTRIES} are "
                                    f"supported (use a named covariance)")
        dense = _explicit_array(spec, (G, G, G, G), "weight covariance")
        _check_psd(dense.reshape(G * G, G * G), "weight covariance (as a (G^2, G^2) matrix)")
        return WeightCovariance("explicit", grid, "dense", dense=dense)
    raise InvalidValueError(f"weight_covariance {quoted(spec)} not understood; {valid}")


def build_bias_covariance(spec: object, grid: object) -> np.ndarray:
    """C_b(z1', z2') as a (G, G) float64 array: 'independent', 'shared', ('correlated', kind,
    length) or an explicit positive semi-definite (G, G) array."""
    grid = check_grid(grid)
    G = grid.size
    if isinstance(spec, str):
        if spec == "independent":
            return np.eye(G)
        if spec == "shared":
            return np.ones((G, G))
    elif isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "correlated":
        return stationary_correlation(grid, _check_kind(spec[1]),
                                    _check_length(spec[2], "bias correlation length"))
    elif isinstance(spec, (np.ndarray, list)):
        array = _explicit_array(spec, (G, G), "bias covariance")
        _check_psd(array, "bias covariance")
        return array
    raise InvalidValueError(f"bias_covariance {quoted(spec)} not understood; valid: "
                            f"'independent', 'shared', ('correlated', kind, length) or a "
                            f"(G, G) array")


# ------------------------------------------------------------------------------------------
# The field kernel
# ------------------------------------------------------------------------------------------
def check_field_inputs(inputs: object, grid: Grid) -> np.ndarray:
    """Inputs as a float64 (T, G, n0) array (a torus also accepts (T, G1, G2, n0))."""
    try:
        X = np.asarray(inputs, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InvalidValueError("inputs must be a numeric array of shape (T, G, n0)") from None
    if X.ndim == len(grid.shape) + 2 and X.shape[1:-1] == grid.shape:
        X = X.reshape(X.shape[0], grid.size, X.shape[-1])
    if X.ndim != 3 or X.shape[1] != grid.size or X.shape[0] < 1 or X.shape[2] < 1:
        raise InvalidValueError(f"inputs must have shape (T, G, n0) with G = {grid.size} "
                                f"positions of the {grid.label()} (got {X.shape})")
    if not np.all(np.isfinite(X)):
        raise InvalidValueError("inputs contain NaN or infinite entries")
    return X


def _check_work(T: int, grid: Grid, depth: int, covariance: WeightCovariance,
                dps: int | None) -> None:
    side = T * grid.size
    if side * side > MAX_ENTRIES:
        raise InvalidValueError(f"T * G = {side} is too large: the kernel has (T G)^2 entries, "
                                f"at most {MAX_ENTRIES}")
    taps = len(covariance.window) if covariance.structure == "conv" else 1
    work = side * side * depth * taps
    if dps is None and work > MAX_FLOAT64_WORK:
        raise InvalidValueError(f"(T G)^2 x depth x filter taps = {work} exceeds "
                                f"{MAX_FLOAT64_WORK}; use fewer inputs, positions or layers")
    if dps is not None and side * (side + 1) // 2 * depth > MAX_CERTIFIED_WORK:
        raise InvalidValueError(f"certified field kernels (dps given) evaluate at most "
                                f"{MAX_CERTIFIED_WORK} law values (T G (T G + 1)/2 x depth = "
                                f"{side * (side + 1) // 2 * depth}); use float64 (dps=None) "
                                f"or fewer inputs, positions or layers")


def _layers(context: EvaluationContext, kernel_law, X: np.ndarray, depth: int,
            covariance: WeightCovariance, bias: np.ndarray, sw, sb,
            all_layers: bool) -> list[np.ndarray]:
    """Q^1 .. Q^depth in ``context`` (float64 arrays or object arrays of mpmath numbers): the
    first layer from the inputs, then the field law's layer map (``field_layer``)."""
    T, G, n0 = X.shape
    sw2, sb2 = sw * sw, sb * sb
    first = np.einsum("tac,sbc->tsab", X, X) / n0 if X.dtype != object else \
        np.tensordot(X, X, axes=([2], [2])).transpose(0, 2, 1, 3) / n0
    Q = sw2 * covariance.apply(first) + sb2 * bias
    out = [Q] if all_layers else []
    for _ in range(depth - 1):
        Q = field_layer(context, kernel_law, Q, covariance.apply, bias, sw2, sb2)
        if all_layers:
            out.append(Q)
    return out if all_layers else [Q]


def field_kernel(activation: str | Activation, inputs: object, depth: int, sigma_w: object,
                 sigma_b: object, grid: object, weight_covariance: object = "independent",
                 bias_covariance: object = "independent", dps: int | None = None,
                 all_layers: bool = False):
    """The mean-field kernel Q^depth(x, x'; z1', z2') of a random neural field.

    ``inputs`` has shape (T, G, n0) (T inputs, G positions, n0 channels); ``grid`` is G (a
    ring), (G1, G2) (a torus, positions flattened row-major) or ("segment", G) (a line:
    filters zero-padded at its ends, correlations not periodised). Returns a (T, T, G, G)
    float64 array (``dps`` None: the kernel law's vectorised float64 form) or an object
    array of mpmath numbers certified to ``dps`` digits (the whole recursion computed at two
    working precisions that agree on every entry); ``all_layers=True`` gives the list
    Q^1 .. Q^depth. The covariances are described in the module doc.
    """
    check_scalars(depth=depth, sigma_w=sigma_w, sigma_b=sigma_b, dps=dps)
    depth = check_depth(depth)
    sw, sb = check_scales(sigma_w, sigma_b)
    act = get_activation(activation)
    grid_ = check_grid(grid)
    covariance = build_weight_covariance(weight_covariance, grid_)
    bias = build_bias_covariance(bias_covariance, grid_)
    X = check_field_inputs(inputs, grid_)
    if not isinstance(all_layers, (bool, np.bool_)):
        raise InvalidValueError(f"all_layers must be True or False (got {quoted(all_layers)})")
    if dps is not None:
        dps = check_dps(dps)
    _check_work(X.shape[0], grid_, depth, covariance, dps)
    law = derive("kernel", act)
    if dps is None:
        context = Float64Context()
        with np.errstate(over="ignore", invalid="ignore"):
            layers = _layers(context, context.law(law), X, depth, covariance, bias,
                             float(sw), float(sb), bool(all_layers))
        for index, Q in enumerate(layers):
            if not np.all(np.isfinite(Q)):
                raise InvalidValueError(f"the field kernel leaves float64 by layer "
                                        f"{index + 1 if all_layers else depth}; use fewer "
                                        f"layers or smaller scales")
        return layers if all_layers else layers[0]
    exact_inputs = [to_exact(v, "input entry") for v in X.ravel()]

    def at(work: int):
        context = MultiPrecisionContext(work)
        with mpmath.workdps(work):
            Xm = np.array([context.number(v) for v in exact_inputs],
                          dtype=object).reshape(X.shape)
            cov = _as_mp(covariance, context)
            layers = _layers(context, context.law(law), Xm, depth, cov,
                             _mp_array(bias, context), context.number(sw),
                             context.number(sb), bool(all_layers))
        return [v for Q in layers for v in Q.ravel()]

    values = LAW_POLICY.certify(at, dps, magnitude_spread([sw, sb]),
                                law.compiled().max_work(dps),
                                input_digits([sw, sb, *exact_inputs]))
    shape = (X.shape[0], X.shape[0], grid_.size, grid_.size)
    size = math.prod(shape)
    layers = [np.array(values[i * size:(i + 1) * size], dtype=object).reshape(shape)
              for i in range(len(values) // size)]
    return layers if all_layers else layers[0]


# ------------------------------------------------------------------------------------------
# Spatial correlation over depth
# ------------------------------------------------------------------------------------------
#: Successive changes below this (relative) are rounding, not convergence, in the fit.
_CHANGE_FLOOR = 1e-11


@dataclass(frozen=True)
class SpatialCorrelation:
    """How correlation across positions evolves with depth.

    ``offsets`` (k, d) are the offsets d (each axis 0 .. G_axis // 2); ``correlation[l, k]``
    is the mean over positions z and inputs of Q(z, z + d) / sqrt(Q(z, z) Q(z + d, z + d))
    at layer l + 1; ``variance[l]`` the mean Q(z, z). ``depth_scale[k]`` is the depth over
    which the correlation at that offset settles: -1 / slope of log |c^{l+1} - c^l| against
    l, fitted over the second half of the layers whose change is above rounding (inf where
    the change does not shrink, nan where it is below rounding from the start).
    """

    grid: Grid
    label: str
    offsets: np.ndarray
    variance: np.ndarray
    correlation: np.ndarray
    depth_scale: np.ndarray

    def format(self) -> str:
        depth = self.correlation.shape[0]
        shown = sorted({0, 1, 2, depth // 4, depth // 2, depth - 1} & set(range(depth)))
        names = [str(tuple(int(v) for v in o)) if len(o) > 1 else str(int(o[0]))
                 for o in self.offsets]
        lines = [f"Spatial correlation c^l(d) on a {self.grid.label()}, {self.label} weights",
                 f"{'offset':>10}" + "".join(f"  {'l=' + str(l + 1):>10}" for l in shown)
                 + f"  {'depth scale':>12}"]
        for k, name in enumerate(names):
            lines.append(f"{name:>10}" + "".join(f"  {self.correlation[l, k]:>10.6f}"
                                                 for l in shown)
                         + f"  {self.depth_scale[k]:>12.4g}")
        return "\n".join(lines)


def _depth_scale(series: np.ndarray) -> float:
    change = np.abs(np.diff(series))
    floor = _CHANGE_FLOOR * max(1.0, float(np.max(np.abs(series))))
    layers = np.flatnonzero(change > floor)
    if layers.size == 0:
        return math.nan
    # the contiguous run of changes above rounding from the first layer on
    run = layers[:np.argmax(np.diff(np.append(layers, -1)) != 1) + 1]
    tail = run[run.size // 2:]
    if tail.size < 3:
        return math.nan
    slope = np.polyfit(tail.astype(float), np.log(change[tail]), 1)[0]
    return math.inf if slope >= 0 else -1.0 / slope


def spatial_correlation(activation: str | Activation, inputs: object, depth: int,
                        sigma_w: object, sigma_b: object, grid: object,
                        weight_covariance: object = "independent",
                        bias_covariance: object = "independent") -> SpatialCorrelation:
    """The correlation across positions as a function of the offset, per layer, and its
    depth scale (float64; the arguments as for :func:`field_kernel`)."""
    grid_ = check_grid(grid)
    covariance = build_weight_covariance(weight_covariance, grid_)
    layers = field_kernel(activation, inputs, depth, sigma_w, sigma_b, grid_, covariance,
                          bias_covariance, all_layers=True)
    coords = grid_.coordinates()
    shape = np.array(grid_.shape)
    # a segment has offsets up to G - 1 (fewer pairs each), a ring or torus up to G // 2
    offsets = coords[np.all(coords <= shape // 2, axis=1)] if grid_.periodic else coords
    correlation = np.empty((len(layers), len(offsets)))
    variance = np.empty(len(layers))
    for l, Q in enumerate(layers):
        diagonal = np.einsum("ttab->tab", Q)  # (T, G, G): each input with itself
        q = np.einsum("taa->ta", diagonal)    # (T, G)
        variance[l] = q.mean()
        for k, d in enumerate(offsets):
            partner, inside = grid_.moved(coords, d)
            every = np.arange(grid_.size)[inside]
            partner = partner[inside]
            with np.errstate(divide="ignore", invalid="ignore"):
                c = diagonal[:, every, partner] / np.sqrt(q[:, every] * q[:, partner])
            correlation[l, k] = c.mean()
    scales = np.array([_depth_scale(correlation[:, k]) for k in range(len(offsets))])
    return SpatialCorrelation(grid_, covariance.label, offsets, variance, correlation, scales)


def _mp_array(array: np.ndarray, context: MultiPrecisionContext) -> np.ndarray:
    """float64 entries as the binary numbers they are (exact in mpmath at any precision)."""
    with mpmath.workdps(context.work):
        return np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(array)


def _as_mp(covariance: WeightCovariance, context: MultiPrecisionContext) -> WeightCovariance:
    """The covariance with its arrays in mpmath numbers: the structural ones exact (1/G,
    1/G^2), computed and user arrays as their float64 values; the conv window stays integer
    (its 1/taps is divided in the working precision)."""
    if covariance.structure == "conv":
        return covariance
    G = covariance.grid.size
    with mpmath.workdps(context.work):
        exact = {"independent": (np.eye(G, dtype=int), mpmath.mpf(1) / G),
                 "shared_input": (np.ones((G, G), dtype=int), mpmath.mpf(1) / (G * G))}
    if covariance.label in exact:
        pattern, value = exact[covariance.label]
        return WeightCovariance(covariance.label, covariance.grid, "separable",
                                output=_mp_array(covariance.output, context),
                                input=np.where(pattern == 1, value, mpmath.mpf(0)).astype(object))
    convert = {name: _mp_array(getattr(covariance, name), context)
               for name in ("output", "input", "dense") if getattr(covariance, name) is not None}
    return WeightCovariance(covariance.label, covariance.grid, covariance.structure,
                            window=covariance.window, **convert)


__all__ = [
    "CORRELATIONS",
    "MAX_ENTRIES",
    "WEIGHT_COVARIANCES",
    "Grid",
    "SpatialCorrelation",
    "WeightCovariance",
    "build_bias_covariance",
    "build_weight_covariance",
    "check_field_inputs",
    "check_grid",
    "check_scalars",
    "field_kernel",
    "stationary_correlation",
    "spatial_correlation",
]
