"""Fixed points of the mean-field maps, their stability, the phase and the depth scales.

``fixed_point(activation, sigma_w, sigma_b, dps)`` returns a :class:`FixedPointReport` with

* q* of the length map V (Poole's pre-activation form) and A* = (q* - sigma_b^2)/sigma_w^2
  of Amari's activity map; V'(q*) is the stability of q*;
* chi1, chi2 at q*; the phase (chi1 < 1 ordered, = 1 critical, > 1 chaotic);
* c* of the correlation map (1 in the ordered phase; the stable c* < 1 in the chaotic phase,
  exactly 0 for an odd activation without bias) and chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at
  (q*, q* c*, q*), its stability (= chi1 when c* = 1);
* Amari's distance fixed point D* = 2 q* (1 - c*)/sigma_w^2;
* the depth scales xi_q = -1/ln V'(q*), xi_c = -1/ln chi_c, xi_grad = -1/ln chi1;
* Poole's curvature fixed point kbar*^2 = 3 chi2/(chi1 (chi1 - 1)) (pre-activation
  convention; None unless chi1 > 1 and chi2 is finite).

How the numbers are obtained. Affine length maps (the piecewise-linear family, linear) have
the closed form q* = sigma_b^2/(1 - slope), solved symbolically, and every law is then exact;
so are the q -> 0+ limits at q* = 0. Otherwise the float64 grid solver (``vectorised``) gives
q* and c* to about 16 digits, and each is corrected by one Taylor step of its fixed-point
equation g(x) = 0 at that point: g and g' at the working precision (the length map and its
slope; the kernel and the derivative kernel), g'' with only the digits its error needs, since
that error enters times the step (d/dq of the slope by the heat equation, d/drho of the
derivative kernel by Price's theorem, both through the calculus), g''' in float64. The root
of the cubic Taylor polynomial and the slope there (V'(q*), chi_c) follow; further steps are
taken while the estimated truncation error exceeds the working precision (near the edge of
chaos). All this runs at a working precision W1 = dps + 1 and again at W2 = dps + 6, every
law value recomputed (other quadrature grids, other rounding); the significant digits on
which the two agree are reported per quantity in ``report.digits``, and the values returned
are the W2 ones rounded to ``dps``. If a quantity verifies fewer than dps - 2 digits, W2 is
checked against a third precision dps + 24 instead. The law values of one stage are
independent and can be computed side by side (``workers``).

Conventions for the depth scales: xi = +inf where the slope is 1 (criticality: the approach
is algebraic), xi < 0 where the slope exceeds 1 (growth by e every |xi| layers: exploding
gradients in the chaotic phase), xi = 0 where the slope is 0.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Mapping

import mpmath
import numpy as np
import sympy as sp

from ..errors import InvalidValueError, PrecisionError, UnknownNameError, quoted
from ..numbers import check_dps
from ..processes import check_workers
from ..symbols import q, rho
from . import vectorised
from .executors import evaluate_side_by_side
from .model import MeanField, Scales, mean_field, parse_scales
from .precision import GUARDS, MAX_SHORTFALL, agreement_digits, enclosure_record, rounded

#: The quantities of a report, in display order, with a short description.
QUANTITIES = {
    "q_star": "q*, fixed point of the length map (pre-activation variance)",
    "A_star": "A* = (q* - sigma_b^2)/sigma_w^2, fixed point of Amari's activity map",
    "chi1": "chi1 = sigma_w^2 E[phi'(u)^2] at q*",
    "chi2": "chi2 = sigma_w^2 E[phi''(u)^2] at q*",
    "length_slope": "V'(q*), slope of the length map at q* (stability of q*)",
    "c_star": "c*, stable fixed point of the correlation map",
    "chi_c": "chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at (q*, q* c*, q*), slope of the c-map at c*",
    "xi_q": "xi_q = -1/ln V'(q*), depth scale of the length",
    "xi_c": "xi_c = -1/ln chi_c, depth scale of correlations",
    "xi_grad": "xi_grad = -1/ln chi1, depth scale of gradients (< 0: exploding)",
    "D_star": "D* = 2 q* (1 - c*)/sigma_w^2, fixed point of Amari's distance map",
    "kappa2_star": "kbar*^2 = 3 chi2/(chi1 (chi1 - 1)), Poole's curvature fixed point "
                   "(pre-activation)",
}

CONVENTIONS = {
    "q": "pre-activation variance (Poole); A = post-activation activity (Amari), "
         "q = sigma_w^2 A + sigma_b^2",
    "chi": "chi1, chi2 include sigma_w^2; argument q*",
    "c": "pre-activation correlation; D = post-activation distance A + A' - 2C (Amari)",
    "xi": "-1/ln(slope); +inf at slope 1 (criticality), negative for slope > 1 (growth)",
    "kappa2_star": "Poole's pre-activation kbar^2 = N kappa^2; post-activation (Amari) "
                   "variables multiply the creation term by sigma_w^2",
    "phase": "ordered chi1 < 1, critical chi1 = 1, chaotic chi1 > 1 (chi1 at q*)",
}


# ------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FixedPointReport:
    """Fixed points, stability, depth scales and phase at one (sigma_w, sigma_b).

    Numbers are mpmath numbers at ``dps`` digits (``None`` where a quantity does not exist;
    +inf for chi2 when it diverges and for depth scales at criticality). ``digits[name]`` is
    the number of significant digits verified by recomputation at a higher precision
    (``dps`` for exact values). ``notes`` explain special cases.
    """

    activation: str
    sigma_w: mpmath.mpf
    sigma_b: mpmath.mpf
    sigma_w2: mpmath.mpf
    sigma_b2: mpmath.mpf
    dps: int
    phase: str
    q_star: mpmath.mpf | None
    A_star: mpmath.mpf | None
    chi1: mpmath.mpf
    chi2: mpmath.mpf
    length_slope: mpmath.mpf | None
    c_star: mpmath.mpf
    chi_c: mpmath.mpf
    xi_q: mpmath.mpf | None
    xi_c: mpmath.mpf
    xi_grad: mpmath.mpf
    D_star: mpmath.mpf | None
    kappa2_star: mpmath.mpf | None
    digits: Mapping[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    working_precisions: tuple[int, int] | None = None
    #: with ``fixed_point(..., proven=True)``: proven enclosures (Arb balls) of q_star, of
    #: chi1 at the proven q_star and of c_star, each with rad <= 10^-dps |value| / 2
    enclosures: Mapping[str, object] = field(default_factory=dict)

    def value(self, name: str):
        """One quantity of the report by name (QUANTITIES: q_star, chi1, c_star, ...)."""
        if not isinstance(name, str) or name not in QUANTITIES:
            raise UnknownNameError(f"no quantity {quoted(name)} in a fixed-point report; the "
                                   f"quantities are: {', '.join(QUANTITIES)}")
        return getattr(self, name)

    def as_dict(self) -> dict:
        """JSON-ready: numbers as decimal strings with ``dps`` digits, None as null."""
        def text(v):
            if v is None:
                return None
            return mpmath.nstr(v, self.dps, strip_zeros=False) if mpmath.isfinite(v) \
                else ("inf" if v > 0 else "-inf")

        return {
            "activation": self.activation,
            "sigma_w": text(self.sigma_w), "sigma_b": text(self.sigma_b),
            "sigma_w2": text(self.sigma_w2), "sigma_b2": text(self.sigma_b2),
            "dps": self.dps,
            "phase": self.phase,
            "values": {name: text(getattr(self, name)) for name in QUANTITIES},
            "digits": dict(self.digits),
            "notes": list(self.notes),
            "working_precisions": list(self.working_precisions or ()),
            # an exact ball (q* = 0, chi1 = +inf) has rad 0 and "exact" digits
            "enclosures": {name: enclosure_record(e, self.dps)
                           for name, e in self.enclosures.items()},
            "conventions": CONVENTIONS,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def __str__(self) -> str:
        head = (f"{self.activation}: sigma_w = {mpmath.nstr(self.sigma_w, 15)}, "
                f"sigma_b = {mpmath.nstr(self.sigma_b, 15)} (sigma_w^2 = "
                f"{mpmath.nstr(self.sigma_w2, 15)}, sigma_b^2 = {mpmath.nstr(self.sigma_b2, 15)})"
                f"; {self.dps} digits")
        lines = [head, f"  phase         {self.phase}"]
        for name in QUANTITIES:
            v = getattr(self, name)
            shown = "none" if v is None else (mpmath.nstr(v, self.dps) if mpmath.isfinite(v)
                                              else ("+inf" if v > 0 else "-inf"))
            d = self.digits.get(name)
            tag = "" if v is None or not mpmath.isfinite(v) or d is None else \
                f"   [{d} digits verified]"
            lines.append(f"  {name:13s} {shown}{tag}")
        for name, e in self.enclosures.items():
            lines.append(f"  proven {name:6s} {e!r}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# exact analysis of the length map
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Length:
    kind: str                     # "closed", "zero", "marginal" or "numeric"
    q_star: sp.Expr | None = None  # exact, for "closed" and "zero"


def _subs(expr: sp.Expr, scales: Scales) -> sp.Expr:
    return sp.simplify(expr.subs(scales.substitutions()))


def _length_kind(model: MeanField, scales: Scales) -> _Length:
    affine = model.linear_length_map
    if affine is not None:
        slope, intercept = (_subs(e, scales) for e in affine)
        if slope < 1:
            return _Length("closed", sp.nsimplify(intercept / (1 - slope)))
        if slope == 1 and intercept == 0:
            return _Length("marginal")
        raise InvalidValueError(
            f"{model.name}: the length map q -> {sp.sstr(model.expr('length_map'))} has no "
            f"finite fixed point at {scales}: its slope {sp.sstr(slope)} is >= 1"
            + (" and sigma_b > 0" if intercept != 0 else "")
            + ", so q^l grows without bound")
    if not scales.zero_bias:
        return _Length("numeric")      # V(0+) >= sigma_b^2 > 0: q* > 0
    v0 = _subs(model.at_zero_q("length_map"), scales)
    s0 = _subs(model.at_zero_q("length_map_slope"), scales)
    if v0 == 0 and bool(s0 <= 1):
        return _Length("zero", sp.S.Zero)
    return _Length("numeric")


# ------------------------------------------------------------------------------------------
# law values shared by the working precisions
# ------------------------------------------------------------------------------------------
Task = tuple  # (evaluator name, working precision, ((variable, mpf value), ...))


def _task(name: str, work: int, **values) -> Task:
    # values stay the mpmath numbers they are (no rounding to the ambient precision)
    return (name, int(work), tuple(sorted(
        (k, v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)) for k, v in values.items())))


class _Evaluations:
    """Law values keyed by (law, working precision, point), each computed once. A batch of
    independent values can be computed side by side first (``prefetch``); the stages then
    find them here. Correctness never depends on the prefetch, only speed does."""

    def __init__(self, model: MeanField, workers: int):
        self.model, self.workers = model, workers
        self.cache: dict[Task, mpmath.mpf] = {}

    def get(self, name: str, work: int, **values) -> mpmath.mpf:
        key = _task(name, work, **values)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.model.evaluate_task(key)
        return found

    def prefetch(self, tasks: list[Task]) -> None:
        todo = [t for t in dict.fromkeys(tasks) if t not in self.cache]
        if not todo:
            return
        for task, value in zip(todo, evaluate_side_by_side(self.model, todo, self.workers)):
            self.cache[task] = value


# ------------------------------------------------------------------------------------------
# one Taylor step of a scalar fixed-point equation
# ------------------------------------------------------------------------------------------
@dataclass
class _Step:
    delta: mpmath.mpf          # the correction to the expansion point
    slope: mpmath.mpf          # the map's slope at the corrected point
    err_root: mpmath.mpf       # estimated error of expansion point + delta
    err_slope: mpmath.mpf      # estimated error of the slope


def _taylor_step(g0, g1, g2, g3: float, aux_work: int, scale3: float) -> _Step:
    """Root of g near the expansion point from g, g', g'' and g''' there.

    g and g' are at the full working precision, g'' at ``aux_work`` digits (its error enters
    multiplied by the step), g''' in float64 (it enters with the step squared; its error is
    taken as 1e-11 (|g'''| + scale3), scale3 the size of the integrals it is made of). The root
    of the cubic Taylor polynomial is found by Newton from the Newton step; the map's slope at
    the root is g' + 1 corrected the same way. Error estimates use |g''''| ~ |g'''| + 1.
    """
    g3 = mpmath.mpf(g3)
    delta = -g0 / g1
    for _ in range(6):
        p = g0 + g1 * delta + g2 * delta**2 / 2 + g3 * delta**3 / 6
        dp = g1 + g2 * delta + g3 * delta**2 / 2
        delta -= p / dp
    a = abs(delta)
    err2 = mpmath.mpf(10) ** (2 - aux_work) * abs(g2)
    err3 = mpmath.mpf(1e-11) * (abs(g3) + abs(scale3))
    g4 = abs(g3) + 1
    err_root = (a**2 * err2 / 2 + a**3 * err3 / 6 + a**4 * g4 / 24) / abs(g1)
    err_slope = a * err2 + a**2 * err3 / 2 + a**3 * g4 / 6
    slope = g1 + 1 + g2 * delta + g3 * delta**2 / 2
    return _Step(delta, slope, err_root, err_slope)


def _aux_work(work: int, step_estimate: float) -> int:
    """Digits needed of g'' when its error is multiplied by a step of this size (all of
    them when the float64 estimate of the step is not a number: sign's chi1 is +inf)."""
    if not math.isfinite(step_estimate):
        return work
    need = work + 4 + math.log10(max(step_estimate, 1e-300))
    return int(min(work, max(15, math.ceil(need))))


# ------------------------------------------------------------------------------------------
# one working precision
# ------------------------------------------------------------------------------------------
def _depth(slope):
    """-1/ln(slope) with the module's conventions (exact when the slope is exact)."""
    if slope is None:
        return None
    if isinstance(slope, sp.Basic):
        if slope.is_infinite:
            return None
        if slope == 1:
            return sp.oo
        if slope <= 0:
            return sp.S.Zero
        return -1 / sp.log(slope)
    if slope == 1:
        return mpmath.inf
    if slope <= 0:
        return mpmath.mpf(0)
    return -1 / mpmath.log(slope)


def _is_exact(value) -> bool:
    return isinstance(value, sp.Basic)


class _Stage:
    """Every quantity at one working precision ``work``, from the float64 starting values.

    Exact values (SymPy numbers) are kept where the law and the fixed point are exact; the
    rest are mpmath numbers at ``work`` digits. The computation runs in two parts, so that
    the law values each part needs can be prefetched side by side for all precisions.
    """

    MAX_ROUNDS = 8

    def __init__(self, model: MeanField, scales: Scales, length: _Length, work: int,
                 start: dict, evals: _Evaluations, aux: dict):
        self.model, self.scales, self.length, self.work = model, scales, length, work
        self.start, self.evals, self.aux = start, evals, aux
        self.s = scales.mp(work)
        self.sa = scales.mp(aux["work"])   # the scales at the shared auxiliary precision
        self.values: dict[str, object] = {}
        self.target = mpmath.mpf(10) ** (-work - 1)

    def law(self, name: str, **values):
        return self.evals.get(name, self.work, **values)

    # -- part 1: the length fixed point -----------------------------------------------------
    def length_tasks(self) -> list[Task]:
        with mpmath.workdps(self.work):
            return self._length_tasks()

    def _length_tasks(self) -> list[Task]:
        if self.length.kind != "numeric":
            return []
        q0 = mpmath.mpf(self.start["q_star"])
        sw, sb = self.s["sigma_w"], self.s["sigma_b"]
        return [_task("length_map", self.work, q=q0, sigma_w=sw, sigma_b=sb),
                _task("length_map_slope", self.work, q=q0, sigma_w=sw),
                self._length_aux_task(q0, self.aux["q"])]

    def _length_aux_task(self, point, aux_work: int) -> Task:
        sa = self.sa if aux_work == self.aux["q"] else self.scales.mp(aux_work)
        return _task("length_map_slope2", aux_work, q=point, sigma_w=sa["sigma_w"])

    def solve_length(self) -> None:
        kind = self.length.kind
        with mpmath.workdps(self.work):
            if kind in ("closed", "zero"):
                self.values["q_star"] = self.length.q_star
            elif kind == "marginal":
                self.values["q_star"] = None
            else:
                self.values["q_star"], self.values["length_slope"] = self._taylor_length()

    def _taylor_length(self):
        sw, sb = self.s["sigma_w"], self.s["sigma_b"]
        point = mpmath.mpf(self.start["q_star"])
        aux_work = self.aux["q"]
        for _round in range(self.MAX_ROUNDS):
            value = self.law("length_map", q=point, sigma_w=sw, sigma_b=sb)
            slope = self.law("length_map_slope", q=point, sigma_w=sw)
            name, work, values = self._length_aux_task(point, aux_work)
            curvature = self.evals.get(name, work, **dict(values))
            third = float(self.model.np("length_map_slope3", q=float(point),
                                        sigma_w=float(sw)))
            step = _taylor_step(value - point, slope - 1, curvature, third, aux_work,
                                float(self.s["sigma_w2"]))
            new = point + step.delta
            if new <= 0:
                new = point / 2  # the positive fixed point lies above: stay in q > 0
            point = new
            if step.err_root <= self.target * abs(point) and \
                    step.err_slope <= self.target * abs(step.slope):
                return point, step.slope
            aux_work = _aux_work(self.work, float(max(step.err_root, abs(step.delta) * 1e-3)))
        raise PrecisionError(f"{self.model.name}: q* did not converge at {self.work} digits")

    # -- part 2: chi's, phase, correlations ---------------------------------------------------
    def rest_tasks(self) -> list[Task]:
        with mpmath.workdps(self.work):
            return self._rest_tasks()

    def _rest_tasks(self) -> list[Task]:
        qs = self.values.get("q_star")
        if self.length.kind != "numeric" or qs is None:
            return []
        sw = self.s["sigma_w"]
        tasks = [_task("chi1", self.work, q=qs, sigma_w=sw)]
        if not self.model.chi2_divergent:
            tasks.append(_task("chi2", self.work, q=qs, sigma_w=sw))
        if self.start.get("phase") == "chaotic":
            if self.model.odd and self.scales.zero_bias:
                tasks.append(_task("mean_slope", self.work, q=qs))
            elif "c_star" in self.start:
                c0 = mpmath.mpf(self.start["c_star"])
                pair = dict(q1=qs, q2=qs, rho=qs * c0)
                tasks += [_task("kernel", self.work, **pair),
                          _task("derivative_kernel", self.work, **pair),
                          self._kernel_aux_task(c0, self.aux["c"])]
        return tasks

    def _kernel_aux_task(self, c_point, aux_work: int) -> Task:
        # At the float64 q*, the same point for every working precision, so that one value
        # serves all: the error this makes in K'' enters multiplied by the step, like its own.
        q0 = mpmath.mpf(self.start["q_star"]) if "q_star" in self.start else \
            mpmath.mpf(float(self.values["q_star"]))
        with mpmath.workdps(aux_work):
            return _task("kernel_rho2", aux_work, q1=q0, q2=q0, rho=q0 * c_point)

    def solve_rest(self) -> dict:
        with mpmath.workdps(self.work):
            self._single_input()
            self._phase()
            self._correlation()
            self._derived()
        return self.values

    def _single_input(self) -> None:
        v, m = self.values, self.model
        qs = v["q_star"]
        if _is_exact(qs) or qs is None:
            # q* exact (closed form, or 0, or any q for the identity map): exact chi's
            for key, law in (("chi1", "chi1"), ("chi2", "chi2"),
                             ("length_slope", "length_map_slope")):
                expr = m.at_zero_q(law) if qs is None or qs == 0 else m.expr(law).subs(q, qs)
                v[key] = _subs(expr, self.scales)
            return
        sw = self.s["sigma_w"]
        v["chi1"] = self.law("chi1", q=qs, sigma_w=sw)
        v["chi2"] = sp.oo if m.chi2_divergent else self.law("chi2", q=qs, sigma_w=sw)

    def _phase(self) -> None:
        chi1 = self.values["chi1"]
        if _is_exact(chi1):
            gap = sp.simplify(chi1 - 1)
            phase = "critical" if gap == 0 else ("chaotic" if bool(gap > 0) else "ordered")
        elif abs(chi1 - 1) <= mpmath.mpf(10) ** (3 - self.work):
            phase = "critical"
        else:
            phase = "chaotic" if chi1 > 1 else "ordered"
        self.values["phase"] = phase

    def _correlation(self) -> None:
        v, m = self.values, self.model
        qs = v["q_star"]
        if v["phase"] != "chaotic" or qs is None or (_is_exact(qs) and qs == 0):
            v["c_star"], v["chi_c"] = sp.S.One, v["chi1"]
            return
        qs = mpmath.mpf(qs) if not _is_exact(qs) else mpmath.mpf(sp.N(qs, self.work + 10)._mpf_)
        if m.odd and self.scales.zero_bias:
            # c = 0 is a fixed point (E[phi(u1) phi(u2)] = E[phi]^2 = 0) and the stable one;
            # there the derivative kernel factorises: chi_c = sigma_w^2 E[phi']^2 (1-D)
            v["c_star"] = sp.S.Zero
            v["chi_c"] = self.s["sigma_w2"] * self.law("mean_slope", q=qs) ** 2
            return
        if "c_star" not in self.start:
            raise PrecisionError(f"{m.name}: no float64 starting value for c*")
        v["c_star"], v["chi_c"] = self._taylor_correlation(qs)

    def _taylor_correlation(self, qs):
        """c* and chi_c by Taylor steps of f(c) = c at the float64 root, with f the
        correlation map at q* (where its denominator sigma_w^2 chi0(q*) + sigma_b^2 is q*):
        f = (sigma_w^2 K + sigma_b^2)/q*, f' = sigma_w^2 K', f'' = sigma_w^2 q* K'',
        f''' = sigma_w^2 q*^2 K''' with K the kernel and primes rho-derivatives (Price)."""
        sw2, sb2 = self.s["sigma_w2"], self.s["sigma_b2"]
        point = mpmath.mpf(self.start["c_star"])
        aux_work = self.aux["c"]
        for _round in range(self.MAX_ROUNDS):
            pair = dict(q1=qs, q2=qs, rho=qs * point)
            kern = self.law("kernel", **pair)
            slope = self.law("derivative_kernel", **pair)
            name, work, values = self._kernel_aux_task(point, aux_work)
            second = self.evals.get(name, work, **dict(values))
            third = float(self.model.np("kernel_rho3", q1=float(qs), q2=float(qs),
                                        rho=float(qs * point)))
            step = _taylor_step((sw2 * kern + sb2) / qs - point, sw2 * slope - 1,
                                sw2 * qs * second, float(sw2) * float(qs) ** 2 * third,
                                aux_work, float(sw2) * float(qs) ** 2)
            new = point + step.delta
            if not -1 <= new <= 1:
                raise PrecisionError(f"{self.model.name}: the correlation fixed point left "
                                     "[-1, 1] (too close to the edge of chaos?)")
            point = new
            if step.err_root <= self.target * max(abs(point), mpmath.mpf(10) ** -3) and \
                    step.err_slope <= self.target * abs(step.slope):
                return point, step.slope
            aux_work = _aux_work(self.work, float(max(step.err_root, abs(step.delta) * 1e-3)))
        raise PrecisionError(f"{self.model.name}: c* did not converge at {self.work} digits "
                             "(too close to the edge of chaos?)")

    # -- derived quantities -------------------------------------------------------------------
    def _derived(self) -> None:
        v = self.values
        qs, cs = v["q_star"], v["c_star"]
        exact_q = qs is None or _is_exact(qs)
        sw2 = self.scales.sigma_w2 if exact_q else self.s["sigma_w2"]
        sb2 = self.scales.sigma_b2 if exact_q else self.s["sigma_b2"]
        v["A_star"] = None if qs is None else (qs - sb2) / sw2
        if _is_exact(cs) and cs == 1:
            v["D_star"] = sp.S.Zero
        elif qs is None:
            v["D_star"] = None
        elif _is_exact(cs):
            v["D_star"] = 2 * qs * (1 - cs) / sw2
        else:
            # c* numeric with q* exact (sign, step with a bias): at the working precision, not
            # SymPy's 15-digit product of a Rational and an mpf
            v["D_star"] = 2 * _num(qs, self.work) * (1 - cs) / _num(sw2, self.work)
        v["xi_q"] = _depth(v.get("length_slope"))
        if v["phase"] == "critical":
            v["xi_c"] = v["xi_grad"] = sp.oo
        else:
            v["xi_c"], v["xi_grad"] = _depth(v["chi_c"]), _depth(v["chi1"])
        chi1, chi2 = v["chi1"], v["chi2"]
        finite_chi2 = not (_is_exact(chi2) and chi2.is_infinite)
        if v["phase"] == "chaotic" and finite_chi2:
            v["kappa2_star"] = 3 * chi2 / (chi1 * (chi1 - 1))
        else:
            v["kappa2_star"] = None


# ------------------------------------------------------------------------------------------
# float64 starting values
# ------------------------------------------------------------------------------------------
def _float_start(model: MeanField, scales: Scales, length: _Length) -> dict:
    """q*, the phase guess, c* and the sizes of their float64 errors."""
    f = scales.floats()
    sw, sb = np.array([f["sigma_w"]]), np.array([f["sigma_b"]])
    start: dict[str, object] = {}
    if length.kind == "marginal":
        return start
    if length.kind == "numeric":
        qv, status, _lo, _hi = vectorised.length_fixed_point(model, sw, sb)
        if status[0] == vectorised.Q_NONE:
            raise InvalidValueError(
                f"{model.name}: no fixed point of the length map at {scales}: V(q) > q for "
                f"all q up to {vectorised.Q_LIMIT:g}, so q^l grows without bound")
        start["q_star"] = float(qv[0])
        residual = model.np("length_map", q=qv, sigma_w=sw, sigma_b=sb)[0] - qv[0]
        slope = model.np("length_map_slope", q=qv, sigma_w=sw)[0]
        start["q_step"] = float((abs(residual) + 4e-16 * qv[0]) / max(abs(1 - slope), 1e-300))
    else:
        qv = np.array([float(length.q_star)])
    if qv[0] <= 0:
        start["phase"] = "ordered"
        return start
    chi1 = model.np("chi1", q=qv, sigma_w=sw)
    start["phase"] = "chaotic" if chi1[0] > 1 + 1e-9 else (
        "ordered" if chi1[0] < 1 - 1e-9 else "critical")
    if chi1[0] > 1 and not (model.odd and scales.zero_bias):
        c, slope = vectorised.correlation_fixed_point(model, qv, chi1, sw, sb)
        start["c_star"] = float(c[0])
        kern = model.np("kernel", q1=qv, q2=qv, rho=qv * c)
        residual = (sw**2 * kern + sb**2) / qv - c
        # distance of the float64 root from c*: residual/|g'| plus the kernel's rounding
        start["c_step"] = float((abs(residual[0]) + 4e-16) / max(abs(slope[0] - 1), 1e-300))
    return start


# ------------------------------------------------------------------------------------------
# the public function
# ------------------------------------------------------------------------------------------
def _notes(model: MeanField, scales: Scales, length: _Length, values: dict) -> tuple[str, ...]:
    notes = []
    if length.kind == "zero":
        notes.append(
            "q* = 0: without bias the signal decays to zero in the ordered phase (q^l -> 0 "
            "with ratio V'(0) = sigma_w^2 phi'(0)^2 per layer, algebraically when that is 1); "
            "chi1, chi2, V' are the q -> 0+ limits of the laws. The correlation map tends to "
            "the identity as q -> 0; c* = 1 is reported (the ordered fixed point at every q > 0)")
    if length.kind == "marginal":
        notes.append("every q is a fixed point (the length map is the identity): q* and A* "
                     "are the input's own and are reported as None")
    if length.kind == "closed":
        notes.append("closed form: q* = sigma_b^2/(1 - slope of the affine length map) = "
                     f"{sp.sstr(length.q_star)}")
    if values["phase"] == "chaotic" and model.odd and scales.zero_bias:
        notes.append("c* = 0 exactly: odd activation without bias (E[phi(u1) phi(u2)] = 0 "
                     "at c = 0), so D* = 2 A*: inputs end mutually orthogonal and equidistant")
    if model.chi2_divergent:
        notes.append("chi2 = +inf: phi'' has a delta at the kink; no curvature fixed point")
    elif values["phase"] != "chaotic":
        notes.append("no curvature fixed point: chi1 <= 1 (the curvature grows with depth)")
    if values["phase"] == "critical":
        notes.append("critical: chi1 = 1, so xi_c = xi_grad = +inf (correlations approach 1 "
                     "algebraically)")
    if values["phase"] == "chaotic" and _depth(values["chi1"]) is None:
        notes.append("chi1 = +inf: gradients explode within one layer (xi_grad has no value)")
    elif values["phase"] == "chaotic":
        notes.append("xi_grad < 0: gradients grow by chi1 > 1 per layer (exploding)")
    return tuple(notes)


def _prepare(model: MeanField) -> None:
    """Register the derivatives the Taylor steps need, taken by the calculus: V'' and V'''
    (d/dq of the length-map slope: heat equation) and K'', K''' (d/drho of the derivative
    kernel: Price's theorem)."""
    for name, law, var, order in (("kernel_rho2", "derivative_kernel", rho, 1),
                                  ("kernel_rho3", "derivative_kernel", rho, 2),
                                  ("length_map_slope2", "length_map_slope", q, 1),
                                  ("length_map_slope3", "length_map_slope", q, 2)):
        if name not in model._evaluators:
            model.register_derivative(name, law, var, order)


def fixed_point(activation, sigma_w: object = None, sigma_b: object = None, dps: int = 30, *,
                sigma_w2: object = None, sigma_b2: object = None,
                workers: int = 1, proven: bool = False) -> FixedPointReport:
    """Fixed points, stability, phase and depth scales at (sigma_w, sigma_b), to ``dps`` digits.

    Give sigma_w or sigma_w2 (= sigma_w^2), and sigma_b or sigma_b2 (default 0); numbers may
    be ints, floats (read as the decimal they print as), strings ("0.3", "1/4"), Fractions,
    mpmath or SymPy numbers (``sympy.sqrt(2)``). ``dps`` is 15..100. ``workers`` > 1 (at most
    the CPUs available) computes the independent high-precision law values side by side in
    that many forked processes (where forking is safe; the default 1 computes everything in
    this process). ``proven=True`` adds ``enclosures``: q* proven by Krawczyk's interval
    Newton test on the length map in ball arithmetic (one fixed point in the ball, which is
    within 10^-dps of it), chi1 enclosed on that ball (seconds for integral and series
    forms), and c* (exact 1 in the ordered phase, exact 0 for an odd activation without bias;
    otherwise Krawczyk's test on the correlation map at the q* ball: tens of seconds where
    the kernel is a two-variable integral; left out, with a note, where the kernel cannot be
    enclosed); NotEnclosable (a NotImplementedError) where q* or chi1 cannot be enclosed.

    Raises InvalidValueError for bad input or when the length map has no finite fixed point
    (e.g. ReLU with sigma_w^2 >= 2 and sigma_b > 0: q grows without bound), and
    PrecisionError if the digits cannot be verified.
    """
    check_dps(dps)
    workers = check_workers(workers)
    if not isinstance(proven, bool):
        raise InvalidValueError(f"proven must be True or False (got {quoted(proven)})")
    model = mean_field(activation)
    scales = parse_scales(sigma_w, sigma_b, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    _prepare(model)
    length = _length_kind(model, scales)
    start = _float_start(model, scales, length)
    evals = _Evaluations(model, workers)

    low_work, high_work = dps + GUARDS[0][0], dps + GUARDS[0][1]
    # The auxiliary second derivatives are shared by both precisions: digits enough for the
    # higher one, given the size of the float64 step they multiply.
    aux = {"work": 0, "q": _aux_work(high_work, start.get("q_step", 1e-14)),
           "c": _aux_work(high_work, start.get("c_step", 1e-14))}
    aux["work"] = aux["q"]
    stages = [_Stage(model, scales, length, w, start, evals, aux) for w in (low_work, high_work)]
    evals.prefetch([t for s in stages for t in s.length_tasks()])
    for s in stages:
        s.solve_length()
    evals.prefetch([t for s in stages for t in s.rest_tasks()])
    low, high = (s.solve_rest() for s in stages)
    digits = _digits(low, high, dps)
    works = (low_work, high_work)
    if _short(digits, dps, high):
        # verify the higher result against a third, higher precision
        third_work = dps + GUARDS[1][1]
        refined = dict(start)
        for key in ("q_star", "c_star"):
            if isinstance(high.get(key), mpmath.mpf):
                refined[key] = high[key]
        refined["q_step"] = refined["c_step"] = float(mpmath.mpf(10) ** (-high_work))
        aux3 = {"q": 15, "c": 15, "work": 15}
        third = _Stage(model, scales, length, third_work, refined, evals, aux3)
        third.solve_length()
        third_values = third.solve_rest()
        digits = _digits(high, third_values, dps)
        low, high, works = high, third_values, (high_work, third_work)
    if low["phase"] != high["phase"]:
        raise PrecisionError(f"{model.name}: the phase differs between {works[0]} and "
                             f"{works[1]} digits (chi1 too close to 1 to decide)")
    sm = scales.mp(dps)
    report = FixedPointReport(
        activation=model.name,
        sigma_w=sm["sigma_w"], sigma_b=sm["sigma_b"], sigma_w2=sm["sigma_w2"],
        sigma_b2=sm["sigma_b2"], dps=dps, phase=high["phase"],
        **{name: rounded(high.get(name), dps) for name in QUANTITIES},
        digits=digits, notes=_notes(model, scales, length, high), working_precisions=works,
    )
    if proven:
        enclosures, notes = _proven(model, scales, report)
        report = dataclasses.replace(report, enclosures=enclosures, notes=report.notes + notes)
    return report


#: Extra digits of the proven q*: chi1 on the ball loses about as many as its condition.
_PROVEN_GUARD = 10


def _proven(model: MeanField, scales: Scales,
            report: FixedPointReport) -> tuple[dict[str, object], tuple[str, ...]]:
    """q*, chi1(q*) and c* as proven enclosures (Krawczyk's test on the length map V(q) with
    its derived slope law, enclose_fixed_point, from the certified q* as the starting point;
    then on the correlation map), and a note where c* cannot be proven."""
    from ..gaussian.numerics.enclosure import (NotEnclosable, enclose, enclose_fixed_point,
                                               exact_enclosure)
    from ..symbols import sigma_b, sigma_w
    from .model import zero_variance_limit

    if report.q_star is None:
        raise NotEnclosable(f"{model.name}: no finite q* to prove")
    dps = report.dps
    fixed = {sigma_w: scales.sigma_w, sigma_b: scales.sigma_b, **model.parameter_values}
    chi1 = model.law("chi1")
    if report.q_star == 0 and report.digits.get("q_star") == dps and scales.zero_bias:
        # q* = 0 exactly (sigma_b = 0, ordered): a boundary point, where a ball around it
        # would leave the domain; chi1 there is its zero-variance limit, sigma_w^2 phi'(0)^2
        limit = zero_variance_limit(chi1.definition.xreplace(fixed))
        out = {"q_star": exact_enclosure(0),
               "chi1": enclose(limit, (), [], dps, what=f"chi1 of {model.name} at q* = 0")}
    else:
        length, slope = model.law("length_map"), model.law("length_map_slope")
        q_ball = enclose_fixed_point(
            length.expr.xreplace(fixed), q, (q,), [report.q_star], report.q_star,
            dps + _PROVEN_GUARD, slope_expr=slope.expr.xreplace(fixed),
            what=f"q* of {model.name}")
        names = {s.name for s in chi1.variables}
        values = {k: v for k, v in (("sigma_w", scales.sigma_w), ("sigma_b", scales.sigma_b))
                  if k in names}
        # chi1 = +inf at every q > 0 for sign and step (phi' has a delta)
        out = {"q_star": q_ball,
               "chi1": exact_enclosure(mpmath.inf) if chi1.divergent
               else chi1.enclose(dps=dps, q=q_ball, **values)}
    if report.c_star is None:
        return out, ()
    c_ball = _proven_c_star(model, report, fixed, out["q_star"], out["chi1"])
    if isinstance(c_ball, str):
        return out, (f"c* is not proven: {c_ball}",)
    return {**out, "c_star": c_ball}, ()


def _proven_c_star(model: MeanField, report: FixedPointReport, fixed: dict,
                   q_ball, chi1_ball):
    """c* proven, or the reason why it cannot be (a string, for the report's notes).

    Ordered phase (a proven chi1 < 1): c* = 1 exactly, the correlation map's fixed point at
    the true q* by its definition. An odd activation without bias in the chaotic phase:
    c* = 0 exactly (symmetry). Otherwise Krawczyk's test on the correlation map in c at the
    proven q* ball, with the derived correlation_map_slope as its slope (a parametric
    interval Newton step: it holds for every q in the ball, so for the true q*)."""
    from ..gaussian.numerics.enclosure import NotEnclosable, enclose_fixed_point, exact_enclosure
    from ..symbols import c, sigma_b

    c_star = report.c_star
    if report.phase == "critical":
        return "at criticality c* = 1 is a double root of c = f(c)"
    if report.phase == "ordered":
        if c_star == 1 and chi1_ball.upper < 1:
            return exact_enclosure(1)
        return "the proven chi1 does not lie below 1"
    if model.odd and fixed[sigma_b] == 0 and c_star == 0:
        return exact_enclosure(0)
    law, slope = model.law("correlation_map"), model.law("correlation_map_slope")
    variables = tuple(law.variables)
    values = [fixed.get(s, q_ball if s == q else c_star) for s in variables]
    try:
        return enclose_fixed_point(
            law.enclosed_form().xreplace(fixed), c, variables, values, c_star, report.dps,
            slope_expr=slope.enclosed_form().xreplace(fixed), what=f"c* of {model.name}")
    except (NotEnclosable, PrecisionError) as reason:
        return str(reason)


def _digits(low: dict, high: dict, dps: int) -> dict[str, int]:
    out = {}
    for name in QUANTITIES:
        a, b = low.get(name), high.get(name)
        if b is None:
            continue
        if isinstance(b, sp.Basic) and isinstance(a, sp.Basic):
            # exact at both precisions (identical expressions, or both infinite)
            out[name] = dps if (a == b or sp.simplify(a - b) == 0) else 0
            continue
        out[name] = agreement_digits(_num(a, dps + 30), _num(b, dps + 30), dps)
    return out


def _num(value, work: int):
    if isinstance(value, sp.Basic):
        return rounded(value, work)
    return value


def _short(digits: dict[str, int], dps: int, values: dict) -> bool:
    # depth scales near criticality lose digits by conditioning (1/ln chi): judge by the rest
    core = ("q_star", "chi1", "chi2", "length_slope", "c_star", "chi_c")
    return any(digits.get(name, dps) < dps - MAX_SHORTFALL for name in core
               if values.get(name) is not None)


__all__ = ["CONVENTIONS", "FixedPointReport", "QUANTITIES", "fixed_point"]


