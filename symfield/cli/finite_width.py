"""``symfield finite-width`` and ``symfield criticality``: argument parsing and printing around
:mod:`symfield.dynamics.finite_width` and :mod:`symfield.dynamics.criticality` (no
mathematics here)."""
from __future__ import annotations

import argparse

from ..numbers import MAX_DPS, MIN_DPS
from .common import EXIT_OK, UsageError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "finite-width", help="the 1/n theory layer by layer: q, chi_par, chi_perp, V, K1",
        description="Mean-field variance q^l, susceptibilities chi_par = sigma_w^2 chi0'(q) "
                    "and chi_perp = chi1, four-point vertex V^l (Var[s^l] = V^l/n) and mean "
                    "shift K1^l (E[s^l] = q^l + K1^l/n) for layers 1..depth from q^1 = q0; "
                    "with --width, what networks of that width show (mean and variance of "
                    "the empirical layer variance, excess kurtosis). Values are read exactly "
                    "as typed (0.3 is 3/10).")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--sigma-w", required=True, metavar="X", help="weight scale sigma_w")
    p.add_argument("--sigma-b", default="0", metavar="X", help="bias scale sigma_b (default 0)")
    p.add_argument("--q0", default="1", metavar="X",
                   help="layer-1 variance q^1 = sigma_w^2 |x|^2/n0 + sigma_b^2 (default 1)")
    p.add_argument("--depth", type=int, required=True, metavar="N", help="number of layers")
    p.add_argument("--width", type=int, default=None, metavar="N",
                   help="layer width n for the predictions (equal widths)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--dps", type=int, default=30,
                           help=f"certified digits, {MIN_DPS}-{MAX_DPS} (default 30)")
    precision.add_argument("--float64", action="store_true", help="float64 instead of mpmath")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_finite_width)

    p = sub.add_parser(
        "criticality", help="universality class and critical point of the 1/n theory",
        description="The universality class of an activation (scale-invariant, K*=0, "
                    "half-stable or none), the critical (sigma_w, sigma_b) with chi_par = "
                    "chi_perp = 1, K*, and the large-depth asymptotics of K and V/(K^2 l).")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--dps", type=int, default=30,
                   help=f"certified digits, {MIN_DPS}-{MAX_DPS} (default 30)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_criticality)


def _check_dps(dps: int) -> None:
    if not MIN_DPS <= dps <= MAX_DPS:
        raise UsageError(f"--dps must be from {MIN_DPS} to {MAX_DPS} (got {dps})")


def run_finite_width(args: argparse.Namespace) -> int:
    from ..dynamics.finite_width import finite_width

    if not args.float64:
        _check_dps(args.dps)
    report = finite_width(args.activation, args.sigma_w, args.sigma_b, args.q0, args.depth,
                          width=args.width, dps=None if args.float64 else args.dps)
    print(report.to_json() if args.json else report)
    return EXIT_OK


def run_criticality(args: argparse.Namespace) -> int:
    from ..dynamics.criticality import criticality

    _check_dps(args.dps)
    report = criticality(args.activation, dps=args.dps)
    print(report.to_json() if args.json else report)
    return EXIT_OK
