"""``symfield fisher`` and ``symfield lazy``: Fisher statistics of random networks and the
lazy (NTK) regime of trained ones (the work is in :mod:`symfield.learning`)."""
from __future__ import annotations

import argparse
import json

from ..errors import quoted
from ..numbers import MAX_DPS, MIN_DPS
from .common import EXIT_OK, UsageError, finite_float, positive_float, read_input_file

#: Longest list of widths on the command line.
MAX_WIDTHS = 64


def width_list(text: str) -> list[int]:
    """'64,128,256' -> [64, 128, 256] (positive integers)."""
    parts = [p.strip() for p in text.split(",")]
    if not 1 <= len(parts) <= MAX_WIDTHS or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated widths such as 64,128,256 "
                                         f"(1 to {MAX_WIDTHS} of them), got {quoted(text)}")
    values = []
    for p in parts:
        if not p.isdigit() or len(p) > 15:
            raise argparse.ArgumentTypeError(f"widths must be integers >= 1, got {quoted(p)}")
        values.append(int(p))
    if min(values) < 1:
        raise argparse.ArgumentTypeError(f"widths must be integers >= 1, got {quoted(text)}")
    return values


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fisher", help="Fisher information statistics of a random network (and a sampled check)",
        description="Mean m_lambda, second moment s_lambda and largest eigenvalue lambda_max of "
                    "the Fisher information of a random network (standard parameterisation, "
                    "linear outputs, inputs N(0, q_in I)) from the engine's laws, the order "
                    "parameters per layer and the learning-rate bound 2/lambda_max. With "
                    "--check, the same statistics measured exactly on finite random networks.")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--sigma-w", required=True, help="weight scale sigma_w (> 0, at most 1000)")
    p.add_argument("--sigma-b", required=True, help="bias scale sigma_b (0 to 1000)")
    p.add_argument("--widths", type=width_list, required=True, metavar="N0,N1,...",
                   help="input dimension and hidden widths n_0,n_1,...,n_{L-1}")
    p.add_argument("--outputs", type=int, default=1, help="linear outputs C (default 1)")
    p.add_argument("--q-in", default="1", help="input variance q_in (default 1)")
    p.add_argument("--samples", type=int, default=None, metavar="T",
                   help="empirical Fisher over T inputs (default: the input distribution, "
                        "T -> oo; 64 with --check)")
    p.add_argument("--inputs", metavar="FILE",
                   help="a data set instead of N(0, q_in I) inputs: one input vector of n_0 "
                        "numbers per line ('-' for stdin); the Gram matrix of per-example "
                        "gradients is predicted pair by pair and T is the number of inputs")
    p.add_argument("--dps", type=int, default=None,
                   help=f"significant digits ({MIN_DPS}-{MAX_DPS}) of certified numbers; float64 "
                        "if omitted")
    p.add_argument("--check", type=width_list, default=None, metavar="N,N,...",
                   help="also measure finite networks with these hidden widths (same depth, "
                        "input dimension n_0 and outputs)")
    p.add_argument("--replicas", type=int, default=8,
                   help="networks per width of the check (default 8)")
    p.add_argument("--seed", type=int, default=0, help="root seed of the check (default 0)")
    p.add_argument("--plot", metavar="FILE", help="with --check: write the spectrum figure")
    p.add_argument("--latex", action="store_true",
                   help="print the laws with their derivations and the numbers as a LaTeX "
                        "document (instead of the summary)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_fisher)

    p = sub.add_parser(
        "lazy", help="train finite networks and measure the lazy (NTK) regime across widths",
        description="Train networks of each width by full-batch gradient descent on a small "
                    "regression task and fit, across widths, the exponents of the weight "
                    "change, the kernel change, the initial kernel's distance to the engine's "
                    "NTK and the trained function's distance to the NTK prediction.")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--sigma-w", required=True, help="weight scale sigma_w (> 0, at most 1000)")
    p.add_argument("--sigma-b", required=True, help="bias scale sigma_b (0 to 1000)")
    p.add_argument("--widths", type=width_list, default=[64, 128, 256, 512, 1024],
                   metavar="N,N,...", help="hidden widths (default 64,128,256,512,1024)")
    p.add_argument("--depth", type=int, default=2,
                   help="weight layers: depth - 1 hidden layers and a linear output (default 2)")
    p.add_argument("--n-train", type=int, default=32, help="training points (default 32)")
    p.add_argument("--n-test", type=int, default=32, help="test points (default 32)")
    p.add_argument("--steps", type=int, default=None,
                   help="at most this many gradient steps (default: until the target loss)")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate for every width (default: a fraction of 2/lambda_max "
                        "of each network's initial NTK Gram)")
    p.add_argument("--lr-fraction", type=finite_float, default=0.5,
                   help="the default learning rate's fraction of 2/lambda_max (default 0.5)")
    p.add_argument("--target-loss", type=finite_float, default=1e-3,
                   help="stop at this fraction of the initial training loss (default 1e-3)")
    p.add_argument("--parameterization", choices=("ntk", "standard", "mean_field"),
                   default="ntk", help="where the weights' scale sits (default ntk)")
    p.add_argument("--replicas", type=int, default=3, help="seeds per width (default 3)")
    p.add_argument("--input-dim", type=int, default=4, help="input dimension (default 4)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--max-flops", type=positive_float, default=None, metavar="N",
                   help="floating-point operations allowed (default 2e12)")
    p.add_argument("--plot", metavar="FILE", help="write the log-log scaling figure")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_lazy)


def _check_plot(path: str | None) -> None:
    if path:
        from ..output.plots import check_figure_path

        check_figure_path(path, "--plot")


def run_fisher(args: argparse.Namespace) -> int:
    from ..learning import check_fisher_statistics, fisher_statistics

    if args.plot and args.check is None:
        raise UsageError("--plot draws the sampled spectrum: give --check widths too")
    if args.latex and (args.json or args.check is not None):
        raise UsageError("--latex prints the laws of the statistics: it cannot be combined "
                         "with --json or --check")
    _check_plot(args.plot)
    inputs = None
    if args.inputs is not None:
        if args.check is not None or args.samples is not None:
            raise UsageError("--inputs fixes the inputs and their number: it cannot be combined "
                             "with --check or --samples")
        inputs = _read_inputs(args.inputs, exact=args.dps is not None)
    samples = args.samples if args.samples is not None or args.check is None else 64
    report = fisher_statistics(args.activation, args.sigma_w, args.sigma_b, args.widths,
                               outputs=args.outputs, q_in=args.q_in, dps=args.dps,
                               samples=samples, inputs=inputs)
    check = None
    if args.check is not None:
        check = check_fisher_statistics(
            args.activation, args.sigma_w, args.sigma_b, widths=args.check,
            depth=len(args.widths), input_dim=args.widths[0], outputs=args.outputs,
            samples=samples, q_in=args.q_in, replicas=args.replicas, seed=args.seed)
    if args.latex:
        print(report.latex())
    elif args.json:
        out = report.as_dict()
        if check is not None:
            out["check"] = [{"width": row.width, "widths": list(row.widths),
                             **{name: {"mean": e.mean, "standard_error": e.standard_error,
                                       "law": e.prediction}
                                for name, e in row.estimates.items()}} for row in check.rows]
        print(json.dumps(out, indent=2))
    else:
        print(report.format())
        if check is not None:
            print(check.format())
    if args.plot:
        check.plot(args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return EXIT_OK


def run_lazy(args: argparse.Namespace) -> int:
    from ..learning import lazy_training

    _check_plot(args.plot)
    report = lazy_training(
        args.activation, args.sigma_w, args.sigma_b, widths=args.widths, depth=args.depth,
        n_train=args.n_train, n_test=args.n_test, steps=args.steps, lr=args.lr,
        parameterization=args.parameterization, seed=args.seed, replicas=args.replicas,
        input_dim=args.input_dim, target_loss=args.target_loss, lr_fraction=args.lr_fraction,
        max_flops=args.max_flops)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.format())
    if args.plot:
        report.plot(args.plot)
        if not args.json:
            print(f"wrote {args.plot}")
    return EXIT_OK


def _read_inputs(path: str, exact: bool) -> list[list]:
    """The data set's rows: number tokens checked by ``symfield kernel``'s reader (never
    evaluated), as floats, or as text read exactly for certified numbers."""
    from ..dynamics.storage import quoted_path
    from .kernel import MAX_INPUT_BYTES, read_vectors

    text = read_input_file(path, "--inputs", MAX_INPUT_BYTES)
    rows = read_vectors(text, "<stdin>" if path == "-" else quoted_path(path))
    return rows if exact else [[float(t) for t in row] for row in rows]
