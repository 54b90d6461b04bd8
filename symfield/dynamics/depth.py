"""Depth scales, and the algebraic approach to c = 1 at a point-like edge of chaos (ReLU).

Away from criticality deviations from a fixed point decay like exp(-l/xi) with
xi = -1/ln(slope): xi_q from V'(q*), xi_c from chi_c, xi_grad from chi1 (theory.md 4.3, 5.3, 7);
:func:`depth_scales` returns them from a verified fixed-point report.

At ReLU's edge of chaos (sigma_w^2 = 2, sigma_b = 0) chi1 = 1 and the approach of c^l to 1 is a
power law. :func:`edge_power_law` derives it: SymPy expands the derived correlation map at the
critical point in eps = 1 - c (with eps = t^2, so that the half-integer powers are a Taylor
series in t), f(1 - eps) = 1 - eps + a eps^gamma + ..., and the asymptotic recursion
eps_{l+1} = eps_l - a eps_l^gamma is solved with the ansatz eps_l = K l^(-p):
p + 1 = gamma p and p K = a K^gamma, i.e. p = 1/(gamma - 1), K = (p/a)^p. For ReLU
a = 2 sqrt(2)/(3 pi), gamma = 3/2, so 1 - c^l ~ 9 pi^2/(2 l^2). :func:`iterate_correlation_map`
gives the numerical check (theory 5.3: l^2 (1 - c^l) = 44.25 at l = 10^4 against 44.41).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from ..errors import InvalidValueError, quoted
from ..numbers import check_dps, to_exact, to_mpf
from ..symbols import c, q, sigma_b, sigma_w
from .edge import edge_of_chaos
from .fixed_points import fixed_point
from .model import mean_field, parse_scales

#: eps = 1 - c, and t = sqrt(eps) for the Puiseux expansion.
EPS = sp.Symbol("epsilon", positive=True)
_T = sp.Symbol("t", positive=True)
#: The depth l and the ansatz constants.
DEPTH = sp.Symbol("l", positive=True)
_K = sp.Symbol("K", positive=True)
_P = sp.Symbol("p", positive=True)
#: Deepest iteration of the correlation map (10^4 layers already show the power law).
MAX_DEPTH = 10**6
#: Largest variance q accepted (float64 iterates overflow beyond it).
MAX_VARIANCE = 1e300
#: Highest order of the expansion in t = sqrt(1 - c) behind edge_power_law (ReLU needs 4).
MAX_SERIES_ORDER = 20


def depth_scales(activation, sigma_w: object = None, sigma_b: object = None, dps: int = 30, *,
                 sigma_w2: object = None, sigma_b2: object = None) -> dict[str, mpmath.mpf]:
    """xi_q, xi_c, xi_grad at (sigma_w, sigma_b) (see :func:`fixed_point` for conventions:
    +inf at criticality, negative xi_grad in the chaotic phase)."""
    report = fixed_point(activation, sigma_w, sigma_b, dps, sigma_w2=sigma_w2,
                         sigma_b2=sigma_b2)
    return {"xi_q": report.xi_q, "xi_c": report.xi_c, "xi_grad": report.xi_grad}


@dataclass(frozen=True)
class EdgePowerLaw:
    """1 - c^l ~ constant * l^(-exponent) at a point-like edge of chaos, with its derivation."""

    activation: str
    correlation_map: sp.Expr           # f(c) at the critical point
    expansion: sp.Expr                 # f(1 - eps) to the order used, in EPS
    coefficient: sp.Expr               # a in f(1 - eps) = 1 - eps + a eps^gamma + ...
    power: sp.Expr                     # gamma
    exponent: sp.Expr                  # p
    constant: sp.Expr                  # K
    steps: tuple[str, ...] = field(default=(), repr=False)

    def asymptote(self, depth: object) -> float:
        """constant * depth^(-exponent), the predicted 1 - c^l at depth l > 0."""
        layers = to_exact(depth, "depth")
        if not layers > 0:
            raise InvalidValueError(f"depth must be a number > 0, got {quoted(depth)}")
        return float(self.constant) * float(layers) ** (-float(self.exponent))

    def __str__(self) -> str:
        return "\n".join((f"{self.activation} at the edge of chaos: 1 - c^l ~ "
                          f"{sp.sstr(self.constant)} / l^{sp.sstr(self.exponent)}",)
                         + tuple("  " + s for s in self.steps))


def edge_power_law(activation="relu", order: int = 7) -> EdgePowerLaw:
    """Derive the power law of 1 - c^l at the edge of chaos of an activation whose edge of
    chaos is a point (ReLU, leaky ReLU, abs). ``order`` is the order in t = sqrt(1 - c) of the
    expansion (3 to MAX_SERIES_ORDER)."""
    if not isinstance(order, int) or isinstance(order, bool) \
            or not 3 <= order <= MAX_SERIES_ORDER:
        raise InvalidValueError(f"order must be an integer from 3 to {MAX_SERIES_ORDER} "
                                f"(got {quoted(order)})")
    eoc = edge_of_chaos(activation)
    if eoc.kind != "point":
        raise InvalidValueError(
            f"{eoc.activation}: the edge of chaos is a curve; the algebraic approach of c^l to "
            "1 is derived here for point-like edges (ReLU)")
    model = mean_field(activation)
    f = sp.simplify(model.expr("correlation_map").subs(
        {sigma_w: sp.sqrt(eoc.sigma_w2), sigma_b: sp.sqrt(eoc.sigma_b2)}))
    if f.has(q):
        raise InvalidValueError(f"{eoc.activation}: the critical correlation map depends on q")
    series = sp.expand(sp.series(f.subs(c, 1 - _T**2), _T, 0, order).removeO())
    poly = sp.Poly(series, _T)
    terms = {m[0]: coeff for m, coeff in zip(poly.monoms(), poly.coeffs())}
    if sp.simplify(terms.get(0, 0) - 1) != 0 or sp.simplify(terms.get(2, 0) + 1) != 0:
        raise InvalidValueError(f"{eoc.activation}: f(1 - eps) does not start 1 - eps")
    # the first term beyond 1 - eps decides the approach
    higher = sorted(k for k in terms if k > 2 and terms[k] != 0)
    if not higher:
        raise InvalidValueError(f"{eoc.activation}: no term beyond 1 - eps to order {order}")
    k_lead = higher[0]
    a, gamma = sp.nsimplify(terms[k_lead]), sp.Rational(k_lead, 2)
    expansion = sp.expand(series.subs(_T, sp.sqrt(EPS)))
    # eps_l = K l^-p in eps_{l+1} - eps_l = -a eps_l^gamma: leading powers and coefficients
    lhs_power, rhs_power = -_P - 1, -gamma * _P
    (p,) = sp.solve(sp.Eq(lhs_power, rhs_power), _P)
    (constant,) = sp.solve(sp.Eq(p * _K, a * _K**gamma), _K)
    constant = sp.simplify(constant)
    steps = (
        f"critical point sigma_w^2 = {sp.sstr(eoc.sigma_w2)}, sigma_b^2 = "
        f"{sp.sstr(eoc.sigma_b2)}: f(c) = {sp.sstr(f)}",
        f"f(1 - eps) = {sp.sstr(expansion)} + ...",
        f"eps_(l+1) = eps_l - a eps_l^{sp.sstr(gamma)} with a = {sp.sstr(a)}",
        f"eps_l = K l^-p: (l^-p)' = -p l^(-p-1) = l^(-{sp.sstr(gamma)} p)  =>  p = {sp.sstr(p)}",
        f"p K = a K^{sp.sstr(gamma)}  =>  K = {sp.sstr(constant)} = {float(constant):.6g}",
    )
    return EdgePowerLaw(eoc.activation, f, expansion, a, gamma, p, constant, steps)


def iterate_correlation_map(activation, sigma_w: object = None, sigma_b: object = None, *,
                            c0: object = 0, depth: int = 100, sigma_w2: object = None,
                            sigma_b2: object = None, q: object = None,
                            dps: int | None = None) -> np.ndarray | list:
    """c^0 = c0, c^1, ..., c^depth by iterating the correlation map at the variance ``q``
    (default: the fixed point q*, or 1 where every q is fixed).

    float64 (a numpy array) by default; with ``dps`` an mpmath list at that working precision
    (1 - c^l keeps about dps + log10(1 - c^l) digits).
    """
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= MAX_DEPTH:
        raise InvalidValueError(f"depth must be an integer from 0 to {MAX_DEPTH} "
                                f"(got {quoted(depth)})")
    if dps is not None:
        check_dps(dps)
    if not -1 <= to_exact(c0, "c0") <= 1:
        raise InvalidValueError(f"c0 is a correlation, from -1 to 1 (got {quoted(c0)})")
    if q is not None and not 0 < to_exact(q, "q") <= MAX_VARIANCE:
        raise InvalidValueError(f"q is a variance, a number > 0 and at most {MAX_VARIANCE:g} "
                                f"(got {quoted(q)})")
    model = mean_field(activation)
    scales = parse_scales(sigma_w, sigma_b, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    if q is None:
        report = fixed_point(model.activation, sigma_w2=scales.sigma_w2,
                             sigma_b2=scales.sigma_b2, dps=dps or 15)
        q = report.q_star if report.q_star is not None else 1
        if q == 0:
            raise InvalidValueError("q* = 0: the correlation map is the identity there; "
                                    "give q explicitly")
    if dps is None:
        f = scales.floats()
        q_float = float(to_exact(q))
        out = np.empty(depth + 1)
        out[0] = float(to_exact(c0))
        for i in range(depth):
            out[i + 1] = model.np("correlation_map", c=out[i], q=q_float, sigma_w=f["sigma_w"],
                                  sigma_b=f["sigma_b"])
        return out
    s = scales.mp(dps)
    with mpmath.workdps(dps):
        qv = to_mpf(q, "q")
        value = to_mpf(c0, "c0")
        out = [value]
        for _ in range(depth):
            value = model.mp("correlation_map", dps, c=value, q=qv, sigma_w=s["sigma_w"],
                             sigma_b=s["sigma_b"])
            out.append(value)
    return out


__all__ = ["EPS", "EdgePowerLaw", "depth_scales", "edge_power_law", "iterate_correlation_map"]
