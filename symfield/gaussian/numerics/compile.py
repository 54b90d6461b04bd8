"""Turn SymPy expressions (possibly holding unevaluated expectations) into numeric functions.

The expression is lambdified with each ``Expectation`` replaced by a placeholder; each
expectation's integrand and variance are lambdified separately and fed to the quadrature of
:mod:`.quadrature`. Lambdify only ever sees expressions the engine built (never user text).
"""
from __future__ import annotations

from typing import Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from ...errors import PrecisionError, SymfieldError
from ...piecewise import parity
from ...expectation import Expectation, bivariate_expectation
from ..faddeeva import tanh_moment
from ..simplify import merge_series
from ..structure import jointly_even, kinks, separate
from . import angles
from .arctangents import NP_FUNCTIONS as _ARCTANGENT_FUNCTIONS, arctangent_end
from .faddeeva_values import MP_FUNCTIONS, NP_FUNCTIONS
from .small_variance import small_variance_series
from .mehler import MehlerSeries
from .quadrature import (SeparablePair, expect2_mp, expect2_np, expect_difference_mp,
                         expect_difference_np, expect_difference_split_np,
                         expect_mp, expect_mp_split, expect_np, expect_split_np)
from .series import CompiledSeries


def _mp_heaviside(a, h0=0.5):
    return mpmath.mpf(1) if a > 0 else (mpmath.mpf(0) if a < 0 else mpmath.mpf(h0))


MP_MODULES = [{"Heaviside": _mp_heaviside, "sign": mpmath.sign, **MP_FUNCTIONS,
               **angles.MP_FUNCTIONS}, "mpmath"]


def _np_arcsin(a):
    # Arguments of the arcsin kernels are |.| <= 1 mathematically; rounding may step over.
    return np.arcsin(np.minimum(np.maximum(a, -1.0), 1.0))  # np.clip is several times slower


def _np_arccos(a):
    return np.arccos(np.minimum(np.maximum(a, -1.0), 1.0))


class _nonnegative(sp.Function):
    """max(x, 0) in float64: the radicand of a law is >= 0 on its domain, but rounding can
    leave a negative residue (q1*q2 - rho**2 at rho = sqrt(q1*q2)), which sqrt turns into NaN."""


def _clamp_radicands(expr: sp.Expr) -> sp.Expr:
    """sqrt(a + b) -> sqrt(max(a + b, 0)) (any fractional power of a sum not provably
    positive on the domain: it vanishes on an edge, where rounding can step below 0), for
    float64 only."""
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and not e.exp.is_Integer
        and e.base.is_Add and e.base.is_real is not False and not angles.positive(e.base),
        lambda e: sp.Pow(_nonnegative(e.base), e.exp, evaluate=False))


class _pair_gap(sp.Function):
    """q1 q2 - rho^2 >= 0 of a pair covariance, computed as (J - rho)(J + rho) with one root
    J = sqrt(q1 q2) (float64 only): q2 + 1 - rho^2/q1 in GELU's kernel is 1 + gap/q1, which
    float64 rounded to 0 at q = 1e37, c = 1 (NaN)."""

    def _eval_is_nonnegative(self):
        return True

    def _eval_is_real(self):
        return True


#: Veltkamp's splitting constant 2^27 + 1 (a float64 as the sum of two 26-bit halves).
_SPLIT = 134217729.0


def _two_product(a, b):
    """(p, e) with p = fl(a b) and a b = p + e exactly (Dekker), |a|, |b| < 1e290."""
    p = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    a_hi, b_hi = ca - (ca - a), cb - (cb - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _np_pair_gap(a, b, r):
    """q1 q2 - rho^2 from error-free products: within an ulp of the gap of the float64
    inputs themselves (sign's E[phi' phi'] = 2/(pi sqrt(gap)) is finite an ulp inside
    |c| = 1); (J - rho)(J + rho) where the products would overflow or lose their tails."""
    with np.errstate(all="ignore"):
        p, e = _two_product(a, b)
        s, f = _two_product(r, r)
        exact = (p - s) + (e - f)
        root = np.sqrt(a * b)
        rounded = (root - r) * (root + r)
        safe = np.isfinite(exact) & (np.abs(p) < 1e290) & (np.abs(p) > 1e-250)
    return np.maximum(np.where(safe, exact, rounded), 0.0)


def _pair_symbols(expr: sp.Expr):
    """(q1, q2, rho) among expr's symbols, or None."""
    by_name = {s.name: s for s in expr.free_symbols}
    found = [by_name.get(n) for n in ("q1", "q2", "rho")]
    return None if None in found else found


def _with_pair_gap(expr: sp.Expr, pair) -> sp.Expr:
    """rho^2 -> q1 q2 - gap in expr, cancelled: the gap then appears by itself."""
    a, b, r = pair
    gap = _pair_gap(a, b, r)
    out = expr.replace(lambda t: t.is_Pow and t.base == r and t.exp.is_Integer and t.exp >= 2,
                       lambda t: (a * b - gap) ** (t.exp // 2) * r ** (t.exp % 2))
    return sp.factor(sp.cancel(out))


def _expanded_in_pair_gap(polynomial: sp.Expr) -> sp.Expr:
    """An expanded numerator with rho^2 written as q1 q2 - gap (when it holds the pair gap):
    its terms of the highest orders in the variances cancel symbolically."""
    pair = _pair_symbols(polynomial)
    if pair is None or not polynomial.has(_pair_gap):
        return sp.expand(polynomial)
    a, b, r = pair
    gap = _pair_gap(a, b, r)
    return sp.expand(polynomial.replace(
        lambda t: t.is_Pow and t.base == r and t.exp.is_Integer and t.exp >= 2,
        lambda t: (a * b - gap) ** (t.exp // 2) * r ** (t.exp % 2)))


def _pair_gap_form(expr: sp.Expr) -> sp.Expr:
    """float64 only: in the radicands and arcsine arguments of a law of a pair covariance
    (q1, q2, rho), rho^2 is written as q1 q2 - gap and cancelled, so q1 q2 - rho^2 (and
    q2 + 1 - rho^2/q1) is the gap computed directly, never a difference of two rounded
    numbers of size q1 q2; a factor q1 q2 - gap left over is rho^2 again."""
    if not isinstance(expr, sp.Basic):
        return expr
    pair = _pair_symbols(expr)
    if pair is None:
        return expr
    a, b, r = pair
    gap = _pair_gap(a, b, r)

    def has_square(t):
        return any(p.base == r and p.exp.is_Integer and p.exp >= 2 for p in t.atoms(sp.Pow))

    def algebraic(t):  # a sum in rho^2 without the law's angle (not the whole law)
        return t.is_Add and has_square(t) and not t.has(sp.asin, sp.acos, sp.atan2)

    out = expr.replace(
        lambda t: t.is_Pow and algebraic(t.base),
        lambda t: sp.Pow(_with_pair_gap(t.base, pair), t.exp))
    out = out.replace(
        lambda t: t.is_Mul and any(algebraic(f) for f in t.args),
        lambda t: sp.Mul(*[_with_pair_gap(f, pair) if algebraic(f) else f for f in t.args]))
    out = out.replace(lambda t: isinstance(t, (sp.asin, sp.acos)) and has_square(t.args[0]),
                      lambda t: t.func(_with_pair_gap(t.args[0], pair)))
    square = sp.expand(a * b - gap)
    return out.replace(lambda t: t.is_Add and t.has(gap) and sp.expand(t - square) == 0,
                       lambda t: r**2)


def _gaps(atom: sp.Expr, pair_gaps: bool = False) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """(N, D, D^2 - N^2) of asin(N/D) or acos(N/D) with D > 0 on the domain, D^2 - N^2
    factored symbolically (or, for a pair covariance, in its gap: (q1 + 1)(q2 + 1) - rho^2
    = gap + q1 + q2 + 1, positive and free of cancellation); None otherwise."""
    num, den = sp.fraction(sp.together(atom.args[0]))
    if num.is_real is not True or not angles.positive(den):
        return None
    pair = _pair_symbols(atom) if pair_gaps else None
    if pair is not None and not atom.has(_pair_gap):
        in_gap = _with_pair_gap(sp.expand(den**2 - num**2), pair)
        on_domain = angles._on_domain(in_gap)
        if in_gap.has(_pair_gap) and on_domain.xreplace(
                {g: sp.Dummy(nonnegative=True) for g in on_domain.atoms(_pair_gap)}).is_nonnegative:
            return num, den, in_gap
    return num, den, angles.squared_gap(num, den)


def _clamped(gap: sp.Expr) -> sp.Expr:
    return gap if angles.positive(gap) else _nonnegative(gap)


def _stable_angles(expr: sp.Expr, pair_gaps: bool = False) -> sp.Expr:
    """asin(N/D) -> atan2(N, sqrt(D^2 - N^2)) and acos(N/D) -> atan2(sqrt(...), N) for D > 0
    on the domain, for float64 only, with D^2 - N^2 factored symbolically; a radicand that is
    a positive multiple of D^2 - N^2 is computed from the same factored form.

    Near N/D = +-1 the rounded quotient carries an error of one ulp, which asin's infinite
    slope turns into sqrt(ulp) (1e-8 at rho = sqrt(q1 q2), 5e-9 for the overlap map at
    C = A(1 - 5e-14) with a large sigma_b); D^2 - N^2 = sigma_w^2 (A - C)(sigma_w^2 (A + C)
    + 2 sigma_b^2), or q1 q2 - rho^2 (exactly 0 when rho^2 = q1 q2 in float64), keeps the
    angle accurate to a few ulps of the inputs. The angle and sqrt(q1 q2 - rho^2) must come
    from the *same* gap: the ReLU kernel's terms in each are large near c = 1 and only their
    consistent combination is well conditioned. ``pair_gaps``: a pair covariance's gap may
    be the ``_pair_gap`` function (numpy only: the exported source has no such function)."""
    gaps = {}
    for atom in expr.atoms(sp.asin, sp.acos):
        found = _gaps(atom, pair_gaps)
        if found is not None:
            gaps[atom] = found

    def angle(e):
        if e not in gaps:
            return e
        num, _den, gap = gaps[e]
        side = sp.sqrt(_clamped(gap))
        return sp.atan2(num, side) if isinstance(e, sp.asin) else sp.atan2(side, num)

    def radicand(e):
        for _num, _den, gap in gaps.values():
            ratio = sp.cancel(e.base / gap)
            if not ratio.has(sp.Add) and angles.positive(ratio):
                return sp.Pow(sp.Mul(ratio, _clamped(gap)), e.exp, evaluate=False)
        return e

    if gaps:
        expr = expr.replace(lambda e: isinstance(e, sp.Pow) and e.base.is_Add
                            and e.exp.is_Rational and not e.exp.is_Integer, radicand)
    return expr.replace(lambda e: isinstance(e, (sp.asin, sp.acos)), angle)


class _expm1(sp.Function):
    """exp(x) - 1 computed directly (float64 only: 1 - exp(-2q) at q = 1e-6)."""


class _expdiff(sp.Function):
    """exp(a) - exp(b) as exp(max) (1 - exp(-|a - b|)) with expm1 (float64 only): neither
    cancels near a = b (sinh(rho) exp(-q) at rho = 1e-8) nor overflows (rho = 1e3)."""


def _np_expdiff(a, b, gap):
    """exp(a) - exp(b) with gap = a - b simplified symbolically (rho - s and -rho - s: 2 rho,
    not the difference of two rounded numbers)."""
    top = np.maximum(a, b)
    sign = np.where(gap >= 0, 1.0, -1.0)
    return -sign * np.exp(top) * np.expm1(-np.abs(gap))


class _erfcx(sp.Function):
    """exp(x^2) erfc(x) (float64 only: exp(2q) erfc(sqrt(2q)) overflows times underflows)."""


#: Products of sums larger than this are not expanded to merge exponentials.
_MAX_EXPANDED_TERMS = 16


def _merge_exponentials(expr: sp.Expr) -> sp.Expr:
    """exp(a) exp(b) -> exp(a + b), also through a sum of exponentials it multiplies
    ((exp(rho) - exp(-rho)) exp(-q1/2) exp(-q2/2), the sine kernel): each factor alone may
    overflow or underflow float64 where their product is moderate."""
    def exps(e):
        return [f for f in sp.Mul.make_args(e) if isinstance(f, sp.exp)]

    def merge(product):
        # the expansion stays in the numerator: distributing over a denominator's sum turns
        # one fraction into several whose difference cancels (cos's correlation-map slope:
        # (exp(c q) - exp(-c q)) exp(-q) / D became two fractions with exp(c q) moved into
        # their denominators, 4e-8 off at q = 1e-8)
        divisors = [f for f in product.args
                    if f.is_Pow and f.base.is_Add and f.exp.is_negative]
        numerator = sp.Mul(*[f for f in product.args if f not in divisors])
        sums = [f for f in sp.Mul.make_args(numerator)
                if f.is_Add and any(exps(t) for t in f.args)]
        size = 1
        for f in sums:
            size *= len(f.args)
        if sums and exps(numerator) and size <= _MAX_EXPANDED_TERMS:
            numerator = sp.expand_mul(numerator)
        return sp.Mul(sp.powsimp(numerator, combine="exp"), *divisors)

    return expr.replace(
        lambda e: e.is_Mul and (len(exps(e)) > 1 or (exps(e) and any(
            f.is_Add and any(exps(t) for t in f.args) for f in e.args))),
        merge)


def _complements(total: sp.Expr) -> sp.Expr:
    """In a sum, c R exp(a) erf(b) - c R exp(a) -> -c R exp(a - b^2) erfcx(b) (b >= 0 on the
    domain), c R erf(b) - c R -> -c R erfc(b), c R exp(a) - c R -> c R expm1(a) and
    c R exp(a) - c R exp(a') -> c R expdiff(a, a'): each
    pair cancels where its parts tend to the same value, its difference is computed directly."""
    terms = list(sp.Add.make_args(total))

    def split(term):
        coeff, rest = term.as_coeff_Mul()
        factors = sp.Mul.make_args(rest)
        exp_f = [f for f in factors if isinstance(f, sp.exp)]
        erf_f = [f for f in factors if isinstance(f, sp.erf)]
        others = sp.Mul(*[f for f in factors if f not in exp_f and f not in erf_f])
        if len(erf_f) > 1:
            return None
        # exp(a) exp(b) is exp(a + b): products the merge above left apart (an expansion that
        # distributed exp(q) into a denominator's sum: sigma_w^2 exp(c q) (exp(q) - exp(-q)))
        return (coeff, others, sp.expand(sp.Add(*[f.args[0] for f in exp_f])),
                erf_f[0].args[0] if erf_f else None)

    parts = [split(t) for t in terms]
    used: set[int] = set()
    out = []
    for i, pi in enumerate(parts):
        if i in used or pi is None:
            continue
        coeff, others, a, b = pi
        for j, pj in enumerate(parts):
            if j == i or j in used or pj is None or pj[0] != -coeff or pj[1] != others:
                continue
            if b is not None and pj[3] is None and pj[2] == a:
                # coeff R exp(a) (erf(b) - 1)
                if not angles.positive(b):
                    continue
                shifted = sp.expand(a - b**2)
                out.append(-coeff * others * sp.exp(shifted) * _erfcx(b))
            elif b is None and pj[3] is None and a != 0 and pj[2] == 0:
                out.append(coeff * others * _expm1(a))          # coeff R (exp(a) - 1)
            elif b is None and pj[3] is None and a != 0 and pj[2] != 0:
                out.append(coeff * others * _expdiff(a, pj[2], sp.expand(a - pj[2])))
            else:
                continue
            used.update((i, j))
            break
    if not used:
        return total
    return sp.Add(*out, *[t for k, t in enumerate(terms) if k not in used])


def _reciprocal_roots(term: sp.Expr):
    """(k, [B_i]) with term = k prod B_i^(-1/2), the B_i sums, k free of such roots."""
    bases, rest = [], []
    for f in sp.Mul.make_args(term):
        if f.is_Pow and f.exp == -sp.Rational(1, 2) and f.base.is_Add:
            bases.append(f.base)
        else:
            rest.append(f)
    return sp.Mul(*rest), bases


def _root_differences(total: sp.Expr) -> sp.Expr:
    """In a sum, k/sqrt(P) - k/sqrt(Q) -> k (Q - P)/(sqrt(P) sqrt(Q) (sqrt(P) + sqrt(Q)))
    with Q - P expanded and factored symbolically (P, Q products of sums, float64 only):
    the Gaussian bump's distance map 2/sqrt(1 + 4v) - 2/(sqrt(1 + x) sqrt(1 + 4v - x))
    cancelled to x (4v - x) at small variances, which the difference computes directly."""
    terms = list(sp.Add.make_args(total))
    parts = [_reciprocal_roots(t) for t in terms]
    for i, (k, first) in enumerate(parts):
        for j, (other, second) in enumerate(parts):
            if j <= i or not first or not second or sp.cancel(k + other) != 0:
                continue
            P, Q = sp.Mul(*first), sp.Mul(*second)
            gap = sp.factor(sp.expand(Q - P))
            if gap.is_Add:   # nothing cancelled symbolically: leave the pair as it is
                continue
            root_p = sp.Mul(*[sp.sqrt(b) for b in first])
            root_q = sp.Mul(*[sp.sqrt(b) for b in second])
            merged = k * gap / (root_p * root_q * (root_p + root_q))
            return sp.Add(merged, *[t for n, t in enumerate(terms) if n not in (i, j)])
    return total


def _stable_root_differences(expr: sp.Expr) -> sp.Expr:
    """``_root_differences`` in every sum of expr (float64 only)."""
    return expr.replace(lambda e: e.is_Add and len(e.args) >= 2 and sum(
        1 for t in e.args if _reciprocal_roots(t)[1]) >= 2, _root_differences)


def _exponent_and_rest(term: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(a, R) with term = R exp(a), a the sum of term's exponential factors' arguments
    cancelled to one fraction (0 without any): equal exponents written apart compare equal."""
    factors = sp.Mul.make_args(term)
    exps = [f for f in factors if isinstance(f, sp.exp)]
    rest = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
    return sp.cancel(sp.Add(*[f.args[0] for f in exps])), rest


#: Sums with more terms than this (after distributing products) are not regrouped.
_MAX_GROUPED_TERMS = 24


def _distributed(expr: sp.Expr) -> list[sp.Expr]:
    """The terms of expr with its products distributed over the sums in their numerators
    that hold exponentials (never into a denominator: sp.expand_mul moves exp(a) into one)."""
    if expr.is_Add:
        return [t for a in expr.args for t in _distributed(a)]
    if not expr.is_Mul:
        return [expr]
    sums = [f for f in expr.args if f.is_Add and f.has(sp.exp)]
    if not sums:
        return [expr]
    out = [sp.Mul(*[f for f in expr.args if f not in sums])]
    for f in sums:
        out = [a * t for a in out for t in _distributed(f)]
        if len(out) > _MAX_GROUPED_TERMS:
            break
    return out


def _same_exponentials(total: sp.Expr) -> sp.Expr:
    """A sum of terms R_i exp(a) and S_j exp(b) (b = 0: terms without an exponential),
    products distributed, the R_i and S_j algebraic, some exponential met twice ->
    R exp(a) + S exp(b) with R = sum_i R_i, S = sum_j S_j each one factored fraction, written
    by ``_two_exponentials`` (float64 only): where the coefficients of an exponential cancel,
    they do so symbolically. Gabor's length-map slope E (16 q^2/(4q + 1)^2 - 12 q/(4q + 1) +
    2) + 4q/(4q + 1) - 1, E = exp(-2q/(4q + 1)), cancelled terms of size 1 to 1e-5 at q =
    1e4; R = 2 (2q + 1)/(4q + 1)^2, S = -1/(4q + 1). Other sums (three exponentials, a term
    with another function) stay as they are."""
    terms = _distributed(total)
    if len(terms) > _MAX_GROUPED_TERMS:
        return total
    groups: dict = {}
    for t in terms:
        a, rest = _exponent_and_rest(t)
        if rest.atoms(sp.Function):     # erf, roots of functions...: not algebraic
            groups.setdefault(None, []).append(t)
        else:
            groups.setdefault(a, []).append(rest)
    if None in groups or len(groups) != 2 or not any(
            len(rests) > 1 for a, rests in groups.items() if a != 0):
        return total
    (a, first), (b, second) = sorted(groups.items(), key=lambda g: g[0] == 0)
    return _two_exponentials(a, sp.Add(*first), b, sp.Add(*second))


def _two_exponentials(a, R, b, S) -> sp.Expr:
    """R exp(a) + S exp(b) -> ((R + S)(exp(a) + exp(b)) + (R - S)(exp(a) - exp(b)))/2 with
    R + S and R - S each one factored fraction and exp(a) - exp(b) from the gap a - b
    (expm1(a) for b = 0), float64 only: where R ~ -S and a ~ b (gabor's correlation-map
    slope at large q, both exponents near -1/2) neither part is a difference of rounded
    numbers of size 1, and where R ~ S the difference of the exponentials is direct."""
    total = sp.factor(sp.cancel(R + S))
    difference = sp.factor(sp.cancel(R - S))
    if b == 0:
        change = _expm1(a)
    else:
        change = _expdiff(a, b, sp.factor(sp.cancel(a - b)))
    return (total * (sp.exp(a) + sp.exp(b)) + difference * change) / 2


class _expquad(sp.Function):
    """exp(a) - exp(b) - exp(c) + exp(d), d = b + c - a, given as (a, d, b - a, c - a) with
    the gaps simplified symbolically: exp(a) expm1(b - a) expm1(c - a), from the larger of
    a and d (float64 only). cos's distance map 1 - exp(-x/2) - exp(x/2 - 2v) + exp(-2v)
    (v the variance, x = sigma_w^2 D) cancelled terms of size 1 to one of size x (4v - x)
    at small variances: it is (1 - exp(-x/2)) (1 - exp(x/2 - 2v))."""


def _np_expquad(a, d, g1, g2):
    """exp(a) expm1(g1) expm1(g2) = exp(d) expm1(-g1) expm1(-g2) (d - a = g1 + g2), taken
    from the larger exponent (its expm1 arguments then do not both grow)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        return np.where(a >= d, np.exp(a) * np.expm1(g1) * np.expm1(g2),
                        np.exp(d) * np.expm1(-g1) * np.expm1(-g2))


def _exponential_quadruples(total: sp.Expr) -> sp.Expr:
    """In a sum, k R (exp(a) - exp(b) - exp(c) + exp(d)) with a + d = b + c symbolically
    (a term without an exponential has a = 0) -> k R _expquad(a, d, b - a, c - a): the
    four terms' cancellation is the product of two differences, each computed directly."""
    terms = list(sp.Add.make_args(total))
    if len(terms) < 4 or len(terms) > _MAX_GROUPED_TERMS:
        return total
    parts = []
    for t in terms:
        coeff, rest = t.as_coeff_Mul()
        a, others = _exponent_and_rest(rest)
        parts.append(None if others.has(sp.erf, sp.erfc) else (coeff, others, a))
    for first, top in enumerate(parts):
        for last, bottom in enumerate(parts):
            if last <= first or top is None or bottom is None or bottom[:2] != top[:2] \
                    or bottom[2] == top[2]:
                continue
            k, R, a = top
            d = bottom[2]
            minus = [n for n, p in enumerate(parts) if p is not None
                     and n not in (first, last) and p[0] == -k and p[1] == R]
            for one in minus:
                for other in minus:
                    b, c = parts[one][2], parts[other][2]
                    if other <= one or b == a or c == a or sp.expand(a + d - b - c) != 0:
                        continue
                    quad = _expquad(a, d, sp.factor(sp.expand(b - a)),
                                    sp.factor(sp.expand(c - a)))
                    return sp.Add(k * R * quad, *[t for n, t in enumerate(terms)
                                                  if n not in (first, last, one, other)])
    return total


def _stable_exponentials(expr: sp.Expr) -> sp.Expr:
    """float64-only rewrites of exponential and error-function terms (see the helpers)."""
    if not expr.has(sp.exp, sp.erf):
        return expr
    expr = _merge_exponentials(expr)
    if expr.has(sp.exp):
        expr = expr.replace(lambda e: e.is_Add and e.has(sp.exp), _same_exponentials)
        expr = expr.replace(lambda e: e.is_Add and e.has(sp.exp), _exponential_quadruples)
    return expr.replace(lambda e: e.is_Add and e.has(sp.exp, sp.erf), _complements)


class _experfc(sp.Function):
    """exp(a) erfc(b), given also c = a - b^2 simplified (float64 only): exp(c) erfcx(b) for
    b > 0, where exp(a) alone overflows and erfc(b) underflows (ELU's conditional mean
    exp(m + s^2/2) erfc((m/s + s)/sqrt 2) at s^2 = 1e4), exp(a) erfc(b) otherwise."""


def _np_experfc(a, b, c):
    import scipy.special as sc

    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        return np.where(b > 0, np.exp(c) * sc.erfcx(np.maximum(b, 0.0)),
                        np.exp(np.minimum(a, 709.0)) * sc.erfc(b))


def _exp_times_erfc(expr: sp.Expr) -> sp.Expr:
    """exp(a) erfc(b) -> _experfc(a, b, a - b^2) in every product (the exponent of the
    erfcx form simplified symbolically: a - b^2 = -m^2/(2 s^2) there, where its float64
    difference of two numbers of size s^2 would lose every digit)."""
    def rewrite(product):
        exps = [f for f in product.args if isinstance(f, sp.exp)]
        erfcs = [f for f in product.args if isinstance(f, sp.erfc)]
        if len(exps) != 1 or len(erfcs) != 1:
            return product
        a, b = exps[0].args[0], erfcs[0].args[0]
        rest = sp.Mul(*[f for f in product.args if f not in (exps[0], erfcs[0])])
        return rest * _experfc(a, b, sp.simplify(sp.expand(a - b**2)))

    return expr.replace(lambda e: e.is_Mul and e.has(sp.erfc) and e.has(sp.exp), rewrite)


class _log1pexp(sp.Function):
    """log(1 + exp(x)) without overflow (float64 only: softplus at x = 1e4 is 1e4, not inf)."""


class _expit(sp.Function):
    """exp(x)/(1 + exp(x)) without inf/inf (float64 only)."""


def _exp_plus_one(e: sp.Expr):
    """a when e is exp(a) + 1, else None."""
    if not (e.is_Add and len(e.args) == 2 and sp.S.One in e.args):
        return None
    other = e.args[0] if e.args[1] == 1 else e.args[1]
    return other.args[0] if isinstance(other, sp.exp) else None


def _pair_function(e: Expectation, symbols: list) -> Callable:
    """The float64 integrand of an expectation; a two-variable product f(u1) g(u2) as a
    SeparablePair (the pair rule then evaluates f once per outer node)."""
    parts = separate(e.integrand, *e.variables) if e.dimension == 2 else None
    if parts is not None and parts[1].has(e.variables[0]) and parts[2].has(e.variables[1]):
        constant, first, second = parts
        return SeparablePair(*(sp.lambdify([v, *symbols], _stable_integrand(part),
                                           modules=np_modules())
                               for v, part in zip(e.variables, (constant * first, second))))
    return sp.lambdify([*e.variables, *symbols], _stable_integrand(e.integrand),
                       modules=np_modules())


def _stable_integrand(expr: sp.Expr) -> sp.Expr:
    """float64-only rewrites of an integrand whose float64 form overflows where the value is
    moderate (quadrature nodes reach 11 sd, u = 1.1e5 at q = 1e8): log(exp(a) + 1) ->
    log1pexp(a), exp(m a)/(exp(a) + 1)^k -> expit(a)^m expit(-a)^(k - m), and
    exp(a) Heaviside(-a) -> exp(min(a, 0)) Heaviside(-a) (ELU's slope: inf * 0 was NaN)."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.exp):
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.log) and _exp_plus_one(e.args[0]) is not None,
                        lambda e: _log1pexp(_exp_plus_one(e.args[0])))

    def logistic(product):
        # exp(m a)/(exp(a) + 1)^k = expit(a)^m expit(-a)^(k - m) for integers 0 < m <= k
        # (softplus' chi1 is E[exp(2x)/(exp(x) + 1)^2]: inf/inf beyond x = 355)
        factors = list(product.args)
        for i, f in enumerate(factors):
            if not (f.is_Pow and f.exp.is_Integer and f.exp < 0):
                continue
            a = _exp_plus_one(f.base)
            if a is None:
                continue
            k = -f.exp
            for j, g in enumerate(factors):
                if j == i or not isinstance(g, sp.exp):
                    continue
                m = sp.cancel(g.args[0] / a)
                if m.is_Integer and 0 < m <= k:
                    rest = [h for n, h in enumerate(factors) if n not in (i, j)]
                    return sp.Mul(_expit(a) ** m, _expit(-a) ** (k - m), *rest)
        return product

    def one_sided(product):
        steps = [f.args[0] for f in product.args if isinstance(f, sp.Heaviside)]
        return product.xreplace({f: sp.exp(sp.Min(f.args[0], 0)) for f in product.args
                                 if isinstance(f, sp.exp) and -f.args[0] in steps})

    expr = expr.replace(lambda e: e.is_Mul and e.has(sp.exp), logistic)
    return expr.replace(lambda e: e.is_Mul and e.has(sp.Heaviside) and e.has(sp.exp), one_sided)


def np_modules() -> list:
    """lambdify modules for float64."""
    import scipy.special as sc  # scipy loads on first numerical use, not on import

    return [{"asin": _np_arcsin, "acos": _np_arccos, "erf": sc.erf, "erfc": sc.erfc,
             "Heaviside": lambda a, h0=0.5: np.heaviside(a, h0),
             "_nonnegative": lambda a: np.maximum(a, 0.0), "_expm1": np.expm1,
             "_expdiff": _np_expdiff, "_expquad": _np_expquad,
             "_erfcx": sc.erfcx, "_experfc": _np_experfc,
             "_log1pexp": lambda a: np.logaddexp(0.0, a),
             "_expit": sc.expit, "_pair_gap": _np_pair_gap, **NP_FUNCTIONS,
             **angles.NP_FUNCTIONS, **_ARCTANGENT_FUNCTIONS},
            "numpy", "scipy"]


angles.use_lambdify_modules(MP_MODULES, np_modules)

def at_zero_variance(integrand: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """lim_{s -> 0} E[f(x)], x ~ N(0, s): f(0) where f is continuous, the mean of the two
    one-sided limits at a kink or jump (Heaviside(x)^2 -> 1/2, as the law's q -> 0 limit,
    not Heaviside(0)^2 = 1/4)."""
    if 0 not in kinks(integrand, x):
        return integrand.subs(x, 0)
    return (_one_sided_limit(integrand, x, 1) + _one_sided_limit(integrand, x, -1)) / 2


def _one_sided_limit(integrand: sp.Expr, x: sp.Symbol, side: int) -> sp.Expr:
    """lim f(x) as x -> 0 from the ``side``: x = side t with t > 0 decides the kinks
    (Heaviside(t) = 1, sign(-t) = -1, |t| = t), then t = 0; SymPy's limit only where that
    leaves no value (its series expansion fails on some products of exponentials with
    Heaviside, TypeError inside SymPy)."""
    t = sp.Dummy("t", positive=True)
    decided = integrand.subs(x, side * t)
    value = decided.subs(t, 0)
    if value.is_finite:
        return value
    try:
        return sp.limit(decided, t, 0, "+")
    except (TypeError, NotImplementedError, ValueError) as error:
        raise PrecisionError(f"the zero-variance limit of {integrand} could not be "
                             f"decided ({type(error).__name__})") from error


def merge_square_differences(expr: sp.Expr) -> sp.Expr:
    """k E[f(x)^2; q] - k E[f(u1) f(u2); (q, r, q)] -> (k/2) E[(f(u1) - f(u2))^2; (q, r, q)].

    Amari's distance map 2 (chi0 - K) is such a difference: as r -> q both expectations tend
    to E[f^2] and their difference loses all its digits; in the merged form it is a positive
    integrand whose size is computed directly (``expect_difference_mp``/``_np``)."""
    if not isinstance(expr, sp.Basic) or len(expr.atoms(Expectation)) < 2:
        return expr

    def merge(total):
        terms = list(sp.Add.make_args(sp.expand(total, deep=False)))
        singles, pairs = [], []
        for i, term in enumerate(terms):
            coeff, rest = term.as_independent(Expectation, as_Add=False)
            if not isinstance(rest, Expectation) or not rest.centred:
                continue
            if rest.dimension == 1:
                singles.append((i, coeff, rest))
            elif rest.covariance[0] == rest.covariance[2]:
                pairs.append((i, coeff, rest))
        for i, ci, single in singles:
            (x,) = single.variables
            for j, cj, pair in pairs:
                v1, v2 = pair.variables
                parts = separate(pair.integrand, v1, v2)
                if parts is None or sp.expand(ci + cj) != 0:
                    continue
                c, f, g = parts
                if g != f.subs(v1, v2) or single.covariance[0] != pair.covariance[0]:
                    continue
                if sp.expand(single.integrand - c * f.subs(v1, x) ** 2) != 0:
                    continue
                # a constant factor (SELU's scale^2) stays outside
                merged = bivariate_expectation((f - g) ** 2, *pair.covariance)
                rest = [t for k, t in enumerate(terms) if k not in (i, j)]
                return sp.Add(*rest, ci * c / 2 * merged)
        return total

    return expr.replace(lambda e: isinstance(e, sp.Add) and len(e.atoms(Expectation)) >= 2,
                        merge)


def _away_from_jumps(derivative: sp.Expr) -> sp.Expr:
    """A derivative without its delta terms: its value away from the function's jumps
    (sign, step), which is all the divided differences ask of it."""
    return derivative.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)


def _square_difference(integrand: sp.Expr, v1: sp.Symbol, v2: sp.Symbol):
    """f(v1) (as an expression in v1) when integrand == (f(v1) - f(v2))^2, else None."""
    if not (isinstance(integrand, sp.Pow) and integrand.exp == 2 and integrand.base.is_Add):
        return None
    parts = sp.Add.make_args(integrand.base)
    first = sp.Add(*[p for p in parts if p.has(v1) and not p.has(v2)])
    second = sp.Add(*[p for p in parts if p.has(v2) and not p.has(v1)])
    if len(parts) < 2 or sp.expand(first + second - integrand.base) != 0:
        return None
    if sp.expand(first + second.subs(v2, v1)) == 0:
        return first
    if sp.expand(second + first.subs(v1, v2)) == 0:
        return second.subs(v2, v1)
    return None


def _surrogate(h: sp.Expr, v: sp.Symbol, symbols: Sequence[sp.Symbol]):
    """(a, b, kappa) as a function of ``symbols`` with h(v) - (a erf(kappa v) + b) -> 0 at
    +-oo (h's limits there, kappa matching the slope at 0), or None when h has no finite
    limits: the closed-form part of a conditional expectation of h (quadrature)."""
    try:
        top, bottom = sp.limit(h, v, sp.oo), sp.limit(h, v, -sp.oo)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if not (top.is_finite and bottom.is_finite) or top.has(sp.Limit) or bottom.has(sp.Limit):
        return None
    a, b = (top - bottom) / 2, (top + bottom) / 2
    slope = sp.diff(h, v).subs(v, 0)
    ratio = sp.simplify(slope / a) if a != 0 else sp.S.Zero
    kappa = ratio * sp.sqrt(sp.pi) / 2 if ratio.is_positive else sp.S.One
    return sp.lambdify(list(symbols), (a, b, kappa), modules=MP_MODULES)


class _ConditionalMean:
    """E[f(u1) g(u2)] for piecewise f, g through Gaussian conditioning: the inner expectation
    G(m, s) = E[g(m + s Z)] in closed form (derived by the calculus, with the mean m and the
    deviation s as symbols), the outer one E[f(u1) G(slope u1, s)] by tanh-sinh quadrature
    split at f's kinks and at the u1 where the conditional mean crosses a kink of g (G is
    steep there when s is small). The trapezoid pair rule assumes an analytic integrand and
    converges only algebraically across a kink (ELU's kernel never certified 20 digits).

    ``inner_first`` is True when the closed form is of f (the roles swapped)."""

    def __init__(self, outer, outer_kinks, inner_closed, inner_kinks, inner_first: bool,
                 exprs: dict):
        self.outer, self.outer_kinks = outer, outer_kinks
        self.inner, self.inner_kinks = inner_closed, inner_kinks
        self.inner_first = inner_first
        self.exprs = exprs
        self._np = None

    @classmethod
    def build(cls, f: sp.Expr, g: sp.Expr, v1: sp.Symbol, v2: sp.Symbol,
              symbols: Sequence[sp.Symbol]) -> "_ConditionalMean | None":
        f_kinks, g_kinks = kinks(f, v1), kinks(g, v2)
        if not (f_kinks or g_kinks):
            return None  # analytic factors: the pair trapezoid rule converges geometrically
        for inner_first, (out_f, out_v, out_k, in_g, in_v, in_k) in (
                (False, (f, v1, f_kinks, g, v2, g_kinks)),
                (True, (g, v2, g_kinks, f, v1, f_kinks))):
            closed = _shifted_mean(in_g, in_v)
            if closed is None:
                continue
            mean, sd, G = closed
            try:
                outer_kinks = [sp.lambdify(list(symbols), k, modules=MP_MODULES) for k in out_k]
                inner_kinks = [sp.lambdify(list(symbols), k, modules=MP_MODULES) for k in in_k]
            except (TypeError, ValueError, NotImplementedError):
                return None
            exprs = {"outer": (out_v, out_f), "inner": (mean, sd, G), "outer_kinks": out_k,
                     "inner_kinks": in_k, "symbols": list(symbols)}
            return cls(sp.lambdify([out_v, *symbols], out_f, modules=MP_MODULES), outer_kinks,
                       sp.lambdify([mean, sd, *symbols], G, modules=MP_MODULES), inner_kinks,
                       inner_first, exprs)
        return None

    def np(self, F, q1: np.ndarray, rho: np.ndarray, q2: np.ndarray,
           arrays: Sequence[np.ndarray], cancellation: np.ndarray) -> np.ndarray:
        """float64 values of E[F(u1, u2)] (F = f g, vectorised) at flat arrays of pair
        covariances (and the symbols' flat arrays); NaN where the variance to condition on is
        0 (the caller's pair rule covers those), and the cancellation ratio per point
        (infinite where the split rule did not converge)."""
        if self._np is None:
            e = self.exprs
            symbols, (out_v, out_f), (mean, sd, G) = e["symbols"], e["outer"], e["inner"]
            modules = np_modules()
            self._np = (sp.lambdify([out_v, *symbols], _stable_integrand(out_f), modules=modules),
                        sp.lambdify([mean, sd, *symbols],
                                    _exp_times_erfc(_stable_exponentials(G)), modules=modules),
                        [sp.lambdify(symbols, k, modules=modules) for k in e["outer_kinks"]],
                        [sp.lambdify(symbols, k, modules=modules) for k in e["inner_kinks"]])
        outer, inner, outer_kinks, inner_kinks = self._np
        pair = F
        if self.inner_first:
            q1, q2 = q2, q1
            pair = lambda a, b, *ps: F(b, a, *ps)  # noqa: E731
        out = np.full(q1.size, np.nan)
        cancellation[:] = np.inf
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = rho / q1
            cond_var = q2 - rho * slope
        usable = np.isfinite(slope) & (q1 > 0) & np.isfinite(cond_var)
        # |c| = 1 to rounding: u2 = slope u1, one variable, kinked where either factor is
        degenerate = usable & (cond_var <= q2 * 1e-12)
        for idx, one_variable in ((np.flatnonzero(usable & ~degenerate), False),
                                  (np.flatnonzero(degenerate), True)):
            if idx.size:
                out[idx], cancellation[idx] = self._split_np(
                    idx, q1, slope, cond_var, arrays, outer, inner, outer_kinks, inner_kinks,
                    pair if one_variable else None)
        return out

    @staticmethod
    def _split_np(idx, q1, slope, cond_var, arrays, outer, inner, outer_kinks, inner_kinks,
                  pair):
        """(values, cancellation ratios) at the points idx: E[outer(u1) inner(slope u1, s)],
        or E[pair(u1, slope u1)] when ``pair`` is given (the degenerate pairs)."""
        q1 = q1[idx]
        params = [np.broadcast_to(np.asarray(a, dtype=float), slope.shape)[idx] for a in arrays]
        slope, sd = slope[idx], np.sqrt(np.maximum(cond_var[idx], 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            cut_array = _cut_matrix([k(*params) for k in outer_kinks]
                                    + [np.asarray(k(*params), dtype=float) / slope
                                       for k in inner_kinks], idx.size)
        if cut_array.shape[1] > 1:
            # a cut shared by every point (ELU's kink at 0 is also where the conditional mean
            # crosses it): each column is a piece of nodes, so keep one copy
            columns = [k for k in range(cut_array.shape[1])
                       if not any(np.array_equal(cut_array[:, k], cut_array[:, j], equal_nan=True)
                                  for j in range(k))]
            cut_array = cut_array[:, columns]

        def integrand(xs, rows):
            ps = [p[rows, None] for p in params]
            if pair is not None:
                return pair(xs, slope[rows, None] * xs, *ps)
            return outer(xs, *ps) * inner(slope[rows, None] * xs, sd[rows, None], *ps)

        ratio = np.empty(idx.size)
        values = expect_split_np(integrand, q1, cut_array, ratio)
        return values, ratio

    def mp(self, F, q1, rho, q2, values: Sequence, dps: int):
        """The value of E[F(u1, u2)] (F = f g), or None where conditioning does not apply (a
        zero variance to condition on)."""
        if self.inner_first:
            q1, q2 = q2, q1
            pair = lambda a, b: F(b, a)  # noqa: E731
        else:
            pair = F
        if q1 == 0:
            return None
        slope = rho / q1
        cond_var = q2 - rho * slope
        cuts = [k(*values) for k in self.outer_kinks]
        if slope != 0:
            cuts += [k(*values) / slope for k in self.inner_kinks]
        cuts = sorted({mpmath.mpf(c) for c in cuts if mpmath.isfinite(c)})
        if cond_var <= q2 * mpmath.mpf(10) ** (-dps):
            # |c| = 1: u2 = slope u1, one variable, kinked where either factor is
            value, _err = expect_mp_split(lambda a: pair(a, slope * a), q1, dps, cuts)
            return value
        sd = mpmath.sqrt(cond_var)
        value, _err = expect_mp_split(
            lambda a: self.outer(a, *values) * self.inner(slope * a, sd, *values), q1, dps, cuts)
        return value


def _cut_matrix(columns: Sequence[np.ndarray], points: int) -> np.ndarray:
    """Per-point cuts (points x k) for expect_split_np from one array per kink; NaN for a
    kink that is not a finite number (no cut), one NaN column when there are none."""
    if not columns:
        return np.full((points, 1), np.nan)
    cuts = np.stack([np.broadcast_to(np.asarray(c, dtype=float), (points,)) for c in columns],
                    axis=1)
    return np.where(np.isfinite(cuts), cuts, np.nan)


def _shifted_mean(g: sp.Expr, v: sp.Symbol):
    """(m, s, G) with G = E[g(m + s Z)], Z ~ N(0, 1), in closed form, or None."""
    from ..engine import GaussianCalculus   # the calculus sits above the numerics it uses
    from ...expectation import expectation
    from ...piecewise import heaviside_form

    mean, sd, z = sp.Dummy("m", real=True), sp.Dummy("s", positive=True), sp.Dummy("z", real=True)
    # steps written in g's own variable first, where nested Min/Max unnest (with the mean in
    # their arguments the switching points could not be ordered)
    try:
        shifted = heaviside_form(g, v).xreplace({v: mean + z})
        outcome = GaussianCalculus().expect(expectation(shifted, z, sd**2))
    except (SymfieldError, NotImplementedError, ValueError, TypeError):
        return None  # not analysable with a symbolic mean: the pair rule stays
    value = outcome.value
    if (not outcome.closed or value.has(Expectation, sp.Integral, z, sp.nan, sp.zoo)
            or value.has(sp.oo, -sp.oo)):
        return None
    return mean, sd, value


class FusedFloat64:
    """Several closed forms in the same symbols as one float64 function: common
    subexpressions (the angle of an arc-cosine kernel and its derivative kernel) are computed
    once, then the ends of arcsine ranges are corrected by their exact series on the few
    points that need it. Called with arrays, returns one array per expression."""

    def __init__(self, exprs: Sequence[sp.Expr], symbols: Sequence[sp.Symbol],
                 gap_symbol: sp.Symbol | None = None):
        """``gap_symbol``: the pair gap q1 q2 - rho^2 is not computed from the symbols but
        given as one more argument, last (``PairComposition``: factored in a map's own
        variables, sigma_w^2 (A - C)(...), where q1 q2 - rho^2 from rounded q and rho is not
        the small number it should be)."""
        self.symbols = list(symbols)
        self._own = len(self.symbols)   # the angle forms' symbols (not a given gap)
        outer = [angles.arcsine_differences(e) for e in exprs]
        self.angles = [angles.angle_form(e, tuple(self.symbols)) for e in outer]
        outputs = [_clamp_radicands(_stable_angles(_pair_gap_form(_stable_root_differences(
            _stable_exponentials(e))), pair_gaps=True)) for e in outer]
        self._parts_at = []
        for form in self.angles:
            if form is not None and form.needs_series:
                self._parts_at.append(len(outputs))
                outputs.extend(form.parts())
            else:
                self._parts_at.append(None)
        # near an end of an arctangent's range (GELU's kernel at c -> -1), on those points
        self.arctangent_ends = [arctangent_end(e, self.symbols, _expanded_in_pair_gap,
                                               (_pair_gap.__name__,))
                                for e in outputs[:len(exprs)]]
        self._ends_at = []
        for end in self.arctangent_ends:
            self._ends_at.append(None if end is None else len(outputs))
            if end is not None:
                outputs.extend(end.parts())
        # near a zero variance (ELU's chi0 at q -> 0), on those points: the Taylor series
        self.small_variances = [small_variance_series(e, tuple(self.symbols)) for e in outer]
        for i, small in enumerate(self.small_variances):
            if small is not None and not small.cancels(
                    sp.lambdify(self.symbols, angles.joint_roots(outputs[i]),
                                modules=np_modules()), np_modules()):
                self.small_variances[i] = None     # its closed form keeps its digits
        self._small_at = []
        for small in self.small_variances:
            self._small_at.append(None if small is None else len(outputs))
            if small is not None:
                outputs.extend(small.parts())
        if gap_symbol is not None:
            pair = _pair_symbols(sp.Tuple(*exprs))
            given = {} if pair is None else {_pair_gap(*pair): gap_symbol}
            outputs = [e.xreplace(given) for e in outputs]
            self.symbols.append(gap_symbol)
            for end in self.arctangent_ends:
                if end is not None:
                    end.substitute(given)
                    end.symbols = list(self.symbols)
        self.count = len(exprs)
        self._fn = sp.lambdify(self.symbols, angles.joint_roots(outputs), modules=np_modules(),
                               cse=True)

    def __call__(self, *arrays: np.ndarray) -> list[np.ndarray]:
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        raw = self._fn(*arrays)
        out = []
        for i in range(self.count):
            value = np.asarray(raw[i], dtype=float)
            if value.shape != shape or not value.flags.writeable:
                # a law constant in some variables: its own array, broadcast
                value = np.array(np.broadcast_to(value, shape), dtype=float)
            at, form = self._parts_at[i], self.angles[i]
            if at is not None:
                value = form.np(arrays[:self._own], value, raw[at:at + 2])
            end, at = self.arctangent_ends[i], self._ends_at[i]
            if end is not None:
                value = end.np(arrays, value, raw[at:at + len(end.parts())], np_modules())
            small, at = self.small_variances[i], self._small_at[i]
            if small is not None:
                value = small.np(arrays[:self._own], value, raw[at:at + 1], np_modules())
            out.append(value)
        return out


class PairComposition:
    """A law's definition in the kernel's expectations, E[phi(u1) phi(u2)] at a covariance
    (a, r, b) in the law's variables and E[phi(x)^2] = K(v, v, v), evaluated in float64
    through the kernel's own float64 form (``FusedFloat64``, its end forms included) with
    the pair gap a b - r^2 factored symbolically in the law's variables: sigma_w^2 (A - C)
    (sigma_w^2 (A + C) + 2 sigma_b^2) for the overlap map, q^2 (1 - c)(1 + c) for the
    correlation map. The map's closed form is that same substitution (how the calculus
    derives it), but as one expression its float64 terms no longer see the gap (GELU's
    overlap map near C = -A cancelled to 6e7 times the bound)."""

    def __init__(self, definition: sp.Expr, symbols: Sequence[sp.Symbol],
                 kernel_definition: Expectation, kernel_expr: sp.Expr,
                 kernel_symbols: Sequence[sp.Symbol]):
        integrand = kernel_definition.integrand
        k1, k2 = kernel_definition.variables
        self.symbols = list(symbols)
        expectations = sorted(definition.atoms(Expectation), key=sp.default_sort_key)
        arguments = []
        for e in expectations:
            if e.dimension == 2 and e.integrand.xreplace(
                    dict(zip(e.variables, (k1, k2)))) == integrand and e.centred:
                a, r, b = e.covariance
                gap = sp.factor(sp.expand(a * b - r**2))
            elif e.dimension == 1 and e.centred and sp.expand(
                    e.integrand.xreplace({e.variables[0]: k1})
                    - integrand.xreplace({k2: k1})) == 0:
                (a,) = e.covariance[:1]
                a = r = b = a
                gap = sp.S.Zero
            else:
                raise ValueError(f"not a kernel expectation: {e}")
            arguments.extend((a, b, r, gap if gap == 0 or angles.positive(gap)
                              else _nonnegative(gap)))
        placeholders = [sp.Dummy(f"K{i}") for i in range(len(expectations))]
        self._arguments = sp.lambdify(self.symbols, arguments, modules=np_modules(), cse=True)
        self._outer = sp.lambdify(self.symbols + placeholders,
                                  definition.xreplace(dict(zip(expectations, placeholders))),
                                  modules=np_modules())
        self.count = len(expectations)
        q1, q2, rho = (next(s for s in kernel_symbols if s.name == n) for n in ("q1", "q2", "rho"))
        self._kernel = FusedFloat64([kernel_expr], [q1, q2, rho], gap_symbol=sp.Dummy("gap"))

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        with np.errstate(all="ignore"):
            flat = [np.broadcast_to(np.asarray(v, dtype=float), shape)
                    for v in self._arguments(*arrays)]
            kernels = [self._kernel(*flat[4 * i:4 * i + 4])[0] for i in range(self.count)]
            out = self._outer(*arrays, *kernels)
        return np.array(np.broadcast_to(np.asarray(out, dtype=float), shape))


#: Relative rounding error of a float64 quadrature per unit of cancellation (a few ulps).
_QUADRATURE_ULPS = 8 * 2.0**-53

#: Working digits allowed to two-dimensional expectations (their cost grows steeply).
MAX_WORK_2D = 160


class _CompiledExpectation:
    def __init__(self, e: Expectation, symbols: Sequence[sp.Symbol]):
        self.dimension = e.dimension
        self.integrand = e.integrand
        self.variables = e.variables
        self._symbols = list(symbols)
        cov = [sp.lambdify(list(symbols), c, modules=MP_MODULES) for c in e.covariance]
        self.cov_mp = cov
        #: piecewise pair factors: conditioning with a closed-form inner expectation
        self.conditional: _ConditionalMean | None = None
        #: structural zeros: a centred expectation of an odd integrand is exactly 0 (mpmath's
        #: tanh is not exactly odd at every precision, so quadrature alone leaves ~10^-W)
        self.odd = False
        if e.dimension == 1:
            (x,) = e.variables
            shape = parity(e.integrand, x)
            self.even, self.odd = shape == "even", shape == "odd"
            self.breaks = kinks(e.integrand, x)
            self.f_mp = sp.lambdify([x, *symbols], e.integrand, modules=MP_MODULES)
            self.break_mp = [sp.lambdify(list(symbols), b, modules=MP_MODULES) for b in self.breaks]
            self.at_zero = at_zero_variance(e.integrand, x)
            self.at_zero_mp = sp.lambdify(list(symbols), self.at_zero, modules=MP_MODULES)
        else:
            v1, v2 = e.variables
            self.even = jointly_even(e.integrand, v1, v2)
            flipped = e.integrand.subs({v1: -v1, v2: -v2}, simultaneous=True)
            self.odd = sp.expand(flipped + e.integrand) == 0
            self.F_mp = sp.lambdify([v1, v2, *symbols], e.integrand, modules=MP_MODULES)
            #: E[(f(u1) - f(u2))^2] at equal variances: the difference route
            self.difference = None
            q1_expr, rho_expr, q2_expr = e.covariance
            f_diff = _square_difference(e.integrand, v1, v2) if q1_expr == q2_expr else None
            if f_diff is not None:
                gap = sp.factor(sp.expand(q1_expr - rho_expr))   # sigma_w^2 D / 2, directly
                even_f = parity(f_diff, v1) in ("even", "odd")
                self.difference = {
                    # f' away from f's jumps (sign, step): the divided difference is used
                    # only where [m - |d|/2, m + |d|/2] holds no kink
                    "f": f_diff, "even": even_f,
                    "fprime": _away_from_jumps(sp.diff(f_diff, v1)),
                    # parity parts for the mirrored difference near u2 = -u1
                    "odd": (f_diff - f_diff.subs(v1, -v1)) / 2,
                    "even_prime": _away_from_jumps(sp.diff((f_diff + f_diff.subs(v1, -v1)) / 2,
                                                           v1)),
                    "mean_mp": sp.lambdify(list(symbols), (q1_expr + rho_expr) / 2,
                                           modules=MP_MODULES),
                    "gap_mp": sp.lambdify(list(symbols), 2 * gap, modules=MP_MODULES),
                    "f_mp": sp.lambdify([v1, *symbols], f_diff, modules=MP_MODULES),
                    "mean": (q1_expr + rho_expr) / 2, "gap": 2 * gap,
                    # f's kinks: the float64 rule splits there (expect_difference_split_np)
                    "kinks": kinks(f_diff, v1)}
            parts = separate(e.integrand, v1, v2)
            self.parts_mp = None
            #: at rho = 0 a separable integrand factorises: E[f(u1)] E[g(u2)], exactly 0
            #: when either factor is odd
            self.independent_zero = False
            if parts is not None:
                c, f, g = parts
                self.parts_mp = (sp.lambdify([v1, *symbols], c * f, modules=MP_MODULES),
                                 sp.lambdify([v2, *symbols], g, modules=MP_MODULES))
                self.independent_zero = "odd" in (parity(f, v1), parity(g, v2))
                self.surrogates_mp = (_surrogate(c * f, v1, symbols), _surrogate(g, v2, symbols))
                self.conditional = _ConditionalMean.build(c * f, g, v1, v2, symbols)

    def mp(self, values: Sequence, dps: int):
        if self.odd:
            return mpmath.mpf(0)
        if self.dimension == 2 and self.difference is not None:
            d = self.difference
            return expect_difference_mp(lambda xv: d["f_mp"](xv, *values), d["mean_mp"](*values),
                                        d["gap_mp"](*values), dps, d["even"])
        cov = [c(*values) for c in self.cov_mp]
        if self.dimension == 2:
            q1, rho, q2 = cov
            if rho == 0 and self.independent_zero:
                return mpmath.mpf(0)
            if self.conditional is not None:
                value = self.conditional.mp(lambda a, b: self.F_mp(a, b, *values), q1, rho, q2,
                                            values, dps)
                if value is not None:
                    return value
            separable = None
            if self.parts_mp is not None:
                fc, gc = self.parts_mp
                separable = (lambda a: fc(a, *values), lambda b: gc(b, *values))
            surrogates = None
            if self.parts_mp is not None:
                surrogates = tuple(None if s is None else s(*values) for s in self.surrogates_mp)
            value, _err = expect2_mp(lambda a, b: self.F_mp(a, b, *values), q1, rho, q2, dps,
                                     jointly_even=self.even, separable=separable,
                                     surrogates=surrogates)
            return value
        (var,) = cov
        if var == 0:
            return self.at_zero_mp(*values)
        f = lambda xv: self.f_mp(xv, *values)  # noqa: E731
        if self.breaks:
            pts = [b(*values) for b in self.break_mp]
            value, _err = expect_mp_split(f, var, dps, pts)
        else:
            value, _err = expect_mp(f, var, dps, even=self.even)
        return value


class CompiledExpr:
    """A SymPy expression as mpmath and numpy functions of the given symbols (in order)."""

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol]):
        if expr.has(sp.Sum):
            # Sums over the same index range are evaluated as one (a derivative of a series
            # may come apart into pieces that only converge together).
            expr = merge_series(expr)
        self.expr = expr
        self.symbols = list(symbols)
        expr = merge_square_differences(expr)
        self.expectations = sorted(expr.atoms(Expectation), key=sp.default_sort_key)
        self.series = sorted((s for s in expr.atoms(sp.Sum)
                              if not any(e.has(s) for e in self.expectations)),
                             key=sp.default_sort_key)
        self.placeholders = [sp.Dummy(f"E{i}") for i in range(len(self.expectations))]
        self.series_placeholders = [sp.Dummy(f"S{i}") for i in range(len(self.series))]
        self.outer = angles.arcsine_differences(
            expr.xreplace({**dict(zip(self.expectations, self.placeholders)),
                           **dict(zip(self.series, self.series_placeholders))}))
        inner_symbols = self.placeholders + self.series_placeholders
        missing = self.outer.free_symbols - set(self.symbols) - set(inner_symbols)
        missing |= {s for e in self.expectations + self.series for s in e.free_symbols} \
            - set(self.symbols)
        if missing:
            raise ValueError(f"values needed for {sorted(map(str, missing))}")
        self._outer_mp = sp.lambdify(self.symbols + inner_symbols, self.outer, modules=MP_MODULES)
        self._inner = [_CompiledExpectation(e, self.symbols) for e in self.expectations]
        self._series = [MehlerSeries(s, self.symbols) if s.has(tanh_moment)
                        else CompiledSeries(s, self.symbols) for s in self.series]
        #: near the ends of an arcsine's range, closed forms are evaluated in the angle
        self.angle = (angles.angle_form(self.outer, tuple(self.symbols))
                      if not inner_symbols else None)
        self._outer_np = None
        self._inner_np = None
        #: float64 relative error estimate of the last ``np`` call (series cancellation)
        self.last_error_estimate = None
        self._difference_ratios = None

    @staticmethod
    def _kinked_np(F, var: np.ndarray, breaks, arrays, shape, ratio: np.ndarray) -> np.ndarray:
        """float64 E[F(x)] for a kinked integrand, split at its kinks (``ratio`` receives the
        cancellation ratios); NaN where the variance is not positive (the caller's limits)."""
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).ravel() for a in arrays]
        var = np.ascontiguousarray(np.broadcast_to(var, shape)).ravel()
        out = np.full(var.size, np.nan)
        flat_ratio = np.ones(var.size)
        ok = np.flatnonzero(np.isfinite(var) & (var > 0))
        if ok.size:
            params = [a[ok] for a in flat]
            cuts = _cut_matrix([b(*params) for b in breaks], ok.size)
            sub = np.empty(ok.size)
            out[ok] = expect_split_np(lambda xs, rows: F(xs, *[p[rows, None] for p in params]),
                                      var[ok], cuts, sub)
            flat_ratio[ok] = sub
        ratio.reshape(-1)[:] = flat_ratio
        return out.reshape(shape)

    @staticmethod
    def _conditional_np(conditional: _ConditionalMean, F, cv, even: bool, arrays, shape,
                        error: np.ndarray) -> np.ndarray:
        """A piecewise pair expectation in float64 by conditioning (split tanh-sinh); its
        degenerate pairs (|c| = 1, a zero variance) by the pair rule. ``error`` is raised
        in place to the rounding estimate (infinite where the rule did not converge)."""
        flat = [np.ascontiguousarray(np.broadcast_to(a, shape)).ravel() for a in arrays]
        q1, rho, q2 = (np.ascontiguousarray(c).ravel() for c in cv)
        ratio = np.empty(q1.size)
        value = conditional.np(F, q1, rho, q2, flat, ratio)
        rest = np.isnan(value)
        if np.any(rest):
            value[rest] = expect2_np(F, q1[rest], rho[rest], q2[rest], even,
                                     tuple(a[rest] for a in flat))
            ratio[rest] = 1.0
        error.reshape(-1)[:] = np.maximum(error.reshape(-1), ratio * _QUADRATURE_ULPS)
        return value.reshape(shape)

    def difference_ratio_np(self, *arrays: np.ndarray) -> np.ndarray | None:
        """var(u1 - u2) / var((u1 + u2)/2) of the expression's square-difference
        expectations (the smallest, where it has several), or None without one: how close a
        pair is to the degenerate u1 = u2 where E[f(u1)^2] - E[f(u1) f(u2)] cancels."""
        if self._difference_ratios is None:
            self._difference_ratios = [
                sp.lambdify(self.symbols, ce.difference["gap"] / ce.difference["mean"],
                            modules=np_modules())
                for ce in self._inner if ce.dimension == 2 and ce.difference is not None]
        if not self._difference_ratios:
            return None
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        out = np.full(shape, np.inf)
        for ratio in self._difference_ratios:
            with np.errstate(all="ignore"):
                out = np.fmin(out, np.broadcast_to(np.asarray(ratio(*arrays), dtype=float),
                                                   shape))
        return out

    def max_work(self, dps: int) -> int:
        """The most working digits this route may use for ``dps`` certified digits (its cost
        is bounded up front: PrecisionError rather than a computation that does not end).

        Closed forms: 4 dps + 600 (milliseconds). One-dimensional quadratures and pole series:
        2 dps + 200 (seconds at 1000 digits). Two-dimensional expectations and Mehler series:
        MAX_WORK_2D digits at most."""
        if any(e.dimension == 2 for e in self._inner) or any(
                isinstance(s, MehlerSeries) for s in self._series):
            return MAX_WORK_2D
        if self._inner or self._series:
            return 2 * dps + 200
        return 4 * dps + 600

    def mp(self, values: Sequence, dps: int):
        """Value at working precision ``dps`` (not certified: see ``evaluate.certified``)."""
        with mpmath.workdps(dps):
            vals = [mpmath.mpf(v) if not isinstance(v, mpmath.mpc) else v for v in values]
            if self.angle is not None:
                return self.angle.mp(vals, dps, lambda v: self._outer_mp(*v))
            inner = [e.mp(vals, dps) for e in self._inner]
            series = [s.mp(vals, dps) for s in self._series]
            return self._outer_mp(*vals, *inner, *series)

    def np(self, *arrays: np.ndarray) -> np.ndarray:
        """float64 value, vectorised over broadcastable arrays (one per symbol)."""
        if not self._inner and not self._series:
            if self._outer_np is None:
                self._outer_np = FusedFloat64([self.outer], self.symbols)
            self.last_error_estimate = None
            return self._outer_np(*arrays)[0]
        if self._outer_np is None:
            self._outer_np = sp.lambdify(self.symbols + self.placeholders
                                         + self.series_placeholders,
                                         angles.joint_roots(_clamp_radicands(_stable_angles(
                                             _pair_gap_form(_stable_exponentials(self.outer)),
                                             pair_gaps=True))),
                                         modules=np_modules())
            self._inner_np = []
            for e, ce in zip(self.expectations, self._inner):
                F = _pair_function(e, self.symbols)
                cov = [sp.lambdify(self.symbols, c, modules=np_modules()) for c in e.covariance]
                zero = (sp.lambdify(self.symbols, ce.at_zero, modules=np_modules())
                        if e.dimension == 1 else None)
                # kinked: the split rule (the sinh-mapped trapezoid converges only like h^2
                # across a kink: SELU's E[phi^2] was 5e-6 off)
                breaks = ([sp.lambdify(self.symbols, b, modules=np_modules())
                           for b in ce.breaks] if e.dimension == 1 else [])
                if e.dimension == 2 and ce.difference is not None:
                    d, v1 = ce.difference, e.variables[0]
                    zero = tuple(sp.lambdify([v1, *self.symbols], _stable_integrand(d[k]),
                                             modules=np_modules())
                                 for k in ("f", "fprime", "odd", "even_prime")) + tuple(
                        sp.lambdify(self.symbols, d[k], modules=np_modules())
                        for k in ("mean", "gap")) + (
                        [sp.lambdify(self.symbols, k, modules=np_modules())
                         for k in d["kinks"]],)
                self._inner_np.append((F, cov, ce.even, e.dimension, zero, breaks,
                                       ce.conditional))
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        inner = []
        error = np.zeros(shape)
        for F, cov, even, dim, zero, breaks, conditional in self._inner_np:
            cv = [np.broadcast_to(np.asarray(c(*arrays), dtype=float), shape) for c in cov]
            if dim == 1:
                ratio = np.ones(shape)
                if breaks:
                    value = self._kinked_np(F, cv[0], breaks, arrays, shape, ratio)
                else:
                    value = expect_np(F, cv[0], even, tuple(arrays), ratio)
                error = np.maximum(error, ratio * _QUADRATURE_ULPS)
                degenerate = cv[0] == 0
                if np.any(degenerate):  # the q -> 0 limit, not NaN
                    value = np.array(value, dtype=float)
                    value[degenerate] = np.broadcast_to(
                        np.asarray(zero(*arrays), dtype=float), shape)[degenerate]
                inner.append(value)
            elif zero is not None:  # E[(f(u1) - f(u2))^2]
                f, fprime, odd, even_prime, mean, gap, f_kinks = zero
                mean_v, gap_v = (np.broadcast_to(np.asarray(g(*arrays), dtype=float), shape)
                                 for g in (mean, gap))
                if f_kinks:
                    at = np.stack([np.broadcast_to(np.asarray(k(*arrays), dtype=float), shape)
                                   .ravel() for k in f_kinks], axis=1)
                    ratio = np.ones(shape)
                    inner.append(expect_difference_split_np(f, fprime, at, mean_v, gap_v,
                                                            tuple(arrays), ratio,
                                                            (odd, even_prime)))
                    error = np.maximum(error, ratio * _QUADRATURE_ULPS)
                else:
                    unresolved = np.zeros(shape, dtype=bool)
                    inner.append(expect_difference_np(f, fprime, mean_v, gap_v, tuple(arrays),
                                                      (odd, even_prime), unresolved))
                    error = np.where(unresolved, np.inf, error)
            elif conditional is not None:
                inner.append(self._conditional_np(conditional, F, cv, even, arrays, shape,
                                                  error))
            else:
                inner.append(expect2_np(F, cv[0], cv[1], cv[2], even, tuple(arrays)))
        series = []
        for s in self._series:
            series.append(np.broadcast_to(s.np(*arrays), shape))
            # the cancellation of the largest piece times a few ulps, times 10 for the errors
            # the estimate does not see (erfcx, the Hurwitz tails): measured, not modelled
            error = np.maximum(error, np.broadcast_to(s.last_cancellation, shape) * 1.2e-15)
        self.last_error_estimate = error
        out = np.asarray(self._outer_np(*arrays, *inner, *series), dtype=float)
        if out.shape != shape:  # a law constant in some variables: broadcast it
            out = np.broadcast_to(out, shape).copy()
        return out
