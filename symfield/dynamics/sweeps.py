"""Sweeps: fixed-point quantities and laws over a grid, on any executor, resumable.

``sweep(activation, quantities, grid)`` evaluates

* fixed-point quantities (``q_star``, ``A_star``, ``chi1``, ``chi2``, ``length_slope``,
  ``c_star``, ``chi_c``, ``xi_q``, ``xi_c``, ``xi_grad``, ``D_star``, ``kappa2_star``,
  ``phase``) over axes ``sigma_w`` and ``sigma_b``, and
* laws (``length_map``, ``chi1``, ``correlation_map``, ...) over their variables' axes (e.g.
  ``q`` and ``sigma_w``; a name that is both, such as ``chi1``, is the fixed-point quantity
  unless a ``q`` axis is given),

in float64 (vectorised: the grid solvers of :mod:`.vectorised` and the laws' ``to_numpy``) or,
with ``dps``, at high precision point by point (``fixed_point`` and ``Law.evaluate``, every
digit verified). Points without a finite fixed point get the phase "divergent" (and empty or
NaN values); at high precision, points whose digits could not be verified get "unverified".
The grid is the Cartesian product of the axes, flattened in row-major (C) order in the order
the axes are given, and cut into chunks that an executor runs (local processes by default, a
Dask cluster given a scheduler address).

With ``output``, every finished chunk is written atomically into ``<output>.parts/`` next to
a manifest of the sweep's settings; a rerun of the same sweep skips the chunks already there,
so an interrupted sweep resumes. The finished table is written atomically to ``output``
(CSV, or Parquet for a ``.parquet`` name, which needs pyarrow) with the metadata in
``<output stem>.json`` (activation, conventions, precision, symfield version, grid); then the
parts directory is removed.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import mpmath
import numpy as np

from ..errors import InvalidValueError, PrecisionError, UnknownNameError, quoted
from ..laboratory.networks.validation import check_memory
from ..laws import registered_laws
from ..numbers import MAX_SCALE, MIN_SCALE, check_dps
from ..processes import available_cpus, check_workers
from ..version import __version__
from .executors import Executor, Progress, make_executor
from .fixed_points import CONVENTIONS, QUANTITIES, fixed_point
from .model import mean_field
from .storage import (check_writable_file, pyarrow_available, read_json, read_table,
                      write_json, write_table)
from .vectorised import PHASE_NAMES, fixed_points_float64

#: Fixed-point quantities a sweep can hold (plus the phase, as text).
FIXED_POINT_QUANTITIES = tuple(QUANTITIES) + ("phase",)
#: Axes of a fixed-point sweep.
SCALE_AXES = ("sigma_w", "sigma_b")
DEFAULT_CHUNK_FLOAT64 = 2500
DEFAULT_CHUNK_DPS = 8
#: Most grid points of one sweep (a larger grid is a typing mistake, or many sweeps).
MAX_POINTS = 10**8
#: Most chunks of one sweep (each is a task and, with an output, a file).
MAX_CHUNKS = 10**6
#: Bytes a sweep holds per grid point and column: the cell's text or float in Python lists,
#: with the copies made while the table is assembled and written.
_BYTES_PER_CELL = 160


def _check_size(spec: SweepSpec) -> None:
    """Refuse, before any work, a grid with more than MAX_POINTS points or whose table would
    not fit in memory."""
    if spec.points > MAX_POINTS:
        raise InvalidValueError(f"the grid has {spec.points:.3g} points, more than the limit "
                                f"{MAX_POINTS:.0e}; use fewer points per axis or split the sweep")
    chunks = -(-spec.points // spec.chunk_size)
    if chunks > MAX_CHUNKS:
        raise InvalidValueError(f"{chunks} chunks of {spec.chunk_size} points: more than "
                                f"{MAX_CHUNKS}; use a larger chunk_size")
    cells = spec.points * (len(spec.axes) + len(spec.quantities))
    check_memory(cells * _BYTES_PER_CELL, f"a sweep of {spec.points} points", None,
                 "use fewer points per axis or split the sweep")


# ------------------------------------------------------------------------------------------
# the specification (what is computed; JSON-able and hashed for resuming)
# ------------------------------------------------------------------------------------------
def _axis_values(name: str, values) -> list[str]:
    """An axis as exact decimal texts (floats by their shortest repr), finite, non-empty."""
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        values = [values]
    out = []
    for v in values:
        if isinstance(v, (float, np.floating)):
            text = repr(float(v))
        elif isinstance(v, mpmath.mpf):
            text = mpmath.nstr(v, 50)
        else:
            text = str(v).strip()
        try:
            number = float(text) if "/" not in text else float(
                int(text.split("/")[0]) / int(text.split("/")[1]))
        except (ValueError, ZeroDivisionError):
            raise InvalidValueError(f"axis {name}: {quoted(v)} is not a number") from None
        if not np.isfinite(number):
            raise InvalidValueError(f"axis {name}: {quoted(v)} is not finite")
        out.append(text)
    if not out:
        raise InvalidValueError(f"axis {name} is empty")
    return out


def _check_scale_axes(axes: Mapping[str, list[str]]) -> None:
    """sigma_w in [MIN_SCALE, MAX_SCALE], sigma_b 0 or in that range, at every point of their
    axes (checked before any chunk runs: a value out of range is a mistake, not a phase)."""
    for name, zero in (("sigma_w", False), ("sigma_b", True)):
        if name not in axes:
            continue
        values = _as_float(axes[name])
        bad = ~(((values >= MIN_SCALE) & (values <= MAX_SCALE)) | (zero & (values == 0)))
        if bad.any():
            first = axes[name][int(np.argmax(bad))]
            raise InvalidValueError(
                f"axis {name}: {quoted(first)} is out of range; {name} is "
                f"{'0 or ' if zero else ''}from {MIN_SCALE:g} to {MAX_SCALE:g}")


def _classify(activation, quantities: Sequence[str], axes: Mapping[str, list]) -> dict:
    """Which requested names are fixed-point quantities and which are laws."""
    model = mean_field(activation)
    known_laws = registered_laws()
    fixed, law_names = [], []
    for name in quantities:
        if name in FIXED_POINT_QUANTITIES and not (name in known_laws and "q" in axes):
            fixed.append(name)
        elif name in known_laws:
            law_names.append(name)
        else:
            raise UnknownNameError(
                f"unknown sweep quantity {quoted(name)}; fixed-point quantities: "
                f"{', '.join(FIXED_POINT_QUANTITIES)}; laws: {', '.join(known_laws)}")
    if fixed:
        missing = [a for a in ("sigma_w",) if a not in axes]
        if missing:
            raise InvalidValueError("fixed-point quantities need a sigma_w axis")
    for name in law_names:
        needed = [v.name for v in model.variables(name)]
        missing = [v for v in needed if v not in axes]
        if missing:
            raise InvalidValueError(f"the law {name} needs axes for {', '.join(missing)}")
    return {"fixed_point": fixed, "laws": law_names}


@dataclass(frozen=True)
class SweepSpec:
    activation: str
    quantities: tuple[str, ...]
    axes: tuple[tuple[str, tuple[str, ...]], ...]
    dps: int | None
    chunk_size: int

    @property
    def axis_names(self) -> list[str]:
        return [a for a, _v in self.axes]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for _a, v in self.axes)

    @property
    def points(self) -> int:
        return int(np.prod(self.shape)) if self.axes else 1

    @cached_property
    def chunks(self) -> list[tuple[int, int]]:
        n, size = self.points, self.chunk_size
        return [(s, min(s + size, n)) for s in range(0, n, size)]

    def as_json(self) -> dict:
        return {"activation": self.activation, "quantities": list(self.quantities),
                "axes": {a: list(v) for a, v in self.axes}, "dps": self.dps,
                "chunk_size": self.chunk_size}

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------------
# one chunk (runs on a worker)
# ------------------------------------------------------------------------------------------
def _coordinates(spec: SweepSpec, start: int, stop: int) -> dict[str, list[str]]:
    idx = np.unravel_index(np.arange(start, stop), spec.shape)
    return {a: [values[i] for i in ix] for (a, values), ix in zip(spec.axes, idx)}


def _as_float(texts: list[str]) -> np.ndarray:
    out = []
    for t in texts:
        if "/" in t:
            num, den = t.split("/", 1)
            out.append(int(num) / int(den))
        else:
            out.append(float(t))
    return np.asarray(out, dtype=float)


def compute_chunk(task: dict, coords: dict[str, list[str]]) -> dict[str, list]:
    """The columns of one chunk (a module-level task): ``task`` holds the activation, the
    quantities and dps; ``coords`` the chunk's points, one list of texts per axis. Only the
    chunk's own points travel to the worker, never the whole grid."""
    model = mean_field(task["activation"])
    quantities, dps = list(task["quantities"]), task["dps"]
    n = len(next(iter(coords.values())))
    kinds = _classify(task["activation"], quantities, coords)
    out: dict[str, list] = {}
    if dps is None:
        floats = {a: _as_float(v) for a, v in coords.items()}
        if kinds["fixed_point"]:
            sb = floats.get("sigma_b", np.zeros(n))
            result = fixed_points_float64(model, floats["sigma_w"], sb)
            for name in kinds["fixed_point"]:
                if name == "phase":
                    out[name] = [PHASE_NAMES[int(p)] for p in result["phase"]]
                else:
                    out[name] = result[name].tolist()
        for name in kinds["laws"]:
            values = {v.name: floats[v.name] for v in model.variables(name)}
            out[name] = np.broadcast_to(model.np(name, **values), (n,)).tolist()
        return out
    for name in quantities:
        out[name] = []
    for i in range(n):
        point = {a: v[i] for a, v in coords.items()}
        if kinds["fixed_point"]:
            try:
                report = fixed_point(model.activation, point["sigma_w"],
                                     point.get("sigma_b", "0"), dps, workers=1)
                texts = {k: _text(report.value(k), dps) for k in QUANTITIES}
                texts["phase"] = report.phase
            except (InvalidValueError, PrecisionError) as e:
                # no finite fixed point here, or digits that could not be verified: recorded,
                # the sweep goes on
                texts = {k: "" for k in QUANTITIES}
                texts["phase"] = "unverified" if isinstance(e, PrecisionError) else "divergent"
            for name in kinds["fixed_point"]:
                out[name].append(texts[name])
        for name in kinds["laws"]:
            law = model.law(name)
            values = {v.name: point[v.name] for v in model.variables(name)}
            try:
                out[name].append(_text(law.evaluate(dps=dps, **values), dps))
            except (InvalidValueError, PrecisionError):
                out[name].append("")
    return out


def _typed(columns: dict[str, list], spec: SweepSpec) -> dict[str, list]:
    """Columns read back from text: float64 sweeps get their numbers back as floats."""
    if spec.dps is not None:
        return columns
    return {k: (v if k == "phase" else [float(x) if x != "" else float("nan") for x in v])
            for k, v in columns.items()}


def _text(value, dps: int) -> str:
    if value is None:
        return ""
    if not mpmath.isfinite(value):
        return "inf" if value > 0 else "-inf"
    return mpmath.nstr(value, dps, strip_zeros=False)


# ------------------------------------------------------------------------------------------
# the result
# ------------------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """A finished sweep: columns (axes first, then quantities), in grid order."""

    columns: dict[str, list]
    spec: SweepSpec
    metadata: dict = field(default_factory=dict)
    path: Path | None = None

    def __getitem__(self, name: str) -> np.ndarray:
        return self.array(name)

    def _column(self, name: object) -> list:
        if not isinstance(name, str) or name not in self.columns:
            raise UnknownNameError(f"no column {quoted(name)} in this sweep; its columns are: "
                                   f"{', '.join(self.columns)}")
        return self.columns[name]

    def array(self, name: str) -> np.ndarray:
        """A column as float64 (phase and other text columns as strings)."""
        values = self._column(name)
        if name == "phase":
            return np.asarray(values, dtype=object)
        return np.asarray([np.nan if v in ("", None) else float(v) for v in values], dtype=float)

    def grid(self, name: str) -> np.ndarray:
        """A column shaped like the grid (axes in the order given)."""
        return self.array(name).reshape(self.spec.shape)

    def exact(self, name: str) -> list:
        """A high-precision column as mpmath numbers at its precision (None where empty)."""
        with mpmath.workdps((self.spec.dps or 17) + 2):
            return [None if v in ("", None) else mpmath.mpf(v) for v in self._column(name)]

    @property
    def axes(self) -> dict[str, np.ndarray]:
        return {a: _as_float(list(v)) for a, v in self.spec.axes}


# ------------------------------------------------------------------------------------------
# the driver
# ------------------------------------------------------------------------------------------
def _format(output: Path) -> str:
    if output.suffix.lower() == ".parquet":
        if not pyarrow_available():
            raise InvalidValueError("writing Parquet needs pyarrow (pip install pyarrow); "
                                    "use a .csv output instead")
        return "parquet"
    if output.suffix.lower() == ".json":
        raise InvalidValueError("the sweep output is a table (.csv or .parquet); its metadata "
                                "goes to a .json file next to it")
    return "csv"


def metadata_path(output: Path) -> Path:
    return output.with_suffix(".json")


def parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def _metadata(spec: SweepSpec, fmt: str, executor: Executor, elapsed: float) -> dict:
    model = mean_field(spec.activation)
    return {
        "activation": spec.activation,
        "activation_parameters": {str(s): str(v) for s, v in model.parameter_values.items()},
        "quantities": list(spec.quantities),
        "precision": "float64" if spec.dps is None else
        {"dps": spec.dps, "verification": "every value recomputed at a higher working "
                                          "precision; digits verified >= dps - 2"},
        "conventions": CONVENTIONS,
        "symfield_version": __version__,
        "grid": {"axes": {a: list(v) for a, v in spec.axes}, "shape": list(spec.shape),
                 "points": spec.points,
                 "order": "row-major (C order) product of the axes in the order listed"},
        "columns": spec.axis_names + list(spec.quantities),
        "format": fmt,
        "chunks": len(spec.chunks),
        "chunk_size": spec.chunk_size,
        "spec_sha256": spec.digest,
        "executor": executor.description if executor is not None else "none",
        "elapsed_seconds": round(elapsed, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _load_result(output: Path, spec: SweepSpec) -> SweepResult | None:
    meta_file = metadata_path(output)
    if not (output.exists() and meta_file.exists()):
        return None
    meta = read_json(meta_file)
    if meta.get("spec_sha256") != spec.digest:
        return None
    columns = read_table(output, meta.get("format", "csv"))
    return SweepResult({k: [("" if v is None else v) for v in vals] for k, vals in columns.items()},
                       spec, meta, output)


def _check_sweep_arguments(quantities: object, grid: object, executor: object,
                           progress: object, resume: object) -> None:
    """The types of sweep's arguments, before any of them is used."""
    names = [quantities] if isinstance(quantities, str) else quantities
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InvalidValueError(f"quantities must be a name or a list of names (such as "
                                f"q_star, chi1, xi_c), got {quoted(quantities)}")
    if grid is not None:
        if not isinstance(grid, Mapping):
            raise InvalidValueError(f"grid must map axis names to values (such as "
                                    f"{{'sigma_w': [1.5, 2.0]}}), got {quoted(grid)}")
        for name in grid:
            if not isinstance(name, str):
                raise InvalidValueError(f"grid: axis names are text (sigma_w, sigma_b, q, "
                                        f"...), got {quoted(name)}")
    if executor is not None and not isinstance(executor, Executor):
        raise InvalidValueError(f"executor must be a symfield.dynamics Executor (see "
                                f"make_executor) or None, got {quoted(executor)}")
    if progress is not None and not isinstance(progress, (bool, np.bool_)):
        raise InvalidValueError(f"progress must be True, False or None (a bar when stderr is "
                                f"a terminal), got {quoted(progress)}")
    if not isinstance(resume, (bool, np.bool_)):
        raise InvalidValueError(f"resume must be True or False, got {quoted(resume)}")


def sweep(activation, quantities: Sequence[str] = ("q_star", "chi1", "xi_c"),
          grid: Mapping[str, Any] | None = None, *, sigma_w=None, sigma_b=None,
          dps: int | None = None, output: str | Path | None = None,
          executor: Executor | None = None, scheduler: Any = None, workers: int | None = None,
          chunk_size: int | None = None, progress: bool | None = None,
          resume: bool = True) -> SweepResult:
    """Evaluate ``quantities`` over the product grid of the given axes.

    ``grid`` maps axis names (sigma_w, sigma_b, and law variables such as q or c) to 1-D
    sequences; ``sigma_w``/``sigma_b`` are shortcuts for those axes. ``dps`` = None computes in
    float64, an integer at that many verified digits. The executor is ``executor`` if given,
    else Dask at ``scheduler`` if given, else ``workers`` local processes (default: the CPU
    count). ``output`` writes the table and metadata atomically and makes the sweep resumable
    (see the module docstring); ``resume=False`` discards earlier partial results.
    """
    _check_sweep_arguments(quantities, grid, executor, progress, resume)
    if isinstance(quantities, str):
        quantities = [quantities]
    quantities = list(dict.fromkeys(quantities))
    if not quantities:
        raise InvalidValueError("no quantities to sweep")
    if dps is not None:
        check_dps(dps)
    if workers is not None:
        workers = check_workers(workers)
    axes: dict[str, list[str]] = {}
    for name, values in (grid or {}).items():
        axes[name] = _axis_values(name, values)
    for name, values in (("sigma_w", sigma_w), ("sigma_b", sigma_b)):
        if values is not None:
            if name in axes:
                raise InvalidValueError(f"axis {name} given twice")
            axes[name] = _axis_values(name, values)
    model = mean_field(activation)
    from ..activations import registered_activations

    if registered_activations().get(model.name) is not model.activation:
        # the chunks are computed elsewhere (other processes, a cluster) from the name
        raise InvalidValueError(f"sweeps take a registered activation name (got "
                                f"{model.name!r}); see symfield.registered_activations()")
    kinds = _classify(model.activation, quantities, axes)
    _check_scale_axes(axes)
    used = set(SCALE_AXES) if kinds["fixed_point"] else set()
    for name in kinds["laws"]:
        used |= {v.name for v in model.variables(name)}
    extra = sorted(set(axes) - used)
    if extra:
        raise InvalidValueError(f"axes not used by these quantities: "
                                f"{', '.join(quoted(a) for a in extra[:5])}; used axes: "
                                f"{', '.join(sorted(used))}")
    if chunk_size is None:
        chunk_size = DEFAULT_CHUNK_FLOAT64 if dps is None else DEFAULT_CHUNK_DPS
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidValueError(f"chunk_size must be a positive integer (got {quoted(chunk_size)})")
    spec = SweepSpec(model.name, tuple(quantities), tuple((a, tuple(v)) for a, v in axes.items()),
                     dps, chunk_size)
    _check_size(spec)

    out_path = check_writable_file(output, "the sweep output") if output is not None else None
    fmt = _format(out_path) if out_path is not None else "csv"
    if out_path is not None and resume:
        done = _load_result(out_path, spec)
        if done is not None:
            return done

    parts: Path | None = None
    finished: dict[int, dict[str, list]] = {}
    if out_path is not None:
        parts = parts_dir(out_path)
        manifest = parts / "manifest.json"
        if parts.exists() and not resume:
            shutil.rmtree(parts)
        if manifest.exists():
            previous = read_json(manifest)
            if previous.get("spec_sha256") != spec.digest:
                raise InvalidValueError(
                    f"{parts} holds an unfinished sweep with other settings; remove it, "
                    "pass resume=False, or choose another output")
            for i, (_s, _e) in enumerate(spec.chunks):
                chunk_file = parts / f"chunk-{i:07d}.csv"
                if chunk_file.exists():
                    finished[i] = _typed(read_table(chunk_file, "csv"), spec)
        else:
            write_json(manifest, {"spec": spec.as_json(), "spec_sha256": spec.digest,
                                  "chunks": len(spec.chunks),
                                  "note": "chunk-NNNNNNN.csv files are complete when present"})

    todo = [i for i in range(len(spec.chunks)) if i not in finished]
    own_executor = executor is None
    if executor is None:
        # no more processes than chunks to compute
        local = min(workers or available_cpus(), max(len(todo), 1))
        executor = make_executor(scheduler, local if scheduler is None else workers)
    started = time.perf_counter()
    if todo:
        executor.start()
    bar = Progress(len(spec.chunks), f"sweep {model.name}", progress)
    if finished:
        bar.update(len(finished))
    task = {"activation": spec.activation, "quantities": list(spec.quantities), "dps": spec.dps}
    try:
        tasks = [(task, _coordinates(spec, *spec.chunks[i])) for i in todo]
        for k, columns in executor.map(compute_chunk, tasks, bar):
            i = todo[k]
            finished[i] = columns
            if parts is not None:
                write_table(parts / f"chunk-{i:07d}.csv", columns, "csv")
    finally:
        bar.close()
        if own_executor:
            executor.close()
    elapsed = time.perf_counter() - started

    columns: dict[str, list] = {a: [] for a in spec.axis_names}
    columns.update({name: [] for name in quantities})
    for i, (s, e) in enumerate(spec.chunks):
        coords = _coordinates(spec, s, e)
        for a in spec.axis_names:
            columns[a].extend(coords[a])
        for name in quantities:
            columns[name].extend(finished[i][name])
    meta = _metadata(spec, fmt, executor, elapsed)
    if out_path is not None:
        table = {k: (_as_float(v).tolist() if k in spec.axis_names and spec.dps is None else v)
                 for k, v in columns.items()}
        write_table(out_path, table, fmt)
        write_json(metadata_path(out_path), meta)
        shutil.rmtree(parts, ignore_errors=True)
    return SweepResult(columns, spec, meta, out_path)


def linspace_axis(text: str) -> list[str]:
    """'start:stop:num' (inclusive, like numpy.linspace) or 'a,b,c' as axis texts."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise InvalidValueError(f"a range is START:STOP:NUM (got {quoted(text)})")
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise InvalidValueError(f"a range is START:STOP:NUM (got {quoted(text)})") from None
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise InvalidValueError(f"a range needs finite START and STOP (got {quoted(text)})")
        if not 1 <= n <= MAX_POINTS:
            raise InvalidValueError(f"a range has 1 to {MAX_POINTS:.0e} points (got NUM = "
                                    f"{n:.3g} in {quoted(text)})")
        return [repr(float(v)) for v in np.linspace(lo, hi, n)]
    return _axis_values("axis", [t for t in text.split(",") if t.strip()])


__all__ = ["FIXED_POINT_QUANTITIES", "SweepResult", "SweepSpec", "compute_chunk",
           "linspace_axis", "metadata_path", "parts_dir", "sweep"]
