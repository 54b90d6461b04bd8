"""The Fisher statistics measured on finite random networks, against the laws.

For each width n, ``replicas`` independent networks (standard parameterisation, widths
[n_0, n, ..., n, C]) and T fresh inputs x ~ N(0, q_in I) each: the empirical Fisher
F = (1/T) sum_t sum_k grad f_k(x_t) grad f_k(x_t)^T is P x P, but its nonzero spectrum is the
spectrum of the T C x T C Gram matrix G/T of per-example gradients, computed exactly by
backpropagation (``Network.tangent_kernel``). So m_lambda = tr G/(T P),
s_lambda = ||G||_F^2/(T^2 P), lambda_max = lambda_max(G)/T without forming F.

Errors are honest: each replica gives one estimate; the table shows mean +- standard error
over replicas, the relative deviation from the prediction and its z-score. The prediction
is leading order in the width: the finite-width corrections are O(1/n) (s_lambda, whose
off-diagonal Gram entries fluctuate by O(n^(-1/2)) relative, and lambda_max approach the law
from above), so the deviation, not the z-score alone, is what must shrink with the width.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..activations import get_activation
from ..errors import InvalidValueError
from ..numbers import check_scales, to_exact
from .fisher import FisherReport, fisher_statistics
from .networks import Network
from .validation import MAX_NETWORK_WIDTH, check_integer, check_seed, check_widths

#: Default bound of the floating-point work of a check (minutes on a small machine).
DEFAULT_MAX_FLOPS = 1e12
#: Largest Gram matrix (T C) of a check: its eigenvalues cost (T C)^3.
MAX_GRAM = 4096

STATISTICS = ("m_lambda", "s_lambda", "lambda_max", "bulk", "eigenvector_overlap")


@dataclass
class Estimate:
    """Mean and standard error over replicas, and the prediction it is compared with."""

    mean: float
    standard_error: float
    prediction: float

    @property
    def relative_deviation(self) -> float:
        return self.mean / self.prediction - 1 if self.prediction else float("nan")

    @property
    def z(self) -> float:
        return (self.mean - self.prediction) / self.standard_error \
            if self.standard_error > 0 else float("inf") * np.sign(self.mean - self.prediction)


@dataclass
class FisherCheckRow:
    width: int
    widths: tuple[int, ...]
    parameters: int
    prediction: FisherReport
    estimates: dict[str, Estimate]
    #: The nonzero spectrum of F of the first replica (descending).
    spectrum: np.ndarray = field(repr=False)


@dataclass
class FisherCheck:
    """The sampled check of ``fisher_statistics`` at several widths (see the module doc)."""

    activation: str
    sigma_w: float
    sigma_b: float
    depth: int
    input_dim: int | None
    outputs: int
    samples: int
    q_in: float
    replicas: int
    seed: int
    rows: list[FisherCheckRow]

    def format(self) -> str:
        lines = [
            f"Fisher statistics of finite {self.activation} networks (sigma_w = {self.sigma_w}, "
            f"sigma_b = {self.sigma_b}, depth {self.depth}, {self.outputs} output(s), T = "
            f"{self.samples} inputs N(0, {self.q_in} I), {self.replicas} networks per width, "
            f"seed {self.seed})",
            "  each: estimate +- standard error over networks | law | relative deviation (z)",
        ]
        for row in self.rows:
            lines.append(f"  width {row.width} (widths {list(row.widths)}, P = {row.parameters})")
            for name in STATISTICS:
                e = row.estimates[name]
                lines.append(f"    {name:20s} {e.mean:.6g} +- {e.standard_error:.2g} | "
                             f"{e.prediction:.6g} | {e.relative_deviation:+.4f} ({e.z:+.1f})")
        return "\n".join(lines)

    __str__ = format

    def plot(self, path=None):
        """The pathological spectrum (see ``symfield.learning.plots.fisher_spectrum``)."""
        from .plots import fisher_spectrum

        return fisher_spectrum(self, path)


def _flops(widths: tuple[int, ...], samples: int) -> float:
    outputs = widths[-1]
    products = sum(widths[l] * widths[l - 1] for l in range(1, len(widths)))
    gram = (samples * outputs) ** 2 * sum(widths[:-1])
    return 2.0 * samples * products * (1 + outputs) + 4.0 * gram \
        + 10.0 * (samples * outputs) ** 3


def measure(network: Network, inputs: np.ndarray) -> dict[str, float]:
    """The Fisher statistics of one network over these inputs, exactly, from the Gram matrix
    of per-example gradients (and the spectrum)."""
    gram = network.tangent_kernel(inputs)
    samples, outputs = inputs.shape[0], network.widths[-1]
    count = network.parameter_count
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1]
    values, vectors = values[order] / samples, vectors[:, order]
    # F's top eigenvectors are J^T u for the Gram's top eigenvectors u; the law says they are
    # the mean gradients, i.e. u in the span of the per-output indicator vectors
    top = vectors[:, :outputs]
    overlap = sum(float(np.sum(top[k * samples:(k + 1) * samples], axis=0) @
                        np.sum(top[k * samples:(k + 1) * samples], axis=0)) / samples
                  for k in range(outputs)) / outputs
    bulk = values[outputs:] if len(values) > outputs else np.array([0.0])
    return {"m_lambda": float(np.trace(gram)) / (samples * count),
            "s_lambda": float(np.sum(gram * gram)) / (samples**2 * count),
            "lambda_max": float(values[0]), "bulk": float(np.mean(bulk)),
            "eigenvector_overlap": overlap, "spectrum": np.clip(values, 0, None)}


def check_fisher_statistics(activation, sigma_w: object, sigma_b: object,
                            widths=(64, 128, 256, 512), depth: int = 3,
                            input_dim: int | None = None, outputs: int = 1, samples: int = 64,
                            q_in: object = 1, replicas: int = 8, seed: int = 0,
                            max_flops: float | None = None) -> FisherCheck:
    """Measure m_lambda, s_lambda, lambda_max (and the bulk eigenvalue and the direction of the
    top eigenvectors) of finite random networks and compare them with ``fisher_statistics``.

    Each network has ``depth`` layers: ``depth - 1`` hidden layers of the given width and
    ``outputs`` linear outputs; its input dimension is ``input_dim`` (None: the hidden width,
    so that every layer grows with n). ``replicas`` networks per width, each with its own
    ``samples`` inputs; the random streams derive from ``seed``.
    """
    act = get_activation(activation)
    sw, sb = (float(v) for v in check_scales(sigma_w, sigma_b))
    hidden = check_widths(widths, "widths", MAX_NETWORK_WIDTH, max_length=64)
    depth = check_integer("depth", depth, 2, 64)
    if input_dim is not None:
        input_dim = check_integer("input_dim", input_dim, 1, MAX_NETWORK_WIDTH)
    outputs = check_integer("outputs", outputs, 1, 1000)
    samples = check_integer("samples", samples, 2, MAX_GRAM)
    if samples * outputs > MAX_GRAM:
        raise InvalidValueError(f"samples x outputs must be at most {MAX_GRAM} (the Gram "
                                f"matrix's size; got {samples * outputs})")
    q_exact = to_exact(q_in, "q_in")
    if not 0 < q_exact <= 1e6:
        raise InvalidValueError(f"q_in must be in (0, 1e6] (got {q_in!r})")
    replicas = check_integer("replicas", replicas, 2, 10_000)
    seed = check_seed(seed)
    shapes = [((input_dim or n),) + (n,) * (depth - 1) + (outputs,) for n in hidden]
    flops = replicas * sum(_flops(s, samples) for s in shapes)
    limit = DEFAULT_MAX_FLOPS if max_flops is None else max_flops
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
        raise InvalidValueError(f"max_flops must be a positive number (got {max_flops!r})")
    if flops > limit:
        raise InvalidValueError(f"the check needs about {flops:.2g} floating-point operations, "
                                f"more than {limit:.2g}; use fewer replicas, samples or smaller "
                                "widths (or raise max_flops)")
    phi, dphi = act.numpy_functions[:2]
    scale = float(q_exact) ** 0.5
    rows = []
    for index, (n, shape) in enumerate(zip(hidden, shapes)):
        prediction = fisher_statistics(act, sigma_w, sigma_b, list(shape[:-1]), outputs=outputs,
                                       q_in=q_in, samples=samples)
        results = []
        for replica in range(replicas):
            rng = np.random.default_rng(np.random.SeedSequence([seed, index, replica]))
            network = Network(phi, dphi, shape, sw, sb, "standard", rng)
            inputs = scale * rng.standard_normal((samples, shape[0]))
            with np.errstate(all="ignore"):
                results.append(measure(network, inputs))
        predicted = {"m_lambda": prediction.m_lambda, "s_lambda": prediction.s_lambda,
                     "lambda_max": prediction.lambda_max,
                     "bulk": prediction.bulk_eigenvalue, "eigenvector_overlap": 1.0}
        estimates = {}
        for name in STATISTICS:
            values = np.array([r[name] for r in results])
            if not np.all(np.isfinite(values)):
                raise InvalidValueError(f"the sampled {name} overflowed float64 at width {n} "
                                        "(the network's activity grows too fast with depth)")
            estimates[name] = Estimate(float(values.mean()),
                                       float(values.std(ddof=1) / np.sqrt(replicas)),
                                       float(predicted[name]))
        rows.append(FisherCheckRow(n, shape, prediction.parameters, prediction, estimates,
                                   results[0]["spectrum"]))
    return FisherCheck(act.name, sw, sb, depth, input_dim, outputs, samples, float(q_exact),
                       replicas, seed, rows)


__all__ = ["Estimate", "FisherCheck", "FisherCheckRow", "check_fisher_statistics", "measure"]
