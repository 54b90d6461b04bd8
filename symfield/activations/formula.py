"""Activations typed as formulas: ``x*Phi(x)``, ``a*erf(b*x) + c``, ``tanh(softplus(x))``.

The text goes through the verifier's safe parser (``symfield.verification.plain``: ``ast.parse`` and
a whitelist walk that builds SymPy objects; nothing is evaluated). The only difference from a
verifier formula is what a name means: ``x`` is the activation's variable, ``pi`` and ``E``
are constants, the functions are the verifier's (plus Phi, sigmoid, softplus, relu, log1p),
and any other name is a parameter of the activation (a real symbol, unless the caller
declares it positive). A parameter named like a variable of the laws (q, c, rho, ...) is
renamed ``<name>_phi``, so ``a*erf(b*x) + c`` does not collide with the correlation c.

Sizes are bounded before any work: the text, the syntax tree, the number of parameters and
the polynomial degree in x (high moments cost the calculus time).
"""
from __future__ import annotations

import ast
import re
from typing import Iterable

import sympy as sp

from ..errors import InvalidValueError, quoted
from ..symbols import CANONICAL
from .base import x

#: Longest formula accepted.
MAX_FORMULA_CHARS = 400
#: Most syntax nodes in a formula.
MAX_FORMULA_NODES = 300
#: Most parameters (names other than x, pi, E) in a formula.
MAX_PARAMETERS = 8
#: Highest polynomial degree in x (a power of x, or of a function of x, counts).
MAX_DEGREE = 12

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
#: Constants a formula may name.
_CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}
#: The suffix of a parameter renamed away from a law variable.
RENAMED_SUFFIX = "_phi"


def parameter_name(name: str) -> str:
    """The name a formula parameter gets: ``c`` -> ``c_phi`` (c is the correlation)."""
    return name + RENAMED_SUFFIX if name in CANONICAL else name


def parse_formula(text: object, positive: Iterable[str] = ()) -> tuple[sp.Expr, dict[str, sp.Symbol]]:
    """phi(x) and its parameters ({name: symbol}) from a formula; ParseError (a
    SymfieldError) with a one-line message for anything else."""
    from ..verification import build, limits, plain
    from ..verification.claims import check_characters
    from ..verification.errors import ParseError, quote

    if not isinstance(text, str):
        raise InvalidValueError(f"an activation formula must be text (got {quoted(text)})")
    if len(text) > MAX_FORMULA_CHARS:
        raise ParseError(f"the activation formula has {len(text)} characters (limit "
                         f"{MAX_FORMULA_CHARS})")
    cleaned = check_characters(text, "plain").strip()
    if not cleaned:
        raise ParseError("the activation formula is empty; write phi in x, e.g. x*Phi(x)")
    if "=" in cleaned:
        raise ParseError("an activation formula is an expression in x, without '=' "
                         "(e.g. x*Phi(x))")
    source = plain.prepare(cleaned)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ParseError(f"syntax error{where} in {quote(cleaned)}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("the activation formula cannot be read (too deeply nested?)") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_FORMULA_NODES:
        raise ParseError(f"the activation formula is too large ({nodes} syntax nodes; limit "
                         f"{MAX_FORMULA_NODES})")
    wanted_positive = set(positive)
    symbols: dict[str, sp.Symbol] = {}

    class Walker(plain._Walker):  # noqa: SLF001 - the verifier's walker, with our names
        def build(self, node: ast.AST, depth: int) -> sp.Expr:
            if depth > limits.MAX_TREE_DEPTH:
                raise ParseError(f"the formula is nested too deeply (limit {limits.MAX_TREE_DEPTH})")
            if isinstance(node, ast.Name):
                return self._name(node.id)
            if isinstance(node, ast.Subscript):
                raise ParseError("expectations E[...] have no place in an activation; write "
                                 "phi as a formula in x")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in build.ACTIVATION_NAMES:
                raise ParseError(f"{node.func.id} is the activation itself; write phi as a "
                                 f"formula in x, e.g. x*Phi(x)")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id not in _CONSTANTS and build.function_spec(node.func.id) is None \
                    and node.func.id != "E":
                raise ParseError(f"unknown function {quote(node.func.id)}; valid functions: "
                                 f"{valid_functions()}")
            return super().build(node, depth)

        @staticmethod
        def _name(name: str) -> sp.Expr:
            if name == "x":
                return x
            if name in _CONSTANTS:
                return _CONSTANTS[name]
            if name.startswith("_") or not _NAME.match(name):
                raise ParseError(f"the name {quote(name)} is not allowed (names start with a "
                                 f"letter)")
            if build.function_spec(name) is not None or name in build.ACTIVATION_NAMES:
                raise ParseError(f"{name} is a function: apply it to an argument, e.g. {name}(x)")
            final = parameter_name(name)
            found = symbols.get(final)
            if found is None:
                if len(symbols) >= MAX_PARAMETERS:
                    raise ParseError(f"an activation formula has at most {MAX_PARAMETERS} "
                                     f"parameters")
                assumptions = {"positive": True} if name in wanted_positive or final in wanted_positive \
                    else {"real": True}
                found = symbols[final] = sp.Symbol(final, **assumptions)
            return found

    try:
        phi = Walker(source).build(tree.body, 0)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("the activation formula is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - never a traceback from inside SymPy
        raise ParseError(f"the activation formula could not be built ({type(exc).__name__})") from None
    if not isinstance(phi, sp.Expr):  # pragma: no cover - the walker builds expressions
        raise ParseError("the activation formula is not an expression")
    if not phi.has(x):
        raise ParseError(f"the activation formula {quote(cleaned)} does not depend on x; "
                         f"write phi as a formula in x, e.g. x*Phi(x)")
    degree = _degree(phi)
    if degree > MAX_DEGREE:
        raise ParseError(f"the activation formula has degree {degree} in x (limit {MAX_DEGREE}: "
                         f"higher moments are too much work)")
    if phi.has(sp.I) or phi.has(sp.zoo, sp.nan, sp.oo):
        raise ParseError("the activation formula is not real and finite")
    return phi, {name: symbols[name] for name in sorted(symbols) if phi.has(symbols[name])}


def _degree(expr: sp.Expr) -> int:
    from ..verification.sizes import integrand_degree

    return integrand_degree(expr, frozenset({x}))


def valid_functions() -> str:
    """The function names an activation formula may use."""
    from ..verification.names import FUNCTION_NAMES

    return ", ".join(dict.fromkeys(FUNCTION_NAMES.values()))


__all__ = ["MAX_DEGREE", "MAX_FORMULA_CHARS", "MAX_PARAMETERS", "parameter_name",
           "parse_formula", "valid_functions"]
