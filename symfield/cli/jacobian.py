"""``symfield jacobian``: the singular-value spectrum of the input-output Jacobian at the fixed
point, the dynamical-isometry verdict, and optionally a sampled check and a figure (the work is
in :mod:`symfield.dynamics.spectrum` and :mod:`symfield.laboratory.spectrum`)."""
from __future__ import annotations

import argparse
import json

import mpmath

from ..errors import InvalidValueError
from ..numbers import MIN_DPS
from .common import EXIT_OK, UsageError, positive_float

WEIGHTS = ("gaussian", "orthogonal")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "jacobian", help="spectrum of the input-output Jacobian J J^T (dynamical isometry)",
        description="Moments m1, m2, m3 of the eigenvalues of J J^T, J = D_L W_L ... D_1 W_1 at "
                    "the fixed point q*, from free probability (S-transforms) and the derived "
                    "moments E[phi'(u)^2k]; the spread m2/m1^2 - 1, the support edge of the "
                    "density, the dynamical-isometry verdict and, with --check, the same moments "
                    "measured on sampled networks.")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--sigma-w", required=True, help="weight scale sigma_w (> 0)")
    p.add_argument("--sigma-b", default="0", help="bias scale sigma_b (default 0)")
    p.add_argument("--depth", type=int, required=True, help="layers L in J (>= 1)")
    p.add_argument("--weights", default="gaussian",
                   help="weight ensemble: gaussian (default) or orthogonal (Haar)")
    p.add_argument("--dps", type=int, default=None,
                   help=f"significant digits of the moments (15-100; default {MIN_DPS})")
    p.add_argument("--threshold", type=positive_float, default=None,
                   help="also report the depth at which m2/m1^2 - 1 first exceeds this")
    p.add_argument("--m3", action="store_true",
                   help="also the third moment (derives E[phi'^6]; seconds for tanh)")
    p.add_argument("--check", type=int, default=None, metavar="WIDTH",
                   help="also sample networks of this width (16-2048) and compare the moments")
    p.add_argument("--networks", type=int, default=8,
                   help="sampled networks of the check (default 8)")
    p.add_argument("--seed", type=int, default=0, help="root seed of the check (default 0)")
    p.add_argument("--plot", metavar="FILE",
                   help="write the density (with --check: over the sampled histogram)")
    p.add_argument("--latex", action="store_true",
                   help="print the derivation (S-transforms to moments) as LaTeX")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_jacobian)


def run_jacobian(args: argparse.Namespace) -> int:
    from ..dynamics.spectrum import check_weights, dynamical_isometry, jacobian_spectrum

    if args.latex and args.json:
        raise UsageError("--latex and --json print different things: give one of them")
    weights = check_weights(args.weights)
    if args.plot:
        from ..output.plots import check_figure_path

        check_figure_path(args.plot, "--plot")
    report = jacobian_spectrum(args.activation, args.sigma_w, args.sigma_b, args.depth,
                               weights=weights, dps=args.dps)
    verdict = dynamical_isometry(args.activation, weights)
    check = None
    if args.check is not None:
        from ..laboratory.spectrum import check_jacobian_spectrum

        check = check_jacobian_spectrum(args.activation, args.sigma_w, args.sigma_b, args.depth,
                                        weights, width=args.check, networks=args.networks,
                                        seed=args.seed, prediction=report)
    extra = {}
    if args.m3 or check is not None:
        extra["m3"] = mpmath.nstr(report.m3, report.dps)
    try:
        extra["support_edge"] = report.support_edge
        extra["lower_edge"] = report.lower_edge
        extra["atom_at_zero"] = report.atom_at_zero
    except InvalidValueError as error:  # float64 cannot hold the scale; the moments stand
        if args.plot:
            raise
        extra["support_edge"] = extra["lower_edge"] = extra["atom_at_zero"] = None
        extra["density"] = f"n/a: {error}"
    if args.threshold is not None:
        extra["spread_depth"] = report.spread_depth(args.threshold)
    if args.latex:
        print(report.latex())
    elif args.json:
        out = report.as_dict() | extra | {
            "isometry": {"achievable": verdict.achievable, "reason": verdict.reason}}
        if check is not None:
            out["check"] = {"width": check.width, "networks": check.networks, "moments": [
                {"order": k, "mean": check.sampled(k)[0], "standard_error": check.sampled(k)[1],
                 "predicted": check.predicted(k), "agrees": check.agrees(k)} for k in (1, 2, 3)]}
        print(json.dumps(out, indent=2))
    else:
        print(report)
        for name, value in extra.items():
            print(f"  {name:<12} {value}")
        answer = {True: "yes", False: "no", None: "undecided"}[verdict.achievable]
        print(f"  dynamical isometry ({weights} weights): {answer} - {verdict.reason}")
        if check is not None:
            print(check)
    if args.plot:
        from ..output.plots import save
        from ..output.spectrum_plot import jacobian_spectrum as figure

        save(figure(args.activation, sampled=check, spectrum=report), args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return EXIT_OK
