"""``symfield derivations build|check|site``: the generated LaTeX documents and records in
derivations/, and the HTML site built from the records."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..dynamics.storage import check_writable_directory
from ..errors import SymfieldError
from ..output import documents
from .common import EXIT_FAILURE, EXIT_OK, UsageError, check_workers


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("derivations", help="regenerate or check the LaTeX documents in "
                                            "derivations/, or build the HTML site",
                       description="build: regenerate one document and one record (JSON) per "
                                   "activation and an overview; check: exit 1 if the files "
                                   "differ from what the engine produces now; site: write a "
                                   "static HTML site (KaTeX, offline) from the records.")
    p.add_argument("action", choices=("build", "check", "site"))
    p.add_argument("--dir", default="derivations", help="directory (default: derivations)")
    p.add_argument("--pdf", action="store_true", help="with build: also compile PDFs next to them")
    p.add_argument("-o", "--output", metavar="DIR", help="with site: the site's directory")
    p.add_argument("--activation", dest="activations", action="append", metavar="NAME",
                   help="only this activation (repeatable; default: all): with build, its "
                        "document, record and overview rows (the other rows are kept); with "
                        "check, its document and record; with site, its pages")
    p.add_argument("--workers", type=int, default=None,
                   help="with build and site: worker processes (default: every CPU)")
    p.add_argument("--katex", metavar="DIR",
                   help="with site: a KaTeX release to copy (default: Debian's libjs-katex, "
                        "/usr/share/javascript/katex)")
    p.set_defaults(run=run_derivations)


def _check_options(args: argparse.Namespace) -> None:
    site_only = {"--output": args.output, "--katex": args.katex}
    if args.action == "check" and args.workers is not None:
        raise UsageError("--workers goes with 'symfield derivations build' or 'site'")
    if args.action != "site":
        given = [name for name, value in site_only.items() if value is not None]
        if given:
            raise UsageError(f"{given[0]} goes with 'symfield derivations site'")
    elif args.output is None:
        raise UsageError("site needs the output directory: symfield derivations site -o site/")
    if args.pdf and args.action != "build":
        raise UsageError("--pdf goes with 'symfield derivations build'")


def run_site(args: argparse.Namespace) -> int:
    from ..output.site import build_site

    check_workers(args.workers)
    pages = build_site(args.output, args.dir, only=args.activations,
                       workers=args.workers, katex=args.katex)
    activations = sum(page.parent == pages[0].parent for page in pages[1:])
    print(f"{pages[0]} ({activations} activation pages, {len(pages) - 1 - activations} law "
          f"pages)")
    return EXIT_OK


def run_derivations(args: argparse.Namespace) -> int:
    _check_options(args)
    if args.action == "site":
        return run_site(args)
    directory = Path(args.dir)
    if args.action == "check":
        stale = documents.stale(directory, only=args.activations)
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
    check_workers(args.workers)
    for path in documents.build(directory, only=args.activations, workers=args.workers):
        print(path)
        if args.pdf:
            from ..output.pdf import compile_pdf

            compile_pdf(path.read_text(encoding="utf-8"), path.with_suffix(".pdf"))
    return EXIT_OK
