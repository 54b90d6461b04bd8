"""Stable evaluation of closed forms in an arcsine near the ends of its range.

The arc-cosine kernels and the maps built from them hold asin(N/Den) together with
sqrt(Den^2 - N^2) and terms linear in N. Near N/Den = -1 (ReLU kernel at c -> -1) the value
vanishes like phi^3, phi = pi - arccos(N/Den), while its terms are O(1): evaluated as
written, all digits cancel. The derived expression stays what the calculus derived; this
module only changes how it is *evaluated* (a rewrite applied when compiling):

* the angle T = arccos(N/Den) is introduced by solving N = Den cos T for one variable v of N,
  so that asin(N/Den) = pi/2 - T and sqrt(Den^2 - N^2) = |.| sin T (radicands vanishing at
  one end only become sin(T/2) or cos(T/2)): the law is G(T), a combination of T, cos T,
  sin T, cos(T/2), sin(T/2) with coefficients in the other variables;
* the small angle is computed directly, t = atan2(sqrt(Den^2 - N^2), +-N), with
  Den^2 - N^2 factored symbolically (sigma_w^2 (A - C)(...), not (A sigma_w^2 +
  sigma_b^2)^2 - (C sigma_w^2 + sigma_b^2)^2);
* at an end where the value G(0) or G(pi) is not bounded away from zero, the Taylor
  coefficients of G in t are combined *exactly* (the cancelling low orders are symbolic
  zeros) and float64 sums the series for t < 1; mpmath sums the same series (its
  coefficients evaluated at the point) where its terms fall below the precision, and
  otherwise evaluates G at t with the digits the remaining cancellation costs (the
  certification checks them); t = 0 exactly gives the end value exactly (a structural zero,
  such as the distance map at D = 0).

In between (|N| <= Den/2) the expression is evaluated as derived (it is well conditioned
there). A difference of two arcsines asin(X) - asin(Y) with X - Y small (Amari's distance map
at D -> 0) is rewritten as one angle whose sine is computed from the symbolically simplified
X - Y (``arcsine_differences``).
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from ...symbols import NON_NEGATIVE, STRICTLY_POSITIVE

#: Taylor terms kept at an end (float64 sums them for t < SERIES_ANGLE: t^26/26! ~ 2.5e-27).
SERIES_TERMS = 26
#: Below this small angle float64 uses the Taylor series at an end.
SERIES_ANGLE = 1.0
_TAN_SQUARED = math.tan(SERIES_ANGLE) ** 2
#: Below this angle mpmath tries the exact Taylor series first (if its last terms are below
#: the precision; otherwise the expression in the angle with the digits it cancels).
MP_SERIES_ANGLE = 0.25

#: The lambdify modules (mpmath and float64), installed by .compile, which sits above this
#: module and imports it (so this module never imports compile back).
_LAMBDIFY: dict = {}


def use_lambdify_modules(mp_modules: list, np_modules: Callable[[], list]) -> None:
    """Install the modules AngleForm compiles its parts with."""
    _LAMBDIFY.update(mp=mp_modules, np=np_modules)


_T = sp.Dummy("T", positive=True)
_COS, _SIN = sp.cos(_T), sp.sin(_T)
_COS_HALF, _SIN_HALF = sp.cos(_T / 2), sp.sin(_T / 2)
_TRIG = (_COS, _SIN, _COS_HALF, _SIN_HALF)


class NotApplicable(Exception):
    """The expression has no single arcsine angle this rewrite can introduce."""


# ------------------------------------------------------------------------------------------
# Signs on the domain
# ------------------------------------------------------------------------------------------
def _on_domain(expr: sp.Expr) -> sp.Expr:
    """expr with each symbol replaced by a dummy carrying the domain's sign: variances and
    scales > 0, sigma_b, D, kappa2 >= 0 (SymPy's own assumptions say sigma_b > 0)."""
    replace = {}
    for s in expr.free_symbols:
        if s.name in NON_NEGATIVE:
            replace[s] = sp.Dummy(s.name, nonnegative=True)
        elif s.name in STRICTLY_POSITIVE or s.is_positive:
            replace[s] = sp.Dummy(s.name, positive=True)
        else:
            replace[s] = sp.Dummy(s.name, real=True)
    return expr.xreplace(replace)


def sign_definite(expr: sp.Expr) -> bool:
    """expr is strictly positive or strictly negative everywhere on the domain."""
    e = _on_domain(sp.factor(expr))
    return bool(e.is_positive) or bool(e.is_negative)


def squared_gap(num: sp.Expr, den: sp.Expr) -> sp.Expr:
    """Den^2 - N^2 in a form that computes the small factor directly: factored when it
    factors (sigma_w^2 (A - C)(sigma_w^2 (A + C) + 2 sigma_b^2), (1 - c)(1 + c)), otherwise
    (D - N)(D + N) with D = sqrt(Den^2) one square root (sqrt(q1 q2), not sqrt(q1) sqrt(q2):
    then D = q exactly for q1 = q2 = q in float64, and q - rho is exact near rho = q)."""
    squared = sp.expand(den**2 - num**2)
    factored = sp.factor(squared)
    if isinstance(factored, sp.Mul) and sum(1 for f in sp.Mul.make_args(factored)
                                            if f.has(*num.free_symbols) and f.is_Add) >= 1:
        return factored
    symbols = sorted(squared.free_symbols | den.free_symbols, key=lambda s: s.name)
    try:
        lower = sp.Poly(squared, *symbols).total_degree() < \
            sp.Poly(sp.expand(den**2), *symbols).total_degree()
    except sp.PolynomialError:
        lower = False
    if lower:  # the leading terms cancelled symbolically: (2q + 1)^2 - 4q^2 = 4q + 1
        return factored
    root = sp.Pow(sp.expand(den**2), sp.Rational(1, 2), evaluate=False)
    return sp.Mul(sp.Add(root, -num, evaluate=False), sp.Add(root, num, evaluate=False),
                  evaluate=False)


class _joint_sqrt(sp.Function):
    """sqrt(x) of a product kept as one root through lambdify's common-subexpression pass
    (numerics only): SymPy rebuilds sqrt(q1 q2) of positive symbols as sqrt(q1) sqrt(q2),
    0.5000000000000001 at q1 = q2 = 0.5, which puts c = rho/sqrt(q1 q2) = 1 an ulp inside
    the range and the arcsine's angle sqrt(ulp) = 1e-8 away from 0."""


def joint_roots(expr):
    """Every square root of an unevaluated product in ``expr`` (the D = sqrt(Den^2) of
    ``squared_gap``) as one ``_joint_sqrt`` (for lambdify; a list is mapped)."""
    if isinstance(expr, (list, tuple)):
        return [joint_roots(e) for e in expr]
    if not isinstance(expr, sp.Basic):
        return expr
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.base.is_Mul and e.exp == sp.Rational(1, 2),
        lambda e: _joint_sqrt(e.base))


def positive(expr: sp.Expr) -> bool:
    """expr is strictly positive everywhere on the domain."""
    return bool(_on_domain(sp.factor(expr)).is_positive)


# ------------------------------------------------------------------------------------------
# Building the angle form
# ------------------------------------------------------------------------------------------
def _taylor_trig(kind: str, n_terms: int) -> list[Fraction]:
    """Taylor coefficients of cos(t), sin(t), cos(t/2), sin(t/2) (exact rationals)."""
    half = kind.endswith("half")
    out = []
    for n in range(n_terms):
        odd = n % 2 == 1
        if kind.startswith("cos") == odd:
            out.append(Fraction(0))
            continue
        c = Fraction((-1) ** (n // 2), math.factorial(n))
        out.append(c / 2**n if half else c)
    return out


def _multiply(a: list, b: list, n_terms: int) -> list:
    out = [Fraction(0)] * n_terms
    for i, x in enumerate(a):
        if x:
            for j in range(n_terms - i):
                if b[j]:
                    out[i + j] += x * b[j]
    return out


class EndSeries:
    """G(t) = sum_g g * sum_n c[g][n] t^n / denominator near one end of the angle's range.

    g runs over the monomials of the other variables (pi included), c are exact rationals:
    the cancelling low orders are exact zeros, found without any symbolic simplification."""

    def __init__(self, G: sp.Expr, n_terms: int = SERIES_TERMS):
        numerator, denominator = sp.fraction(sp.together(G))
        if denominator.has(_T):
            raise NotApplicable("the angle appears in a denominator")
        self.denominator = denominator
        poly = sp.Poly(sp.expand(numerator))
        angle_gens = [i for i, gen in enumerate(poly.gens) if gen.has(_T)]
        if any(poly.gens[i] not in (_T, *_TRIG) for i in angle_gens):
            raise NotApplicable("the angle enters other than through T, cos, sin")
        series = {_COS: _taylor_trig("cos", n_terms), _SIN: _taylor_trig("sin", n_terms),
                  _COS_HALF: _taylor_trig("cos_half", n_terms),
                  _SIN_HALF: _taylor_trig("sin_half", n_terms)}
        powers: dict = {}

        def power(gen, k):
            if (gen, k) not in powers:
                if gen is _T:
                    powers[gen, k] = [Fraction(int(n == k)) for n in range(n_terms)]
                elif k == 1:
                    powers[gen, k] = series[gen]
                else:
                    powers[gen, k] = _multiply(power(gen, k - 1), series[gen], n_terms)
            return powers[gen, k]

        self.n_terms = n_terms
        #: coefficients[g][n] (g a SymPy monomial of the other variables, pi included)
        self.coefficients: dict = {}
        for monomial, coeff in poly.terms():
            numbers = [Fraction(1)] + [Fraction(0)] * (n_terms - 1)
            rest = sp.Integer(1)
            for i, k in enumerate(monomial):
                if not k:
                    continue
                if i in angle_gens:
                    numbers = _multiply(numbers, power(poly.gens[i], k), n_terms)
                else:
                    rest *= poly.gens[i] ** k
            if not coeff.is_Rational:  # a Float (e.g. a law scaled by 1.1): no exact series
                raise NotApplicable(f"a coefficient that is not rational ({coeff})")
            row = self.coefficients.setdefault(rest, [Fraction(0)] * n_terms)
            factor = Fraction(int(coeff.p), int(coeff.q))
            for n, x in enumerate(numbers):
                if x:
                    row[n] += factor * x
        self.coefficients = {g: row for g, row in self.coefficients.items() if any(row)}

    def order(self) -> int:
        """Index of the first nonzero Taylor coefficient."""
        orders = [next(n for n, x in enumerate(row) if x) for row in self.coefficients.values()]
        return min(orders) if orders else self.n_terms

    def coefficient(self, n: int) -> sp.Expr:
        """The exact n-th Taylor coefficient."""
        total = sp.Add(*[g * sp.Rational(row[n].numerator, row[n].denominator)
                         for g, row in self.coefficients.items() if row[n]])
        return total / self.denominator

    def proportional(self) -> bool:
        """Every coefficient is a number times one expression (G/G(end) depends on t only)."""
        if self.order() != 0:
            return False
        vectors: dict = {}
        for g, row in self.coefficients.items():
            pi_power = sp.degree(g, sp.pi) if g.has(sp.pi) else 0
            plain = sp.cancel(g / sp.pi**pi_power)
            vector = vectors.setdefault(plain, {})
            for n, x in enumerate(row):
                if x:
                    vector[pi_power, n] = vector.get((pi_power, n), 0) + x
        first, *others = vectors.values()
        key = next(iter(first))
        for other in others:
            if set(other) != set(first):
                return False
            scale = other[key] / first[key]
            if any(other[k] != scale * first[k] for k in first):
                return False
        return True

    def float_coefficients(self) -> tuple[list[sp.Expr], list[list[float]]]:
        """The series as monomials of the other variables (pi taken out) and, for each, its
        float64 coefficients of t^0, t^1, ... (summed at 30 digits, rounded once)."""
        groups: dict = {}
        for g, row in self.coefficients.items():
            pi_power = sp.degree(g, sp.pi) if g.has(sp.pi) else 0
            plain = sp.cancel(g / sp.pi**pi_power)
            with mpmath.workdps(30):
                numbers = [mpmath.mpf(x.numerator) / x.denominator * mpmath.pi**pi_power
                           for x in row]
            current = groups.setdefault(plain, [mpmath.mpf(0)] * self.n_terms)
            groups[plain] = [a + b for a, b in zip(current, numbers)]
        monomials = list(groups)
        return monomials, [[float(x) for x in groups[g]] for g in monomials]

    def numpy_function(self, symbols: Sequence[sp.Symbol]) -> Callable:
        """float64 G(*symbols, t): one polynomial in t per monomial of the other variables
        (its coefficients rounded from 30-digit values)."""
        monomials, coefficients = self.float_coefficients()
        polys = [np.array(list(reversed(row))) for row in coefficients]
        parts = sp.lambdify(list(symbols), joint_roots([*monomials, self.denominator]),
                            modules=_LAMBDIFY["np"](), cse=True)

        def evaluate(*args):
            *values, t = args
            pieces = parts(*values)
            total = 0.0
            for value, coeffs in zip(pieces[:-1], polys):
                total = total + value * np.polyval(coeffs, t)
            return total / pieces[-1]

        return evaluate


def _solve_variable(num: sp.Expr, den: sp.Expr) -> tuple[sp.Symbol, sp.Expr, sp.Expr]:
    """A variable v with num = a v + b (a, b free of v, v not in den)."""
    for v in sorted(num.free_symbols - den.free_symbols, key=lambda s: s.name):
        poly = sp.Poly(num, v)
        if poly.degree() == 1:
            a, b = poly.all_coeffs()
            return v, a, b
    raise NotApplicable("no variable enters the arcsine linearly")


class AngleForm:
    """A closed form as G(T), T = arccos(N/Den), with exact Taylor series at the ends."""

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol]):
        self.expr = expr
        self.symbols = list(symbols)
        atoms = sorted(expr.atoms(sp.asin, sp.acos), key=sp.default_sort_key)
        if not atoms:
            raise NotApplicable("no arcsine")
        ratio = None
        for atom in atoms:
            num, den = sp.fraction(sp.together(atom.args[0]))
            if not positive(den):
                continue
            try:
                v, a, b = _solve_variable(num, den)
            except NotApplicable:
                continue
            ratio = (num, den, v, a, b)
            break
        if ratio is None:
            raise NotApplicable("no arcsine with a solvable argument")
        num, den, v, a, b = ratio
        self.variable = v
        self.num, self.den = num, den
        self.gap = squared_gap(num, den)
        G = self._in_angle(expr, num / den, v, (den * sp.Symbol("_cos") - b) / a)
        self.G = G
        self.ends = {}
        for end in (0, 1):  # T = 0 (N = Den) and T = pi (N = -Den)
            at_end = G if end == 0 else G.xreplace({_T: sp.pi - _T})
            series = EndSeries(at_end)
            self.ends[end] = {"expr": at_end, "value": series.coefficient(0),
                              "order": series.order(),
                              # G/G(end) a function of the angle alone: the expression as
                              # derived is accurate relative to its value there (the ReLU
                              # kernel at c -> 1) and needs no series
                              "series": None if series.proportional() else series}
        self._mp_ready = self._np_ready = False
        self._series_cache: dict = {}

    # -- symbolic ------------------------------------------------------------------------
    @staticmethod
    def _in_angle(expr: sp.Expr, ratio: sp.Expr, v: sp.Symbol, v_of_cos: sp.Expr) -> sp.Expr:
        cos_symbol = sp.Symbol("_cos")

        def atom(e):
            arg = sp.together(e.args[0])
            if not arg.has(v):
                return e
            if sp.cancel(arg - ratio) == 0:
                sign = 1
            elif sp.cancel(arg + ratio) == 0:
                sign = -1
            else:
                raise NotApplicable("two different arcsine arguments in the same variable")
            if isinstance(e, sp.asin):
                return sign * (sp.pi / 2 - _T)
            return _T if sign == 1 else sp.pi - _T

        G = expr.replace(lambda e: isinstance(e, (sp.asin, sp.acos)), atom)

        def root(e):
            base = sp.factor(sp.cancel(e.base.subs(v, v_of_cos)))
            for factor, value in ((1 - cos_symbol**2, lambda Q: sp.sqrt(Q) * _SIN),
                                  (1 - cos_symbol, lambda Q: sp.sqrt(2 * Q) * _SIN_HALF),
                                  (1 + cos_symbol, lambda Q: sp.sqrt(2 * Q) * _COS_HALF)):
                Q = sp.factor(sp.cancel(base / factor))
                if not Q.has(cos_symbol) and positive(Q):
                    return sp.Pow(value(Q), 2 * e.exp)
            if not base.has(cos_symbol):
                return sp.Pow(base, e.exp)
            raise NotApplicable(f"radicand {e.base} is not a multiple of sin^2 T")

        G = G.replace(lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational
                      and not e.exp.is_Integer and e.base.has(v), root)
        G = G.subs(v, v_of_cos).subs(cos_symbol, _COS)
        if G.has(v) or any(a.has(_T) for a in G.atoms(sp.asin, sp.acos)):
            raise NotApplicable("the variable is left over")
        return G

    # -- numerics ------------------------------------------------------------------------
    def _compile_mp(self) -> None:
        syms = self.symbols
        parts = (self.num, self.den, self.gap)
        self._parts_mp = [sp.lambdify(syms, p, modules=_LAMBDIFY["mp"]) for p in parts]
        self._end_mp, self._value_mp, self._order = {}, {}, {}
        t = sp.Dummy("t")
        for end, info in self.ends.items():
            self._end_mp[end] = sp.lambdify([*syms, t], info["expr"].xreplace({_T: t}),
                                            modules=_LAMBDIFY["mp"])
            self._value_mp[end] = sp.lambdify(syms, info["value"], modules=_LAMBDIFY["mp"])
            self._order[end] = info["order"]
        self._mp_ready = True

    def _compile_np(self) -> None:
        parts = (self.num, self.gap)
        self._parts_np = sp.lambdify(self.symbols, joint_roots(list(parts)),
                                     modules=_LAMBDIFY["np"](), cse=True)
        self._series_np = {end: info["series"].numpy_function(self.symbols)
                           for end, info in self.ends.items() if info["series"] is not None}
        self._np_ready = True

    @property
    def needs_series(self) -> bool:
        """Some end needs the Taylor series in float64."""
        return any(info["series"] is not None for info in self.ends.values())

    def mp(self, values: Sequence, dps: int, direct: Callable):
        """The value at working precision ``dps`` (``direct`` evaluates the expression as
        derived, used where the arcsine's argument is away from +-1)."""
        if not self._mp_ready:
            self._compile_mp()
        num, den = (f(*values) for f in self._parts_mp[:2])
        if 2 * abs(num) <= den:
            return direct(values)
        end = 0 if num > 0 else 1
        t = self._angle(values, end)
        if t == 0:
            return self._value_mp[end](*values)
        if t < MP_SERIES_ANGLE:
            # The exact Taylor coefficients at these values: no cancellation, and the terms
            # say where the value is (b_0 = 2 sigma_b^2/(...) is 0 at sigma_b = 0).
            terms = [c(*values) * t**n for n, c in enumerate(self._series_mp(end))]
            largest = max(abs(v) for v in terms)
            if largest == 0:
                return mpmath.mpf(0)
            if max(abs(v) for v in terms[-2:]) <= mpmath.mpf(10) ** (-(dps + 5)) * largest:
                return mpmath.fsum(terms)
        extra = 5 + (max(self._order[end], 3) * max(0, int(-mpmath.log10(t))) if t < 1 else 0)
        with mpmath.workdps(dps + extra):
            t = self._angle(values, end)
            value = self._end_mp[end](*values, t)
        return +value

    def _series_mp(self, end: int) -> list:
        """The exact Taylor coefficients at an end as mpmath functions (lazily)."""
        cached = self._series_cache.get(end)
        if cached is None:
            series = EndSeries(self.ends[end]["expr"])
            cached = [sp.lambdify(self.symbols, series.coefficient(n), modules=_LAMBDIFY["mp"])
                      for n in range(series.n_terms)]
            self._series_cache[end] = cached
        return cached

    def _angle(self, values: Sequence, end: int):
        num, _den, gap = (f(*values) for f in self._parts_mp)
        side = mpmath.sqrt(max(gap, 0))
        return mpmath.atan2(side, num if end == 0 else -num)

    def np(self, arrays: Sequence[np.ndarray], out: np.ndarray, parts=None) -> np.ndarray:
        """Replace, in ``out`` (the expression as derived, float64), the points near an end
        whose value is not bounded away from zero by the exact Taylor series. ``parts`` are
        (N, Den^2 - N^2) if the caller computed them already (``FusedFloat64``)."""
        if not self.needs_series:
            return out
        if not self._np_ready:
            self._compile_np()
        shape = out.shape
        if parts is None:
            flat = [np.broadcast_to(np.asarray(a, dtype=float), shape) for a in arrays]
            parts = self._parts_np(*flat)
        num, gap = (np.broadcast_to(np.asarray(p, dtype=float), shape) for p in parts)
        result = None
        for end, series in self._series_np.items():
            near = self.near_end(num, gap, end)
            if not np.any(near):
                continue
            if result is None:
                result = np.array(out, dtype=float)
            signed = num[near] if end == 0 else -num[near]
            t = np.arctan2(np.sqrt(np.maximum(gap[near], 0.0)), signed)
            sub = [np.broadcast_to(np.asarray(a, dtype=float), shape)[near] for a in arrays]
            result[near] = series(*sub, t)
        return out if result is None else result

    @staticmethod
    def near_end(num: np.ndarray, gap: np.ndarray, end: int) -> np.ndarray:
        """t < SERIES_ANGLE at an end, t = atan2(sqrt(gap), +-N): +-N > 0 and
        gap <= tan(SERIES_ANGLE)^2 N^2 (no square root, no division)."""
        signed = num > 0 if end == 0 else num < 0
        return signed & (gap <= _TAN_SQUARED * (num * num))

    def parts(self) -> tuple[sp.Expr, sp.Expr]:
        """(N, Den^2 - N^2): what the float64 correction needs besides the value."""
        return self.num, self.gap


@lru_cache(maxsize=256)
def angle_form(expr: sp.Expr, symbols: tuple) -> AngleForm | None:
    """The angle form of a closed expression, or None when it has no such arcsine."""
    try:
        return AngleForm(expr, symbols)
    except (NotApplicable, sp.PolynomialError):
        return None


# ------------------------------------------------------------------------------------------
# Differences of two arcsines
# ------------------------------------------------------------------------------------------
class _asin_difference(sp.Function):
    """asin(x) - asin(y) as one angle (numerics only): atan2(sin d, cos d) with
    sin d = (x - y)(x + y) / (x sqrt(1 - y^2) + y sqrt(1 - x^2)) when x y > 0 (then that
    denominator cannot vanish) and x sqrt(1 - y^2) - y sqrt(1 - x^2) otherwise.
    Arguments: x, y, x - y, sqrt(1 - x^2), sqrt(1 - y^2)."""


def arcsine_differences(expr: sp.Expr) -> sp.Expr:
    """k asin(X) - k asin(Y) in a sum -> k _asin_difference(X, Y, ...), X - Y simplified."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.asin):
        return expr
    expr = expr.replace(lambda e: isinstance(e, sp.Add) and len(e.atoms(sp.asin)) >= 2,
                        _pair_in_sum)
    return expr


def _pair_in_sum(total: sp.Add) -> sp.Expr:
    terms = list(sp.Add.make_args(sp.expand(total, deep=False, mul=True, multinomial=False)))
    found = []
    for i, term in enumerate(terms):
        coeff, rest = term.as_independent(sp.asin, as_Add=False)
        if isinstance(rest, sp.asin):
            found.append((i, coeff, rest.args[0]))
    for i, ci, x in found:
        for j, cj, y in found:
            if i < j and sp.cancel(ci + cj) == 0:
                gap_x, gap_y = (sp.factor(sp.cancel(1 - a**2)) for a in (x, y))
                difference = sp.factor(sp.cancel(x - y))
                pair = _asin_difference(x, y, difference, sp.sqrt(gap_x), sp.sqrt(gap_y))
                rest = [t for k, t in enumerate(terms) if k not in (i, j)]
                return sp.Add(*rest, ci * pair)
    return total


def _mp_asin_difference(x, y, difference, root_x, root_y):
    if x * y > 0:
        sine = difference * (x + y) / (x * root_y + y * root_x)
    else:
        sine = x * root_y - y * root_x
    return mpmath.atan2(sine, root_x * root_y + x * y)


def _np_asin_difference(x, y, difference, root_x, root_y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        same = x * y > 0
        sine = np.where(same, difference * (x + y) / np.where(same, x * root_y + y * root_x, 1.0),
                        x * root_y - y * root_x)
    return np.arctan2(sine, root_x * root_y + x * y)


MP_FUNCTIONS = {"_asin_difference": _mp_asin_difference, "_joint_sqrt": mpmath.sqrt}
NP_FUNCTIONS = {"_asin_difference": _np_asin_difference, "_joint_sqrt": np.sqrt}

__all__ = ["AngleForm", "EndSeries", "SERIES_ANGLE", "SERIES_TERMS", "angle_form",
           "arcsine_differences", "joint_roots", "positive", "sign_definite"]
