"""Exceptions raised to users. All are ``ValueError`` subclasses, so callers may catch either."""
from __future__ import annotations


class SymfieldError(ValueError):
    """Bad input to symfield: the message names what was wrong and what is valid."""


class UnknownNameError(SymfieldError):
    """An unknown law, activation, symbol or option name."""


class InvalidValueError(SymfieldError):
    """A value outside the domain of a law (e.g. q <= 0, |rho| > sqrt(q1 q2), NaN)."""


class PrecisionError(SymfieldError):
    """A numerical result could not be certified to the requested number of digits."""


#: Longest excerpt of a user's value quoted back in an error message.
QUOTE_CHARS = 60


def quoted(value: object) -> str:
    """``value`` for a one-line error message: text and plain numbers as a shortened repr
    (control characters escaped), anything else by its type (its repr may be huge)."""
    plain = isinstance(value, (str, int, float, complex)) or value is None
    text = repr(value) if plain else f"a {type(value).__name__}"
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "..."
