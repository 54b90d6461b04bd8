"""``symfield finite-width`` and ``symfield criticality``: output, JSON, and one-line bad
input with exit status 2; the top-level ``symfield.finite_width`` and ``symfield.criticality``
(this file lands with symfield/cli/main.py and symfield/__init__.py, which register both)."""
from __future__ import annotations

import json

import pytest

from support.cli_runner import run


def test_finite_width_table(capsys):
    code, out, err = run(capsys, "finite-width", "relu", "--sigma-w", "1.4142135623730951",
                         "--depth", "3", "--width", "8")
    assert code == 0 and not err
    lines = out.splitlines()
    assert "width 8" in lines[0] and "excess_kurtosis" in lines[2] and len(lines) == 6


def test_finite_width_json_float64(capsys):
    code, out, _err = run(capsys, "finite-width", "tanh", "--sigma-w", "1.2", "--sigma-b", "0.1",
                          "--depth", "4", "--float64", "--json")
    data = json.loads(out)
    assert code == 0 and data["dps"] is None and len(data["V"]) == 4 and data["V"][0] == 0.0


def test_criticality_text_and_json(capsys):
    code, out, _err = run(capsys, "criticality", "tanh")
    assert code == 0 and "K*=0" in out and "2/3" in out
    code, out, _err = run(capsys, "criticality", "relu", "--json")
    data = json.loads(out)
    assert code == 0 and data["universality_class"] == "scale-invariant"
    assert data["sigma_w_exact"] == "sqrt(2)"


@pytest.mark.parametrize("argv,needle", [
    (["finite-width", "tanh", "--sigma-w", "1", "--depth", "0"], "depth"),
    (["finite-width", "tanh", "--sigma-w", "1", "--depth", "3", "--width", "0"], "width"),
    (["finite-width", "tanh", "--sigma-w", "1", "--depth", "3", "--width", "-4"], "width"),
    (["finite-width", "tanh", "--sigma-w", "1", "--depth", "x"], "--depth"),
    (["finite-width", "tanh", "--sigma-w", "1", "--depth", "3", "--q0", "0"], "q0"),
    (["finite-width", "tanh", "--sigma-w", "nan", "--depth", "3"], "sigma_w"),
    (["finite-width", "tanh", "--sigma-w", "1", "--depth", "3", "--dps", "2"], "--dps"),
    (["finite-width", "nope", "--sigma-w", "1", "--depth", "3"], "unknown activation"),
    (["criticality", "step"], "phi(0)"),
    (["criticality", "tanh", "--dps", "5000"], "--dps"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_top_level_functions_are_the_dynamics_ones():
    import symfield
    from symfield.dynamics.criticality import CriticalityReport
    from symfield.dynamics.finite_width import FiniteWidthReport

    report = symfield.finite_width("relu", 2**0.5, 0, 1, 3, width=8, dps=None)
    assert isinstance(report, FiniteWidthReport) and report.V[1] == pytest.approx(5, rel=1e-14)
    assert isinstance(symfield.criticality("relu"), CriticalityReport)
