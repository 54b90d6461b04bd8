"""float64 fixed points over whole grids at once (phase diagrams, sweeps, starting values).

Every step is a vectorised root finder over all grid points simultaneously, with the laws'
``to_numpy`` evaluators doing the Gaussian integrals:

* q*: safeguarded Newton on V(q) - q (slope from the ``length_map_slope`` law), started at an
  upper bound where V(q) < q. The length maps of the registered activations are concave
  (or affine), so Newton from above decreases monotonically to the largest fixed point, which
  is the one iteration of the map reaches; a bisection step takes over whenever a Newton step
  leaves the bracket.
* c* in the chaotic phase: the secant method on f(c) - c with f the ``correlation_map`` law,
  safeguarded by the bracket (g > 0 below c*, g < 0 between c* and the unstable c = 1), and
  chi_c = f'(c*) (its derivative in c: Price's theorem, by the calculus) once at the end. The
  2-D kernel is the expensive part, so the iteration starts from a cheap model of f built
  from 1-D quantities (f(0), f'(0), f(1) = 1, f'(1) = chi1): with the Mehler expansion
  f(c) = sum_k b_k c^k, b_k >= 0, the model b0 + b1 c + M c^alpha matches the zeroth and
  first moments of the tail.

Phases are coded as integers in the arrays (see PHASE_CODES) and as names in reports.
"""
from __future__ import annotations

import numpy as np

from .model import MeanField

ORDERED, CRITICAL, CHAOTIC, DIVERGENT = 0, 1, 2, 3
PHASE_NAMES = {ORDERED: "ordered", CRITICAL: "critical", CHAOTIC: "chaotic",
               DIVERGENT: "divergent"}
PHASE_CODES = {v: k for k, v in PHASE_NAMES.items()}

#: |chi1 - 1| below this counts as critical in float64.
CRITICAL_TOLERANCE = 1e-12
#: q beyond which the length map is declared to have no fixed point (q grows without bound).
Q_LIMIT = 1e15
#: Newton for q* stops when a step changes the root by less than this (relative): the next
#: step would be below rounding. The secant iteration for c* stops when the product of its
#: last two steps (its next error, up to a constant) or the last step is below rounding.
_Q_STEP_TOL = 1e-15
_C_STEP_TOL = 1e-9
_MAX_ITER = 80

#: Status of the length fixed point.
Q_POSITIVE, Q_ZERO, Q_NONE, Q_MARGINAL = 0, 1, 2, 3


def _arrays(*values) -> list[np.ndarray]:
    arrays = [np.asarray(v, dtype=float) for v in values]
    shape = np.broadcast_shapes(*[a.shape for a in arrays])
    return [np.broadcast_to(a, shape).astype(float).ravel() for a in arrays]


def _zero_q(model: MeanField, name: str, sw: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """A law's q -> 0+ limit (an expression in sigma_w, sigma_b) in float64."""
    import sympy as sp

    from ..symbols import sigma_b, sigma_w

    expr = model.at_zero_q(name)
    fn = sp.lambdify((sigma_w, sigma_b), expr, modules="numpy")
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(fn(sw, sb), dtype=float), sw.shape).copy()


# ------------------------------------------------------------------------------------------
# q*
# ------------------------------------------------------------------------------------------
def length_fixed_point(model: MeanField, sw: np.ndarray, sb: np.ndarray):
    """(q*, status, bracket_lo, bracket_hi) for flat arrays of sigma_w, sigma_b."""
    n = sw.size
    q_star = np.full(n, np.nan)
    status = np.full(n, Q_POSITIVE)
    lo, hi = np.zeros(n), np.full(n, np.nan)
    affine = model.linear_length_map
    if affine is not None:
        import sympy as sp

        from ..symbols import sigma_b, sigma_w

        slope = np.broadcast_to(np.asarray(sp.lambdify((sigma_w, sigma_b), affine[0])(sw, sb),
                                           dtype=float), sw.shape)
        icpt = np.broadcast_to(np.asarray(sp.lambdify((sigma_w, sigma_b), affine[1])(sw, sb),
                                          dtype=float), sw.shape)
        with np.errstate(all="ignore"):
            q_star = np.where(slope < 1, icpt / (1 - slope), np.nan)
        status = np.where(slope < 1, np.where(icpt == 0, Q_ZERO, Q_POSITIVE), Q_NONE)
        status = np.where((slope == 1) & (icpt == 0), Q_MARGINAL, status)
        q_star = np.where(status == Q_ZERO, 0.0, q_star)
        return q_star, status, q_star.copy(), q_star.copy()

    # V(0+) = sigma_b^2 + sigma_w^2 phi(0)^2 and V'(0+): only points without bias can have
    # V(0+) = 0 (the limits cost a symbolic limit the first time: skip them otherwise)
    v0, s0 = sb**2, np.full(n, np.inf)
    unbiased = sb == 0
    if unbiased.any():
        v0 = v0.copy()
        v0[unbiased] = _zero_q(model, "length_map", sw[unbiased], sb[unbiased])
        s0[unbiased] = _zero_q(model, "length_map_slope", sw[unbiased], sb[unbiased])

    def g(qv, idx):
        return model.np("length_map", q=qv, sigma_w=sw[idx], sigma_b=sb[idx]) - qv

    # Ordered phase without bias: 0 is the fixed point and it attracts (V'(0) <= 1).
    zero = (v0 == 0) & (s0 <= 1)
    status[zero] = Q_ZERO
    q_star[zero] = 0.0
    lo[zero] = hi[zero] = 0.0

    # An upper bound where V(q) < q.
    active = np.nonzero(~zero)[0]
    top = np.maximum(1.0, 2.0 * np.maximum(sb[active] ** 2, v0[active]))
    while active.size:
        bad = g(top, active) >= 0
        hi[active[~bad]] = top[~bad]
        active, top = active[bad], top[bad] * 4.0
        over = top > Q_LIMIT
        status[active[over]] = Q_NONE
        active, top = active[~over], top[~over]

    idx = np.nonzero(status == Q_POSITIVE)[0]
    x = hi[idx].copy()
    lo_i, hi_i = lo[idx].copy(), hi[idx].copy()
    done = np.zeros(idx.size, dtype=bool)
    for _ in range(_MAX_ITER):
        todo = np.nonzero(~done)[0]
        if not todo.size:
            break
        pts = idx[todo]
        xv = x[todo]
        gx = g(xv, pts)
        dg = model.np("length_map_slope", q=xv, sigma_w=sw[pts]) - 1.0
        lo_i[todo] = np.where(gx > 0, xv, lo_i[todo])
        hi_i[todo] = np.where(gx < 0, xv, hi_i[todo])
        with np.errstate(all="ignore"):
            step = -gx / dg
        new = xv + step
        outside = ~((new > lo_i[todo]) & (new < hi_i[todo])) | ~np.isfinite(new)
        new = np.where(outside, 0.5 * (lo_i[todo] + hi_i[todo]), new)
        converged = (np.abs(new - xv) <= _Q_STEP_TOL * np.abs(xv)) | (gx == 0)
        x[todo] = np.where(gx == 0, xv, new)
        done[todo] = converged
    q_star[idx] = x
    lo[idx], hi[idx] = lo_i, hi_i
    return q_star, status, lo, hi


# ------------------------------------------------------------------------------------------
# c*
# ------------------------------------------------------------------------------------------
def _model_root(b0, b1, chi1):
    """Root in (0, 1) of b0 + b1 c + M c^alpha = c (M = 1 - b0 - b1, alpha = (chi1 - b1)/M):
    a cheap first guess for the chaotic fixed point of the correlation map."""
    mass = 1.0 - b0 - b1
    with np.errstate(all="ignore"):
        alpha = (chi1 - b1) / mass
        c = np.full(b0.shape, 0.5)
        for _ in range(60):
            h = b0 + b1 * c + mass * c**alpha - c
            dh = b1 + mass * alpha * c ** (alpha - 1) - 1
            c = np.clip(c - h / dh, 1e-12, 1 - 1e-12)
    ok = np.isfinite(c) & (mass > 0) & (alpha > 1)
    return np.where(ok, c, 0.0)


def correlation_fixed_point(model: MeanField, q_star, chi1, sw, sb):
    """(c*, chi_c) of the correlation map at q* for flat arrays (chaotic points only need
    work: c* = 1 and chi_c = chi1 wherever chi1 <= 1)."""
    n = sw.size
    c_star = np.ones(n)
    chi_c = chi1.copy()
    c_star[np.isnan(chi1)] = np.nan
    # chi1 = +inf (sign, step: phi' has a delta) is chaotic too: the c-map's slope at c = 1
    # is infinite, and the bracketed secant below needs no finite chi1
    chaotic = (chi1 > 1 + CRITICAL_TOLERANCE) & (q_star > 0)
    if model.odd:
        # Odd phi without bias: c = 0 is a fixed point and (f convex on [0, 1]) the stable one;
        # chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at c = 0 = sigma_w^2 E[phi']^2.
        exact_zero = chaotic & (sb == 0)
        if exact_zero.any():
            k = np.nonzero(exact_zero)[0]
            c_star[k] = 0.0
            chi_c[k] = sw[k] ** 2 * model.np("mean_slope", q=q_star[k]) ** 2
            chaotic &= ~exact_zero
    idx = np.nonzero(chaotic)[0]
    if not idx.size:
        return c_star, chi_c
    qi, swi, sbi = q_star[idx], sw[idx], sb[idx]

    def f(cv, sel):
        return model.np("correlation_map", c=cv, q=qi[sel], sigma_w=swi[sel], sigma_b=sbi[sel])

    def fp(cv, sel):
        return model.np("correlation_map_slope", c=cv, q=qi[sel], sigma_w=swi[sel],
                        sigma_b=sbi[sel])

    b0 = (swi**2 * model.np("mean_activity", q=qi) ** 2 + sbi**2) / qi
    b1 = swi**2 * model.np("mean_slope", q=qi) ** 2
    lo = np.where(b0 > 0, 0.0, -1.0)
    hi = np.ones(idx.size)
    # Secant iteration on g = f - c, safeguarded by the bracket: g > 0 below c*, g < 0
    # between c* and the unstable fixed point c = 1. The 2-D kernel is the cost: the secant
    # method needs one kernel per step (order 1.6) where Newton needs the kernel and its
    # rho-derivative (order 2 for two), and chi_c = f'(c*) is evaluated once at the end.
    x = np.maximum(_model_root(b0, b1, chi1[idx]), lo)
    mass = 1.0 - b0 - b1
    with np.errstate(all="ignore"):
        alpha = (chi1[idx] - b1) / mass
        model_slope = b1 + mass * alpha * x ** (alpha - 1) - 1.0
    model_slope = np.where(np.isfinite(model_slope) & (model_slope < 0), model_slope, -0.5)
    prev_x, prev_g = np.full(idx.size, np.nan), np.full(idx.size, np.nan)
    prev_step = np.full(idx.size, np.inf)
    done = np.zeros(idx.size, dtype=bool)
    for _ in range(_MAX_ITER):
        todo = np.nonzero(~done)[0]
        if not todo.size:
            break
        xv = x[todo]
        gx = f(xv, todo) - xv
        lo[todo] = np.where(gx > 0, xv, lo[todo])
        hi[todo] = np.where(gx < 0, xv, hi[todo])
        with np.errstate(all="ignore"):
            slope = (gx - prev_g[todo]) / (xv - prev_x[todo])
            slope = np.where(np.isfinite(slope) & (slope != 0), slope, model_slope[todo])
            new = xv - gx / slope
        outside = ~((new > lo[todo]) & (new < hi[todo])) | ~np.isfinite(new)
        new = np.where(outside, 0.5 * (lo[todo] + hi[todo]), new)
        step = np.abs(new - xv)
        # the secant error after this step is about C * step * previous step
        converged = (gx == 0) | (~outside & ((step <= _C_STEP_TOL * 1e-5) |
                                             (step * prev_step[todo] <= 1e-18)))
        prev_x[todo], prev_g[todo], prev_step[todo] = xv, gx, step
        x[todo] = np.where(gx == 0, xv, new)
        done[todo] = converged
    c_star[idx] = x
    chi_c[idx] = fp(x, np.arange(idx.size))
    return c_star, chi_c


# ------------------------------------------------------------------------------------------
# everything at once
# ------------------------------------------------------------------------------------------
def depth_scale(slope: np.ndarray) -> np.ndarray:
    """-1/ln(slope): +inf at slope 1 (criticality), negative for slope > 1 (growth)."""
    slope = np.asarray(slope, dtype=float)
    with np.errstate(all="ignore"):
        out = -1.0 / np.log(slope)
    out = np.where(slope == 1.0, np.inf, out)
    return np.where(slope <= 0, 0.0, out)


def fixed_points_float64(model: MeanField, sigma_w, sigma_b) -> dict[str, np.ndarray]:
    """Every fixed-point quantity in float64 over broadcast arrays of sigma_w and sigma_b.

    Keys: q_star, A_star, chi1, chi2, length_slope, c_star, chi_c, xi_q, xi_c, xi_grad,
    D_star, kappa2_star (NaN where it does not exist), phase (codes, see PHASE_NAMES).
    Points without a finite length fixed point have phase DIVERGENT and NaN elsewhere.
    """
    shape = np.broadcast_shapes(np.shape(sigma_w), np.shape(sigma_b))
    sw, sb = _arrays(sigma_w, sigma_b)
    q_star, status, _lo, _hi = length_fixed_point(model, sw, sb)
    positive = status == Q_POSITIVE
    zero = status == Q_ZERO
    marginal = status == Q_MARGINAL

    def single(name):
        out = np.full(sw.size, np.nan)
        if positive.any():
            out[positive] = model.np(name, q=q_star[positive], sigma_w=sw[positive])
        if (zero | marginal).any():
            # q* = 0 (or every q, for an affine map whose chi's do not depend on q): the laws'
            # q -> 0+ limits
            k = zero | marginal
            out[k] = _zero_q(model, name, sw[k], sb[k])
        return out

    chi1 = single("chi1")
    chi2 = single("chi2") if not model.chi2_divergent else np.where(status != Q_NONE, np.inf,
                                                                     np.nan)
    length_slope = single("length_map_slope")
    c_star, chi_c = correlation_fixed_point(model, np.where(marginal, np.nan, q_star), chi1,
                                            sw, sb)
    c_star[marginal], chi_c[marginal] = 1.0, chi1[marginal]

    phase = np.full(sw.size, DIVERGENT)
    finite = status != Q_NONE
    phase[finite & (chi1 < 1 - CRITICAL_TOLERANCE)] = ORDERED
    phase[finite & (chi1 > 1 + CRITICAL_TOLERANCE)] = CHAOTIC
    phase[finite & (np.abs(chi1 - 1) <= CRITICAL_TOLERANCE)] = CRITICAL
    with np.errstate(all="ignore"):
        a_star = (q_star - sb**2) / sw**2
        d_star = 2 * q_star * (1 - c_star) / sw**2
        d_star = np.where(c_star == 1, 0.0, d_star)
        kappa = np.where((chi1 > 1) & np.isfinite(chi2), 3 * chi2 / (chi1 * (chi1 - 1)), np.nan)
    out = {
        "q_star": q_star, "A_star": a_star, "chi1": chi1, "chi2": chi2,
        "length_slope": length_slope, "c_star": c_star, "chi_c": chi_c,
        "xi_q": depth_scale(length_slope), "xi_c": depth_scale(chi_c),
        "xi_grad": depth_scale(chi1), "D_star": d_star, "kappa2_star": kappa,
        "phase": phase,
    }
    for key, value in out.items():
        if key != "phase":
            value[~finite] = np.nan
    return {k: v.reshape(shape) for k, v in out.items()}


__all__ = ["CHAOTIC", "CRITICAL", "DIVERGENT", "ORDERED", "PHASE_CODES", "PHASE_NAMES",
           "correlation_fixed_point", "depth_scale", "fixed_points_float64",
           "length_fixed_point"]
