"""Turn SymPy expressions (possibly holding unevaluated expectations) into numeric functions.

The expression is lambdified with each ``Expectation`` replaced by a placeholder; each
expectation's integrand and variance are lambdified separately and fed to the quadrature of
:mod:`.quadrature`. Lambdify only ever sees expressions the engine built (never user text).
"""
from __future__ import annotations

from typing import Sequence

import mpmath
import numpy as np
import scipy.special as sc
import sympy as sp

from ...symbolic import heaviside_form, parity
from ..expectation import Expectation
from .quadrature import expect_mp, expect_mp_split, expect_np


def _mp_heaviside(a, h0=0.5):
    return mpmath.mpf(1) if a > 0 else (mpmath.mpf(0) if a < 0 else mpmath.mpf(h0))


MP_MODULES = [{"Heaviside": _mp_heaviside, "sign": mpmath.sign}, "mpmath"]


def _np_arcsin(a):
    # Arguments of the arcsin kernels are |.| <= 1 mathematically; rounding may step over.
    return np.arcsin(np.clip(a, -1.0, 1.0))


def _np_arccos(a):
    return np.arccos(np.clip(a, -1.0, 1.0))


NP_MODULES = [{"asin": _np_arcsin, "acos": _np_arccos, "erf": sc.erf, "erfc": sc.erfc,
               "Heaviside": lambda a, h0=0.5: np.heaviside(a, h0)}, "numpy", "scipy"]


def kinks(integrand: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """Points where a piecewise integrand is not smooth (roots of its step arguments)."""
    out = []
    for h in heaviside_form(integrand).atoms(sp.Heaviside):
        arg = h.args[0]
        roots = sp.solve(arg, var)
        out.extend(r for r in roots if r.is_real is not False)
    return out


class _CompiledExpectation:
    def __init__(self, e: Expectation, symbols: Sequence[sp.Symbol]):
        if e.dimension != 1:
            raise NotImplementedError("numerical bivariate expectations come with the two-input laws")
        (x,) = e.variables
        self.integrand = e.integrand
        self.even = parity(e.integrand, x) == "even"
        self.breaks = kinks(e.integrand, x)
        args = [x, *symbols]
        self.f_mp = sp.lambdify(args, e.integrand, modules=MP_MODULES)
        self.var_mp = sp.lambdify(list(symbols), e.covariance[0], modules=MP_MODULES)
        self.break_mp = [sp.lambdify(list(symbols), b, modules=MP_MODULES) for b in self.breaks]

    def mp(self, values: Sequence, dps: int):
        var = self.var_mp(*values)
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
        self.expr = expr
        self.symbols = list(symbols)
        self.expectations = sorted(expr.atoms(Expectation), key=sp.default_sort_key)
        self.placeholders = [sp.Dummy(f"E{i}") for i in range(len(self.expectations))]
        self.outer = expr.xreplace(dict(zip(self.expectations, self.placeholders)))
        missing = self.outer.free_symbols - set(self.symbols) - set(self.placeholders)
        missing |= {s for e in self.expectations for s in e.free_symbols} - set(self.symbols)
        if missing:
            raise ValueError(f"values needed for {sorted(map(str, missing))}")
        self._outer_mp = sp.lambdify(self.symbols + self.placeholders, self.outer, modules=MP_MODULES)
        self._inner = [_CompiledExpectation(e, self.symbols) for e in self.expectations]
        self._outer_np = None
        self._inner_np = None

    def mp(self, values: Sequence, dps: int):
        """Value at working precision ``dps`` (not certified: see ``evaluate.certified``)."""
        with mpmath.workdps(dps):
            vals = [mpmath.mpf(v) if not isinstance(v, mpmath.mpc) else v for v in values]
            inner = [e.mp(vals, dps) for e in self._inner]
            return self._outer_mp(*vals, *inner)

    def np(self, *arrays: np.ndarray) -> np.ndarray:
        """float64 value, vectorised over broadcastable arrays (one per symbol)."""
        if self._outer_np is None:
            self._outer_np = sp.lambdify(self.symbols + self.placeholders, self.outer,
                                         modules=NP_MODULES)
            self._inner_np = []
            for e, ce in zip(self.expectations, self._inner):
                (x,) = e.variables
                f = sp.lambdify([x, *self.symbols], e.integrand, modules=NP_MODULES)
                var = sp.lambdify(self.symbols, e.covariance[0], modules=NP_MODULES)
                self._inner_np.append((f, var, ce.even))
        arrays = [np.asarray(a, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        inner = []
        for f, var, even in self._inner_np:
            v = np.broadcast_to(np.asarray(var(*arrays), dtype=float), shape)
            inner.append(expect_np(lambda xs, *ps: f(xs, *ps), v, even, tuple(arrays)))
        out = np.asarray(self._outer_np(*arrays, *inner), dtype=float)
        if out.shape != shape:  # a law constant in some variables: broadcast it
            out = np.broadcast_to(out, shape).copy()
        return out
