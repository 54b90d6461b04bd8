"""The exact, unevaluated Gaussian expectation as a SymPy expression.

``Expectation(f, (x,), (s,))`` is E[f(x)] for x ~ N(0, s); ``Expectation(f, (u1, u2),
(q1, rho, q2))`` is E[f(u1, u2)] for a centred pair with variances q1, q2 and covariance rho.
It composes with other SymPy expressions (``sigma_w**2 * E[...] + sigma_b**2``), substitutes
into its variances, prints in text and LaTeX, and evaluates numerically (``evalf``) through the
certified quadrature of :mod:`symfield.gaussian.numerics`. It is notation, not
calculus: it lives beside the symbols so that the parser, the activations and the sampled
networks can use it without importing the Gaussian calculus.
"""
from __future__ import annotations

from typing import Callable

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .errors import InvalidValueError, as_expression, quoted

#: The bound variables of one- and two-dimensional expectations.
u1 = sp.Symbol("u1", real=True)
u2 = sp.Symbol("u2", real=True)

#: Certified value of a closed expectation at ``dps`` digits: installed by the numerics
#: (imported with ``symfield.gaussian``), which sit above this module and import it.
_numeric_evaluator: Callable[[Expectation, int], object] | None = None


def set_numeric_evaluator(evaluate: Callable[[Expectation, int], object]) -> None:
    """Install the function ``evalf`` uses for closed expectations."""
    global _numeric_evaluator
    _numeric_evaluator = evaluate


class Expectation(sp.Expr):
    """E[integrand] over a Gaussian vector with the given covariance (and mean, default 0)."""

    is_commutative = True

    def __new__(cls, integrand, variables, covariance, mean=None):
        # The engine builds (and SymPy rebuilds) expectations millions of times from SymPy
        # objects: those take the isinstance fast paths. Text is refused, never parsed.
        integrand = as_expression(integrand, "the integrand")
        variables = _entries(variables, "variables")
        if len(variables) not in (1, 2):
            raise InvalidValueError(
                "expectations over one or two Gaussian variables are supported "
                f"(got {len(variables)})")
        for v in variables:
            if not isinstance(v, sp.Symbol):
                raise InvalidValueError(
                    f"the variables of an expectation must be SymPy symbols (got {quoted(v)})")
        covariance = _entries(covariance, "covariance")
        if len(covariance) != (1 if len(variables) == 1 else 3):
            raise InvalidValueError("covariance is (var,) in 1-D and (q1, rho, q2) in 2-D")
        mean = _ZEROS[len(variables)] if mean is None else _entries(mean, "mean")
        if len(mean) != len(variables):
            raise InvalidValueError("the mean has one entry per variable")
        return sp.Expr.__new__(cls, integrand, _tuple(variables),
                               _expression_tuple(covariance, "a covariance entry"),
                               _expression_tuple(mean, "a mean entry"))

    # -- structure ------------------------------------------------------------------------
    @property
    def integrand(self) -> sp.Expr:
        return self.args[0]

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.args[1])

    @property
    def covariance(self) -> tuple[sp.Expr, ...]:
        return tuple(self.args[2])

    @property
    def mean(self) -> tuple[sp.Expr, ...]:
        return tuple(self.args[3])

    @property
    def dimension(self) -> int:
        return len(self.variables)

    @property
    def centred(self) -> bool:
        return all(m == 0 for m in self.mean)

    @property
    def free_symbols(self) -> set:
        inner = self.integrand.free_symbols - set(self.variables)
        for part in self.covariance + self.mean:
            inner |= part.free_symbols
        return inner

    @property
    def bound_symbols(self) -> list:
        return list(self.variables)

    def _eval_subs(self, old, new):
        if old in self.variables:
            return self
        return None

    def _eval_is_extended_real(self):
        return self.integrand.is_extended_real

    def _eval_derivative(self, s):
        """d/ds under the integral sign. Parameters of the integrand are differentiated
        directly; a dependence of the covariance on s goes through the heat equation
        (d/dq E[F] = E[F_uu]/2) and Price's theorem (d/drho E[F] = E[F_u1u2])."""
        if any(m.has(s) for m in self.mean):
            return sp.Derivative(self, s)
        v = self.variables
        out = Expectation(sp.diff(self.integrand, s), v, self.covariance, self.mean) \
            if self.integrand.has(s) else sp.S.Zero
        if self.dimension == 1:
            dvar = sp.diff(self.covariance[0], s)
            if dvar != 0:
                out += dvar / 2 * Expectation(sp.diff(self.integrand, v[0], 2), v,
                                              self.covariance, self.mean)
            return out
        q1, rho, q2 = self.covariance
        for dparam, second in ((sp.diff(q1, s), sp.diff(self.integrand, v[0], 2) / 2),
                               (sp.diff(q2, s), sp.diff(self.integrand, v[1], 2) / 2),
                               (sp.diff(rho, s), sp.diff(self.integrand, v[0], v[1]))):
            if dparam != 0:
                out += dparam * Expectation(second, v, self.covariance, self.mean)
        return out

    # -- numerics -------------------------------------------------------------------------
    def _eval_evalf(self, prec):
        if self.free_symbols or _numeric_evaluator is None:
            return None
        dps = max(15, int(prec * 0.30103) + 1)
        return sp.Float(_numeric_evaluator(self, dps), dps)

    # -- printing -------------------------------------------------------------------------
    def _measure_str(self, printer) -> str:
        if self.dimension == 1:
            (s,), (m,), (v,) = self.covariance, self.mean, self.variables
            return f"{printer._print(v)} ~ N({printer._print(m)}, {printer._print(s)})"
        a, b, c = self.covariance
        vs = ", ".join(printer._print(v) for v in self.variables)
        return f"({vs}) ~ N(0, [[{printer._print(a)}, {printer._print(b)}], " \
               f"[{printer._print(b)}, {printer._print(c)}]])"

    def _sympystr(self, printer) -> str:
        return f"E[{printer._print(self.integrand)}; {self._measure_str(printer)}]"

    def _latex(self, printer: LatexPrinter) -> str:
        body = printer._print(self.integrand)
        if self.dimension == 1:
            (s,), (m,), (v,) = self.covariance, self.mean, self.variables
            sub = rf"{printer._print(v)}\sim\mathcal{{N}}({printer._print(m)},\,{printer._print(s)})"
        else:
            a, b, c = (printer._print(e) for e in self.covariance)
            vs = ",".join(printer._print(v) for v in self.variables)
            sub = (rf"({vs})\sim\mathcal{{N}}\left(0,\,\left(\begin{{smallmatrix}}{a} & {b}"
                   rf"\\ {b} & {c}\end{{smallmatrix}}\right)\right)")
        return rf"\mathbb{{E}}_{{{sub}}}\left[{body}\right]"


def _entries(values: object, what: str) -> tuple | sp.Tuple:
    """A short sequence (SymPy Tuple, tuple or list); text and anything else is refused."""
    if isinstance(values, (sp.Tuple, tuple)):
        return values
    if isinstance(values, list):
        return tuple(values)
    raise InvalidValueError(f"{what} must be a tuple (got {quoted(values)})")


def _tuple(values: tuple | sp.Tuple) -> sp.Tuple:
    return values if isinstance(values, sp.Tuple) else sp.Tuple(*values)


def _expression_tuple(values: tuple | sp.Tuple, what: str) -> sp.Tuple:
    if isinstance(values, sp.Tuple) and all(isinstance(v, sp.Expr) for v in values):
        return values
    return sp.Tuple(*[as_expression(v, what) for v in values])


_ZEROS = {1: sp.Tuple(sp.S.Zero), 2: sp.Tuple(sp.S.Zero, sp.S.Zero)}


def expectation(integrand: sp.Expr, variable: sp.Symbol, variance: sp.Expr) -> Expectation:
    """E[integrand] for ``variable`` ~ N(0, variance)."""
    return Expectation(integrand, (variable,), (variance,))


def bivariate_expectation(integrand: sp.Expr, q1: sp.Expr, rho: sp.Expr, q2: sp.Expr) -> Expectation:
    """E[integrand(u1, u2)] for (u1, u2) centred with variances q1, q2 and covariance rho."""
    return Expectation(integrand, (u1, u2), (q1, rho, q2))
