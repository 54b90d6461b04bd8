"""The Faddeeva function w(z) = exp(-z^2) erfc(-i z) as a SymPy function.

Gaussian expectations of poles are Faddeeva values: for x ~ N(0, q) and Im a > 0,
E[1/(x - a)] = i sqrt(pi/(2q)) w(a/sqrt(2q)). On the positive imaginary axis w(iy) =
exp(y^2) erfc(y) (the scaled complementary error function) is real. Derivatives follow
w'(z) = -2 z w(z) + 2i/sqrt(pi), so every derivative is linear in w.
"""
from __future__ import annotations

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
        k = sp.Symbol("k", integer=True, nonnegative=True)
        Y = sp.Symbol("Y", positive=True)
        at = sp.pi * (2 * k + 1) / (2 * sp.sqrt(2 * v))
        if n.is_Integer:
            derivative = sp.diff(faddeeva(sp.I * Y), Y, int(n)).subs(Y, at)
        else:
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
