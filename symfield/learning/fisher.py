"""Fisher information statistics of random deep networks from the engine's laws.

``fisher_statistics`` composes the derived laws (chi0 and kernel forward, the two backward
order-parameter laws of ``symfield.laws.fisher``) layer by layer through an evaluation
context — float64, or mpmath at two working precisions for certified digits — and evaluates
the statistic laws (``symfield.laws.fisher.statistic_laws``) on the order parameters:

    K_1 = sum_l qtilde^l (n_{l-1} qhat^{l-1} + 1),  K_2 = the same with the two-input ones,
    m_lambda = C K_1 / P,
    s_lambda = C (K_1^2 / T + (1 - 1/T) K_2^2) / P,
    lambda_max = K_1 / T + (1 - 1/T) K_2,

for the empirical Fisher over T independent inputs (T -> oo: the Fisher of the input
distribution). Gradient descent on the squared loss is stable only for eta < 2/lambda_max.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from ..activations import get_activation
from ..errors import InvalidValueError
from ..laws import derive
from ..laws.evaluation import EvaluationContext, Float64Context, MultiPrecisionContext
from ..laws.fisher import (parameter_count, propagate_order_parameters, statistic_laws,
                           tangent_kernels)
from ..numbers import (LAW_POLICY, check_dps, check_scales, input_digits, magnitude_spread,
                       to_exact)
from .validation import MAX_DEPTH, check_integer, check_widths

#: Most inputs of a data set given to fisher_statistics (float64 / certified).
MAX_INPUTS, MAX_CERTIFIED_INPUTS = 2000, 64
#: Largest entry count of a data set (inputs x dimension), and the most multiplications of
#: its Gram matrix at high precision (with dps).
MAX_INPUT_ENTRIES = 10**8
MAX_CERTIFIED_PRODUCTS = 2 * 10**6
#: Most layers of a certified computation (each layer is four certified law evaluations per
#: entry at two working precisions).
MAX_CERTIFIED_DEPTH = 200
#: Most samples T of the empirical Fisher (a number in a formula: any size is cheap).
MAX_SAMPLES = 10**15

EIGENVECTOR = ("the top eigenvectors of F are the mean gradients E_x[grad_theta f_k(x)] "
               "(over the T inputs for the empirical Fisher), one per output k: lambda_max is "
               "C-fold at leading order")


@dataclass
class LayerOrderParameters:
    """The order parameters of one layer l (None where the layer has none): pre-activation
    variance q and covariance q12 (l >= 1), post-activation activity qhat and overlap qhat12
    (l <= L-1; l = 0 is the input), backward qtilde, qtilde12 (l >= 1; 1 at the outputs).
    Numbers for independent inputs; arrays over the inputs (one input) and over the pairs
    i < j (two inputs) for a data set."""

    layer: int
    width: int
    q: Any = None
    q12: Any = None
    qhat: Any = None
    qhat12: Any = None
    qtilde: Any = None
    qtilde12: Any = None

    NAMES = ("q", "q12", "qhat", "qhat12", "qtilde", "qtilde12")


@dataclass
class FisherReport:
    """Fisher statistics of a random network at leading order in the width (see the module
    docstring). Numbers are floats (float64) or mpmath numbers certified to ``dps`` digits."""

    activation: str
    sigma_w: object
    sigma_b: object
    widths: tuple[int, ...]
    outputs: int
    q_in: object
    samples: int | None
    dps: int | None
    parameters: int
    m_lambda: Any
    s_lambda: Any
    lambda_max: Any
    kernel_diagonal: Any
    kernel_off_diagonal: Any
    bulk_eigenvalue: Any
    learning_rate_bound: Any
    layers: list[LayerOrderParameters]
    laws: dict = field(repr=False, default_factory=dict)
    eigenvector: str = EIGENVECTOR
    data_set: bool = False

    @property
    def depth(self) -> int:
        return len(self.widths) - 1

    def _text(self, value) -> str:
        if value is None:
            return "-"
        if isinstance(value, np.ndarray):  # a data set: one entry per input or pair
            return f"mean {self._text(sum(value) / len(value))}"
        if isinstance(value, mpmath.mpf):
            return mpmath.nstr(value, self.dps or 15)
        return f"{float(value):.10g}"

    def format(self) -> str:
        """A readable summary: the statistics, then the order parameters per layer."""
        population = "the input distribution (T -> oo)" if self.samples is None else \
            f"T = {self.samples} inputs"
        lines = [
            f"Fisher information of a random {self.activation} network (standard "
            f"parameterisation), sigma_w = {self.sigma_w}, sigma_b = {self.sigma_b}",
            f"widths {list(self.widths)} (n_0 inputs ... n_L = {self.outputs} linear "
            f"outputs), P = {self.parameters} parameters, "
            + ("inputs: the data set given" if self.data_set
               else f"inputs N(0, q_in I) with q_in = {self.q_in}")
            + f"; Fisher over {population}",
            f"  m_lambda   = {self._text(self.m_lambda)}   (tr F / P)",
            f"  s_lambda   = {self._text(self.s_lambda)}   (tr F^2 / P)",
            f"  lambda_max = {self._text(self.lambda_max)}   (C-fold; eigenvectors: the mean "
            f"gradients)",
            f"  bulk       = {self._text(self.bulk_eigenvalue)}   (the other nonzero "
            f"eigenvalues; P - T C are 0)",
            f"  K_1 = {self._text(self.kernel_diagonal)}, K_2 = "
            f"{self._text(self.kernel_off_diagonal)}   (gradient Gram: one input, two inputs)",
            f"  learning rate bound: eta < 2/lambda_max = {self._text(self.learning_rate_bound)}",
            "  order parameters (gradient independence for qtilde):",
        ]
        cells = [[self._text(getattr(row, n)) for n in LayerOrderParameters.NAMES]
                 for row in self.layers]
        width = 2 + max(len(c) for row in cells for c in row)
        lines.append("    l        n_l" + "".join(f"{n:>{width}s}"
                                                  for n in LayerOrderParameters.NAMES))
        for row, texts in zip(self.layers, cells):
            lines.append(f"    {row.layer:<3d}{row.width:>10d}"
                         + "".join(f"{c:>{width}s}" for c in texts))
        return "\n".join(lines)

    __str__ = format

    def as_dict(self) -> dict:
        """JSON-ready: numbers as strings with every certified digit (floats as repr)."""
        def text(value):
            if value is None:
                return None
            if isinstance(value, np.ndarray):
                return [text(v) for v in value]
            if isinstance(value, mpmath.mpf):
                return mpmath.nstr(value, self.dps or 15)
            return repr(float(value))

        return {
            "activation": self.activation, "sigma_w": str(self.sigma_w),
            "sigma_b": str(self.sigma_b), "widths": list(self.widths), "outputs": self.outputs,
            "q_in": None if self.data_set else str(self.q_in), "samples": self.samples,
            "dps": self.dps, "parameters": self.parameters,
            "m_lambda": text(self.m_lambda), "s_lambda": text(self.s_lambda),
            "lambda_max": text(self.lambda_max), "bulk_eigenvalue": text(self.bulk_eigenvalue),
            "kernel_diagonal": text(self.kernel_diagonal),
            "kernel_off_diagonal": text(self.kernel_off_diagonal),
            "learning_rate_bound": text(self.learning_rate_bound),
            "eigenvector": self.eigenvector,
            "layers": [{"layer": r.layer, "width": r.width,
                        **{n: text(getattr(r, n)) for n in LayerOrderParameters.NAMES}}
                       for r in self.layers],
        }

    def latex(self, document: bool = True) -> str:
        """The statistic laws and the order-parameter laws with their derivations (LaTeX),
        and the numbers of this network."""
        from ..output.latex import PREAMBLE, DocumentState, escape_text, law_section

        act = get_activation(self.activation)
        state = DocumentState()  # one numbering and bibliography across the laws
        parts = [r"\section*{" + escape_text(f"Fisher information of a random {act.name} "
                                             "network") + "}",
                 escape_text(self.format().splitlines()[1]) + r"\par"]
        rows = [rf"{escape_text(name)} & {escape_text(self._text(getattr(self, attr)))}\\"
                for name, attr in (("m_lambda", "m_lambda"), ("s_lambda", "s_lambda"),
                                   ("lambda_max", "lambda_max"),
                                   ("2/lambda_max", "learning_rate_bound"))]
        parts.append("\\begin{tabular}{ll}\n" + "\n".join(rows) + "\n\\end{tabular}")
        for name in ("m_lambda", "s_lambda", "lambda_max", "K_1", "K_2"):
            parts.append(law_section(self.laws[name], "subsection", state))
        for name in ("backward_order_parameter", "backward_order_parameter_pair", "chi0",
                     "kernel"):
            parts.append(law_section(derive(name, act), "subsection", state))
        body = "\n".join(parts)
        if not document:
            return body + "\n" + state.bibliography()
        return "\n".join([PREAMBLE, r"\begin{document}", body, state.end()])


# ------------------------------------------------------------------------------------------
# The computation
# ------------------------------------------------------------------------------------------
def _statistics(context: EvaluationContext, act, widths, diagonal, rows, cols, off, sw, sb,
                samples, data_set: bool):
    """Order parameters, kernels and statistics in one context (the recursion once)."""
    order = propagate_order_parameters(context, act, widths, diagonal, rows, cols, off, sw, sb)
    kernels = tangent_kernels(context, order, sw, sb)["standard"]
    count = context.number(parameter_count(widths))
    outputs = context.number(widths[-1])
    if data_set:
        size = len(diagonal)
        gram = np.empty((size, size), dtype=float if isinstance(context, Float64Context)
                        else object)
        gram[np.arange(size), np.arange(size)] = kernels[0]
        gram[rows, cols] = kernels[1]
        gram[cols, rows] = kernels[1]
        t = context.number(size)
        k1 = gram.trace() / t
        k2 = (gram.sum() - t * k1) / (t * (t - 1)) if size > 1 else context.number(0)
        m = outputs * k1 / count
        s = outputs * (gram * gram).sum() / (t * t * count)
        lam = _largest_eigenvalue(context, gram) / t
        bulk = None
    else:
        k1, k2 = kernels[0][0], kernels[1][0]
        m = outputs * k1 / count
        if samples is None:
            s, lam, bulk = outputs * k2 * k2 / count, k2, None
        else:
            t = context.number(samples)
            s = outputs * (k1 * k1 / t + (1 - 1 / t) * k2 * k2) / count
            lam = k1 / t + (1 - 1 / t) * k2
            bulk = (k1 - k2) / t
    return order, (m, s, lam, k1, k2, bulk)


def _largest_eigenvalue(context, gram):
    if isinstance(context, Float64Context):
        return float(np.linalg.eigvalsh(gram)[-1])
    values = mpmath.eigsy(mpmath.matrix(gram.tolist()), eigvals_only=True)
    return max(values)


def _layers(order, widths, convert) -> list[LayerOrderParameters]:
    depth = len(widths) - 1
    out = []
    for layer in range(depth + 1):
        row = LayerOrderParameters(layer, widths[layer])
        for name in LayerOrderParameters.NAMES:
            values = getattr(order, name)[layer]
            if values is not None:
                setattr(row, name, convert(values))
        out.append(row)
    return out


def _inputs(inputs: object, exact: bool):
    try:
        X = np.array(inputs, dtype=object if exact else float)
    except (TypeError, ValueError, OverflowError):
        raise InvalidValueError("inputs must be a numeric array of shape (T, n_0)") from None
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise InvalidValueError(f"inputs must have shape (T, n_0) with T, n_0 >= 1 "
                                f"(got shape {X.shape})")
    limit = MAX_CERTIFIED_INPUTS if exact else MAX_INPUTS
    if X.shape[0] > limit or X.size > MAX_INPUT_ENTRIES:
        raise InvalidValueError(f"inputs: at most {limit} inputs{' with dps' if exact else ''} "
                                f"and {MAX_INPUT_ENTRIES} entries (got shape {X.shape})")
    products = X.shape[0] * (X.shape[0] + 1) // 2 * X.shape[1]
    if exact and products > MAX_CERTIFIED_PRODUCTS:
        raise InvalidValueError(f"inputs: their Gram matrix at high precision needs {products} "
                                f"products, more than {MAX_CERTIFIED_PRODUCTS} with dps; use "
                                "fewer or shorter inputs, or float64 (omit dps)")
    if exact:
        return np.vectorize(lambda v: to_exact(v, "an input entry"), otypes=[object])(X)
    if not np.all(np.isfinite(X)):
        raise InvalidValueError("inputs contain NaN or infinite entries")
    return X


def fisher_statistics(activation, sigma_w: object, sigma_b: object, widths, outputs: int = 1,
                      q_in: object = 1, dps: int | None = None, samples: int | None = None,
                      inputs: object = None) -> FisherReport:
    """Mean, second moment and largest eigenvalue of the Fisher information matrix of a
    random network, from the engine's laws.

    ``widths`` = [n_0 (input dimension), n_1, ..., n_{L-1}]: hidden layers use the activation,
    the output layer of ``outputs`` units is linear; theta is every weight and bias (standard
    parameterisation, W ~ N(0, sigma_w^2/n_{l-1}), b ~ N(0, sigma_b^2)). Inputs are i.i.d.
    N(0, q_in I), or the rows of ``inputs`` (a data set: its Gram matrix of per-example
    gradients is predicted pair by pair). ``samples`` = T gives the empirical Fisher over T
    independent inputs (None: the Fisher of the input distribution, T -> oo; with ``inputs``,
    T is their number). Float64 numbers, or mpmath numbers certified to ``dps`` digits.

    Leading order in the width, gradient independence for the backward order parameters.
    """
    act = get_activation(activation)
    sw_exact, sb_exact = check_scales(sigma_w, sigma_b)
    hidden = check_widths(widths)
    outputs = check_integer("outputs", outputs, 1, 10**9)
    full = hidden + (outputs,)
    depth = len(full) - 1
    if depth > MAX_DEPTH:
        raise InvalidValueError(f"at most {MAX_DEPTH} layers (got {depth})")
    if dps is not None:
        dps = check_dps(dps)
        if depth > MAX_CERTIFIED_DEPTH:
            raise InvalidValueError(f"with dps at most {MAX_CERTIFIED_DEPTH} layers (got "
                                    f"{depth}); omit dps for float64")
    data_set = inputs is not None
    if data_set:
        X = _inputs(inputs, exact=dps is not None)
        if X.shape[1] != hidden[0]:
            raise InvalidValueError(f"inputs have {X.shape[1]} columns but widths[0] = "
                                    f"{hidden[0]} (the input dimension n_0)")
        if samples is not None and samples != X.shape[0]:
            raise InvalidValueError(f"samples must be None or the number of inputs "
                                    f"({X.shape[0]}) when inputs are given (got {samples!r})")
        samples = X.shape[0]
        q_exact = None
    else:
        q_exact = to_exact(q_in, "q_in")
        if not q_exact > 0:
            raise InvalidValueError(f"q_in (the input variance) must be > 0 (got {q_in!r})")
        if samples is not None:
            samples = check_integer("samples", samples, 1, MAX_SAMPLES)

    size = X.shape[0] if data_set else 1
    rows, cols = np.triu_indices(size, 1) if data_set else (np.array([0]), np.array([0]))

    def inputs_in(context: EvaluationContext):
        if not data_set:
            return (context.array([context.number(q_exact)]), context.array([context.number(0)]))
        if isinstance(context, Float64Context):
            gram = X @ X.T / X.shape[1]
        else:
            values = [[context.number(v) for v in row] for row in X]
            n0 = context.number(X.shape[1])
            gram = np.empty((size, size), dtype=object)
            for i in range(size):
                for j in range(i, size):
                    gram[i, j] = gram[j, i] = mpmath.fsum(
                        a * b for a, b in zip(values[i], values[j])) / n0
        return context.array(np.diagonal(gram).tolist()), context.array(gram[rows, cols].tolist())

    def run(context: EvaluationContext):
        sw, sb = context.number(sw_exact), context.number(sb_exact)
        diagonal, off = inputs_in(context)
        return _statistics(context, act, full, diagonal, rows, cols, off, sw, sb, samples,
                           data_set)

    if dps is None:
        with np.errstate(all="ignore"):
            order, stats = run(Float64Context())
        numbers = [None if v is None else float(v) for v in stats]
        if not all(v is None or np.isfinite(v) for v in numbers):
            raise InvalidValueError(
                "the Fisher statistics overflow float64 at these values (the order parameters "
                "grow geometrically with depth); use fewer layers or dps for mpmath numbers")
        layers = _layers(order, full, lambda v: float(v[0]) if not data_set else np.asarray(v, float))
    else:
        entries = [(layer, name) for layer in range(depth + 1)
                   for name in LayerOrderParameters.NAMES if _present(name, layer, depth)]

        def at(work: int):
            context = MultiPrecisionContext(work)
            with mpmath.workdps(work):
                order, stats = run(context)
                # an absent bulk eigenvalue is a structural 0 (certified as equal at once)
                flat = [context.number(0) if v is None else v for v in stats]
            for layer, name in entries:
                flat.extend(getattr(order, name)[layer])
            return flat

        raw = [sw_exact, sb_exact] + ([q_exact] if q_exact is not None else list(X.ravel()))
        flat = LAW_POLICY.certify(at, dps, magnitude_spread(raw), input_digits=input_digits(raw))
        numbers = flat[:6]
        if data_set or samples is None:
            numbers[5] = None
        layers = [LayerOrderParameters(l, full[l]) for l in range(depth + 1)]
        position = 6
        for layer, name in entries:
            count = len(rows) if name.endswith("12") else size
            chunk = flat[position:position + count]
            position += count
            setattr(layers[layer], name, np.array(chunk, dtype=object) if data_set else chunk[0])
    m, s, lam, k1, k2, bulk = numbers
    if not lam > 0:
        raise InvalidValueError(f"lambda_max = {lam} is not positive at these values: the "
                                "gradients vanish at leading order")
    bound = 2 / lam
    return FisherReport(
        activation=act.name, sigma_w=sigma_w, sigma_b=sigma_b, widths=full, outputs=outputs,
        q_in=None if data_set else q_in, samples=samples, dps=dps,
        parameters=parameter_count(full), m_lambda=m, s_lambda=s, lambda_max=lam,
        kernel_diagonal=k1, kernel_off_diagonal=k2, bulk_eigenvalue=bulk,
        learning_rate_bound=bound, layers=layers,
        laws=dict(statistic_laws(act, depth, samples)),
        data_set=data_set)


def _present(name: str, layer: int, depth: int) -> bool:
    """Whether layer ``layer`` of ``depth`` has the order parameter ``name``."""
    if name.startswith("qhat"):
        return layer < depth
    return layer >= 1


__all__ = ["FisherReport", "LayerOrderParameters", "fisher_statistics"]
