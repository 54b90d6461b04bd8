"""Proven enclosures of closed forms, pole series and Gaussian expectations: ball arithmetic
(Arb, python-flint).

A two-precision agreement is evidence; an enclosure is a proof. Every operation here is done
on a ball (a midpoint and a radius) by Arb, whose functions return balls guaranteed to contain
the exact result for every point of the input balls, so the final ball contains the exact
value of the expression at the exact inputs.

:func:`compile_ball` translates a SymPy expression once into a chain of flint calls (Add, Mul,
Pow with integer, rational or real exponents, exp, log, erf, erfc, the trigonometric functions
and their inverses, Abs, sign, Heaviside and Piecewise decided on balls, Max/Min, pi, E and the
Faddeeva function w), the Faddeeva pole series (:class:`PoleSeries`, with a proven tail) and
centred one-dimensional Gaussian expectations E[f(u)] (:class:`GaussianIntegral`: Arb's
rigorous integration between the kinks of f, plus a proven bound on the Gaussian tails from a
growth bound on |f| derived from its expression; :class:`BivariateGaussianIntegral` for
separable E[f(u1) g(u2)]: a product trapezoidal or Gauss-Legendre rule with a proven
error). Roots and fixed points of enclosed functions are proven by
Krawczyk's interval Newton test (:func:`enclose_root`, :func:`enclose_fixed_point`).
:func:`enclose` evaluates it at increasing working precision until the radius is at most half
a unit in the last requested digit, relative to the value: rad <= 10^-dps |v|_min / 2, where
|v|_min is the smallest modulus in the ball (so the first dps significant digits of the
midpoint, correctly rounded, are within half a unit of the truth).

Effort: the working precision starts at the target's bits + 32 and grows by the bits the
last attempt lost (or doubles when it gave no finite ball), up to
``max_working_bits(dps)`` = 2 x the target's bits + 2048 (dps = 50: 2380 bits, about 716
digits; closed forms take milliseconds there), or ``max_integral_bits(dps)`` = 2 x the
target's bits + 256 for an expression holding an expectation (each attempt integrates: 0.4 s
for softplus's chi0 at 200 digits, 3 s at 400). A value that cannot be enclosed that tightly
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
from ...expectation import Expectation
from ...expectation import expectation as one_variable
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
        self.variables = tuple(variables)
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
        if isinstance(node, Expectation):
            kind = GaussianIntegral if node.dimension == 1 else BivariateGaussianIntegral
            return kind(node, self).value
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
    (sqrt(2)) through the translator; an Enclosure as its ball."""
    if isinstance(value, bool):
        raise InvalidValueError("a boolean is not a number")
    if isinstance(value, Enclosure):  # a proven value (a fixed point) as an input: its ball
        return exact_ball(value.mid) + arb(0, exact_ball(value.rad))
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
# Gaussian expectations of one variable (integral forms) with a proven tail bound
# ------------------------------------------------------------------------------------------
def _nan_ball() -> acb:
    return acb(arb("nan"))


class _IntegrandTranslator(_Translator):
    """The integrand f(x, parameters) as a function of a complex ball x for Arb's
    integrator (``acb.integral``), which needs f holomorphic on the balls it asks about when
    its ``analytic`` flag is set (``self.analytic``, set before each call).

    The integrand comes in Heaviside form (``piecewise.heaviside_form``: Abs, sign, Max, Min
    and Piecewise rewritten as steps); on an interval between two consecutive kinks every step
    H(g(x)) is constant, so ``self.steps`` (set per interval) gives its 0 or 1 and f is the
    analytic continuation of that one branch. Functions with branch cuts (log, fractional
    powers, the inverse trigonometric functions) say when a ball touches their cut: Arb then
    subdivides instead of trusting the ball."""

    def __init__(self, x: sp.Symbol, variables: Sequence[sp.Symbol]):
        super().__init__((x, *variables))
        self.x = x
        self.analytic = False
        self.steps: dict[sp.Heaviside, arb] = {}

    def _build(self, node: sp.Basic) -> Program:
        if not node.has(self.x):
            return super()._build(node)
        if isinstance(node, sp.Heaviside):
            return lambda values: self.steps[node]
        if isinstance(node, sp.log):
            exponent = _softplus_exponent(node.args[0])
            if exponent is not None:
                return self._softplus(self.program(exponent))
            arg = self.program(node.args[0])
            return lambda values: acb(arg(values)).log(analytic=self.analytic)
        if isinstance(node, sp.Pow) and not node.exp.is_Integer:
            base = self.program(node.base)
            if node.exp == sp.S.Half:
                return lambda values: acb(base(values)).sqrt(analytic=self.analytic)
            exponent = self.program(node.exp)
            return lambda values: (acb(exponent(values))
                                   * acb(base(values)).log(analytic=self.analytic)).exp()
        if isinstance(node, (sp.asin, sp.acos, sp.atan)):
            arg, name = self.program(node.args[0]), type(node).__name__
            inside = _off_cut_atan if isinstance(node, sp.atan) else _off_cut_asin

            def inverse_trigonometric(values):
                z = acb(arg(values))
                if self.analytic and not inside(z):
                    return _nan_ball()
                return getattr(z, name)()
            return inverse_trigonometric
        if isinstance(node, (sp.Abs, sp.sign, sp.Max, sp.Min, sp.Piecewise, sp.atan2,
                             sp.Sum, Expectation, sp.DiracDelta)):
            raise NotEnclosable(f"cannot enclose an expectation whose integrand holds "
                                f"{type(node).__name__} of the integration variable")
        return super()._build(node)

    def _softplus(self, exponent: Program) -> Program:
        """log(1 + e^z) as log1p of e^(-|Re z|) plus z where Re z > 0: the same function
        wherever |Im z| < pi, where neither form meets its cut, and a tight ball there (the
        ball of e^z on a wide complex ball reaches across the cut of log(1 + .), and Arb then
        subdivides, three times as often on softplus's kernel). Elsewhere the plain form,
        whose cut check applies."""
        pi = arb.pi()

        def softplus(values):
            z = acb(exponent(values))
            if z.imag.abs_upper() < pi:
                positive = z.real.mid() > 0
                w = (-z).exp() if positive else z.exp()
                if w.real > -1:   # 1 + w off its cut (-oo, 0]
                    return (z if positive else acb(0)) + w.log1p()
            return (z.exp() + 1).log(analytic=self.analytic)
        return softplus


def _softplus_exponent(arg: sp.Expr) -> sp.Expr | None:
    """z when ``arg`` is e^z + 1, else None."""
    if isinstance(arg, sp.Add) and len(arg.args) == 2 and sp.S.One in arg.args:
        other = arg.args[0] if arg.args[1] == 1 else arg.args[1]
        if isinstance(other, sp.exp):
            return other.args[0]
    return None


def _off_cut_asin(z: acb) -> bool:
    """asin and acos are holomorphic off (-oo, -1] and [1, oo) on the real axis."""
    return bool(z.real.abs_upper() < 1 or not z.imag.contains(0))


def _off_cut_atan(z: acb) -> bool:
    """atan is holomorphic off the imaginary axis beyond +-i."""
    return bool(z.imag.abs_upper() < 1 or not z.real.contains(0))


GrowthProgram = Callable[[Sequence[Ball]], tuple[arb, arb, arb]]

#: Functions bounded on the real line, with a bound.
_BOUNDED = {sp.tanh: 1, sp.erf: 1, sp.erfc: 2, sp.sin: 1, sp.cos: 1, sp.Heaviside: 1}


class _GrowthBound:
    """A proven bound |f(x)| <= C (1 + |x|)^k e^(b|x|) for every real x, derived from the
    expression of f node by node (C, k, b >= 0 as balls' upper ends, at the parameters'
    balls):

    - a value free of x: its modulus; x itself: (1, 1, 0);
    - sums add the C and take the larger k and b; products multiply C and add k and b;
    - a power g^e with e > 0: (C^e, k e, b e) (C replaced by max(C, 1) for a fractional
      e); with e < 0 it needs a positive lower bound g >= m > 0 (``lower``): m^e;
    - exp(g) needs a linear upper bound g <= alpha + beta |x| (``upper_linear``): e^alpha,
      0, beta; a term that is a non-positive multiple of a non-negative expression
      (-x^2/2) contributes 0 to it, any other term its bound C (1 + |x|) (k <= 1, b = 0);
    - log(g) with g >= m > 0 and g's bound: |log g| <= (log+ C + k + b + log+ 1/m)(1 + |x|);
    - tanh, erf, sin, cos, Heaviside are at most 1 on the real line, erfc 2;
      sinh(g), cosh(g) at most e^|g| for |g| <= C (1 + |x|).

    A node none of these covers (erfi, a power of x in an exponent's growth) leaves the
    expectation NotEnclosable, with the reason."""

    def __init__(self, x: sp.Symbol, outer: _Translator):
        self.x = x
        self.outer = outer

    def _value(self, node: sp.Expr) -> Callable[[Sequence[Ball]], arb]:
        program = self.outer.program(node)
        return lambda values: _real_part(program(values), str(node))

    def growth(self, node: sp.Expr) -> GrowthProgram:
        x = self.x
        zero, one = arb(0), arb(1)
        if not node.has(x):
            value = self._value(node)
            return lambda values: (value(values).abs_upper(), zero, zero)
        if node == x:
            return lambda values: (one, one, zero)
        if isinstance(node, sp.Add):
            parts = [self.growth(a) for a in node.args]

            def add(values):
                bounds = [p(values) for p in parts]
                total, k, b = bounds[0]
                for c_i, k_i, b_i in bounds[1:]:
                    total, k, b = total + c_i, k.max(k_i), b.max(b_i)
                return total.abs_upper(), k, b
            return add
        if isinstance(node, sp.Mul):
            parts = [self.growth(a) for a in node.args]

            def mul(values):
                c, k, b = one, zero, zero
                for c_i, k_i, b_i in (p(values) for p in parts):
                    c, k, b = c * c_i, k + k_i, b + b_i
                return c.abs_upper(), k.abs_upper(), b.abs_upper()
            return mul
        if isinstance(node, sp.Pow):
            return self._power(node)
        if isinstance(node, sp.exp):
            upper = self.upper_linear(node.args[0])

            def exponential(values):
                alpha, beta = upper(values)
                return alpha.exp().abs_upper(), zero, beta
            return exponential
        if isinstance(node, sp.log):
            return self._log(node)
        bound = _BOUNDED.get(type(node))
        if bound is not None:
            return lambda values: (arb(bound), zero, zero)
        if isinstance(node, (sp.sinh, sp.cosh)):
            inner = self.linear_growth(node.args[0])

            def hyperbolic(values):
                c = inner(values)
                return c.exp().abs_upper(), zero, c
            return hyperbolic
        raise NotEnclosable(f"no growth bound for {type(node).__name__} in the integrand: "
                            f"the Gaussian tails cannot be bounded")

    def linear_growth(self, node: sp.Expr) -> Callable[[Sequence[Ball]], arb]:
        """C with |node| <= C (1 + |x|) for all real x (its growth bound with k <= 1, b = 0)."""
        bound = self.growth(node)

        def linear(values):
            c, k, b = bound(values)
            if not (k <= 1 and b.is_zero()):
                raise NotEnclosable(f"{node} in an exponent is not bounded by a multiple of "
                                    f"1 + |x|: the Gaussian tails cannot be bounded")
            return c
        return linear

    def _power(self, node: sp.Pow) -> GrowthProgram:
        base, exponent = node.base, node.exp
        if exponent.has(self.x):
            raise NotEnclosable(f"no growth bound for the power {node} (an exponent holding "
                                f"the integration variable)")
        e = self._value(exponent)
        if exponent.is_nonnegative or (exponent.is_number and exponent >= 0):
            inner = self.growth(base)
            integer = exponent.is_Integer

            def power(values):
                c, k, b = inner(values)
                e_up = e(values).abs_upper()
                c = c ** int(exponent) if integer else c.max(arb(1)) ** e_up
                return c.abs_upper(), (k * e_up).abs_upper(), (b * e_up).abs_upper()
            return power
        if exponent.is_negative or (exponent.is_number and exponent < 0):
            lowest = self.lower(base)
            if lowest is None:
                raise NotEnclosable(f"no growth bound for {node}: no positive lower bound of "
                                    f"{base} on the real line was found")

            def reciprocal(values):
                m = lowest(values)
                if not m > 0:
                    raise NotEnclosable(f"no growth bound for {node}: {base} is not shown "
                                        f"to stay above a positive number")
                return (m ** e(values)).abs_upper(), arb(0), arb(0)
            return reciprocal
        raise NotEnclosable(f"no growth bound for {node}: the sign of the exponent is unknown")

    def _log(self, node: sp.log) -> GrowthProgram:
        arg = node.args[0]
        lowest = self.lower(arg)
        if lowest is None:
            raise NotEnclosable(f"no growth bound for {node}: no positive lower bound of {arg} "
                                f"on the real line was found")
        inner = self.growth(arg)

        def logarithm(values):
            m = lowest(values)
            if not m > 0:
                raise NotEnclosable(f"no growth bound for {node}: {arg} is not shown to stay "
                                    f"above a positive number")
            c, k, b = inner(values)
            log_c = c.log().max(arb(0)) if c > 0 else arb(0)
            total = log_c + k + b + (-m.log()).max(arb(0))
            return total.abs_upper(), arb(1), arb(0)
        return logarithm

    def lower(self, node: sp.Expr) -> Callable[[Sequence[Ball]], arb] | None:
        """m with node >= m >= 0 (at the parameters) for every real x, when the structure
        shows node >= 0: positive values, exp, even powers, sums and products of such (m is a
        ball's lower end, 0 where only the sign is known); None otherwise."""
        x = self.x
        zero = arb(0)
        if not node.has(x):
            value = self._value(node)
            return lambda values: value(values).lower() if value(values) >= 0 else arb(-1)
        if isinstance(node, (sp.exp, sp.Heaviside, sp.Abs)):
            return lambda values: zero
        if isinstance(node, sp.cosh):
            return lambda values: arb(1)
        if isinstance(node, sp.Pow) and node.exp.is_Integer and node.exp.is_even:
            return lambda values: zero
        if isinstance(node, (sp.Add, sp.Mul)):
            parts = [self.lower(a) for a in node.args]
            if any(p is None for p in parts):
                return None
            combine = sum if isinstance(node, sp.Add) else math.prod

            def bound(values):
                ends = [p(values) for p in parts]
                if any(m < 0 for m in ends):
                    return arb(-1)  # a negative constant: not shown to be >= 0
                return arb(combine(ends)).lower()
            return bound
        if isinstance(node, sp.Pow) and (node.exp.is_positive or (node.exp.is_number
                                                                   and node.exp > 0)):
            inner = self.lower(node.base)
            if inner is None:
                return None
            e = self._value(node.exp)
            return lambda values: ((inner(values) ** e(values)).lower()
                                   if inner(values) >= 0 else arb(-1))
        return None

    def upper_linear(self, node: sp.Expr) -> Callable[[Sequence[Ball]], tuple[arb, arb]]:
        """(alpha, beta) with node <= alpha + beta |x| for every real x."""
        if not node.has(self.x):
            value = self._value(node)
            return lambda values: (arb(value(values).upper()), arb(0))
        terms = []
        for term in sp.Add.make_args(node):
            coefficient, rest = term.as_independent(self.x, as_Add=False)
            rest_lower = self.lower(rest) if coefficient != 1 else None
            terms.append((self._value(coefficient) if rest_lower else None, rest_lower,
                          self.linear_growth(term)))

        def linear(values):
            alpha, beta = arb(0), arb(0)
            for coefficient, rest_lower, bound in terms:
                if (coefficient is not None and coefficient(values) <= 0
                        and rest_lower(values) >= 0):
                    continue  # a non-positive multiple of a non-negative expression
                c = bound(values)
                alpha, beta = alpha + c, beta + c
            return alpha.abs_upper(), beta.abs_upper()
        return linear


#: Most sub-intervals of the truncated range (kinks split it; each is one Arb integration).
MAX_INTERVALS = 64


class _OneVariable:
    """A factor f(x) of an integrand, ready for Arb's integration: its Heaviside form as a
    program of complex balls (:class:`_IntegrandTranslator`), the steps that switch its
    branches (their arguments must be polynomials of degree <= 2 in x, so every kink is a
    known root) and its growth bound (:class:`_GrowthBound`)."""

    def __init__(self, expr: sp.Expr, x: sp.Symbol, outer: _Translator):
        from ...piecewise import heaviside_form

        try:
            stepped = heaviside_form(expr, x)
        except (ValueError, TypeError) as error:
            raise NotEnclosable(f"cannot split the integrand {_excerpt(expr)} at its "
                                f"kinks ({error})") from None
        self.inner = _IntegrandTranslator(x, outer.variables)
        self.program = self.inner.program(stepped)
        self.steps = []  # (step, its argument at real balls, programs of its coefficients)
        for step in sorted(stepped.atoms(sp.Heaviside), key=sp.default_sort_key):
            if not step.has(x):
                continue
            arg = step.args[0]
            poly = sp.Poly(arg, x) if arg.is_polynomial(x) else None
            if poly is None or poly.degree() > 2:
                raise NotEnclosable(f"cannot enclose an expectation with a kink where "
                                    f"{_excerpt(arg)} changes sign (only polynomial "
                                    f"conditions of degree <= 2 in the integration variable "
                                    f"have all their roots known)")
            coefficients = [outer.program(c) for c in reversed(poly.all_coeffs())]
            self.steps.append((step, self.inner.program(arg), coefficients))
        self.bound = _GrowthBound(x, outer).growth(stepped)

    def __call__(self, z: acb, params: list, analytic: bool) -> acb:
        self.inner.analytic = analytic
        return acb(self.program([z, *params]))

    def kinks(self, values) -> list[arb]:
        """The real roots of every step argument, increasing, separated balls."""
        return _increasing([r for _step, _arg, coefficients in self.steps
                            for r in _real_roots([c(values) for c in coefficients])])

    def pieces(self, values, start: arb, stop: arb, extra: Sequence[arb] = ()) -> list[arb]:
        """start, the kinks (and the ``extra`` points) strictly between, stop: increasing,
        separated balls."""
        inside = []
        for root in [*self.kinks(values), *extra]:
            if root.is_exact() and (root == start or root == stop):
                continue
            if root > start and root < stop:
                inside.append(root)
            elif not (root < start or root > stop):
                raise _Undecided("a kink at the end of the range")
        ends = [start, *_increasing(inside), stop]
        if len(ends) > MAX_INTERVALS + 1:
            raise NotEnclosable(f"the integrand has more than {MAX_INTERVALS} pieces")
        return ends

    def choose_branch(self, values, point: arb) -> None:
        """Every step's value on the interval holding ``point`` (no kink inside it)."""
        self.inner.analytic = False
        for step, arg, _coefficients in self.steps:
            s = _sign(arg([point, *values]), str(step))
            self.inner.steps[step] = arb(1) if s > 0 else arb(0)

    def integrate(self, values, ends: list[arb], weight: Callable[[acb], acb],
                  eval_limit: int | None = None) -> acb:
        """sum over the pieces of int f(x) weight(x) dx (Arb's rigorous integration; at most
        ``eval_limit`` evaluations per piece, after which Arb returns what it has proven, a
        wide ball)."""
        total = acb(0)
        params = list(values)
        for lo, hi in zip(ends, ends[1:]):
            self.choose_branch(values, (lo + hi) / 2)
            total += acb.integral(lambda z, analytic: self(z, params, analytic) * weight(z),
                                  lo, hi, eval_limit=eval_limit)
        return total


#: The largest variance at which a one-variable integral form is enclosed. The integration
#: range grows like sqrt(q) while the integrand's complex singularities (mish, softplus) stay
#: at a fixed distance from the real axis, so Arb subdivides ever more finely: mish's
#: length_map_slope at 30 digits takes 1.3 s at q = 100, 14 s at q = 10^4, and over four
#: minutes at q = 10^5 before the precision cap. Beyond this the refusal is immediate.
MAX_INTEGRAL_VARIANCE = 10**4


class GaussianIntegral:
    """E[f(u)], u ~ N(0, q) centred (the exact form of an integral-form law), enclosed.

    E[f(u)] = int_(-L)^L f(x) phi_q(x) dx + tail, phi_q the N(0, q) density:

    - the finite part by Arb's rigorous integration (``acb.integral``: Gauss-Legendre with
      error bounds from the integrand's size on complex neighbourhoods, subdividing as
      needed), split at the kinks of f (the real roots of its step arguments, which must be
      polynomials of degree <= 2 in x, so every root is known), over [0, L] doubled when f is
      even; an odd f gives exactly 0;
    - the tails |x| > L by the growth bound |f(x)| <= C (1 + |x|)^k e^(b|x|)
      (:class:`_GrowthBound`): for L >= max(1, 2bq), using 1 + x <= 2x and, for b > 0,
      e^(bx) phi_q(x) = e^(b^2 q/2) phi_q(x - bq) with x <= 2(x - bq),

          |tail| <= 2 C 2^k (2^k if b > 0) e^(b^2 q/2) (2q)^(k/2) / (2 sqrt(pi))
                    Gamma((k + 1)/2, (L - bq)^2 / (2q))

      (for b = 0 read L - bq as L, without the second 2^k), with the upper incomplete gamma
      function in ball arithmetic; L is chosen so this is at most 2^-(working bits), and the
      bound is added to the radius;
    - q = 0 exactly: the q -> 0 limit (``compile.at_zero_variance``), as ``evaluate`` takes it.
    """

    def __init__(self, expectation: Expectation, outer: _Translator):
        from ...piecewise import parity

        if not expectation.centred:
            raise NotEnclosable("cannot enclose a Gaussian expectation with a nonzero mean yet")
        (x,) = expectation.variables
        integrand = expectation.integrand
        self.x, self.integrand, self.outer = x, integrand, outer
        self.variance = outer.program(expectation.covariance[0])
        shape = parity(integrand, x)
        self.even, self.odd = shape == "even", shape == "odd"
        self.f = _OneVariable(integrand, x, outer)
        self.bound = self.f.bound
        self._at_zero: Program | None = None

    def at_zero(self, values) -> arb:
        if self._at_zero is None:
            from .compile import at_zero_variance

            try:
                limit = at_zero_variance(self.integrand, self.x)
            except PrecisionError as error:
                raise NotEnclosable(f"the q -> 0 limit of the expectation: {error}") from None
            self._at_zero = self.outer.program(limit)
        return _real_part(self._at_zero(values), "the q -> 0 limit of the expectation")

    def value(self, values) -> arb:
        q = _real_part(self.variance(values), "the variance")
        if q.is_zero():
            return self.at_zero(values)
        if q < 0:
            raise InvalidValueError("the variance of the expectation is negative")
        if not q > 0:
            raise _Undecided("the variance > 0")
        if self.odd:
            return arb(0)
        if q > MAX_INTEGRAL_VARIANCE:
            raise NotEnclosable(
                f"the variance {q.mid().str(5, radius=False)} is above "
                f"{MAX_INTEGRAL_VARIANCE:g}, the largest at which a one-variable integral is "
                f"enclosed (Arb's integration subdivides like sqrt(q): seconds at 1e4, "
                f"minutes beyond); evaluate(proven=False) certifies it by two precisions")
        c, k, b = self.bound(values)
        cutoff, tail = self.cutoff(q, c, k, b)
        ends = self.f.pieces(values, arb(0) if self.even else -cutoff, cutoff)
        two_q = 2 * q
        total = self.f.integrate(values, ends, lambda z: (-(z * z) / two_q).exp())
        total = _real_part(total, "the integral") * (2 * arb.pi() * q).rsqrt()
        if self.even:
            total *= 2
        return total + arb(0, tail)

    @staticmethod
    def tail_bound(q: arb, c: arb, k: arb, b: arb, cutoff: arb) -> arb:
        """The bound on both Gaussian tails beyond +-cutoff (class docstring)."""
        if not (cutoff >= 1 and cutoff >= 2 * b * q):
            raise ValueError("the tail bound needs a cut-off of at least max(1, 2bq)")
        two_q = 2 * q
        shift = b * q
        if b.is_zero():
            factor, start = arb(1), cutoff
        else:
            factor, start = arb(2) ** k * (b * b * q / 2).exp(), cutoff - shift
        s = (k + 1) / 2
        gamma = (start * start / two_q).gamma_upper(s)
        total = (2 * c * arb(2) ** k * factor * two_q ** (k / 2)
                 / (2 * arb.const_sqrt_pi()) * gamma)
        return total.abs_upper()

    @classmethod
    def cutoff(cls, q: arb, c: arb, k: arb, b: arb) -> tuple[arb, arb]:
        """(L, the tail bound at L) with the bound at most 2^-(working bits)."""
        goal = arb(2) ** -ctx.prec
        qf, kf, bf = float(q.upper()), float(k.upper()), float(b.upper())
        # a first guess from the leading behaviour Gamma(s, z) ~ z^(s-1) e^-z
        log_c = float(c.log().upper()) if c > 0 else -690.0  # c may be beyond floats
        log_prefactor = (max(log_c, -690.0) + (2 * kf + 2) * math.log(2)
                         + bf * bf * qf / 2 + kf / 2 * math.log(2 * qf))
        z = max(1.0, ctx.prec * math.log(2) + log_prefactor + 10)
        for _ in range(4):
            z = max(1.0, ctx.prec * math.log(2) + log_prefactor + 10
                    + max(0.0, (kf - 1) / 2) * math.log(z))
        length = bf * qf + math.sqrt(2 * qf * z)
        length = max(length, 1.0, 2 * bf * qf + 1)
        if not length < 1e300:
            raise NotEnclosable("the tail bound of the expectation needs a range beyond the "
                                "floating-point numbers (the growth bound is too weak here)")
        for _ in range(40):
            cutoff = exact_ball(mpmath.mpf(length))
            tail = cls.tail_bound(q, c, k, b, cutoff)
            if tail <= goal:
                return cutoff, tail
            length *= 1.25
        raise NotEnclosable("the tail bound of the expectation does not fall below the "
                            "target (the growth bound is too weak at this variance)")


#: Bernstein ellipses tried for the error bound of a Gauss-Legendre rule on a rectangle
#: (the sum of the semi-axes over the half-width), largest first.
ELLIPSES = (8, 4, 2.5, 1.6)
#: Balls covering one ellipse (or one real side) when bounding |integrand| on it.
COVER_BALLS = 4
#: Rectangles one product rule may cut its range into; past it the rest is bounded crudely
#: (a wide ball, which the caller's precision search reports as the digits proven).
MAX_RECTANGLES = 4000


class BivariateGaussianIntegral:
    """E[c f(u1) g(u2)], (u1, u2) centred with variances q1, q2 and covariance rho (a
    separable integrand: the kernels of two-input laws), enclosed.

    The box rule: given u1, u2 = m u1 + s t with m = rho/q1, s^2 = q2 - rho^2/q1 and t ~ N(0, 1)
    independent of u1, so E = E[f(u1) g(m u1 + s t)], cut to the box |u1| <= L, |t| <= W. In
    these coordinates the Gaussian weight is a product and does not sharpen as c -> +-1 (in
    u1, u2 it concentrates on a line of width s), so the cost stays flat there. Inside the
    box:

    - f and g without kinks: the product trapezoidal rule (:func:`_trapezoid_pair`), whose
      error is proven from a strip where the integrand is holomorphic (found and checked by
      ball arithmetic); g is evaluated on one lattice of arguments, a few hundred points;
    - otherwise (or when no strip is found, e.g. poles close to the axis): Gauss-Legendre
      product rules on rectangles of (u1, sigma) (:func:`_product_gauss`), sigma in [-1, 1]
      the position in an inner piece of t whose ends are -W, W or where m u1 + s t crosses a
      kink of g (linear in u1, so the integrand stays analytic on each piece); the outer
      range splits at the kinks of f and where a kink of g enters or leaves the inner range,
      (u1 = (r -+ s W)/m); each rectangle's error is proven from Bernstein ellipses.

    The box's complement needs only real growth bounds: with |f(x)| <= C_f (1 + |x|)^k_f
    e^(b_f|x|), |g(y)| <= C_g (1 + |y|)^k_g e^(b_g|y|) and 1 + |m u1| + s|t| <=
    max(1, |m|) max(1, s) (1 + |u1|)(1 + |t|),
    |f(u1) g(m u1 + s t)| <= C (1 + |u1|)^K e^(B|u1|) (1 + |t|)^k_g e^(b_g s|t|), K = k_f + k_g,
    B = b_f + b_g|m|, which is a product: the mass beyond |u1| = L (all t) is the
    one-variable tail bound (:class:`GaussianIntegral`) in u1 times E over t of the t factor,
    and beyond |t| = W (all u1) the tail bound in t times E over u1 of the u1 factor; both
    expectations are bounded by Cauchy-Schwarz (:func:`_moment_bound`), and L, W are chosen
    so each part is at most 2^-(working bits).

    Degenerate pairs are one-variable expectations (:class:`GaussianIntegral`): at a zero
    variance (then rho = 0) E[f(u1)] E[g(u2)], each by its q -> 0 limit where its variance is
    0; at rho^2 = q1 q2 (c = +-1) E[f(u1) g((rho/q1) u1)]."""

    def __init__(self, expectation: Expectation, outer: _Translator):
        from ..structure import separate

        if not expectation.centred:
            raise NotEnclosable("cannot enclose a Gaussian expectation with a nonzero mean yet")
        v1, v2 = expectation.variables
        parts = separate(expectation.integrand, v1, v2)
        if parts is None:
            raise NotEnclosable(f"cannot enclose a two-dimensional expectation whose integrand "
                                f"{_excerpt(expectation.integrand)} couples its variables "
                                f"(only products f(u1) g(u2) so far)")
        c, f, g = parts
        self.constant = outer.program(c)
        self.f, self.g = _OneVariable(f, v1, outer), _OneVariable(g, v2, outer)
        # a smooth inner factor is cheaper (one inner piece): the factors swap roles (and
        # q1, q2 with them) when only the first one is smooth
        self.swapped = bool(self.g.steps) and not self.f.steps
        self.covariance = [outer.program(e) for e in expectation.covariance]
        q1, rho, q2 = expectation.covariance
        # the degenerate cases as one-variable expectations, built when first needed
        self._separately = lambda: (GaussianIntegral(one_variable(f, v1, q1), outer),
                                    GaussianIntegral(one_variable(g, v2, q2), outer))
        self._on_the_line = lambda: GaussianIntegral(
            one_variable(f * g.subs(v2, rho / q1 * v1), v1, q1), outer)
        self._degenerate: dict[str, object] = {}

    def _case(self, name: str):
        if name not in self._degenerate:
            self._degenerate[name] = (self._separately if name == "separately"
                                      else self._on_the_line)()
        return self._degenerate[name]

    def value(self, values) -> arb:
        q1, rho, q2 = (_real_part(p(values), "the covariance") for p in self.covariance)
        constant = _real_part(self.constant(values), "the integrand's constant")
        for q in (q1, q2):
            if q < 0:
                raise InvalidValueError("a variance of the expectation is negative")
            if not (q > 0 or q.is_zero()):
                raise _Undecided("the variances > 0")
        if q1.is_zero() or q2.is_zero():
            # a variable that is 0 almost surely: independent of the other, and the expectation
            # factorises, each factor by its q -> 0 limit (GaussianIntegral.at_zero)
            if not rho.is_zero():
                raise InvalidValueError("the covariance of the expectation is not positive "
                                        "semi-definite (rho != 0 at a zero variance)")
            first, second = self._case("separately")
            return constant * first.value(values) * second.value(values)
        s2 = q2 - rho * rho / q1
        if s2.is_zero():
            # u2 = (rho/q1) u1 exactly (c = +-1): one variable
            return constant * self._case("on the line").value(values)
        if s2 < 0:
            raise InvalidValueError("the covariance of the expectation is not positive "
                                    "semi-definite (rho^2 > q1 q2)")
        if not s2 > 0:
            raise _Undecided("rho^2 < q1 q2")
        return constant * (self._box(values, q2, rho, q1) if self.swapped
                           else self._box(values, q1, rho, q2))

    def _box(self, values, q1: arb, rho: arb, q2: arb) -> arb:
        """E[f(u1) g(u2)] (without the constant) by the box rule (class docstring); q1 is the
        outer factor's variance (the caller swaps the factors' roles when only f is
        smooth)."""
        f, g = (self.g, self.f) if self.swapped else (self.f, self.g)
        m, s2 = rho / q1, q2 - rho * rho / q1
        s = s2.sqrt()
        cf, kf, bf = f.bound(values)
        cg, kg, bg = g.bound(values)
        slope = abs(m).abs_upper()
        # |f(u1) g(m u1 + s t)| <= C (1 + |u1|)^K e^(B|u1|) (1 + |t|)^kg e^(bg s |t|)
        k_outer, b_outer = (kf + kg).abs_upper(), (bf + bg * slope).abs_upper()
        b_inner = (bg * s).abs_upper()
        c = (cf * cg * slope.max(arb(1)) ** kg * s.max(arb(1)) ** kg).abs_upper()
        length, _ = GaussianIntegral.cutoff(
            q1, c * _moment_bound(arb(1), kg, b_inner), k_outer, b_outer)
        width, _ = GaussianIntegral.cutoff(
            arb(1), c * _moment_bound(q1, k_outer, b_outer), kg, b_inner)
        tail = 2 * arb(2) ** -ctx.prec   # each cut-off bounds its tail by 2^-prec
        kinks = g.kinks(values)
        # where a kink of g enters or leaves the inner range, H(u1) is not analytic
        moving = [] if m.is_zero() else [(r + e * s * width) / m for r in kinks
                                          for e in (-1, 1)]
        two_q1, params = 2 * q1, list(values)
        if not f.steps and not g.steps:
            total = _trapezoid_pair(f, g, params, q1, m, s, length, width)
            if total is not None:
                total = _real_part(total, "the integral") / (2 * arb.pi() * q1.sqrt())
                return total + arb(0, tail)
        total = acb(0)
        ends = f.pieces(values, -length, length, extra=moving)
        goal = arb(2) ** -ctx.prec / (ends[-1] - ends[0])  # per unit of u1's length
        for lo, hi in zip(ends, ends[1:]):
            middle = (lo + hi) / 2
            f.choose_branch(values, middle)

            def weighted_f(u1: acb) -> acb:
                return f(u1, params, False) * (-(u1 * u1) / two_q1).exp()

            def weighted_f_size(u1: acb) -> arb | None:
                value = f(u1, params, True)
                if not value.is_finite():
                    return None
                return value.abs_upper() * _gaussian_size(u1, two_q1)

            segments = _inner_segments(g, values, kinks, m * middle, s, width)
            for start, stop, branch in segments:
                g.inner.steps.update(branch)

                def inner_range(u1: acb, start=start, stop=stop):
                    """(m u1, the middle and the half-length of the inner range at u1): its
                    ends are -W, W or where m u1 + s t crosses a kink of g, linear in u1, so
                    the integrand stays analytic."""
                    mean = m * u1
                    a = -width if start is None else (start - mean) / s
                    b = width if stop is None else (stop - mean) / s
                    return mean, (a + b) / 2, (b - a) / 2

                def conditional(u1: acb, inner_range=inner_range) -> Callable[[acb], acb]:
                    """sigma -> g(m u1 + s t) e^(-t^2/2) dt/dsigma at t = centre + half sigma
                    (the range worked out once per u1)."""
                    mean, centre, half = inner_range(u1)

                    def at(sigma: acb) -> acb:
                        t = centre + half * sigma
                        return g(mean + s * t, params, False) * (-(t * t) / 2).exp() * half
                    return at

                def conditional_size(u1: acb, sigma: acb,
                                     inner_range=inner_range) -> arb | None:
                    mean, centre, half = inner_range(u1)
                    t = centre + half * sigma
                    value = g(mean + s * t, params, True)
                    if not value.is_finite():
                        return None
                    return value.abs_upper() * _gaussian_size(t, arb(2)) * half.abs_upper()

                total += _product_gauss((weighted_f, weighted_f_size),
                                        (conditional, conditional_size), lo, hi,
                                        goal * (hi - lo) / len(segments))
        total = _real_part(total, "the integral") / (2 * arb.pi() * q1.sqrt())
        return total + arb(0, tail)


def _increasing(points: list[arb]) -> list[arb]:
    """``points`` sorted, exact repeats once; _Undecided when two balls overlap."""
    out: list[arb] = []
    for p in sorted(points, key=lambda r: r.mid()):
        if out and p.is_exact() and out[-1].is_exact() and p == out[-1]:
            continue
        if out and not p > out[-1]:
            raise _Undecided("two kinks closer than their balls")
        out.append(p)
    return out


def _inner_segments(g: "_OneVariable", values, kinks: list[arb], mean: arb, s: arb,
                    width: arb) -> list[tuple]:
    """The pieces of the inner range t in [-W, W] at a real u1 with m u1 = ``mean``: (the
    kink starting it or None for -W, the kink ending it or None for W, each step's value on
    it). The same kinks lie inside the range for every u1 of one outer piece."""
    inside = []
    for r in kinks:
        t = (r - mean) / s
        if t > -width and t < width:
            inside.append(r)
        elif not (t < -width or t > width):
            raise _Undecided("a kink at the end of the inner range")
    bounds = [None, *inside, None]
    segments = []
    for start, stop in zip(bounds, bounds[1:]):
        lo = mean - s * width if start is None else start
        hi = mean + s * width if stop is None else stop
        g.choose_branch(values, (lo + hi) / 2)
        segments.append((start, stop, dict(g.inner.steps)))
    return segments


@lru_cache(maxsize=None)
def _gauss_legendre(n: int, prec: int) -> tuple[tuple[arb, arb], ...]:
    """The n-point Gauss-Legendre nodes and weights on [-1, 1], balls at ``prec`` bits."""
    with ctx.workprec(prec):
        return tuple(arb.legendre_p_root(n, k, weight=True) for k in range(n))


def _max_nodes() -> int:
    """The most nodes per direction of one product rule: beyond it a rectangle is halved
    (about the number a Gauss rule needs for the working precision in a comfortable
    ellipse, rho = 4)."""
    return max(8, math.ceil(ctx.prec * math.log(2) / (2 * math.log(4))) + 4)


def _ellipse_cover(rho: arb) -> list[acb]:
    """Complex balls covering the filled Bernstein ellipse with foci -1, 1 and semi-axes
    summing to ``rho`` (its bounding rectangle cut into COVER_BALLS pieces along the real
    axis)."""
    a, b = (rho + 1 / rho) / 2, (rho - 1 / rho) / 2
    return [acb(arb(-a + (2 * j + 1) * a / COVER_BALLS, a / COVER_BALLS), arb(0, b))
            for j in range(COVER_BALLS)]


def _product_gauss(outer: tuple[Callable[[acb], acb], Callable[[acb], arb | None]],
                   inner: tuple[Callable[[acb], Callable[[acb], acb]],
                                Callable[[acb, acb], arb | None]],
                   lo: arb, hi: arb, goal: arb) -> acb:
    """int_lo^hi int_-1^1 outer(x) inner(x, y) dy dx, enclosed, to an absolute error of about
    ``goal``: a product Gauss-Legendre rule on rectangles, halved until the rule's proven
    error is below the rectangle's share of the goal.

    The error bound: for h analytic in the Bernstein ellipse E_rho around [-1, 1] with
    |h| <= M there, the n-point Gauss rule errs by at most 64 M / (15 (rho^2 - 1) rho^(2n))
    (Trefethen, "Is Gauss quadrature better than Clenshaw-Curtis?", thm 4.5; Arb's own
    integrator uses it). On a rectangle mapped to [-1, 1]^2 the product rule's error is
    (Q_x - I_x)[Q_y G] + I_x[(Q_y - I_y) G]; Q_y G is a positive combination of G(., y_j)
    with weights summing to 2, so both terms are bounded by that formula with M1 = sup |G| on
    E_rho1 x [-1, 1] and M2 = sup |G| on [-1, 1] x E_rho2, times 2. The sups are taken by
    ball arithmetic on covers of those sets, with holomorphy checked there (a pole or a
    branch cut makes the ball non-finite, so that ellipse is not used). Each factor comes as
    (its value at a point, an upper bound of its modulus on a ball or None where it is not
    holomorphic there): the bound can be sharper than the ball of the value (a Gaussian's
    modulus is known exactly on a rectangle, where the ball of exp(-z^2) overshoots by
    e^(|z| rad)). The inner value comes as x -> (y -> inner(x, y)), so what depends on x
    only is worked out once per row of nodes."""
    outer_value, outer_size = outer
    inner_value, inner_size = inner
    total = acb(0)
    largest = _max_nodes()
    work = [(lo, hi, arb(-1), arb(1), goal * (hi - lo) / 2)]
    rectangles = 0
    factor = arb(256) / 15  # 2 x 64/15 per direction, each direction given half the goal
    while work:
        x0, x1, y0, y1, share = work.pop()
        rectangles += 1
        xm, hx, ym, hy = (x0 + x1) / 2, (x1 - x0) / 2, (y0 + y1) / 2, (y1 - y0) / 2
        scale = factor * hx * hy / share
        if rectangles > MAX_RECTANGLES:
            # a crude proven bound: the rectangle's area times sup |G| on it
            x, y = acb(arb(xm, hx.abs_upper())), acb(arb(ym, hy.abs_upper()))
            bound = (outer_value(x) * inner_value(x)(y)).abs_upper() * 4 * hx * hy
            total += acb(arb(0, bound.abs_upper()), arb(0, bound.abs_upper()))
            continue
        real_x = [xm + hx * acb(w) for w in _pieces(arb(1), COVER_BALLS)]
        real_y = [ym + hy * acb(w) for w in _pieces(arb(1), COVER_BALLS)]
        choices = []
        for direction in (0, 1):
            best = None
            for r in ELLIPSES:
                rho = arb(r)
                cover = [(xm + hx * z) if direction == 0 else (ym + hy * z)
                         for z in _ellipse_cover(rho)]
                xs, ys = (cover, real_y) if direction == 0 else (real_x, cover)
                size = _sup(outer_size, inner_size, xs, ys)
                if size is None:
                    continue
                n = _nodes_needed(size * scale / (rho * rho - 1), rho)
                if best is None or n < best[0]:
                    best = (n, rho, size)
            choices.append(best)
        (nx, ry, mx), (ny, ryy, my) = ((c if c is not None else (largest + 1, None, None))
                                      for c in choices)
        if nx > largest or ny > largest:
            if nx == ny:  # both without a usable ellipse: halve the relatively longer side
                split_x = hx / (hi - lo) >= hy / 2
            else:
                split_x = nx > ny
            if split_x:
                work += [(x0, xm, y0, y1, share / 2), (xm, x1, y0, y1, share / 2)]
            else:
                work += [(x0, x1, y0, ym, share / 2), (x0, x1, ym, y1, share / 2)]
            continue
        error = factor / 2 * hx * hy * (mx / ((ry * ry - 1) * ry ** (2 * nx))
                                         + my / ((ryy * ryy - 1) * ryy ** (2 * ny)))
        nodes_x, nodes_y = _gauss_legendre(nx, ctx.prec), _gauss_legendre(ny, ctx.prec)
        value = acb(0)
        for tx, wx in nodes_x:
            x = acb(xm + hx * tx)
            inner_at = inner_value(x)
            row = acb(0)
            for ty, wy in nodes_y:
                row += wy * inner_at(acb(ym + hy * ty))
            value += wx * outer_value(x) * row
        error = error.abs_upper()
        total += value * hx * hy + acb(arb(0, error), arb(0, error))
    return total


def _sup(outer_size, inner_size, xs: list[acb], ys: list[acb]) -> arb | None:
    """An upper bound of |outer(x) inner(x, y)| over the balls xs x ys, None where some
    factor is not holomorphic there."""
    size = arb(0)
    for x in xs:
        first = outer_size(x)
        if first is None:
            return None
        for y in ys:
            second = inner_size(x, y)
            if second is None:
                return None
            size = size.max(first * second)
    return size


def _gaussian_size(z: acb, two_q: arb) -> arb:
    """sup |e^(-z^2 / 2q)| over the rectangle of the complex ball z: e^((max Im^2 -
    min Re^2) / 2q), since Re z^2 = Re^2 - Im^2."""
    z = acb(z)
    return ((z.imag.abs_upper() ** 2 - z.real.abs_lower() ** 2) / two_q).exp().abs_upper()


def _nodes_needed(ratio: arb, rho: arb) -> int:
    """The least n with ratio rho^(-2n) <= 1 (1 when ratio <= 1)."""
    if not ratio > 1:
        return 1
    n = float((ratio.log() / (2 * rho.log())).upper())
    return math.ceil(n) if n < 1e6 else 10**6


#: Pieces of each direction's range when bounding the integrand along a strip's edge.
STRIP_COVER = 16
#: Strip half-widths tried, in units of the variable's standard deviation, largest first
#: (about sqrt(2 ln 2 x 132) = 13.5 balances the Gaussian's growth e^(a^2/2) off the axis
#: against the rule's e^(-2 pi a/h) at 30 digits; poles of the integrand cut it down).
STRIP_WIDTHS = (13.5, 9, 6, 4, 2.7, 1.8, 1.2, 0.8, 0.5, 0.3)
#: How far the strip rule's ranges reach first for the integrand's growth off the axis: its
#: vertical sides go out until the Gaussian there is 2^-this below its size at the cut-off
#: (4 and 16 times this where that is not enough).
SIDE_GROWTH_BITS = 32
#: The most node pairs of one product trapezoidal rule: g evaluated at each (about 10
#: microseconds), or looked up on the lattice of its arguments (about one).
MAX_PAIRS = 400_000
MAX_LATTICE_PAIRS = 4_000_000
#: The most pieces of x's range for the inner rule's error bound.
MAX_PIECES = 256
#: How often a box of a cover may be halved where the integrand's ball is not finite.
STRIP_REFINEMENTS = 6


def _trapezoid_pair(f: "_OneVariable", g: "_OneVariable", params: list, q1: arb, m: arb,
                    s: arb, length: arb, width: arb) -> acb | None:
    """:func:`_strip_rule` with SIDE_GROWTH_BITS of room for the integrand's growth on the
    strip's vertical sides, then with more where that was too little (e^(2 s |Im t|) for
    cos(2 u2) at q2 = 50: the wider covers cost time, so only when needed)."""
    for room in (SIDE_GROWTH_BITS, 4 * SIDE_GROWTH_BITS, 16 * SIDE_GROWTH_BITS):
        result = _strip_rule(f, g, params, q1, m, s, length, width, room)
        if result is not _SIDES_TOO_CLOSE:
            return result
    return None


#: _strip_rule's answer when the integrand grows too fast off the axis for its room.
_SIDES_TOO_CLOSE = object()


def _strip_rule(f: "_OneVariable", g: "_OneVariable", params: list, q1: arb, m: arb,
                s: arb, length: arb, width: arb, room: int) -> object:
    """int int f(x) e^(-x^2/2q1) g(m x + s t) e^(-t^2/2) dx dt over the box |x| <= X,
    |t| <= W (X >= ``length``, W >= ``width``: the caller bounds the mass outside) for f and g
    without kinks, by the product trapezoidal rule with a proven error.

    The trapezoidal rule converges like e^(-2 pi a/h) for an integrand analytic in the strip
    |Im z| < a, far faster than Gauss-Legendre panels against a Gaussian weight (60 nodes
    per direction at 30 digits for an entire factor, against about 300). The bound, from the
    residues of cot(pi z/h) on the rectangle [-X, X] x [-a, a] with X = (K + 1/2) h: for F
    holomorphic there, h sum_(|k| <= K) F(kh) - int_(-X)^X F = (1/2i) [int over the upper
    half of the boundary of F (cot(pi z/h) + i) dz + the lower half with cot - i], where
    |cot + i|, |cot - i| <= 2/(e^(2 pi a/h) - 1) on the top and bottom sides and <= 1 on the
    vertical sides, so the error is at most (int_top |F| + int_bottom |F|)/(e^(2 pi a/h) - 1)
    + a (sup over the right side + sup over the left side of |F|).

    The product rule's error is the rule in x applied to f e^(-x^2/2q1) H(x), H(x) =
    int_(-W)^W g(m x + s t) e^(-t^2/2) dt the exact inner integral, plus the rule in x applied
    to the inner rule's error at each node: both bounds of that form. Holomorphy: H is
    holomorphic where g is on {m z + s t}, a rectangle of g's own argument, and the inner
    integrand at every real x where g is on the rectangle of m x + s t; each is checked on a
    cover of boxes (a pole or a branch cut makes a box's ball non-finite; such boxes are
    halved a few times, then that strip is given up). The integrals along the top sides are
    bounded by ball arithmetic on pieces of them. Real factors take conjugate values at
    conjugate points, so the upper halves are enough.

    None when no strip is found where the integrand is holomorphic (its balls stay
    non-finite): the caller then integrates on Gauss-Legendre panels. _SIDES_TOO_CLOSE when
    the vertical sides, at most ``room`` bits of Gaussian decay beyond the cut-off, do not
    make the side terms small."""
    goal = arb(2) ** -ctx.prec
    two_q1, two = 2 * q1, arb(2)
    slope = abs(m)

    def f_size(z: acb) -> arb | None:
        value = f(z, params, True)
        return (value.abs_upper() * _gaussian_size(z, two_q1)) if value.is_finite() else None

    def g_size(x: acb, t: acb) -> arb | None:
        value = g(m * x + s * t, params, True)
        return (value.abs_upper() * _gaussian_size(t, two)) if value.is_finite() else None

    def side(cutoff: arb, a: arb, q: arb, bits: int) -> arb:
        # a vertical side at sqrt(cutoff^2 + a^2 + 2 q bits ln 2): there the Gaussian's
        # modulus is 2^-bits its size at the cut-off on the axis, room for the rest of the
        # integrand to grow off the axis (bits = 0 first, more where the side bound asks)
        return (cutoff * cutoff + a * a + 2 * q * bits * arb.const_log2()).sqrt()

    def reach(cutoff: arb, a: arb, q: arb = arb(1)) -> arb:
        # the farthest side tried, and the last node's half step (h <= 1)
        return side(cutoff, a, q, room) + 1

    def holomorphic(function, half_length: arb, height: arb) -> bool:
        return _finite_on_rectangle(lambda box: function(box, params, True), half_length,
                                    height)

    # a strip's width is limited by the Gaussian (its standard deviation) or by the
    # singularities of f and g (at fixed distances in their arguments, so in x at 1/|m|
    # times theirs through g(m x + s t), in t at 1/s times)
    slope_mid, s_mid = float(slope.mid()), float(s.mid())
    # beyond sqrt(2 ln 2 bits) standard deviations the Gaussian's growth off the axis costs
    # more than the wider strip gains
    widest = math.sqrt(2 * math.log(2) * ctx.prec)
    sd_x = float(q1.sqrt().mid())
    x_widths = _strip_widths([sd_x, 1.0] + ([1 / slope_mid] if slope_mid > 0 else []),
                             widest * sd_x)
    t_widths = _strip_widths([1.0, 1 / s_mid], widest)
    t_span = reach(width, max(t_widths, key=lambda a: float(a.mid())))
    t_pieces = _pieces(t_span)

    def inner_integral_size(x: acb) -> arb | None:
        """An upper bound of int |g(m x + s t)| e^(-Re t^2/2) dt over |t| <= t_span, x in
        the ball x."""
        found = _refined_bounds(lambda t: g_size(x, t), t_pieces, acb)
        return None if found is None else _integral_of(found)

    # x first: the rule applied to f(x) e^(-x^2/2q1) H(x)
    def x_strip(a: arb):
        x_span = reach(length, a, q1)
        if not (holomorphic(f, x_span, a)
                and holomorphic(g, slope * x_span + s * t_span, slope * a)):
            return None
        top = _edge_integral(lambda box: _product(f_size(box), inner_integral_size(box)),
                             x_span, a)
        if top is None:
            return None
        h = _strip_step(a, 2 * top, goal)
        return math.ceil(float((x_span / h).upper())), a, h, top, x_span

    best_x = _best_strip(x_widths, x_strip)
    if best_x is None:
        return None
    _count, ax, hx, x_top, x_span = best_x
    # pieces of x's range on which the inner rule's error is bounded: narrow enough that
    # m x moves g's argument by about 1 across one (wider pieces straddle g's singularities)
    x_balls = _pieces(x_span, min(MAX_PIECES, max(STRIP_COVER, math.ceil(
        float((2 * slope * x_span).upper())))))
    # t: the inner rule at every real x, its error bounded on pieces of x's range
    f_mass = _edge_integral(f_size, x_span, arb(0))  # int |f| e^(-x^2/2q1) dx, roughly
    if f_mass is None:
        return None

    def t_strip(a: arb):
        span = reach(width, a)
        if not holomorphic(g, slope * x_span + s * span, s * a):
            return None
        tops = []
        for x in x_balls:
            top = _edge_integral(lambda box, x=x: g_size(acb(x), box), span, a)
            if top is None:
                return None
            tops.append(top)
        biggest = max(tops, key=lambda v: float(v.upper()))
        h = _strip_step(a, 2 * biggest * f_mass, goal)
        return math.ceil(float((span / h).upper())), a, h, tops, span

    best_t = _best_strip(t_widths, t_strip)
    if best_t is None:
        return None
    _count, at, ht, t_tops, _t_span = best_t
    # g's arguments m x_i + s t_j on one lattice: with h_t = (num/den) |m| h_x / s (at most
    # the step chosen above), m x_i + s t_j = (|m| h_x / den)(+-den i + num j), so g is
    # evaluated once per lattice point (a few hundred) instead of once per pair. Not when
    # den would be large (no lattice point is shared) or s is known only roughly (near
    # c = +-1 it comes from a cancellation, and t's nodes would inherit its radius): then g
    # at every pair, at exact nodes.
    lattice = None  # (unit, across, along): g's argument is unit (across i + along j)
    if m.is_zero():
        lattice = (s * ht, 0, 1)
    else:
        num, den = _lattice_ratio(min(float((s * ht / (slope * hx)).lower()), 1e15))
        if den <= 8 and s.rad() < s.mid().abs_lower() * arb(2) ** (16 - ctx.prec):
            ht = num * slope * hx / (den * s)
            lattice = (slope * hx / den, den if m > 0 else -den, num)
    # the ranges: the first side (X = (K + 1/2) h) where the side terms are below the goal
    def t_sides(end: arb) -> list[arb] | None:
        found = []
        for x in x_balls:
            pair = [_side_sup(lambda box, x=x: g_size(acb(x), box), e, at) for e in (-end, end)]
            if any(v is None for v in pair):
                return None
            found.append(pair[0] + pair[1])
        return found

    def x_sides(end: arb) -> arb | None:
        pair = [_side_sup(lambda box: _product(f_size(box), inner_integral_size(box)), e, ax)
                for e in (-end, end)]
        return None if any(v is None for v in pair) else pair[0] + pair[1]

    chosen = _first_side(lambda bits: side(width, at, arb(1), bits), ht, t_sides,
                         lambda sizes: at * max(sizes, key=lambda v: float(v.upper()))
                         * f_mass, goal, room)
    if chosen is None:
        return _SIDES_TOO_CLOSE
    kt, t_end, t_side_sizes = chosen
    chosen = _first_side(lambda bits: side(length, ax, q1, bits), hx, x_sides,
                         lambda size: ax * size, goal, room)
    if chosen is None:
        return _SIDES_TOO_CLOSE
    kx, x_end, x_side_size = chosen
    if (2 * kx + 1) * (2 * kt + 1) > (MAX_PAIRS if lattice is None else MAX_LATTICE_PAIRS):
        return None  # narrow strips (singularities near the axis): panels are cheaper
    t_weights = [(-(j * ht) ** 2 / 2).exp() for j in range(-kt, kt + 1)]  # once per t node
    g_at: dict[int, acb] = {}
    total = acb(0)
    masses = [arb(0)] * len(x_balls)  # sum of |f e^(-x^2/2q1)| at the nodes in each piece
    t_nodes = range(-kt, kt + 1)
    for i in range(-kx, kx + 1):
        x = i * hx
        fx = acb(f(acb(x), params, False)) * (-(x * x) / two_q1).exp()
        row = acb(0)
        if lattice is None:
            for j, weight in zip(t_nodes, t_weights):
                row += g(acb(m * x + s * (j * ht)), params, False) * weight
        else:
            unit, across, along = lattice
            for j, weight in zip(t_nodes, t_weights):
                key = across * i + along * j
                value = g_at.get(key)
                if value is None:
                    value = g_at[key] = acb(g(acb(unit * key), params, False))
                row += value * weight
        total += fx * row
        index = next(k for k, piece in enumerate(x_balls) if piece.contains(x))
        masses[index] += fx.abs_upper()
    total *= hx * ht
    # the inner rule's error at the nodes, weighted by h_x |f e^(-x^2/2q1)|
    damping_t = (2 * arb.pi() * at / ht).exp() - 1
    inner_error = arb(0)
    for mass, top, sides in zip(masses, t_tops, t_side_sizes):
        inner_error += hx * mass * (2 * top / damping_t + at * sides)
    # the outer rule's error on f e^(-x^2/2q1) H(x), H the inner integral over |t| <= t_end
    outer_error = 2 * x_top / ((2 * arb.pi() * ax / hx).exp() - 1) + ax * x_side_size
    error = (inner_error + outer_error).abs_upper()
    if not error.is_finite():
        return None
    return total + acb(arb(0, error), arb(0, error))


def _best_strip(widths: list[arb], strip: Callable[[arb], tuple | None]) -> tuple | None:
    """The strip (a tuple starting with its node count) with the fewest nodes among the
    ``widths`` tried largest first, stopping once the count grows again; None if no width
    gives one."""
    best = None
    for a in widths:
        found = strip(a)
        if found is None:
            continue
        if best is not None and found[0] >= best[0]:
            break
        best = found
    return best


def _first_side(end_at: Callable[[int], arb], h: arb, sides: Callable[[arb], object],
                term: Callable[[object], arb], goal: arb, room: int):
    """(K, X = (K + 1/2) h, the side bounds there) for the first X >= end_at(bits), bits =
    0, 16, 32, 64, ... up to ``room``, whose side term is at most the goal; None if none
    is."""
    for bits in [0] + [16 * 2 ** k for k in range(room.bit_length()) if 16 * 2 ** k <= room]:
        count = math.ceil(float((end_at(bits) / h).upper()) - 0.5)
        end = (count + arb(1) / 2) * h
        found = sides(end)
        if found is not None and term(found) <= goal:
            return count, end, found
    return None


def _strip_widths(scales: list[float], widest: float) -> list[arb]:
    """The strip half-widths to try: STRIP_WIDTHS times each scale up to ``widest``, largest
    first, exact numbers, near-repeats (within 15 %) once."""
    widths = sorted({w * c for w in STRIP_WIDTHS for c in scales if 0 < w * c <= widest},
                    reverse=True)
    kept: list[float] = []
    for w in widths:
        if not kept or w < kept[-1] / 1.15:
            kept.append(w)
    return [exact_ball(mpmath.mpf(w)) for w in kept]


def _lattice_ratio(limit: float) -> tuple[int, int]:
    """(num, den), den <= 8, the largest num/den <= ``limit`` (1/den when limit < 1/8, den
    as large as needed)."""
    best = None
    for den in range(1, 9):
        num = math.floor(limit * den)
        if num >= 1 and (best is None or num * best[1] > best[0] * den):
            best = (num, den)
    return best if best is not None else (1, math.ceil(1 / limit))


def _product(first: arb | None, second: arb | None) -> arb | None:
    """first x second; None (not finite) when either is."""
    return None if first is None or second is None else first * second


def _pieces(span: arb, count: int = STRIP_COVER) -> list[arb]:
    """``count`` real balls covering [-span, span] (exact binary ends, each piece the hull
    of its ends, so they overlap only at the ends)."""
    end = math.ceil(float(span.upper()))
    step = math.ceil(2 * end / count * 1024) / 1024   # a multiple of 2^-10: exact ends
    return [arb(-end + j * step).union(arb(-end + (j + 1) * step)) for j in range(count)]


def _finite_on_rectangle(function: Callable[[acb], acb], half_length: arb,
                         height: arb) -> bool:
    """Whether ``function`` gives a finite ball on every box of a cover of [-half_length,
    half_length] x [0, height] (boxes about height wide, at most 4 STRIP_COVER of them, halved
    where not finite, at most STRIP_REFINEMENTS times)."""
    end, top = math.ceil(float(half_length.upper())), float(height.upper())
    if top <= 0:
        return True
    count = max(1, min(STRIP_COVER * 4, math.ceil(2 * end / top)))
    step = 2 * end / count
    work = [(-end + j * step, -end + (j + 1) * step, 0.0, top, 0) for j in range(count)]
    while work:
        x0, x1, y0, y1, depth = work.pop()
        box = acb(arb(x0).union(arb(x1)), arb(y0).union(arb(y1)))
        if acb(function(box)).is_finite():
            continue
        if depth == STRIP_REFINEMENTS:
            return False
        xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
        work += [(x0, xm, y0, ym, depth + 1), (xm, x1, y0, ym, depth + 1),
                 (x0, xm, ym, y1, depth + 1), (xm, x1, ym, y1, depth + 1)]
    return True


def _refined_bounds(size: Callable[[acb], arb | None], pieces: list[arb],
                    box: Callable[[arb], acb]) -> list[tuple[arb, arb]] | None:
    """(piece, a bound of |F| on box(piece)) over ``pieces`` of a segment, a piece halved
    where its bound is not finite (at most STRIP_REFINEMENTS times); None if that does not
    help. ``size`` bounds |F| on a ball (None where not finite)."""
    found = []
    work = [(piece, 0) for piece in pieces]
    while work:
        piece, depth = work.pop()
        bound = size(box(piece))
        if bound is not None and bound.is_finite():
            found.append((piece, bound))
            continue
        if depth == STRIP_REFINEMENTS:
            return None
        middle = arb(piece.mid())
        work += [(piece.lower().union(middle), depth + 1),
                 (middle.union(piece.upper()), depth + 1)]
    return found


def _edge_integral(size: Callable[[acb], arb | None], half_length: arb,
                   height: arb) -> arb | None:
    """An upper bound of int_(-half_length)^half_length |F(x + i height)| dx (None where the
    balls stay non-finite)."""
    found = _refined_bounds(size, _pieces(half_length), lambda piece: acb(piece, height))
    return None if found is None else _integral_of(found)


def _integral_of(found: list[tuple[arb, arb]]) -> arb:
    """sum of length x bound over (piece, bound on it) pairs."""
    return sum((2 * piece.rad() * bound for piece, bound in found), arb(0))


def _side_sup(size: Callable[[acb], arb | None], end: arb, height: arb) -> arb | None:
    """An upper bound of |F(end + i y)| for 0 <= y <= height (None where the balls stay
    non-finite): the vertical side of a strip's rectangle, in pieces."""
    top = float(height.upper())
    pieces = [arb(top * j / 8).union(arb(top * (j + 1) / 8)) for j in range(8)]
    found = _refined_bounds(size, pieces, lambda piece: acb(end, piece))
    if found is None:
        return None
    return max((bound for _piece, bound in found), key=lambda v: float(v.upper()))


def _strip_step(a: arb, size: arb, goal: arb) -> arb:
    """The node spacing h <= 1 with size/(e^(2 pi a/h) - 1) <= goal, an exact number."""
    need = (1 + size / goal).log()
    h = 2 * arb.pi() * a / need
    h = float(h.lower()) * 0.999
    return exact_ball(mpmath.mpf(min(h, 1.0)))


def _moment_bound(q: arb, k: arb, b: arb) -> arb:
    """An upper bound on E[(1 + |u|)^k e^(b|u|)], u ~ N(0, q): by Cauchy-Schwarz,
    E[(1 + |u|)^(2k)] <= 4^k (1 + E|u|^(2k)) with E|u|^(2k) = (2q)^k Gamma(k + 1/2)/sqrt(pi),
    and E[e^(2b|u|)] <= 2 E[e^(2bu)] = 2 e^(2 b^2 q)."""
    moment = arb(4) ** k * (1 + (2 * q) ** k * (k + arb(1) / 2).gamma() / arb.const_sqrt_pi())
    return (moment * 2 * (2 * b * b * q).exp()).sqrt().abs_upper()


def _real_roots(coefficients: list[arb]) -> list[arb]:
    """The real roots of c0 + c1 x (+ c2 x^2), balls; _Undecided when the balls cannot tell
    the degree or whether the roots are real."""
    if len(coefficients) == 3 and not coefficients[2].is_zero():
        c0, c1, c2 = coefficients
        if c2.contains(0):
            raise _Undecided("the degree of a kink's condition")
        disc = c1 * c1 - 4 * c2 * c0
        if disc < 0:
            return []
        if disc.is_zero():
            return [-c1 / (2 * c2)]
        if not disc > 0:
            raise _Undecided("whether a kink's condition has real roots")
        root = disc.sqrt()
        return [(-c1 - root) / (2 * c2), (-c1 + root) / (2 * c2)]
    c0, c1 = coefficients[0], coefficients[1] if len(coefficients) > 1 else arb(0)
    if c1.is_zero():
        return []
    if c1.contains(0):
        raise _Undecided("the slope of a kink's condition")
    return [-c0 / c1]


def _excerpt(expr: sp.Basic, limit: int = 100) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------------------------
# Evaluation to a target
# ------------------------------------------------------------------------------------------
def target_bits(dps: int) -> int:
    return math.ceil(dps * math.log2(10))


def max_working_bits(dps: int) -> int:
    """The effort cap: the most working precision spent on one value."""
    return 2 * target_bits(dps) + 2048


#: The most digits a two-variable expectation is enclosed to (product rules: the node count
#: grows like the digits squared).
MAX_DPS_TWO_VARIABLES = 100


def max_integral_bits(dps: int) -> int:
    """The effort cap for expressions holding Gaussian expectations: each attempt integrates
    at the working precision (seconds at a thousand digits), so the cap is lower than for
    closed forms: 2 x the target's bits + 256 (77 digits of cancellation)."""
    return 2 * target_bits(dps) + 256


def _meets(value: arb, dps: int) -> bool:
    if value.is_exact():
        return True
    threshold = (value.abs_lower() / (2 * arb(10) ** dps)).lower()
    return value.rad() <= threshold


def _grown_bits(bits: int, accuracy_bits: int, dps: int) -> int | None:
    """The next working precision when a try at ``bits`` kept ``accuracy_bits`` relative
    bits: the bits lost to cancellation made up at once (None: no estimate, double)."""
    short = target_bits(dps) + 8 - accuracy_bits
    return bits + short + 32 if 0 < short < bits else None


#: A composed value whose ball still holds 0 at this many times the target's bits is taken
#: for a zero that rounding cannot resolve (e.g. by symmetry), not for deeper cancellation:
#: the search stops there instead of at the effort cap (minutes for a depth recursion).
ZERO_BITS_FACTOR = 2


def _maybe_zero(what: str, dps: int, bits: int, best: Enclosure) -> PrecisionError:
    error = PrecisionError(
        f"{what}: the value is proven to lie within {mpmath.nstr(best.rad, 3)} of 0 at {bits} "
        f"working bits, which gives no relative digits (wanted {dps}); it may be exactly 0 "
        f"(by a symmetry of the inputs), which an enclosure cannot prove")
    error.best, error.proven_digits = best, 0
    return error


def _not_proven(what: str, dps: int, cap: int, best: Enclosure | None,
                undecided: str) -> PrecisionError:
    """The error when the effort cap is reached short of ``dps`` proven digits."""
    proven = 0 if best is None else int(best.digits)
    detail = (f"; best enclosure {best!r}" if best is not None
              else f" ({undecided} at every precision)" if undecided else "")
    error = PrecisionError(
        f"{what}: only {proven} digits are proven (wanted {dps}) within the maximum working "
        f"precision of {cap} bits{detail}")
    # for callers that ask for a few guard digits (Law.evaluate): what was proven after all
    error.best, error.proven_digits = best, proven
    return error


def enclose(expr: sp.Expr, variables: Sequence[sp.Symbol], values: Sequence[object],
            dps: int, what: str = "the value", start_bits: int | None = None) -> Enclosure:
    """A proven enclosure of ``expr`` at ``variables`` = ``values`` (exact numbers: ints,
    Fractions, floats or mpmath numbers by their binary value, SymPy numbers; or Enclosures,
    taken as balls) with rad <= 10^-dps |v|_min / 2.

    Raises NotEnclosable for an expression outside the translator, InvalidValueError for a
    value that is not real or not finite, PrecisionError (with the digits proven) when the
    cap ``max_working_bits(dps)`` (``max_integral_bits(dps)`` for an expression holding an
    expectation) is reached first."""
    if dps > MAX_DPS_TWO_VARIABLES and any(e.dimension == 2 for e in expr.atoms(Expectation)):
        raise NotEnclosable(f"{what}: two-variable expectations are enclosed to at most "
                            f"{MAX_DPS_TWO_VARIABLES} digits (product rules: the node count grows "
                            f"like the square of the digits)")
    program = compile_ball(expr, variables)
    cap = max_integral_bits(dps) if expr.has(Expectation) else max_working_bits(dps)
    bits = start_bits or target_bits(dps) + 32
    best: Enclosure | None = None
    undecided = ""
    grown = None
    infinite = False  # some attempt gave an infinite or undefined ball
    inexact = any(isinstance(v, Enclosure) and v.rad != 0 for v in values)
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
                    if inexact and best is not None and found.digits <= best.digits:
                        # an input ball's own radius limits the result: more working
                        # precision cannot help
                        raise PrecisionError(
                            f"{what}: only {int(best.digits)} digits are proven (wanted {dps}): "
                            f"the radius of an input ball limits the result; give the input "
                            f"more digits (best enclosure {best!r})")
                    if best is None or found.digits >= best.digits:
                        best = found
                    grown = _grown_bits(bits, value.rel_accuracy_bits(), dps)
                else:
                    infinite = True
        if bits >= cap:
            break
        bits, grown = max(grown, bits + 32) if grown else 2 * bits, None
    if best is None and infinite and not undecided:
        raise InvalidValueError(f"{what} is infinite or undefined at these values (no finite "
                                f"enclosure at any working precision up to {cap} bits)")
    raise _not_proven(what, dps, cap, best, undecided)


def enclose_computation(compute: Callable[[], Sequence[Ball]], dps: int, what: str,
                        integrals: bool = True) -> list[Enclosure]:
    """Proven enclosures of values computed in ball arithmetic by ``compute()`` (called
    inside ``ctx.workprec``, e.g. a recursion over depth composed of enclosed laws), each with
    rad <= 10^-dps |v| / 2: the working precision doubles from the target's bits + 32 until
    every radius meets it, up to ``max_integral_bits(dps)`` (``max_working_bits`` when the
    computation holds no integrals). PrecisionError with the digits proven otherwise (of the
    least precise value)."""
    cap = max_integral_bits(dps) if integrals else max_working_bits(dps)
    bits, best, undecided, grown = target_bits(dps) + 32, None, "", None
    while True:
        bits = min(bits, cap)
        with ctx.workprec(bits):
            try:
                values = [_real_part(v, what) for v in compute()]
            except _Undecided as straddle:
                undecided = str(straddle)
            else:
                if all(v.is_finite() for v in values):
                    if all(_meets(v, dps) for v in values):
                        return [_ball_to_enclosure(v) for v in values]
                    found = min((_ball_to_enclosure(v) for v in values),
                                key=lambda e: e.digits)
                    if best is None or found.digits >= best.digits:
                        best = found
                    if bits >= ZERO_BITS_FACTOR * target_bits(dps) and \
                            any(v.contains(0) and not _meets(v, dps) for v in values):
                        raise _maybe_zero(what, dps, bits, best)
                    # by the shortfall, not doubling (which proved 155 digits of a depth-30
                    # recursion asked for 30)
                    grown = _grown_bits(bits, min(v.rel_accuracy_bits() for v in values), dps)
        if bits >= cap:
            break
        bits, grown = max(grown, bits + 32) if grown else 2 * bits, None
    raise _not_proven(what, dps, cap, best, undecided)


def ball_function(expr: sp.Expr, variables: Sequence[sp.Symbol],
                  what: str) -> Callable[[Sequence[Ball]], arb]:
    """``expr`` as a function of balls for ``variables`` (in order) returning a real ball at
    the current working precision (an imaginary part that cannot be 0 is an error)."""
    program = compile_ball(expr, variables)
    return lambda balls: _real_part(program(list(balls)), what)


# ------------------------------------------------------------------------------------------
# Roots and fixed points: an interval Newton (Krawczyk) step on the enclosed function
# ------------------------------------------------------------------------------------------
#: Krawczyk refinements at one working precision (each roughly doubles the digits).
MAX_KRAWCZYK_STEPS = 40


def enclose_root(expr: sp.Expr, variable: sp.Symbol, variables: Sequence[sp.Symbol],
                 values: Sequence[object], near: object, dps: int,
                 slope_expr: sp.Expr | None = None, what: str = "the root") -> Enclosure:
    """A proven enclosure of the simple root x* of F = ``expr`` in ``variable`` (the other
    ``variables`` at ``values``; the entry of ``values`` for ``variable`` itself is ignored)
    near the approximation ``near``, with rad <= 10^-dps |x*| / 2. ``slope_expr`` is F'
    (default: SymPy's derivative, which goes through the heat equation for an expectation in
    the variance).

    Krawczyk's test: with a point x0, y ~ 1/F'(x0) and a ball X around x0,
    K = x0 - y F(x0) + (1 - y F'(X)) (X - x0), all in ball arithmetic with F'(X) enclosing the
    slope over the whole ball. K inside the interior of X proves that X holds exactly one
    root, and that it lies in K (by the mean value theorem K holds every root in X; the
    contraction 1 - y F' gives existence and uniqueness). x0 is then moved to K's midpoint and
    the step repeated, each roughly doubling the digits. A slope F' = 0 at the point (a double
    root: a bifurcation, criticality) cannot be proven this way: NotEnclosable says so.
    Raises PrecisionError with the digits proven when the effort cap is reached first."""
    variables = tuple(variables)
    index = variables.index(variable)
    f = compile_ball(expr, variables)
    df = compile_ball(slope_expr if slope_expr is not None else sp.diff(expr, variable),
                      variables)
    inputs = list(values)
    cap = max_integral_bits(dps) if expr.has(Expectation) else max_working_bits(dps)
    bits = target_bits(dps) + 32
    best: Enclosure | None = None
    while True:
        bits = min(bits, cap)
        with ctx.workprec(bits):
            try:
                found = _krawczyk(f, df, index, inputs, exact_ball(near), dps, what)
            except _Undecided:
                found = None
            if found is not None:
                enclosure = _ball_to_enclosure(found)
                if _meets(found, dps):
                    return enclosure
                if best is None or enclosure.digits >= best.digits:
                    best = enclosure
                near = enclosure.mid
        if bits >= cap:
            break
        bits *= 2
    proven = 0 if best is None else int(best.digits)
    detail = f"; best enclosure {best!r}" if best is not None else ""
    raise PrecisionError(f"{what}: only {proven} digits are proven (wanted {dps}) within the "
                         f"maximum working precision of {cap} bits{detail}")


def enclose_fixed_point(map_expr: sp.Expr, variable: sp.Symbol,
                        variables: Sequence[sp.Symbol], values: Sequence[object],
                        near: object, dps: int, slope_expr: sp.Expr | None = None,
                        what: str = "the fixed point") -> Enclosure:
    """A proven enclosure of the fixed point x* = g(x*) of the map g = ``map_expr`` in
    ``variable`` near ``near``: the root of g(x) - x by :func:`enclose_root`. ``slope_expr``
    is g' (give the engine's derived slope law where one exists, e.g. length_map_slope); a
    slope g' = 1 at the point is criticality, refused."""
    slope = sp.diff(map_expr, variable) if slope_expr is None else slope_expr
    return enclose_root(map_expr - variable, variable, variables, values, near, dps,
                        slope_expr=slope - 1, what=what)


def _krawczyk(f: Program, df: Program, index: int, inputs: list, x0: arb, dps: int,
              what: str) -> arb | None:
    """The tightest proven ball around the root reached from x0 at this precision, or None
    when no Krawczyk step succeeded."""
    def at(program, x):
        balls = [x if i == index else exact_ball(v) for i, v in enumerate(inputs)]
        return _real_part(program(balls), what)

    proven = None
    for _step in range(MAX_KRAWCZYK_STEPS):
        residual = at(f, x0)
        slope = at(df, x0)
        if slope.contains(0):
            raise NotEnclosable(f"{what}: the slope at the point is 0 within its ball (a "
                                f"double root: for a fixed point, a map with slope 1, i.e. "
                                f"criticality): the interval Newton step cannot prove it")
        y = arb((1 / slope).mid())
        radius = 2 * (y * residual).abs_upper() + x0.abs_upper() * arb(2) ** (8 - ctx.prec)
        for _widen in range(6):
            box = x0 + arb(0, radius)
            k = x0 - y * residual + (1 - y * at(df, box)) * (box - x0)
            if box.contains_interior(k):
                break
            radius *= 8
        else:
            return proven
        # (not intersected with the last K: each box proves its own root, the same one only
        # if the boxes are nested)
        proven = k
        if _meets(proven, dps) or k.rad() >= box.rad() / 2:
            return proven  # the target, or no more progress at this precision
        x0 = arb(proven.mid())
    return proven
