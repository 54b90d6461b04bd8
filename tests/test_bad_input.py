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
from symfield.numbers import MAX_DPS, MIN_DPS

from support.oracles import single_input_laws

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
    for name in symfield.registered_laws():
        assert name in message, f"valid law {name!r} missing from: {message}"


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError) as info:
        symfield.derive("chi0", "softsign")
    message = str(info.value)
    assert "softsign" in message
    for name in symfield.registered_activations():
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
def test_nonpositive_variance_is_rejected_unless_zero_is_the_degenerate_gaussian(name, act, bad):
    law = symfield.derive(name, act)
    values = good_values(law)
    var = "q" if "q" in values else "A"
    values[var] = bad
    if bad in (0, "0") and var in symfield.registered_laws()[name].zero_variances:
        # the law's q -> 0 limit: a number or a signed infinity, never NaN
        assert not mp.isnan(law.evaluate(**values))
        return
    with pytest.raises(ValueError) as info:
        law.evaluate(**values)
    message = str(info.value)
    assert var in message and any(w in message for w in ("> 0", ">0", ">= 0", "positive")), \
        message


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


@pytest.mark.parametrize("dps", [MIN_DPS - 1, MAX_DPS + 1, 0, -30, 30.5, "30", None, True,
                                 float(MAX_DPS * 10), float("nan")], ids=repr)
def test_dps_out_of_range(dps):
    law = symfield.derive("chi0", "erf")
    with pytest.raises(ValueError) as info:
        law.evaluate(dps=dps, q=1)
    assert "dps" in str(info.value)


def test_dps_bounds_are_inclusive():
    law = symfield.derive("chi0", "relu")
    assert law.evaluate(dps=15, q=1) == mp.mpf(1) / 2
    assert law.evaluate(dps=MAX_DPS, q=1) == mp.mpf(1) / 2


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
        lambda: symfield.derive("chi0", "erf").evaluate(dps=MAX_DPS + 1, q=1),
        lambda: symfield.derive("chi1", "erf").evaluate(q=1),
        lambda: symfield.derive("chi1", "erf").evaluate(q=1, sigma_w=1, bar=1),
    ]
    for case in cases:
        with pytest.raises(ValueError) as info:
            case()
        text = str(info.value)
        assert text and "\n" not in text.strip(), text


# ------------------------------------------------------------------------------------------
# Sizes, scales and files checked before the work starts (issue 19 items 5, 6 and 8b)
# ------------------------------------------------------------------------------------------
def _refuses(call, *phrases, limit=400):
    """``call()`` raises a one-line SymfieldError naming every phrase, of bounded length."""
    with pytest.raises(symfield.SymfieldError) as info:
        call()
    text = str(info.value)
    assert "\n" not in text and len(text) <= limit, text
    for phrase in phrases:
        assert phrase in text, (phrase, text)
    return text


def _not_sampled(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("weights were drawn although the sizes were refused")

    monkeypatch.setattr(
        "symfield.laboratory.networks.random_network.RandomNetwork.__init__", refuse)


@pytest.mark.parametrize("kwargs, phrases", [
    (dict(sigma_w="1e999"), ["sigma_w", "1000"]),
    (dict(sigma_w=1e308), ["sigma_w", "1000"]),
    (dict(sigma_w=10**400), ["sigma_w", "1000"]),
    (dict(sigma_w="1e-999"), ["sigma_w", "1e-08"]),
    (dict(sigma_w=0), ["sigma_w", "> 0"]),
    (dict(sigma_w=-1), ["sigma_w", "> 0"]),
    (dict(sigma_w2="1e7"), ["sigma_w2", "1e+06"]),
    (dict(sigma_w=1.5, sigma_b=1e308), ["sigma_b", "1000"]),
    (dict(sigma_w=1.5, sigma_b2=Fraction(1, 10**40)), ["sigma_b2", "1e-16"]),
    (dict(sigma_w=1.5, sigma_b=-0.1), ["sigma_b", ">= 0"]),
])
def test_fixed_point_scales_are_bounded(kwargs, phrases):
    _refuses(lambda: symfield.fixed_point("tanh", dps=15, **kwargs), *phrases)


def test_scale_bounds_are_inclusive_and_exact():
    from symfield.dynamics.model import parse_scales

    s = parse_scales(sigma_w="1000", sigma_b="1e-8")
    assert s.sigma_w2 == 10**6 and s.sigma_b2 == Fraction(1, 10**16)
    assert parse_scales(sigma_w2="1e-16").sigma_w2 == Fraction(1, 10**16)
    _refuses(lambda: parse_scales(sigma_w="1000.000000000000000001"), "sigma_w")


@pytest.mark.parametrize("kwargs, phrases", [
    (dict(sigma_b="1e999"), ["sigma_b", "1000"]),
    (dict(sigma_b2=-1), ["sigma_b2", ">= 0"]),
])
def test_critical_point_scales_are_bounded(kwargs, phrases):
    _refuses(lambda: symfield.dynamics.critical_point("tanh", dps=15, **kwargs), *phrases)


@pytest.mark.parametrize("widths, lazy", [([10**7, 10**7], False), ([10**7, 10**7], True),
                                          ([2000] * 200_001, False)])
def test_sample_network_refuses_what_does_not_fit_in_memory(monkeypatch, widths, lazy):
    _not_sampled(monkeypatch)
    _refuses(lambda: symfield.sample_network("tanh", 1.5, 0.1, widths, seed=1, lazy=lazy),
             "memory", "max_memory")


def test_sample_network_memory_limit_is_the_callers_when_given(monkeypatch):
    net = symfield.sample_network("tanh", 1.5, 0.1, [8, 8], seed=1, max_memory=8 * 72)
    assert net.weight(1).shape == (8, 8)
    _refuses(lambda: symfield.sample_network("tanh", 1.5, 0.1, [8, 8], seed=1,
                                             max_memory=8 * 71), "max_memory")
    for bad in (0, -1, 1.5, "1G", True):
        _refuses(lambda: symfield.sample_network("tanh", 1.5, 0.1, [8, 8], seed=1,
                                                 max_memory=bad), "max_memory")


@pytest.mark.parametrize("bad", [1e308, 1e4, math.inf, math.nan, -1])
def test_sample_network_scales_are_bounded(bad):
    _refuses(lambda: symfield.sample_network("tanh", bad, 0.1, [8, 8], seed=1), "sigma_w")


@pytest.mark.parametrize("kwargs, phrases", [
    (dict(width=10**7), ["memory", "width 10000000"]),
    (dict(width=30000, max_memory=2**30), ["memory", "max_memory"]),
    (dict(depth=10**9), ["depth", "100000"]),
    (dict(replicas=10**9), ["1000000000 replicas"]),
    (dict(replicas=10**9, max_memory=2**42), ["floating-point", "max_flops"]),
    (dict(max_flops=1e3), ["floating-point", "max_flops"]),
    (dict(sigma_w=0.0), ["sigma_w", "> 0"]),
    (dict(sigma_w=1e308), ["sigma_w", "1000"]),
    (dict(q0=math.inf), ["q0"]),
    (dict(q0=1e300), ["q0", "1e+06"]),
    (dict(c0=math.nan), ["c0", "[-1, 1]"]),
    (dict(c0=2.0), ["c0", "[-1, 1]"]),
    (dict(width=True), ["width"]),
])
def test_simulate_checks_sizes_and_values_first(monkeypatch, kwargs, phrases):
    from symfield.laboratory import simulate

    _not_sampled(monkeypatch)
    args = dict(activation="tanh", sigma_w=1.5, sigma_b=0.1, width=64, depth=4, replicas=4,
                directions=2)
    args.update(kwargs)
    _refuses(lambda: simulate(**args), *phrases)


@pytest.mark.parametrize("kwargs, phrases", [
    (dict(width=10**7), ["memory"]),
    (dict(depth=10**9), ["depth"]),
    (dict(replicas=10**9), ["replicas"]),
    (dict(sigma_w=0.0), ["sigma_w", "> 0"]),
    (dict(width=512, max_flops=1e6), ["floating-point"]),
])
def test_check_law_checks_sizes_first(monkeypatch, kwargs, phrases):
    _not_sampled(monkeypatch)
    args = dict(sigma_w=1.5, sigma_b=0.1, width=64, depth=3, seed=1)
    args.update(kwargs)
    _refuses(lambda: symfield.check_law("length_map", "tanh", **args), *phrases)


def test_simulate_never_leaks_numpy_warnings():
    # a valid input whose float64 statistics are 0/0 (it printed 14 RuntimeWarnings)
    import warnings

    from symfield.laboratory import simulate

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = simulate("tanh", 1e-3, 0.0, 32, 3, replicas=3, seed=2, directions=2, q0=1e-300)
    c = table.quantity("c")
    # q12/sqrt(q11 q22) underflows to x/0: no number is shown (n/a), and no warning
    assert not np.isfinite(c.estimate).any() and "n/a" in table.format()


def test_sweep_sizes_and_outputs_are_checked_first(monkeypatch, tmp_path):
    from symfield.dynamics import executors, sweeps

    def refuse(*_a, **_k):
        raise AssertionError("the sweep started although its input was refused")

    monkeypatch.setattr(executors.LocalExecutor, "map", refuse)
    monkeypatch.setattr(sweeps, "compute_chunk", refuse)
    _refuses(lambda: sweeps.linspace_axis("1:2:1000000000"), "1e+08")
    _refuses(lambda: symfield.dynamics.sweep("tanh", ["q_star"], sigma_w=np.linspace(1, 2, 10**5),
                                             sigma_b=np.linspace(0, 1, 10**4)), "1e+08")
    _refuses(lambda: symfield.dynamics.sweep("tanh", ["q_star"], sigma_w=[1, 2, 3], chunk_size=1,
                                             sigma_b=np.linspace(0, 1, 400_000)), "chunk")
    _refuses(lambda: symfield.dynamics.sweep("tanh", ["q_star"], sigma_w=[1e300, 2]),
             "sigma_w", "1000")
    _refuses(lambda: symfield.dynamics.sweep("tanh", ["q_star"], sigma_w=[1, 2], sigma_b=[-1]),
             "sigma_b")
    for target in ("/proc/symfield-x.csv", str(tmp_path), str(tmp_path / "no" / "x.csv")):
        _refuses(lambda: symfield.dynamics.sweep("tanh", ["q_star"], sigma_w=[1, 2],
                                                 output=target), "cannot write")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("kwargs, phrase", [
    (dict(start_q=math.nan), "start_q"), (dict(start_q=math.inf), "start_q"),
    (dict(start_q=-1.0), "start_q"), (dict(start_c=math.nan), "start_c"),
    (dict(start_c=1.5), "start_c"), (dict(points=10**9), "points"),
])
def test_cobweb_refuses_bad_starts(kwargs, phrase):
    pytest.importorskip("matplotlib")
    from symfield.output.plots import cobweb

    _refuses(lambda: cobweb("tanh", 1.5, 0.1, **kwargs), phrase)


def test_figure_paths_are_checked(tmp_path):
    pytest.importorskip("matplotlib")
    from symfield.output.plots import check_figure_path

    assert check_figure_path(tmp_path / "a.svg") == tmp_path / "a.svg"
    _refuses(lambda: check_figure_path(tmp_path / "a.xyz"), "'.xyz'", ".png")
    _refuses(lambda: check_figure_path(tmp_path), "directory")
    _refuses(lambda: check_figure_path("/proc/symfield-x.png"), "cannot create files")
    assert not list(tmp_path.iterdir())


def test_writable_file_checks(tmp_path):
    from symfield.dynamics.storage import check_writable_directory, check_writable_file

    existing = tmp_path / "old.csv"
    existing.write_text("x", encoding="utf-8")
    assert check_writable_file(existing) == existing and existing.read_text() == "x"
    assert check_writable_file(tmp_path / "new.csv") == tmp_path / "new.csv"
    assert not (tmp_path / "new.csv").exists()  # the check writes nothing
    _refuses(lambda: check_writable_file(tmp_path), "is a directory")
    _refuses(lambda: check_writable_file(""), "empty")
    _refuses(lambda: check_writable_file(tmp_path / ("x" * 150) / ("z" * 150) / "y.csv"),
             "does not exist",
             "y.csv")
    if os.path.exists("/dev/null"):
        _refuses(lambda: check_writable_file("/dev/null"), "not a regular file")
    made = check_writable_directory(tmp_path / "a" / "b")
    assert made.is_dir() and list(made.iterdir()) == []
    _refuses(lambda: check_writable_directory(existing), "not a directory")
