"""The edge of chaos: the critical set chi1(q*) = 1 in the (sigma_w, sigma_b) plane.

Derived from the laws with SymPy (theory.md section 11): solving chi1 = 1 for sigma_w^2 gives
sigma_w^2(q*) = 1/E[phi'(u)^2]; the length map's fixed-point equation q* = V(q*) then gives
sigma_b^2(q*) = q* - sigma_w^2(q*) chi0(q*). If the solution for sigma_w^2 does not depend on
q* (the piecewise-linear family, linear), chi1 = 1 fixes sigma_w alone and a finite q* then
needs sigma_b = 0: the edge of chaos is a single *point* (ReLU: sigma_w^2 = 2, sigma_b = 0).
Otherwise it is a *curve* parametrised by q* > 0, whose q* -> 0+ limit is taken with SymPy
(erf: sigma_w^2 -> pi/4, sigma_b^2 -> 0; tanh: sigma_w -> 1).

Laws without a closed form (tanh) enter ``solve`` with their integrals (or series) held as
opaque symbols: the equations are linear in sigma_w^2 and sigma_b^2 all the same.

``critical_sigma_w(activation, sigma_b)`` solves sigma_b^2(q*) = sigma_b^2 for q* (Newton at
two working precisions, digits verified by their agreement) and returns sqrt(sigma_w^2(q*)).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Mapping

import mpmath
import numpy as np
import sympy as sp

from ..errors import InvalidValueError, PrecisionError, quoted
from ..expectation import Expectation
from ..numbers import check_dps
from ..symbols import q, sigma_b, sigma_w
from .model import (Evaluator, MeanField, _scale_squared, law_evaluator, mean_field,
                    zero_variance_limit)
from .precision import agreement_digits, enclosure_record, rounded

#: sigma_w^2 and sigma_b^2 as unknowns of the critical equations.
SW2 = sp.Symbol("sigma_w2", positive=True)
SB2 = sp.Symbol("sigma_b2", nonnegative=True)


def _opaque_solve(equation: sp.Expr, unknown: sp.Symbol) -> list[sp.Expr]:
    """``sympy.solve`` with every unevaluated expectation and series held as a symbol."""
    atoms = sorted(equation.atoms(Expectation, sp.Sum), key=sp.default_sort_key)
    hold = {a: sp.Dummy(f"I{i}") for i, a in enumerate(atoms)}
    back = {d: a for a, d in hold.items()}
    return [s.xreplace(back) for s in sp.solve(equation.xreplace(hold), unknown)]


def _opaque(expr: sp.Expr) -> bool:
    return expr.has(Expectation) or expr.has(sp.Sum)


@dataclass(frozen=True)
class EdgeOfChaos:
    """The critical set chi1(q*) = 1 of one activation.

    ``kind`` is "point" (sigma_w2, sigma_b2 are numbers) or "curve" (expressions in the fixed
    point ``q``, with ``limit`` their values as q* -> 0+). ``steps`` say how it was derived.
    """

    activation: str
    kind: str
    sigma_w2: sp.Expr
    sigma_b2: sp.Expr
    limit: tuple[sp.Expr, sp.Expr] | None = None
    steps: tuple[str, ...] = field(default=(), repr=False)
    #: the same curve solved on the laws' definitions (evaluated where the derived forms have
    #: no evaluator)
    definitions: tuple[sp.Expr, sp.Expr] | None = field(default=None, repr=False)

    def __str__(self) -> str:
        if self.kind == "point":
            return (f"{self.activation}: edge of chaos is the point sigma_w^2 = "
                    f"{sp.sstr(self.sigma_w2)}, sigma_b^2 = {sp.sstr(self.sigma_b2)}")
        lines = [f"{self.activation}: edge of chaos is the curve (q* > 0)",
                 f"  sigma_w^2(q*) = {sp.sstr(self.sigma_w2)}",
                 f"  sigma_b^2(q*) = {sp.sstr(self.sigma_b2)}"]
        if self.limit is not None:
            lines.append(f"  q* -> 0+: sigma_w^2 -> {sp.sstr(self.limit[0])}, "
                         f"sigma_b^2 -> {sp.sstr(self.limit[1])}")
        return "\n".join(lines)

    def evaluators(self) -> tuple[Evaluator, Evaluator]:
        return _curve_evaluators(self)

    def sample(self, q_values) -> dict[str, np.ndarray]:
        """float64 points of the curve at the given q* (or the single point)."""
        if self.kind == "point":
            return {"q_star": np.array([np.nan]),
                    "sigma_w": np.array([math.sqrt(float(self.sigma_w2))]),
                    "sigma_b": np.array([math.sqrt(float(self.sigma_b2))])}
        qv = np.asarray(q_values, dtype=float)
        fw, fb = self.evaluators()
        w2, b2 = fw.np(q=qv), fb.np(q=qv)
        with np.errstate(invalid="ignore"):
            return {"q_star": qv, "sigma_w": np.sqrt(w2), "sigma_b": np.sqrt(np.maximum(b2, 0))}


@lru_cache(maxsize=None)
def _curve_evaluators(eoc: EdgeOfChaos) -> tuple[Evaluator, Evaluator]:
    if eoc.definitions is None:
        return (Evaluator(eoc.sigma_w2, (q,), f"sigma_w2(q*)[{eoc.activation}]"),
                Evaluator(eoc.sigma_b2, (q,), f"sigma_b2(q*)[{eoc.activation}]"))
    w2_def, b2_def = eoc.definitions
    return (law_evaluator(eoc.sigma_w2, w2_def, (q,), f"sigma_w2(q*)[{eoc.activation}]"),
            law_evaluator(eoc.sigma_b2, b2_def, (q,), f"sigma_b2(q*)[{eoc.activation}]"))


def _critical_set(chi1: sp.Expr, length_map: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(sigma_w^2, sigma_b^2) solving chi1 = 1 and V(q) = q (expressions in q)."""
    chi1_s = chi1.subs(sigma_w, sp.sqrt(SW2))
    solutions = [s for s in _opaque_solve(chi1_s - 1, SW2) if not s.has(SW2)]
    if len(solutions) != 1:
        raise InvalidValueError(f"chi1 = 1 has {len(solutions)} solutions for sigma_w^2")
    w2 = solutions[0]
    fixed = length_map.subs({sigma_w: sp.sqrt(SW2), sigma_b: sp.sqrt(SB2)}).subs(SW2, w2) - q
    solutions = _opaque_solve(fixed, SB2)
    if len(solutions) != 1:
        raise InvalidValueError(f"q = V(q) has {len(solutions)} solutions for sigma_b^2")
    return w2, solutions[0]


@lru_cache(maxsize=None)
def _edge_of_chaos(model: MeanField) -> EdgeOfChaos:
    chi1, vmap = model.expr("chi1"), model.expr("length_map")
    w2, b2 = _critical_set(chi1, vmap)
    steps = [f"chi1 = {sp.sstr(chi1)} = 1  =>  sigma_w^2 = {sp.sstr(w2)}"]
    if not w2.has(q):
        # chi1 = 1 fixes sigma_w; q = V(q) must then hold for some q > 0
        b2 = sp.simplify(b2)
        if b2.has(q):
            raise InvalidValueError(f"{model.name}: unexpected critical set sigma_b^2 = {b2}")
        steps.append(f"q = V(q) at that sigma_w  =>  sigma_b^2 = {sp.sstr(b2)} (for any q): "
                     "the edge of chaos is a single point")
        return EdgeOfChaos(model.name, "point", sp.nsimplify(w2), b2, None, tuple(steps))
    steps.append(f"q* = V(q*)  =>  sigma_b^2(q*) = {sp.sstr(b2)}")
    # the same solution on the laws' definitions (in Gaussian expectations)
    w2_def, b2_def = _critical_set(model.definition("chi1"), model.definition("length_map"))
    if not _opaque(w2) and not _opaque(b2):
        limit = (sp.limit(w2, q, 0, "+"), sp.limit(b2, q, 0, "+"))
        steps.append("limit q* -> 0+ of these closed forms (SymPy)")
    else:
        # no closed form: on the definitions, whose expectations tend to point masses as the
        # variance vanishes
        limit = (zero_variance_limit(w2_def), zero_variance_limit(b2_def))
        steps.append("limit q* -> 0+ on the definitions (expectations -> point masses)")
    steps.append(f"  sigma_w^2 -> {sp.sstr(limit[0])}, sigma_b^2 -> {sp.sstr(limit[1])}")
    return EdgeOfChaos(model.name, "curve", w2, b2, limit, tuple(steps), (w2_def, b2_def))


def edge_of_chaos(activation) -> EdgeOfChaos:
    """The edge of chaos chi1(q*) = 1 of an activation, derived from its laws (cached)."""
    return _edge_of_chaos(mean_field(activation))


# ------------------------------------------------------------------------------------------
# critical sigma_w for a given sigma_b
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CriticalPoint:
    """The point of the edge of chaos at a given sigma_b (mpmath numbers at ``dps`` digits)."""

    activation: str
    sigma_b2: mpmath.mpf
    sigma_w: mpmath.mpf
    sigma_w2: mpmath.mpf
    q_star: mpmath.mpf | None
    dps: int
    digits: int
    kind: str
    #: with ``critical_point(..., proven=True)``: proven enclosures (Arb balls) of q_star (on
    #: a curve), sigma_w2 and sigma_w, each with rad <= 10^-dps |value| / 2
    enclosures: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        qtext = "any (the length map is the identity)" if self.q_star is None else \
            mpmath.nstr(self.q_star, self.dps)
        head = (f"{self.activation}: critical sigma_w = {mpmath.nstr(self.sigma_w, self.dps)} "
                f"(sigma_w^2 = {mpmath.nstr(self.sigma_w2, self.dps)}) at sigma_b^2 = "
                f"{mpmath.nstr(self.sigma_b2, self.dps)}; q* = {qtext}; "
                f"{self.digits} digits verified")
        return "\n".join([head] + [f"  proven {name:8s} {e!r}"
                                    for name, e in self.enclosures.items()])

    def as_dict(self) -> dict:
        def text(v):
            return None if v is None else mpmath.nstr(v, self.dps, strip_zeros=False)

        return {"activation": self.activation, "kind": self.kind,
                "sigma_b2": text(self.sigma_b2), "sigma_w": text(self.sigma_w),
                "sigma_w2": text(self.sigma_w2), "q_star": text(self.q_star),
                "dps": self.dps, "digits": self.digits,
                "enclosures": {name: enclosure_record(e, self.dps)
                               for name, e in self.enclosures.items()}}


def _target_b2(sigma_b: object, sigma_b2: object) -> sp.Expr:
    if sigma_b is not None and sigma_b2 is not None:
        raise InvalidValueError("give at most one of sigma_b and sigma_b2")
    if sigma_b2 is not None:
        return _scale_squared(sigma_b2, "sigma_b2", squared=True, zero=True)
    return _scale_squared(0 if sigma_b is None else sigma_b, "sigma_b", squared=False,
                          zero=True)


@lru_cache(maxsize=None)
def _slope_of_b2(model: MeanField) -> Evaluator:
    """d sigma_b^2(q*)/dq*, by the calculus on the definitions (heat equation)."""
    _w2, b2_def = _critical_set(model.definition("chi1"), model.definition("length_map"))
    return Evaluator(sp.diff(b2_def, q), (q,), f"d sigma_b2/dq* [{model.name}]")


def _float_root(eoc: EdgeOfChaos, target: float) -> float:
    """The smallest q* > 0 with sigma_b^2(q*) = target, in float64 (scan, then bisection)."""
    _fw, fb = eoc.evaluators()
    grid = np.geomspace(1e-6, 1e6, 241)
    values = fb.np(q=grid) - target
    crossing = np.nonzero((values[:-1] < 0) & (values[1:] >= 0))[0]
    if not crossing.size:
        raise InvalidValueError(
            f"{eoc.activation}: no point of the edge of chaos with sigma_b^2 = {target:g} "
            f"for q* in [1e-6, 1e6]")
    lo, hi = grid[crossing[0]], grid[crossing[0] + 1]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if fb.np(q=np.array([mid]))[0] < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return 0.5 * (lo + hi)


def _newton_b2(model: MeanField, eoc: EdgeOfChaos, target: sp.Expr, start: float,
               work: int) -> mpmath.mpf:
    _fw, fb = eoc.evaluators()
    slope = _slope_of_b2(model)
    with mpmath.workdps(work):
        goal = rounded(target, work + 5)
        x = mpmath.mpf(start)
        tol = mpmath.mpf(10) ** (-(work // 2 + 2))
        for _ in range(60):
            step = -(fb.mp(work, q=x) - goal) / slope.mp(work, q=x)
            x += step
            if x <= 0:
                raise PrecisionError(f"{model.name}: Newton's method for q* left q > 0")
            if abs(step) <= tol * abs(x):
                return x
    raise PrecisionError(f"{model.name}: Newton's method for the critical q* did not converge")


def critical_point(activation, sigma_b: object = None, dps: int = 30, *,
                   sigma_b2: object = None, proven: bool = False) -> CriticalPoint:
    """The edge-of-chaos point at sigma_b (or sigma_b2 = sigma_b^2), to ``dps`` digits.

    For a curve, q* solves sigma_b^2(q*) = sigma_b^2 (at sigma_b = 0: q* = 0 and the
    q* -> 0+ limit); for a point (ReLU) sigma_b must be the point's, else InvalidValueError.
    ``proven=True`` adds ``enclosures``: q* proven by Krawczyk's interval Newton test on
    sigma_b^2(q*) - sigma_b^2 = 0, and sigma_w^2(q*), sigma_w enclosed over that ball (exact
    balls for a point and for the q* -> 0 end of a curve); NotEnclosable where the laws
    cannot be enclosed, PrecisionError with the digits proven when the effort runs out.
    """
    check_dps(dps)
    if not isinstance(proven, bool):
        raise InvalidValueError(f"proven must be True or False (got {quoted(proven)})")
    point = _critical_point(activation, sigma_b, dps, sigma_b2)
    if not proven:
        return point
    model = mean_field(activation)
    return replace(point, enclosures=_proven(model, _edge_of_chaos(model),
                                             _target_b2(sigma_b, sigma_b2), point))


#: Extra digits of the proven q*: sigma_w^2 on the ball loses about as many as its condition.
_PROVEN_GUARD = 10


def _proven(model: MeanField, eoc: EdgeOfChaos, target: sp.Expr,
            point: CriticalPoint) -> dict[str, object]:
    from ..gaussian.numerics.enclosure import enclose, enclose_root, exact_enclosure

    dps, name = point.dps, model.name
    if eoc.kind == "point" or target == 0:
        # sigma_w^2 is an exact number: the point's, or the curve's q* -> 0+ limit
        w2 = eoc.sigma_w2 if eoc.kind == "point" else eoc.limit[0]   # SymPy numbers
        out = {} if point.q_star is None else {"q_star": exact_enclosure(0)}
        out["sigma_w2"] = enclose(w2, (), [], dps, what=f"critical sigma_w^2 of {name}")
        out["sigma_w"] = enclose(sp.sqrt(w2), (), [], dps, what=f"critical sigma_w of {name}")
        return out
    q_ball = enclose_root(eoc.sigma_b2 - target, q, (q,), [point.q_star], point.q_star,
                          dps + _PROVEN_GUARD, what=f"q* on the edge of chaos of {name}")
    return {"q_star": q_ball,
            "sigma_w2": enclose(eoc.sigma_w2, (q,), [q_ball], dps,
                                what=f"critical sigma_w^2 of {name}"),
            "sigma_w": enclose(sp.sqrt(eoc.sigma_w2), (q,), [q_ball], dps,
                               what=f"critical sigma_w of {name}")}


def _critical_point(activation, sigma_b: object, dps: int, sigma_b2: object) -> CriticalPoint:
    model = mean_field(activation)
    target = _target_b2(sigma_b, sigma_b2)
    eoc = _edge_of_chaos(model)
    if eoc.kind == "point":
        if sp.simplify(target - eoc.sigma_b2) != 0:
            raise InvalidValueError(
                f"{model.name}: the edge of chaos is the single point sigma_w^2 = "
                f"{sp.sstr(eoc.sigma_w2)}, sigma_b^2 = {sp.sstr(eoc.sigma_b2)}; there is no "
                f"critical sigma_w at sigma_b^2 = {sp.sstr(target)} (with sigma_b > 0 the "
                f"length map diverges for sigma_w^2 >= {sp.sstr(eoc.sigma_w2)})")
        return CriticalPoint(model.name, rounded(target, dps), rounded(sp.sqrt(eoc.sigma_w2), dps),
                             rounded(eoc.sigma_w2, dps), None, dps, dps, "point")
    if target == 0:
        w2 = eoc.limit[0]
        return CriticalPoint(model.name, rounded(target, dps), rounded(sp.sqrt(w2), dps),
                             rounded(w2, dps), mpmath.mpf(0), dps, dps, "curve")
    start = _float_root(eoc, float(target))
    fw, _fb = eoc.evaluators()
    results = []
    for work in (dps + 2, dps + 8):
        q_star = _newton_b2(model, eoc, target, start, work)
        w2 = fw.mp(work, q=q_star)
        with mpmath.workdps(work):
            results.append((q_star, w2, mpmath.sqrt(w2)))
        start = q_star
    digits = min(agreement_digits(a, b, dps) for a, b in zip(*results))
    q_star, w2, w = results[1]
    return CriticalPoint(model.name, rounded(target, dps), rounded(w, dps), rounded(w2, dps),
                         rounded(q_star, dps), dps, digits, "curve")


def critical_sigma_w(activation, sigma_b: object = None, dps: int = 30, *,
                     sigma_b2: object = None) -> mpmath.mpf:
    """sigma_w on the edge of chaos at the given sigma_b (or sigma_b2), to ``dps`` digits.

    tanh: 1 at sigma_b = 0; erf: sqrt(pi)/2 at sigma_b = 0; ReLU: sqrt(2), only at sigma_b = 0.
    """
    return critical_point(activation, sigma_b, dps, sigma_b2=sigma_b2).sigma_w


def critical_line(activation, sigma_b_max: float, n: int = 200) -> dict[str, np.ndarray]:
    """float64 points (sigma_w, sigma_b, q*) of the edge of chaos with sigma_b <= sigma_b_max.

    For a curve, q* runs over a geometric grid from 1e-6 up to the q* where sigma_b reaches
    sigma_b_max (the curve starts at its q* -> 0 limit); a point gives one entry.
    """
    eoc = edge_of_chaos(activation)
    if eoc.kind == "point":
        return eoc.sample(None)
    top = _float_root(eoc, float(sigma_b_max) ** 2) if sigma_b_max > 0 else 1e-6
    qs = np.concatenate([[0.0], np.geomspace(1e-6, top, max(n - 1, 2))])
    out = eoc.sample(np.where(qs == 0, 1e-6, qs))
    w0 = math.sqrt(float(eoc.limit[0]))
    out["q_star"][0], out["sigma_w"][0], out["sigma_b"][0] = 0.0, w0, 0.0
    return out


__all__ = ["CriticalPoint", "EdgeOfChaos", "critical_line", "critical_point",
           "critical_sigma_w", "edge_of_chaos"]
