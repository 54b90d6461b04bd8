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
@lru_cache(maxsize=256)
def _t_grid(h: float, count: int, dps: int) -> tuple:
    """(sinh t_j, cosh t_j) for t_j = j*h, j = 1..count, at working precision dps (cached)."""
    with mpmath.workdps(dps):
        step = mpmath.mpf(h)  # the float's exact binary value, as used in the weights
        out = []
        for j in range(1, count + 1):
            t = j * step
            out.append((mpmath.sinh(t), mpmath.cosh(t)))
        return tuple(out)


def expect_mp(f: Callable, var, dps: int, even: bool = False, max_levels: int = 8):
    """E[f(x)], x ~ N(0, var), at working precision ``dps``; returns (value, error estimate).

    ``f`` takes an mpmath number. ``even`` halves the work for even integrands. The value is
    accepted when two nested trapezoid levels agree to about ``dps - 3`` digits; the returned
    error estimate is that difference. Raises PrecisionError if no agreement is reached.
    """
    with mpmath.workdps(dps):
        var = mpmath.mpf(var)
        sd = mpmath.sqrt(var)
        beta = sd if var < 1 else mpmath.mpf(1)
        norm = beta / (sd * mpmath.sqrt(2 * mpmath.pi))
        inv2var = 1 / (2 * var)
        x_max = sd * gaussian_cutoff(dps)
        t_max = float(mpmath.asinh(x_max / beta))
        h = predicted_step(dps)
        # Choose h so that t_max is a whole number of steps at the finest level we may reach.
        count = max(4, math.ceil(t_max / h))
        h = t_max / count
        tol = mpmath.mpf(10) ** (-(dps - 3))

        def g(sinh_t, cosh_t, sign):
            xv = sign * beta * sinh_t
            return f(xv) * cosh_t * mpmath.exp(-xv * xv * inv2var)

        centre = f(mpmath.mpf(0))
        sides = (1,) if even else (1, -1)
        factor = 2 if even else 1

        def level_sum(hh: float, cnt: int, odd_only: bool):
            grid = _t_grid(hh, cnt, dps)
            total = mpmath.mpf(0)
            absum = mpmath.mpf(0)
            for j, (sh, ch) in enumerate(grid, start=1):
                if odd_only and j % 2 == 0:
                    continue
                for s in sides:
                    v = g(sh, ch, s)
                    total += v
                    absum += abs(v)
            return total * factor, absum * factor

        body, absum = level_sum(h, count, False)
        estimate = (centre + body) * h
        scale = (abs(centre) + absum) * h
        for _level in range(max_levels):
            h /= 2
            count *= 2
            new, new_abs = level_sum(h, count, True)
            refined = estimate / 2 + new * h
            scale = scale / 2 + new_abs * h
            error = abs(refined - estimate)
            estimate = refined
            if error <= tol * max(abs(estimate), scale * mpmath.mpf(10) ** -6):
                return estimate * norm, error * norm
        raise PrecisionError(
            f"Gaussian quadrature did not converge to {dps - 3} digits "
            f"(last two levels differ by {mpmath.nstr(error * norm, 3)})")


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
