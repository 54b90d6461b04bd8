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


# ------------------------------------------------------------------------------------------
# The random neural field (Amari's deep random neural field; symfield.dynamics.field)
# ------------------------------------------------------------------------------------------
#: Positions on the grid: G of them, summed over (z1, z2), two output positions (z'1, z'2).
G = sp.Symbol("G", positive=True, integer=True)
z1, z2 = sp.symbols("z_1 z_2", integer=True, positive=True)
z1_out, z2_out = sp.symbols("z'_1 z'_2", integer=True, positive=True)
#: Two inputs of the batch, s and t (the (T, T, G, G) kernel's first two indices).
s, t = sp.symbols("s t", integer=True, positive=True)
w = sp.IndexedBase("w")                 # w[i, j, z', z]: weight from (j, z) to (i, z')
field_bias = sp.IndexedBase("b")        # b[i, z']
field_x = sp.IndexedBase("x")           # x[j, z]: activity of channel j at z, input s
field_x2 = sp.IndexedBase("x'")         # ... for input t
#: Weight and bias covariances across positions (data: symfield.dynamics.field).
C_w = sp.IndexedBase("C_w")
C_b = sp.IndexedBase("C_b")
#: The channel average (1/n) sum_j x_j(z1) x'_j(z2): the field's macroscopic variable.
channel_overlap = sp.IndexedBase("C")
FIELD_MOMENT = sp.Symbol("E_{w,b}[u_i(z'_1) u'_i(z'_2)]")
NETWORK_LATEX_NAMES[FIELD_MOMENT] = r"E_{w,b}[u_i(z'_1)\, u'_i(z'_2)]"


def _field_moment_rule(monomial: sp.Expr) -> sp.Expr:
    """E over the field's weights and biases of a monomial (times layer-(l-1) activities).

    Zero-mean Gaussians, independent across channel pairs and of the biases:
    E[w_ij(z1', z1) w_ik(z2', z2)] = sigma_w^2 delta_jk C_w(z1', z1; z2', z2) / n,
    E[b_i(z1') b_i(z2')] = sigma_b^2 C_b(z1', z2'); an odd number of them has zero mean.
    """
    factors = list(sp.Mul.make_args(monomial))
    ws = [f for f in factors if isinstance(f, sp.Indexed) and f.base == w]
    bs = [f for f in factors if isinstance(f, sp.Indexed) and f.base == field_bias]
    rest = sp.Mul(*[f for f in factors if f not in ws and f not in bs])
    if len(ws) == 2 and not bs:
        (_, j1, out1, in1), (_, j2, out2, in2) = (f.indices for f in ws)
        return sigma_w**2 / n * sp.KroneckerDelta(j1, j2) * C_w[out1, in1, out2, in2] * rest
    if len(bs) == 2 and not ws:
        return sigma_b**2 * C_b[bs[0].indices[1], bs[1].indices[1]] * rest
    return sp.S.Zero


def field_mean_field_step() -> tuple[sp.Expr, list[Step]]:
    """The Gaussian a field layer's pre-activations see: the covariance of u_i at output
    positions z'1 (input s) and z'2 (input t), and the steps from the microdynamics.

    u_i(z') = sum_j sum_z w_ij(z', z) x_j(z) + b_i(z'). Returns
    sigma_w^2 sum_{z1, z2} C_w(z'1, z1; z'2, z2) C(z1, z2) + sigma_b^2 C_b(z'1, z'2) with
    C(z1, z2) = (1/n) sum_j x_j(z1) x'_j(z2) the channel average.
    """
    left = w[i, j, z1_out, z1] * field_x[j, z1]
    right = w[i, k, z2_out, z2] * field_x2[k, z2]
    sums_left, sums_right = ((j, 1, n), (z1, 1, G)), ((k, 1, n), (z2, 1, G))
    product = sp.Mul(sp.Sum(left, *sums_left) + field_bias[i, z1_out],
                     sp.Sum(right, *sums_right) + field_bias[i, z2_out], evaluate=False)
    bias_term = _field_moment_rule(field_bias[i, z1_out] * field_bias[i, z2_out])
    weight_term = _field_moment_rule(left * right)
    # linearity: the expectation passes through the finite sums (the cross terms of one
    # weight and one bias vanish)
    expected = sp.Sum(weight_term, *sums_left, *sums_right) + bias_term
    # sum_k delta_jk f(k) = f(j) for 1 <= j <= n
    collapsed = sp.Sum(weight_term.subs(k, j).subs(sp.KroneckerDelta(j, j), 1),
                       sums_left[0], (z1, 1, G), (z2, 1, G)) + bias_term
    result = sigma_w**2 * sp.Sum(C_w[z1_out, z1, z2_out, z2] * channel_overlap[z1, z2],
                                 (z1, 1, G), (z2, 1, G)) + bias_term
    steps = [
        Step(FIELD_MOMENT, product, "microdynamics",
             "u_i(z') = sum_j sum_z w_ij(z', z) x_j(z) + b_i(z') for the activities x of "
             "layer l-1 (input s) and x' (input t)"),
        Step(FIELD_MOMENT, expected, "independence",
             "conditioning on layer l-1, the expectation passes through the finite sums; "
             "E[w_ij(z1', z1) w_ik(z2', z2)] = sigma_w^2 delta_jk C_w(z1', z1; z2', z2) / n, "
             "E[b_i(z1') b_i(z2')] = sigma_b^2 C_b(z1', z2'), odd moments vanish"),
        Step(FIELD_MOMENT, collapsed, "Kronecker delta", "sum_k delta_jk f(k) = f(j)"),
        Step(FIELD_MOMENT, result, "mean field (law of large numbers)",
             "C(z1, z2) = (1/n) sum_j x_j(z1) x'_j(z2); u_i sums n independent terms, so it is "
             "Gaussian as n -> oo at fixed G and depth, and the channel average concentrates "
             "on one channel's expectation (the finite sum over positions passes through the "
             "limit)"),
    ]
    return result, steps


__all__ = ["NetworkSpec", "field_mean_field_step", "mean_field_step"]
