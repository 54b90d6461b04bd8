"""``symfield jacobian`` and ``symfield.output.spectrum_plot`` (issue 15): output, exit codes."""
from __future__ import annotations

import json

import pytest

from symfield.cli import main as cli_main
from symfield.errors import InvalidValueError


@pytest.fixture
def run(monkeypatch, capsys):
    if "jacobian" not in cli_main.COMMAND_MODULES:  # until main.py lists the command
        monkeypatch.setattr(cli_main, "COMMAND_MODULES", cli_main.COMMAND_MODULES + ("jacobian",))

    def invoke(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli_main.main(list(argv))
        except SystemExit as exit_:  # argparse's own usage errors
            code = exit_.code
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_jacobian_summary(run):
    code, out, err = run("jacobian", "erf", "--sigma-w", "1.2", "--sigma-b", "0.1", "--depth",
                         "5", "--weights", "orthogonal", "--threshold", "3")
    assert code == 0, err
    assert "m2/m1^2 - 1" in out and "1.63025265358259" in out
    assert "spread_depth" in out and "dynamical isometry (orthogonal weights): yes" in out


def test_jacobian_json_and_latex(run):
    code, out, _ = run("jacobian", "relu", "--sigma-w", "1.2", "--depth", "3", "--json")
    data = json.loads(out)
    assert code == 0 and data["variance_ratio"] == "6.0"
    assert data["atom_at_zero"] == pytest.approx(0.5, abs=1e-12)
    assert data["isometry"]["achievable"] is False
    code, out, _ = run("jacobian", "linear", "--sigma-w", "1", "--depth", "2", "--latex")
    assert code == 0 and out.startswith(r"\begin{align*}")
    assert r"S_{JJ^T}(m) &=" in out and r"m_1 &= 1.0,\quad m_2 = 3.0" in out


@pytest.mark.parametrize("argv,fragment", [
    (("--depth", "0"), "depth must be an integer from 1"),
    (("--depth", "3", "--weights", "uniform"), "unknown weight ensemble 'uniform'"),
    (("--depth", "3", "--check", "4"), "width must be an integer from 16"),
    (("--depth", "3", "--plot", "out.unknownformat"), "is not a format matplotlib writes"),
])
def test_jacobian_bad_input_exits_2(run, argv, fragment):
    code, out, err = run("jacobian", "erf", "--sigma-w", "1.2", *argv)
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_jacobian_plot_with_check(run, tmp_path):
    path = tmp_path / "spectrum.png"
    code, out, err = run("jacobian", "linear", "--sigma-w", "1", "--depth", "2", "--check",
                         "64", "--networks", "3", "--plot", str(path))
    assert code == 0, err
    assert path.stat().st_size > 1000 and "m3:" in out


def test_plot_function_checks_arguments():
    from symfield.output.spectrum_plot import jacobian_spectrum

    with pytest.raises(InvalidValueError, match="sampled must be a SpectrumCheck"):
        jacobian_spectrum("erf", 1.0, 0.1, 2, sampled="x")
    with pytest.raises(InvalidValueError, match="points must be from 10"):
        jacobian_spectrum("erf", 1.0, 0.1, 2, points=3)
    figure = jacobian_spectrum("erf", 1.0, 0.1, 2, weights="orthogonal", points=50)
    assert figure.axes[0].get_xlabel().startswith("eigenvalue")


def test_jacobian_huge_scale_reports_moments(run):
    code, out, err = run("jacobian", "relu", "--sigma-w", "1.9", "--depth", "3000")
    assert code == 0, err
    assert "density" in out and "n/a: the eigenvalues of J J^T are of order" in out
