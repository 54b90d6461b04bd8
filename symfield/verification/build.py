"""Safe constructors shared by the plain-text and the LaTeX front ends.

Both front ends reduce user text to calls of these functions, which check sizes *before*
SymPy evaluates anything (an exact ``9**387420489`` would never return) and map names to the
prebuilt objects of :mod:`.names`.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction

import sympy as sp

from ..expectation import Expectation
from . import limits
from .errors import ParseError, quote
from .names import (ACTIVATION_NAMES, INTEGRATION_VARIABLES, MAX_PHI_DERIVATIVE, SYMBOLS,
                    function_spec, phi, phi_derivative, suggestion, u, u1, u2, v,
                    valid_function_names, valid_symbol_names, x, z, z1, z2)
from ..symbols import kappa2, q, q1, q2, rho

_DECIMAL = re.compile(r"^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def number(literal: str) -> sp.Rational:
    """An exact rational from a decimal literal: '0.1' is 1/10, '2.5e-3' is 1/400."""
    text = literal.replace("_", "")  # Python allows 1_000
    match = _DECIMAL.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise ParseError(f"the number {quote(literal)} is not understood; write digits with an "
                         f"optional decimal point and exponent, e.g. 2.5e-3")
    whole, frac, exponent = match.group(1), match.group(2) or "", match.group(3)
    if len(whole) + len(frac) > limits.MAX_LITERAL_DIGITS:
        raise ParseError(f"the number {quote(literal)} has more than "
                         f"{limits.MAX_LITERAL_DIGITS} digits")
    if exponent is not None and abs(int(exponent)) > limits.MAX_LITERAL_DIGITS:
        raise ParseError(f"the exponent of {quote(literal)} is beyond +-{limits.MAX_LITERAL_DIGITS}")
    value = Fraction(int(whole + frac or "0"), 10 ** len(frac))
    if exponent is not None:
        value *= Fraction(10) ** int(exponent)
    return sp.Rational(value.numerator, value.denominator)


def check_size(expr: sp.Expr) -> sp.Expr:
    """Reject exact numbers too large to compute with, powers that SymPy combined beyond the
    exponent limit ((q^1000)^1000 is q^1000000), and undefined results like 1/0."""
    if isinstance(expr, sp.Rational):
        if max(int(expr.p).bit_length(), int(expr.q).bit_length()) > limits.MAX_NUMBER_BITS:
            raise ParseError(f"a number in the formula exceeds {limits.MAX_NUMBER_BITS} bits "
                             f"(about {int(limits.MAX_NUMBER_BITS * 0.30103)} digits)")
    elif expr in (sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ParseError("the formula is undefined (a division by zero or an infinite value)")
    elif expr.is_Pow:
        _check_combined_exponent(expr)
    elif expr.is_Mul:
        for factor in expr.args:
            if factor.is_Pow:
                _check_combined_exponent(factor)
    return expr


def _check_combined_exponent(power_: sp.Pow) -> None:
    exponent = power_.exp
    if exponent.is_Rational and (abs(exponent) > limits.MAX_EXPONENT
                                 or exponent.q > limits.MAX_EXPONENT):
        raise ParseError(f"the powers combine to {_short(power_)}, beyond the exponent limit "
                         f"(numeric exponents are limited to +-{limits.MAX_EXPONENT})")


def power(base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    """base**exponent with a bounded numeric exponent and a bounded exact result."""
    if exponent.is_Number:
        if not exponent.is_Rational:
            raise ParseError("floating-point exponents are not allowed")
        if base is not sp.E and (abs(exponent) > limits.MAX_EXPONENT
                                 or exponent.q > limits.MAX_EXPONENT):
            raise ParseError(f"the exponent {_short(exponent)} is too large "
                             f"(numeric exponents are limited to +-{limits.MAX_EXPONENT})")
        if base.is_Rational and exponent.is_Integer and base not in (0, 1, -1):
            bits = math.log2(max(abs(int(base.p)), int(base.q)))
            if bits * abs(int(exponent)) > limits.MAX_NUMBER_BITS:
                raise ParseError(f"the power {_short(base)}**{_short(exponent)} is too large "
                                 f"to compute exactly")
        if base.is_zero and exponent.is_negative:
            raise ParseError("division by zero")
    return check_size(sp.Pow(base, exponent))


def _short(value: sp.Expr) -> str:
    text = sp.sstr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def add(*terms: sp.Expr) -> sp.Expr:
    """Sum, with the result's size checked."""
    return check_size(sp.Add(*terms))


def multiply(*factors: sp.Expr) -> sp.Expr:
    """Product, with the result's size checked."""
    return check_size(sp.Mul(*factors))


def divide(numerator: sp.Expr, denominator: sp.Expr) -> sp.Expr:
    """Quotient; an exactly zero denominator is an error, not zoo."""
    if denominator.is_zero:
        raise ParseError("division by zero")
    return multiply(numerator, power(denominator, sp.S.NegativeOne))


def negate(value: sp.Expr) -> sp.Expr:
    """-value."""
    return check_size(-value)


def symbol(name: str) -> sp.Expr:
    """The object a name stands for, or a ParseError listing the valid names."""
    if name.startswith("_"):
        raise ParseError(f"names starting with '_' are not allowed (got {quote(name)})")
    found = SYMBOLS.get(name)
    if found is not None:
        return found
    if name in ACTIVATION_NAMES or function_spec(name) is not None:
        raise ParseError(f"{name} is a function: apply it to an argument, e.g. {name}(u)")
    if name == "kappa":
        raise ParseError("kappa on its own is not a variable: the curvature is kappa2 "
                         "(kappa^2 in LaTeX)")
    raise ParseError(f"unknown symbol {quote(name)}{suggestion(name)}; "
                     f"valid symbols: {valid_symbol_names()}")


def kappa_power(exponent: sp.Expr) -> sp.Expr:
    """kappa^2 is the single variable kappa2 (the squared curvature, theory.md section 7)."""
    if exponent != 2:
        raise ParseError("kappa is only understood squared: kappa^2 is the variable kappa2")
    return kappa2


def call(name: str, args: list[sp.Expr], phi_order: int = 0) -> sp.Expr:
    """A whitelisted function applied to positional arguments."""
    if name.startswith("_"):
        raise ParseError(f"names starting with '_' are not allowed (got {quote(name)})")
    if name in ACTIVATION_NAMES:
        order = ACTIVATION_NAMES[name] + phi_order
        if len(args) != 1:
            raise ParseError(f"{_phi_spelling(order)} takes exactly one argument, got {len(args)}")
        if order > MAX_PHI_DERIVATIVE:
            raise ParseError(f"derivatives of phi beyond order {MAX_PHI_DERIVATIVE} are not supported")
        return phi_derivative(order, args[0])
    if phi_order:
        raise ParseError(f"primes are only allowed on phi (phi'(u), phi''(u)); got {name}'")
    spec = function_spec(name)
    if spec is None:
        raise ParseError(f"unknown function {quote(name)}{suggestion(name)}; "
                         f"valid functions: {valid_function_names()}")
    canonical, builder, low, high = spec
    if len(args) < low or (high is not None and len(args) > high):
        wanted = str(low) if low == high else f"at least {low}"
        raise ParseError(f"{canonical} takes {wanted} argument{'s' if wanted != '1' else ''}, "
                         f"got {len(args)}")
    value = builder(*args)
    if value in (sp.zoo, sp.nan, sp.oo, -sp.oo):
        shown = ", ".join(_short(a) for a in args)
        raise ParseError(f"{canonical}({shown}) is undefined"
                         + (" (infinite)" if value in (sp.oo, -sp.oo, sp.zoo) else ""))
    return check_size(value)


def _phi_spelling(order: int) -> str:
    return "phi" + "'" * order


# -- expectations -----------------------------------------------------------------------------

#: Families of bound variables that may share one expectation, and what they mean.
_FAMILIES = (
    (frozenset({u}), "u ~ N(0, q)"),
    (frozenset({x}), "x ~ N(0, q)"),
    (frozenset({z}), "z ~ N(0, 1)"),
    (frozenset({v}), "v ~ N(0, 1)"),
    (frozenset({u1, u2}), "(u1, u2) centred with variances q1, q2 and covariance rho"),
    (frozenset({z1, z2}), "z1, z2 independent N(0, 1)"),
)
_FAMILY_HELP = "; ".join(desc for _, desc in _FAMILIES)
#: The variance of each integration variable on its own.
_VARIANCE = {u: q, x: q, z: sp.S.One, v: sp.S.One, u1: q1, u2: q2, z1: sp.S.One, z2: sp.S.One}


def expectation(integrand: sp.Expr, declared: tuple[sp.Symbol, ...] | None = None) -> Expectation:
    """E[integrand] with the measure implied by the integration variables it contains.

    u or x: N(0, q); z or v: N(0, 1); u1, u2: the centred pair with variances q1, q2 and
    covariance rho (only one of them: its own variance); z1, z2: independent standard normals.
    ``declared`` (from a LaTeX subscript such as E_{z}) must name the same variables.
    """
    if integrand.has(Expectation):
        raise ParseError("nested expectations are not supported")
    bound = integrand.free_symbols & INTEGRATION_VARIABLES
    if not bound:
        raise ParseError(f"the expectation E[{_short(integrand)}] contains no integration "
                         f"variable; use one of: {_FAMILY_HELP}")
    family = next((members for members, _ in _FAMILIES if bound <= members), None)
    if family is None:
        names = ", ".join(sorted(s.name for s in bound))
        raise ParseError(f"one expectation cannot mix the integration variables {names}; "
                         f"use one family: {_FAMILY_HELP}")
    if declared is not None and set(declared) != bound:
        names = ", ".join(sorted(s.name for s in declared))
        raise ParseError(f"the expectation is declared over {names} but its integrand uses "
                         f"{', '.join(sorted(s.name for s in bound))}")
    if len(bound) == 1:
        (variable,) = bound
        return Expectation(integrand, (variable,), (_VARIANCE[variable],))
    if bound == {u1, u2}:
        return Expectation(integrand, (u1, u2), (q1, rho, q2))
    return Expectation(integrand, (z1, z2), (sp.S.One, sp.S.Zero, sp.S.One))


# -- final whitelist --------------------------------------------------------------------------

def check_whitelist(expr: sp.Expr) -> sp.Expr:
    """Defence in depth: every symbol and function in ``expr`` must come from the tables."""
    allowed_symbols = set(SYMBOLS.values())
    for symbol_ in expr.free_symbols:
        if symbol_ not in allowed_symbols:
            raise ParseError(f"unknown symbol {quote(str(symbol_))}; valid symbols: "
                             f"{valid_symbol_names()}")
    for applied in expr.atoms(sp.Function):
        name = type(applied).__name__
        if applied.func == phi or function_spec(name) is not None or name in _AUTO_FUNCTIONS:
            continue
        raise ParseError(f"unknown function {quote(name)}; valid functions: "
                         f"{valid_function_names()}")
    return expr


#: Functions outside the table that SymPy itself may introduce while building.
_AUTO_FUNCTIONS = frozenset({"re", "im"})
