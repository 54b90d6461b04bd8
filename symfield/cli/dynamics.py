"""``symfield fixed-point``, ``symfield critical`` and ``symfield sweep``: argument parsing
and printing around :mod:`symfield.dynamics` (no mathematics here)."""
from __future__ import annotations

import argparse
import json
import sys

from ..errors import quoted
from ..numbers import MAX_DPS, MIN_DPS
from .common import EXIT_OK, UsageError, check_output_file, check_workers


def _add_scales(p: argparse.ArgumentParser, need_w: bool = True) -> None:
    if need_w:
        w = p.add_mutually_exclusive_group(required=True)
        w.add_argument("--sigma-w", metavar="X", help="weight scale sigma_w (e.g. 2.5)")
        w.add_argument("--sigma-w2", metavar="X", help="sigma_w^2 instead (e.g. 2 or 3/2)")
    b = p.add_mutually_exclusive_group()
    b.add_argument("--sigma-b", metavar="X", help="bias scale sigma_b (default 0)")
    b.add_argument("--sigma-b2", metavar="X", help="sigma_b^2 instead (e.g. 0.05 or 1/4)")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fixed-point", help="fixed points, stability, depth scales and phase",
        description="q*, A*, chi1, chi2, V'(q*), c*, chi_c, depth scales xi_q, xi_c, xi_grad, "
                    "D* and the curvature fixed point at (sigma_w, sigma_b), with the phase. "
                    "Numbers are verified by recomputation at a higher precision. Values are "
                    "read exactly as typed (0.3 is 3/10).")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    _add_scales(p)
    p.add_argument("--dps", type=int, default=30, help=f"significant digits, {MIN_DPS}-{MAX_DPS} (default 30)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes computing the report's integrals side by side (default 1, "
                        "at most the CPU count)")
    p.add_argument("--proven", action="store_true",
                   help="also prove q*, chi1 at q* and c* in ball arithmetic (Krawczyk's "
                        "test on the length map, then on the correlation map; seconds to a "
                        "minute for integral and series forms)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_fixed_point)

    p = sub.add_parser(
        "critical", help="the edge of chaos: critical sigma_w at a given sigma_b",
        description="sigma_w on the edge of chaos chi1(q*) = 1 at the given sigma_b "
                    "(default 0), and the critical set as derived (a point or a curve in q*).")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    _add_scales(p, need_w=False)
    p.add_argument("--dps", type=int, default=30, help=f"significant digits, {MIN_DPS}-{MAX_DPS} (default 30)")
    p.add_argument("--proven", action="store_true",
                   help="also prove q*, sigma_w^2 and sigma_w in ball arithmetic (Krawczyk's "
                        "test on sigma_b^2(q*) = sigma_b^2; seconds for integral and series "
                        "forms)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_critical)

    p = sub.add_parser(
        "sweep", help="fixed-point quantities or laws over a grid (local or Dask)",
        description="Evaluate quantities over the product grid of the axes, in chunks on local "
                    "processes or a Dask cluster (--scheduler tcp://host:8786). Ranges are "
                    "START:STOP:NUM (inclusive) or comma lists. With --output the table is "
                    "written atomically (CSV, or Parquet for .parquet) with JSON metadata "
                    "next to it; an interrupted sweep resumes from its finished chunks.")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--quantities", default="q_star,chi1,xi_c,phase",
                   help="comma list: fixed-point quantities (q_star, A_star, chi1, chi2, "
                        "length_slope, c_star, chi_c, xi_q, xi_c, xi_grad, D_star, "
                        "kappa2_star, phase) or law names (default q_star,chi1,xi_c,phase)")
    p.add_argument("--sigma-w", metavar="RANGE", help="sigma_w axis, e.g. 0.5:4:200")
    p.add_argument("--sigma-b", metavar="RANGE", help="sigma_b axis, e.g. 0:1:200")
    p.add_argument("--axis", action="append", metavar="NAME=RANGE",
                   help="another axis (law variables such as q or c), repeatable")
    p.add_argument("--dps", type=int, default=None,
                   help=f"verified digits ({MIN_DPS}-{MAX_DPS}) point by point; float64 if "
                        "omitted")
    p.add_argument("-o", "--output", metavar="FILE", help="table to write (.csv or .parquet)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes, 1 to the CPU count (default: the CPU count)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="points per task")
    p.add_argument("--restart", action="store_true",
                   help="discard the partial results of an earlier run instead of resuming")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(run=run_sweep)


def _check_dps(dps) -> None:
    """The library's bounds, checked before anything is derived."""
    if dps is not None and not MIN_DPS <= dps <= MAX_DPS:
        raise UsageError(f"--dps must be from {MIN_DPS} to {MAX_DPS} (got {dps})")


def run_fixed_point(args: argparse.Namespace) -> int:
    from ..dynamics import fixed_point

    _check_dps(args.dps)
    check_workers(args.workers)
    report = fixed_point(args.activation, args.sigma_w, args.sigma_b, args.dps,
                         sigma_w2=args.sigma_w2, sigma_b2=args.sigma_b2, workers=args.workers,
                         proven=args.proven)
    print(report.to_json() if args.json else report)
    return EXIT_OK


def run_critical(args: argparse.Namespace) -> int:
    from ..dynamics import critical_point, edge_of_chaos

    _check_dps(args.dps)
    point = critical_point(args.activation, args.sigma_b, args.dps, sigma_b2=args.sigma_b2,
                           proven=args.proven)
    if args.json:
        out = point.as_dict()
        eoc = edge_of_chaos(args.activation)
        out["edge_of_chaos"] = {"kind": eoc.kind, "sigma_w2": str(eoc.sigma_w2),
                                "sigma_b2": str(eoc.sigma_b2),
                                "limit_q0": None if eoc.limit is None else
                                [str(v) for v in eoc.limit]}
        print(json.dumps(out, indent=2))
    else:
        print(point)
    return EXIT_OK


def _axes(args: argparse.Namespace) -> dict[str, list[str]]:
    from ..dynamics.sweeps import linspace_axis

    axes: dict[str, list[str]] = {}
    if args.sigma_w:
        axes["sigma_w"] = linspace_axis(args.sigma_w)
    if args.sigma_b:
        axes["sigma_b"] = linspace_axis(args.sigma_b)
    for item in args.axis or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"--axis expects NAME=RANGE, got {quoted(item)}")
        if name.strip() in axes:
            raise UsageError(f"axis {quoted(name.strip())} given twice")
        axes[name.strip()] = linspace_axis(value)
    return axes


def run_sweep(args: argparse.Namespace) -> int:
    from ..dynamics import sweep

    _check_dps(args.dps)
    check_workers(args.workers)
    check_output_file(args.output, "--output")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise UsageError(f"--chunk-size must be >= 1, got {args.chunk_size}")
    quantities = [q.strip() for q in args.quantities.split(",") if q.strip()]
    result = sweep(args.activation, quantities, _axes(args), dps=args.dps, output=args.output,
                   scheduler=args.scheduler, workers=args.workers, chunk_size=args.chunk_size,
                   progress=False if args.no_progress else None, resume=not args.restart)
    meta = result.metadata
    where = f" -> {result.path} (+ {result.path.with_suffix('.json').name})" if result.path \
        else ""
    print(f"{meta.get('activation')}: {meta.get('grid', {}).get('points')} points, "
          f"{', '.join(quantities)}; {meta.get('executor')}; "
          f"{meta.get('elapsed_seconds')} s{where}")
    if result.path is None:
        names = list(result.columns)
        print(",".join(names))
        for row in zip(*(result.columns[n] for n in names)):
            print(",".join(repr(v) if isinstance(v, float) else str(v) for v in row))
    sys.stdout.flush()
    return EXIT_OK
