"""The singular-value spectrum of the input-output Jacobian and dynamical isometry (issue 15).

Network J = D_L W_L ... D_1 W_1 at the fixed point q* (Pennington, Schoenholz & Ganguli 2017,
2018): D_l = diag(phi'(u^l)) with u^l ~ N(0, q*), and W_l either Gaussian (entries
N(0, sigma_w^2/n)) or sigma_w times a Haar orthogonal matrix. In the large-width limit the
factors are asymptotically free, so the S-transform of J J^T is a product:

    S_{JJ^T}(m) = S_{WW^T}(m)^L S_{D^2}(m)^L,

with M_X(z) = sum_k m_k(X) z^-k = z G_X(z) - 1 and S_X(m) = (1 + m)/(m M_X^{-1}(m)).

The weight ensembles enter only through S_{WW^T}: Marchenko-Pastur (aspect ratio 1) gives
1/(sigma_w^2 (1 + m)), a point mass at sigma_w^2 (orthogonal weights) 1/sigma_w^2. The squared
slopes enter through their moments mu_k(q) = E[phi'(sqrt(q) z)^(2k)], derived by the Gaussian
calculus (``symfield.laws.spectrum``). Everything between is SymPy series algebra:

1. M_{D^2}(w) = sum_k mu_k w^k (w = 1/z) is reverted to M^{-1} and turned into the series of
   S_{D^2};
2. the product above is expanded with the depth L as a symbol;
3. w(m) = m S_{JJ^T}(m)/(1 + m) is reverted again: its inverse is sum_k m_k w^k, the moments
   of J J^T as closed forms in L, sigma_w^2 and the mu_k.

The density comes from the same equations, solved numerically (float64) for the resolvent on a
grid: with w_D the point where M_{D^2}(w_D) = m, S_{D^2}(m) = (1 + m) w_D/m, and the pair
(m, w_D) solves

    M_{D^2}(w_D) = m,     z m S_{WW^T}(m)^L S_{D^2}(m)^L = 1 + m,

continued from far above the real axis down to x + i 0 for every grid point x; then
G(z) = (1 + m)/z and rho(x) = -Im G(x + i0)/pi. The expectation M_{D^2}(w) = E[w d/(1 - w d)],
d = phi'(u)^2, is a composite Gauss-Legendre rule in z split at the kinks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Sequence

import mpmath
import numpy as np
import sympy as sp

from ..activations import Activation, get_activation
from ..derivation import Derivation
from ..errors import InvalidValueError, quoted
from ..laws.spectrum import MOMENT_ORDERS, derivative_moment
from ..numbers import check_dps
from ..symbols import q, sigma_w
from .fixed_points import fixed_point
from .model import parse_scales, zero_variance_limit

#: The weight ensembles (their S-transforms: ``weight_s_transform``).
WEIGHT_ENSEMBLES = ("gaussian", "orthogonal")
#: Largest depth accepted (the density's Newton iterations and the moment formulas are
#: polynomial in L, but a deeper network says nothing the formulas in L do not).
MAX_DEPTH = 100_000
#: Digits used when ``dps`` is None.
DEFAULT_DPS = 15

#: Symbols of the free-probability algebra.
m = sp.Symbol("m")
w = sp.Symbol("w")
depth_symbol = sp.Symbol("L", positive=True, integer=True)
MU = sp.symbols("mu1:4", positive=True)


def check_depth(depth: object) -> int:
    """The depth L (the number of layers in J), an int from 1 to MAX_DEPTH."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) \
            or not 1 <= depth <= MAX_DEPTH:
        raise InvalidValueError(f"depth must be an integer from 1 to {MAX_DEPTH} (the number of "
                                f"layers in J = D_L W_L ... D_1 W_1; got {quoted(depth)})")
    return int(depth)


def check_weights(weights: object) -> str:
    """The weight ensemble's name: 'gaussian' or 'orthogonal'."""
    if not isinstance(weights, str) or weights.strip().lower() not in WEIGHT_ENSEMBLES:
        raise InvalidValueError(f"unknown weight ensemble {quoted(weights)}; valid ensembles: "
                                f"{', '.join(WEIGHT_ENSEMBLES)}")
    return weights.strip().lower()


def weight_s_transform(weights: str) -> sp.Expr:
    """S_{WW^T}(m) of the ensemble: Marchenko-Pastur with aspect ratio 1 for Gaussian weights
    (W_ij ~ N(0, sigma_w^2/n)), the point mass at sigma_w^2 for sigma_w times Haar orthogonal."""
    weights = check_weights(weights)
    return 1 / (sigma_w**2 * (1 + m)) if weights == "gaussian" else 1 / sigma_w**2


# ------------------------------------------------------------------------------------------
# Series algebra
# ------------------------------------------------------------------------------------------
def revert_series(coefficients: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Coefficients b_1..b_N of g with f(g(s)) = s + O(s^(N+1)), f(t) = sum_k a_k t^k given by
    ``coefficients`` = (a_1, ..., a_N), a_1 != 0 (Lagrange reversion, order by order)."""
    s = sp.Dummy("s")
    found: list[sp.Expr] = []
    order = len(coefficients)
    for n in range(1, order + 1):
        partial = sum(b * s**(i + 1) for i, b in enumerate(found))
        composed = sp.expand(sum(a * partial**(k + 1) for k, a in enumerate(coefficients)))
        # coefficient of s^n: a_1 b_n + (terms of the known b's) must be [n == 1]
        known = composed.coeff(s, n)
        found.append(sp.together(((1 if n == 1 else 0) - known) / coefficients[0]))
    return found


def _truncate(expr: sp.Expr, order: int) -> sp.Expr:
    """The Taylor polynomial of ``expr`` in m up to m^(order - 1)."""
    return sp.series(expr, m, 0, order).removeO()


@dataclass(frozen=True)
class FreeMoments:
    """The moments of J J^T from the S-transforms, symbolic in L, sigma_w and mu_1..mu_3."""

    weights: str
    s_weights: sp.Expr
    s_slopes: sp.Expr            # series of S_{D^2}(m) up to m^2
    s_product: sp.Expr           # series of S_{JJ^T}(m) up to m^2
    moments: tuple[sp.Expr, ...]  # m_1, m_2, m_3 of J J^T
    variance_ratio: sp.Expr      # m_2/m_1^2 - 1
    derivation: Derivation = field(compare=False)


@lru_cache(maxsize=None)
def free_moments(weights: str = "gaussian") -> FreeMoments:
    """m_1..m_3 of J J^T by the S-transform composition (cached per ensemble)."""
    weights = check_weights(weights)
    order = len(MOMENT_ORDERS)
    steps = Derivation()
    M_D = sum(mu * w**k for k, mu in enumerate(MU, start=1))
    steps.add(sp.Symbol("M_{D^2}(w)"), M_D, "moment generating function",
              "M_X(z) = z G_X(z) - 1 = sum_k m_k(X) w^k with w = 1/z; the moments of "
              "D^2 = phi'(u)^2 are the derived laws mu_k(q*)")
    inverse = revert_series(MU)
    M_D_inverse = sum(b * m**k for k, b in enumerate(inverse, start=1))
    steps.add(sp.Symbol("M_{D^2}^{-1}(m)"), M_D_inverse, "series reversion",
              "M_{D^2}(M_{D^2}^{-1}(m)) = m order by order")
    s_slopes = sp.expand(_truncate(sp.expand((1 + m) * M_D_inverse / m), order))
    s_slopes = sp.collect(s_slopes, m, sp.factor)
    steps.add(sp.Symbol("S_{D^2}(m)"), s_slopes, "S-transform",
              "S_X(m) = (1 + m) w(m)/m with w(m) = M_X^{-1}(m) in the variable w = 1/z")
    s_weights = weight_s_transform(weights)
    steps.add(sp.Symbol("S_{WW^T}(m)"), s_weights, "weight ensemble",
              "Marchenko-Pastur law of aspect ratio 1 (Gaussian W_ij ~ N(0, sigma_w^2/n))"
              if weights == "gaussian" else
              "W = sigma_w O with O Haar orthogonal: W W^T = sigma_w^2 I, a point mass")
    per_layer = _truncate(s_weights * s_slopes, order)
    leading = per_layer.subs(m, 0)
    relative = sp.expand(per_layer / leading)
    power = _truncate(sp.exp(depth_symbol * _truncate(sp.log(relative), order)), order)
    s_product = sp.expand(leading**depth_symbol * power)
    steps.add(sp.Symbol("S_{JJ^T}(m)"), sp.collect(s_product, m, sp.factor),
              "free multiplicative convolution",
              "the D_l and W_l are asymptotically free at large width, so "
              "S_{JJ^T} = S_{WW^T}^L S_{D^2}^L (expanded with the depth L as a symbol)")
    w_of_m = sp.expand(_truncate(m * s_product / (1 + m), order + 1))
    reverted = revert_series([w_of_m.coeff(m, k) for k in range(1, order + 1)])
    moments = tuple(sp.factor(sp.simplify(c)) for c in reverted)
    steps.add(sp.Symbol("w(m)"), w_of_m, "inverse moment function",
              "w = M_{JJ^T}^{-1}(m) = m S_{JJ^T}(m)/(1 + m)")
    steps.add(sp.Symbol("M_{JJ^T}(w)"), sum(c * w**k for k, c in enumerate(moments, start=1)),
              "series reversion", "the coefficient of w^k is the k-th moment m_k of J J^T")
    ratio = sp.factor(sp.simplify(moments[1] / moments[0] ** 2 - 1))
    steps.add(sp.Symbol("m_2/m_1^2 - 1"), ratio, "normalised variance",
              "the spread of the squared singular values relative to their mean")
    return FreeMoments(weights, s_weights, s_slopes, s_product, moments, ratio, steps)


def squared_slope_s_transform(activation: str | Activation) -> sp.Expr:
    """The series of S_{D^2}(m) up to m^2 with the derived moments mu_k(q) substituted: the
    S-transform of the distribution of phi'(u)^2, u ~ N(0, q)."""
    act = get_activation(activation)
    laws = _moment_laws(act, len(MOMENT_ORDERS))
    series = free_moments("gaussian").s_slopes
    return series.xreplace({mu: law.expr for mu, law in zip(MU, laws)})


def _moment_laws(act: Activation, count: int) -> list:
    laws = [derivative_moment(act, k) for k in MOMENT_ORDERS[:count]]
    for law in laws:
        if law.divergent:
            raise InvalidValueError(
                f"{act.name}: the moments of phi'^2 diverge ({law.name}: {law.divergence}); the "
                f"Jacobian spectrum needs finite E[phi'(u)^(2k)] (phi' must hold no delta)")
    return laws


# ------------------------------------------------------------------------------------------
# The distribution of d = phi'(u)^2 as a quadrature rule (float64)
# ------------------------------------------------------------------------------------------
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(16)
#: Half-width in z of the quadrature (the Gaussian weight beyond is below 1e-16).
_Z_MAX = 8.6
_MAX_PANELS = 600


def slope_distribution(act: Activation, q_value: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes d_i = phi'(sqrt(q) z_i)^2 and weights p_i (sum 1) of a quadrature rule for the
    law of d: composite 16-point Gauss-Legendre in z against the Gaussian density, panels of
    width min(1/2, 1/(2 sqrt q)) near the origin, split at the activation's kinks."""
    dphi = act.numpy_functions[1]
    root_q = math.sqrt(q_value)
    if root_q == 0.0:
        slope = float(np.asarray(dphi(np.zeros(1)))[0])
        return np.array([slope * slope]), np.array([1.0])
    defaults = {s: d for s, d in act.parameters.values()}
    kinks = sorted(float(sp.N(k.subs(defaults))) / root_q for k in act.kinks)
    fine = min(0.5, 0.5 / root_q)
    fine_reach = min(_Z_MAX, fine * _MAX_PANELS / 2)
    half_edges = np.concatenate([np.arange(0.0, fine_reach, fine),
                                 np.arange(math.ceil(fine_reach / 0.5) * 0.5, _Z_MAX, 0.5),
                                 [_Z_MAX]])
    edges = set(half_edges.tolist()) | set((-half_edges).tolist())
    edges |= {k for k in kinks if abs(k) < _Z_MAX}
    edges = np.array(sorted(edges))
    left, right = edges[:-1], edges[1:]
    half = (right - left)[:, None] / 2
    z = ((left + right)[:, None] / 2 + half * _GAUSS_NODES[None, :]).ravel()
    weights = (half * _GAUSS_WEIGHTS[None, :]).ravel() * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    d = np.asarray(dphi(root_q * z), dtype=float) ** 2
    mirrored = np.asarray(dphi(-root_q * z), dtype=float) ** 2
    if np.array_equal(z, -z[::-1]) and np.allclose(d, mirrored, rtol=1e-14, atol=0):
        # a symmetric law (odd or even phi, symmetric kinks): the nodes at z and -z are one atom
        keep = z >= 0
        d, weights = d[keep], np.where(z[keep] > 0, 2.0, 1.0) * weights[keep]
    # equal slopes (the pieces of a piecewise-linear phi) are one atom of the law of d
    values, index = np.unique(d, return_inverse=True)
    merged = np.bincount(index.ravel(), weights=weights)
    return values, merged / merged.sum()


# ------------------------------------------------------------------------------------------
# The report
# ------------------------------------------------------------------------------------------
@dataclass
class JacobianSpectrum:
    """The spectrum of J J^T at the fixed point; numbers are mpmath at ``dps`` digits.

    ``m1``, ``m2`` (``m3`` computed on first use: tanh's mu_3 takes seconds to derive) are
    moments of the eigenvalues of J J^T (the squared singular values of J), ``variance_ratio``
    = m2/m1^2 - 1; ``density(x)`` the eigenvalue density (float64, without the atom at 0 of
    weight ``atom_at_zero``); ``support_edge`` the upper edge of its support, ``lower_edge``
    the lower one.
    """

    activation: Activation
    sigma_w: mpmath.mpf
    sigma_b: mpmath.mpf
    depth: int
    weights: str
    dps: int
    q_star: mpmath.mpf | None
    mu: tuple[mpmath.mpf, ...]
    chi1: mpmath.mpf
    m1: mpmath.mpf
    m2: mpmath.mpf
    variance_ratio: mpmath.mpf
    free: FreeMoments = field(repr=False)
    notes: tuple[str, ...] = ()
    _q_work: mpmath.mpf | None = field(default=None, repr=False)  # q* with the guard digits
    #: True when the moments of phi'^2 do not depend on q (ReLU, linear): any q gives this
    #: spectrum, q* or not.
    q_independent: bool = False

    # -- moments ---------------------------------------------------------------------------
    def _numbers(self, mus: Sequence[mpmath.mpf], expr: sp.Expr, depth: int | None = None):
        values = {sigma_w: self.sigma_w, depth_symbol: self.depth if depth is None else depth,
                  **dict(zip(MU, mus))}
        fn = sp.lambdify(list(values), expr, modules="mpmath")
        with mpmath.workdps(self.dps + _guard_digits(self.depth)):
            return fn(*values.values())

    @cached_property
    def m3(self) -> mpmath.mpf:
        """The third moment of the eigenvalues of J J^T (derives mu_3 on first use)."""
        mus = list(self.mu)
        if len(mus) < 3:
            law = _moment_laws(self.activation, 3)[2]
            mus.append(_evaluate_moment(law, self._q_work, self.dps + _guard_digits(self.depth)))
            self.mu = tuple(mus)
        return _rounded(self._numbers(mus, self.free.moments[2]), self.dps)

    def growth_per_layer(self) -> mpmath.mpf:
        """d(variance_ratio)/dL: the ratio is exactly linear in L at a fixed point."""
        rate = sp.diff(self.free.variance_ratio, depth_symbol)
        return _rounded(self._numbers(self.mu[:2] + (mpmath.mpf(0),), rate), self.dps)

    def spread_depth(self, threshold: object) -> int | None:
        """The smallest depth L at which m2/m1^2 - 1 exceeds ``threshold`` (None: never; the
        ratio is linear in L, its slope ``growth_per_layer``)."""
        limit = _positive_number(threshold, "threshold")
        padded = self.mu[:2] + (mpmath.mpf(0),)
        offset = float(self._numbers(padded, self.free.variance_ratio, depth=0))
        rate = float(self.growth_per_layer())
        if not rate > 0:
            return None
        return max(math.floor((limit - offset) / rate) + 1, 1)

    # -- density ---------------------------------------------------------------------------
    @cached_property
    def _solver(self) -> "_ResolventSolver":
        return _ResolventSolver(self)

    def density(self, x: object) -> np.ndarray:
        """The eigenvalue density of J J^T at the points ``x`` (float64 array, x > 0)."""
        try:
            points = np.asarray(x, dtype=float)
        except (TypeError, ValueError):
            points = None
        if points is None or not np.all(np.isfinite(points)) or np.any(points <= 0):
            raise InvalidValueError(f"density: x must hold finite numbers > 0 (got "
                                    f"{quoted(x)})")
        if points.size > 100_000:
            raise InvalidValueError("density: at most 100000 points at once")
        return self._solver.density(points)

    @cached_property
    def support_edge(self) -> float:
        """The upper edge of the support of the eigenvalue density (float64)."""
        return self._solver.upper_edge()

    @cached_property
    def lower_edge(self) -> float:
        """The lower edge of the support of the eigenvalue density (float64): 0 for Gaussian
        weights (Marchenko-Pastur at aspect ratio 1 reaches 0) and wherever phi'(u)^2 comes
        arbitrarily close to 0 (a slope that decays in the tails or crosses 0); positive for
        orthogonal weights and finitely many non-zero slopes (leaky ReLU): see
        ``_ResolventSolver.lower_edge``."""
        return self._solver.lower_edge()

    @cached_property
    def atom_at_zero(self) -> float:
        """The weight of the eigenvalue 0 of J J^T: the probability that phi'(u) = 0 (the
        largest atom of the free factors at 0; Gaussian W of aspect ratio 1 has none)."""
        return self._solver.zero_mass

    def density_grid(self, points: int = 400,
                     upper: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(x, density) on ``points`` equally spaced points in (0, upper]; ``upper`` defaults
        to 1.05 times the support edge."""
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) \
                or not 2 <= points <= 100_000:
            raise InvalidValueError(f"points must be an integer from 2 to 100000 "
                                    f"(got {quoted(points)})")
        top = 1.05 * self.support_edge if upper is None else _positive_number(upper, "upper")
        grid = np.linspace(top / points, top, int(points))
        return grid, self.density(grid)

    # -- display ---------------------------------------------------------------------------
    def as_dict(self) -> dict:
        """JSON-ready: numbers as decimal strings at ``dps`` digits."""
        text = lambda v: None if v is None else mpmath.nstr(v, self.dps)  # noqa: E731
        return {"activation": self.activation.name, "weights": self.weights,
                "sigma_w": text(self.sigma_w), "sigma_b": text(self.sigma_b),
                "depth": self.depth, "dps": self.dps, "q_star": text(self.q_star),
                "chi1": text(self.chi1), "m1": text(self.m1), "m2": text(self.m2),
                "variance_ratio": text(self.variance_ratio), "notes": list(self.notes)}

    def latex(self) -> str:
        """The derivation (S-transforms to moments) as a LaTeX align block with the values."""
        from ..output.latex import escape_text, tex

        lines = [r"\begin{align*}"]
        for step in self.free.derivation:
            lhs = _LHS_LATEX.get(step.before.name, tex(step.before))
            lines.append(rf"{lhs} &= {tex(step.after)} "
                         rf"&&\text{{{escape_text(step.rule)}}}\\")
        mus = ", ".join(rf"\mu_{k} = {mpmath.nstr(v, 12)}" for k, v in enumerate(self.mu, 1))
        lines.append(rf"&\text{{{escape_text(self.activation.name)}, {self.weights} weights, "
                     rf"L = {self.depth}}}: {mus}\\")
        lines.append(rf"m_1 &= {mpmath.nstr(self.m1, 12)},\quad m_2 = {mpmath.nstr(self.m2, 12)},"
                     rf"\quad m_2/m_1^2 - 1 = {mpmath.nstr(self.variance_ratio, 12)}")
        lines.append(r"\end{align*}")
        return "\n".join(lines)

    def __str__(self) -> str:
        rows = [f"Jacobian spectrum of {self.activation.name}, {self.weights} weights, "
                f"sigma_w = {mpmath.nstr(self.sigma_w, 8)}, "
                f"sigma_b = {mpmath.nstr(self.sigma_b, 8)}, depth L = {self.depth}"]
        for name, value in (("q*", self.q_star), ("chi1", self.chi1), ("m1", self.m1),
                            ("m2", self.m2), ("m2/m1^2 - 1", self.variance_ratio)):
            rows.append(f"  {name:<12} {'n/a' if value is None else mpmath.nstr(value, self.dps)}")
        rows.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(rows)


#: The derivation's left-hand sides in LaTeX (their SymPy names are plain text).
_LHS_LATEX = {
    "M_{D^2}(w)": r"M_{D^2}(w)", "M_{D^2}^{-1}(m)": r"M_{D^2}^{-1}(m)",
    "S_{D^2}(m)": r"S_{D^2}(m)", "S_{WW^T}(m)": r"S_{WW^T}(m)", "S_{JJ^T}(m)": r"S_{JJ^T}(m)",
    "w(m)": r"w(m)", "M_{JJ^T}(w)": r"M_{JJ^T}(w)", "m_2/m_1^2 - 1": r"m_2/m_1^2 - 1",
}


def _guard_digits(depth: int) -> int:
    # m1 = chi1^L: a relative error e in chi1 becomes L e
    return 3 + int(math.log10(depth + 1))


def _rounded(value, dps: int) -> mpmath.mpf:
    with mpmath.workdps(dps):
        return +value


def _positive_number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or not float(value) > 0:
        raise InvalidValueError(f"{name} must be a finite number > 0 (got {quoted(value)})")
    return float(value)


def _evaluate_moment(law, q_value, work: int) -> mpmath.mpf:
    if not law.expr.has(q):
        return law.evaluate(dps=work, q=1)
    return law.evaluate(dps=work, q=q_value)


def jacobian_spectrum(activation: str | Activation, sigma_w: object, sigma_b: object,
                      depth: int, weights: str = "gaussian",
                      dps: int | None = None) -> JacobianSpectrum:
    """The spectrum of J J^T, J = D_L W_L ... D_1 W_1, at the fixed point q* of the length map.

    m1, m2 and variance_ratio = m2/m1^2 - 1 are closed forms of free probability (the
    S-transform composition, ``free_moments``) evaluated at the derived moments mu_k(q*) to
    ``dps`` digits (15..100; default 15); ``density`` and ``support_edge`` solve the same
    equations numerically. Raises InvalidValueError for depth < 1, an unknown ensemble,
    divergent moments of phi' (sign, step: phi' holds a delta) or no finite fixed point.
    """
    act = get_activation(activation)
    depth = check_depth(depth)
    weights = check_weights(weights)
    dps = DEFAULT_DPS if dps is None else check_dps(dps)
    if dps > 100:
        raise InvalidValueError(f"dps must be from 15 to 100 for the Jacobian spectrum "
                                f"(got {dps})")
    laws = _moment_laws(act, 2)
    work = dps + _guard_digits(depth)
    scales = parse_scales(sigma_w, sigma_b)
    q_free = not any(law.expr.has(q) for law in laws)
    try:
        point = fixed_point(act, scales.sigma_w, scales.sigma_b, dps=min(work, 100))
        q_work, notes = point.q_star, list(point.notes[:1]) if point.q_star is None else []
    except InvalidValueError as error:
        if not q_free:
            raise
        # ReLU-like: the moments of phi'^2 do not depend on q, so no fixed point is needed
        q_work, notes = None, [f"{error}; the moments of phi'^2 do not depend on q, so the "
                                f"spectrum is the same at every q"]
    if q_work is None and not q_free:
        raise InvalidValueError(f"{act.name}: the length map has no unique fixed point here "
                                f"and the moments of phi'^2 depend on q")
    with mpmath.workdps(work):
        exact = scales.mp(work)
    mus = tuple(_evaluate_moment(law, q_work, work) for law in laws)
    free = free_moments(weights)
    report = JacobianSpectrum(
        activation=act, sigma_w=exact["sigma_w"], sigma_b=exact["sigma_b"], depth=depth,
        weights=weights, dps=dps, q_star=None if q_work is None else _rounded(q_work, dps),
        mu=mus, chi1=mpmath.mpf(0), m1=mpmath.mpf(0), m2=mpmath.mpf(0),
        variance_ratio=mpmath.mpf(0), free=free, notes=tuple(notes), _q_work=q_work,
        q_independent=q_free)
    padded = mus + (mpmath.mpf(0),)
    with mpmath.workdps(work):
        report.chi1 = _rounded(exact["sigma_w2"] * mus[0], dps)
    report.m1 = _rounded(report._numbers(padded, free.moments[0]), dps)
    report.m2 = _rounded(report._numbers(padded, free.moments[1]), dps)
    report.variance_ratio = _rounded(report._numbers(padded, free.variance_ratio), dps)
    return report


class _ResolventSolver:
    """The resolvent of J J^T on the real axis, in the variable x~ = x/m1 (so that the
    per-layer factor s(m) = sigma_w^2 mu1 S_{WW^T}(m) S_{D^2}(m) is 1 at m = 0 and no power
    ^L overflows); the law of d = phi'(u)^2 is a quadrature rule (``slope_distribution``)."""

    #: Continuation of z = x + i y from y = Y0 max(1, x) down to y = FINAL_HEIGHT (in x~ units).
    STEPS = 28
    FINAL_HEIGHT = 1e-9
    NEWTON_ITERATIONS = 12

    def __init__(self, report: JacobianSpectrum) -> None:
        # a q-independent law of d (ReLU) at q* = 0 would otherwise meet phi'(0) itself
        q_value = 1.0 if report.q_star is None or report.q_independent \
            else float(report.q_star)
        self.d, self.p = slope_distribution(report.activation, q_value)
        self.zero_mass = float(self.p[self.d == 0].sum())
        self.dp = self.d * self.p
        self.depth = report.depth
        self.orthogonal = report.weights == "orthogonal"
        self.mu1 = float(np.dot(self.p, self.d))
        if not self.mu1 > 0:
            raise InvalidValueError(f"{report.activation.name}: phi'(u) = 0 almost surely at "
                                    f"q*, so J = 0 and its spectrum is a point mass at 0")
        log_scale = self.depth * math.log(float(report.sigma_w) ** 2 * self.mu1)
        if abs(log_scale) > 700:
            exponent = log_scale / math.log(10)
            raise InvalidValueError(
                f"the eigenvalues of J J^T are of order m1 = chi1^L = 10^{exponent:.0f}, "
                f"beyond float64, where the density and its edge are computed (the moments "
                f"are exact): use a smaller depth, or sigma_w nearer the edge of chaos")
        self.scale = math.exp(log_scale)

    # -- the equations ---------------------------------------------------------------------
    def _moment_d(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """M_{D^2}(w) = E[w d/(1 - w d)] and its derivative E[d/(1 - w d)^2]."""
        inverse = 1.0 / (1.0 - w[:, None] * self.d[None, :])
        weighted = inverse * self.dp[None, :]
        # complex @ complex runs in BLAS (a real vector against complex rows does not)
        return w * weighted.sum(axis=1), (weighted * inverse).sum(axis=1)

    @staticmethod
    def _unwrapped(value: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """log(value) on the sheet nearest ``previous`` (a logarithm continued along the
        path, not the principal one)."""
        principal = np.log(value)
        return principal + 2j * np.pi * np.round((previous - principal).imag / (2 * np.pi))

    def _phase(self, z, logs):
        """Phi = log z + log m - log(1 + m) + L log s(m), with the continued logarithms
        (log m, log(1 + m), log w), and dPhi/dm, dPhi/dw."""
        log_m, log_1pm, log_w = logs
        mm, ww = np.exp(log_m), np.exp(log_w)
        L = self.depth
        log_s = math.log(self.mu1) + log_w - log_m
        d_m = 1 / mm - 1 / (1 + mm) - L / mm
        if self.orthogonal:
            log_s = log_s + log_1pm
            d_m = d_m + L / (1 + mm)
        return np.log(z) + log_m - log_1pm + L * log_s, d_m, L / ww

    def _newton(self, z, mm, ww, logs):
        """Damped Newton on (F1, F2) = (M_D(w) - m, Phi): the equation z m S^L = 1 + m in log
        form with the logarithms continued from the previous point of the path (so the
        iterate cannot hop to another sheet, i.e. another solution of exp(Phi) = 1), only on
        the points that have not converged yet."""
        mm, ww = mm.copy(), ww.copy()
        logs = [part.copy() for part in logs]
        active = np.arange(z.size)
        for _ in range(self.NEWTON_ITERATIONS):
            zs, ms, ws = z[active], mm[active], ww[active]
            current = [part[active] for part in logs]
            value, slope = self._moment_d(ws)
            f1 = value - ms
            f2, d_m, d_w = self._phase(zs, current)
            done = np.abs(f1) + np.abs(f2) < 1e-12 * (1 + np.abs(ms))
            # [[-1, slope], [d_m, d_w]] [dm, dw] = -[f1, f2]
            det = -d_w - slope * d_m
            step_m = (-f1 * d_w + slope * f2) / det
            step_w = (f2 + d_m * f1) / det
            # damped: never move further than half the current size
            limit = 0.5 * np.maximum(np.abs(ms), np.abs(ws))
            size = np.maximum(np.abs(step_m), np.abs(step_w))
            factor = np.where(size > limit, limit / np.where(size > 0, size, 1), 1.0)
            new_m, new_w = ms + factor * step_m, ws + factor * step_w
            mm[active], ww[active] = new_m, new_w
            logs[0][active] = self._unwrapped(new_m, current[0])
            logs[1][active] = self._unwrapped(1 + new_m, current[1])
            logs[2][active] = self._unwrapped(new_w, current[2])
            active = active[~done]
            if active.size == 0:
                break
        return mm, ww, logs

    def resolvent(self, x_scaled: np.ndarray) -> np.ndarray:
        """G(x~ + i0) in the scaled variable, by continuation from far above the axis."""
        tops = 10.0 * np.maximum(1.0, x_scaled)
        ratio = (self.FINAL_HEIGHT / tops) ** (1.0 / self.STEPS)
        z = x_scaled + 1j * tops
        mm = 1.0 / z                 # M(z) ~ m1/z with m1 = 1 in the scaled variable
        ww = mm / self.mu1           # M_{D^2}(w) ~ mu1 w
        logs = [np.log(mm), np.log1p(mm), np.log(ww)]
        for k in range(1, self.STEPS + 1):
            z = x_scaled + 1j * tops * ratio**k
            mm, ww, logs = self._newton(z, mm, ww, logs)
        return (1 + mm) / z

    def density(self, x: np.ndarray) -> np.ndarray:
        flat = x.ravel() / self.scale
        out = np.empty_like(flat)
        for start in range(0, flat.size, 256):  # bounded memory: 256 points x nodes at once
            chunk = flat[start:start + 256]
            density = -self.resolvent(chunk).imag / np.pi
            # the atom at 0 enters G as a/z: remove its Lorentzian smear at the final height
            density -= self.zero_mass * self.FINAL_HEIGHT / (np.pi * (chunk**2
                                                                      + self.FINAL_HEIGHT**2))
            out[start:start + 256] = np.maximum(density, 0.0)
        return (out / self.scale).reshape(x.shape)

    # -- the edge ----------------------------------------------------------------------------
    def _log_x(self, ww: np.ndarray) -> np.ndarray:
        """log x~ on the real branch w in (0, 1/max d): x~ = (1 + m)/(m s(m)^L)."""
        with np.errstate(all="ignore"):
            return self._log_x_raw(ww)

    def _log_x_raw(self, ww: np.ndarray) -> np.ndarray:
        mm = (ww[:, None] * self.d[None, :] / (1 - ww[:, None] * self.d[None, :])) @ self.p
        log_s = math.log(self.mu1) + np.log(ww) - np.log(mm)
        if self.orthogonal:
            log_s = log_s + np.log1p(mm)
        return np.log1p(mm) - np.log(mm) - self.depth * log_s

    #: Most distinct values of phi'^2 for which its law counts as a few atoms (the pieces of a
    #: piecewise-linear phi); a law sampled on quadrature nodes has hundreds.
    FEW_SLOPES = 8

    def lower_edge(self) -> float:
        """Below the support, M(x) = E[l/(x - l)] < -1, so w = M_D^{-1}(m) > 1/min d: on that
        branch x~(w) = (1 + m)/(m S(m)^L) rises from 0 (w -> oo, m -> -1) to a maximum, the
        lower edge, and falls again towards w = 1/min d. Only orthogonal weights have such a
        branch (Gaussian ones give S = mu1 w/m < 0, no real x > 0: the density reaches 0),
        and only a law of d bounded away from 0 (finitely many slopes, none 0)."""
        positive = self.d > 0
        if not self.orthogonal or self.zero_mass > 0 or self.d.size > self.FEW_SLOPES \
                or not np.any(positive):
            return 0.0
        if self.d.size == 1:  # one slope: J J^T is a multiple of the identity
            return self.scale
        bottom = 1.0 / float(self.d.min())
        # w = bottom (1 + t), t from 1e-13 to 1e13: the branch, log-spaced on both ends
        ts = np.logspace(-13, 13, 4000)

        def log_x(t: np.ndarray) -> np.ndarray:
            ww = bottom * (1 + t)
            with np.errstate(all="ignore"):
                mm = (ww[:, None] * self.d[None, :] / (1 - ww[:, None] * self.d[None, :])) \
                    @ self.p
                ratio = np.log1p(1 / mm)           # log((1 + m)/m), m < -1
                log_s = math.log(self.mu1) + np.log(ww) + ratio
                return ratio - self.depth * log_s

        values = log_x(ts)
        k = int(np.nanargmax(values))
        low, high = math.log(ts[max(k - 1, 0)]), math.log(ts[min(k + 1, ts.size - 1)])
        for _ in range(100):  # golden section on log(t)
            a = high - 0.618 * (high - low)
            b = low + 0.618 * (high - low)
            fa, fb = log_x(np.exp(np.array([a, b])))
            if fa > fb:
                high = b
            else:
                low = a
        best = log_x(np.exp(np.array([(low + high) / 2])))[0]
        return float(math.exp(best)) * self.scale

    def upper_edge(self) -> float:
        top = 1.0 / float(self.d.max())
        gaps = np.logspace(-1e-9, -13, 4000)
        ww = top * (1 - gaps)
        values = self._log_x(ww)
        inner = np.nonzero((values[1:-1] <= values[:-2]) & (values[1:-1] <= values[2:]))[0]
        if inner.size == 0:
            return float(math.exp(values.min())) * self.scale
        k = int(inner[0]) + 1
        low, high = math.log(gaps[k + 1]), math.log(gaps[k - 1])
        for _ in range(100):  # golden section on log(gap)
            a = high - 0.618 * (high - low)
            b = low + 0.618 * (high - low)
            fa, fb = self._log_x(np.array([top * (1 - math.exp(a)), top * (1 - math.exp(b))]))
            if fa < fb:
                high = b
            else:
                low = a
        best = self._log_x(np.array([top * (1 - math.exp((low + high) / 2))]))[0]
        return float(math.exp(best)) * self.scale


# ------------------------------------------------------------------------------------------
# Dynamical isometry
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IsometryVerdict:
    """Whether m2/m1^2 - 1 can be held O(1) as the depth grows at criticality.

    ``growth`` is d(m2/m1^2 - 1)/dL as a derived expression in q (the ratio is exactly
    linear in L at a fixed point); ``achievable`` is True, False, or None (undecided), with
    the ``reason``."""

    activation: str
    weights: str
    growth: sp.Expr
    growth_at_zero: sp.Expr | None
    achievable: bool | None
    reason: str


def dynamical_isometry(activation: str | Activation,
                       weights: str = "orthogonal") -> IsometryVerdict:
    """The dynamical-isometry verdict for ``activation`` with the given weight ensemble."""
    act = get_activation(activation)
    weights = check_weights(weights)
    laws = _moment_laws(act, 2)
    free = free_moments(weights)
    slope = sp.diff(free.variance_ratio, depth_symbol)
    floor = sp.simplify(slope.subs({MU[1]: MU[0] ** 2}))  # the growth when d is constant
    growth = slope.xreplace({MU[0]: laws[0].expr, MU[1]: laws[1].expr})
    if all(law.form == "closed" for law in laws):
        growth = sp.simplify(growth)  # (a pole series is left as derived: simplify would crawl)
    name = act.name
    if floor != 0:
        # Cauchy-Schwarz: mu2 >= mu1^2, so the growth is at least its value at mu2 = mu1^2
        return IsometryVerdict(name, weights, growth, None, False, (
            f"never: with {weights} weights the spread grows by at least {floor} per layer "
            f"(mu2 >= mu1^2 by Cauchy-Schwarz), so m2/m1^2 - 1 >= {floor} L"))
    if not growth.has(q):
        ok = growth == 0
        return IsometryVerdict(name, weights, growth, growth, bool(ok), (
            "phi'^2 is constant: the spectrum stays a point mass at every depth" if ok else
            f"never: the growth per layer is {growth} at every q (phi'^2 is not constant), so "
            f"m2/m1^2 - 1 = {growth} L"))
    at_zero = None
    try:
        at_zero = sp.simplify(zero_variance_limit(sp.diff(free.variance_ratio, depth_symbol)
                                                  .xreplace({MU[0]: laws[0].definition,
                                                             MU[1]: laws[1].definition})))
    except (ValueError, NotImplementedError):
        at_zero = None
    reaches_zero = act(sp.S.Zero) == 0 and act(sp.S.Zero, 1) != 0
    if at_zero == 0 and reaches_zero:
        return IsometryVerdict(name, weights, growth, at_zero, True, (
            "yes: phi(0) = 0, so q* -> 0 on the critical line (sigma_b -> 0, "
            "sigma_w^2 phi'(0)^2 -> 1), where the growth per layer tends to 0; choosing "
            "q* = O(1/L) keeps m2/m1^2 - 1 = O(1)"))
    return IsometryVerdict(name, weights, growth, at_zero, None, (
        "undecided: the growth per layer depends on q and does not vanish where q* can go "
        "on the critical line (phi(0) != 0 keeps q* away from 0, or phi'(0) = 0)"))
