"""The characteristic-function rule: sines and cosines as complex exponentials.

sin(a x + b) = (e^{i(a x + b)} - e^{-i(a x + b)})/(2i) and cos likewise, so a product of
sines and cosines times a polynomial and a Gaussian exponential is a sum of terms
x^n exp(c x^2 + (l + i a) x): the determinant rule (complete the square) holds for a complex
linear coefficient too, because both sides are entire in it. That is the characteristic
function E[e^{i a x}] = e^{i a mu - a^2 s/2} and its derivatives. The result is real (the
integrand is); its real part is taken symbolically.
"""
from __future__ import annotations

import sympy as sp

from ..normal_form import NotTractable, Term, linear_coefficients
from .base import Factors, Measure, PairMeasure, Rule

#: Most sine/cosine factors expanded (2^n exponentials).
MAX_TRIG_FACTORS = 8


def _trig_factors(term: Term, x: sp.Symbol) -> list[tuple[type, sp.Expr, sp.Expr, int]] | None:
    """(sin or cos, slope, offset, power) for each factor of term.other, or None."""
    out = []
    for factor in term.other:
        base, exponent = factor.as_base_exp()
        if not isinstance(base, (sp.sin, sp.cos)) or not (exponent.is_Integer and exponent > 0):
            return None
        lc = linear_coefficients(base.args[0], x)
        if lc is None:
            return None
        out.append((type(base), lc[0], lc[1], int(exponent)))
    return out


class CharacteristicFunctionRule(Rule):
    """E[x^n e^{c x^2 + l x} prod sin/cos(a x + b)] through the complex Gaussian."""

    name = "characteristic function (complex Gaussian)"
    acts_on = "term"

    def applies(self, term: Term, m: Measure) -> bool:
        if term.erfs or term.steps or term.deltas or not term.other:
            return False
        found = _trig_factors(term, m.x)
        return found is not None and sum(p for *_r, p in found) <= MAX_TRIG_FACTORS

    def apply(self, term: Term, m: Measure, engine) -> sp.Expr:
        x = m.x
        product = sp.S.One
        for kind, slope, offset, power in _trig_factors(term, x):
            arg = slope * x + offset
            if kind is sp.sin:
                product *= ((sp.exp(sp.I * arg) - sp.exp(-sp.I * arg)) / (2 * sp.I)) ** power
            else:
                product *= ((sp.exp(sp.I * arg) + sp.exp(-sp.I * arg)) / 2) ** power
        exponentials = sp.expand(sp.powsimp(sp.expand(product)))
        rest = term.copy(other=[]).rebuild(x, coeff=False)
        pieces = sp.Add(*[sp.powsimp(c * rest) for c in sp.Add.make_args(exponentials)])
        engine.record(m.expectation(term.rebuild(x)), term.coeff * m.expectation(pieces),
                      self.name, "sin and cos as complex exponentials e^{+-i(a x + b)}")
        total = sp.S.Zero
        for piece in sp.Add.make_args(pieces):
            total += engine.expect_integrand(piece, m)
        value = _real_part(total)
        if value.has(sp.I):
            raise NotTractable("the characteristic-function result did not reduce to a real "
                               "expression")
        engine.record(m.expectation(term.rebuild(x)), term.coeff * value, "real part",
                      "the integrand is real: the imaginary parts cancel")
        return term.coeff * value


def _exponential_form(f: sp.Expr) -> sp.Expr | None:
    """f with every sin/cos of a linear argument written as complex exponentials, or None
    when f holds anything but polynomials, exponentials and such sines and cosines."""
    trig = [t for t in f.atoms(sp.sin, sp.cos) if t.free_symbols]
    if not trig:
        return None
    for t in trig:
        variables = t.args[0].free_symbols
        if len(variables) != 1 or linear_coefficients(t.args[0], next(iter(variables))) is None:
            return None
    others = [a for a in f.atoms(sp.Function) if not isinstance(a, (sp.sin, sp.cos, sp.exp))]
    if others:
        return None
    return f.rewrite(sp.exp)


def _moment2(i: int, j: int, a: sp.Expr, c: sp.Expr, b: sp.Expr) -> sp.Expr:
    """E[y1^i y2^j] for a centred pair with variances a, b and covariance c (Isserlis:
    k of the pairings join y1 with y2, the rest pair within each variable)."""
    total = sp.S.Zero
    for k_ in range(min(i, j) + 1):
        if (i - k_) % 2 or (j - k_) % 2:
            continue
        total += (sp.binomial(i, k_) * sp.binomial(j, k_) * sp.factorial(k_) * c**k_
                  * sp.factorial2(i - k_ - 1) * a ** ((i - k_) // 2)
                  * sp.factorial2(j - k_ - 1) * b ** ((j - k_) // 2))
    return total


def pair_gaussian_term(term: sp.Expr, m: PairMeasure) -> tuple[sp.Expr, sp.Expr] | None:
    """E[c u1^i u2^j exp(-x'Mx/2 + b'x + c0)] over the pair m (M real, b may be complex):
    the two-dimensional determinant rule det(1 + Sigma M)^(-1/2) exp(b'S b/2) E_N(S b, S)[u1^i
    u2^j] with S = (Sigma^-1 + M)^-1, as (the real positive factor det(...)^(-1/2), the rest);
    None if the term is not of that shape."""
    u1, u2 = m.u1, m.u2
    coeff, powers, exponent = sp.S.One, [0, 0], sp.S.Zero
    for factor in sp.Mul.make_args(term):
        base, e = factor.as_base_exp()
        if not factor.has(u1, u2):
            coeff *= factor
        elif isinstance(factor, sp.exp) or base is sp.E:
            exponent += factor.args[0] if isinstance(factor, sp.exp) else e
        elif base in (u1, u2) and e.is_Integer and e > 0:
            powers[0 if base == u1 else 1] += int(e)
        else:
            return None
    try:
        poly = sp.Poly(sp.expand(exponent), u1, u2)
    except sp.PolynomialError:
        return None
    if poly.total_degree() > 2 or any(c.has(u1, u2) for c in poly.coeffs()):
        return None
    get = lambda i, j: poly.coeff_monomial(u1**i * u2**j)  # noqa: E731
    M = sp.Matrix([[-2 * get(2, 0), -get(1, 1)], [-get(1, 1), -2 * get(0, 2)]])
    b = sp.Matrix([get(1, 0), get(0, 1)])
    sigma = sp.Matrix([[m.q1, m.rho], [m.rho, m.q2]])
    precision = sigma.inv() + M
    S = precision.inv().applyfunc(sp.factor)
    determinant = sp.factor(sigma.det() * precision.det())
    mean = (S * b).applyfunc(sp.factor)
    shift = sp.factor((b.T * S * b)[0, 0] / 2)
    y1, y2 = sp.Dummy("y1"), sp.Dummy("y2")
    centred = sp.expand((y1 + mean[0]) ** powers[0] * (y2 + mean[1]) ** powers[1])
    moments = sp.S.Zero
    for (i, j), c in sp.Poly(centred, y1, y2).terms():
        moments += c * _moment2(i, j, S[0, 0], S[0, 1], S[1, 1])
    return 1 / sp.sqrt(determinant), coeff * sp.exp(get(0, 0) + shift) * moments


class PairCharacteristicRule(Rule):
    """E[f(u1) g(u2)] with sines and cosines: both factors as complex exponentials, each
    term by the two-dimensional determinant rule (the joint characteristic function), the
    real part taken once at the end."""

    name = "characteristic function (complex Gaussian)"
    acts_on = "pair"

    def applies(self, factors: Factors, m: PairMeasure) -> bool:
        f, g = factors
        return (_exponential_form(f) is not None or _exponential_form(g) is not None) \
            and all(not a.has(sp.erf, sp.Heaviside, sp.DiracDelta) for a in factors)

    def apply(self, factors: Factors, m: PairMeasure, engine) -> sp.Expr:
        f, g = factors
        fe = _exponential_form(f) if _exponential_form(f) is not None else f
        ge = _exponential_form(g) if _exponential_form(g) is not None else g
        complex_form = sp.expand(sp.powsimp(sp.expand(fe * ge)))
        by_scale: dict = {}
        for piece in sp.Add.make_args(complex_form):
            found = pair_gaussian_term(sp.powsimp(piece), m)
            if found is None:
                raise NotTractable("not a polynomial times a Gaussian exponential after "
                                   "writing sin and cos as exponentials")
            scale, rest = found
            by_scale[scale] = by_scale.get(scale, sp.S.Zero) + rest
        total = sp.Add(*[scale * rest for scale, rest in by_scale.items()])
        engine.record(m.expectation(f * g), total, self.name,
                      "sin and cos as complex exponentials; each term by the two-dimensional "
                      "determinant rule det(1 + Sigma M)^(-1/2) exp(b' S b/2), S = "
                      "(Sigma^-1 + M)^-1 (the joint characteristic function)")
        value = sp.Add(*[scale * _real_part(rest) for scale, rest in by_scale.items()])
        if value.has(sp.I):
            raise NotTractable("the characteristic-function result did not reduce to a real "
                               "expression")
        engine.record(m.expectation(f * g), value, "real part",
                      "the integrand is real: the imaginary parts cancel")
        return value


def _real_part(value: sp.Expr) -> sp.Expr:
    """The real part of a sum of complex exponential terms whose symbols are all real:
    (Z + conj Z)/2 with conj Z = Z with i -> -i, collected by its exponentials and sines
    (expand_complex on the whole is far slower and larger)."""
    if not value.has(sp.I):
        return value
    half = sp.expand(sp.powsimp(sp.expand((value + value.xreplace({sp.I: -sp.I})) / 2)))
    # sorted: collect's result depends on the order of its keys, and a set's order on the
    # hash seed (the documents came out in two forms)
    atoms = sorted((a for a in half.atoms(sp.exp, sp.sin, sp.cos) if a.free_symbols),
                   key=sp.default_sort_key)
    if half.has(sp.I):
        half = sp.expand(sp.expand_complex(half))
        atoms = sorted((a for a in half.atoms(sp.exp, sp.sin, sp.cos) if a.free_symbols),
                       key=sp.default_sort_key)
    collected = sp.collect(half, atoms, evaluate=False) if atoms else {sp.S.One: half}
    return sp.Add(*[sp.powsimp(sp.factor(c) * key) for key, c in collected.items()])


__all__ = ["CharacteristicFunctionRule", "PairCharacteristicRule"]
