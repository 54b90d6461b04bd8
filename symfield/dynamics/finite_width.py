"""``finite_width``: the 1/n theory of one network, layer by layer.

For an activation, sigma_w, sigma_b and the layer-1 variance q0 = q^1, the report holds, for
layers 1 ... depth (index 0 is layer 1), the mean-field variance q^l, the parallel and
perpendicular susceptibilities chi_par = sigma_w^2 chi0'(q^l) and chi_perp = chi1(q^l), the
four-point vertex V^l (Var[s^l] = V^l/n) and the mean shift K1^l (E[s^l] = q^l + K1^l/n),
with V^1 = K1^1 = 0. Everything comes from the derived laws of ``symfield.laws.finite_width``
through its depth recursion (``propagate``); mpmath values are certified to ``dps`` digits (the
whole recursion at two working precisions), or float64 with ``dps=None``.

Given a width n, the report also predicts what a user measures on sampled networks (to order
1/n, equal widths): the mean of the empirical layer variance (1/n) sum_i (z_i^l)^2, q^l + K1^l/n;
its variance across networks, (2 (q^l)^2 + V^l)/n; Var[s^l] = V^l/n; and the excess kurtosis of
one pre-activation z_i^l, 3 V^l/(n (q^l)^2) (z_i^l is a scale mixture N(0, s^l)).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Sequence

import mpmath
import numpy as np

from ..activations import Activation, get_activation
from ..errors import InvalidValueError, quoted
from ..laws.calculus import derive
from ..laws.evaluation import MultiPrecisionContext
from ..laws.finite_width import (CHI_PARALLEL, FOUR_POINT_VERTEX, MEAN_SHIFT,
                                 RecursionFloat64Context, check_width, layer_laws, max_work,
                                 propagate)
from ..laws.recursion import check_depth
from ..numbers import (LAW_POLICY, check_dps, check_scales, input_digits, magnitude_spread,
                       to_exact)

#: Deepest recursion a report follows (each layer costs a few certified expectations).
MAX_DEPTH = 5000

#: The sequences of a report, in display order.
SEQUENCES = ("q", "chi_parallel", "chi_perp", "V", "K1")
#: The predictions of a report given a width.
PREDICTIONS = {
    "mean_layer_variance": "E[(1/n) sum_i (z_i^l)^2] = q^l + K1^l/n",
    "var_layer_variance": "Var[(1/n) sum_i (z_i^l)^2] = (2 (q^l)^2 + V^l)/n",
    "var_s": "Var[s^l] = V^l/n (s^l: the conditional variance given layer l-1)",
    "excess_kurtosis": "excess kurtosis of z_i^l = 3 V^l/(n (q^l)^2)",
}


@dataclass
class FiniteWidthReport:
    """Per-layer finite-width quantities (sequences over layers 1 ... depth, index 0 is
    layer 1); mpmath numbers certified to ``dps`` digits, or float64 arrays (dps None)."""

    activation: str
    sigma_w: object
    sigma_b: object
    q0: object
    depth: int
    width: int | None
    dps: int | None
    q: Sequence
    chi_parallel: Sequence
    chi_perp: Sequence
    V: Sequence
    K1: Sequence
    #: The exact form each law takes for this activation: 'closed', 'series' or 'integral'.
    forms: dict = field(default_factory=dict)
    mean_layer_variance: Sequence | None = None
    var_layer_variance: Sequence | None = None
    var_s: Sequence | None = None
    excess_kurtosis: Sequence | None = None

    def _text(self, value, digits: int | None = None) -> str:
        if self.dps is None:
            return repr(float(value))
        return mpmath.nstr(value, digits or self.dps)

    def as_dict(self) -> dict:
        """JSON-ready: numbers as decimal strings (``dps`` digits) or floats."""
        def column(values):
            if values is None:
                return None
            return [float(v) if self.dps is None else mpmath.nstr(v, self.dps) for v in values]

        out = {"activation": self.activation, "sigma_w": str(self.sigma_w),
               "sigma_b": str(self.sigma_b), "q0": str(self.q0), "depth": self.depth,
               "width": self.width, "dps": self.dps, "forms": dict(self.forms)}
        for name in SEQUENCES + tuple(PREDICTIONS):
            out[name] = column(getattr(self, name))
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def __str__(self) -> str:
        digits = "float64" if self.dps is None else f"{self.dps} digits"
        head = (f"{self.activation}: sigma_w = {self.sigma_w}, sigma_b = {self.sigma_b}, "
                f"q^1 = {self.q0}, depth {self.depth}"
                + (f", width {self.width}" if self.width else "") + f" ({digits})")
        forms = ", ".join(f"{k} {v}" for k, v in self.forms.items())
        columns = SEQUENCES + (tuple(PREDICTIONS) if self.width else ())
        shown = 12 if self.dps is not None else 10
        lines = [head, f"  forms: {forms}",
                 "  layer " + " ".join(f"{c:>{shown + 6}s}" for c in columns)]
        for k in range(self.depth):
            cells = [self._text(getattr(self, c)[k], shown) for c in columns]
            lines.append(f"  {k + 1:5d} " + " ".join(f"{v:>{shown + 6}s}" for v in cells))
        return "\n".join(lines)


def _check_q0(q0: object) -> object:
    value = to_exact(q0, "q0")
    if not value > 0:
        raise InvalidValueError(f"q0 (the layer-1 variance q^1) must be > 0 (got {quoted(q0)})")
    return value


def finite_width(activation: str | Activation, sigma_w: object, sigma_b: object, q0: object,
                 depth: int, width: int | None = None, dps: int | None = 30
                 ) -> FiniteWidthReport:
    """The 1/n theory of a random network, layers 1 ... depth (see the module doc).

    ``q0`` is the layer-1 variance q^1 = sigma_w^2 |x|^2/n0 + sigma_b^2 of the input x.
    ``dps`` digits certified in mpmath (15..1000), or float64 arrays with ``dps=None``.
    ``width`` (an integer >= 1) adds the predictions for networks of that width. Values are
    read exactly as typed (0.3 is 3/10). Raises InvalidValueError (one line) for a width or
    depth that is not a positive integer, non-positive q0, scales outside their range.
    """
    act = get_activation(activation)
    sw, sb = check_scales(sigma_w, sigma_b)
    q_exact = _check_q0(q0)
    depth = check_depth(depth)
    if depth > MAX_DEPTH:
        raise InvalidValueError(f"depth must be at most {MAX_DEPTH} (got {depth})")
    if width is not None:
        width = check_width(width, "width")
    if dps is not None:
        dps = check_dps(dps)
    laws = layer_laws(act)
    forms = {name: derive(spec, act).form for name, spec in
             (("chi_parallel", CHI_PARALLEL), ("four_point_vertex", FOUR_POINT_VERTEX),
              ("mean_shift", MEAN_SHIFT))}
    forms["chi_perp"] = laws["chi_perp"].form
    raw = [q_exact, sw, sb]

    names = SEQUENCES + (tuple(PREDICTIONS) if width is not None else ())

    def columns(context) -> dict:
        q_value, sw_value, sb_value = (context.number(v) for v in raw)
        layers = propagate(context, act, q_value, depth, sw_value, sb_value)
        out = {name: getattr(layers, name) for name in SEQUENCES}
        if width is not None:
            out.update(predictions(out["q"], out["V"], out["K1"], width))
        return out

    if dps is None:
        values = {name: np.asarray(column, dtype=float)
                  for name, column in columns(RecursionFloat64Context()).items()}
    else:
        def at(work: int):
            with mpmath.workdps(work):
                out = columns(MultiPrecisionContext(work))
            return [v for name in names for v in out[name]]

        flat = LAW_POLICY.certify(at, dps, magnitude_spread(raw), max_work(act, dps),
                                  input_digits(raw))
        values = {name: tuple(flat[k * depth:(k + 1) * depth]) for k, name in enumerate(names)}
    return FiniteWidthReport(act.name, sigma_w, sigma_b, q0, depth, width, dps, **values,
                             forms=forms)


def predictions(q: Sequence, V: Sequence, K1: Sequence, width: int) -> dict[str, list]:
    """What networks of this width show at order 1/n (equal widths), layer by layer: see
    PREDICTIONS. The conditional variance s^l has mean q + K1/n and variance V/n; z_i^l given
    s^l is N(0, s^l), so E[z^4] = 3 E[(s^l)^2] and (1/n) sum_i z_i^2 adds 2 (s^l)^2/n."""
    n = width
    return {"mean_layer_variance": [a + k / n for a, k in zip(q, K1)],
            "var_layer_variance": [(2 * a**2 + v) / n for a, v in zip(q, V)],
            "var_s": [v / n for v in V],
            "excess_kurtosis": [3 * v / (n * a**2) for a, v in zip(q, V)]}


__all__ = ["FiniteWidthReport", "MAX_DEPTH", "PREDICTIONS", "SEQUENCES", "finite_width",
           "predictions"]
