"""``symfield simulate``: predicted vs measured per-layer statistics of sampled networks."""
from __future__ import annotations

import argparse
import sys

from ..errors import InvalidValueError
from .common import (EXIT_OK, byte_size, check_output_file, finite_float,
                     positive_float)

#: Networks at least this large (width^2 x depth x replicas) show a progress bar by default.
_PROGRESS_WORK = 2e8


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate", help="compare the laws with finite random networks, layer by layer",
        description="Sample independent random networks and print, per layer, the predicted "
                    "and measured q, c, metric factor, curvature and domino diagonal / "
                    "off-diagonal (estimate +- standard error over networks).")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--sigma-w", type=finite_float, required=True,
                   help="weight scale sigma_w (> 0, at most 1000)")
    p.add_argument("--sigma-b", type=finite_float, required=True,
                   help="bias scale sigma_b (0 to 1000)")
    p.add_argument("--width", type=int, default=1024, help="layer width n (default 1024)")
    p.add_argument("--depth", type=int, default=10, help="number of layers L (default 10)")
    p.add_argument("--replicas", type=int, default=16,
                   help="independent networks R (default 16); the standard errors come from "
                        "their spread, so few replicas give unreliable errors")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--directions", type=int, default=4,
                   help="tangent (coordinate) directions for metric and domino (default 4)")
    p.add_argument("--q0", type=finite_float, default=1.0,
                   help="input mean square |x|^2/n (default 1)")
    p.add_argument("--c0", type=finite_float, default=0.5,
                   help="correlation of the two inputs for c (default 0.5)")
    p.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    p.add_argument("--plot", metavar="FILE", help="write a PNG plot (needs matplotlib)")
    p.add_argument("--max-memory", type=byte_size, metavar="SIZE", default=None,
                   help="memory the networks may use, e.g. 16G (default: 80%% of the memory "
                        "available); larger runs are refused before they start")
    p.add_argument("--max-flops", type=positive_float, metavar="N", default=None,
                   help="floating-point operations allowed (default 1e14, hours of "
                        "computing); larger runs are refused before they start")
    progress = p.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="always show the progress bar on stderr")
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show the progress bar")
    p.set_defaults(run=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    from ..laboratory import simulate
    from ..laboratory.progress import Progress

    if args.seed < 0:
        raise InvalidValueError(f"--seed must be >= 0, got {args.seed}")
    check_output_file(args.csv, "--csv")
    if args.plot:
        from ..output.plots import check_figure_path

        check_figure_path(args.plot, "--plot")
    show = args.progress
    if show is None:
        work = float(args.width) ** 2 * max(args.depth, 1) * max(args.replicas, 1)
        show = sys.stderr.isatty() or work >= _PROGRESS_WORK
    bar = Progress(args.replicas, "networks", enabled=show)
    try:
        table = simulate(args.activation, args.sigma_w, args.sigma_b, args.width, args.depth,
                         replicas=args.replicas, seed=args.seed, directions=args.directions,
                         q0=args.q0, c0=args.c0, progress=bar.update,
                         max_memory=args.max_memory, max_flops=args.max_flops)
    finally:
        if bar.done:
            bar.close()
    print(table.format())
    if args.csv:
        _write(lambda: table.to_csv(args.csv), args.csv)
        print(f"wrote {args.csv}")
    if args.plot:
        from ..laboratory.plot import plot_table

        _write(lambda: plot_table(table, args.plot), args.plot)
        print(f"wrote {args.plot}")
    return EXIT_OK


def _write(action, path: str) -> None:
    try:
        action()
    except OSError as e:
        raise InvalidValueError(f"cannot write {path}: {e.strerror or e}") from None
