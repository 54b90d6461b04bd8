"""``symfield field``: the deep random neural field (the work is in
:mod:`symfield.dynamics.field` and :mod:`symfield.laboratory.field`).

By default the correlation across positions per offset and layer with its depth scale; with
``--check N`` the law against N-channel sampled fields; with ``--self-averaging`` the
measured failure of self-averaging at one channel; ``--json`` for machines."""
from __future__ import annotations

import argparse
import json
import math

import numpy as np

from .common import EXIT_OK, byte_size, finite_float, positive_float

#: Input fields the command builds (one input, --channels n0 channels).
INPUT_KINDS = ("circle", "random", "constant")
#: The activation when none is named (odd and smooth: c* = 1 is not forced).
DEFAULT_ACTIVATION = "erf"


def _number(text: str, what: str) -> float:
    try:
        return finite_float(text)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{what}: {e}") from None


def _integer(text: str, what: str) -> int:
    if not text.strip().isdigit() or len(text.strip()) > 9:
        raise argparse.ArgumentTypeError(f"{what} must be a positive integer, got "
                                         f"{text[:40]!r}")
    return int(text)


def grid_option(text: str):
    """G (a ring), G1xG2 (a torus) or segment:G (a line whose ends are not neighbours)."""
    if text.lower().startswith("segment:"):
        return ("segment", _integer(text.split(":", 1)[1], "--grid segment:G"))
    parts = text.lower().split("x")
    if len(parts) > 2:
        raise argparse.ArgumentTypeError(f"--grid is G, G1xG2 or segment:G, got {text[:40]!r}")
    sizes = tuple(_integer(p, "--grid") for p in parts)
    return sizes[0] if len(sizes) == 1 else sizes


def weights_option(text: str):
    """independent | shared_input | conv:W[xW2] | correlated:KIND:LENGTH[:OUTPUT_LENGTH]."""
    name, *rest = text.split(":")
    if name in ("independent", "shared_input") and not rest:
        return name
    if name == "conv" and len(rest) == 1:
        width = tuple(_integer(w, "the filter width") for w in rest[0].lower().split("x"))
        return ("conv", width[0] if len(width) == 1 else width)
    if name == "correlated" and len(rest) in (2, 3):
        return ("correlated", rest[0], *(_number(v, "a correlation length") for v in rest[1:]))
    raise argparse.ArgumentTypeError(
        f"--weights is independent, shared_input, conv:W (or conv:W1xW2 on a torus) or "
        f"correlated:gaussian|exponential:LENGTH[:OUTPUT_LENGTH], got {text[:60]!r}")


def bias_option(text: str):
    """independent | shared | correlated:KIND:LENGTH."""
    name, *rest = text.split(":")
    if name in ("independent", "shared") and not rest:
        return name
    if name == "correlated" and len(rest) == 2:
        return ("correlated", rest[0], _number(rest[1], "the bias correlation length"))
    raise argparse.ArgumentTypeError(f"--bias is independent, shared or "
                                     f"correlated:gaussian|exponential:LENGTH, got {text[:60]!r}")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "field", help="deep random neural field: spatial correlation over depth, sampled "
                      "checks, self-averaging",
        description="Layers over a ring (--grid G), torus (--grid G1xG2) or segment "
                    "(--grid segment:G) of positions with "
                    "correlated weights: u(z') = sum_z w(z', z) x(z) + b(z'). Prints the "
                    "mean-field correlation across positions per offset and layer and its "
                    "depth scale; --check N compares the field kernel with N-channel sampled "
                    "fields; --self-averaging measures how one channel with long-range "
                    "correlated weights fails to self-average.")
    p.add_argument("activation", nargs="?", default=None,
                   help="activation name (see 'symfield list'; default erf)")
    p.add_argument("--sigma-w", type=finite_float, default=1.5, help="weight scale (default 1.5)")
    p.add_argument("--sigma-b", type=finite_float, default=0.3, help="bias scale (default 0.3)")
    p.add_argument("--grid", type=grid_option, default=16,
                   help="G (a ring of G points), G1xG2 (a torus) or segment:G (a line of G "
                        "points, zero-padded filters); default 16")
    p.add_argument("--depth", type=int, default=20, help="layers (default 20)")
    p.add_argument("--weights", type=weights_option, default=("conv", 3),
                   metavar="SPEC", help="independent, shared_input, conv:W (default conv:3) "
                   "or correlated:gaussian|exponential:LENGTH[:OUTPUT_LENGTH]")
    p.add_argument("--bias", type=bias_option, default="shared", metavar="SPEC",
                   help="independent, shared (default: one bias per channel, as in an MLP) "
                        "or correlated:gaussian|exponential:LENGTH")
    p.add_argument("--input", choices=INPUT_KINDS, default="circle",
                   help="the input field: circle (x(z) = sqrt 2 (cos, sin)(2 pi z_1 / G_1): "
                        "its kernel depends on the offset only; default), random (--seed) "
                        "or constant")
    p.add_argument("--channels", type=int, default=2, help="input channels n0 (default 2)")
    p.add_argument("--check", type=int, metavar="N", default=None,
                   help="compare the last layer's kernel with N-channel sampled fields")
    p.add_argument("--trials", type=int, default=16,
                   help="independent sampled fields for --check / --self-averaging "
                        "(default 16)")
    p.add_argument("--self-averaging", action="store_true",
                   help="measure the relative spread of one channel's spatial mean over "
                        "realisations on rings of 16..128 points, independent vs long-range "
                        "correlated weights")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--derivation", action="store_true",
                   help="print the field law's derivation (microdynamics to the engine's "
                        "kernel at the entries of Q^{l-1}) as a LaTeX document")
    p.add_argument("--plot", metavar="FILE",
                   help="write the spatial-correlation figure (offset and layer)")
    p.add_argument("--max-memory", type=byte_size, metavar="SIZE", default=None,
                   help="memory sampled fields may use, e.g. 4G")
    p.add_argument("--max-flops", type=positive_float, metavar="N", default=None,
                   help="floating-point operations sampled fields may use (default 1e14)")
    p.set_defaults(run=run_field)


def input_field(kind: str, grid, channels: int, seed: int) -> np.ndarray:
    """One input field of shape (1, G, n0)."""
    from ..dynamics.field import check_grid
    from ..errors import InvalidValueError

    grid = check_grid(grid)
    if isinstance(channels, bool) or not 1 <= channels <= 4096:
        raise InvalidValueError(f"--channels must be from 1 to 4096, got {channels}")
    coords = grid.coordinates()
    if kind == "constant":
        return np.ones((1, grid.size, channels))
    if kind == "random":
        if seed < 0:
            raise InvalidValueError(f"--seed must be non-negative, got {seed}")
        return np.random.default_rng(seed).standard_normal((1, grid.size, channels))
    if channels < 2:
        raise InvalidValueError("--input circle needs --channels of at least 2")
    angle = 2 * math.pi * coords[:, 0] / grid.shape[0]
    field = np.zeros((1, grid.size, channels))
    field[0, :, 0], field[0, :, 1] = np.cos(angle), np.sin(angle)
    return field * math.sqrt(channels)


def run_field(args: argparse.Namespace) -> int:
    if args.activation is None:
        args.activation = DEFAULT_ACTIVATION
    if args.derivation:
        from ..laws.field import field_law

        print(field_law(args.activation).latex(document=True))
        return EXIT_OK
    if args.plot:
        from ..errors import InvalidValueError
        from ..output.plots import check_figure_path

        if args.self_averaging or args.check is not None:
            raise InvalidValueError("--plot draws the spatial correlation; it does not go "
                                    "with --check or --self-averaging")
        check_figure_path(args.plot, "--plot")
    if args.self_averaging:
        from ..laboratory.field import self_averaging

        report = self_averaging(args.activation, args.sigma_w, args.sigma_b,
                                trials=max(args.trials, 8), seed=args.seed)
        if args.json:
            print(json.dumps({"sizes": list(report.sizes), "labels": list(report.labels),
                              "spread": {k: v.tolist() for k, v in report.spread.items()},
                              "spread_error": {k: v.tolist()
                                               for k, v in report.spread_error.items()},
                              "exponent": report.exponent}, indent=2))
        else:
            print(report.format())
        return EXIT_OK
    inputs = input_field(args.input, args.grid, args.channels, args.seed)
    if args.check is not None:
        from ..laboratory.field import check_field

        check = check_field(args.activation, inputs, args.depth, args.sigma_w, args.sigma_b,
                            args.grid, args.weights, args.bias, n=args.check,
                            trials=args.trials, seed=args.seed, max_memory=args.max_memory,
                            max_flops=args.max_flops)
        if args.json:
            print(json.dumps({"label": check.label, "n": check.n, "trials": check.trials,
                              "depth": check.depth, "agrees": check.agrees(),
                              "max_abs_z": float(np.nanmax(np.abs(check.z))),
                              "critical_z": check.critical_z(),
                              "predicted": check.predicted.tolist(),
                              "measured": check.measured.tolist(),
                              "standard_error": check.standard_error.tolist()}))
        else:
            print(check.format())
        return EXIT_OK
    from ..dynamics.field import spatial_correlation

    profile = spatial_correlation(args.activation, inputs, args.depth, args.sigma_w,
                                  args.sigma_b, args.grid, args.weights, args.bias)
    if args.json:
        print(json.dumps({"grid": list(profile.grid.shape), "periodic": profile.grid.periodic,
                          "weights": profile.label,
                          "offsets": profile.offsets.tolist(),
                          "variance": profile.variance.tolist(),
                          "correlation": profile.correlation.tolist(),
                          "depth_scale": [None if not math.isfinite(v) else v
                                          for v in profile.depth_scale.tolist()]}, indent=2))
    else:
        print(profile.format())
    if args.plot:
        from ..laboratory.field import plot_spatial_correlation

        plot_spatial_correlation(profile, args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return EXIT_OK
