"""The Jacobian spectrum against sampled networks (issue 15).

Each of R independent networks of width n and depth L (square layers, Gaussian or Haar
orthogonal weights) is evaluated at an input whose first-layer pre-activations have the fixed
point's variance q*; the squared singular values of its input-output Jacobian
J = D_L W_L ... D_1 W_1 (``RandomNetwork.jacobian_product``) are computed with an SVD. Per
network the statistic is the vector of normalised traces (1/n) tr (J J^T)^k, k = 1..3; the
mean over networks and its standard error std/sqrt(R) are compared with the free-probability
moments of ``symfield.dynamics.spectrum.jacobian_spectrum``.

Honest tolerances. The standard error covers the sampling noise; the free-probability moments
are the n -> infinity limit, and a finite network deviates from it by O(L k^2 / n) relative
(fluctuations of q^l about q*, the finite-n corrections of products of random matrices). So a
moment agrees when |mean - prediction| <= z SE + finite_width_allowance, the allowance being
``FINITE_WIDTH_FACTOR`` k^2 L/n times the prediction. Calibrated on erf, tanh, ReLU and linear
networks at n = 256..1024 (the measured bias stays below a third of it); a wrong formula is
rejected when its error exceeds that budget (tests/test_spectrum_sampled.py has the power test).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np

from ..activations import Activation, get_activation
from ..dynamics.spectrum import JacobianSpectrum, check_depth, check_weights, jacobian_spectrum
from ..errors import InvalidValueError, quoted
from .networks import Estimate, replicate_networks
from .networks.seeds import SeedLike, child_sequence

#: Relative allowance per unit k^2 L/n for the finite-width deviation of the k-th moment.
FINITE_WIDTH_FACTOR = 1.0
DEFAULT_Z = 5.0
MIN_WIDTH, MAX_WIDTH = 16, 2048
MAX_NETWORKS = 1000
MAX_SAMPLED_DEPTH = 200
#: Largest n^3 L R of one check (SVDs and Jacobian products), about a minute of work.
MAX_WORK = 2.0e12


@dataclass
class SpectrumCheck:
    """Sampled moments of the eigenvalues of J J^T against the free-probability prediction."""

    prediction: JacobianSpectrum
    width: int
    networks: int
    estimate: Estimate              # mean and standard error of (1/n) tr (JJ^T)^k, k = 1..3
    eigenvalues: np.ndarray         # (networks, width): every network's squared singular values
    z: float = DEFAULT_Z

    def predicted(self, order: int) -> float:
        """The free-probability moment m_order (float64)."""
        return float({1: self.prediction.m1, 2: self.prediction.m2,
                      3: self.prediction.m3}[_order(order)])

    def sampled(self, order: int) -> tuple[float, float]:
        """(mean, standard error) of the sampled order-th moment."""
        k = _order(order) - 1
        return float(self.estimate.mean[k]), float(self.estimate.standard_error[k])

    def allowance(self, order: int) -> float:
        """The finite-width allowance for the order-th moment (see the module notes)."""
        k = _order(order)
        return FINITE_WIDTH_FACTOR * k * k * self.prediction.depth / self.width \
            * abs(self.predicted(k))

    def agrees(self, order: int, value: float | None = None) -> bool:
        """Whether the sampled moment agrees with ``value`` (default: the prediction) within
        z standard errors plus the finite-width allowance."""
        reference = self.predicted(order) if value is None else float(value)
        mean, error = self.sampled(order)
        return abs(mean - reference) <= self.z * error + self.allowance(order)

    def histogram(self, bins: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bin edges, sampled probability per bin, predicted probability per bin) of the
        eigenvalues, the predicted ones integrating the density over each bin but the first,
        which gets the rest of the probability (the atom at 0 and the integrable singularity
        of the density at 0 that a grid cannot resolve)."""
        if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 1000:
            raise InvalidValueError(f"bins must be an integer from 2 to 1000 "
                                    f"(got {quoted(bins)})")
        values = self.eigenvalues.ravel()
        top = max(float(values.max()), self.prediction.support_edge) * 1.0001
        edges = np.linspace(0.0, top, bins + 1)
        observed = np.histogram(values, bins=edges)[0] / values.size
        fine = np.linspace(edges[1], top, 40 * (bins - 1) + 1)
        density = self.prediction.density(fine)
        cumulative = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2
                                                      * np.diff(fine))])
        predicted = np.empty(bins)
        predicted[1:] = np.diff(np.interp(edges[1:], fine, cumulative))
        predicted[0] = 1.0 - predicted[1:].sum()
        return edges, observed, predicted

    def total_variation(self, bins: int = 40) -> float:
        """Half the summed |sampled - predicted| bin probabilities."""
        _edges, observed, predicted = self.histogram(bins)
        return 0.5 * float(np.abs(observed - predicted).sum())

    def __str__(self) -> str:
        rows = [f"sampled Jacobian spectrum: {self.prediction.activation.name}, "
                f"{self.prediction.weights} weights, width {self.width}, depth "
                f"{self.prediction.depth}, {self.networks} networks"]
        for k in (1, 2, 3):
            mean, error = self.sampled(k)
            rows.append(f"  m{k}: sampled {mean:.6g} +- {error:.2g}, predicted "
                        f"{self.predicted(k):.6g} ({'agrees' if self.agrees(k) else 'DIFFERS'})")
        return "\n".join(rows)


def _order(order: object) -> int:
    if isinstance(order, bool) or order not in (1, 2, 3):
        raise InvalidValueError(f"the moment order must be 1, 2 or 3 (got {quoted(order)})")
    return int(order)


def _count(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise InvalidValueError(f"{name} must be an integer from {low} to {high} "
                                f"(got {quoted(value)})")
    return int(value)


def fixed_point_input(prediction: JacobianSpectrum, width: int,
                      rng: np.random.Generator) -> np.ndarray:
    """An input x^0 with |x^0|^2/n = A* = (q* - sigma_b^2)/sigma_w^2, so that the first
    pre-activations already have the fixed point's variance; |x^0|^2/n = 1 when the moments of
    phi'^2 do not depend on q (at q* = 0 a ReLU network's slopes would all be phi'(0))."""
    if prediction.q_star is None or prediction.q_independent:
        activity = 1.0
    else:
        activity = float((prediction.q_star - prediction.sigma_b ** 2) / prediction.sigma_w ** 2)
    direction = rng.standard_normal(width)
    return direction * math.sqrt(max(activity, 0.0) * width) / np.linalg.norm(direction)


def check_jacobian_spectrum(activation: str | Activation, sigma_w: object, sigma_b: object,
                            depth: int, weights: str = "gaussian", *, width: int = 256,
                            networks: int = 8, seed: SeedLike = 0,
                            prediction: JacobianSpectrum | None = None,
                            z: float = DEFAULT_Z) -> SpectrumCheck:
    """Sample ``networks`` networks of the given ``width`` and compare the moments of the
    squared singular values of their Jacobians with ``jacobian_spectrum``."""
    act = get_activation(activation)
    depth = _count(check_depth(depth), "depth", 1, MAX_SAMPLED_DEPTH)
    weights = check_weights(weights)
    width = _count(width, "width", MIN_WIDTH, MAX_WIDTH)
    networks = _count(networks, "networks", 2, MAX_NETWORKS)
    if isinstance(z, bool) or not isinstance(z, (int, float)) or not 0 < z < 1e6:
        raise InvalidValueError(f"z must be a number from 0 to 1e6 (standard errors; got "
                                f"{quoted(z)})")
    if float(width) ** 3 * depth * networks > MAX_WORK:
        raise InvalidValueError(f"width^3 x depth x networks must be at most {MAX_WORK:g} "
                                f"(got {width}^3 x {depth} x {networks}); use fewer networks or "
                                f"a smaller width")
    if prediction is None:
        prediction = jacobian_spectrum(act, sigma_w, sigma_b, depth, weights)
    elif not isinstance(prediction, JacobianSpectrum) or prediction.depth != depth \
            or prediction.weights != weights:
        raise InvalidValueError("prediction must be the JacobianSpectrum of the same depth and "
                                "weights")
    spectra: list[np.ndarray] = []

    def statistic(network) -> np.ndarray:
        # key 0 below the network's root: unused by its layers (keys 1..L)
        rng = np.random.default_rng(child_sequence(network.stream, 0))
        jacobian = network.jacobian_product(fixed_point_input(prediction, width, rng))
        squared = np.linalg.svd(jacobian, compute_uv=False) ** 2
        spectra.append(squared)
        return np.array([squared.mean(), (squared**2).mean(), (squared**3).mean()])

    with mpmath.workdps(20):
        scale_w, scale_b = float(prediction.sigma_w), float(prediction.sigma_b)
    estimate = replicate_networks(statistic, act, scale_w, scale_b, [width] * (depth + 1),
                                  networks, seed, weights=weights)
    return SpectrumCheck(prediction, width, networks, estimate, np.array(spectra), float(z))


__all__ = ["DEFAULT_Z", "FINITE_WIDTH_FACTOR", "SpectrumCheck", "check_jacobian_spectrum",
           "fixed_point_input"]
