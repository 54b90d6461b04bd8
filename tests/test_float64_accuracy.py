"""float64 accuracy of ``Law.to_numpy`` (issue 19 item 2), against independent references.

The bound stated in the docstring of symfield/laws/base.py ("float64 accuracy"): for every
closed-form law the error is at most ULPS units in the last place times (1 + kappa),
kappa = sum_i |x_i df/dx_i| / |f| the
condition number of the law in its float64 inputs (how much rounding the inputs themselves
would move the value); where the inputs allow it the error is a few ulps outright
(q1 = q2 = 1 and any rho: <= 1e-12, the issue's goal, in fact ~1e-14).

References: the law's own SymPy expression evaluated with mpmath at 60 digits (plus the
digits the inputs' magnitudes span), directly, not through symfield's certified numerics;
kappa from its symbolic derivatives at 20 digits. Points: every variable over its domain,
variances log-uniform in [1e-8, 1e4], correlations uniform and within 1e-16 of +-1 (and
exactly +-1), distances near 0 and 4A, scales with sigma_b = 0 or tiny. The sweeps run 600
points per two-input law (300 single-input) for the literature activations, 100 (80) for the
catalogue's others, and 10^4 for all of them with SYMFIELD_FULL=1; series and integral forms
(tanh, sigmoid) are checked on smaller sweeps against certified 20-digit values.
"""
from __future__ import annotations

import math
import os
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import symfield

from support.laws import finite_law, law_of

ULPS = 16
UNIT = 2.0**-53
FLOAT_MAX = np.finfo(float).max
FLOAT_TINY = np.finfo(float).tiny
SUBNORMAL_SPACING = 2.0**-1074

TWO_INPUT = ("kernel", "derivative_kernel", "covariance_map", "correlation_map", "overlap_map",
             "distance_map", "correlation_map_slope")
SINGLE_INPUT = ("chi0", "chi1", "chi2", "length_map", "activity_map", "length_map_slope",
                "mean_activity", "mean_slope", "metric_law", "curvature_map", "curvature_map_directions", "curvature_map_post",
                "curvature_fixed_point", "domino", "gradient_norm")
ACTIVATIONS = list(symfield.registered_activations())



def pairs(names):
    return [(name, act) for name in names for act in ACTIVATIONS]


def closed_law(name, act):
    """The law when its float64 form is a closed form of finite values (else the test skips:
    which pairs those are is what the derivation decides, so it is asked when the test runs)."""
    law = finite_law(name, act, closed=True)
    if law.expr.has(sp.oo):
        pytest.skip(f"{name}[{act}] is +oo at some parameters")
    return law


# ------------------------------------------------------------------------------------------
# Points over the domain
# ------------------------------------------------------------------------------------------
def _log_uniform(rng, lo, hi, n):
    return 10.0 ** rng.uniform(math.log10(lo), math.log10(hi), n)


def _correlations(rng, n):
    """Uniform in [-1, 1], within 10^-k of +-1 (k up to 16.5), or exactly +-1."""
    kind = rng.integers(0, 4, n)
    sign = np.where(rng.integers(0, 2, n) == 0, -1.0, 1.0)
    c = rng.uniform(-1, 1, n)
    c = np.where(kind == 1, sign * (1 - 10.0 ** -rng.uniform(0, 16.5, n)), c)
    return np.where(kind == 2, sign, c)


def _inside(values, bound):
    """values moved towards 0 by ulps until |value| <= bound exactly (rational comparison)."""
    out = values.copy()
    for i in range(out.size):
        while abs(Fraction(out[i])) > bound(i):
            out[i] = np.nextafter(out[i], 0.0)
    return out


def sample(law, n: int, seed: int) -> dict[str, np.ndarray]:
    """n points inside the law's domain (chaotic phase for the curvature fixed point)."""
    rng = np.random.default_rng(seed)
    names = [s.name for s in law.variables]
    pts: dict[str, np.ndarray] = {}
    for v in ("q1", "q2", "q", "A"):
        if v in names:
            pts[v] = _log_uniform(rng, 1e-8, 1e4, n)
    if "sigma_w" in names:
        pts["sigma_w"] = _log_uniform(rng, 0.1, 10, n)
    if "sigma_b" in names:
        pts["sigma_b"] = np.where(rng.uniform(size=n) < 0.3, 0.0, _log_uniform(rng, 1e-8, 10, n))
    if "alpha" in names:
        pts["alpha"] = _log_uniform(rng, 1e-3, 1, n)
    if "kappa2" in names:
        pts["kappa2"] = np.where(rng.uniform(size=n) < 0.2, 0.0, _log_uniform(rng, 1e-4, 1e4, n))
    if "g" in names:
        pts["g"] = rng.standard_normal(n) * _log_uniform(rng, 1e-3, 1e3, n)
    if "delta_ab" in names:
        pts["delta_ab"] = rng.integers(0, 2, n).astype(float)
    if "L" in names:
        pts["L"] = rng.integers(1, 50, n).astype(float)
    if "rho" in names:
        q1, q2 = pts["q1"], pts["q2"]
        rho = _correlations(rng, n) * np.sqrt(q1 * q2)
        for i in range(n):
            while Fraction(rho[i]) ** 2 > Fraction(q1[i]) * Fraction(q2[i]):
                rho[i] = np.nextafter(rho[i], 0.0)
        pts["rho"] = rho
    if "c" in names:
        pts["c"] = _correlations(rng, n)
    if "C" in names:
        A = pts["A"]
        pts["C"] = _inside(_correlations(rng, n) * A, lambda i: Fraction(A[i]))
    if "D" in names:
        A = pts["A"]
        kind = rng.integers(0, 4, n)
        u = rng.uniform(0, 1, n)
        u = np.where(kind == 1, 10.0 ** -rng.uniform(0, 16.5, n), u)
        u = np.where(kind == 2, 1 - 10.0 ** -rng.uniform(0, 16.5, n), u)
        u = np.where(kind == 3, rng.choice([0.0, 1.0], n), u)
        pts["D"] = _inside(4 * A * u, lambda i: 4 * Fraction(A[i]))
    for name, (_symbol, default) in symfield.activation(law.activation).parameters.items():
        if name in names and name not in pts:   # ab_relu's a and b, ...: at their defaults
            pts[name] = np.full(n, float(default))
    missing = set(names) - set(pts)
    assert not missing, f"no float64 test values for {sorted(missing)}"
    if law.name == "curvature_fixed_point":   # its domain: chi1 > 1
        chi1 = law_of("chi1", law.activation).to_numpy()(
            **{k: v for k, v in pts.items() if k in {s.name for s in law_of("chi1", law.activation).variables}})
        keep = chi1 > 1 + 1e-6
        pts = {k: v[keep] for k, v in pts.items()}
    return pts


# ------------------------------------------------------------------------------------------
# References and the bound
# ------------------------------------------------------------------------------------------
def _mp_functions(law):
    symbols = list(law.variables)
    # mpmath's own functions, plus the Faddeeva function w(iy) = exp(y^2) erfc(y) of elu/selu
    modules = [{"faddeeva": lambda z: mp.exp(-z * z) * mp.erfc(-1j * z)}, "mpmath"]
    value = sp.lambdify(symbols, law.expr, modules=modules)
    derivatives = [sp.lambdify(symbols, sp.diff(law.expr, s), modules=modules) for s in symbols]
    return value, derivatives


def _real(v):
    return v.real if isinstance(v, mp.mpc) else v


def error_ratios(law, pts) -> list[tuple[float, int]]:
    """For each point, |error| / (ULPS ulps (1 + kappa) |f|), against the 60-digit reference."""
    got = law.to_numpy()(**pts)
    value, derivatives = _mp_functions(law)
    names = [s.name for s in law.variables]
    ratios = []
    for i in range(got.size):
        x = [mp.mpf(float(pts[n][i])) for n in names]
        if law.name == "distance_map" and pts["D"][i] == 0:
            # exactly 0 by the definition; a closed form at 60 digits leaves ~1e-60 of rounding
            ratios.append((0.0 if got[i] == 0 else abs(float(got[i])) / UNIT, i))
            continue
        widest = max((abs(int(mp.floor(mp.log10(abs(v))))) for v in x if v != 0), default=0)
        with mp.workdps(60 + 2 * widest):
            try:
                ref = _real(value(*x))
            except ZeroDivisionError:
                # a pole of the law (sign's and step's slopes at |c| = 1: E[delta delta]):
                # +inf is right there
                ratios.append((0.0 if got[i] == np.inf else np.inf, i))
                continue
        with mp.workdps(20):
            try:
                kappa = sum(abs(xi * _real(d(*x))) for xi, d in zip(x, derivatives))
            except ZeroDivisionError:
                kappa = mp.inf
        if ref == 0:
            ratios.append((0.0 if got[i] == 0 else abs(float(got[i])) / UNIT, i))
            continue
        if abs(ref) > FLOAT_MAX:        # the true value overflows float64: +-inf is right
            ratios.append((0.0 if got[i] == mp.sign(ref) * np.inf else np.inf, i))
            continue
        if abs(ref) < FLOAT_TINY:       # subnormal: a few of its fixed spacings more
            err = abs(mp.mpf(float(got[i])) - ref)
            allowed = ULPS * (UNIT * (abs(ref) + kappa) + SUBNORMAL_SPACING)
            ratios.append((float(err / allowed), i))
            continue
        err = abs(mp.mpf(float(got[i])) - ref) / abs(ref)
        bound = ULPS * UNIT * (1 + kappa / abs(ref))
        ratios.append((float(err / bound), i))
    return ratios


def prove_reference(law, point: dict[str, float]) -> bool:
    """Whether the 60-digit reference at ``point`` lies in the law's proven enclosure (Arb,
    20 digits): the measured error then stands on a proven value (issue 16). False where the
    law has no enclosure there (a form or point the ball route refuses); an enclosure that
    excludes the reference fails the test."""
    from symfield.errors import SymfieldError

    exact = {k: mp.mpf(v) for k, v in point.items()}   # the float64 inputs, exactly
    try:
        ball = law.enclose(dps=20, **exact)
    except SymfieldError:
        return False
    value, _ = _mp_functions(law)
    widest = max((abs(int(mp.floor(mp.log10(abs(v))))) for v in exact.values() if v != 0),
                 default=0)
    with mp.workdps(60 + 2 * widest):
        try:
            ref = _real(value(*[exact[s.name] for s in law.variables]))
        except ZeroDivisionError:
            return False
    if not mp.isfinite(ref) or not mp.isfinite(ball.mid):
        return False
    assert ball.contains(ref), f"{law.name}[{law.activation.name}]: {ref} outside {ball!r}"
    return True


def check_sweep(name, act, n, seed):
    law = closed_law(name, act)
    pts = sample(law, n, seed)
    ratios = error_ratios(law, pts)
    worst, i = max(ratios)
    where = {k: float(v[i]) for k, v in pts.items()}
    assert worst <= 1, (f"{name}[{act}]: error {worst:.3g} x {ULPS} ulps (1 + kappa) at {where}")
    # the point that sets the measured bound, its reference proven by an enclosure
    proven = prove_reference(law, where)
    table = os.environ.get("SYMFIELD_FLOAT64_TABLE")
    if table:   # the measured bounds, for the README's table
        with open(table, "a", encoding="utf-8") as out:
            out.write(f"{name}\t{act}\t{len(ratios)}\t{worst * ULPS:.3g}\t{proven}\n")


def test_a_reference_outside_the_enclosure_fails(monkeypatch):
    """Power: a reference one part in 10^12 off is caught by prove_reference."""
    law = law_of("kernel", "erf")
    value, derivatives = _mp_functions(law)
    monkeypatch.setitem(globals(), "_mp_functions",
                        lambda _law: (lambda *x: value(*x) * (1 + mp.mpf(10) ** -12), derivatives))
    with pytest.raises(AssertionError, match="outside"):
        prove_reference(law, {"q1": 1.0, "q2": 2.0, "rho": 0.5})
    monkeypatch.undo()
    assert prove_reference(law, {"q1": 1.0, "q2": 2.0, "rho": 0.5})


#: The activations of the literature kernels get the long sweeps; the catalogue's others a
#: shorter one each (the suite's time), all of them 10^4 points in the slow test.
CORE = {"erf", "linear", "relu", "leaky_relu", "abs"}

#: float64 forms known to miss the bound (issue 19 item 2 remains open for them), strict:
#: the test fails once one is fixed, and the entry must go. Found by these sweeps.
KNOWN_LOSSES: dict = {}


#: Losses only the 10^4-point sweep finds (the shorter sweeps pass: an xfail there would be
#: an unexpected pass), strict likewise.
KNOWN_LOSSES_TEN_THOUSAND: dict = {}


def swept(pairs, core_points: int, other_points: int, extra_known: dict | None = None):
    known = {**KNOWN_LOSSES, **(extra_known or {})}
    out = []
    for name, act in pairs:
        marks = []
        if (name, act) in known:
            marks.append(pytest.mark.xfail(strict=True, reason=known[name, act]))
        points = core_points if act in CORE else other_points
        out.append(pytest.param(name, act, points, marks=marks))
    return out


@pytest.mark.parametrize("name,act,points", swept(pairs(TWO_INPUT), 600, 100))
def test_two_input_closed_forms_within_ulps_times_condition(name, act, points):
    check_sweep(name, act, points, seed=19)


@pytest.mark.parametrize("name,act,points", swept(pairs(SINGLE_INPUT), 300, 80))
def test_single_input_closed_forms_within_ulps_times_condition(name, act, points):
    check_sweep(name, act, points, seed=20)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SYMFIELD_FULL"),
                    reason="hours of 60-digit references: SYMFIELD_FULL=1 runs it")
@pytest.mark.parametrize("name,act,points", swept(pairs(TWO_INPUT + SINGLE_INPUT),
                                                  10**4, 10**4, KNOWN_LOSSES_TEN_THOUSAND))
def test_closed_forms_on_ten_thousand_points(name, act, points):
    check_sweep(name, act, points, seed=21)


def test_the_bound_can_fail():
    """Power: the sweep's bound notices an error of 100 ulps at a well-conditioned point."""
    law = law_of("kernel", "relu")
    pts = {"q1": np.array([1.0]), "q2": np.array([2.0]), "rho": np.array([0.3])}
    value, _ = _mp_functions(law)
    with mp.workdps(60):
        ref = value(mp.mpf(1), mp.mpf(2), mp.mpf(0.3))
    got = float(law.to_numpy()(**pts)[0])
    assert abs(got - ref) / ref <= 4 * UNIT
    assert abs(got * (1 + 100 * UNIT) - ref) / ref > ULPS * UNIT * 2


# ------------------------------------------------------------------------------------------
# Where the inputs allow it: unit variances, any correlation (issue 19: 21 % off at
# rho = -(1 - 1e-10) once)
# ------------------------------------------------------------------------------------------
UNIT_RHOS = np.concatenate([-(1 - 2.0 ** -np.arange(1, 53)), 1 - 2.0 ** -np.arange(1, 53),
                            np.linspace(-1, 1, 401), [-(1 - 1e-10), -(1 - 1e-16), 1 - 1e-16]])


@pytest.mark.parametrize("name,act", pairs(("kernel", "derivative_kernel")))
def test_kernels_at_unit_variances_to_1e12_for_any_rho(name, act):
    if not law_of("kernel", act).closed_form:
        pytest.skip(f"kernel[{act}] has no closed form (test_two_input_quadrature_forms)")
    law = law_of(name, act)
    names = [s.name for s in law.variables]
    extra = {k: 0.01 for k in ("alpha",) if k in names}
    for k, (_symbol, default) in symfield.activation(act).parameters.items():
        if k in names and k not in extra:      # ab_relu's a and b: their defaults
            extra[k] = float(default)
    got = law.to_numpy()(q1=1.0, q2=1.0, rho=UNIT_RHOS, **extra)
    value, _ = _mp_functions(law)
    worst = 0.0
    for r, g in zip(UNIT_RHOS, got):
        point = {"q1": 1.0, "q2": 1.0, "rho": float(r), **extra}
        args = [mp.mpf(point[n]) for n in names]
        with mp.workdps(80):
            try:
                ref = _real(value(*args))
            except ZeroDivisionError:   # E[delta delta] at |c| = 1 exactly: +inf
                ref = mp.inf
        if ref == mp.inf:
            assert g == np.inf, (name, act, r, g)
            continue
        if ref == 0:
            assert abs(g) <= 1e-300
            continue
        worst = max(worst, float(abs(g - ref) / abs(ref)))
    assert worst <= 1e-12, f"{name}[{act}]: worst relative error {worst:.3g}"


def test_relu_kernel_near_minus_one_from_the_issue():
    """rho = -(1 - 1e-10) was off by 21 %; the value is ~ phi^3/(6 pi), phi = sqrt(2e-10)."""
    got = float(law_of("kernel", "relu").to_numpy()(q1=1.0, q2=1.0, rho=-(1 - 1e-10)))
    with mp.workdps(50):
        c = mp.mpf(-(1 - 1e-10))
        theta = mp.acos(c)
        ref = (mp.sin(theta) + (mp.pi - theta) * c) / (2 * mp.pi)  # Cho-Saul, by hand
    assert abs(got - ref) / ref <= 1e-13


# ------------------------------------------------------------------------------------------
# Series and integral forms (tanh, sigmoid): smaller sweeps against certified values
# ------------------------------------------------------------------------------------------
def non_closed_law(name, act):
    law = law_of(name, act)
    if law.form == "closed":
        pytest.skip(f"{name}[{act}] is a closed form (the ulps x condition sweeps check it)")
    return law


@pytest.mark.parametrize("name,act", pairs(("chi0", "chi1", "chi2", "length_map",
                                            "activity_map", "length_map_slope",
                                            "curvature_map")))
def test_single_input_quadrature_forms(name, act):
    """q over [0, 1e30] including the degenerate q = 0: 1e-13 relative (their condition
    numbers in q are O(1) there)."""
    law = non_closed_law(name, act)
    rng = np.random.default_rng(22)
    # the edges and a dozen points between (each reference is an mpmath quadrature)
    values = np.concatenate([[0.0, 1e-12, 1e30], _log_uniform(rng, 1e-8, 1e4, 9)])
    names = [s.name for s in law.variables]
    pts = {"q": values, "A": values, "sigma_w": 1.3, "sigma_b": 0.2, "kappa2": 0.5}
    pts = {k: v for k, v in pts.items() if k in names}
    got = law.to_numpy()(**pts)
    for i in range(values.size):
        point = {k: (v[i] if isinstance(v, np.ndarray) else v) for k, v in pts.items()}
        ref = law.evaluate(dps=20, **point)
        assert abs(got[i] - ref) <= 1e-13 * abs(ref) + 1e-300, (name, act, point, got[i], ref)


@pytest.mark.parametrize("name,act", pairs(TWO_INPUT))
def test_two_input_quadrature_forms(name, act):
    """Two or three hard points per law (correlations near +-1, distances near 0): 1e-12
    relative (the distance map at D = 1e-10 cancelled to 7e-7 in 2 (chi0 - K) once)."""
    law = non_closed_law(name, act)
    points = {
        # the hard points (each reference is a 2-D mpmath quadrature): correlations near
        # +-1, unequal variances, distances near 0 and near their maximum
        "kernel": [dict(q1=1.0, q2=1.0, rho=r) for r in (-0.999, 0.9999)]
        + [dict(q1=0.02, q2=5.0, rho=-0.2)],
        "correlation_map": [dict(c=c, q=q, sigma_w=1.5, sigma_b=0.1)
                            for c, q in ((-0.999, 1.0), (0.99, 20.0))],
        "overlap_map": [dict(C=C, A=1.0, sigma_w=1.2, sigma_b=0.3) for C in (-0.99, 0.999)],
        "distance_map": [dict(D=D, A=1.0, sigma_w=1.3, sigma_b=0.2) for D in (1e-10, 3.9)],
    }
    if name == "covariance_map":
        pts = [dict(p, sigma_w=1.4, sigma_b=0.2) for p in points["kernel"]]
    elif name == "correlation_map_slope":
        pts = points["correlation_map"]
    else:
        pts = points.get(name, points["kernel"])
    f = law.to_numpy()
    for p in pts:
        got = float(f(**p))
        ref = law.evaluate(dps=20, **p)
        assert abs(got - ref) <= 1e-12 * abs(ref) + 1e-300, (name, act, p, got, ref)


def test_a_small_variance_beside_a_huge_one_is_not_nan():
    """One node grid serves a whole array of variances, so beside q = 1e4 the nodes for
    q = 0.7 reach thousands of sd, where mish's E[phi phi''] integrand is inf/inf but the
    Gaussian weight is exactly 0 in float64: those nodes add 0 (they gave NaN, and the
    criticality scan then certified 169 points in mpmath, a minute of CPU)."""
    from symfield.dynamics.criticality import SUSCEPTIBILITY_GAP

    law = symfield.derive(SUSCEPTIBILITY_GAP, "mish")
    fn = law.compiled()
    with np.errstate(all="ignore"):
        together = fn.np(np.array([0.7, 1e4]), np.array([1.0, 1.0]))
    assert np.isfinite(together[0])
    ref = law.evaluate(dps=20, q=0.7, sigma_w=1)
    assert abs(together[0] - ref) <= 1e-12 * abs(ref)


@pytest.mark.parametrize("name,act", [("kernel", "softplus"), ("derivative_kernel", "mish"),
                                      ("derivative_kernel", "elu"), ("kernel", "mish")])
def test_pair_integrands_do_not_overflow_at_huge_variances(name, act):
    """Quadrature nodes reach 9 sd (u = 9e4 at q = 1e8), where softplus's log(exp(u) + 1),
    mish's exp(u)/(exp(u) + 1) and ELU's exp(u) Heaviside(-u) overflowed to inf or inf * 0
    in float64 (the NTK recursion then refused q = inf). At rho = q the pair is one variable:
    E[f(u)^2] by independent 40-digit quadrature; beside it, a variance of 1e-12."""
    from support.oracles import gauss_expect, oracle_for

    oracle = oracle_for(act)
    g = oracle.phi if name == "kernel" else oracle.dphi
    law = law_of(name, act)
    q = np.array([1e8, 1e-12])
    got = law.to_numpy()(q1=q, q2=q, rho=q)
    tolerance = 1e-12
    for value, qv in zip(got, q):
        ref = gauss_expect(lambda x: g(x) ** 2, float(qv), oracle, dps=40)
        assert abs(value - ref) <= tolerance * abs(ref), (name, act, qv, value, ref)


def test_pair_quadrature_refuses_before_work_beyond_its_bound():
    """The uniform inner rule needs ~72 sqrt(q) nodes per outer node: at q = 1e12 that is
    4e10 per point (it exhausted a CI worker's memory at q ~ 1e37). It refuses at once with
    a PrecisionError naming the variances; at q = 1e6 it still runs, against 40 digits."""
    from symfield.errors import PrecisionError
    from support.oracles import gauss_expect, oracle_for

    f = law_of("kernel", "silu").to_numpy()
    with pytest.raises(PrecisionError, match="variances"):
        f(q1=1e12, q2=1e12, rho=0.5e12)
    oracle = oracle_for("silu")
    got = float(f(q1=1e6, q2=1e6, rho=1e6))
    ref = gauss_expect(lambda x: oracle.phi(x) ** 2, 1e6, oracle, dps=40)
    assert abs(got - ref) <= 1e-12 * abs(ref)


@pytest.mark.parametrize("name", ["kernel", "derivative_kernel"])
def test_gelu_kernels_at_huge_variances_are_finite_and_right(name):
    """q2 + 1 - rho^2/q1 is 1 at c = +-1 but rounded to 0 at q = 1e37 (NaN, and the depth-10
    recursion at sigma_w = 100 with it): the float64 form writes it as 1 + gap/q1 with the
    gap q1 q2 - rho^2 computed directly. Against the law at 30 digits (mpmath) where the
    value is well conditioned; at c = -1 the terms of size q cancel, so there only finiteness
    and the bound 16 u (1 + kappa) of the sweeps hold (|error| <= 1e-15 q)."""
    law = law_of(name, "gelu")
    f = law.to_numpy()
    points = [dict(q1=1e37, q2=1e37, rho=1e37), dict(q1=1e37, q2=3e36, rho=-3e36),
              dict(q1=2e30, q2=5e36, rho=1e33)]
    for p in points:
        got = float(f(**p))
        ref = law.evaluate(dps=30, **p)
        assert abs(got - ref) <= 1e-14 * abs(ref), (name, p, got, ref)
    got = float(f(q1=1e37, q2=1e37, rho=-1e37))
    ref = law.evaluate(dps=30, q1=1e37, q2=1e37, rho=-1e37)
    assert np.isfinite(got) and abs(got - ref) <= 1e-15 * 1e37


def _gelu_pair_reference(q1, q2, rho, dps: int = 40):
    """E[u1 Phi(u1) u2 Phi(u2)] by conditioning on u1 (one mpmath quadrature): given u1,
    u2 ~ N(m, s^2) with m = rho u1/q1, s^2 = q2 - rho^2/q1, and E[X Phi(X)] for
    X ~ N(m, s^2) is m Phi(m/t) + (s^2/t) phi(m/t), t = sqrt(1 + s^2) (by hand)."""
    with mp.workdps(dps + 20):
        q1, q2, rho = mp.mpf(q1), mp.mpf(q2), mp.mpf(rho)   # exact for floats and mpf
        s2 = (q1 * q2 - rho**2) / q1
        t = mp.sqrt(1 + s2)

        def inner(u):
            m = rho * u / q1
            return m * mp.ncdf(m / t) + s2 / t * mp.npdf(m / t)

        def integrand(z):   # z ~ N(0, 1), u1 = sqrt(q1) z
            u = mp.sqrt(q1) * z
            return u * mp.ncdf(u) * inner(u) * mp.npdf(z)

        # GELU bends at |u| ~ 1, where the integrand's features sit at large q1
        edges = sorted({mp.mpf(0), *(k / mp.sqrt(q1) for k in (-8, -1, 1, 8)), -40, 40})
        return +mp.quad(integrand, edges)


@pytest.mark.parametrize("q1,q2,rho", [
    (565.9942249435622, 19.968154983794772, -106.31020836958245),   # the sweep's worst: 11.6
    (5728.005947755834, 3761.3515736927193, -4641.660044525323),
    (1e4, 1e4, -(1e4 - 1e-8)), (1e8, 1e8, -1e8), (15.74863653935677, 2.8360397394760164,
                                                  -6.683095021633303)])
def test_gelu_kernel_near_minus_one_at_large_variances(q1, q2, rho):
    """Near c = -1 the terms of size sqrt(q) cancel to a value of size 1/sqrt(q) (its end
    form in the arctangent, symfield.gaussian.numerics.arctangents): against an independent
    40-digit reference, within 16 ulps (1 + kappa) (kappa ~ q here; it was 11.6 times that)
    and 1e-9 relative outright."""
    law = law_of("kernel", "gelu")
    got = float(law.to_numpy()(q1=q1, q2=q2, rho=rho))
    ref = _gelu_pair_reference(q1, q2, rho)
    pts = {"q1": np.array([q1]), "q2": np.array([q2]), "rho": np.array([rho])}
    (ratio, _), = error_ratios(law, pts)
    assert ratio <= 1
    assert abs(got - ref) <= 1e-9 * abs(ref), (got, ref)


def _gelu_map_reference(name: str, p: dict, dps: int = 30):
    """GELU's maps from their definitions, each pair expectation by ``_gelu_pair_reference``
    at the covariances computed from the float64 inputs exactly."""
    with mp.workdps(80):
        sw2, sb2 = mp.mpf(p["sigma_w"]) ** 2, mp.mpf(p["sigma_b"]) ** 2
        if name == "correlation_map":
            q = mp.mpf(p["q"])
            pair = _gelu_pair_reference(q, q, mp.mpf(p["c"]) * q, dps)
            return (sw2 * pair + sb2) / (sw2 * _gelu_pair_reference(q, q, q, dps) + sb2)
        v = sw2 * mp.mpf(p["A"]) + sb2
        if name == "overlap_map":
            return _gelu_pair_reference(v, v, sw2 * mp.mpf(p["C"]) + sb2, dps)
        r = sw2 * (mp.mpf(p["A"]) - mp.mpf(p["D"]) / 2) + sb2
        return 2 * (_gelu_pair_reference(v, v, v, dps) - _gelu_pair_reference(v, v, r, dps))


@pytest.mark.parametrize("name,point", [
    # the sweeps' worst points (5.7e7, 33.9 and 6.1e3 times the bound)
    ("overlap_map", dict(A=2560.71645575293, sigma_w=6.712348798645628,
                         sigma_b=1.2483842862421722e-06, C=-2560.698792298924)),
    ("correlation_map", dict(q=2560.71645575293, sigma_w=6.712348798645628,
                             sigma_b=1.2483842862421722e-06, c=-0.9999931021437513)),
    ("distance_map", dict(A=275.61533416299886, sigma_w=7.234796782430742,
                          sigma_b=0.0002531010733224826, D=1102.4613366519955)),
    ("overlap_map", dict(A=1e6, sigma_w=1.0, sigma_b=0.0, C=-1e6))])
def test_gelu_maps_near_opposite_inputs(name, point):
    """The maps of GELU's kernel near u2 = -u1 at large variances, evaluated through the
    kernel's float64 form with the pair gap factored in the map's variables
    (PairComposition): within the sweep's bound and 1e-10 of an independent 30-digit value."""
    law = law_of(name, "gelu")
    got = float(law.to_numpy()(**point))
    ref = _gelu_map_reference(name, point)
    (ratio, _), = error_ratios(law, {k: np.array([v]) for k, v in point.items()})
    assert ratio <= 1
    assert abs(got - ref) <= 1e-10 * abs(ref), (got, ref)


@pytest.mark.parametrize("point", [
    # the 10^4-point sweep's worst (1.5e-9 once: the difference rule's last two steps 7.5e-7
    # apart, not halved further), and one the three-step check caught (3.4e-15 once)
    dict(A=1400.0, sigma_w=6.2, sigma_b=0.0, D=112.0),
    dict(A=1e4, sigma_w=3.0, sigma_b=0.1, D=400.0),
    dict(A=1e4, sigma_w=1.0, sigma_b=0.0, D=800.0)])
def test_gelu_distance_map_near_equal_inputs_at_large_variances(point):
    """Near u2 = u1 at a large variance GELU's bend (width 1) lies far out on the diagonals
    m = +-d/2 of the difference rule, where its mapped nodes are sparse: the points the
    product rule does not resolve are taken by the rule split at the origin. Within the
    sweep's bound and 1e-14 of an independent 30-digit value."""
    law = law_of("distance_map", "gelu")
    got = float(law.to_numpy()(**point))
    ref = _gelu_map_reference("distance_map", point)
    (ratio, _), = error_ratios(law, {k: np.array([v]) for k, v in point.items()})
    assert ratio <= 1
    assert abs(got - ref) <= 1e-14 * abs(ref), (got, ref)


@pytest.mark.parametrize("act", ["elu", "selu"])
@pytest.mark.parametrize("name", ["chi0", "mean_activity", "length_map", "activity_map"])
def test_elu_selu_near_zero_variance(name, act):
    """Near q = 0 ELU's and SELU's closed forms cancel terms of size alpha^2 (chi0) or
    alpha (the mean activation, whose terms of size sqrt(q) cancel too at ELU's alpha = 1)
    to a value of size q: the float64 form takes the law's Taylor series in sqrt(q) there
    (symfield.gaussian.numerics.small_variance). Against E[phi^2], E[phi] by an independent
    40-digit quadrature of the hand-written activation, at alpha = 1 (ELU's default, where
    the O(sqrt q) terms of the mean cancel exactly), SELU's defaults and alpha = 0.3."""
    from support.oracles import gauss_expect, oracle_for

    law = law_of(name, act)
    f = law.to_numpy()
    names = [s.name for s in law.variables]
    defaults = {k: float(sp.S(v)) for k, v in law.parameter_defaults().items()}
    variances = np.array([1e-12, 1e-8, 1e-5, 3e-3, 0.2, 0.7, 0.99, 1.01])
    for alpha in (defaults["alpha"], 0.3):
        params = {**defaults, "alpha": alpha}
        oracle = oracle_for(act, params)
        point = {"sigma_w": 1.0, "sigma_b": 0.0, **params}
        if name == "activity_map":
            got = f(A=variances, **{k: v for k, v in point.items() if k in names})
        else:
            got = f(q=variances, **{k: v for k, v in point.items() if k in names})
        for v, g in zip(variances, got):
            if name == "mean_activity":
                ref = gauss_expect(oracle.phi, float(v), oracle, dps=40)
                # SELU's mean crosses 0 near q = 1 (by design): relative to E|phi| there
                scale = gauss_expect(lambda x: abs(oracle.phi(x)), float(v), oracle, dps=40)
            else:   # sigma_w = 1, sigma_b = 0: the maps are E[phi^2] at variance v
                ref = scale = gauss_expect(lambda x: oracle.phi(x) ** 2, float(v), oracle,
                                           dps=40)
            assert abs(g - ref) <= 1e-14 * scale, (name, act, alpha, v, g, ref)


@pytest.mark.parametrize("name", ["chi0", "length_map", "activity_map", "length_map_slope"])
def test_hard_tanh_at_large_variances(name):
    """At large q hard tanh's q erf(1/sqrt(2q)) - sqrt(2q/pi) exp(-1/2q) cancels terms of
    size sqrt(q) to O(1/sqrt q) (8 x the sweep's bound at q = 1477): the float64 form takes
    the law's Laurent series in 1/sqrt(q) there (small_variance). Against E[phi^2] and
    its slope E[phi phi' u]/q by independent 40-digit quadratures of the clipped identity."""
    from support.oracles import gauss_expect, oracle_for

    oracle = oracle_for("hard_tanh")
    law = law_of(name, "hard_tanh")
    names = [s.name for s in law.variables]
    variances = np.array([5.0, 1477.4633497785, 4776.963482863608, 1e8, 1e14])
    point = {k: v for k, v in {"sigma_w": 1.0, "sigma_b": 0.0}.items() if k in names}
    got = law.to_numpy()(**{("A" if "A" in names else "q"): variances}, **point)
    for v, g in zip(variances, got):
        if name == "length_map_slope":   # d/dq E[phi(u)^2] = E[phi(u) phi'(u) u]/q
            ref = gauss_expect(lambda x: oracle.phi(x) * oracle.dphi(x) * x, float(v), oracle,
                               dps=40) / float(v)
        else:
            ref = gauss_expect(lambda x: oracle.phi(x) ** 2, float(v), oracle, dps=40)
        assert abs(g - ref) <= 1e-14 * abs(ref), (name, v, g, ref)


def _check_distance_map(act, A, D, sw, sb, single, pair):
    """The distance map's float64 value at (A, D, sigma_w, sigma_b) against its definition
    2 (single(v) - pair(v, r)), single = E[phi(u)^2] at variance v = sigma_w^2 A + sigma_b^2
    and pair = E[phi(u1) phi(u2)] at covariance r = v - sigma_w^2 D/2, given by hand at 40
    digits: within the sweeps' bound, and within 1e-14 relative (1e-12 near D = 4A, where
    4v - x is a difference of rounded products of the inputs: kappa ~ 4e3 at A = 1e3)."""
    law = law_of("distance_map", act)
    got = float(law.to_numpy()(A=A, D=D, sigma_w=sw, sigma_b=sb))
    with mp.workdps(40):
        v = mp.mpf(sw) ** 2 * mp.mpf(A) + mp.mpf(sb) ** 2
        ref = 2 * (single(v) - pair(v, v - mp.mpf(sw) ** 2 * mp.mpf(D) / 2))
    (ratio, _), = error_ratios(law, {"A": np.array([A]), "D": np.array([D]),
                                     "sigma_w": np.array([sw]), "sigma_b": np.array([sb])})
    assert ratio <= 1
    near_edge = 4 * A - D <= 1e-3 * A
    assert abs(got - ref) <= (1e-12 if near_edge else 1e-14) * abs(ref), (got, ref)


@pytest.mark.parametrize("A,D", [(1e-8, 2e-8), (1e-4, 1e-5), (1e-6, 3.9e-6), (0.3, 1.0), (1e3, 2e3)])
def test_gaussian_bump_distance_map_at_small_variances(A, D):
    """The Gaussian bump's distance map 2/sqrt(1 + 4v) - 2/(sqrt(1 + x) sqrt(1 + 4v - x))
    (v = sigma_w^2 A + sigma_b^2, x = sigma_w^2 D) cancels terms of size 2 to a value of size
    x (4v - x) at small variances: its float64 form writes the difference of reciprocal roots
    with x (4v - x) factored (compile._root_differences). Against the definition
    2 (E[phi^2] - E[phi(u1) phi(u2)]), phi = exp(-x^2), each by the Gaussian integral
    E[exp(-(u1^2 + u2^2))] = 1/sqrt(det(I + 2 Sigma)) written out by hand at 40 digits."""
    # the variance v is then of the size of A
    _check_distance_map("gaussian", A, D, 1.3, 0.0,
                        single=lambda v: 1 / mp.sqrt(1 + 4 * v),   # E[exp(-2 u^2)]
                        pair=lambda v, r: 1 / mp.sqrt((1 + 2 * v) ** 2 - 4 * r**2))


@pytest.mark.parametrize("A,D,sb", [(1e-8, 2e-8, 1e-5), (1e-7, 1e-10, 1e-5), (1e-4, 3e-4, 1e-5),
                                    (0.02, 0.05, 1e-5), (3.0, 1.0, 1e-5),
                                    (1e-6, 4e-6 * (1 - 1e-6), 1e-5), (1e3, 3999.0, 0.0)])
def test_cos_distance_map_at_small_variances(A, D, sb):
    """cos's distance map 1 - exp(-x/2) - exp(x/2 - 2v) + exp(-2v) (v = sigma_w^2 A +
    sigma_b^2, x = sigma_w^2 D) cancels terms of size 1 to a value of size x (4v - x) at
    small variances: its float64 form is the product (1 - exp(-x/2))(1 - exp(x/2 - 2v)) with
    both exponents simplified symbolically (compile._exponential_quadruples). Against the
    definition 2 (E[cos(u)^2] - E[cos(u1) cos(u2)]) by the Gaussian integrals E[cos(w.u)] =
    exp(-w.Sigma.w/2) written out by hand (``_check_distance_map``)."""
    _check_distance_map("cos", A, D, 1.3, sb,
                        single=lambda v: (1 + mp.exp(-2 * v)) / 2,       # E[cos(u)^2]
                        pair=lambda v, r: (mp.exp(r - v) + mp.exp(-r - v)) / 2)


def _gabor_square_mean(q):
    """E[phi(u)^2], phi(x) = exp(-x^2) sin(x), u ~ N(0, q), by hand: (E[exp(-2u^2)] -
    E[exp(-2u^2) cos(2u)])/2 with E[exp(-a u^2) cos(b u)] = exp(-b^2 q/(2 (1 + 2aq))) /
    sqrt(1 + 2aq)."""
    return (1 - mp.exp(-2 * q / (1 + 4 * q))) / (2 * mp.sqrt(1 + 4 * q))


def _gabor_kernel(q1, q2, r):
    """E[phi(u1) phi(u2)] by hand: sin(u1) sin(u2) = (cos(u1 - u2) - cos(u1 + u2))/2 and
    E[exp(-u.u) cos(w.u)] = exp(-w.M.w/2)/sqrt(det(I + 2 Sigma)), M = Sigma (I + 2 Sigma)^-1."""
    S = mp.matrix([[q1, r], [r, q2]])
    I2 = mp.eye(2)
    M = S * mp.inverse(I2 + 2 * S)
    scale = 1 / mp.sqrt(mp.det(I2 + 2 * S))

    def cosine(w):
        w = mp.matrix(w)
        return mp.exp(-(w.T * M * w)[0] / 2) * scale
    return (cosine([1, -1]) - cosine([1, 1])) / 2


@pytest.mark.parametrize("q", [30.0, 1477.4633497785, 4776.963482863608, 1e4, 1e7])
def test_gabor_length_map_slope_at_large_variances(q):
    """Gabor's length-map slope sigma_w^2 d/dq E[phi^2] held terms R_i exp(-2q/(4q + 1))
    (and terms without the exponential) whose coefficients of size 1 cancel to 1/q at large
    q (1e-5 at q = 1e4): its float64 form sums each exponential's coefficients as one
    factored fraction (compile._same_exponentials). Against the derivative of E[phi^2]
    written out by hand, at 40 digits."""
    law = law_of("length_map_slope", "gabor")
    sw = 1.7
    got = float(law.to_numpy()(q=q, sigma_w=sw))
    with mp.workdps(40):
        ref = mp.mpf(sw) ** 2 * mp.diff(_gabor_square_mean, mp.mpf(q))
    assert abs(got - ref) <= 1e-14 * abs(ref), (got, ref)


@pytest.mark.parametrize("q,c", [(5083.8719116004695, 0.04502206212475279),
                                 (4417.9953830451295, -0.03884167060205601),
                                 (1e4, 0.7), (300.0, -0.9), (1e-6, 0.3), (2.0, 0.99)])
def test_gabor_correlation_map_slope_at_large_variances(q, c):
    """Gabor's correlation-map slope q sigma_w^2 E[phi'(u1) phi'(u2)]/(sigma_w^2 E[phi^2] +
    sigma_b^2) held two exponentials, both near exp(-1/2) at large q, whose coefficients of
    size 1 cancel (2e-8 off at q = 1e4): its float64 form sums each exponential's
    coefficients symbolically and writes R exp(a) + S exp(b) by R + S and R - S
    (compile._two_exponentials). Against the kernel by Gaussian integrals written out by hand,
    its rho-derivative by mpmath at 40 digits."""
    law = law_of("correlation_map_slope", "gabor")
    sw, sb = 1.3, 0.01
    got = float(law.to_numpy()(q=q, c=c, sigma_w=sw, sigma_b=sb))
    with mp.workdps(40):
        qm = mp.mpf(q)
        slope = mp.diff(lambda r: _gabor_kernel(qm, qm, r), qm * mp.mpf(c))
        ref = qm * mp.mpf(sw) ** 2 * slope / (mp.mpf(sw) ** 2 * _gabor_square_mean(qm)
                                             + mp.mpf(sb) ** 2)
    (ratio, _), = error_ratios(law, {"q": np.array([q]), "c": np.array([c]),
                                     "sigma_w": np.array([sw]), "sigma_b": np.array([sb])})
    assert ratio <= 1
    assert abs(got - ref) <= 1e-13 * abs(ref), (got, ref)
