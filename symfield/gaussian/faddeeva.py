"""The Faddeeva function w(z) = exp(-z^2) erfc(-i z) as a SymPy function.

Gaussian expectations of poles are Faddeeva values: for x ~ N(0, q) and Im a > 0,
E[1/(x - a)] = i sqrt(pi/(2q)) w(a/sqrt(2q)). On the positive imaginary axis w(iy) =
exp(y^2) erfc(y) (the scaled complementary error function) is real. Derivatives follow
w'(z) = -2 z w(z) + 2i/sqrt(pi), so every derivative is linear in w.
"""
from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy as sp

from .numerics.faddeeva_values import faddeeva_mp
from .numerics.faddeeva_values import (  # noqa: F401  (re-exported: their old home)
    MP_FUNCTIONS, NP_FUNCTIONS, faddeeva_np)
from .numerics.pole_moments import tanh_derivative_moments


class faddeeva(sp.Function):  # noqa: N801 - SymPy functions are lower case
    """w(z) = exp(-z^2) erfc(-i z)."""

    nargs = 1

    @classmethod
    def eval(cls, z):
        if z.is_zero:
            return sp.S.One

    def fdiff(self, argindex=1):
        z = self.args[0]
        return -2 * z * faddeeva(z) + 2 * sp.I / sp.sqrt(sp.pi)

    def _on_positive_imaginary_axis(self) -> bool | None:
        return (self.args[0] / sp.I).is_extended_positive

    def _eval_is_extended_real(self):
        return True if self._on_positive_imaginary_axis() else None

    def _eval_is_finite(self):
        return True if self._on_positive_imaginary_axis() else None

    def _eval_conjugate(self):
        # w(-conj z) = conj w(z)
        return faddeeva(-sp.conjugate(self.args[0]))

    def _eval_evalf(self, prec):
        z = self.args[0].evalf(prec)
        if not z.is_number:
            return None
        re_part, im_part = (part.evalf(prec) for part in z.as_real_imag())
        with mpmath.workprec(prec):
            value = faddeeva_mp(mpmath.mpc(re_part._to_mpmath(prec), im_part._to_mpmath(prec)))
        return sp.Expr._from_mpmath(value, prec)

    def _eval_rewrite_as_erfc(self, z, **kwargs):
        return sp.exp(-z**2) * sp.erfc(-sp.I * z)

    def _latex(self, printer, exp=None):
        body = rf"w\left({printer._print(self.args[0])}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"



@lru_cache(maxsize=None)
def _pole_power_expectation(m: int) -> sp.Expr:
    """2 Re E[(y - a)^-m] for y ~ N(0, V), a = i sqrt(2V) Y (Y > 0), in the placeholders
    Y, V and a real W standing for w(iY).

    E[(y - a)^-1] = i sqrt(pi/(2V)) w(a/sqrt(2V)), and (y - a)^-m is the (m-1)-th
    a-derivative of (y - a)^-1 over (m-1)!; w^(j) = P_j w + Q_j with P_0 = 1, Q_0 = 0,
    P_(j+1) = P_j' - 2 z P_j, Q_(j+1) = Q_j' + 2i/sqrt(pi) P_j (from w' = -2 z w + 2i/sqrt(pi))."""
    z = sp.Symbol("z")
    P, Q = sp.S.One, sp.S.Zero
    for _ in range(m - 1):
        P, Q = sp.expand(sp.diff(P, z) - 2 * z * P), sp.expand(sp.diff(Q, z) + 2 * sp.I / sp.sqrt(sp.pi) * P)
    value = (sp.I * sp.sqrt(sp.pi / (2 * _PV)) * (2 * _PV) ** sp.Rational(-(m - 1), 2)
             / sp.factorial(m - 1) * (P * _PW + Q)).subs(z, sp.I * _PY)
    return sp.expand(2 * sp.re(sp.expand(value)))


_PY = sp.Symbol("Y", positive=True)
_PV = sp.Symbol("V", positive=True)
_PW = sp.Symbol("W", real=True)


def pole_pair_expectation(m: int, v: sp.Expr, K: sp.Expr) -> sp.Expr:
    """E[(y - a)^-m + (y - conj a)^-m] for y ~ N(0, v) and the pole pair a = +-i pi K
    (K > 0): 2 Re E[(y - a)^-m], linear in the Faddeeva value w(i pi K/sqrt(2v))."""
    Y = sp.pi * K / sp.sqrt(2 * v)
    return _pole_power_expectation(m).subs({_PW: faddeeva(sp.I * Y), _PY: Y, _PV: v})


class tanh_moment(sp.Function):  # noqa: N801
    """T(n, v) = E[tanh^(n)(y)], y ~ N(0, v): the Hermite coefficients of tanh.

    Zero for even n (parity). For odd n it is the Faddeeva series
    2 (-1)^((n+1)/2) sqrt(pi/(2v)) (2v)^(-n/2) sum_k [d^n/dY^n w(iY)] at Y = pi (k+1/2)/sqrt(2v)
    (``rewrite(sp.Sum)`` shows it).
    """

    nargs = 2

    @classmethod
    def eval(cls, n, v):
        if n.is_Integer and (n < 0):
            raise ValueError("tanh_moment needs n >= 0")
        if n.is_Integer and n % 2 == 0:
            return sp.S.Zero

    def _eval_rewrite_as_Sum(self, n, v, **kwargs):
        # tanh has the principal part (y - a_k)^-1 at every pole a_k = i pi (k + 1/2), so
        # d^n/dy^n tanh has (-1)^n n! (y - a_k)^-(n+1): the pole expansion of the rule.
        k = sp.Symbol("k", integer=True, nonnegative=True)
        if n.is_Integer:
            summand = (-1) ** n * sp.factorial(n) * pole_pair_expectation(
                int(n) + 1, v, k + sp.Rational(1, 2))
            return sp.Sum(sp.expand(summand), (k, 0, sp.oo))
        Y = sp.Symbol("Y", positive=True)
        at = sp.pi * (2 * k + 1) / (2 * sp.sqrt(2 * v))
        derivative = sp.Subs(sp.Derivative(faddeeva(sp.I * Y), (Y, n)), Y, at)
        prefactor = 2 * (-1) ** ((n + 1) / 2) * sp.sqrt(sp.pi / (2 * v)) * (2 * v) ** (-n / 2)
        return prefactor * sp.Sum(derivative, (k, 0, sp.oo))

    def _eval_evalf(self, prec):
        n, v = self.args
        if not (n.is_Integer and v.is_number):
            return None
        dps = int(prec * 0.30103) + 5
        with mpmath.workdps(dps):
            moments, _bound = tanh_derivative_moments(int(n), mpmath.mpf(sp.Float(v, dps)), dps)
        return sp.Float(moments[int(n)], dps)

    def _latex(self, printer, exp=None):
        n, v = (printer._print(a) for a in self.args)
        body = (rf"\mathbb{{E}}_{{y\sim\mathcal{{N}}(0,\,{v})}}"
                rf"\left[\tanh^{{({n})}}(y)\right]")
        return body if exp is None else rf"\left({body}\right)^{{{exp}}}"

    def _sympystr(self, printer):
        n, v = (printer._print(a) for a in self.args)
        return f"E[tanh^({n})(y); y ~ N(0, {v})]"
