"""``symfield check``: verify a hand calculation. Exit 0 equal, 1 not equal, 3 undecided."""
from __future__ import annotations

import argparse
import json

from ..verification import verify
from .common import EXIT_FAILURE, EXIT_OK, UsageError, parse_assignments, read_input_file

EXIT_UNDECIDED = 3
MAX_FILE_BYTES = 1_000_000


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="check a formula or a chain of steps (plain math or LaTeX)",
        description="Check CLAIM: an expression compared with --law for --activation, an "
                    "equation 'lhs = rhs', or a chain of steps (one per line, or a .tex file "
                    "with an align block). Exit status: 0 equal, 1 not equal, 3 undecided, "
                    "2 bad input.")
    p.add_argument("claim", nargs="?", help="the claim (quote it); omit with --file")
    p.add_argument("--file", help="read the claim from a file (e.g. a .tex with an align block)")
    p.add_argument("--law", help="compare with this law (see 'symfield list')")
    p.add_argument("--activation", help="the activation phi stands for")
    p.add_argument("--syntax", choices=("auto", "plain", "latex"), default="auto")
    p.add_argument("--assume", action="append", metavar="NAME=VALUE|NAME=LOW:HIGH",
                   help="fix a variable or restrict its range for the comparison")
    p.add_argument("--points", type=int, default=8, help="random points (default 8)")
    p.add_argument("--dps", type=int, default=50, help="digits of the comparison (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_check)


def _assumptions(items: list[str] | None) -> dict[str, object]:
    """NAME=VALUE fixes a variable, NAME=LOW:HIGH restricts its range."""
    out: dict[str, object] = {}
    for name, value in parse_assignments(items, option="--assume").items():
        given = f"{name}={value}"
        if value.startswith("="):
            raise UsageError(f"--assume {given}: write one '=' between the name and the "
                             f"value ({name}={value.lstrip('=').strip()}), or {name}=LOW:HIGH")
        low, colon, high = value.partition(":")
        if colon:
            if not low.strip() or not high.strip() or ":" in high:
                problem = "the low end is missing" if not low.strip() else \
                    "the high end is missing" if not high.strip() else "too many ':'"
                raise UsageError(f"--assume {given}: a range is {name}=LOW:HIGH with two "
                                 f"numbers ({problem})")
            out[name] = (low.strip(), high.strip())
        else:
            out[name] = value
    return out


def _claim_text(args: argparse.Namespace) -> str:
    if args.file and args.claim:
        raise UsageError("give the claim either as an argument or with --file, not both")
    if args.file:
        return read_input_file(args.file, "--file", MAX_FILE_BYTES)
    if args.claim is None:
        raise UsageError("what should be checked? give a CLAIM or --file")
    return args.claim


def run_check(args: argparse.Namespace) -> int:
    verdict = verify(_claim_text(args), law=args.law, activation=args.activation,
                     syntax=args.syntax, points=args.points, dps=args.dps,
                     **_assumptions(args.assume))
    if args.json:
        ce = verdict.counterexample
        print(json.dumps({
            "status": verdict.status, "reason": verdict.reason, "method": verdict.method,
            "digits": verdict.digits, "points": verdict.points, "failed_step": verdict.failed_step,
            "counterexample": None if ce is None else {
                "point": {str(k): str(v) for k, v in ce.point.items()},
                "first": str(ce.value_a.real), "second": str(ce.value_b.real)},
        }, indent=2))
    else:
        print(verdict.reason)
    return {"equal": EXIT_OK, "not_equal": EXIT_FAILURE}.get(verdict.status, EXIT_UNDECIDED)
