"""Independent references for the single-input laws: hand-written integrands, literature forms.

Nothing here calls symfield's numerics. The references are

* ``gauss_expect``: E[g(sqrt(q) z)], z ~ N(0, 1), by ``mpmath.quad`` applied directly to an
  integrand written by hand, split at 0, at the activation's kinks and (for smooth activations
  at large q) near |z| = 1/sqrt(q) and 4/sqrt(q) where tanh/erf saturate;
* ``reference_law``: every law of theory.md sections 2.3 and 4, written out per law name
  from its definition (chi0 = E[phi^2], chi1 = sigma_w^2 E[phi'^2], ...);
* ``ACTIVATION_ORACLES``: phi, phi', phi'' for the known activations as mpmath lambdas, typed
  in by hand (derivatives of the piecewise-linear ones: phi'' is a Dirac delta of known
  weight at the kink, kept symbolic as ``DeltaAtZero``);
* ``LITERATURE``: the closed forms of theory.md section 10 (Williams 1997 for erf, Cho & Saul
  2009 for ReLU and its family) as SymPy expressions in symfield's canonical symbols;
* ``GOLDEN``: theory.md section 14 values.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Mapping

import mpmath as mp
import sympy as sp

from symfield.symbols import A, q, sigma_b, sigma_w

#: The expensive tier (tests/conftest.py): larger samples and more reference points.
FULL = bool(os.environ.get("SYMFIELD_FULL"))


def cheap_or_full(cheap, full):
    """``cheap`` in the default run, ``full`` with SYMFIELD_FULL=1 (sample sizes, depths)."""
    return full if FULL else cheap

# ------------------------------------------------------------------------------------------
# Activations, by hand
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeltaAtZero:
    """phi'' = weight * delta(x): the second derivative of a piecewise-linear activation."""

    weight: object


@dataclass(frozen=True)
class ActivationOracle:
    """phi, phi', phi'' as mpmath callables of x (phi'' may be a ``DeltaAtZero``).

    ``kinks`` are the points (in x) where phi is not smooth; ``even_squares`` says that every
    integrand of the single-input laws (phi^2, phi'^2, phi''^2, phi phi'') is even in x, so the
    reference may integrate over [0, oo) and double (phi odd or even: erf, tanh, linear, abs).
    ``smooth_scale`` marks activations with features at |x| ~ 1 (erf, tanh): the quadrature is
    split near |z| = 1/sqrt(q) where they saturate.
    """

    phi: Callable
    dphi: Callable
    d2phi: Callable | DeltaAtZero | None
    kinks: tuple = ()
    even_squares: bool = False
    smooth_scale: bool = False
    #: |phi|, |phi'|, |phi''| grow at most linearly (true for every hand-written oracle):
    #: the reference may then cut the Gaussian tail where it is below the working precision.
    linear_growth: bool = True
    #: phi contains an exponential (exp, ELU-type, softplus, SiLU...): against the Gaussian its
    #: integrands may peak far out, at z = k sqrt(q) for exp(k x); the reference cuts there.
    exponential_growth: bool = False
    #: angular frequency of phi's oscillation (sin(w x): w), 0 for none: the integrand of
    #: E[phi(x)^2] then turns ~2 w sqrt(q) times per unit of z, and the reference splits there
    frequency: float = 0.0


def _sqrtpi():
    return mp.sqrt(mp.pi)


def piecewise_linear_oracle(a, b) -> ActivationOracle:
    """phi = a*min(x, 0) + b*max(x, 0): phi' = a or b, phi'' = (b - a) delta(x).

    a and b are exact (int, Fraction or decimal string) and converted at the caller's
    working precision on every call."""
    a, b = Fraction(a), Fraction(b)
    cache: dict = {}

    def ab():  # (a, b) as mpf at the current working precision, computed once per precision
        hit = cache.get(mp.mp.prec)
        if hit is None:
            hit = cache[mp.mp.prec] = (to_mpf(a), to_mpf(b))
        return hit

    def phi(x):
        ma, mb = ab()
        return mb * x if x > 0 else ma * x

    def dphi(x):
        ma, mb = ab()
        return mb if x > 0 else ma

    return ActivationOracle(
        phi=phi,
        dphi=dphi,
        d2phi=DeltaAtZero(b - a),
        kinks=(0,),
        even_squares=(a == -b or a == b),
    )


def activation_oracle(name: str, params: Mapping[str, object] | None = None) -> ActivationOracle | None:
    """The hand-written oracle for a known activation (None if the name is unknown)."""
    params = dict(params or {})
    if name == "erf":
        return ActivationOracle(
            phi=mp.erf,
            dphi=lambda x: 2 / _sqrtpi() * mp.exp(-x * x),
            d2phi=lambda x: -4 * x / _sqrtpi() * mp.exp(-x * x),
            even_squares=True, smooth_scale=True)
    if name == "tanh":
        return ActivationOracle(
            phi=mp.tanh,
            dphi=lambda x: mp.sech(x) ** 2,
            d2phi=lambda x: -2 * mp.tanh(x) * mp.sech(x) ** 2,
            even_squares=True, smooth_scale=True)
    if name == "sigmoid":
        def logistic(x):
            return 1 / (1 + mp.exp(-x))
        return ActivationOracle(
            phi=logistic,
            dphi=lambda x: logistic(x) * logistic(-x),
            d2phi=lambda x: logistic(x) * logistic(-x) * (logistic(-x) - logistic(x)),
            smooth_scale=True)
    if name == "linear":
        return ActivationOracle(phi=lambda x: x, dphi=lambda x: mp.mpf(1),
                                d2phi=lambda x: mp.mpf(0), even_squares=True)
    if name == "relu":
        return piecewise_linear_oracle(0, 1)
    if name == "abs":
        return piecewise_linear_oracle(-1, 1)
    if name == "leaky_relu":
        alpha = params.get("alpha", Fraction(1, 100))
        if isinstance(alpha, float):
            alpha = repr(alpha)   # floats are read as the decimal they print as
        return piecewise_linear_oracle(Fraction(alpha) if not isinstance(alpha, str)
                                       else Fraction(alpha.strip()), 1)
    return None


_MP_LAMBDIFY = [{"Heaviside": lambda a, h0=None: mp.mpf(1) if a > 0 else mp.mpf(0),
                 "sign": mp.sign}, "mpmath"]


def lambdified_oracle(activation, params: Mapping[str, object] | None = None) -> ActivationOracle | None:
    """Fallback for an activation this file does not know: lambdify its SymPy derivatives.

    Less independent than the hand-written oracles (it trusts SymPy's differentiation), so it
    is used only for activations registered after these tests were written. Returns None when
    phi'' contains a Dirac delta (the test then skips the laws that need phi'')."""
    from symfield.activations import x

    # parameters exactly as symfield reads them (a float is the decimal it prints as):
    # sympify(0.001) would be a 15-digit Float, 1e-17 off in the 30-digit reference
    subs = {sym: _exact_sympy(params.get(name, default))
            for name, (sym, default) in activation.parameters.items()}
    fns = []
    for order in range(3):
        expr = activation.derivative(order).subs(subs)
        if expr.has(sp.DiracDelta):
            fns.append(None)
            continue
        fns.append(sp.lambdify(x, expr, modules=_MP_LAMBDIFY))
    if fns[0] is None or fns[1] is None:
        return None
    kinks = tuple(float(k.subs(subs)) for k in activation.kinks)
    phi = activation.phi.subs(subs)
    return ActivationOracle(phi=fns[0], dphi=fns[1], d2phi=fns[2], kinks=kinks,
                            smooth_scale=not kinks, linear_growth=_bounded_trigonometric(phi, x),
                            exponential_growth=activation.phi.has(sp.exp),
                            frequency=_frequency(phi, x))


def oracle_for(act_name: str,
               params: Mapping[str, object] | None = None) -> ActivationOracle | None:
    """The hand-written oracle if this file knows the activation, else the lambdified one."""
    import symfield

    hand = activation_oracle(act_name, params)
    if hand is not None:
        return hand
    return lambdified_oracle(symfield.registered_activations()[act_name], params or {})


def _frequency(phi: sp.Expr, x: sp.Symbol) -> float:
    """The largest |w| of sin(w x + c) / cos(w x + c) in phi (0 if none, or not linear)."""
    most = 0.0
    for f in phi.atoms(sp.sin, sp.cos):
        slope = sp.diff(f.args[0], x)
        if slope.has(x) or not slope.is_number:
            return 0.0
        most = max(most, abs(float(slope)))
    return most


def _bounded_trigonometric(phi: sp.Expr, x: sp.Symbol) -> bool:
    """phi is a polynomial in sin and cos of x (bounded, and so are its derivatives)."""
    trig = phi.atoms(sp.sin, sp.cos)
    if not trig:
        return False
    stripped = phi.xreplace({f: sp.Dummy() for f in trig})
    return not stripped.has(x) and stripped.is_polynomial()


# ------------------------------------------------------------------------------------------
# Quadrature
# ------------------------------------------------------------------------------------------


class ReferenceError_(AssertionError):
    """The reference quadrature itself did not reach its accuracy (a test-side problem)."""


def gauss_expect(g: Callable, var, oracle: ActivationOracle, dps: int = 45,
                 even: bool | None = None):
    """E[g(x)], x ~ N(0, var), by mpmath.quad on g(sqrt(var) z) exp(-z^2/2)/sqrt(2 pi).

    Split at 0, at every kink, and for smooth saturating activations at z = +-1/sqrt(var)
    when var > 1 (then the activation saturates inside the bulk of the Gaussian, and its
    complex poles come close to the real axis: tanh's at distance pi/(2 sqrt(var))). For
    activations of at most linear growth the range is |z| <= Z with exp(-Z^2/2) =
    10^-(working digits + 10) (otherwise the whole line).

    The error estimate of mp.quad is checked against 10^-(dps-8) of the value itself (at any
    magnitude: a value of 1e-37 must come with an error below 1e-74 at dps = 45). A value
    that is small only by cancellation (an integrand of size 1 integrating to ~0) is
    recomputed with as many extra digits as the cancellation costs (at most dps + 10). The
    one absolute allowance is an error below 10^-(2 dps) of the integrand's own size (|f|
    sampled on the range), which is what an exact zero computes to; ReferenceError_
    otherwise."""
    even = oracle.even_squares if even is None else even
    value, err, scale = _gauss_quad(g, var, oracle, even, dps)
    if _resolved(value, err, dps):
        return value
    # Cancellation: the integrand is much larger than its integral, and the rounding of
    # the integrand (10^-working_dps of its size) swamps the value. Redo with the digits
    # the cancellation costs (at most dps + 10 more: an exact zero then meets the floor).
    if value != 0 and scale > abs(value):
        lost = int(mp.ceil(mp.log10(scale / abs(value))))
    else:
        lost = dps
    extra = min(max(lost, 10) + 10, dps + 10)
    value, err, scale = _gauss_quad(g, var, oracle, even, dps + extra)
    if _resolved(value, err, dps):
        with mp.workdps(dps):
            return +value
    if _at_rounding(err, scale, dps):
        if oracle.frequency and (2 * oracle.frequency) ** 2 * to_mpf(var) / 2 \
                > 2 * dps * mp.log(10):
            # an oscillating phi's value may lie below the rounding of its integrand here
            # (E[cos(w x)] = exp(-w^2 q/2), 1e-218 at q = 1e3): the noise is not a reference.
            # At smaller variances no such value is that small: a structural zero (parity).
            raise BeyondQuadrature(f"a value below 10^-{2 * dps} of its integrand "
                                   f"(variance {mp.nstr(to_mpf(var), 6)})")
        with mp.workdps(dps):
            return +value    # an exact zero (a Hermite projection of the wrong parity)
    with mp.workdps(dps):
        raise ReferenceError_(
            f"reference quadrature error {mp.nstr(err, 3)} too large for the value "
            f"{mp.nstr(value, 5)} (integrand size {mp.nstr(scale, 3)}, dps {dps})")


def _resolved(value, err, dps) -> bool:
    """err within 10^-(dps-8) of |value|."""
    with mp.workdps(2 * dps + 20):
        return err <= mp.mpf(10) ** (-(dps - 8)) * abs(value)


def _at_rounding(err, scale, dps) -> bool:
    """The only absolute allowance: err within 10^-(2 dps) of the integrand's size, what a
    value that is exactly 0 computes to (mp.quad's estimate is then its rounding level,
    reached at ~2 dps working digits)."""
    with mp.workdps(2 * dps + 20):
        return err <= mp.mpf(10) ** (-2 * dps) * scale


def _gauss_quad(g: Callable, var, oracle: ActivationOracle, even: bool, work: int):
    """(value, error estimate, integrand size) of E[g(x)], x ~ N(0, var), at ``work`` digits
    (the range |z| <= Z grows with them)."""
    with mp.workdps(work):
        var = to_mpf(var)
        s = mp.sqrt(var)
        f = lambda z: g(s * z) * mp.exp(-z * z / 2)  # noqa: E731
        cuts = {mp.mpf(0)}
        cuts |= {mp.mpf(k) / s for k in oracle.kinks}
        if oracle.smooth_scale and var > 1:
            cuts |= {1 / s, -1 / s}
        if oracle.exponential_growth and var > 1:
            # exponential growth exp(k x) moves the integrand's peak out to z = k s
            cuts |= {sign * k * s for k in (1, 2, 3, 4) for sign in (1, -1)}
        # Beyond |z| = Z the Gaussian weight is below 10^-(work+10) while every integrand of
        # the single-input laws grows at most like (1 + q z^2): the tail is negligible at
        # the working digits (also for a value that is small by cancellation, computed with
        # extra digits), and a finite range lets tanh-sinh converge with half the nodes.
        Z = mp.sqrt(2 * (work + 10) * mp.log(10)) if oracle.linear_growth else mp.inf
        if oracle.frequency and oracle.linear_growth and var > 1:
            # an oscillating integrand (sin^2 at q = 210: ~200 turns over the range): pieces
            # of a quarter turn at frequency 2 w, each smooth enough for tanh-sinh
            width = mp.pi / (4 * oracle.frequency * s)
            count = int(mp.ceil(2 * Z / width))
            cuts |= {-Z + k * (2 * Z) / count for k in range(1, count)}
        pts = sorted(c for c in cuts if abs(c) < Z)
        if even:
            pts = [p for p in pts if p >= 0]
        # the integrand's size: |f| sampled at the cuts and on a grid over the range; the
        # quadrature runs on f / size, since mp.quad's error estimate is absolute in effect
        # (ab_relu with a slope of 1e-309: values of 1e-618 came with errors of their size)
        reach = Z if Z != mp.inf else mp.mpf(40)
        probes = set(pts) | {-reach + k * reach / 32 for k in range(65)}
        if even:
            probes = {p for p in probes if p >= 0}
        size = max(abs(f(z)) for z in probes)
        unit = size if size > 0 else mp.mpf(1)
        scaled = lambda z: f(z) / unit  # noqa: E731
        if even:
            value, err = mp.quad(scaled, pts + [Z], error=True)
            value, err = 2 * value, 2 * err
        else:
            value, err = mp.quad(scaled, [-Z] + pts + [Z], error=True)
        norm = unit / mp.sqrt(2 * mp.pi)
        return value * norm, err * norm, size / mp.sqrt(2 * mp.pi)


def tanh_expect(f: Callable, var):
    """E[f(sqrt(var) z)] for an even f of tanh, by mpmath.quad split where tanh saturates
    (|z| = 1/sqrt(var) and 4/sqrt(var)); at the current precision."""
    s = mp.sqrt(var)
    return 2 * mp.quad(lambda z: f(s * z) * mp.npdf(z), [0, 1 / s, 4 / s, mp.inf])


#: Variables of the single-input laws this module can build references for.
SINGLE_INPUT_VARIABLES = frozenset({"q", "A", "sigma_w", "sigma_b"})


def single_input_laws() -> list[str]:
    """The registered single-input laws (those defined in ``symfield.laws.single_input``, one
    Gaussian variable q or A with sigma_w, sigma_b): the laws this suite covers. A law added
    there gets every check here (and must get a reference in ``reference_law``). Two-input
    and geometry laws, built on top of these, have their own tests."""
    import symfield
    from symfield.laws import single_input

    ours = {entry.name for entry in single_input.ENTRIES}
    names = [name for name in symfield.registered_laws() if name in ours]
    for name in names:
        spec = symfield.registered_laws()[name]
        assert {s.name for s in spec.variables} <= SINGLE_INPUT_VARIABLES, (
            f"single-input law {name!r} has variables outside {sorted(SINGLE_INPUT_VARIABLES)}")
    return names


class NoReference(LookupError):
    """No hand-written reference for this law (a new law: add it to ``reference_law``)."""


class NeedsSecondDerivative(LookupError):
    """The law needs phi'' and the oracle has none (unknown activation with a delta)."""


class BeyondQuadrature(LookupError):
    """The value lies below what the reference quadrature's cancellation leaves: the mean of
    an oscillating phi, E[cos(w x)] = exp(-w^2 q/2) (1e-218 at q = 1e3, from an integrand of
    size 1 turning ~100 times)."""


def _second(oracle: ActivationOracle):
    if oracle.d2phi is None:
        raise NeedsSecondDerivative("phi'' not available as a function")
    return oracle.d2phi


def reference_law(law: str, oracle: ActivationOracle, values: Mapping[str, object], dps: int = 45):
    """The law's value from its definition (theory.md sections 2.3 and 4), by quadrature.

    Returns +inf for E[phi''^2] when phi'' is a delta of non-zero weight (theory.md 10.2:
    E[delta(u)^2] = delta(0) p_u(0) = +oo)."""
    with mp.workdps(dps):
        v = {k: to_mpf(val) for k, val in values.items()}
        phi, dphi = oracle.phi, oracle.dphi

        def E(g, var):
            return gauss_expect(g, var, oracle, dps)

        if law == "chi0":
            return E(lambda x: phi(x) ** 2, v["q"])
        if law == "chi1":
            return v["sigma_w"] ** 2 * E(lambda x: dphi(x) ** 2, v["q"])
        if law == "chi2":
            d2 = _second(oracle)
            if isinstance(d2, DeltaAtZero):
                if d2.weight == 0:
                    return mp.mpf(0)
                return mp.inf
            return v["sigma_w"] ** 2 * E(lambda x: d2(x) ** 2, v["q"])
        if law == "length_map":
            return v["sigma_w"] ** 2 * E(lambda x: phi(x) ** 2, v["q"]) + v["sigma_b"] ** 2
        if law == "activity_map":
            return E(lambda x: phi(x) ** 2, v["sigma_w"] ** 2 * v["A"] + v["sigma_b"] ** 2)
        def mean(g):
            # E[g] = E[(g(x) + g(-x))/2] over the half line (doubled): exactly 0 where g is
            # odd, where a whole-line quadrature leaves rounding noise that no relative
            # comparison survives
            try:
                return gauss_expect(lambda x: (g(x) + g(-x)) / 2, v["q"], oracle, dps,
                                    even=True)
            except ReferenceError_:
                if oracle.frequency:
                    raise BeyondQuadrature(f"{law} at q = {mp.nstr(v['q'], 6)}") from None
                raise

        if law == "mean_activity":
            return mean(phi)
        if law == "mean_slope":
            # Stein's lemma E[phi'(x)] = E[x phi(x)]/q: phi only, so a delta in phi' needs no
            # special case and the engine's route (phi' integrated) is not repeated
            return mean(lambda x: x * phi(x)) / v["q"]
        if law == "length_map_slope":
            d2 = _second(oracle)
            if isinstance(d2, DeltaAtZero):
                # E[phi phi''] = weight * phi(0) * p(0) for a delta at 0 (phi continuous).
                delta_term = to_mpf(d2.weight) * phi(mp.mpf(0)) / mp.sqrt(2 * mp.pi * v["q"])
                return v["sigma_w"] ** 2 * (E(lambda x: dphi(x) ** 2, v["q"]) + delta_term)
            return v["sigma_w"] ** 2 * E(lambda x: dphi(x) ** 2 + phi(x) * d2(x), v["q"])
    raise NoReference(f"no hand-written reference for law {law!r}: add one to tests/support/oracles.py")


# ------------------------------------------------------------------------------------------
# Literature closed forms (theory.md section 10), SymPy, in the canonical symbols
# ------------------------------------------------------------------------------------------

_pi = sp.pi
#: Williams (1997) / theory.md 10.1, for phi = erf and u ~ N(0, q).
ERF_E_PHI2 = 2 / _pi * sp.asin(2 * q / (1 + 2 * q))
ERF_E_DPHI2 = 4 / (_pi * sp.sqrt(1 + 4 * q))
ERF_E_D2PHI2 = 16 * q / (_pi * (1 + 4 * q) ** sp.Rational(3, 2))
ERF_E_PHI_D2PHI = -8 * q / (_pi * (1 + 2 * q) * sp.sqrt(1 + 4 * q))
ERF_CHI0_PRIME = 4 / (_pi * (1 + 2 * q) * sp.sqrt(1 + 4 * q))

_next_q = sigma_w**2 * A + sigma_b**2


def _ab_relu(a, b):
    """Cho & Saul / NT ABRelu at rho = q (theta = 0): E[phi^2] = (a^2+b^2)/2 q,
    E[phi'^2] = (a^2+b^2)/2; E[phi phi''] = 0 (phi(0) = 0); chi2 = oo unless a = b."""
    m = (sp.S(a) ** 2 + sp.S(b) ** 2) / 2
    laws = {
        "chi0": m * q,
        "chi1": sigma_w**2 * m,
        "length_map": sigma_w**2 * m * q + sigma_b**2,
        "activity_map": m * _next_q,
        "length_map_slope": sigma_w**2 * m,
    }
    if sp.S(a) != sp.S(b):
        laws["chi2"] = sp.oo
    return laws


#: law -> expression, per activation (leaky_relu at its default alpha = 1/100).
LITERATURE: dict[str, dict[str, sp.Expr]] = {
    "erf": {
        "chi0": ERF_E_PHI2,
        "chi1": sigma_w**2 * ERF_E_DPHI2,
        "chi2": sigma_w**2 * ERF_E_D2PHI2,
        "length_map": sigma_w**2 * ERF_E_PHI2 + sigma_b**2,
        "activity_map": ERF_E_PHI2.subs(q, _next_q),
        "length_map_slope": sigma_w**2 * (ERF_E_DPHI2 + ERF_E_PHI_D2PHI),
    },
    "relu": _ab_relu(0, 1),
    "leaky_relu": _ab_relu(sp.Rational(1, 100), 1),
    "abs": _ab_relu(-1, 1),
    "linear": {
        "chi0": q, "chi1": sigma_w**2, "chi2": sp.S.Zero,
        "length_map": sigma_w**2 * q + sigma_b**2, "activity_map": _next_q,
        "length_map_slope": sigma_w**2,
    },
}

# ------------------------------------------------------------------------------------------
# Golden values (theory.md section 14), as printed (30 significant digits, trailing zeros cut)
# ------------------------------------------------------------------------------------------

GOLDEN = {
    "G01": "0.464559054397539978509532408118",   # erf chi0, q=1
    "G02": "0.569410034733741646781410141123",   # erf E[phi'^2], q=1
    "G03": "0.455528027786993317425128112898",   # erf E[phi''^2], q=1
    "G04": "-0.379606689822494431187606760749",  # erf E[phi phi''], q=1
    "G14": "0.394294490397841174416459772444",   # tanh chi0, q=1
    "G15": "0.464402902448268241972021461116",   # tanh E[sech^4], q=1
    "G16": "0.300203812004187410724868136975",   # tanh E[phi''^2], q=1
    "G17": "-0.28260521430778116722303753288",   # tanh E[phi phi''], q=1 (29 digits shown)
}


def _exact(value):
    """Strings and Python floats as Fractions (a float is the decimal it prints as: 0.3 is
    3/10, symfield's convention for user input); anything else unchanged."""
    if isinstance(value, str):
        return Fraction(value.strip())
    if isinstance(value, float):
        return Fraction(repr(value))
    return value


def _exact_sympy(value) -> sp.Expr:
    """An exact SymPy number read with the same convention as ``to_mpf``."""
    value = _exact(value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    return sp.sympify(value)


def to_mpf(value):
    """A number, Fraction or exact decimal/fraction string as an mpf at the current precision.
    Python floats are read as the decimal they print as (0.3 is 3/10), symfield's convention
    for user input."""
    value = _exact(value)
    if isinstance(value, Fraction):
        return mp.mpf(value.numerator) / value.denominator
    return mp.mpf(value)
