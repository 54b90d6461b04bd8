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
