"""Does a Gaussian expectation exist?  Decided from the integrand's structure, before evaluating.

E[f(u)] over u ~ N(0, s) exists when |f| is integrable against the density, which can fail in
two ways, both checked here at a point of the parameters:

* **growth at infinity**: along each direction the integrand's size is summarised as a *rate*,
  |f| ~ exp(c r^k) as r -> oo (polynomial factors have k = 0). E[exp(u^3)] and E[exp(u^4)]
  never exist; E[exp(u^2)] exists only while 1 < 1/(2s), i.e. q < 1/2. Rates are exact for
  the exponentials of polynomials that make such integrals diverge, and upper bounds for
  bounded or oscillating factors: divergence is only ever concluded from an exact rate;
* **singularities at finite points**: the places where the integrand may blow up (zeros of a
  denominator, poles of tan, zeros of a logarithm's argument) are located exactly (roots of
  polynomials, zeros of erf/tanh/sin of polynomials); at each, the local exponent p in
  |f| ~ |u - u0|^p is measured at 60 digits: p <= -1 is not integrable (1/u, 1/u^2), p > -1 is
  (1/sqrt|u|, log|u|).

Two-dimensional expectations are checked along 24 rays (growth) and on slices through generic
values of the other variable (singularities). Whatever cannot be settled this way is reported
as unknown with the reason, and the verifier then never says "equal". The Gaussian calculus
does not make this check itself (E[1/u] comes out as 0 by parity), so it is made here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Mapping

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..expectation import Expectation
from .limits import MAX_INTEGRAND_DEGREE
from .numeric import EvaluationFailed, check_magnitudes
from .sizes import integrand_degree

Status = Literal["exists", "diverges", "unknown"]

#: The variable of a ray: points r*v for r -> +oo.
_R = sp.Symbol("existence_ray", positive=True)
#: Digits of the local-exponent measurement.
_DIGITS = 60
#: Directions checked for two-dimensional growth (every 15 degrees: axes and diagonals too).
_RAYS = 24
#: Generic values of the other variable for two-dimensional slices.
_SLICES = (sp.Rational(3719, 10000), sp.Rational(-12713, 10000))


@dataclass(frozen=True)
class Existence:
    """Whether an expectation exists at a point; ``reason`` says why not (or why unknown)."""

    status: Status
    reason: str = ""


EXISTS = Existence("exists")


class _Unknown(Exception):
    """The structure is outside what this module can decide (message: what)."""


def decide(e: Expectation, point: Mapping[sp.Symbol, sp.Expr]) -> Existence:
    """Does ``e`` exist once its parameters take the values of ``point``?

    Raises :class:`~.numeric.EvaluationFailed` when the point makes the integrand too extreme
    to work with (the point is then skipped, like one where a formula cannot be evaluated).
    """
    values = {s: point[s] for s in e.free_symbols if s in point}
    if set(values) != e.free_symbols:
        missing = ", ".join(sorted(str(s) for s in e.free_symbols - set(values)))
        return Existence("unknown", f"no value for {missing}")
    check_magnitudes(e, values)
    try:
        integrand = e.integrand.subs(values)
        degree = integrand_degree(integrand, frozenset(e.variables))
        if degree > MAX_INTEGRAND_DEGREE:
            raise EvaluationFailed(f"at this point the integrand has degree {degree} (limit "
                                   f"{MAX_INTEGRAND_DEGREE})")
        covariance = tuple(v.subs(values) for v in e.covariance)
        if any(m != 0 for m in e.mean):
            return Existence("unknown", "only centred Gaussians are checked")
        if e.dimension == 1:
            return _decide_1d(integrand, e.variables[0], covariance[0])
        return _decide_2d(integrand, e.variables, covariance)
    except _Unknown as why:
        return Existence("unknown", f"cannot decide whether {_show(e)} exists ({why})")
    except (RecursionError, MemoryError):
        return Existence("unknown", f"cannot decide whether {_show(e)} exists (too large)")


def _show(e: Expectation) -> str:
    text = f"E[{sp.sstr(e.integrand)}]"
    return text if len(text) <= 60 else text[:57] + "...]"


# -- one dimension ------------------------------------------------------------------------------

def _decide_1d(f: sp.Expr, x: sp.Symbol, variance: sp.Expr) -> Existence:
    if not variance.is_number or variance.is_negative:
        raise _Unknown(f"the variance {variance} is not a non-negative number")
    if variance == 0:
        value = f.subs(x, 0)
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            return Existence("diverges", f"the variance is 0 and {sp.sstr(f)} is infinite at 0")
        return EXISTS
    decay = _mp(1 / (2 * variance))
    for sign in (1, -1):
        rate = _ray_rate(f, ((x, sign),))
        verdict = _against_gaussian(rate, decay)
        if verdict is not None:
            where = f"{x} -> {'+' if sign > 0 else '-'}oo"
            return Existence("diverges", _growth_reason(f, rate, where, variance))
    return _check_singularities(f, x)


@lru_cache(maxsize=512)
def _check_singularities(f: sp.Expr, x: sp.Symbol) -> Existence:
    if f.has(sp.DiracDelta):
        return _delta(f, x)
    for x0, what in _candidates(f, x):
        order = _local_order(f, x, x0)
        if order is None:
            raise _Unknown(f"the integrand cannot be evaluated near {x} = {_num(x0)}")
        if order <= -1.05 or abs(order + 1) < 0.01:
            return Existence("diverges", f"the integrand behaves like {_offset(x, x0)}^"
                                         f"{_num(order, 3)} at {what}, which is not integrable")
        if order < -0.95:
            raise _Unknown(f"the integrand is borderline ({_offset(x, x0)}^{_num(order, 3)}) "
                           f"at {what}")
    return EXISTS


def _delta(f: sp.Expr, x: sp.Symbol) -> Existence:
    """A delta function is a point mass: fine once, infinite when squared at the same point."""
    for node in sp.preorder_traversal(f):
        if node.is_Pow and isinstance(node.base, sp.DiracDelta) and node.exp > 1:
            return Existence("diverges", f"{sp.sstr(node)} is a squared delta function")
        if node.is_Mul:
            deltas = [a.args[0] for a in node.args if isinstance(a, sp.DiracDelta)]
            for i, first in enumerate(deltas):
                for second in deltas[i + 1:]:
                    if sp.expand(first - second) == 0 or sp.expand(first + second) == 0:
                        return Existence("diverges", "a product of delta functions at the "
                                                     "same point")
                    raise _Unknown("a product of delta functions")
    without = f.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.One)
    if _candidates(without, x):
        raise _Unknown("a delta function next to a singular factor")
    return EXISTS


# -- two dimensions -----------------------------------------------------------------------------

def _decide_2d(f: sp.Expr, variables: tuple[sp.Symbol, ...], covariance: tuple) -> Existence:
    x1, x2 = variables
    var1, cov, var2 = covariance
    if not all(v.is_number for v in covariance):
        raise _Unknown("the covariance is not numeric")
    det = var1 * var2 - cov**2
    if var1.is_negative or var2.is_negative or det.is_negative:
        raise _Unknown("the covariance matrix is not positive semi-definite")
    if det == 0 or var1 == 0 or var2 == 0:
        # the pair lives on a line: x1 = sqrt(var1) z, x2 = +-sqrt(var2) z, z ~ N(0, 1)
        z = sp.Symbol("z", real=True)
        sign = -1 if cov.is_negative else 1
        line = f.subs({x1: sp.sqrt(var1) * z, x2: sign * sp.sqrt(var2) * z})
        return _decide_1d(line, z, sp.S.One)
    inverse = sp.Matrix([[var1, cov], [cov, var2]]).inv()
    for j in range(_RAYS):
        angle = 2 * math.pi * j / _RAYS
        a, b = _direction(math.cos(angle)), _direction(math.sin(angle))
        quadratic = (inverse[0, 0] * a * a + 2 * inverse[0, 1] * a * b + inverse[1, 1] * b * b)
        rate = _ray_rate(f, ((x1, a), (x2, b)))
        if _against_gaussian(rate, _mp(quadratic / 2)) is not None:
            where = f"({x1}, {x2}) -> oo along ({_num(_mp(a), 3)}, {_num(_mp(b), 3)})"
            return Existence("diverges", _growth_reason(f, rate, where, None))
    return _slices(f, x1, x2)


def _direction(value: float) -> sp.Rational:
    return sp.Rational(round(value * 10**6), 10**6)


@lru_cache(maxsize=256)
def _slices(f: sp.Expr, x1: sp.Symbol, x2: sp.Symbol) -> Existence:
    """Singularities of the 2-D integrand, seen on lines through generic values."""
    found_any = False
    for variable, other in ((x1, x2), (x2, x1)):
        for value in _SLICES:
            piece = f.subs(other, value)
            if _candidates(piece, variable):
                found_any = True
            verdict = _check_singularities(piece, variable)
            if verdict.status == "diverges":
                return Existence("diverges", f"{verdict.reason} (on the line {other} = "
                                             f"{_num(_mp(value), 4)}, and nearby lines)")
    if not found_any and _joint_denominators(f, x1, x2):
        raise _Unknown("a denominator in both variables that may vanish at isolated points")
    return EXISTS


def _joint_denominators(f: sp.Expr, x1: sp.Symbol, x2: sp.Symbol) -> bool:
    for node in sp.preorder_traversal(f):
        if node.is_Pow and node.exp.is_negative and node.base.has(x1) and node.base.has(x2):
            if not (node.base.is_positive or node.base.is_negative):
                return True
    return False


# -- growth along a ray: rates -------------------------------------------------------------------

@dataclass(frozen=True)
class _Rate:
    """|g(r)| = exp(c r^k (1 + o(1))) as r -> oo; k = 0: at most polynomial growth or decay.

    ``exact``: the size is also bounded *below* like that (no zeros, no cancellation), which
    is what a proof of divergence needs; otherwise the rate is only an upper bound. ``k`` may
    be ``inf`` (exp(exp(r))-like growth for c > 0, or a vanishing tail for c < 0).
    """

    k: float
    c: mpmath.mpf
    exact: bool


_POLY = _Rate(0.0, mpmath.mpf(0), True)
_POLY_BOUND = _Rate(0.0, mpmath.mpf(0), False)
_ZERO = _Rate(math.inf, mpmath.mpf(-1), False)  # identically zero for large r


def _size(rate: _Rate) -> tuple:
    """Order of magnitude for comparisons (larger is bigger as r -> oo)."""
    if rate.k == 0:
        return (1, 0.0, mpmath.mpf(0))
    if rate.c > 0:
        return (2, rate.k, rate.c)
    return (0, -rate.k, rate.c)


def _against_gaussian(rate: _Rate | None, decay: mpmath.mpf) -> str | None:
    """'diverges' if the integrand outgrows exp(-decay r^2) along this ray; None if the
    tail converges; raises _Unknown when it cannot tell."""
    if rate is None:
        raise _Unknown("the growth of the integrand at infinity is not recognised")
    total = _times(rate, _Rate(2.0, -decay, True))
    if total is None:
        raise _Unknown("the growth of the integrand at infinity is not recognised")
    if total.k > 0 and total.c < 0:
        return None
    if total.k > 0 and total.c > 0:
        if total.exact:
            return "diverges"
        raise _Unknown("the integrand may outgrow the Gaussian density")
    raise _Unknown("the integrand grows exactly as fast as the Gaussian density decays")


def _growth_reason(f: sp.Expr, rate: _Rate, where: str, variance: sp.Expr | None) -> str:
    if rate.k == math.inf:
        grows = "faster than any exp(r^k)"
    else:
        grows = f"like exp({_num(rate.c, 6)}*r^{_num(mpmath.mpf(rate.k), 4)})"
    density = "the Gaussian density decays"
    if variance is not None and rate.k == 2:
        density += (f" (exp(-r^2/(2*{_num(_mp(variance), 6)})): this needs "
                    f"{_num(rate.c, 6)} < {_num(_mp(1 / (2 * variance)), 6)})")
    return f"the integrand {sp.sstr(f)[:60]} grows {grows} as {where}, faster than {density}"


@lru_cache(maxsize=1024)
def _ray_rate(f: sp.Expr, direction: tuple) -> _Rate | None:
    """Rate of f along the ray x_i = d_i r (cached: the integrand rarely changes by point)."""
    substituted = f.subs({x: d * _R for x, d in direction}, simultaneous=True)
    return _rate(substituted)


def _times(a: _Rate | None, b: _Rate | None) -> _Rate | None:
    """The rate of a product."""
    if a is None or b is None:
        return None
    for one, other in ((a, b), (b, a)):
        if one is _ZERO:
            return None if (other.k == math.inf and other.c > 0) else _ZERO
    if a.k == b.k:
        c = a.c + b.c
        if a.k == math.inf:
            return None if (a.c > 0) != (b.c > 0) else _Rate(math.inf, c, a.exact and b.exact)
        if c == 0 and a.k > 0:
            return _Rate(a.k, mpmath.mpf(0), False)  # cancelled: o(r^k), sign unknown
        return _Rate(a.k, c, a.exact and b.exact)
    high, low = (a, b) if a.k > b.k else (b, a)
    return _Rate(high.k, high.c, high.exact and low.exact)


_BOUNDED = (sp.tanh, sp.erf, sp.atan, sp.sign, sp.asin, sp.acos)
_OSCILLATING = (sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc)


def _rate(g: sp.Expr) -> _Rate | None:
    if not g.has(_R):
        return _ZERO if g == 0 else _POLY
    if g.is_polynomial(_R):
        return _POLY
    if g.is_Add:
        return _rate_of_sum(g)
    if g.is_Mul:
        result: _Rate | None = _POLY
        for factor in g.args:
            result = _times(result, _rate(factor))
            if result is None:
                return None
        return result
    if g.is_Pow:
        return _rate_of_power(g.base, g.exp)
    if isinstance(g, sp.exp):
        return _rate_of_exp(g.args[0])
    return _rate_of_function(g)


def _rate_of_sum(g: sp.Expr) -> _Rate | None:
    rates = [_rate(term) for term in g.args]
    if any(r is None for r in rates):
        return None
    rates = [r for r in rates if r is not _ZERO]
    if not rates:
        return _ZERO
    top = max(rates, key=_size)
    ties = sum(1 for r in rates if _size(r) == _size(top))
    # |sum| <= n max|term|: the top rate bounds the sum; it is its exact size only when the
    # top term is alone (nothing can cancel it).
    return _Rate(top.k, top.c, top.exact and ties == 1)


def _rate_of_power(base: sp.Expr, exponent: sp.Expr) -> _Rate | None:
    if exponent.has(_R):
        return _rate_of_exp(exponent * sp.log(base)) if base.is_positive else None
    if not exponent.is_number or not exponent.is_real:
        return None
    n = _mp(exponent)
    inner = _rate(base)
    if inner is None:
        return None
    if inner is _ZERO:
        return _ZERO if n > 0 else None
    if n < 0 and not inner.exact:
        return None  # 1/b needs a lower bound of b
    if inner.k == 0:
        return _Rate(0.0, mpmath.mpf(0), inner.exact)
    return _Rate(inner.k, inner.c * n, inner.exact)


def _rate_of_exp(argument: sp.Expr) -> _Rate | None:
    lead = _lead(argument)
    if lead is None:
        return None
    k, c = lead
    if k == 0:
        return _POLY  # exp of something O(log r): polynomial size, bounded below too
    return _Rate(k, c, True)


def _rate_of_function(g: sp.Expr) -> _Rate | None:
    if isinstance(g, (AppliedUndef, sp.Derivative, sp.Subs, Expectation)):
        return None
    args = g.args
    if isinstance(g, sp.Abs):
        return _rate(args[0])
    if isinstance(g, (sp.Max, sp.Min, sp.Piecewise)):
        pieces = [a.args[0] if isinstance(a, tuple) or isinstance(g, sp.Piecewise) else a
                  for a in args]
        rates = [_rate(p) for p in pieces]
        if any(r is None for r in rates):
            return None
        top = max(rates, key=_size)
        return _Rate(top.k, top.c, False)
    if isinstance(g, (sp.Heaviside, sp.DiracDelta)):
        lead = _lead(args[0])
        if lead is None:
            return None
        if lead[0] > 0:
            if isinstance(g, sp.DiracDelta) or lead[1] < 0:
                return _ZERO
            return _POLY
        return _POLY_BOUND
    if isinstance(g, _BOUNDED):
        lead = _lead(args[0])
        tends_to_infinity = lead is not None and lead[0] > 0
        return _POLY if tends_to_infinity and not isinstance(g, (sp.asin, sp.acos)) \
            else _POLY_BOUND
    if isinstance(g, _OSCILLATING):
        return _POLY_BOUND  # poles, if any, are checked as singularities
    if isinstance(g, sp.erfc):
        lead = _lead(args[0])
        if lead is None:
            return None
        k, c = lead
        if k > 0 and c > 0:
            return _Rate(2 * k, -c * c, True)
        return _POLY if k > 0 else _POLY_BOUND
    if isinstance(g, (sp.cosh, sp.sinh, sp.sech, sp.csch)):
        lead = _lead(args[0])
        if lead is None:
            return None
        k, c = lead
        if k == 0:
            return _POLY_BOUND
        decays = isinstance(g, (sp.sech, sp.csch))
        return _Rate(k, -abs(c) if decays else abs(c), True)
    if isinstance(g, (sp.log, sp.asinh, sp.acosh, sp.atanh, sp.coth)):
        inner = _rate(args[0])
        if inner is None or inner.k == math.inf:
            return None
        return _POLY_BOUND  # |log| of something of at most exponential size is polynomial
    return None


# -- leading behaviour of an exponent ------------------------------------------------------------

def _lead(h: sp.Expr) -> tuple[float, mpmath.mpf] | None:
    """(k, c) with h ~ c r^k as r -> oo (k = 0: |h| = O(log r)); k = inf for exponential
    growth with the sign of c; None when unknown."""
    if not h.has(_R):
        return 0.0, mpmath.mpf(0)
    if h.is_polynomial(_R):
        poly = sp.Poly(h, _R)
        degree = poly.degree()
        if degree == 0:
            return 0.0, mpmath.mpf(0)
        leading = poly.LC()
        if not leading.is_number:
            return None
        return float(degree), _mp(leading)
    if h.is_Pow and h.base == _R and h.exp.is_Rational:
        return (float(h.exp), mpmath.mpf(1)) if h.exp > 0 else (0.0, mpmath.mpf(0))
    if h.is_Mul:
        constant, rest = h.as_independent(_R, as_Add=False)
        if not constant.is_number:
            return None
        k, c = 0.0, _mp(constant)
        has_log_part = False
        for factor in sp.Mul.make_args(rest):
            lead = _lead(factor)
            if lead is None:
                return None
            if lead[0] == 0:
                has_log_part = True
                continue
            if k == math.inf or lead[0] == math.inf:
                k, c = math.inf, c * (1 if lead[1] > 0 else -1)
                continue
            k, c = k + lead[0], c * lead[1]
        if has_log_part and k != 0:
            return None
        return (k, c) if k != 0 else (0.0, mpmath.mpf(0))
    if h.is_Add:
        leads = [_lead(term) for term in h.args]
        if any(lead is None for lead in leads):
            return None
        top = max(lead[0] for lead in leads)
        if top == 0:
            return 0.0, mpmath.mpf(0)
        total = [lead[1] for lead in leads if lead[0] == top]
        if top == math.inf:
            signs = {c > 0 for c in total}
            return (math.inf, total[0]) if len(signs) == 1 else None
        c = mpmath.fsum(total)
        return None if c == 0 else (top, c)
    if isinstance(h, sp.exp):
        inner = _lead(h.args[0])
        if inner is None or inner[0] == 0:
            return None
        return (math.inf, mpmath.mpf(1)) if inner[1] > 0 else (0.0, mpmath.mpf(0))
    if h.is_Pow and h.exp.is_Rational and not h.exp.has(_R):
        inner = _lead(h.base)
        if inner is None or inner[0] in (0, math.inf):
            return None
        k, c = inner
        if c < 0 and not h.exp.is_integer:
            return None
        power = _mp(h.exp)
        return (k * float(h.exp), c**power) if k * float(h.exp) > 0 else (0.0, mpmath.mpf(0))
    if isinstance(h, sp.Abs):
        inner = _lead(h.args[0])
        return None if inner is None else (inner[0], abs(inner[1]))
    if isinstance(h, sp.log):
        inner = _rate(h.args[0])
        return None if inner is None or inner.k == math.inf else (0.0, mpmath.mpf(0))
    if isinstance(h, (*_BOUNDED, sp.sin, sp.cos, sp.Heaviside, sp.erfc, sp.sech)):
        return 0.0, mpmath.mpf(0)
    return None


# -- singular points ----------------------------------------------------------------------------

def _candidates(f: sp.Expr, x: sp.Symbol) -> list[tuple[mpmath.mpf, str]]:
    """Real points where the integrand may blow up, with what makes them suspect."""
    found: list[tuple[mpmath.mpf, str]] = []
    for node in sp.preorder_traversal(f):
        if not node.has(x):
            continue
        if isinstance(node, (AppliedUndef, sp.Derivative, sp.Subs, Expectation)):
            raise _Unknown(f"{type(node).__name__} in the integrand")
        if node.is_Pow:
            base, exponent = node.args
            if exponent.has(x):
                if base.has(x):
                    raise _Unknown("a power whose base and exponent both hold the variable")
                continue
            if exponent.is_negative and base.has(x):
                found += [(z, f"a zero of {_short(base)}") for z in _zeros(base, x)]
        elif isinstance(node, (sp.tan, sp.sec)):
            found += [(z, f"a pole of {_short(node)}")
                      for z in _periodic_zeros(node.args[0], x, sp.pi / 2)]
        elif isinstance(node, (sp.cot, sp.csc)):
            found += [(z, f"a pole of {_short(node)}")
                      for z in _periodic_zeros(node.args[0], x, sp.S.Zero)]
        elif isinstance(node, (sp.coth, sp.csch)):
            found += [(z, f"a pole of {_short(node)}") for z in _zeros(node.args[0], x)]
        elif isinstance(node, sp.log):
            found += [(z, f"a zero of the argument of {_short(node)}")
                      for z in _zeros(node.args[0], x)]
        elif isinstance(node, (sp.atanh, sp.acoth)):
            for edge in (1, -1):
                found += [(z, f"a singularity of {_short(node)}")
                          for z in _zeros(node.args[0] - edge, x)]
    return found


def _short(expr: sp.Expr) -> str:
    text = sp.sstr(expr)
    return text if len(text) <= 40 else text[:37] + "..."


_ZERO_AT_ZERO = (sp.erf, sp.tanh, sp.sinh, sp.atan, sp.asinh, sp.sign, sp.Abs, sp.atanh)


def _zeros(b: sp.Expr, x: sp.Symbol) -> list[mpmath.mpf]:
    """The real zeros of ``b`` in ``x`` (a representative one for periodic families)."""
    if not b.has(x):
        return [] if b != 0 else [mpmath.mpf(0)]
    if b.is_positive or b.is_negative:
        return []
    if b.is_polynomial(x):
        return _polynomial_roots(b, x)
    if b.is_Mul:
        return [z for factor in b.args if factor.has(x) for z in _zeros(factor, x)]
    if b.is_Pow and b.exp.is_positive:
        return _zeros(b.base, x)
    if b.is_Pow and b.exp.is_negative:
        return []  # 1/g never vanishes (its poles are candidates of their own)
    if isinstance(b, (sp.exp, sp.cosh, sp.erfc, sp.sech)):
        return []
    if isinstance(b, _ZERO_AT_ZERO):
        return _zeros(b.args[0], x)
    if isinstance(b, (sp.sin, sp.tan)):
        return _periodic_zeros(b.args[0], x, sp.S.Zero)
    if isinstance(b, sp.cos):
        return _periodic_zeros(b.args[0], x, sp.pi / 2)
    if isinstance(b, sp.log):
        return _zeros(b.args[0] - 1, x)
    raise _Unknown(f"cannot locate the zeros of {_short(b)}")


def _polynomial_roots(b: sp.Expr, x: sp.Symbol) -> list[mpmath.mpf]:
    poly = sp.Poly(b, x)
    try:
        poly = poly.sqf_part()  # simple roots: polyroots converges reliably
    except (sp.PolynomialError, NotImplementedError, ValueError):
        pass
    coefficients = poly.all_coeffs()
    if not all(c.is_number for c in coefficients):
        raise _Unknown(f"the polynomial {_short(b)} has symbolic coefficients")
    if len(coefficients) <= 1:
        return []
    with mpmath.workdps(_DIGITS + 20):
        numbers = [mpmath.mpf(sp.N(c, _DIGITS + 20)) for c in coefficients]
        try:
            roots = mpmath.polyroots(numbers, maxsteps=400, extraprec=2 * _DIGITS)
        except mpmath.libmp.NoConvergence:
            raise _Unknown(f"the roots of {_short(b)} could not be computed") from None
        real = []
        for root in roots:
            root = mpmath.mpc(root)
            if abs(root.imag) <= mpmath.mpf(10) ** (-_DIGITS // 2) * (1 + abs(root.real)):
                real.append(+root.real)
        return real


def _periodic_zeros(h: sp.Expr, x: sp.Symbol, offset: sp.Expr) -> list[mpmath.mpf]:
    """A real solution of h(x) = offset + k*pi for some integer k (sin, cos, tan families)."""
    if not h.has(x):
        return []
    if not h.is_polynomial(x):
        raise _Unknown(f"cannot locate the zeros of a periodic function of {_short(h)}")
    with mpmath.workdps(_DIGITS + 20):
        first = int(mpmath.nint((_mp(h.subs(x, 0)) - _mp(offset)) / mpmath.pi))
    for step in range(0, 8):
        for k in sorted({first + step, first - step}):
            roots = _polynomial_roots(sp.expand(h - offset - k * sp.pi), x)
            if roots:
                return roots[:1]
    return []


def _local_order(f: sp.Expr, x: sp.Symbol, x0: mpmath.mpf) -> float | None:
    """The exponent p in |f| ~ |x - x0|^p, measured on both sides (the smaller counts)."""
    orders = []
    steps = (mpmath.mpf(10) ** -8, mpmath.mpf(10) ** -16)
    for side in (1, -1):
        sizes = []
        for eps in steps:
            with mpmath.workdps(_DIGITS + 20):
                at = x0 + side * eps
            value = _value_at(f, x, at)
            if value is None:
                return None
            sizes.append(value)
        if sizes[0] == 0 and sizes[1] == 0:
            continue  # vanishes on this side
        if sizes[0] == 0 or sizes[1] == 0:
            return None
        with mpmath.workdps(30):
            orders.append(float(mpmath.log(sizes[1] / sizes[0]) /
                                mpmath.log(steps[1] / steps[0])))
    return min(orders) if orders else 0.0


def _value_at(f: sp.Expr, x: sp.Symbol, at: mpmath.mpf) -> mpmath.mpf | None:
    with mpmath.workdps(_DIGITS + 20):
        where = sp.Float(mpmath.nstr(at, _DIGITS + 15), _DIGITS + 15)
    try:
        value = f.evalf(_DIGITS, subs={x: where})
    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
        return None
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or not value.is_number:
        return None
    real, imag = value.as_real_imag()
    try:
        with mpmath.workdps(_DIGITS):
            return abs(mpmath.mpc(_mp(real), _mp(imag)))
    except (TypeError, ValueError):
        return None


def _mp(value: sp.Expr) -> mpmath.mpf:
    """An mpf at this module's precision from a SymPy number (exact when rational)."""
    with mpmath.workdps(_DIGITS + 20):
        if value.is_Rational:
            return mpmath.mpf(int(value.p)) / int(value.q)
        return mpmath.mpf(sp.N(value, _DIGITS + 20))


def _num(value: mpmath.mpf | float, digits: int = 8) -> str:
    return mpmath.nstr(mpmath.mpf(value), digits)


def _offset(x: sp.Symbol, x0: mpmath.mpf) -> str:
    """'u - 1', 'u + 1.4142136' or 'u'."""
    if x0 == 0:
        return f"|{x}|"
    return f"|{x} {'-' if x0 > 0 else '+'} {_num(abs(x0))}|"
