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
from typing import Callable, Sequence

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
            # Converged relative to the size of the integrand: when the value is much smaller
            # (cancellation, e.g. E[phi'^2 + phi phi''] for tanh at q = 1e30), it has fewer
            # digits, and the caller's second precision shows how many.
            if error <= max(tol * max(abs(estimate), scale), atol):
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
#: The one-variable rule's reach: at 9 sd the last node still weighs ~1e-18 of a constant
#: integrand and 1e-16 of x^2 (silu's E[phi^2] at q = 100), which its end check reads as a
#: truncated rule (then certified in mpmath point by point: minutes for silu's edge of
#: chaos); at 11 sd (tail exp(-60.5) ~ 5e-27) x^4 ends 1e-22 down, for two more nodes a side.
_FP_CUTOFF_1D = 11.0
_FP_END_WEIGHT = 1e-18    # the share of the last nodes above which the rule was too short
_FP_UNRESOLVED = 1e-5     # the step-2h rule's difference above which the rule is unresolved
#: The split rule's predicted error (relative to the integrand's size) below which it is
#: accepted (expect_split_np).
_SPLIT_PREDICTED = 1e-13
_FP_CHUNK_ELEMENTS = 1 << 22
#: Most integrand evaluations a float64 pair quadrature spends on one point (seconds): the
#: uniform inner rule needs 72 sd nodes per outer node, 2^28 at an inner variance of ~1e8.
_FP_MAX_PAIR_NODES = 1 << 28


def expect_np(f: Callable[[np.ndarray], np.ndarray], var: np.ndarray, even: bool = False,
              params: tuple = (), cancellation: np.ndarray | None = None) -> np.ndarray:
    """E[f(x, *params)], x ~ N(0, var), in float64 for an array of variances.

    ``params`` are arrays broadcastable to ``var`` that ``f`` needs besides x. The work is done
    in chunks so that memory stays bounded for 10^6 points. ``cancellation`` (an array of the
    result's shape) receives sum |w f| / |sum w f| per point: the factor by which rounding
    in the integrand is amplified.
    """
    var = np.asarray(var, dtype=float)
    shape = np.broadcast_shapes(var.shape, *[np.shape(p) for p in params])
    var_flat = np.broadcast_to(var, shape).ravel()
    invalid = ~(np.isfinite(var_flat) & (var_flat > 0))
    if np.any(invalid):  # vectorised semantics: NaN where the variance is not a variance
        result = np.full(var_flat.size, np.nan)
        if not np.all(invalid):
            ok = ~invalid
            sub = None if cancellation is None else np.ones(int(np.count_nonzero(ok)))
            result[ok] = expect_np(f, var_flat[ok], even,
                                   tuple(np.broadcast_to(np.asarray(p, dtype=float), shape).ravel()[ok]
                                         for p in params), sub)
            if cancellation is not None:
                cancellation.reshape(-1)[ok] = sub
        return result.reshape(shape)
    params_flat = [np.broadcast_to(np.asarray(p, dtype=float), shape).ravel() for p in params]
    out = np.empty(var_flat.size)
    sd_all = np.sqrt(var_flat)
    beta_all = np.minimum(sd_all, 1.0)
    t_max = float(np.max(np.arcsinh(sd_all * _FP_CUTOFF_1D / beta_all))) if var_flat.size else 1.0
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
        vals = f(xs, *[p[sl, None] for p in params_flat]) * w
        # one node grid serves the whole chunk, so a small variance beside a large one puts
        # nodes thousands of sd out, where the weight underflows to 0 and phi may overflow
        # (mish: inf/inf): such a node adds nothing in float64 either way, not NaN
        vals[w == 0] = 0.0
        out[sl] = np.sum(vals, axis=1)
        if cancellation is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                size = np.sum(np.abs(vals), axis=1)
                ratio = size / np.abs(out[sl])
                # An integrand that outgrows the Gaussian (exp(2 sqrt(q) x) at q = 1e3 peaks
                # at 63 sd) still weighs at the rule's last nodes: the truncated sum would be
                # silently wrong, so its error estimate is infinite (the caller recomputes).
                # (an even rule's first node is x = 0, the heaviest: only its last is an end)
                ends = np.abs(vals[:, -1]) if even else \
                    np.maximum(np.abs(vals[:, 0]), np.abs(vals[:, -1]))
                ratio = np.where(ends > _FP_END_WEIGHT * size, np.inf, ratio)
                # The same rule on every other node (step 2h): where the two differ by more
                # than _FP_UNRESOLVED of the integrand's size, the rule has not converged (the
                # trapezoid rule converges like exp(-c/h): at step h the error would be near
                # the square of that, 1e-10 at best): an integrand oscillating faster than
                # the nodes (E[cos^2 u] at q = 1e3, silently 12 % off) shows here, where the
                # sums above see nothing. (Smooth integrands differ by ~1e-7 or less.)
                coarse = 2.0 * np.sum(vals[:, ::2], axis=1)
                unresolved = np.abs(out[sl] - coarse) > _FP_UNRESOLVED * size
                ratio = np.where(unresolved, np.inf, ratio)
            cancellation.reshape(-1)[sl] = np.where(np.isfinite(ratio), ratio, np.inf)
    return out.reshape(shape)


# ------------------------------------------------------------------------------------------
# Gaussian pairs: nested one-dimensional rules (condition on u1)
# ------------------------------------------------------------------------------------------
def expect2_mp(F: Callable, q1, rho, q2, dps: int, jointly_even: bool = False,
               separable: tuple[Callable, Callable] | None = None,
               surrogates: tuple | None = None):
    """E[F(u1, u2)] for the centred pair (q1, rho, q2) at working precision ``dps``.

    u2 | u1 ~ N(rho u1/q1, s^2), s^2 = q2 - rho^2/q1: the inner expectation is one fixed
    trapezoid rule per outer node (``_conditional_rule``: uniform around the conditional mean
    when the activation's features are wide on the scale s, a sinh map centred on the feature
    at u2 = 0 when they are narrow, e.g. tanh at q = 1000); the outer one, centred like the
    activation, uses the predicted step. Callers certify the digits by repeating at a second
    precision (different grids). With ``separable=(f, g)``, F = f(u1) g(u2) and f is kept out
    of the inner loop; ``surrogates`` = (for f, for g), each None or (a, b, kappa) with
    f - (a erf(kappa x) + b) decaying fast (``_ConditionalRule``). At |rho| = sqrt(q1 q2) the
    pair is degenerate (u2 = rho u1/q1): a 1-D expectation.
    """
    with mpmath.workdps(dps):
        q1, rho, q2 = mpmath.mpf(q1), mpmath.mpf(rho), mpmath.mpf(q2)
        if q2 > q1:
            # Condition on the wider variable: the inner variance q1 - rho^2/q2 is then the
            # smaller of the two, and the inner integrand varies slowly across it.
            swapped = None if separable is None else (separable[1], separable[0])
            flipped = None if surrogates is None else (surrogates[1], surrogates[0])
            return expect2_mp(lambda a, b: F(b, a), q2, rho, q1, dps, jointly_even, swapped,
                              flipped)
        slope = rho / q1
        cond_var = q2 - rho * slope
        if cond_var <= q2 * mpmath.mpf(10) ** (-dps):
            return expect_mp(lambda a: F(a, slope * a), q1, dps, even=jointly_even)
        sd = mpmath.sqrt(cond_var)

        if separable is not None:
            f, g = separable
            rule = _ConditionalRule(g, sd, dps, None if surrogates is None else surrogates[1])

            def inner(a):
                return f(a) * rule.value(slope * a)
        else:
            def inner(a):
                return _ConditionalRule(lambda y: F(a, y), sd, dps).value(slope * a)

        # One level outside too: the caller's second evaluation at another precision (hence
        # on other grids) is what certifies the digits.
        return expect_mp(inner, q1, dps, even=jointly_even, refine=False)


#: Distance of the activation's nearest complex singularity from the real axis, in its own
#: variable (tanh: pi/2; sigmoid pi, erf none): the conservative design value of the rules.
_FEATURE_POLE = math.pi / 2


@lru_cache(maxsize=32)
def _gaussian_rule(step: float, cutoff: float, dps: int) -> tuple:
    """(z_k, w_k) of the uniform trapezoid rule for E[h(Z)], Z ~ N(0, 1), |z_k| <= cutoff."""
    with mpmath.workdps(dps):
        h = mpmath.mpf(step)
        count = int(math.ceil(cutoff / step))
        norm = h / mpmath.sqrt(2 * mpmath.pi)
        return tuple((k * h, norm * mpmath.exp(-(k * h) ** 2 / 2))
                     for k in range(-count, count + 1))


#: Conditional standard deviation from which a surrogate (closed-form part) is considered.
SURROGATE_SD = 0.5


class _ConditionalRule:
    """E[g(mean + sd Z)], Z ~ N(0, 1), for one g and sd and many means, g with unit-scale
    features at 0 (analytic in a strip of half-width _FEATURE_POLE), by the cheaper of two
    trapezoid rules:

    * uniform in z around the Gaussian's centre, the step limited by the Gaussian
      (exp(-2 pi^2/h^2)) and by g's poles at distance _FEATURE_POLE/sd in z;
    * a sinh map centred on g's feature, mean + sd z = sinh(t), the step resolving the
      Gaussian wherever it lives (narrow features, sd >> 1: tanh at q = 1000). Its nodes do
      not depend on the mean: g is evaluated once per node for every mean (steps are halvings
      of one base step, so that few grids are shared);
    * for wider Gaussians (sd >= SURROGATE_SD, when it needs fewer nodes) and g with limits
      at +-oo: g = s + r with the
      surrogate s = a erf(kappa y) + b, whose expectation is closed
      (a erf(kappa mean / sqrt(1 + 2 kappa^2 sd^2)) + b), and r decaying fast: only r is
      integrated, on a feature-centred grid that stops where r falls below the precision."""

    def __init__(self, g: Callable, sd, dps: int, surrogate: tuple | None = None):
        self.g, self.sd, self.dps = g, sd, dps
        self.sdf = float(sd)
        self.norm = 1 / (sd * mpmath.sqrt(2 * mpmath.pi))
        digits = dps * _LN10 + 3.0
        self.gauss_step = math.pi * math.sqrt(2.0 / digits)
        self.cutoff = gaussian_cutoff(dps)
        self.uniform_step = min(self.gauss_step,
                                2 * math.pi * (_FEATURE_POLE / self.sdf) / digits)
        self.base_step = predicted_step(dps)
        self._grids: dict = {}
        self.surrogate = None
        if surrogate is not None and sd >= SURROGATE_SD:
            self._set_surrogate(*surrogate)

    def _set_surrogate(self, a, b, kappa) -> None:
        """Accept the surrogate if the remainder falls below the precision by |y| = 4096."""
        a, b, kappa = (mpmath.mpf(v) for v in (a, b, kappa))
        remainder = lambda y: self.g(y) - (a * mpmath.erf(kappa * y) + b)  # noqa: E731
        tiny = mpmath.mpf(10) ** (-(self.dps + 8)) * (abs(a) + abs(b) + 1)
        reach = 1.0
        while any(abs(remainder(mpmath.mpf(sign * reach))) > tiny for sign in (1, -1)):
            reach *= 2
            if reach > 4096:
                return
        digits = self.dps * _LN10 + 3.0
        step = min(predicted_step(self.dps),
                   math.pi * math.sqrt(2.0 / digits) * self.sdf / reach)
        count = math.ceil(math.asinh(reach) / step)
        if 2 * count >= 2 * self.cutoff / self.uniform_step:
            return  # the plain rule needs fewer nodes
        h = mpmath.mpf(step)
        nodes = []
        for j in range(-count, count + 1):
            y = mpmath.sinh(j * h)
            nodes.append((y, h * mpmath.cosh(j * h), remainder(y)))
        self.surrogate = (a, b, kappa * kappa, kappa, nodes)

    def _value_with_surrogate(self, mean):
        a, b, kappa2, kappa, nodes = self.surrogate
        closed = a * mpmath.erf(kappa * mean / mpmath.sqrt(1 + 2 * kappa2 * self.sd**2)) + b
        inv = 1 / (2 * self.sd**2)
        weights = [w * mpmath.exp(-(y - mean) ** 2 * inv) for y, w, _r in nodes]
        return closed + self.norm * mpmath.fdot(weights, [r for _y, _w, r in nodes])

    def value(self, mean):
        if self.surrogate is not None:
            return self._value_with_surrogate(mean)
        cutoff, sd = self.cutoff, self.sdf
        centre = -float(mean) / sd
        scale = 1.0 / sd                       # width of g's feature in z
        far = abs(centre) + cutoff
        wanted = min(self.base_step, self.gauss_step / math.hypot(scale, far))
        halvings = max(0, math.ceil(math.log2(self.base_step / wanted)))
        step = self.base_step / 2**halvings
        t_lo = math.asinh((-cutoff - centre) / scale)
        t_hi = math.asinh((cutoff - centre) / scale)
        uniform_count = 2 * cutoff / self.uniform_step
        if uniform_count <= 3 * (t_hi - t_lo) / step:  # the sinh rule costs an exp per node
            rule = _gaussian_rule(self.uniform_step, cutoff, self.dps)
            return mpmath.fdot([w for _z, w in rule],
                               [self.g(mean + self.sd * z) for z, _w in rule])
        grid = self._grids.setdefault(halvings, {})
        h = mpmath.mpf(step)
        z_star = -mean / self.sd
        weights, values = [], []
        for j in range(math.floor(t_lo / step), math.ceil(t_hi / step) + 1):
            node = grid.get(j)
            if node is None:
                sh, ch = mpmath.sinh(j * h), mpmath.cosh(j * h)
                node = grid[j] = (sh / self.sd, ch, self.g(sh))
            z = z_star + node[0]
            weights.append(node[1] * mpmath.exp(-z * z / 2))
            values.append(node[2])
        return h * self.norm * mpmath.fdot(weights, values)


def _inner_step(sd: np.ndarray) -> np.ndarray:
    """Uniform inner step: resolve unit-scale features of the activation (poles at distance
    >= pi/2 from the real axis: exp(-pi^2/h) < 1e-16 for h <= 0.25) and the Gaussian of
    width sd (exp(-2 pi^2 sd^2/h^2) < 1e-16 for h <= 0.6 sd)."""
    return np.minimum(0.25, 0.6 * sd)


class SeparablePair:
    """F(u1, u2, *params) = first(u1, *params) * second(u2, *params): the pair rule then
    evaluates ``first`` once per outer node instead of once per node pair (a kernel
    E[phi(u1) phi(u2)] costs one activation call per pair, not two)."""

    def __init__(self, first: Callable, second: Callable):
        self.first, self.second = first, second

    def __call__(self, u1, u2, *params):
        return self.first(u1, *params) * self.second(u2, *params)

    def swapped(self) -> "SeparablePair":
        return SeparablePair(self.second, self.first)


def _inner_count(counts: np.ndarray) -> np.ndarray:
    """Inner half-counts rounded up on a ladder of ratio 2^(1/4), so that points share a few
    array shapes while no point takes over 19 % more nodes than it needs."""
    ladder = np.ceil(4 * np.log2(np.maximum(counts, 1)))
    return np.where(counts > 0, np.ceil(2.0 ** (ladder / 4)), 0).astype(int)


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
        flipped = (F.swapped() if isinstance(F, SeparablePair)
                   else lambda a, b, *ps: F(b, a, *ps))
        result[swap] = expect2_np(flipped, q2f[swap], rhof[swap], q1f[swap], jointly_even,
                                  tuple(p[swap] for p in pflat_all))
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
    # group by inner node count so each group shares one array shape
    groups = _inner_count(counts)
    norm = 1.0 / math.sqrt(2 * math.pi)
    separable = isinstance(F, SeparablePair)
    if groups.size and groups.max() > 0:
        widest = int(np.argmax(np.where(groups == groups.max(), q1f, -np.inf)))
        outer = 2 * math.ceil(math.asinh(math.sqrt(q1f[widest]) * _FP_CUTOFF
                                         / min(math.sqrt(q1f[widest]), 1.0)) / _FP_STEP) + 1
        nodes = outer * (2.0 * groups.max() + 1)
        if nodes > _FP_MAX_PAIR_NODES:
            # checked before any work: the rule grows like sqrt(q2 - rho^2/q1)
            raise PrecisionError(
                f"float64 pair quadrature at variances ({q1f[widest]:.3g}, {q2f[widest]:.3g}) "
                f"would need {nodes:.3g} integrand evaluations per point (the limit is "
                f"{_FP_MAX_PAIR_NODES:.3g}, inner variances up to about 1e8)")
    for g in np.unique(groups):
        idx = np.nonzero(groups == g)[0]
        n_inner = int(g)
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
        # a wide inner Gaussian (q2 ~ 1e8: 2^20 inner nodes) fills the budget with one
        # point: then the outer nodes are taken in slices too, so memory stays bounded
        outer_slice = max(1, _FP_CHUNK_ELEMENTS // k.size)
        for start in range(0, idx.size, chunk):
            sel = idx[start:start + chunk]
            s1, b1 = np.sqrt(q1f[sel])[:, None], np.minimum(np.sqrt(q1f[sel]), 1.0)[:, None]
            a = b1 * sh1                                        # (P, N1)
            w1 = w1t * ch1 * np.exp(-0.5 * (a / s1) ** 2) * (b1 / s1) * norm
            ps = [p[sel, None, None] for p in pflat]
            if n_inner == 0:                                    # degenerate pair
                u1 = a[:, :, None]
                vals = F(u1, slope[sel, None, None] * u1, *ps)[:, :, 0]
                out[sel] = np.sum(vals * w1, axis=1)
                continue
            s2 = sd2[sel][:, None, None]
            h = (half_width[sel] / n_inner)[:, None, None]
            y = h * k                                           # (P, 1, N2)
            w2 = h * np.exp(-0.5 * (y / s2) ** 2) / s2 * norm
            total = np.zeros(sel.size)
            for o in range(0, t1.size, outer_slice):
                u1 = a[:, o:o + outer_slice, None]
                u2 = slope[sel, None, None] * u1 + y
                if separable:
                    inner = (np.sum(F.second(u2, *ps) * w2, axis=2)
                             * np.broadcast_to(F.first(u1, *ps), u1.shape)[:, :, 0])
                else:
                    inner = np.sum(F(u1, u2, *ps) * w2, axis=2)
                total += np.sum(inner * w1[:, o:o + outer_slice], axis=1)
            out[sel] = total
    return out.reshape(shape)


# ------------------------------------------------------------------------------------------
# E[(f(u1) - f(u2))^2] for a pair of equal variances: the difference computed directly
# ------------------------------------------------------------------------------------------
# With m = (u1 + u2)/2 ~ N(0, (q + r)/2) and d = u1 - u2 ~ N(0, 2 (q - r)) (independent when
# the variances are equal), E[(f(u1) - f(u2))^2] = E_d E_m[(f(m + d/2) - f(m - d/2))^2]: as
# r -> q the variance of d, 2 (q - r), is computed as such (sigma_w^2 D for Amari's distance
# map), where 2 E[f^2] - 2 E[f(u1) f(u2)] would cancel all its digits.

#: Gauss-Legendre rule on [-1/2, 1/2] for the divided difference (f(m + d/2) - f(m - d/2))/d
#: = int f'(m + s d) ds at small |d| in float64 (exact to |d|^16 for analytic f).
_GL_NODES, _GL_WEIGHTS = (a / 2 for a in np.polynomial.legendre.leggauss(8))
#: The 4-node rule whose disagreement with the 8-node one estimates the latter's error.
_GL4_NODES, _GL4_WEIGHTS = (a / 2 for a in np.polynomial.legendre.leggauss(4))
#: Below this |d| float64 uses the divided difference.
_SMALL_DIFFERENCE = 0.25


#: tanh-sinh rule on [-1, 1] for the pieces of a split float64 expectation: out to t = 3.2
#: (nodes within 1e-16 of the ends), exact to rounding for integrands analytic on the piece,
#: also with a boundary layer at an end (a conditional mean crossing a kink). Step 1/32: a
#: piece may span the whole +-9 sd, where the centre spacing 9 sd pi h/2 = 0.44 sd keeps the
#: Gaussian's trapezoid error exp(-2 pi^2 (sd/spacing)^2) below rounding (at 1/8: 5 % off).
_TS_STEP = 1.0 / 32
_TS_END = 3.2


@lru_cache(maxsize=1)
def _tanh_sinh_nodes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes x on [-1, 1], weights, and 1 - |x| computed directly (2/(1 + e^(2|u|))), so
    that a node near an end is placed relative to that end: a node meant just outside a
    jump's cut must not round onto its other side (sign's distance map was 2e-8 off)."""
    t = np.arange(-round(_TS_END / _TS_STEP), round(_TS_END / _TS_STEP) + 1) * _TS_STEP
    inner = 0.5 * math.pi * np.sinh(t)
    return (np.tanh(inner), _TS_STEP * 0.5 * math.pi * np.cosh(t) / np.cosh(inner) ** 2,
            2.0 / (1.0 + np.exp(2.0 * np.abs(inner))))


def expect_split_np(f: Callable, var: np.ndarray, cuts: np.ndarray,
                    cancellation: np.ndarray, atol: np.ndarray | None = None) -> np.ndarray:
    """float64 E[f(x, i)], x ~ N(0, var[i]), for points i whose integrands are analytic
    between their own ``cuts`` (shape (points, k); NaN for none): tanh-sinh on each piece of
    [-L, L], L = _FP_CUTOFF sd. ``f(x, rows)`` takes nodes of shape (len(rows), m) and the
    indices of the points they belong to. ``cancellation`` receives sum|w f| / |sum w f|,
    infinite where the rule at twice the step disagrees (not converged: the caller
    recomputes those points) by more than ``atol`` (per point; default 0), the absolute
    error a caller can afford there."""
    var = np.asarray(var, dtype=float)
    sd = np.sqrt(var)
    half = _FP_CUTOFF * sd
    ends = np.concatenate([-half[:, None], np.clip(np.nan_to_num(cuts, nan=-np.inf),
                                                   -half[:, None], half[:, None]),
                           half[:, None]], axis=1)
    ends.sort(axis=1)
    lo, hi = ends[:, :-1], ends[:, 1:]
    x01, w01, to_end = _tanh_sinh_nodes()
    coarse = np.zeros(x01.size, dtype=bool)
    coarse[(x01.size // 2) % 2::2] = True   # every other node, the centre kept
    coarser = np.zeros(x01.size, dtype=bool)
    coarser[(x01.size // 2) % 4::4] = True  # every fourth
    out = np.empty(var.size)
    per_point = lo.shape[1] * x01.size
    chunk = max(1, _FP_CHUNK_ELEMENTS // per_point)
    norm = 1.0 / math.sqrt(2 * math.pi)
    for start in range(0, var.size, chunk):
        rows = np.arange(start, min(start + chunk, var.size))
        width = 0.5 * (hi[rows] - lo[rows])
        # from the nearer end of each piece (mid + width x01 rounds at the scale of mid)
        xs = np.where(x01 < 0, lo[rows][:, :, None] + width[:, :, None] * to_end,
                      hi[rows][:, :, None] - width[:, :, None] * to_end)
        w = width[:, :, None] * w01 * np.exp(-0.5 * xs**2 / var[rows, None, None]) \
            * (norm / sd[rows, None, None])
        n_rows = rows.size
        vals = f(xs.reshape(n_rows, -1), rows).reshape(xs.shape) * w
        vals[w == 0] = 0.0
        total = vals.sum(axis=(1, 2))
        rough = 2.0 * vals[:, :, coarse].sum(axis=(1, 2))
        rougher = 4.0 * vals[:, :, coarser].sum(axis=(1, 2))
        size = np.abs(vals).sum(axis=(1, 2))
        out[rows] = total
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = size / np.abs(total)
            # (the estimate overstates tanh-sinh's double-exponential convergence: hard_tanh's
            # kernel, 4.9e-8 and 4.9e-2 apart, predicts 5e-14 where the error is 6e-16)
            converged = _converged(total, rough, rougher, size, _FP_UNRESOLVED,
                                   _SPLIT_PREDICTED)
            if atol is not None:
                converged |= np.abs(total - rough) <= atol[rows]
            ratio = np.where(converged, ratio, np.inf)
        # an integrand that is 0 at every node (saturated) is resolved, not 0/0
        ratio = np.where(size == 0, 1.0, ratio)
        cancellation[rows] = np.where(np.isfinite(ratio), ratio, np.inf)
    return out


def _converged(fine: np.ndarray, coarse: np.ndarray, coarser: np.ndarray, size: np.ndarray,
               agreement: float, predicted: float) -> np.ndarray:
    """Whether the rule of step h (``fine``) has converged, from the rules of steps 2h and 4h:
    converging at least geometrically, its error is at most about (its distance to 2h)^2 /
    (2h's distance to 4h), which must be below ``predicted`` x ``size``, with h and 2h within
    ``agreement`` x ``size``; or the two agree to rounding. Agreement of h and 2h alone
    admits the square of their distance where the convergence is only geometric (mish at
    var 1e4: rules 2e-6 then 7.6e-9 apart, the last 8e-13 off)."""
    apart, before = np.abs(fine - coarse), np.abs(coarse - coarser)
    return (apart <= _DIFFERENCE_ROUNDING * size) | (
        (apart <= agreement * size) & (apart * apart <= predicted * size * before))


def expect_difference_mp(f: Callable, var_mean, var_difference, dps: int,
                         even_in_mean: bool = False):
    """E[(f(m + d/2) - f(m - d/2))^2], m ~ N(0, var_mean), d ~ N(0, var_difference), at
    working precision ``dps`` (outer rule over d at the predicted step, certified by the
    caller's second precision; inner over m refined). The difference is formed with the
    digits its cancellation costs."""
    with mpmath.workdps(dps):
        var_mean, var_difference = mpmath.mpf(var_mean), mpmath.mpf(var_difference)
        if var_difference == 0:
            return mpmath.mpf(0)
        eps = mpmath.mpf(10) ** (-(dps - 2))

        def squared_difference(d):
            if d == 0:
                return lambda m: mpmath.mpf(0)
            lost = max(0, int(mpmath.log10(1 / abs(d)))) + 3

            def g(m):
                with mpmath.workdps(dps + lost + max(0, int(mpmath.log10(abs(m) + 1)))):
                    value = f(m + d / 2) - f(m - d / 2)
                return value * value
            return g

        def inner(d):
            if var_mean == 0:  # u2 = -u1: m = 0 exactly
                return squared_difference(d)(mpmath.mpf(0))
            value, _ = expect_mp(squared_difference(d), var_mean, dps, even=even_in_mean,
                                 max_levels=6, strict=False,
                                 atol=eps * mpmath.exp(min(d * d / (2 * var_difference),
                                                           mpmath.mpf(dps) * 2)) * d * d)
            return value

        value, _ = expect_mp(inner, var_difference, dps, even=True, refine=False)
        return value


def _mean_over(g: Callable, centre, width, ps: list, nodes=_GL_NODES, weights=_GL_WEIGHTS):
    """Gauss-Legendre mean of g(x, *ps) over [centre - width/2, centre + width/2]."""
    return sum(w * g(centre + s * width, *ps) for s, w in zip(nodes, weights))


def _differences(f: Callable, fprime: Callable, m: np.ndarray, d: np.ndarray, ps: list,
                 mirror: tuple | None = None, kinks: Sequence = ()) -> np.ndarray:
    """f(m + d/2) - f(m - d/2) on broadcast node arrays, computed where it is small without
    the direct difference's cancellation: for small |d|, d int f'(m + s d) ds (Gauss-
    Legendre); for small |m| (u2 near -u1), with f = f_e + f_o split by parity, the mirrored
    form f_o(d/2 + m) + f_o(d/2 - m) + 2m int f_e'(d/2 + 2 m s) ds (``mirror`` = (f_o, f_e')).
    Neither is used on an interval holding one of ``kinks`` (arrays broadcasting with m)."""
    with np.errstate(all="ignore"):
        out = f(m + d / 2, *ps) - f(m - d / 2, *ps)
        # the mirrored form where |m| < |d|/2 (an even part's share cancels in the divided
        # difference there), the divided difference in d elsewhere while |d| is small
        small_m = np.zeros(np.broadcast_shapes(np.shape(m), np.shape(d)), dtype=bool)
        if mirror is not None:
            small_m = (np.abs(m) < _SMALL_DIFFERENCE) & (np.abs(m) < np.abs(d) / 2)
            for k in kinks:   # f_e's kinks are +-k
                small_m = small_m & ~(np.abs(d / 2 - k) <= np.abs(m)) \
                    & ~(np.abs(d / 2 + k) <= np.abs(m))
        small_d = ~small_m & (np.abs(d) < _SMALL_DIFFERENCE)
        for k in kinks:
            small_d = small_d & ~(np.abs(m - k) <= np.abs(d) / 2)
        if np.any(small_d):
            divided = _mean_over(fprime, m, d, ps) * d
            out = np.where(small_d, divided, out)
        # a larger |d| that is still small beside |m| (x^3 at m ~ 300, d ~ 1: the direct
        # difference keeps only 13 digits): the divided difference where the Gauss-Legendre
        # rules of 8 and 4 nodes agree better than the direct difference's rounding
        wide = ~small_m & ~small_d & (np.abs(m) > np.abs(d))
        for k in kinks:
            wide = wide & ~(np.abs(m - k) <= np.abs(d) / 2)
        if np.any(wide):
            shape = wide.shape
            at = np.nonzero(wide)
            mw, dw = np.broadcast_to(m, shape)[at], np.broadcast_to(d, shape)[at]
            pw = [np.broadcast_to(p, shape)[at] for p in ps]
            eight = _mean_over(fprime, mw, dw, pw)
            four = _mean_over(fprime, mw, dw, pw, _GL4_NODES, _GL4_WEIGHTS)
            rounding = 4e-16 * (np.abs(f(mw + dw / 2, *pw)) + np.abs(f(mw - dw / 2, *pw)))
            better = np.abs(eight - four) * np.abs(dw) < rounding
            chosen = np.broadcast_to(out, shape).copy()
            chosen[tuple(a[better] for a in at)] = (eight * dw)[better]
            out = chosen
        if np.any(small_m):
            odd, even_prime = mirror

            def odd_part(y):
                # (f(y) - f(-y))/2 = y int f'(2 s y) ds where |y| is small and [-|y|, |y|]
                # holds no kink (exp's sinh as a difference of exponentials lost 5 digits)
                value = odd(y, *ps)
                near = np.abs(y) < _SMALL_DIFFERENCE
                for k in kinks:
                    near = near & ~(np.abs(k) <= np.abs(y))
                if np.any(near):
                    # f_o' = (f'(x) + f'(-x))/2 at mirrored nodes: exactly 0 for an even f
                    divided = y * sum(w * (fprime(2 * s * y, *ps) + fprime(-2 * s * y, *ps))
                                      for s, w in zip(_GL_NODES, _GL_WEIGHTS)) / 2
                    value = np.where(near, divided, value)
                return value

            half = d / 2
            mirrored = odd_part(half + m) + odd_part(half - m) \
                + 2 * m * _mean_over(even_prime, half, 2 * m, ps)
            out = np.where(small_m, mirrored, out)
    return out


def expect_difference_np(f: Callable, fprime: Callable, var_mean: np.ndarray,
                         var_difference: np.ndarray, params: tuple = (),
                         mirror: tuple | None = None,
                         unresolved: np.ndarray | None = None) -> np.ndarray:
    """float64 E[(f(m + d/2) - f(m - d/2))^2] over arrays of the two variances; ``f`` and
    ``fprime`` take (x, *params). Small |d|: the Gauss-Legendre divided difference, so that
    the result keeps its relative accuracy as var_difference -> 0; small |m| with ``mirror``
    (f's odd part and its even part's derivative): the mirrored form (``_differences``), so
    that an even part's share keeps its accuracy as var_mean -> 0.

    The product rule in the sinh-mapped (d, m) is compared with the rule of twice its step on
    every other node (free): where they disagree the step is halved. The integrand's
    singularities lie on the diagonals m +- d/2 = i pi/2 (tanh), which the mapped step 0.125
    resolved only to 1e-10 at sigma_w = 2.5. ``unresolved`` (a boolean array of the result's
    shape) receives the points where the last halving still disagreed (cos at a variance of
    1e4: hundreds of turns per standard deviation)."""
    var_mean = np.asarray(var_mean, dtype=float)
    var_difference = np.asarray(var_difference, dtype=float)
    shape = np.broadcast_shapes(var_mean.shape, var_difference.shape,
                                *[np.shape(p) for p in params])
    vm = np.broadcast_to(var_mean, shape).ravel()
    vd = np.broadcast_to(var_difference, shape).ravel()
    pflat = [np.broadcast_to(np.asarray(p, dtype=float), shape).ravel() for p in params]
    out = np.zeros(vm.size)
    todo = np.nonzero(vd > 0)[0]
    step = _FP_STEP / 2
    for _ in range(_DIFFERENCE_HALVINGS + 1):
        if todo.size == 0:
            break
        fine, coarse, coarser = _difference_rule(f, fprime, vm[todo], vd[todo],
                                                 [p[todo] for p in pflat], step, mirror)
        out[todo] = fine
        with np.errstate(invalid="ignore"):
            agree = _converged(fine, coarse, coarser, np.abs(fine), _DIFFERENCE_AGREEMENT,
                               _DIFFERENCE_PREDICTED)
        todo = todo[~agree]
        step /= 2
    # Still disagreeing: a bend of unit width far out on the diagonals m = +-d/2, where the
    # mapped nodes are sparse (GELU at var 5e4: the rules 2.6e-5, 7.5e-7, 1.9e-9 apart, the
    # last 1.9e-9 off). The activations of the literature bend at the origin: at a large
    # variance that bend is a kink there in all but name, and the split rule placing pieces'
    # ends on it resolves it (2e-16, 0.2 s a point); its own check reports where it did not.
    todo = todo[vm[todo] > 0]
    if todo.size:
        ratio = np.ones(todo.size)
        retried = expect_difference_split_np(
            f, fprime, np.zeros((todo.size, 1)), vm[todo], vd[todo],
            tuple(p[todo] for p in pflat), ratio, mirror, nested=True, scale=out[todo])
        done = np.isfinite(ratio) & _light_tails(f, vm[todo], vd[todo],
                                                 [p[todo] for p in pflat], retried)
        out[todo[done]] = retried[done]
        todo = todo[~done]
    if unresolved is not None and todo.size:
        unresolved.reshape(-1)[todo] = True     # a value of unknown worth: the caller's
    return out.reshape(shape)


def _light_tails(f: Callable, vm: np.ndarray, vd: np.ndarray, pflat: list,
                 total: np.ndarray) -> np.ndarray:
    """Whether the mass of (f(m + d/2) - f(m - d/2))^2 near the rules' cutoff (9 sd in m and
    in d) is negligible beside ``total``: a rule truncated there cannot see an integrand that
    outgrows the Gaussian (exp at var 575 peaks at 48 sd), and its checks agree with
    themselves. Probed at the cutoff in one variable and 0, 1, 3 sd in the other."""
    sd_m, sd_d = np.sqrt(vm), np.sqrt(vd)
    cut = _FP_CUTOFF
    probes = [(sign * cut, k) for sign in (-1, 1) for k in (0.0, 1.0, 3.0)] + \
             [(sign * k, cut) for sign in (-1, 1) for k in (0.0, 1.0, 3.0)]
    heaviest = np.zeros(vm.size)
    with np.errstate(all="ignore"):
        for a, b in probes:
            m, d = a * sd_m, b * sd_d
            diff = f(m + d / 2, *pflat) - f(m - d / 2, *pflat)
            # the mass of a cell one sd wide around the probe
            mass = diff * diff * math.exp(-(a * a + b * b) / 2) / (2 * math.pi)
            heaviest = np.maximum(heaviest, np.where(np.isfinite(mass), mass, np.inf))
        return heaviest <= _NEGLIGIBLE_TAIL * np.abs(total)


#: The largest mass at the cutoff, relative to the result, of an integrand the truncated
#: rules may take (a linear growth, GELU's, leaves ~1e-18 there).
_NEGLIGIBLE_TAIL = 1e-16


def expect_difference_split_np(f: Callable, fprime: Callable, kinks: np.ndarray,
                               var_mean: np.ndarray, var_difference: np.ndarray,
                               params: tuple, cancellation: np.ndarray,
                               mirror: tuple | None = None, nested: bool = False,
                               scale: np.ndarray | None = None) -> np.ndarray:
    """float64 E[(f(m + d/2) - f(m - d/2))^2] (as ``expect_difference_np``) for f analytic
    between its ``kinks`` (shape (points, k), in f's variable). The product trapezoid rule
    meets a jump of f' on the lines m = k +- d/2 and converges like its step there (ELU's
    distance map 2e-5 off). Here, while var_difference <= var_mean/4 and the kink lines do
    not cross in range (Amari's D -> 0), H(d) = E_m[(f(m + d/2) - f(m - d/2))^2] by tanh-sinh
    pieces split at m = k +- d/2, averaged over d by a half-range Gauss rule (H is smooth in
    d >= 0): ~10 ms a point. Otherwise the rule is nested and split the other way: the outer
    expectation over m by tanh-sinh pieces between the points where G(m) below is not smooth,
    the inner G(m) = E_d[(f(m + d/2) - f(m - d/2))^2] by pieces between d = +-2 (m - k),
    where m +- d/2 crosses a kink (0.2-2 s a point). The difference is formed by
    ``_differences`` (divided or mirrored where small, never across a kink).
    ``cancellation`` receives the outer rule's ratios, +inf where an inner or the outer rule
    is unresolved (the caller recomputes those points). ``nested`` takes the nested rule at
    every point (a smooth f whose bend is a kink at the scale of the variances: H(d) then
    bends at the scale 1 in d, which the half-range rule does not resolve). ``scale``: an
    estimate of each result's size (within a factor of a few), so that an inner expectation
    far below it (silu's G(m) ~ 1e-47 at m = -330) need not converge in relative terms."""
    shape = np.shape(var_mean)
    vm_all = np.ascontiguousarray(var_mean, dtype=float).ravel()
    vd_all = np.ascontiguousarray(var_difference, dtype=float).ravel()
    out = np.zeros(vm_all.size)
    flat_ratio = np.ones(vm_all.size)
    scale_all = None if scale is None else np.broadcast_to(scale, shape).ravel()
    # var_mean = 0 (u2 = -u1) is not this route's: NaN, recomputed by the caller
    out[vm_all <= 0] = np.nan
    flat_ratio[vm_all <= 0] = np.inf
    todo = np.flatnonzero((vd_all > 0) & (vm_all > 0))
    vm, vd = vm_all[todo], vd_all[todo]
    kinks = np.asarray(kinks, dtype=float).reshape(vm_all.size, -1)[todo]
    pflat = [np.broadcast_to(np.asarray(p, dtype=float), shape).ravel()[todo] for p in params]

    def squares(m: np.ndarray, d: np.ndarray, point: np.ndarray) -> np.ndarray:
        ps = [p[point][:, None] for p in pflat]
        diff = _differences(f, fprime, m, d, ps, mirror, [k[:, None] for k in kinks[point].T])
        return diff * diff

    def by_half_range_rule(sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # H(d) = E_m[(f(m + d/2) - f(m - d/2))^2] is smooth in d >= 0 (its |d|^3 term is a
        # polynomial there) while the kink lines m = k +- d/2 do not cross in range: Gauss
        # nodes for exp(-x^2/2) on [0, inf) in d, tanh-sinh pieces split at k +- d/2 in m
        x, w = _half_range_gauss(_HALF_RANGE_NODES)
        owner = np.repeat(sel, x.size)
        d = (np.sqrt(vd[sel])[:, None] * x).ravel()
        cuts = np.concatenate([kinks[owner] - d[:, None] / 2, kinks[owner] + d[:, None] / 2],
                              axis=1)
        inner_ratio = np.empty(owner.size)
        values = expect_split_np(lambda ms, rows: squares(ms, d[rows][:, None], owner[rows]),
                                 vm[owner], cuts, inner_ratio)
        total = (values.reshape(sel.size, x.size) * w).sum(axis=1) * math.sqrt(2 / math.pi)
        flags = ~np.isfinite(inner_ratio).reshape(sel.size, x.size).all(axis=1)
        return total, flags

    def by_nested_rule(sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # G(m) = E_d[...] is not smooth where two inner cuts meet: 2 (m - k_i) = -2 (m - k_j),
        # i.e. at the midpoints of two kinks (each kink with itself included); it has a
        # boundary layer of width sd(d) there, which gets pieces of its own
        unresolved = np.zeros(sel.size, dtype=bool)

        def conditional_mean_square(ms: np.ndarray, rows: np.ndarray) -> np.ndarray:
            count = ms.shape[1]
            owner = np.repeat(sel[rows], count)     # the point of each inner problem
            m = ms.ravel()
            offsets = 2.0 * (m[:, None] - kinks[owner])
            inner_ratio = np.empty(m.size)
            # the result is E_m[G(m)]: an error e in every G(m) moves it by at most e
            atol = None if scale is None else _NEGLIGIBLE * np.abs(scale_all[todo][owner])
            values = expect_split_np(
                lambda ds, inner: squares(m[inner][:, None], ds, owner[inner]), vd[owner],
                np.concatenate([offsets, -offsets], axis=1), inner_ratio, atol)
            unresolved[rows] |= ~np.isfinite(inner_ratio).reshape(rows.size, count).all(axis=1)
            return values.reshape(rows.size, count)

        i, j = np.triu_indices(kinks.shape[1])
        middle = 0.5 * (kinks[sel][:, i] + kinks[sel][:, j])
        layer = _DIFFERENCE_LAYER * np.sqrt(vd[sel])[:, None]
        outer_cuts = np.concatenate([middle, middle - layer, middle + layer], axis=1)
        ratio = np.empty(sel.size)
        total = expect_split_np(conditional_mean_square, vm[sel], outer_cuts, ratio)
        return total, unresolved | ~np.isfinite(ratio)

    if todo.size:
        ratio = np.ones(todo.size)
        i, j = np.triu_indices(kinks.shape[1], 1)
        gaps = np.abs(kinks[:, i] - kinks[:, j])   # (a kink listed twice is one kink)
        apart = np.where(gaps > 0, gaps, np.inf).min(axis=1, initial=np.inf)
        # the kink lines m = k_i + d/2 and m = k_j - d/2 cross at |d| = |k_i - k_j|: beyond
        # the cutoff of d's Gaussian that crossing weighs below 1e-19
        smooth = (vd <= _HALF_RANGE_RATIO * vm) & (apart > _FP_CUTOFF * np.sqrt(vd)) & (not nested)
        for rule, sel in ((by_half_range_rule, np.flatnonzero(smooth)),
                          (by_nested_rule, np.flatnonzero(~smooth))):
            if sel.size:
                out[todo[sel]], flags = rule(sel)
                ratio[sel] = np.where(flags, np.inf, 1.0)
        flat_ratio[todo] = ratio
    cancellation.reshape(-1)[:] = flat_ratio
    return out.reshape(shape)


#: An inner expectation's absolute error below this times the result's size is negligible.
_NEGLIGIBLE = 1e-18
#: Nodes of the half-range Gauss rule in d, and the largest var(d)/var(m) it is used for
#: (H(d) varies on the scale sd(m): over [0, 9 sd(d)] a polynomial of degree 47 then
#: resolves it); larger ratios, and kinks whose lines cross in range, take the nested rule.
_HALF_RANGE_NODES = 24
_HALF_RANGE_RATIO = 0.25


@lru_cache(maxsize=4)
def _half_range_gauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss nodes and weights for the weight exp(-x^2/2) on [0, inf): recurrence
    coefficients from the moments 2^((k-1)/2) Gamma((k+1)/2) by Chebyshev's algorithm and the
    Golub-Welsch eigenproblem, both at 80 digits (the moment map is ill-conditioned)."""
    with mpmath.workdps(80):
        moments = [mpmath.mpf(2) ** (mpmath.mpf(k - 1) / 2) * mpmath.gamma(mpmath.mpf(k + 1) / 2)
                   for k in range(2 * n + 1)]
        alpha, beta = [mpmath.mpf(0)] * n, [mpmath.mpf(0)] * n
        previous, current = [mpmath.mpf(0)] * (2 * n + 1), list(moments)
        alpha[0], beta[0] = moments[1] / moments[0], moments[0]
        for k in range(1, n):
            following = [mpmath.mpf(0)] * (2 * n + 1)
            for j in range(k, 2 * n - k + 1):
                following[j] = current[j + 1] - alpha[k - 1] * current[j] \
                    - beta[k - 1] * previous[j]
            alpha[k] = following[k + 1] / following[k] - current[k] / current[k - 1]
            beta[k] = following[k] / current[k - 1]
            previous, current = current, following
        jacobi = mpmath.matrix(n, n)
        for k in range(n):
            jacobi[k, k] = alpha[k]
            if k + 1 < n:
                jacobi[k, k + 1] = jacobi[k + 1, k] = mpmath.sqrt(beta[k + 1])
        nodes, vectors = mpmath.eigsy(jacobi)
        return (np.array([float(nodes[k]) for k in range(n)]),
                np.array([float(beta[0] * vectors[0, k] ** 2) for k in range(n)]))


#: Half-width, in standard deviations of d, of the outer pieces around the points where
#: expect_difference_split_np's inner cuts meet.
_DIFFERENCE_LAYER = 6.0
#: Relative agreement of the rules of steps h and 2h above which the step is halved; below
#: it, the step is halved too unless the predicted error (see expect_difference_np) is below
#: _DIFFERENCE_PREDICTED, or the rules agree to _DIFFERENCE_ROUNDING (their rounding).
_DIFFERENCE_AGREEMENT = 1e-8
_DIFFERENCE_PREDICTED = 2e-16
_DIFFERENCE_ROUNDING = 1e-14
#: Further halvings of the (d, m) step (each costs 4x) before a point is reported
#: unresolved (its caller recomputes it): a variance of 5e4 (sd 230) puts GELU's unit-width
#: bend on the diagonals m = +-d/2 far out where the mapped nodes are sparse (2.3e-14 at
#: h/8, 5 s a point, where its closed form in mpmath takes milliseconds).
_DIFFERENCE_HALVINGS = 2


def _difference_rule(f: Callable, fprime: Callable, vm: np.ndarray, vd: np.ndarray,
                     pflat: list, step: float,
                     mirror: tuple | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sinh-mapped product trapezoid rule of ``expect_difference_np`` with this step, and
    the rules of twice and four times the step on its nodes."""
    norm = 1.0 / math.sqrt(2 * math.pi)

    def grid(var):
        sd = np.sqrt(var)
        beta = np.minimum(sd, 1.0)
        t_max = float(np.max(np.arcsinh(sd * _FP_CUTOFF / beta)))
        # a multiple of 4: the coarser rules end there too
        count = 4 * int(math.ceil(t_max / (4 * step)))
        return sd, beta, count

    sd_d, beta_d, count_d = grid(vd)
    t_d = np.arange(0, count_d + 1) * step
    w_d = np.full(t_d.size, 2 * step)      # the integrand is even in d: the half line, doubled
    w_d[0] = step
    even_d = np.arange(t_d.size) % 2 == 0
    fourth_d = np.arange(t_d.size) % 4 == 0
    # var_mean = 0 (u2 = -u1): a point mass at m = 0, as the limit of a narrow Gaussian
    sd_m, beta_m, count_m = grid(np.maximum(vm, 1e-300))
    t_m = np.arange(-count_m, count_m + 1) * step
    w_m = np.full(t_m.size, step)
    even_m = (np.arange(t_m.size) - count_m) % 2 == 0
    fourth_m = (np.arange(t_m.size) - count_m) % 4 == 0
    fine_out, coarse_out, coarser_out = np.empty(vd.size), np.empty(vd.size), np.empty(vd.size)
    per_point = t_d.size * t_m.size * (_GL_NODES.size + 2)
    chunk = max(1, _FP_CHUNK_ELEMENTS // per_point)
    for start in range(0, vd.size, chunk):
        sel = slice(start, start + chunk)
        sd1, b1 = sd_d[sel, None], beta_d[sel, None]
        d = b1 * np.sinh(t_d)                                         # (P, Nd)
        wd = w_d * np.cosh(t_d) * np.exp(-0.5 * (d / sd1) ** 2) * (b1 / sd1) * norm
        sd2, b2 = sd_m[sel, None], beta_m[sel, None]
        # var_mean = 0: the point mass itself (m = 0 exactly: an even f's difference is 0,
        # not the rounding noise of nodes at 1e-150)
        m = np.where(vm[sel, None] > 0, b2 * np.sinh(t_m), 0.0)      # (P, Nm)
        wm = w_m * np.cosh(t_m) * np.exp(-0.5 * (m / sd2) ** 2) * (b2 / sd2) * norm
        ps = [p[sel, None, None] for p in pflat]
        dd, mm = d[:, :, None], m[:, None, :]
        diff = _differences(f, fprime, mm, dd, ps, mirror)
        square = diff * diff * wm[:, None, :]                         # (P, Nd, Nm)
        inner = np.sum(square, axis=2)
        inner_coarse = 2 * np.sum(square[:, :, even_m], axis=2)
        inner_coarser = 4 * np.sum(square[:, :, fourth_m], axis=2)
        fine_out[sel] = np.sum(inner * wd, axis=1)
        coarse_out[sel] = 2 * np.sum((inner_coarse * wd)[:, even_d], axis=1)
        coarser_out[sel] = 4 * np.sum((inner_coarser * wd)[:, fourth_d], axis=1)
    return fine_out, coarse_out, coarser_out
