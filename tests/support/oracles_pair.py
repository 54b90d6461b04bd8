"""Independent references for the two-input laws (theory.md sections 3, 5, 9, 10, 14).

Nothing here calls symfield's numerics or its derived expressions. The references are

* ``pair_expect``: E[F(u1, u2)] for a centred Gaussian pair with variances q1, q2 and
  covariance rho, as an iterated ``mpmath.quad`` over (z1, z2) with
  u1 = sqrt(q1) z1, u2 = sqrt(q2) (c z1 + sqrt(1 - c^2) z2), c = rho / sqrt(q1 q2)
  (theory.md 2.4). The inner range is split where u2 crosses a kink of the activation (and,
  for saturating activations, where u2 crosses 0 and +-1); the outer range at 0, at the kinks
  of u1, at the (smoothed) kinks of the inner integral seen as a function of z1 and, when
  |c| is close to 1, at a geometric ladder of multiples of sqrt(1 - c^2) around them, where
  the inner integral turns over on that small scale;
* ``reference_pair_law``: every two-input law written out from its definition (kernel,
  derivative kernel, covariance / correlation / overlap / distance maps; the distance map as
  E[(phi(u) - phi(u'))^2], which has no cancellation at small D);
* ``LITERATURE_PAIR``: the literature closed forms of theory.md section 10 (Williams 1997,
  Cho & Saul 2009, the NT ABRelu family) as SymPy expressions in symfield's symbols;
* ``reference_recursion``: the NNGP / NTK recursion of theory.md section 9 iterated with a
  kernel callback (the literature forms, or ``pair_expect``);
* ``GOLDEN_PAIR``: the two-input golden values of theory.md section 14.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Callable, Mapping

import mpmath as mp
import sympy as sp

from .oracles import ActivationOracle, DeltaAtZero, ReferenceError_, gauss_expect, to_mpf
from symfield.symbols import q1, q2, rho

# ------------------------------------------------------------------------------------------
# Golden values, theory.md section 14 (as printed: 30 significant digits)
# ------------------------------------------------------------------------------------------
GOLDEN_PAIR = {
    "G05": "0.216346895938785459658288881555",   # erf kernel, q1=q2=1, rho=1/2
    "G06": "0.450158158078553034777599595503",   # erf derivative kernel (= sqrt(2)/pi)
    "G07": "-0.291972055482449258443821741492",  # erf kernel, q1=2, q2=1/2, rho=-7/10
    "G12": "0.304498890522114679044498291245",   # relu kernel (= 1/6 + sqrt(3)/(4 pi))
    "G13": "0.333333333333333333333333333333",   # relu derivative kernel (= 1/3)
    "G18": "0.186324413203448086106782889972",   # tanh kernel, q1=q2=1, rho=1/2
    "G19": "0.384747028441038901531468069364",   # tanh derivative kernel
    "G20": "0.683905650898705972359983791295",   # relu NNGP Sigma^3, sigma_w^2=2, sigma_b=0
    "G21": "1.3514795611234831630837342058",     # relu NTK Theta^3 (Theta^3(x, x) = 3)
}

# ------------------------------------------------------------------------------------------
# Literature closed forms (theory.md section 10)
# ------------------------------------------------------------------------------------------
_pi = sp.pi
_prod = (1 + 2 * q1) * (1 + 2 * q2)
#: theta = arccos(rho / sqrt(q1 q2)) (Cho & Saul)
THETA = sp.acos(rho / sp.sqrt(q1 * q2))


def ab_relu_forms(a, b) -> dict[str, sp.Expr]:
    """NT ABRelu / theory.md 10.2 for phi = a min(x, 0) + b max(x, 0)."""
    a, b = sp.S(a), sp.S(b)
    kernel = ((a - b) ** 2 / (2 * _pi) * sp.sqrt(q1 * q2 - rho**2)
              + ((a**2 + b**2) / 2 - (a - b) ** 2 / (2 * _pi) * THETA) * rho)
    dkernel = (a**2 + b**2) / 2 - (a - b) ** 2 / (2 * _pi) * THETA
    return {"kernel": kernel, "derivative_kernel": dkernel}


#: law -> closed form in (q1, q2, rho), per activation (leaky_relu at alpha = 1/100).
LITERATURE_PAIR: dict[str, dict[str, sp.Expr]] = {
    "erf": {
        "kernel": 2 / _pi * sp.asin(2 * rho / sp.sqrt(_prod)),
        "derivative_kernel": 4 / (_pi * sp.sqrt(_prod - 4 * rho**2)),
    },
    # Cho & Saul arc-cosine kernels n = 1 and n = 0 (theory.md 10.2), written independently
    # of the ABRelu family.
    "relu": {
        "kernel": sp.sqrt(q1 * q2) / (2 * _pi) * (sp.sin(THETA) + (_pi - THETA) * sp.cos(THETA)),
        "derivative_kernel": (_pi - THETA) / (2 * _pi),
    },
    "leaky_relu": ab_relu_forms(sp.Rational(1, 100), 1),
    "abs": ab_relu_forms(-1, 1),
    "linear": {"kernel": rho, "derivative_kernel": sp.S.One},
}


@lru_cache(maxsize=None)
def _mpmath_form(expr: sp.Expr) -> Callable:
    return sp.lambdify((q1, q2, rho), expr, modules="mpmath")


def form_mp(expr: sp.Expr, a, b, r):
    """A closed form in (q1, q2, rho) at the current precision. It is computed with twice the
    digits: acos(rho/sqrt(q1 q2)) at rho = q1 = q2 turns a rounding error e of the argument
    into sqrt(e)."""
    with mp.workdps(2 * mp.mp.dps):
        value = mp.re(_mpmath_form(expr)(to_mpf(a), to_mpf(b), to_mpf(r)))
    return +value


def literature_kernel_mp(act: str, law: str, a, b, r):
    """The literature closed form at mpf values (current precision), or None."""
    expr = LITERATURE_PAIR.get(act, {}).get(law)
    return None if expr is None else form_mp(expr, a, b, r)


# ------------------------------------------------------------------------------------------
# 2-D quadrature
# ------------------------------------------------------------------------------------------
def _cutoff(dps: int):
    """|z| beyond which the Gaussian weight is below 10^-(dps + 10)."""
    return mp.sqrt(2 * (dps + 10) * mp.log(10))


def is_homogeneous(oracle: ActivationOracle) -> bool:
    """phi = a min(x, 0) + b max(x, 0) (the hand-written piecewise-linear oracles): phi is
    positively homogeneous of degree 1 and phi' of degree 0."""
    return isinstance(oracle.d2phi, DeltaAtZero) and tuple(oracle.kinks) == (0,)


def _unit_angle(c):
    """(s, t0) with cos t0 = c, sin t0 = s = sqrt(1 - c^2), t0 in [0, pi]."""
    s = mp.sqrt((1 - c) * (1 + c))
    return s, mp.atan2(s, c)


def polar_expect(F: Callable, degree: int, qa, qb, r, dps: int = 32,
                 accuracy: int | None = None):
    """E[F(u1, u2)] for F positively homogeneous of ``degree`` (F(l a, l b) = l^k F(a, b),
    l > 0), in polar coordinates of (z1, z2) = R (cos t, sin t):
    u1 = sqrt(qa) R cos t, u2 = sqrt(qb) R cos(t - t0), cos t0 = c. The radial integral
    int_0^oo R^(k+1) exp(-R^2/2) dR = 2^(k/2) Gamma(k/2 + 1) is exact; the angular integral is
    mpmath.quad split where cos t or cos(t - t0) vanishes (the kinks). Ten guard digits: a
    value that cancels to ~0 (sign(u1) sign(u2) at rho = 0) keeps an absolute error of ~10^-dps
    times the scale of the integrand. ``accuracy`` (default ``dps``): the digits required of
    the value when more are used to work (an integrand that cancels)."""
    accuracy = dps if accuracy is None else accuracy
    with mp.workdps(dps + 10):
        # Near |c| = 1 the integrand lives on an angular window of width ~ sqrt(1 - |c|)
        # next to a zero of cos: the angles there lose -log10(1 - |c|) digits to rounding.
        c0 = to_mpf(r) / mp.sqrt(to_mpf(qa) * to_mpf(qb))
        lost = int(mp.ceil(-mp.log10(1 - abs(c0)))) if abs(c0) < 1 else 0
    with mp.workdps(dps + 10 + max(lost, 0)):
        qa, qb, r = to_mpf(qa), to_mpf(qb), to_mpf(r)
        sa, sb = mp.sqrt(qa), mp.sqrt(qb)
        c = r / (sa * sb)
        if abs(c) > 1 + to_mpf(10) ** -(dps - 2):
            raise ValueError("not a covariance matrix")
        c = max(min(c, to_mpf(1)), to_mpf(-1))   # |c| = 1 up to the callers' rounding
        _s, t0 = _unit_angle(c)
        two_pi = 2 * mp.pi
        cuts = {mp.pi / 2, 3 * mp.pi / 2}
        for k in (mp.pi / 2, 3 * mp.pi / 2):
            cuts.add((t0 + k) % two_pi)
        pts = sorted(x for x in cuts if 0 < x < two_pi)
        radial = to_mpf(2) ** (to_mpf(degree) / 2) * mp.gamma(to_mpf(degree) / 2 + 1)
        g = lambda t: F(sa * mp.cos(t), sb * mp.cos(t - t0))  # noqa: E731
        val, err = mp.quad(g, [0] + pts + [two_pi], error=True)
        if err > to_mpf(10) ** (-(accuracy - 8)) * abs(val):   # value near 0: int |g|
            scale = mp.quad(lambda t: abs(g(t)), [0] + pts + [two_pi])
            _check(val, err, accuracy, scale)
        else:
            _check(val, err, accuracy)
        return radial * val / two_pi


def trapezoid_expect(f: Callable, g: Callable, qa, qb, r, dps: int = 32,
                     combine: Callable | None = None, jointly_even: bool = False,
                     max_halvings: int = 6, growth: float = 0):
    """E[H(f(u1), g(u2))] (H = product unless ``combine`` is given) for smooth (analytic) f,
    g: the product trapezoid rule on a uniform grid in (z1, z2), with
    u1 = sqrt(qa) z1, u2 = sqrt(qb) (c z1 + s z2), |z1|, |z2| <= Z.

    The steps are chosen commensurate, |c| h1 = M s h2 with M a positive integer, so that the
    arguments c z1_i + s z2_j of g lie on one lattice and g is evaluated once per lattice
    point (the sum over the grid is still the full 2-D trapezoid sum). The trapezoid error for
    analytic integrands decays like exp(-2 pi d / h); it is certified empirically: the rule on
    the grid and on the grid shifted by half a step in both variables must agree to
    10^-(dps - 2) of the value (or of the sum of |terms|, for values near 0); their mean (the
    rule with half the step) is returned. The steps are halved until they agree. For f, g
    growing like exp(growth x) the range extends by 2 growth sqrt(q) (the peak of the
    squared integrand)."""
    with mp.workdps(dps):
        qa, qb, r = to_mpf(qa), to_mpf(qb), to_mpf(r)
        sa, sb = mp.sqrt(qa), mp.sqrt(qb)
        c = r / (sa * sb)
        if abs(c) > 1:
            raise ValueError("not a covariance matrix")
        s = mp.sqrt((1 - c) * (1 + c))
        if s == 0:
            raise ValueError("degenerate pair: use a 1-D rule")
        Z = _cutoff(dps) + 2 * growth * max(sa, sb)
        norm = 1 / mp.sqrt(2 * mp.pi)
        H = combine if combine is not None else (lambda a, b: a * b)
        # features of the activation sit at |x| ~ 1: at most half a unit per step in x
        H1 = to_mpf(1) / 2 / max(1, sa)
        H2 = to_mpf(1) / 2 / max(1, sb * s)
        tol = to_mpf(10) ** (-(dps - 2))
        sign = 1 if c >= 0 else -1

        def steps(H1, H2):
            """(h1, h2, M): h1 <= H1, h2 <= H2, |c| h1 = M s h2 (M = 0: no lattice)."""
            if c == 0:
                return H1, H2, 0
            h2 = min(H2, abs(c) * H1 / s)
            if h2 < H2 / 4:        # |c| small: a lattice would need a much finer z2 grid
                return H1, H2, None
            M = int(mp.floor(abs(c) * H1 / (s * h2) + to_mpf(10) ** -10))
            n1, n2 = int(Z / H1) + 1, int(Z / h2) + 1
            if M * n1 + n2 > n1 * int(Z / H2):   # |c| close to 1: the plain grid is cheaper
                return H1, H2, None
            return M * s * h2 / abs(c), h2, M

        def rule(h1, h2, M, shift):
            o1, o2 = (h1 / 2, h2 / 2) if shift else (to_mpf(0), to_mpf(0))
            n1, n2 = int(Z / h1) + 1, int(Z / h2) + 1
            js = range(-n2 - 1, n2 + 1)
            w2 = [h2 * norm * mp.exp(-(o2 + j * h2) ** 2 / 2) for j in js]
            if jointly_even:
                i_range = range(0, n1 + 1)
                mult = [2 if (shift or i) else 1 for i in i_range]
            else:
                i_range = range(-n1 - 1, n1 + 1)
                mult = [1] * len(i_range)
            base = c * o1 + s * o2
            lattice = None
            if M:                      # g on the lattice k = sign M i + j
                ks = [sign * M * i for i in (i_range[0], i_range[-1])]
                k_lo, k_hi = min(ks) + js[0], max(ks) + js[-1]
                lattice = [g(sb * (base + s * h2 * k)) for k in range(k_lo, k_hi + 1)]
            elif M == 0:               # c = 0: g(u2) does not depend on z1
                fixed = [g(sb * s * (o2 + j * h2)) for j in js]
            total, scale = to_mpf(0), to_mpf(0)
            for i, m in zip(i_range, mult):
                z1 = o1 + i * h1
                w1 = m * h1 * norm * mp.exp(-z1 * z1 / 2)
                if w1 == 0:
                    continue
                fa = f(sa * z1)
                if lattice is not None:
                    a = sign * M * i + js[0] - k_lo
                    gs = lattice[a:a + len(w2)]
                elif M == 0:
                    gs = fixed
                else:
                    gs = [g(sb * (c * z1 + s * (o2 + j * h2))) for j in js]
                if combine is None:
                    term = w1 * fa * mp.fdot(w2, gs)
                else:
                    term = w1 * mp.fdot(w2, [H(fa, gv) for gv in gs])
                total += term
                scale += abs(term)
            return total, scale

        for _ in range(max_halvings + 1):
            h1, h2, M = steps(H1, H2)
            a, sc = rule(h1, h2, M, False)
            b, _sc = rule(h1, h2, M, True)
            if abs(a - b) <= tol * max(abs(a), sc * to_mpf(10) ** -4, to_mpf(10) ** -4):  # ~0 values
                return (a + b) / 2
            H1, H2 = H1 / 2, H2 / 2
        raise ReferenceError_(f"trapezoid reference did not converge (last two grids differ by "
                              f"{mp.nstr(abs(a - b), 3)})")


def nested_quad_expect(F: Callable, qa, qb, r, oracle: ActivationOracle, dps: int = 32):
    """E[F(u1, u2)] by nested mpmath.quad over z2 (inside) and z1, split where u2 (inside)
    or u1 and the conditional mean of u2 (outside) cross a kink of the activation. Slow
    (minutes at 30 digits): the fallback for activations registered after these tests
    were written that are neither smooth nor piecewise linear."""
    with mp.workdps(dps):
        qa, qb, r = to_mpf(qa), to_mpf(qb), to_mpf(r)
        sa, sb = mp.sqrt(qa), mp.sqrt(qb)
        c = r / (sa * sb)
        s = mp.sqrt((1 - c) * (1 + c))
        Z = _cutoff(dps)
        kinks = [to_mpf(k) for k in oracle.kinks]
        gauss = lambda z: mp.exp(-z * z / 2) / mp.sqrt(2 * mp.pi)  # noqa: E731
        if s == 0:
            cuts = {to_mpf(0)} | {k / sa for k in kinks} | {k / (c * sb) for k in kinks}
            pts = sorted(x for x in cuts if abs(x) < Z)
            return mp.quad(lambda z: F(sa * z, c * sb * z) * gauss(z), [-Z] + pts + [Z])

        def inner(z1):
            cuts = {(k / sb - c * z1) / s for k in kinks}
            pts = sorted(x for x in cuts if abs(x) < Z)
            return mp.quad(lambda z2: F(sa * z1, sb * (c * z1 + s * z2)) * gauss(z2),
                           [-Z] + pts + [Z])

        cuts = {to_mpf(0)} | {k / sa for k in kinks}
        if c != 0:
            for k in kinks:
                centre = k / (sb * c)
                width = s / abs(c)
                while width < 1:
                    cuts |= {centre - width, centre + width}
                    width *= 4
                cuts.add(centre)
        pts = sorted(x for x in cuts if abs(x) < Z)
        val, err = mp.quad(lambda z1: inner(z1) * gauss(z1), [-Z] + pts + [Z], error=True)
        _check(val, err, dps)
        return val


def pair_expect(qa, qb, r, oracle: ActivationOracle, f: Callable, g: Callable,
                combine: Callable | None = None, dps: int = 32, jointly_even: bool = False,
                degree: int | None = None, accuracy: int | None = None):
    """E[H(f(u1), g(u2))] (H = product unless ``combine`` is given) for
    (u1, u2) ~ N(0, [[qa, r], [r, qb]]), by the quadrature that suits the activation:
    polar coordinates for the piecewise-linear family (``degree`` = homogeneity degree of the
    integrand), the certified product trapezoid rule for smooth activations, nested
    mpmath.quad otherwise (and for a degenerate pair)."""
    H = combine if combine is not None else (lambda a, b: a * b)
    F = lambda a, b: H(f(a), g(b))  # noqa: E731
    if is_homogeneous(oracle) and degree is not None:
        return polar_expect(F, degree, qa, qb, r, dps, accuracy)
    with mp.workdps(dps):
        c = to_mpf(r) / mp.sqrt(to_mpf(qa) * to_mpf(qb))
        degenerate = abs(c) >= 1
    if not oracle.kinks and not degenerate:
        with mp.workdps(dps):
            # exp(x) against the Gaussian: the integrand of (exp(u1) - exp(u2))^2 peaks at
            # z = 2 sqrt(q) (exp's distance map at q = 9.25 was cut off there)
            growth = 1 if oracle.exponential_growth and abs(f(to_mpf(30))) > 1e6 else 0
        return trapezoid_expect(f, g, qa, qb, r, dps, combine=combine,
                                jointly_even=jointly_even, growth=growth)
    return nested_quad_expect(F, qa, qb, r, oracle, dps)


def _check(val, err, dps, scale=None):
    # scale = int |integrand|: when even that is below 10^-dps the integrand vanishes to
    # working precision (ReLU's kernel at c = -1) and only absolute accuracy makes sense.
    floor = to_mpf(10) ** -15 if scale is None else max(scale, to_mpf(10) ** -dps)
    if err > to_mpf(10) ** (-(dps - 8)) * max(abs(val), floor):
        raise ReferenceError_(f"2-D reference quadrature error {mp.nstr(err, 3)} too large "
                              f"(value {mp.nstr(val, 10)})")


def literature_law(act: str, law: str, values: Mapping[str, object], alpha=None):
    """A two-input law from the literature kernels of ``LITERATURE_PAIR`` (at the current
    mpmath precision), composed by hand from each law's definition; None if the activation
    has no literature form. ``alpha`` overrides leaky ReLU's slope."""
    if act == "leaky_relu" and alpha is not None:
        if not isinstance(alpha, sp.Basic):
            fr = Fraction(alpha.strip()) if isinstance(alpha, str) else Fraction(alpha)
            alpha = sp.Rational(fr.numerator, fr.denominator)
        forms = ab_relu_forms(alpha, 1)
    else:
        forms = LITERATURE_PAIR.get(act)
    if forms is None:
        return None

    def F(name, a, b, r):
        return form_mp(forms[name], a, b, r)

    v = {k: to_mpf(x) for k, x in values.items() if k != "alpha"}
    if law in ("kernel", "derivative_kernel"):
        return F(law, v["q1"], v["q2"], v["rho"])
    if law == "covariance_map":
        return v["sigma_w"] ** 2 * F("kernel", v["q1"], v["q2"], v["rho"]) + v["sigma_b"] ** 2
    w2, b2 = v["sigma_w"] ** 2, v["sigma_b"] ** 2
    if law == "correlation_map":
        qq = v["q"]
        return (w2 * F("kernel", qq, qq, qq * v["c"]) + b2) / (w2 * F("kernel", qq, qq, qq) + b2)
    if law == "correlation_map_slope":
        qq = v["q"]
        return w2 * qq * F("derivative_kernel", qq, qq, qq * v["c"]) / (
            w2 * F("kernel", qq, qq, qq) + b2)
    if law == "overlap_map":
        qq = w2 * v["A"] + b2
        return F("kernel", qq, qq, w2 * v["C"] + b2)
    if law == "distance_map":
        qq = w2 * v["A"] + b2
        return 2 * (F("kernel", qq, qq, qq) - F("kernel", qq, qq, qq - w2 * v["D"] / 2))
    raise LookupError(f"no literature composition for the two-input law {law!r}")


def _even_activation(phi: Callable) -> bool:
    """phi(-x) == phi(x) at a few irrational points (|x| for abs, checked numerically)."""
    with mp.workdps(30):
        return all(phi(-x) == phi(x) for x in (mp.sqrt(2), mp.pi, 1 / mp.e))


def reference_pair_law(law: str, oracle: ActivationOracle, values: Mapping[str, object],
                       dps: int = 32):
    """The two-input law ``law`` from its definition, by ``pair_expect`` (and 1-D quadrature
    of oracles.gauss_expect for chi0)."""
    even = oracle.even_squares
    phi, dphi = oracle.phi, oracle.dphi
    with mp.workdps(dps + 5):
        v = {k: to_mpf(val) for k, val in values.items()}

        def K(a, b, r):
            return pair_expect(a, b, r, oracle, phi, phi, dps=dps, jointly_even=even, degree=2)

        if law == "kernel":
            return K(v["q1"], v["q2"], v["rho"])
        if law == "derivative_kernel":
            return pair_expect(v["q1"], v["q2"], v["rho"], oracle, dphi, dphi, dps=dps,
                               jointly_even=even, degree=0)
        if law == "covariance_map":
            return v["sigma_w"] ** 2 * K(v["q1"], v["q2"], v["rho"]) + v["sigma_b"] ** 2
        if law == "correlation_map":
            qq = v["q"]
            num = v["sigma_w"] ** 2 * K(qq, qq, qq * v["c"]) + v["sigma_b"] ** 2
            den = v["sigma_w"] ** 2 * gauss_expect(lambda x: phi(x) ** 2, qq, oracle, dps + 5) \
                + v["sigma_b"] ** 2
            return num / den
        if law == "correlation_map_slope":
            # Price's theorem: d/dc of the correlation map is sigma_w^2 q E[phi' phi'] / q'
            qq = v["q"]
            slopes = pair_expect(qq, qq, qq * v["c"], oracle, dphi, dphi, dps=dps,
                                 jointly_even=even, degree=0)
            den = v["sigma_w"] ** 2 * gauss_expect(lambda x: phi(x) ** 2, qq, oracle, dps + 5) \
                + v["sigma_b"] ** 2
            return v["sigma_w"] ** 2 * qq * slopes / den
        if law == "overlap_map":
            qq = v["sigma_w"] ** 2 * v["A"] + v["sigma_b"] ** 2
            return K(qq, qq, v["sigma_w"] ** 2 * v["C"] + v["sigma_b"] ** 2)
        if law == "distance_map":
            if v["D"] == 0:   # u = u' almost surely: (phi(u) - phi(u'))^2 = 0 by definition
                return to_mpf(0)
            qq = v["sigma_w"] ** 2 * v["A"] + v["sigma_b"] ** 2
            cov = qq - v["sigma_w"] ** 2 * v["D"] / 2
            if cov == -qq and _even_activation(phi):
                # u' = -u almost surely and phi(-u) = phi(u): the integrand vanishes
                return to_mpf(0)
            # the value is O(sigma_w^2 D): that many more digits, relative to qq, are needed
            extra = max(0, int(mp.log10(qq / (v["sigma_w"] ** 2 * v["D"]))))
            with mp.workdps(dps + extra + 5):
                return pair_expect(qq, qq, cov, oracle, phi, phi, dps=dps + extra,
                                   jointly_even=even, degree=2, accuracy=dps,
                                   combine=lambda a, b: (a - b) ** 2)
    raise LookupError(f"no hand-written reference for the two-input law {law!r}")


# ------------------------------------------------------------------------------------------
# NNGP / NTK recursion (theory.md section 9)
# ------------------------------------------------------------------------------------------
def reference_recursion(kernel: Callable, dkernel: Callable, diag: Callable, sigma1,
                        depth: int, sw, sb):
    """Iterate Sigma^{l+1} = sw^2 K(Sigma^l) + sb^2, Theta^{l+1} = Sigma^{l+1} +
    sw^2 Kdot(Sigma^l) Theta^l from Sigma^1 = Theta^1 = sigma1 (a list of lists of mpf).

    ``kernel(q1, q2, rho)``, ``dkernel(q1, q2, rho)`` and ``diag(q)`` (= kernel(q, q, q))
    are mpmath callables. Returns (Sigma, Theta) as lists of lists."""
    m = len(sigma1)
    S = [[to_mpf(x) for x in row] for row in sigma1]
    T = [row[:] for row in S]
    w2, b2 = to_mpf(sw) ** 2, to_mpf(sb) ** 2
    for _ in range(depth - 1):
        newS = [[None] * m for _ in range(m)]
        newT = [[None] * m for _ in range(m)]
        for i in range(m):
            for j in range(m):
                if i == j:
                    k = diag(S[i][i])
                else:
                    k = kernel(S[i][i], S[j][j], S[i][j])
                newS[i][j] = w2 * k + b2
                newT[i][j] = newS[i][j] + w2 * dkernel(S[i][i], S[j][j], S[i][j]) * T[i][j]
        S, T = newS, newT
    return S, T


def exact_fraction(x) -> Fraction:
    return Fraction(x)


__all__ = ["GOLDEN_PAIR", "LITERATURE_PAIR", "ab_relu_forms", "literature_kernel_mp",
           "pair_expect", "reference_pair_law", "reference_recursion", "DeltaAtZero"]


# ------------------------------------------------------------------------------------------
# Shared helpers of the two-input test files
# ------------------------------------------------------------------------------------------
#: The six two-input laws of the issue and their variables (activation parameters come after).
EXPECTED_PAIR_VARIABLES = {
    "kernel": ("q1", "q2", "rho"),
    "derivative_kernel": ("q1", "q2", "rho"),
    "covariance_map": ("q1", "q2", "rho", "sigma_w", "sigma_b"),
    "correlation_map": ("c", "q", "sigma_w", "sigma_b"),
    "correlation_map_slope": ("c", "q", "sigma_w", "sigma_b"),
    "overlap_map": ("C", "A", "sigma_w", "sigma_b"),
    "distance_map": ("D", "A", "sigma_w", "sigma_b"),
}
PAIR_MARKERS = frozenset({"q1", "q2", "rho", "c", "C", "D"})
PAIR_ALLOWED = PAIR_MARKERS | {"q", "A", "sigma_w", "sigma_b"}


def two_input_laws() -> list[str]:
    """Registered laws of a Gaussian pair without depth: the laws test_two_input_laws covers
    (a new one fails there until it gets a hand-written reference above)."""
    import symfield

    out = []
    for name, spec in symfield.registered_laws().items():
        names = {s.name for s in spec.variables}
        if names & PAIR_MARKERS and names <= PAIR_ALLOWED:
            out.append(name)
    return out


def effective_correlation(law: str, values: Mapping[str, object]):
    """The correlation of the Gaussian pair a law integrates over (at 120 digits)."""
    with mp.workdps(120):
        v = {k: to_mpf(x) for k, x in values.items() if k != "alpha"}
        if law in ("kernel", "derivative_kernel", "covariance_map"):
            return v["rho"] / mp.sqrt(v["q1"] * v["q2"])
        if law in ("correlation_map", "correlation_map_slope"):
            return v["c"]
        w2, b2 = v["sigma_w"] ** 2, v["sigma_b"] ** 2
        if law == "overlap_map":
            return (w2 * v["C"] + b2) / (w2 * v["A"] + b2)
        if law == "distance_map":
            qq = w2 * v["A"] + b2
            return (qq - w2 * v["D"] / 2) / qq
    return to_mpf(0)


def reference_dps(law: str, values: Mapping[str, object], base: int = 24) -> int:
    """Working digits for a reference good to ~10^-(base - 2): more when the pair is nearly
    degenerate (the angle sqrt(1 - c^2) loses digits) or the distance D is tiny."""
    c = effective_correlation(law, values)
    extra = 0
    with mp.workdps(120):
        if abs(c) < 1:
            extra = int(mp.ceil(-mp.log10(1 - abs(c))))
        if law == "distance_map" and to_mpf(values["D"]) > 0:
            extra = max(extra, int(mp.ceil(-mp.log10(to_mpf(values["D"])) / 2)))
    return base + min(extra, 48)
