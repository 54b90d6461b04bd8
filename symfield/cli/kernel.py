"""``symfield kernel``: NNGP and NTK matrices of a small set of inputs at a given depth."""
from __future__ import annotations

import argparse
import json
import sys

import mpmath
import numpy as np

from ..laws.recursion import nngp_ntk
from .common import EXIT_OK, UsageError

MAX_ROWS, MAX_COLUMNS = 2000, 100_000


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
                   help="significant digits (15-100) for certified mpmath matrices; float64 if omitted")
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
                raise UsageError(f"{source}:{lineno}: {t!r} is not a number") from None
            if not np.isfinite(value):
                raise UsageError(f"{source}:{lineno}: {t!r} is not a finite number")
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
    if path == "-":
        return read_vectors(sys.stdin.read(), "<stdin>")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(50_000_000)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file") from None
    return read_vectors(text, path)


def _as_text(M, dps: int | None) -> list[list[str]]:
    if dps is None:
        return [[repr(float(v)) for v in row] for row in np.asarray(M)]
    return [[mpmath.nstr(M[i, j], dps) for j in range(M.cols)] for i in range(M.rows)]


def run_kernel(args: argparse.Namespace) -> int:
    rows = _load(args.inputs)
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
