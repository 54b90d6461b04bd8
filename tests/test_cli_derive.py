"""The command line: ``symfield list`` and ``symfield derive``.

In-process through ``symfield.cli.main.main(argv)`` (fast, with capsys) and, for a few
commands, through ``python -m symfield`` and the ``symfield`` console script in a subprocess.
Printed values are checked digit by digit against references computed here.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import mpmath as mp
import pytest

import symfield
from symfield.numbers import MAX_DPS

from support.cli_runner import run
from support.compare import relerr
from support.oracles import activation_oracle, reference_law, single_input_laws

LAWS = single_input_laws()


def cli(*argv, timeout=120):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "symfield", *argv], capture_output=True,
                          text=True, timeout=timeout, env=env)


def value_line(out: str) -> str:
    lines = [line for line in out.splitlines() if "value" in line]
    assert lines, f"no value printed in:\n{out}"
    return lines[-1].split(":")[-1].strip()


def erf_chi1(qv: str, sw: str, dps=70):
    """4 sigma_w^2 / (pi sqrt(1 + 4q)) by hand (Williams)."""
    with mp.workdps(dps):
        q, s = mp.mpf(qv), mp.mpf(sw)
        return 4 * s**2 / (mp.pi * mp.sqrt(1 + 4 * q))


# ------------------------------------------------------------------------------------------
# list, help
# ------------------------------------------------------------------------------------------


def test_list_and_derive_are_subcommands():
    assert {"list", "derive"} <= set(_subcommands())


def test_list(capsys):
    code, out, err = run(capsys, "list")
    assert code == 0 and not err
    for name in list(symfield.registered_laws()) + list(symfield.registered_activations()):
        assert name in out


def _subcommands():
    """Every registered subcommand (so a new one gets its --help checked too)."""
    import argparse

    from symfield.cli.main import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    return []


@pytest.mark.parametrize("argv", [["--help"], ["-h"]] + [[c, "--help"] for c in _subcommands()]
                         + [["derive", "chi0", "erf", "--help"]], ids=" ".join)
def test_help_exits_zero(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert "usage" in out.lower()


# ------------------------------------------------------------------------------------------
# derive: text, LaTeX, JSON, values
# ------------------------------------------------------------------------------------------


def test_derive_text(capsys):
    code, out, err = run(capsys, "derive", "chi1", "erf")
    assert code == 0 and not err
    assert "chi1" in out and "erf" in out and "sigma_w" in out and "closed" in out


def test_derive_tanh_prints_the_series(capsys):
    code, out, _ = run(capsys, "derive", "chi0", "tanh")
    assert code == 0
    assert "tanh" in out and "Sum(" in out and "faddeeva" in out and "series" in out


def test_derive_divergent(capsys):
    code, out, err = run(capsys, "derive", "chi2", "relu", "--at", "q=1", "--at", "sigma_w=1")
    assert code == 0 and not err
    assert "diverg" in out.lower()
    assert "inf" in value_line(out)
    assert "nan" not in out.lower()


def test_derive_latex(capsys):
    code, out, err = run(capsys, "derive", "chi1", "erf", "--latex")
    assert code == 0 and not err
    assert r"\chi_1" in out and r"\sigma" in out and r"\pi" in out


def test_derive_json(capsys):
    code, out, err = run(capsys, "derive", "chi1", "erf", "--json")
    assert code == 0 and not err
    record = json.loads(out)
    assert record["law"] == "chi1" and record["activation"] == "erf"
    assert record["variables"] == ["q", "sigma_w"]
    assert record["closed_form"] is True and record["form"] == "closed"
    assert "sigma_w" in record["expr"]


def test_derive_json_tanh_and_divergent(capsys):
    code, out, _ = run(capsys, "derive", "chi0", "tanh", "--json")
    record = json.loads(out)
    assert code == 0 and record["closed_form"] is False and record["form"] == "series"
    code, out, _ = run(capsys, "derive", "chi2", "relu", "--json")
    record = json.loads(out)
    assert code == 0 and record["divergence"]


def test_derive_value_digits(capsys):
    code, out, err = run(capsys, "derive", "chi1", "erf", "--at", "q=0.5", "--at", "sigma_w=1.2",
                         "--dps", "50")
    assert code == 0 and not err
    printed = value_line(out)
    ref = erf_chi1("0.5", "1.2")
    with mp.workdps(70):
        assert relerr(mp.mpf(printed), ref) < mp.mpf(10) ** -49, printed
        # the printed number carries 50 significant digits (not a float64)
        digits = printed.replace("-", "").replace(".", "").lstrip("0")
        assert len(digits.split("e")[0]) >= 45


def test_derive_value_tanh_against_own_quadrature(capsys):
    code, out, err = run(capsys, "derive", "chi0", "tanh", "--at", "q=1/3", "--dps", "40")
    assert code == 0 and not err
    with mp.workdps(60):
        ref = reference_law("chi0", activation_oracle("tanh"), {"q": "1/3"}, dps=55)
        assert relerr(mp.mpf(value_line(out)), ref) < mp.mpf(10) ** -39


def test_derive_json_value(capsys):
    code, out, _ = run(capsys, "derive", "chi1", "erf", "--json", "--at", "q=0.5",
                       "--at", "sigma_w=1.2", "--dps", "50")
    assert code == 0
    record = json.loads(out)
    with mp.workdps(70):
        assert relerr(mp.mpf(record["value"]), erf_chi1("0.5", "1.2")) < mp.mpf(10) ** -49


def test_derive_law_with_activation_option(capsys):
    code, out, err = run(capsys, "derive", "chi0", "--activation", "relu", "--at", "q=3")
    assert code == 0 and not err
    assert mp.mpf(value_line(out)) == mp.mpf(3) / 2


def test_derive_every_law_for_an_activation(capsys):
    code, out, err = run(capsys, "derive", "--activation", "erf")
    assert code == 0 and not err
    for name in LAWS:
        assert f"{name}[erf]" in out or name in out


def test_derive_every_law_with_values(capsys):
    code, out, err = run(capsys, "derive", "--activation", "erf", "--at", "q=1", "--at", "sigma_w=1.5",
                         "--at", "sigma_b=0.1", "--at", "A=0.4")
    assert code == 0, err
    # chi1 at q=1, sigma_w=1.5 is printed with its 30 digits
    with mp.workdps(50):
        expected = mp.nstr(erf_chi1("1", "1.5"), 30)
    assert expected in out


# ------------------------------------------------------------------------------------------
# Errors: exit 2, one line on stderr
# ------------------------------------------------------------------------------------------

BAD = [
    ["derive", "chi9", "erf"],
    ["derive", "chi0", "softsign"],
    ["derive", "chi0", "erf", "--at", "q=-1"],
    ["derive", "chi0", "erf", "--at", "q=nan"],
    ["derive", "chi0", "erf", "--at", "q=inf"],
    ["derive", "chi0", "erf", "--at", "q=1", "--dps", "14"],
    ["derive", "chi0", "erf", "--at", "q=1", "--dps", str(MAX_DPS + 1)],
    ["derive", "chi0", "erf", "--at", "q=1", "--dps", "30.5"],
    ["derive", "chi1", "erf", "--at", "q=1"],                       # missing sigma_w
    ["derive", "chi0", "erf", "--at", "q=1", "--at", "foo=2"],      # unknown variable
    ["derive", "chi0", "erf", "--at", "q"],                         # malformed --at
    ["derive", "chi0", "erf", "--bogus-option"],
    ["derive"],                                                     # no activation
    ["frobnicate"],
]


@pytest.mark.parametrize("argv, reference", [
    (["chi0", "sigmoid", "--at", "q=0"], lambda: (1 / (1 + mp.exp(0))) ** 2),
    (["chi0", "erf", "--at", "q=0"], lambda: mp.erf(0) ** 2),
    (["chi1", "tanh", "--at", "q=0", "--at", "sigma_w=2"], lambda: 4 * mp.sech(0) ** 4),
], ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_zero_variance_is_the_degenerate_gaussian(capsys, argv, reference):
    """q = 0 is a valid input (x = 0 almost surely): chi0 = phi(0)^2, chi1 = sigma_w^2 phi'(0)^2,
    printed without error even where the law's series has q in a denominator."""
    code, out, err = run(capsys, "derive", *argv)
    assert code == 0, err
    with mp.workdps(40):
        assert abs(mp.mpf(value_line(out)) - reference()) <= mp.mpf(10) ** -29


@pytest.mark.parametrize("argv", BAD, ids=lambda a: " ".join(a))
def test_errors_exit_2_with_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "error" in lines[0].lower()
    assert "Traceback" not in err


def test_error_messages_name_the_problem(capsys):
    _, _, err = run(capsys, "derive", "chi9", "erf")
    assert "chi9" in err and "chi0" in err
    _, _, err = run(capsys, "derive", "chi0", "softsign")
    assert "softsign" in err and "tanh" in err
    _, _, err = run(capsys, "derive", "chi0", "erf", "--at", "q=-1")
    assert "q" in err
    _, _, err = run(capsys, "derive", "chi1", "erf", "--at", "q=1")
    assert "sigma_w" in err
    _, _, err = run(capsys, "derive", "chi0", "erf", "--at", "q=1", "--dps", str(MAX_DPS + 1))
    assert "dps" in err


# ------------------------------------------------------------------------------------------
# Subprocesses: python -m symfield and the console script
# ------------------------------------------------------------------------------------------


def test_module_entry_point_value():
    proc = cli("derive", "chi1", "erf", "--at", "q=0.5", "--at", "sigma_w=1.2", "--dps", "50")
    assert proc.returncode == 0, proc.stderr
    with mp.workdps(70):
        assert relerr(mp.mpf(value_line(proc.stdout)), erf_chi1("0.5", "1.2")) < mp.mpf(10) ** -49


def test_module_entry_point_error_and_help():
    proc = cli("derive", "chi0", "erf", "--at", "q=-1")
    assert proc.returncode == 2
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1
    assert "Traceback" not in proc.stderr
    proc = cli("--help")
    assert proc.returncode == 0 and "usage" in proc.stdout.lower()


def test_console_script():
    exe = shutil.which("symfield")
    if exe is None:
        candidate = os.path.join(os.path.dirname(sys.executable), "symfield")
        exe = candidate if os.path.exists(candidate) else None
    if exe is None:
        pytest.skip("the symfield console script is not installed on PATH")
    proc = subprocess.run([exe, "list"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert all(name in proc.stdout for name in LAWS)
    proc = subprocess.run([exe, "derive", "chi0", "relu", "--json"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout)["closed_form"] is True
