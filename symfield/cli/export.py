"""``symfield export LAW ACTIVATION --lang c|numpy|jax|torch -o FILE``: a derived law as
standalone source code (``symfield.gaussian.numerics.codegen``)."""
from __future__ import annotations

import argparse

from ..activations import get_activation
from ..errors import quoted
from ..gaussian.numerics.codegen import LANGUAGES, check_language
from ..laws import derive, get_law
from .common import EXIT_OK, UsageError, check_output_file


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="write a derived law as C, numpy, JAX or PyTorch source",
        description="Write LAW for ACTIVATION as standalone source: a C function double "
                    "symfield_<law>_<activation>(double ...) of the law's variables in order, "
                    "or a Python module (numpy, jax, torch) with the same function of arrays. "
                    "Closed forms and Faddeeva pole series can be exported; exact "
                    "expectations and depth recursions cannot (the error says why).")
    p.add_argument("law", help="law name (see 'symfield list')")
    p.add_argument("activation", help="activation name")
    p.add_argument("--lang", required=True, metavar="|".join(LANGUAGES),
                   help=f"output language: {', '.join(LANGUAGES)}")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    p.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    # every input is checked before the derivation starts
    check_language(args.lang)
    get_law(args.law)
    get_activation(args.activation)
    check_output_file(args.output, "-o")
    source = derive(args.law, args.activation).to_source(args.lang)
    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(source)
    except OSError as e:
        raise UsageError(f"cannot write -o {quoted(args.output)}: {e.strerror}") from None
    print(f"{args.output}: {args.law} for {args.activation} ({args.lang})")
    return EXIT_OK


__all__ = ["add_parsers", "run_export"]
