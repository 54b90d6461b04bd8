"""E[tanh^(n)(y)], y ~ N(0, v), for many n at once: the Hermite coefficients of tanh as
Faddeeva series (used by the Mehler expansion of the tanh kernels).

From tanh = sum_k 1/(y - a_k), a_k = i pi (k + 1/2), and E[1/(y - iA)] = i sqrt(pi/(2v))
erfcx(A/sqrt(2v)) (the Faddeeva function on the imaginary axis), for odd n

    E[tanh^(n)(y)] = 2 (-1)^((n+1)/2) sqrt(pi/(2v)) (2v)^(-n/2) sum_{k>=0} erfcx^(n)(Y_k),

Y_k = pi (k + 1/2)/sqrt(2v); even n give 0 (parity). The derivatives of erfcx come from
erfcx^(n)(Y) = (2/sqrt(pi)) (-2)^n int_0^oo s^n exp(-s^2 - 2Ys) ds: for large Y by the
alternating expansion in 1/Y (its remainder is bounded by the first omitted term), otherwise
by the forward recurrence f_{n+1} = 2Y f_n + 2n f_{n-1} run with the digits it loses added.
The tail k >= K0 is summed power by power with Hurwitz zeta values and bounded.
"""
from __future__ import annotations

import math
from functools import lru_cache

import mpmath

from ...errors import PrecisionError
from .zeta import hurwitz_zetas


def _log10_factorial(n: int) -> float:
    return math.lgamma(n + 1) / math.log(10)


def _forward_extra_digits(y: float, n_max: int) -> int:
    """Digits the forward recurrence loses against the growing solution (exp(Y^2)-type)."""
    if y <= 0:
        return 10
    worst = 0.0
    for n in range(n_max + 1):
        lost = (n + 1) * math.log10(2) + (2 * n + 1) * math.log10(y) - _log10_factorial(n)
        worst = max(worst, lost)
    return int(worst) + 10


def erfcx_derivatives(y, n_max: int, dps: int) -> list:
    """[erfcx^(n)(y) for n = 0..n_max] to about dps digits (y > 0).

    Large y: the alternating expansion, for every order where it converges to the
    precision (it diverges from its first term once n is comparable with 2y). Otherwise,
    and for the orders where the expansion fails: the forward recurrence, run at two
    precisions and repeated with more digits until the two agree (it loses digits to the
    exp(y^2)-type solution, and no simple formula says how many)."""
    y = mpmath.mpf(y)
    yf = float(y)
    out: list = [None] * (n_max + 1)
    if yf * yf > 4 * (n_max + dps) + 20:
        for n in range(n_max + 1):
            value, converged = _erfcx_derivative_asymptotic(n, y, dps)
            if converged:
                out[n] = value
        if all(v is not None for v in out):
            return out
    forward = _forward_certified(y, n_max, dps)
    return [f if v is None else v for v, f in zip(out, forward)]


def _forward(y, n_max: int, dps: int) -> list:
    with mpmath.workdps(dps):
        y = mpmath.mpf(y)
        f0 = mpmath.exp(y * y) * mpmath.erfc(y)
        out = [f0, 2 * y * f0 - 2 / mpmath.sqrt(mpmath.pi)]
        for n in range(1, n_max):
            out.append(2 * y * out[n] + 2 * n * out[n - 1])
        return out[: n_max + 1]


def _forward_certified(y, n_max: int, dps: int) -> list:
    extra = _forward_extra_digits(float(y), n_max)
    for _attempt in range(8):
        low = _forward(y, n_max, dps + extra)
        high = _forward(y, n_max, dps + extra + 25)
        with mpmath.workdps(dps + extra + 25):
            worst = max((abs(a - b) / abs(b) for a, b in zip(low, high) if b != 0),
                        default=mpmath.mpf(0))
        if worst <= mpmath.mpf(10) ** (-(dps + 3)):
            with mpmath.workdps(dps):
                return [+v for v in high]
        extra = 2 * extra + 25
    raise PrecisionError("the erfcx derivative recurrence could not be certified")


def _erfcx_derivative_asymptotic(n: int, y, dps: int):
    """((2/sqrt(pi)) (-2)^n sum_j (-1)^j (n+2j)!/(j! (2y)^(n+2j+1)), converged?): the sum is
    stopped at its smallest term; it has converged only if that term is below the precision."""
    with mpmath.workdps(dps + 10):
        two_y = 2 * mpmath.mpf(y)
        term = mpmath.factorial(n) / two_y ** (n + 1)
        total = mpmath.mpf(0)
        eps = mpmath.mpf(10) ** (-dps - 5)
        j = 0
        while True:
            total += term
            nxt = -term * (n + 2 * j + 1) * (n + 2 * j + 2) / ((j + 1) * two_y**2)
            if abs(nxt) < eps * abs(total):
                converged = True
                break
            if abs(nxt) >= abs(term):
                converged = False
                break
            term, j = nxt, j + 1
        return 2 / mpmath.sqrt(mpmath.pi) * (-2) ** n * total, converged


def tanh_derivative_moments(n_max: int, v, dps: int) -> tuple[list, mpmath.mpf]:
    """([E[tanh^(n)(y)] for n = 0..n_max], bound on the truncation error of the k-sums)."""
    with mpmath.workdps(dps + 10):
        v = mpmath.mpf(v)
        beta = mpmath.pi / mpmath.sqrt(2 * v)
        # Tail start: every derivative up to n_max is in its asymptotic regime there.
        y0 = math.sqrt(4 * (n_max + dps) + 40)
        k0 = max(0, int(math.ceil(y0 / float(beta) - 0.5)))
        sums = [mpmath.mpf(0)] * (n_max + 1)
        for k in range(k0):
            derivs = erfcx_derivatives(beta * (k + mpmath.mpf(1) / 2), n_max, dps + 10)
            sums = [s + d for s, d in zip(sums, derivs)]
        tail, bound = _tail(n_max, beta, k0, dps + 10)
        moments = []
        for n in range(n_max + 1):
            if n % 2 == 0:
                moments.append(mpmath.mpf(0))
                continue
            prefactor = 2 * (-1) ** ((n + 1) // 2) * mpmath.sqrt(mpmath.pi / (2 * v)) \
                * (2 * v) ** (-mpmath.mpf(n) / 2)
            moments.append(prefactor * (sums[n] + tail[n]))
            bound_n = abs(prefactor) * bound[n]
            if bound_n > mpmath.mpf(10) ** (-dps) * max(abs(moments[-1]), mpmath.mpf(10) ** -dps):
                raise PrecisionError("the Faddeeva series of a Hermite coefficient did not converge")
        return moments, max(bound)


def _tail(n_max: int, beta, k0: int, dps: int):
    """sum_{k>=k0} erfcx^(n)(beta (k + 1/2)) for every n, by the asymptotic expansion."""
    start = k0 + mpmath.mpf(1) / 2
    eps = mpmath.mpf(10) ** (-dps - 5)
    coefficients: dict[int, list] = {}
    orders: set[int] = set()
    bounds = []
    for n in range(n_max + 1):
        if n % 2 == 0:
            coefficients[n] = []
            bounds.append(mpmath.mpf(0))
            continue
        terms, j = [], 0
        term = mpmath.factorial(n) / 2 ** (n + 1)     # (n+2j)!/(j! 2^(n+2j+1)), j = 0
        while True:
            s = n + 2 * j + 1
            terms.append(((-1) ** j * term / beta**s, s))
            orders.add(s)
            nxt = term * (n + 2 * j + 1) * (n + 2 * j + 2) / ((j + 1) * 4)
            size_next = nxt / (beta * start) ** (n + 2 * j + 3)
            if size_next * start < eps * abs(terms[0][0]) / start ** (n + 1) or j > 4 * dps:
                break
            term, j = nxt, j + 1
        coefficients[n] = terms
        # remainder: the first omitted term, summed over k (zeta upper bound via integral)
        s_next = n + 2 * j + 3
        bounds.append(nxt / beta**s_next * (start ** (-s_next) + start ** (1 - s_next) / (s_next - 1)))
    zetas = hurwitz_zetas(sorted(orders), start)
    tails = []
    for n in range(n_max + 1):
        factor = 2 / mpmath.sqrt(mpmath.pi) * (-2) ** n
        tails.append(factor * mpmath.fsum(c * zetas[s] for c, s in coefficients[n]))
        bounds[n] = abs(factor) * bounds[n]
    return tails, bounds


@lru_cache(maxsize=64)
def cached_moments(n_max: int, v_key: str, dps: int):
    with mpmath.workdps(dps + 10):
        return tanh_derivative_moments(n_max, mpmath.mpf(v_key), dps)
