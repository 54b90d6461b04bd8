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

from ..faddeeva import faddeeva, tanh_moment
from ..simplify import merge_series
from ..normal_form import NotTractable, linear_coefficients
from .base import Factors, Measure, PairMeasure, Rule

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


class PoleExpansionRule(Rule):
    """E[tanh(alpha x)^j sech(alpha x)^i] for centred x: expand in E[sech^2m], each a series."""

    name = "pole expansion (Mittag-Leffler) and Faddeeva series"
    acts_on = "term"

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


# ------------------------------------------------------------------------------------------
# Pairs: the Mehler (Hermite) expansion with Faddeeva coefficients
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _tanh_derivative_polynomial(m: int) -> sp.Poly:
    """P_m with d^m/dy^m tanh(y) = P_m(tanh y): P_0 = t, P_{m+1} = (1 - t^2) P_m'."""
    t = sp.Symbol("t")
    p = t
    for _ in range(m):
        p = sp.expand((1 - t**2) * sp.diff(p, t))
    return sp.Poly(p, t)


def tanh_family(f: sp.Expr, u: sp.Symbol, max_order: int = 6):
    """(a, b, m, alpha) with f = a + b P_m(tanh(alpha u)), i.e. f = a + b alpha^-m
    d^m/du^m tanh(alpha u); None if f is not of that form."""
    tanhs = f.atoms(sp.tanh)
    if len(tanhs) != 1:
        return None
    (th,) = tanhs
    lc = linear_coefficients(th.args[0], u)
    if lc is None or lc[1] != 0 or not lc[0].is_positive:
        return None
    t = sp.Symbol("t")
    poly_expr = f.xreplace({th: t})
    if poly_expr.has(u):
        return None
    try:
        poly = sp.Poly(sp.expand(poly_expr), t)
    except sp.PolynomialError:
        return None
    for m in range(max_order + 1):
        pm = _tanh_derivative_polynomial(m)
        if poly.degree() != pm.degree():
            continue
        b = sp.simplify(poly.LC() / pm.LC())
        rest = sp.expand(poly.as_expr() - b * pm.as_expr())
        if not rest.has(t):
            return rest, b, m, lc[0]
    return None


class MehlerPoleRule(Rule):
    """E[f(u1) g(u2)] for f, g affine in a derivative of tanh: the Mehler series
    E[f]E[g] + sum_{n>=1} rho^n/n! E[f^(n)] E[g^(n)] (Price's theorem, Taylor-expanded at
    rho = 0), each E[f^(n)] = b alpha^n E[tanh^(m+n)(y)] a Faddeeva series. Valid for
    |rho| < sqrt(q1 q2)."""

    name = "Mehler expansion with Faddeeva coefficients"
    acts_on = "pair"
    expensive = True  # a last resort: after conditioning and Price's theorem failed

    def applies(self, factors: Factors, m: PairMeasure) -> bool:
        f, g = factors
        return tanh_family(f, m.u1) is not None and tanh_family(g, m.u2) is not None

    def apply(self, factors: Factors, m: PairMeasure, engine) -> sp.Expr:
        f, g = factors
        a1, b1, m1, al1 = tanh_family(f, m.u1)
        a2, b2, m2, al2 = tanh_family(g, m.u2)
        n = sp.Symbol("n", integer=True, positive=True)
        mean_f = engine.expect_integrand(f, Measure(m.u1, sp.S.Zero, m.q1))
        mean_g = engine.expect_integrand(g, Measure(m.u2, sp.S.Zero, m.q2))
        series = sp.Sum(b1 * b2 * (m.rho * al1 * al2) ** n / sp.factorial(n)
                        * tanh_moment(n + m1, al1**2 * m.q1) * tanh_moment(n + m2, al2**2 * m.q2),
                        (n, 1, sp.oo))
        value = mean_f * mean_g + series
        engine.record(m.expectation(f * g), value, self.name,
                      "Price's theorem at rho = 0 gives the Taylor (Mehler/Hermite) series "
                      "sum_n rho^n/n! E[f^(n)] E[g^(n)]; each coefficient is "
                      "E[tanh^(k)(y)], a Faddeeva series over the poles")
        return value
