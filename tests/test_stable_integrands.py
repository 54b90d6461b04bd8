"""float64 rewrites of integrands that overflow where their value is moderate
(``compile._stable_integrand``), against exact values at 30 digits.

exp(m x)/(exp(x) + 1)^k is sigmoid(x)^m sigmoid(-x)^(k - m): bounded by 1 everywhere, but its
float64 form is inf/inf beyond x = 355 (a quadrature node at 11 sd of q = 1e4 sits at 1100).
"""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import symfield
from symfield.gaussian.numerics.compile import _stable_integrand, np_modules

x = sp.Symbol("x", real=True)
POINTS = [-800.0, -40.0, -1.5, 0.0, 0.7, 40.0, 800.0]


@pytest.mark.parametrize("m,k", [(1, 1), (2, 2), (1, 2), (1, 3), (2, 3), (3, 3)])
def test_logistic_powers_are_exact_where_the_plain_form_overflows(m, k):
    expr = x**2 * sp.exp(m * x) / (sp.exp(x) + 1) ** k
    stable = sp.lambdify(x, _stable_integrand(expr), modules=np_modules())
    got = np.asarray(stable(np.array(POINTS)), dtype=float)
    with mp.workdps(30):
        for value, point in zip(got, POINTS):
            t = mp.mpf(point)
            exact = t**2 * mp.exp(m * t) / (mp.exp(t) + 1) ** k
            assert abs(value - exact) <= 4e-16 * abs(exact) + 1e-300, (point, value, exact)


def test_plain_form_would_have_overflowed():
    """The test above is sharp: the unrewritten form is NaN at the far nodes."""
    plain = sp.lambdify(x, sp.exp(2 * x) / (sp.exp(x) + 1) ** 2, modules="numpy")
    with np.errstate(all="ignore"):
        assert np.isnan(plain(np.array([800.0])))[0]


def test_softplus_chi1_at_large_variance_needs_no_mpmath_rescue():
    """E[sigmoid(x)^2] at q = 1e4..1e12 by the float64 rule itself (a finite error estimate:
    no point recomputed in mpmath), to 1e-15 of the certified value."""
    law = symfield.derive("chi1", "softplus")
    compiled = law.compiled()
    q = np.array([1e4, 1e8, 1e12])
    values = compiled.np(q, np.full(3, 1.3))
    assert np.all(np.asarray(compiled.last_error_estimate) < 1e-13)
    for value, variance in zip(values, q):
        reference = law.evaluate(dps=25, q=variance, sigma_w=1.3)
        assert abs(value - float(reference)) <= 1e-15 * float(reference)
