"""The pole-expansion rule: expectations of logistic-family integrands as Faddeeva series.

An integrand that is a rational function of exp(c x) with poles only on the logistic lattice
is a polynomial P in T = tanh(alpha x) (sigmoid, softplus' = sigmoid, tanh, sech^2, their
derivatives; ``logistic_form`` finds alpha and P). The rule then carries out the pole
expansion itself:

* poles: tanh(y) has simple poles at a_k = i pi (k + 1/2), and tanh(a_k + e) = coth(e), so
  P(tanh y) has the same principal part sum_m c_m (y - a_k)^-m at every pole: the negative
  powers of the Laurent series of P(coth e) (from e coth e = sum_j 4^j B_2j e^2j/(2j)!);
* Mittag-Leffler: P(tanh y) = C + sum_k sum_m c_m (y - a_k)^-m (conjugate poles paired),
  C = P(1) - c_1 (at Re y -> +oo the sums of (y - a_k)^-m vanish for m >= 2, and the
  symmetric sum of (y - a_k)^-1 is tanh y -> 1);
* Faddeeva: for y ~ N(0, v) and Im a > 0, E[(y - a)^-1] = i sqrt(pi/(2v)) w(a/sqrt(2v)),
  and E[(y - a)^-m] is its (m-1)-th a-derivative over (m-1)!; a conjugate pole contributes
  the conjugate, so each pair gives 2 Re E[(y - a_k)^-m] (zero for odd m: w(iY) is real).

Powers of x in front (x tanh(x/2), SiLU) are lowered first by Stein's lemma. The Mehler
rule for pairs uses the same form: f = a + b P_m(tanh(alpha u)) with P_m(tanh) = tanh^(m).
"""
from __future__ import annotations

from functools import lru_cache
from math import gcd

import sympy as sp

from ..faddeeva import faddeeva, pole_pair_expectation, tanh_moment
from ..normal_form import NotTractable, Term
from ..simplify import merge_series
from .base import Factors, Measure, PairMeasure, Rule, expect_pieces

#: The summation index of the pole series.
k = sp.Symbol("k", integer=True, nonnegative=True)
_V = sp.Dummy("v", positive=True)
#: Stands for tanh(alpha x) in the polynomial form.
_T = sp.Symbol("T")
#: Highest degree in tanh handled (the principal parts have as many terms).
MAX_TANH_DEGREE = 16
_LOGISTIC_FUNCTIONS = (sp.exp, sp.tanh, sp.sech, sp.cosh, sp.sinh, sp.coth, sp.csch)


# ------------------------------------------------------------------------------------------
# Recognising the logistic family
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=2048)
def logistic_form(expr: sp.Expr, x: sp.Symbol) -> tuple[sp.Expr, sp.Poly] | None:
    """(alpha, P) with expr = P(tanh(alpha x)), alpha > 0, P a polynomial; None otherwise.

    expr must be a rational function of exponentials and hyperbolic functions of c x (no
    offset), whose poles all lie on the lattice of tanh(alpha x)."""
    if not expr.has(x):
        return None
    atoms = [a for a in expr.atoms(sp.Function) if a.has(x)]
    if not atoms or any(not isinstance(a, _LOGISTIC_FUNCTIONS) for a in atoms):
        return None
    direct = _tanh_polynomial(expr, x, atoms)
    if direct is not _UNDECIDED:
        return direct
    exponential = expr.rewrite(sp.exp)
    slopes = []
    for e in exponential.atoms(sp.exp):
        if not e.has(x):
            continue
        arg = sp.expand(e.args[0])
        slope = sp.cancel(arg / x)
        if slope.has(x) or not (slope.is_Rational or slope.is_positive or slope.is_negative):
            return None
        slopes.append(slope)
    if not slopes or any(s.free_symbols for s in slopes):
        return _symbolic_slope_form(exponential, x, slopes)
    unit = min(abs(s) for s in slopes)
    E = sp.Dummy("E", positive=True)
    powers = [s / unit for s in slopes]
    if any(not p.is_Integer for p in powers):
        return None
    rational = sp.cancel(exponential.replace(
        lambda e: isinstance(e, sp.exp) and e.has(x),
        lambda e: E ** (sp.cancel(sp.expand(e.args[0]) / x) / unit)))
    if rational.has(x):
        return None
    num, den = sp.fraction(rational)
    try:
        exponents = [m[0] for part in (num, den) for m in sp.Poly(part, E).monoms()]
    except sp.PolynomialError:
        return None
    step = 0
    for e_ in exponents:
        step = gcd(step, int(e_))
    step = max(step, 1)
    alpha = unit * step / 2   # exp(2 alpha x) = E^step = (1 + T)/(1 - T)
    in_t = sp.cancel(rational.subs(E, ((1 + _T) / (1 - _T)) ** sp.Rational(1, step)))
    num, den = sp.fraction(in_t)
    if den.has(_T):
        return None
    try:
        poly = sp.Poly(sp.expand(num / den), _T)
    except sp.PolynomialError:
        return None
    if poly.degree() > MAX_TANH_DEGREE or any(c.has(x) for c in poly.all_coeffs()):
        return None
    return alpha, poly


#: _tanh_polynomial's answer when it cannot decide (the general route then does).
_UNDECIDED = object()


def _tanh_polynomial(expr: sp.Expr, x: sp.Symbol, atoms: list[sp.Expr]):
    """logistic_form's answer read off directly when expr is already a polynomial with
    rational coefficients in one tanh(alpha x), alpha a positive rational (SiLU's
    derivatives, tanh's powers): (alpha, P), or None beyond MAX_TANH_DEGREE; _UNDECIDED
    for anything else. The general route reaches the same pair through the exponentials
    (P((E^2 - 1)/(E^2 + 1)), E = exp(alpha x): the lattice step is 2, and E^2 = (1 + T)/(1 - T)
    gives P(T) back), but its ``cancel`` of that degree-2d rational function in E costs
    seconds at tanh^12 and more, for every term of a pole expansion (SiLU's mu_3)."""
    if len(atoms) != 1 or not isinstance(atoms[0], sp.tanh):
        return _UNDECIDED
    (atom,) = atoms
    alpha, rest = atom.args[0].as_coeff_Mul()
    if rest != x or not alpha.is_Rational or not alpha.is_positive:
        return _UNDECIDED
    in_t = expr.xreplace({atom: _T})
    if in_t.has(x):
        return _UNDECIDED
    try:
        poly = sp.Poly(sp.expand(in_t), _T)
    except sp.PolynomialError:
        return _UNDECIDED
    if not (poly.domain.is_ZZ or poly.domain.is_QQ) or poly.degree() < 1:
        return _UNDECIDED
    if poly.degree() > MAX_TANH_DEGREE:
        return None   # refused by the general route too (the same bound)
    return alpha, poly


def _symbolic_slope_form(exponential, x, slopes):
    """Slopes with a common positive symbolic factor (tanh(b x), b > 0): read the form in
    y = b x, then alpha = b alpha_y."""
    if not slopes:
        return None
    base = slopes[0]
    if not base.is_positive or any(not sp.cancel(s / base).is_Rational for s in slopes):
        return None
    y = sp.Dummy("y", real=True)
    in_y = exponential.subs(x, y / base)
    if in_y.has(x) or in_y.free_symbols & base.free_symbols:
        return None
    found = logistic_form(in_y, y)
    if found is None:
        return None
    alpha, poly = found
    return alpha * base, poly


# ------------------------------------------------------------------------------------------
# Principal parts and the Mittag-Leffler series
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _coth_series(order: int) -> tuple[sp.Rational, ...]:
    """Coefficients of e coth e = sum_j 4^j B_2j e^2j/(2j)! up to e^order."""
    out = [sp.S.Zero] * (order + 1)
    for j in range(order // 2 + 1):
        out[2 * j] = sp.Integer(4) ** j * sp.bernoulli(2 * j) / sp.factorial(2 * j)
    return tuple(out)


def principal_part(poly: sp.Poly) -> dict[int, sp.Expr]:
    """{m: c_m}: the principal part sum_m c_m e^-m of P(coth e) at e = 0."""
    degree = poly.degree()
    u = _coth_series(degree)
    parts: dict[int, sp.Expr] = {}
    power = [sp.S.One] + [sp.S.Zero] * degree   # u^0 as a truncated series
    for d in range(degree + 1):
        coefficient = poly.coeff_monomial(_T**d)
        if d and coefficient != 0:
            for i in range(d):   # e^(i - d) from u^d's coefficient of e^i
                if power[i] != 0:
                    parts[d - i] = parts.get(d - i, sp.S.Zero) + coefficient * power[i]
        power = [sum(power[i] * u[j - i] for i in range(j + 1)) for j in range(degree + 1)]
    return {m: sp.expand(c) for m, c in parts.items() if sp.expand(c) != 0}


def pole_series(poly: sp.Poly, v: sp.Expr) -> sp.Expr:
    """E[P(tanh y)], y ~ N(0, v), as C + Sum_k sum_m c_m 2 Re E[(y - a_k)^-m]."""
    parts = principal_part(poly)
    constant = sp.expand(poly.as_expr().subs(_T, 1) - parts.get(1, 0))
    summand = sp.S.Zero
    K = k + sp.Rational(1, 2)
    for m, c in sorted(parts.items()):
        if m % 2 == 0:   # odd orders: 2 Re of an imaginary number
            summand += c * pole_pair_expectation(m, v, K)
    if summand == 0:
        return constant
    return constant + merge_series(sp.Sum(sp.expand(summand), (k, 0, sp.oo)))


@lru_cache(maxsize=None)
def sech_moment_series(m: int) -> sp.Expr:
    """E[sech^(2m)(y)], y ~ N(0, v), as a Faddeeva series in the variance symbol _V (the
    pole expansion of P(T) = (1 - T^2)^m)."""
    if m == 0:
        return sp.S.One
    return pole_series(sp.Poly((1 - _T**2) ** m, _T), _V)


# ------------------------------------------------------------------------------------------
# The rule
# ------------------------------------------------------------------------------------------
def _integrand(term: Term, x: sp.Symbol) -> sp.Expr:
    return term.copy(coeff=sp.S.One, power=0).rebuild(x, coeff=False)


class PoleExpansionRule(Rule):
    """E[x^n P(tanh(alpha x))] for centred x: Stein's lemma for the powers of x, then the
    Mittag-Leffler series of P(tanh) with Faddeeva values."""

    name = "pole expansion (Mittag-Leffler) and Faddeeva series"
    acts_on = "term"

    def applies(self, term: Term, m: Measure) -> bool:
        if m.mean != 0 or term.quad or term.erfs or term.steps or term.deltas or not term.other:
            return False
        found = logistic_form(_integrand(term, m.x), m.x)
        # Stein's lemma lowers x^n by differentiating P(tanh) up to n times, each raising the
        # degree by exactly one: beyond MAX_TANH_DEGREE the last branch is refused, so refuse
        # now rather than after expanding every other branch (SiLU's mu_3: 5 minutes)
        return found is not None and found[1].degree() + term.power <= MAX_TANH_DEGREE

    def apply(self, term: Term, m: Measure, engine) -> sp.Expr:
        x = m.x
        g = _integrand(term, x)
        if term.power:
            n = term.power
            # Stein's lemma: E[x^n g] = (n - 1) s E[x^(n-2) g] + s E[x^(n-1) g']
            lowered = (n - 1) * m.var * x ** (n - 2) * g if n >= 2 else sp.S.Zero
            reduced = lowered + m.var * x ** (n - 1) * sp.diff(g, x)
            engine.record(m.expectation(term.rebuild(x)), term.coeff * m.expectation(reduced),
                          "Stein's lemma", "E[x g(x)] = s E[g'(x)] lowers the power of x")
            return term.coeff * merge_series(sp.expand(expect_pieces(reduced, m, engine)))
        alpha, poly = logistic_form(g, x)
        variance = alpha**2 * m.var
        value = pole_series(poly, variance)
        tanh = sp.tanh(alpha * x)
        engine.record(m.expectation(term.rebuild(x)),
                      term.coeff * m.expectation(poly.as_expr().subs(_T, tanh)),
                      "polynomial in tanh",
                      f"a rational function of exp({sp.sstr(2 * alpha * x)}) with poles on the "
                      f"logistic lattice is a polynomial in tanh({sp.sstr(alpha * x)})")
        parts = principal_part(poly)
        shown = " + ".join(f"{sp.sstr(c)}/(y - a_k)^{p}" for p, c in sorted(parts.items()))
        engine.record(m.expectation(poly.as_expr().subs(_T, tanh)), value, self.name,
                      f"principal part at every pole a_k = i pi (k + 1/2) of P(tanh y), "
                      f"y = {sp.sstr(alpha * x)}: {shown or '0'}; E[(y - a)^-m] from "
                      f"i sqrt(pi/(2v)) w(a/sqrt(2v)) by a-derivatives; conjugate poles pair up")
        return term.coeff * value


# ------------------------------------------------------------------------------------------
# Pairs: the Mehler (Hermite) expansion with Faddeeva coefficients
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _tanh_derivative_polynomial(m: int) -> sp.Poly:
    """P_m with d^m/dy^m tanh(y) = P_m(tanh y): P_0 = t, P_{m+1} = (1 - t^2) P_m'."""
    p = _T
    for _ in range(m):
        p = sp.expand((1 - _T**2) * sp.diff(p, _T))
    return sp.Poly(p, _T)


def tanh_family(f: sp.Expr, u: sp.Symbol, max_order: int = 6):
    """(a, b, m, alpha) with f = a + b P_m(tanh(alpha u)), i.e. f = a + b alpha^-m
    d^m/du^m tanh(alpha u); None if f is not of that form (any logistic-family spelling:
    tanh, sigmoid, exp(u)/(1 + exp(u)), sech^2, ...)."""
    found = logistic_form(f, u)
    if found is None:
        return None
    alpha, poly = found
    for m in range(max_order + 1):
        pm = _tanh_derivative_polynomial(m)
        if poly.degree() != pm.degree():
            continue
        b = sp.cancel(poly.LC() / pm.LC())
        rest = sp.expand(poly.as_expr() - b * pm.as_expr())
        if not rest.has(_T):
            return rest, b, m, alpha
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


__all__ = ["MehlerPoleRule", "PoleExpansionRule", "logistic_form", "pole_series",
           "principal_part", "sech_moment_series", "tanh_family"]
