"""The finite-width laws (issue 14, part 1): chi_parallel, the four-point vertex, the mean shift
and the exact law of scale-invariant activations, against independent references.

References never call symfield's numerics or its derivative rules:

* Gaussian expectations by ``mpmath.quad`` (``oracles.gauss_expect``) at 45 digits, of
  integrands written from phi alone: chi0'(q) and chi0''(q) by differentiating the Gaussian
  *density* (E[phi^2 (x^2 - q)]/(2 q^2) and E[phi^2 (x^4 - 6 q x^2 + 3 q^2)]/(4 q^4)), not
  phi, so the heat-equation route of the engine is checked by a different identity;
* the recursions of Roberts, Yaida & Hanin (2022), typed here as oracles only;
* the exact finite-width law (1 + 5/n)^L - 1 of ReLU at sigma_w^2 = 2.

Every activation of the registry gets the checks at a few deterministic points (the registry
grows: the loop picks new entries up).
"""
from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, strategies as st

import symfield
from support.oracles import ActivationOracle, activation_oracle, gauss_expect, to_mpf
from symfield.activations import x
from symfield.errors import InvalidValueError
from symfield.laws.finite_width import (EXPANSION, K1, MEAN_SHIFT_MAP, VERTEX_MAP, V, chi0_of,
                                        mu4_of, r)
from symfield.microdynamics import n
from symfield.symbols import L, q, sigma_b, sigma_w

ACTIVATIONS = list(symfield.registered_activations())
DPS = 45
#: Agreement demanded of 30-digit law values with the 45-digit references.
REL = mp.mpf(10) ** -26

#: Per activation: (q, sigma_w, sigma_b) of the depth checks (exp grows fast: smaller scales).
POINTS = {"exp": ("1/2", "1/2", "1/5"), "monomial": ("1/2", "3/5", "1/5")}
DEFAULT_POINT = ("3/4", "11/10", "3/10")

_MP_MODULES = [{"Heaviside": lambda a, h0=None: mp.mpf(1) if a > 0 else mp.mpf(0),
                "sign": mp.sign}, "mpmath"]


# ------------------------------------------------------------------------------------------
# References
# ------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def phi_oracle(name: str) -> ActivationOracle:
    """phi for the quadrature: the hand-written one where tests/support/oracles.py has it, else phi
    lambdified from its registry formula (only phi is used, never a derivative)."""
    hand = activation_oracle(name)
    if hand is not None:
        return hand
    act = symfield.registered_activations()[name]
    defaults = {sym: default for sym, default in act.parameters.values()}
    phi = sp.lambdify(x, act.phi.subs(defaults), modules=_MP_MODULES)
    kinks = tuple(float(k.subs(defaults)) for k in act.kinks)
    return ActivationOracle(phi=phi, dphi=None, d2phi=None, kinks=kinks,
                            smooth_scale=not kinks, linear_growth=False)


@lru_cache(maxsize=None)
def moments(name: str, var: str):
    """chi0, chi0', chi0'', mu4 at the variance ``var`` (a decimal string) by quadrature."""
    oracle = phi_oracle(name)
    phi = oracle.phi
    with mp.workdps(DPS):
        s = to_mpf(var)

        def E(g):
            return gauss_expect(g, s, oracle, DPS)

        return {"chi0": E(lambda t: phi(t) ** 2),
                "chi0'": E(lambda t: phi(t) ** 2 * (t * t - s)) / (2 * s**2),
                "chi0''": E(lambda t: phi(t) ** 2 * (t**4 - 6 * s * t * t + 3 * s**2))
                / (4 * s**4),
                "mu4": E(lambda t: phi(t) ** 4)}


def reference_layers(name: str, q0: str, sw: str, sb: str, depth: int) -> dict:
    """q, chi_par, V, K1 over layers 1..depth by the RYH recursions (oracle), with every
    expectation from ``moments``."""
    with mp.workdps(DPS):
        w2, b2 = to_mpf(sw) ** 2, to_mpf(sb) ** 2
        qs, chis, Vs, Ks = [to_mpf(q0)], [], [mp.mpf(0)], [mp.mpf(0)]
        for layer in range(depth):
            m = moments(name, mp.nstr(qs[-1], DPS))
            chis.append(w2 * m["chi0'"])
            if layer == depth - 1:
                break
            Ks.append(chis[-1] * Ks[-1] + w2 * m["chi0''"] / 2 * Vs[-1])
            Vs.append(w2**2 * (m["mu4"] - m["chi0"] ** 2) + chis[-1] ** 2 * Vs[-1])
            qs.append(w2 * m["chi0"] + b2)
        return {"q": qs, "chi_parallel": chis, "V": Vs, "K1": Ks}


def close(value, reference, rel=REL) -> bool:
    with mp.workdps(DPS):
        value, reference = to_mpf(value), to_mpf(reference)
        return abs(value - reference) <= rel * max(abs(reference), mp.mpf(10) ** -2)


def point_of(name: str) -> tuple[str, str, str]:
    return POINTS.get(name, DEFAULT_POINT)


def at_defaults(expr: sp.Expr, name: str) -> sp.Expr:
    """A law's expression with the activation's family parameters at their defaults."""
    act = symfield.registered_activations()[name]
    return expr.subs({sym: default for sym, default in act.parameters.values()})


# ------------------------------------------------------------------------------------------
# The 1/n expansion itself (SymPy, generic chi0 and mu4)
# ------------------------------------------------------------------------------------------
def test_expansion_gives_the_vertex_and_mean_shift_recursions():
    """RYH (2022) eqs. for V and K1 (in symfield's notation), as oracles."""
    d1 = sp.Derivative(chi0_of(q), q)
    d2 = sp.Derivative(chi0_of(q), (q, 2))
    ryh_vertex = sigma_w**4 * (mu4_of(q) - chi0_of(q) ** 2) + r * (sigma_w**2 * d1) ** 2 * V
    ryh_shift = sigma_w**2 * d1 * K1 + sigma_w**2 * d2 / 2 * V
    assert sp.expand(EXPANSION.vertex_map - ryh_vertex) == 0
    assert sp.expand(EXPANSION.mean_shift_map - ryh_shift) == 0


def test_the_width_factor_is_n_l_over_n_l_minus_1():
    """Var[s^{l+1}] = sigma_w^4 Var[phi^2]/n_l + chi_par^2 V^l/n_{l-1}: in units of 1/n_l the
    propagated part carries n_l/n_{l-1} (a wrong factor, e.g. its inverse, is caught)."""
    step = EXPANSION.vertex_steps[1].after  # Var[s'] to order 1/n
    from symfield.laws.finite_width import n_prev
    propagated = step.coeff(V)
    assert sp.simplify(propagated * n_prev - sigma_w**4 * sp.Derivative(chi0_of(q), q) ** 2) == 0
    assert EXPANSION.vertex_map.coeff(V).has(r)
    assert sp.simplify(EXPANSION.vertex_map.coeff(V) / r
                       - sigma_w**4 * sp.Derivative(chi0_of(q), q) ** 2) == 0


def test_expansion_steps_say_how():
    rules = [s.rule for s in EXPANSION.vertex_steps]
    assert rules[0] == "law of total variance" and "expansion in 1/n" in rules
    law = symfield.derive("four_point_vertex", "tanh")
    names = law.derivation.rules
    for rule in ("definition", "law of total variance", "expansion in 1/n", "heat equation",
                 "activation", "result"):
        assert rule in names, rule


# ------------------------------------------------------------------------------------------
# Every activation: the laws against quadrature
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_chi_parallel_against_the_density_derivative(name):
    q0, sw, _sb = point_of(name)
    law = symfield.derive("chi_parallel", name)
    value = law.evaluate(dps=30, q=q0, sigma_w=sw)
    with mp.workdps(DPS):
        reference = to_mpf(sw) ** 2 * moments(name, q0)["chi0'"]
    assert close(value, reference), (name, value, reference)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_chi_parallel_is_the_length_map_slope(name):
    """The heat equation on phi^2 as one function gives V'(q) = sigma_w^2 E[phi'^2 + phi phi'']."""
    q0, sw, _sb = point_of(name)
    a = symfield.derive("chi_parallel", name).evaluate(dps=30, q=q0, sigma_w=sw)
    b = symfield.derive("length_map_slope", name).evaluate(dps=30, q=q0, sigma_w=sw)
    assert close(a, b), (name, a, b)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_layer_maps_against_quadrature(name):
    """The vertex map (any width ratio r) and the mean-shift map at one point."""
    q0, sw, _sb = point_of(name)
    m = moments(name, q0)
    values = {"V": "7/10", "K1": "-3/10", "r": "3/2"}
    vertex = symfield.derive(VERTEX_MAP, name).evaluate(
        dps=30, q=q0, sigma_w=sw, V=values["V"], r=values["r"])
    shift = symfield.derive(MEAN_SHIFT_MAP, name).evaluate(
        dps=30, q=q0, sigma_w=sw, V=values["V"], K1=values["K1"])
    with mp.workdps(DPS):
        w2 = to_mpf(sw) ** 2
        Vv, Kv, rv = (to_mpf(values[k]) for k in ("V", "K1", "r"))
        ref_vertex = w2**2 * (m["mu4"] - m["chi0"] ** 2) + rv * (w2 * m["chi0'"]) ** 2 * Vv
        ref_shift = w2 * m["chi0'"] * Kv + w2 * m["chi0''"] / 2 * Vv
    assert close(vertex, ref_vertex), (name, vertex, ref_vertex)
    assert close(shift, ref_shift), (name, shift, ref_shift)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_depth_laws_against_the_reference_recursion(name):
    """V^3 and K1^3 (two layers of fluctuations from q^1) at 30 digits."""
    q0, sw, sb = point_of(name)
    ref = reference_layers(name, q0, sw, sb, 3)
    vertex = symfield.derive("four_point_vertex", name)
    shift = symfield.derive("mean_shift", name)
    assert close(vertex.evaluate(dps=30, q=q0, sigma_w=sw, sigma_b=sb, L=3), ref["V"][-1])
    assert close(shift.evaluate(dps=30, q=q0, sigma_w=sw, sigma_b=sb, L=3), ref["K1"][-1])
    # float64 route, same recursion
    try:
        got = vertex.to_numpy()(q=float(sp.Rational(q0)), sigma_w=float(sp.Rational(sw)),
                                sigma_b=float(sp.Rational(sb)), L=3)
    except InvalidValueError as e:
        if "must be > 0; got -" in str(e) and name == "ab_relu":
            pytest.xfail("Law.to_numpy refuses the negative default slope a = -1/2 of ab_relu "
                         "(it takes every activation parameter as positive): symfield/laws/base.py")
        raise
    assert abs(float(got) - float(ref["V"][-1])) <= 1e-9 * max(abs(float(ref["V"][-1])), 1e-2)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_has_a_form_for_each_law(name):
    """closed / series / integral, never divergent or undefined (all quantities are finite)."""
    for law in ("chi_parallel", "four_point_vertex", "mean_shift"):
        derived = symfield.derive(law, name)
        assert derived.form in ("closed", "series", "integral")
        assert not derived.divergent and not derived.expr.has(sp.nan, sp.zoo)


def test_the_forms_we_know():
    """E[phi^4] in closed form for the piecewise-linear family, as a pole series for tanh and
    the sigmoid, and left as an exact expectation for erf (erf^4 has no elementary Gaussian
    expectation: a four-dimensional orthant probability)."""
    assert symfield.derive("four_point_vertex", "relu").form == "closed"
    assert symfield.derive("four_point_vertex", "tanh").form == "series"
    assert symfield.derive("four_point_vertex", "erf").form == "integral"
    assert symfield.derive("mean_shift", "erf").form == "closed"
    assert symfield.derive("chi_parallel", "erf").expr == \
        4 * sigma_w**2 / (sp.pi * (2 * q + 1) * sp.sqrt(4 * q + 1))


# ------------------------------------------------------------------------------------------
# Literature oracles: the scale-invariant class, ReLU's exact law
# ------------------------------------------------------------------------------------------
SCALE_INVARIANT = {"relu": (0, 1), "leaky_relu": (sp.Rational(1, 100), 1), "abs": (-1, 1),
                   "linear": (1, 1), "ab_relu": (sp.Rational(-1, 2), 1)}


@pytest.mark.parametrize("name", [a for a in SCALE_INVARIANT if a in ACTIVATIONS])
def test_scale_invariant_vertex_grows_linearly_at_criticality(name):
    """RYH: at C_W = 1/A2, C_b = 0, V^l = (l - 1)(3 A4/A2^2 - 1) K^2 with A2 = (a+^2 + a-^2)/2,
    A4 = (a+^4 + a-^4)/2 (phi = a+ x H(x) + a- x H(-x))."""
    a_minus, a_plus = (sp.S(v) for v in SCALE_INVARIANT[name])
    A2, A4 = (a_plus**2 + a_minus**2) / 2, (a_plus**4 + a_minus**4) / 2
    law = symfield.derive("four_point_vertex", name)
    for depth in (1, 2, 5):
        got = sp.simplify(at_defaults(law.at_depth(depth), name)
                          .subs({sigma_w: 1 / sp.sqrt(A2), sigma_b: 0}))
        assert sp.simplify(got - (depth - 1) * (3 * A4 / A2**2 - 1) * q**2) == 0, (name, depth)
    assert at_defaults(symfield.derive("mean_shift", name).at_depth(4), name) \
        .subs(sigma_b, 0) == 0


def test_relu_exact_law_is_derived():
    """(1 + 5/n)^L - 1 at sigma_w^2 = 2 comes out of the engine's E[phi^4], E[phi^2]."""
    law = symfield.derive("scale_invariant_variance", "relu")
    assert law.form == "closed" and not law.expr.has(q)
    at_critical = law.expr.subs(sigma_w, sp.sqrt(2))
    assert sp.simplify(at_critical - ((1 + 5 / n) ** L - 1)) == 0
    assert law.evaluate(sigma_w=sp.sqrt(2), n=8, L=3) == mp.mpf(13) ** 3 / 512 - 1


@pytest.mark.parametrize("name", [a for a in SCALE_INVARIANT if a in ACTIVATIONS])
def test_exact_law_of_the_scale_invariant_family(name):
    a_minus, a_plus = (sp.S(v) for v in SCALE_INVARIANT[name])
    A2, A4 = (a_plus**2 + a_minus**2) / 2, (a_plus**4 + a_minus**4) / 2
    oracle = (sigma_w**4 * (3 * A4 / n + (1 - 1 / n) * A2**2)) ** L - (sigma_w**2 * A2) ** (2 * L)
    law = at_defaults(symfield.derive("scale_invariant_variance", name).expr, name)
    for point in ({sigma_w: sp.Rational(13, 10), n: 8, L: 3}, {sigma_w: 1, n: 1, L: 1}):
        assert sp.simplify((law - oracle).subs(point)) == 0


def test_exact_law_expands_to_the_vertex():
    """To first order in 1/n the exact law is V^{L+1}/(n q^2) (sigma_b = 0): the two laws,
    derived separately, agree."""
    exact = symfield.derive("scale_invariant_variance", "relu").expr
    nu = sp.Symbol("nu", positive=True)
    for depth in (1, 2, 4):
        first = sp.series(exact.subs({L: depth, n: 1 / nu}), nu, 0, 2).removeO().coeff(nu, 1)
        vertex = symfield.derive("four_point_vertex", "relu").at_depth(depth + 1)
        assert sp.simplify(first - vertex.subs(sigma_b, 0) / q**2) == 0, depth


@given(width=st.integers(1, 512), depth=st.integers(1, 12),
       sw=st.fractions(min_value="1/2", max_value="2", max_denominator=100))
def test_relu_exact_law_numerically(width, depth, sw):
    law = symfield.derive("scale_invariant_variance", "relu")
    got = law.evaluate(dps=30, sigma_w=sw, n=width, L=depth)
    with mp.workdps(40):
        w4 = to_mpf(sw) ** 4
        expected = (w4 * (mp.mpf(6) / width + (1 - mp.mpf(1) / width)) / 4) ** depth \
            - (w4 / 4) ** depth
    assert abs(got - expected) <= mp.mpf(10) ** -27 * max(abs(expected), 1)


def test_exact_law_refuses_activations_that_are_not_scale_invariant():
    law = symfield.derive("scale_invariant_variance", "tanh")
    with pytest.raises(InvalidValueError, match="scale-invariant"):
        law.evaluate(sigma_w=1, n=8, L=2)
    with pytest.raises(InvalidValueError, match="scale-invariant"):
        law.to_numpy()


# ------------------------------------------------------------------------------------------
# Depth laws: routes agree, bad input
# ------------------------------------------------------------------------------------------
def test_float64_and_mpmath_depth_laws_agree_at_depth_20():
    for law_name in ("four_point_vertex", "mean_shift"):
        law = symfield.derive(law_name, "tanh")
        exact = law.evaluate(dps=30, q=1, sigma_w="1.3", sigma_b="0.2", L=20)
        fast = law.to_numpy()(q=np.array([1.0, 1.0]), sigma_w=1.3, sigma_b=0.2, L=20)
        assert np.allclose(fast, float(exact), rtol=1e-10, atol=0)


def test_symbolic_depth_of_relu():
    V3 = symfield.derive("four_point_vertex", "relu").at_depth(3)
    expected = sp.Rational(5, 4) * sigma_w**4 * ((sigma_w**2 * q / 2 + sigma_b**2) ** 2
                                                  + sigma_w**4 * q**2 / 4)
    assert sp.expand(V3 - expected) == 0


@pytest.mark.parametrize("values,match", [
    ({"q": 1, "sigma_w": 1, "sigma_b": 0, "L": 0}, "integer >= 1"),
    ({"q": 1, "sigma_w": 1, "sigma_b": 0, "L": 2.5}, "integer >= 1"),
    ({"q": 1, "sigma_w": 1, "sigma_b": 0}, "needs the depth L"),
    ({"q": -1, "sigma_w": 1, "sigma_b": 0, "L": 2}, "q must be > 0"),
    ({"q": 1, "sigma_w": 0, "sigma_b": 0, "L": 2}, "sigma_w"),
    ({"q": 1, "sigma_w": 1, "sigma_b": 0, "L": 2, "n": 3}, "no variable 'n'"),
    ({"q": 1, "sigma_w": 1, "L": 2}, "needs a value for sigma_b"),
])
def test_depth_laws_refuse_bad_input(values, match):
    with pytest.raises(InvalidValueError, match=match):
        symfield.derive("four_point_vertex", "tanh").evaluate(**values)


@pytest.mark.parametrize("values,match", [({"sigma_w": 1, "n": 0, "L": 2}, "n must be"),
                                          ({"sigma_w": 1, "n": 8, "L": 0}, "L must be"),
                                          ({"sigma_w": 1, "n": "1/2", "L": 1}, "integer")])
def test_exact_law_refuses_bad_widths(values, match):
    with pytest.raises(InvalidValueError, match=match):
        symfield.derive("scale_invariant_variance", "relu").evaluate(**values)


def test_blow_up_is_reported_not_returned_as_inf():
    law = symfield.derive("four_point_vertex", "exp")
    with pytest.raises(InvalidValueError, match="blow up"):
        law.to_numpy()(q=1.0, sigma_w=30.0, sigma_b=0.0, L=6)


# ------------------------------------------------------------------------------------------
# LaTeX
# ------------------------------------------------------------------------------------------
def test_the_derivation_compiles_to_a_document(tmp_path):
    document = symfield.derive("four_point_vertex", "erf").latex(document=True)
    assert "law of total variance" in document and r"\mathbb{E}" in document
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed")
    path = tmp_path / "vertex.tex"
    path.write_text(document)
    result = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error",
                             "-output-directory", str(tmp_path), str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, [ln for ln in result.stdout.splitlines() if ln.startswith("!")]
