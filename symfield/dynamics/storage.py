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
import stat
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import InvalidValueError, quoted


def quoted_path(path: str | os.PathLike, limit: int = 160) -> str:
    """A path for a message: whole when short, else its start and its end (the file name)."""
    text = os.fspath(path) if not isinstance(path, str) else path
    text = text if isinstance(text, str) else repr(text)
    if len(text) > limit:
        text = text[:limit // 3] + "..." + text[-(limit - limit // 3 - 3):]
    return repr(text)


def check_writable_file(path: str | os.PathLike, what: str = "the output") -> Path:
    """``path`` as a file this process can create or replace, checked before any work starts:
    not a directory or a device, in an existing directory where a file can be created (tried
    for real: permission bits do not tell, e.g. for root or in /proc). Raises
    InvalidValueError "cannot write <what> <path>: <reason>"."""
    try:
        text = os.fspath(path)
    except TypeError:
        raise InvalidValueError(f"{what} must be a file name, got {quoted(path)}") from None
    if not str(text).strip():
        raise InvalidValueError(f"cannot write {what}: the file name is empty")
    if "\0" in str(text):  # the OS refuses it with a ValueError, not an OSError
        raise InvalidValueError(f"cannot write {what}: the file name contains a NUL character")
    try:
        os.fsencode(text)
    except UnicodeError:
        raise InvalidValueError(f"cannot write {what}: the file name is not valid Unicode "
                                f"(a lone surrogate)") from None
    path = Path(text)
    head = f"cannot write {what} {quoted_path(path)}"
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise InvalidValueError(f"{head}: {e.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InvalidValueError(f"{head}: it is a directory; give a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InvalidValueError(f"{head}: it exists and is not a regular file (a pipe or a "
                                f"device); give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise InvalidValueError(f"{head}: the directory {quoted_path(parent)} does not exist")
    try:
        fd, probe = tempfile.mkstemp(prefix=".symfield-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InvalidValueError(f"{head}: cannot create files in {quoted_path(parent)} "
                                f"({e.strerror})") from None
    if info is not None and not os.access(path, os.W_OK):
        raise InvalidValueError(f"{head}: the file is not writable (permission denied)")
    return path


def check_writable_directory(path: str | os.PathLike,
                             what: str = "the output directory") -> Path:
    """``path`` as a directory where files can be created, made if it does not exist yet;
    checked for real (a probe file) before any work starts."""
    try:
        path = Path(os.fspath(path))
    except TypeError:
        raise InvalidValueError(f"{what} must be a path, got {quoted(path)}") from None
    head = f"cannot write in {what} {quoted_path(path)}"
    if path.exists() and not path.is_dir():
        raise InvalidValueError(f"{head}: it exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".symfield-probe-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise InvalidValueError(f"{head}: {e.strerror}") from None
    return path


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


__all__ = ["check_writable_directory", "check_writable_file", "pyarrow_available", "quoted_path",
           "read_csv", "read_json", "read_table", "write_csv", "write_json", "write_parquet",
           "write_table"]
