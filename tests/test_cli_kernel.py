"""``symfield kernel ACTIVATION --inputs FILE --depth L``: NNGP and NTK matrices of input vectors.

Values are checked against references computed here: the literature arcsin kernel (Williams)
iterated by hand, the linear network's exact recursion, and the ReLU identities at
sigma_w^2 = 2, sigma_b = 0 (Sigma^L(x, x) = Sigma^1(x, x), Theta^L(x, x) = L Sigma^1(x, x)).
"""
from __future__ import annotations

import json
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

import symfield

from support.cli_runner import run

INPUTS = "# two unit vectors in R^3\n1, 0, 0\n0.6 0.8 0\n"


@pytest.fixture
def inputs(tmp_path: Path) -> str:
    path = tmp_path / "x.csv"
    path.write_text(INPUTS)
    return str(path)


def test_json_matches_the_python_api(capsys, inputs):
    code, out, err = run(capsys, "kernel", "erf", "--inputs", inputs, "--depth", "3",
                         "--sigma-w", "1.3", "--sigma-b", "0.2", "--json")
    assert code == 0, err
    data = json.loads(out)
    S, T = symfield.nngp_ntk("erf", [[1, 0, 0], [0.6, 0.8, 0]], 3, 1.3, 0.2)
    np.testing.assert_allclose(np.array(data["nngp"], dtype=float), S, rtol=1e-14)
    np.testing.assert_allclose(np.array(data["ntk"], dtype=float), T, rtol=1e-14)
    assert data["activation"] == "erf" and data["depth"] == 3


def test_erf_at_30_digits_equals_the_hand_iterated_arcsin_kernel(capsys, inputs):
    code, out, err = run(capsys, "kernel", "erf", "--inputs", inputs, "--depth", "2",
                         "--dps", "30", "--json")
    assert code == 0, err
    data = json.loads(out)
    with mp.workdps(50):
        q, r = mp.mpf(1) / 3, mp.mpf("0.6") / 3          # Sigma^1 = x.x'/n0

        def K(a, b, c):
            return 2 / mp.pi * mp.asin(2 * c / mp.sqrt((1 + 2 * a) * (1 + 2 * b)))

        def Kdot(a, b, c):
            return 4 / (mp.pi * mp.sqrt((1 + 2 * a) * (1 + 2 * b) - 4 * c**2))

        sigma2 = K(q, q, r)
        theta2 = sigma2 + Kdot(q, q, r) * r
        assert abs(mp.mpf(data["nngp"][0][1]) - sigma2) < mp.mpf(10) ** -28
        assert abs(mp.mpf(data["ntk"][0][1]) - theta2) < mp.mpf(10) ** -28
        assert abs(mp.mpf(data["nngp"][0][0]) - K(q, q, q)) < mp.mpf(10) ** -28


def test_relu_diagonal_identities_in_the_table(capsys, inputs):
    depth = 5
    code, out, err = run(capsys, "kernel", "relu", "--inputs", inputs, "--depth", str(depth),
                         "--sigma-w", "1.4142135623730951")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("NNGP") and lines[3].startswith("NTK")
    sigma = np.array([[float(v) for v in line.split()] for line in lines[1:3]])
    theta = np.array([[float(v) for v in line.split()] for line in lines[4:6]])
    np.testing.assert_allclose(np.diag(sigma), 2 / 3, rtol=1e-12)   # sigma_w^2 |x|^2 / n0
    np.testing.assert_allclose(np.diag(theta), depth * 2 / 3, rtol=1e-12)
    assert np.all(np.abs(sigma - sigma.T) == 0)


def test_linear_network_is_exact(capsys, inputs):
    # phi(x) = x: Sigma^{l+1} = sigma_w^2 Sigma^l + sigma_b^2 and Theta^{l+1} = Sigma^{l+1} +
    # sigma_w^2 Theta^l, at 40 digits from exact fractions.
    code, out, err = run(capsys, "kernel", "linear", "--inputs", inputs, "--depth", "4",
                         "--sigma-w", "3/2", "--sigma-b", "1/3", "--dps", "40", "--json")
    assert code == 0, err
    data = json.loads(out)
    from fractions import Fraction
    w2, b2 = Fraction(9, 4), Fraction(1, 9)
    s = t = Fraction(9, 4) * Fraction(3, 5) / 3 + b2        # Sigma^1_12 = w^2 (0.6)/3 + b^2
    for _ in range(3):
        s = w2 * s + b2
        t = s + w2 * t
    with mp.workdps(50):
        assert abs(mp.mpf(data["nngp"][1][0]) - mp.mpf(s.numerator) / s.denominator) < mp.mpf(10) ** -38
        assert abs(mp.mpf(data["ntk"][1][0]) - mp.mpf(t.numerator) / t.denominator) < mp.mpf(10) ** -37


def test_reads_stdin(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("1 0\n0 1\n"))
    code, out, err = run(capsys, "kernel", "linear", "--inputs", "-", "--depth", "1", "--json")
    assert code == 0, err
    assert np.allclose(np.array(json.loads(out)["nngp"], dtype=float), [[0.5, 0], [0, 0.5]])


@pytest.mark.parametrize("content,word", [
    ("1 2\n3\n", "entries"),            # ragged rows
    ("1,a,0\n", "'a' is not a number"),
    ("1,nan\n", "finite"),
    ("# only a comment\n\n", "no input vectors"),
])
def test_malformed_input_files_are_clear_errors(capsys, tmp_path, content, word):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    code, out, err = run(capsys, "kernel", "relu", "--inputs", str(path), "--depth", "2")
    assert code == 2 and out == ""
    assert word in err and "Traceback" not in err


@pytest.mark.parametrize("argv,word", [
    (["--depth", "0"], "depth"),
    (["--depth", "2", "--sigma-w", "-1"], "sigma_w"),
    (["--depth", "2", "--sigma-b", "-0.5"], "sigma_b"),
    (["--depth", "2", "--dps", "5"], "dps"),
])
def test_bad_options_are_clear_errors(capsys, inputs, argv, word):
    code, out, err = run(capsys, "kernel", "relu", "--inputs", inputs, *argv)
    assert code == 2 and word in err and "Traceback" not in err


def test_missing_file_and_unknown_activation(capsys, inputs, tmp_path):
    code, _out, err = run(capsys, "kernel", "relu", "--inputs", str(tmp_path / "none.csv"),
                          "--depth", "2")
    assert code == 2 and "cannot read" in err
    code, _out, err = run(capsys, "kernel", "nope", "--inputs", inputs, "--depth", "2")
    assert code == 2 and "unknown activation" in err and "relu" in err
