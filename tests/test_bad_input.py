"""Bad input to the Python API: every mistake is a ValueError whose message names it.

(The command-line side of the same mistakes is in test_cli_derive.py.)
"""
from __future__ import annotations

import math
import os
import tempfile
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest

import symfield

from oracles import single_input_laws

LAWS = single_input_laws()
#: One point in the domain of every single-input law (extra names dropped per law).
GOOD = {"q": "1/2", "A": "1/2", "sigma_w": "3/2", "sigma_b": "1/10"}


def good_values(law):
    names = [s.name for s in law.variables if s.name not in law.activation.parameters]
    return {n: GOOD[n] for n in names}


# ------------------------------------------------------------------------------------------
# Unknown names
# ------------------------------------------------------------------------------------------


def test_unknown_law_lists_valid_names():
    with pytest.raises(ValueError) as info:
        symfield.derive("chi9", "erf")
    message = str(info.value)
    assert "chi9" in message
    for name in symfield.laws():
        assert name in message, f"valid law {name!r} missing from: {message}"


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError) as info:
        symfield.derive("chi0", "softsign")
    message = str(info.value)
    assert "softsign" in message
    for name in symfield.activations():
        assert name in message, f"valid activation {name!r} missing from: {message}"


@pytest.mark.parametrize("law,act", [(None, "erf"), (3, "erf"), ("chi0", None), ("chi0", 1.5),
                                     ("", "erf"), ("chi0", "")])
def test_non_names_are_value_errors(law, act):
    with pytest.raises(ValueError):
        symfield.derive(law, act)


def test_errors_are_symfield_value_errors():
    with pytest.raises(symfield.SymfieldError):
        symfield.derive("nope", "erf")
    assert issubclass(symfield.SymfieldError, ValueError)


# ------------------------------------------------------------------------------------------
# Values outside the domain
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["erf", "tanh", "relu"])
@pytest.mark.parametrize("name", LAWS)
@pytest.mark.parametrize("bad", [0, -1, "0", "-1/3", -1e-300, Fraction(-1, 2)])
def test_nonpositive_variance_is_rejected(name, act, bad):
    law = symfield.derive(name, act)
    values = good_values(law)
    var = "q" if "q" in values else "A"
    values[var] = bad
    with pytest.raises(ValueError) as info:
        law.evaluate(**values)
    message = str(info.value)
    assert var in message and any(w in message for w in ("> 0", ">0", "positive")), message


NON_FINITE = [float("nan"), float("inf"), float("-inf"), "nan", "inf", "-inf", "NaN",
              mp.nan, mp.inf, np.nan, np.float64("inf"), None, "", "abc", "1/0", [1.0], 1 + 2j]


@pytest.mark.parametrize("bad", NON_FINITE, ids=repr)
@pytest.mark.parametrize("name", LAWS)
def test_non_finite_or_non_numeric_values_are_rejected(name, bad):
    law = symfield.derive(name, "tanh")
    for var in good_values(law):
        values = dict(good_values(law), **{var: bad})
        with pytest.raises(ValueError) as info:
            law.evaluate(**values)
        assert var in str(info.value), f"message does not name {var!r}: {info.value}"


def test_text_is_never_executed():
    with tempfile.TemporaryDirectory() as tmp:
        marker = os.path.join(tmp, "pwned")
        payload = f"__import__('pathlib').Path({marker!r}).touch()"
        with pytest.raises(ValueError):
            symfield.derive("chi0", "erf").evaluate(q=payload)
        with pytest.raises(ValueError):
            symfield.derive("chi0", "erf").evaluate(q="1/" + payload)
        assert not os.path.exists(marker)


# ------------------------------------------------------------------------------------------
# Precision
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dps", [14, 101, 0, -30, 30.5, "30", None, True, 1e3, float("nan")], ids=repr)
def test_dps_out_of_range(dps):
    law = symfield.derive("chi0", "erf")
    with pytest.raises(ValueError) as info:
        law.evaluate(dps=dps, q=1)
    assert "dps" in str(info.value)


def test_dps_bounds_are_inclusive():
    law = symfield.derive("chi0", "relu")
    assert law.evaluate(dps=15, q=1) == mp.mpf(1) / 2
    assert law.evaluate(dps=100, q=1) == mp.mpf(1) / 2


# ------------------------------------------------------------------------------------------
# Missing and unknown variables
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", LAWS)
def test_missing_variable_is_named(name):
    law = symfield.derive(name, "erf")
    values = good_values(law)
    for var in list(values):
        partial = {k: v for k, v in values.items() if k != var}
        with pytest.raises(ValueError) as info:
            law.evaluate(**partial)
        assert var in str(info.value)
    with pytest.raises(ValueError):
        law.evaluate()


@pytest.mark.parametrize("extra", ["foo", "Q", "sigma", "rho"])
@pytest.mark.parametrize("name", LAWS)
def test_unknown_variable_is_named(name, extra):
    law = symfield.derive(name, "erf")
    with pytest.raises(ValueError) as info:
        law.evaluate(**good_values(law), **{extra: 1})
    assert repr(extra) in str(info.value) or extra in str(info.value)


def test_variable_of_another_law_is_unknown():
    # chi0 has no sigma_w: passing one is a mistake, not silently ignored.
    with pytest.raises(ValueError) as info:
        symfield.derive("chi0", "erf").evaluate(q=1, sigma_w=2)
    assert "sigma_w" in str(info.value)


def test_to_numpy_unknown_and_missing_variables():
    fn = symfield.derive("chi1", "erf").to_numpy()
    with pytest.raises(ValueError) as info:
        fn(q=np.ones(3))
    assert "sigma_w" in str(info.value)
    with pytest.raises(ValueError) as info:
        fn(q=np.ones(3), sigma_w=1.0, foo=2.0)
    assert "foo" in str(info.value)


def test_messages_are_one_line():
    cases = [
        lambda: symfield.derive("chi9", "erf"),
        lambda: symfield.derive("chi0", "softsign"),
        lambda: symfield.derive("chi0", "erf").evaluate(q=-1),
        lambda: symfield.derive("chi0", "erf").evaluate(q=math.nan),
        lambda: symfield.derive("chi0", "erf").evaluate(dps=101, q=1),
        lambda: symfield.derive("chi1", "erf").evaluate(q=1),
        lambda: symfield.derive("chi1", "erf").evaluate(q=1, sigma_w=1, bar=1),
    ]
    for case in cases:
        with pytest.raises(ValueError) as info:
            case()
        text = str(info.value)
        assert text and "\n" not in text.strip(), text
