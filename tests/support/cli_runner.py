"""Run the command line in-process for the CLI tests."""
from __future__ import annotations

from symfield.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) in-process: (exit code, stdout, stderr). argparse exits become codes."""
    try:
        code = main(list(argv))
    except SystemExit as e:  # --help and argparse usage errors
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err
