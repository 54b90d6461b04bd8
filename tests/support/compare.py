"""Numerical comparisons shared by the test files: relative errors and the assertions on them.

Three comparisons, kept apart because callers rely on their differences:

* ``assert_relerr``: relerr(got, ref) <= tol (relative; absolute against a zero reference);
* ``assert_close_with_power``: the same, and a reference perturbed by ``perturb`` must fail
  it (the comparison can see an error of that size);
* ``assert_close``: |value - reference| <= rel |reference| + floor (a floor for values near 0).
"""
from __future__ import annotations

import mpmath as mp

from .oracles import to_mpf


def relerr(a, b, min_dps: int = 0, keep_digits: bool = False):
    """|a - b| / |b| (|a - b| when b == 0), at the current precision or ``min_dps`` digits if
    that is more; real or complex.

    By default a and b are first rounded to that precision (a value is compared as far as the
    working precision reads it); ``keep_digits`` keeps every digit they carry (an mpf made at
    higher precision, a SymPy Float), so that a difference below the working precision still
    counts."""
    with mp.workdps(max(mp.mp.dps, min_dps)):
        a, b = mp.mpmathify(a), mp.mpmathify(b)
        if not keep_digits:
            a, b = +a, +b
        return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def assert_relerr(got, ref, tol, what: str = "", min_dps: int = 0, keep_digits: bool = False):
    """relerr(got, ref, min_dps, keep_digits) <= tol, with both values in the message."""
    err = relerr(got, ref, min_dps, keep_digits)
    assert err <= tol, (f"{what + ': ' if what else ''}got {mp.nstr(got, 45)}, expected "
                        f"{mp.nstr(ref, 45)} (relative error {mp.nstr(err, 3)} > "
                        f"{mp.nstr(tol, 3)})")


def assert_close_with_power(got, ref, tol, perturb=None, min_dps: int = 0,
                            keep_digits: bool = False):
    """``assert_relerr``; and the same comparison fails for ref (1 + perturb) (default
    1000 tol), so that a value off by ``perturb`` would have been caught."""
    perturb = tol * 1000 if perturb is None else perturb
    assert_relerr(got, ref, tol, min_dps=min_dps, keep_digits=keep_digits)
    with mp.workdps(max(mp.mp.dps + 30, min_dps + 30, 100)):   # guard digits for ref (1 + perturb)
        bad = mp.mpmathify(ref) * (1 + mp.mpf(perturb))
    assert relerr(got, bad, min_dps, keep_digits) > tol, \
        "power check: a perturbed reference passes the comparison"


def assert_close(value, reference, rel=to_mpf(10) ** -20, floor=to_mpf(10) ** -26, what=""):
    """|value - reference| <= rel |reference| + floor (at 60 digits; floats read as the decimal
    they print as)."""
    with mp.workdps(60):
        value, reference = to_mpf(value), to_mpf(reference)
        err = abs(value - reference)
        bound = rel * abs(reference) + floor
        assert err <= bound, (f"{what}: symfield {mp.nstr(value, 32)} vs reference "
                              f"{mp.nstr(reference, 32)} (|difference| {mp.nstr(err, 3)} > "
                              f"{mp.nstr(bound, 3)})")
