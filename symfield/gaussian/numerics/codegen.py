"""Derived laws as standalone source code: C, numpy, JAX and PyTorch.

A law is exported from the same float64 form ``Law.to_numpy`` evaluates (``compile.py``):
the closed form after the float64-only rewrites (arcsines as atan2 of a factored gap,
radicands clamped at 0, exp(a) erfc(b) pairs as erfcx, exp(a) - 1 as expm1), with the exact
Taylor series at the ends of an arcsine's range (``angles.py``), and each Faddeeva pole
series summed like ``series.py`` sums it in float64:

* head terms k < k0 = ceil(13.75/beta - 1/2) one by one: A(K) + B(K) erfcx(beta K), or
  from y = beta K >= 1.5 on P(K) + B(K) R_n(y) where its pieces are smaller. R_n, erfcx
  minus its first n asymptotic terms, is never formed as that difference (which cancels for
  moderate y, the main loss of ``series.py``'s float64 sum): repeated integration by parts
  of erfc gives R_n(y) = (-1)^n (2n-1)!!/(2^(n-1) sqrt(pi)) J_n(y) with
  J_n(y) = (1/2y) int_0^oo exp(-u - (u/2y)^2) (y + u/2y)^(-2n) du, a positive integrand,
  integrated by Gauss-Legendre on [0, 44] (5 panels of 16 nodes: measured <= 1.5e-15
  relative against mpmath for n <= 7, 1.5 <= y <= 14; the cut at u = 44 leaves < 1e-19);
* from y > 10 on, and in the tail K >= k0 + 1/2 (y >= 13.75), P(K) + B(K) R_n(y) as one
  Laurent polynomial in K: the 40-term expansion of R_n combined with P *exactly*
  (``series.analyse``: the coefficients of each power of K are summed symbolically, so the
  pieces that cancel between P and B R_n never meet in float64); the tail sums each power
  to a Hurwitz zeta value (Euler-Maclaurin, 10 Bernoulli corrections). The expansion of
  erfcx alternates, so its truncation error is below the first omitted term:
  (2N-1)!!/(2y^2)^N with N = n + 40 <= 47, below 1e-36 relative to B R_n at y >= 10.

**Stated accuracy of an exported pole series: 5e-14 relative** (``SERIES_TOLERANCE``), or NaN.
The rounding error is estimated at run time as ROUNDING_PER_CANCELLATION (4e-15) times the
cancellation of the sum (the sum of its pieces' magnitudes / |sum|, at least 1) times the
condition number of the law in the series (measured by shifting the series by 2^-20: chi0 =
1 - S cancels at small q). The ratio of the actual error to cancellation x condition was at
most 2.9e-15 on 800 points (20 tanh and sigmoid laws, 0.02 <= q <= 200, against 20-digit
Law.evaluate) with the largest piece in place of the sum; the sum is needed where the pieces
decay slowly over many head terms: SiLU's domino law at q = 1e4 was 6.4e-14 off with an
estimate of 4.4e-14 from the largest piece (7.6e-13 from the sum: the quadrature serves it,
2e-16 off).
Where the estimate exceeds the stated accuracy (C: or more than ``MAX_HEAD_TERMS`` head
terms would be needed, q > 2.6e10 for tanh; the Python modules raise ValueError there) the
exported function computes the law's definition by quadrature instead (below), and returns NaN (C: and sets errno = EDOM) only where that estimate too exceeds it:
never a value with fewer digits. The sum cancels at small and moderate variances (the
coefficients grow like a power of 1/q), so the series alone returns values (sigma_w in
[0.5, 2]) for tanh, the length and activity maps at every q tested
(q >= 0.02), chi1, the metric law and the backward order parameter from q ~ 0.04, chi0 and
the domino law from q ~ 0.1, chi_parallel and derivative_moment2 from q ~ 0.2, the
curvature map and chi2 from q ~ 0.35-0.5, derivative_moment3 from q ~ 1.2; for sigmoid,
chi0 and the length map at every q, chi1 except a few points below q ~ 0.3, chi2 from
q ~ 1.7, derivative_moment3 and chi_parallel NaN for about half of the q in [0.1, 10].
At large variances the exactly combined coefficients hold powers of q up to q^40, which
overflow float64: the exported tanh chi1 and chi2 return NaN from q ~ 1e7 on, chi0 from
q ~ 3e7, sigmoid chi0 from q ~ 1e8 (values below those were checked against 20 digits).
The quadrature below covers those points up to variances of about 3e7 (tanh's chi2) to 1e8.

The support code (erfcx, the Hurwitz zeta function by Euler-Maclaurin, the pole-series sum)
is written out in each generated file, so the output needs nothing from symfield: C needs
<math.h> (erf, erfc, exp, ...), numpy output needs numpy (and scipy.special for erf/erfc
when the law has them, with a pure-Python fallback), JAX and PyTorch output need their
library and say so in one line when it is missing.

**Where a series' estimate exceeds the stated accuracy** (it cancels at small variances:
chi0 of tanh from q ~ 0.06 down, sigmoid's chi_parallel for q in [0.05, 6]), the exported
code computes the law's *definition* instead (every exported pole-series law of tanh,
sigmoid, SiLU and softplus is a function of one-variable centred Gaussian expectations
E[f(x)], x ~ N(0, v)): each expectation as (1/sqrt(pi)) int exp(-t^2) f(sqrt(2v) t) dt by
the trapezoidal rule on |t| <= 7, which converges geometrically for integrands analytic in
a strip (the poles of tanh and the logistic are pi/2 and pi off the real axis in x). The
first grid has nodes at most 1 apart in x, then the step is halved at least twice and
until the change of the last halving is below QUADRATURE_ROUNDING x sum |w f|; that change
plus the rounding term is the expectation's error estimate, and times the law's condition
number in it (the same 2^-20 shift as for the series) it must be below SERIES_TOLERANCE, or
the value is NaN. The integrands are the float64 forms ``to_numpy`` integrates
(exp(m a)/(exp(a) + 1)^k as logistic powers), with c - c tanh(a)^2 as c/cosh(a)^2 (the
difference loses every digit where tanh rounds to 1). Measured (tests/test_export.py): 25
variances 1e-8 <= q <= 1e4 for the series laws of tanh, sigmoid, softplus and SiLU, all
finite, within 2e-13 of Law.to_numpy and within 5e-14 of 30-digit values where checked.
Near a pole of a law (the curvature fixed point as chi1 -> 1) its condition number in its
expectations exceeds SERIES_TOLERANCE / QUADRATURE_ROUNDING = 50 and no float64 value has
the stated accuracy: NaN there, as the series alone gives (Law.to_numpy returns a value
good to a few ulps times that condition number).

Laws without a closed form or a pole series (exact unevaluated expectations, the Mehler
series of the two-input tanh kernels) and the depth recursions (nngp, ntk, the finite-width
laws) cannot be exported: ``export`` raises InvalidValueError naming the law, the
activation and the reason.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import sympy as sp

from ...errors import InvalidValueError, UnknownNameError, quoted
from ...expectation import Expectation
from ..faddeeva import faddeeva, tanh_moment
from ..simplify import merge_series
from . import angles
from .compile import (_clamp_radicands, _stable_angles, _stable_exponentials,
                      _stable_integrand)
from .series import SeriesShapeError, analyse

#: Languages ``export`` writes.
LANGUAGES = ("c", "numpy", "jax", "torch")
#: Largest estimated relative error an exported pole series returns a value for.
SERIES_TOLERANCE = 5e-14
#: Head terms of a pole series beyond which the exported code returns NaN (variance too large).
MAX_HEAD_TERMS = 1_000_000
#: Head terms beyond which the exported Python modules compute the law by quadrature instead
#: of the series when it has that fallback (their head terms are a Python loop: 2000 terms,
#: tanh at q ~ 1e5, take ~0.5 s; the quadrature ~0.01 s).
PYTHON_HEAD_TERMS = 2000
#: y from which a head term is the exactly combined 40-term expansion in K (module
#: documentation: at y = 7 its truncation error reached 5e-10 of derivative_moment3's small
#: value for sigmoid; at y >= 10 it is below 1e-36 of the B R_n piece).
ASYMPTOTIC_Y = 10.0
#: The SymPy name of the float64-only arcsine difference (``angles``).
_ASIN_DIFFERENCE = angles._asin_difference.__name__
#: Below this y = beta K a head term is A(K) + B(K) erfcx(y); from it on P(K) + B(K) R_n(y).
NEAR_Y = 1.5
#: Largest n (expansion terms folded into P) whose remainder quadrature was validated.
MAX_SUBTRACTED = 7


def _remainder_rule() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Gauss-Legendre nodes and weights on [0, 44] in 5 panels of 16 (R_n's integral)."""
    import numpy as np

    x, w = np.polynomial.legendre.leggauss(16)
    nodes, weights = [], []
    for a, b in ((0, 2), (2, 6), (6, 14), (14, 28), (28, 44)):
        nodes.extend((b - a) / 2 * x + (a + b) / 2)
        weights.extend((b - a) / 2 * w)
    return tuple(float(v) for v in nodes), tuple(float(v) for v in weights)


REMAINDER_NODES, REMAINDER_WEIGHTS = _remainder_rule()
#: Relative shift of a series used to measure the law's condition number in it.
PERTURBATION = sp.Rational(1, 2**20)
#: Rounding error per unit of cancellation (the sum of the pieces' magnitudes / |sum|, at
#: least 1) times condition number of the law in the series: the largest ratio of the actual
#: error to that product (with the largest piece, a smaller measure) on 800 points (20 tanh
#: and sigmoid laws, 0.02 <= q <= 200) was 2.9e-15.
ROUNDING_PER_CANCELLATION = 4e-15


#: The quadrature of the law's definition that stands in for a pole series where the
#: series' error estimate is too large (module documentation): the trapezoidal rule in
#: t = x / sqrt(2 v) on [-CUT, CUT], step STEP / 2^level. The first level's nodes are at
#: most 1 apart in x (the integrands vary on that scale: a coarser first grid can miss a
#: peak of width 1/sqrt(v) in t entirely and 'converge' to 0); the step is then halved (the
#: previous nodes reused) at least MIN_LEVEL times, until the change is below the rounding
#: estimate, and never beyond level MAX_LEVEL (about 29 * 2^16 = 1.9e6 nodes; NaN beyond).
TRAPEZOID_STEP = 0.5
TRAPEZOID_CUT = 7.0
TRAPEZOID_MIN_LEVEL = 2
TRAPEZOID_MAX_LEVEL = 16
#: Rounding error of a quadrature value per unit of sum |weight f| (its cancellation):
#: a few ulps of each integrand value and a compensated (C) or pairwise (numpy) sum.
QUADRATURE_ROUNDING = 1e-15


class ExportError(InvalidValueError):
    """A law that cannot be written as source code (the message says which and why)."""


# ------------------------------------------------------------------------------------------
# What is exported: the law as a plan of float64 pieces
# ------------------------------------------------------------------------------------------
@dataclass
class SeriesPiece:
    """One Faddeeva pole series: beta and the coefficient expressions of A, P, B."""

    placeholder: sp.Symbol
    beta: sp.Expr
    subtracted: int
    a_terms: list          # [(power, expr)]
    p_terms: list          # [(power, expr)], power <= -2
    b_terms: list          # [(power, expr)], power >= 0
    q_terms: list          # [(power, expr)]: P + B R_n expanded in K, combined exactly


@dataclass
class MeanPiece:
    """One expectation of the law's definition, E[f(x)] for x ~ N(0, variance): the
    quadrature that stands in for the pole series where their error estimate is too large."""

    placeholder: sp.Symbol
    x: sp.Symbol
    integrand: sp.Expr      # float64 form (``_stable_integrand``)
    variance: sp.Expr


@dataclass
class EndPiece:
    """The exact Taylor series at one end of an arcsine's range (``angles.EndSeries``)."""

    end: int                     # 0: N = Den (t = atan2(sqrt(gap), N)); 1: N = -Den
    monomials: list              # expressions g_i
    polynomials: list            # float coefficients of t^0, t^1, ... per monomial
    denominator: sp.Expr


@dataclass
class Plan:
    law: str
    activation: str
    function_name: str
    variables: tuple[str, ...]
    symbols: tuple[sp.Symbol, ...]
    value: sp.Expr                          # float64 form, series as placeholders
    series: list[SeriesPiece] = field(default_factory=list)
    angle_num: sp.Expr | None = None        # N of the arcsine near whose ends series apply
    angle_gap: sp.Expr | None = None        # Den^2 - N^2
    ends: list[EndPiece] = field(default_factory=list)
    constant: float | None = None           # a divergent law: +-inf
    summary: str = ""
    fallback: sp.Expr | None = None         # the definition, expectations as placeholders
    means: list[MeanPiece] = field(default_factory=list)


class _imaginary_faddeeva(sp.Function):
    """w(i y) = erfcx(y) for real y (exported code only)."""


def _imaginary_axis(argument: sp.Expr) -> sp.Expr | None:
    """y with argument = i y and y real (w(i y) = erfcx(y)), else None."""
    y = sp.simplify(argument / sp.I)
    return y if y.is_real else None


def _identifier(text: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_") or "custom"
    return name if not name[0].isdigit() else f"a_{name}"


def function_name(law_name: str, activation_name: str) -> str:
    """``symfield_<law>_<activation>``: a C and Python identifier (a formula activation's
    characters outside [0-9A-Za-z_] become underscores)."""
    return f"symfield_{_identifier(law_name)}_{_identifier(activation_name)}"


def _refuse(law, reason: str) -> ExportError:
    return ExportError(f"cannot export {law.name} for {law.activation.name}: {reason}")


def plan(law) -> Plan:
    """The float64 pieces of ``law`` (a ``symfield.laws.Law``), or ExportError saying why the
    law cannot be exported."""
    variables = tuple(law.variables)
    names = tuple(s.name for s in variables)
    # a subclass with its own numerics (a depth recursion, a finite-width law) overrides
    # to_numpy; gaussian never imports laws, so the class hierarchy is asked instead
    if sum("to_numpy" in vars(k) for k in type(law).__mro__) > 1:
        check = getattr(law, "_require_scale_invariance", None)
        if check is not None:
            check()  # its own one-line refusal (ScaleInvariantLaw for a non-homogeneous phi)
        elif "L" in names:
            raise _refuse(law, "it is a recursion over the depth L (its expression is the "
                               "layer-to-layer map); export supports laws that are one "
                               "expression in their variables")
    expr = law.expr
    base = Plan(law=law.name, activation=law.activation.name,
                function_name=function_name(law.name, law.activation.name),
                variables=names, symbols=variables, value=expr)
    if expr.has(Expectation):
        raise _refuse(law, "it is an exact Gaussian expectation with no closed form or pole "
                           "series (evaluate it with Law.evaluate or Law.to_numpy)")
    if expr.has(tanh_moment):
        raise _refuse(law, "it is a Mehler series of Gaussian moments of the activation's "
                           "derivatives, which has no float64 summation to export (evaluate "
                           "it with Law.evaluate or Law.to_numpy)")
    extra = sorted(s.name for s in expr.free_symbols - set(variables))
    if extra:
        raise _refuse(law, f"its expression holds {', '.join(extra)}, which are not variables "
                           f"of the law")
    if expr.xreplace({s: sp.Dummy() for s in expr.atoms(sp.Sum)}).has(sp.oo, -sp.oo, sp.zoo):
        if expr in (sp.oo, -sp.oo):
            base.constant = float(expr)
            base.summary = f"divergent: {expr}"
            return base
        raise _refuse(law, "it is infinite with a sign that depends on the point")
    # Each series as derived; where one alone does not converge (the pieces of a derivative
    # of a series may only converge together), the series merged over their common index.
    shapes = None
    several = len(expr.atoms(sp.Sum)) > 1
    for attempt in ((0, 1) if several else (0,)):
        candidate = merge_series(expr) if attempt else expr
        sums = sorted(candidate.atoms(sp.Sum), key=sp.default_sort_key)
        try:
            shapes = [analyse(s) for s in sums]
        except SeriesShapeError as e:
            problem = str(e)
            continue
        expr = candidate
        break
    if shapes is None:
        raise _refuse(law, f"a series not of the Faddeeva pole shape ({problem})")
    pieces = []
    for i, shape in enumerate(shapes):
        if shape.subtracted > MAX_SUBTRACTED:
            raise _refuse(law, f"its pole series folds {shape.subtracted} expansion terms of "
                               f"erfcx (the exported remainder is validated up to "
                               f"{MAX_SUBTRACTED})")
        pieces.append(SeriesPiece(sp.Dummy(f"sf_S{i}"), shape.beta, shape.subtracted,
                                  list(shape.a_coeffs), list(shape.p_coeffs),
                                  list(shape.b_coeffs), sorted(shape.asymptotic)))
    outer = angles.arcsine_differences(expr.xreplace({s: p.placeholder
                                                      for s, p in zip(sums, pieces)}))
    if outer.has(sp.Sum):
        raise _refuse(law, "a series that is not a Faddeeva pole series")
    for w in outer.atoms(faddeeva):
        y = _imaginary_axis(w.args[0])
        if y is None:
            raise _refuse(law, f"a Faddeeva value off the imaginary axis ({sp.sstr(w)})")
        outer = outer.xreplace({w: _imaginary_faddeeva(y)})
    value = _clamp_radicands(_stable_angles(_stable_exponentials(outer)))
    result = Plan(**{**base.__dict__, "value": value, "series": pieces})
    if not pieces:
        form = angles.angle_form(outer, variables)
        if form is not None and form.needs_series:
            result.angle_num, result.angle_gap = form.num, form.gap
            for end, info in form.ends.items():
                if info["series"] is not None:
                    result.ends.append(_end_piece(end, info["series"]))
    result.summary = ("closed form" if not pieces else
                      f"closed form with {len(pieces)} Faddeeva pole series")
    if pieces:
        result.fallback, result.means = _definition_by_quadrature(law.definition, variables)
        if result.means:
            result.summary += ", its definition by quadrature as the fallback"
    return result


def _sech_squares(expr: sp.Expr) -> sp.Expr:
    """c - c tanh(a)^2 -> c / cosh(a)^2 (float64 only): the difference loses all its digits
    where tanh(a)^2 rounds to 1 (|a| > 19), while the value is tiny but not 0 there."""
    def target(e):
        if not (e.is_Add and len(e.args) == 2):
            return False
        c, other = sorted(e.args, key=lambda a: not a.is_Number)
        if not c.is_Number or c == 0:
            return False
        ratio = other / -c
        return ratio.is_Pow and ratio.exp == 2 and isinstance(ratio.base, sp.tanh)

    def rewrite(e):
        c, other = sorted(e.args, key=lambda a: not a.is_Number)
        return c / sp.cosh((other / -c).base.args[0]) ** 2

    return expr.replace(target, rewrite)


def _definition_by_quadrature(definition: sp.Expr, variables: tuple
                              ) -> tuple[sp.Expr | None, list[MeanPiece]]:
    """The law's definition with each expectation (one centred Gaussian variable, its
    integrand translatable) as a placeholder for the exported trapezoidal quadrature; (None,
    []) when it has another shape (the series then stands alone, NaN where it cancels)."""
    means = sorted(definition.atoms(Expectation), key=sp.default_sort_key)
    if not means:
        return None, []
    pieces = []
    for i, e in enumerate(means):
        if e.dimension != 1 or not e.centred:
            return None, []
        (x,) = e.variables
        integrand = _sech_squares(_stable_integrand(e.integrand))
        if integrand.free_symbols - {x} - set(variables) or integrand.has(
                sp.Sum, Expectation, sp.Integral, sp.Derivative, sp.DiracDelta):
            return None, []
        pieces.append(MeanPiece(sp.Dummy(f"sf_E{i}"), x, integrand, e.covariance[0]))
    outer = definition.xreplace({e: m.placeholder for e, m in zip(means, pieces)})
    if outer.free_symbols - {m.placeholder for m in pieces} - set(variables):
        return None, []
    try:  # every function must have a float64 translation
        for text in (outer, *[m.integrand for m in pieces], *[m.variance for m in pieces]):
            _Emitter("c")(text)
    except ExportError:
        return None, []
    return outer, pieces


def _end_piece(end: int, series: angles.EndSeries) -> EndPiece:
    """The end series as monomials times float polynomials in t (the coefficients
    ``EndSeries.numpy_function`` evaluates)."""
    monomials, coefficients = series.float_coefficients()
    return EndPiece(end, monomials, coefficients, series.denominator)


# ------------------------------------------------------------------------------------------
# Expressions as text
# ------------------------------------------------------------------------------------------
def _float_text(value: float) -> str:
    text = repr(float(value))
    return text if ("." in text or "e" in text or "inf" in text or "nan" in text) else text + ".0"


#: SymPy function -> (C name, Python shim name) in exported code
_FUNCTIONS = {
    "exp": ("exp", "_exp"), "log": ("log", "_log"), "sin": ("sin", "_sin"),
    "cos": ("cos", "_cos"), "tan": ("tan", "_tan"), "sinh": ("sinh", "_sinh"),
    "cosh": ("cosh", "_cosh"), "tanh": ("tanh", "_tanh"), "asin": ("symfield_asin", "_asin"),
    "acos": ("symfield_acos", "_acos"), "atan": ("atan", "_atan"),
    "atan2": ("atan2", "_atan2"), "erf": ("erf", "_erf"), "erfc": ("erfc", "_erfc"),
    "Abs": ("fabs", "_abs"), "sign": ("symfield_sign", "_sign"),
    "_nonnegative": ("symfield_nonnegative", "_nonnegative"),
    "_expm1": ("expm1", "_expm1"), "_expdiff": ("symfield_expdiff", "_expdiff"),
    "_expquad": ("symfield_expquad", "_expquad"),
    "_erfcx": ("symfield_erfcx", "_erfcx"),
    "_imaginary_faddeeva": ("symfield_erfcx", "_erfcx"),
    _ASIN_DIFFERENCE: ("symfield_asin_difference", "_asin_difference"),
    "Heaviside": ("symfield_heaviside", "_heaviside"),
    "Max": ("fmax", "_maximum"), "Min": ("fmin", "_minimum"),
    "_expit": ("symfield_expit", "_expit"), "_log1pexp": ("symfield_log1pexp", "_log1pexp"),
}


class _Emitter:
    """Prints an expression the exporter built, fully parenthesised, in C or in Python (the
    array functions as ``_name``, bound per backend in the generated file)."""


    def __init__(self, language: str):
        self.c = language == "c"
        self.used: set[str] = set()

    def __call__(self, e: sp.Expr) -> str:
        if isinstance(e, sp.Symbol):
            return e.name
        if e is sp.pi:
            return _float_text(math.pi)
        if e is sp.E:
            return _float_text(math.e)
        if e in (sp.oo, -sp.oo):
            return ("INFINITY" if e is sp.oo else "(-INFINITY)") if self.c else \
                ("_inf" if e is sp.oo else "(-_inf)")
        if isinstance(e, sp.Integer):
            return _float_text(int(e)) if self.c else str(int(e))
        if isinstance(e, sp.Rational):
            return f"({_float_text(e.p)}/{_float_text(e.q)})"
        if e.is_number:
            return self._number(e)
        if isinstance(e, sp.Add):
            return "(" + " + ".join(self(a) for a in e.args) + ")"
        if isinstance(e, sp.Mul):
            numbers = [a for a in e.args if a.is_number]
            others = [a for a in e.args if not a.is_number]
            factors = ([self._number(sp.Mul(*numbers))] if numbers else []) + \
                [self(a) for a in others]
            return "(" + "*".join(factors) + ")"
        if isinstance(e, sp.Pow):
            return self._pow(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(list(e.args))
        if isinstance(e, sp.core.relational.Relational):
            return f"({self(e.lhs)} {e.rel_op} {self(e.rhs)})"
        if isinstance(e, sp.Function):
            return self._function(e)
        raise ExportError(f"cannot export the expression {quoted(sp.sstr(e))}: "
                          f"{type(e).__name__} has no translation")

    @staticmethod
    def _number(e: sp.Expr) -> str:
        """A constant (pi^(3/2)/sqrt(2), ...) rounded once from 30 digits."""
        value = sp.N(e, 30)
        if not value.is_real:
            raise ExportError(f"cannot export the constant {quoted(sp.sstr(e))}: not real")
        return _float_text(float(value))

    def _pow(self, e: sp.Pow) -> str:
        base, ex = e.base, e.exp
        if ex == sp.Rational(1, 2):
            self.used.add("sqrt")
            return f"sqrt({self(base)})" if self.c else f"_sqrt({self(base)})"
        if ex == sp.Rational(-1, 2):
            return f"(1.0/sqrt({self(base)}))" if self.c else f"(1.0/_sqrt({self(base)}))"
        if ex.is_Integer and abs(int(ex)) <= 4:
            power = "*".join([f"({self(base)})"] * abs(int(ex)))
            return f"({power})" if ex > 0 else f"(1.0/({power}))"
        if self.c:
            return f"pow({self(base)}, {self(ex)})"
        return f"({self(base)}**{self(ex)})"

    def _piecewise(self, args: list) -> str:
        (value, cond), rest = args[0], args[1:]
        if cond is sp.true or not rest:
            return self(value)
        other = self._piecewise(rest)
        if self.c:
            return f"({self(cond)} ? {self(value)} : {other})"
        self.used.add("where")
        return f"_where({self(cond)}, {self(value)}, {other})"

    def _function(self, e: sp.Function) -> str:
        name = type(e).__name__
        if name == "_imaginary_faddeeva":
            self.used.add("_erfcx")
        if name not in _FUNCTIONS:
            raise ExportError(f"cannot export the function {name}: it has no float64 "
                              f"translation")
        c_name, py_name = _FUNCTIONS[name]
        self.used.add(name)
        args = list(e.args)
        if name == "Heaviside":
            h0 = args[1] if len(args) > 1 else sp.Rational(1, 2)
            args = [args[0], h0]
        if name in ("Max", "Min") and len(args) > 2:
            head = type(e)(*args[:-1], evaluate=False)
            return f"{c_name if self.c else py_name}({self(head)}, {self(args[-1])})"
        return f"{c_name if self.c else py_name}(" + ", ".join(self(a) for a in args) + ")"


def _assignments(exprs: list[sp.Expr], emit: _Emitter, c: bool, indent: str,
                 prefix: str) -> tuple[list[str], list[str]]:
    """Common subexpressions as local assignments; returns (lines, texts of exprs)."""
    symbols = sp.numbered_symbols(prefix)
    replacements, reduced = sp.cse(exprs, symbols=symbols, optimizations=None)
    lines = []
    for sym, sub in replacements:
        text = emit(sub)
        lines.append(f"{indent}const double {sym.name} = {text};" if c
                     else f"{indent}{sym.name} = {text}")
    return lines, [emit(r) for r in reduced]


# ------------------------------------------------------------------------------------------
# C
# ------------------------------------------------------------------------------------------
_C_SUPPORT = r"""
/* erfcx(y) = exp(y^2) erfc(y) = w(iy): exp of y^2 split into its float64 rounding and the
   exact remainder (no y^2 u error in the exponent), erfc from <math.h> (any y < 25; it
   overflows, as the value does, below y ~ -26.6); for y >= 25 the asymptotic series (8 terms:
   the first omitted one is below 3e-19 relative). */
static double symfield_erfcx(double y) {
    if (y < 25.0) {
        double hi = y * y, lo = fma(y, y, -hi);
        return exp(hi) * (1.0 + lo) * erfc(y);
    }
    double inv2 = 1.0 / (2.0 * y * y), term = 1.0, total = 1.0;
    for (int i = 1; i <= 8; i++) { term *= -(2.0 * i - 1.0) * inv2; total += term; }
    return total / (y * 1.7724538509055160273);
}

/* Hurwitz zeta(s, a) for integer s >= 2, a > 0: Euler-Maclaurin with N = max(0, 12 - a)
   terms summed and 10 Bernoulli corrections (the first omitted one is below 1e-18
   relative at a + N >= 12). */
static double symfield_hurwitz_zeta(int s, double a) {
    static const double b2k[10] = {1.0/6, -1.0/30, 1.0/42, -1.0/30, 5.0/66, -691.0/2730,
                                   7.0/6, -3617.0/510, 43867.0/798, -174611.0/330};
    int n = a < 12.0 ? (int)ceil(12.0 - a) : 0;
    double total = 0.0;
    for (int j = n - 1; j >= 0; j--) total += pow(a + j, -s);
    double x = a + n, xp = pow(x, -s - 1.0), poch = s, fact = 2.0;
    total += pow(x, 1.0 - s) / (s - 1.0) + 0.5 * pow(x, -s);
    for (int k = 1; k <= 10; k++) {
        total += b2k[k - 1] / fact * poch * xp;
        poch *= (s + 2.0 * k - 1.0) * (s + 2.0 * k);
        xp /= x * x;
        fact *= (2.0 * k + 1.0) * (2.0 * k + 2.0);
    }
    return total;
}

static double symfield_powi(double x, int p) {
    double r = 1.0, b = p < 0 ? 1.0 / x : x;
    for (int m = p < 0 ? -p : p; m; m >>= 1, b *= b) if (m & 1) r *= b;
    return r;
}

/* R_n(y) = erfcx(y) - sum_{i<n} c_i y^-(2i+1) without cancellation, for y >= 1.5:
   R_n = (-1)^n (2n-1)!!/(2^(n-1) sqrt(pi)) J_n, J_n(y) = e^(y^2) int_y^oo e^(-t^2) t^(-2n) dt
   = (1/2y) int_0^oo exp(-u - (u/2y)^2) (y + u/2y)^(-2n) du (repeated integration by parts of
   erfc), a positive integrand, by Gauss-Legendre on [0, 44] (5 panels of 16 nodes; measured
   <= 1.5e-15 relative for n <= 7, y >= 1.5; the cut at u = 44 leaves < 1e-19). */
static const double symfield_remainder_nodes[%(nodes)d] = {%(node_values)s};
static const double symfield_remainder_weights[%(nodes)d] = {%(weight_values)s};

static double symfield_pole_remainder(int n, double y) {
    double h = 0.5 / y, total = 0.0, prefactor = 1.0 / 1.7724538509055160273;
    for (int i = 1; i <= n; i++) prefactor *= -(2.0 * i - 1.0) / (i == 1 ? 1.0 : 2.0);
    for (int m = 0; m < %(nodes)d; m++) {
        double u = symfield_remainder_nodes[m], v = u * h;
        total += symfield_remainder_weights[m] * exp(-u - v * v) * symfield_powi(y + v, -2 * n);
    }
    return prefactor * total * h;
}

/* The pole series sum_K f(K), K = k + 1/2, f = A(K) + B(K) erfcx(beta K)
   = P(K) + B(K) R_n(beta K) (module documentation). Each coefficient array holds the
   values, then their magnitudes (the sum of the absolute values of the monomials each is
   computed from); *cancellation receives the sum of the pieces' magnitudes over |sum|.
   Returns NAN when more than MAX_HEAD_TERMS head terms are needed. */
static double symfield_pole_series(double beta, int n,
                                   int na, const int *pa, const double *a,
                                   int np_, const int *pp, const double *p,
                                   int nb, const int *pb, const double *b,
                                   int nq, const int *pq, const double *q,
                                   double *cancellation) {
    const double y_needed = 13.746994684567446;
    double k0f = ceil(y_needed / beta - 0.5);
    if (!(k0f <= %(max_head)d.0)) { *cancellation = INFINITY; return NAN; }
    long k0 = k0f > 0 ? (long)k0f : 0;
    double total = 0.0, largest = 0.0;
    for (long k = 0; k < k0; k++) {
        double K = k + 0.5, y = beta * K, bk = 0.0, bkm = 0.0, term, size;
        for (int j = 0; j < nb; j++) {
            double w = symfield_powi(K, pb[j]);
            bk += b[j] * w; bkm += b[nb + j] * w;
        }
        /* the direct form A + B erfcx; beyond NEAR_Y also the split form P + B R_n, and
           the term is taken from whichever has the smaller pieces (both are exact) */
        double ak = 0.0, akm = 0.0, e = symfield_erfcx(y);
        for (int j = 0; j < na; j++) {
            double w = symfield_powi(K, pa[j]);
            ak += a[j] * w; akm += a[na + j] * w;
        }
        term = ak + bk * e;
        size = fmax(akm, bkm * e);
        if (y >= %(near_y)r) {
            double split = 0.0, ssize = 0.0;
            if (y > %(asymptotic_y)r) {  /* the exactly combined expansion in K */
                for (int j = 0; j < nq; j++) {
                    double w = symfield_powi(K, pq[j]);
                    split += q[j] * w; ssize = fmax(ssize, q[nq + j] * w);
                }
            } else {
                double r = symfield_pole_remainder(n, y);
                for (int j = 0; j < np_; j++) {
                    double w = symfield_powi(K, pp[j]);
                    split += p[j] * w; ssize = fmax(ssize, p[np_ + j] * w);
                }
                split += bk * r;
                ssize = fmax(ssize, bkm * fabs(r));
            }
            if (ssize < size) { term = split; size = ssize; }
        }
        total += term;
        largest += size;  /* rounding accumulates over every head term, not the largest */
    }
    /* tail: powers of K summed to Hurwitz zeta values from K = k0 + 1/2 */
    double start = k0 + 0.5;
    for (int j = 0; j < nq; j++) {
        double z = symfield_hurwitz_zeta(-pq[j], start);
        total += q[j] * z; largest += fabs(q[nq + j] * z);
    }
    *cancellation = largest / fmax(fabs(total), 1e-300);
    return total;
}
"""

_C_SMALL = {
    "sign": "static double symfield_sign(double x) { return (x > 0) - (x < 0); }",
    "Heaviside": "static double symfield_heaviside(double x, double h0) "
                 "{ return x > 0 ? 1.0 : (x < 0 ? 0.0 : h0); }",
    "_nonnegative": "static double symfield_nonnegative(double x) { return x > 0 ? x : 0.0; }",
    "asin": "static double symfield_asin(double x) "
            "{ return asin(x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x)); }",
    "acos": "static double symfield_acos(double x) "
            "{ return acos(x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x)); }",
    "_expdiff": "/* exp(a) - exp(b) with gap = a - b simplified symbolically */\n"
                "static double symfield_expdiff(double a, double b, double gap) {\n"
                "    return -(gap >= 0 ? 1.0 : -1.0) * exp(fmax(a, b)) * expm1(-fabs(gap));\n}",
    "_expquad": "/* exp(a) - exp(b) - exp(c) + exp(d) = exp(a) expm1(g1) expm1(g2), d - a = "
                "g1 + g2,\n   g1 = b - a and g2 = c - a simplified symbolically */\n"
                "static double symfield_expquad(double a, double d, double g1, double g2) {\n"
                "    return a >= d ? exp(a) * expm1(g1) * expm1(g2)\n"
                "                  : exp(d) * expm1(-g1) * expm1(-g2);\n}",
    "_expit": "/* exp(a)/(1 + exp(a)) without inf/inf */\n"
              "static double symfield_expit(double a) {\n"
              "    return a >= 0 ? 1.0 / (1.0 + exp(-a)) : exp(a) / (1.0 + exp(a));\n}",
    "_log1pexp": "/* log(1 + exp(a)) without overflow */\n"
                 "static double symfield_log1pexp(double a) {\n"
                 "    return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a));\n}",
    _ASIN_DIFFERENCE:
        "/* asin(x) - asin(y) as one angle, d = x - y computed symbolically */\n"
        "static double symfield_asin_difference(double x, double y, double d, double rx, "
        "double ry) {\n"
        "    double s = x * y > 0 ? d * (x + y) / (x * ry + y * rx) : x * ry - y * rx;\n"
        "    return atan2(s, rx * ry + x * y);\n}",
}


def _guarded(name: str, text: str) -> str:
    """Support code defined once when several exported laws share a translation unit."""
    return f"#ifndef SYMFIELD_SUPPORT_{name}\n#define SYMFIELD_SUPPORT_{name}\n{text}\n#endif"


def to_c(p: Plan) -> str:
    """C source: one ``double symfield_<law>_<activation>(double ...)`` and its support."""
    emit = _Emitter("c")
    args = ", ".join(f"double {v}" for v in p.variables) or "void"
    # a law constant in some variables leaves them unused (-Wextra would say so)
    body: list[str] = [f"    (void){v};" for v in p.variables]
    if p.constant is not None:
        body.append(f"    return {'INFINITY' if p.constant > 0 else '-INFINITY'};")
    else:
        body.extend(_c_series(p, emit))
        lines, (value, *perturbed) = _assignments([p.value, *_perturbed(p)], emit, True,
                                                  "    ", "sf_v")
        body.extend(lines)
        body.append(f"    double sf_value = {value};")
        for i, text in enumerate(perturbed):
            # the estimated error of the series, times its condition number in the law
            body.append(f"    const double sf_shift{i} = fabs(({text}) - sf_value);")
            body.append(f"    const double sf_error{i} = {ROUNDING_PER_CANCELLATION!r} * "
                        f"fmax(sf_cancel{i}, 1.0) * (sf_shift{i} == 0.0 ? 0.0 : sf_shift{i} / "
                        f"({_float_text(PERTURBATION)} * fabs(sf_value)));")
            # where the series would lose digits: the definition by quadrature, else NaN
            refuse = (f"return {p.function_name}_by_definition("
                      f"{', '.join(p.variables)});" if p.means else "errno = EDOM; return NAN;")
            body.append(f"    if (!(sf_error{i} <= {SERIES_TOLERANCE!r})) {{ {refuse} }}")
        body.extend(_c_ends(p, emit))
        body.append("    return sf_value;")
    support = []
    big = _C_SUPPORT.replace("%(max_head)d", str(MAX_HEAD_TERMS)) \
        .replace("%(near_y)r", repr(NEAR_Y)).replace("%(nodes)d", str(len(REMAINDER_NODES))) \
        .replace("%(node_values)s", ", ".join(map(_float_text, REMAINDER_NODES))) \
        .replace("%(weight_values)s", ", ".join(map(_float_text, REMAINDER_WEIGHTS))) \
        .replace("%(asymptotic_y)r", repr(ASYMPTOTIC_Y)) \
        .strip("\n")
    erfcx_part, series_part = big.split("/* Hurwitz")
    if p.series or "_erfcx" in emit.used:
        support.append(_guarded("ERFCX", erfcx_part.strip("\n")))
    if p.series:
        support.append(_guarded("POLE_SERIES", "/* Hurwitz" + series_part))
    support.extend(_guarded(_identifier(name).upper(), text)
                   for name, text in _C_SMALL.items() if name in emit.used)
    fallback = _c_by_definition(p, emit) if p.means and p.constant is None else []
    if fallback:
        support.append(_guarded("GAUSSIAN_MEAN", _C_GAUSSIAN_MEAN))
        support.extend(_guarded(_identifier(name).upper(), text)
                       for name, text in _C_SMALL.items() if name in emit.used and
                       _guarded(_identifier(name).upper(), text) not in support)
    guard = f"{p.function_name.upper()}_DEFINED"
    return "\n".join([
        _header_comment(p, "/*", " *", " */"),
        "#include <errno.h>", "#include <math.h>", "",
        f"#ifndef {guard}", f"#define {guard}", "",
        *[s + "\n" for s in support], *fallback,
        f"double {p.function_name}({args}) {{", *body, "}", "", "#endif", ""])


_C_GAUSSIAN_MEAN = r"""
/* E[f(x)] for x ~ N(0, v): (1/sqrt(pi)) int exp(-t^2) f(sqrt(2v) t) dt by the trapezoidal
   rule on |t| <= %(cut)r (the cut leaves exp(-%(cut)r^2) ~ 5e-22 times a polynomial), step
   %(step)r / 2^level, a compensated (Neumaier) sum. It converges geometrically for an
   integrand analytic in a strip about the real axis (tanh, sigmoid: their poles are pi/2, pi
   off it in x); the change of the last halving, which bounds the error of the previous
   level, is the error estimate. The first level has nodes at most 1 apart in x (a coarser
   grid can miss the integrand's features, of width 1/sqrt(v) in t); then at least
   %(min_level)d halvings (the previous nodes reused), until the change is below the rounding
   estimate %(rounding)r x sum |w f|, never beyond level %(max_level)d (NaN: *error = inf);
   *error receives change + rounding estimate. */
static void symfield_neumaier(double *sum, double *compensation, double x) {
    double t = *sum + x;
    *compensation += fabs(*sum) >= fabs(x) ? (*sum - t) + x : (x - t) + *sum;
    *sum = t;
}

static double symfield_gaussian_mean(double (*f)(double, const double *), const double *args,
                                     double v, double *error) {
    const double s = sqrt(2.0 * fmax(v, 0.0)), sqrt_pi = 1.7724538509055160273;
    int start = 0;
    double h = %(step)r;
    while (h * s > 1.0 && start <= %(max_level)d) { h *= 0.5; start++; }
    if (!(start + %(min_level)d <= %(max_level)d)) { *error = INFINITY; return NAN; }
    double sum = 0.0, compensation = 0.0, size = 0.0;
    double value = 0.0, previous = 0.0, change = 0.0, scale = 0.0;
    double f0 = f(0.0, args);
    symfield_neumaier(&sum, &compensation, f0);
    size = fabs(f0);
    for (int level = start; level <= %(max_level)d; level++) {
        long first = 1, stride = 1;
        if (level > start) { h *= 0.5; stride = 2; }  /* the new nodes: odd multiples of h */
        for (long j = first; j * h <= %(cut)r; j += stride) {
            double t = j * h, w = exp(-t * t), fp = f(s * t, args), fm = f(-s * t, args);
            symfield_neumaier(&sum, &compensation, w * fp);
            symfield_neumaier(&sum, &compensation, w * fm);
            size += w * (fabs(fp) + fabs(fm));
        }
        value = h * (sum + compensation) / sqrt_pi;
        scale = h * size / sqrt_pi;
        if (level > start) {
            change = fabs(value - previous);
            if (level >= start + %(min_level)d && change <= %(rounding)r * scale) break;
        }
        previous = value;
    }
    *error = change + %(rounding)r * scale;
    return value;
}
""".replace("%(cut)r", repr(TRAPEZOID_CUT)).replace("%(step)r", repr(TRAPEZOID_STEP)) \
    .replace("%(min_level)d", str(TRAPEZOID_MIN_LEVEL)) \
    .replace("%(max_level)d", str(TRAPEZOID_MAX_LEVEL)) \
    .replace("%(rounding)r", repr(QUADRATURE_ROUNDING)).strip("\n")


def _fallback_parts(p: Plan, emit: _Emitter, c: bool, indent: str
                    ) -> tuple[list[str], str, list[str]]:
    """(assignments, the definition's value, its value with each expectation shifted by
    PERTURBATION) with the expectations as their placeholders."""
    shifted = [p.fallback.xreplace({m.placeholder: m.placeholder * (1 + PERTURBATION)})
               for m in p.means]
    lines, (value, *perturbed) = _assignments([p.fallback, *shifted], emit, c, indent, "sf_d")
    return lines, value, perturbed


def _c_by_definition(p: Plan, emit: _Emitter) -> list[str]:
    """The integrands and ``<name>_by_definition``: the law's definition by quadrature."""
    out = []
    unpack = [f"    const double {v} = sf_args[{j}];" for j, v in enumerate(p.variables)]
    unused = [f"    (void){v};" for v in p.variables]
    for i, m in enumerate(p.means):
        out += [f"static double {p.function_name}_mean{i}(double {m.x.name}, "
                f"const double *sf_args) {{", *unpack, *unused,
                f"    return {emit(m.integrand)};", "}", ""]
    args = ", ".join(f"double {v}" for v in p.variables) or "void"
    out += [f"/* {p.law} for {p.activation} by its definition: each expectation by quadrature "
            f"(symfield_gaussian_mean), NaN and errno = EDOM where the estimated error "
            f"exceeds {SERIES_TOLERANCE:g} */",
            f"static double {p.function_name}_by_definition({args}) {{",
            f"    const double sf_args[{max(len(p.variables), 1)}] = "
            f"{{{', '.join(p.variables) or '0.0'}}};", "    (void)sf_args;"]
    for i, m in enumerate(p.means):
        out += [f"    double sf_err{i};",
                f"    const double {m.placeholder.name} = symfield_gaussian_mean("
                f"{p.function_name}_mean{i}, sf_args, {emit(m.variance)}, &sf_err{i});"]
    lines, value, perturbed = _fallback_parts(p, emit, True, "    ")
    out += lines
    out += [f"    const double sf_value = {value};", "    double sf_error = 0.0;"]
    for i, (m, text) in enumerate(zip(p.means, perturbed)):
        # each expectation's estimated relative error times the law's condition number in it
        out += [f"    const double sf_shift{i} = fabs(({text}) - sf_value);",
                f"    sf_error += (sf_shift{i} == 0.0 ? 0.0 : sf_shift{i} / "
                f"({_float_text(PERTURBATION)} * fabs(sf_value))) * (sf_err{i} == 0.0 ? 0.0 : "
                f"sf_err{i} / fabs({m.placeholder.name}));"]
    out += [f"    if (!(sf_error <= {SERIES_TOLERANCE!r})) {{ errno = EDOM; return NAN; }}",
            "    return sf_value;", "}", ""]
    return out


def _magnitude(coefficient: sp.Expr) -> sp.Expr:
    """The sum of the absolute values of the monomials a coefficient is a sum of: its rounding
    error is a few ulps of this, which may be far larger than the coefficient itself."""
    return sp.Add(*[sp.Abs(t, evaluate=False) for t in sp.Add.make_args(coefficient)])


def _perturbed(p: Plan) -> list[sp.Expr]:
    """The law with one series scaled by 1 + PERTURBATION: how much of the series' error
    reaches the law (chi0 = 1 - S cancels where S is close to 1)."""
    return [p.value.xreplace({s.placeholder: s.placeholder * (1 + PERTURBATION)})
            for s in p.series]


def _c_series(p: Plan, emit: _Emitter) -> list[str]:
    out = []
    for i, s in enumerate(p.series):
        groups = (s.a_terms, s.p_terms, s.b_terms, s.q_terms)
        values = [s.beta] + [c for terms in groups for _p, c in terms] + \
            [_magnitude(c) for terms in groups for _p, c in terms]
        lines, texts = _assignments(values, emit, True, "    ", f"sf_s{i}_")
        half = (len(texts) - 1) // 2
        out.extend(lines)
        out.append(f"    const double sf_beta{i} = {texts[0]};")
        pos = 1
        for tag, terms in (("a", s.a_terms), ("p", s.p_terms), ("b", s.b_terms),
                           ("q", s.q_terms)):
            n = len(terms)
            powers = ", ".join(str(int(pw)) for pw, _c in terms) or "0"
            vals = ", ".join(texts[pos:pos + n] + texts[pos + half:pos + half + n]) or "0.0"
            out.append(f"    static const int sf_{tag}pow{i}[{max(n, 1)}] = {{{powers}}};")
            out.append(f"    const double sf_{tag}{i}[{max(2 * n, 1)}] = {{{vals}}};")
            pos += n
        out.append(f"    double sf_cancel{i};")
        out.append(f"    const double {s.placeholder.name} = symfield_pole_series(sf_beta{i}, "
                   f"{s.subtracted}, {len(s.a_terms)}, sf_apow{i}, sf_a{i}, "
                   f"{len(s.p_terms)}, sf_ppow{i}, sf_p{i}, {len(s.b_terms)}, sf_bpow{i}, sf_b{i}, "
                   f"{len(s.q_terms)}, sf_qpow{i}, sf_q{i}, "
                   f"&sf_cancel{i});")
    return out


def _end_value(end: EndPiece, emit: _Emitter) -> str:
    """The end series at the angle sf_t: each monomial times its polynomial (Horner)."""
    terms = []
    for g, poly in zip(end.monomials, end.polynomials):
        horner = _float_text(poly[-1])
        for coeff in reversed(poly[:-1]):
            horner = f"({horner}*sf_t + {_float_text(coeff)})"
        terms.append(f"{emit(g)}*{horner}")
    return f"(({' + '.join(terms)})/{emit(end.denominator)})"


def _c_ends(p: Plan, emit: _Emitter) -> list[str]:
    if not p.ends:
        return []
    out = [f"    const double sf_end_num = {emit(p.angle_num)};",
           f"    const double sf_end_gap = {emit(p.angle_gap)};"]
    tan2 = _float_text(math.tan(angles.SERIES_ANGLE) ** 2)
    for end in p.ends:
        sign = "" if end.end == 0 else "-"
        cond = "sf_end_num > 0" if end.end == 0 else "sf_end_num < 0"
        out.append(f"    if ({cond} && sf_end_gap <= {tan2} * (sf_end_num * sf_end_num)) {{")
        out.append(f"        const double sf_t = atan2(sqrt(fmax(sf_end_gap, 0.0)), "
                   f"{sign}sf_end_num);")
        out.append(f"        sf_value = {_end_value(end, emit)};")
        out.append("    }")
    return out


def _header_comment(p: Plan, first: str, middle: str, last: str) -> str:
    lines = [f"{p.function_name}: {p.law} for {p.activation}, exported by symfield",
             f"({p.summary}).",
             f"Arguments, in order: {', '.join(p.variables) or '(none)'}.",
             "Inputs are not checked: pass values inside the law's domain (symfield's",
             "Law.to_numpy checks them)."]
    if p.series and p.means:
        lines += [f"Accuracy: {SERIES_TOLERANCE:g} relative (float64), or NaN (C: errno = EDOM).",
                  "The pole series where its run-time error estimate is below that; elsewhere",
                  "(small variances, where the series cancels) the law's definition, each",
                  "expectation by the trapezoidal rule halved until its own error estimate",
                  "allows (NaN where neither does: variances beyond about 3e7-1e8, where the",
                  "series' coefficients overflow and the quadrature would need a step finer",
                  f"than {TRAPEZOID_STEP:g}/2^{TRAPEZOID_MAX_LEVEL}; and near a pole of the law, "
                  "where its condition number",
                  f"exceeds about {SERIES_TOLERANCE / QUADRATURE_ROUNDING:g}). Details: "
                  "symfield's codegen.py."]
    elif p.series:
        lines += [(f"Pole series: NaN (C: errno = EDOM) where the estimated relative error "
                   f"exceeds {SERIES_TOLERANCE:g}"),
                  ("(small variances, where the series cancels; variances beyond about "
                   "1e7, where its"),
                  ("coefficients overflow; more than "
                   f"{MAX_HEAD_TERMS} terms). Accuracy and ranges: symfield's codegen.py.")]
    return "\n".join([first + " " + lines[0], *[middle + " " + x for x in lines[1:]], last])


# ------------------------------------------------------------------------------------------
# Python: numpy, JAX, PyTorch
# ------------------------------------------------------------------------------------------
_PY_BACKENDS = {
    "numpy": '''import math

import numpy as _np

try:  # erf and erfc: scipy when present, otherwise math's, elementwise
    from scipy.special import erf as _erf, erfc as _erfc
except ImportError:  # pragma: no cover - depends on the environment
    _erf = _np.vectorize(math.erf, otypes=[float])
    _erfc = _np.vectorize(math.erfc, otypes=[float])

_xp = _np
_asarray = lambda x: _np.asarray(x, dtype=float)  # noqa: E731
_atan2, _asin_raw, _acos_raw, _abs = _np.arctan2, _np.arcsin, _np.arccos, _np.abs
_where, _maximum, _minimum, _clip = _np.where, _np.maximum, _np.minimum, _np.clip
_errstate = lambda: _np.errstate(all="ignore")  # noqa: E731
_broadcast = _np.broadcast_arrays


def _patch(value, bad, fallback, args):
    """value with its entries where bad recomputed by fallback (only those entries)."""
    bad = _np.broadcast_to(bad, _np.shape(value))
    if not _np.any(bad):
        return value
    value = _np.array(value, dtype=float)
    value[bad] = fallback(*[_np.broadcast_to(a, bad.shape)[bad] for a in args])
    return value


def _by_first_grid(mean, f, s, args):
    """mean(f, s, args) on each group of points that share a first quadrature grid (a huge
    variance must not make every other point use its fine grid)."""
    with _np.errstate(all="ignore"):
        level = _np.where(_np.isfinite(s), _np.ceil(_np.log2(_np.maximum(0.5 * s, 1.0))), -1.0)
    levels = _np.unique(level)
    if levels.size <= 1:
        return mean(f, s, args)
    value, error = _np.empty(s.shape), _np.empty(s.shape)
    for k in levels:
        group = level == k
        value[group], error[group] = mean(f, s[group], [a[group] for a in args])
    return value, error
''',
    "jax": '''import contextlib
import math

try:
    import jax as _jax
    import jax.numpy as _np
    from jax.scipy.special import erf as _erf, erfc as _erfc
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError("this module needs the 'jax' package (pip install jax)") from _error

_xp = _np


def _asarray(x):
    # the law is exported for float64; JAX computes in float32 unless told otherwise, and
    # this module does not change the caller's configuration
    if not _jax.config.jax_enable_x64:
        raise RuntimeError("this law is exported for float64: call "
                           "jax.config.update('jax_enable_x64', True) first")
    return _np.asarray(x, dtype=_np.float64)


_atan2, _asin_raw, _acos_raw, _abs = _np.arctan2, _np.arcsin, _np.arccos, _np.abs
_where, _maximum, _minimum, _clip = _np.where, _np.maximum, _np.minimum, _np.clip
_errstate = contextlib.nullcontext
_broadcast = _np.broadcast_arrays


def _patch(value, bad, fallback, args):
    # traced arrays cannot be indexed by a mask: the fallback at every point, kept where bad
    if not bool(_np.any(bad)):
        return value
    return _np.where(bad, fallback(*args), value)


def _by_first_grid(mean, f, s, args):
    return mean(f, s, args)
''',
    "torch": '''import contextlib
import math

try:
    import torch as _torch
except ImportError as _error:  # pragma: no cover - depends on the environment
    raise ImportError("this module needs the 'torch' package (pip install torch)") from _error

_xp = _torch
_asarray = lambda x: _torch.as_tensor(x, dtype=_torch.float64)  # noqa: E731


def _tensors(function):
    # torch's functions take tensors only; the exported code also passes constants (floats)
    def call(*args):
        return function(*[_asarray(a) if isinstance(a, (int, float)) else a for a in args])
    return call


class _TensorFunctions:
    def __getattr__(self, name):
        return _tensors(getattr(_torch, name))


_np = _TensorFunctions()
_erf, _erfc = _tensors(_torch.special.erf), _tensors(_torch.special.erfc)
_atan2, _asin_raw, _acos_raw, _abs = _np.atan2, _np.asin, _np.acos, _np.abs
_clip = _np.clip
_errstate = contextlib.nullcontext


def _where(condition, a, b):
    return _torch.where(_torch.as_tensor(condition), _asarray(a), _asarray(b))


def _maximum(a, b):
    return _torch.maximum(_asarray(a), _asarray(b))


def _minimum(a, b):
    return _torch.minimum(_asarray(a), _asarray(b))


def _broadcast(*arrays):
    return _torch.broadcast_tensors(*[_asarray(a) for a in arrays])


def _patch(value, bad, fallback, args):
    """value with its entries where bad recomputed by fallback (only those entries)."""
    value, bad = _torch.broadcast_tensors(_asarray(value), _torch.as_tensor(bad))
    if not bool(bad.any()):
        return value
    value = value.clone()
    value[bad] = fallback(*[a.expand(bad.shape)[bad] for a in _broadcast(*args)])
    return value


def _by_first_grid(mean, f, s, args):
    return mean(f, s, args)
''',
}

_PY_SUPPORT_COMMON = '''
_inf = math.inf
_sqrt, _exp, _log, _expm1 = _np.sqrt, _np.exp, _np.log, _np.expm1
_sin, _cos, _tan, _tanh = _np.sin, _np.cos, _np.tan, _np.tanh
_sinh, _cosh, _atan, _sign = _np.sinh, _np.cosh, _np.arctan, _np.sign
_log1p = _np.log1p


def _asin(x):
    return _asin_raw(_clip(x, -1.0, 1.0))


def _acos(x):
    return _acos_raw(_clip(x, -1.0, 1.0))


def _nonnegative(x):
    return _where(x > 0, x, 0.0 * x)


def _heaviside(x, h0=0.5):
    return _where(x > 0, 1.0 + 0.0 * x, _where(x < 0, 0.0 * x, h0 + 0.0 * x))


def _expdiff(a, b, gap):
    """exp(a) - exp(b), gap = a - b simplified symbolically."""
    return -_where(gap >= 0, 1.0, -1.0) * _exp(_maximum(a, b)) * _expm1(-_abs(gap))


def _expquad(a, d, g1, g2):
    """exp(a) - exp(b) - exp(c) + exp(d), d - a = g1 + g2, g1 = b - a and g2 = c - a
    simplified symbolically."""
    top = a >= d
    return _where(top, _exp(a) * _expm1(g1) * _expm1(g2), _exp(d) * _expm1(-g1) * _expm1(-g2))


def _asin_difference(x, y, d, rx, ry):
    """asin(x) - asin(y) as one angle, d = x - y computed symbolically."""
    same = x * y > 0
    sine = _where(same, d * (x + y) / _where(same, x * ry + y * rx, 1.0), x * ry - y * rx)
    return _atan2(sine, rx * ry + x * y)


def _erfcx(y):
    """exp(y^2) erfc(y) = w(iy): y^2 split exactly (Veltkamp) so that the exponent carries
    no rounding error; the asymptotic series (8 terms) from y = 25."""
    small = y < 25.0
    ys = _where(small, y, 1.0)
    big = ys * 134217729.0
    yh = big - (big - ys)
    yl = ys - yh
    hi = yh * yh
    lo = 2.0 * yh * yl + yl * yl
    direct = _exp(hi) * _exp(lo) * _erfc(ys)
    yb = _where(small, 25.0, y)
    inv2 = 1.0 / (2.0 * yb * yb)
    term, total = 1.0 + 0.0 * yb, 1.0 + 0.0 * yb
    for i in range(1, 9):
        term = term * -(2.0 * i - 1.0) * inv2
        total = total + term
    return _where(small, direct, total / (yb * 1.7724538509055160273))
'''

_PY_SUPPORT_SERIES = '''

_B2K = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6,
        -3617.0 / 510, 43867.0 / 798, -174611.0 / 330)


def _hurwitz_zeta(s, a):
    """zeta(s, a) for an integer s >= 2 and a float a > 0 (Euler-Maclaurin, N = 12 - a
    terms and 10 Bernoulli corrections: the first omitted one is below 1e-18 relative)."""
    n = max(0, math.ceil(12.0 - a))
    total = math.fsum((a + j) ** -s for j in range(n))
    x = a + n
    total += x ** (1 - s) / (s - 1) + 0.5 * x ** -s
    xp, poch, fact = x ** (-s - 1), float(s), 2.0
    for k, b in enumerate(_B2K, start=1):
        total += b / fact * poch * xp
        poch *= (s + 2 * k - 1) * (s + 2 * k)
        xp /= x * x
        fact *= (2 * k + 1) * (2 * k + 2)
    return total


def _pole_remainder(n, y):
    """R_n(y) = erfcx(y) - sum_{i<n} c_i y^-(2i+1) for y >= NEAR_Y without cancellation:
    (-1)^n (2n-1)!!/(2^(n-1) sqrt(pi)) J_n(y), J_n = (1/2y) int_0^oo exp(-u - (u/2y)^2)
    (y + u/2y)^(-2n) du by Gauss-Legendre on [0, 44] (module documentation)."""
    prefactor = 1.0 / 1.7724538509055160273
    for i in range(1, n + 1):
        prefactor *= -(2.0 * i - 1.0) / (1.0 if i == 1 else 2.0)
    h = 0.5 / y
    total = 0.0 * y
    for u, weight in zip(_REMAINDER_NODES, _REMAINDER_WEIGHTS):
        v = u * h
        total = total + weight * _exp(-u - v * v) * (y + v) ** (-2 * n)
    return prefactor * total * h


def _pole_series(beta, n, a_terms, p_terms, b_terms, q_terms, head_limit=MAX_HEAD_TERMS):
    """sum over K = k + 1/2 of A(K) + B(K) erfcx(beta K) (see the module documentation),
    the coefficients as (power, value, magnitude: the sum of the absolute values of the
    monomials the value is computed from); returns (sum, cancellation = the sum of the
    pieces' magnitudes / |sum|). Points that need more than head_limit head terms get an infinite
    cancellation (the caller computes them otherwise: a Python loop over that many terms
    takes seconds); more than MAX_HEAD_TERMS raise ValueError."""
    y_needed = 13.746994684567446
    finite = beta > 0
    need = _where(finite, y_needed / _where(finite, beta, 1.0) - 0.5, 0.0)
    skipped = need > head_limit
    k0 = float(_xp.max(_where(skipped, 0.0, need)))
    k0 = max(0, math.ceil(k0))
    if k0 > MAX_HEAD_TERMS:
        raise ValueError(f"the pole series needs {k0} terms at this variance (more than "
                         f"{MAX_HEAD_TERMS})")
    total, largest = 0.0 * beta, 0.0 * beta
    for k in range(k0):
        K = k + 0.5
        y = beta * K
        b = sum(v * K ** j for j, v, _m in b_terms)
        bm = sum(m * K ** j for j, _v, m in b_terms)
        near = y < NEAR_Y
        a = sum(v * K ** j for j, v, _m in a_terms) + 0.0 * beta
        am = sum(m * K ** j for j, _v, m in a_terms) + 0.0 * beta
        e = _erfcx(y)
        direct = b * e
        poly = sum(v * K ** j for j, v, _m in p_terms) + 0.0 * beta
        psize = 0.0 * beta
        for j, _v, m in p_terms:
            psize = _maximum(psize, m * K ** j)
        yf = _where(near, NEAR_Y, y)
        asym = yf > ASYMPTOTIC_Y
        r = _pole_remainder(n, _where(asym, NEAR_Y, yf))
        split_value = poly + b * r
        split_size = _maximum(psize, bm * _abs(r))
        # the exactly combined expansion in K
        combined = sum(v * K ** j for j, v, _m in q_terms) + 0.0 * beta
        csize = 0.0 * beta
        for j, _v, m in q_terms:
            csize = _maximum(csize, m * K ** j)
        split_value = _where(asym, combined, split_value)
        split_size = _where(asym, csize, split_size)
        # the split form beyond NEAR_Y where its pieces are smaller than those of the direct
        # form A + B erfcx (both are exact)
        direct_size = _maximum(am, bm * e)
        split = ~near & (split_size < direct_size)
        total = total + _where(split, split_value, a + direct)
        # rounding accumulates over every head term (SiLU's pieces decay slowly), so the
        # magnitudes are summed, not maximised
        largest = largest + _where(split, split_size, direct_size)
    start = k0 + 0.5
    for j, v, m in q_terms:
        z = _hurwitz_zeta(-j, start)
        total = total + v * z
        largest = largest + _abs(m * z)
    return total, _where(skipped, math.inf, largest / _maximum(_abs(total), 1e-300))
'''

_PY_SUPPORT_MEAN = """

_SQRT_PI = 1.7724538509055160273


def _gaussian_mean(f, variance, args):
    \"\"\"E[f(x)] for x ~ N(0, variance): (1/sqrt(pi)) int exp(-t^2) f(sqrt(2 variance) t) dt by
    the trapezoidal rule on |t| <= TRAPEZOID_CUT: first nodes at most 1 apart in x at every
    point, then the step halved (the previous nodes reused) at least TRAPEZOID_MIN_LEVEL
    times, until the change of the last halving is below the rounding estimate
    QUADRATURE_ROUNDING * sum |w f| at every point, never beyond TRAPEZOID_MAX_LEVEL;
    returns (value, error estimate: that change plus the rounding estimate; inf beyond).\"\"\"
    return _by_first_grid(_gaussian_mean_grid, f, _sqrt(2.0 * _maximum(variance, 0.0)), args)


def _gaussian_mean_grid(f, s, args):
    \"\"\"_gaussian_mean for s = sqrt(2 variance), on the first grid of the largest s.\"\"\"
    widest = float(_xp.max(s))
    start = 0
    while TRAPEZOID_STEP * 0.5 ** start * widest > 1.0 and start <= TRAPEZOID_MAX_LEVEL:
        start += 1
    if not start + TRAPEZOID_MIN_LEVEL <= TRAPEZOID_MAX_LEVEL:  # also NaN variances
        return s * math.nan, s + math.inf
    s = s[..., None]
    args = [a[..., None] for a in args]

    def part(nodes):
        total, size = 0.0, 0.0
        for first in range(0, len(nodes), 1024):  # a bounded block of nodes at a time
            t = _asarray(nodes[first:first + 1024])
            w = _exp(-t * t)
            fp, fm = f(s * t, *args), f(-s * t, *args)
            total = total + (w * (fp + fm)).sum(-1)
            size = size + (w * (_abs(fp) + _abs(fm))).sum(-1)
        return total, size

    h = TRAPEZOID_STEP * 0.5 ** start
    f0 = f(0.0 * s, *args)[..., 0]
    total, size = part([h * j for j in range(1, int(TRAPEZOID_CUT / h) + 1)])
    total, size = total + f0, size + _abs(f0)
    previous = change = None
    for level in range(start, TRAPEZOID_MAX_LEVEL + 1):
        if level > start:
            h *= 0.5
            more, more_size = part([h * j for j in range(1, int(TRAPEZOID_CUT / h) + 1, 2)])
            total, size = total + more, size + more_size
        value, scale = h * total / _SQRT_PI, h * size / _SQRT_PI
        if level > start:
            change = _abs(value - previous)
            if level >= start + TRAPEZOID_MIN_LEVEL and bool(
                    (change <= QUADRATURE_ROUNDING * scale).all()):
                break
        previous = value
    return value, change + QUADRATURE_ROUNDING * scale
"""


def _py_by_definition(p: Plan, emit: _Emitter) -> list[str]:
    """The integrands and ``_by_definition``: the law's definition by quadrature."""
    args = ", ".join(p.variables)
    out = []
    for i, m in enumerate(p.means):
        out += [f"def _sf_mean{i}({m.x.name}, {args}):",
                f"    return {emit(m.integrand)} + 0.0 * {m.x.name}", "", ""]
    out += [f"def _by_definition({args}):",
            f'    """{p.law} for {p.activation} by its definition: each expectation by '
            f'quadrature,', '    NaN where the estimated error exceeds SERIES_TOLERANCE."""',
            f"    ({args},) = _broadcast({args})", "    with _errstate():"]
    for i, m in enumerate(p.means):
        out.append(f"        {m.placeholder.name}, sf_err{i} = _gaussian_mean(_sf_mean{i}, "
                   f"{emit(m.variance)} + 0.0 * {p.variables[0]}, ({args},))")
    lines, value, perturbed = _fallback_parts(p, emit, False, "        ")
    out += lines
    out += [f"        sf_value = {value} + 0.0 * {p.variables[0]}", "        sf_error = 0.0"]
    for i, (m, text) in enumerate(zip(p.means, perturbed)):
        # each expectation's estimated relative error times the law's condition number in it
        out += [f"        sf_shift = _abs(({text}) - sf_value)",
                f"        sf_error = sf_error + _where(sf_shift == 0, 0.0, sf_shift / "
                f"({_float_text(PERTURBATION)} * _abs(sf_value))) * _where(sf_err{i} == 0, "
                f"0.0, sf_err{i} / _abs({m.placeholder.name}))"]
    out += ["        return _where(sf_error <= SERIES_TOLERANCE, sf_value, math.nan)", "", ""]
    return out


def to_python(p: Plan, language: str) -> str:
    """Python source for ``language`` in numpy, jax, torch: one function of arrays."""
    emit = _Emitter(language)
    indent = "    "
    body: list[str] = []
    args = ", ".join(p.variables)
    body.append(f"{indent}{', '.join(p.variables) or '_'} = "
                f"{', '.join(f'_asarray({v})' for v in p.variables) or 'None'}")
    if p.constant is not None:
        shape = f"{p.variables[0]}" if p.variables else "_asarray(0.0)"
        body.append(f"{indent}return 0.0 * {shape} + {'_inf' if p.constant > 0 else '-_inf'}")
    else:
        body.append(f"{indent}with _errstate():")
        inner = indent * 2
        for i, s in enumerate(p.series):
            term_groups = (s.a_terms, s.p_terms, s.b_terms, s.q_terms)
            values = [s.beta] + [c for terms in term_groups for _p, c in terms] + \
                [_magnitude(c) for terms in term_groups for _p, c in terms]
            lines, texts = _assignments(values, emit, False, inner, f"sf_s{i}_")
            half = (len(texts) - 1) // 2
            body.extend(lines)
            pos = 1
            groups = []
            for terms in term_groups:
                groups.append("[" + ", ".join(
                    f"({int(pw)}, {texts[pos + j]}, {texts[pos + half + j]})"
                    for j, (pw, _c) in enumerate(terms)) + "]")
                pos += len(terms)
            body.append(f"{inner}{s.placeholder.name}, sf_cancel{i} = _pole_series("
                        f"{texts[0]} + 0.0 * ({' + '.join(p.variables)}), {s.subtracted}, "
                        f"{groups[0]}, {groups[1]}, {groups[2]}, {groups[3]}"
                        f"{', ' + str(PYTHON_HEAD_TERMS) if p.means else ''})")
        lines, (value, *perturbed) = _assignments([p.value, *_perturbed(p)], emit, False,
                                                  inner, "sf_v")
        body.extend(lines)
        body.append(f"{inner}sf_value = {value} + 0.0 * ({' + '.join(p.variables) or '0.0'})")
        for end in p.ends:
            body.extend(_py_end(p, end, emit, inner))
        for i, text in enumerate(perturbed):
            # the estimated error of the series, times its condition number in the law
            body.append(f"{inner}sf_shift = _abs(({text}) - sf_value)")
            body.append(f"{inner}sf_error = {ROUNDING_PER_CANCELLATION!r} * "
                        f"_maximum(sf_cancel{i}, 1.0) * _where(sf_shift == 0, 0.0, sf_shift / "
                        f"({_float_text(PERTURBATION)} * _abs(sf_value)))")
            body.append(f"{inner}sf_value = _where(sf_error <= SERIES_TOLERANCE, sf_value, "
                        f"math.nan)")
            body.append(f"{inner}sf_refused{i} = ~(sf_error <= SERIES_TOLERANCE)")
        if p.means:
            # where a series would lose digits: the definition by quadrature there
            refused = " | ".join(f"sf_refused{i}" for i in range(len(p.series)))
            body.append(f"{inner}sf_value = _patch(sf_value, {refused}, _by_definition, "
                        f"({args},))")
        body.append(f"{inner}return sf_value")
    fallback = _py_by_definition(p, emit) if p.means and p.constant is None else []
    support = _PY_SUPPORT_COMMON + (_PY_SUPPORT_SERIES if p.series else "") + \
        (_PY_SUPPORT_MEAN + "\n" + _PY_SMALL if fallback else "")
    doc = _header_comment(p, '"""', "", '"""').replace("\n ", "\n").replace('""" ', '"""', 1)
    return "\n".join([
        doc, "", _PY_BACKENDS[language],
        f"SERIES_TOLERANCE = {SERIES_TOLERANCE!r}",
        f"MAX_HEAD_TERMS = {MAX_HEAD_TERMS}",
        f"ASYMPTOTIC_Y = {ASYMPTOTIC_Y!r}",
        f"NEAR_Y = {NEAR_Y!r}",
        f"_REMAINDER_NODES = ({', '.join(map(_float_text, REMAINDER_NODES))},)",
        f"_REMAINDER_WEIGHTS = ({', '.join(map(_float_text, REMAINDER_WEIGHTS))},)",
        f"TRAPEZOID_STEP = {TRAPEZOID_STEP!r}",
        f"TRAPEZOID_CUT = {TRAPEZOID_CUT!r}",
        f"TRAPEZOID_MIN_LEVEL = {TRAPEZOID_MIN_LEVEL}",
        f"TRAPEZOID_MAX_LEVEL = {TRAPEZOID_MAX_LEVEL}",
        f"QUADRATURE_ROUNDING = {QUADRATURE_ROUNDING!r}",
        support, "", *fallback,
        f"def {p.function_name}({args}):",
        (f'{indent}"""{p.law} for {p.activation} (float64, vectorised over broadcastable '
         f'arrays)."""'),
        *body, "", "",
        f"__all__ = [{p.function_name!r}]", ""])


_PY_SMALL = '''
def _expit(a):
    """exp(a)/(1 + exp(a)) without inf/inf."""
    e = _exp(-_abs(a))
    return _where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _log1pexp(a):
    """log(1 + exp(a)) without overflow."""
    return _maximum(a, 0.0) + _log1p(_exp(-_abs(a)))
'''


def _py_end(p: Plan, end: EndPiece, emit: _Emitter, inner: str) -> list[str]:
    tan2 = _float_text(math.tan(angles.SERIES_ANGLE) ** 2)
    sign = "" if end.end == 0 else "-"
    cond = "sf_end_num > 0" if end.end == 0 else "sf_end_num < 0"
    out = [f"{inner}sf_end_num = {emit(p.angle_num)} + 0.0 * sf_value",
           f"{inner}sf_end_gap = {emit(p.angle_gap)} + 0.0 * sf_value",
           f"{inner}sf_near = ({cond}) & (sf_end_gap <= {tan2} * (sf_end_num * sf_end_num))",
           f"{inner}sf_t = _atan2(_sqrt(_maximum(sf_end_gap, 0.0)), {sign}sf_end_num)",
           f"{inner}sf_t = _where(sf_near, sf_t, 0.0)"]
    out.append(f"{inner}sf_value = _where(sf_near, {_end_value(end, emit)}, sf_value)")
    return out


# ------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------
def check_language(language: object) -> str:
    if not isinstance(language, str) or language not in LANGUAGES:
        raise UnknownNameError(f"unknown export language {quoted(language)}; valid: "
                               f"{', '.join(LANGUAGES)}")
    return language


def export(law, language: str) -> str:
    """Standalone source of ``law`` in ``language`` (one of LANGUAGES)."""
    language = check_language(language)
    p = plan(law)
    return to_c(p) if language == "c" else to_python(p, language)


__all__ = [
    "LANGUAGES",
    "MAX_HEAD_TERMS",
    "SERIES_TOLERANCE",
    "ExportError",
    "check_language",
    "export",
    "function_name",
    "plan",
]
