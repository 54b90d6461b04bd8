"""Proven enclosures of closed forms and pole series: ball arithmetic (Arb, python-flint).

A two-precision agreement is evidence; an enclosure is a proof. Every operation here is done
on a ball (a midpoint and a radius) by Arb, whose functions return balls guaranteed to contain
the exact result for every point of the input balls, so the final ball contains the exact
value of the expression at the exact inputs.

:func:`compile_ball` translates a SymPy expression once into a chain of flint calls (Add, Mul,
Pow with integer, rational or real exponents, exp, log, erf, erfc, the trigonometric functions
and their inverses, Abs, sign, Heaviside and Piecewise decided on balls, Max/Min, pi, E and the
Faddeeva function w); :func:`enclose` evaluates it at increasing working precision until the
radius is at most half a unit in the last requested digit, relative to the value:
rad <= 10^-dps |v|_min / 2, where |v|_min is the smallest modulus in the ball (so the first dps
significant digits of the midpoint, correctly rounded, are within half a unit of the truth).

Effort: the working precision starts at the target's bits + 32 and grows by the bits the
last attempt lost (or doubles when it gave no finite ball), up to
``max_working_bits(dps)`` = 2 x the target's bits + 2048 (dps = 50: 2380 bits, about 716
digits; closed forms take milliseconds there). A value that cannot be enclosed that tightly
(a cancellation deeper than that, a point on the boundary of a Piecewise condition) raises
PrecisionError saying how many digits are proven. The working precision is flint's global
context (``flint.ctx``), set and restored around each evaluation: not safe across threads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Callable, Sequence

import mpmath
import sympy as sp
from flint import acb, arb, ctx, fmpq

from ...errors import InvalidValueError, PrecisionError, SymfieldError
from ..faddeeva import faddeeva

Ball = arb | acb


class NotEnclosable(SymfieldError, NotImplementedError):
    """The expression holds something no ball-arithmetic rule covers yet (a function, an
    unevaluated expectation, a series); the message names it."""


class _Undecided(Exception):
    """A ball straddles a boundary (a Piecewise condition, Heaviside's jump): more working
    precision may decide it."""


# ------------------------------------------------------------------------------------------
# The enclosure
# ------------------------------------------------------------------------------------------
def _exact_fraction(value: object) -> Fraction:
    """``value`` as an exact Fraction (mpmath numbers by their binary value)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value)
    if isinstance(value, mpmath.mpf):
        sign, man, exp, _bc = value._mpf_
        if not man and exp:  # inf / nan carry a nonzero exponent code and no mantissa
            raise InvalidValueError(f"not a finite number: {value}")
        magnitude = Fraction(man) * Fraction(2) ** exp
        return -magnitude if sign else magnitude
    if isinstance(value, sp.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, sp.Float):
        return _exact_fraction(mpmath.mp.make_mpf(value._mpf_))
    raise InvalidValueError(f"cannot compare an enclosure with {type(value).__name__}")


@dataclass(frozen=True)
class Enclosure:
    """A proven enclosure of a real number: the exact value lies in [mid - rad, mid + rad].

    ``mid`` and ``rad`` are mpmath numbers holding the ball's binary midpoint and radius
    exactly (``mid`` may carry more bits than the current mpmath precision). ``rad`` = 0 is
    an exact value (also +-inf, for a divergent law).
    """

    mid: mpmath.mpf
    rad: mpmath.mpf

    @property
    def lower(self) -> mpmath.mpf:
        return mpmath.fsub(self.mid, self.rad, exact=True)

    @property
    def upper(self) -> mpmath.mpf:
        return mpmath.fadd(self.mid, self.rad, exact=True)

    def contains(self, x: object) -> bool:
        """True when the number ``x`` (int, Fraction, float, mpmath or SymPy number) is in the
        ball, decided exactly."""
        if mpmath.isinf(self.mid):
            return isinstance(x, (float, mpmath.mpf)) and x == self.mid
        if isinstance(x, (float, mpmath.mpf)) and (mpmath.isinf(x) or mpmath.isnan(x)):
            return False
        return abs(_exact_fraction(x) - _exact_fraction(self.mid)) <= _exact_fraction(self.rad)

    @property
    def digits(self) -> float:
        """Significant digits proven: the largest d with rad <= 10^-d |v|_min / 2 (|v|_min the
        smallest modulus in the ball); 0 when the ball holds 0, ``math.inf`` when exact."""
        if self.rad == 0:
            return math.inf
        return float(proven_digits(self.mid, self.rad))

    def __repr__(self) -> str:
        if self.rad == 0:
            return f"Enclosure({mpmath.nstr(self.mid, 20)}, exact)"
        shown = max(1, min(int(self.digits), 25))
        return (f"Enclosure({mpmath.nstr(self.mid, shown + 2)} +/- "
                f"{mpmath.nstr(self.rad, 3)}, {int(self.digits)} digits proven)")


def proven_digits(mid: mpmath.mpf, rad: mpmath.mpf) -> int:
    """floor(log10(|v|_min / (2 rad))), at least 0 (rad > 0)."""
    with mpmath.workdps(30):
        smallest = abs(mid) - rad
        if smallest <= 0:
            return 0
        # the tiny margin keeps a 30-digit rounding of the logarithm from claiming a digit
        return max(0, int(mpmath.floor(mpmath.log10(smallest / (2 * rad)) - mpmath.mpf(10) ** -20)))


def _ball_to_enclosure(value: arb) -> Enclosure:
    man, exp = value.mid().man_exp()
    mid = mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(man), int(exp)))
    rman, rexp = value.rad().man_exp()
    rad = mpmath.mp.make_mpf(mpmath.libmp.from_man_exp(int(rman), int(rexp)))
    return Enclosure(mid, rad)


def exact_enclosure(value: object, dps: int = 30) -> Enclosure:
    """A known value as an enclosure: radius 0 for +-inf and binary fractions; 1/3, which has
    no finite binary expansion, as a ball meeting the ``dps`` target."""
    if isinstance(value, (mpmath.mpf, float)) and mpmath.isinf(value):
        return Enclosure(mpmath.mpf(value), mpmath.mpf(0))
    fraction = _exact_fraction(value)
    bits = fraction.numerator.bit_length() + fraction.denominator.bit_length()
    with ctx.workprec(max(64, bits, target_bits(dps) + 64)):
        return _ball_to_enclosure(arb(fmpq(fraction.numerator, fraction.denominator)))


# ------------------------------------------------------------------------------------------
# SymPy -> flint
# ------------------------------------------------------------------------------------------
Program = Callable[[Sequence[Ball]], Ball]


def _unary(real: str, complex_: str | None = None) -> Callable[[Ball], Ball]:
    """A function on balls: Arb's real version when it gives a finite ball, else the complex
    one (a real ball straddling a branch point: asin near 1, sqrt or log near 0)."""
    complex_ = complex_ or real

    def apply(x: Ball) -> Ball:
        if isinstance(x, arb):
            y = getattr(x, real)()
            if y.is_finite():
                return y
            x = acb(x)
        return getattr(x, complex_)()

    return apply


def _abs(x: Ball) -> arb:
    return abs(x)


def _faddeeva(z: Ball) -> Ball:
    """w(z) = exp(-z^2) erfc(-i z); on the imaginary axis z = iy, the real exp(y^2) erfc(y)."""
    if isinstance(z, acb) and z.real.is_zero():
        y = z.imag
        return (y * y).exp() * y.erfc()
    z = acb(z)
    return (-(z * z)).exp() * (acb(0, -1) * z).erfc()


def _real_part(x: Ball, what: str) -> arb:
    if isinstance(x, arb):
        return x
    if not x.imag.contains(0):
        raise InvalidValueError(f"{what} is not real at these values")
    return x.real


def _sign(x: Ball, what: str) -> int:
    """-1, 0 or 1 for a real ball that decides it (exact 0 only when the ball is exactly 0)."""
    x = _real_part(x, what)
    if x > 0:
        return 1
    if x < 0:
        return -1
    if x.is_zero():
        return 0
    raise _Undecided(what)


UNARY: dict[type, Callable[[Ball], Ball]] = {
    sp.exp: _unary("exp"), sp.log: _unary("log"),
    sp.erf: _unary("erf"), sp.erfc: _unary("erfc"), sp.erfi: _unary("erfi"),
    sp.sin: _unary("sin"), sp.cos: _unary("cos"), sp.tan: _unary("tan"),
    sp.asin: _unary("asin"), sp.acos: _unary("acos"), sp.atan: _unary("atan"),
    sp.sinh: _unary("sinh"), sp.cosh: _unary("cosh"), sp.tanh: _unary("tanh"),
    sp.Abs: _abs, faddeeva: _faddeeva,
}

#: Names of what the translator encloses, for error messages.
ENCLOSABLE = sorted({f.__name__ for f in UNARY} | {"Add", "Mul", "Pow", "sqrt", "Heaviside",
                                                     "sign", "Piecewise", "Max", "Min",
                                                     "atan2", "pi", "E", "I"})


def _constant(make: Callable[[], Ball]) -> Program:
    return lambda values: make()


def _rational(p: int, q: int) -> Program:
    if q == 1:
        exact = arb(p)  # an integer ball is exact at every precision
        return lambda values: exact
    return lambda values: arb(fmpq(p, q))


def _pow(base: Program, exponent: sp.Expr, exponent_program: Program) -> Program:
    if exponent.is_Integer:
        n = int(exponent)
        return lambda values: base(values) ** n
    if exponent.is_Rational:
        p, q = int(exponent.p), int(exponent.q)

        def rational_power(values):
            b = base(values)
            if q == 2:
                root = _unary("sqrt")(b)
            elif isinstance(b, arb) and b > 0:
                root = b.root(q)
            else:
                root = acb(b) ** acb(fmpq(1, q))
            return root ** p

        return rational_power

    def real_power(values):
        b, e = base(values), exponent_program(values)
        if isinstance(b, arb) and isinstance(e, arb) and b > 0:
            return b ** e
        return acb(b) ** acb(e)

    return real_power


def _relation(rel: sp.core.relational.Relational, lhs: Program, rhs: Program) -> Callable:
    what = f"the condition {rel}"
    decide = {
        sp.StrictGreaterThan: lambda s: s > 0, sp.GreaterThan: lambda s: s >= 0,
        sp.StrictLessThan: lambda s: s < 0, sp.LessThan: lambda s: s <= 0,
        sp.Equality: lambda s: s == 0, sp.Unequality: lambda s: s != 0,
    }[type(rel)]
    return lambda values: decide(_sign(lhs(values) - rhs(values), what))


class _Translator:
    """Builds one Program per SymPy node; shared subexpressions are compiled once."""

    def __init__(self, variables: Sequence[sp.Symbol]):
        self.index = {s: i for i, s in enumerate(variables)}
        self.memo: dict[sp.Basic, Program] = {}

    def program(self, node: sp.Basic) -> Program:
        cached = self.memo.get(node)
        if cached is None:
            cached = self.memo[node] = self._build(node)
        return cached

    def condition(self, node: sp.Basic) -> Callable[[Sequence[Ball]], bool]:
        if node is sp.true:
            return lambda values: True
        if node is sp.false:
            return lambda values: False
        if isinstance(node, sp.core.relational.Relational):
            return _relation(node, self.program(node.lhs), self.program(node.rhs))
        parts = [self.condition(a) for a in node.args]
        if isinstance(node, sp.And):
            return lambda values: all(p(values) for p in parts)
        if isinstance(node, sp.Or):
            return lambda values: any(p(values) for p in parts)
        if isinstance(node, sp.Not):
            return lambda values: not parts[0](values)
        raise NotEnclosable(f"cannot decide the condition {node} on balls")

    def _build(self, node: sp.Basic) -> Program:
        if node.is_Symbol:
            if node not in self.index:
                raise NotEnclosable(f"the expression has a free symbol {node.name!r} "
                                    f"with no value")
            i = self.index[node]
            return lambda values: values[i]
        if node.is_Rational:
            return _rational(int(node.p), int(node.q))
        if node.is_Float:
            exact = exact_ball(mpmath.mp.make_mpf(node._mpf_))
            return lambda values: exact
        if node is sp.pi:
            return _constant(arb.pi)
        if node is sp.E:
            return _constant(arb.const_e)
        if node is sp.I:
            return _constant(lambda: acb(0, 1))
        if node in (sp.oo, -sp.oo, sp.zoo, sp.nan):
            raise NotEnclosable(f"cannot enclose {node}: an infinite or undefined value")
        if isinstance(node, sp.Add):
            terms = [self.program(a) for a in node.args]

            def add(values):
                total = terms[0](values)
                for t in terms[1:]:
                    total = total + t(values)
                return total
            return add
        if isinstance(node, sp.Mul):
            factors = [self.program(a) for a in node.args]

            def mul(values):
                product = factors[0](values)
                for f in factors[1:]:
                    product = product * f(values)
                return product
            return mul
        if isinstance(node, sp.Pow):
            return _pow(self.program(node.base), node.exp, self.program(node.exp))
        if isinstance(node, sp.Piecewise):
            branches = [(self.program(e) if e.is_finite is not False else _refuse_infinite(e),
                         self.condition(c)) for e, c in node.args]

            def piecewise(values):
                for value, condition in branches:
                    if condition(values):
                        return value(values)
                raise InvalidValueError(f"no branch of {node} holds at these values")
            return piecewise
        if isinstance(node, sp.Heaviside):
            arg = self.program(node.args[0])
            at_zero = node.args[1] if len(node.args) > 1 else None
            zero = self.program(at_zero) if at_zero is not None else None
            what = f"Heaviside({node.args[0]})"

            def heaviside(values):
                s = _sign(arg(values), what)
                if s == 0:
                    if zero is None:
                        raise InvalidValueError(f"{what} is evaluated at its jump 0")
                    return zero(values)
                return arb(1) if s > 0 else arb(0)
            return heaviside
        if isinstance(node, sp.sign):
            arg = self.program(node.args[0])
            return lambda values: arb(_sign(arg(values), f"sign({node.args[0]})"))
        if isinstance(node, (sp.Max, sp.Min)):
            args = [self.program(a) for a in node.args]
            method = "max" if isinstance(node, sp.Max) else "min"

            def extremum(values):
                balls = [_real_part(a(values), str(node)) for a in args]
                out = balls[0]
                for b in balls[1:]:
                    out = getattr(out, method)(b)
                return out
            return extremum
        if isinstance(node, sp.atan2):
            y, x = (self.program(a) for a in node.args)
            return lambda values: arb.atan2(_real_part(y(values), str(node)),
                                            _real_part(x(values), str(node)))
        if isinstance(node, sp.Sum):
            return PoleSeries(node, self).value
        if isinstance(node, sp.Function) and type(node) in UNARY and len(node.args) == 1:
            arg, fn = self.program(node.args[0]), UNARY[type(node)]
            return lambda values: fn(arg(values))
        name = type(node).__name__
        kind = ("an unevaluated Gaussian expectation (an integral form)"
                if name == "Expectation" else "a series" if isinstance(node, sp.Sum)
                else f"the function {name}")
        raise NotEnclosable(f"cannot enclose {kind}: the ball-arithmetic translator covers "
                            f"{', '.join(ENCLOSABLE)}")


# ------------------------------------------------------------------------------------------
# Faddeeva pole series (tanh, sigmoid) with a proven tail
# ------------------------------------------------------------------------------------------
def expansion_coefficient_ball(i: int) -> arb:
    """c_i = (-1)^i (2i-1)!!/(sqrt(pi) 2^i) in w(iy) ~ sum_i c_i y^-(2i+1)."""
    return arb((-1) ** i * _double_factorial(2 * i - 1)) / (arb.const_sqrt_pi() * arb(2) ** i)


#: Expansion terms the tail takes at most beyond the n folded into P.
MAX_TAIL_TERMS = 4000


class PoleSeries:
    """sum_{k>=0} f(k), f = A(K) + B(K) w(i beta K), K = k + 1/2 (the shape
    ``symfield.gaussian.numerics.series.analyse`` checks and splits), enclosed in balls.

    Head: k < k0 term by term, w(iy) = exp(y^2) erfc(y) in balls (the cancellation between A
    and B w costs working precision, which the precision loop supplies).

    Tail k >= k0, with a = k0 + 1/2 and y0 = beta a: for y > 0,
    w(iy) = sum_{i<=N} c_i y^-(2i+1) + R_(N+1)(y) with |R_(N+1)(y)| <= |c_(N+1)| y^-(2N+3)
    (the expansion of exp(y^2) erfc(y) for real y > 0: the remainder is bounded by the first
    omitted term, DLMF 7.12.1). ``analyse`` folds A and the first n terms of B w into the
    Laurent polynomial P (powers <= -2), so term by term
    f(K) = P(K) + sum_{i=n}^{N} c_i beta^-(2i+1) B(K) K^-(2i+1) + B(K) R_(N+1)(beta K), and
    summing each power exactly by Hurwitz zeta values zeta(s, a) = sum_k (k + a)^-s,

        |tail - sum_p P_p zeta(-p, a) - sum_(i=n..N) c_i beta^-(2i+1) sum_j B_j zeta(2i+1-j, a)|
            <= |c_(N+1)| beta^-(2N+3) sum_j |B_j| zeta(2N+3-j, a),

    finite because 2N + 3 - j >= 2n + 3 - deg B >= 4. This bound is added to the ball's
    radius. k0 puts y0^2 above 3 x the working bits x ln 2, where the bound falls below
    2^-bits within a few dozen expansion terms; N is the first with the bound below
    2^-bits of the sum so far (or the one where the bound stops decreasing)."""

    def __init__(self, series: sp.Sum, translator: _Translator):
        from .series import SeriesShapeError, analyse

        try:
            shape = analyse(series)
        except SeriesShapeError as error:
            text = str(series)
            text = text if len(text) <= 100 else text[:100] + "..."
            raise NotEnclosable(f"cannot enclose the series {text} ({error}): only Faddeeva "
                                f"pole series have a proven tail bound so far") from None
        self.n = shape.subtracted
        self.beta = translator.program(shape.beta)
        self.a = [(p, translator.program(c)) for p, c in shape.a_coeffs]
        self.b = [(j, translator.program(c)) for j, c in shape.b_coeffs]
        self.p = [(p, translator.program(c)) for p, c in shape.p_coeffs]

    @classmethod
    def of(cls, series: sp.Sum, variables: Sequence[sp.Symbol]) -> "PoleSeries":
        """The series alone, its coefficients functions of balls for ``variables``."""
        return cls(series, _Translator(variables))

    def coefficients(self, values):
        """beta and the coefficient balls of A, B and P at the balls ``values``."""
        beta = _real_part(self.beta(values), "the pole series' beta")
        if not beta > 0:
            raise _Undecided("the pole series' beta > 0")
        return (beta, [(p, c(values)) for p, c in self.a], [(j, c(values)) for j, c in self.b],
                [(p, c(values)) for p, c in self.p])

    def head_terms(self, beta: arb) -> int:
        from .series import MAX_HEAD_TERMS_MP

        y0 = math.sqrt(3 * ctx.prec * math.log(2)) + 2
        lowest = float(beta.lower())  # 0.0 for a beta below the float range: too many terms
        k0 = max(0, math.ceil(y0 / lowest - 0.5)) if lowest > 0 else MAX_HEAD_TERMS_MP + 1
        if k0 > MAX_HEAD_TERMS_MP:
            raise NotEnclosable(f"the pole series needs {k0} head terms at this variance (more "
                                f"than {MAX_HEAD_TERMS_MP})")
        return k0

    def head(self, beta, A, B, k0: int):
        total = arb(0)
        for k in range(k0):
            K = arb(fmpq(2 * k + 1, 2))
            y = beta * K
            poly_a = sum((c * K ** p for p, c in A), arb(0))
            poly_b = sum((c * K ** j for j, c in B), arb(0))
            total += poly_a + poly_b * (y * y).exp() * y.erfc()
        return total

    def tail(self, beta, B, P, k0: int, last: int | None = None):
        """(the tail's sum through expansion term N, the bound on the rest); N = ``last`` if
        given, else chosen as the class docstring says."""
        a = arb(fmpq(2 * k0 + 1, 2))
        zetas: dict[int, arb] = {}

        def zeta(s: int) -> arb:  # zeta(s, a) = sum_k (k + a)^-s, each s computed once
            if s not in zetas:
                zetas[s] = arb(s).zeta(a)
            return zetas[s]

        total = sum((c * zeta(-p) for p, c in P), arb(0))
        abs_b = [(j, abs(c)) for j, c in B]
        best_bound = None
        i = self.n
        while True:
            ci = expansion_coefficient_ball(i) / beta ** (2 * i + 1)
            total += ci * sum((c * zeta(2 * i + 1 - j) for j, c in B), arb(0))
            cn = abs(expansion_coefficient_ball(i + 1)) / beta ** (2 * i + 3)
            bound = cn * sum((c * zeta(2 * i + 3 - j) for j, c in abs_b), arb(0))
            bound = bound.abs_upper()
            if last is not None:
                if i >= last:
                    return total, bound
            elif (bound <= (total.abs_lower() * arb(2) ** -ctx.prec).lower()
                  or (best_bound is not None and bound >= best_bound)
                  or i - self.n >= MAX_TAIL_TERMS):
                return total, bound
            best_bound = bound
            i += 1

    def value(self, values) -> arb:
        beta, A, B, P = self.coefficients(values)
        k0 = self.head_terms(beta)
        tail, bound = self.tail(beta, B, P, k0)
        return self.head(beta, A, B, k0) + tail + arb(0, bound)


def _double_factorial(n: int) -> int:
    return math.prod(range(n, 0, -2)) if n > 0 else 1


def _refuse_infinite(expr: sp.Expr) -> Program:
    def refuse(values):
        raise InvalidValueError(f"the value is {expr} at these values (no finite enclosure)")
    return refuse


@lru_cache(maxsize=512)
def _compile(expr: sp.Expr, variables: tuple) -> Program:
    return _Translator(variables).program(expr)


def compile_ball(expr: sp.Expr, variables: Sequence[sp.Symbol]) -> Program:
    """``expr`` as a function of balls for ``variables`` (in order), cached. Raises
    NotEnclosable naming the first node no rule covers."""
    return _compile(expr, tuple(variables))


def exact_ball(value: object) -> Ball:
    """An input number as a ball at the current working precision: exact for integers and
    binary numbers (floats, mpmath), correctly rounded for other fractions; a SymPy constant
    (sqrt(2)) through the translator."""
    if isinstance(value, bool):
        raise InvalidValueError("a boolean is not a number")
    if isinstance(value, int):
        return arb(value)
    if isinstance(value, Fraction):
        return arb(fmpq(value.numerator, value.denominator))
    if isinstance(value, (float, mpmath.mpf)):
        value = mpmath.mpf(value) if isinstance(value, float) else value
        sign, man, exp, _bc = value._mpf_
        if not man and exp:
            raise InvalidValueError(f"not a finite number: {value}")
        ball = arb(int(man)) * arb(2) ** int(exp)  # powers of two are exact
        return -ball if sign else ball
    if isinstance(value, sp.Basic) and value.is_number:
        if value.is_Rational:
            return arb(fmpq(int(value.p), int(value.q)))
        return _real_part(compile_ball(value, ())(()), str(value))
    raise InvalidValueError(f"cannot make a ball of {type(value).__name__}")


# ------------------------------------------------------------------------------------------
# Evaluation to a target
# ------------------------------------------------------------------------------------------
def target_bits(dps: int) -> int:
    return math.ceil(dps * math.log2(10))


def max_working_bits(dps: int) -> int:
    """The effort cap: the most working precision spent on one value."""
    return 2 * target_bits(dps) + 2048


def _meets(value: arb, dps: int) -> bool:
    if value.is_exact():
        return True
    threshold = (value.abs_lower() / (2 * arb(10) ** dps)).lower()
    return value.rad() <= threshold


def enclose(expr: sp.Expr, variables: Sequence[sp.Symbol], values: Sequence[object],
            dps: int, what: str = "the value", start_bits: int | None = None) -> Enclosure:
    """A proven enclosure of ``expr`` at ``variables`` = ``values`` (exact numbers: ints,
    Fractions, floats or mpmath numbers by their binary value, SymPy numbers) with
    rad <= 10^-dps |v|_min / 2.

    Raises NotEnclosable for an expression outside the translator, InvalidValueError for a
    value that is not real or not finite, PrecisionError (with the digits proven) when the
    cap ``max_working_bits(dps)`` is reached first."""
    program = compile_ball(expr, variables)
    cap = max_working_bits(dps)
    bits = start_bits or target_bits(dps) + 32
    best: Enclosure | None = None
    undecided = ""
    grown = None
    infinite = False  # some attempt gave an infinite or undefined ball
    while True:
        bits = min(bits, cap)
        with ctx.workprec(bits):
            try:
                value = program([exact_ball(v) for v in values])
            except _Undecided as straddle:
                undecided = str(straddle)
            else:
                value = _real_part(value, what)
                if value.is_finite():
                    if _meets(value, dps):
                        return _ball_to_enclosure(value)
                    found = _ball_to_enclosure(value)
                    if best is None or found.digits >= best.digits:
                        best = found
                    # the bits lost to cancellation at this precision, made up at the next
                    short = target_bits(dps) + 8 - value.rel_accuracy_bits()
                    if 0 < short < bits:
                        grown = bits + short + 32
                else:
                    infinite = True
        if bits >= cap:
            break
        bits, grown = max(grown, bits + 32) if grown else 2 * bits, None
    if best is None and infinite and not undecided:
        raise InvalidValueError(f"{what} is infinite or undefined at these values (no finite "
                                f"enclosure at any working precision up to {cap} bits)")
    proven = 0 if best is None else int(best.digits)
    detail = (f"; best enclosure {best!r}" if best is not None
              else f" ({undecided} at every precision)" if undecided else "")
    raise PrecisionError(
        f"{what}: only {proven} digits are proven (wanted {dps}) within the maximum working "
        f"precision of {cap} bits{detail}")
