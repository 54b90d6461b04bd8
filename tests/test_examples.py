"""The example scripts in examples/ run (coarse grids, --quick), write a PNG, and the number
each figure is built from agrees with an independent mpmath quadrature of the Gaussian
expectations (no symfield law involved in the reference)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_example(name: str, output: Path) -> str:
    """Run examples/<name>.py --quick -o output with this checkout's symfield; its stdout."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=path)
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "-o",
                           str(output)], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    data = output.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert 20_000 < len(data) < 5_000_000      # three (or one) drawn panels, not an empty canvas
    return done.stdout


def gaussian_mean(f, q):
    """E[f(sqrt(q) z)], z ~ N(0, 1), for an even integrand f, by mpmath quadrature."""
    root = mpmath.sqrt(q)
    return 2 * mpmath.quad(lambda z: f(root * z) * mpmath.exp(-z * z / 2), [0, 2, mpmath.inf]) \
        / mpmath.sqrt(2 * mpmath.pi)


def tanh_squared(u):
    return mpmath.tanh(u) ** 2


def sech_fourth(u):
    return mpmath.sech(u) ** 4


def test_poole_2016_fixed_points_against_quadrature(tmp_path):
    stdout = run_example("poole_2016", tmp_path / "x.png")
    printed = re.findall(r"q\* at sigma_w=([\d.]+), sigma_b=([\d.]+): (\S+)", stdout)
    assert len(printed) == 4, stdout
    with mpmath.workdps(30):
        for sigma_w, sigma_b, q_star in printed:
            w2, b2 = mpmath.mpf(sigma_w) ** 2, mpmath.mpf(sigma_b) ** 2
            def gap(q, w2=w2, b2=b2):
                return w2 * gaussian_mean(tanh_squared, q) + b2 - q

            reference = mpmath.findroot(gap, mpmath.mpf(q_star))
            assert abs(float(q_star) - reference) <= 1e-10 * reference, (sigma_w, reference)


def test_schoenholz_2017_critical_sigma_w_against_quadrature(tmp_path):
    stdout = run_example("schoenholz_2017", tmp_path / "x.png")
    match = re.search(r"critical sigma_w at sigma_b\^2=([\d.]+): (\S+)", stdout)
    assert match, stdout
    with mpmath.workdps(30):
        b2 = mpmath.mpf(match.group(1))

        # at the edge of chaos chi1 = sigma_w^2 E[sech^4] = 1 and q* = sigma_w^2 E[tanh^2] + b2
        def gap(q):
            return gaussian_mean(tanh_squared, q) / gaussian_mean(sech_fourth, q) + b2 - q

        q_edge = mpmath.findroot(gap, (mpmath.mpf("0.01"), mpmath.mpf("0.5")),
                                 solver="anderson")
        reference = 1 / mpmath.sqrt(gaussian_mean(sech_fourth, q_edge))
        assert abs(mpmath.mpf(match.group(2)) - reference) < mpmath.mpf(10) ** -22, reference


@pytest.mark.parametrize("name", ["poole_2016", "schoenholz_2017"])
def test_example_rejects_an_unwritable_format(tmp_path, name):
    done = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "-o",
                           str(tmp_path / "x.notaformat")], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=300, check=False)
    assert done.returncode == 2
    assert "not a format matplotlib writes" in done.stderr
    assert "Traceback" not in done.stderr
