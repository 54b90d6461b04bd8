"""Antiderivatives of the arc-sine family by the circular substitution r = sqrt(Q) sin(theta).

Integrating Price's theorem back in rho meets integrands built from r, sqrt(Q - r^2) and
asin(r/sqrt(Q)) (the arc-cosine kernels of ReLU powers, steps and signs, and the kernels of
ELU and hard tanh). With r = sqrt(Q) sin(theta), -pi/2 < theta < pi/2, they become
theta^j sin(theta)^a cos(theta)^p, integrated here exactly:

* p >= 0: sin^a cos^p as a finite Fourier sum (through e^(i theta)), and
  int theta^j e^(i k theta) by repeated integration by parts;
* p < 0 (powers of 1/sqrt(Q - r^2)), j = 0: u = cos(theta) for odd a; for even a,
  sin^2 = 1 - cos^2 and the reduction formulas of int sec^n.

SymPy's manualintegrate reaches the same antiderivatives by a rule search that takes 0.2-1 s
each (and 1.5 s to give up on (Q - r^2)^(-3/2)); cold derivations of ReLU powers made
dozens of such calls. The caller verifies the result by differentiation, as for any other
antiderivative.
"""
from __future__ import annotations

from math import comb, factorial

import sympy as sp

_THETA, _SIN, _COS = sp.Dummy("theta"), sp.Dummy("sin"), sp.Dummy("cos")


def circular_antiderivative(f: sp.Expr, var: sp.Symbol) -> sp.Expr | None:
    """An antiderivative of f in var, or None when f is not of the arc-sine family (a
    polynomial in var, sqrt(Q - var^2)^(+-1) and asin(var/sqrt(Q)) with one Q > 0 free of
    var)."""
    substituted = _substitute(f, var)
    if substituted is None:
        return None
    integrand_theta, root_q = substituted
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(integrand_theta)):
        exponents = _trig_monomial(term)
        if exponents is None:
            return None
        coefficient, j, a, p = exponents
        integral = _integrate_monomial(j, a, p)
        if integral is None:
            return None
        total += coefficient * integral
    root = sp.sqrt(sp.together(root_q**2 - var**2))
    back = {_THETA: sp.asin(var / root_q), _SIN: var / root_q, _COS: root / root_q}
    return total.xreplace(back)


def _substitute(f: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """(g(theta) dtheta's g, sqrt(Q)) with f(var) dvar = g dtheta, or None."""
    q = None
    replacements = {}
    for atom in f.atoms(sp.Pow, sp.Function):  # asin is a Function
        if not atom.has(var):
            continue
        if isinstance(atom, sp.asin):
            slope = sp.cancel(atom.args[0] / var)
            if slope.has(var) or not slope.is_positive:
                return None
            found = sp.cancel(1 / slope**2)
            replacements[atom] = _THETA
        elif atom.is_Pow and atom.exp.is_Integer and atom.exp > 0:
            continue  # a polynomial in what its base becomes
        elif atom.is_Pow and atom.base == var:
            return None
        elif atom.is_Pow and (2 * atom.exp).is_Integer:
            base = sp.expand(atom.base)
            a0, a1, a2 = (base.coeff(var, n) for n in (0, 1, 2))
            if a1 != 0 or sp.expand(base - a0 - a2 * var**2) != 0 or not (-a2).is_positive:
                return None
            found = sp.cancel(-a0 / a2)
            # (a0 + a2 r^2)^e = (-a2 Q)^e cos(theta)^(2e), -a2 Q > 0 and cos(theta) > 0
            replacements[atom] = (-a2 * found) ** atom.exp * _COS ** (2 * atom.exp)
        else:
            return None
        if not found.is_positive:
            return None
        if q is None:
            q = found
        elif sp.cancel(found - q) != 0:
            return None
    if q is None:
        return None
    # integer coefficients under the roots: asin(2 r/sqrt(4 q1 q2 + 2 q1 + 2 q2 + 1)), as
    # the arc-sine kernels are written, not asin(r/sqrt(q1 q2 + q1/2 + q2/2 + 1/4))
    root_q = sp.sqrt(sp.together(q))
    g = f.xreplace(replacements).xreplace({var: root_q * _SIN}) * root_q * _COS
    if g.has(var):
        return None
    return g, root_q


def _trig_monomial(term: sp.Expr) -> tuple[sp.Expr, int, int, int] | None:
    """(coefficient, j, a, p) with term = coefficient theta^j sin^a cos^p, or None."""
    powers = term.as_powers_dict()
    exponents = []
    for symbol in (_THETA, _SIN, _COS):
        e = powers.get(symbol, sp.S.Zero)
        if not e.is_Integer:
            return None
        exponents.append(int(e))
    j, a, p = exponents
    if j < 0 or a < 0:
        return None
    coefficient = term / (_THETA**j * _SIN**a * _COS**p)
    if coefficient.has(_THETA, _SIN, _COS):
        return None
    return coefficient, j, a, p


def _integrate_monomial(j: int, a: int, p: int) -> sp.Expr | None:
    """int theta^j sin^a cos^p dtheta in theta, sin, cos; None outside the family."""
    if p >= 0:
        return _fourier_integral(j, a, p)
    if j != 0:
        return None
    m = -p
    if a % 2:  # u = cos(theta): -int (1 - u^2)^((a-1)/2) u^(-m) du
        total = sp.S.Zero
        for i in range((a - 1) // 2 + 1):
            n = 2 * i - m
            piece = sp.log(_COS) if n == -1 else _COS ** (n + 1) / (n + 1)
            total -= comb((a - 1) // 2, i) * (-1) ** i * piece
        return total
    total = sp.S.Zero
    for i in range(a // 2 + 1):  # sin^a = (1 - cos^2)^(a/2)
        n = 2 * i - m
        piece = _fourier_integral(0, 0, n) if n >= 0 else _secant_integral(-n)
        total += comb(a // 2, i) * (-1) ** i * piece
    return total


def _fourier_integral(j: int, a: int, p: int) -> sp.Expr:
    """int theta^j sin^a cos^p dtheta, p >= 0: sin^a cos^p = sum_k c_k e^(i k theta)."""
    coefficients: dict[int, sp.Expr] = {}
    scale = 1 / ((2 * sp.I) ** a * 2**p)
    for u in range(a + 1):
        for v in range(p + 1):
            k = 2 * u - a + 2 * v - p
            c = comb(a, u) * (-1) ** (a - u) * comb(p, v)
            coefficients[k] = coefficients.get(k, 0) + c
    total = sp.S.Zero
    for k, c in coefficients.items():
        if c == 0:
            continue
        if k == 0:
            total += c * _THETA ** (j + 1) / (j + 1)
            continue
        # int theta^j e^(ik theta) = e^(ik theta) sum_n (-1)^n j!/(j-n)! theta^(j-n)/(ik)^(n+1)
        ik = sp.I * k
        poly = sum((-1) ** n * sp.Rational(factorial(j), factorial(j - n)) * _THETA ** (j - n)
                   / ik ** (n + 1) for n in range(j + 1))
        total += c * poly * _exp_i(k)
    result = sp.expand(scale * total)
    if result.has(sp.I):
        raise AssertionError("a real integrand's Fourier integral kept an imaginary part")
    return result


def _exp_i(k: int) -> sp.Expr:
    """e^(i k theta) as a polynomial in cos(theta), sin(theta) (Chebyshev T and U)."""
    n = abs(k)
    cosine = sp.chebyshevt_poly(n, _COS)
    sine = _SIN * sp.chebyshevu_poly(n - 1, _COS)
    return cosine + sp.sign(k) * sp.I * sine


def _secant_integral(n: int) -> sp.Expr:
    """int sec(theta)^n dtheta for n >= 1, in sin and cos."""
    tangent = _SIN / _COS
    if n % 2 == 0:  # int (1 + tan^2)^(n/2 - 1) d tan
        k = n // 2 - 1
        return sum(comb(k, i) * tangent ** (2 * i + 1) / (2 * i + 1) for i in range(k + 1))
    if n == 1:
        return sp.log((1 + _SIN) / _COS)
    # sec^n = sec^(n-2) tan/(n-1) + (n-2)/(n-1) int sec^(n-2)
    return (_COS ** (2 - n) * tangent / (n - 1)
            + sp.Rational(n - 2, n - 1) * _secant_integral(n - 2))
