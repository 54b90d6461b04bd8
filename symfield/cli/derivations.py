"""``symfield derivations build|check``: the generated LaTeX documents in derivations/."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..dynamics.storage import check_writable_directory
from ..errors import SymfieldError
from ..output import documents
from .common import EXIT_FAILURE, EXIT_OK, UsageError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("derivations", help="regenerate or check the LaTeX documents in derivations/",
                       description="build: regenerate one document per activation and an "
                                   "overview; check: exit 1 if the files differ from what the "
                                   "engine produces now.")
    p.add_argument("action", choices=("build", "check"))
    p.add_argument("--dir", default="derivations", help="directory (default: derivations)")
    p.add_argument("--pdf", action="store_true", help="with build: also compile PDFs next to them")
    p.set_defaults(run=run_derivations)


def run_derivations(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    if args.action == "check":
        stale = documents.stale(directory)
        if stale:
            print(f"stale: {', '.join(stale)} (run 'symfield derivations build --dir {directory}')")
            return EXIT_FAILURE
        print(f"{directory}: up to date")
        return EXIT_OK
    # the target is checked before minutes of derivations, not after
    try:
        check_writable_directory(directory, "--dir")
    except SymfieldError as e:
        raise UsageError(str(e)) from None
    if args.pdf:
        from ..output.pdf import pdflatex_available

        if not pdflatex_available():
            raise UsageError("--pdf needs pdflatex (Debian: apt-get install texlive-latex-base)")
    for path in documents.build(directory):
        print(path)
        if args.pdf:
            from ..output.pdf import compile_pdf

            compile_pdf(path.read_text(encoding="utf-8"), path.with_suffix(".pdf"))
    return EXIT_OK
