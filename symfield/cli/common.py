"""Shared CLI plumbing: a parser that fails in one line, value parsing, exit codes."""
from __future__ import annotations

import argparse
import sys

from ..errors import SymfieldError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: A bug in symfield (distinct from 1, which 'symfield check' uses for "not equal").
EXIT_INTERNAL = 70


class UsageError(SymfieldError):
    """Bad command-line input."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_assignments(items: list[str] | None, option: str = "--at") -> dict[str, str]:
    """``["q=0.5", "sigma_w=1.2"]`` -> {"q": "0.5", "sigma_w": "1.2"} (values stay text)."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{option} expects NAME=VALUE, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"symfield: error: {message}", file=sys.stderr)
    return code
