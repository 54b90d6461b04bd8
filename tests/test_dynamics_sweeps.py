"""Sweeps: one executor interface (in-process, local processes, Dask), atomic resumable
output with metadata, float64 and high-precision grids."""
from __future__ import annotations

import json

import numpy as np
import pytest

from symfield.dynamics import fixed_point, sweep
from symfield.dynamics.executors import LocalExecutor
from symfield.dynamics.sweeps import compute_chunk, metadata_path, parts_dir
from symfield.dynamics.storage import pyarrow_available
from symfield.errors import InvalidValueError, UnknownNameError

GRID = {"sigma_w": np.linspace(0.6, 3.0, 7), "sigma_b": [0.0, 0.2, 0.5]}
QUANTITIES = ["q_star", "chi1", "c_star", "chi_c", "xi_c", "phase"]


@pytest.fixture(scope="module")
def in_process():
    return sweep("tanh", QUANTITIES, GRID, workers=1, chunk_size=5, progress=False)


def test_float64_sweep_values(in_process):
    assert in_process.grid("q_star").shape == (7, 3)
    phases = set(in_process.columns["phase"])
    assert phases <= {"ordered", "chaotic", "critical"} and {"ordered", "chaotic"} <= phases
    r = fixed_point("tanh", sigma_w=3.0, sigma_b=0.5, dps=16)
    assert in_process.grid("c_star")[-1, -1] == pytest.approx(float(r.c_star), rel=1e-11)
    assert in_process.grid("xi_c")[-1, -1] == pytest.approx(float(r.xi_c), rel=1e-10)


def test_local_processes_give_the_same_numbers(in_process):
    pooled = sweep("tanh", QUANTITIES, GRID, workers=2, chunk_size=5, progress=False)
    for name in QUANTITIES:
        assert pooled.columns[name] == in_process.columns[name], name
    assert "2 processes" in pooled.metadata["executor"]


def test_dask_local_cluster_gives_the_same_numbers(in_process):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = sweep("tanh", QUANTITIES, GRID, scheduler=cluster.scheduler_address,
                        chunk_size=5, progress=False)
        with distributed.Client(cluster) as client:
            via_client = sweep("erf", ["q_star", "phase"], {"sigma_w": [1.5, 2.0]}, dps=20,
                               scheduler=client, chunk_size=1, progress=False)
    for name in QUANTITIES:
        assert on_dask.columns[name] == in_process.columns[name], name
    assert on_dask.metadata["executor"].startswith("dask")
    exact = fixed_point("erf", sigma_w="2.0", dps=20)
    assert via_client.columns["q_star"][1] == str(exact.as_dict()["values"]["q_star"])


def test_output_files_and_metadata(tmp_path, in_process):
    out = tmp_path / "phase.csv"
    result = sweep("tanh", QUANTITIES, GRID, workers=1, chunk_size=5, output=out,
                   progress=False)
    assert out.exists() and metadata_path(out).exists() and not parts_dir(out).exists()
    meta = json.loads(metadata_path(out).read_text())
    assert meta["activation"] == "tanh" and meta["precision"] == "float64"
    assert meta["symfield_version"] and "xi" in meta["conventions"]
    assert meta["grid"]["shape"] == [7, 3] and meta["grid"]["axes"]["sigma_b"] == ["0.0", "0.2",
                                                                                   "0.5"]
    header = out.read_text().splitlines()[0].split(",")
    assert header == ["sigma_w", "sigma_b"] + QUANTITIES
    again = sweep("tanh", QUANTITIES, GRID, workers=1, chunk_size=5, output=out,
                  progress=False)   # complete: read back, not recomputed
    assert np.allclose(again.grid("xi_c"), result.grid("xi_c"), equal_nan=True)
    assert again.columns["phase"] == in_process.columns["phase"]


class _Interrupting(LocalExecutor):
    """Runs tasks in this process and is 'killed' after ``limit`` chunks."""

    def __init__(self, limit):
        super().__init__(1)
        self.limit, self.calls = limit, 0

    def map(self, fn, tasks, progress=None):
        for i, task in enumerate(tasks):
            if self.calls >= self.limit:
                raise KeyboardInterrupt
            self.calls += 1
            yield i, fn(*task)


def test_interrupted_sweep_resumes_from_finished_chunks(tmp_path, in_process):
    out = tmp_path / "grid.csv"
    with pytest.raises(KeyboardInterrupt):
        sweep("tanh", QUANTITIES, GRID, chunk_size=5, output=out, progress=False,
              executor=_Interrupting(2))
    assert not out.exists() and not metadata_path(out).exists()   # nothing half-written
    parts = parts_dir(out)
    assert (parts / "manifest.json").exists()
    assert sorted(p.name for p in parts.glob("chunk-*.csv")) == ["chunk-0000000.csv",
                                                                 "chunk-0000001.csv"]
    assert not list(parts.glob("*.tmp"))
    rest = _Interrupting(100)
    result = sweep("tanh", QUANTITIES, GRID, chunk_size=5, output=out, progress=False,
                   executor=rest)
    assert rest.calls == 5 - 2                       # 21 points in chunks of 5: 5 chunks
    for name in QUANTITIES:
        if name == "phase":
            assert result.columns[name] == in_process.columns[name]
        else:
            assert np.allclose(result.array(name), in_process.array(name), equal_nan=True)
    other = tmp_path / "x.csv"
    with pytest.raises(KeyboardInterrupt):
        sweep("tanh", QUANTITIES, GRID, chunk_size=7, output=other, progress=False,
              executor=_Interrupting(1))
    with pytest.raises(InvalidValueError, match="other settings"):
        sweep("tanh", ["q_star"], GRID, chunk_size=7, output=other, progress=False, workers=1)
    fresh = sweep("tanh", ["q_star"], GRID, chunk_size=7, output=tmp_path / "x.csv",
                  progress=False, workers=1, resume=False)
    assert len(fresh.columns["q_star"]) == 21


def test_parquet_output(tmp_path):
    out = tmp_path / "grid.parquet"
    if not pyarrow_available():
        with pytest.raises(InvalidValueError, match="pyarrow"):
            sweep("erf", ["q_star"], {"sigma_w": [1.0, 2.0]}, output=out, progress=False)
        return
    result = sweep("erf", ["q_star", "phase"], {"sigma_w": [1.0, 2.0]}, output=out,
                   workers=1, progress=False)
    back = sweep("erf", ["q_star", "phase"], {"sigma_w": [1.0, 2.0]}, output=out, workers=1,
                 progress=False)
    assert np.allclose(back.array("q_star"), result.array("q_star"))


def test_high_precision_sweep_matches_reports():
    result = sweep("erf", ["q_star", "c_star", "xi_c", "phase"],
                   {"sigma_w": ["1.5", "2"], "sigma_b": ["0", "0.5"]}, dps=20, workers=1,
                   progress=False)
    r = fixed_point("erf", sigma_w="2", sigma_b="0.5", dps=20)
    row = 3
    for name in ("q_star", "c_star", "xi_c"):
        assert result.columns[name][row] == r.as_dict()["values"][name]
    assert abs(result.exact("q_star")[row] - r.q_star) < 1e-19
    divergent = sweep("relu", ["q_star", "phase"],
                      {"sigma_w": ["1.0", "1.5"], "sigma_b": ["0.3"]}, dps=20, workers=1,
                      progress=False)
    assert divergent.columns["phase"] == ["ordered", "divergent"]
    assert divergent.columns["q_star"][1] == ""


def test_law_sweep_over_q():
    result = sweep("erf", ["length_map", "chi1"], {"q": [0.5, 1.0], "sigma_w": [1.0, 2.0],
                                                   "sigma_b": [0.1]}, workers=1, progress=False)
    grid = result.grid("chi1")
    assert grid.shape == (2, 2, 1)
    assert grid[1, 1, 0] == pytest.approx(4 * 4 / (np.pi * np.sqrt(5)), rel=1e-14)


def test_compute_chunk_is_a_plain_function():
    out = compute_chunk({"activation": "erf", "quantities": ["q_star"], "dps": None},
                        {"sigma_w": ["2.0"]})
    assert out["q_star"][0] == pytest.approx(float(fixed_point("erf", sigma_w=2, dps=20).q_star),
                                             rel=1e-13)


def test_progress_bar_on_stderr(capsys):
    sweep("erf", ["q_star"], {"sigma_w": [1.0, 2.0]}, workers=1, chunk_size=1, progress=True)
    assert "sweep erf" in capsys.readouterr().err


def test_bad_sweeps():
    with pytest.raises(UnknownNameError):
        sweep("tanh", ["nonsense"], {"sigma_w": [1.0]}, progress=False)
    with pytest.raises(InvalidValueError, match="not used"):
        sweep("tanh", ["q_star"], {"sigma_w": [1.0], "c": [0.5]}, progress=False)
    with pytest.raises(InvalidValueError, match="needs axes"):
        sweep("tanh", ["length_map"], {"sigma_w": [1.0], "q": [1.0]}, progress=False)
    with pytest.raises(InvalidValueError, match="finite"):
        sweep("tanh", ["q_star"], {"sigma_w": [1.0, float("nan")]}, progress=False)
    with pytest.raises(InvalidValueError):
        sweep("tanh", ["q_star"], {"sigma_w": [1.0]}, dps=3, progress=False)
    with pytest.raises(InvalidValueError, match="table"):
        sweep("tanh", ["q_star"], {"sigma_w": [1.0]}, output="x.json", progress=False)
