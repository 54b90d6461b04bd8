"""Criticality of the 1/n theory and the universality class of an activation.

Criticality (Roberts, Yaida & Hanin 2022, ch. 5) asks for a fixed point K* of the length map
K -> sigma_w^2 chi0(K) + sigma_b^2 with both susceptibilities equal to 1:
chi_par(K*) = sigma_w^2 chi0'(K*) = 1 and chi_perp(K*) = sigma_w^2 E[phi'^2](K*) = 1. The class
is decided in this order:

* **scale-invariant**: phi(lambda x) = lambda phi(x) for lambda > 0 (the ReLU family, linear),
  decided symbolically on each half-line. Then chi0(K) = K chi0(1) and chi_par = chi_perp for
  every K: criticality is sigma_w^2 = K/chi0(K), sigma_b = 0, and every K is a fixed point
  (``K_star`` None). V^l = (l - 1) sigma_w^4 Var[phi^2], so V/(K^2 l) -> mu4/chi0^2 - 1.
* **K*=0**: decided from the Taylor coefficients phi_p = phi^(p)(0): phi_0 = 0, phi_1 != 0
  and a1 < 0, where at sigma_w^2 = 1/phi_1^2, sigma_b = 0 the length map is K + a1 K^2 + O(K^3)
  (tanh, sin, erf). Then K^l ~ -1/(a1 l) and V/(K^2 l) -> 2/3.
* **half-stable**: otherwise, a K* > 0 where chi_par - chi_perp = sigma_w^2 E[phi phi''] = 0,
  with sigma_w^2 = 1/chi0'(K*) and sigma_b^2 = K* - sigma_w^2 chi0(K*) >= 0 (GELU, SiLU). The
  length map has slope 1 and curvature F''(K*) != 0 there: K* attracts from one side only,
  K^l - K* ~ -2/(F''(K*) l), and V/(K^2 l) -> beta*/(5 K*^2), beta* = sigma_w^4 Var[phi^2](K*).
* **none**: no such point (sigmoid, softplus, cos, ...).

The large-depth constants are derived with SymPy from the recursions (a power-law ansatz
solved order by order in 1/l), with the Taylor coefficients, a1, F'' and beta* as symbols:
the universal numbers (2/3, 1/5) come out of the derivation, not a table. Gaussian moments of
the Taylor polynomial come from the calculus; K* is solved exactly where the calculus finds
E[phi phi''] in closed form (GELU: K* = (3 + sqrt(17))/2), otherwise by a float64 scan of K in
[1e-4, 1e4] and certified root refinement.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, get_activation, x
from ..errors import InvalidValueError, PrecisionError
from ..expectation import Expectation, expectation
from ..gaussian.integrate import time_limit
from ..laws.calculus import ENGINE, derive
from ..laws.evaluation import MultiPrecisionContext
from ..laws.finite_width import (CHI0_CURVATURE, CHI_PARALLEL, FOURTH_MOMENT,
                                 SUSCEPTIBILITY_GAP)
from ..numbers import LAW_POLICY, check_dps
from ..symbols import q, sigma_w

#: The universality classes, in the order they are decided.
CLASSES = ("scale-invariant", "K*=0", "half-stable", "none")

#: Range of K scanned for a half-stable point, and the grid of the scan.
SCAN = (1e-4, 1e4, 321)
#: Largest estimated relative error of a float64 scan value whose sign is read (below 1
#: the error is smaller than the value, so the sign is right).
SIGN_TRUST = 0.5

#: The layer index of the large-depth asymptotics.
ell = sp.Symbol("l", positive=True)
_eps = sp.Symbol("epsilon", positive=True)  # 1/l

#: Seconds of CPU time SymPy may spend solving E[phi phi''] = 0 exactly.
SOLVE_SECONDS = 20
#: Seconds of CPU time the symbolic decision on phi itself may take (scale invariance and its
#: derivatives at 0): instant for the registry, a bound for formulas users write.
DECIDE_SECONDS = 30


@dataclass
class CriticalityReport:
    """The universality class of an activation and its critical point.

    ``K_star``, ``sigma_w``, ``sigma_b`` are mpmath numbers certified to ``dps`` digits (None
    where they do not exist; ``K_star`` None in the scale-invariant class, where every K is a
    fixed point); the ``*_exact`` fields hold SymPy forms where the derivation found them.
    ``K_asymptotic`` is the leading large-depth behaviour of K^l (K*=0) or K^l - K*
    (half-stable) in the layer index ``l``; ``V_over_K2_l`` the limit of V^l/((K^l)^2 l).
    """

    activation: str
    universality_class: str
    K_star: mpmath.mpf | None
    sigma_w: mpmath.mpf | None
    sigma_b: mpmath.mpf | None
    dps: int
    K_star_exact: sp.Expr | None = None
    sigma_w_exact: sp.Expr | None = None
    sigma_b_exact: sp.Expr | None = None
    taylor: tuple = ()
    a1: sp.Expr | None = None
    K_asymptotic: sp.Expr | None = None
    V_over_K2_l: mpmath.mpf | None = None
    V_over_K2_l_exact: sp.Expr | None = None
    reason: str = ""
    steps: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        def number(v):
            return None if v is None else mpmath.nstr(v, self.dps)

        def exact(v):
            return None if v is None else sp.sstr(v)

        return {"activation": self.activation, "universality_class": self.universality_class,
                "K_star": number(self.K_star), "sigma_w": number(self.sigma_w),
                "sigma_b": number(self.sigma_b), "dps": self.dps,
                "K_star_exact": exact(self.K_star_exact),
                "sigma_w_exact": exact(self.sigma_w_exact),
                "sigma_b_exact": exact(self.sigma_b_exact),
                "taylor": [sp.sstr(c) for c in self.taylor], "a1": exact(self.a1),
                "K_asymptotic": exact(self.K_asymptotic),
                "V_over_K2_l": number(self.V_over_K2_l),
                "V_over_K2_l_exact": exact(self.V_over_K2_l_exact),
                "reason": self.reason, "steps": list(self.steps)}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def __str__(self) -> str:
        def show(v, e=None):
            if v is None:
                return "none"
            text = mpmath.nstr(v, self.dps)
            return text if e is None or e.is_Float else f"{text}  (= {sp.sstr(e)})"

        lines = [f"{self.activation}: universality class {self.universality_class}",
                 f"  K*                {'every K > 0' if self.universality_class == 'scale-invariant' else show(self.K_star, self.K_star_exact)}",
                 f"  sigma_w           {show(self.sigma_w, self.sigma_w_exact)}",
                 f"  sigma_b           {show(self.sigma_b, self.sigma_b_exact)}"]
        if self.taylor:
            lines.append("  phi^(p)(0)        " + ", ".join(sp.sstr(c) for c in self.taylor))
        if self.a1 is not None:
            lines.append(f"  a1                {sp.sstr(self.a1)}")
        if self.K_asymptotic is not None:
            what = "K^l - K*" if self.universality_class == "half-stable" else "K^l"
            lines.append(f"  {what:17s} ~ {sp.sstr(self.K_asymptotic)}")
        if self.V_over_K2_l is not None:
            lines.append(f"  V/(K^2 l) ->      {show(self.V_over_K2_l, self.V_over_K2_l_exact)}")
        lines.append(f"  why: {self.reason}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# phi at 0
# ------------------------------------------------------------------------------------------
def _phi(act: Activation) -> sp.Expr:
    """phi with the activation's parameters at their defaults."""
    return act.phi.subs({sym: default for sym, default in act.parameters.values()})


def is_scale_invariant(phi: sp.Expr) -> bool:
    """phi(lambda x) = lambda phi(x) for every lambda > 0, checked on each half-line."""
    lam = sp.Dummy("lambda", positive=True)
    y = sp.Dummy("y", positive=True)
    for side in (1, -1):
        difference = phi.subs(x, lam * side * y) - lam * phi.subs(x, side * y)
        if sp.simplify(difference) != 0:
            return False
    return True


def taylor_coefficient(act: Activation, phi: sp.Expr, order: int) -> sp.Expr:
    """phi^(order)(0); InvalidValueError naming the derivative when it does not exist there
    (one-sided limits of the pointwise derivative differ, or are infinite)."""
    derivative = sp.diff(phi, x, order).replace(sp.DiracDelta, lambda *a: sp.S.Zero)
    kinks = {k.subs({s: d for s, d in act.parameters.values()}) for k in act.kinks}
    name = "phi" + "'" * order if order <= 3 else f"phi^({order})"
    if 0 in kinks:
        left = sp.simplify(sp.limit(derivative, x, 0, "-"))
        right = sp.simplify(sp.limit(derivative, x, 0, "+"))
        if sp.simplify(left - right) != 0 or not left.is_finite:
            raise InvalidValueError(
                f"the universality class of {act.name} needs {name}(0), but {name} jumps at "
                f"x = 0 ({_short(left)} on the left, {_short(right)} on the right): "
                f"{act.name} is not differentiable enough at 0")
        return left
    value = sp.simplify(derivative.subs(x, 0))
    if not value.is_finite:
        raise InvalidValueError(f"the universality class of {act.name} needs {name}(0), which "
                                f"is not finite")
    return value


# ------------------------------------------------------------------------------------------
# The large-depth asymptotics, derived with generic coefficients
# ------------------------------------------------------------------------------------------
def _leading_solution(equation: sp.Expr, unknown: sp.Symbol) -> sp.Expr:
    """The nonzero value of ``unknown`` that cancels the lowest nonvanishing order in eps of
    ``equation`` (a power-law ansatz in eps = 1/l)."""
    series = sp.expand(sp.series(equation, _eps, 0, 4).removeO())
    for power in range(0, 4):
        coefficient = sp.factor(series.coeff(_eps, power))
        if coefficient == 0:
            continue
        roots = [r for r in sp.solve(coefficient, unknown) if r != 0]
        if len(roots) != 1:
            raise ValueError(f"no unique nonzero {unknown} at order eps^{power}")  # pragma: no cover
        return roots[0]
    raise ValueError("the ansatz balances at every order")  # pragma: no cover


@lru_cache(maxsize=None)
def k_star_zero_theory() -> dict:
    """The K*=0 class with generic Taylor coefficients phi_1, phi_2, phi_3 (phi_0 = 0).

    The calculus takes the Gaussian moments of the Taylor polynomial; at sigma_w^2 =
    1/phi_1^2 the length map is F(K) = K + a1 K^2 + O(K^3) and
    sigma_w^4 Var[phi^2] = b2 K^2 + O(K^3). The ansatz K^l = A/l, V^l = B/l in
    K^{l+1} = F(K^l), V^{l+1} = F'(K^l)^2 V^l + sigma_w^4 Var[phi^2](K^l) gives A and B.
    """
    p1, p2, p3 = sp.symbols("phi_1 phi_2 phi_3", real=True, nonzero=True)
    K = sp.Symbol("K", positive=True)
    A, B = sp.symbols("A B", real=True)
    poly = p1 * x + p2 * x**2 / 2 + p3 * x**3 / 6

    def moment(power):
        return ENGINE.expect(expectation(sp.expand(poly**power), x, K)).value

    w2 = 1 / p1**2
    length = sp.expand(w2 * moment(2))
    source = sp.expand(w2**2 * (moment(4) - moment(2) ** 2))
    a1 = sp.factor(length.coeff(K, 2))
    b2 = sp.factor(source.coeff(K, 2))
    a1_sym, b2_sym = sp.symbols("a_1 b_2", real=True, nonzero=True)
    F = K + a1_sym * K**2
    k_now, k_next = A * _eps, A * _eps / (1 + _eps)
    A_value = _leading_solution(k_next - F.subs(K, k_now), A)
    chi = sp.diff(F, K).subs(K, k_now)
    v_now, v_next = B * _eps, B * _eps / (1 + _eps)
    B_value = _leading_solution(
        (v_next - chi**2 * v_now - b2_sym * k_now**2).subs(A, A_value), B)
    ratio = sp.simplify((B_value / A_value**2).subs(b2_sym, b2))
    return {"a1": a1, "b2": b2, "A": A_value, "a1_symbol": a1_sym,
            "V_over_K2_l": ratio, "symbols": (p1, p2, p3)}


@lru_cache(maxsize=None)
def half_stable_theory() -> dict:
    """The half-stable class with generic F''(K*) = 2 c2, beta* and K*: F(K* + d) =
    K* + d + c2 d^2, chi_par = 1 + 2 c2 d; the ansatz d^l = A/l, V^l = B l."""
    c2, beta, k_star = sp.symbols("c_2 beta K_star", positive=True)
    d, A, B = sp.symbols("d A B", real=True)
    k_now, k_next = A * _eps, A * _eps / (1 + _eps)
    A_value = _leading_solution(k_next - (k_now + c2 * k_now**2), A)
    chi = 1 + 2 * c2 * k_now
    v_now, v_next = B / _eps, B * (1 + _eps) / _eps
    B_value = _leading_solution((v_next - chi**2 * v_now - beta).subs(A, A_value) * _eps, B)
    return {"A": A_value, "c2": c2, "beta": beta, "K_star": k_star,
            "V_over_K2_l": B_value / k_star**2}


# ------------------------------------------------------------------------------------------
# The decision
# ------------------------------------------------------------------------------------------
def criticality(activation: str | Activation, dps: int = 30) -> CriticalityReport:
    """The universality class of ``activation`` under the 1/n analysis and its critical
    (sigma_w, sigma_b) with chi_par = chi_perp = 1 (see the module doc), to ``dps`` digits.

    InvalidValueError (one line) when the class needs a derivative of phi at 0 that does not
    exist (sign, step: phi jumps; ELU: phi'' jumps), naming that derivative.
    """
    dps = check_dps(dps)
    act = get_activation(activation)
    phi = _phi(act)
    try:
        with time_limit(DECIDE_SECONDS):
            scale_invariant = is_scale_invariant(phi)
            if not scale_invariant:
                taylor, a1 = _taylor_data(act, phi)
    except (TimeoutError, RecursionError):
        raise InvalidValueError(
            f"the universality class of {act.name} could not be decided: the symbolic work on "
            f"phi (scale invariance, derivatives at 0) took more than {DECIDE_SECONDS} s of "
            f"CPU time") from None
    if scale_invariant:
        return _scale_invariant(act, dps)
    steps = ["phi(lambda x) != lambda phi(x): not scale-invariant"]
    if a1 is not None:
        if a1.is_negative:
            return _k_star_zero(act, dps, tuple(taylor), a1, steps)
        steps.append(f"phi(0) = 0, phi'(0) != 0 but a1 = {sp.sstr(a1)} >= 0: K = 0 does "
                     "not attract")
    elif len(taylor) > 1:
        steps.append("phi(0) = phi'(0) = 0: no K*=0 criticality")
    else:
        steps.append(f"phi(0) = {sp.sstr(taylor[0])} != 0: no K*=0 criticality")
    return _half_stable(act, dps, tuple(taylor), a1, steps)


def _taylor_data(act: Activation, phi: sp.Expr) -> tuple[list[sp.Expr], sp.Expr | None]:
    """The Taylor coefficients phi^(p)(0) the K*=0 test needs (phi(0); then phi'(0) if
    phi(0) = 0; then phi''(0) and phi'''(0) if phi'(0) != 0) and a1, the K^2 coefficient of
    the length map at sigma_w^2 = 1/phi'(0)^2 (None when the test stops earlier)."""
    taylor = [taylor_coefficient(act, phi, 0)]
    if taylor[0] != 0:
        return taylor, None
    taylor.append(taylor_coefficient(act, phi, 1))
    if taylor[1] == 0:
        return taylor, None
    taylor += [taylor_coefficient(act, phi, 2), taylor_coefficient(act, phi, 3)]
    theory = k_star_zero_theory()
    return taylor, sp.simplify(theory["a1"].subs(dict(zip(theory["symbols"], taylor[1:]))))


def _scale_invariant(act: Activation, dps: int) -> CriticalityReport:
    chi0 = derive("chi0", act).expr
    mu4 = derive(FOURTH_MOMENT, act).expr
    defaults = {sym: d for sym, d in act.parameters.values()}
    w2 = sp.simplify((q / chi0).subs(defaults))
    ratio = sp.simplify((w2**2 * (mu4 - chi0**2) / q**2).subs(defaults))
    chi_par = sp.simplify(derive(CHI_PARALLEL, act).expr.subs(defaults).subs(sigma_w, sp.sqrt(w2)))
    if w2.has(q) or ratio.has(q) or chi_par != 1:  # pragma: no cover - homogeneity implies it
        raise AssertionError(f"{act.name}: scale invariance without q-free moment ratios")
    w = sp.sqrt(w2)
    return CriticalityReport(
        act.name, "scale-invariant", None, _number(w, dps), mpmath.mpf(0), dps,
        sigma_w_exact=w, sigma_b_exact=sp.S.Zero, K_asymptotic=None,
        V_over_K2_l=_number(ratio, dps), V_over_K2_l_exact=ratio,
        reason="phi(lambda x) = lambda phi(x): chi0(K) = K chi0(1), so at sigma_w^2 = "
               f"{sp.sstr(w2)}, sigma_b = 0 chi_par = chi_perp = 1 for every K; V^l = "
               f"(l - 1) {sp.sstr(ratio)} K^2",
        steps=("scale invariance decided symbolically on both half-lines",))


def _k_star_zero(act, dps, taylor, a1, steps) -> CriticalityReport:
    theory = k_star_zero_theory()
    w = 1 / sp.Abs(taylor[1])
    k_law = sp.simplify(theory["A"].subs(theory["a1_symbol"], a1) / ell)
    ratio = theory["V_over_K2_l"]
    return CriticalityReport(
        act.name, "K*=0", mpmath.mpf(0), _number(w, dps), mpmath.mpf(0), dps,
        K_star_exact=sp.S.Zero, sigma_w_exact=w, sigma_b_exact=sp.S.Zero, taylor=taylor,
        a1=a1, K_asymptotic=k_law, V_over_K2_l=_number(ratio, dps), V_over_K2_l_exact=ratio,
        reason=f"phi(0) = 0, phi'(0) = {sp.sstr(taylor[1])}, a1 = phi'''(0)/phi'(0) + "
               f"3/4 (phi''(0)/phi'(0))^2 = {sp.sstr(a1)} < 0: at sigma_w = 1/|phi'(0)|, "
               "sigma_b = 0 the variance flows to K* = 0 as a power law",
        steps=tuple(steps) + ("K*=0 class from the Taylor coefficients",))


def _exact_roots(gap: sp.Expr) -> list[sp.Expr] | None:
    """Positive roots of a closed-form E[phi phi''](q), or None when SymPy cannot say."""
    if gap.has(Expectation, sp.Sum):
        return None
    try:
        with time_limit(SOLVE_SECONDS):
            numerator = sp.numer(sp.together(sp.simplify(gap)))
            roots = sp.solve(numerator, q)
    except (TimeoutError, RecursionError, NotImplementedError, ValueError, TypeError):
        return None
    out = [sp.nsimplify(r) if r.is_Rational else sp.simplify(r) for r in roots]
    return sorted((r for r in out if r.is_real and r.is_positive), key=lambda r: float(r))


def _scan_brackets(act: Activation) -> list[tuple[float, float]]:
    """Sign changes of E[phi phi''](K) on a geometric float64 grid (SCAN)."""
    law = derive(SUSCEPTIBILITY_GAP, act)
    fn = law.compiled()
    grid = np.geomspace(*SCAN)
    defaults = law.parameter_defaults()
    columns = [grid if s == q else np.ones_like(grid) if s == sigma_w
               else np.full_like(grid, float(sp.S(defaults[s.name]))) for s in law.variables]
    # float64, without to_numpy's certified mpmath rescue of merely inaccurate points (seconds
    # each for a formula like x^7 exp(sin x)): only signs are read, every bracket is
    # certified afterwards, and a point whose error may exceed its value carries no sign
    with np.errstate(all="ignore"):
        values = np.array(fn.np(*columns), dtype=float)
        estimate = fn.last_error_estimate
    trusted = np.ones(values.shape, dtype=bool) if estimate is None \
        else np.broadcast_to(estimate, values.shape) < SIGN_TRUST
    overflowed = ~np.isfinite(values)
    if np.any(overflowed):  # float64 intermediates overflowed (mish): to_numpy certifies these
        with np.errstate(all="ignore"):
            values[overflowed] = law.to_numpy()(q=grid[overflowed], sigma_w=1.0)
        trusted = trusted | overflowed
    trusted &= np.isfinite(values)
    if not np.any(trusted):
        return []
    # values lost in float64 underflow or quadrature noise carry no sign (hard tanh's
    # E[phi phi''] ~ -exp(-1/(2K)) at small K)
    floor = 1e-10 * float(np.max(np.abs(values[trusted])))
    signed = np.flatnonzero(trusted & (np.abs(values) > floor))
    # consecutive points with a sign (those without one in between are stepped over)
    return [(float(grid[a]), float(grid[b])) for a, b in zip(signed[:-1], signed[1:])
            if values[a] * values[b] < 0]


def _half_stable(act, dps, taylor, a1, steps) -> CriticalityReport:
    """Roots of E[phi phi''](K) = 0: exact ones where SymPy solves the closed form, and every
    sign change of a float64 scan that no exact root explains (SymPy's solve need not find
    every root of a transcendental equation); the first that gives sigma_b^2 >= 0 wins."""
    gap_law = derive(SUSCEPTIBILITY_GAP, act)
    defaults = {sym: d for sym, d in act.parameters.values()}
    exact = _exact_roots(gap_law.expr.subs(defaults).subs(sigma_w, 1)) or []
    brackets = [b for b in _scan_brackets(act)
                if not any(b[0] <= float(r) <= b[1] for r in exact)]
    if exact:
        steps.append("E[phi phi''] = 0 solved exactly: " + ", ".join(map(sp.sstr, exact)))
    steps.append(f"float64 scan of E[phi phi''] for K in [{SCAN[0]:g}, {SCAN[1]:g}]: "
                 f"{len(brackets)} further sign change(s)")
    candidates = sorted([(float(r), r, None) for r in exact] + [(b[0], None, b) for b in brackets],
                        key=lambda c: c[0])
    for _start, root, bracket in candidates:
        report = _half_stable_point(act, dps, root, bracket, taylor, a1, steps)
        if report is not None:
            return report
    return CriticalityReport(
        act.name, "none", None, None, None, dps, taylor=taylor, a1=a1,
        reason="no K* > 0 with chi_par = chi_perp = 1 and sigma_b^2 >= 0 (E[phi phi''] has "
               f"no usable zero for K in [{SCAN[0]:g}, {SCAN[1]:g}])",
        steps=tuple(steps))


def _half_stable_point(act, dps, root, bracket, taylor, a1, steps) -> CriticalityReport | None:
    laws = {"gap": derive(SUSCEPTIBILITY_GAP, act), "chi0": derive("chi0", act),
            "slope": derive(CHI_PARALLEL, act), "curvature": derive(CHI0_CURVATURE, act),
            "mu4": derive(FOURTH_MOMENT, act)}

    def at(work: int):
        context = MultiPrecisionContext(work)
        fn = {name: context.law(law) for name, law in laws.items()}
        with mpmath.workdps(work):
            if root is not None:
                k = mpmath.mpf(sp.N(root, work + 5))
            else:
                k = _bracketed_root(lambda t: fn["gap"](q=t, sigma_w=1), bracket, work)
            w2 = 1 / fn["slope"](q=k, sigma_w=1)
            g = fn["chi0"](q=k)
            b2 = k - w2 * g
            curvature = w2 * fn["curvature"](q=k)
            beta = w2**2 * (fn["mu4"](q=k) - g**2)
            return [k, w2, b2, curvature, beta]

    try:
        cap = min(law.compiled().max_work(dps) for law in laws.values())
        k, w2, b2, curvature, beta = LAW_POLICY.certify(at, dps, max_work=cap)
    except (PrecisionError, ZeroDivisionError, ValueError) as failure:
        steps.append(f"a root near {bracket} could not be certified ({failure})")
        return None
    if b2 < 0 or curvature == 0:
        steps.append(f"K* = {mpmath.nstr(k, 8)} needs sigma_b^2 = {mpmath.nstr(b2, 8)} < 0"
                     if b2 < 0 else f"K* = {mpmath.nstr(k, 8)} has F'' = 0")
        return None
    theory = half_stable_theory()
    values = {theory["c2"]: sp.Float(mpmath.nstr(curvature / 2, dps + 5), dps + 5),
              theory["beta"]: sp.Float(mpmath.nstr(beta, dps + 5), dps + 5),
              theory["K_star"]: sp.Float(mpmath.nstr(k, dps + 5), dps + 5)}
    k_exact = w_exact = b_exact = None
    chi0_expr = laws["chi0"].expr
    if root is not None:
        k_exact = root
        if not chi0_expr.has(Expectation, sp.Sum):
            w_exact, b_exact = _exact_scales(chi0_expr, root)
    with mpmath.workdps(dps + 10):
        sw, sb = mpmath.sqrt(w2), mpmath.sqrt(b2)
        ratio = mpmath.mpf(str(sp.N(theory["V_over_K2_l"].subs(values), dps + 5)))
    k_law = (theory["A"] / ell).subs(values)
    return CriticalityReport(
        act.name, "half-stable", _round(k, dps), _round(sw, dps), _round(sb, dps), dps,
        K_star_exact=k_exact, sigma_w_exact=w_exact, sigma_b_exact=b_exact, taylor=taylor,
        a1=a1, K_asymptotic=sp.N(k_law, 15), V_over_K2_l=_round(ratio, dps),
        V_over_K2_l_exact=theory["V_over_K2_l"],
        reason="E[phi phi''] = 0 at K* > 0, so chi_par = chi_perp = 1 at sigma_w^2 = "
               "1/chi0'(K*), sigma_b^2 = K* - sigma_w^2 chi0(K*) >= 0; the length map has "
               f"slope 1 and F''(K*) = {mpmath.nstr(curvature, 8)} there: K* attracts from "
               f"{'below' if curvature > 0 else 'above'} only",
        steps=tuple(steps) + ("half-stable point certified",))


def _bracketed_root(f, bracket: tuple[float, float], work: int) -> mpmath.mpf:
    """The zero of f inside a bracket with a sign change at this precision (ValueError when
    the bracket shows none: the float64 scan was fooled by rounding)."""
    lo, hi = (mpmath.mpf(b) for b in bracket)
    f_lo, f_hi = f(lo), f(hi)
    if not f_lo * f_hi < 0:
        raise ValueError("no sign change at this precision")
    return mpmath.findroot(f, (lo, hi), solver="anderson", tol=mpmath.mpf(10) ** (-2 * work))


def _short(value: sp.Expr) -> str:
    """A number for a one-line message: exact if short, else 8 significant digits."""
    text = sp.sstr(value)
    return text if len(text) <= 20 else sp.sstr(sp.N(value, 8))


#: Largest exact critical (sigma_w, sigma_b) shown (SymPy operations): bigger closed forms
#: (GELU's hold nested arcsines of sqrt(17)) are correct but not informative.
MAX_EXACT_OPS = 80


def _exact_scales(chi0: sp.Expr, root: sp.Expr) -> tuple[sp.Expr | None, sp.Expr | None]:
    """sigma_w = 1/sqrt(chi0'(K*)) and sigma_b = sqrt(K* - sigma_w^2 chi0(K*)) in closed form
    (None when SymPy's forms are too large or too slow)."""
    w2 = 1 / sp.diff(chi0, q).subs(q, root)
    b2 = root - w2 * chi0.subs(q, root)
    # simplify seldom halves a form, and on large ones it costs tens of seconds (GELU's)
    if sp.count_ops(w2) + sp.count_ops(b2) > 2 * MAX_EXACT_OPS:
        return None, None
    try:
        with time_limit(SOLVE_SECONDS):
            w2, b2 = sp.simplify(w2), sp.simplify(b2)
    except (TimeoutError, RecursionError):
        return None, None
    if sp.count_ops(w2) + sp.count_ops(b2) > MAX_EXACT_OPS:
        return None, None
    return sp.sqrt(w2), sp.sqrt(b2)


def _number(value: sp.Expr, dps: int) -> mpmath.mpf:
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(value, dps + 10))


def _round(value, dps: int) -> mpmath.mpf:
    with mpmath.workdps(dps):
        return +value


__all__ = ["CLASSES", "CriticalityReport", "criticality", "ell", "half_stable_theory",
           "is_scale_invariant", "k_star_zero_theory", "taylor_coefficient"]
