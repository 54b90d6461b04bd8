"""Entry points of the safe parser: ``parse_expression`` and ``parse_claim``.

User text is never evaluated: plain text goes through :mod:`.plain` (an AST whitelist that
builds SymPy objects), LaTeX through :mod:`.latex` (a token pre-pass, SymPy's ANTLR parser and
a whitelist rebuild). Every problem is a one-line :class:`~.errors.ParseError`.

Grammar in brief (details in the module docstrings):

* names: q, q1, q2, rho, c, sigma_w, sigma_b, A, C, D, L, kappa2 (the canonical symbols of
  ``symfield.symbols``), alpha (activation parameters), integration variables x, u, z, v, u1,
  u2, z1, z2, constants pi and e/E; aliases q_1, u_{1}, \\sigma_w, \\sigma_{w}, σ_w, \\rho, ρ, π,
  \\bar\\kappa^2 (= kappa2);
* functions: sqrt exp log/ln erf erfc asin/arcsin acos/arccos atan/arctan atan2 asinh acosh
  atanh sin cos tan sec csc cot sinh cosh tanh sech abs/Abs max/Max min/Min Heaviside/Theta
  sign/sgn, and the activation phi/varphi with derivatives phi'(u), phi''(u) (also dphi,
  d2phi in plain text), built as ``Derivative(phi(x), x)`` at the argument;
* expectations: E[...] (plain), \\mathbb{E}[...], E[...], \\langle...\\rangle (LaTeX); the
  measure follows from the variables used (see ``build.expectation``);
* numbers are exact: 0.1 is 1/10; '^' is a power in plain text; juxtaposition is ordinary
  multiplication (2q = 2*q, and 1/2q = q/2).
"""
from __future__ import annotations

from typing import Literal

import sympy as sp

from . import build
from .claims import (Claim, ClaimStep, Syntax, check_characters, check_length, detect_syntax,
                     label_of, normalise, split_parts)
from .errors import ParseError, quote
from .latex import TokenTally, parse_latex_expression
from .plain import parse_plain

SyntaxChoice = Literal["auto", "plain", "latex"]


def parse_claim(text: str, syntax: SyntaxChoice = "auto") -> Claim:
    """Parse a claim: one expression, an equation ``lhs = rhs``, or a chain of steps.

    ``syntax`` forces "plain" or "latex"; "auto" picks LaTeX when the text contains a
    backslash, a brace, ``$`` or ``&``. Each step becomes a SymPy expression over the canonical
    symbols (``symfield.symbols``); a left-hand side that is only a name (``chi_1 = ...``)
    becomes ``Claim.label``. Raises :class:`ParseError` (a ``SymfieldError``/``ValueError``)
    with a one-line message; nothing in ``text`` is ever executed. The work is bounded by the
    size of the text (characters, tokens, nodes, nesting: :mod:`.limits`), not by a clock.
    """
    text = check_length(text)
    chosen = _choose_syntax(text, syntax)
    try:
        return _parse_claim(text, chosen)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("the formula is nested too deeply") from None
    except MemoryError:
        raise ParseError("the formula is too large") from None
    except Exception as exc:  # noqa: BLE001 - never a traceback from inside SymPy/ANTLR
        raise ParseError(f"the formula could not be parsed ({type(exc).__name__})") from None


def parse_expression(text: str, syntax: SyntaxChoice = "auto") -> sp.Expr:
    """Parse one formula (no '=') into a SymPy expression; see :func:`parse_claim`."""
    claim = parse_claim(text, syntax)
    if claim.kind != "expression":
        raise ParseError(f"expected a single expression but got an {claim.kind}; "
                         f"use parse_claim for equations and chains")
    return claim.steps[0].expr


def _choose_syntax(text: str, syntax: str) -> Syntax:
    if syntax == "auto":
        return detect_syntax(text)
    if syntax in ("plain", "latex"):
        return syntax  # type: ignore[return-value]
    shown = quote(syntax) if isinstance(syntax, str) else type(syntax).__name__
    raise ParseError(f"unknown syntax {shown}; valid: auto, plain, latex")


def _parse_claim(text: str, syntax: Syntax) -> Claim:
    cleaned = normalise(check_characters(text, syntax), syntax)
    parts = split_parts(cleaned, syntax)
    many = len(parts) > 1
    label, label_arguments, label_error = None, (), None
    tokens = TokenTally()  # ANTLR's work for the whole claim
    steps: list[ClaimStep] = []
    for part in parts:
        try:
            expr = _parse_one(part.text, syntax, tokens)
        except ParseError as exc:
            found = label_of(part.text, syntax) if part.index == 0 and many else None
            if found is not None:
                (label, label_arguments), label_error = found, str(exc)
                continue
            if not many:
                raise
            where = (("the left-hand side" if part.index == 0 else "the right-hand side")
                     if len(parts) == 2 else f"step {part.index + 1} (line {part.line})")
            raise ParseError(f"{where}: {exc}") from None
        steps.append(ClaimStep(expr, part.text, part.line))
    return Claim(tuple(steps), syntax, text, label, tuple(label_arguments), label_error)


def _parse_one(text: str, syntax: Syntax, tokens: TokenTally) -> sp.Expr:
    expr = parse_latex_expression(text, tokens) if syntax == "latex" else parse_plain(text)
    return build.check_whitelist(expr)
