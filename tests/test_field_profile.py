"""Spatial correlation over depth in a random neural field (issue 12, part 1).

A field whose first-layer kernel depends only on the offset (x(z) = sqrt(2)(cos tz, sin tz):
constant length, x(z1).x(z2) = 2 cos t(z1 - z2)) and a shared filter with a shared bias keeps
every offset on the MLP's correlation map: the profile at offset d is the MLP kernel of two
inputs at angle t d, layer by layer, and its depth scale is the MLP's xi_c.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import symfield
from symfield.dynamics.field import spatial_correlation
from symfield.laws.recursion import nngp_ntk


def _circle_field(G: int) -> np.ndarray:
    angle = 2 * math.pi / G * np.arange(G)
    return math.sqrt(2) * np.stack([np.cos(angle), np.sin(angle)], axis=-1)[None]


@pytest.mark.parametrize("spec", [("conv", 3), ("conv", 5), "independent"])
def test_each_offset_follows_the_mlp_correlation_map(spec):
    G = 12
    X = _circle_field(G)
    profile = spatial_correlation("erf", X, 8, 1.5, 0.3, G, spec, "shared")
    assert profile.offsets[:, 0].tolist() == list(range(G // 2 + 1))
    for k, d in enumerate(profile.offsets[:, 0]):
        for depth in (1, 4, 8):
            S, _ = nngp_ntk("erf", X[0][[0, d]], depth, 1.5, 0.3)
            if spec == "independent" and d != 0:
                # i.i.d. weights over (z', z): two output positions share only the bias
                expected = 0.3**2 / S[0, 0]
            else:
                expected = S[0, 1] / math.sqrt(S[0, 0] * S[1, 1])
            assert abs(profile.correlation[depth - 1, k] - expected) < 1e-12
        np.testing.assert_allclose(profile.variance[depth - 1], S[0, 0], rtol=1e-13)


def test_depth_scale_is_the_mlp_xi_c():
    report = symfield.fixed_point("erf", sigma_w=1.5, sigma_b=0.3, dps=30)
    profile = spatial_correlation("erf", _circle_field(16), 80, 1.5, 0.3, 16, ("conv", 3),
                                  "shared")
    assert math.isnan(profile.depth_scale[0])  # offset 0: correlation 1 at every layer
    np.testing.assert_allclose(profile.depth_scale[1:], float(report.xi_c), rtol=0.02)
    # the profile settles to the MLP's c* at every offset
    np.testing.assert_allclose(profile.correlation[-1, 1:], float(report.c_star), atol=1e-3)
    assert "depth scale" in profile.format()


def test_independent_bias_decorrelates_positions():
    """Independent biases per position: erf's cross-position correlation goes to 0 (c* of
    a net whose two 'inputs' share no bias), at the rate of the correlation map at c = 0."""
    profile = spatial_correlation("erf", _circle_field(8), 60, 1.5, 0.3, 8, ("conv", 3))
    assert np.all(np.abs(profile.correlation[-1, 1:]) < 1e-3)
    assert np.all(np.abs(profile.correlation[0, [1, 4]]) > 0.3)  # offset 2 is at 90 degrees


@pytest.mark.parametrize("activation", ["erf", "tanh"])
def test_derivation_document_compiles(tmp_path, activation):
    """The field law's document (the microdynamics steps: conditioning, the exchange of sums
    and expectation, the n -> infinity limit; then the engine's kernel derivation at the
    entries of Q^{l-1}) with the kernel law's own section: pdflatex compiles it."""
    import shutil
    import subprocess

    from symfield.output.latex import PREAMBLE, DocumentState, law_section

    state = DocumentState()
    body = law_section(symfield.field_law(activation), state=state)
    for words in ("conditioning on layer", "passes through the finite sums",
                  r"\infty", "C_{w}"):
        assert words in body, words
    if activation == "erf":  # closed form at the entries of Q
        assert "\\arcsin" in body and "{Q}_{s,t,z_{1},z_{2}}" in body
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not installed")
    document = "\n".join([PREAMBLE, r"\begin{document}", body,
                          law_section(symfield.derive("kernel", activation), state=state),
                          state.end()])
    (tmp_path / "field.tex").write_text(document)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-no-shell-escape",
                           "field.tex"], cwd=tmp_path, capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-2000:]
    assert (tmp_path / "field.pdf").read_bytes().startswith(b"%PDF")


def test_plot_field_kernel_writes_a_figure(tmp_path):
    from symfield.errors import InvalidValueError
    from symfield.laboratory.field import plot_field_kernel, plot_spatial_correlation

    path = tmp_path / "f.png"
    figure = plot_field_kernel("erf", _circle_field(8), 6, 1.5, 0.3, 8, ("conv", 3), "shared",
                               path=path)
    assert path.read_bytes().startswith(b"\x89PNG") and len(figure.axes) == 2
    with pytest.raises(InvalidValueError, match="SpatialCorrelation"):
        plot_spatial_correlation("not a profile")
    with pytest.raises(InvalidValueError):
        plot_field_kernel("erf", _circle_field(8), 6, 1.5, 0.3, 8, path=tmp_path / "f.exe")
