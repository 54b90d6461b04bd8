"""``symfield field``: the spatial correlation table, JSON, sampled checks, self-averaging and
bad input (exit 2, one line)."""
from __future__ import annotations

import json

import pytest
from support.cli_runner import run

import symfield
from symfield.cli import main as cli_main


@pytest.fixture(autouse=True)
def field_command(monkeypatch):
    """The lead registers the module in cli/main.py's COMMAND_MODULES; make sure it is here."""
    if "field" not in cli_main.COMMAND_MODULES:
        monkeypatch.setattr(cli_main, "COMMAND_MODULES", cli_main.COMMAND_MODULES + ("field",))


def test_default_table_settles_on_the_mlp_correlation(capsys):
    code, out, err = run(capsys, "field", "--depth", "60")
    assert code == 0, err
    assert "ring of 16, conv width 3 weights" in out and "depth scale" in out
    report = symfield.fixed_point("erf", sigma_w=1.5, sigma_b=0.3, dps=30)
    row = next(line for line in out.splitlines() if line.split()[0] == "1")
    assert abs(float(row.split()[-1]) - float(report.xi_c)) < 0.05 * float(report.xi_c)


def test_json_on_a_torus(capsys):
    code, out, err = run(capsys, "field", "relu", "--grid", "4x6", "--depth", "3",
                         "--weights", "correlated:exponential:1.5:1", "--bias", "independent",
                         "--input", "random", "--channels", "3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["grid"] == [4, 6] and len(data["correlation"]) == 3
    assert len(data["offsets"]) == 3 * 4 and data["correlation"][0][0] == pytest.approx(1.0)


def test_json_on_a_segment(capsys):
    """--grid segment:G: offsets 0 .. G - 1 (no wrap-around), the grid marked non-periodic."""
    code, out, err = run(capsys, "field", "erf", "--grid", "segment:6", "--depth", "2",
                         "--weights", "conv:3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["grid"] == [6] and data["periodic"] is False
    assert [o[0] for o in data["offsets"]] == list(range(6))
    assert data["correlation"][0][0] == pytest.approx(1.0)


def test_sampled_check_and_phi(capsys):
    code, out, err = run(capsys, "field", "--phi", "tanh(x)", "--grid", "5", "--depth", "1",
                         "--weights", "conv:3", "--check", "64", "--trials", "8", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["agrees"] and data["max_abs_z"] <= data["critical_z"]


def test_self_averaging_table(capsys):
    code, out, err = run(capsys, "field", "--self-averaging", "--trials", "12")
    assert code == 0, err
    assert "does not self-average" in out and "slope" in out


@pytest.mark.parametrize("argv, words", [
    (["--grid", "3x3x3"], "--grid"),
    (["--grid", "abc"], "--grid"),
    (["--grid", "segment:x"], "--grid segment:G"),
    (["--weights", "conv:-1"], "--weights"),
    (["--weights", "correlated:gaussian:nan"], "correlation length"),
    (["--weights", "pooling"], "--weights"),
    (["--weights", "conv:40"], "exceeds"),
    (["--weights", "correlated:cauchy:2"], "gaussian, exponential"),
    (["--bias", "shared:1"], "--bias"),
    (["--depth", "0"], "depth"),
    (["--sigma-w", "-1"], "sigma_w"),
    (["--input", "circle", "--channels", "1"], "at least 2"),
    (["--check", "0"], "n (channels)"),
    (["--check", "4", "--trials", "1"], "trials"),
    (["nosuchactivation"], "nosuchactivation"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out, err = run(capsys, "field", *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (code, out, err)
    assert words in err, err


def test_plot_of_the_spatial_correlation(capsys, tmp_path):
    path = tmp_path / "field.png"
    code, out, err = run(capsys, "field", "--depth", "12", "--grid", "8x4", "--plot", str(path))
    assert code == 0, err
    assert f"wrote {path}" in out and path.read_bytes().startswith(b"\x89PNG")
    code, out, err = run(capsys, "field", "--check", "8", "--plot", str(path))
    assert code == 2 and "--plot" in err


def test_derivation_is_the_field_laws_latex(capsys):
    code, out, err = run(capsys, "field", "relu", "--derivation")
    assert code == 0 and err == ""
    assert out.startswith(r"\documentclass") and "Kronecker" in out
    assert out.strip() == symfield.field_law("relu").latex(document=True).strip()
    code, out, err = run(capsys, "field", "nosuch", "--derivation")
    assert code == 2 and out == "" and "nosuch" in err
