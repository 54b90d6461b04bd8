"""``symfield list`` and ``symfield derive``."""
from __future__ import annotations

import argparse
import json

import mpmath
import sympy as sp

from ..activations import activations, get_activation
from ..laws import derive, get_law, laws
from .common import EXIT_OK, UsageError, parse_assignments


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the registered laws and activations")
    p.set_defaults(run=run_list)

    p = sub.add_parser(
        "derive", help="derive a law for an activation (or every law for one activation)",
        description="Derive LAW for ACTIVATION with the Gaussian calculus and print the result. "
                    "With --at NAME=VALUE (repeatable) also print its certified value.")
    p.add_argument("law", nargs="?", help="law name (see 'symfield list')")
    p.add_argument("activation_pos", nargs="?", metavar="activation", help="activation name")
    p.add_argument("--activation", dest="activation_opt", help="activation (all laws if LAW is omitted)")
    p.add_argument("--at", action="append", metavar="NAME=VALUE",
                   help="evaluate at this value (repeat for each variable), e.g. --at q=0.5")
    p.add_argument("--dps", type=int, default=30, help="significant digits of --at values (15-100)")
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
    for name, spec in laws().items():
        print(f"  {name:18s} {spec.title}")
    print("activations:")
    for name, act in activations().items():
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
        return [(name, activation) for name in laws()]
    get_law(args.law)
    return [(args.law, activation)]


def _value_text(value: mpmath.mpf, dps: int) -> str:
    return mpmath.nstr(value, dps) if mpmath.isfinite(value) else str(value)


def run_derive(args: argparse.Namespace) -> int:
    values = parse_assignments(args.at)
    records = []
    for law_name, act_name in _targets(args):
        law = derive(law_name, act_name)
        record = {
            "law": law.name, "activation": law.activation.name,
            "variables": [s.name for s in law.variables], "expr": sp.sstr(law.expr),
            "latex": law.latex(), "closed_form": law.closed_form, "form": law.form,
            "divergence": law.divergence, "convention": law.convention,
        }
        several = args.law is None
        if values:
            relevant = {k: v for k, v in values.items() if k in record["variables"]} \
                if several else values
            needed = [v for v in record["variables"] if v not in law._defaults()]
            # With every law at once, a law is evaluated only if all its variables were given.
            if not several or all(v in relevant for v in needed):
                value = law.evaluate(dps=args.dps, **relevant)
                record.update(value=_value_text(value, args.dps), dps=args.dps, at=relevant)
        records.append((law, record))
    if args.pdf:
        if len(records) != 1:
            raise UsageError("--pdf needs one law and one activation")
        from ..output.pdf import compile_pdf

        print(compile_pdf(records[0][0].latex(document=True), args.pdf))
        return EXIT_OK
    if args.json:
        payload = [r for _l, r in records]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
        return EXIT_OK
    for law, record in records:
        if args.latex:
            print(law.latex(document=args.document))
        else:
            print(law)
            if args.steps:
                print("  derivation:")
                for step in law.derivation:
                    print(f"    {step}")
        if "value" in record:
            at = ", ".join(f"{k}={v}" for k, v in record["at"].items())
            print(f"  value at {at} ({args.dps} digits): {record['value']}")
    return EXIT_OK
