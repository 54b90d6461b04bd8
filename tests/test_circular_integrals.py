"""The circular substitution's antiderivatives (the arc-sine family met when Price's theorem
is integrated back in rho): every exponent pattern against an independent 30-digit
quadrature of the definite integral, out-of-family integrands declined, and a wrong
antiderivative never accepted."""
from __future__ import annotations

import itertools

import mpmath
import pytest
import sympy as sp

from symfield.gaussian import circular, integrate
from symfield.gaussian.circular import circular_antiderivative

R = sp.Symbol("r", real=True)
Q1, Q2 = sp.symbols("q1 q2", positive=True)
Q = Q1 * Q2
ROOT = sp.sqrt(Q - R**2)
ARC = sp.asin(R / sp.sqrt(Q))
POINT = {Q1: sp.Rational(7, 5), Q2: sp.Rational(5, 3)}   # Q = 7/3
UPPER = sp.Rational(13, 10)                               # 0 < r < 1.3 < sqrt(7/3)


def _check_against_quadrature(f: sp.Expr, antiderivative: sp.Expr) -> None:
    g = sp.lambdify(R, f.subs(POINT), "mpmath")
    value = (antiderivative.subs(POINT).subs(R, UPPER) - antiderivative.subs(POINT).subs(R, 0))
    value = sp.N(value, 40)
    assert abs(complex(value).imag) < 1e-30
    with mpmath.workdps(40):
        reference = mpmath.quad(g, [0, mpmath.mpf(UPPER)])
        error = abs(mpmath.mpf(str(sp.re(value))) - reference)
        assert error <= mpmath.mpf(10) ** -30 * max(1, abs(reference))


@pytest.mark.parametrize("j, a, p", [(j, a, p) for j, a, p in itertools.product(
    range(3), range(5), range(-4, 4))
    if (p >= -1 or j == 0) and not (j == 0 and p >= 0 and p % 2 == 0)])
def test_every_exponent_pattern_against_quadrature(j, a, p):
    """asin^j r^a (Q - r^2)^(p/2): theta^j sin^a cos^(p+1) after the substitution (negative
    cosine powers only without theta; plain polynomials in r are left to manualintegrate)."""
    f = 3 * ARC**j * R**a * (Q - R**2) ** sp.Rational(p, 2) / sp.pi
    F = circular_antiderivative(f, R)
    assert F is not None
    _check_against_quadrature(f, F)


@pytest.mark.parametrize("f", [
    (Q1 * Q2 - R**2) ** sp.Rational(-3, 2),                       # manualintegrate gave up
    sp.sqrt(1 - R**2 / (Q1 * Q2)) * R**3 + ARC * sp.pi,            # the root scaled by 1/Q
    2 / (sp.pi * sp.sqrt(4 * Q1 * Q2 + 2 * Q1 + 2 * Q2 - 4 * R**2 + 1)),  # another Q (GELU)
    (R**2 * ARC + R * ROOT) ** 2,                                  # theta^2 sin^2, products
    R**2 / (Q - R**2) ** 2,                                        # even power of the root
    R / (Q - R**2),                                                # a logarithm
    R**2 / ROOT**3,                                                # sec^3 (odd secant)
])
def test_the_integrands_of_the_derivations(f):
    F = circular_antiderivative(f, R)
    assert F is not None
    _check_against_quadrature(f, F)


@pytest.mark.parametrize("f", [
    sp.exp(R) * ROOT,                         # an exponential
    sp.sqrt(Q - R),                           # not Q - r^2
    sp.sqrt(Q - R**2) * sp.sqrt(Q1 - R**2),   # two different Q
    sp.asin(R / Q1) * sp.sqrt(Q - R**2),      # asin's Q differs from the root's
    R**2 + 3 * R,                             # no root and no arc sine: nothing to substitute
    sp.asin(R / sp.sqrt(Q)) / R,              # a negative power of r
    ARC * (Q - R**2) ** sp.Rational(-3, 2),   # theta times a negative cosine power
    sp.sqrt(R**2 - Q),                        # the wrong sign of r^2
])
def test_outside_the_family_is_declined(f):
    assert circular_antiderivative(f, R) is None


def _derivative_error(F: sp.Expr, f: sp.Expr) -> float:
    at = {**POINT, R: sp.Rational(1, 3)}
    return abs(complex(sp.N((sp.diff(F, R) - f).subs(at), 30)))


def test_a_wrong_circular_antiderivative_is_not_accepted(monkeypatch):
    """The caller differentiates every candidate: a planted sign error in e^(i k theta)
    makes the circular result wrong, and manualintegrate's verified one is returned."""
    f = R**2 * ARC
    assert _derivative_error(circular_antiderivative(f, R), f) < 1e-25
    original = circular._exp_i
    monkeypatch.setattr(circular, "_exp_i", lambda k: original(-k))
    assert _derivative_error(circular_antiderivative(f, R), f) > 1e-3
    assert _derivative_error(integrate.antiderivative(f, R, 0, 1), f) < 1e-25
