"""Laws: a definition in Gaussian expectations, and the derived result.

A :class:`LawDefinition` says *what* to compute (an expression holding ``Expectation`` objects,
built from the activation); :func:`symfield.laws.derive` lets the Gaussian calculus decide *how*
and returns a :class:`Law`: the SymPy result, whether it is a closed form, the derivation
steps, and certified numerics (mpmath at 15-1000 digits, vectorised float64).

Certified digits and their cost (``Law.evaluate``; ``Law.certified`` says which certificate a
value got): closed forms, pole series and one-variable integral forms are rounded from a proven
Arb enclosure (``Law.enclose``, about the cost of the two-precision route; see
``Law.evaluate``); elsewhere every digit is confirmed by two working precisions relative to
the value, the work bounded up front by the route
(``CompiledExpr.max_work``): closed forms take milliseconds at any dps up to 1000; the
single-input quadratures and pole series (tanh, sigmoid) up to 2 dps + 200 working digits
(0.05-0.3 s at 100 digits, 10-20 s at 1000); two-input expectations without a closed form
(the tanh and sigmoid kernels) stop at 160 working digits (0.1-2 s at 30-50 digits, tens of
seconds at 100) and raise PrecisionError at once beyond.

float64 accuracy (``Law.to_numpy``), u = 2^-53, kappa = sum_i |x_i df/dx_i| / |f| the
condition number of the law in its float64 inputs (the error that rounding the inputs
themselves would cause), checked on sweeps of 1500-10^4 points per law and activation against
60-digit references (tests/test_float64_accuracy.py):

======================================================  ============  ===================
laws                                                    form          error bound
======================================================  ============  ===================
every closed form (erf, ReLU, leaky ReLU, |x|, linear:   closed        16 u (1 + kappa)
chi0/1/2, length and activity maps, kernels and maps,                 (measured <= 8.3 u)
curvature, domino, gradient norm)
kernel, derivative kernel at q1 = q2 = 1, any rho      closed        1e-14 relative
tanh, sigmoid single-input laws, q in [0, 1e30]         quadrature    1e-13 relative
tanh, sigmoid kernels and maps (moderate variances,     2-D quadr.    1e-12 relative
|c| up to 0.9999, D down to 1e-10)
distance map of every activation near D = 0 and near   definition    16 u (1 + kappa)
u2 = -u1                                                              (measured <= 1e-15
                                                                      relative)
======================================================  ============  ===================

Near the ends of an arcsine's range the closed forms are evaluated in the angle with exact
Taylor series (``symfield.gaussian.numerics.angles``), near the end of an arctangent's range
(GELU's kernel at c -> -1) with the cancelling orders combined symbolically
(``arctangents``), and GELU's maps through that kernel form with their pair gap factored
(``PairComposition``); sums of exponentials whose terms cancel (cos's distance map at small
q, gabor's slopes at large q) with the cancelling coefficients of each exponential combined
symbolically and differences of exponentials by expm1 (``compile._stable_exponentials``);
ELU's and SELU's laws whose closed forms cancel near a zero variance
by their exact Taylor series in sqrt(v) there (``small_variance``); the distance map as
E[(phi(u1) - phi(u2))^2] where its own form cancels (``Law._cancels_near_pairs``: a probe at
each degenerate end against the definition; the points with var(u1 - u2) < 0.3 var((u1 +
u2)/2), or the inverse, then take the definition, whose float64 rule is split at the kinks
of ELU, SELU, hard_tanh: ~10 ms a point near D = 0, up to 2 s a point elsewhere, and at the
origin for a smooth one where its product rule does not converge: GELU's bend at a variance
of 5e4 is a kink in all but name); points float64 cannot do (overflow, cancelling or unresolved quadratures) are certified in mpmath.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation
from ..derivation import Derivation, Step
from ..errors import (InvalidValueError, SymfieldError, UndefinedResultError, UnknownNameError,
                      quoted)
from ..expectation import Expectation
from ..gaussian.numerics.compile import FusedFloat64, PairComposition, np_modules
from ..gaussian.numerics.evaluate import compiled
from ..numbers import (LAW_POLICY, MAX_DPS, MIN_DPS, check_dps, input_digits,
                       is_small_fraction, magnitude_spread, to_exact, to_mpf, to_sympy)
from ..symbols import NON_NEGATIVE, STRICTLY_POSITIVE


@dataclass(frozen=True)
class LawDefinition:
    """What a law is: its variables and its value as an expression in expectations."""

    name: str
    title: str
    latex_name: str
    variables: tuple[sp.Symbol, ...]
    #: define(phi) -> expression in expectations; phi(arg, order) is the activation's
    #: derivative of that order at arg (a generic varphi for display, or the real one).
    define: Callable[[Callable[..., sp.Expr]], sp.Expr]
    convention: str = ""
    #: check_domain(values by name, activation) raises InvalidValueError outside the domain.
    check_domain: Callable[[Mapping[str, object], Activation], None] | None = None
    #: The same for float64 arrays (``to_numpy``): raises InvalidValueError naming the first
    #: entry outside the domain (rounding of a few ulps over a closed edge is accepted).
    check_domain_np: Callable[[Mapping[str, np.ndarray], Activation], None] | None = None
    #: Variances whose value 0 is inside the domain (the degenerate Gaussian: the law's
    #: q -> 0 limit, e.g. chi1(0) = sigma_w^2 phi'(0)^2 for smooth phi).
    zero_variances: tuple[str, ...] = ()
    #: Laws this one is a special case of, for documentation.
    notes: str = ""
    #: The class of the derived law (recursions over depth override the numerics).
    law_class: type | None = None
    #: Steps shown before the activation is substituted: how the law's Gaussian follows from
    #: the microdynamics (symfield.microdynamics.mean_field_step), for laws stated in its variables;
    #: or a function returning them, for steps that cost time to build (``prelude_steps``).
    prelude: Sequence[Step] | Callable[[], Sequence[Step]] = ()
    #: How sampled finite networks check the law: the name of a plan kind of the laboratory
    #: (``symfield.laboratory.plans.PLAN_KINDS``), or None, and then ``unsampled_reason``
    #: (required for a registered law) says why no sampled network can check it.
    sampled_check: str | None = None
    unsampled_reason: str = ""

    def __post_init__(self) -> None:
        if not callable(self.prelude):
            object.__setattr__(self, "prelude", tuple(self.prelude))  # hashable, like the rest
        if self.sampled_check is not None and self.unsampled_reason.strip():
            raise ValueError(f"law {self.name}: a sampled_check and an unsampled_reason "
                             f"contradict each other; give one")

    def prelude_steps(self) -> tuple[Step, ...]:
        """The prelude's steps (built now when it is a function)."""
        return tuple(self.prelude() if callable(self.prelude) else self.prelude)


def has_series(expr: sp.Expr) -> bool:
    """Whether ``expr`` holds an infinite series (a pole or Mehler expansion); a finite sum,
    such as the field law's sum over grid positions, is part of a closed form."""
    return any(limit[2].is_finite is not True for term in expr.atoms(sp.Sum)
               for limit in term.limits)


def evaluated_form(derived: sp.Expr, definition: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(the form a law is evaluated by, the other form): the one choice made for every law,
    recursion and dynamics evaluator. The derived form, unless it holds an infinite series (a
    pole or Mehler expansion): then the definition, by certified Gaussian quadrature. The
    series equals it, but converges slowly where the quadrature does not (the Mehler series
    of a kernel near c = 1, exactly where chaotic c* sit near the edge of chaos; pole series
    at large variances)."""
    if derived.has(sp.Sum):
        return definition, derived
    return derived, definition


#: How a value of ``Law.evaluate`` is certified (``Law.certified``).
CERTIFICATES = {
    "exact": "an exact number: a rational at an exact point, +-inf of a divergent law, or a "
             "value SymPy shows is exactly 0",
    "ball": "proven: rounded from an Arb enclosure of the exact value (ball arithmetic)",
    "agreement": "two working precisions agree on every digit (evidence, not proof)",
}

#: Digits beyond dps the ball route asks of the enclosure: one is enough for the value to be
#: within half a unit (see _rounded_inside); more resolve a ball straddling a rounding
#: boundary of the decimal digits.
GUARD_DIGITS = (2, 12, 40)

#: The largest variance of an integral form that evaluate encloses by default: beyond it the
#: rescaled integrand's complex poles near the real axis make the rules subdivide (mish's
#: length_map_slope at 30 digits: 0.1 s at q = 1, 0.3 s at q = 100, 1.6 s at q = 1000, and no
#: finite ball after two minutes at q = 10^5; tanh's kernel: 0.1 s at q1 = 3/4, 1.5 s at 50).
MAX_BALL_VARIANCE = 100


@dataclass(frozen=True)
class CertifiedValue:
    """A value of ``Law.evaluate`` and how its digits are certified."""

    value: mpmath.mpf
    #: one of CERTIFICATES: 'exact', 'ball' (proven) or 'agreement' (two precisions)
    certificate: str
    #: the proven ball the value was rounded from ('ball' only)
    enclosure: object | None = None
    #: why the value is not ball-proven ('agreement' only)
    reason: str = ""

    @property
    def proven(self) -> bool:
        """True for an exact or ball-proven value."""
        return self.certificate in ("exact", "ball")


#: Binary exponents beyond which exact rational arithmetic on a ball is not attempted: the
#: Fraction of exp(exp(10)) has millions of digits (an overflowing recursion's kernels).
ASTRONOMICAL_BITS = 2 ** 16


def _astronomical(*values) -> bool:
    """Whether a finite mpmath number is beyond ASTRONOMICAL_BITS in binary magnitude."""
    for v in values:
        mpf = mpmath.mpf(v)
        if mpmath.isfinite(mpf) and mpf != 0:
            _sign, _man, exp, bc = mpf._mpf_
            if abs(exp + bc) > ASTRONOMICAL_BITS:
                return True
    return False


def _decimal_rounding(value, dps: int):
    """``value`` (a finite binary number) rounded to dps significant decimal digits, exactly,
    as a Fraction (ties to even)."""
    from fractions import Fraction

    from ..gaussian.numerics.enclosure import _exact_fraction

    exact = _exact_fraction(value)
    if exact == 0:
        return exact
    with mpmath.workdps(30):
        exponent = int(mpmath.floor(mpmath.log10(abs(mpmath.mpf(value)))))
    while Fraction(10) ** exponent > abs(exact):  # the logarithm's rounding, made exact
        exponent -= 1
    while Fraction(10) ** (exponent + 1) <= abs(exact):
        exponent += 1
    scale = Fraction(10) ** (dps - 1 - exponent)
    return Fraction(round(exact * scale)) / scale


def value_from_balls(enclose_at: Callable[[int], object], dps: int, what: str,
                     max_dps: int | None = None):
    """(value, ball): the value at dps's working precision from ``enclose_at(digits)``, a
    proven enclosure with rad <= 10^-digits |v| / 2, asked for a few guard digits
    (``GUARD_DIGITS``), such that |value - v| <= 10^-dps |v| / 2 and value rounded to dps
    significant digits is v rounded to them, v the exact value. The second needs a ball inside
    one decimal rounding cell: a ball straddling a boundary is tightened with more guard
    digits; past the last, the value keeps the first property only (v within 10^-(dps+40) |v|
    of a boundary: never met so far), as does a value of astronomical magnitude
    (ASTRONOMICAL_BITS: the exact check would not fit in memory). ``max_dps`` caps the digits asked of ``enclose_at``.
    PrecisionError saying how many of the dps digits are proven (with ``.best``, the best
    enclosure, or None) when the first enclosure falls short by more than the guard digit."""
    from ..errors import PrecisionError

    guards = [g for g in GUARD_DIGITS if max_dps is None or dps + g <= max_dps]
    if not guards:
        raise PrecisionError(f"{what}: proven values go up to {max_dps - GUARD_DIGITS[0]} "
                             f"digits (the rounding needs guard digits); asked for {dps}")
    for guard in guards:
        try:
            ball = enclose_at(dps + guard)
        except PrecisionError as error:
            best = getattr(error, "best", None)
            if best is None or best.digits < dps + 1:
                shown = 0 if best is None else min(int(best.digits), dps)
                short = PrecisionError(
                    f"{what}: only {shown} of the {dps} digits asked for are proven (with the "
                    f"guard digit the rounding needs); best enclosure {best!r}"
                    if best is not None else f"{what}: no digit is proven ({error})")
                short.best, short.proven_digits = best, shown
                raise short from None
            ball = best
        if _astronomical(ball.mid, ball.rad):
            break  # the exact rounding check would need numbers of millions of digits
        value = _rounded_inside(ball, dps)
        if value is not None:
            return value, ball
    with mpmath.workdps(dps):
        return +ball.mid, ball


def _consistent(value: mpmath.mpf, ball, dps: int) -> bool:
    """True when a value certified to dps digits (relative error up to 10^-dps) may be the
    exact value the proven ``ball`` holds."""
    from ..gaussian.numerics.enclosure import _exact_fraction

    if not mpmath.isfinite(value):
        return False
    if _astronomical(value, ball.mid, ball.rad):
        with mpmath.workdps(dps + 30):  # a relative slack of 10^-(dps+20) for the roundings
            slack = abs(value) * mpmath.mpf(10) ** -(dps + 20)
            return abs(value - ball.mid) <= ball.rad + abs(value) / 10 ** dps + slack
    x, mid, rad = (_exact_fraction(v) for v in (value, ball.mid, ball.rad))
    return abs(x - mid) <= rad + abs(x) / 10 ** dps


def _rounded_inside(ball, dps: int) -> mpmath.mpf | None:
    """A number x at dps's working precision with |x - v| <= 10^-dps |v| / 2 and the same
    dps-digit decimal rounding as v, for every v in ``ball``; None when the ball straddles a
    rounding boundary (or is too wide).

    Why it works: the midpoint rounded to mpmath's precision for dps (about (dps + 1) log2 10
    bits) moves by at most 0.15 units of the dps-th digit, so with rad <= 0.005 units (the
    first guard of two digits) x is within half a unit of every v; if that rounding crossed
    the boundary the ball is near, rounding the midpoint towards it instead stays in the
    ball's cell, one binary ulp (0.3 units) away. Both properties are then checked exactly."""
    from ..gaussian.numerics.enclosure import _exact_fraction

    lower, upper = ball.lower, ball.upper
    cell = _decimal_rounding(lower, dps)
    if _decimal_rounding(upper, dps) != cell:
        return None
    with mpmath.workdps(dps):
        x = +ball.mid
        prec = mpmath.mp.prec
    if _decimal_rounding(x, dps) != cell:
        mode = "f" if x > ball.mid else "c"
        x = mpmath.mp.make_mpf(mpmath.libmp.mpf_pos(ball.mid._mpf_, prec, mode))
        if _decimal_rounding(x, dps) != cell:
            return None
    mid, rad = _exact_fraction(ball.mid), _exact_fraction(ball.rad)
    smallest = abs(mid) - rad
    if smallest <= 0 or abs(_exact_fraction(x) - mid) + rad > smallest / (2 * 10 ** dps):
        return None
    return x


@dataclass
class Law:
    """A derived law for one activation."""

    name: str
    activation: Activation
    definition: sp.Expr
    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    derivation: Derivation
    title: str = ""
    latex_name: str = ""
    convention: str = ""
    divergence: str | None = None
    reasons: list[str] = field(default_factory=list)
    _spec: LawDefinition | None = None
    _numpy_cache: dict = field(default_factory=dict, repr=False, compare=False)
    _near_pairs: tuple[bool, bool] | None = field(default=None, repr=False, compare=False)
    _ball_routes: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        # NaN is a divergent law's value only (with its reason); anywhere else it would be
        # labelled a closed form and evaluate to NaN (relu_power's pair laws once did)
        if self.divergence is None and isinstance(self.expr, sp.Basic) and self.expr.has(sp.nan):
            raise UndefinedResultError(
                f"{self.name}[{self.activation.name}]: the derivation ended in an undefined "
                f"value (NaN) with no divergence to name; the rules met a form they cannot "
                f"decide (a product of deltas, or 0 times infinity)")

    # -- what kind of result --------------------------------------------------------------
    @property
    def closed_form(self) -> bool:
        """True when ``expr`` is a closed form (or +-oo): no expectation, no series."""
        return not self.expr.has(Expectation) and not has_series(self.expr)

    @property
    def form(self) -> str:
        """Which exact representation ``expr`` is: 'closed', 'series' (a convergent
        Faddeeva pole series) or 'integral' (an unevaluated Gaussian expectation)."""
        if self.expr.has(Expectation):
            return "integral"
        return "series" if has_series(self.expr) else "closed"

    #: Numerical routes: 'series' evaluates ``expr``; 'quadrature' the ``definition`` (its
    #: Gaussian expectations by certified quadrature). 'auto' takes the faster route,
    #: quadrature for the pole series (benchmarks/bench_tanh_series.py measures both).
    METHODS = ("auto", "series", "quadrature")

    def _numeric_expr(self, method: str) -> sp.Expr:
        if method not in self.METHODS:
            raise InvalidValueError(f"method must be one of {', '.join(self.METHODS)} "
                                    f"(got {quoted(method)})")
        if method == "series" and self.expr.has(sp.Sum):
            return self.expr
        return evaluated_form(self.expr, self.definition)[0]

    @property
    def divergent(self) -> bool:
        return self.divergence is not None

    # -- numerics -------------------------------------------------------------------------
    def _check(self, values: Mapping[str, object]) -> dict[sp.Symbol, object]:
        names = {s.name: s for s in self.variables}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise UnknownNameError(
                f"{self.name} for {self.activation.name} has no variable {quoted(unknown[0])}; "
                f"its variables are: {', '.join(names)}")
        missing = [n for n in names if n not in values and n not in self.parameter_defaults()]
        if missing:
            raise InvalidValueError(
                f"{self.name} needs a value for {', '.join(missing)} "
                f"(variables: {', '.join(names)})")
        point: dict[sp.Symbol, object] = {}
        merged = {**{k: v for k, v in self.parameter_defaults().items()}, **values}
        zero_ok = self._zero_variances()
        for name, raw in merged.items():
            if name not in names:
                continue
            value = to_exact(raw, name)
            if name in STRICTLY_POSITIVE and not (value > 0 or (name in zero_ok and value == 0)):
                raise InvalidValueError(
                    f"{name} must be {'>= 0' if name in zero_ok else '> 0'} (got {raw})")
            if name in NON_NEGATIVE and value < 0:
                raise InvalidValueError(f"{name} must be >= 0 (got {raw})")
            if name in self.activation.parameters and names[name].is_positive and not value > 0:
                raise InvalidValueError(f"{name} must be > 0 (got {raw})")
            if names[name].is_integer and not _is_integer(value):
                raise InvalidValueError(f"{name} must be an integer (got {raw})")
            point[names[name]] = value
        if self._spec is not None and self._spec.check_domain is not None:
            self._spec.check_domain({s.name: v for s, v in point.items()}, self.activation)
        return point

    def _zero_variances(self) -> tuple[str, ...]:
        return self._spec.zero_variances if self._spec is not None else ()

    def parameter_defaults(self) -> dict[str, object]:
        """Default values of the activation's parameters that are variables of the law."""
        return {name: default for name, (sym, default) in self.activation.parameters.items()
                if sym in self.variables}

    _defaults = parameter_defaults  # the old private name, still used by symfield/cli/derive.py

    def compiled(self, method: str = "auto"):
        """The numeric form of the law (see METHODS) compiled over ``variables`` in order."""
        return compiled(self._numeric_expr(method), tuple(self.variables))

    def real_value(self, value, dps: int, imaginary_digits: int | None = None) -> mpmath.mpf:
        """A computed value as a real mpmath number: an imaginary part below
        10^-imaginary_digits relative (default ``dps``) is rounding at the edge of a square
        root's or an arcsine's domain and is dropped; a larger one, or NaN, is an error."""
        if not isinstance(value, (mpmath.mpf, mpmath.mpc)):  # a constant law: 0 -> mpf(0)
            with mpmath.workdps(dps):
                value = mpmath.mpmathify(value)
        if isinstance(value, mpmath.mpc):
            if imaginary_digits is None:
                scale, digits = abs(value.real), dps
            else:
                scale, digits = max(abs(value.real), 1), imaginary_digits
            if abs(value.imag) > scale * mpmath.mpf(10) ** (-digits):
                raise InvalidValueError(f"{self.name} is not real at these values")
            value = value.real
        if mpmath.isnan(value):
            raise InvalidValueError(f"{self.name} is undefined at these values")
        return value

    def _infinite_value(self, point: Mapping[sp.Symbol, object]) -> mpmath.mpf:
        """+-inf for a divergent closed form (e.g. oo/(sigma_w^2/2 - 1)), its sign decided
        at the point (SymPy cannot sign the denominator for a symbolic sigma_w)."""
        scale = sp.Dummy("H", positive=True)
        finite = self.expr.xreplace({sp.oo: scale}).xreplace(
            {s: to_sympy(v) for s, v in point.items()})
        if not finite.has(scale) and finite.is_number and finite.is_finite:
            return mpmath.mpmathify(sp.N(finite, 30))  # the divergent piece is absent here
        # the sign of the divergent piece itself (its coefficient of H), not of the value at
        # H = 1: ELU's chi2 at q = 1/1000 is oo plus a large negative finite part
        sign = sp.sign(sp.N(sp.diff(finite, scale).subs(scale, 1), 30))
        if sign == 0 or not sign.is_number or self.expr.has(sp.zoo, sp.nan):
            raise InvalidValueError(f"{self.name} for {self.activation.name} is undefined at "
                                    f"these values (infinite without a sign)")
        return mpmath.inf if sign > 0 else -mpmath.inf

    def evaluate(self, dps: int = 30, method: str = "auto", proven: bool | None = None,
                 **values: object) -> mpmath.mpf:
        """The law's value at ``values`` (keyed by symbol name), correct to ``dps`` digits.

        How the digits are certified (``certified`` returns the value with its certificate):
        where the law's form is closed, a Faddeeva pole series or an expectation over one or
        two Gaussian variables (the Mehler kernels through their definition), the value is the
        midpoint of a proven Arb enclosure (``enclose``) rounded to dps digits, within half a
        unit in the last digit of the exact value and with the exact value's decimal rounding
        (certificate 'ball'); elsewhere (laws with their own numerics; variances above
        MAX_BALL_VARIANCE; points the enclosure cannot do) two working precisions
        agree on every digit relative to the value (``symfield.numbers.LAW_POLICY``:
        'agreement'). ``proven=True`` takes the ball route for every law it covers (two
        variables included) and raises NotEnclosable or PrecisionError (saying how many digits
        are proven) rather than fall back; ``proven=False`` takes the two-precision route only.

        Divergent laws return +-inf. ``method`` chooses the route for laws whose exact form is
        a series (see METHODS). dps may be 15..1000: closed forms take milliseconds at any
        dps; quadratures and series cost more (their caps: ``CompiledExpr.max_work``), and a
        route that cannot reach dps digits raises PrecisionError. Raises ValueError for
        unknown or missing variables, values outside the domain, non-finite values, or dps
        outside the allowed range.
        """
        return self.certified(dps, method, proven, **values).value

    def certified(self, dps: int = 30, method: str = "auto", proven: bool | None = None,
                  **values: object) -> "CertifiedValue":
        """``evaluate``'s value with how it was certified: a ``CertifiedValue`` (``.value``,
        ``.certificate`` one of CERTIFICATES, ``.enclosure`` the proven ball or None,
        ``.reason`` why a value was not ball-proven)."""
        from ..errors import PrecisionError
        from ..gaussian.numerics.enclosure import NotEnclosable

        if proven not in (None, True, False):
            raise InvalidValueError(f"proven must be True, False or None (got {quoted(proven)})")
        what = f"{self.name} for {self.activation.name}"
        if type(self).evaluate is not Law.evaluate and type(self).certified is Law.certified:
            # a law with its own numerics (the recursions over depth): two precisions by
            # default (a recursion's balls cost more); proven through its own enclosure
            reason = f"{what} has its own numerics ({type(self).__name__})"
            if proven and type(self).enclose is not Law.enclose:
                value, ball = value_from_balls(lambda digits: self.enclose(dps=digits, **values),
                                               check_dps(dps), what, max_dps=MAX_DPS)
                return CertifiedValue(value, "ball", ball)
            if proven:
                raise NotEnclosable(f"{reason}; it has no enclosure yet")
            extra = {} if method == "auto" else {"method": method}
            return CertifiedValue(self.evaluate(dps=dps, **extra, **values), "agreement",
                                  reason=reason)
        dps = check_dps(dps)
        self._numeric_expr(method)  # checks the method's name
        point = self._check(values)
        finite_part = None
        if self.closed_form and self.expr.has(sp.oo, -sp.oo) and self.expr.is_infinite is not False:
            value = self._infinite_value(point)
            if mpmath.isinf(value):
                return CertifiedValue(value, "exact")
            # the divergent piece is absent here (ELU's chi2 at alpha = 1): the ball route
            # decides its Piecewise at the point; SymPy's evalf of the rest is the fallback
            finite_part = value

        def agreed_value() -> mpmath.mpf:
            if finite_part is not None:
                return finite_part
            return self._agreed_value(point, method, at_zero, dps)

        if self.form == "closed" and all(is_small_fraction(v) for v in point.values()):
            # Exact points first: at a fixed point such as D = 0 the closed form collapses to
            # a rational, which floating evaluation would return as a tiny nonzero number.
            # (Small fractions only: SymPy factors the integers under a square root.)
            exact = self.expr.subs(point)
            if exact.is_Rational:
                with mpmath.workdps(dps):
                    return CertifiedValue(mpmath.mpf(exact.p) / exact.q, "exact")
        at_zero = any(point[s] == 0 for s in self.variables if s.name in self._zero_variances())
        form, reason = (None, "proven=False") if proven is False \
            else self._ball_route(method, at_zero, proven is True, point)
        if form is not None:
            try:
                value, ball = self._ball_value(form, point, dps, what)
                return CertifiedValue(value, "ball", ball)
            except (SymfieldError, ZeroDivisionError) as error:
                exact = self._exact_zero(point) if isinstance(error, PrecisionError) else None
                if exact is not None:  # a ball around 0 never meets a relative target
                    with mpmath.workdps(dps):
                        return CertifiedValue(mpmath.mpf(0), "exact")
                if proven:
                    raise
                # the two-precision route keeps its own behaviour at such points (its own
                # errors for singular or non-real points, a value where it agrees)...
                reason = f"no enclosure here ({type(error).__name__}: {error})"
                best = getattr(error, "best", None)
                if best is not None:
                    # ... but not against a proof: agreement on digits the ball excludes
                    # (exp(10^-600) - 1 is exactly 0 at any working precision below 600
                    # digits) is agreement on wrong digits
                    agreed = agreed_value()
                    if not _consistent(agreed, best, dps):
                        raise PrecisionError(
                            f"{error}; the two working precisions agree on "
                            f"{mpmath.nstr(agreed, 10)}, which the proven enclosure excludes "
                            f"(they agree on wrong digits)") from None
                    return CertifiedValue(agreed, "agreement", reason=reason)
        elif proven:
            raise NotEnclosable(f"{what}: {reason}")
        if finite_part is not None:
            reason = f"{reason}; SymPy's evalf of a law whose divergent piece is absent here"
        return CertifiedValue(agreed_value(), "agreement", reason=reason)

    def _ball_route(self, method: str, at_zero: bool, everywhere: bool,
                    point: Mapping[sp.Symbol, object]) -> tuple[sp.Expr | None, str]:
        """(the expression the ball route encloses, "") or (None, why the value is certified by
        two precisions instead). ``everywhere`` (proven=True) lifts the limits on cost: two
        variables, variances above MAX_BALL_VARIANCE. Cached per law: the translation of a
        form the ball arithmetic cannot do is not cached by compile_ball."""
        from ..gaussian.numerics.enclosure import NotEnclosable, compile_ball

        key = (method, at_zero)
        if key not in self._ball_routes:
            try:
                # at a zero variance the definition, as in the two-precision route (the q -> 0
                # limits of its expectations; pole series and some closed forms divide by q)
                form = (self.definition if at_zero else self.enclosed_form() if method == "auto"
                        else self._numeric_expr(method))
                compile_ball(form, self.variables)
                integrals = form.atoms(Expectation)
                # every variance: the diagonal of a pair's covariance (q1, rho, q2) too
                diagonal = [v for e in integrals for v in e.covariance[::2]]
                variances = sp.lambdify(self.variables, diagonal,
                                        modules="math") if integrals else None
                route = form, "", variances
            except NotEnclosable as error:
                route = None, str(error), None
            self._ball_routes[key] = route
        form, reason, variances = self._ball_routes[key]
        if form is None or everywhere:
            return form, reason
        if variances is not None:
            try:
                widest = max(abs(v) for v in variances(*(float(point[s]) for s in self.variables)))
            except (OverflowError, ValueError, ZeroDivisionError):
                widest = math.inf
            if not widest <= MAX_BALL_VARIANCE:
                return None, (f"an integral at a variance above {MAX_BALL_VARIANCE}: Arb's "
                              f"integration subdivides near the integrand's complex poles there "
                              f"(seconds to minutes; evaluate(proven=True) or enclose try it)")
        return form, reason

    def _ball_value(self, form: sp.Expr, point: Mapping[sp.Symbol, object], dps: int,
                    what: str):
        """(value, ball) from enclosures of ``form`` at the point (``value_from_balls``)."""
        from ..gaussian.numerics.enclosure import enclose

        raw = [point[s] for s in self.variables]
        return value_from_balls(lambda digits: enclose(form, self.variables, raw, digits,
                                                       what=what), dps, what)

    def _agreed_value(self, point: Mapping[sp.Symbol, object], method: str, at_zero: bool,
                      dps: int) -> mpmath.mpf:
        """The value on which two working precisions agree to dps digits (LAW_POLICY)."""
        # The degenerate Gaussian (a variance of 0) through the definition: its expectations
        # take their q -> 0 limits there, where the pole series and some closed forms divide
        # by the variance.
        fn = compiled(self.definition, tuple(self.variables)) if at_zero else self.compiled(method)
        raw = [point[s] for s in self.variables]

        def at(work: int):
            with mpmath.workdps(work):
                return fn.mp([to_mpf(v) for v in raw], work)

        try:
            value = LAW_POLICY.certify(at, dps, magnitude_spread(raw), fn.max_work(dps),
                                       input_digits(raw))
        except ZeroDivisionError:
            # e.g. E[delta(u1) delta(u2)] = 1/(2 pi sqrt(q1 q2 - rho^2)) at |c| = 1
            raise InvalidValueError(
                f"{self.name} for {self.activation.name} is infinite or undefined at these "
                f"values (a division by zero: the point is a singularity of the law)") from None
        return self.real_value(value, dps)

    def enclose(self, dps: int = 30, **values: object):
        """A proven enclosure of the law's value at ``values`` (the same variables, defaults
        and domain checks as ``evaluate``): an ``Enclosure`` (``.mid``, ``.rad``,
        ``.contains(x)``, ``.digits``) computed in ball arithmetic (Arb) with
        rad <= 10^-dps |value| / 2, so every one of the dps digits is proven, not only agreed
        on. Closed forms, Faddeeva pole series (with a proven tail bound) and integral forms
        (Arb's integration split at the kinks, with a proven bound on the Gaussian tails; over
        two variables for separable integrands f(u1) g(u2), 0.1-3 s a value); a law whose
        exact form is a series without a proven tail (Mehler's, tanh's kernels) is enclosed
        through its definition's expectations; a divergent
        law gives the exact +-inf. Raises NotEnclosable (a SymfieldError and a
        NotImplementedError) for coupled two-variable integrands, two-variable forms above
        100 digits, integrands whose
        growth the tail bound cannot establish, and laws with their own numerics (the NNGP/NTK
        and finite-width recursions over depth enclose themselves), and
        PrecisionError saying how many digits are proven when the effort cap
        (``enclosure.max_working_bits``) is reached first, or when the radius of an input
        ball limits the result.

        A value may itself be an ``Enclosure`` (a proven q* from
        ``enclosure.enclose_fixed_point``): it enters as its ball, each end of which must pass
        the domain checks, so chi1 at a proven q* is proven too."""
        from ..errors import PrecisionError
        from ..gaussian.numerics.enclosure import (Enclosure, NotEnclosable, enclose,
                                                   exact_enclosure)

        what = f"{self.name} for {self.activation.name}"
        if type(self).evaluate is not Law.evaluate:
            raise NotEnclosable(f"{what} has its own numerics ({type(self).__name__}); "
                                f"proven enclosures cover closed-form laws only so far")
        dps = check_dps(dps)
        balls = {name: v for name, v in values.items() if isinstance(v, Enclosure)}
        for name, ball in balls.items():
            if mpmath.isinf(ball.mid):
                raise InvalidValueError(f"{name} must be finite (got {ball!r})")
            for end in (ball.lower, ball.upper):  # the domain checks hold at both ends
                self._check({**values, **{k: b.mid for k, b in balls.items()}, name: end})
        point = self._check({**values, **{k: b.mid for k, b in balls.items()}})
        if balls:
            names = {s.name: s for s in self.variables}
            point.update({names[k]: b for k, b in balls.items()})
            # (a series' upper limit oo is not a divergent piece)
            if self.closed_form and self.expr.has(sp.oo, -sp.oo):
                raise NotEnclosable(f"{what} has a divergent piece; it is enclosed at exact "
                                    f"values only, not on a ball")
        elif self.closed_form and self.expr.has(sp.oo, -sp.oo) \
                and self.expr.is_infinite is not False:
            infinite = self._infinite_value(point)
            if mpmath.isinf(infinite):
                return exact_enclosure(infinite)
        if all(is_small_fraction(v) for v in point.values()):
            exact = self.expr.subs(point)  # a rational at an exact fixed point, as in evaluate
            if exact.is_Rational:
                return exact_enclosure(exact, dps)
        exact_form = self.enclosed_form()
        try:
            return enclose(exact_form, self.variables, [point[s] for s in self.variables],
                           dps, what=what)
        except PrecisionError:
            if any(point[s] == 0 for s in self.variables if s.name in self._zero_variances()):
                raise NotEnclosable(f"{what} at a zero variance is the q -> 0 limit of its "
                                    f"closed form, which has no enclosure yet") from None
            exact = self._exact_zero(point)
            if exact is not None:
                return exact_enclosure(exact)
            raise

    def enclosed_form(self) -> sp.Expr:
        """The exact expression ``enclose`` works on: the derived form, or where it holds a
        series without a proven tail (Mehler's, also inside an integral form: softplus's
        correlation_map_slope) the law's expectations themselves. NotEnclosable otherwise."""
        from ..gaussian.numerics.enclosure import NotEnclosable, compile_ball

        try:
            compile_ball(self.expr, self.variables)
        except NotEnclosable:
            if not self.expr.has(sp.Sum) or not self.definition.has(Expectation):
                raise
            return self.definition
        return self.expr

    def _exact_zero(self, point: Mapping[sp.Symbol, object]):
        """0 when SymPy shows ``expr`` is exactly 0 at a point of moderate fractions (a ball
        around 0 never reaches a relative target: the ReLU correlation map at c = -1 has
        pi - acos(-1)); None otherwise. Fractions below 2^64 only: SymPy factors the
        integers under square roots, quickly at that size."""
        from fractions import Fraction

        if not all(isinstance(v, Fraction) and max(abs(v.numerator), v.denominator) < 2**64
                   for v in point.values()):
            return None
        exact = {s: sp.Rational(v.numerator, v.denominator) for s, v in point.items()}
        return 0 if self.expr.subs(exact).is_zero else None

    def to_numpy(self, method: str = "auto") -> Callable[..., np.ndarray]:
        """A vectorised float64 function taking the same keywords as ``evaluate``.

        Inputs are checked like ``evaluate`` checks them (finite numbers, signs, the law's
        domain; a rounding excess of a few ulps over a closed edge such as rho = sqrt(q1 q2)
        is accepted and treated as the edge): the first bad entry of an array is named in an
        InvalidValueError. Accuracy: a few ulps times the condition number of the law in its
        float64 inputs (the table in this module's documentation).

        For a pole series, 'series' sums it with scipy's Faddeeva function (erfcx/wofz) and
        recomputes by quadrature the points where its error estimate exceeds 1e-14 (and those
        with variances too small or too large for it: its all-asymptotic regime, more than
        2000 head terms);
        'auto' uses the quadrature, which is faster in float64.
        """
        evaluator = self.numpy_evaluator(method)
        order = tuple(self.variables)
        defaults = self.parameter_defaults()
        names = [s.name for s in order]
        integer_names = {s.name for s in order if s.is_integer}
        zero_ok = self._zero_variances()
        spec, activation, law_name = self._spec, self.activation, self.name

        def law_numpy(**arrays: object) -> np.ndarray:
            unknown = sorted(set(arrays) - set(names))
            if unknown:
                raise UnknownNameError(f"{law_name} has no variable {quoted(unknown[0])}; "
                                       f"its variables are: {', '.join(names)}")
            args = {}
            for n in names:
                if n in arrays:
                    raw = arrays[n]
                elif n in defaults:
                    raw = float(sp.S(defaults[n]))
                else:
                    raise InvalidValueError(f"{law_name} needs a value for {n}")
                args[n] = float_argument(raw, n, law_name, positive=n in STRICTLY_POSITIVE
                                         or (n in activation.parameters and bool(
                                             activation.parameters[n][0].is_positive)),
                                         zero_allowed=n in zero_ok,
                                         nonnegative=n in NON_NEGATIVE,
                                         integer=n in integer_names)
            if spec is not None and spec.check_domain_np is not None:
                spec.check_domain_np(args, activation)
            return evaluator(*[args[n] for n in names])

        law_numpy.__name__ = f"{self.name}_{self.activation.name}"
        law_numpy.__doc__ = f"float64 {self.name} for {self.activation.name}: {sp.sstr(self.expr)}"
        return law_numpy

    def _pair_composition(self) -> PairComposition | None:
        """A closed map of the kernel evaluated through the kernel's float64 form
        (``PairComposition``) when that form has an end form of its own (GELU's kernel near
        c = -1), else None (the map's own float64 form)."""
        if self.name == "kernel" or self.form != "closed" or not self.definition.has(Expectation):
            return None
        kernel = DERIVE["derive"]("kernel", self.activation)
        if kernel.form != "closed" or {s.name for s in kernel.variables} != {"q1", "q2", "rho"}:
            return None
        if FusedFloat64([kernel.expr], kernel.variables).arctangent_ends[0] is None:
            return None
        try:
            return PairComposition(self.definition, self.variables, kernel.definition,
                                   kernel.expr, kernel.variables)
        except ValueError:    # an expectation other than the kernel's
            return None

    def _cancels_near_pairs(self) -> tuple[bool, bool]:
        """Whether the float64 form loses digits near a degenerate pair, (u2 -> u1, u2 ->
        -u1), where the definition, a square-difference expectation E[(f(u1) - f(u2))^2],
        does not: measured once at each end against the definition, at D = 1e-9 (A = 1,
        sigma_w = 1.3, sigma_b = 0.2) and at D = 4 (1 - 1e-9) (sigma_b = 0), parameters at
        their defaults. Closed forms in the angle (ReLU, abs) keep their digits at both;
        2 (chi0 - K) forms lose nine at the first (GELU, ELU), and an even activation's at
        the second (cos, the Gaussian bump: its distance tends to 0 there)."""
        if self._near_pairs is not None:
            return self._near_pairs
        self._near_pairs = (False, False)
        zero = self._zero_variances()
        order = tuple(self.variables)
        if not zero or self.expr == self.definition:
            return self._near_pairs
        by_definition = compiled(self.definition, order)
        own = compiled(self._numeric_expr("auto"), order)
        defaults = {k: float(sp.S(v)) for k, v in self.parameter_defaults().items()}
        found = []
        for gap, bias in ((1e-9, 0.2), (4 * (1 - 1e-9), 0.0)):
            probe = {"sigma_w": 1.3, "sigma_b": bias, "A": 1.0, **defaults}
            args = [np.array([gap if s.name in zero else probe.get(s.name, 1.0)])
                    for s in order]
            if by_definition.difference_ratio_np(*args) is None:
                return self._near_pairs
            with np.errstate(all="ignore"):
                mine = float(np.asarray(own.np(*args))[0])
                reference = float(np.asarray(by_definition.np(*args))[0])
            found.append(not abs(mine - reference) <= NEAR_ZERO_AGREEMENT * abs(reference))
        self._near_pairs = tuple(found)
        return self._near_pairs

    def numpy_evaluator(self, method: str = "auto") -> Callable[..., np.ndarray]:
        """The float64 law of positional arrays (``variables`` in order), *without* the
        input checks of ``to_numpy``: for callers that have checked their inputs (the
        depth recursions)."""
        cached = self._numpy_cache.get(method)
        if cached is not None:
            return cached
        order = tuple(self.variables)
        fn = compiled(self._numeric_expr(method), order)
        composed = self._pair_composition()
        fallback = compiled(self.definition, order) if (
            method == "series" and self.form == "series") else None
        zero_index = [i for i, s in enumerate(order) if s.name in self._zero_variances()]
        # points float64 cannot do are certified in mpmath by the default route (never the
        # pole series at a huge variance, whose terms are counted in the millions there)
        rescue = compiled(self._numeric_expr("auto"), order)
        definition = self.definition
        near_pair = compiled(definition, order) if self._zero_variances() \
            and self.expr != definition else None
        if near_pair is not None and near_pair.difference_ratio_np(
                *[np.ones(1)] * len(order)) is None:
            near_pair = None
        exact_inf = None
        if self.closed_form and self.expr.has(sp.oo, -sp.oo) and self.expr.is_infinite is not False:
            # the project's float64 modules: plain "numpy" has no vectorised erf (SELU's chi2)
            exact_inf = sp.lambdify(order, self.expr.xreplace({sp.oo: sp.Float("inf")}),
                                    modules=np_modules())

        def evaluate(*args: np.ndarray) -> np.ndarray:
            if exact_inf is not None:
                with np.errstate(all="ignore"):
                    shape = np.broadcast_shapes(*[np.shape(a) for a in args])
                    return np.broadcast_to(np.asarray(exact_inf(*args), dtype=float),
                                           shape).copy()
            with np.errstate(all="ignore"):
                out = np.asarray(fn.np(*args) if composed is None else composed(*args),
                                 dtype=float)
            shape = out.shape
            estimate = fn.last_error_estimate if composed is None else None
            # the relative error estimate of the quadrature behind each value (None: closed)
            quadrature_error = None if fallback is not None else estimate
            redo = np.zeros(shape, dtype=bool)
            if fallback is not None and estimate is not None:
                redo |= np.broadcast_to(estimate, shape) > SERIES_FALLBACK
            for i in zero_index:
                redo |= np.broadcast_to(args[i], shape) == 0
            if near_pair is not None:
                # near a degenerate pair where the law's own form cancels, its definition's
                # square-difference expectation computes the small value directly
                equal, opposite = self._cancels_near_pairs()
                with np.errstate(all="ignore"):
                    ratio = np.broadcast_to(near_pair.difference_ratio_np(*args), shape)
                if equal:
                    redo |= ratio < NEAR_ZERO_RATIO
                if opposite:
                    redo |= ratio > 1 / NEAR_ZERO_RATIO
            if fallback is not None or zero_index or near_pair is not None:
                redo |= ~np.isfinite(out)
                if np.any(redo):
                    sub = [np.broadcast_to(a, shape)[redo] for a in args]
                    out = out.copy()
                    by_definition = compiled(definition, order)
                    with np.errstate(all="ignore"):
                        out[redo] = by_definition.np(*sub)
                    if by_definition.last_error_estimate is not None:
                        quadrature_error = np.zeros(shape) if quadrature_error is None \
                            else np.array(np.broadcast_to(quadrature_error, shape))
                        quadrature_error[redo] = by_definition.last_error_estimate
            # Extreme magnitudes overflow or underflow in float64 intermediates
            # (16 q/(4q + 1)^(3/2) at q = 1e300), and quadratures can cancel (tanh's
            # E[phi'^2 + phi phi''] at q = 1e30): such points, and NaN (inf - inf), are
            # recomputed in mpmath; an infinity is the law's (E[delta delta] at |c| = 1).
            extreme = np.isnan(out)
            if quadrature_error is not None:
                extreme |= np.broadcast_to(quadrature_error, shape) > QUADRATURE_RESCUE
            for a in args:
                a = np.broadcast_to(a, shape)
                with np.errstate(all="ignore"):
                    extreme |= (np.abs(a) > 1e150) | ((a != 0) & (np.abs(a) < 1e-150))
            if np.any(extreme):
                out = out.copy()
                out[extreme] = _mp_points(rescue, [np.broadcast_to(a, shape)[extreme]
                                                   for a in args])
            return out

        self._numpy_cache[method] = evaluate
        return evaluate

    # -- source code ----------------------------------------------------------------------
    def to_source(self, language: str) -> str:
        """Standalone source of the law in ``language``: 'c', 'numpy', 'jax' or 'torch'
        (``symfield.gaussian.numerics.codegen``). The function is
        ``symfield_<law>_<activation>`` of the variables in ``variables`` order; the numpy,
        JAX and PyTorch modules need only their library. Raises UnknownNameError for another
        language and InvalidValueError for a law without a closed form or pole series."""
        from ..gaussian.numerics.codegen import export

        return export(self, language)

    def to_c(self) -> str:
        """C99 source: ``double symfield_<law>_<activation>(double ...)`` (see to_source)."""
        return self.to_source("c")

    def to_jax(self) -> str:
        """A Python module of the law for JAX (see to_source)."""
        return self.to_source("jax")

    def to_torch(self) -> str:
        """A Python module of the law for PyTorch (see to_source)."""
        return self.to_source("torch")

    # -- display --------------------------------------------------------------------------
    def equation(self) -> sp.Eq:
        args = ", ".join(s.name for s in self.variables)
        return sp.Eq(sp.Symbol(f"{self.name}({args})"), self.expr, evaluate=False)

    def latex(self, document: bool = False) -> str:
        """LaTeX of the result (or a standalone document with the derivation)."""
        if not LATEX_RENDERERS:
            raise SymfieldError("no LaTeX renderer is installed (import symfield.output.latex)")
        return LATEX_RENDERERS["document" if document else "equation"](self)

    def _repr_latex_(self) -> str:
        return f"${self.latex()}$"

    def __str__(self) -> str:
        args = ", ".join(s.name for s in self.variables)
        kind = "divergent" if self.divergent else {
            "closed": "closed form", "series": "exact Faddeeva pole series",
            "integral": "exact Gaussian expectation"}[self.form]
        lines = [f"{self.name}[{self.activation.name}]({args}) = {sp.sstr(self.expr)}   ({kind})"]
        if self.divergence:
            lines.append(f"  diverges: {self.divergence}")
        return "\n".join(lines)

    __repr__ = __str__


#: How a Law is rendered as LaTeX ("equation", "document"): installed by symfield.output.latex,
#: which sits above the laws (a hook, so that the laws never import their presentation).
LATEX_RENDERERS: dict[str, Callable[["Law"], str]] = {}


def set_latex_renderers(equation: Callable[["Law"], str], document: Callable[["Law"], str]
                        ) -> None:
    """Install the functions ``Law.latex`` renders with (called by symfield.output.latex)."""
    LATEX_RENDERERS.update(equation=equation, document=document)


#: ``derive`` (installed by symfield.laws.calculus, which imports this module): a law that
#: needs another law of its activation (a map through the kernel's float64 form) asks it.
DERIVE: dict[str, Callable[..., "Law"]] = {}


def set_deriver(derive: Callable[..., "Law"]) -> None:
    """Install the calculus's ``derive`` (called by symfield.laws.calculus)."""
    DERIVE["derive"] = derive


def _is_integer(value) -> bool:
    try:
        return value == int(value)
    except (TypeError, ValueError, OverflowError):
        return False


#: float64 'series' points recomputed by quadrature above this estimated relative error.
SERIES_FALLBACK = 1e-14
#: Below this ratio var(u1 - u2) / var((u1 + u2)/2) a law whose float64 form cancels near
#: the degenerate pair u2 = u1 (Law._cancels_near_pairs) is computed by its definition:
#: the form loses about log10(1/ratio) digits and more (Gabor's 3e-15 at 0.04, GELU's 33
#: ulps at 0.14: over the bound of 16 ulps (1 + kappa)); above the inverse ratio, the same
#: near u2 = -u1.
NEAR_ZERO_RATIO = 0.3
#: Relative agreement with the definition at the probe D = 1e-9 that shows a float64 form
#: keeps its digits near the degenerate pair (a cancelling form is 1e-7 off there).
NEAR_ZERO_AGREEMENT = 1e-13
#: float64 quadrature points recomputed (certified) in mpmath above this estimated error.
QUADRATURE_RESCUE = 1e-13


def _mp_points(fn, columns: list[np.ndarray]) -> np.ndarray:
    """float64 values of a compiled law at a few points, certified to 17 digits in mpmath
    (no overflow, underflow or cancellation survives), NaN where the law is undefined."""
    out = np.empty(columns[0].size if columns else 1)
    for k in range(out.size):
        values = [mpmath.mpf(float(c[k])) for c in columns]

        def at(work: int, values=values):
            with mpmath.workdps(work):
                value = fn.mp(values, work)
                if isinstance(value, mpmath.mpc):
                    value = value.real if abs(value.imag) <= 1e-20 * abs(value) else mpmath.nan
                return value

        try:
            out[k] = float(LAW_POLICY.certify(at, 17, magnitude_spread(values), fn.max_work(17)))
        except ZeroDivisionError:
            out[k] = np.inf
        except (ValueError, ArithmeticError, SymfieldError):
            out[k] = np.nan
    return out


def float_argument(raw: object, name: str, law_name: str, positive: bool = False,
                   zero_allowed: bool = False, nonnegative: bool = False,
                   integer: bool = False) -> np.ndarray:
    """A float64 array for one variable, checked like ``evaluate`` checks a value: real finite
    numbers only (no None, text or complex), with the variable's sign; the first bad entry is
    named in the InvalidValueError."""
    try:
        array = np.asarray(raw)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "iuf" or array.dtype == bool:
        raise InvalidValueError(f"{law_name}: {name} must be a real number or an array of "
                                f"real numbers (got {quoted(raw)})")
    array = array.astype(float, copy=False)

    def refuse(mask: np.ndarray, requirement: str) -> None:
        bad = np.argwhere(mask)
        where = "" if array.ndim == 0 else f" (entry {tuple(int(i) for i in bad[0])})" \
            if array.ndim > 1 else f" (entry {int(bad[0][0])})"
        value = array[tuple(bad[0])] if array.ndim else array
        raise InvalidValueError(f"{law_name}: {name} must be {requirement}; got "
                                f"{float(value)!r}{where}")

    finite = np.isfinite(array)
    if not np.all(finite):
        refuse(~finite, "finite")
    if positive and zero_allowed and np.any(array < 0):
        refuse(array < 0, ">= 0")
    if positive and not zero_allowed and np.any(array <= 0):
        refuse(array <= 0, "> 0")
    if nonnegative and np.any(array < 0):
        refuse(array < 0, ">= 0")
    if integer and np.any(array != np.round(array)):
        refuse(array != np.round(array), "an integer")
    return array


__all__ = ["Law", "LawDefinition", "MAX_DPS", "MIN_DPS", "SymfieldError", "check_dps",
           "float_argument", "to_exact", "to_mpf"]
