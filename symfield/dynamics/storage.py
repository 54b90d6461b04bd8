"""Atomic files for sweeps: tables (CSV, or Parquet when pyarrow is installed) and JSON.

Every file is written to a temporary name in the same directory, flushed to disk and then
renamed over the target (``os.replace`` is atomic on POSIX and Windows), so an interrupted
sweep never leaves a half-written file: a file that exists is complete.
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np


def pyarrow_available() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_json(path: Path, payload: Mapping) -> None:
    _atomic_write_bytes(path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return "" if value is None else str(value)


def write_csv(path: Path, columns: Mapping[str, Sequence]) -> None:
    """A table as CSV (floats with every digit: ``repr``), atomically."""
    names = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*(columns[n] for n in names)):
        writer.writerow([_cell(v) for v in row])
    _atomic_write_bytes(path, buffer.getvalue().encode())


def read_csv(path: Path) -> dict[str, list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        names = next(reader)
        rows = list(reader)
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def write_parquet(path: Path, columns: Mapping[str, Sequence]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name, values in columns.items():
        arr = np.asarray(values)
        arrays[name] = pa.array(arr.astype(float) if arr.dtype.kind in "fiu" else
                                [None if v is None else str(v) for v in values])
    table = pa.table(arrays)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    _atomic_write_bytes(path, sink.getvalue().to_pybytes())


def read_parquet(path: Path) -> dict[str, list]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return {name: table.column(name).to_pylist() for name in table.column_names}


def write_table(path: Path, columns: Mapping[str, Sequence], fmt: str) -> None:
    if fmt == "parquet":
        write_parquet(path, columns)
    else:
        write_csv(path, columns)


def read_table(path: Path, fmt: str) -> dict[str, list]:
    return read_parquet(path) if fmt == "parquet" else read_csv(path)


__all__ = ["pyarrow_available", "read_csv", "read_json", "read_table", "write_csv",
           "write_json", "write_parquet", "write_table"]
