"""Exceptions raised to users. All are ``ValueError`` subclasses, so callers may catch either.

Also the two checks every entry point shares: :func:`quoted` (a user's value in a one-line
message) and :func:`as_expression` (a SymPy object or a number, never text).
"""
from __future__ import annotations

import sympy as sp
from sympy.core.sympify import SympifyError, _sympify


class SymfieldError(ValueError):
    """Bad input to symfield: the message names what was wrong and what is valid."""


class UnknownNameError(SymfieldError):
    """An unknown law, activation, symbol or option name."""


class InvalidValueError(SymfieldError):
    """A value outside the domain of a law (e.g. q <= 0, |rho| > sqrt(q1 q2), NaN)."""


class PrecisionError(SymfieldError):
    """A numerical result could not be certified to the requested number of digits."""


class UndefinedResultError(SymfieldError):
    """A derivation ended in an undefined value (NaN) without a divergence to name: the
    rules met a form they cannot decide (a product of deltas, 0 times infinity)."""


#: Longest excerpt of a user's value quoted back in an error message.
QUOTE_CHARS = 60


def quoted(value: object) -> str:
    """``value`` for a one-line error message: text and plain numbers as a shortened repr
    (control characters escaped), anything else by its type (its repr may be huge)."""
    # SymPy atoms (nan, I, a Symbol) print briefly; a general expression may not
    plain = isinstance(value, (str, int, float, complex)) or value is None \
        or getattr(value, "is_Atom", False) is True
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4000:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"  # repr fails
    text = repr(value) if plain else f"a {type(value).__name__}"
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "..."


def as_expression(value: object, what: str) -> sp.Expr:
    """``value`` as a SymPy expression: SymPy expressions as they are (the fast path: the
    engine builds expectations millions of times), Python numbers converted strictly. Text is
    refused, never parsed (SymPy would evaluate it as code); so is anything else."""
    if isinstance(value, sp.Expr):
        return value
    if isinstance(value, str):
        raise InvalidValueError(
            f"{what} must be a SymPy expression, not text (got {quoted(value)}); parse "
            "formulas with symfield.verification.parse_expression")
    try:
        converted = _sympify(value)  # strict: numbers only, never a string
    except SympifyError:
        converted = None
    if not isinstance(converted, sp.Expr):
        raise InvalidValueError(f"{what} must be a SymPy expression or a number "
                                f"(got {quoted(value)})")
    return converted
