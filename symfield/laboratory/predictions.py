"""Mean-field predictions layer by layer, by iterating the derived laws from the input.

Nothing here states a formula: every number comes from a law's ``to_numpy()``. The input layer
u^1 = W x^0 + b is the layer map of the *linear* activation applied to x^0, so its step is the
linear activation's law (q^1 = sigma_w^2 q^0 + sigma_b^2, kbar^2 -> kbar^2 / sigma_w^2, ...);
every later step uses the activation's law at the predicted q of the layer whose phi', phi''
enter. Predictions therefore hold at every layer, not only at the fixed point.

A law under test can be replaced (``overrides``) by a ``Law`` or a ``LawDefinition``; the
power tests use this to check that a deliberately wrong law is rejected. A ``LawDefinition``
is derived for the linear input layer as well, a ``Law`` only for its own activation.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError
from ..laws import Law, LawDefinition, derive

class Predictor:
    """Predictions for one activation and one (sigma_w, sigma_b)."""

    def __init__(self, activation: str | Activation, sigma_w: float, sigma_b: float,
                 overrides: Mapping[str, Law | LawDefinition] | None = None) -> None:
        self.activation = get_activation(activation)
        self.linear = get_activation("linear")
        self.sigma_w = float(sigma_w)
        self.sigma_b = float(sigma_b)
        self.overrides = dict(overrides or {})
        self._numpy: dict[tuple[str, bool], Callable[..., np.ndarray]] = {}

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

            self._numpy[key] = value
        return self._numpy[key]

    # -- trajectories ---------------------------------------------------------------------
    def lengths(self, q0: float, depth: int) -> np.ndarray:
        """q^1..q^L from an input of mean square q0 (length_map)."""
        sw, sb = self.sigma_w, self.sigma_b
        out = [self._fn("length_map", linear=True)(q=q0, sigma_w=sw, sigma_b=sb)]
        step = self._fn("length_map")
        for _ in range(depth - 1):
            out.append(step(q=out[-1], sigma_w=sw, sigma_b=sb))
        return np.array(out)

    def correlations(self, c0: float, q0: float, depth: int) -> np.ndarray:
        """c^1..c^L of two inputs of mean square q0 and correlation c0 (correlation_map)."""
        sw, sb = self.sigma_w, self.sigma_b
        q = self.lengths(q0, depth)
        out = [self._fn("correlation_map", linear=True)(c=c0, q=q0, sigma_w=sw, sigma_b=sb)]
        step = self._fn("correlation_map")
        for layer in range(1, depth):
            out.append(step(c=out[-1], q=q[layer - 1], sigma_w=sw, sigma_b=sb))
        return np.array(out)

    def metrics(self, gram0: np.ndarray, q0: float, depth: int,
                post_activation: bool = False) -> np.ndarray:
        """g^0..g^L (each k x k) from the input metric ``gram0`` (metric_law, entry-wise).

        Pre-activation (Poole): g(u^l) = law(g(u^{l-1}); q^{l-1}), the first step linear.
        Post-activation (Amari): g(x^l) = law(g(x^{l-1}); q^l), B^l = diag(phi'(u^l)) W^l.
        """
        q = self.lengths(q0, depth)
        sw = self.sigma_w
        out = [np.asarray(gram0, dtype=np.float64)]
        for layer in range(1, depth + 1):
            if post_activation:
                step, variance = self._fn("metric_law"), q[layer - 1]
            elif layer == 1:
                step, variance = self._fn("metric_law", linear=True), q0
            else:
                step, variance = self._fn("metric_law"), q[layer - 2]
            out.append(np.vectorize(lambda g: step(g=g, q=variance, sigma_w=sw))(out[-1]))
        return np.array(out)

    def curvatures(self, kappa0: np.ndarray, q0: float, depth: int, law_name: str,
                   post_activation: bool = False) -> np.ndarray:
        """kbar^2_ab at layers 1..L (k x k) from the input curvature ``kappa0``.

        ``law_name`` is curvature_map (one curve, k = 1), curvature_map_directions or
        curvature_map_post (delta_ab from the entry's position).
        """
        q = self.lengths(q0, depth)
        sw = self.sigma_w
        k = kappa0.shape[0]
        delta = np.eye(k)
        uses_delta = law_name != "curvature_map"

        def apply(step, kappa, variance):
            out = np.empty_like(kappa)
            for a in range(k):
                for b in range(k):
                    extra = {"delta_ab": delta[a, b]} if uses_delta else {}
                    out[a, b] = step(kappa2=kappa[a, b], q=variance, sigma_w=sw, **extra)
            return out

        current = np.asarray(kappa0, dtype=np.float64)
        out = []
        for layer in range(1, depth + 1):
            if post_activation:
                current = apply(self._fn(law_name), current, q[layer - 1])
            elif layer == 1:
                current = apply(self._fn(law_name, linear=True), current, q0)
            else:
                current = apply(self._fn(law_name), current, q[layer - 2])
            out.append(current)
        return np.array(out)

    def dominoes(self, q0: float, depth: int) -> np.ndarray:
        """Diagonal of (B^l...B^1)^T (B^l...B^1): prod_{j<=l} domino(q^j, L=1), l = 1..L
        (the domino law at a fixed q is chi1^L; off the fixed point the factors differ)."""
        q = self.lengths(q0, depth)
        step = self._fn("domino")
        factors = [step(q=value, sigma_w=self.sigma_w, L=1) for value in q]
        return np.cumprod(factors)

    def gradients(self, q0: float, depth: int) -> np.ndarray:
        """qtilde^l / qtilde^L for l = 1..L: prod_{j=l}^{L-1} gradient_norm(q^j, L=1)."""
        q = self.lengths(q0, depth)
        step = self._fn("gradient_norm")
        factors = np.array([step(q=value, sigma_w=self.sigma_w, L=1) for value in q[:-1]])
        return np.append(np.cumprod(factors[::-1])[::-1], 1.0)

    def stretches(self, q0: float, depth: int) -> np.ndarray:
        """chi1(q^l), l = 1..L: the post-activation metric stretch of layer l."""
        q = self.lengths(q0, depth)
        step = self._fn("chi1")
        return np.array([step(q=value, sigma_w=self.sigma_w) for value in q])


def edge_of_chaos(activation: str | Activation, sigma_b: float, low: float = 0.2,
                  high: float = 6.0, iterations: int = 400) -> float:
    """sigma_w with chi1(q*) = 1 at this sigma_b (the edge of chaos), from the laws.

    q* is reached by iterating the length map from q = 1 (vectorised over a grid of sigma_w,
    then refined twice); where the map has no finite fixed point (ReLU, linear at or beyond
    the edge) the iterate after ``iterations`` steps stands in for it, which is where chi1
    no longer depends on q anyway. Used to draw settings near the edge of chaos.
    """
    act = get_activation(activation)
    length = derive("length_map", act).to_numpy()
    chi1 = derive("chi1", act).to_numpy()

    def excess(sigma_w: np.ndarray) -> np.ndarray:
        q = np.ones_like(sigma_w)
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(iterations):
                q = np.minimum(np.asarray(length(q=q, sigma_w=sigma_w, sigma_b=sigma_b),
                                          dtype=float) * np.ones_like(sigma_w), 1e12)
            return np.asarray(chi1(q=q, sigma_w=sigma_w), dtype=float) * np.ones_like(q) - 1.0

    for _ in range(3):
        grid = np.linspace(low, high, 41)
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
    return float((low + high) / 2)
