"""The microdynamics in SymPy, and the mean-field step it implies.

A layer is u_i = sum_j W_ij x_j + b_i, x'_i = phi(u_i), with W_ij ~ N(0, sigma_w^2/n) and
b_i ~ N(0, sigma_b^2) independent. Conditional on the previous layer, u_i is a sum of n
independent terms, hence Gaussian in the wide limit (CLT), with second moments computed here
symbolically from the independence structure E[W_ij W_ik] = sigma_w^2/n delta_jk,
E[W b] = 0, E[b^2] = sigma_b^2. Those moments are what every law's Gaussian is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .activations import Activation, get_activation
from .derivation import Step
from .errors import InvalidValueError, quoted
from .numbers import to_sympy
from .symbols import A, C, sigma_b, sigma_w

n = sp.Symbol("n", positive=True, integer=True)
i, j, k = sp.symbols("i j k", integer=True, positive=True)
W = sp.IndexedBase("W")
b = sp.IndexedBase("b")
xa = sp.IndexedBase("x")       # previous layer's activity for input x
xb = sp.IndexedBase("x'")      # ... and for a second input x'

#: The second moments the mean-field step computes, and how documents typeset them.
SECOND_MOMENT = sp.Symbol("E_{W,b}[u_i^2]")
CROSS_MOMENT = sp.Symbol("E_{W,b}[u_i u_i']")
NETWORK_LATEX_NAMES: dict[sp.Symbol, str] = {SECOND_MOMENT: "E_{W,b}[u_i^2]",
                                             CROSS_MOMENT: "E_{W,b}[u_i u_i']"}


def _moment_rule(monomial: sp.Expr) -> sp.Expr:
    """E over W, b of a monomial in weights and biases (times layer-(l-1) activities).

    Independent centred Gaussians: E[W_ij W_ik] = sigma_w^2 delta_jk / n, E[b_i^2] =
    sigma_b^2, and any monomial with an odd number of W's or b's has zero mean.
    """
    factors = []
    for f in sp.Mul.make_args(monomial):
        base, power = f.as_base_exp()
        factors.extend([base] * int(power) if power.is_Integer and power > 0 else [f])
    ws = [f for f in factors if isinstance(f, sp.Indexed) and f.base == W]
    bs = [f for f in factors if isinstance(f, sp.Indexed) and f.base == b]
    rest = sp.Mul(*[f for f in factors if f not in ws and f not in bs])
    if len(ws) == 2 and not bs:
        return sigma_w**2 / n * sp.KroneckerDelta(ws[0].indices[1], ws[1].indices[1]) * rest
    if len(bs) == 2 and not ws:
        return sigma_b**2 * rest
    return sp.S.Zero


@dataclass(frozen=True)
class NetworkSpec:
    """A random fully connected network: activation, weight/bias scales, layer widths.

    The activation may be given by name; a scale is a SymPy expression or a number (int,
    float, Fraction, mpmath, or a decimal / "p/q" string, read by :func:`symfield.numbers.to_sympy`);
    widths are positive integers. Anything else is an InvalidValueError.
    """

    activation: Activation
    sigma_w: sp.Expr = sigma_w
    sigma_b: sp.Expr = sigma_b
    widths: tuple = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "activation", get_activation(self.activation))
        object.__setattr__(self, "sigma_w", _scale(self.sigma_w, "sigma_w", positive=True))
        object.__setattr__(self, "sigma_b", _scale(self.sigma_b, "sigma_b", positive=False))
        object.__setattr__(self, "widths", _widths(self.widths))

    @classmethod
    def make(cls, activation: str | Activation, sigma_w_value: object = sigma_w,
             sigma_b_value: object = sigma_b, widths: object = ()) -> "NetworkSpec":
        return cls(activation, sigma_w_value, sigma_b_value, widths)

    def preactivation(self, inputs: sp.IndexedBase = xa) -> sp.Expr:
        """u_i = sum_j W_ij x_j + b_i."""
        if not isinstance(inputs, sp.IndexedBase):
            raise InvalidValueError(f"inputs must be a SymPy IndexedBase (got {quoted(inputs)})")
        return sp.Sum(W[i, j] * inputs[j], (j, 1, n)) + b[i]

    def layer_equations(self) -> list[sp.Eq]:
        u = sp.Symbol("u_i", real=True)
        return [sp.Eq(u, self.preactivation()), sp.Eq(sp.Symbol("x'_i"), self.activation(u))]


def _scale(value: object, name: str, positive: bool) -> sp.Expr:
    """A weight or bias scale: a SymPy expression as given, a number read exactly (text only
    by the number parser, never evaluated), with its sign checked when it is a number."""
    if isinstance(value, sp.Basic) and not isinstance(value, sp.Expr):
        raise InvalidValueError(f"{name} must be a number or a SymPy expression "
                                f"(got {quoted(value)})")
    exact = value if isinstance(value, sp.Expr) else to_sympy(value, name)
    if exact.is_number and (exact.is_extended_real is False or not exact.is_finite):
        raise InvalidValueError(f"{name} must be a finite real number (got {quoted(value)})")
    if (exact.is_negative or (positive and exact.is_zero)) is True:
        raise InvalidValueError(f"{name} must be {'> 0' if positive else '>= 0'} "
                                f"(got {quoted(value)})")
    return exact


def _widths(widths: object) -> tuple[int, ...]:
    if isinstance(widths, (str, bytes)) or not hasattr(widths, "__iter__"):
        raise InvalidValueError(f"widths must be a sequence of positive integers "
                                f"(got {quoted(widths)})")
    out = tuple(widths)
    for w in out:
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise InvalidValueError(f"widths must be positive integers (got {quoted(w)})")
    return out


def mean_field_step(two_inputs: bool = False) -> tuple[sp.Expr, list[Step]]:
    """The Gaussian the next layer sees: its variance (or covariance) and the steps.

    Returns sigma_w^2 A + sigma_b^2 (one input) or sigma_w^2 C + sigma_b^2 (two inputs), where
    A = (1/n) sum_j x_j^2 and C = (1/n) sum_j x_j x'_j are the macroscopic variables.
    """
    if not isinstance(two_inputs, bool):
        raise InvalidValueError(f"two_inputs must be True or False (got {quoted(two_inputs)})")
    right = xb if two_inputs else xa
    left_terms = [(W[i, j] * xa[j], j), (b[i], None)]
    right_terms = [(W[i, k] * right[k], k), (b[i], None)]
    lhs = CROSS_MOMENT if two_inputs else SECOND_MOMENT
    product = sp.Mul(sp.Sum(W[i, j] * xa[j], (j, 1, n)) + b[i],
                     sp.Sum(W[i, k] * right[k], (k, 1, n)) + b[i], evaluate=False)
    expected = sp.S.Zero
    collapsed = sp.S.Zero
    for left, lj in left_terms:
        for rgt, rk in right_terms:
            value = _moment_rule(left * rgt)
            if value == 0:
                continue
            if lj is not None and rk is not None:
                expected += sp.Sum(sp.Sum(value, (rk, 1, n)), (lj, 1, n))
                # sum_k delta_jk f(j, k) = f(j, j) for 1 <= j <= n
                collapsed += sp.Sum(value.subs(rk, lj), (lj, 1, n))
            else:
                expected += value
                collapsed += value
    macro = C if two_inputs else A
    overlap = sp.Sum(xa[j] * right[j], (j, 1, n))
    collapsed = sp.factor_terms(collapsed)
    result = sp.expand(collapsed.subs(overlap, n * macro))
    steps = [
        Step(lhs, product, "microdynamics",
             "u_i = sum_j W_ij x_j + b_i for the activities x of layer l-1"),
        Step(lhs, expected, "independence",
             "E[W_ij W_ik] = sigma_w^2 delta_jk / n, E[b_i^2] = sigma_b^2, odd moments vanish"),
        Step(lhs, collapsed, "Kronecker delta", "sum_k delta_jk f(k) = f(j)"),
        Step(lhs, result, "mean field (law of large numbers)",
             ("A = (1/n) sum_j x_j^2" if not two_inputs else "C = (1/n) sum_j x_j x'_j")
             + "; u_i sums n independent terms, so it is Gaussian as n -> oo"),
    ]
    return result, steps


__all__ = ["NetworkSpec", "mean_field_step"]
