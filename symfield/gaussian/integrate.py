"""One-variable integration for the 'integrate back' steps, validated.

SymPy can return a wrong antiderivative or a leftover ``Integral`` without complaint, so every
antiderivative is differentiated back and compared with the integrand at random points at 30
digits, and every result is checked for leftovers before it is accepted.
"""
from __future__ import annotations

import contextlib
import random
import signal
import threading
import time

import mpmath
import sympy as sp
from sympy.integrals.manualintegrate import manualintegrate

from .circular import circular_antiderivative
from .normal_form import NotTractable

_FORBIDDEN = (sp.Integral, sp.Derivative, sp.Limit)
#: CPU-time budget of one manualintegrate call (it can wander for tens of seconds on hard
#: input); the laws' integrals take well under a second.
MANUAL_SECONDS = 5.0


def check_exact(expr: sp.Expr, bound: tuple = ()) -> sp.Expr:
    """Reject SymPy leftovers: unevaluated integrals, polar_lift, NaN, free bound variables."""
    if expr.has(*_FORBIDDEN):
        raise NotTractable(f"SymPy left an unevaluated operation in {sp.sstr(expr)[:120]}")
    if expr.has(sp.nan, sp.zoo) or any(f.func.__name__ == "polar_lift" for f in expr.atoms(sp.Function)):
        raise NotTractable(f"SymPy returned a non-finite or branch-lifted result {sp.sstr(expr)[:120]}")
    leftover = set(bound) & expr.free_symbols
    if leftover:
        raise NotTractable(f"the integration variable {leftover.pop()} is still free in the result")
    return expr


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise ``TimeoutError`` after ``seconds`` of this process's CPU time (main thread only;
    elsewhere no limit). CPU time, not wall-clock time, so that what gets derived does not
    depend on how busy the machine is. Limits nest: an outer limit keeps running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise TimeoutError

    outer_remaining, _ = signal.getitimer(signal.ITIMER_PROF)
    limit = min(seconds, outer_remaining) if outer_remaining > 0 else seconds
    previous = signal.signal(signal.SIGPROF, handler)
    start = time.process_time()
    # mpmath's precision is one global: a TimeoutError raised between a workdps's entry and
    # its try block (or inside its exit) would leave the inner precision behind
    precision = mpmath.mp.prec
    signal.setitimer(signal.ITIMER_PROF, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        mpmath.mp.prec = precision
        if outer_remaining > 0:
            left = outer_remaining - (time.process_time() - start)
            signal.setitimer(signal.ITIMER_PROF, max(left, 1e-3))


def _sample_point(symbols, rng: random.Random) -> dict:
    point = {}
    for s in symbols:
        if s.is_positive or s.is_nonnegative:
            point[s] = sp.Rational(rng.randint(30, 250), 100)
        else:
            point[s] = sp.Rational(rng.randint(-40, 40), 100)
    return point


def _agrees(a: sp.Expr, b: sp.Expr, var: sp.Symbol, lo, hi, rng) -> bool:
    others = sorted((a.free_symbols | b.free_symbols | sp.S(lo).free_symbols
                     | sp.S(hi).free_symbols) - {var}, key=str)
    for _ in range(3):
        point = _sample_point(others, rng)
        lo_v = sp.S(lo).subs(point)
        hi_v = sp.S(hi).subs(point)
        frac = sp.Rational(rng.randint(10, 90), 100)
        point[var] = lo_v + frac * (hi_v - lo_v)
        with mpmath.workdps(30):  # xreplace: symbols for numbers, 7x faster than subs
            va = complex(sp.N(a.xreplace(point), 30))
            vb = complex(sp.N(b.xreplace(point), 30))
        if abs(va - vb) > 1e-20 * max(1.0, abs(vb)):
            return False
    return True


def _non_elementary(f: sp.Expr, var: sp.Symbol) -> str | None:
    """A reason f has no antiderivative SymPy can find, spotted without trying: an
    exponential of a non-polynomial function of var (exp(-a/(b - r^2)), the bivariate normal
    density in its correlation: Owen's T, not elementary), where manualintegrate would spend
    its whole budget."""
    for e in sorted(f.atoms(sp.exp), key=sp.default_sort_key):  # the same message each run
        exponent = e.args[0]
        if not exponent.has(var):
            continue
        try:
            poly = sp.Poly(exponent, var)
        except sp.PolynomialError:
            return f"exp({sp.sstr(exponent)[:60]}) is not an exponential of a polynomial in {var}"
        if any(c.has(var) for c in poly.all_coeffs()):
            return f"exp({sp.sstr(exponent)[:60]}) is not an exponential of a polynomial in {var}"
    return None


def antiderivative(f: sp.Expr, var: sp.Symbol, lo=0, hi=1, slow_fallback: float = 0) -> sp.Expr:
    """An antiderivative of f in var, verified by differentiation on (lo, hi).

    The circular substitution first (the arc-sine family, exact in a few milliseconds),
    then ``manualintegrate`` (readable forms); SymPy's full ``integrate`` only when
    ``slow_fallback`` gives it a time budget in seconds (it can take tens of seconds).
    """
    reason = _non_elementary(f, var)
    if reason is not None:
        raise NotTractable(f"no elementary antiderivative in {var}: {reason}")
    rng = random.Random(20261128)
    circular = circular_antiderivative(f, var)
    if circular is not None and _agrees(sp.diff(circular, var), f, var, lo, hi, rng):
        return circular
    candidates = []
    try:
        with time_limit(MANUAL_SECONDS):
            candidates.append(manualintegrate(f, var))
    except Exception:  # noqa: BLE001 - manualintegrate raises assorted errors; TimeoutError
        pass
    for F in candidates + ([None] if slow_fallback else []):
        if F is None:
            try:
                with time_limit(slow_fallback):
                    F = sp.integrate(f, var)
            except Exception:  # noqa: BLE001 - includes TimeoutError
                break
        if F.has(*_FORBIDDEN):
            continue
        if _agrees(sp.diff(F, var), f, var, lo, hi, rng):
            return F
    raise NotTractable(f"no verified antiderivative of {sp.sstr(f)[:120]} in {var}")


def _at(F: sp.Expr, var: sp.Symbol, point: sp.Expr) -> sp.Expr:
    value = F.subs(var, point)
    if value.has(sp.nan, sp.zoo) or value.is_infinite:
        value = sp.limit(F, var, point, "+" if point == 0 else "-")
    return value


def definite_integral(f: sp.Expr, var: sp.Symbol, lo: sp.Expr, hi: sp.Expr,
                      slow_fallback: float = 0) -> sp.Expr:
    """int_lo^hi f d(var) through a verified antiderivative (F continuous on the range)."""
    F = antiderivative(f, var, lo, hi, slow_fallback)
    return check_exact(_at(F, var, hi) - _at(F, var, lo), (var,))
