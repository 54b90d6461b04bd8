"""``symfield recurrent``: the table, JSON, plots, the scaling study and bad input (exit 2)."""
from __future__ import annotations

import json

import pytest
from support.cli_runner import run

from symfield.cli import main as cli_main


@pytest.fixture(autouse=True)
def recurrent_command(monkeypatch):
    """The command is registered in cli/main.py's COMMAND_MODULES; make sure it is here."""
    if "recurrent" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES", cli_main.COMMAND_MODULES + ("recurrent",))


BASE = ["recurrent", "erf", "--sigma-w", "1.5", "--sigma-b", "0.1"]


def test_table_of_the_four_kinds(capsys):
    code, out, err = run(capsys, *BASE, "--n", "64", "--steps", "3", "--trials", "2")
    assert code == 0, err
    for name in ("asymmetric", "symmetric", "partial (kappa = 0.5)", "fresh", "law"):
        assert name in out
    assert len([line for line in out.splitlines() if line.strip().startswith(("0 ", "3 "))]) == 2


def test_json_of_one_kind_and_the_plot(capsys, tmp_path):
    path = tmp_path / "c.png"
    code, out, err = run(capsys, *BASE, "--n", "64", "--steps", "4", "--trials", "3",
                         "--weights", "partial", "--kappa", "0.2", "--json", "--plot", str(path))
    assert code == 0, err
    data = json.loads(out)
    (report,) = data["reports"]
    assert report["weights"] == "partial" and report["kappa"] == 0.2
    for key in ("predicted_overlap", "measured_overlap", "se_overlap", "predicted_activity",
                "measured_activity"):
        assert len(report[key]) == 5
    assert report["predicted_overlap"][0] == 0.9
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_default_is_amaris_sign_net_and_phi_gives_a_formula(capsys):
    code, out, err = run(capsys, "recurrent", "--n", "64", "--steps", "2", "--trials", "2",
                         "--weights", "fresh", "--json")
    assert code == 0, err
    (report,) = json.loads(out)["reports"]
    assert report["activation"] == "sign" and report["sigma_w"] == 1 and report["sigma_b"] == 0
    assert report["measured_activity"][1:] == [1.0, 1.0]
    code, out, err = run(capsys, "recurrent", "--phi", "tanh(2*x)", "--n", "64", "--steps", "2",
                         "--trials", "2", "--weights", "fresh")
    assert code == 0, err
    assert "fresh" in out


def test_scaling_study(capsys, tmp_path):
    path = tmp_path / "s.png"
    code, out, err = run(capsys, *BASE, "--scaling", "32,64", "--steps", "2", "--trials", "2",
                         "--weights", "fresh", "--plot", str(path))
    assert code == 0, err
    assert "exponent" in out and "n=32" in out and "n=64" in out and path.exists()


@pytest.mark.parametrize("argv", [
    [*BASE, "--n", "0"],
    [*BASE, "--n", "1"],
    [*BASE, "--steps", "-1"],
    [*BASE, "--overlap0", "1.5"],
    [*BASE, "--overlap0", "nan"],
    [*BASE, "--weights", "partial", "--kappa", "2"],
    [*BASE, "--weights", "asymmetric", "--kappa", "0.5"],
    [*BASE, "--weights", "banana"],
    [*BASE, "--n", "10000000"],
    [*BASE, "--trials", "1"],
    [*BASE, "--seed", "-3"],
    [*BASE, "--scaling", "64"],
    [*BASE, "--scaling", "0,64"],
    [*BASE, "--plot", "out.unknownsuffix"],
    ["recurrent", "nope", "--sigma-w", "1", "--sigma-b", "0"],
    ["recurrent", "erf", "--sigma-w", "0", "--sigma-b", "0"],
])
def test_bad_input_exits_2_with_one_line(argv, capsys):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("symfield")
    assert "Traceback" not in err and not out
