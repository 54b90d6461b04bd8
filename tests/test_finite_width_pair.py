"""Two inputs at order 1/n (issue 14, stretch goal): the four-point vertex of a pair and the
1/n correction to the NNGP kernel.

(i) on the diagonal the pair recursion is the single-input four_point_vertex and mean_shift,
exactly; (ii) ReLU at sigma_w^2 = 2, sigma_b = 0 against the recursion iterated by hand in
this file from 35-digit polar quadratures of the pair moments (the kernel's derivatives by
SymPy's chain rule on k = sqrt(q1 q2) kappa(c)); (iii) wrong coefficients (1/2 -> 1 on the
Hessian term of K1, the off-diagonal derivative halved as a symmetric-matrix derivative
would be) are rejected, by the quadrature reference and by sampled networks. Sizes are fixed;
no test times anything.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import Phase, given, settings, strategies as st

import symfield
from symfield.activations import get_activation
from symfield.errors import InvalidValueError
from symfield.expectation import bivariate_expectation, u1, u2
from symfield.laboratory.finite_width import check_finite_width_pair
from symfield.laws.evaluation import Float64Context, MultiPrecisionContext, SymbolicContext
from symfield.laws.finite_width import EXPANSION, K1, V, _first_order
from symfield.laws.finite_width import r as width_ratio
from symfield.laws.finite_width_pair import (ENTRIES_2X2, K1_PAIR, PAIR_EXPANSION, S,
                                             VERTEX_ENTRIES, _at_kernel, conditional_means,
                                             conditional_moments, propagate_pair,
                                             vertex_symbol)
from symfield.symbols import q, q1, q2, rho, sigma_b, sigma_w

ORDER = {"11": 0, "12": 1, "22": 2}


# ------------------------------------------------------------------------------------------
# (i) the diagonal is the single-input theory
# ------------------------------------------------------------------------------------------
def test_expansion_reduces_to_the_single_input_maps_on_the_diagonal():
    single = {vertex_symbol("11", "11"): V, K1_PAIR["11"]: K1, q1: q}
    vertex = PAIR_EXPANSION.vertex_maps[("11", "11")].xreplace(single)
    shift = PAIR_EXPANSION.shift_maps["11"].xreplace(single)
    assert sp.expand(vertex - EXPANSION.vertex_map) == 0
    assert sp.expand(shift - EXPANSION.mean_shift_map) == 0
    # the (11) entries never see the other input's fluctuations
    others = {vertex_symbol(*pair) for pair in VERTEX_ENTRIES if pair != ("11", "11")}
    assert not (PAIR_EXPANSION.vertex_maps[("11", "11")].free_symbols & others)


def test_the_sums_run_over_distinct_entries_once():
    """V'_(12)(12) holds 2 V_(11)(12) dk/dq1 dk/drho (ordered pairs of distinct entries), and
    K1'_12 holds V_(11)(12) d^2k/dq1 drho with coefficient 1 (= 2 x 1/2)."""
    vertex = PAIR_EXPANSION.vertex_maps[("12", "12")]
    k = [a for a in vertex.atoms(sp.Function) if a.func.__name__ == "k"][0]
    cross = vertex.coeff(vertex_symbol("11", "12"))
    assert sp.expand(cross - 2 * sp.Symbol("r", positive=True) * sigma_w**4
                     * sp.Derivative(k, q1) * sp.Derivative(k, rho)) == 0
    shift = PAIR_EXPANSION.shift_maps["12"]
    assert sp.expand(shift.coeff(vertex_symbol("11", "12"))
                     - sigma_w**2 * sp.Derivative(k, q1, rho)) == 0
    assert sp.expand(shift.coeff(vertex_symbol("12", "12"))
                     - sigma_w**2 * sp.Derivative(k, (rho, 2)) / 2) == 0


def _taylor_expected(expr, first, second):
    """E[expr(K + delta)] by the full second-order Taylor expansion in the three entries,
    every ordered pair of second derivatives taken (the oracle of the next test)."""
    value = _at_kernel(expr)
    for i in ENTRIES_2X2:
        value += _at_kernel(sp.diff(expr, S[i])) * first[i]
        for j in ENTRIES_2X2:
            value += _at_kernel(sp.diff(expr, S[i], S[j])) * second[(i, j)] / 2
    return value


def test_expansion_equals_the_full_taylor_expansion_of_every_entry():
    """The law of total covariance, each side expanded to second order and the 1/n coefficient
    kept (products of expansions, no shortcut): every vertex and shift map equals the
    engine's, term for term."""
    n, n_prev = sp.symbols("n n_prev", positive=True)

    means, moments = conditional_means(), conditional_moments()
    first = {i: K1_PAIR[i] / n_prev for i in ENTRIES_2X2}
    second = {(i, j): vertex_symbol(i, j) / n_prev for i in ENTRIES_2X2 for j in ENTRIES_2X2}
    F = {i: sigma_w**2 * means[i] + sigma_b**2 for i in ENTRIES_2X2}
    mean = {i: _taylor_expected(F[i], first, second) for i in ENTRIES_2X2}
    for i, j in VERTEX_ENTRIES:
        conditional = sigma_w**4 * (moments[(i, j)] - means[i] * means[j]) / n
        product = _taylor_expected(conditional + F[i] * F[j], first, second)
        vertex = sp.expand(n * _first_order(product - mean[i] * mean[j], n, n_prev))
        vertex = vertex.subs(n, width_ratio * n_prev)
        assert sp.expand(vertex - PAIR_EXPANSION.vertex_maps[(i, j)]) == 0, (i, j)
    for i in ENTRIES_2X2:
        shift = _first_order(mean[i] - _at_kernel(F[i]), n, n_prev).subs(n_prev, n)
        assert sp.expand(n * shift - PAIR_EXPANSION.shift_maps[i]) == 0, i


@pytest.mark.parametrize("act", ["relu", "linear"])
def test_diagonal_entries_are_the_single_input_laws_exactly(act):
    layers = propagate_pair(SymbolicContext(), get_activation(act), (q1, q2, rho), 3,
                            sigma_w, sigma_b)
    vertex = symfield.derive("four_point_vertex", act).at_depth(3)
    shift = symfield.derive("mean_shift", act).at_depth(3)
    for entry, variance in (("11", q1), ("22", q2)):
        assert sp.simplify(layers.V[-1][(entry, entry)] - vertex.subs(q, variance)) == 0
        assert sp.simplify(layers.K1[-1][entry] - shift.subs(q, variance)) == 0


@pytest.mark.parametrize("act", ["tanh", "erf"])
def test_diagonal_entries_match_the_single_input_laws_in_float64(act):
    layers = propagate_pair(Float64Context(), get_activation(act), (0.7, 1.3, -0.4),
                            4, 1.4, 0.3)
    vertex = symfield.derive("four_point_vertex", act).to_numpy()
    shift = symfield.derive("mean_shift", act).to_numpy()
    for entry, variance in (("11", 0.7), ("22", 1.3)):
        assert layers.V[-1][(entry, entry)] == pytest.approx(
            float(vertex(q=variance, sigma_w=1.4, sigma_b=0.3, L=4)), rel=1e-12)
        assert layers.K1[-1][entry] == pytest.approx(
            float(shift(q=variance, sigma_w=1.4, sigma_b=0.3, L=4)), rel=1e-10, abs=1e-14)


def test_nearly_identical_inputs_approach_the_single_input_vertex():
    """erf (smooth): at rho = q (1 - 1e-10) the pair is one input up to O(1e-10)."""
    law = symfield.derive("four_point_vertex_pair", "erf")
    shift = symfield.derive("nngp_correction", "erf")
    point = dict(q1=0.8, q2=0.8, rho=0.8 * (1 - 1e-10), sigma_w=1.3, sigma_b=0.2, L=3)
    single = dict(q=0.8, sigma_w=1.3, sigma_b=0.2, L=3)
    assert float(law.to_numpy()(**point)) == pytest.approx(
        float(symfield.derive("four_point_vertex", "erf").to_numpy()(**single)), rel=1e-7)
    assert float(shift.to_numpy()(**point)) == pytest.approx(
        float(symfield.derive("mean_shift", "erf").to_numpy()(**single)), rel=1e-6)


# ------------------------------------------------------------------------------------------
# (ii) ReLU at sigma_w^2 = 2, sigma_b = 0 against a hand iteration from quadratures
# ------------------------------------------------------------------------------------------
DIGITS = 36


def relu_moment(a: int, b: int, c) -> mp.mpf:
    """E[relu(z1)^a relu(z2)^b], unit variances, correlation c: the 2-D integral in polar
    coordinates (z1, z2) = r (cos t, c cos t + sqrt(1-c^2) sin t) - the radial integral
    int r^(a+b+1) e^(-r^2/2) dr = 2^((a+b)/2) Gamma((a+b)/2 + 1), the angular one by
    mpmath.quad over the angles where both are positive."""
    s = mp.sqrt(1 - c * c)
    start = -mp.atan2(c, s)
    angular = mp.quad(lambda t: mp.cos(t) ** a * (c * mp.cos(t) + s * mp.sin(t)) ** b,
                      [start, mp.pi / 2])
    return 2 ** (mp.mpf(a + b) / 2) * mp.gamma(mp.mpf(a + b) / 2 + 1) * angular / (2 * mp.pi)


def relu_single_moment(a: int) -> mp.mpf:
    """E[relu(z)^a], z ~ N(0, 1), by mpmath.quad."""
    return mp.quad(lambda z: z**a * mp.npdf(z), [0, mp.inf])


def _kernel_derivatives():
    """Derivatives of k = sqrt(q1 q2) kappa(rho/sqrt(q1 q2)) in (q1, rho, q2) up to second
    order, by SymPy's chain rule on kappa's Taylor polynomial at c0 (exact at c = c0)."""
    Q1, Q2, R, c0, k0, k1, k2 = sp.symbols("Q1 Q2 R c0 k0 k1 k2")
    g = sp.sqrt(Q1 * Q2)
    c = R / g
    k = g * (k0 + k1 * (c - c0) + k2 * (c - c0) ** 2 / 2)
    names = (Q1, R, Q2)
    first = [sp.diff(k, v) for v in names]
    second = [[sp.diff(k, v, w) for w in names] for v in names]
    args = (Q1, Q2, R, c0, k0, k1, k2)
    return (sp.lambdify(args, first, "mpmath"), sp.lambdify(args, second, "mpmath"))


KERNEL_FIRST, KERNEL_SECOND = _kernel_derivatives()


def hand_recursion(q1_, q2_, rho_, depth, hessian_coefficient=mp.mpf(1) / 2,
                   off_diagonal_factor=1):
    """K, V (3 x 3 over 11, 12, 22) and K1 at layer ``depth`` for ReLU, sigma_w^2 = 2, sigma_b
    = 0, iterated from the layer-1 kernel: V' = M + J V J^T, K1' = J K1 + c sum H V with the
    moments from relu_moment. The defaults are the law; the keywords make wrong ones."""
    sw2 = mp.mpf(2)
    K = [mp.mpf(q1_), mp.mpf(rho_), mp.mpf(q2_)]
    Vm = mp.zeros(3, 3)
    K1v = mp.zeros(3, 1)
    for _ in range(depth - 1):
        a, r, b = K
        g = mp.sqrt(a * b)
        c = r / g
        # M[0, 0] = P(z1 > 0, z2 > 0) = kappa'(c) (Price); M[a, 0] one input's moments
        M = {(i, j): relu_moment(i, j, c) for i, j in ((1, 1), (2, 2), (3, 1), (1, 3), (0, 0))}
        M[2, 0], M[4, 0] = relu_single_moment(2), relu_single_moment(4)
        kappa, slope, curvature = M[1, 1], M[0, 0], 1 / (2 * mp.pi * mp.sqrt(1 - c * c))
        # E[P_i] and E[P_i P_j], P = (relu1^2, relu1 relu2, relu2^2)
        mean = [a * M[2, 0], g * kappa, b * M[2, 0]]
        fourth = [[a * a * M[4, 0], a * g * M[3, 1], a * b * M[2, 2]],
                  [a * g * M[3, 1], a * b * M[2, 2], g * b * M[1, 3]],
                  [a * b * M[2, 2], g * b * M[1, 3], b * b * M[4, 0]]]
        first = KERNEL_FIRST(a, b, r, c, kappa, slope, curvature)
        second = KERNEL_SECOND(a, b, r, c, kappa, slope, curvature)
        first[1] = first[1] * off_diagonal_factor
        J = mp.matrix([[sw2 * M[2, 0], 0, 0], [sw2 * v for v in first], [0, 0, sw2 * M[2, 0]]])
        H12 = mp.matrix([[sw2 * v for v in row] for row in second])  # chi0'' = 0 for ReLU
        moments = mp.matrix([[sw2**2 * (fourth[i][j] - mean[i] * mean[j]) for j in range(3)]
                             for i in range(3)])
        shift = J * K1v
        shift[1] += hessian_coefficient * sum(H12[k, l] * Vm[k, l] for k in range(3)
                                              for l in range(3))
        Vm, K1v = moments + J * Vm * J.T, shift
        K = [sw2 * mean[0], sw2 * mean[1], sw2 * mean[2]]
    return K, Vm, K1v


POINT = (mp.mpf(1), mp.mpf(3) / 2, mp.mpf(1) / 2)   # q1, q2, rho of layer 1


@pytest.fixture(scope="module")
def relu_reference():
    with mp.workdps(DIGITS):
        return {depth: hand_recursion(*POINT, depth) for depth in (2, 3, 4)}


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_relu_pair_matches_the_hand_iteration_to_30_digits(relu_reference, depth):
    K, Vm, K1v = relu_reference[depth]
    act = get_activation("relu")
    with mp.workdps(DIGITS + 5):
        layers = propagate_pair(MultiPrecisionContext(DIGITS + 5), act,
                                tuple(POINT[i] for i in (0, 1, 2)), depth, mp.sqrt(2), mp.mpf(0))
    tolerance = mp.mpf(10) ** -30
    for (i, j) in VERTEX_ENTRIES:
        want = Vm[ORDER[i], ORDER[j]]
        got = layers.V[-1][(i, j)]
        assert abs(got - want) <= tolerance * max(1, abs(want)), (i, j, got, want)
    for i in ENTRIES_2X2:
        want, got = K1v[ORDER[i]], layers.K1[-1][i]
        assert abs(got - want) <= tolerance * max(1, abs(want)), (i, got, want)
    # and through the registered laws, certified at 30 digits
    values = dict(q1=1, q2="3/2", rho="1/2", sigma_w=sp.sqrt(2), sigma_b=0, L=depth)
    vertex = symfield.derive("four_point_vertex_pair", "relu").evaluate(dps=30, **values)
    shift = symfield.derive("nngp_correction", "relu").evaluate(dps=30, **values)
    assert abs(vertex - Vm[1, 1]) <= tolerance * abs(Vm[1, 1])
    assert abs(shift - K1v[1]) <= tolerance * max(1, abs(K1v[1]))


def test_relu_pair_laws_are_closed_forms():
    for name in ("four_point_vertex_pair", "nngp_correction"):
        assert symfield.derive(name, "relu").form == "closed"


def test_wrong_coefficients_are_rejected_by_the_reference(relu_reference):
    """1/2 -> 1 on K1's Hessian term, and the off-diagonal derivative halved (a
    symmetric-matrix derivative summed over distinct entries): far outside the tolerance."""
    _, Vm, K1v = relu_reference[4]
    with mp.workdps(DIGITS):
        _, _, wrong_shift = hand_recursion(*POINT, 4, hessian_coefficient=1)
        _, wrong_vertex, wrong_shift_2 = hand_recursion(*POINT, 4, off_diagonal_factor=mp.mpf(1) / 2)
    assert abs(wrong_shift[1] - K1v[1]) > 1e-3 * abs(K1v[1])
    assert abs(wrong_vertex[1, 1] - Vm[1, 1]) > 1e-2 * abs(Vm[1, 1])
    assert abs(wrong_shift_2[1] - K1v[1]) > 1e-3 * abs(K1v[1])


# ------------------------------------------------------------------------------------------
# Sampled networks
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def relu_pair_check():
    return check_finite_width_pair("relu", math.sqrt(2), 0.0, depth=2, seed=20261207, q1=1.0,
                                   q2=1.5, rho=0.5, networks=3000)


def test_relu_pair_against_sampled_networks(relu_pair_check, relu_reference):
    check = relu_pair_check
    assert check.passed, str(check)
    names = {row.quantity for row in check.rows}
    assert names == {f"V_{i},{j}" for i, j in VERTEX_ENTRIES} | {f"K1_{i}" for i in ENTRIES_2X2}
    # the predictions are the quadrature reference's
    _, Vm, K1v = relu_reference[3]
    (row,) = [r for r in check.rows if r.quantity == "V_12,12" and r.layer == 3]
    assert row.prediction == pytest.approx(float(Vm[1, 1]), rel=1e-12)


@dataclass
class _Layers:
    kernel: list
    V: list
    K1: list


def test_sampled_networks_reject_a_halved_off_diagonal_derivative(relu_pair_check):
    """The same networks against the recursion with d/ds_12 halved: rejected."""
    with mp.workdps(20):
        layers = _Layers([], [], [])
        for depth in (1, 2, 3):
            K, Vm, K1v = hand_recursion(*POINT, depth, off_diagonal_factor=mp.mpf(1) / 2)
            layers.kernel.append({i: float(K[ORDER[i]]) for i in ENTRIES_2X2})
            layers.V.append({(i, j): float(Vm[ORDER[i], ORDER[j]]) for i, j in VERTEX_ENTRIES})
            layers.K1.append({i: float(K1v[ORDER[i]]) for i in ENTRIES_2X2})
    wrong = check_finite_width_pair("relu", math.sqrt(2), 0.0, depth=2, seed=20261207, q1=1.0,
                                    q2=1.5, rho=0.5, networks=3000, theory=layers)
    assert not wrong.passed, str(wrong)
    assert any(abs(r.z_score) > wrong.z for r in wrong.rows if r.quantity == "V_12,12")
    # the same networks (the K1 rows subtract the reference's own kernel, equal to ~1e-16)
    assert [r.estimate for r in wrong.rows] == pytest.approx(
        [r.estimate for r in relu_pair_check.rows], rel=1e-12, abs=1e-12)


def test_sampled_networks_reject_a_vertex_off_by_ten_percent():
    kwargs = dict(depth=2, seed=99, q1=1.2, q2=0.8, rho=0.4)
    true = symfield.check_law("four_point_vertex_pair", "erf", 1.4, 0.3, [16, 32, 64, 128],
                              replicas=3000, **{k: v for k, v in kwargs.items()})
    assert true.passed, str(true)
    wrong = symfield.check_law("four_point_vertex_pair", "erf", 1.4, 0.3, [16, 32, 64, 128],
                               replicas=3000, scale=1.1, **kwargs)
    assert not wrong.passed, str(wrong)


@settings(max_examples=2, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(seed=st.integers(0, 2**32 - 1),
       case=st.sampled_from([("tanh", 1.3, 0.2, (1.0, 0.6, -0.3)),
                             ("erf", 1.1, 0.0, (0.5, 2.0, 0.9))]))
def test_property_true_pair_laws_pass_for_any_seed(seed, case):
    activation, sw, sb, (a, b, c) = case
    check = check_finite_width_pair(activation, sw, sb, depth=2, seed=seed, q1=a, q2=b, rho=c,
                                    widths=(16, 32, 64), networks=1200, batches=24)
    assert check.passed, str(check)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------
GOOD = dict(q1=1, q2=2, rho="1/2", sigma_w=1, sigma_b=0, L=2)


@pytest.mark.parametrize("change,match", [
    ({"rho": 2}, r"\|rho\| must be <= sqrt\(q1\*q2\)"),
    ({"rho": "-3/2"}, r"\|rho\| must be <= sqrt\(q1\*q2\)"),
    ({"q1": 2, "rho": 2}, r"\|rho\| must be < sqrt\(q1\*q2\).*four_point_vertex"),
    ({"q1": 0}, "q1 must be > 0"),
    ({"q2": -1}, "q2 must be > 0"),
    ({"L": 0}, "depth must be an integer >= 1"),
    ({"sigma_w": -1}, "sigma_w"),
    ({"kappa": 1}, "has no variable 'kappa'"),
])
def test_bad_points_are_one_line_errors(change, match):
    values = dict(GOOD, **change)
    for name in ("four_point_vertex_pair", "nngp_correction"):
        with pytest.raises(InvalidValueError, match=match) as info:
            symfield.derive(name, "relu").evaluate(dps=20, **values)
        assert "\n" not in str(info.value)


def test_bad_arrays_are_one_line_errors():
    f = symfield.derive("four_point_vertex_pair", "erf").to_numpy()
    with pytest.raises(InvalidValueError, match="rho"):
        f(q1=np.array([1.0, 1.0]), q2=1.0, rho=np.array([0.5, 1.0]), sigma_w=1.0, sigma_b=0.0,
          L=2)
    with pytest.raises(InvalidValueError, match="q1 and q2 must be > 0"):
        f(q1=0.0, q2=1.0, rho=0.0, sigma_w=1.0, sigma_b=0.0, L=2)
    with pytest.raises(InvalidValueError, match="depth"):
        f(q1=1.0, q2=1.0, rho=0.0, sigma_w=1.0, sigma_b=0.0, L=0)


def test_a_kinked_kernel_that_becomes_degenerate_is_an_error_not_nan():
    """ReLU deep in the ordered phase: the correlation reaches 1 in float64 near layer 110,
    where the kernel's rho-derivatives diverge; tanh (smooth) goes on."""
    values = dict(q1=1.0, q2=1.5, rho=0.5, sigma_w=1.2, sigma_b=0.5)
    shift = symfield.derive("nngp_correction", "relu").to_numpy()
    assert np.isfinite(shift(L=50, **values))
    with pytest.raises(InvalidValueError, match="degenerate to working precision") as info:
        shift(L=200, **values)
    assert "\n" not in str(info.value)
    assert np.isfinite(symfield.derive("nngp_correction", "tanh").to_numpy()(L=200, **values))


@pytest.mark.parametrize("kwargs,match", [
    ({"rho": 1.0, "q1": 1.0, "q2": 1.0}, "positive definite"),
    ({"sigma_b": 1.0}, "positive definite"),
    ({"widths": (16, 16)}, "two different widths"),
    ({"widths": (16, 0)}, "width must be an integer >= 2"),
    ({"depth": 0}, "depth"),
    ({"rho": "x"}, "rho must be"),
])
def test_bad_sampled_pair_checks_are_refused_before_sampling(kwargs, match):
    args = dict(activation="tanh", sigma_w=1.2, sigma_b=0.1, depth=2, seed=1, q1=1.0, q2=1.0,
                rho=0.5)
    args.update(kwargs)
    with pytest.raises(InvalidValueError, match=match):
        check_finite_width_pair(**args)


# ------------------------------------------------------------------------------------------
# The kernel's derivatives for kinked activations, against differences of the kernel law
# ------------------------------------------------------------------------------------------
STEP = mp.mpf("1e-5")
AT = {"q1": mp.mpf(1), "q2": mp.mpf(3) / 4, "rho": mp.mpf(1) / 2}


def kernel_difference(kernel, counts: dict) -> mp.mpf:
    """A central difference (second order in STEP) of the kernel law at AT: first or second
    derivatives in one variable, or mixed in two (each variable at most twice)."""
    names = [name for name, k in counts.items() for _ in range(k)]
    first = [(1, 1), (-1, -1)]                      # (weight, shift in steps)
    if len(names) == 1:
        terms = [(w, {names[0]: s}) for w, s in first]
        scale = 2 * STEP
    elif names[0] == names[1]:
        terms = [(1, {names[0]: 1}), (-2, {}), (1, {names[0]: -1})]
        scale = STEP**2
    else:
        terms = [(w1 * w2, {names[0]: s1, names[1]: s2}) for w1, s1 in first for w2, s2 in first]
        scale = 4 * STEP**2
    total = mp.mpf(0)
    for weight, shifts in terms:
        point = {k: v + shifts.get(k, 0) * STEP for k, v in AT.items()}
        total += weight * kernel.evaluate(dps=30, **{k: str(v) for k, v in point.items()})
    return total / scale


@pytest.mark.parametrize("act", ["relu_power", "elu", "abs"])
def test_kernel_derivatives_of_kinked_activations_match_differences(act):
    """Each derivative of the pair kernel the recursion uses, derived with the activation's
    distributional derivatives (relu_power: SymPy's product rule on max(0, u)^2 gave
    delta(u) max(0, u) and then delta(u)^2, 'undefined'; ELU: phi'' = alpha e^u H(-u) +
    (1 - alpha) delta(u) stayed one expectation with a delta in it), against central
    differences of the kernel law itself at 30 digits."""
    from symfield.laws.finite_width_pair import elementary_laws

    activation = get_activation(act)
    if act == "elu":
        activation = activation.with_parameters(alpha=sp.Rational(1, 2))
    kernel = symfield.derive("kernel", activation)
    names = {q1: "q1", q2: "q2", rho: "rho"}
    checked = 0
    for atom, (law, _) in elementary_laws(activation).items():
        if not (isinstance(atom, sp.Derivative) and atom.expr.func.__name__ == "k"):
            continue
        counts = {names[v]: k for v, k in atom.variable_count}
        got = law.evaluate(dps=20, **{k: str(v) for k, v in AT.items()})
        with mp.workdps(40):
            want = kernel_difference(kernel, counts)
        assert abs(got - want) <= mp.mpf("1e-8") * max(1, abs(want)), (law.name, got, want)
        checked += 1
    assert checked == 9


def test_a_delta_left_in_an_expectation_is_refused_in_one_line():
    """The guard behind the pair laws: an elementary expectation still holding a delta (no
    quadrature integrates one) is a one-line error naming the activation and the atom."""
    from symfield.laws.finite_width_pair import _refuse_unevaluated_deltas

    @dataclass
    class Stub:
        expr: sp.Expr
        title: str = "k_dq11"

    left = bivariate_expectation(sp.DiracDelta(u1 - 1) * sp.exp(u2), q1, rho, q2)
    with pytest.raises(InvalidValueError, match="hard_tanh need k_dq11.*Dirac delta") as info:
        _refuse_unevaluated_deltas(get_activation("hard_tanh"), {None: (Stub(left), None)})
    assert "\n" not in str(info.value)
    _refuse_unevaluated_deltas(get_activation("hard_tanh"), {None: (Stub(sp.S.One), None)})
