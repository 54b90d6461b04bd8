"""Quadrature for Gaussian expectations, one algorithm for every precision.

E[F(x)], x ~ N(0, s), is computed with the trapezoid rule after the substitution
x = beta * sinh(t), beta = min(sqrt(s), 1). Activations have their features (kinks, complex
poles such as tanh's at +-i pi/2) at unit scale in x, while the Gaussian has width sqrt(s); the
sinh map resolves both scales with one uniform grid in t. For integrands analytic in a strip the
trapezoid error decays like exp(-pi^2 / (2h)) (the Gaussian factor stays bounded for
|Im t| < pi/4), so a predicted step h reaches P digits and the next halving certifies them.
Gauss-Hermite is avoided on purpose: its error depends on the pole distance pi/(2 sqrt(s)) and
stalls at large s (engineering notes, section 1.6).

The mpmath path (any precision, error certified by nested refinement) and the numpy path
(float64, vectorised over many variances) share the node construction below.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Callable

import mpmath
import numpy as np

from ...errors import PrecisionError

_LN10 = math.log(10.0)


def predicted_step(digits: float) -> float:
    """Trapezoid step in t expected to give ``digits`` correct digits."""
    return math.pi**2 / (2.0 * (digits * _LN10 + 3.0))


def gaussian_cutoff(digits: float) -> float:
    """z beyond which the standard normal tail (with polynomial growth margin) is negligible."""
    return math.sqrt(2.0 * (digits * _LN10 + 12.0)) + 1.0


# ------------------------------------------------------------------------------------------
# mpmath (any precision)
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _t_grid(h: float, count: int, dps: int) -> tuple:
    """(sinh t_j, cosh t_j) for t_j = j*h, j = 1..count, at working precision dps (cached)."""
    with mpmath.workdps(dps):
        step = mpmath.mpf(h)  # the float's exact binary value, as used in the weights
        return tuple((mpmath.sinh(j * step), mpmath.cosh(j * step)) for j in range(1, count + 1))


class _Levels:
    """Nodes and weights of the nested trapezoid levels for N(0, var) at one precision.

    Level 0 has step h0 (predicted for the precision); level k adds the odd multiples of
    h0/2^k. ``nodes(k)`` lists (x, weight) pairs with the density and normalisation folded
    into the weights, so that a level's sum is sum(w * f(x)) times its step.
    """

    def __init__(self, var, dps: int, even: bool):
        self.dps, self.even = dps, even
        with mpmath.workdps(dps):
            self.var = var = mpmath.mpf(var)
            sd = mpmath.sqrt(var)
            self.beta = sd if var < 1 else mpmath.mpf(1)
            self.norm = self.beta / (sd * mpmath.sqrt(2 * mpmath.pi))
            self.inv2var = 1 / (2 * var)
            t_max = float(mpmath.asinh(sd * gaussian_cutoff(dps) / self.beta))
            h = predicted_step(dps)
            self.count0 = max(4, math.ceil(t_max / h))
            self.h0 = t_max / self.count0
        self._levels: dict[int, list] = {}

    def step(self, level: int) -> float:
        return self.h0 / 2**level

    def nodes(self, level: int) -> list:
        """(x, w) for the nodes new at this level (level 0: all nodes with t > 0)."""
        cached = self._levels.get(level)
        if cached is not None:
            return cached
        h, count = self.step(level), self.count0 * 2**level
        out = []
        with mpmath.workdps(self.dps):
            for j, (sh, ch) in enumerate(_t_grid(h, count, self.dps), start=1):
                if level and j % 2 == 0:
                    continue
                x = self.beta * sh
                w = ch * mpmath.exp(-x * x * self.inv2var) * self.norm
                out.append((x, w))
        self._levels[level] = out
        return out

    def level_sum(self, f: Callable, level: int, shift=0, need_abs: bool = True):
        """(sum of w f over this level's new nodes, sum of |w f| or None), both sides
        unless even."""
        nodes = self.nodes(level)
        ws = [w for _x, w in nodes]
        if self.even:
            values = [f(x) for x, _w in nodes]
            absolute = [abs(v) for v in values] if need_abs else None
        else:
            plus = [f(shift + x) for x, _w in nodes]
            minus = [f(shift - x) for x, _w in nodes]
            values = [a + b for a, b in zip(plus, minus)]
            absolute = [abs(a) + abs(b) for a, b in zip(plus, minus)] if need_abs else None
        factor = 2 if self.even else 1
        total = factor * mpmath.fdot(ws, values)
        if not need_abs:
            return total, None
        return total, factor * mpmath.fdot(ws, absolute)


@lru_cache(maxsize=128)
def _levels(var, dps: int, even: bool) -> _Levels:
    return _Levels(var, dps, even)


def expect_mp(f: Callable, var, dps: int, even: bool = False, max_levels: int = 8,
              refine: bool = True, shift=0, strict: bool = True, atol=0):
    """E[f(x)], x ~ N(shift, var), at working precision ``dps``; returns (value, error estimate).

    ``f`` takes an mpmath number. ``even`` (centred, even f) halves the work. The value is
    accepted when two nested trapezoid levels agree to about ``dps - 3`` digits; the returned
    error estimate is that difference. Raises PrecisionError if no agreement is reached.
    With ``refine=False`` only the predicted step is used (error estimate None): for inner
    integrals whose accuracy the caller certifies by other means; with ``strict=False`` the
    best estimate is returned instead of raising when the levels do not agree (inner integrals
    whose values are negligible at the outer level need no relative accuracy of their own).
    ``atol`` accepts an absolute error (for inner integrals far out in the outer tail).
    """
    with mpmath.workdps(dps):
        rule = _levels(mpmath.mpf(var), dps, even)
        centre = rule.norm * f(mpmath.mpf(shift))
        body, absum = rule.level_sum(f, 0, shift, need_abs=refine)
        h = rule.step(0)
        estimate = (centre + body) * h
        if not refine:
            return estimate, None
        scale = (abs(centre) + absum) * h
        tol = mpmath.mpf(10) ** (-(dps - 3))
        error = None
        for level in range(1, max_levels + 1):
            h = rule.step(level)
            new, new_abs = rule.level_sum(f, level, shift)
            refined = estimate / 2 + new * h
            scale = scale / 2 + new_abs * h
            error = abs(refined - estimate)
            estimate = refined
            if error <= max(tol * max(abs(estimate), scale * mpmath.mpf(10) ** -6), atol):
                return estimate, error
        if not strict:
            return estimate, error
        raise PrecisionError(
            f"Gaussian quadrature did not converge to {dps - 3} digits "
            f"(last two levels differ by {mpmath.nstr(error, 3)})")


def expect_mp_split(f: Callable, var, dps: int, breakpoints=()):
    """E[f(x)] for non-smooth f: tanh-sinh quadrature on the pieces between the kinks."""
    with mpmath.workdps(dps):
        var = mpmath.mpf(var)
        sd = mpmath.sqrt(var)
        dens = lambda z: f(sd * z) * mpmath.exp(-z * z / 2)  # noqa: E731
        pts = [-mpmath.inf] + sorted(mpmath.mpf(b) / sd for b in breakpoints) + [mpmath.inf]
        value, err = mpmath.quad(dens, pts, error=True, maxdegree=10)
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        return value * norm, err * norm


# ------------------------------------------------------------------------------------------
# numpy (float64, vectorised over variances)
# ------------------------------------------------------------------------------------------
_FP_STEP = 0.125          # exp(-pi^2/(2h)) ~ 7e-18
_FP_CUTOFF = 9.0          # standard-normal tail beyond 9 sd ~ 1e-19
_FP_CHUNK_ELEMENTS = 1 << 22


def expect_np(f: Callable[[np.ndarray], np.ndarray], var: np.ndarray, even: bool = False,
              params: tuple = ()) -> np.ndarray:
    """E[f(x, *params)], x ~ N(0, var), in float64 for an array of variances.

    ``params`` are arrays broadcastable to ``var`` that ``f`` needs besides x. The work is done
    in chunks so that memory stays bounded for 10^6 points.
    """
    var = np.asarray(var, dtype=float)
    shape = np.broadcast_shapes(var.shape, *[np.shape(p) for p in params])
    var_flat = np.broadcast_to(var, shape).ravel()
    invalid = ~(np.isfinite(var_flat) & (var_flat > 0))
    if np.any(invalid):  # vectorised semantics: NaN where the variance is not a variance
        result = np.full(var_flat.size, np.nan)
        if not np.all(invalid):
            ok = ~invalid
            result[ok] = expect_np(f, var_flat[ok], even,
                                   tuple(np.broadcast_to(np.asarray(p, dtype=float), shape).ravel()[ok]
                                         for p in params))
        return result.reshape(shape)
    params_flat = [np.broadcast_to(np.asarray(p, dtype=float), shape).ravel() for p in params]
    out = np.empty(var_flat.size)
    sd_all = np.sqrt(var_flat)
    beta_all = np.minimum(sd_all, 1.0)
    t_max = float(np.max(np.arcsinh(sd_all * _FP_CUTOFF / beta_all))) if var_flat.size else 1.0
    count = int(math.ceil(t_max / _FP_STEP))
    t = np.arange(0 if even else -count, count + 1) * _FP_STEP
    weights_t = np.full(t.size, _FP_STEP)
    if even:
        weights_t[1:] *= 2.0
    sinh_t, cosh_t = np.sinh(t), np.cosh(t)
    chunk = max(1, _FP_CHUNK_ELEMENTS // t.size)
    for start in range(0, var_flat.size, chunk):
        sl = slice(start, start + chunk)
        sd = sd_all[sl, None]
        beta = beta_all[sl, None]
        xs = beta * sinh_t
        w = weights_t * cosh_t * np.exp(-0.5 * (xs / sd) ** 2) * (beta / (sd * math.sqrt(2 * math.pi)))
        vals = f(xs, *[p[sl, None] for p in params_flat])
        out[sl] = np.sum(vals * w, axis=1)
    return out.reshape(shape)


# ------------------------------------------------------------------------------------------
# Gaussian pairs: nested one-dimensional rules (condition on u1)
# ------------------------------------------------------------------------------------------
def expect2_mp(F: Callable, q1, rho, q2, dps: int, jointly_even: bool = False,
               separable: tuple[Callable, Callable] | None = None):
    """E[F(u1, u2)] for the centred pair (q1, rho, q2) at working precision ``dps``.

    u2 | u1 ~ N(rho u1/q1, q2 - rho^2/q1): the inner expectation is a refined 1-D rule centred
    at the conditional mean (the activation's features sit off-centre there, so the predicted
    step is not trusted); the outer one, centred like the activation, uses the predicted step.
    Callers certify the digits by repeating at a second precision (different grids). With
    ``separable=(f, g)``, F = f(u1) g(u2) and f is kept out of the inner loop. At
    |rho| = sqrt(q1 q2) the pair is degenerate (u2 = rho u1/q1): a 1-D expectation.
    """
    with mpmath.workdps(dps):
        q1, rho, q2 = mpmath.mpf(q1), mpmath.mpf(rho), mpmath.mpf(q2)
        if q2 > q1:
            # Condition on the wider variable: the inner variance q1 - rho^2/q2 is then the
            # smaller of the two, and the inner integrand varies slowly across it.
            swapped = None if separable is None else (separable[1], separable[0])
            return expect2_mp(lambda a, b: F(b, a), q2, rho, q1, dps, jointly_even, swapped)
        slope = rho / q1
        cond_var = q2 - rho * slope
        if cond_var <= q2 * mpmath.mpf(10) ** (-dps):
            return expect_mp(lambda a: F(a, slope * a), q1, dps, even=jointly_even)

        # An inner integral only matters through the outer weight ~ exp(-a^2/(2 q1)): far out
        # in the outer tail it needs correspondingly fewer digits.
        eps = mpmath.mpf(10) ** (-(dps - 2))

        def inner_atol(a):
            return eps * mpmath.exp(min(a * a / (2 * q1), mpmath.mpf(dps) * 2))

        if separable is not None:
            f, g = separable

            def inner(a):
                value, _ = expect_mp(g, cond_var, dps, shift=slope * a, max_levels=4,
                                     strict=False, atol=inner_atol(a))
                return f(a) * value
        else:
            def inner(a):
                value, _ = expect_mp(lambda y: F(a, y), cond_var, dps, shift=slope * a,
                                     max_levels=4, strict=False, atol=inner_atol(a))
                return value

        # One level outside too: the caller's second evaluation at another precision (hence
        # on other grids) is what certifies the digits.
        return expect_mp(inner, q1, dps, even=jointly_even, refine=False)


def _inner_step(sd: np.ndarray) -> np.ndarray:
    """Uniform inner step: resolve unit-scale features of the activation (poles at distance
    >= pi/2 from the real axis: exp(-pi^2/h) < 1e-16 for h <= 0.25) and the Gaussian of
    width sd (exp(-2 pi^2 sd^2/h^2) < 1e-16 for h <= 0.6 sd)."""
    return np.minimum(0.25, 0.6 * sd)


def expect2_np(F: Callable, q1: np.ndarray, rho: np.ndarray, q2: np.ndarray,
               jointly_even: bool = False, params: tuple = ()) -> np.ndarray:
    """float64 E[F(u1, u2, *params)] for arrays of pair covariances.

    Outer: the sinh-mapped rule over u1 (centred like the activation's features). Inner:
    u2 | u1 ~ N(rho u1/q1, q2 - rho^2/q1), whose centre moves away from the activation's
    features, so a *uniform* trapezoid is used there (a sinh map would squeeze the strip of
    analyticity off-centre). Points are grouped by inner node count to vectorise.
    """
    q1, rho, q2 = (np.asarray(a, dtype=float) for a in (q1, rho, q2))
    shape = np.broadcast_shapes(q1.shape, rho.shape, q2.shape, *[np.shape(p) for p in params])
    q1f, rhof, q2f = (np.broadcast_to(a, shape).ravel() for a in (q1, rho, q2))
    if np.any(q2f > q1f):
        # Condition on the wider variable (smaller inner variance, fewer inner nodes).
        swap = q2f > q1f
        pflat_all = [np.broadcast_to(np.asarray(p, dtype=float), shape).ravel() for p in params]
        result = np.empty(q1f.size)
        keep = ~swap
        if np.any(keep):
            result[keep] = expect2_np(F, q1f[keep], rhof[keep], q2f[keep], jointly_even,
                                      tuple(p[keep] for p in pflat_all))
        result[swap] = expect2_np(lambda a, b, *ps: F(b, a, *ps), q2f[swap], rhof[swap],
                                  q1f[swap], jointly_even, tuple(p[swap] for p in pflat_all))
        return result.reshape(shape)
    pflat = [np.broadcast_to(np.asarray(p, dtype=float), shape).ravel() for p in params]
    invalid = ~(np.isfinite(q1f) & np.isfinite(q2f) & np.isfinite(rhof) & (q1f > 0) & (q2f > 0)
                & (rhof * rhof <= q1f * q2f * (1 + 1e-12)))
    if np.any(invalid):  # NaN where (q1, rho, q2) is not a covariance
        result = np.full(q1f.size, np.nan)
        if not np.all(invalid):
            ok = ~invalid
            result[ok] = expect2_np(F, q1f[ok], rhof[ok], q2f[ok], jointly_even,
                                    tuple(p[ok] for p in pflat))
        return result.reshape(shape)
    out = np.empty(q1f.size)
    slope = rhof / q1f
    sd2 = np.sqrt(np.maximum(q2f - rhof * slope, 0.0))
    half_width = _FP_CUTOFF * sd2
    counts = np.where(sd2 > 0, np.ceil(half_width / np.where(sd2 > 0, _inner_step(sd2), 1.0)), 0)
    # group by inner node count (powers of two) so each group shares one array shape
    groups = np.where(counts > 0, np.ceil(np.log2(np.maximum(counts, 1))), -1).astype(int)
    norm = 1.0 / math.sqrt(2 * math.pi)
    for g in np.unique(groups):
        idx = np.nonzero(groups == g)[0]
        n_inner = 0 if g < 0 else 2**g
        sd1 = np.sqrt(q1f[idx])
        beta1 = np.minimum(sd1, 1.0)
        t_max = float(np.max(np.arcsinh(sd1 * _FP_CUTOFF / beta1)))
        c1 = int(math.ceil(t_max / _FP_STEP))
        t1 = np.arange(0 if jointly_even else -c1, c1 + 1) * _FP_STEP
        w1t = np.full(t1.size, _FP_STEP)
        if jointly_even:
            w1t[1:] *= 2.0
        sh1, ch1 = np.sinh(t1), np.cosh(t1)
        k = np.arange(-n_inner, n_inner + 1)
        per_point = t1.size * k.size
        chunk = max(1, _FP_CHUNK_ELEMENTS // per_point)
        for start in range(0, idx.size, chunk):
            sel = idx[start:start + chunk]
            s1, b1 = np.sqrt(q1f[sel])[:, None], np.minimum(np.sqrt(q1f[sel]), 1.0)[:, None]
            a = b1 * sh1                                        # (P, N1)
            w1 = w1t * ch1 * np.exp(-0.5 * (a / s1) ** 2) * (b1 / s1) * norm
            u1 = a[:, :, None]
            ps = [p[sel, None, None] for p in pflat]
            if n_inner == 0:                                    # degenerate pair
                vals = F(u1, slope[sel, None, None] * u1, *ps)[:, :, 0]
                out[sel] = np.sum(vals * w1, axis=1)
                continue
            s2 = sd2[sel][:, None, None]
            h = (half_width[sel] / n_inner)[:, None, None]
            y = h * k                                           # (P, 1, N2)
            w2 = h * np.exp(-0.5 * (y / s2) ** 2) / s2 * norm
            u2 = slope[sel, None, None] * u1 + y
            inner = np.sum(F(u1, u2, *ps) * w2, axis=2)
            out[sel] = np.sum(inner * w1, axis=1)
    return out.reshape(shape)
