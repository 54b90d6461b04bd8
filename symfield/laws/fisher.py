"""Fisher information of random deep networks (Amari, Karakida & Oizumi; Karakida, Akaho &
Amari 2019): the backward order parameters as laws, the order-parameter recursion written
once against an evaluation context, and the Fisher statistics as laws in the order
parameters.

Network (standard parameterisation, theory.md section 2.1): widths n_0 (inputs), n_1, ...,
n_{L-1} (hidden, activation phi) and n_L = C linear outputs,
u^l = W^l h^{l-1} + b^l, h^l = phi(u^l), f = u^L, W^l_ij ~ N(0, sigma_w^2/n_{l-1}),
b^l_i ~ N(0, sigma_b^2); theta = every weight and bias, P of them.

Order parameters (the macroscopic variables of the Fisher matrix):

* forward: qhat^l = (1/n_l) sum_i h^l_i(x)^2 = chi0(q^l) (Amari's activity A), its two-input
  counterpart qhat^l_12 = E[phi(u_1) phi(u_2)] (the kernel law), with the pre-activation
  variance q^l = sigma_w^2 qhat^{l-1} + sigma_b^2 and covariance q^l_12 likewise; qhat^0 is the
  input's |x|^2/n_0 (q_in) and qhat^0_12 = x.x'/n_0 (0 for independent inputs);
* backward: qtilde^l = sum_i (df_k/du^l_i)^2 (a *sum* over the units of layer l) and
  qtilde^l_12 = sum_i (df_k/du^l_i)(x) (df_k/du^l_i)(x'), with qtilde^L = qtilde^L_12 = 1 and
  the laws ``backward_order_parameter`` and ``backward_order_parameter_pair`` below, derived
  under the **gradient-independence assumption** (the weights of the backward pass are
  treated as independent of the forward pass; Schoenholz et al. 2017; exact for the last
  hidden layer, O(1/n) otherwise).

From them the tangent kernels of the network: in the standard parameterisation
K(x, x') = sum_k-independent grad f_k(x) . grad f_k(x') = sum_l qtilde^l_xx' (n_{l-1} qhat^{l-1}_xx' + 1),
and in the NTK parameterisation Theta(x, x') = sum_l qtilde^l_xx' q^l_xx' (equal to the NTK
recursion of ``recursion.py``, which tests check). The Fisher statistics follow from the
Gram matrix of per-example gradients (``statistic_laws``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import numpy as np
import sympy as sp

from ..activations import Activation, get_activation, x
from ..derivation import Derivation, Step
from ..errors import InvalidValueError
from ..expectation import bivariate_expectation, expectation, u1, u2
from ..symbols import q, q1, q2, rho, sigma_w
from .base import Law, LawDefinition
from .calculus import derive
from .evaluation import EvaluationContext, Float64Context
from .two_input import _values, check_pair, check_pair_np, refuse_entries

#: The backward order parameters of the layer above (the law's input).
qtilde = sp.Symbol("qtilde", real=True)
qtilde12 = sp.Symbol("qtilde12", real=True)

GRADIENT_INDEPENDENCE = (
    "gradient independence: the weights W^{l+1} of the backward pass are treated as "
    "independent of the forward pass (Schoenholz et al. 2017; exact for the last hidden "
    "layer, an O(1/n) approximation below it)")

# ------------------------------------------------------------------------------------------
# How the backward law's Gaussian follows from backpropagation (shown before the activation
# is substituted, like the forward laws' mean-field step)
# ------------------------------------------------------------------------------------------
_i, _j, _k = sp.symbols("i j k", integer=True, positive=True)
_n_l, _n_next = sp.symbols("n_l n_{l+1}", integer=True, positive=True)
_delta = sp.IndexedBase("delta")          # delta^l_i = d f / d u^l_i
_delta_above = sp.IndexedBase("delta'")   # delta^{l+1}_j
_delta2 = sp.IndexedBase("deltabar")      # the same for a second input x'
_delta2_above = sp.IndexedBase("deltabar'")
_W = sp.IndexedBase("W")
_dphi = sp.Function("varphi'")


def _backward_steps(two_inputs: bool) -> tuple[Step, ...]:
    lhs = sp.Symbol("qtilde_l__12" if two_inputs else "qtilde_l")
    above = qtilde12 if two_inputs else qtilde
    u_a = sp.IndexedBase("u")
    u_b = sp.IndexedBase("ubar") if two_inputs else u_a
    right_delta, right_above = (_delta2, _delta2_above) if two_inputs else (_delta, _delta_above)
    microscopic = sp.Sum(_delta[_i] * right_delta[_i], (_i, 1, _n_l))
    chain = sp.Sum(_dphi(u_a[_i]) * _dphi(u_b[_i])
                   * sp.Sum(_W[_j, _i] * _delta_above[_j], (_j, 1, _n_next))
                   * sp.Sum(_W[_k, _i] * right_above[_k], (_k, 1, _n_next)), (_i, 1, _n_l))
    independent = sp.Sum(_dphi(u_a[_i]) * _dphi(u_b[_i]), (_i, 1, _n_l)) * sigma_w**2 / _n_l \
        * sp.Sum(_delta_above[_j] * right_above[_j], (_j, 1, _n_next))
    mean_field = sigma_w**2 * sp.Symbol("E[varphi'(u) varphi'(ubar)]" if two_inputs
                                        else "E[varphi'(u)^2]") * above
    return (
        Step(lhs, microscopic, "definition",
             "backward order parameter: a sum over the units of layer l of d f_k/d u^l_i "
             + ("at the two inputs x, x'" if two_inputs else "squared")),
        Step(lhs, chain, "backpropagation (chain rule)",
             "delta^l_i = varphi'(u^l_i) sum_j W^{l+1}_ji delta^{l+1}_j"),
        Step(lhs, independent, "gradient independence",
             "E[W_ji W_ki] = sigma_w^2 delta_jk / n_l, the backward weights W^{l+1} treated "
             "as independent of the forward pass (exact for the last hidden layer)"),
        Step(lhs, mean_field, "mean field (law of large numbers)",
             "(1/n_l) sum_i becomes the Gaussian expectation over the pre-activations of "
             "layer l" + (" (a pair with variances q1, q2 and covariance rho)" if two_inputs
                          else " (variance q)") + "; the sum over j is the layer above's "
             + ("qtilde12" if two_inputs else "qtilde")),
    )


def _check_qtilde(point: Mapping[str, object], activation=None) -> None:
    (value,) = _values(point, "qtilde")
    if value < 0:
        raise InvalidValueError(f"qtilde must be >= 0: it is a sum of squares (got "
                                f"qtilde={point['qtilde']})")


def _check_qtilde_np(arrays: Mapping[str, np.ndarray], activation=None) -> None:
    refuse_entries(arrays["qtilde"] < 0, "qtilde must be >= 0 (a sum of squares)",
                   {"qtilde": arrays["qtilde"]})


BACKWARD_ORDER_PARAMETER = LawDefinition(
    name="backward_order_parameter",
    title="backward order parameter qtilde^l = sigma_w^2 E[phi'(u^l)^2] qtilde^{l+1} "
          "(gradient independence)",
    latex_name=r"\tilde q^{l}",
    variables=(qtilde, q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: sigma_w**2 * expectation(phi(x, 1) ** 2, x, q) * qtilde,
    convention="qtilde^l = sum_i (d f_k/d u^l_i)^2 summed over the units of layer l "
               "(Karakida et al. 2019), q = Var u^l, qtilde = qtilde^{l+1}; qtilde^L = 1 at the "
               "linear outputs; " + GRADIENT_INDEPENDENCE,
    check_domain=_check_qtilde,
    check_domain_np=_check_qtilde_np,
    prelude=_backward_steps(two_inputs=False),
    sampled_check="backward_order_parameter",
)

BACKWARD_ORDER_PARAMETER_PAIR = LawDefinition(
    name="backward_order_parameter_pair",
    title="two-input backward order parameter qtilde^l_12 = sigma_w^2 E[phi'(u1) phi'(u2)] "
          "qtilde^{l+1}_12 (gradient independence)",
    latex_name=r"\tilde q^{l}_{12}",
    variables=(qtilde12, q1, q2, rho, sigma_w),
    define=lambda phi: sigma_w**2 * bivariate_expectation(phi(u1, 1) * phi(u2, 1), q1, rho, q2)
    * qtilde12,
    convention="qtilde^l_12 = sum_i (d f_k/d u^l_i)(x) (d f_k/d u^l_i)(x'); (u1, u2) ~ "
               "N(0, [[q1, rho], [rho, q2]]) the pre-activations of layer l at x, x'; "
               "qtilde12 = qtilde^{l+1}_12; " + GRADIENT_INDEPENDENCE,
    check_domain=check_pair,
    check_domain_np=check_pair_np,
    prelude=_backward_steps(two_inputs=True),
    sampled_check="backward_pair_order_parameter",
)

ENTRIES = (BACKWARD_ORDER_PARAMETER, BACKWARD_ORDER_PARAMETER_PAIR)


# ------------------------------------------------------------------------------------------
# The order parameters layer by layer, written once against an evaluation context
# ------------------------------------------------------------------------------------------
@dataclass
class OrderParameters:
    """Order parameters per layer, indexed by the layer l (entries the layer lacks are None).

    Each entry is an array over the inputs (diagonal: one input) or over the pairs
    ``(rows[k], cols[k])`` (off-diagonal: two inputs), in the context's representation:

    * ``q[l]``, ``q12[l]`` (l = 1..L): pre-activation variance and covariance;
    * ``qhat[l]``, ``qhat12[l]`` (l = 0..L-1): post-activation activity and overlap (l = 0:
      the inputs);
    * ``qtilde[l]``, ``qtilde12[l]`` (l = 1..L): backward order parameters (qtilde^L = 1).
    """

    widths: tuple[int, ...]
    rows: np.ndarray
    cols: np.ndarray
    q: list
    q12: list
    qhat: list
    qhat12: list
    qtilde: list
    qtilde12: list

    @property
    def depth(self) -> int:
        return len(self.widths) - 1


def propagate_order_parameters(context: EvaluationContext, activation: Activation,
                               widths: tuple[int, ...], input_activity: np.ndarray,
                               rows: np.ndarray, cols: np.ndarray, input_overlap: np.ndarray,
                               sigma_w_value, sigma_b_value,
                               parameters: dict | None = None) -> OrderParameters:
    """Forward (chi0, kernel) and backward (the two backward laws) order parameters.

    ``widths`` = (n_0, ..., n_L); ``input_activity[t]`` = |x_t|^2/n_0 and
    ``input_overlap[k]`` = x_rows[k] . x_cols[k] / n_0 in the context's representation.
    """
    parameters = parameters or {}
    chi0 = context.law(derive("chi0", activation))
    kernel = context.law(derive("kernel", activation))
    backward = context.law(derive("backward_order_parameter", activation))
    backward_pair = context.law(derive("backward_order_parameter_pair", activation))
    sw2, sb2 = sigma_w_value**2, sigma_b_value**2
    depth = len(widths) - 1
    q_, q12_ = [None] * (depth + 1), [None] * (depth + 1)
    qhat_, qhat12_ = [None] * (depth + 1), [None] * (depth + 1)
    qhat_[0], qhat12_[0] = input_activity, input_overlap
    for layer in range(1, depth + 1):
        q_[layer] = sw2 * qhat_[layer - 1] + sb2
        q12_[layer] = sw2 * qhat12_[layer - 1] + sb2
        _check_float64(context, q_[layer], layer)
        if layer < depth:
            var1, var2 = q_[layer][rows], q_[layer][cols]
            cov = context.clip_covariance(var1, var2, q12_[layer])
            qhat_[layer] = chi0(q=q_[layer], **parameters)
            qhat12_[layer] = kernel(q1=var1, q2=var2, rho=cov, **parameters)
    qtilde_, qtilde12_ = [None] * (depth + 1), [None] * (depth + 1)
    qtilde_[depth] = _ones(context, len(input_activity))
    qtilde12_[depth] = _ones(context, len(input_overlap))
    for layer in range(depth - 1, 0, -1):
        var1, var2 = q_[layer][rows], q_[layer][cols]
        cov = context.clip_covariance(var1, var2, q12_[layer])
        qtilde_[layer] = backward(qtilde=qtilde_[layer + 1], q=q_[layer],
                                  sigma_w=sigma_w_value, **parameters)
        qtilde12_[layer] = backward_pair(qtilde12=qtilde12_[layer + 1], q1=var1, q2=var2,
                                         rho=cov, sigma_w=sigma_w_value, **parameters)
    return OrderParameters(tuple(widths), rows, cols, q_, q12_, qhat_, qhat12_, qtilde_,
                           qtilde12_)


def _check_float64(context: EvaluationContext, values, layer: int) -> None:
    """In float64, variances that grow geometrically with depth overflow: a clear error
    instead of a law refusing an infinite argument."""
    if isinstance(context, Float64Context) and not np.all(np.isfinite(values)):
        raise InvalidValueError(
            f"the order parameters overflow float64 at layer {layer} (the pre-activation "
            "variance grows geometrically with depth); use fewer layers, a smaller sigma_w, "
            "or dps for mpmath numbers")


def _ones(context: EvaluationContext, count: int) -> np.ndarray:
    if isinstance(context, Float64Context):
        return np.ones(count)
    return context.array([context.number(1)] * count)


def tangent_kernels(context: EvaluationContext, order: OrderParameters, sigma_w_value,
                    sigma_b_value) -> dict[str, tuple]:
    """The tangent kernels from the order parameters, as (diagonal, off-diagonal) arrays:

    * ``standard``: sum_l qtilde^l (n_{l-1} qhat^{l-1} + 1), the Gram of per-example gradients
      in the standard parameterisation (per output; outputs decouple at leading order);
    * ``ntk``: sum_l qtilde^l q^l with q^l = sigma_w^2 qhat^{l-1} + sigma_b^2, the NTK
      parameterisation (each weight scaled by sigma_w/sqrt(n_{l-1}), each bias by sigma_b).
    """
    out = {}
    for name, diagonal in (("standard", True), ("standard", False), ("ntk", True),
                           ("ntk", False)):
        qt = order.qtilde if diagonal else order.qtilde12
        qh = order.qhat if diagonal else order.qhat12
        pre = order.q if diagonal else order.q12
        total = None
        for layer in range(1, order.depth + 1):
            if name == "standard":
                fan_in = context.number(order.widths[layer - 1])
                term = qt[layer] * (fan_in * qh[layer - 1] + 1)
            else:
                term = qt[layer] * pre[layer]
            total = term if total is None else total + term
        out.setdefault(name, []).append(total)
    return {k: tuple(v) for k, v in out.items()}


def parameter_count(widths: tuple[int, ...]) -> int:
    """P: every weight and bias of a network with widths (n_0, ..., n_L)."""
    return sum(widths[l] * (widths[l - 1] + 1) for l in range(1, len(widths)))


# ------------------------------------------------------------------------------------------
# The Fisher statistics as laws in the order parameters
# ------------------------------------------------------------------------------------------
_l = sp.Symbol("l", integer=True, positive=True)
_L = sp.Symbol("L", integer=True, positive=True)
_t = sp.Symbol("t", integer=True, positive=True)
P_SYMBOL = sp.Symbol("P", positive=True, integer=True)
T_SYMBOL = sp.Symbol("T", positive=True, integer=True)
K1_SYMBOL, K2_SYMBOL = sp.symbols("K_1 K_2", real=True)
_n = sp.IndexedBase("n")
_qhat = sp.IndexedBase("qhat")
_qhat12 = sp.IndexedBase("qhat^12")
_qtilde = sp.IndexedBase("qtilde")
_qtilde12 = sp.IndexedBase("qtilde^12")
_dl = sp.IndexedBase("delta")
_h = sp.IndexedBase("h")


def layer_symbols(depth: int) -> dict[str, list[sp.Symbol]]:
    """The per-layer symbols of the statistic laws: n_0..n_L, qhat_0..qhat_{L-1},
    qhat^12_0.., qtilde_1..qtilde_L, qtilde^12_1.. (qtilde_L = qtilde^12_L = 1 are not
    variables)."""
    return {
        "n": [sp.Symbol(f"n_{l}", positive=True, integer=True) for l in range(depth + 1)],
        "qhat": [sp.Symbol(f"qhat_{l}", positive=True) for l in range(depth)],
        "qhat12": [sp.Symbol(f"qhat_{l}__12", real=True) for l in range(depth)],
        "qtilde": [sp.Symbol(f"qtilde_{l}", nonnegative=True) for l in range(1, depth)],
        "qtilde12": [sp.Symbol(f"qtilde_{l}__12", real=True) for l in range(1, depth)],
    }


def _kernel_sums(depth: int) -> tuple[sp.Expr, sp.Expr, dict]:
    """K_1 and K_2 written out for ``depth`` layers in the per-layer symbols."""
    s = layer_symbols(depth)
    qt = s["qtilde"] + [sp.S.One]
    qt12 = s["qtilde12"] + [sp.S.One]
    k1 = sum(qt[l - 1] * (s["n"][l - 1] * s["qhat"][l - 1] + 1) for l in range(1, depth + 1))
    k2 = sum(qt12[l - 1] * (s["n"][l - 1] * s["qhat12"][l - 1] + 1)
             for l in range(1, depth + 1))
    return k1, k2, s


def _generic_sum(pair: bool) -> sp.Expr:
    qt, qh = (_qtilde12, _qhat12) if pair else (_qtilde, _qhat)
    return sp.Sum(qt[_l] * (_n[_l - 1] * qh[_l - 1] + 1), (_l, 1, _L))


@lru_cache(maxsize=64)
def statistic_laws(activation: Activation | str, depth: int,
                   samples: int | None = None) -> dict[str, Law]:
    """The Fisher statistics of a network of ``depth`` layers (widths n_0..n_L, n_L = C
    outputs) as laws, each with its derivation from the definition of F:

    * ``K_1``, ``K_2``: the Gram entries of per-example gradients at one input and at two
      independent inputs, in the order parameters layer by layer;
    * ``m_lambda``, ``s_lambda``, ``lambda_max`` in K_1, K_2, the number of outputs n_L, the
      parameter count P and the number T of independent inputs of the empirical Fisher
      (``samples``; None: the Fisher E_x of the input distribution, T -> oo).
    """
    act = get_activation(activation)
    k1, k2, s = _kernel_sums(depth)
    outputs = sp.Symbol("n_L", positive=True, integer=True)
    T = T_SYMBOL
    inverse = sp.S.Zero if samples is None else 1 / T
    weight = 1 - inverse
    sample_note = ("the Fisher matrix of the input distribution, F = E_x[...] (T -> oo)"
                   if samples is None else "the empirical Fisher matrix over T independent "
                   "inputs, F = (1/T) sum_t ...")
    variables = tuple(s["n"] + s["qhat"] + s["qhat12"] + s["qtilde"] + s["qtilde12"]) \
        + (K1_SYMBOL, K2_SYMBOL, outputs, P_SYMBOL) + (() if samples is None else (T,))
    F = sp.MatrixSymbol("F", P_SYMBOL, P_SYMBOL)
    G = sp.MatrixSymbol("G", T * outputs, T * outputs)
    largest = sp.Function("lambda_max")
    gradient = sp.Symbol("||grad f_k(x)||^2")
    chain = sp.Sum(sp.Sum(sp.Sum((_dl[_l, _i] * _h[_l - 1, _j]) ** 2, (_j, 1, _n[_l - 1]))
                          + _dl[_l, _i] ** 2, (_i, 1, _n[_l])), (_l, 1, _L))
    factored = sp.Sum(sp.Sum(_dl[_l, _i] ** 2, (_i, 1, _n[_l]))
                      * (sp.Sum(_h[_l - 1, _j] ** 2, (_j, 1, _n[_l - 1])) + 1), (_l, 1, _L))
    why_chain = ("d f_k/d W^l_ij = delta^l_i h^{l-1}_j and d f_k/d b^l_i = delta^l_i with "
                 "delta^l_i = d f_k/d u^l_i (the same for every one of the C = n_L linear "
                 "outputs)")
    why_order = ("qtilde^l = sum_i (delta^l_i)^2 (law backward_order_parameter, "
                 + GRADIENT_INDEPENDENCE.split(":", 1)[0] + "; qtilde^L = 1) and "
                 "(1/n_{l-1}) sum_j (h^{l-1}_j)^2 = qhat^{l-1} = chi0(q^{l-1}) (law of large "
                 "numbers; qhat^0 = |x|^2/n_0)")
    why_pair = ("the same factorisation at two independent inputs x, x': qtilde^l_12 (law "
                "backward_order_parameter_pair) and qhat^l_12 = E[phi(u1) phi(u2)] (law "
                "kernel; qhat^0_12 = x.x'/n_0)")
    why_gram = ("the nonzero spectrum of F = J^T J / T equals that of G / T, G = J J^T the "
                "T C x T C Gram matrix of the per-example gradients (J: rows grad f_k(x_t)), "
                "entries grad f_k(x_t) . grad f_k'(x_t'); outputs "
                "decouple: delta^L_k . delta^L_k' = delta_kk', the lower layers' cross terms "
                "are O(n^(-1/2)) relative")
    why_spectrum = ("per output, G/T = (K_2/T) 1 1^T + ((K_1 - K_2)/T) I: the eigenvalue "
                    "K_1/T + (1 - 1/T) K_2 on 1_T (F's eigenvector: the mean gradient "
                    "sum_t grad f_k(x_t)/T, C-fold), (K_1 - K_2)/T on the T - 1 others, and "
                    "P - T C zeros")
    if samples is None:
        why_spectrum = ("the same for the Fisher of the input distribution, T -> oo: the "
                        "eigenvalue K_2 on the mean gradient E_x[grad f_k(x)] (C-fold); the "
                        "rest of the spectrum is O(1/T) -> a bulk near 0")
    gram = sp.KroneckerDelta(sp.Symbol("k"), sp.Symbol("k'")) * (
        K1_SYMBOL * sp.KroneckerDelta(_t, sp.Symbol("t'"))
        + K2_SYMBOL * (1 - sp.KroneckerDelta(_t, sp.Symbol("t'"))))
    gram_step = Step(sp.IndexedBase("G")[_t, sp.Symbol("k"), sp.Symbol("t'"), sp.Symbol("k'")],
                     gram,
                     "Gram matrix of per-example gradients", why_gram)
    count_step = Step(P_SYMBOL, sp.Sum(_n[_l] * (_n[_l - 1] + 1), (_l, 1, _L)),
                      "parameter count", "every weight and bias of the L layers")

    def law(name, title, latex_name, expr, steps, convention, result_note):
        derivation = Derivation()
        derivation.extend(steps)
        derivation.add(sp.Symbol(name), expr, "result", result_note)
        return Law(name=name, activation=act, definition=steps[0].after, expr=expr,
                   variables=tuple(v for v in variables if expr.has(v)),
                   derivation=derivation, title=title, latex_name=latex_name,
                   convention=convention)

    convention = ("standard parameterisation, widths n_0..n_L with n_L = C linear outputs; "
                  "order parameters qhat (forward, per unit), qtilde (backward, summed over "
                  "units); leading order in the width; " + GRADIENT_INDEPENDENCE)
    written_out = f"written out for L = {depth} layers in the order parameters"
    k1_steps = [
        Step(K1_SYMBOL, gradient, "definition",
             "squared norm of the gradient of one output at one input (a diagonal Gram entry)"),
        Step(K1_SYMBOL, chain, "chain rule", why_chain),
        Step(K1_SYMBOL, factored, "factorisation",
             "sum_ij (delta_i h_j)^2 = (sum_i delta_i^2)(sum_j h_j^2)"),
        Step(K1_SYMBOL, _generic_sum(False), "order parameters", why_order),
    ]
    k2_steps = [
        Step(K2_SYMBOL, sp.Symbol("grad f_k(x) . grad f_k(x')"), "definition",
             "gradients of one output at two independent inputs (an off-diagonal Gram entry)"),
        Step(K2_SYMBOL, _generic_sum(True), "order parameters", why_pair),
    ]
    m_steps = [
        Step(sp.Symbol("m_lambda"), sp.Trace(F) / P_SYMBOL, "definition",
             f"mean eigenvalue of {sample_note}, F = sum_k grad f_k grad f_k^T"),
        Step(sp.Symbol("m_lambda"), sp.Trace(G) / (T * P_SYMBOL), "trace of the Gram matrix",
             "tr F = tr J^T J / T = tr J J^T / T"),
        gram_step, count_step,
    ]
    s_steps = [
        Step(sp.Symbol("s_lambda"), sp.Trace(F * F) / P_SYMBOL, "definition",
             f"second moment of the eigenvalues of {sample_note}"),
        Step(sp.Symbol("s_lambda"), sp.Trace(G * G) / (T**2 * P_SYMBOL),
             "trace of the squared Gram matrix", "tr F^2 = tr (J^T J)^2 / T^2 = tr (J J^T)^2 / T^2"),
        gram_step, count_step,
    ]
    lam_steps = [
        Step(sp.Symbol("lambda_max"), largest(F), "definition",
             f"largest eigenvalue of {sample_note}"),
        Step(sp.Symbol("lambda_max"), largest(G) / T, "Gram matrix",
             "F = J^T J / T and J J^T / T have the same nonzero eigenvalues"),
        gram_step,
    ]
    per_output = ("per output k: T diagonal entries K_1 and T (T - 1) off-diagonal entries K_2, "
                  "over T^2; cross-output entries are lower order")
    return {
        "K_1": law("K_1", "one-input Gram entry K_1 = ||grad f_k(x)||^2 in the order "
                   "parameters", "K_1", k1, k1_steps, convention, written_out),
        "K_2": law("K_2", "two-input Gram entry K_2 = grad f_k(x) . grad f_k(x') in the order "
                   "parameters", "K_2", k2, k2_steps, convention, written_out),
        "m_lambda": law("m_lambda", "mean eigenvalue of the Fisher matrix m_lambda = tr F / P",
                        r"m_\lambda", outputs * K1_SYMBOL / P_SYMBOL, m_steps, convention,
                        "T C diagonal entries K_1, over T"),
        "s_lambda": law("s_lambda", "second moment of the Fisher eigenvalues s_lambda = "
                        "tr F^2 / P", r"s_\lambda",
                        outputs * (inverse * K1_SYMBOL**2 + weight * K2_SYMBOL**2) / P_SYMBOL,
                        s_steps, convention, per_output),
        "lambda_max": law("lambda_max", "largest eigenvalue of the Fisher matrix (leading "
                          "order in the width)", r"\lambda_{max}",
                          inverse * K1_SYMBOL + weight * K2_SYMBOL, lam_steps, convention,
                          why_spectrum),
    }


__all__ = ["BACKWARD_ORDER_PARAMETER", "BACKWARD_ORDER_PARAMETER_PAIR", "ENTRIES",
           "OrderParameters", "parameter_count", "propagate_order_parameters", "qtilde",
           "qtilde12", "statistic_laws", "tangent_kernels"]
