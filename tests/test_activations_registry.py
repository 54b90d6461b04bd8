"""Every registered activation (and a few family members) against independent references.

The loops run over ``symfield.registered_activations()``, so a new entry is checked without editing this
file. References come from ``oracles_activations``: phi, phi', phi'' typed in by hand,
integrated by ``mpmath.quad`` split at the kinks (never symfield's calculus or quadrature),
and neural-tangents' published kernels re-typed in mpmath. Laws are evaluated at 30 digits
and must agree to 1e-25 relative; a law whose expectation diverges must evaluate to +inf and
name the reason.
"""
from __future__ import annotations

import os

from fractions import Fraction

import mpmath as mp
import pytest

import symfield
from symfield.activations import activation as make_activation

from support.oracles_activations import NT, expect2, hand, reference

NAMES = sorted(symfield.registered_activations())
#: Family members beyond the registry's defaults (structural and symbolic parameters).
VARIANTS = [
    ("leaky_relu", {"alpha": Fraction(1, 5)}),
    ("ab_relu", {"a": 2, "b": Fraction(-1, 3)}),
    ("elu", {"alpha": Fraction(1, 2)}),
    ("relu_power", {"k": 0}), ("relu_power", {"k": 1}), ("relu_power", {"k": 3}),
    ("relu_power", {"k": 4}),
    ("monomial", {"k": 1}), ("monomial", {"k": 2}), ("monomial", {"k": 5}),
    ("polynomial", {"coefficients": (1, -2, 0, Fraction(1, 3))}),
]
CASES = [(name, {}) for name in NAMES] + VARIANTS
SINGLE_LAWS = ("chi0", "chi1", "chi2", "length_map_slope")
#: q near 0, moderate, large.
Q_POINTS = (Fraction(1, 1000), Fraction(7, 10), Fraction(150))
SIGMA_W = Fraction(13, 10)
EVAL_DPS, REF_DPS = 30, 45
REL_TOL = mp.mpf(10) ** -25


def _id(case) -> str:
    name, params = case
    if not params:
        return name
    return name + "[" + ",".join(f"{k}={v}" for k, v in params.items()) + "]"


def _activation(name: str, params: dict):
    return make_activation(name, **params) if params else symfield.registered_activations()[name]


#: Absolute floor: a 45-digit quadrature of an O(1) oscillating integrand whose mean is tiny
#: (sin at q = 40: E = e^-80) holds about 1e-45 absolute, not 45 digits of the mean.
ABS_FLOOR = mp.mpf(10) ** -40


def _relative_error(value, ref) -> mp.mpf:
    """|value - ref| relative to |ref|, with differences below ABS_FLOOR counting as 0."""
    diff = abs(value - ref)
    if diff <= ABS_FLOOR:
        return mp.mpf(0)
    return diff / abs(ref) if ref != 0 else diff


def _hand(name: str, params: dict):
    with mp.workdps(REF_DPS):
        found = hand(name, params)
    assert found is not None, f"tests/support/oracles_activations.py has no hand-written {name!r}"
    return found


def test_the_registry_holds_the_named_activations_of_issue_11():
    wanted = {"erf", "tanh", "sigmoid", "linear", "relu", "leaky_relu", "abs", "ab_relu", "gelu",
              "silu", "softplus", "elu", "selu", "mish", "hard_tanh", "sign", "step", "sin",
              "cos", "exp", "gaussian", "gabor", "relu_power", "monomial", "polynomial"}
    assert wanted <= set(NAMES)
    assert make_activation("swish") is symfield.registered_activations()["silu"]


@pytest.mark.parametrize("case", CASES, ids=_id)
@pytest.mark.parametrize("law_name", SINGLE_LAWS)
def test_single_input_law_matches_quadrature(law_name, case):
    name, params = case
    act = _activation(name, params)
    law = symfield.derive(law_name, act)
    assert law.form in ("closed", "series", "integral")
    h = _hand(name, params)
    for q in Q_POINTS:
        values = {"q": q} if law_name == "chi0" else {"q": q, "sigma_w": SIGMA_W}
        value = law.evaluate(dps=EVAL_DPS, **values)
        with mp.workdps(REF_DPS):
            ref = reference(law_name, h, values)
            if mp.isinf(ref):
                assert mp.isinf(value) and value > 0, (law_name, name, q, value)
                assert law.divergent and law.divergence.strip(), "a divergence names its reason"
                continue
            assert mp.isfinite(value), (law_name, name, q, value)
            err = _relative_error(value, ref)
        assert err <= REL_TOL, (f"{law_name}[{_id(case)}] at q = {q}: {mp.nstr(value, 32)} vs "
                                f"{mp.nstr(ref, 32)} (relative error {mp.nstr(err, 3)})")


#: (q1, q2, rho) with sqrt(q1 q2) rational: c = 1/2; c = -0.9 at unequal variances; c near 1;
#: small variances.
PAIR_POINTS = (
    (Fraction(1), Fraction(1), Fraction(1, 2)),
    (Fraction(1, 4), Fraction(4), Fraction(-9, 10)),
    (Fraction(9), Fraction(4), 6 * (1 - Fraction(1, 10**6))),
    (Fraction(1, 100), Fraction(1, 100), Fraction(1, 300)),
)
NT_CASES = [case for case in CASES if case[0] in NT and not case[1]]


@pytest.mark.parametrize("case", NT_CASES, ids=_id)
def test_kernels_match_neural_tangents_closed_forms(case):
    """Kernel and derivative kernel against neural-tangents' published formulas (re-typed in
    mpmath); where neural-tangents drops the delta of sign's derivative, against the
    bivariate density instead."""
    name, _params = case
    act = symfield.registered_activations()[name]
    kernel = symfield.derive("kernel", act)
    dkernel = symfield.derive("derivative_kernel", act)
    h = _hand(name, {})
    for q1, q2, rho in PAIR_POINTS:
        values = {"q1": q1, "q2": q2, "rho": rho}
        k = kernel.evaluate(dps=EVAL_DPS, **values)
        dk = dkernel.evaluate(dps=EVAL_DPS, **values)
        with mp.workdps(REF_DPS):
            nt_k, nt_dk = NT[name](*(mp.mpf(v.numerator) / v.denominator for v in (q1, q2, rho)))
            if nt_dk is None:
                nt_dk = reference("derivative_kernel", h, values)
            for what, got, want in (("kernel", k, nt_k), ("derivative_kernel", dk, nt_dk)):
                err = _relative_error(got, want)
                assert err <= REL_TOL, (f"{what}[{name}] at {values}: {mp.nstr(got, 32)} vs "
                                        f"neural-tangents {mp.nstr(want, 32)} "
                                        f"(relative error {mp.nstr(err, 3)})")


#: Activations with no neural-tangents closed form: checked by nested quadrature at one point
#: (each reference is a 2-D mpmath quadrature: seconds at these digits).
PAIR_DPS, PAIR_REF_DPS, PAIR_TOL = 20, 26, mp.mpf(10) ** -17
#: Known gap (issue 11), listed so that it is seen, not silently dropped.
KNOWN_GAPS = {
    ("gabor", "derivative_kernel"): "the derivation takes minutes (closed form, but slow rules)",
}


#: Kernels without a closed form (series or integral): their nested-quadrature comparison is
#: hours on 2 cores, so CI runs the closed forms only (test_two_input_laws checks tanh and
#: sigmoid against independent references).
NESTED_QUADRATURE_ONLY_IN_FULL = ("tanh", "sigmoid", "silu", "softplus", "mish",
                                  # closed form, but its oscillating 2-D reference takes a
                                  # minute; test_two_input_laws checks it by 2-D quadrature
                                  "gabor")


def _pair_cases():
    for case in [c for c in CASES if c[0] not in NT and not c[1]] + [("relu_power", {"k": 3})]:
        for law_name in ("kernel", "derivative_kernel"):
            gap = KNOWN_GAPS.get((case[0], law_name)) if not case[1] else None
            marks = [pytest.mark.xfail(reason=gap, run=False)] if gap else []
            if case[0] in NESTED_QUADRATURE_ONLY_IN_FULL:
                marks.append(pytest.mark.skipif(
                    not os.environ.get("SYMFIELD_FULL"),
                    reason="series/integral (or oscillating) kernel: a 2-D certified quadrature "
                           "against a nested one at 26 digits takes minutes per case; "
                           "SYMFIELD_FULL=1 runs it"))
            yield pytest.param(case, law_name, marks=marks, id=f"{law_name}-{_id(case)}")


@pytest.mark.parametrize("case,law_name", list(_pair_cases()))
def test_kernels_match_nested_quadrature(case, law_name):
    name, params = case
    act = _activation(name, params)
    h = _hand(name, params)
    values = {"q1": Fraction(1, 2), "q2": Fraction(3, 2), "rho": Fraction(-1, 3)}
    with mp.workdps(PAIR_REF_DPS):
        if law_name == "kernel":
            ref = expect2(h.phi, h.phi, *values.values(), h.kinks, h.kinks)
        else:
            ref = reference("derivative_kernel", h, values)
    law = symfield.derive(law_name, act)
    value = law.evaluate(dps=PAIR_DPS, **values)
    with mp.workdps(PAIR_REF_DPS):
        err = _relative_error(value, ref)
    assert err <= PAIR_TOL, (f"{law_name}[{_id(case)}]: {mp.nstr(value, 22)} vs quadrature "
                             f"{mp.nstr(ref, 22)} (relative error {mp.nstr(err, 3)})")


@pytest.mark.parametrize("name,law_name", [
    ("sign", "chi1"), ("step", "chi1"), ("sign", "chi2"), ("step", "chi2"), ("relu", "chi2"),
    ("hard_tanh", "chi2"), ("selu", "chi2"), ("leaky_relu", "chi2"), ("abs", "chi2"),
])
def test_infinite_laws_are_named_with_a_reason(name, law_name):
    law = symfield.derive(law_name, name)
    assert law.divergent and "delta" in law.divergence.lower(), law.divergence
    assert law.evaluate(q=1, sigma_w=1) == mp.inf


def test_elu_chi2_is_infinite_exactly_when_the_slope_jumps():
    """ELU's phi' jumps by 1 - alpha at 0: chi2 is finite at alpha = 1 only."""
    law = symfield.derive("chi2", "elu")
    assert law.divergent
    assert mp.isfinite(law.evaluate(q=1, sigma_w=1, alpha=1))
    assert law.evaluate(q=1, sigma_w=1, alpha="1/2") == mp.inf


def test_sign_derivative_kernel_is_the_density_at_the_origin():
    """sign' = 2 delta: E[sign'(u1) sign'(u2)] = 4/(2 pi sqrt(q1 q2 - rho^2)), finite off the
    diagonal."""
    law = symfield.derive("derivative_kernel", "sign")
    value = law.evaluate(dps=30, q1=1, q2=2, rho="1/2")
    with mp.workdps(40):
        assert abs(value - 2 / (mp.pi * mp.sqrt(mp.mpf(7) / 4))) < mp.mpf(10) ** -28
