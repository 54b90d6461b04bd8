"""Numeric values of the Faddeeva function w(z) = exp(-z^2) erfc(-i z), at any mpmath precision
and in float64, with the lambdify module maps that bind the SymPy ``faddeeva`` to them."""
from __future__ import annotations

import mpmath
import numpy as np


def faddeeva_mp(z):
    """w(z) at the current mpmath precision (real-valued on the positive imaginary axis)."""
    z = mpmath.mpmathify(z)
    if z.imag > 0 and z.real == 0:
        y = z.imag
        return mpmath.exp(y * y) * mpmath.erfc(y)  # erfc keeps relative accuracy for large y
    return mpmath.exp(-z * z) * mpmath.erfc(-1j * z)


def faddeeva_np(z):
    """w(z) in float64 (scipy's wofz); on the imaginary axis w(iy) = erfcx(y) is real (for
    every real y, 0 included: the degenerate Gaussian q = 0) and is returned as a real array,
    so that the law around it stays real."""
    import scipy.special as sc  # scipy loads on first numerical use, not on import

    z = np.asarray(z)
    if not np.iscomplexobj(z):
        return sc.wofz(z.astype(complex))
    if np.all(z.real == 0):
        return sc.erfcx(z.imag)
    return sc.wofz(z)


#: Module mappings for lambdify (keyed by the name of the SymPy function).
MP_FUNCTIONS = {"faddeeva": faddeeva_mp}
NP_FUNCTIONS = {"faddeeva": faddeeva_np}
