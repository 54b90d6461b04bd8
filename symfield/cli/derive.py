"""``symfield list`` and ``symfield derive``."""
from __future__ import annotations

import argparse
import json
import sys

import mpmath
import sympy as sp

from ..activations import get_activation, registered_activations
from ..laws import derive, get_law, registered_laws
from ..errors import SymfieldError
from ..numbers import MAX_DPS, MIN_DPS, check_dps
from .common import (EXIT_OK, EXIT_USAGE, UsageError, check_output_file, one_line,
                     parse_assignments)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the registered laws and activations")
    p.set_defaults(run=run_list)

    p = sub.add_parser(
        "derive", help="derive a law for an activation (or every law for one activation)",
        description="Derive LAW for ACTIVATION with the Gaussian calculus and print the result. "
                    "With --at NAME=VALUE (repeatable) also print its certified value. "
                    "Without LAW, every law of the activation is printed; a law that cannot "
                    "be evaluated at the --at point (outside its domain) gets its reason on "
                    "its own line, and the exit status is 2 only if no value could be shown.")
    p.add_argument("law", nargs="?", help="law name (see 'symfield list')")
    p.add_argument("activation_pos", nargs="?", metavar="activation", help="activation name")
    p.add_argument("--activation", dest="activation_opt", help="activation (all laws if LAW is omitted)")
    p.add_argument("--at", action="append", metavar="NAME=VALUE",
                   help="evaluate at this value (repeat for each variable), e.g. --at q=0.5")
    p.add_argument("--dps", type=int, default=30, help=f"significant digits of --at values ({MIN_DPS}-{MAX_DPS})")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print LaTeX")
    fmt.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--document", action="store_true",
                   help="with --latex: a standalone document with the derivation")
    p.add_argument("--steps", action="store_true", help="print the derivation steps")
    p.add_argument("--pdf", metavar="OUT.pdf",
                   help="compile the derivation to a PDF with pdflatex (one law only)")
    p.set_defaults(run=run_derive)


def run_list(args: argparse.Namespace) -> int:
    print("laws:")
    for name, spec in registered_laws().items():
        print(f"  {name:18s} {spec.title}")
    print("activations:")
    for name, act in registered_activations().items():
        print(f"  {name:18s} {act.description}")
    return EXIT_OK


def _targets(args: argparse.Namespace) -> list[tuple[str, str]]:
    activation = args.activation_pos or args.activation_opt
    if args.activation_pos and args.activation_opt and args.activation_pos != args.activation_opt:
        raise UsageError("give the activation once (positionally or with --activation)")
    if activation is None:
        raise UsageError("which activation? e.g. 'symfield derive chi1 erf' or "
                         "'symfield derive --activation erf'")
    get_activation(activation)
    if args.law is None:
        return [(name, activation) for name in registered_laws()]
    get_law(args.law)
    return [(args.law, activation)]


def _value_text(value: mpmath.mpf, dps: int) -> str:
    return mpmath.nstr(value, dps) if mpmath.isfinite(value) else str(value)


def run_derive(args: argparse.Namespace) -> int:
    """One law: any failure is the one-line error (exit 2). Every law of an activation: a law
    that cannot be derived or evaluated at the --at point (outside its domain, such as the
    curvature fixed point in the ordered phase) gets its reason on its own line and the
    others are printed; the exit status is 0 when at least one law was shown with its value
    (or, without --at, derived), 2 when none could be."""
    values = parse_assignments(args.at)
    if values:
        check_dps(args.dps)  # once, not once per law
    several = args.law is None
    if args.pdf and several:
        raise UsageError("--pdf needs one law and one activation")
    if args.pdf:
        check_output_file(args.pdf, "--pdf")
    records = []
    for law_name, act_name in _targets(args):
        try:
            law = derive(law_name, act_name)
        except SymfieldError as e:
            if not several:
                raise
            records.append((None, {"law": law_name, "activation": act_name,
                                   "error": one_line(str(e))}))
            continue
        record = {
            "law": law.name, "activation": law.activation.name,
            "variables": [s.name for s in law.variables], "expr": sp.sstr(law.expr),
            "latex": law.latex(), "closed_form": law.closed_form, "form": law.form,
            "divergence": law.divergence, "convention": law.convention,
        }
        if values:
            relevant = {k: v for k, v in values.items() if k in record["variables"]} \
                if several else values
            defaults = (law.parameter_defaults() if hasattr(law, "parameter_defaults")
                        else law._defaults())  # the name before the laws' refactoring
            needed = [v for v in record["variables"] if v not in defaults]
            # With every law at once, a law is evaluated only if all its variables were given.
            if not several or all(v in relevant for v in needed):
                try:
                    value = law.evaluate(dps=args.dps, **relevant)
                except SymfieldError as e:
                    if not several:
                        raise
                    record.update(error=one_line(str(e)), dps=args.dps, at=relevant)
                else:
                    record.update(value=_value_text(value, args.dps), dps=args.dps, at=relevant)
        records.append((law, record))
    shown = [r for _l, r in records if "error" not in r]
    evaluated = [r for r in shown if "value" in r]
    attempted = [r for _l, r in records if "at" in r]
    # nothing could be shown: every law failed, or every attempted value did
    nothing = not shown or (attempted and not evaluated)
    if args.pdf:
        from ..output.pdf import compile_pdf

        print(compile_pdf(records[0][0].latex(document=True), args.pdf))
        return EXIT_OK
    code = EXIT_USAGE if nothing else EXIT_OK
    if args.json:
        payload = [r for _l, r in records]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
        return code
    for law, record in records:
        if law is None:
            print(f"{record['law']}[{record['activation']}]: not derived: {record['error']}")
            continue
        if args.latex:
            print(law.latex(document=args.document))
        else:
            print(law)
            if args.steps:
                print("  derivation:")
                for step in law.derivation:
                    print(f"    {step}")
        if "at" in record:
            at = ", ".join(f"{k}={v}" for k, v in record["at"].items())
            if "value" in record:
                print(f"  value at {at} ({args.dps} digits): {record['value']}")
            else:
                print(f"  no value at {at}: {record['error']}")
    if nothing:
        print("symfield: error: no law could be evaluated at these values (reasons above)",
              file=sys.stderr)
    return code
