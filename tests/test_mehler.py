"""Hermite coefficients and the Mehler series of the kernel (theory.md section 3, T3).

The engine's coefficients a_k(q) = q^(k/2) E[phi^(k)(x)]/sqrt(k!) (Stein's identity) are
compared with an independent *projection* a_k = E[phi(sqrt(q) z) He_k(z)]/sqrt(k!) computed
here by mpmath quadrature (He_k by its three-term recurrence). The partial sums
S_N = sum_{k<=N} a_k(q1) a_k(q2) c^k are compared with the kernel using the rigorous tail bound
|K - S_N| <= |c|^(N+1) sqrt(chi0(q1) chi0(q2)) (Cauchy-Schwarz and Parseval,
sum_k a_k(q)^2 = chi0(q)): against the literature closed forms (erf, ReLU family, linear) and,
for tanh/sigmoid, against the independent 2-D quadrature of the kernel.
"""
from __future__ import annotations

from fractions import Fraction

import mpmath as mp
import pytest
import sympy as sp

import symfield
from symfield.activations import x
from symfield.gaussian.numerics.evaluate import evaluate_expr
from symfield.laws.hermite import hermite_coefficient, mehler_kernel
from symfield.symbols import q, q1, q2, rho

from support.compare import assert_close
from support.oracles import _MP_LAMBDIFY, ActivationOracle, gauss_expect, oracle_for, to_mpf
from support.oracles_pair import GOLDEN_PAIR, LITERATURE_PAIR, literature_law, reference_pair_law

ACTIVATIONS = list(symfield.registered_activations())
LITERATURE_ACTS = [a for a in ACTIVATIONS if a in LITERATURE_PAIR]
SERIES_ACTS = [a for a in ACTIVATIONS if a not in LITERATURE_PAIR]


def he(k: int, x):
    """Probabilists' Hermite polynomial He_k(x) by He_{n+1} = x He_n - n He_{n-1}."""
    a, b = to_mpf(1), x
    if k == 0:
        return a
    for n in range(1, k):
        a, b = b, x * b - n * a
    return b


_PARITY_POINTS = (mp.sqrt(2) / 3, mp.pi / 2, mp.e)


def _centred_odd(oracle) -> bool:
    """phi(x) - phi(0) is odd (erf, tanh, sigmoid), checked at a few points to 40 digits."""
    with mp.workdps(50):
        zero = oracle.phi(to_mpf(0))
        return all(abs(oracle.phi(t) + oracle.phi(-t) - 2 * zero) < to_mpf(10) ** -40
                   for t in _PARITY_POINTS)


def _even(oracle) -> bool:
    """phi is even (abs, gaussian, cos), checked at a few points to 40 digits."""
    with mp.workdps(50):
        return all(abs(oracle.phi(t) - oracle.phi(-t)) < to_mpf(10) ** -40 for t in _PARITY_POINTS)


def phi_oracle(act: str) -> ActivationOracle:
    """The shared oracle of `act`, or, where it has none because phi' is a Dirac delta (sign,
    step), an oracle of phi alone: a projection and the 2-D kernel need nothing more."""
    oracle = oracle_for(act)
    if oracle is not None:
        return oracle
    activation = symfield.registered_activations()[act]
    phi = sp.lambdify(x, activation.derivative(0).subs(parameter_defaults(act)), modules=_MP_LAMBDIFY)
    return ActivationOracle(phi=phi, dphi=None, d2phi=None,
                            kinks=tuple(float(k) for k in activation.kinks))


def projection(act: str, k: int, qv, dps: int = 40):
    """a_k(q) = E[phi(sqrt(q) z) He_k(z)] / sqrt(k!), by quadrature (no derivatives)."""
    oracle = phi_oracle(act)
    with mp.workdps(dps + 10):
        if k >= 1 and k % 2 == 0 and _centred_odd(oracle):
            return to_mpf(0)   # He_k (k >= 1) is orthogonal to constants; phi - phi(0) is odd
        if k % 2 == 1 and _even(oracle):
            return to_mpf(0)   # He_k odd, phi even: the quadrature would only see its own noise
        s = mp.sqrt(to_mpf(qv))
        even = oracle.even_squares and (k % 2 == 0) == (symfield.registered_activations()[act].parity == "even")
        value = gauss_expect(lambda x: oracle.phi(x) * he(k, x / s), qv, oracle, dps + 5,
                             even=even if oracle.even_squares else False)
        return value / mp.sqrt(mp.factorial(k))


def parameter_defaults(act: str) -> dict:
    """The activation's own parameter symbols at its defaults (the values the oracles use):
    symbols are shared across families (alpha is 1/100 for leaky_relu but 1 for elu), so the
    substitution is per activation."""
    return {symbol: default for symbol, default in symfield.registered_activations()[act].parameters.values()}


def numeric(expr, dps=30, act=None):
    """A SymPy number (possibly a Faddeeva series) at dps digits; the family parameters of
    `act` at their default values."""
    expr = sp.sympify(expr)
    if act is not None:
        expr = expr.subs(parameter_defaults(act))
    assert not expr.free_symbols, f"unset parameters {expr.free_symbols} ({act})"
    if expr.is_Rational:
        with mp.workdps(dps + 10):
            return to_mpf(expr.p) / expr.q
    return evaluate_expr(expr, {}, dps)


# ------------------------------------------------------------------------------------------
# Coefficients
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", LITERATURE_ACTS)
def test_hermite_coefficients_equal_the_projection(act):
    for qv in (Fraction(3, 10), Fraction(1), Fraction(5, 2)):
        for k in range(0, 8):
            coef = hermite_coefficient(act, k, sp.Rational(qv.numerator, qv.denominator))
            got = numeric(coef, 30, act)
            ref = projection(act, k, qv)
            assert_close(got, ref, to_mpf(10) ** -25, floor=to_mpf(10) ** -30,
                         what=f"a_{k}({qv})[{act}]")


@pytest.mark.parametrize("act", SERIES_ACTS)
def test_hermite_coefficients_equal_the_projection_series_forms(act):
    qv = Fraction(4, 5)
    for k in (0, 1, 2, 3, 5):
        coef = hermite_coefficient(act, k, sp.Rational(4, 5))
        assert_close(numeric(coef, 25, act), projection(act, k, qv, 30), to_mpf(10) ** -22,
                     floor=to_mpf(10) ** -26, what=f"a_{k}[{act}]")


def test_hermite_coefficient_is_a_function_of_the_variance():
    a1 = hermite_coefficient("erf", 1)
    assert a1.free_symbols == {q}
    assert sp.simplify(hermite_coefficient("erf", 1, q1) - a1.subs(q, q1)) == 0
    # theory.md T3: a_1^2 = 4q/(pi(1+2q)) for erf; at q = 1 it is 0.4244131815783876
    assert sp.simplify(a1**2 - 4 * q / (sp.pi * (1 + 2 * q))) == 0
    assert abs(float(a1.subs(q, 1) ** 2) - 0.4244131815783876) < 1e-15


@pytest.mark.parametrize("bad", [-1, 1.5, "2", None])
def test_hermite_coefficient_rejects_bad_index(bad):
    with pytest.raises(ValueError):
        hermite_coefficient("erf", bad)


@pytest.mark.parametrize("act", LITERATURE_ACTS)
def test_parseval_partial_sums_increase_to_chi0(act):
    """sum_{k<=N} a_k^2 increases to chi0(q) = E[phi^2] (Parseval)."""
    qv = sp.Rational(7, 10)
    with mp.workdps(40):
        chi0 = gauss_expect(lambda x: oracle_for(act).phi(x) ** 2, Fraction(7, 10), oracle_for(act), 40)
        total, previous = to_mpf(0), to_mpf(-1)
        for k in range(0, 25):
            total += numeric(hermite_coefficient(act, k, qv), 30, act) ** 2
            assert total >= previous - to_mpf(10) ** -28 and total <= chi0 * (1 + to_mpf(10) ** -25)
            previous = total
        # piecewise-linear: a_k^2 ~ k^(-5/2), so the Parseval tail after 25 terms is ~1e-3 chi0;
        # erf: a_k^2 shrinks like (2q/(1 + 2q))^k = (7/12)^k, a tail of ~2e-8 chi0 (measured)
        assert chi0 - total <= chi0 * (to_mpf("5e-3") if act in ("relu", "abs", "leaky_relu") else to_mpf(10) ** -7)


def test_sum_k_ak2_equals_q_E_dphi2_erf():
    """sum_k k a_k^2 = q E[phi'^2] (theory.md 14): erf at q = 1/20, where
    q E[phi'^2] = 4q/(pi sqrt(1 + 4q)). a_k^2 shrinks like (2q/(1 + 2q))^k = 11^-k, so the
    terms after k = 21 add less than 1e-20 of the value."""
    qv = sp.Rational(1, 20)
    with mp.workdps(40):
        total = mp.fsum(k * numeric(hermite_coefficient("erf", k, qv), 30) ** 2 for k in range(0, 22))
        exact = to_mpf(1) / 20 * 4 / (mp.pi * mp.sqrt(1 + to_mpf(4) / 20))
        assert_close(total, exact, to_mpf(10) ** -18)


# ------------------------------------------------------------------------------------------
# Mehler partial sums
# ------------------------------------------------------------------------------------------
MEHLER_POINTS = [(1, 1, "1/2"), (2, "1/2", "-7/10"), ("3/10", "7/5", "9/20"), (1, 4, "-3/2")]


def _chi0(act, qv):
    oracle = phi_oracle(act)
    return gauss_expect(lambda x: oracle.phi(x) ** 2, qv, oracle, 40)


@pytest.mark.parametrize("act", LITERATURE_ACTS)
def test_mehler_series_converges_to_the_closed_form(act):
    for a, b, r in MEHLER_POINTS:
        with mp.workdps(40):
            A, B, R = (sp.Rational(str(Fraction(v))) for v in (a, b, r))
            c = abs(to_mpf(Fraction(r))) / mp.sqrt(to_mpf(Fraction(a)) * to_mpf(Fraction(b)))
            exact = literature_law(act, "kernel", {"q1": a, "q2": b, "rho": r})
            scale = mp.sqrt(_chi0(act, Fraction(a)) * _chi0(act, Fraction(b)))
            errors = []
            for order in (4, 8, 14):
                partial = numeric(mehler_kernel(act, order, A, B, R), 30, act)
                err = abs(partial - exact)
                bound = c ** (order + 1) * scale
                assert err <= bound * (1 + to_mpf(10) ** -10) + to_mpf(10) ** -25, (act, a, b, r, order, err, bound)
                errors.append(err)
            assert errors[-1] <= errors[0] + to_mpf(10) ** -25


def test_mehler_erf_reproduces_theory_T3():
    """theory.md T3: the erf partial sum to k <= 15 at q = 1, c = 1/2 is 0.2163468958759...
    and converges to Williams' value G05."""
    s15 = numeric(mehler_kernel("erf", 15, 1, 1, sp.Rational(1, 2)), 30)
    assert abs(s15 - to_mpf("0.2163468958759")) < to_mpf("1e-13")
    s40 = numeric(mehler_kernel("erf", 41, 1, 1, sp.Rational(1, 2)), 30)
    with mp.workdps(40):
        assert abs(s40 - to_mpf(GOLDEN_PAIR["G05"])) < to_mpf(10) ** -20


def test_mehler_kernel_default_symbols():
    expr = mehler_kernel("relu", 3)
    assert expr.free_symbols <= {q1, q2, rho}
    # a_0^2 + a_1^2 c + a_2^2 c^2 at q1 = q2 = 1 (a_3 = 0): 1/(2 pi) + c/4 + c^2/(4 pi)
    c = sp.Rational(1, 3)
    value = expr.subs({q1: 1, q2: 1, rho: c})
    assert sp.simplify(value - (1 / (2 * sp.pi) + c / 4 + c**2 / (4 * sp.pi))) == 0


@pytest.mark.parametrize("act", SERIES_ACTS)
def test_mehler_series_matches_2d_quadrature(act):
    """tanh / sigmoid: the coefficients' expectations evaluated numerically; the partial sum
    with the Parseval tail bound brackets the independent 2-D quadrature of the kernel."""
    a, b, r = Fraction(4, 5), Fraction(4, 5), Fraction(4, 25)  # c = 1/5
    # order 7: the tail bound 5^-8 chi0 ~ 1e-6 is far above 15-digit noise, so a 15-digit
    # 2-D reference suffices (at 26 digits a kinked phi's reference took up to a minute);
    # sigmoid's first term alone is only 3e-6 off, so a lower order would not resolve it
    with mp.workdps(30):
        ref = reference_pair_law("kernel", phi_oracle(act), {"q1": a, "q2": b, "rho": r}, dps=15)
        scale = _chi0(act, a)
        order = 7
        partial = numeric(mehler_kernel(act, order, sp.Rational(4, 5), sp.Rational(4, 5),
                                        sp.Rational(4, 25)), 20, act)
        bound = (to_mpf(1) / 5) ** (order + 1) * scale
        assert abs(partial - ref) <= bound + to_mpf(10) ** -12, (partial, ref, bound)
        # and the series is not trivially far: the first term alone is outside the bound
        first = numeric(mehler_kernel(act, 1, sp.Rational(4, 5), sp.Rational(4, 5),
                                      sp.Rational(4, 25)), 20, act)
        assert abs(first - ref) > bound


def test_mehler_power_check():
    """A coefficient off by 1e-8 breaks the bracket at order 14 (the comparison has resolution)."""
    a, b, r = 1, 1, Fraction(1, 2)
    with mp.workdps(40):
        exact = literature_law("erf", "kernel", {"q1": a, "q2": b, "rho": r})
        partial = numeric(mehler_kernel("erf", 14, 1, 1, sp.Rational(1, 2)), 30)
        a1 = numeric(hermite_coefficient("erf", 1, 1), 30)
        bad = partial + ((a1 * (1 + to_mpf(10) ** -8)) ** 2 - a1**2) * to_mpf(1) / 2
        bound = (to_mpf(1) / 2) ** 15 * _chi0("erf", 1)
        assert abs(partial - exact) <= bound
        # 2e-8 * a1^2 / 2 ~ 4e-9 exceeds the 1.4e-5 bound? no: use a tighter order instead
        s40 = numeric(mehler_kernel("erf", 41, 1, 1, sp.Rational(1, 2)), 30)
        bound40 = (to_mpf(1) / 2) ** 42 * _chi0("erf", 1)
        assert abs(s40 - exact) <= bound40
        assert abs(s40 + (bad - partial) - exact) > bound40
