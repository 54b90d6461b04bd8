"""Entry point of the ``symfield`` command."""
from __future__ import annotations

import importlib
import os
import sys

import numpy as np

from ..errors import SymfieldError
from .common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, OneLineParser, fail, one_line

#: Modules of symfield.cli that add subcommands (each has ``add_parsers(subparsers)``), in
#: the order ``--help`` lists them. A module that does not exist yet is skipped.
COMMAND_MODULES = ("derive", "kernel", "check", "derivations", "simulate", "dynamics", "plot",
                   "learning", "finite_width", "recurrent",
                   "field", "jacobian", "export")


def _command_modules():
    for name in COMMAND_MODULES:
        try:
            yield importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="symfield",
        description="Symbolic mean-field theory of random deep networks: derive laws, "
                    "evaluate them at any precision, check hand calculations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module in _command_modules():
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        # NaN or a zero variance is reported in the output (n/a, a reason), never as numpy's
        # RuntimeWarnings on stderr
        with np.errstate(all="ignore"):
            return args.run(args)
    except SymfieldError as e:
        return fail(str(e) if str(e).strip() else type(e).__name__, EXIT_USAGE)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except MemoryError:
        # sizes are estimated before the work starts; this is what the estimate missed
        return fail("out of memory: the computation needs more memory than is available; "
                    "use smaller sizes", EXIT_USAGE)
    except BrokenPipeError:
        # the reader went away (symfield ... | head): not an error of ours
        import os as _os

        _os.dup2(_os.open(_os.devnull, _os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:  # noqa: BLE001 - last resort: one line, traceback on request
        if os.environ.get("SYMFIELD_DEBUG"):
            raise
        return fail(f"internal error: {type(e).__name__}: {one_line(str(e), 200)} (set "
                    f"SYMFIELD_DEBUG=1 for a traceback)", EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
