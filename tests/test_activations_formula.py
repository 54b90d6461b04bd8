"""Activations typed as formulas: the API (``symfield.activations.activation``, and every
function that looks an activation up), ``--phi EXPR`` on the command line, and bad input
(one line, exit 2). Values are checked against mpmath quadrature of the same formula written
by hand."""
from __future__ import annotations

import mpmath as mp
import pytest

import symfield
from symfield.activations import activation, get_activation
from symfield.errors import SymfieldError

from support.cli_runner import run


def _expect(g, q) -> mp.mpf:
    s = mp.sqrt(q)
    return mp.quad(lambda z: g(s * z) * mp.npdf(z), [-mp.inf, 0, mp.inf])


def test_a_formula_is_an_activation_with_its_parameters():
    act = activation("a*erf(b*x) + c")
    # c is renamed: it would collide with the correlation c of the laws
    assert set(act.parameters) == {"a", "b", "c_phi"}
    law = symfield.derive("chi0", act)
    value = law.evaluate(dps=30, q="7/10", a=2, b="1/2", c_phi="-1/3")
    with mp.workdps(40):
        ref = _expect(lambda x: (2 * mp.erf(x / 2) - mp.mpf(1) / 3) ** 2, mp.mpf(7) / 10)
    assert abs(value - ref) <= mp.mpf(10) ** -27 * abs(ref)


def test_a_formula_equal_to_a_named_activation_gets_the_same_law():
    by_formula = symfield.derive("kernel", "x*Phi(x)").evaluate(dps=30, q1=1, q2=2, rho="1/2")
    by_name = symfield.derive("kernel", "gelu").evaluate(dps=30, q1=1, q2=2, rho="1/2")
    assert abs(by_formula - by_name) <= mp.mpf(10) ** -28 * abs(by_name)


def test_a_composition_is_a_formula_with_kinks_found():
    act = activation("tanh(relu(x))")
    assert act.kinks == (0,)
    value = symfield.derive("chi0", act).evaluate(dps=30, q=2)
    with mp.workdps(40):
        ref = _expect(lambda x: mp.tanh(max(x, 0)) ** 2, 2)
    assert abs(value - ref) <= mp.mpf(10) ** -27 * ref


def test_parameters_are_fixed_by_keyword():
    act = activation("leaky_relu", alpha="1/5")
    assert "alpha" not in act.parameters
    value = symfield.derive("chi0", act).evaluate(dps=30, q=1)
    with mp.workdps(40):
        assert abs(value - mp.mpf(26) / 50) < mp.mpf(10) ** -29     # (1 + alpha^2)/2


@pytest.mark.parametrize("spec,params,fragment", [
    ("softmaxx", {}, "unknown activation"),
    ("x*(", {}, "syntax error"),
    ("2 + 3", {}, "does not depend on x"),
    ("__import__('os').system('true')", {}, "only named functions"),
    ("x.__class__", {}, "not allowed"),
    ("(lambda: x)()", {}, ""),
    ("x**9**9**9", {}, ""),
    ("elu", {"alpha": 0}, "alpha must be > 0"),
    ("elu", {"alpha": -1}, "alpha must be > 0"),
    ("relu_power", {"k": -1}, "integer from 0"),
    ("monomial", {"k": "2.5"}, "integer from 1"),
    ("polynomial", {"coefficients": []}, "at least one coefficient"),
    ("polynomial", {"coefficients": [3]}, "does not depend on x"),
    ("x*Phi(x)", {"zz": 1}, "no parameter"),
])
def test_bad_activations_are_one_line_errors(spec, params, fragment):
    with pytest.raises(SymfieldError) as info:
        activation(spec, **params)
    message = str(info.value)
    assert "\n" not in message and fragment in message


def test_get_activation_accepts_names_objects_and_formulas():
    gelu = get_activation("gelu")
    assert get_activation(gelu) is gelu
    assert get_activation("x*Phi(x)") is get_activation("x*Phi(x)")   # cached: one object


def test_cli_phi_derives_and_evaluates(capsys):
    code, out, err = run(capsys, "derive", "chi0", "--phi", "a*erf(b*x)", "--at", "q=1",
                         "--at", "a=2", "--at", "b=1/2")
    assert code == 0, err
    with mp.workdps(40):
        value = mp.mpf(out.split("(30 digits):")[1].split()[0])
        ref = 8 / mp.pi * mp.asin(mp.mpf(1) / 3)    # 4 E[erf(x/2)^2] at q = 1 (Williams)
        assert abs(value - ref) < mp.mpf(10) ** -28


@pytest.mark.parametrize("argv,fragment", [
    (["derive", "chi0", "--phi", "__import__('os')"], "unknown function"),
    (["derive", "chi0", "relu", "--phi", "x"], "not both"),
    (["derive", "chi0", "--phi", "3"], "does not depend on x"),
    (["derive", "chi0", "--phi", " "], "--phi"),
    (["derive", "chi0", "nosuch"], "unknown activation"),
])
def test_cli_bad_phi_exits_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and fragment in err
