"""Pictures: phase diagram, cobwebs, depth scales (Python and ``symfield plot``)."""
from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

import symfield  # noqa: E402
from symfield.cli.main import main  # noqa: E402
from symfield.errors import InvalidValueError  # noqa: E402

PNG_MAGIC = b"\x89PNG"


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        out += [t.get_text() for t in ax.texts]
    return out


def test_phase_diagram_returns_a_labelled_figure(tmp_path):
    fig = symfield.plot.phase_diagram("erf", resolution=(14, 10), workers=1)
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    texts = _texts(fig)
    assert r"$\sigma_w$" in texts and r"$\sigma_b$" in texts
    assert "ordered" in texts and "chaotic" in texts
    assert any(r"\xi_c" in t for t in texts)            # the colour bar
    path = symfield.plot.save(fig, tmp_path / "phase.png")
    assert path.read_bytes()[:4] == PNG_MAGIC


def test_phase_diagram_of_relu_marks_the_point_and_the_divergent_region():
    fig = symfield.plot.phase_diagram("relu", sigma_w=(0.5, 2.0), resolution=10, workers=1)
    texts = _texts(fig)
    assert any("diverges" in t for t in texts)


def test_cobweb_and_depth_scales(tmp_path):
    fig = symfield.plot.cobweb("tanh", "2.5", "0.3", steps=6)
    labels = _texts(fig)
    assert r"$q^{l}$" in labels and r"$c^{l}$" in labels
    symfield.plot.save(fig, tmp_path / "cobweb.png")
    fig = symfield.plot.depth_scales("erf", sigma_b=0.3, points=40)
    assert r"$\sigma_w$" in _texts(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert r"$\xi_c$" in legend and r"$\xi_q$" in legend
    with pytest.raises(InvalidValueError):
        symfield.plot.cobweb("tanh", "2.5", "0.3", maps="sideways")
    with pytest.raises(InvalidValueError):
        symfield.plot.phase_diagram("tanh", sigma_w=(2, 1))


@pytest.mark.parametrize("argv", [
    ["plot", "phase", "erf", "--resolution", "8", "--workers", "1", "--no-progress"],
    ["plot", "cobweb", "relu", "--sigma-w2", "1.5", "--sigma-b2", "0.1", "--map", "length"],
    ["plot", "depth-scales", "tanh", "--sigma-b", "0.3", "--points", "30"],
])
def test_plot_commands_write_files(tmp_path, capsys, argv):
    out = tmp_path / "figure.png"
    assert main(argv + ["-o", str(out)]) == 0
    assert out.read_bytes()[:4] == PNG_MAGIC
    assert "wrote" in capsys.readouterr().out


def test_plot_command_bad_input(tmp_path, capsys):
    assert main(["plot", "phase", "erf", "--sigma-w", "a:b", "-o", str(tmp_path / "x.png")]) == 2
    assert "LOW:HIGH" in capsys.readouterr().err
