"""The lazy (NTK) regime: wide networks trained by gradient descent stay near their
initialisation, and their function follows the tangent-kernel prediction.

``lazy_training`` trains finite networks (``networks.Network``, hand-written
backpropagation in numpy) by full-batch gradient descent on a small regression task —
inputs on the sphere |x|^2 = d, targets from a fixed smooth function, the squared loss
L = (1/2N) sum_i (f(x_i) - y_i)^2 — until the training loss falls to ``target_loss`` times its
initial value, at several widths n and for several seeds, and measures per run:

* ``relative_weight_change``: max over layers of ||V_T - V_0||_F / ||V_0||_F;
* ``max_weight_change``: max over layers of max_ij |V_T - V_0|_ij / rms(V_0) (the typical
  initial entry);
* ``kernel_change``: ||Theta_T - Theta_0||_F / ||Theta_0||_F, the empirical tangent kernel on
  the training and test points at the end and at the start;
* ``ntk_init_error``: ||Theta_0 - Theta_oo||_F / ||Theta_oo||_F, the empirical kernel at
  initialisation against the engine's infinite-width one (``nngp_ntk`` for the NTK
  parameterisation; the Fisher order parameters for the others);
* ``function_distance``: the RMS distance on the test points between the trained network and
  the NTK prediction f_0(x) + Theta(x, X) Theta(X, X)^-1 [I - (I - eta Theta(X, X)/N)^t]
  (y - f_0(X)) with the engine's Theta_oo — gradient descent's exact linear-model solution
  after the same t steps (t -> oo gives f_0 + Theta Theta^-1 (y - f_0); continuous time
  gives I - e^(-eta Theta t / N));
* ``function_distance_linearized``: the same with the empirical Theta_0 (the network
  against its own linearisation);
* ``time_course_distance``: the largest RMS distance on the training points between f_t and
  the engine's prediction over the whole run.

Theory (NTK parameterisation, fixed input dimension, O(1) training time): weights move
O(n^-1/2) relative to their size in the first and last layers (Delta w_ij = O(1/n) against
w_ij = O(1/sqrt(n)) in the standard scale; O(1/n) for square hidden-to-hidden layers), the
kernel moves O(1/n) for smooth activations (Dyer & Gur-Ari 2019; the lazy bound of Lee et al.
2019 is O(n^-1/2)) and O(n^-3/4) with kinks (``theory_exponents``), the empirical kernel
fluctuates O(n^-1/2) around the limit, so the engine's prediction is O(n^-1/2) away and the
linearisation as close as the kernel's change. In the mean-field parameterisation (output
scaled by 1/n, learning rate by n) weights move O(1): no decay. The maximum over a layer's
entries carries an extreme-value factor (sqrt(log n) to log n) that makes its fitted slope
up to 1/ln(entries) shallower at finite widths: its theory is a range.

The exponents are fitted across widths by least squares on (log n, log value) of every run,
with a t-distribution confidence interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ..activations import get_activation
from ..errors import InvalidValueError, SymfieldError
from ..laws.evaluation import Float64Context
from ..laws.fisher import propagate_order_parameters, tangent_kernels
from ..laws.recursion import nngp_ntk
from ..numbers import check_scales
from .networks import PARAMETERIZATIONS, Network, network_parameter_count
from .validation import (MAX_NETWORK_WIDTH, check_integer, check_positive, check_seed,
                         check_widths)

#: The measurements whose exponents are fitted.
QUANTITIES = ("relative_weight_change", "max_weight_change", "kernel_change", "ntk_init_error",
              "function_distance", "function_distance_linearized", "time_course_distance")


def theory_exponents(parameterization: str, depth: int, kinks: bool = False
                     ) -> dict[str, float | None]:
    """The exponent of the width each measurement should show at large width (O(1) training
    time, fixed input dimension; see the module docstring). None: no single power law.

    NTK parameterisation: the first and last layers move O(n^-1/2) relative to their size,
    the initial kernel is O(n^-1/2) from its limit, and the kernel moves O(1/n) for a smooth
    activation (the random signs of the output weights cancel the O(n^-1/2) unit moves) but
    O(n^-3/4) for an activation with kinks (ReLU): about sqrt(n) units cross a kink, each
    changing the kernel by O(1/n) with a random sign; the network's distance to its own
    linearisation follows the kernel's change. Standard parameterisation with a learning rate
    O(1/n) (2/lambda_max): the output layer moves O(n^-1/2) and dominates the kernel; with one
    hidden layer (depth 2) the first layer is nearly frozen and a smooth network's kernel
    moves O(1/n^2) (with kinks, rare crossings compete: no single law); deeper hidden
    layers move as in the NTK parameterisation. Mean field (depth 2: output scaled by 1/n,
    learning rate by n): weights and kernel move O(1)."""
    if parameterization == "mean_field":
        moving: dict[str, float | None] = dict.fromkeys(QUANTITIES, 0.0)
        moving["ntk_init_error"] = -0.5
        return moving
    if parameterization == "standard" and depth == 2:
        kernel = None if kinks else -2.0
    else:
        kernel = -0.75 if kinks else -1.0
    return {"relative_weight_change": -0.5, "max_weight_change": -0.5,
            "kernel_change": kernel, "ntk_init_error": -0.5, "function_distance": -0.5,
            "function_distance_linearized": kernel, "time_course_distance": -0.5}


#: Confidence level of the exponents' intervals.
CONFIDENCE = 0.95
#: Most gradient steps of one run, and default bound of the floating-point work.
MAX_STEPS = 1_000_000
DEFAULT_MAX_FLOPS = 2e12
#: A loss this many times the initial one (or not finite) means the run diverged.
DIVERGENCE_FACTOR = 1e6
#: Steps allowed to a run whose given learning rate exceeds 2/lambda_max (it diverges).
UNSTABLE_STEPS = 10_000
#: Input dimension of the regression task.
DEFAULT_INPUT_DIM = 4


class TrainingDiverged(SymfieldError):
    """A gradient-descent run whose loss blew up (the learning rate is too large)."""

    def __init__(self, message: str, width: int, step: int, loss: float) -> None:
        super().__init__(message)
        self.width, self.step, self.loss = width, step, loss


@dataclass
class TrainingRun:
    """One network trained at one width: its measurements and its time course."""

    width: int
    replica: int
    parameters: int
    lr: float
    steps: int
    initial_loss: float
    final_loss: float
    reached_target: bool
    layer_relative_change: list[float]
    layer_max_change: list[float]
    measurements: dict[str, float]
    #: Steps at which the training predictions were recorded, and the RMS distance to the
    #: engine's prediction there.
    checkpoints: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    time_course: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


@dataclass
class Exponent:
    """A fitted exponent with its confidence interval, and the theory's exponent: a number,
    or a range (low, high) when a slowly varying factor shifts the slope at finite widths
    (the maximum over n entries carries an extreme-value factor between sqrt(log n) and
    log n)."""

    slope: float
    low: float
    high: float
    theory: float | None
    theory_range: tuple[float, float] | None = None

    @property
    def consistent(self) -> bool | None:
        """Whether the confidence interval meets the theory's exponent (or range)."""
        if self.theory is None:
            return None
        low, high = self.theory_range or (self.theory, self.theory)
        return self.low <= high and low <= self.high

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.slope, self.low, self.high)


@dataclass
class LazyTrainingReport:
    """Runs per width and seed, the exponents fitted across widths, and the settings."""

    activation: str
    sigma_w: float
    sigma_b: float
    widths: tuple[int, ...]
    depth: int
    n_train: int
    n_test: int
    input_dim: int
    parameterization: str
    seed: int
    replicas: int
    target_loss: float
    lr_fraction: float | None
    runs: list[TrainingRun]
    fits: dict[str, Exponent]

    @property
    def exponents(self) -> dict[str, tuple[float, float, float]]:
        """Quantity -> (slope, low, high): the fitted exponent of the width and its
        confidence interval (CONFIDENCE)."""
        return {name: fit.as_tuple() for name, fit in self.fits.items()}

    @property
    def theory(self) -> dict[str, float | None]:
        return {name: fit.theory for name, fit in self.fits.items()}

    def runs_at(self, width: int) -> list[TrainingRun]:
        return [r for r in self.runs if r.width == width]

    def mean(self, quantity: str) -> np.ndarray:
        """The geometric mean of a quantity over seeds, per width."""
        return np.array([math.exp(np.mean([math.log(r.measurements[quantity])
                                           for r in self.runs_at(w)])) for w in self.widths])

    def format(self) -> str:
        lr = ("lr = {:.3g} x 2/lambda_max(Theta_0/N)".format(self.lr_fraction)
              if self.lr_fraction is not None else "lr given")
        lines = [
            f"Lazy training of {self.activation} networks ({self.parameterization} "
            f"parameterisation), sigma_w = {self.sigma_w}, sigma_b = {self.sigma_b}, depth "
            f"{self.depth}, input dimension {self.input_dim}",
            f"  {self.n_train} training / {self.n_test} test points, full-batch gradient "
            f"descent to loss <= {self.target_loss:g} x initial, {lr}; {self.replicas} seeds "
            f"per width (seed {self.seed})",
            "  width  params   steps  final/init  " + "  ".join(f"{q[:14]:>14s}"
                                                             for q in QUANTITIES),
        ]
        for w in self.widths:
            runs = self.runs_at(w)
            steps = int(np.median([r.steps for r in runs]))
            ratio = np.median([r.final_loss / r.initial_loss for r in runs])
            cells = "  ".join(f"{v:14.4g}" for v in (self.mean(q)[self.widths.index(w)]
                                                     for q in QUANTITIES))
            flag = "" if all(r.reached_target for r in runs) else "  (target not reached)"
            lines.append(f"  {w:5d} {runs[0].parameters:8d} {steps:7d} {ratio:11.2e}  "
                         f"{cells}{flag}")
        lines.append(f"  exponents of the width ({CONFIDENCE:.0%} interval) vs theory:")
        for name, fit in self.fits.items():
            shown = "" if fit.theory is None else f"{fit.theory:+.2f}" if \
                fit.theory_range is None else \
                f"{fit.theory:+.2f} (range {fit.theory_range[0]:+.2f}..{fit.theory_range[1]:+.2f})"
            verdict = "" if fit.theory is None else \
                (f"theory {shown}: " + ("consistent" if fit.consistent else "NOT consistent"))
            lines.append(f"    {name:30s} {fit.slope:+.3f}  [{fit.low:+.3f}, {fit.high:+.3f}]"
                         f"  {verdict}")
        return "\n".join(lines)

    __str__ = format

    def as_dict(self) -> dict:
        return {
            "activation": self.activation, "sigma_w": self.sigma_w, "sigma_b": self.sigma_b,
            "widths": list(self.widths), "depth": self.depth, "n_train": self.n_train,
            "n_test": self.n_test, "input_dim": self.input_dim,
            "parameterization": self.parameterization, "seed": self.seed,
            "replicas": self.replicas, "target_loss": self.target_loss,
            "exponents": {k: list(v) for k, v in self.exponents.items()},
            "theory": self.theory,
            "runs": [{"width": r.width, "replica": r.replica, "parameters": r.parameters,
                      "lr": r.lr, "steps": r.steps, "initial_loss": r.initial_loss,
                      "final_loss": r.final_loss, "reached_target": r.reached_target,
                      "layer_relative_change": r.layer_relative_change,
                      "layer_max_change": r.layer_max_change, **r.measurements}
                     for r in self.runs],
        }

    def plot(self, path=None):
        """The log-log scaling (see ``symfield.learning.plots.lazy_scaling``)."""
        from .plots import lazy_scaling

        return lazy_scaling(self, path)


# ------------------------------------------------------------------------------------------
# The task
# ------------------------------------------------------------------------------------------
def regression_task(n_points: int, input_dim: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Inputs uniform on the sphere |x|^2 = d and targets y = sin(2 a.x) + tanh(2 b.x)/2 for
    fixed orthonormal directions a, b (the same function for every seed)."""
    x = rng.standard_normal((n_points, input_dim))
    x *= np.sqrt(input_dim) / np.linalg.norm(x, axis=1, keepdims=True)
    a = np.ones(input_dim) / np.sqrt(input_dim)
    b = np.array([(-1.0) ** i for i in range(input_dim)])
    b -= (b @ a) * a
    norm = np.linalg.norm(b)
    b = b / norm if norm > 0 else np.zeros(input_dim)
    return x, np.sin(2 * x @ a) + 0.5 * np.tanh(2 * x @ b)


def infinite_width_kernel(activation, inputs: np.ndarray, widths: tuple[int, ...],
                          sigma_w: float, sigma_b: float, parameterization: str) -> np.ndarray:
    """The engine's tangent kernel of the given parameterisation on the rows of ``inputs``:
    ``nngp_ntk`` for ntk; for standard, sum_l qtilde^l (n_{l-1} qhat^{l-1} + 1) from the
    Fisher order parameters; for mean_field, (Theta_ntk - sigma_b^2)/n_{L-1} (output scaled by
    1/n, no output bias)."""
    depth = len(widths) - 1
    if parameterization != "standard":
        theta = nngp_ntk(activation, inputs, depth, sigma_w, sigma_b)[1]
        if parameterization == "ntk":
            return theta
        return (theta - sigma_b**2) / widths[-2]
    context = Float64Context()
    count = inputs.shape[0]
    rows, cols = np.triu_indices(count, 1)
    gram = inputs @ inputs.T / inputs.shape[1]
    order = propagate_order_parameters(context, get_activation(activation), widths,
                                       np.diagonal(gram).copy(), rows, cols, gram[rows, cols],
                                       sigma_w, sigma_b)
    diagonal, off = tangent_kernels(context, order, sigma_w, sigma_b)["standard"]
    out = np.empty((count, count))
    out[np.arange(count), np.arange(count)] = diagonal
    out[rows, cols] = off
    out[cols, rows] = off
    return out


def linear_prediction(kernel: np.ndarray, train: int, f0: np.ndarray, targets: np.ndarray,
                      lr: float, steps: np.ndarray) -> np.ndarray:
    """Gradient descent on the linear model with tangent kernel ``kernel`` (rows/columns: the
    ``train`` training points first, then the test points): f_t on every point after each of
    ``steps``, shape (len(steps), points). On the training points
    f_t - y = (I - lr Theta/N)^t (f_0 - y); elsewhere Theta(x, X) Theta^-1 carries the same
    change."""
    theta = kernel[:train, :train]
    values, vectors = np.linalg.eigh(theta)
    values = np.maximum(values, values[-1] * 1e-15)
    residual = vectors.T @ (f0[:train] - targets)
    factor = 1 - lr * values / train
    out = np.empty((len(steps), kernel.shape[0]))
    for i, t in enumerate(steps):
        change = vectors @ ((factor ** t - 1) * residual)  # f_t - f_0 on the training points
        out[i, :train] = f0[:train] + change
        # Theta(x, X) Theta^-1 (f_t - f_0)(X), through the eigenbasis
        coefficients = vectors @ ((vectors.T @ change) / values)
        out[i, train:] = f0[train:] + kernel[train:, :train] @ coefficients
    return out


def _steps_to_target(kernel: np.ndarray, residual: np.ndarray, lr: float, target: float
                     ) -> int | None:
    """Steps the linear model needs to bring the loss to ``target`` x initial (None: more
    than MAX_STEPS)."""
    train = len(residual)
    values, vectors = np.linalg.eigh(kernel)
    weights = (vectors.T @ residual) ** 2
    factor = np.abs(1 - lr * values / train)
    total = weights.sum()

    def ratio(t: int) -> float:
        return float(np.sum(weights * factor ** (2 * t)) / total)

    if ratio(MAX_STEPS) > target:
        return None
    low, high = 0, 1
    while ratio(high) > target:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if ratio(mid) > target else (low, mid)
    return high


def _checkpoints(steps: int, count: int = 24) -> np.ndarray:
    return np.unique(np.concatenate([[0], np.geomspace(1, max(steps, 1), count).astype(int)]))


# ------------------------------------------------------------------------------------------
# One run
# ------------------------------------------------------------------------------------------
def _train(network: Network, inputs: np.ndarray, targets: np.ndarray, train: int, lr: float,
           max_steps: int, target_loss: float, record: np.ndarray, width: int):
    """Gradient descent until the loss is target_loss x initial (or max_steps); returns the
    steps taken, the initial and final loss, and the training predictions at ``record``."""
    x_train, y_train = inputs[:train], targets
    recorded = {}
    initial = None
    record_set = set(int(s) for s in record)
    step = 0
    while True:
        cache = network.forward(x_train)
        output = cache.output[:, 0]
        residual = output - y_train
        loss = 0.5 * float(residual @ residual) / train
        if initial is None:
            initial = loss
        if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(initial, 1e-300):
            shown = "not finite" if not math.isfinite(loss) else f"{loss:.3g}"
            raise TrainingDiverged(
                f"training diverged at width {width}: the loss is {shown} at step {step} "
                f"(initial loss {initial:.3g}) with lr = {lr:.4g}; use a smaller learning "
                "rate (the default is a fraction of 2/lambda_max of the initial NTK Gram)",
                width, step, loss)
        if step in record_set:
            recorded[step] = output.copy()
        if loss <= target_loss * initial or step >= max_steps:
            return step, initial, loss, recorded
        grads_w, grads_b = network.gradient(cache, residual[:, None] / train)
        for layer in range(network.depth):
            network.weights[layer] -= lr * grads_w[layer]
            network.biases[layer] -= lr * grads_b[layer]
        step += 1


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _run(act, widths, sw, sb, parameterization, inputs, targets, train, lr, lr_fraction,
         steps, target_loss, rng, replica, theta_limit, budget: _Budget) -> TrainingRun:
    phi, dphi = act.numpy_functions[:2]
    network = Network(phi, dphi, widths, sw, sb, parameterization, rng)
    weights0, _ = network.copy_parameters()
    with np.errstate(all="ignore"):
        theta0 = network.tangent_kernel(inputs)
        f0 = network(inputs)[:, 0]
    if not (np.all(np.isfinite(theta0)) and np.all(np.isfinite(f0))):
        raise InvalidValueError(f"the network of width {widths[1]} overflows float64 at "
                                "initialisation; use smaller sigma_w or fewer layers")
    top = float(np.linalg.eigvalsh(theta0[:train, :train])[-1]) / train
    rate = lr if lr is not None else lr_fraction * 2 / top
    unstable = rate * top >= 2  # a given lr beyond the linear model's stability edge
    if steps is None and unstable:
        # it diverges within a few hundred steps; the run reports where
        max_steps = expected = UNSTABLE_STEPS
    elif steps is None:
        needed = _steps_to_target(theta0[:train, :train], f0[:train] - targets, rate,
                                  target_loss)
        if needed is None:
            raise InvalidValueError(
                f"the target loss {target_loss:g} x initial is out of reach of {MAX_STEPS} "
                f"gradient steps at width {widths[1]} with lr = {rate:.3g} (the NTK Gram's "
                "small eigenvalues converge too slowly); raise target_loss or the learning "
                "rate, or give steps")
        # the finite network's kernel moves, so it may need more steps than its linear model
        max_steps = min(MAX_STEPS, 10 * needed + 1000)
        expected = 2 * needed
    else:
        max_steps = expected = steps
    budget.check(_flops(widths, train, expected, inputs.shape[0] - train))
    record = _checkpoints(max_steps)
    with np.errstate(all="ignore"):
        taken, initial, final, recorded = _train(network, inputs, targets, train, rate,
                                                 max_steps, target_loss, record, widths[1])
        theta_t = network.tangent_kernel(inputs)
        f_t = network(inputs)[:, 0]
    if unstable:
        raise InvalidValueError(
            f"lr = {rate:.4g} exceeds 2/lambda_max = {2 / top:.4g} of the initial NTK Gram at "
            f"width {widths[1]}: the linearised (NTK) dynamics diverge, so there is no lazy "
            f"prediction to compare (the network itself reached loss {final:.3g} from "
            f"{initial:.3g} in {taken} steps: the catapult phase); use a smaller lr")
    kept = np.array(sorted(recorded))
    layer_relative = [_relative(w, w0) for w, w0 in zip(network.weights, weights0)]
    layer_max = [float(np.max(np.abs(w - w0)) / np.sqrt(np.mean(w0 ** 2)))
                 for w, w0 in zip(network.weights, weights0)]
    predicted = linear_prediction(theta_limit, train, f0, targets, rate,
                                  np.append(kept, taken))
    linearized = linear_prediction(theta0, train, f0, targets, rate, np.array([taken]))
    course = np.array([np.sqrt(np.mean((recorded[s] - predicted[i, :train]) ** 2))
                       for i, s in enumerate(kept)])
    test = slice(train, None)
    measurements = {
        "relative_weight_change": max(layer_relative),
        "max_weight_change": max(layer_max),
        "kernel_change": _relative(theta_t, theta0),
        "ntk_init_error": _relative(theta0, theta_limit),
        "function_distance": float(np.sqrt(np.mean((f_t[test] - predicted[-1, test]) ** 2))),
        "function_distance_linearized": float(np.sqrt(np.mean(
            (f_t[test] - linearized[-1, test]) ** 2))),
        "time_course_distance": float(course.max()) if course.size else 0.0,
    }
    return TrainingRun(widths[1], replica, network.parameter_count, rate, taken, initial,
                       final, final <= target_loss * initial, layer_relative, layer_max,
                       measurements, kept, course)


def fit_exponent(widths: np.ndarray, values: np.ndarray, theory: float | None,
                 confidence: float = CONFIDENCE) -> Exponent:
    """Least-squares slope of log(value) against log(width) over every run, with a
    t-distribution interval (the residuals hold both the seed noise and any departure from
    a power law over the widths)."""
    x, y = np.log(widths), np.log(values)
    if len(np.unique(x)) < 2 or len(x) < 3:
        return Exponent(float("nan"), -math.inf, math.inf, theory)
    fit = stats.linregress(x, y)
    spread = stats.t.ppf(0.5 + confidence / 2, len(x) - 2) * fit.stderr
    return Exponent(float(fit.slope), float(fit.slope - spread), float(fit.slope + spread),
                    theory)


def _flops(widths: tuple[int, ...], train: int, steps: int, test: int) -> float:
    """Floating-point work of one run: forward and backward passes per step, and the two
    tangent kernels on every point."""
    products = sum(widths[l] * widths[l - 1] for l in range(1, len(widths)))
    points = train + test
    return 6.0 * products * train * steps + 2 * (4.0 * products * points
                                                 + 2.0 * points**2 * sum(widths[:-1]))


#: The fewest steps a default run is assumed to take when the work is estimated up front.
MIN_DEFAULT_STEPS = 100


class _Budget:
    """The floating-point work allowed to the runs of one call."""

    def __init__(self, limit: float, default_steps: bool) -> None:
        self.limit, self.used, self.default_steps = limit, 0.0, default_steps

    def check(self, flops: float, before: bool = False) -> None:
        if self.used + flops > self.limit:
            when = (f" (at least {MIN_DEFAULT_STEPS} steps per run)" if before and
                    self.default_steps else "" if before else
                    " (the steps the runs need to reach the target loss)")
            raise InvalidValueError(
                f"the runs need about {self.used + flops:.2g} floating-point operations{when}, "
                f"more than max_flops = {self.limit:.2g}; use smaller widths, fewer replicas, "
                "steps or a larger target_loss (or raise max_flops)")
        if not before:
            self.used += flops


def lazy_training(activation, sigma_w: object, sigma_b: object, widths=(64, 128, 256, 512),
                  depth: int = 2, n_train: int = 32, n_test: int = 32, steps: int | None = None,
                  lr: float | None = None, parameterization: str = "ntk", seed: int = 0, *,
                  replicas: int = 3, input_dim: int = DEFAULT_INPUT_DIM,
                  target_loss: float = 1e-3, lr_fraction: float = 0.5,
                  max_flops: float | None = None) -> LazyTrainingReport:
    """Train networks of each width by full-batch gradient descent and measure how far they
    move from initialisation and from the NTK prediction (see the module docstring).

    ``depth`` counts the weight layers: depth - 1 hidden layers of the given width, then one
    linear output (depth 2: one hidden layer). ``lr`` None: ``lr_fraction`` x 2/lambda_max of
    the initial NTK Gram Theta_0(X, X)/N, per run (stable for the linear model at any width
    and parameterisation); a given ``lr`` is used for every width. ``steps`` None: train until
    the loss is ``target_loss`` x its initial value (at most ten times the steps the linear
    model needs, plus 1000); otherwise at most ``steps``. ``replicas`` seeds per width; the data set of a
    seed is shared by the widths.
    """
    act = get_activation(activation)
    sw, sb = (float(v) for v in check_scales(sigma_w, sigma_b))
    hidden = check_widths(widths, "widths", MAX_NETWORK_WIDTH, max_length=64)
    depth = check_integer("depth", depth, 1, 64)
    if depth < 2:
        raise InvalidValueError("depth must be >= 2 (got 1): a network of depth 1 is linear in "
                                "its parameters and has no hidden width to vary")
    if parameterization not in PARAMETERIZATIONS:
        raise InvalidValueError(f"parameterization must be one of "
                                f"{', '.join(PARAMETERIZATIONS)} (got {parameterization!r})")
    n_train = check_integer("n_train", n_train, 2, 4096)
    n_test = check_integer("n_test", n_test, 1, 4096)
    if steps is not None:
        steps = check_integer("steps", steps, 1, MAX_STEPS)
    if lr is not None:
        lr = check_positive("lr", lr)
    lr_fraction = check_positive("lr_fraction", lr_fraction, 1.0)
    target_loss = check_positive("target_loss", target_loss, 1.0)
    seed = check_seed(seed)
    replicas = check_integer("replicas", replicas, 1, 1000)
    input_dim = check_integer("input_dim", input_dim, 1, 4096)
    if len(set(hidden)) < 2 or replicas * len(hidden) < 3:
        raise InvalidValueError(f"the exponent fits need at least two distinct widths and three "
                                f"runs (got widths {list(hidden)} and {replicas} replicas)")
    shapes = [(input_dim,) + (n,) * (depth - 1) + (1,) for n in hidden]
    smallest = min(network_parameter_count(s) for s in shapes)
    if n_train >= smallest:
        raise InvalidValueError(
            f"n_train = {n_train} is not below the {smallest} parameters of the narrowest "
            "network: the regime is not P >> N (use wider networks or fewer training points)")
    limit = DEFAULT_MAX_FLOPS if max_flops is None else check_positive("max_flops", max_flops)
    # before any work: the runs at the fewest steps they could take; each run is checked
    # again against the budget once its step count is known (before it trains)
    budget = _Budget(limit, steps is None)
    budget.check(replicas * sum(_flops(s, n_train, steps or MIN_DEFAULT_STEPS, n_test)
                                for s in shapes), before=True)
    runs = []
    for replica in range(replicas):
        data_rng = np.random.default_rng(np.random.SeedSequence([seed, replica, 0]))
        inputs, targets = regression_task(n_train + n_test, input_dim, data_rng)
        for index, shape in enumerate(shapes):
            limit_kernel = infinite_width_kernel(act, inputs, shape, sw, sb, parameterization)
            rng = np.random.default_rng(np.random.SeedSequence([seed, replica, 1, index]))
            runs.append(_run(act, shape, sw, sb, parameterization, inputs, targets[:n_train],
                             n_train, lr, lr_fraction, steps, target_loss, rng, replica,
                             limit_kernel, budget))
    theory = theory_exponents(parameterization, depth, bool(act.kinks))
    x = np.array([r.width for r in runs], dtype=float)
    # the maximum over the entries of a layer: the extreme-value factor adds up to
    # 1/ln(entries) to the slope at the typical width
    typical = math.exp(np.mean(np.log(x)))
    extreme = 1 / math.log(max(typical * input_dim, 3.0))
    fits = {}
    for name in QUANTITIES:
        values = np.array([r.measurements[name] for r in runs])
        positive = values > 0
        fits[name] = fit_exponent(x[positive], values[positive], theory.get(name))
        if name == "max_weight_change" and theory.get(name) is not None:
            fits[name].theory_range = (theory[name], theory[name] + extreme)
    return LazyTrainingReport(act.name, sw, sb, hidden, depth, n_train, n_test, input_dim,
                              parameterization, seed, replicas, target_loss,
                              None if lr is not None else lr_fraction, runs, fits)


__all__ = ["Exponent", "LazyTrainingReport", "QUANTITIES", "TrainingDiverged",
           "TrainingRun", "fit_exponent", "infinite_width_kernel", "lazy_training",
           "linear_prediction", "regression_task", "theory_exponents"]
