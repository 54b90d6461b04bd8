"""The Faddeeva function w(z) = exp(-z^2) erfc(-i z) as a SymPy function.

Gaussian expectations of poles are Faddeeva values: for x ~ N(0, q) and Im a > 0,
E[1/(x - a)] = i sqrt(pi/(2q)) w(a/sqrt(2q)). On the positive imaginary axis w(iy) =
exp(y^2) erfc(y) (the scaled complementary error function) is real. Derivatives follow
w'(z) = -2 z w(z) + 2i/sqrt(pi), so every derivative is linear in w.
"""
from __future__ import annotations

import mpmath
import numpy as np
import scipy.special as sc
import sympy as sp


def faddeeva_mp(z):
    """w(z) at the current mpmath precision (real-valued on the positive imaginary axis)."""
    z = mpmath.mpmathify(z)
    if z.imag > 0 and z.real == 0:
        y = z.imag
        return mpmath.exp(y * y) * mpmath.erfc(y)  # erfc keeps relative accuracy for large y
    return mpmath.exp(-z * z) * mpmath.erfc(-1j * z)


def faddeeva_np(z):
    """w(z) in float64 (scipy's wofz); real input on the imaginary axis uses erfcx."""
    z = np.asarray(z)
    if np.iscomplexobj(z) and np.all(z.real == 0) and np.all(z.imag > 0):
        return sc.erfcx(z.imag).astype(complex)
    return sc.wofz(z)


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


#: Module mappings for lambdify.
MP_FUNCTIONS = {"faddeeva": faddeeva_mp}
NP_FUNCTIONS = {"faddeeva": faddeeva_np}
