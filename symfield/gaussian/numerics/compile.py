"""Turn SymPy expressions (possibly holding unevaluated expectations) into numeric functions.

The expression is lambdified with each ``Expectation`` replaced by a placeholder; each
expectation's integrand and variance are lambdified separately and fed to the quadrature of
:mod:`.quadrature`. Lambdify only ever sees expressions the engine built (never user text).
"""
from __future__ import annotations

from typing import Sequence

import mpmath
import numpy as np
import sympy as sp

from ...symbolic import parity
from ...symbols import q1, q2, rho
from ..expectation import Expectation
from ..faddeeva import tanh_moment
from ..simplify import merge_series
from ..structure import jointly_even, kinks, separate
from .faddeeva_values import MP_FUNCTIONS, NP_FUNCTIONS
from .mehler import MehlerSeries
from .quadrature import expect2_mp, expect2_np, expect_mp, expect_mp_split, expect_np
from .series import CompiledSeries


def _mp_heaviside(a, h0=0.5):
    return mpmath.mpf(1) if a > 0 else (mpmath.mpf(0) if a < 0 else mpmath.mpf(h0))


MP_MODULES = [{"Heaviside": _mp_heaviside, "sign": mpmath.sign, **MP_FUNCTIONS}, "mpmath"]


def _np_arcsin(a):
    # Arguments of the arcsin kernels are |.| <= 1 mathematically; rounding may step over.
    return np.arcsin(np.minimum(np.maximum(a, -1.0), 1.0))  # np.clip is several times slower


def _np_arccos(a):
    return np.arccos(np.minimum(np.maximum(a, -1.0), 1.0))


class _nonnegative(sp.Function):
    """max(x, 0) in float64: the radicand of a law is >= 0 on its domain, but rounding can
    leave a negative residue (q1*q2 - rho**2 at rho = sqrt(q1*q2)), which sqrt turns into NaN."""


def _vanishes_at_the_pair_boundary(expr: sp.Expr) -> bool:
    """expr is 0 at rho = +-sqrt(q1 q2), the edge of the covariance domain, where float64
    rounding can step outside (e.g. q1*q2 - rho**2)."""
    if not expr.has(rho):
        return False
    edge = sp.sqrt(q1 * q2)
    return any(sp.expand(expr.subs(rho, r)) == 0 for r in (edge, -edge))


def _clamp_radicands(expr: sp.Expr) -> sp.Expr:
    """sqrt(a + b) -> sqrt(max(a + b, 0)) (any fractional power of a sum that vanishes on the
    domain's edge), for float64 only."""
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and not e.exp.is_Integer
        and e.base.is_Add and e.base.is_real is not False and e.base.is_positive is not True
        and _vanishes_at_the_pair_boundary(e.base),
        lambda e: sp.Pow(_nonnegative(e.base), e.exp, evaluate=False))


def _stable_angles(expr: sp.Expr) -> sp.Expr:
    """asin(N/D) -> atan2(N, sqrt(D^2 - N^2)) and acos(N/D) -> atan2(sqrt(D^2 - N^2), N) for
    D > 0, for float64 only: at rho = sqrt(q1 q2) the quotient rounds to 1 - 1e-16 and asin's
    infinite slope turns that into an error of 1e-8, while D^2 - N^2 = q1 q2 - rho^2 is exactly 0."""
    def rewrite(e):
        num, den = sp.fraction(e.args[0])
        if den == 1 or den.is_positive is not True or num.is_real is not True:
            return e
        gap = den**2 - num**2
        # Only where the quotient reaches +-1 on the boundary rho = sqrt(q1 q2) (ReLU family;
        # erf's arcsin argument stays inside (-1, 1) and keeps the cheaper plain form).
        if not _vanishes_at_the_pair_boundary(gap):
            return e
        side = sp.sqrt(_nonnegative(gap))
        return sp.atan2(num, side) if isinstance(e, sp.asin) else sp.atan2(side, num)

    return expr.replace(lambda e: isinstance(e, (sp.asin, sp.acos)), rewrite)


def _np_modules() -> list:
    """lambdify modules for float64."""
    import scipy.special as sc  # scipy loads on first numerical use, not on import

    return [{"asin": _np_arcsin, "acos": _np_arccos, "erf": sc.erf, "erfc": sc.erfc,
             "Heaviside": lambda a, h0=0.5: np.heaviside(a, h0),
             "_nonnegative": lambda a: np.maximum(a, 0.0), **NP_FUNCTIONS},
            "numpy", "scipy"]


class _CompiledExpectation:
    def __init__(self, e: Expectation, symbols: Sequence[sp.Symbol]):
        self.dimension = e.dimension
        self.integrand = e.integrand
        self.variables = e.variables
        self._symbols = list(symbols)
        cov = [sp.lambdify(list(symbols), c, modules=MP_MODULES) for c in e.covariance]
        self.cov_mp = cov
        if e.dimension == 1:
            (x,) = e.variables
            self.even = parity(e.integrand, x) == "even"
            self.breaks = kinks(e.integrand, x)
            self.f_mp = sp.lambdify([x, *symbols], e.integrand, modules=MP_MODULES)
            self.break_mp = [sp.lambdify(list(symbols), b, modules=MP_MODULES) for b in self.breaks]
        else:
            v1, v2 = e.variables
            self.even = jointly_even(e.integrand, v1, v2)
            self.F_mp = sp.lambdify([v1, v2, *symbols], e.integrand, modules=MP_MODULES)
            parts = separate(e.integrand, v1, v2)
            self.parts_mp = None
            if parts is not None:
                c, f, g = parts
                self.parts_mp = (sp.lambdify([v1, *symbols], c * f, modules=MP_MODULES),
                                 sp.lambdify([v2, *symbols], g, modules=MP_MODULES))

    def mp(self, values: Sequence, dps: int):
        cov = [c(*values) for c in self.cov_mp]
        if self.dimension == 2:
            q1, rho, q2 = cov
            separable = None
            if self.parts_mp is not None:
                fc, gc = self.parts_mp
                separable = (lambda a: fc(a, *values), lambda b: gc(b, *values))
            value, _err = expect2_mp(lambda a, b: self.F_mp(a, b, *values), q1, rho, q2, dps,
                                     jointly_even=self.even, separable=separable)
            return value
        (var,) = cov
        f = lambda xv: self.f_mp(xv, *values)  # noqa: E731
        if self.breaks:
            pts = [b(*values) for b in self.break_mp]
            value, _err = expect_mp_split(f, var, dps, pts)
        else:
            value, _err = expect_mp(f, var, dps, even=self.even)
        return value


class CompiledExpr:
    """A SymPy expression as mpmath and numpy functions of the given symbols (in order)."""

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol]):
        if expr.has(sp.Sum):
            # Sums over the same index range are evaluated as one (a derivative of a series
            # may come apart into pieces that only converge together).
            expr = merge_series(expr)
        self.expr = expr
        self.symbols = list(symbols)
        self.expectations = sorted(expr.atoms(Expectation), key=sp.default_sort_key)
        self.series = sorted((s for s in expr.atoms(sp.Sum)
                              if not any(e.has(s) for e in self.expectations)),
                             key=sp.default_sort_key)
        self.placeholders = [sp.Dummy(f"E{i}") for i in range(len(self.expectations))]
        self.series_placeholders = [sp.Dummy(f"S{i}") for i in range(len(self.series))]
        self.outer = expr.xreplace({**dict(zip(self.expectations, self.placeholders)),
                                    **dict(zip(self.series, self.series_placeholders))})
        inner_symbols = self.placeholders + self.series_placeholders
        missing = self.outer.free_symbols - set(self.symbols) - set(inner_symbols)
        missing |= {s for e in self.expectations + self.series for s in e.free_symbols} \
            - set(self.symbols)
        if missing:
            raise ValueError(f"values needed for {sorted(map(str, missing))}")
        self._outer_mp = sp.lambdify(self.symbols + inner_symbols, self.outer, modules=MP_MODULES)
        self._inner = [_CompiledExpectation(e, self.symbols) for e in self.expectations]
        self._series = [MehlerSeries(s, self.symbols) if s.has(tanh_moment)
                        else CompiledSeries(s, self.symbols) for s in self.series]
        self._outer_np = None
        self._inner_np = None
        #: float64 relative error estimate of the last ``np`` call (series cancellation)
        self.last_error_estimate = None

    def mp(self, values: Sequence, dps: int):
        """Value at working precision ``dps`` (not certified: see ``evaluate.certified``)."""
        with mpmath.workdps(dps):
            vals = [mpmath.mpf(v) if not isinstance(v, mpmath.mpc) else v for v in values]
            inner = [e.mp(vals, dps) for e in self._inner]
            series = [s.mp(vals, dps) for s in self._series]
            return self._outer_mp(*vals, *inner, *series)

    def np(self, *arrays: np.ndarray) -> np.ndarray:
        """float64 value, vectorised over broadcastable arrays (one per symbol)."""
        if self._outer_np is None:
            self._outer_np = sp.lambdify(self.symbols + self.placeholders
                                         + self.series_placeholders,
                                         _clamp_radicands(_stable_angles(self.outer)),
                                         modules=_np_modules())
            self._inner_np = []
            for e, ce in zip(self.expectations, self._inner):
                F = sp.lambdify([*e.variables, *self.symbols], e.integrand, modules=_np_modules())
                cov = [sp.lambdify(self.symbols, c, modules=_np_modules()) for c in e.covariance]
                self._inner_np.append((F, cov, ce.even, e.dimension))
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        inner = []
        for F, cov, even, dim in self._inner_np:
            cv = [np.broadcast_to(np.asarray(c(*arrays), dtype=float), shape) for c in cov]
            if dim == 1:
                inner.append(expect_np(F, cv[0], even, tuple(arrays)))
            else:
                inner.append(expect2_np(F, cv[0], cv[1], cv[2], even, tuple(arrays)))
        series, error = [], np.zeros(shape)
        for s in self._series:
            series.append(np.broadcast_to(s.np(*arrays), shape))
            error = np.maximum(error, np.broadcast_to(s.last_cancellation, shape) * 1.2e-16)
        self.last_error_estimate = error
        out = np.asarray(self._outer_np(*arrays, *inner, *series), dtype=float)
        if out.shape != shape:  # a law constant in some variables: broadcast it
            out = np.broadcast_to(out, shape).copy()
        return out
