"""Numbers: how user values are read, how many digits may be asked for, and when digits count.

The ground floor of symfield's numerics (it imports nothing from the package but the errors):

* **reading values** — :func:`to_exact` keeps a user's number exact until the working
  precision is known (decimal strings and Python floats are read as the decimal they print as:
  ``0.3`` is 3/10, the way a theorist typing sigma_b = 0.3 means it); :func:`to_mpf` and
  :func:`to_sympy` convert that exact value;
* **bounds** — :func:`check_dps` (the digits a caller may ask for) and :func:`check_scales`
  (sigma_w > 0, sigma_b >= 0, both finite);
* **the certification policy** — :class:`PrecisionPolicy`: a value is returned to ``dps``
  digits only when two evaluations at different working precisions agree on them, relative
  to the value (no absolute floor); the precision is raised by the digits a disagreement
  shows were lost, up to a cap that depends on the evaluation route.

Digits: ``dps`` may be 15..1000 (MAX_DPS). The cost grows with the route: closed forms take
milliseconds even at 1000 digits; the single-input pole series and 1-D quadratures seconds at
a few hundred digits; two-input expectations without a closed form are capped lower (see
``symfield.gaussian.numerics.compile.CompiledExpr.max_work``) and raise PrecisionError at
once when the requested digits are beyond what they can reach in bounded work.

No text is ever evaluated as code here: strings are parsed by :class:`fractions.Fraction`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from .errors import InvalidValueError, PrecisionError

#: The digits a caller may ask for.
MIN_DPS, MAX_DPS = 15, 1000
#: Longest numeric string accepted (a longer one is a mistake or an attack, not a number).
MAX_NUMBER_CHARS = 200
#: Largest decimal exponent accepted in a numeric string (mpmath's own range is far wider, but
#: no variance or scale of a network is 10^10000).
MAX_DECIMAL_EXPONENT = 10_000
_EXPONENT = re.compile(r"[eE]\s*([+-]?\d+)\s*$")


def _huge_exponent(text: str) -> bool:
    match = _EXPONENT.search(text)
    return match is not None and abs(int(match.group(1))) > MAX_DECIMAL_EXPONENT

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
            parts = [part.strip() for part in text.split("/", 1)]
            if any(_huge_exponent(part) for part in parts):
                # Fraction would build 10**exponent exactly, which never returns
                raise InvalidValueError(
                    f"{name} has a decimal exponent beyond +-{MAX_DECIMAL_EXPONENT} "
                    f"(got {_quote(raw)})")
            value = Fraction(parts[0]) if len(parts) == 1 else \
                Fraction(parts[0]) / Fraction(parts[1])
        else:
            raise TypeError
    except InvalidValueError:
        raise
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


#: Weight and bias scales accepted: beyond MAX_SCALE float64 pre-activations overflow within
#: a few layers and no mean-field statement is testable; below MIN_SCALE (other than a zero
#: bias) float64 starting values underflow and no law is cheap to certify.
MIN_SCALE, MAX_SCALE = 1e-8, 1e3


def check_scale(raw: object, name: str, allow_zero: bool) -> ExactNumber:
    """A weight or bias scale, exact, in [MIN_SCALE, MAX_SCALE] (or 0 if ``allow_zero``)."""
    value = to_exact(raw, name)
    valid = f"{'0 or ' if allow_zero else ''}from {MIN_SCALE:g} to {MAX_SCALE:g}"
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} ({valid}), "
                                f"got {_quote(raw)}")
    if value != 0 and not Fraction(repr(MIN_SCALE)) <= value <= MAX_SCALE:
        raise InvalidValueError(f"{name} must be {valid}, got {_quote(raw)}")
    return value


def check_scales(sigma_w: object, sigma_b: object) -> tuple[ExactNumber, ExactNumber]:
    """(sigma_w, sigma_b) exact: sigma_w in [MIN_SCALE, MAX_SCALE], sigma_b 0 or in it."""
    return check_scale(sigma_w, "sigma_w", False), check_scale(sigma_b, "sigma_b", True)


def _quote(raw: object, limit: int = 40) -> str:
    text = repr(raw)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------------------------------
# Certification: digits count only when two working precisions agree on them
# ------------------------------------------------------------------------------------------
def agreement_digits(a, b, dps: int) -> int:
    """Significant digits on which ``a`` and ``b`` agree, capped at ``dps``.

    Exact equality (two infinities of one sign, two exact zeros) counts as ``dps``; otherwise
    the difference is measured relative to the larger magnitude (a zero next to a nonzero
    value agrees on no digit).
    """
    if a is None or b is None:
        return dps if a is b else 0
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if a == b:
        return dps
    if not (mpmath.isfinite(a) and mpmath.isfinite(b)):
        return 0
    with mpmath.workdps(max(dps, 15) + 30):
        relative = abs(a - b) / max(abs(a), abs(b))
        return max(0, min(dps, int(math.floor(-float(mpmath.log10(relative))))))


@dataclass(frozen=True)
class PrecisionPolicy:
    """When a number computed at working precisions above ``dps`` is good to ``dps`` digits.

    The value is computed at an increasing sequence of working precisions W0 < W1 < ... and
    accepted when two consecutive ones agree to ``dps`` digits *relative to the value* (there
    is no absolute floor: a result that is exactly 0 is accepted only when it comes out as an
    exact 0, a structural zero of the evaluation route). The first pair is dps + ``first``;
    after a disagreement the digits the lower precision lost are estimated from the size of
    the disagreement and the next precision covers them (doubling when no digit agreed), up
    to ``max_work(dps)`` working digits (PrecisionError beyond).
    """

    first: tuple[int, int] = (6, 12)
    #: Extra digits kept above the estimated loss when escalating.
    margin: int = 12
    #: Cap of the extra digits for inputs of very different magnitudes or many digits.
    max_spread: int = 240

    @staticmethod
    def max_work(dps: int) -> int:
        """Default cap of the working digits (callers with costly routes pass a lower one)."""
        return 4 * dps + 600

    def certify(self, compute: Callable[[int], object], dps: int, spread: int = 0,
                max_work: int | None = None, input_digits: int = 0):
        """``compute(working_dps)`` to ``dps`` digits, or PrecisionError.

        ``compute`` returns one number or a sequence of numbers (then every entry must be
        confirmed, and the list is returned). ``spread`` extra digits go to the second
        precision only: when the inputs span many orders of magnitude (sigma_b = 1e-20 next to
        A = 1), the first precision may round the small one away and two evaluations could
        agree on the same wrong digits. Likewise the second precision holds every digit of
        the inputs (``input_digits``): rho = -(1 - 10^-30) rounds to -1 at 21 and at 27
        digits, where both would give the same exact 0.
        """
        cap = self.max_work(dps) if max_work is None else max_work
        low, high = self.first
        spread = min(spread, self.max_spread)
        previous_work = dps + low
        work = max(dps + high + spread, min(input_digits, self.max_spread) + high)
        if previous_work > cap:
            raise PrecisionError(f"{dps} digits need more working precision than this "
                                 f"evaluation route allows ({cap} digits)")
        work = min(work, cap)
        previous = compute(previous_work)
        while True:
            current = compute(work)
            pairs = (list(zip(previous, current)) if isinstance(current, (list, tuple))
                     else [(previous, current)])
            gaps = [self._gap(a, b, dps) for a, b in pairs]
            if all(gap is None for gap in gaps):
                with mpmath.workdps(dps):
                    rounded = [+b for _a, b in pairs]
                return rounded if isinstance(current, (list, tuple)) else rounded[0]
            worst = max(gap for gap in gaps if gap is not None)
            if worst < 1:
                # The lower precision kept -log10(worst) digits: it lost the rest.
                lost = previous_work + math.log10(float(worst))
                wanted = max(work + 6, math.ceil(dps + lost + self.margin))
            else:
                wanted = work + max(work - dps, 20)
            if work >= cap:
                raise PrecisionError(
                    f"could not certify {dps} digits (relative disagreement "
                    f"{mpmath.nstr(worst, 3)} between {previous_work} and {work} working "
                    f"digits; this evaluation route stops at {cap})")
            previous_work, previous, work = work, current, min(wanted, cap)

    @staticmethod
    def _gap(a, b, dps: int):
        """None when a and b agree to dps digits relative to b, else their relative
        disagreement (infinite when exactly one of them is zero)."""
        if mpmath.isnan(a) or mpmath.isnan(b):
            raise PrecisionError("the value is undefined (NaN) at a working precision")
        if mpmath.isinf(a) or mpmath.isinf(b):
            if a == b:
                return None
            raise PrecisionError("the value is infinite at one working precision only")
        if a == b:
            return None
        if b == 0 or a == 0:
            return mpmath.inf
        with mpmath.workdps(dps + 20):
            diff, size = abs(a - b), abs(b)
            if diff <= mpmath.mpf(10) ** (-dps - 1) * size:
                return None
            return diff / size


#: The policy of every certified law value (``Law.evaluate``).
LAW_POLICY = PrecisionPolicy()


def magnitude_spread(values) -> int:
    """Extra digits a computation with these exact inputs needs at its second precision: twice
    the largest |log10 |v|| over the nonzero values (squares double it)."""
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


def input_digits(values) -> int:
    """The most significant digits any of these exact inputs carries (see ``certify``)."""
    digits = 0
    for v in values:
        try:
            digits = max(digits, significant_digits(to_exact(v)))
        except InvalidValueError:
            continue
    return digits


def significant_digits(value: ExactNumber) -> int:
    """Decimal digits needed to write an exact input (0 for SymPy irrationals: computed
    afresh at every precision)."""
    if isinstance(value, Fraction):
        num, den = abs(value.numerator), value.denominator
        twos = (den & -den).bit_length() - 1
        fives = 0
        rest = den >> twos
        while rest % 5 == 0:
            rest //= 5
            fives += 1
        if rest != 1:  # not a terminating decimal (1/3): as many digits as the integers hold
            return len(str(num)) + len(str(den))
        scaled = num * 2 ** max(fives - twos, 0) * 5 ** max(twos - fives, 0)
        return len(str(scaled).rstrip("0") or "0")
    if isinstance(value, mpmath.mpf):
        man = int(abs(value.man)) if value != 0 else 0
        return math.ceil(man.bit_length() * math.log10(2)) if man else 0
    if isinstance(value, sp.Basic) and value.is_Rational:
        return significant_digits(Fraction(int(value.p), int(value.q)))
    return 0


__all__ = ["LAW_POLICY", "MAX_DPS", "MAX_SCALE", "MIN_DPS", "MIN_SCALE", "PrecisionPolicy", "agreement_digits",
           "check_dps", "check_scales", "input_digits", "is_small_fraction",
           "magnitude_spread", "significant_digits", "to_exact", "to_mpf", "to_sympy"]
