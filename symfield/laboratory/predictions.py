"""Mean-field predictions layer by layer, by iterating the derived laws from the input.

Nothing here states a formula: every number comes from a law's ``to_numpy()``. The input layer
u^1 = W x^0 + b is the layer map of the *linear* activation applied to x^0, so its step is the
linear activation's law (q^1 = sigma_w^2 q^0 + sigma_b^2, kbar^2 -> kbar^2 / sigma_w^2, ...);
every later step uses the activation's law at the predicted q of the layer whose phi', phi''
enter. Predictions therefore hold at every layer, not only at the fixed point.

A law under test can be replaced (``overrides``) by a ``Law`` or a ``LawDefinition``; the
power tests use this to check that a deliberately wrong law is rejected. A ``LawDefinition``
is derived for the linear input layer as well, a ``Law`` only for its own activation. Each
trajectory names the law it iterates (``law``, by default the canonical one), so a plan kind
predicts with the law whose definition named it; the trajectories it starts from (the
variances q^l, activities A^l, covariances q12^l) always use the registered laws.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError
from ..laws import Law, LawDefinition, derive
from .limits import check_scales
from .networks.validation import real_array


class Predictor:
    """Predictions for one activation and one (sigma_w, sigma_b)."""

    def __init__(self, activation: str | Activation, sigma_w: float, sigma_b: float,
                 overrides: Mapping[str, Law | LawDefinition] | None = None) -> None:
        self.activation = get_activation(activation)
        self.linear = get_activation("linear")
        self.sigma_w, self.sigma_b = check_scales(sigma_w, sigma_b)
        self.overrides = dict(overrides or {})
        # (law, linear input layer) -> the float function and the law's variable names
        self._numpy: dict[tuple[str, bool], tuple[Callable[..., float], frozenset[str]]] = {}

    # -- laws -------------------------------------------------------------------------------
    def law(self, name: str, linear: bool = False) -> Law:
        """The law ``name`` for the activation (or for the linear input layer)."""
        target = self.linear if linear else self.activation
        override = self.overrides.get(name)
        if isinstance(override, LawDefinition):
            return derive(override, target)
        if isinstance(override, Law) and not linear:
            return override
        return derive(name, target)

    def _fn(self, name: str, linear: bool = False) -> Callable[..., float]:
        return self._numeric(name, linear)[0]

    def _numeric(self, name: str, linear: bool) -> tuple[Callable[..., float], frozenset[str]]:
        key = (name, linear)
        if key not in self._numpy:
            law = self.law(name, linear)
            if law.divergent:
                raise InvalidValueError(
                    f"{name} diverges for {law.activation.name} ({law.divergence}): the law "
                    f"does not apply to this activation")
            fn = law.to_numpy()

            def value(**kw: float) -> float:
                # A trajectory that left float64 (an iterate overflowed) or the law's domain
                # (a wrong law pushing c past 1) has no prediction: nan, which the table
                # shows as n/a and the report counts as a failed comparison.
                if not all(np.isfinite(v) for v in kw.values()):
                    return float("nan")
                try:
                    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                        return float(fn(**kw))
                except InvalidValueError:
                    return float("nan")

            self._numpy[key] = value, frozenset(symbol.name for symbol in law.variables)
        return self._numpy[key]

    def _scaled(self, name: str, linear: bool = False) -> Callable[..., float]:
        """The law as a float function of its own variables, with sigma_w and sigma_b (those
        it has) filled in."""
        fn, names = self._numeric(name, linear)
        scales = {key: value for key, value in (("sigma_w", self.sigma_w),
                                                ("sigma_b", self.sigma_b)) if key in names}
        return lambda **values: fn(**values, **scales)

    # -- trajectories ---------------------------------------------------------------------
    def lengths(self, q0: float, depth: int, law: str = "length_map") -> np.ndarray:
        """q^1..q^L from an input of mean square q0 (length_map)."""
        out = [self._scaled(law, linear=True)(q=q0)]
        step = self._scaled(law)
        for _ in range(depth - 1):
            out.append(step(q=out[-1]))
        return np.array(out)

    def correlations(self, c0: float, q0: float, depth: int,
                     law: str = "correlation_map") -> np.ndarray:
        """c^1..c^L of two inputs of mean square q0 and correlation c0 (correlation_map)."""
        q = self.lengths(q0, depth)
        out = [self._scaled(law, linear=True)(c=c0, q=q0)]
        step = self._scaled(law)
        for layer in range(1, depth):
            out.append(step(c=out[-1], q=q[layer - 1]))
        return np.array(out)

    def covariances(self, c0: float, q0: float, partner_q0: float, depth: int,
                    law: str = "covariance_map") -> np.ndarray:
        """q12^1..q12^L of two inputs of mean squares q0, partner_q0 and correlation c0
        (covariance_map, the variances q^l of each input from the length map)."""
        first, second = self.lengths(q0, depth), self.lengths(partner_q0, depth)
        rho0 = c0 * math.sqrt(q0 * partner_q0)
        out = [self._scaled(law, linear=True)(q1=q0, q2=partner_q0, rho=rho0)]
        step = self._scaled(law)
        for layer in range(1, depth):
            out.append(step(q1=first[layer - 1], q2=second[layer - 1], rho=out[-1]))
        return np.array(out)

    def activities(self, q0: float, depth: int, law: str = "activity_map") -> np.ndarray:
        """A^1..A^L (post-activation, Amari) of an input of mean square q0, which is the
        input layer's activity A^0 (activity_map; no linear step: A^0 is already an x)."""
        step = self._scaled(law)
        out = [q0]
        for _ in range(depth):
            out.append(step(A=out[-1]))
        return np.array(out[1:])

    def _pair_trajectory(self, law: str, variable: str, start: float, q0: float,
                         depth: int) -> np.ndarray:
        """Iterate a post-activation pair law ``variable`` -> law(variable, A) from ``start``
        at the common activity A^{l-1} of two inputs of mean square q0 (A^0 = q0)."""
        activity = np.concatenate([[q0], self.activities(q0, depth - 1)])
        step = self._scaled(law)
        out = [start]
        for layer in range(depth):
            out.append(step(**{variable: out[-1]}, A=activity[layer]))
        return np.array(out[1:])

    def overlaps(self, c0: float, q0: float, depth: int, law: str = "overlap_map") -> np.ndarray:
        """C^1..C^L of two inputs of mean square q0 and correlation c0 (overlap_map, Amari;
        C^0 = c0 q0)."""
        return self._pair_trajectory(law, "C", c0 * q0, q0, depth)

    def distances(self, c0: float, q0: float, depth: int,
                  law: str = "distance_map") -> np.ndarray:
        """D^1..D^L of two inputs of mean square q0 and correlation c0 (distance_map, Amari;
        D^0 = 2 q0 (1 - c0))."""
        return self._pair_trajectory(law, "D", 2 * q0 * (1 - c0), q0, depth)

    def at_variances(self, law: str, q0: float, depth: int) -> np.ndarray:
        """law(q^l) for l = 1..L, q^l from the length map (a law of the layer's variance)."""
        step = self._scaled(law)
        return np.array([step(q=value) for value in self.lengths(q0, depth)])

    def at_covariances(self, law: str, c0: float, q0: float, partner_q0: float,
                       depth: int) -> np.ndarray:
        """law(q1^l, q2^l, q12^l) for l = 1..L: a law of the pre-activation covariance of
        two inputs, at its predicted value (length and covariance maps)."""
        step = self._scaled(law)
        first, second = self.lengths(q0, depth), self.lengths(partner_q0, depth)
        covariance = self.covariances(c0, q0, partner_q0, depth)
        return np.array([step(q1=a, q2=b, rho=r) for a, b, r in zip(first, second, covariance)])

    def at_depths(self, law: str, c0: float, q0: float, partner_q0: float,
                  depth: int) -> np.ndarray:
        """law(L = l) for l = 1..L from the layer-1 covariance Sigma^1 = sigma_w^2 x.x'/n0 +
        sigma_b^2 of two inputs of mean squares q0, partner_q0 and correlation c0: a
        recursion over depth (nngp) evaluated whole at every depth."""
        step = self._scaled(law)
        w2, b2 = self.sigma_w**2, self.sigma_b**2
        first = dict(q1=w2 * q0 + b2, q2=w2 * partner_q0 + b2,
                     rho=w2 * c0 * math.sqrt(q0 * partner_q0) + b2)
        return np.array([step(L=layer, **first) for layer in range(1, depth + 1)])

    def radial_stretches(self, q0: float, depth: int,
                         law: str = "length_map_slope") -> np.ndarray:
        """dq^l/dq^{l-1} = V'(q^{l-1}) for l = 1..L along the radial direction (the first
        step is the linear input layer's, q^0 = q0)."""
        first = self._scaled(law, linear=True)(q=q0)
        return np.concatenate([[first], self.at_variances(law, q0, depth - 1)])

    def metrics(self, gram0: np.ndarray, q0: float, depth: int,
                post_activation: bool = False, law: str = "metric_law") -> np.ndarray:
        """g^0..g^L (each k x k) from the input metric ``gram0`` (metric_law, entry-wise).

        Pre-activation (Poole): g(u^l) = law(g(u^{l-1}); q^{l-1}), the first step linear.
        Post-activation (Amari): g(x^l) = law(g(x^{l-1}); q^l), B^l = diag(phi'(u^l)) W^l.
        """
        gram0 = _square_matrix("gram0", gram0, "input metric entries")
        _check_flag("post_activation", post_activation)
        q = self.lengths(q0, depth)
        out = [gram0]
        for layer in range(1, depth + 1):
            if post_activation:
                step, variance = self._scaled(law), q[layer - 1]
            elif layer == 1:
                step, variance = self._scaled(law, linear=True), q0
            else:
                step, variance = self._scaled(law), q[layer - 2]
            out.append(np.vectorize(lambda g: step(g=g, q=variance))(out[-1]))
        return np.array(out)

    def curvatures(self, kappa0: np.ndarray, q0: float, depth: int, law_name: str,
                   post_activation: bool = False) -> np.ndarray:
        """kbar^2_ab at layers 1..L (k x k) from the input curvature ``kappa0``.

        ``law_name`` is curvature_map (one curve, k = 1), curvature_map_directions or
        curvature_map_post (delta_ab from the entry's position, for the laws that have it).
        """
        kappa0 = _square_matrix("kappa0", kappa0, "input curvatures")
        _check_flag("post_activation", post_activation)
        q = self.lengths(q0, depth)
        k = kappa0.shape[0]
        delta = np.eye(k)
        uses_delta = "delta_ab" in self._numeric(law_name, False)[1]

        def apply(step, kappa, variance):
            out = np.empty_like(kappa)
            for a in range(k):
                for b in range(k):
                    extra = {"delta_ab": delta[a, b]} if uses_delta else {}
                    out[a, b] = step(kappa2=kappa[a, b], q=variance, **extra)
            return out

        current = kappa0
        out = []
        for layer in range(1, depth + 1):
            if post_activation:
                current = apply(self._scaled(law_name), current, q[layer - 1])
            elif layer == 1:
                current = apply(self._scaled(law_name, linear=True), current, q0)
            else:
                current = apply(self._scaled(law_name), current, q[layer - 2])
            out.append(current)
        return np.array(out)

    def dominoes(self, q0: float, depth: int, law: str = "domino") -> np.ndarray:
        """Diagonal of (B^l...B^1)^T (B^l...B^1): prod_{j<=l} domino(q^j, L=1), l = 1..L
        (the domino law at a fixed q is chi1^L; off the fixed point the factors differ)."""
        step = self._scaled(law)
        return np.cumprod([step(q=value, L=1) for value in self.lengths(q0, depth)])

    def gradients(self, q0: float, depth: int, law: str = "gradient_norm") -> np.ndarray:
        """qtilde^l / qtilde^L for l = 1..L: prod_{j=l}^{L-1} gradient_norm(q^j, L=1)."""
        step = self._scaled(law)
        factors = np.array([step(q=value, L=1) for value in self.lengths(q0, depth)[:-1]])
        return np.append(np.cumprod(factors[::-1])[::-1], 1.0)

    def backward_order_parameters(self, q0: float, depth: int,
                                  law: str = "backward_order_parameter") -> np.ndarray:
        """qtilde^l / qtilde^L for l = 1..L: the backward law iterated down from the top,
        qtilde^l = law(qtilde^{l+1}, q^l), q^l from the length map."""
        step = self._scaled(law)
        variances = self.lengths(q0, depth)
        out = [1.0]
        for layer in range(depth - 1, 0, -1):
            out.append(step(qtilde=out[-1], q=variances[layer - 1]))
        return np.array(out[::-1])

    def backward_pair_order_parameters(self, c0: float, q0: float, partner_q0: float,
                                       depth: int, law: str = "backward_order_parameter_pair"
                                       ) -> np.ndarray:
        """qtilde^l_12 / qtilde^L_12 for l = 1..L of two inputs of mean squares q0, partner_q0
        and correlation c0: qtilde^l_12 = law(qtilde^{l+1}_12, q1^l, q2^l, q12^l), the
        forward covariance from the length and covariance maps."""
        step = self._scaled(law)
        first, second = self.lengths(q0, depth), self.lengths(partner_q0, depth)
        covariance = self.covariances(c0, q0, partner_q0, depth)
        out = [1.0]
        for layer in range(depth - 1, 0, -1):
            out.append(step(qtilde12=out[-1], q1=first[layer - 1], q2=second[layer - 1],
                            rho=covariance[layer - 1]))
        return np.array(out[::-1])

    def correlation_stretches(self, c0: float, q0: float, depth: int,
                              law: str = "correlation_map_slope") -> np.ndarray:
        """dc^l/dc^{l-1} for l = 1..L: the law at (c^{l-1}, q^{l-1}) of two inputs of mean
        square q0 and correlation c0, the first step the linear input layer's."""
        first = self._scaled(law, linear=True)(c=c0, q=q0)
        step = self._scaled(law)
        earlier = zip(self.correlations(c0, q0, depth)[:depth - 1],
                      self.lengths(q0, depth)[:depth - 1])
        return np.array([first] + [step(c=c, q=q) for c, q in earlier])

    def stretches(self, q0: float, depth: int, law: str = "chi1") -> np.ndarray:
        """chi1(q^l), l = 1..L: the post-activation metric stretch of layer l."""
        return self.at_variances(law, q0, depth)


def _square_matrix(name: str, value: object, entries: str) -> np.ndarray:
    """A finite, non-empty (k, k) float64 array."""
    array = real_array(name, value)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or not array.size:
        raise InvalidValueError(f"{name} must be a square (k, k) array of {entries}, got "
                                f"shape {array.shape}")
    return array


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidValueError(f"{name} must be True or False, got {type(value).__name__}")


def edge_of_chaos(activation: str | Activation, sigma_b: float, low: float = 0.2,
                  high: float = 6.0, iterations: int = 400) -> float:
    """sigma_w with chi1(q*) = 1 at this sigma_b (the edge of chaos), from the laws, to about
    1e-3 relative: used to draw settings near the edge of chaos.

    q* is reached by iterating the length map from q = 1, vectorised over a grid of sigma_w
    (41 points, then three refinements of 11), until chi1(q) settles (to 1e-9) or for at most
    ``iterations`` steps; where the map has no finite fixed point (ReLU, linear at or beyond
    the edge) or creeps towards q* = 0 the last iterate stands in for it, which is where chi1
    no longer depends on q anyway. The early stop keeps laws evaluated by quadrature (a few ms
    per point) to seconds.
    """
    act = get_activation(activation)
    length = derive("length_map", act).to_numpy()
    chi1 = derive("chi1", act).to_numpy()

    def excess(sigma_w: np.ndarray) -> np.ndarray:
        q = np.ones_like(sigma_w)
        ones = np.ones_like(sigma_w)
        with np.errstate(over="ignore", invalid="ignore"):
            previous = np.asarray(chi1(q=q, sigma_w=sigma_w), dtype=float) * ones
            for step in range(1, iterations + 1):
                # a variance creeping to q* = 0 can round to -3e-17 in float64: clip at 0
                q = np.clip(np.asarray(length(q=q, sigma_w=sigma_w, sigma_b=sigma_b),
                                       dtype=float) * ones, 0.0, 1e12)
                if step % 8 == 0 or step == iterations:
                    current = np.asarray(chi1(q=q, sigma_w=sigma_w), dtype=float) * ones
                    settled = np.abs(current - previous) <= 1e-9
                    if np.all(settled | ~np.isfinite(current)):
                        break
                    previous = current
            return current - 1.0

    grid = np.linspace(low, high, 41)
    for _ in range(4):
        values = excess(grid)
        crossing = np.nonzero((values[:-1] < 0) & (values[1:] >= 0))[0]
        while crossing.size == 0 and high < 100:
            # activations with small slopes (sigmoid: phi' <= 1/4) reach the edge later
            grid = np.linspace(high, 4 * high, 41)
            low, high = grid[0], grid[-1]
            values = excess(grid)
            crossing = np.nonzero((values[:-1] < 0) & (values[1:] >= 0))[0]
        if crossing.size == 0:
            raise InvalidValueError(f"no edge of chaos for {act.name} with sigma_b={sigma_b} "
                                    f"in sigma_w in [{low}, {high}]")
        low, high = grid[crossing[0]], grid[crossing[0] + 1]
        grid = np.linspace(low, high, 11)
    return float((low + high) / 2)
