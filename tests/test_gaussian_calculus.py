"""Engine-level tests of the Gaussian calculus, one rule at a time.

Each integrand is small and its expectation under x ~ N(0, q) is known by hand (theory.md
section 3). Every closed result is also checked against mpmath quadrature written here, at
30 digits, at a couple of variances: a wrong symbolic answer cannot pass by looking right.
"""
from __future__ import annotations

import mpmath as mp
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symfield.activations import x
from symfield.gaussian import Expectation, GaussianCalculus, expectation
from symfield.gaussian.normal_form import NotTractable
from symfield.gaussian.rules.base import ARITIES, Measure, Rule
from symfield.gaussian.rules.bivariate import DiagonalLiftRule
from symfield.symbols import A, q, sigma_b, sigma_w

a = sp.Symbol("a", positive=True)
alpha, beta = sp.symbols("alpha beta", real=True)


def expect(integrand, variance=q):
    return GaussianCalculus().expect(expectation(integrand, x, variance))


def quad_expect(integrand: sp.Expr, qv, extra=None, dps=40):
    """E[integrand] for x ~ N(0, qv) by mpmath.quad on the lambdified integrand, split at 0
    and +-1 (kinks of the step/delta-free test integrands sit there)."""
    f = sp.lambdify(x, integrand.subs(extra or {}), modules=[
        {"Heaviside": lambda t, *h: mp.mpf(1) if t > 0 else mp.mpf(0)}, "mpmath"])
    with mp.workdps(dps):
        s = mp.sqrt(mp.mpf(qv))
        return mp.quad(lambda z: f(s * z) * mp.npdf(z), [-mp.inf, -1 / s, 0, 1 / s, mp.inf])


def numerically(expr: sp.Expr, qv, extra=None, dps=40):
    return mp.mpf(sp.N(expr.subs({q: qv, **(extra or {})}), dps))


def assert_exact_result(outcome, expected=None, *, rules=(), points=(sp.Rational(1, 3), 5),
                        integrand=None, extra=None):
    """closed, right value, steps recorded, no SymPy leftovers, agrees with quadrature."""
    assert outcome.closed is True, outcome.reason
    value = outcome.value
    assert not value.has(sp.Integral, sp.Derivative, Expectation)
    assert x not in value.free_symbols and not value.has(x)
    assert outcome.divergence is None
    used = [s.rule for s in outcome.steps]
    for rule in rules:
        assert rule in used, f"expected the {rule!r} rule among {used}"
    if expected is not None:
        if sp.simplify(value - expected) != 0:
            for p in points:  # SymPy may miss an identity: compare at 30 digits
                with mp.workdps(40):
                    assert abs(numerically(value, p, extra) - numerically(expected, p, extra)) \
                        <= mp.mpf(10) ** -30 * (1 + abs(numerically(expected, p, extra))), (value, expected)
    if integrand is not None:
        for p in points:
            with mp.workdps(40):
                ref = quad_expect(integrand, p, extra)
                got = numerically(value, p, extra)
                assert abs(got - ref) <= mp.mpf(10) ** -30 * (1 + abs(ref)), (p, got, ref)


# ------------------------------------------------------------------------------------------
# Gaussian moments and the determinant rule
# ------------------------------------------------------------------------------------------


def test_fourth_moment():
    o = expect(x**4)
    assert_exact_result(o, 3 * q**2, rules=["Gaussian moments"], integrand=x**4)


@given(n=st.integers(0, 12))
def test_all_moments(n):
    o = expect(x**n)
    expected = sp.S.Zero if n % 2 else sp.factorial2(n - 1) * q ** sp.Rational(n, 2)
    assert o.closed and sp.simplify(o.value - expected) == 0, (n, o.value)


def test_determinant_rule():
    o = expect(sp.exp(-a * x**2))
    assert_exact_result(o, (1 + 2 * a * q) ** sp.Rational(-1, 2), rules=["Gaussian (determinant) rule"],
                        integrand=sp.exp(-a * x**2), extra={a: sp.Rational(3, 7)})


def test_determinant_rule_with_polynomial():
    # theory T4: E[z^2 e^{-a z^2}] = (1 + 2a)^{-3/2}; in x ~ N(0, q): q (1 + 2aq)^{-3/2}
    integrand = x**2 * sp.exp(-a * x**2)
    assert_exact_result(expect(integrand), q * (1 + 2 * a * q) ** sp.Rational(-3, 2),
                        rules=["Gaussian (determinant) rule"], integrand=integrand,
                        extra={a: sp.Rational(1, 2)})


def test_exponential_moment():
    assert_exact_result(expect(sp.exp(beta * x)), sp.exp(beta**2 * q / 2),
                        integrand=sp.exp(beta * x), extra={beta: sp.Rational(3, 4)})


def test_growing_exponential_is_not_claimed():
    """E[exp(x^2)] is finite only for q < 1/2: the engine must not return a closed form
    valid for all q > 0 (either no closed form, or a divergence)."""
    o = expect(sp.exp(x**2))
    assert not (o.closed and o.divergence is None and o.value.is_finite)
    o2 = expect(sp.exp(x**2), sp.Integer(1))  # q = 1 > 1/2: the integral diverges
    assert not o2.closed or o2.divergence or o2.value == sp.oo


# ------------------------------------------------------------------------------------------
# erf: the erf rule, Stein's lemma, the heat equation
# ------------------------------------------------------------------------------------------


def test_erf_rule():
    integrand = sp.erf(alpha * x + beta)
    expected = sp.erf(beta / sp.sqrt(1 + 2 * alpha**2 * q))
    assert_exact_result(expect(integrand), expected, rules=["erf rule"], integrand=integrand,
                        extra={alpha: sp.Rational(3, 2), beta: sp.Rational(-2, 5)})


def test_stein_lemma():
    # E[x erf(x)] = q E[erf'(x)] = q (2/sqrt(pi)) E[exp(-x^2)] = 2q / sqrt(pi (1 + 2q))
    integrand = x * sp.erf(x)
    assert_exact_result(expect(integrand), 2 * q / sp.sqrt(sp.pi * (1 + 2 * q)),
                        rules=["Stein's lemma"], integrand=integrand)


def test_erf_squared_williams():
    # Williams: E[erf(x)^2] = (2/pi) arcsin(2q/(1+2q)); no single term rule reaches it
    # (the engine may take the heat equation or the bivariate diagonal lift).
    integrand = sp.erf(x) ** 2
    assert_exact_result(expect(integrand), 2 / sp.pi * sp.asin(2 * q / (1 + 2 * q)),
                        integrand=integrand)


def test_heat_equation_route_for_erf_squared():
    """The heat-equation rule on its own: d/dq E[F] = E[F'']/2, integrated back from q = 0.
    An engine whose only integrand-level rule is the heat equation must reach Williams."""
    class HeatOnly(GaussianCalculus):
        rules = tuple(r for r in GaussianCalculus.rules if not isinstance(r, DiagonalLiftRule))

    integrand = sp.erf(x) ** 2
    o = HeatOnly().expect(expectation(integrand, x, q))
    assert_exact_result(o, 2 / sp.pi * sp.asin(2 * q / (1 + 2 * q)),
                        rules=["heat equation in the variance"], integrand=integrand)


def test_two_different_erfs():
    # Williams with u1 = x, u2 = 2x: q1 = q, q2 = 4q, rho = 2q.
    integrand = sp.erf(x) * sp.erf(2 * x)
    expected = 2 / sp.pi * sp.asin(4 * q / sp.sqrt((1 + 2 * q) * (1 + 8 * q)))
    assert_exact_result(expect(integrand), expected, integrand=integrand)


# ------------------------------------------------------------------------------------------
# Piecewise: truncated moments; delta functions
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("integrand,expected", [
    (x**2 * sp.Heaviside(x), q / 2),
    (sp.Heaviside(x), sp.Rational(1, 2)),
    (x * sp.Heaviside(x), sp.sqrt(q / (2 * sp.pi))),
    (sp.Max(0, x) ** 2, q / 2),                       # ReLU chi0 written with Max
    (sp.Abs(x), sp.sqrt(2 * q / sp.pi)),
    (x**2 * sp.Heaviside(x - 1), None),               # a kink away from 0: quadrature only
])
def test_truncated_moments(integrand, expected):
    assert_exact_result(expect(integrand), expected, integrand=integrand)
    assert any("truncated" in s.rule or "piecewise" in s.rule for s in expect(integrand).steps)


@pytest.mark.parametrize("g", [sp.cos(x), x**2 + 3, sp.exp(x), sp.Integer(1)])
def test_delta_rule(g):
    # E[delta(x) g(x)] = g(0) p(0) = g(0) / sqrt(2 pi q)
    o = expect(sp.DiracDelta(x) * g)
    assert_exact_result(o, g.subs(x, 0) / sp.sqrt(2 * sp.pi * q), rules=["delta rule"])


def test_delta_rule_off_centre_and_derivative():
    assert_exact_result(expect(sp.DiracDelta(x - 1)),
                        sp.exp(-1 / (2 * q)) / sp.sqrt(2 * sp.pi * q), rules=["delta rule"])
    # E[delta'(x) x] = -d/dx [x p(x)] at 0 = -p(0)
    assert_exact_result(expect(sp.DiracDelta(x, 1) * x), -1 / sp.sqrt(2 * sp.pi * q),
                        rules=["delta rule"])


def test_delta_squared_diverges_with_a_reason():
    o = expect(sp.DiracDelta(x) ** 2)
    assert o.divergence and "delta" in o.divergence.lower()
    assert o.value == sp.oo  # +infinity, not NaN
    assert any(s.rule == "delta rule" for s in o.steps)


def test_delta_times_step_at_the_same_point_takes_half_the_density():
    """H(x) delta(x) = delta(x)/2 (the symmetric convention H(0) = 1/2 that sign and step use:
    sign' = 2 delta), so the expectation is p(0)/2, not a divergence."""
    o = expect(sp.DiracDelta(x) * sp.Heaviside(x))
    assert o.closed and o.divergence is None
    assert any(s.rule == "delta rule" for s in o.steps)
    for qv in (sp.Rational(1, 3), 5):
        with mp.workdps(40):
            half_density_at_zero = mp.npdf(0, 0, mp.sqrt(mp.mpf(qv))) / 2
            assert abs(numerically(o.value, qv) - half_density_at_zero) <= mp.mpf(10) ** -30


def test_a_divergent_delta_product_times_a_step_is_reported_not_crashing():
    o = expect(sp.DiracDelta(x) ** 2 * sp.Heaviside(x))
    assert o.divergence and "delta" in o.divergence.lower()  # said so, no exception
    assert o.value == sp.oo


# ------------------------------------------------------------------------------------------
# Parity; what stays unevaluated
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("integrand", [sp.tanh(x), sp.tanh(x) ** 3, x * sp.tanh(x) ** 2,
                                       sp.sin(x), x**3, sp.erf(x) * sp.exp(-x**2)])
def test_parity(integrand):
    o = expect(integrand)
    assert o.closed and o.value == 0
    assert "parity" in [s.rule for s in o.steps] or integrand == x**3


def test_an_intractable_integrand_stays_unevaluated_with_a_reason():
    e = expectation(sp.atan(x) ** 2, x, q)
    o = GaussianCalculus().expect(e)
    assert o.closed is False
    assert o.value == e and isinstance(o.value, Expectation)
    assert o.reason and "no rule" in o.reason
    assert o.divergence is None


def test_tanh_squared_becomes_a_faddeeva_series():
    from symfield.gaussian.faddeeva import faddeeva

    o = GaussianCalculus().expect(expectation(sp.tanh(x) ** 2, x, q))
    assert o.closed and o.value.has(sp.Sum) and o.value.has(faddeeva)
    assert any("pole expansion" in s.rule for s in o.steps)


def test_variance_can_be_an_expression():
    o = expect(x**2, sigma_w**2 * A + sigma_b**2)
    assert o.closed and sp.simplify(o.value - (sigma_w**2 * A + sigma_b**2)) == 0


def test_numeric_variance():
    o = expect(sp.erf(x) ** 2, sp.Integer(1))
    with mp.workdps(40):
        assert abs(mp.mpf(sp.N(o.value, 40)) - mp.mpf("0.464559054397539978509532408118")) < mp.mpf(10) ** -29


def test_power_exact_result_check_catches_a_small_error():
    o = expect(x * sp.erf(x))
    wrong = 2 * q / sp.sqrt(sp.pi * (1 + 2 * q)) * (1 + sp.Rational(1, 10**20))
    with pytest.raises(AssertionError):
        assert_exact_result(o, wrong)


# ------------------------------------------------------------------------------------------
# The Expectation object
# ------------------------------------------------------------------------------------------


def test_expectation_prints():
    e = expectation(sp.tanh(x) ** 2, x, q)
    text = str(e)
    assert "tanh" in text and "q" in text and text.startswith("E[")
    tex = sp.latex(e)
    assert r"\mathbb{E}" in tex and r"\tanh" in tex and r"\mathcal{N}" in tex


def test_expectation_substitutes_and_keeps_its_bound_variable():
    e = expectation(sp.tanh(x) ** 2, x, q)
    assert e.free_symbols == {q}  # x is bound
    two = e.subs(q, 2)
    assert isinstance(two, Expectation) and two.covariance == (sp.Integer(2),)
    assert two.free_symbols == set()
    assert e.subs(x, 5) == e  # the bound variable is not substituted
    s = sp.Symbol("s", positive=True)
    scaled = expectation(sp.tanh(s * x) ** 2, x, q)
    assert scaled.subs(s, 3).integrand == sp.tanh(3 * x) ** 2


def test_expectation_evalf_matches_quadrature():
    e = expectation(sp.tanh(x) ** 2, x, q).subs(q, 2)
    value = e.evalf(30)
    with mp.workdps(45):
        ref = 2 * mp.quad(lambda z: mp.tanh(mp.sqrt(2) * z) ** 2 * mp.npdf(z), [0, 1, mp.inf])
        assert abs(mp.mpf(value) - ref) < mp.mpf(10) ** -28
    # inside a larger expression too
    combo = (3 * e + 1).evalf(30)
    with mp.workdps(45):
        assert abs(mp.mpf(combo) - (3 * ref + 1)) < mp.mpf(10) ** -27
    # with a free symbol it stays symbolic (no crash)
    assert expectation(sp.tanh(x) ** 2, x, q).evalf(20).has(Expectation)


def test_outcomes_never_leak_integrals_or_the_variable():
    for integrand in [x**4, sp.exp(-a * x**2), sp.erf(x + 1), x * sp.erf(x), x**2 * sp.Heaviside(x),
                      sp.DiracDelta(x) * sp.cos(x), sp.erf(x) ** 2, sp.Abs(x) ** 3]:
        o = expect(integrand)
        assert o.closed, integrand
        assert not o.value.has(sp.Integral) and x not in o.value.free_symbols, (integrand, o.value)
        for step in o.steps:
            assert isinstance(step.rule, str) and step.rule


# ------------------------------------------------------------------------------------------
# The engine: one ordered tuple of rules; failures are remembered like successes
# ------------------------------------------------------------------------------------------


def test_every_rule_declares_what_it_acts_on():
    assert GaussianCalculus.rules and all(isinstance(r, Rule) for r in GaussianCalculus.rules)
    assert {r.acts_on for r in GaussianCalculus.rules} == set(ARITIES)
    with pytest.raises(TypeError, match="acts_on"):
        class Nowhere(Rule):  # noqa: F841 - defining it is the test
            acts_on = "triple"

            def apply(self, subject, measure, engine):
                return sp.S.Zero


def _count_rule_applications(monkeypatch) -> list[str]:
    """Spy on every rule class of the engine: the names of the rules applied, in order."""
    applied: list[str] = []
    for cls in {type(r) for r in GaussianCalculus.rules}:
        def spy(self, subject, measure, engine, _apply=cls.apply):
            applied.append(self.name)
            return _apply(self, subject, measure, engine)
        monkeypatch.setattr(cls, "apply", spy)
    return applied


def test_an_intractable_expectation_is_not_retried(monkeypatch):
    """Every law holding the same intractable expectation (chi1 of an activation without a
    closed form, say) asks the engine for it again: the failure is remembered, not redone."""
    applied = _count_rule_applications(monkeypatch)
    engine = GaussianCalculus()
    e = expectation(sp.atan(x) ** 2, x, q)
    first = engine.expect(e)
    assert not first.closed and first.reason
    tried = len(applied)
    assert tried > 1  # the lift to a pair, Price's theorem, the heat equation, ...
    # Two more laws hold it, one with the variance written through Amari's A.
    for variance in (q, sigma_w**2 * A + sigma_b**2):
        again = engine.expect(expectation(sp.atan(x) ** 2, x, variance))
        assert len(applied) == tried, applied[tried:]
        assert not again.closed and again.reason == first.reason
        assert again.value == expectation(sp.atan(x) ** 2, x, variance)
    # A fresh engine does the work again (the memory belongs to the engine).
    GaussianCalculus().expect(e)
    assert len(applied) == 2 * tried


def test_a_divergence_is_remembered_with_its_reason(monkeypatch):
    applied = _count_rule_applications(monkeypatch)
    engine = GaussianCalculus()
    e = expectation(sp.DiracDelta(x) ** 2 * sp.Heaviside(x), x, q)
    first = engine.expect(e)
    tried = len(applied)
    assert tried >= 1
    second = engine.expect(e)
    assert len(applied) == tried
    assert first.divergence and (second.divergence, second.value) == (first.divergence, first.value)


def test_a_failure_in_a_restricted_pass_does_not_block_a_full_one():
    """Inside a pair the engine runs restricted (no integrand rules, no expensive rules):
    E[erf(x)^2] fails there, and must still be derived when asked for without restriction."""
    engine = GaussianCalculus()
    m = Measure(x, sp.S.Zero, q)
    engine._fallback_depth += 1
    engine._cheap_only += 1
    with pytest.raises(NotTractable):
        engine.expect_integrand(sp.erf(x) ** 2, m)
    with pytest.raises(NotTractable):  # and again, now from the memory
        engine.expect_integrand(sp.erf(x) ** 2, m)
    engine._fallback_depth -= 1
    engine._cheap_only -= 1
    value = engine.expect_integrand(sp.erf(x) ** 2, m)
    assert sp.simplify(value - 2 / sp.pi * sp.asin(2 * q / (1 + 2 * q))) == 0


#: The rules whose closed forms need at most two erf factors (with three or more, the
#: integrals they lead to are orthant probabilities of 3+ correlated Gaussians, with no
#: elementary closed form): they must decline such integrands up front, not try for minutes.
ERF_PAIR_RULES = {"heat equation in the variance",
                  "differentiation under the integral (erf slope)",
                  "Price's theorem in rho", "diagonal lift"}


def test_four_erf_factors_decline_the_erf_pair_rules(monkeypatch):
    from symfield.expectation import bivariate_expectation, u1, u2
    from symfield.symbols import q1, q2, rho

    applied = _count_rule_applications(monkeypatch)
    engine = GaussianCalculus()
    single = engine.expect(expectation(sp.erf(x) ** 4, x, q))
    pair = engine.expect(bivariate_expectation(sp.erf(u1) ** 2 * sp.erf(u2) ** 2, q1, rho, q2))
    assert not single.closed and not pair.closed
    assert not ERF_PAIR_RULES & set(applied), applied
    # power: two factors are still closed by them (Williams' kernel)
    two = GaussianCalculus().expect(bivariate_expectation(sp.erf(u1) * sp.erf(u2), q1, rho, q2))
    assert two.closed and ERF_PAIR_RULES & set(applied), applied


def test_complementary_erf_pairs_each_erf_with_its_own_constant():
    """K erf(z) - K -> -K erfc(z), K erf(z) + K -> K erfc(-z), each erf term paired with the
    first term that cancels its coefficient (and only that one), then e^{z^2} erfc(z) ->
    w(i z); the value never changes."""
    from symfield.gaussian.faddeeva import faddeeva
    from symfield.gaussian.simplify import complementary_erf

    s, t = sp.symbols("s t", positive=True)
    z = sp.sqrt(2 * s)
    expr = (3 * t * sp.exp(2 * s) * sp.erf(z) - 3 * t * sp.exp(2 * s)   # -> erfc(z), then w
            + s * sp.erf(t) + s                                        # -> erfc(-t)
            + t**2 * sp.erf(s) + 5)                                    # no partner: kept
    out = complementary_erf(expr)
    assert out == (-3 * t * faddeeva(sp.I * z) + s * sp.erfc(-t) + t**2 * sp.erf(s) + 5)
    unpaired = t**2 * sp.erf(s) + s
    assert complementary_erf(unpaired) is unpaired
    point = {s: sp.Rational(7, 3), t: sp.Rational(2, 5)}
    assert abs(sp.N((out - expr).subs(point).rewrite(sp.erfc), 40)) < 1e-35


# ------------------------------------------------------------------------------------------
# tidy: the expansion is skipped where it would multiply out too many terms
# ------------------------------------------------------------------------------------------
def test_expanded_terms_counts_what_expand_multiplies_out():
    from symfield.gaussian.simplify import _expanded_terms

    b, c, d, e = sp.symbols("b c d e", positive=True)
    for expr in [(a + b) ** 3 * (c + d + e), (a + b) * (c + d) + e, (a + b + c) ** 4,
                 sp.sqrt(a + b) * (c + d), (a + b) ** -2 * (c + d + e)]:
        assert _expanded_terms(expr) == len(sp.Add.make_args(sp.expand(expr)))


def test_tidy_skips_a_large_expansion_and_keeps_the_small_one(monkeypatch):
    from symfield.gaussian import simplify

    b, c, d, e = sp.symbols("b c d e", positive=True)
    expanded = []
    real_expand = sp.expand
    monkeypatch.setattr(simplify.sp, "expand",
                        lambda expr, *h, **k: expanded.append(expr) or real_expand(expr, *h, **k))
    large = (a + b + c + d) ** 3 * (b + c + d + e) ** 2 * sp.asin(a)  # 20 x 15 = 300 terms
    assert simplify._expanded_terms(large) > simplify._EXPANSION_TERMS
    assert sp.simplify(simplify.tidy(large) - large) == 0
    assert large not in expanded
    small = (a + b) * (a - b) + b**2       # expands to a^2: the shortest form
    assert simplify.tidy(small) == a**2
