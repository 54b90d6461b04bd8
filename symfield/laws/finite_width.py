"""Finite-width laws at order 1/n (issue 14): the parallel susceptibility, the four-point
vertex, the mean shift, and the exact law of scale-invariant activations.

Notation (theory.md section 2): layer l has width n_l; given layer l, the pre-activations of
layer l+1 are i.i.d. N(0, s^{l+1}) with the *conditional variance*

    s^{l+1} = sigma_w^2 (1/n_l) sum_j phi(z_j^l)^2 + sigma_b^2,      s^1 = q^1 (exact),

a random number at finite width. chi0(q) = E[phi(sqrt(q) z)^2] and mu4(q) = E[phi(sqrt(q) z)^4].
Its mean and variance are expanded in 1/n *symbolically* (:func:`one_over_n_expansion`, the
steps every law shows): E[s^l] = q^l + K1^l/n + O(n^-2), Var[s^{l+1}] = V^{l+1}/n_l + O(n^-2),

    V^{l+1}  = sigma_w^4 (mu4 - chi0^2)(q^l) + (n_l/n_{l-1}) chi_par(q^l)^2 V^l,    V^1 = 0,
    K1^{l+1} = chi_par(q^l) K1^l + (1/2) sigma_w^2 chi0''(q^l) V^l,                K1^1 = 0,

with chi_par = sigma_w^2 chi0'(q). The derivatives of chi0 come from the heat equation
d^k/dq^k E[f(x)] = 2^-k E[f^(2k)(x)] (x ~ N(0, q)) with f = phi^2 differentiated as one
function in the sense of distributions (ReLU^2 = x^2 Theta(x) has f'''' = 2 delta'), so kinks
never meet products of distributions.

The depth laws (``four_point_vertex``, ``mean_shift``) iterate over L layers from q^1 = q; the
recursion is written once (:func:`propagate`) against the evaluation contexts of
``symfield.laws.evaluation`` (exact SymPy, certified mpmath, float64, and Arb balls for the
proven enclosures of ``FiniteWidthLaw.enclose``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, x
from ..derivation import Step
from ..errors import InvalidValueError, quoted
from ..expectation import Expectation, expectation
from ..microdynamics import n
from ..numbers import (LAW_POLICY, check_dps, check_scales, input_digits, magnitude_spread,
                       to_exact)
from ..piecewise import distributional_derivative
from ..symbols import L, TextFreeFunction, q, sigma_b, sigma_w
from .base import Law, LawDefinition
from .calculus import derive, varphi
from .evaluation import (BallContext, EvaluationContext, Float64Context, MultiPrecisionContext,
                         SymbolicContext)
from .recursion import MAX_SYMBOLIC_DEPTH, _diagonal_law, check_depth

if TYPE_CHECKING:  # pragma: no cover
    from ..gaussian.numerics.enclosure import Enclosure

# ------------------------------------------------------------------------------------------
# Symbols of the finite-width theory
# ------------------------------------------------------------------------------------------
#: The four-point vertex V^l and the mean shift K1^l of the previous layer (layer-map state).
V = sp.Symbol("V", real=True)
K1 = sp.Symbol("K1", real=True)
#: The width ratio n_l / n_{l-1} that multiplies chi_par^2 V^l.
r = sp.Symbol("r", positive=True)
#: The width of the layer before (n is the width of the layer whose units make s^{l+1}).
n_prev = sp.Symbol("n_prev", positive=True, integer=True)

#: The conditional variance of layer l (random at finite width) and of layer l+1.
s = sp.Symbol("s", positive=True)
s_next = sp.Symbol("s'", positive=True)
#: s^l - q^l, the fluctuation of the conditional variance.
delta = sp.Symbol("delta", real=True)

#: Generic functions of the expansion: chi0(q) = E[phi^2] and mu4(q) = E[phi^4].
chi0_of = TextFreeFunction("chi_0")
mu4_of = TextFreeFunction("mu_4")
_Var = TextFreeFunction("Var")
_Mean = TextFreeFunction("E")

#: Largest variance a depth recursion follows (beyond it the pre-activations have blown up:
#: no law is cheap to certify and float64 overflows a few layers on).
MAX_VARIANCE = 1e250


# ------------------------------------------------------------------------------------------
# The 1/n expansion (SymPy, generic chi0 and mu4): where the layer maps come from
# ------------------------------------------------------------------------------------------
def _taylor(expr: sp.Expr, order: int = 2) -> sp.Expr:
    """expr(s) at s = q + delta, to ``order`` in delta (derivatives at q)."""
    return sp.Add(*[sp.diff(expr, s, k).subs(s, q) * delta**k / sp.factorial(k)
                    for k in range(order + 1)])


def _moments(poly_in_delta: sp.Expr, first: sp.Expr, second: sp.Expr) -> sp.Expr:
    """E over delta of a polynomial in delta, given E[delta] and E[delta^2] (the terms of
    degree >= 3 are O(n^-2) and dropped)."""
    coefficients = sp.Poly(sp.expand(poly_in_delta), delta).all_coeffs()[::-1]
    moments = (sp.S.One, first, second)
    return sp.Add(*[c * m for c, m in zip(coefficients, moments)])


def _first_order(expr: sp.Expr, *widths: sp.Symbol) -> sp.Expr:
    """The O(1/n) part of ``expr`` (every 1/width counts as one order)."""
    t = sp.Dummy("t", positive=True)
    scaled = sp.expand(expr.subs({w: w / t for w in widths}, simultaneous=True))
    return sp.expand(scaled.coeff(t, 1))


@dataclass(frozen=True)
class Expansion:
    """The layer maps derived from the 1/n expansion, and the steps that derive them."""

    vertex_map: sp.Expr           # V^{l+1} in q, V, sigma_w, r (generic chi0, mu4)
    mean_shift_map: sp.Expr       # K1^{l+1} in q, V, K1, sigma_w (equal widths)
    vertex_steps: tuple[Step, ...]
    mean_shift_steps: tuple[Step, ...]


def one_over_n_expansion() -> Expansion:
    """Expand the mean and the variance of s^{l+1} to order 1/n.

    Given layer l, the n_l units z_j are i.i.d. N(0, s), so s' = sigma_w^2 (1/n_l) sum_j
    phi(z_j)^2 + sigma_b^2 has conditional mean sigma_w^2 chi0(s) + sigma_b^2 and conditional
    variance sigma_w^4 (mu4(s) - chi0(s)^2)/n_l. With s = q + delta, E[delta] = K1/n_{l-1} and
    E[delta^2] = V/n_{l-1} + O(n^-2) (higher moments O(n^-2)), the tower rule and a Taylor
    expansion in delta give the mean and the variance; V^{l+1} = n_l Var[s'] and (equal
    widths) K1^{l+1} = n (E[s'] - q^{l+1}) to order 1/n.
    """
    cond_mean = sigma_w**2 * chi0_of(s) + sigma_b**2
    cond_var = sigma_w**4 * (mu4_of(s) - chi0_of(s) ** 2) / n
    first, second = K1 / n_prev, V / n_prev

    mean = _moments(_taylor(cond_mean), first, second)
    second_moment = _moments(_taylor(cond_var + cond_mean**2), first, second)
    variance = _first_order(second_moment - mean**2, n, n_prev)
    vertex = sp.expand(n * variance).subs(n, r * n_prev)
    mean_field = cond_mean.subs(s, q)
    shift = sp.expand(n * _first_order(mean - mean_field, n, n_prev).subs(n_prev, n))

    microdynamics = ("given layer l, its n_l units are i.i.d. N(0, s) (s = s^l), so "
                     "s' = sigma_w^2 (1/n_l) sum_j phi(z_j)^2 + sigma_b^2 has E[s'|s] = "
                     "sigma_w^2 chi0(s) + sigma_b^2 and Var[s'|s] = sigma_w^4 (mu4(s) - "
                     "chi0(s)^2)/n_l, with chi0 = E[phi^2], mu4 = E[phi^4]")
    moments = ("s = q + delta with q = q^l the mean-field variance: E[delta] = K1^l/n_{l-1}, "
               "E[delta^2] = V^l/n_{l-1} + O(n^-2), E[delta^k] = O(n^-2) for k >= 3; "
               "Taylor expansion of chi0 and mu4 at q to second order")
    v_next, k_next = sp.Symbol("V'"), sp.Symbol("K1'")
    vertex_steps = (
        Step(_Var(s_next), _Mean(cond_var) + _Var(cond_mean), "law of total variance",
             microdynamics),
        Step(_Var(s_next), variance, "expansion in 1/n", moments),
        Step(v_next, vertex, "the vertex: V^{l+1} = n_l Var[s^{l+1}] + O(1/n)",
             "the width factor: chi_par^2 V^l comes from Var[s^l] = V^l/n_{l-1}, so in units "
             "of 1/n_l it carries r = n_l/n_{l-1} (1 for equal widths)"),
    )
    mean_shift_steps = (
        Step(_Mean(s_next), _Mean(cond_mean), "tower rule", microdynamics),
        Step(_Mean(s_next), mean_field + shift / n, "expansion in 1/n",
             moments + "; equal widths n_l = n_{l-1} = n"),
        Step(k_next, shift, "the mean shift: K1^{l+1} = n (E[s^{l+1}] - q^{l+1}) + O(1/n)",
             "q^{l+1} = sigma_w^2 chi0(q^l) + sigma_b^2 is the mean-field length map"),
    )
    return Expansion(vertex, shift, vertex_steps, mean_shift_steps)


EXPANSION = one_over_n_expansion()

#: d/dq E[f(x)] = E[f''(x)]/2 for x ~ N(0, q): the step every chi0 derivative takes.
HEAT_STEPS = (
    Step(sp.Derivative(chi0_of(q), q),
         expectation(sp.diff(varphi(x) ** 2, x, 2), x, q) / 2, "heat equation",
         "d/dq E[f(x)] = E[f''(x)]/2 for x ~ N(0, q), f = phi^2 differentiated as one "
         "function in the sense of distributions"),
    Step(sp.Derivative(chi0_of(q), (q, 2)),
         expectation(sp.diff(varphi(x) ** 2, x, 4), x, q) / 4, "heat equation, twice",
         "d^2/dq^2 E[f(x)] = E[f''''(x)]/4"),
)


def chi0_derivative(phi, order: int) -> sp.Expr:
    """d^order/dq^order E[phi(x)^2], x ~ N(0, q), by the heat equation (phi^2 differentiated
    as one function, distributionally)."""
    square = phi(x) ** 2
    if order == 0:
        return expectation(square, x, q)
    return expectation(distributional_derivative(square, x, 2 * order), x, q) / 2**order


def instantiate(expr: sp.Expr, phi) -> sp.Expr:
    """A layer map in the generic chi0, mu4 with the activation's expectations put in."""
    derivatives = {d: chi0_derivative(phi, d.derivative_count)
                   for d in expr.atoms(sp.Derivative) if d.expr == chi0_of(q)}
    return expr.xreplace(derivatives).xreplace({
        chi0_of(q): chi0_derivative(phi, 0), mu4_of(q): expectation(phi(x) ** 4, x, q)})


# ------------------------------------------------------------------------------------------
# Domains
# ------------------------------------------------------------------------------------------
def check_width(value: object, name: str = "n") -> int:
    """A layer width: an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, sp.Integer)) \
            or int(value) < 1:
        raise InvalidValueError(f"{name} (a layer width) must be an integer >= 1 "
                                f"(got {quoted(value)})")
    return int(value)


def _check_integers(point: Mapping[str, object], activation=None) -> None:
    for name in ("n", "L"):
        if name in point:
            value = to_exact(point[name], name)
            if value != int(value) or value < 1:
                raise InvalidValueError(f"{name} must be an integer >= 1 (got {point[name]})")


def _check_integers_np(arrays: Mapping[str, np.ndarray], activation=None) -> None:
    for name in ("n", "L"):
        if name in arrays and np.any(np.asarray(arrays[name]) < 1):
            raise InvalidValueError(f"{name} must be an integer >= 1")


# ------------------------------------------------------------------------------------------
# Definitions
# ------------------------------------------------------------------------------------------
CHI_PARALLEL = LawDefinition(
    name="chi_parallel",
    title="chi_parallel: sigma_w^2 d/dq E[phi^2], the parallel susceptibility (slope of the "
          "length map)",
    latex_name=r"\chi_{\parallel}",
    variables=(q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: sigma_w**2 * chi0_derivative(phi, 1),
    convention="chi_par(q) = sigma_w^2 chi0'(q) = sigma_w^2 E[phi'^2 + phi phi''] (heat "
               "equation): the slope V'(q) of the length map (= length_map_slope); chi_perp "
               "is chi1 = sigma_w^2 E[phi'^2]",
    prelude=HEAT_STEPS[:1],
    # the slope of the length map, measured as dq^l/dq^{l-1} along a radial input direction
    sampled_check="radial_stretch",
)

#: The vertex layer map for any widths (r = n_l/n_{l-1}); not registered: the depth law
#: below iterates it at equal widths.
VERTEX_MAP = LawDefinition(
    name="vertex_map",
    title="four-point vertex layer map V^l -> V^{l+1} (widths n_l/n_{l-1} = r)",
    latex_name=r"V^{l+1}",
    variables=(q, V, sigma_w, r),
    zero_variances=("q",),
    define=lambda phi: instantiate(EXPANSION.vertex_map, phi),
    convention="Var[s^{l+1}] = V^{l+1}/n_l + O(n^-2); q = q^l, V = V^l, r = n_l/n_{l-1}",
    prelude=EXPANSION.vertex_steps + HEAT_STEPS[:1],
)

MEAN_SHIFT_MAP = LawDefinition(
    name="mean_shift_map",
    title="mean-shift layer map (V^l, K1^l) -> K1^{l+1} (equal widths)",
    latex_name=r"K_1^{l+1}",
    variables=(q, V, K1, sigma_w),
    zero_variances=("q",),
    define=lambda phi: instantiate(EXPANSION.mean_shift_map, phi),
    convention="E[s^l] = q^l + K1^l/n + O(n^-2), equal widths n",
    prelude=EXPANSION.mean_shift_steps + HEAT_STEPS,
)

#: The elementary expectations a depth recursion evaluates besides chi0, chi1 and chi_par
#: (``layer_laws`` checks that the layer maps are built from them as expected).
FOURTH_MOMENT = LawDefinition(
    name="fourth_moment",
    title="mu4: E[phi(sqrt(q) z)^4]",
    latex_name=r"\mu_4",
    variables=(q,),
    zero_variances=("q",),
    define=lambda phi: expectation(phi(x) ** 4, x, q),
)

CHI0_CURVATURE = LawDefinition(
    name="chi0_curvature",
    title="chi0''(q) = d^2/dq^2 E[phi^2] (heat equation, twice)",
    latex_name=r"\chi_0''",
    variables=(q,),
    zero_variances=("q",),
    define=lambda phi: chi0_derivative(phi, 2),
    prelude=HEAT_STEPS[1:],
)


#: chi_par - chi_perp = sigma_w^2 E[phi phi''] (heat equation): where it vanishes at K* > 0,
#: sigma_w^2 = 1/E[phi'^2](K*) makes both susceptibilities 1 (the half-stable criticality).
SUSCEPTIBILITY_GAP = LawDefinition(
    name="susceptibility_gap",
    title="chi_parallel - chi_perp = sigma_w^2 E[phi phi'']",
    latex_name=r"\chi_{\parallel}-\chi_{\perp}",
    variables=(q, sigma_w),
    zero_variances=("q",),
    define=lambda phi: sigma_w**2 * expectation(phi(x) * phi(x, 2), x, q),
    convention="chi_par - chi_perp = sigma_w^2 (E[phi'^2 + phi phi''] - E[phi'^2])",
)


@dataclass
class FiniteWidthLayers:
    """Per-layer values of a finite-width recursion (index 0 is layer 1); ``chi_perp`` and
    ``K1`` are None when not asked for."""

    q: list
    chi_parallel: list
    chi_perp: list | None
    V: list
    K1: list | None


def layer_laws(activation: Activation) -> dict[str, Law]:
    """The derived laws a depth recursion evaluates (chi0, mu4, chi0'', chi_par, chi1), after
    checking on the definitions that the layer maps are built from them as ``propagate``
    assembles them: V^{l+1} = sigma_w^4 (mu4 - chi0^2) + r chi_par^2 V^l and
    K1^{l+1} = chi_par K1^l + sigma_w^2 chi0''/2 V^l (the structure the 1/n expansion gave)."""
    laws = {"chi0": derive("chi0", activation), "mu4": derive(FOURTH_MOMENT, activation),
            "curvature": derive(CHI0_CURVATURE, activation),
            "chi_parallel": derive(CHI_PARALLEL, activation),
            "chi_perp": derive("chi1", activation)}
    d = {name: law.definition for name, law in laws.items()}
    vertex = derive(VERTEX_MAP, activation).definition
    shift = derive(MEAN_SHIFT_MAP, activation).definition
    if sp.expand(vertex - sigma_w**4 * (d["mu4"] - d["chi0"] ** 2) - r * d["chi_parallel"] ** 2 * V) \
            != 0 or sp.expand(shift - d["chi_parallel"] * K1 - sigma_w**2 * d["curvature"] / 2 * V) != 0:
        raise AssertionError(f"the layer maps for {activation.name} are not built from chi0, "
                             "mu4, chi0'' and chi_par as propagate assumes")  # pragma: no cover
    return laws


class RecursionFloat64Context(Float64Context):
    """float64, with each law's function built once (``Law.to_numpy`` prints the law into
    its docstring, which costs more than a depth-50 recursion for a pole series)."""

    _functions: dict[int, tuple[Law, object]] = {}

    def law(self, law: Law):
        cached = self._functions.get(id(law))
        if cached is None or cached[0] is not law:
            cached = self._functions[id(law)] = (law, super().law(law))
        return cached[1]


def max_work(activation: Activation, dps: int) -> int:
    """Working-digit cap of a depth recursion: that of its costliest law's route."""
    return min(law.compiled().max_work(dps) for law in layer_laws(activation).values())


def propagate(context: EvaluationContext, activation: Activation, q0, depth: int,
              sigma_w_value, sigma_b_value, ratios: Sequence | None = None,
              parameters: dict | None = None, perpendicular: bool = True,
              mean_shift: bool = True) -> FiniteWidthLayers:
    """q^l, chi_par^l, chi_perp^l, V^l, K1^l for l = 1 ... depth (index 0 is layer 1).

    First the mean-field variances q^{l+1} = sigma_w^2 chi0(q^l) + sigma_b^2 (one layer at a
    time); then the other expectations at every layer at once (vectorised in float64); then
    the affine recursions V^{l+1} = sigma_w^4 (mu4 - chi0^2) + r_l chi_par^2 V^l and
    K1^{l+1} = chi_par K1^l + (sigma_w^2 chi0''/2) V^l. ``ratios[l-1]`` is n_l/n_{l-1}
    (equal widths when None). ``perpendicular`` and ``mean_shift`` = False skip chi_perp and
    K1 (and their expectations). In float64, q0, sigma_w and sigma_b may be arrays
    (broadcast); the layers are stacked on a new leading axis.
    """
    parameters = parameters or {}
    laws = layer_laws(activation)
    chi0 = context.law(laws["chi0"])
    sw2, sb2 = sigma_w_value**2, sigma_b_value**2
    qs, second_moments = [q0], []
    for layer in range(2, depth + 1):
        second_moments.append(chi0(q=qs[-1], **parameters))
        qs.append(sw2 * second_moments[-1] + sb2)
        if not isinstance(context, SymbolicContext):
            _check_variance(qs[-1], layer)
    if isinstance(context, Float64Context):
        every = np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in qs]))
        sw = np.asarray(sigma_w_value, dtype=float)
    else:
        every, sw = context.array(qs), sigma_w_value
    inner = every[:-1]  # the layers a recursion step starts from

    def at(name: str, points, **extra):
        return context.law(laws[name])(q=points, **extra, **parameters)

    chi_par = at("chi_parallel", every, sigma_w=sw)
    chi_perp = at("chi_perp", every, sigma_w=sw) if perpendicular else None
    fourth = at("mu4", inner) if depth > 1 else []
    curvature = at("curvature", inner) if depth > 1 and mean_shift else None
    zero = every[0] * 0
    V_values, K_values = [zero], [zero]
    for k in range(depth - 1):
        ratio = 1 if ratios is None else ratios[k]
        V_values.append(sw2**2 * (fourth[k] - second_moments[k] ** 2)
                        + ratio * chi_par[k] ** 2 * V_values[k])
        if mean_shift:
            K_values.append(chi_par[k] * K_values[k] + sw2 * curvature[k] / 2 * V_values[k])
    return FiniteWidthLayers(list(every), list(chi_par),
                             None if chi_perp is None else list(chi_perp), V_values,
                             K_values if mean_shift else None)


def _holds_integrals(laws: Sequence[Law]) -> bool:
    """Whether a ball recursion over ``laws`` integrates (the lower effort cap applies); a law
    without an enclosed form counts as one (the recursion then refuses it by name)."""
    from ..gaussian.numerics.enclosure import NotEnclosable

    try:
        return any(law.enclosed_form().has(Expectation) for law in laws)
    except NotEnclosable:
        return True


def _check_variance(value, layer: int) -> None:
    """InvalidValueError when a mean-field variance has blown up (or left float64)."""
    if hasattr(value, "is_finite") and not value.is_finite():
        return  # a ball not finite at this working precision: enclose_computation goes on
    with np.errstate(invalid="ignore", over="ignore"):
        magnitude = np.abs(np.asarray(value, dtype=float))
    if np.any(~(magnitude <= MAX_VARIANCE)):
        raise InvalidValueError(f"the variance q^{layer} exceeds {MAX_VARIANCE:g}: the "
                                f"pre-activations blow up with depth at these sigma_w, sigma_b "
                                f"(use a smaller depth or sigma_w)")


# ------------------------------------------------------------------------------------------
# Depth laws
# ------------------------------------------------------------------------------------------
class FiniteWidthLaw(Law):
    """A finite-width quantity at layer L, iterated from the layer-1 state (equal widths).

    ``expr`` is the layer map (layer l -> l+1, holding V = V^l and, for the mean shift,
    K1 = K1^l); ``evaluate``, ``enclose`` and ``to_numpy`` follow it over depth with
    ``propagate`` (two precisions, ball arithmetic, float64). A
    subclass with another layer-1 state (two inputs) overrides ``_NAMES`` (the state's
    variables, then sigma_w, sigma_b), ``_check_state`` / ``_check_state_np`` and ``_run``.
    """

    _NAMES = ("q", "sigma_w", "sigma_b")

    def _parameter_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.variables if s.name in self.activation.parameters)

    def _check_state(self, values: Mapping[str, object]) -> None:
        """InvalidValueError outside the layer-1 state's domain (exact values)."""
        if not to_exact(values["q"], "q") > 0:
            raise InvalidValueError(f"q must be > 0 (got {values['q']})")

    def _check_state_np(self, state: Sequence[np.ndarray]) -> None:
        if np.any(~(state[0] > 0)):
            raise InvalidValueError(f"{self.name}: q must be > 0")

    def _run(self, context: EvaluationContext, state: Sequence, depth: int, sw, sb,
             parameters: dict):
        """The recursion's layers from the layer-1 ``state`` (here q^1), in ``context``."""
        return propagate(context, self.activation, state[0], depth, sw, sb,
                         parameters=parameters, **self._needs)

    def _point(self, values: Mapping[str, object]) -> dict:
        values = dict(values)
        if "L" not in values:
            raise InvalidValueError(f"{self.name} needs the depth L (an integer >= 1)")
        depth = check_depth(values.pop("L"))
        parameters = self._parameter_names()
        unknown = sorted(set(values) - set(self._NAMES) - set(parameters))
        if unknown:
            raise InvalidValueError(
                f"{self.name} has no variable {unknown[0]!r}; its variables are: "
                f"{', '.join(self._NAMES + parameters)}, L")
        missing = [name for name in self._NAMES if name not in values]
        if missing:
            raise InvalidValueError(f"{self.name} needs a value for {', '.join(missing)}")
        check_scales(values["sigma_w"], values["sigma_b"])
        self._check_state(values)
        return {"depth": depth, **values}

    #: Which sequence of the recursion each depth law reports.
    _REPORTS = {"four_point_vertex": "V", "mean_shift": "K1"}

    @property
    def _needs(self) -> dict:
        """Only what this law reports is computed (chi_perp never; K1 for the mean shift)."""
        return {"perpendicular": False, "mean_shift": self.name == "mean_shift"}

    def _pick(self, layers):
        return getattr(layers, self._REPORTS[self.name])[-1]

    def evaluate(self, dps: int = 30, proven: bool | None = None,
                 **values: object) -> mpmath.mpf:
        """The quantity at layer L to dps digits: by default the whole recursion computed at
        two working precisions that agree on them; ``proven=True`` rounds the proven
        enclosure (``enclose``; ``Law.certified`` says which route gave the value)."""
        if proven is not None:
            return self.certified(dps, proven=proven, **values).value
        dps = check_dps(dps)
        point = self._point(values)
        parameters = {name: point[name] for name in self._parameter_names() if name in point}
        raw = [point[name] for name in self._NAMES]

        def at(work: int):
            context = MultiPrecisionContext(work)
            with mpmath.workdps(work):
                numbers = [context.number(v, name) for v, name in zip(raw, self._NAMES)]
                return self._pick(self._run(context, numbers[:-2], point["depth"],
                                            *numbers[-2:], parameters))

        return LAW_POLICY.certify(at, dps, magnitude_spread(raw), self._max_work(dps),
                                  input_digits(raw))

    def enclose(self, dps: int = 30, **values: object) -> "Enclosure":
        """A proven enclosure of the quantity at layer L: the recursion run in ball arithmetic
        (BallContext: each layer's expectations enclosed on the previous layer's balls, from
        exact input balls), at a working precision raised until rad <= 10^-dps |value| / 2.
        The same values and checks as ``evaluate``. NotEnclosable naming the layer law that
        cannot be enclosed for the activation; PrecisionError with the digits proven when the
        effort cap is reached first (also for a value 0 not computed exactly)."""
        from ..gaussian.numerics.enclosure import enclose_computation

        dps = check_dps(dps)
        point = self._point(values)
        parameters = {name: point[name] for name in self._parameter_names() if name in point}
        raw = [point[name] for name in self._NAMES]
        what = f"{self.name} for {self.activation.name} at depth {point['depth']}"
        context = BallContext(_diagonal_law, what)
        integrals = _holds_integrals(self._ball_laws())

        def compute():
            numbers = [context.number(v, name) for v, name in zip(raw, self._NAMES)]
            return [self._pick(self._run(context, numbers[:-2], point["depth"], *numbers[-2:],
                                         parameters))]

        return enclose_computation(compute, dps, what, integrals=integrals)[0]

    def _ball_laws(self) -> list[Law]:
        """The layer laws the recursion evaluates (for this law's needs)."""
        laws = layer_laws(self.activation)
        names = ["chi0", "mu4", "chi_parallel"] + (["curvature"] if self._needs["mean_shift"]
                                                   else [])
        return [laws[name] for name in names]

    def _max_work(self, dps: int) -> int:
        return max_work(self.activation, dps)

    def at_depth(self, depth: int) -> sp.Expr:
        """The quantity at layer ``depth`` as an explicit SymPy expression in the layer-1
        state, sigma_w, sigma_b (depth <= MAX_SYMBOLIC_DEPTH)."""
        depth = check_depth(depth)
        if depth > MAX_SYMBOLIC_DEPTH:
            raise InvalidValueError(f"symbolic depth is limited to {MAX_SYMBOLIC_DEPTH} "
                                    f"(expressions grow quickly); evaluate numerically instead")
        state = [next(v for v in self.variables if v.name == name) for name in self._NAMES]
        return self._pick(self._run(SymbolicContext(), state[:-2], depth, sigma_w, sigma_b, {}))

    def to_numpy(self, method: str = "auto"):
        parameters, law_name, pick, names = (self._parameter_names(), self.name, self._pick,
                                             self._NAMES)
        law = self

        def finite_width_numpy(*, L: int, **arrays) -> np.ndarray:
            extra = {k: v for k, v in arrays.items() if k not in names}
            unknown = sorted(set(extra) - set(parameters))
            if unknown:
                raise InvalidValueError(f"{law_name} has no variable {unknown[0]!r}")
            missing = [name for name in names if name not in arrays]
            if missing:
                raise InvalidValueError(f"{law_name} needs a value for {', '.join(missing)}")
            depth = check_depth(L)
            values = np.broadcast_arrays(*(np.asarray(arrays[k], dtype=float) for k in names))
            law._check_state_np(values[:-2])
            return np.asarray(pick(law._run(RecursionFloat64Context(), values[:-2], depth,
                                            *values[-2:], extra)), dtype=float)

        finite_width_numpy.__name__ = f"{self.name}_{self.activation.name}"
        finite_width_numpy.__doc__ = f"float64 {self.name} at depth L (equal widths)"
        return finite_width_numpy


FOUR_POINT_VERTEX = LawDefinition(
    name="four_point_vertex",
    title="four-point vertex V^L: Var[s^L] = V^L/n + O(n^-2), V^1 = 0 (equal widths)",
    latex_name=r"V^{l+1}",
    variables=(q, sigma_w, sigma_b, L),
    define=lambda phi: instantiate(EXPANSION.vertex_map.subs(r, 1), phi),
    convention="s^{l+1} = sigma_w^2 (1/n) sum_j phi(z_j^l)^2 + sigma_b^2 is the conditional "
               "variance of layer l+1 given layer l; s^1 = q^1 = q exactly (V^1 = 0); the "
               "expression is the layer map from V = V^l at q = q^l (widths n_l/n_{l-1} = 1; "
               "vertex_map has the ratio); Var[(1/n) sum_i (z_i^L)^2] = (2 q_L^2 + V^L)/n and "
               "the excess kurtosis of z_i^L is 3 V^L/(n q_L^2), to O(n^-2)",
    unsampled_reason=(
        "V^L is a variance across networks at order 1/n, not a replica mean at one width: "
        "check_law(..., widths=[16, 32, 64, 128]) measures Var[s^l] over batches of networks "
        "at several widths and fits n Var = V + c/n to remove the O(n^-2) remainder"),
    law_class=FiniteWidthLaw,
    prelude=EXPANSION.vertex_steps + (
        Step(sp.Symbol("V'"), EXPANSION.vertex_map.subs(r, 1), "equal widths",
             "n_l = n_{l-1} = n"),) + HEAT_STEPS[:1],
)

MEAN_SHIFT = LawDefinition(
    name="mean_shift",
    title="mean shift K1^L: E[s^L] = q^L + K1^L/n + O(n^-2), K1^1 = 0 (equal widths)",
    latex_name=r"K_1^{l+1}",
    variables=(q, sigma_w, sigma_b, L),
    define=lambda phi: instantiate(EXPANSION.mean_shift_map, phi),
    convention="E[s^l] = q^l + K1^l/n with q^l the mean-field variances (length map from "
               "q^1 = q); the expression is the layer map from (V, K1) = (V^l, K1^l) at q = "
               "q^l; E[(1/n) sum_i (z_i^L)^2] = q^L + K1^L/n + O(n^-2)",
    unsampled_reason=(
        "K1^L is an O(1/n) shift of a mean whose spread is O(1/sqrt(n)), separated from the "
        "O(n^-2) remainder only by a fit across widths: check_law(..., widths=[16, 32, 64, "
        "128]) fits n (E[s^l] - q^l) = K1 + d/n"),
    law_class=FiniteWidthLaw,
    prelude=EXPANSION.mean_shift_steps + HEAT_STEPS,
)


# ------------------------------------------------------------------------------------------
# The exact law of scale-invariant activations
# ------------------------------------------------------------------------------------------
class ScaleInvariantLaw(Law):
    """Exact at any width, but only where the one-layer moment ratios do not depend on q
    (phi(lambda x) = lambda phi(x), lambda > 0): refused with the reason otherwise."""

    def _require_scale_invariance(self) -> None:
        if q in self.expr.free_symbols or self.expr.has(sp.nan):
            raise InvalidValueError(
                f"{self.name} is exact only for scale-invariant activations (phi(lambda x) = "
                f"lambda phi(x) for lambda > 0, e.g. ReLU): for {self.activation.name} "
                f"E[phi^4]/q^2 and E[phi^2]/q depend on q; use four_point_vertex (order 1/n)")

    def evaluate(self, dps: int = 30, method: str = "auto", proven: bool | None = None,
                 **values: object) -> mpmath.mpf:
        self._require_scale_invariance()
        return super().evaluate(dps=dps, method=method, proven=proven, **values)

    def certified(self, dps: int = 30, method: str = "auto", proven: bool | None = None,
                  **values: object):
        self._require_scale_invariance()
        return super().certified(dps, method, proven, **values)

    def to_numpy(self, method: str = "auto"):
        self._require_scale_invariance()
        return super().to_numpy(method)


def _scale_invariant_steps() -> tuple[Step, ...]:
    second = sp.Symbol("M")  # E[(s^l)^2]
    conditional = sigma_w**4 * (mu4_of(s) - chi0_of(s) ** 2) / n + sigma_w**4 * chi0_of(s) ** 2
    scaled = sp.expand(conditional.subs({mu4_of(s): s**2 * mu4_of(q) / q**2,
                                         chi0_of(s): s * chi0_of(q) / q}))
    ratio2 = sp.factor(sp.expand(scaled / s**2))
    ratio1 = sigma_w**2 * chi0_of(q) / q
    return (
        Step(_Mean(s_next**2), _Mean(conditional), "tower rule",
             "sigma_b = 0: E[s'^2|s] = Var[s'|s] + E[s'|s]^2 with E[s'|s] = sigma_w^2 chi0(s), "
             "Var[s'|s] = sigma_w^4 (mu4(s) - chi0(s)^2)/n (exact at any width)"),
        Step(_Mean(s_next**2), ratio2 * second, "scale invariance",
             "phi(lambda x) = lambda phi(x) gives chi0(s) = s chi0(q)/q and mu4(s) = "
             "s^2 mu4(q)/q^2 for every s, so the second moment M = E[s^2] is multiplied by the "
             "same number in every layer"),
        Step(_Var(sp.IndexedBase("s")[L + 1]) / q**2, ratio2**L - ratio1 ** (2 * L),
             "L layers from s^1 = q",
             "E[s^{L+1}] = q (sigma_w^2 chi0/q)^L and E[(s^{L+1})^2] = q^2 ratio^L"),
    )


SCALE_INVARIANT_VARIANCE = LawDefinition(
    name="scale_invariant_variance",
    title="exact finite-width Var[s^{L+1}]/q^2 of scale-invariant activations (sigma_b = 0)",
    latex_name=r"\mathrm{Var}[s^{L+1}]/q^2",
    variables=(sigma_w, n, L),
    define=lambda phi: (
        (sigma_w**4 * (expectation(phi(x) ** 4, x, q) / n
                       + (1 - 1 / n) * expectation(phi(x) ** 2, x, q) ** 2) / q**2) ** L
        - (sigma_w**2 * expectation(phi(x) ** 2, x, q) / q) ** (2 * L)),
    convention="exact at every width n (equal widths, sigma_b = 0, s^1 = q): the one-layer "
               "ratios E[phi^4]/q^2 and E[phi^2]/q must not depend on q (scale-invariant "
               "activations); ReLU at sigma_w^2 = 2 gives (1 + 5/n)^L - 1",
    check_domain=_check_integers,
    check_domain_np=_check_integers_np,
    unsampled_reason=(
        "a variance across networks at one width, not a replica mean: "
        "symfield.laboratory.finite_width.check_exact_variance measures Var[s^{L+1}]/q^2 over "
        "batches of networks (ReLU at sigma_w^2 = 2, n = 8, L = 3 against (1 + 5/8)^3 - 1)"),
    law_class=ScaleInvariantLaw,
    prelude=_scale_invariant_steps(),
)

ENTRIES = (CHI_PARALLEL, FOUR_POINT_VERTEX, MEAN_SHIFT, SCALE_INVARIANT_VARIANCE)

__all__ = ["CHI_PARALLEL", "ENTRIES", "EXPANSION", "FOUR_POINT_VERTEX", "FiniteWidthLaw",
           "FiniteWidthLayers", "K1", "MEAN_SHIFT", "MEAN_SHIFT_MAP", "SCALE_INVARIANT_VARIANCE",
           "CHI0_CURVATURE", "FOURTH_MOMENT", "SUSCEPTIBILITY_GAP", "V", "VERTEX_MAP", "check_depth",
           "check_width", "chi0_derivative", "layer_laws", "max_work", "n_prev", "one_over_n_expansion", "propagate", "r"]
