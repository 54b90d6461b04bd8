"""Proven enclosures of the finite-width laws (issue 16): four_point_vertex, mean_shift and
the two-input four_point_vertex_pair, nngp_correction run their depth recursion in ball
arithmetic.

References never call symfield's numerics: the layer expectations are mpmath quadratures of
phi over the Gaussian at 50 digits (chi0' and chi0'' by differentiating the Gaussian density,
E[phi^2 (x^2 - q)]/(2 q^2) and E[phi^2 (x^4 - 6 q x^2 + 3 q^2)]/(4 q^4)), and for the pair
laws the ReLU arc-cosine kernel with mpmath.diff for its derivatives and one-dimensional
quadratures (conditioning on u1) for the fourth moments of the pair. The recursions are
typed here from the 1/n expansion:

    V^{l+1}  = sigma_w^4 (mu4 - chi0^2) + chi_par^2 V^l,
    K1^{l+1} = chi_par K1^l + sigma_w^2 chi0''/2 V^l,
    V'_ij    = sigma_w^4 (E[P_i P_j] - kappa_i kappa_j) + sum_kl dF_i/ds_k dF_j/ds_l V_kl
    K1'_i    = sum_k dF_i/ds_k K1_k + 1/2 sum_kl d^2F_i/ds_k ds_l V_kl
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import mpmath as mp
import pytest

import symfield
from symfield.gaussian.numerics.enclosure import Enclosure, NotEnclosable, enclose_computation
from symfield.laws.evaluation import BallContext
from symfield.laws.finite_width_pair import propagate_pair

REF_DPS = 50
DPS = 30
SINGLE = dict(q=Fraction(7, 10), sigma_w=Fraction(13, 10), sigma_b=Fraction(2, 5))
PAIR = dict(q1=Fraction(7, 10), q2=Fraction(1), rho=Fraction(1, 3), sigma_w=Fraction(13, 10),
            sigma_b=Fraction(2, 5))

PHI = {"relu": lambda x: max(x, 0), "erf": mp.erf, "tanh": mp.tanh}


def mpf(value: Fraction) -> mp.mpf:
    return mp.mpf(value.numerator) / value.denominator


def law_of(name: str, act: str):
    return symfield.derive(name, act)


# ------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------
def gauss(g, var) -> mp.mpf:
    """E[g(x)], x ~ N(0, var), by mpmath.quad (split at 0, where ReLU has its kink)."""
    s = mp.sqrt(var)
    return mp.quad(lambda z: g(s * z) * mp.exp(-z * z / 2), [-mp.inf, 0, mp.inf]) \
        / mp.sqrt(2 * mp.pi)


@lru_cache(maxsize=None)
def single_reference(act: str, depth: int) -> tuple[mp.mpf, mp.mpf]:
    """(V^L, K1^L) at SINGLE, iterated from q^1 = q with V^1 = K1^1 = 0."""
    phi = PHI[act]
    with mp.workdps(REF_DPS):
        sw2, sb2 = mpf(SINGLE["sigma_w"]) ** 2, mpf(SINGLE["sigma_b"]) ** 2
        q, V, K1 = mpf(SINGLE["q"]), mp.mpf(0), mp.mpf(0)
        for _ in range(depth - 1):
            chi0 = gauss(lambda x: phi(x) ** 2, q)
            mu4 = gauss(lambda x: phi(x) ** 4, q)
            slope = gauss(lambda x: phi(x) ** 2 * (x * x - q), q) / (2 * q * q)
            curvature = gauss(lambda x: phi(x) ** 2 * (x**4 - 6 * q * x * x + 3 * q * q),
                              q) / (4 * q**4)
            chi_par = sw2 * slope
            V, K1 = (sw2**2 * (mu4 - chi0**2) + chi_par**2 * V,
                     chi_par * K1 + sw2 * curvature / 2 * V)
            q = sw2 * chi0 + sb2
        return V, K1


def relu_kernel(a, b, c) -> mp.mpf:
    """E[relu(u1) relu(u2)] (the arc-cosine kernel), u ~ N(0, [[a, c], [c, b]])."""
    s = mp.sqrt(a * b)
    theta = mp.acos(c / s)
    return s * (mp.sin(theta) + (mp.pi - theta) * mp.cos(theta)) / (2 * mp.pi)


def relu_pair_moment(a, b, c, m: int, k: int) -> mp.mpf:
    """E[relu(u1)^m relu(u2)^k] by one quadrature over u1 > 0 of the conditional moment
    E[Y_+^k], Y = u2 | u1 ~ N(c u1/a, b - c^2/a)."""
    s = mp.sqrt(b - c * c / a)

    def positive_moment(mean):
        t = mean / s
        cdf, pdf = mp.ncdf(t), mp.npdf(t)
        return {1: mean * cdf + s * pdf,
                2: (mean**2 + s**2) * cdf + mean * s * pdf,
                3: (mean**3 + 3 * mean * s**2) * cdf + (mean**2 + 2 * s**2) * s * pdf}[k]

    density = lambda u: mp.exp(-u * u / (2 * a)) / mp.sqrt(2 * mp.pi * a)  # noqa: E731
    return mp.quad(lambda u: u**m * positive_moment(c * u / a) * density(u), [0, mp.inf])


@lru_cache(maxsize=None)
def relu_pair_reference(depth: int) -> tuple[dict, dict]:
    """(V^L, K1^L) of ReLU's two-input recursion at PAIR, entries (11, 12, 22)."""
    entries = ("11", "12", "22")
    with mp.workdps(REF_DPS):
        sw2, sb2 = mpf(PAIR["sigma_w"]) ** 2, mpf(PAIR["sigma_b"]) ** 2
        K = {"11": mpf(PAIR["q1"]), "12": mpf(PAIR["rho"]), "22": mpf(PAIR["q2"])}
        V = {(i, j): mp.mpf(0) for i in entries for j in entries}
        K1 = {i: mp.mpf(0) for i in entries}
        for _ in range(depth - 1):
            def F(i, s11, s12, s22):
                kappa = {"11": s11 / 2, "22": s22 / 2,
                         "12": relu_kernel(s11, s22, s12)}[i]   # chi0 = q/2 for ReLU
                return sw2 * kappa + sb2

            at = [K["11"], K["12"], K["22"]]
            dF = {(i, k): mp.diff(lambda *s: F(i, *s), at,
                                  tuple(int(e == k) for e in entries))
                  for i in entries for k in entries}
            d2F = {(i, k, m): mp.diff(lambda *s: F(i, *s), at,
                                      tuple(int(e == k) + int(e == m) for e in entries))
                   for i in entries for k in entries for m in entries}
            a, b, c = K["11"], K["22"], K["12"]
            kappa = {"11": a / 2, "12": relu_kernel(a, b, c), "22": b / 2}
            mu22 = relu_pair_moment(a, b, c, 2, 2)
            moment = {("11", "11"): 3 * a * a / 2, ("22", "22"): 3 * b * b / 2,
                      ("11", "12"): relu_pair_moment(a, b, c, 3, 1),
                      ("12", "22"): relu_pair_moment(a, b, c, 1, 3),
                      ("11", "22"): mu22, ("12", "12"): mu22}
            moment.update({(j, i): v for (i, j), v in list(moment.items())})
            V, K1 = ({(i, j): sw2**2 * (moment[(i, j)] - kappa[i] * kappa[j])
                      + mp.fsum(dF[(i, k)] * dF[(j, m)] * V[(k, m)]
                                for k in entries for m in entries)
                      for i in entries for j in entries},
                     {i: mp.fsum(dF[(i, k)] * K1[k] for k in entries)
                      + mp.fsum(d2F[(i, k, m)] * V[(k, m)] for k in entries for m in entries) / 2
                      for i in entries})
            K = {i: F(i, K["11"], K["12"], K["22"]) for i in entries}
        return V, K1


def assert_encloses(ball: Enclosure, reference: mp.mpf) -> None:
    """The ball (widened by the reference's own quadrature error) holds the reference, meets
    the target 10^-DPS relative, and excludes the reference moved by 1e-20 relative."""
    assert isinstance(ball, Enclosure)
    with mp.workdps(REF_DPS):
        assert abs(ball.mid - reference) <= ball.rad + mp.mpf(10) ** -44 * abs(reference), \
            (ball, reference)
        assert ball.rad <= mp.mpf(10) ** -DPS * abs(ball.mid) / 2, ball
        assert ball.digits >= DPS
        assert not ball.contains(reference * (1 + mp.mpf(10) ** -20)), (ball, reference)


# ------------------------------------------------------------------------------------------
# Single input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("act", ["relu", "erf", "tanh"])
def test_four_point_vertex_and_mean_shift_enclose_the_quadrature_recursion(act):
    V, K1 = single_reference(act, 4)
    assert_encloses(law_of("four_point_vertex", act).enclose(dps=DPS, L=4, **SINGLE), V)
    shift = law_of("mean_shift", act).enclose(dps=DPS, L=4, **SINGLE)
    if act == "relu":  # chi0'' = 0: no mean shift, exactly
        assert shift.rad == 0 and shift.mid == 0 and abs(K1) < mp.mpf(10) ** -40
    else:
        assert_encloses(shift, K1)


def test_proven_true_rounds_the_enclosure():
    law = law_of("four_point_vertex", "erf")
    V, _K1 = single_reference("erf", 4)
    proven = law.certified(DPS, proven=True, L=4, **SINGLE)
    ball = proven.enclosure
    assert proven.certificate == "ball" and ball.contains(V)
    assert law.evaluate(DPS, proven=True, L=4, **SINGLE) == proven.value
    with mp.workdps(REF_DPS):  # the value is the ball rounded to DPS digits
        assert abs(proven.value - ball.mid) <= ball.rad + abs(ball.mid) * mp.mpf(10) ** -DPS / 2
        assert abs(proven.value - V) <= abs(V) * mp.mpf(10) ** -DPS
    assert law.certified(DPS, proven=False, L=4, **SINGLE).certificate == "agreement"


def test_depth_one_is_exactly_zero_and_inputs_start_exact():
    """V^1 = K1^1 = 0 exactly; a decimal string is its exact value (0.7 = 7/10)."""
    for name in ("four_point_vertex", "mean_shift"):
        ball = law_of(name, "erf").enclose(dps=DPS, L=1, **SINGLE)
        assert (ball.mid, ball.rad) == (0, 0)
    as_text = law_of("four_point_vertex", "relu").enclose(
        dps=DPS, L=3, q="0.7", sigma_w="1.3", sigma_b="0.4")
    exact = law_of("four_point_vertex", "relu").enclose(dps=DPS, L=3, **SINGLE)
    assert as_text == exact


def test_bad_input_is_refused_first():
    law = law_of("four_point_vertex", "relu")
    with pytest.raises(symfield.InvalidValueError, match="needs the depth L"):
        law.enclose(**SINGLE)
    with pytest.raises(symfield.InvalidValueError, match="depth must be an integer"):
        law.enclose(L=0, **SINGLE)
    with pytest.raises(symfield.InvalidValueError, match="q must be > 0"):
        law.enclose(L=2, q=-1, sigma_w=1, sigma_b=0)
    with pytest.raises(symfield.InvalidValueError):
        law.enclose(L=2, q=1, sigma_w=-1, sigma_b=0)


def test_a_layer_law_without_enclosure_is_named():
    """atan's expectations have no proven Gaussian tail: one line naming the law and the
    layer law, also through proven=True; the default route still certifies by two
    precisions."""
    law = symfield.derive("four_point_vertex", symfield.activation("atan(x)"))
    point = dict(L=3, q=1, sigma_w=1, sigma_b=0)
    with pytest.raises(NotEnclosable) as refused:
        law.enclose(dps=20, **point)
    message = str(refused.value)
    assert message.startswith("four_point_vertex for atan(x) at depth 3: its layer law chi0 "
                              "for atan(x) has no enclosure (") and "\n" not in message
    with pytest.raises(NotEnclosable, match="its layer law"):
        law.evaluate(dps=20, proven=True, **point)
    assert law.certified(dps=20, **point).certificate == "agreement"


#: evaluate's default (two precisions) at fe2087f, before enclosures: (sign, man, exp).
BEFORE = {
    ("four_point_vertex", "relu"): (0, 5816019508537463105562698662335, -100),
    ("four_point_vertex", "erf"): (0, 3871151564128652447926012346283, -103),
    ("mean_shift", "erf"): (1, 4249451157329857762825785582839, -105),
    ("four_point_vertex_pair", "relu"): (0, 4749204995525063675615053479859, -100),
    ("nngp_correction", "relu"): (1, 8762805212553530224174691948983, -106),
}


@pytest.mark.parametrize("name, act", sorted(BEFORE))
def test_default_route_is_unchanged(name, act):
    point = PAIR if "q1" in {s.name for s in law_of(name, act).variables} else SINGLE
    certified = law_of(name, act).certified(DPS, L=4, **point)
    assert certified.certificate == "agreement" and certified.enclosure is None
    assert tuple(certified.value._mpf_[:3]) == BEFORE[(name, act)]


# ------------------------------------------------------------------------------------------
# Two inputs
# ------------------------------------------------------------------------------------------
def test_pair_laws_enclose_the_relu_reference():
    V, K1 = relu_pair_reference(4)
    assert_encloses(law_of("four_point_vertex_pair", "relu").enclose(dps=DPS, L=4, **PAIR),
                    V[("12", "12")])
    assert_encloses(law_of("nngp_correction", "relu").enclose(dps=DPS, L=4, **PAIR), K1["12"])


def test_pair_recursion_on_its_diagonal_is_the_single_input_law():
    """The (11)(11) entry of the two-input recursion, in balls, is four_point_vertex at q1
    (and K1_11 mean_shift): the enclosures overlap. (The pair laws themselves refuse
    rho^2 = q1 q2, where ReLU's kernel derivatives diverge.)"""
    act = symfield.activation("relu")
    context = BallContext()

    def compute():
        state = [context.number(PAIR[k]) for k in ("q1", "q2", "rho")]
        layers = propagate_pair(context, act, state, 4, context.number(PAIR["sigma_w"]),
                                context.number(PAIR["sigma_b"]))
        return [layers.V[-1][("11", "11")], layers.K1[-1]["11"]]

    diagonal_V, diagonal_K1 = enclose_computation(compute, DPS, "the (11) entries")
    single = dict(q=PAIR["q1"], sigma_w=PAIR["sigma_w"], sigma_b=PAIR["sigma_b"], L=4)
    for ball, name in ((diagonal_V, "four_point_vertex"), (diagonal_K1, "mean_shift")):
        other = law_of(name, "relu").enclose(dps=DPS, **single)
        assert abs(ball.mid - other.mid) <= ball.rad + other.rad, (name, ball, other)


def test_pair_refusals_stay_as_they_were():
    law = law_of("nngp_correction", "relu")
    with pytest.raises(symfield.InvalidValueError, match=r"\|rho\| must be < sqrt\(q1\*q2\)"):
        law.enclose(L=2, q1=1, q2=1, rho=1, sigma_w=1, sigma_b=0)


def test_a_composed_zero_stops_early_with_what_is_proven():
    """A value that rounding leaves as a ball around 0 (here 3 * (1/3) - 1; a pair law at
    rho = 0 by symmetry) has no relative digits at any precision: the search stops at twice
    the target's bits, saying how close to 0 it is proven, instead of running to the cap."""
    from flint import arb, ctx

    from symfield.errors import PrecisionError
    from symfield.gaussian.numerics.enclosure import ZERO_BITS_FACTOR, target_bits

    tries = []

    def compute():
        tries.append(ctx.prec)
        return [3 * (arb(1) / 3) - 1]

    with pytest.raises(PrecisionError, match="within .* of 0 .* may be exactly 0") as info:
        enclose_computation(compute, 30, "the zero", integrals=False)
    assert "\n" not in str(info.value)
    assert max(tries) >= ZERO_BITS_FACTOR * target_bits(30) and len(tries) <= 3
    assert info.value.proven_digits == 0 and info.value.best.rad > 0
    # a small value that is not zero is still found once the precision resolves it
    tiny = enclose_computation(lambda: [3 * (arb(1) / 3) - 1 + arb(10) ** -50], 30, "tiny",
                               integrals=False)[0]
    with mp.workdps(60):
        assert tiny.digits >= 30 and abs(tiny.mid / mp.mpf(10) ** -50 - 1) <= mp.mpf(10) ** -30
