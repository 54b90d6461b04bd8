"""Numbers: how user values are read, how many digits may be asked for, and when digits count.

The ground floor of symfield's numerics (it imports nothing from the package but the errors):

* **reading values** — :func:`to_exact` keeps a user's number exact until the working
  precision is known (decimal strings and Python floats are read as the decimal they print as:
  ``0.3`` is 3/10, the way a theorist typing sigma_b = 0.3 means it); :func:`to_mpf` and
  :func:`to_sympy` convert that exact value;
* **bounds** — :func:`check_dps` (the digits a caller may ask for) and :func:`check_scales`
  (sigma_w > 0, sigma_b >= 0, both finite);
* **the certification policy** — :class:`PrecisionPolicy`: a value is returned to ``dps``
  digits only when two evaluations at different working precisions agree on them. The law
  evaluator and the dynamics use the same class with their own guard digits.

No text is ever evaluated as code here: strings are parsed by :class:`fractions.Fraction`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from .errors import InvalidValueError, PrecisionError

#: The digits a caller may ask for.
MIN_DPS, MAX_DPS = 15, 100
#: Longest numeric string accepted (a longer one is a mistake or an attack, not a number).
MAX_NUMBER_CHARS = 200

ExactNumber = Fraction | mpmath.mpf | sp.Basic


def to_exact(raw: object, name: str = "value") -> ExactNumber:
    """A finite real number, kept exact until the working precision is known.

    Decimal strings become Fractions ("1.4" is 7/5); so do Python floats, read as the decimal
    they print as (0.3 is 3/10, not the binary neighbour 0.29999999999999998890). "p/q"
    strings are fractions, SymPy numbers stay symbolic (sqrt(2) stays sqrt(2)), and mpmath
    numbers pass through (use ``mpmath.mpf(x)`` for a float's exact binary value). Raises
    InvalidValueError naming ``name`` for anything else (NaN, infinities, text that is not a
    number, complex values).
    """
    try:
        if isinstance(raw, bool):
            raise TypeError
        if isinstance(raw, (int, np.integer)):
            value: ExactNumber = Fraction(int(raw))
        elif isinstance(raw, (float, np.floating)):
            if not math.isfinite(float(raw)):
                raise OverflowError
            value = Fraction(repr(float(raw)))
        elif isinstance(raw, Fraction):
            value = raw
        elif isinstance(raw, mpmath.mpf):
            if not mpmath.isfinite(raw):
                raise OverflowError
            value = raw
        elif isinstance(raw, sp.Basic):
            if not raw.is_number or raw.is_real is False or not raw.is_finite:
                raise TypeError
            value = Fraction(int(raw.p), int(raw.q)) if raw.is_Rational else raw
        elif isinstance(raw, str):
            text = raw.strip()
            if len(text) > MAX_NUMBER_CHARS:
                raise TypeError
            if "/" in text:
                num, den = text.split("/", 1)
                value = Fraction(num.strip()) / Fraction(den.strip())
            else:
                value = Fraction(text)
        else:
            raise TypeError
    except OverflowError:
        raise InvalidValueError(f"{name} must be finite (got {_quote(raw)})") from None
    except (TypeError, ValueError, ZeroDivisionError):
        raise InvalidValueError(f"{name} must be a finite real number (got {_quote(raw)})") from None
    return value


def to_mpf(raw: object, name: str = "value") -> mpmath.mpf:
    """``to_exact`` converted at the current mpmath precision."""
    value = to_exact(raw, name)
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    if isinstance(value, sp.Basic):
        return mpmath.mpf(sp.N(value, mpmath.mp.dps + 5))
    return value


def to_sympy(raw: object, name: str = "value") -> sp.Expr:
    """``to_exact`` as an exact SymPy number (an mpmath number becomes its exact binary
    rational; a SymPy Float likewise)."""
    value = to_exact(raw, name)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, mpmath.mpf):
        man, exp = value.man_exp
        return sp.Rational(int(man)) * sp.Integer(2) ** int(exp)
    return sp.Rational(value) if value.is_Float else value


def is_small_fraction(value: object) -> bool:
    """A Fraction with numerator and denominator below 2^32 (cheap to substitute exactly)."""
    return isinstance(value, Fraction) and max(abs(value.numerator), value.denominator) < 2**32


def check_dps(dps: object) -> int:
    """The requested digits, if an integer in MIN_DPS..MAX_DPS (InvalidValueError otherwise)."""
    if not isinstance(dps, (int, np.integer)) or isinstance(dps, bool) \
            or not MIN_DPS <= dps <= MAX_DPS:
        raise InvalidValueError(f"dps must be an integer from {MIN_DPS} to {MAX_DPS} "
                                f"(got {_quote(dps)})")
    return int(dps)


def check_scales(sigma_w: object, sigma_b: object) -> tuple[ExactNumber, ExactNumber]:
    """(sigma_w, sigma_b) exact, with sigma_w > 0 and sigma_b >= 0 (InvalidValueError)."""
    w, b = to_exact(sigma_w, "sigma_w"), to_exact(sigma_b, "sigma_b")
    if not w > 0:
        raise InvalidValueError(f"sigma_w must be > 0 (got {_quote(sigma_w)})")
    if b < 0:
        raise InvalidValueError(f"sigma_b must be >= 0 (got {_quote(sigma_b)})")
    return w, b


def _quote(raw: object, limit: int = 40) -> str:
    text = repr(raw)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------------------------
# Certification: digits count only when two working precisions agree on them
# ------------------------------------------------------------------------------------------
def agreement_digits(a, b, dps: int) -> int:
    """Significant digits on which ``a`` and ``b`` agree, capped at ``dps``.

    Exact equality (two infinities of one sign, two exact zeros) counts as ``dps``; a value
    that is zero at one precision and not at the other counts by the absolute difference
    against 1.
    """
    if a is None or b is None:
        return dps if a is b else 0
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if a == b:
        return dps
    if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
        return 0
    with mpmath.workdps(max(dps, 15) + 30):
        scale = max(abs(a), abs(b))
        relative = abs(a - b) / scale if scale >= 1e-300 else abs(a - b)
        if relative == 0:
            return dps
        return max(0, min(dps, int(math.floor(-float(mpmath.log10(relative))))))


@dataclass(frozen=True)
class PrecisionPolicy:
    """When a number computed at working precisions above ``dps`` is good to ``dps`` digits.

    ``guards`` lists pairs (low, high) of extra digits, tried in turn: the value is computed
    at dps + low and dps + high (+ ``spread``) and accepted when the two agree to dps digits
    relative to the value; ``floor_guard`` (None: no floor) accepts an absolute difference
    below 10^-(dps + low + floor_guard) for results that are (close to) zero.
    """

    guards: tuple[tuple[int, int], ...]
    floor_guard: int | None = 0
    #: Cap of the extra digits for inputs of very different magnitudes.
    max_spread: int = 120

    def certify(self, compute: Callable[[int], object], dps: int, spread: int = 0):
        """``compute(working_dps)`` to ``dps`` digits, or PrecisionError.

        ``compute`` returns one number or a sequence of numbers (then every entry must be
        confirmed, and the list is returned). ``spread`` extra digits go to the higher
        precision only: when the inputs span many orders of magnitude (sigma_b = 1e-20 next to
        A = 1) a sum such as sigma_w^2 A + sigma_b^2 can lose the small input at both
        precisions alike, and the two evaluations would agree on the same wrong digits.
        """
        spread = min(spread, self.max_spread)
        worst = None
        for low, high in self.guards:
            a, b = compute(dps + low), compute(dps + high + spread)
            pairs = list(zip(a, b)) if isinstance(a, (list, tuple)) else [(a, b)]
            gaps = [self._gap(x, y, dps, low, high) for x, y in pairs]
            if all(gap is None for gap in gaps):
                with mpmath.workdps(dps):
                    rounded = [+y for _x, y in pairs]
                return rounded if isinstance(a, (list, tuple)) else rounded[0]
            worst = max(gap for gap in gaps if gap is not None)
        raise PrecisionError(
            f"could not certify {dps} digits (relative disagreement {mpmath.nstr(worst, 3)} "
            f"between working precisions)")

    def _gap(self, a, b, dps: int, low: int, high: int):
        """None when a and b agree to dps digits, else their relative disagreement."""
        if mpmath.isinf(a) or mpmath.isinf(b):
            if a == b:
                return None
            raise PrecisionError("the value is infinite at one working precision only")
        with mpmath.workdps(dps + high):
            diff, size = abs(a - b), abs(b)
            if diff <= mpmath.mpf(10) ** (-dps - 1) * size:
                return None
            if self.floor_guard is not None and \
                    diff <= mpmath.mpf(10) ** (-(dps + low + self.floor_guard)):
                return None
            return diff / size if size else diff


#: The policy of every certified law value (``Law.evaluate``).
LAW_POLICY = PrecisionPolicy(guards=((6, 12), (20, 40), (60, 100)))


def magnitude_spread(values) -> int:
    """Twice the largest |log10 |v|| over the nonzero finite real values (squares double
    it): the extra digits a computation mixing these magnitudes needs."""
    widest = 0
    with mpmath.workdps(15):
        for v in values:
            try:
                x = abs(to_mpf(v))
            except InvalidValueError:
                continue
            if x != 0:
                widest = max(widest, abs(int(mpmath.floor(mpmath.log10(x)))))
    return 2 * widest


__all__ = ["LAW_POLICY", "MAX_DPS", "MIN_DPS", "PrecisionPolicy", "agreement_digits",
           "check_dps", "check_scales", "is_small_fraction", "magnitude_spread", "to_exact",
           "to_mpf", "to_sympy"]
