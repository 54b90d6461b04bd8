"""Reports: what a law predicted, what independent sampled networks measured, and the verdict."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidValueError, quoted
from .limits import check_real


@dataclass(frozen=True)
class Row:
    """One compared number: a quantity at one layer."""

    quantity: str
    layer: int
    prediction: float
    estimate: float
    standard_error: float

    @property
    def z_score(self) -> float:
        """(estimate - prediction) / standard_error; nan if the prediction is not finite."""
        difference = self.estimate - self.prediction
        if not (math.isfinite(self.prediction) and math.isfinite(self.estimate)):
            return math.nan
        if difference == 0.0:
            return 0.0
        if self.standard_error == 0.0:
            return math.copysign(math.inf, difference)
        return difference / self.standard_error

    def passed(self, z: float) -> bool:
        """|z| <= z; a non-finite prediction or estimate never passes."""
        score = self.z_score
        return math.isfinite(score) and abs(score) <= z


@dataclass(frozen=True)
class LawCheck:
    """A law against R independent sampled networks.

    ``prediction``, ``estimate``, ``standard_error`` and ``z_score`` are those of the decisive
    row (the largest |z|, or the first non-finite one); ``rows`` has every layer. The check
    passes when every row has |z| <= ``z``: with z = 5 a true law fails by chance with
    probability about 5.7e-7 per row (Gaussian tail), so a few dozen rows stay safe.
    """

    law: str
    activation: str
    convention: str
    measured: str
    sigma_w: float
    sigma_b: float
    width: int
    depth: int
    seed: int | None
    replicas: int
    z: float
    rows: tuple[Row, ...]
    prediction: float
    estimate: float
    standard_error: float
    z_score: float
    passed: bool
    details: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, rows: list[Row], z: float, **fields: object) -> "LawCheck":
        """The report of the compared ``rows`` at |z| <= ``z``: the worst row decides."""
        if isinstance(rows, (str, bytes)) or not isinstance(rows, (list, tuple)) \
                or not all(isinstance(row, Row) for row in rows):
            raise InvalidValueError(f"rows must be a list of Row (one compared number each), "
                                    f"got {quoted(rows)}")
        if not rows:
            raise InvalidValueError("a check needs at least one compared row")
        z = check_real("z", z, positive=True)

        def badness(row: Row) -> float:
            score = row.z_score
            return math.inf if not math.isfinite(score) else abs(score)

        decisive = max(rows, key=badness)
        return cls(rows=tuple(rows), z=float(z), prediction=decisive.prediction,
                   estimate=decisive.estimate, standard_error=decisive.standard_error,
                   z_score=decisive.z_score, passed=all(r.passed(z) for r in rows),
                   **fields)  # type: ignore[arg-type]

    def failing(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.passed(self.z))

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        lines = [
            f"{self.law}[{self.activation}] sigma_w={self.sigma_w:g} sigma_b={self.sigma_b:g} "
            f"width={self.width} depth={self.depth} replicas={self.replicas} seed={self.seed}: "
            f"{verdict} at |z| <= {self.z:g} (worst z = {self.z_score:+.2f})",
            f"  law convention: {self.convention}",
            f"  measured: {self.measured}",
            f"  {'quantity':>14} {'layer':>5} {'prediction':>14} {'estimate':>14} "
            f"{'std.err':>11} {'z':>7}",
        ]
        for r in self.rows:
            flag = "" if r.passed(self.z) else "  <-- fails"
            lines.append(f"  {r.quantity:>14} {r.layer:>5} {r.prediction:>14.6g} "
                         f"{r.estimate:>14.6g} {r.standard_error:>11.3g} {r.z_score:>+7.2f}{flag}")
        for name, value in self.details.items():
            lines.append(f"  {name}: {value:.6g}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ScalingCheck:
    """A power law in the width, fitted from independent networks at two widths.

    ``exponent`` is the mean over replicas of log(s2/s1)/log(n2/n1) (one independent pair of
    networks per replica), compared with ``expected`` at |z| <= ``z``.
    """

    quantity: str
    activation: str
    sigma_w: float
    sigma_b: float
    widths: tuple[int, int]
    depth: int
    replicas: int
    seed: int | None
    z: float
    expected: float
    exponent: float
    standard_error: float
    scaled: tuple[float, float]          # mean of s * n^(-expected) at each width
    scaled_errors: tuple[float, float]

    @property
    def z_score(self) -> float:
        if self.standard_error == 0.0:
            return 0.0 if self.exponent == self.expected else math.inf
        return (self.exponent - self.expected) / self.standard_error

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.z_score) and abs(self.z_score) <= self.z)

    def __str__(self) -> str:
        (n1, n2), (s1, s2), (e1, e2) = self.widths, self.scaled, self.scaled_errors
        return (f"{self.quantity}[{self.activation}] ~ n^{self.expected:+g}: fitted exponent "
                f"{self.exponent:+.4f} +- {self.standard_error:.4f} (z = {self.z_score:+.2f}; "
                f"{'PASS' if self.passed else 'FAIL'} at |z| <= {self.z:g}); "
                f"n^{-self.expected:g} x value: {s1:.4g} +- {e1:.2g} at n={n1}, "
                f"{s2:.4g} +- {e2:.2g} at n={n2}")
