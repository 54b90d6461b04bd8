"""The pole-expansion rule: expectations of polynomials in tanh(alpha x) as Faddeeva series.

tanh and sech^2 are meromorphic with simple and double poles at i pi (k + 1/2):
Mittag-Leffler gives sech^2(y) = -sum_{k in Z} (y - a_k)^-2, a_k = i pi (k + 1/2). For
y ~ N(0, v) and Im a > 0, E[(y - a)^-1] = i sqrt(pi/(2v)) w(a/sqrt(2v)) with the Faddeeva
function w, and differentiating in a gives E[(y - a)^-2]. Conjugate poles (k and -k-1) pair
up, and on the imaginary axis w(iY) is real:

    E[sech^2(y)] = (2/v) sum_{k>=0} (1 - sqrt(pi) Y_k w(i Y_k)),  Y_k = pi (k + 1/2)/sqrt(2v).

Higher powers reduce to derivatives, sech^(2m+2) = ((2m)^2 sech^2m - (sech^2m)'')/(2m(2m+1)),
and the heat equation E[f''(y)] = 2 d/dv E[f(y)] turns those into v-derivatives of the series.
tanh^2 = 1 - sech^2, and odd powers vanish by parity.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..faddeeva import faddeeva
from ..simplify import merge_series
from ..normal_form import NotTractable, linear_coefficients
from .base import Measure, TermRule

#: The summation index of the pole series.
k = sp.Symbol("k", integer=True, nonnegative=True)
_V = sp.Dummy("v", positive=True)


@lru_cache(maxsize=None)
def sech_moment_series(m: int) -> sp.Expr:
    """E[sech^(2m)(y)], y ~ N(0, v), as a Faddeeva series in the variance symbol _V."""
    if m == 0:
        return sp.S.One
    if m == 1:
        Y = sp.pi * (k + sp.Rational(1, 2)) / sp.sqrt(2 * _V)
        return sp.Sum(2 / _V * (1 - sp.sqrt(sp.pi) * Y * faddeeva(sp.I * Y)), (k, 0, sp.oo))
    prev = sech_moment_series(m - 1)
    n = m - 1  # sech^(2n+2) from sech^(2n)
    return merge_series(((2 * n) ** 2 * prev - 2 * sp.diff(prev, _V)) / (2 * n * (2 * n + 1)))


def _tanh_power(factor: sp.Expr, x: sp.Symbol):
    """(alpha, exponent, kind) for tanh(alpha x)**e or sech(alpha x)**e, else None."""
    base, exp = factor.as_base_exp()
    if not (exp.is_Integer and exp > 0) or not isinstance(base, (sp.tanh, sp.sech)):
        return None
    lc = linear_coefficients(base.args[0], x)
    if lc is None or lc[1] != 0:
        return None
    return lc[0], int(exp), type(base)


class PoleExpansionRule(TermRule):
    """E[tanh(alpha x)^j sech(alpha x)^i] for centred x: expand in E[sech^2m], each a series."""

    name = "pole expansion (Mittag-Leffler) and Faddeeva series"

    def applies(self, term, m: Measure) -> bool:
        if m.mean != 0 or term.power or term.quad or term.lin or term.erfs or term.steps \
                or term.deltas or not term.other:
            return False
        parts = [_tanh_power(f, m.x) for f in term.other]
        return all(parts) and len({p[0] for p in parts}) == 1

    def apply(self, term, m: Measure, engine) -> sp.Expr:
        parts = [_tanh_power(f, m.x) for f in term.other]
        alpha = parts[0][0]
        tanh_power = sum(e for _a, e, kind in parts if kind is sp.tanh)
        sech_power = sum(e for _a, e, kind in parts if kind is sp.sech)
        if tanh_power % 2 or sech_power % 2:
            raise NotTractable("odd powers of sech or tanh: not a pole series of this family")
        s = sp.Symbol("s")  # stands for sech^2(alpha x)
        polynomial = sp.Poly(sp.expand((1 - s) ** (tanh_power // 2) * s ** (sech_power // 2)), s)
        variance = alpha**2 * m.var
        value = sp.S.Zero
        moments = {}
        for (power,), coeff in zip(polynomial.monoms(), polynomial.coeffs()):
            moment = sech_moment_series(power).subs(_V, variance)
            moments[power] = moment
            value += coeff * moment
        value = merge_series(value)
        engine.record(m.expectation(term.rebuild(m.x)),
                      term.coeff * sp.Add(*[c * m.expectation(sp.sech(alpha * m.x) ** (2 * p))
                                            for (p,), c in zip(polynomial.monoms(),
                                                               polynomial.coeffs())]),
                      "tanh^2 = 1 - sech^2",
                      "write the integrand as a polynomial in sech^2(alpha x)")
        if any(p >= 1 for p in moments):
            engine.record(m.expectation(sp.sech(alpha * m.x) ** 2), sech_moment_series(1).subs(_V, variance),
                          self.name,
                          "sech^2(y) = -sum_k (y - i pi(k+1/2))^-2; E[(y-a)^-2] = d/da "
                          "[i sqrt(pi/(2v)) w(a/sqrt(2v))]; conjugate poles pair up")
        for p in sorted(moments):
            if p >= 2:
                engine.record(m.expectation(sp.sech(alpha * m.x) ** (2 * p)), moments[p],
                              "reduction of sech powers",
                              f"sech^{2 * p} = ({(2 * p - 2) ** 2} sech^{2 * p - 2} - (sech^{2 * p - 2})'')"
                              f"/{(2 * p - 2) * (2 * p - 1)}; heat equation E[f''] = 2 d/dv E[f]")
        return term.coeff * value
