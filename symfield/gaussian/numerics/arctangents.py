"""float64 evaluation of closed forms near an end of an arctangent's range.

After the float64 rewrites of ``compile`` (arcsines as arctangents of a factored gap), a law
such as GELU's kernel holds m (atan(N/S) + pi/2) beside algebraic terms in S (S > 0 on the
domain): near N/S -> -oo (GELU at c -> -1 and large q) the bracket is an angle
w - w^3/3 + ... with w = S/(-N) small, and m w cancels against the algebraic terms (terms of
size sqrt(q) leave a value of size 1/sqrt(q)). The derived expression is unchanged; only its
float64 evaluation, on the points near that end, becomes

    [rest + s m w]  (one fraction, its numerator expanded: the cancelling orders are symbolic
                     zeros, in the pair gap q1 q2 - rho^2 when the law has one)
    - s m w h(w),   h(w) = 1 - atan(w)/w = w^2/3 - w^4/5 + ...

(s = +-1 for the end at N/S -> -+oo), with h from its Taylor series, which SymPy derives
from atan, after one halving of the angle (atan(w) = 2 atan(v), v = w/(1 + sqrt(1 + w^2))):
h(w) = w^2/(1 + r)^2 + 2 h(v)/(1 + r), r = sqrt(1 + w^2), two positive terms, and the series
in v^2 <= 0.18 for w <= END_RATIO.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from .angles import positive

#: The end form is used where w = S/(+-N) < END_RATIO (at w = 0.66 the expression as
#: rewritten still missed 16 ulps x (1 + kappa) for GELU's kernel, at w > 1 it keeps them).
END_RATIO = 1.0
#: Taylor terms of h(v) in v^2 <= 0.1716 (w <= 1): 0.1716^22/45 ~ 3e-19, below an ulp of
#: h(v) >= v^2/5.
DEFICIT_TERMS = 22


class NotApplicable(Exception):
    """The expression has no arctangent with its complement to rewrite."""


@lru_cache(maxsize=1)
def _deficit_coefficients() -> np.ndarray:
    """Coefficients of h(w)/w^2 = 1/3 - w^2/5 + ... in powers of w^2 (highest first, for
    np.polyval), from SymPy's series of 1 - atan(w)/w."""
    w = sp.Dummy("w")
    series = sp.series(1 - sp.atan(w) / w, w, 0, 2 * DEFICIT_TERMS + 2).removeO()
    coefficients = [series.coeff(w, 2 * k) for k in range(1, DEFICIT_TERMS + 1)]
    return np.array([float(c) for c in reversed(coefficients)])


def np_atan_deficit(w: np.ndarray) -> np.ndarray:
    """h(w) = 1 - atan(w)/w for 0 <= w <= END_RATIO, relative error of a few ulps: the series
    at the half angle v (module documentation), whose terms all have the sign of h."""
    w = np.asarray(w, dtype=float)
    r1 = 1 + np.sqrt(1 + w * w)
    v = w / r1
    z = v * v
    coefficients = _deficit_coefficients()
    series = np.full_like(z, coefficients[0])
    for c in coefficients[1:]:   # Horner in place (np.polyval allocates per term)
        series *= z
        series += c
    return v * v + 2 * z * series / r1


class _atan_deficit(sp.Function):
    """1 - atan(w)/w for small w >= 0 (float64 only: ``np_atan_deficit``)."""


NP_FUNCTIONS = {"_atan_deficit": np_atan_deficit}


def _complemented(total: sp.Add):
    """(term m atan(Y), term s m pi/2, s) in a sum, or None."""
    terms = sp.Add.make_args(total)
    for term in terms:
        m, angle = term.as_independent(sp.atan, as_Add=False)
        if not isinstance(angle, sp.atan):
            continue
        for other in terms:
            if other is term:
                continue
            ratio = sp.cancel(other / (m * sp.pi / 2))
            if ratio in (1, -1):
                return term, other, int(ratio)
    return None


class ArctangentEnd:
    """A float64 form with one sum m (atan(N/S) + s pi/2) + rest, and the same form near the
    end -s N -> +oo written in w = S/(-s N) (module documentation)."""

    def __init__(self, expr: sp.Expr, symbols: Sequence[sp.Symbol],
                 numerator: Callable[[sp.Expr], sp.Expr], shared_functions: Sequence[str] = ()):
        self.symbols = list(symbols)
        sums = [e for e in sp.preorder_traversal(expr)
                if isinstance(e, sp.Add) and e.has(sp.atan) and _complemented(e) is not None]
        if len(sums) != 1 or len(expr.atoms(sp.atan)) != 1:
            raise NotApplicable("not one arctangent with its complement")
        (total,) = sums
        term, complement, s = _complemented(total)
        m, angle = term.as_independent(sp.atan, as_Add=False)
        num, side = sp.fraction(sp.together(angle.args[0]))
        if not positive(side) or num.is_real is not True:
            raise NotApplicable("the arctangent's denominator is not positive")
        w = side / (-s * num)
        leading = sp.cancel(s * m * w)
        rest = sp.Add(*[t for t in sp.Add.make_args(total) if t not in (term, complement)])
        top, bottom = sp.fraction(sp.together(rest + leading))
        combined = numerator(sp.expand(top)) / bottom
        self.num, self.side, self.sign = s * num, side, s
        self.alternative = expr.xreplace({total: combined - leading * _atan_deficit(w)})
        # subexpressions the caller computes anyway (the pair gap: error-free products, a
        # third of the cost) are passed in rather than computed again
        self.shared = sorted((f for f in self.alternative.atoms(sp.Function)
                              if type(f).__name__ in shared_functions), key=sp.default_sort_key)
        self._np = None

    def substitute(self, mapping: dict) -> None:
        """xreplace ``mapping`` in the end form (a pair gap given as a symbol)."""
        self.num, self.side = (e.xreplace(mapping) for e in (self.num, self.side))
        self.alternative = self.alternative.xreplace(mapping)
        self.shared = [f for f in self.shared if self.alternative.has(f)]
        self._np = None

    def parts(self) -> tuple[sp.Expr, ...]:
        """(s N, S, shared subexpressions): the region is -s N > S / END_RATIO."""
        return (self.num, self.side, *self.shared)

    def np(self, arrays: Sequence[np.ndarray], out: np.ndarray, parts, modules: list
           ) -> np.ndarray:
        """``out`` with the points near the end replaced by the end form (``parts``: the
        values of ``parts()``)."""
        shape = out.shape
        num, side, *shared = (np.broadcast_to(np.asarray(p, dtype=float), shape)
                              for p in parts)
        near = (num < 0) & (side < -END_RATIO * num)
        if not np.any(near):
            return out
        if self._np is None:
            stand_ins = [sp.Dummy(f"shared{i}") for i in range(len(self.shared))]
            self._np = sp.lambdify(self.symbols + stand_ins,
                                   self.alternative.xreplace(dict(zip(self.shared, stand_ins))),
                                   modules=[NP_FUNCTIONS, *modules], cse=True)
        sub = [np.broadcast_to(np.asarray(a, dtype=float), shape)[near]
               for a in (*arrays, *shared)]
        result = np.array(out, dtype=float)
        with np.errstate(all="ignore"):
            result[near] = self._np(*sub)
        return result


def arctangent_end(expr: sp.Expr, symbols: Sequence[sp.Symbol],
                   numerator: Callable[[sp.Expr], sp.Expr], shared_functions: Sequence[str] = ()
                   ) -> ArctangentEnd | None:
    """The end form of a float64 expression, or None when it has no complemented arctangent."""
    if not isinstance(expr, sp.Basic) or not expr.has(sp.atan):
        return None
    try:
        return ArctangentEnd(expr, symbols, numerator, shared_functions)
    except (NotApplicable, sp.PolynomialError):
        return None


__all__ = ["ArctangentEnd", "END_RATIO", "arctangent_end", "np_atan_deficit"]
