"""Law.evaluate backed by balls (issue 16): which values are proven, and that they are right.

``Law.certified`` says how each value of ``evaluate`` is certified: 'ball' (rounded from a
proven Arb enclosure), 'exact', or 'agreement' (two working precisions). The references are
independent of Arb and of the engine: the law's definition integrated by mpmath quadrature at
60 digits from hand-written activations (tests/support/oracles.py); where an activation has no
such oracle (or a delta in phi''), an enclosure to 50 digits (a different target, so a
different working precision and rounding than evaluate's).
"""
from __future__ import annotations

import random
from fractions import Fraction

import mpmath as mp
import pytest

import symfield
from symfield.errors import InvalidValueError, PrecisionError
from symfield.gaussian.numerics.enclosure import Enclosure, NotEnclosable, _exact_fraction
from symfield.laws.base import CERTIFICATES, _decimal_rounding, _rounded_inside

from support.laws import finite_law, law_of
from support.oracles import NeedsSecondDerivative, ReferenceError_, oracle_for, reference_law

DPS = 30
REF_DPS = 60
LAWS = ("chi0", "chi1", "length_map_slope")


def point_for(law, rng: random.Random) -> dict[str, Fraction]:
    """Exact values inside a single-input law's domain (parameters at their defaults)."""
    values: dict[str, Fraction] = {}
    for s in law.variables:
        if s.name == "q":
            values["q"] = Fraction(10 ** rng.uniform(-2, 1.5)).limit_denominator(10**9)
        elif s.name == "sigma_w":
            values["sigma_w"] = Fraction(rng.uniform(0.5, 3)).limit_denominator(10**6)
    return values


def reference_of(name: str, law, values) -> tuple[mp.mpf, mp.mpf]:
    """(reference, its own relative error bound)."""
    oracle = oracle_for(law.activation.name)
    if oracle is not None:
        try:
            return reference_law(name, oracle, values, REF_DPS), mp.mpf(10) ** -50
        except (NeedsSecondDerivative, ReferenceError_):
            pass
    return law.enclose(dps=50, **values).mid, mp.mpf(10) ** -50


@pytest.mark.parametrize("name", LAWS)
@pytest.mark.parametrize("act", list(symfield.registered_activations()))
def test_evaluate_digits_lie_inside_the_reference(name, act):
    """Every registered activation: the value is within half a unit in its 30th digit of the
    reference; a ball-proven value also prints (mpmath.nstr) as the reference's correctly
    rounded digits, and its ball holds the reference."""
    law = finite_law(name, act)
    values = point_for(law, random.Random(f"{name}/{act}"))
    result = law.certified(dps=DPS, **values)
    assert result.certificate in CERTIFICATES
    reference, slack = reference_of(name, law, values)
    with mp.workdps(80):
        error = abs(result.value - reference)
        assert error <= abs(reference) * (mp.mpf(10) ** -DPS / 2 + slack), (
            f"{name}[{act}] {values}: {result} vs {mp.nstr(reference, 40)}")
    if result.certificate == "ball":
        ball = result.enclosure
        widened = Enclosure(ball.mid, ball.rad + slack * abs(reference))
        assert widened.contains(reference), (ball, mp.nstr(reference, 50))
        with mp.workdps(80):
            low, high = (_decimal_rounding(reference * (1 + s * slack), DPS) for s in (-1, 1))
        if low == high:  # the reference is not within its own error of a rounding boundary
            assert Fraction(mp.nstr(result.value, DPS)) == low, (result, low)
    elif result.certificate == "agreement":
        assert result.reason


def test_which_values_are_proven():
    """The routing the README states: closed forms, pole series and integral forms over one
    or two variables (Mehler kernels through their definition) by balls; integral forms at a
    variance above 100 by agreement (with the reason); exact points and divergent laws
    exactly; proven=False forces the two precisions."""
    cases = [
        ("chi1", "erf", {"q": "0.7", "sigma_w": "1.3"}, "ball"),
        ("kernel", "relu", {"q1": "1.1", "q2": "0.9", "rho": "-0.4"}, "ball"),
        ("chi0", "tanh", {"q": "2"}, "ball"),                       # a pole series
        ("chi0", "softplus", {"q": "1"}, "ball"),                   # E over one variable
        ("chi1", "tanh", {"q": "0", "sigma_w": "1.1"}, "ball"),     # a zero variance
        ("kernel", "tanh", {"q1": "1", "q2": "2", "rho": "0.3"}, "ball"),  # Mehler: E[.]
        ("kernel", "silu", {"q1": "1", "q2": "2", "rho": "0.3"}, "ball"),  # E over two
        ("chi0", "softplus", {"q": "1000"}, "agreement"),           # a variance above 100
        ("kernel", "tanh", {"q1": "1", "q2": "400", "rho": "3"}, "agreement"),  # and here
        ("chi0", "linear", {"q": "1/3"}, "exact"),
        ("kernel", "erf", {"q1": "1", "q2": "1", "rho": "0"}, "exact"),   # exactly 0
        ("chi2", "relu", {"q": "1", "sigma_w": "1"}, "exact"),            # divergent: +inf
    ]
    for name, act, values, certificate in cases:
        result = law_of(name, act).certified(dps=DPS, **values)
        assert result.certificate == certificate, (name, act, result)
        assert result.proven == (certificate != "agreement")
        assert result.value == law_of(name, act).evaluate(dps=DPS, **values)
        if certificate == "agreement":
            assert "variance above" in result.reason
    # ELU's chi2 at alpha = 1, where its divergent piece is absent: proven to all 40 digits
    # (the two-precision route had SymPy's 30-digit evalf here)
    elu = law_of("chi2", "elu").certified(dps=40, q=1, sigma_w=1, alpha=1)
    assert elu.certificate == "ball"
    with mp.workdps(60):
        assert abs(elu.value - elu.enclosure.mid) <= abs(elu.value) * mp.mpf(10) ** -40 / 2
    forced = law_of("chi1", "erf").certified(dps=DPS, proven=False, q="0.7", sigma_w="1.3")
    assert forced.certificate == "agreement" and forced.enclosure is None


def test_agreement_fooled_where_the_ball_is_not():
    """E[exp(a x) - 1] = exp(a^2 q / 2) - 1 at a = 10^-300: exp(10^-600) is exactly 1 at every
    working precision below 600 digits, so the two precisions agree on 0 (wrongly); the ball
    route raises its working precision until the cancellation is resolved."""
    law = symfield.derive("mean_activity", symfield.activation("exp(a*x) - 1"))
    values = {"q": 2, "a": "1e-300"}
    assert law.evaluate(dps=DPS, proven=False, **values) == 0  # agreement, and wrong
    result = law.certified(dps=DPS, **values)
    assert result.certificate == "ball"
    with mp.workdps(1300):  # exp(x) - 1 = x + x^2/2 + ..., x = 10^-600
        x = mp.mpf(10) ** -600
        reference = x + x * x / 2
        assert abs(result.value - reference) <= reference * mp.mpf(10) ** -DPS / 2


def test_a_narrow_peak_is_proven_where_agreement_gives_up():
    """A Lorentzian of width 10^-8: the two-precision quadrature does not converge; the ball
    route (Arb's integration sees the poles) proves the value."""
    law = symfield.derive("mean_activity", symfield.activation("1/(1 + 10**16*(x - 7/10)**2)"))
    with pytest.raises(PrecisionError):
        law.evaluate(dps=DPS, proven=False, q=1)
    result = law.certified(dps=DPS, q=1)
    assert result.certificate == "ball"
    with mp.workdps(REF_DPS):  # the Voigt profile: pi eps Re w((7/10 + i eps)/sqrt 2)/sqrt(2 pi)
        eps = mp.mpf(10) ** -8
        z = (mp.mpf(7) / 10 + 1j * eps) / mp.sqrt(2)
        reference = mp.pi * eps * mp.re(mp.exp(-z * z) * mp.erfc(-1j * z)) / mp.sqrt(2 * mp.pi)
        assert abs(result.value - reference) <= reference * mp.mpf(10) ** -DPS / 2


def test_proven_true_names_the_digits_proven():
    """exp(10^-640) - 1 at 15 digits: the effort cap proves 10 digits; proven=True says so,
    and the default route refuses the two precisions' agreement on 0, which the ball
    excludes."""
    law = symfield.derive("mean_activity", symfield.activation("exp(a*x) - 1"))
    values = {"q": 2, "a": "1e-320"}
    with pytest.raises(PrecisionError, match=r"only 10 of the 15 digits asked for are proven"):
        law.evaluate(dps=15, proven=True, **values)
    with pytest.raises(PrecisionError, match=r"only 10 of the 15 .*excludes"):
        law.evaluate(dps=15, **values)
    assert law.evaluate(dps=15, proven=False, **values) == 0


def test_proven_true_refuses_rather_than_falls_back():
    tanh_kernel = law_of("kernel", "tanh")
    with pytest.raises(NotEnclosable, match="at most 100 digits"):
        tanh_kernel.evaluate(dps=101, proven=True, q1=1, q2=1, rho="0.3")
    atan = symfield.derive("four_point_vertex", symfield.activation("atan(x)"))
    with pytest.raises(NotEnclosable, match="its layer law chi0 for atan"):
        atan.evaluate(proven=True, q=1, sigma_w=1, sigma_b=0, L=2)
    # the NNGP recursion encloses itself: proven=True rounds its ball, the default agrees
    nngp = law_of("nngp", "erf")
    values = {"L": 3, "q1": 1, "q2": "0.5", "rho": "0.2", "sigma_w": "1.5", "sigma_b": "0.1"}
    proven = nngp.certified(dps=DPS, proven=True, **values)
    agreed = nngp.certified(dps=DPS, **values)
    assert (proven.certificate, agreed.certificate) == ("ball", "agreement")
    ball = proven.enclosure
    with mp.workdps(80):
        assert abs(proven.value - ball.mid) <= ball.rad + abs(ball.mid) * mp.mpf(10) ** -DPS / 2
        assert abs(proven.value - agreed.value) <= abs(proven.value) * mp.mpf(10) ** -DPS
    assert nngp.evaluate(dps=DPS, proven=True, **values) == proven.value
    with pytest.raises(InvalidValueError, match="proven must be"):
        law_of("chi0", "erf").evaluate(proven="yes", q=1)


def test_edge_cases_keep_their_behaviour():
    # a singular point: E[delta(u1) delta(u2)] at |c| = 1
    with pytest.raises(InvalidValueError, match="infinite or undefined"):
        law_of("derivative_kernel", "sign").evaluate(q1="1/3", q2="1/3", rho="1/3")
    # an exact zero of an odd kernel, also at a float input
    assert law_of("kernel", "erf").evaluate(q1="0.5", q2=2, rho=0.0) == 0
    # a rational at an exact point keeps every digit
    third = law_of("chi0", "linear").certified(dps=50, q="1/3")
    with mp.workdps(50):
        assert third.value == mp.mpf(1) / 3 and third.certificate == "exact"


# ------------------------------------------------------------------------------------------
# The rounding: a ball straddling a decimal rounding boundary
# ------------------------------------------------------------------------------------------
def test_a_ball_across_a_rounding_boundary_is_not_rounded():
    boundary = Fraction(123455, 10**6)  # 0.12345|5: the boundary between ...45 and ...46 at 5 digits
    with mp.workprec(200):  # within 2^-200 of the boundary; the radius covers it
        mid = mp.mpf(boundary.numerator) / boundary.denominator
    assert _rounded_inside(Enclosure(mid, mp.mpf(2) ** -100), 5) is None
    assert _rounded_inside(Enclosure(mid, mp.mpf(2) ** -100), 6) is not None  # one more digit


def test_the_midpoint_rounding_is_kept_inside_the_balls_cell():
    """A ball just below a boundary whose midpoint's nearest binary rounding (at mpmath's
    precision for dps) lands above it: the value is rounded towards the ball instead."""
    dps = 20
    boundary = Fraction(123456789012345678905, 10**21)  # between ...890 and ...891 (20 digits)
    with mp.workdps(dps):
        prec = mp.mp.prec
    for step in range(1, 200):
        with mp.workprec(prec + 40):
            mid = mp.mpf(boundary.numerator) / boundary.denominator - step * mp.mpf(2) ** -(prec + 36)
        ball = Enclosure(mid, mp.mpf(2) ** -(prec + 80))
        with mp.workdps(dps):
            nearest = +mid
        if _exact_fraction(nearest) > boundary > _exact_fraction(mid):
            break
    else:
        pytest.fail("no midpoint whose nearest rounding crosses the boundary")
    value = _rounded_inside(ball, dps)
    assert value is not None and value != nearest
    assert _decimal_rounding(value, dps) == _decimal_rounding(mid, dps)
    assert _exact_fraction(value) < boundary
