"""Independent references for every named activation: phi written by hand, quadrature by
mpmath, and the closed forms neural-tangents publishes.

Nothing here calls symfield's calculus or numerics. Per activation:

* ``HAND``: phi and its classical derivatives phi', phi'' as mpmath callables typed in by
  hand (not differentiated by SymPy), the points where they jump or kink, and the Dirac
  deltas of the distributional derivatives (their weights, from the jumps).
* ``expect1`` / ``expect2``: E[g(x)] and E[f(u1) g(u2)] by ``mpmath.quad``, split at the
  kinks; the pair by conditioning on u1 (u2 | u1 is N(rho u1/q1, q2 - rho^2/q1)).
* ``reference``: the six Gaussian primitives of the laws (chi0, chi1, chi2,
  length_map_slope, kernel, derivative_kernel) from their definitions, +inf where a delta
  is squared, the delta terms of a pair by the bivariate density. The length-map slope is
  computed as d/dq E[phi(sqrt(q) z)^2] = E[x phi(x) phi'(x)]/q (differentiating under the
  integral, a route independent of the heat-equation form the law uses).
* ``NT``: kernel and derivative kernel in the published closed forms of neural-tangents
  (``stax.Erf``, ``Gelu``, ``Sin``/``Cos``, ``ABRelu``, ``Sign``, ``Exp``, ``Gaussian``,
  ``Monomial``, ``RectifiedMonomial``, ``Polynomial``), re-typed here from the formulas
  (arXiv:1912.02803 and the library's documentation), evaluated in mpmath.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import mpmath as mp

#: SELU's published constants, kept as text: converted at the caller's working precision
#: (an mpf made at import would carry 15 digits only).
SELU_LAMBDA = "1.0507009873554804934193349852946"
SELU_ALPHA = "1.6732632423543772848170429916717"


def _mpf(value) -> mp.mpf:
    if isinstance(value, Fraction):
        return mp.mpf(value.numerator) / value.denominator
    if isinstance(value, str):
        return mp.mpf(value) if "." in value else _mpf(Fraction(value))
    return mp.mpf(value)


@dataclass
class Hand:
    """phi, phi', phi'' (classical, almost everywhere), their breakpoints, and the deltas of
    the distributional phi' and phi'': lists of (point, weight)."""

    phi: Callable
    dphi: Callable
    d2phi: Callable
    kinks: tuple = ()
    deltas1: list = field(default_factory=list)   # in phi'
    deltas2: list = field(default_factory=list)   # in phi'' (order-0 deltas only)
    deltas2_prime: bool = False                   # phi'' holds delta' (a jump in phi)
    #: where the integrand has its bulk away from 0 (exp(2x): at x = 2q)
    shift: Callable | None = None


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _softplus(x):
    return mp.log1p(mp.exp(x)) if x < 30 else x + mp.log1p(mp.exp(-x))


def _ab(a, b) -> Hand:
    a, b = _mpf(a), _mpf(b)
    return Hand(lambda x: b * x if x > 0 else a * x,
                lambda x: b if x > 0 else a,
                lambda x: mp.mpf(0), kinks=(0,), deltas2=[(0, b - a)] if a != b else [])


def _elu(alpha, scale=1) -> Hand:
    alpha, scale = _mpf(alpha), _mpf(scale)
    jump = scale * (1 - alpha)   # phi'(0+) - phi'(0-)
    return Hand(lambda x: scale * (x if x > 0 else alpha * mp.expm1(x)),
                lambda x: scale * (1 if x > 0 else alpha * mp.exp(x)),
                lambda x: scale * (0 if x > 0 else alpha * mp.exp(x)),
                kinks=(0,), deltas2=[(0, jump)] if jump != 0 else [])


def _relu_power(k: int) -> Hand:
    if k == 0:
        return Hand(lambda x: mp.mpf(1) if x > 0 else mp.mpf(0), lambda x: mp.mpf(0),
                    lambda x: mp.mpf(0), kinks=(0,), deltas1=[(0, 1)], deltas2_prime=True)
    d2 = (lambda x: k * (k - 1) * x ** (k - 2) if x > 0 else mp.mpf(0))
    return Hand(lambda x: x**k if x > 0 else mp.mpf(0),
                lambda x: k * x ** (k - 1) if x > 0 else mp.mpf(0),
                d2, kinks=(0,), deltas2=[(0, 1)] if k == 1 else [])


def _polynomial(coefficients) -> Hand:
    c = [_mpf(v) for v in coefficients]
    return Hand(lambda x: sum(ci * x**i for i, ci in enumerate(c)),
                lambda x: sum(i * ci * x ** (i - 1) for i, ci in enumerate(c) if i >= 1),
                lambda x: sum(i * (i - 1) * ci * x ** (i - 2) for i, ci in enumerate(c) if i >= 2))


def _gelu_d2(x):
    return (2 - x * x) * mp.npdf(x)


def hand(name: str, params: dict | None = None) -> Hand | None:
    """The hand-written activation called ``name`` (registry defaults unless ``params``); its
    constants are made at the current mpmath precision, so call it inside ``workdps``."""
    p = dict(params or {})
    sq = mp.sqrt
    table = {
        "erf": lambda: Hand(mp.erf, lambda x: 2 / sq(mp.pi) * mp.exp(-x * x),
                            lambda x: -4 * x / sq(mp.pi) * mp.exp(-x * x)),
        "tanh": lambda: Hand(mp.tanh, lambda x: mp.sech(x) ** 2,
                             lambda x: -2 * mp.tanh(x) * mp.sech(x) ** 2),
        "sigmoid": lambda: Hand(_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x)),
                                lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x))),
        "linear": lambda: Hand(lambda x: x, lambda x: mp.mpf(1), lambda x: mp.mpf(0)),
        "relu": lambda: _ab(0, 1),
        "leaky_relu": lambda: _ab(p.get("alpha", Fraction(1, 100)), 1),
        "abs": lambda: _ab(-1, 1),
        "ab_relu": lambda: _ab(p.get("a", Fraction(-1, 2)), p.get("b", 1)),
        "gelu": lambda: Hand(lambda x: x * mp.ncdf(x), lambda x: mp.ncdf(x) + x * mp.npdf(x),
                             _gelu_d2),
        "silu": lambda: Hand(lambda x: x * _sigmoid(x),
                             lambda x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))),
                             lambda x: _sigmoid(x) * (1 - _sigmoid(x))
                             * (2 + x * (1 - 2 * _sigmoid(x)))),
        "softplus": lambda: Hand(_softplus, _sigmoid,
                                 lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
        "mish": lambda: _mish(),
        "elu": lambda: _elu(p.get("alpha", 1)),
        "selu": lambda: _elu(SELU_ALPHA, SELU_LAMBDA),
        "hard_tanh": lambda: Hand(lambda x: max(-1, min(1, x)),
                                  lambda x: mp.mpf(1) if abs(x) < 1 else mp.mpf(0),
                                  lambda x: mp.mpf(0), kinks=(-1, 1),
                                  deltas2=[(-1, 1), (1, -1)]),
        "sign": lambda: Hand(mp.sign, lambda x: mp.mpf(0), lambda x: mp.mpf(0), kinks=(0,),
                             deltas1=[(0, 2)], deltas2_prime=True),
        "step": lambda: _relu_power(0),
        "sin": lambda: Hand(mp.sin, mp.cos, lambda x: -mp.sin(x)),
        "cos": lambda: Hand(mp.cos, lambda x: -mp.sin(x), lambda x: -mp.cos(x)),
        "exp": lambda: Hand(mp.exp, mp.exp, mp.exp, shift=lambda q: 2 * q),
        "gaussian": lambda: Hand(lambda x: mp.exp(-x * x), lambda x: -2 * x * mp.exp(-x * x),
                                 lambda x: (4 * x * x - 2) * mp.exp(-x * x)),
        "gabor": lambda: Hand(lambda x: mp.exp(-x * x) * mp.sin(x),
                              lambda x: mp.exp(-x * x) * (mp.cos(x) - 2 * x * mp.sin(x)),
                              lambda x: mp.exp(-x * x) * ((4 * x * x - 3) * mp.sin(x)
                                                          - 4 * x * mp.cos(x))),
        "relu_power": lambda: _relu_power(int(p.get("k", 2))),
        "monomial": lambda: _polynomial([0] * int(p.get("k", 3)) + [1]),
        "polynomial": lambda: _polynomial(p.get("coefficients", (0, 1, Fraction(1, 2)))),
    }
    make = table.get(name)
    return make() if make else None


def _mish() -> Hand:
    def phi(x):
        return x * mp.tanh(_softplus(x))

    def dphi(x):
        t, s = mp.tanh(_softplus(x)), _sigmoid(x)
        return t + x * (1 - t * t) * s

    def d2phi(x):
        t, s = mp.tanh(_softplus(x)), _sigmoid(x)
        dt = (1 - t * t) * s                  # d/dx tanh(softplus(x))
        ds = s * (1 - s)
        return 2 * dt + x * (-2 * t * dt * s + (1 - t * t) * ds)

    return Hand(phi, dphi, d2phi)


# ------------------------------------------------------------------------------------------
# Quadrature
# ------------------------------------------------------------------------------------------
def expect1(g: Callable, q, kinks=(), centre=None) -> mp.mpf:
    """E[g(x)], x ~ N(0, q), by mpmath.quad in z = x/sqrt(q), split at 0, the kinks, +-1/sqrt(q)
    (unit-scale features) and ``centre`` (where the integrand's mass sits)."""
    q = _mpf(q)
    s = mp.sqrt(q)
    cuts = {mp.mpf(0)} | {mp.mpf(k) / s for k in kinks}
    if q > 1:
        cuts |= {1 / s, -1 / s}
    if centre is not None:
        cuts |= {centre / s - 3, centre / s, centre / s + 3}
    pts = [-mp.inf] + sorted(cuts) + [mp.inf]
    return mp.quad(lambda z: g(s * z) * mp.npdf(z), pts)


def expect2(f: Callable, g: Callable, q1, q2, rho, kinks_f=(), kinks_g=()) -> mp.mpf:
    """E[f(u1) g(u2)] by conditioning on u1: u2 | u1 ~ N(rho u1/q1, q2 - rho^2/q1)."""
    q1, q2, rho = _mpf(q1), _mpf(q2), _mpf(rho)
    v = q2 - rho**2 / q1
    sv = mp.sqrt(v)

    def inner(u1):
        mean = rho * u1 / q1
        cuts = {mp.mpf(0)} | {(mp.mpf(k) - mean) / sv for k in kinks_g}
        if v > 1:
            cuts |= {(1 - mean) / sv, (-1 - mean) / sv}
        pts = [-mp.inf] + sorted(cuts) + [mp.inf]
        return mp.quad(lambda w: g(mean + sv * w) * mp.npdf(w), pts)

    return expect1(lambda u: f(u) * inner(u), q1, kinks_f)


def _density2(t1, t2, q1, q2, rho):
    det = q1 * q2 - rho**2
    quad = (q2 * t1 * t1 - 2 * rho * t1 * t2 + q1 * t2 * t2) / det
    return mp.exp(-quad / 2) / (2 * mp.pi * mp.sqrt(det))


def reference(law: str, h: Hand, values: dict) -> mp.mpf:
    """The law's Gaussian primitive (chi's with their sigma_w^2) from its definition."""
    v = {k: _mpf(x) for k, x in values.items()}
    sw2 = v.get("sigma_w", mp.mpf(1)) ** 2
    if law in ("chi0", "chi1", "chi2", "length_map_slope"):
        q = v["q"]
        centre = h.shift(q) if h.shift else None
        if law == "chi0":
            return expect1(lambda x: h.phi(x) ** 2, q, h.kinks, centre)
        if law == "chi1":
            if any(w != 0 for _t, w in h.deltas1):
                return mp.inf
            return sw2 * expect1(lambda x: h.dphi(x) ** 2, q, h.kinks, centre)
        if law == "chi2":
            if h.deltas2_prime or h.deltas1 or any(w != 0 for _t, w in h.deltas2):
                return mp.inf
            return sw2 * expect1(lambda x: h.d2phi(x) ** 2, q, h.kinks, centre)
        # V'(q) = sigma_w^2 d/dq E[phi(sqrt q z)^2] = sigma_w^2 E[x phi phi'] / q (a.e. phi';
        # the deltas of phi' sit at 0 here, where x vanishes)
        return sw2 * expect1(lambda x: x * h.phi(x) * h.dphi(x), q, h.kinks, centre) / q
    q1, q2, rho = v["q1"], v["q2"], v["rho"]
    if law == "kernel":
        return expect2(h.phi, h.phi, q1, q2, rho, h.kinks, h.kinks)
    if law == "derivative_kernel":
        smooth = expect2(h.dphi, h.dphi, q1, q2, rho, h.kinks, h.kinks)
        # delta terms: E[w delta(u1 - t) phi'(u2)] and E[w1 w2 delta delta]
        total = smooth
        for t1, w1 in h.deltas1:
            for t2, w2 in h.deltas1:
                total += w1 * w2 * _density2(t1, t2, q1, q2, rho)
        if h.deltas1 and any(h.dphi(mp.mpf(x)) != 0 for x in ("0.3", "-0.7", "2")):
            raise NotImplementedError("a delta next to a non-zero phi': not needed here")
        return total
    raise KeyError(law)


# ------------------------------------------------------------------------------------------
# neural-tangents' closed forms (kernel, derivative kernel), re-typed from the formulas
# ------------------------------------------------------------------------------------------
def _nt_erf(q1, q2, r):
    prod = (1 + 2 * q1) * (1 + 2 * q2)
    root = mp.sqrt(prod - 4 * r * r)
    return 2 / mp.pi * mp.atan2(2 * r, root), 4 / mp.pi / root


def _nt_gelu(q1, q2, r):
    prod, prod1 = q1 * q2, (q1 + 1) * (q2 + 1)
    delta2 = prod1 - r * r
    delta = mp.sqrt(delta2)
    angle = mp.atan2(r, delta)
    k = ((r * r + prod * delta2) / (prod1 * delta) + r * angle) / (2 * mp.pi) + r / 4
    dk = (1 / delta2 + (1 - prod) / prod1 + 1) * r / delta / (2 * mp.pi) + mp.mpf(1) / 4 \
        + angle / (2 * mp.pi)
    return k, dk


def _nt_sin(q1, q2, r, phase=0):
    s = q1 + q2
    s1 = mp.exp(-s / 2 + r)
    s2 = mp.exp(-s / 2 - r) * mp.cos(2 * phase)
    return (s1 - s2) / 2, (s1 + s2) / 2


def _nt_ab(a_exact, b_exact):
    def f(q1, q2, r):
        a, b = _mpf(a_exact), _mpf(b_exact)   # at the caller's precision
        root = mp.sqrt(q1 * q2 - r * r)
        angle = mp.atan2(root, r)
        factor = (a - b) ** 2 / (2 * mp.pi)
        dot = (a * a + b * b) / 2 - factor * angle
        return factor * root + dot * r, dot
    return f


def _nt_sign(q1, q2, r):
    angle = mp.atan2(mp.sqrt(q1 * q2 - r * r), r)
    return 1 - 2 * angle / mp.pi, None   # neural-tangents uses sign' = 0 (a.e.)


def _nt_exp(q1, q2, r):
    k = mp.exp((q1 + q2) / 2 + r)
    return k, k


def _nt_gaussian(q1, q2, r):
    b = -1   # a exp(b x^2) with a = 1, b = -1
    prod = (1 - 2 * b * q1) * (1 - 2 * b * q2)
    det = mp.sqrt(prod - 4 * b * b * r * r)
    return 1 / det, 4 * b * b * r / det**3


def _nt_monomial(degree):
    def k(r, prod, d):
        return {-1: mp.mpf(0), 0: mp.mpf(1), 1: r, 2: 2 * r**2 + prod,
                3: 6 * r**3 + 9 * r * prod,
                4: 3 * (8 * r**4 + 3 * prod * (8 * r**2 + prod)),
                5: 15 * r * (8 * r**4 + 5 * prod * (8 * r**2 + 3 * prod))}[d]

    def f(q1, q2, r):
        prod = q1 * q2
        return k(r, prod, degree), degree**2 * k(r, prod, degree - 1)
    return f


def _arccos_j(n: int, theta):
    """J_n(theta) = (-1)^n sin^(2n+1) theta ((1/sin theta) d/dtheta)^n ((pi - theta)/sin theta)
    (Cho & Saul), the derivatives taken by mpmath.diff."""
    def f0(t):
        return (mp.pi - t) / mp.sin(t)

    f = f0
    for _ in range(n):
        f = (lambda g: lambda t: mp.diff(g, t) / mp.sin(t))(f)
    return (-1) ** n * mp.sin(theta) ** (2 * n + 1) * f(theta)


def _nt_rectified(degree):
    def k(q1, q2, r, d):
        root = mp.sqrt(q1 * q2)
        theta = mp.acos(r / root)
        return root**d / (2 * mp.pi) * _arccos_j(d, theta)

    def f(q1, q2, r):
        return k(q1, q2, r, degree), (degree**2 * k(q1, q2, r, degree - 1) if degree else None)
    return f


def _nt_polynomial(coefficients):
    n = len(coefficients)

    def r_l(q, l):
        c = [_mpf(v) for v in coefficients]   # at the caller's precision
        total = mp.mpf(0)
        for i in range((n - 1 - l) // 2 + 1):
            j = 2 * i + l
            if j < n:
                total += c[j] * mp.factorial(j) / (2**i * mp.factorial(i)
                                                   * mp.sqrt(mp.factorial(l))) * q ** (mp.mpf(j) / 2)
        return total

    def f(q1, q2, r):
        ratio = r / mp.sqrt(q1 * q2)
        k = sum(r_l(q1, l) * r_l(q2, l) * ratio**l for l in range(n))
        dk = sum(l * r_l(q1, l) * r_l(q2, l) * ratio ** (l - 1) for l in range(1, n)) \
            / mp.sqrt(q1 * q2)
        return k, dk
    return f


#: activation name -> f(q1, q2, rho) -> (kernel, derivative kernel or None)
NT = {
    "erf": _nt_erf, "gelu": _nt_gelu, "sin": _nt_sin,
    "cos": lambda q1, q2, r: _nt_sin(q1, q2, r, mp.pi / 2),
    "relu": _nt_ab(0, 1), "leaky_relu": _nt_ab(Fraction(1, 100), 1), "abs": _nt_ab(-1, 1),
    "ab_relu": _nt_ab(Fraction(-1, 2), 1), "linear": _nt_ab(1, 1), "sign": _nt_sign,
    "exp": _nt_exp, "gaussian": _nt_gaussian, "monomial": _nt_monomial(3),
    "relu_power": _nt_rectified(2), "step": _nt_rectified(0),
    "polynomial": _nt_polynomial((0, 1, Fraction(1, 2))),
}
