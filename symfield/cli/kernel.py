"""``symfield kernel``: NNGP and NTK matrices of a small set of inputs at a given depth."""
from __future__ import annotations

import argparse
import json

import mpmath
import numpy as np

from ..dynamics.model import parse_scales
from ..dynamics.storage import quoted_path
from ..errors import quoted
from ..laws.recursion import nngp_ntk
from ..numbers import MAX_DPS, MIN_DPS
from .common import EXIT_OK, UsageError, read_input_file

MAX_ROWS, MAX_COLUMNS = 2000, 100_000
#: Largest input file (a 2000 x 100000 matrix of short numbers is far smaller).
MAX_INPUT_BYTES = 50_000_000
#: Deepest recursion: every layer is a vectorised pass over the m x m matrices (float64).
MAX_DEPTH = 100_000
#: Kernel evaluations of a certified (--dps) run: each is one high-precision law value.
MAX_CERTIFIED_EVALUATIONS = 20_000
#: Matrix entries times layers of a float64 run (about a minute of vectorised work).
MAX_FLOAT64_WORK = 4e9


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "kernel", help="NNGP and NTK matrices of input vectors at depth L",
        description="Read input vectors (one per line; numbers separated by commas or white "
                    "space; '#' starts a comment) and print the NNGP kernel Sigma^L and the "
                    "NTK Theta^L (NTK parameterisation, Sigma^1 = sigma_w^2 x.x'/n0 + sigma_b^2).")
    p.add_argument("activation", help="activation name (see 'symfield list')")
    p.add_argument("--inputs", required=True, metavar="FILE", help="input file ('-' for stdin)")
    p.add_argument("--depth", type=int, required=True, metavar="L", help="depth L >= 1")
    p.add_argument("--sigma-w", default="1", help="weight scale sigma_w (default 1)")
    p.add_argument("--sigma-b", default="0", help="bias scale sigma_b (default 0)")
    p.add_argument("--dps", type=int, default=None,
                   help=f"significant digits ({MIN_DPS}-{MAX_DPS}) for certified mpmath matrices; "
                        "float64 if omitted")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run_kernel)


def read_vectors(text: str, source: str) -> list[list[str]]:
    """Rows of number tokens; every token is checked to be a finite number (never evaluated)."""
    rows = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = [t for t in line.replace(",", " ").replace(";", " ").split() if t]
        for t in tokens:
            try:
                value = float(t)
            except ValueError:
                raise UsageError(f"{source}:{lineno}: {quoted(t)} is not a number") from None
            if not np.isfinite(value):
                raise UsageError(f"{source}:{lineno}: {quoted(t)} is not a finite number")
        rows.append(tokens)
        if len(rows) > MAX_ROWS:
            raise UsageError(f"{source}: more than {MAX_ROWS} input vectors")
    if not rows:
        raise UsageError(f"{source}: no input vectors found")
    width = len(rows[0])
    for i, r in enumerate(rows, start=1):
        if len(r) != width:
            raise UsageError(f"{source}: vector {i} has {len(r)} entries, vector 1 has {width}")
    if width > MAX_COLUMNS:
        raise UsageError(f"{source}: vectors longer than {MAX_COLUMNS} entries")
    return rows


def _load(path: str) -> list[list[str]]:
    text = read_input_file(path, "--inputs", MAX_INPUT_BYTES)
    return read_vectors(text, "<stdin>" if path == "-" else quoted_path(path))


def _check_work(depth: int, rows: int, dps: int | None) -> None:
    """The recursion's size, before it starts: depth, and the work of depth layers on the
    rows x rows matrices."""
    if not 1 <= depth <= MAX_DEPTH:
        raise UsageError(f"--depth must be from 1 to {MAX_DEPTH}, got {depth}")
    if dps is not None:
        evaluations = 2 * (depth - 1) * rows * (rows + 1) // 2
        if evaluations > MAX_CERTIFIED_EVALUATIONS:
            raise UsageError(
                f"--dps with {rows} inputs at depth {depth} needs {evaluations} certified "
                f"kernel evaluations, more than {MAX_CERTIFIED_EVALUATIONS}; use fewer inputs, "
                f"a smaller depth, or float64 (omit --dps)")
    elif float(depth) * rows * rows > MAX_FLOAT64_WORK:
        raise UsageError(f"{rows} inputs at depth {depth} is {float(depth) * rows * rows:.2g} "
                         f"matrix entries to update, more than {MAX_FLOAT64_WORK:.0e}; use fewer "
                         f"inputs or a smaller depth")


def _as_text(M, dps: int | None) -> list[list[str]]:
    if dps is None:
        return [[repr(float(v)) for v in row] for row in np.asarray(M)]
    return [[mpmath.nstr(M[i, j], dps) for j in range(M.cols)] for i in range(M.rows)]


def run_kernel(args: argparse.Namespace) -> int:
    if not 1 <= args.depth <= MAX_DEPTH:  # before reading a large file
        raise UsageError(f"--depth must be from 1 to {MAX_DEPTH}, got {args.depth}")
    parse_scales(args.sigma_w, args.sigma_b)  # the dynamics' bounds: finite and not huge
    rows = _load(args.inputs)
    _check_work(args.depth, len(rows), args.dps)
    exact = args.dps is not None
    inputs = rows if exact else [[float(t) for t in r] for r in rows]
    Sigma, Theta = nngp_ntk(args.activation, inputs, args.depth, args.sigma_w, args.sigma_b,
                            dps=args.dps)
    S, T = _as_text(Sigma, args.dps), _as_text(Theta, args.dps)
    if args.json:
        print(json.dumps({"activation": args.activation, "depth": args.depth,
                          "sigma_w": args.sigma_w, "sigma_b": args.sigma_b,
                          "dps": args.dps, "nngp": S, "ntk": T}, indent=2))
        return EXIT_OK
    for title, M in ((f"NNGP kernel Sigma^{args.depth}", S), (f"NTK Theta^{args.depth}", T)):
        print(title)
        width = max(len(v) for row in M for v in row)
        for row in M:
            print("  " + "  ".join(v.rjust(width) for v in row))
    return EXIT_OK
