"""``symfield plot phase|cobweb|depth-scales``: argument parsing around
:mod:`symfield.output.plots` (no mathematics here)."""
from __future__ import annotations

import argparse
import math

from ..dynamics.storage import quoted_path
from ..errors import quoted
from .common import (EXIT_OK, EXIT_USAGE, OneLineParser, UsageError, check_workers,
                     finite_float)


def _pair(text: str, name: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise UsageError(f"{name} expects LOW:HIGH (got {quoted(text)})")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise UsageError(f"{name} expects LOW:HIGH numbers (got {quoted(text)})") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise UsageError(f"{name} expects finite LOW:HIGH numbers (got {quoted(text)})")
    return low, high


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="pictures: phase diagram, cobweb, depth scales",
                       description="Draw a picture of the dynamics and write it to a file "
                                   "(format from the suffix: png, pdf, svg).")
    kinds = p.add_subparsers(dest="plot_kind", metavar="KIND", parser_class=OneLineParser)
    p.set_defaults(run=lambda args: _usage(p))

    ph = kinds.add_parser("phase", help="(sigma_w, sigma_b) phase diagram with xi_c colour",
                          description="chi1 contours, the edge of chaos, ordered/chaotic "
                                      "regions and xi_c as colour.")
    ph.add_argument("activation")
    ph.add_argument("-o", "--output", required=True, metavar="FILE")
    ph.add_argument("--sigma-w", default="0.5:4", metavar="LOW:HIGH")
    ph.add_argument("--sigma-b", default="0:1", metavar="LOW:HIGH")
    ph.add_argument("--resolution", type=int, default=120, metavar="N",
                    help="grid points per axis (default 120)")
    ph.add_argument("--colour", default="xi_c",
                    help="quantity shown as colour (default xi_c; e.g. chi_c, q_star, c_star)")
    ph.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address")
    ph.add_argument("--workers", type=int, default=None,
                    help="local processes, at most the CPU count (default: all CPUs)")
    ph.add_argument("--no-progress", action="store_true")
    ph.set_defaults(run=run_phase)

    cw = kinds.add_parser("cobweb", help="cobweb of the length and correlation maps")
    cw.add_argument("activation")
    cw.add_argument("-o", "--output", required=True, metavar="FILE")
    w = cw.add_mutually_exclusive_group(required=True)
    w.add_argument("--sigma-w", metavar="X")
    w.add_argument("--sigma-w2", metavar="X")
    b = cw.add_mutually_exclusive_group()
    b.add_argument("--sigma-b", metavar="X")
    b.add_argument("--sigma-b2", metavar="X")
    cw.add_argument("--map", dest="maps", choices=("length", "correlation", "both"),
                    default="both")
    cw.add_argument("--start-q", type=finite_float, default=None,
                    help="first q of the length-map cobweb (default 2 q* + 0.5)")
    cw.add_argument("--start-c", type=finite_float, default=None,
                    help="first c of the correlation-map cobweb, in [-1, 1]")
    cw.add_argument("--steps", type=int, default=12)
    cw.set_defaults(run=run_cobweb)

    ds = kinds.add_parser("depth-scales", help="xi_q, xi_c, |xi_grad| against sigma_w")
    ds.add_argument("activation")
    ds.add_argument("-o", "--output", required=True, metavar="FILE")
    ds.add_argument("--sigma-b", type=finite_float, default=0.3, metavar="X")
    ds.add_argument("--sigma-w", default="0.5:4", metavar="LOW:HIGH")
    ds.add_argument("--points", type=int, default=300)
    ds.set_defaults(run=run_depth_scales)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_USAGE


def _check_output(path: str) -> None:
    """The figure's file, checked before anything is computed."""
    from ..output.plots import check_figure_path

    check_figure_path(path, "--output")


def _save(fig, path: str) -> int:
    from ..output.plots import save

    try:
        written = save(fig, path)
    except OSError as e:  # the checks passed, but the disk or directory changed since
        raise UsageError(f"cannot write {quoted_path(path)}: {e.strerror or e}") from None
    print(f"wrote {written}")
    return EXIT_OK


def run_phase(args: argparse.Namespace) -> int:
    from ..output.plots import phase_diagram

    _check_output(args.output)
    check_workers(args.workers)
    fig = phase_diagram(args.activation, _pair(args.sigma_w, "--sigma-w"),
                        _pair(args.sigma_b, "--sigma-b"), args.resolution, colour=args.colour,
                        scheduler=args.scheduler, workers=args.workers,
                        progress=False if args.no_progress else None)
    return _save(fig, args.output)


def run_cobweb(args: argparse.Namespace) -> int:
    from ..output.plots import cobweb

    _check_output(args.output)
    fig = cobweb(args.activation, args.sigma_w, args.sigma_b, maps=args.maps,
                 start_q=args.start_q, start_c=args.start_c, steps=args.steps,
                 sigma_w2=args.sigma_w2, sigma_b2=args.sigma_b2)
    return _save(fig, args.output)


def run_depth_scales(args: argparse.Namespace) -> int:
    from ..output.plots import depth_scales

    _check_output(args.output)
    fig = depth_scales(args.activation, args.sigma_b, _pair(args.sigma_w, "--sigma-w"),
                       args.points)
    return _save(fig, args.output)
