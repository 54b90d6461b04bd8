"""Certified evaluation of the Faddeeva pole series sum_{k>=0} f(k).

The pole-expansion rule produces summands linear in a Faddeeva value on the imaginary axis,
f(k) = A(K) + B(K) w(i beta K), K = k + 1/2, with A, B polynomials in K. For large Y,
w(iY) = sum_i c_i Y^-(2i+1) + R_n(Y), c_i = (-1)^i (2i-1)!!/(sqrt(pi) 2^i), and the remainder
R_n is bounded by the first omitted term (the expansion of exp(y^2) erfc(y) alternates).
A and the first n terms of B w cancel to a Laurent polynomial P(K) with powers <= -2 (done
symbolically, exactly), so

    f(k) = P(K) + B(K) R_n(beta K)

is evaluated without cancellation. The head k < K0 is summed term by term; in the tail every
power of K sums to a Hurwitz zeta value and the truncation error has an honest bound.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import mpmath
import numpy as np
import sympy as sp

from ...errors import PrecisionError
from ..faddeeva import faddeeva
from .faddeeva_values import faddeeva_mp
from .zeta import hurwitz_zeta_upper, hurwitz_zetas

_W = sp.Dummy("W")
_K = sp.Dummy("K", positive=True)
_BETA = sp.Dummy("beta", positive=True)


#: Head terms an mpmath evaluation takes at most (q up to ~1e5 at 30 digits).
MAX_HEAD_TERMS_MP = 20000
#: Head terms the float64 sum takes at most (beta >= y/MAX_HEAD_TERMS: q below ~1e4).
MAX_HEAD_TERMS = 2000
#: Expansion terms combined symbolically for the float64 all-asymptotic regime.
ASYMPTOTIC_TERMS = 40
#: beta above which every term (y >= beta/2 >= 10) is in the asymptotic regime in float64:
#: there 40 expansion terms leave < 1e-20 (the ratio of terms is (2i+1)/(2y^2) <= 81/200).
ASYMPTOTIC_BETA = 20.0


class SeriesShapeError(ValueError):
    """The Sum is not of the Faddeeva pole-series shape this evaluator handles."""


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2)) if n > 0 else 1


def expansion_coefficient(i: int) -> sp.Expr:
    """c_i in w(iY) ~ sum_i c_i Y^-(2i+1)."""
    return sp.Integer((-1) ** i * _double_factorial(2 * i - 1)) / (sp.sqrt(sp.pi) * 2**i)


@dataclass(frozen=True)
class SeriesShape:
    """f = P(K) + B(K) R_n(beta K) with P a Laurent polynomial of powers <= -2."""

    index: sp.Symbol
    beta: sp.Expr
    subtracted: int                 # n: expansion terms of w folded into P
    p_coeffs: list                  # [(power, expr)], power <= -2
    b_coeffs: list                  # [(power, expr)], power >= 0
    a_coeffs: list                  # [(power, expr)]: f = A(K) + B(K) w(i beta K)
    combined: tuple                 # ((power, expr), ...): the whole f expanded in K, before
                                    # its coefficients are expanded (``asymptotic``)

    @property
    def asymptotic(self) -> list:
        """[(power, expr)]: the whole f expanded in K, combined exactly (used where every term
        is asymptotic: the float64 and exported evaluators). Expanded on first use: it is most
        of ``analyse``'s cost (seconds for SiLU) and the enclosures do not need it."""
        return _expanded(self.combined)


@lru_cache(maxsize=256)
def _expanded(combined: tuple) -> list:
    return [(p, sp.expand(c)) for p, c in combined]


@lru_cache(maxsize=256)
def analyse(series: sp.Sum) -> SeriesShape:
    """Check the shape of ``series`` and split its summand (symbolic, done once per series:
    the float64 and mpmath evaluators, the enclosures and the code export all ask for it;
    the expansion of ``asymptotic``, the costly part, waits for its first use)."""
    (k, lo, hi), = series.limits
    if lo != 0 or hi is not sp.oo:
        raise SeriesShapeError("only sums over k = 0..oo are handled")
    summand = series.function
    # The same argument may be written in several ways (expanded or factored, after a
    # derivative): identify them by their factored form.
    canonical = {f: faddeeva(sp.factor(f.args[0])) for f in summand.atoms(faddeeva)}
    summand = summand.xreplace(canonical)
    args = {f.args[0] for f in canonical.values()}
    if len(args) != 1:
        raise SeriesShapeError("the summand must hold exactly one Faddeeva argument")
    (arg,) = args
    beta = sp.simplify(arg / (sp.I * (k + sp.Rational(1, 2))))
    if beta.has(k) or not beta.is_positive:
        raise SeriesShapeError("the Faddeeva argument is not i*beta*(k + 1/2) with beta > 0")
    linear = sp.expand(summand.xreplace({faddeeva(arg): _W}).subs(k, _K - sp.Rational(1, 2)))
    b_part = sp.expand(sp.diff(linear, _W))
    if b_part.has(_W):
        raise SeriesShapeError("the summand is not linear in the Faddeeva value")
    a_part = sp.expand(linear.subs(_W, 0))
    b_poly = sp.Poly(b_part, _K)
    n = (b_poly.degree() + 2) // 2  # enough terms that B R_n decays like K^-2 or faster
    partial = sum((expansion_coefficient(i) * (_BETA * _K) ** (-(2 * i + 1)) for i in range(n)),
                  sp.S.Zero)
    p_expr = sp.expand((a_part + b_part * partial).subs(_BETA, beta))
    p_coeffs = []
    for term in sp.Add.make_args(p_expr):
        coeff, power = term.as_coeff_exponent(_K)
        if power.has(_K) or not power.is_Integer:
            raise SeriesShapeError("the summand is not polynomial in k")
        p_coeffs.append((int(power), coeff))
    grouped: dict[int, sp.Expr] = {}
    for power, coeff in p_coeffs:
        grouped[power] = grouped.get(power, 0) + coeff
    for power, coeff in grouped.items():
        if power >= -1 and sp.simplify(coeff) != 0:
            raise SeriesShapeError("the series does not converge (terms do not decay like k^-2)")
    b_list = [(m[0], c) for m, c in zip(b_poly.monoms(), b_poly.coeffs())]
    combined: dict[int, sp.Expr] = dict(grouped)
    for i in range(n, n + ASYMPTOTIC_TERMS):
        ci = expansion_coefficient(i) * beta ** (-(2 * i + 1))
        for j, bj in b_list:
            combined[j - 2 * i - 1] = combined.get(j - 2 * i - 1, 0) + bj * ci
    return SeriesShape(
        index=k, beta=beta, subtracted=n,
        combined=tuple((p, c) for p, c in combined.items() if p <= -2),
        p_coeffs=[(p, c) for p, c in grouped.items() if p <= -2],
        b_coeffs=[(m[0], c) for m, c in zip(b_poly.monoms(), b_poly.coeffs())],
        a_coeffs=[(m[0], c) for m, c in zip(sp.Poly(a_part, _K).monoms(),
                                             sp.Poly(a_part, _K).coeffs())],
    )


# ------------------------------------------------------------------------------------------
# The remainder R_n(Y) = w(iY) - sum_{i<n} c_i Y^-(2i+1), without cancellation
# ------------------------------------------------------------------------------------------
def remainder_mp(n: int, y, dps: int):
    """R_n(y) at working precision dps (y > 0)."""
    y = mpmath.mpf(y)
    sqrt_pi = mpmath.sqrt(mpmath.pi)
    if y * y > 2 * dps + 2 * n + 20:
        # asymptotic tail from term n on; stop once the terms fall below the precision
        total = mpmath.mpf(0)
        inv2 = 1 / (2 * y * y)
        term = (-1) ** n * _double_factorial(2 * n - 1) / (sqrt_pi * y) * inv2**n
        i = n
        eps = mpmath.mpf(10) ** (-dps - 5)
        while True:
            total += term
            nxt = term * -(2 * i + 1) * inv2
            if abs(nxt) < eps * abs(total) or abs(nxt) >= abs(term):
                return total
            term, i = nxt, i + 1
    # extra digits for the mild cancellation at moderate y (partial sum included)
    with mpmath.workdps(dps + 2 * n + 10):
        partial = mpmath.fsum(expansion_coefficient_mp(i) * y ** (-(2 * i + 1)) for i in range(n))
        return faddeeva_mp(mpmath.mpc(0, y)).real - partial


def expansion_coefficient_mp(i: int):
    return (-1) ** i * _double_factorial(2 * i - 1) / (mpmath.sqrt(mpmath.pi) * 2**i)


def remainder_np(n: int, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R_n(y) in float64 for an array of y > 0, and the size of the largest piece that went
    into it (for the cancellation estimate)."""
    import scipy.special as sc  # scipy loads on first numerical use, not on import

    y = np.asarray(y, dtype=float)
    out = np.empty_like(y)
    size = np.empty_like(y)
    big = y > 7.0
    if np.any(big):
        yb = y[big]
        inv2 = 1.0 / (2.0 * yb * yb)
        term = (-1) ** n * _double_factorial(2 * n - 1) / (math.sqrt(math.pi) * yb) * inv2**n
        total = np.zeros_like(yb)
        for i in range(n, n + 40):
            total += term
            term = term * -(2 * i + 1) * inv2
        out[big] = total
        size[big] = abs(total)
    small = ~big
    if np.any(small):
        ys = y[small]
        pieces = [float(expansion_coefficient_mp(i)) * ys ** (-(2 * i + 1)) for i in range(n)]
        w = sc.erfcx(ys)
        out[small] = w - sum(pieces)
        size[small] = np.max(np.abs(pieces + [w]), axis=0)
    return out, size


# ------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------
class CompiledSeries:
    """mpmath and numpy evaluation of one pole series as a function of ``symbols``."""

    def __init__(self, series: sp.Sum, symbols: Sequence[sp.Symbol]):
        self.shape = analyse(series)
        self.symbols = list(symbols)
        mp_mod, np_mod = ["mpmath"], ["numpy", "scipy"]
        self.beta_mp = sp.lambdify(symbols, self.shape.beta, modules=mp_mod)
        self.beta_np = sp.lambdify(symbols, self.shape.beta, modules=np_mod)
        self.a_mp = [(p, sp.lambdify(symbols, c, modules=mp_mod)) for p, c in self.shape.a_coeffs]
        self.a_np = [(p, sp.lambdify(symbols, c, modules=np_mod)) for p, c in self.shape.a_coeffs]
        # P's coefficients term by term, so that cancellation between them can be measured
        self.p_mp = [(p, sp.lambdify(symbols, t, modules=mp_mod))
                     for p, c in self.shape.p_coeffs for t in sp.Add.make_args(sp.expand(c))]
        self.b_mp = [(p, sp.lambdify(symbols, c, modules=mp_mod)) for p, c in self.shape.b_coeffs]
        self.asym_np = [(p, sp.lambdify(symbols, c, modules=np_mod)) for p, c in self.shape.asymptotic]
        self.p_np = [(p, sp.lambdify(symbols, t, modules=np_mod))
                     for p, c in self.shape.p_coeffs for t in sp.Add.make_args(sp.expand(c))]
        self.b_np = [(p, sp.lambdify(symbols, c, modules=np_mod)) for p, c in self.shape.b_coeffs]

    # -- mpmath ---------------------------------------------------------------------------
    def mp(self, values: Sequence, dps: int, with_bound: bool = False):
        """The sum at working precision ``dps``; with_bound=True also returns the bound on
        the truncation error of the tail.

        Pieces of the split f = P + B R_n can be much larger than the sum (small variances:
        powers of 1/v cancel); the loss is measured and the sum recomputed with enough extra
        digits."""
        extra = 0
        for _attempt in range(4):
            value, bound, largest = self._mp_once(values, dps + extra)
            lost = 0 if value == 0 else max(0, int(mpmath.ceil(mpmath.log10(largest / abs(value)))))
            if lost <= extra:
                break
            extra = lost + 5
        with mpmath.workdps(dps):
            value = +value
            if bound > mpmath.mpf(10) ** (-(dps - 2)) * max(abs(value), mpmath.mpf(10) ** -dps):
                raise PrecisionError("the pole-series tail bound exceeds the precision")
            return (value, bound) if with_bound else value

    def _mp_once(self, values: Sequence, dps: int):
        n = self.shape.subtracted
        with mpmath.workdps(dps):
            beta = mpmath.mpf(self.beta_mp(*values))
            A = [(p, mpmath.mpf(c(*values))) for p, c in self.a_mp]
            P = [(p, mpmath.mpf(c(*values))) for p, c in self.p_mp]
            B = [(j, mpmath.mpf(c(*values))) for j, c in self.b_mp]
            # Tail start: the expansion of R_n reaches 10^-D once Y^2 ~ D ln 10 (with a margin
            # so that few expansion terms are needed).
            y_needed = math.sqrt(3 * (dps + 5) * math.log(10)) + 2
            k0 = max(0, int(math.ceil(float(y_needed / beta) - 0.5)))
            if k0 > MAX_HEAD_TERMS_MP:
                raise PrecisionError(
                    f"the pole series needs {k0} terms at this variance (more than "
                    f"{MAX_HEAD_TERMS_MP}): use method='quadrature'")
            terms = [self._term_mp(kk + mpmath.mpf(1) / 2, beta, A, P, B, n, dps)
                     for kk in range(k0)]
            tail, bound, tail_largest = self._tail_mp(P, B, beta, k0, n, dps)
            largest = max([abs(t[1]) for t in terms] + [tail_largest, mpmath.mpf(0)])
            return mpmath.fsum(t[0] for t in terms) + tail, bound, largest

    @staticmethod
    def _term_mp(K, beta, A, P, B, n, dps):
        """(term, size of its largest piece): A + B w near the origin, P + B R_n further out."""
        y = beta * K
        b = mpmath.fsum(c * K**j for j, c in B)
        if y < 2:
            a = mpmath.fsum(c * K**p for p, c in A)
            piece = b * faddeeva_mp(mpmath.mpc(0, y)).real
            return a + piece, max(abs(a), abs(piece))
        poly_terms = [c * K**p for p, c in P]
        piece = b * remainder_mp(n, y, dps)
        return (mpmath.fsum(poly_terms) + piece,
                max([abs(t) for t in poly_terms] + [abs(piece)]))

    def _tail_mp(self, P, B, beta, k0: int, n: int, dps: int):
        start = k0 + mpmath.mpf(1) / 2
        sqrt_pi = mpmath.sqrt(mpmath.pi)
        # Expansion terms i = n .. N of R_n; N chosen by the (cheap, rigorous) remainder bound.
        with mpmath.workdps(20):
            beta_lo, start_lo = mpmath.mpf(beta), mpmath.mpf(start)
            abs_b = [(j, abs(mpmath.mpf(bj))) for j, bj in B]
            best_n, best_bound = None, mpmath.inf
            for N in range(n, n + 4 * dps + 40):
                rn = _double_factorial(2 * N + 1) / (sqrt_pi * 2 ** (N + 1) * beta_lo ** (2 * N + 3))
                bound = mpmath.mpf(0)
                for j, bj in abs_b:
                    s = 2 * N + 3 - j
                    bound = mpmath.inf if s <= 1 else bound + bj * rn * hurwitz_zeta_upper(s, start_lo)
                if best_n is not None and bound >= best_bound:
                    break
                if bound < best_bound:
                    best_n, best_bound = N, bound
                if bound < mpmath.mpf(10) ** (-(dps + 5)):
                    break
        if best_n is None:
            raise PrecisionError("no finite bound for the pole-series tail")
        powers: dict[int, mpmath.mpf] = {}
        sizes: dict[int, mpmath.mpf] = {}  # largest single contribution to each power

        def add(power, value):
            powers[power] = powers.get(power, 0) + value
            sizes[power] = max(sizes.get(power, 0), abs(value))

        for p, c in P:
            add(p, c)
        for i in range(n, best_n + 1):
            ci = expansion_coefficient_mp(i) / beta ** (2 * i + 1)
            for j, bj in B:
                add(j - 2 * i - 1, bj * ci)
        zetas = hurwitz_zetas([-p for p in powers], start)
        largest = max([sizes[p] * zetas[-p] for p in powers] + [mpmath.mpf(0)])
        return (mpmath.fsum(c * zetas[-p] for p, c in powers.items()), mpmath.mpf(best_bound),
                largest)

    # -- numpy ----------------------------------------------------------------------------
    def np(self, *arrays: np.ndarray) -> np.ndarray:
        """float64 value, vectorised over broadcastable arrays (one per symbol)."""
        import scipy.special as sc  # scipy loads on first numerical use, not on import

        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        flat = [np.broadcast_to(a, shape).ravel() for a in arrays]
        size = max(1, int(np.prod(shape)))

        def vec(f):
            return np.broadcast_to(np.asarray(f(*flat), dtype=float), (size,))

        n = self.shape.subtracted
        beta = vec(self.beta_np)
        A = [(p, vec(c)) for p, c in self.a_np]
        P = [(p, vec(c)) for p, c in self.p_np]
        B = [(j, vec(c)) for j, c in self.b_np]
        y_needed = math.sqrt(3 * 20 * math.log(10)) + 2
        # Large variances (small beta) need ~y_needed/beta head terms: beyond MAX_HEAD_TERMS
        # the points are left to the quadrature (their estimate is set to infinity below).
        too_wide = ~(beta * MAX_HEAD_TERMS >= y_needed)
        usable = beta[~too_wide]
        k0 = int(max(0, np.ceil(np.max(y_needed / usable) - 0.5))) if usable.size else 0
        out = np.zeros(size)
        largest = np.zeros(size)
        for kk in range(k0):
            K = kk + 0.5
            y = beta * K
            b = sum(c * K**j for j, c in B)
            near = y < 2
            a = sum(c * K**p for p, c in A) if A else np.zeros(size)
            direct_piece = b * sc.erfcx(np.where(near, y, 1.0))
            poly_terms = [c * K**p for p, c in P]
            poly = sum(poly_terms) if P else np.zeros(size)
            poly_size = np.max(np.abs(poly_terms), axis=0) if P else np.zeros(size)
            remainder, remainder_size = remainder_np(n, np.where(near, 2.0, y))
            split_piece = b * remainder
            term = np.where(near, a + direct_piece, poly + split_piece)
            size_here = np.where(near, np.maximum(abs(a), abs(direct_piece)),
                                 np.maximum(poly_size, abs(b) * remainder_size))
            out += term
            largest = np.maximum(largest, size_here)
        start = k0 + 0.5
        powers: dict[int, np.ndarray] = {}
        sizes: dict[int, np.ndarray] = {}
        for p, c in P + [(j - 2 * i - 1, bj * (float(expansion_coefficient_mp(i))
                                               / beta ** (2 * i + 1)))
                         for i in range(n, n + 12) for j, bj in B]:
            powers[p] = powers.get(p, 0) + c
            sizes[p] = np.maximum(sizes.get(p, 0), abs(c))
        for p, c in powers.items():
            z = sc.zeta(-p, start)
            out += c * z
            largest = np.maximum(largest, sizes[p] * z)
        # Where every term is asymptotic (large beta: small variances), the split pieces cancel
        # badly in float64; the exactly combined expansion does not.
        asym = beta >= ASYMPTOTIC_BETA
        if np.any(asym):
            sub = [a[asym] for a in flat] if flat else []
            value = np.zeros(int(np.count_nonzero(asym)))
            for p, c in self.asym_np:
                value += np.broadcast_to(np.asarray(c(*sub), dtype=float), value.shape) * sc.zeta(-p, 0.5)
            out[asym] = value
            # the combined coefficients cancel among themselves in float64 (1e-12 at
            # q = 1e-6): these points are left to the quadrature
            largest[asym] = np.inf
        largest[too_wide] = np.inf
        out[too_wide] = np.nan
        self.last_cancellation = (largest / np.maximum(abs(out), 1e-300)).reshape(shape)
        return out.reshape(shape)
