"""``symfield recurrent``: a recurrent net with one fixed W against the layered (fresh-weights)
macrodynamics (the work is in :mod:`symfield.laboratory.recurrent`)."""
from __future__ import annotations

import argparse
import json

from .common import EXIT_OK, byte_size, finite_float, positive_float
from .learning import width_list

#: --weights all runs every kind side by side.
_ALL = "all"
#: Amari's microdynamics x(t+1) = sgn(W x(t)), when no activation is named.
DEFAULT_ACTIVATION = "sign"


def add_parsers(sub: argparse._SubParsersAction) -> None:
    from ..laboratory.recurrent import DEFAULT_KAPPA, WEIGHT_KINDS

    p = sub.add_parser(
        "recurrent", help="recurrent net x(t+1) = phi(W x(t) + b) with one fixed W vs the "
                          "layered law",
        description="Run x(t+1) = phi(W x(t) + b) with one W and b for all steps from two "
                    "states of activity 1 and overlap --overlap0, and print per step the "
                    "layered (fresh-weights) law's overlap C_t and activity A_t (the engine's "
                    "overlap and activity maps iterated) against the mean over independent "
                    "trials with its standard error. Without arguments: Amari's "
                    "microdynamics x(t+1) = sgn(W x(t)).")
    p.add_argument("activation", nargs="?", default=None,
                   help="activation name (see 'symfield list'; default sign, Amari's "
                        "x(t+1) = sgn(W x(t)))")
    p.add_argument("--sigma-w", type=finite_float, default=1.0,
                   help="weight scale: W_ij has variance sigma_w^2/n (> 0, at most 1000; "
                        "default 1)")
    p.add_argument("--sigma-b", type=finite_float, default=0.0,
                   help="bias scale sigma_b (0 to 1000; default 0)")
    p.add_argument("--n", type=int, default=2000, help="neurons n (default 2000)")
    p.add_argument("--steps", type=int, default=10, help="time steps T (default 10)")
    p.add_argument("--weights", choices=(_ALL,) + WEIGHT_KINDS, default=_ALL,
                   help="asymmetric (i.i.d.), symmetric ((G + G^T)/sqrt 2), partial "
                        "(symmetry --kappa), fresh (a new W each step: the control), or all "
                        "(default)")
    p.add_argument("--kappa", type=finite_float, default=None,
                   help=f"correlation of W_ij and W_ji for partial weights, 0 to 1 (default "
                        f"{DEFAULT_KAPPA:g})")
    p.add_argument("--overlap0", type=finite_float, default=0.9,
                   help="overlap x.x'/n of the two initial states, -1 to 1 (default 0.9)")
    p.add_argument("--trials", type=int, default=8,
                   help="independent trials (W, b and initial states), at least 2 (default 8: "
                        "the verdict's Student t needs a few degrees of freedom)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--scaling", type=width_list, default=None, metavar="N,N,...",
                   help="instead of one n: the largest deviation over t <= T at these n "
                        "(e.g. 500,1000,2000,4000,8000) and its exponent in n")
    p.add_argument("--plot", metavar="FILE", help="write the figure (C_t, or the scaling)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--max-memory", type=byte_size, metavar="SIZE", default=None,
                   help="memory the weights may use, e.g. 4G (default: 80%% of the memory "
                        "available); larger runs are refused before they start")
    p.add_argument("--max-flops", type=positive_float, metavar="N", default=None,
                   help="floating-point operations allowed (default 1e14); larger runs are "
                        "refused before they start")
    p.set_defaults(run=run_recurrent)


def run_recurrent(args: argparse.Namespace) -> int:
    from ..laboratory.recurrent import WEIGHT_KINDS, recurrent_comparison, recurrent_scaling

    if args.plot:
        from ..output.plots import check_figure_path

        check_figure_path(args.plot, "--plot")
    activation = DEFAULT_ACTIVATION if args.activation is None else args.activation
    kinds = WEIGHT_KINDS if args.weights == _ALL else (args.weights,)
    common = dict(kinds=kinds, overlap0=args.overlap0, trials=args.trials, seed=args.seed,
                  kappa=args.kappa, max_memory=args.max_memory, max_flops=args.max_flops)
    if args.scaling is not None:
        result = recurrent_scaling(activation, args.sigma_w, args.sigma_b,
                                   sizes=args.scaling, steps=args.steps, **common)
    else:
        result = recurrent_comparison(activation, args.sigma_w, args.sigma_b, args.n,
                                      args.steps, **common)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.format())
    if args.plot:
        result.plot(args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return EXIT_OK
