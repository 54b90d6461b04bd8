"""The command line both example scripts share: --quick and -o FILE, checked first."""
from __future__ import annotations

import argparse
from pathlib import Path

import symfield


def figure_arguments(doc: str, default_output: Path, quick_help: str,
                     argv: list[str] | None) -> tuple[argparse.Namespace, Path]:
    """Parse --quick and -o; a bad output path is one line on stderr and exit status 2."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("-o", "--output", default=str(default_output), help="figure file")
    args = parser.parse_args(argv)
    try:
        path = symfield.plot.check_figure_path(args.output)
    except symfield.SymfieldError as error:
        parser.error(str(error))
    return args, path
