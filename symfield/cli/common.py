"""Shared CLI plumbing: a parser that fails in one line, value parsing, input and output files
checked before any work, exit codes."""
from __future__ import annotations

import argparse
import math
import os
import stat
import sys

from ..dynamics.storage import quoted_path
from ..errors import SymfieldError, quoted
from ..processes import check_workers as bounded_workers

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: A bug in symfield (distinct from 1, which 'symfield check' uses for "not equal").
EXIT_INTERNAL = 70
#: Longest error message printed: whatever an error quotes, the line stays readable.
MAX_MESSAGE_CHARS = 900  # room for the list of valid names (30+ laws, 25+ activations)


class UsageError(SymfieldError):
    """Bad command-line input."""


#: Destinations of the positional that names an activation in the subcommands.
ACTIVATION_DESTS = ("activation", "activation_pos")
#: The option that gives the activation as a formula instead of a name.
PHI_OPTION = "--phi"
_PHI_DEST = "phi_formula"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2.

    A subcommand that takes an activation positionally also gets ``--phi EXPR``: the
    activation as a formula in x (parsed by the safe formula parser when the command looks
    the activation up), given instead of the name."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")

    def add_argument(self, *names, **kwargs):  # type: ignore[override]
        dest = kwargs.get("dest") or (names[0] if names and not names[0].startswith("-") else None)
        if dest not in ACTIVATION_DESTS or getattr(self, "_activation_action", None) is not None:
            return super().add_argument(*names, **kwargs)
        # The name becomes optional here; parse_known_args requires a name or --phi.
        required = kwargs.get("nargs") != "?"
        kwargs["nargs"] = "?"
        action = super().add_argument(*names, **kwargs)
        self._activation_action, self._activation_required = action, required
        super().add_argument(PHI_OPTION, dest=_PHI_DEST, metavar="EXPR",
                             help="the activation as a formula in x instead of a name, e.g. "
                                  "'x*Phi(x)' or 'a*erf(b*x)' (free names are parameters: "
                                  "set them with --at)")
        return action

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed, extras = super().parse_known_args(args, namespace)
        action = getattr(self, "_activation_action", None)
        if action is None:
            return parsed, extras
        formula = getattr(parsed, _PHI_DEST, None)
        named = getattr(parsed, action.dest, None)
        if formula is not None:
            if named is not None or getattr(parsed, "activation_opt", None) is not None:
                self.error(f"give the activation once: a name or {PHI_OPTION} EXPR, not both")
            if not formula.strip():
                self.error(f"{PHI_OPTION} needs a formula in x, e.g. {PHI_OPTION} 'x*Phi(x)'")
            setattr(parsed, action.dest, formula)
        elif named is None and self._activation_required:
            self.error(f"the activation is required: a name (see 'symfield list') or "
                       f"{PHI_OPTION} EXPR, a formula in x such as 'x*Phi(x)'")
        return parsed, extras


def one_line(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """The first line of ``message``, cut to ``limit`` characters."""
    first = message.splitlines()[0] if message.strip() else message
    return first if len(first) <= limit else first[:limit - 3] + "..."


def parse_assignments(items: list[str] | None, option: str = "--at") -> dict[str, str]:
    """``["q=0.5", "sigma_w=1.2"]`` -> {"q": "0.5", "sigma_w": "1.2"} (values stay text)."""
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{option} expects NAME=VALUE, got {quoted(item)}")
        out[name.strip()] = value.strip()
    return out


# ------------------------------------------------------------------------------------------
# argparse types (their messages follow "argument --name: ")
# ------------------------------------------------------------------------------------------
def finite_float(text: str) -> float:
    """A finite float ("nan", "inf" and overflowing numbers such as 1e999 are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {quoted(text)}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {quoted(text)}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {quoted(text)}")
    return value


_BYTE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
               "G": 1 << 30, "GB": 1 << 30, "T": 1 << 40, "TB": 1 << 40}


def byte_size(text: str) -> int:
    """A memory size: bytes, or a number with K, M, G or T (powers of 1024), e.g. 16G."""
    raw = text.strip().upper()
    number = raw.rstrip("KMGTB")
    unit = raw[len(number):]
    try:
        value = float(number) * _BYTE_UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"expected a size such as 16G, 512M or 1000000000 (bytes), got {quoted(text)}"
        ) from None
    if not (math.isfinite(value) and value >= 1):
        raise argparse.ArgumentTypeError(f"expected a positive size, got {quoted(text)}")
    return int(value)


def check_workers(workers: int | None, option: str = "--workers") -> int | None:
    """``--workers`` from 1 to the CPUs available (None: the command's default)."""
    return None if workers is None else bounded_workers(workers, option)


# ------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------
def read_input_file(path: str, option: str, max_bytes: int) -> str:
    """The text of an input file ('-' for stdin), at most ``max_bytes`` bytes of UTF-8.

    Only regular files are read: a FIFO or a device (/dev/zero) would block or never end.
    The file is opened without blocking and checked on the open descriptor."""
    if path == "-":
        text = sys.stdin.read(max_bytes + 1)
        if len(text) > max_bytes:
            raise UsageError(f"{option}: stdin holds more than {max_bytes} bytes")
        return text
    shown = quoted_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise UsageError(f"{option}: cannot read {shown}: {e.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{option}: {shown} is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{option}: {shown} is not a regular file (a pipe or a device); "
                             "give a file, or '-' to read stdin")
        if info.st_size > max_bytes:
            raise UsageError(f"{option}: {shown} is larger than {max_bytes} bytes")
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read(max_bytes + 1)
    except OSError as e:
        raise UsageError(f"{option}: cannot read {shown}: {e.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise UsageError(f"{option}: {shown} is larger than {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{option}: {shown} is not a UTF-8 text file") from None


def check_output_file(path: str | None, option: str) -> str | None:
    """An output file checked before any work: creatable in an existing, writable directory,
    not a directory or a device (None passes through)."""
    if path is None:
        return None
    from ..dynamics.storage import check_writable_file

    try:
        check_writable_file(path, option)
    except SymfieldError as e:
        raise UsageError(str(e)) from None
    return path


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"symfield: error: {one_line(message)}", file=sys.stderr)
    return code
