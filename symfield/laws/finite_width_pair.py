"""Two inputs at order 1/n (issue 14, the stretch goal): the four-point vertex of a pair of
inputs and the 1/n correction to the NNGP kernel.

For inputs a, b the layer-(l+1) kernel given layer l is random at finite width,

    s'_ab = sigma_w^2 (1/n_l) sum_j phi(z_{j,a}) phi(z_{j,b}) + sigma_b^2,

with, given layer l's kernel s = (s_11, s_12, s_22), the pairs (z_{j,1}, z_{j,2}) i.i.d.
N(0, [[s_11, s_12], [s_12, s_22]]). Its three distinct entries are indexed by i in
(11, 12, 22); kappa_i(s) = E_s[phi_a phi_b] (chi0(s_11), the kernel k(s_11, s_22, s_12),
chi0(s_22)) and F_i = sigma_w^2 kappa_i + sigma_b^2 (the covariance map). Every derivative
below is a partial derivative in one of the three *distinct* entries, the others held fixed
(so d F_12/d s_12 = sigma_w^2 E[phi'_1 phi'_2] by Price's theorem, with no factor 1/2 of a
symmetric-matrix derivative: the sums run over the distinct entries only, each once).

With s = K + delta, E[delta_i] = K1_i/n_{l-1} and E[delta_i delta_j] = V_ij/n_{l-1}, the law of
total covariance and a second-order Taylor expansion give (:func:`pair_expansion`, derived
symbolically, the steps every law shows)

    V'_ij  = sigma_w^4 (E[P_i P_j] - E[P_i] E[P_j]) + r sum_kl dF_i/ds_k dF_j/ds_l V_kl,
    K1'_i  = sum_k dF_i/ds_k K1_k + (1/2) sum_kl d^2F_i/ds_k ds_l V_kl,

P_11 = phi_1^2, P_12 = phi_1 phi_2, P_22 = phi_2^2, V^1 = K1^1 = 0 (the first layer is exact),
r = n_l/n_{l-1}. So Cov[s^l_i, s^l_j] = V^l_ij/n + O(n^-2) and E[s^l_12] = K^l_12 + K1^l_12/n:
K1_12 is the 1/n correction to the NNGP kernel. On the diagonal (i = j = 11) they are the
single-input four_point_vertex and mean_shift exactly.

The new Gaussian moments are E[phi_1^2 phi_2^2] and E[phi_1^3 phi_2] (E[phi_1 phi_2^3] is the
latter with the inputs swapped), and the first and second derivatives of the kernel in
(s_11, s_22, s_12): all derived by the engine's calculus (Price's theorem, the heat
equation), closed forms for ReLU.

The registered laws iterate from the layer-1 kernel (q1, q2, rho), equal widths:
``four_point_vertex_pair`` reports V^L_(12)(12) (Var[s^L_12] = V/n) and ``nngp_correction``
K1^L_12. :func:`propagate_pair` gives every entry (also in ball arithmetic: ``enclose``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

from ..activations import Activation, x
from ..derivation import Step
from ..errors import InvalidValueError
from ..expectation import Expectation, bivariate_expectation, expectation, u1, u2
from ..microdynamics import n
from ..numbers import to_exact
from ..piecewise import NONSMOOTH, distributional_derivative
from ..symbols import L, TextFreeFunction, q, q1, q2, rho, sigma_b, sigma_w
from .base import Law, LawDefinition
from .calculus import derive
from .evaluation import BallContext, EvaluationContext, Float64Context, SymbolicContext
from .finite_width import FiniteWidthLaw, _check_variance, chi0_derivative, chi0_of, mu4_of, r
from .two_input import _compare, _values, check_pair, check_pair_np

# ------------------------------------------------------------------------------------------
# Symbols: the three distinct entries of a symmetric 2 x 2 kernel
# ------------------------------------------------------------------------------------------
#: The distinct entries, in the order every vector and matrix below uses.
ENTRIES_2X2 = ("11", "12", "22")
#: The pairs (i, j), i <= j, of distinct entries: the six entries of the symmetric vertex.
VERTEX_ENTRIES = tuple(combinations_with_replacement(ENTRIES_2X2, 2))

#: The layer-l mean-field kernel K (the point of the expansion): K_11 = q1, K_12 = rho, K_22 = q2.
KERNEL_AT = {"11": q1, "12": rho, "22": q2}
#: The random layer-l kernel s and its fluctuation delta = s - K.
S = {i: sp.Symbol(f"s_{i}", real=True) for i in ENTRIES_2X2}
DELTA = {i: sp.Symbol(f"delta_{i}", real=True) for i in ENTRIES_2X2}
#: The layer-l vertex V_ij (symmetric: one symbol per unordered pair) and mean shift K1_i.
#: Named as LaTeX shows them: V_{1112} = V_(11)(12), K^{1}_{12} (the 1/n coefficient of K_12).
V_PAIR = {pair: sp.Symbol(f"V_{pair[0]}{pair[1]}", real=True) for pair in VERTEX_ENTRIES}
K1_PAIR = {i: sp.Symbol(f"K__1_{i}", real=True) for i in ENTRIES_2X2}


def vertex_symbol(i: str, j: str) -> sp.Symbol:
    """V_ij = V_ji."""
    return V_PAIR[(i, j) if (i, j) in V_PAIR else (j, i)]


#: Generic functions of the expansion: the kernel k(s_11, s_22, s_12) = E[phi_1 phi_2] and the
#: fourth moments E[phi_1^2 phi_2^2], E[phi_1^3 phi_2], E[phi_1 phi_2^3] of the pair.
k_of = TextFreeFunction("k")
m22_of = TextFreeFunction("mu_22")
m31_of = TextFreeFunction("mu_31")
m13_of = TextFreeFunction("mu_13")
_Cov = TextFreeFunction("Cov")
_Mean = TextFreeFunction("E")


def _pair_args() -> tuple[sp.Symbol, sp.Symbol, sp.Symbol]:
    return S["11"], S["22"], S["12"]


def conditional_means() -> dict[str, sp.Expr]:
    """kappa_i(s) = E[P_i | s]: chi0(s_11), k(s_11, s_22, s_12), chi0(s_22)."""
    return {"11": chi0_of(S["11"]), "12": k_of(*_pair_args()), "22": chi0_of(S["22"])}


def conditional_moments() -> dict[tuple[str, str], sp.Expr]:
    """E[P_i P_j | s] for i <= j (P_11 P_12 = phi_1^3 phi_2, P_11 P_22 = P_12 P_12 =
    phi_1^2 phi_2^2, ...)."""
    pair = _pair_args()
    return {("11", "11"): mu4_of(S["11"]), ("11", "12"): m31_of(*pair),
            ("11", "22"): m22_of(*pair), ("12", "12"): m22_of(*pair),
            ("12", "22"): m13_of(*pair), ("22", "22"): mu4_of(S["22"])}


def _at_kernel(expr: sp.Expr) -> sp.Expr:
    """expr at s = K. The entries of K are symbols of their own, so renaming s_11 -> q1 (and so
    on) everywhere, inside derivatives too, is the substitution: d/ds_11 k(s_11, ...) at
    s_11 = q1 is d/dq1 k(q1, ...). Each derivative's variables are put in SymPy's canonical
    order, as Subs(...).doit() would (a third of the time of subs and doit)."""
    value = expr.xreplace({S[i]: KERNEL_AT[i] for i in ENTRIES_2X2})
    return value.xreplace({d: sp.Derivative(d.expr,
                                            *sp.Derivative._sort_variable_count(d.variable_count))
                           for d in value.atoms(sp.Derivative)})


@dataclass(frozen=True)
class PairExpansion:
    """The two-input layer maps derived from the 1/n expansion, and the steps that derive them."""

    vertex_maps: dict          # (i, j) -> V'_ij in q1, q2, rho, the V_kl, sigma_w, r
    shift_maps: dict           # i -> K1'_i in q1, q2, rho, the V_kl, the K1_k, sigma_w
    vertex_steps: tuple[Step, ...]
    shift_steps: tuple[Step, ...]


def pair_expansion() -> PairExpansion:
    """Expand the covariances and the means of s'_i to order 1/n (generic kappa, mu).

    Given layer l, s'_i has conditional mean F_i(s) = sigma_w^2 kappa_i(s) + sigma_b^2 and
    conditional covariance Cov[s'_i, s'_j | s] = sigma_w^4 (mu_ij(s) - kappa_i kappa_j)/n_l. The
    law of total covariance with E[delta_i] = K1_i/n_{l-1}, E[delta_i delta_j] = V_ij/n_{l-1}
    (the three distinct entries as independent variables) gives the maps at order 1/n.
    """
    means, moments = conditional_means(), conditional_moments()
    F = {i: sigma_w**2 * means[i] + sigma_b**2 for i in ENTRIES_2X2}
    # To order 1/n the second-order Taylor expansion leaves: from the conditional covariance
    # its value at K (it already carries 1/n_l); from Cov[F_i(s), F_j(s)] the product of the
    # first-order terms, sum_kl dF_i/ds_k dF_j/ds_l E[delta_k delta_l]; from E[F_i(s)] the
    # first and second derivatives against E[delta_k] and E[delta_k delta_l]. Expanding the
    # products and keeping the 1/n coefficient gives the same polynomials (a test compares
    # them) in a twentieth of the time.
    gradient = {i: {k: sp.diff(F[i], S[k]) for k in ENTRIES_2X2} for i in ENTRIES_2X2}
    gradient_at_K = {i: {k: _at_kernel(d) for k, d in gradient[i].items()} for i in ENTRIES_2X2}
    pairs = [(k, l) for k in ENTRIES_2X2 for l in ENTRIES_2X2]   # ordered: V_kl = V_lk twice
    vertex_maps, shift_maps = {}, {}
    for i, j in VERTEX_ENTRIES:
        conditional = sigma_w**4 * _at_kernel(moments[(i, j)] - means[i] * means[j])
        fluctuation = sp.Add(*[gradient_at_K[i][k] * gradient_at_K[j][l] * vertex_symbol(k, l)
                               for k, l in pairs])
        vertex_maps[(i, j)] = sp.expand(conditional + r * fluctuation)
    for i in ENTRIES_2X2:
        drift = sp.Add(*[gradient_at_K[i][k] * K1_PAIR[k] for k in ENTRIES_2X2])
        curvature = sp.Add(*[_at_kernel(sp.diff(gradient[i][k], S[l])) * vertex_symbol(k, l)
                             for k, l in pairs])
        shift_maps[i] = sp.expand(drift + curvature / 2)

    s12_next = sp.Symbol("s'_12")
    conditional_step = (
        "given layer l, its n_l pairs (z_{j,1}, z_{j,2}) are i.i.d. N(0, s) with s = "
        "[[s_11, s_12], [s_12, s_22]], so s'_i = sigma_w^2 (1/n_l) sum_j P_i(z_j) + sigma_b^2 "
        "(P_11 = phi_1^2, P_12 = phi_1 phi_2, P_22 = phi_2^2) has E[s'_i|s] = sigma_w^2 "
        "kappa_i(s) + sigma_b^2 and Cov[s'_i, s'_j|s] = sigma_w^4 (E[P_i P_j] - kappa_i "
        "kappa_j)/n_l: mu_22 = E[phi_1^2 phi_2^2], mu_31 = E[phi_1^3 phi_2], mu_13 = "
        "E[phi_1 phi_2^3], k = E[phi_1 phi_2], chi0 = E[phi^2]")
    moments_step = (
        "s = K + delta with K = (q1, rho, q2) the mean-field kernel of layer l: E[delta_i] = "
        "K1_i/n_{l-1}, E[delta_i delta_j] = V_ij/n_{l-1} + O(n^-2); Taylor expansion to second "
        "order in the three distinct entries (s_11, s_12, s_22) as independent variables, so "
        "each sum over entries counts the off-diagonal entry once and d/ds_12 holds s_11, s_22 "
        "fixed")
    v_next, k_next = sp.Symbol("V'_1212"), sp.Symbol("K__1'_12")
    vertex = vertex_maps[("12", "12")]
    kernel_map = sigma_w**2 * means["12"] + sigma_b**2
    conditional = sigma_w**4 * (moments[("12", "12")] - means["12"] ** 2) / n
    vertex_steps = (
        Step(_Cov(s12_next, s12_next), _Mean(conditional) + _Cov(kernel_map, kernel_map),
             "law of total covariance", conditional_step),
        Step(v_next, vertex, "expansion in 1/n",
             moments_step + "; V'_ij = n_l Cov[s'_i, s'_j] + O(1/n), r = n_l/n_{l-1}"),
        Step(v_next, vertex.subs(r, 1), "equal widths", "n_l = n_{l-1} = n"),
    )
    shift = shift_maps["12"]
    shift_steps = (
        Step(_Mean(s12_next), _Mean(sigma_w**2 * means["12"] + sigma_b**2), "tower rule",
             conditional_step),
        Step(k_next, shift, "expansion in 1/n",
             moments_step + "; equal widths; K1'_12 = n (E[s'_12] - K'_12) + O(1/n) with "
                            "K'_12 = sigma_w^2 k(q1, q2, rho) + sigma_b^2 the covariance map"),
    )
    return PairExpansion(vertex_maps, shift_maps, vertex_steps, shift_steps)


@lru_cache(maxsize=None)
def _expansion() -> PairExpansion:
    """The expansion, computed once on first use (two laws need it; ``import symfield``, every
    CLI call, need not pay for it)."""
    return pair_expansion()


def __getattr__(name: str):
    # PAIR_EXPANSION and ATOMS are module constants computed when first asked for (PEP 562)
    if name == "PAIR_EXPANSION":
        return _expansion()
    if name == "ATOMS":
        return _all_atoms()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------------------
# The activation's expectations in place of the generic functions
# ------------------------------------------------------------------------------------------
#: The generic functions of the pair as E[phi(u1)^a phi(u2)^b] (arguments in the order
#: k(s_11, s_22, s_12): q1, q2, rho at the kernel): the powers (a, b).
_PAIR_POWERS = {k_of: (1, 1), m22_of: (2, 2), m31_of: (3, 1), m13_of: (1, 3)}


def _pair_expectation(function, phi, d_q1: int = 0, d_q2: int = 0,
                      d_rho: int = 0) -> sp.Expr:
    """d^(d_q1 + d_q2 + d_rho) E[phi(u1)^a phi(u2)^b] / dq1^d_q1 dq2^d_q2 drho^d_rho by the
    heat equation: E[F^(2 d_q1 + d_rho)(u1) G^(2 d_q2 + d_rho)(u2)] / 2^(d_q1 + d_q2), each
    factor differentiated as one function in the sense of distributions (SymPy's product
    rule on max(0, u)^2 would leave delta(u) max(0, u) and then delta(u)^2). Used for kinked
    activations; a smooth one is differentiated under the integral sign (the same value)."""
    a, b = _PAIR_POWERS[function]
    first = distributional_derivative(phi(u1) ** a, u1, 2 * d_q1 + d_rho)
    second = distributional_derivative(phi(u2) ** b, u2, 2 * d_q2 + d_rho)
    # the factor inside the integrand, where differentiating the expectation puts it (the
    # documents show the definition this way)
    scale = sp.Rational(1, 2 ** (d_q1 + d_q2))
    return sp.Add(*[bivariate_expectation(f * g * scale, q1, rho, q2)
                    for f in _delta_apart(first) for g in _delta_apart(second)])


def _delta_apart(factor: sp.Expr) -> list[sp.Expr]:
    """A factor as [its delta terms, the rest] when it holds both (ELU's phi'' = alpha e^u
    H(-u) + (1 - alpha) delta(u)): the calculus takes the delta terms by conditioning, while
    the whole product would stay one expectation with a delta in it, which no quadrature
    integrates. [factor] otherwise."""
    terms = sp.Add.make_args(factor)
    deltas = [t for t in terms if t.has(sp.DiracDelta)]
    if not deltas or len(deltas) == len(terms):
        return [factor]
    return [sp.Add(*deltas), sp.Add(*[t for t in terms if not t.has(sp.DiracDelta)])]


def _kernel_expectation(phi) -> sp.Expr:
    return _pair_expectation(k_of, phi)


def _single(atom: sp.Expr) -> tuple[sp.Expr, int, sp.Symbol] | None:
    """(function, derivative order, variance) of chi0(q_i), its derivatives, mu4(q_i)."""
    base, order = (atom.expr, atom.derivative_count) if isinstance(atom, sp.Derivative) \
        else (atom, 0)
    if getattr(base, "func", None) in (chi0_of, mu4_of):
        return base.func, order, base.args[0]
    return None


def elementary_expectation(atom: sp.Expr, phi) -> sp.Expr:
    """The expectation a generic atom of the maps stands for: chi0(q_i) and its q-derivatives
    (heat equation), mu4(q_i), and k, mu_22, mu_31, mu_13 at (q1, q2, rho) with their
    derivatives in q1, q2, rho (the engine's calculus differentiates the pair expectation)."""
    single = _single(atom)
    if single is not None:
        function, order, variance = single
        value = chi0_derivative(phi, order) if function is chi0_of \
            else expectation(phi(x) ** 4, x, q)
        return value.subs(q, variance)
    if not isinstance(atom, sp.Derivative):
        return _pair_expectation(atom.func, phi)
    value = _pair_expectation(atom.expr.func, phi)
    if not value.has(*NONSMOOTH, sp.DiracDelta):
        return sp.diff(value, *atom.variable_count)   # under the integral sign
    orders = {v: count for v, count in atom.variable_count}
    return _pair_expectation(atom.expr.func, phi, orders.get(q1, 0), orders.get(q2, 0),
                             orders.get(rho, 0))


def _atoms(expr: sp.Expr) -> set:
    """The generic functions (and their derivatives) in a layer map."""
    derivatives = expr.atoms(sp.Derivative)
    # a function applied outside any derivative (k itself, not only inside dk/dq1)
    plain = expr.xreplace({d: sp.Dummy() for d in derivatives})
    return derivatives | plain.atoms(sp.core.function.AppliedUndef)


def instantiate_pair(expr: sp.Expr, phi) -> sp.Expr:
    """A pair layer map with the activation's expectations put in."""
    atoms = sorted(_atoms(expr), key=sp.default_sort_key)
    derivatives = {a: elementary_expectation(a, phi) for a in atoms
                   if isinstance(a, sp.Derivative)}
    functions = {a: elementary_expectation(a, phi) for a in atoms
                 if not isinstance(a, sp.Derivative)}
    return expr.xreplace(derivatives).xreplace(functions)


# ------------------------------------------------------------------------------------------
# Evaluating the maps: each generic atom once per layer, through a derived elementary law
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _all_atoms() -> tuple:
    """Every generic expectation the nine maps hold (the module's ATOMS)."""
    atoms = set()
    expansion = _expansion()
    for expr in list(expansion.vertex_maps.values()) + list(expansion.shift_maps.values()):
        atoms |= _atoms(expr)
    return tuple(sorted(atoms, key=sp.default_sort_key))


def _atom_name(atom: sp.Expr) -> str:
    single = _single(atom)
    if single is not None:
        function, order, variance = single
        return f"{function.__name__}_{order}"
    base = atom.expr if isinstance(atom, sp.Derivative) else atom
    spec = "" if not isinstance(atom, sp.Derivative) else "_d" + "".join(
        f"{v.name}{c}" for v, c in atom.variable_count)
    return f"{base.func.__name__}{spec}"


@lru_cache(maxsize=None)
def _elementary_definition(name: str) -> LawDefinition:
    """The unregistered law of one elementary expectation (variables q, or q1, q2, rho)."""
    atom = next(a for a in _all_atoms() if _atom_name(a) == name)
    single = _single(atom)
    if single is not None:
        function, order, _ = single
        generic = function(q) if order == 0 else sp.Derivative(function(q), (q, order))
        return LawDefinition(name=f"pair_{name}", title=name, latex_name=name, variables=(q,),
                             zero_variances=("q",),
                             define=lambda phi, g=generic: elementary_expectation(g, phi))
    return LawDefinition(name=f"pair_{name}", title=name, latex_name=name,
                         variables=(q1, q2, rho), check_domain=check_pair,
                         check_domain_np=check_pair_np,
                         define=lambda phi, a=atom: elementary_expectation(a, phi))


def elementary_laws(activation: Activation) -> dict:
    """atom -> (derived law, the variables it is evaluated at: q -> q1 or q2)."""
    out = {}
    for atom in _all_atoms():
        law = derive(_elementary_definition(_atom_name(atom)), activation)
        single = _single(atom)
        out[atom] = (law, None if single is None else single[2])
    return out


#: Every map's variables besides the atoms: the state symbols of the recursion.
_MAP_SYMBOLS = (tuple(V_PAIR.values()) + tuple(K1_PAIR.values()) + (sigma_w, r))


@lru_cache(maxsize=None)
def _map_expressions() -> tuple[list, list]:
    """(placeholders of the atoms, the nine maps in them): six vertex entries, three shifts."""
    placeholders = [sp.Dummy(f"a{k}") for k in range(len(_all_atoms()))]
    replace = dict(zip(_all_atoms(), placeholders))
    maps = [_expansion().vertex_maps[pair] for pair in VERTEX_ENTRIES] + \
        [_expansion().shift_maps[i] for i in ENTRIES_2X2]
    # derivatives first: their inner function application is an atom too
    exprs = [m.xreplace({a: p for a, p in replace.items() if isinstance(a, sp.Derivative)})
             .xreplace({a: p for a, p in replace.items() if not isinstance(a, sp.Derivative)})
             for m in maps]
    return placeholders, exprs


@lru_cache(maxsize=None)
def _map_function(module: str):
    """All nine maps as one function of the atoms' values and the state, printed for
    ``module`` (mpmath or numpy)."""
    placeholders, exprs = _map_expressions()
    return sp.lambdify(placeholders + list(_MAP_SYMBOLS), exprs, modules=module)


@lru_cache(maxsize=None)
def _map_balls() -> list:
    """The nine maps as functions of balls (exact coefficients: lambdify's mpmath module would
    round them to mpf)."""
    from ..gaussian.numerics.enclosure import ball_function

    placeholders, exprs = _map_expressions()
    return [ball_function(e, placeholders + list(_MAP_SYMBOLS), "the two-input layer maps")
            for e in exprs]


def _apply_maps(context: EvaluationContext, values: list, V: dict, K1: dict, sw, ratio):
    """The nine layer maps at one layer: (V' by pair, K1' by entry)."""
    state = [V[pair] for pair in VERTEX_ENTRIES] + [K1[i] for i in ENTRIES_2X2] + [sw, ratio]
    if isinstance(context, SymbolicContext):
        maps = [_expansion().vertex_maps[pair] for pair in VERTEX_ENTRIES] + \
            [_expansion().shift_maps[i] for i in ENTRIES_2X2]
        numbers = dict(zip(_MAP_SYMBOLS, state))
        derivatives = {a: v for a, v in zip(_all_atoms(), values) if isinstance(a, sp.Derivative)}
        functions = {a: v for a, v in zip(_all_atoms(), values) if not isinstance(a, sp.Derivative)}
        results = [m.xreplace(derivatives).xreplace(functions).xreplace(numbers) for m in maps]
    elif isinstance(context, BallContext):
        balls = [context.number(v) for v in [*values, *state]]
        results = [program(balls) for program in _map_balls()]
    else:
        module = "numpy" if isinstance(context, Float64Context) else "mpmath"
        results = _map_function(module)(*values, *state)
    return (dict(zip(VERTEX_ENTRIES, results[:6])), dict(zip(ENTRIES_2X2, results[6:])))


@dataclass
class PairLayers:
    """Per-layer values of the two-input recursion (index 0 is layer 1): the mean-field
    kernel entries, the vertex V[l][(i, j)] and the mean shift K1[l][i]."""

    kernel: list          # dicts entry -> K^l_i
    V: list               # dicts (i, j) -> V^l_ij
    K1: list              # dicts entry -> K1^l_i


def propagate_pair(context: EvaluationContext, activation: Activation, state: Sequence,
                   depth: int, sigma_w_value, sigma_b_value, parameters: dict | None = None,
                   ratios: Sequence | None = None) -> PairLayers:
    """K^l, V^l, K1^l for l = 1 ... depth from the layer-1 kernel ``state`` = (q1, q2, rho).

    The mean-field kernel follows the length map on the diagonal and the covariance map off
    it; at every layer the elementary expectations are evaluated once and the nine maps of
    :func:`pair_expansion` applied. ``ratios[l-1]`` = n_l/n_{l-1} (equal widths when None).
    """
    parameters = parameters or {}
    derived = elementary_laws(activation)
    if not isinstance(context, SymbolicContext):
        _refuse_unevaluated_deltas(activation, derived)
    laws = {atom: (context.law(law), at) for atom, (law, at) in derived.items()}
    chi0 = context.law(derive("chi0", activation))
    kernel = context.law(derive("kernel", activation))
    sw2, sb2 = sigma_w_value**2, sigma_b_value**2
    k11, k22, k12 = state
    zero = k11 * 0
    layers = PairLayers([{"11": k11, "12": k12, "22": k22}],
                        [{pair: zero for pair in VERTEX_ENTRIES}],
                        [{i: zero for i in ENTRIES_2X2}])
    for layer in range(2, depth + 1):
        K = layers.kernel[-1]
        if not activation.smooth and not isinstance(context, SymbolicContext):
            _check_distinct(K, layer - 1, activation)
        cov = context.clip_covariance(K["11"], K["22"], K["12"])
        values = []
        for atom in _all_atoms():
            function, at = laws[atom]
            values.append(function(q=K["11"] if at == q1 else K["22"], **parameters)
                          if at is not None else
                          function(q1=K["11"], q2=K["22"], rho=cov, **parameters))
        ratio = 1 if ratios is None else ratios[layer - 2]
        V, K1 = _apply_maps(context, values, layers.V[-1], layers.K1[-1], sigma_w_value, ratio)
        following = {"11": sw2 * chi0(q=K["11"], **parameters) + sb2,
                     "22": sw2 * chi0(q=K["22"], **parameters) + sb2,
                     "12": sw2 * kernel(q1=K["11"], q2=K["22"], rho=cov, **parameters) + sb2}
        if not isinstance(context, SymbolicContext):
            for i in ("11", "22"):
                _check_variance(following[i], layer)
        layers.kernel.append(following)
        layers.V.append(V)
        layers.K1.append(K1)
    return layers


def _refuse_unevaluated_deltas(activation: Activation, derived: dict) -> None:
    """InvalidValueError when an elementary expectation is left unevaluated with a Dirac
    delta in it (hard_tanh's kinks at +-1: E[delta(u1 - 1) ...] is the pair density there,
    which Price's theorem cannot integrate back): no quadrature integrates a delta."""
    for law, _ in derived.values():
        left = [e for e in law.expr.atoms(Expectation) if e.has(sp.DiracDelta)]
        if left:
            raise InvalidValueError(
                f"the two-input laws for {activation.name} need {law.title} (a derivative of "
                f"the kernel or a moment of the pair), which the calculus leaves as an "
                f"expectation of a Dirac delta: no numerics for it yet")


def _check_distinct(K: dict, layer: int, activation: Activation) -> None:
    """InvalidValueError when a kinked activation's kernel has become degenerate (correlation
    1 to working precision, e.g. deep in the ordered phase): its derivatives in rho diverge
    there, and the finite limit of the maps would be inf - inf."""
    with np.errstate(invalid="ignore", over="ignore"):
        degenerate = np.asarray(K["12"] * K["12"] >= K["11"] * K["22"], dtype=bool)
    if np.any(degenerate):
        raise InvalidValueError(
            f"at layer {layer} the kernel of the two inputs is degenerate to working precision "
            f"(correlation 1): {activation.name} has kinks, where the pair laws' kernel "
            f"derivatives diverge; use a smaller depth, or four_point_vertex and mean_shift for "
            f"identical inputs")


# ------------------------------------------------------------------------------------------
# The depth laws
# ------------------------------------------------------------------------------------------
def _strictly_inside(point: Mapping[str, object]) -> None:
    """q1, q2 > 0 and |rho| < sqrt(q1 q2): the expansion differentiates the kernel in rho,
    whose derivatives are singular at a degenerate pair for kinked activations (ReLU's
    d^2k/drho dq1 ~ 1/sqrt(q1 q2 - rho^2))."""
    for name in ("q1", "q2"):
        if not to_exact(point[name], name) > 0:
            raise InvalidValueError(f"{name} must be > 0 (got {point[name]})")
    check_pair(point)
    a, c, b = _values(point, "q1", "rho", "q2")
    with _compare():
        degenerate = c * c >= a * b
    if degenerate:
        raise InvalidValueError(
            f"|rho| must be < sqrt(q1*q2) (got rho={point['rho']}, q1={point['q1']}, "
            f"q2={point['q2']}): the pair laws need two distinct directions; for identical "
            f"inputs use four_point_vertex and mean_shift")


class PairFiniteWidthLaw(FiniteWidthLaw):
    """A two-input finite-width quantity at layer L, iterated from the layer-1 kernel
    (q1, q2, rho), equal widths; ``expr`` is its layer map (the V_ij, K1_i of layer l)."""

    _NAMES = ("q1", "q2", "rho", "sigma_w", "sigma_b")
    _REPORTS = {"four_point_vertex_pair": ("V", ("12", "12")), "nngp_correction": ("K1", "12")}

    def _check_state(self, values: Mapping[str, object]) -> None:
        _strictly_inside(values)

    def _check_state_np(self, state: Sequence[np.ndarray]) -> None:
        a, b, c = state
        if np.any(~(a > 0)) or np.any(~(b > 0)):
            raise InvalidValueError(f"{self.name}: q1 and q2 must be > 0")
        if np.any(~(np.abs(c) < np.sqrt(a) * np.sqrt(b))):
            raise InvalidValueError(f"{self.name}: |rho| must be < sqrt(q1*q2) (two distinct "
                                    f"inputs)")

    def _run(self, context: EvaluationContext, state: Sequence, depth: int, sw, sb,
             parameters: dict) -> PairLayers:
        return propagate_pair(context, self.activation, state, depth, sw, sb, parameters)

    def _pick(self, layers: PairLayers):
        sequence, key = self._REPORTS[self.name]
        return getattr(layers, sequence)[-1][key]

    def _max_work(self, dps: int) -> int:
        return min(law.compiled().max_work(dps)
                   for law, _ in elementary_laws(self.activation).values())

    def _ball_laws(self) -> list[Law]:
        return [law for law, _ in elementary_laws(self.activation).values()] + \
            [derive("chi0", self.activation), derive("kernel", self.activation)]


_PAIR_CONVENTION = (
    "two inputs with layer-1 kernel [[q1, rho], [rho, q2]] (exact: V^1 = K1^1 = 0); s^l_ij = "
    "sigma_w^2 (1/n) sum_k phi(z^{l-1}_{k,i}) phi(z^{l-1}_{k,j}) + sigma_b^2 is the kernel of "
    "layer l given layer l-1 (equal widths n); K^l is the NNGP kernel (nngp); the expression "
    "is the layer map from the vertex V_ij and the mean shift K1_i of layer l at its kernel "
    "(q1, q2, rho); derivatives are in the three distinct entries (s_11, s_12, s_22)")

_SAMPLED_REASON = (
    "a covariance across networks at order 1/n: check_law(..., widths=[16, 32, 64, 128]) "
    "measures the kernels of two inputs over batches of networks at several widths and fits "
    "n Cov = V + c/n (n (E[s] - K) = K1 + d/n) to remove the O(n^-2) remainder")

def _pair_law(name: str, title: str, latex_name: str, define, convention: str,
              prelude: Callable[[], tuple[Step, ...]]) -> LawDefinition:
    """A two-input depth law: variables, sampled check and numerics shared by both."""
    return LawDefinition(name=name, title=title, latex_name=latex_name,
                         variables=(q1, q2, rho, sigma_w, sigma_b, L), define=define,
                         convention=_PAIR_CONVENTION + convention,
                         unsampled_reason=_SAMPLED_REASON, law_class=PairFiniteWidthLaw,
                         prelude=prelude)


FOUR_POINT_VERTEX_PAIR = _pair_law(
    "four_point_vertex_pair",
    "two-input four-point vertex V^L_(12)(12): Var[s^L_12] = V^L/n + O(n^-2) (equal widths)",
    r"V^{l+1}_{1212}",
    lambda phi: instantiate_pair(_expansion().vertex_maps[("12", "12")].subs(r, 1), phi),
    "; Cov[s^l_i, s^l_j] = V^l_ij/n, i, j in (11, 12, 22); the (11)(11) entry is "
    "four_point_vertex at q1",
    lambda: _expansion().vertex_steps)

NNGP_CORRECTION = _pair_law(
    "nngp_correction",
    "1/n correction to the NNGP kernel K1^L_12: E[s^L_12] = K^L_12 + K1^L_12/n + O(n^-2) "
    "(equal widths)",
    r"K^{1,l+1}_{12}",
    lambda phi: instantiate_pair(_expansion().shift_maps["12"], phi),
    "; E[s^l_i] = K^l_i + K1^l_i/n; the 11 entry is mean_shift at q1",
    lambda: _expansion().shift_steps)

ENTRIES = (FOUR_POINT_VERTEX_PAIR, NNGP_CORRECTION)

__all__ = ["ENTRIES", "ENTRIES_2X2", "FOUR_POINT_VERTEX_PAIR", "K1_PAIR",
           "NNGP_CORRECTION", "PairExpansion", "PairFiniteWidthLaw",
           "PairLayers", "VERTEX_ENTRIES", "V_PAIR", "elementary_expectation",
           "elementary_laws", "instantiate_pair", "pair_expansion", "propagate_pair",
           "vertex_symbol"]
