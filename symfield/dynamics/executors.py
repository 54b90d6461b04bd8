"""One executor interface for sweeps: local processes, or a Dask distributed cluster.

``make_executor(scheduler=None, workers=None)`` returns

* :class:`LocalExecutor`: the calling process (``workers=1``) or a
  ``concurrent.futures.ProcessPoolExecutor`` (``workers > 1``, default: the CPU count);
* :class:`DaskExecutor`: a ``distributed.Client`` connected to ``scheduler`` (an address such
  as ``tcp://host:8786``), or wrapping a client or ``LocalCluster`` given directly.

Both run ``fn(*task)`` for each task and yield ``(index, result)`` as results arrive, with a
progress bar on stderr (tqdm when installed, else a one-line counter). Task functions must
be importable module-level functions (they are pickled by reference); the driver does all
file I/O, so cluster workers need symfield installed but no shared file system.

``evaluate_side_by_side`` runs a fixed-point report's independent high-precision law
evaluations in a few forked processes (used by ``fixed_point(workers=...)``).

Every pool is bounded by the CPUs this process may use (:func:`check_workers`), and its
workers end with the process that started them (:func:`die_with_parent`, their initializer):
a killed sweep leaves no process behind.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import re
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterator, Sequence

from ..errors import InvalidValueError, quoted
from ..processes import check_workers, die_with_parent


# ------------------------------------------------------------------------------------------
# progress
# ------------------------------------------------------------------------------------------
class Progress:
    """A progress bar on stderr: tqdm if installed, otherwise a counter rewritten in place."""

    def __init__(self, total: int, label: str, enabled: bool | None = None):
        self.total, self.label, self.done = total, label, 0
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)
        self._bar = None
        self._start = time.perf_counter()
        if self.enabled:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr,
                                 leave=True)
            except ImportError:
                self._draw()

    def _draw(self) -> None:
        elapsed = time.perf_counter() - self._start
        sys.stderr.write(f"\r{self.label}: {self.done}/{self.total} chunks, {elapsed:.1f} s")
        if self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._draw()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ------------------------------------------------------------------------------------------
# executors
# ------------------------------------------------------------------------------------------
def check_map_arguments(fn: object, tasks: object, progress: object) -> None:
    """The arguments of :meth:`Executor.map`: a callable, a list or tuple of argument
    tuples, and a progress bar or None (checked before any task runs)."""
    if not callable(fn):
        raise InvalidValueError(f"fn must be a callable (a module-level function), "
                                f"got {quoted(fn)}")
    if not isinstance(tasks, (list, tuple)):
        raise InvalidValueError(f"tasks must be a list of argument tuples, got {quoted(tasks)}")
    for i, task in enumerate(tasks):
        if not isinstance(task, tuple):
            raise InvalidValueError(f"tasks[{i}] must be a tuple of arguments for fn, "
                                    f"got {quoted(task)}")
    if progress is not None and not isinstance(progress, Progress):
        raise InvalidValueError(f"progress must be a Progress or None, got {quoted(progress)}")


class Executor:
    """Run ``fn(*task)`` for many tasks; yield ``(index, result)`` in completion order."""

    description = "executor"
    workers = 1

    def start(self) -> None:
        """Start the workers (before anything else starts threads: see LocalExecutor)."""

    def map(self, fn: Callable, tasks: Sequence[tuple], progress: Progress | None = None
            ) -> Iterator[tuple[int, Any]]:
        check_map_arguments(fn, tasks, progress)
        raise NotImplementedError(f"{type(self).__name__} does not run tasks: use "
                                  "LocalExecutor or DaskExecutor (see make_executor)")

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _fork_is_safe() -> bool:
    """Forking copies only the calling thread: safe while no other thread may hold a lock."""
    return ("fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


class LocalExecutor(Executor):
    """This process (``workers=1``) or a pool of local processes."""

    def __init__(self, workers: int | None = None):
        workers = check_workers(workers)
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        # fork starts workers in milliseconds with symfield's caches already built; it is
        # chosen while this thread is the only one (decided now, before progress bars or pool
        # threads exist); otherwise forkserver/spawn start clean interpreters
        methods = multiprocessing.get_all_start_methods()
        self.start_method = "fork" if _fork_is_safe() else (
            "forkserver" if "forkserver" in methods else "spawn")
        self.description = f"local, {workers} process{'es' if workers > 1 else ''}"

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=die_with_parent)
        return self._pool

    def start(self) -> None:
        # A forking pool starts all its workers at the first submission: do it now, while
        # this is still the only thread (a progress bar may start a monitor thread).
        if self.workers > 1:
            self._get_pool().submit(int).result()

    def map(self, fn, tasks, progress=None):
        check_map_arguments(fn, tasks, progress)
        if self.workers == 1:
            for i, task in enumerate(tasks):
                result = fn(*task)
                if progress is not None:
                    progress.update()
                yield i, result
            return
        pool = self._get_pool()
        pending = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    result = fut.result()
                    if progress is not None:
                        progress.update()
                    yield i, result
        finally:
            for fut in pending:
                fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


#: A Dask scheduler address: protocol://host:port (host a name, IPv4 or [IPv6] address).
_SCHEDULER_ADDRESS = re.compile(
    r"(tcp|tls|ucx|ws|wss)://([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):\d{1,5}")
#: An in-process scheduler (a LocalCluster with processes=False): inproc://host/pid/n.
_INPROC_ADDRESS = re.compile(r"inproc://[A-Za-z0-9.-]{1,253}/\d{1,10}/\d{1,10}")


def check_scheduler_address(text: str) -> str:
    """A scheduler address such as tcp://host:8786, checked before any connection attempt
    (a malformed one can leave Dask's connection machinery hanging)."""
    address = text.strip()
    if _INPROC_ADDRESS.fullmatch(address):
        return address
    if not _SCHEDULER_ADDRESS.fullmatch(address) or int(address.rsplit(":", 1)[1]) > 65535:
        raise InvalidValueError(f"the scheduler address must look like tcp://host:8786 "
                                f"(protocol tcp, tls, ucx, ws or wss; inproc://host/pid/n "
                                f"for an in-process cluster), got {quoted(text)}")
    return address


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster (``pip install 'symfield[dask]'``)."""

    def __init__(self, scheduler: Any):
        try:
            import distributed
        except ImportError:
            raise InvalidValueError("the Dask executor needs dask[distributed]: "
                                    "pip install 'symfield[dask]'") from None
        self._own = False
        if isinstance(scheduler, distributed.Client):
            self.client = scheduler
        elif isinstance(scheduler, str):
            address = check_scheduler_address(scheduler)
            try:
                self.client = distributed.Client(address, timeout="20s")
            except Exception as e:  # noqa: BLE001 - Dask raises assorted types, even AssertionError
                raise InvalidValueError(f"cannot connect to the Dask scheduler at "
                                        f"{quoted(address)}: {type(e).__name__}") from None
            self._own = True
        else:  # a cluster object (LocalCluster, ...)
            from distributed.deploy.cluster import Cluster

            if not isinstance(scheduler, Cluster):
                raise InvalidValueError(f"the scheduler must be an address such as "
                                        f"tcp://host:8786, a distributed.Client or a Dask "
                                        f"cluster, got {quoted(scheduler)}")
            self.client = distributed.Client(scheduler)
            self._own = True
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self.description = f"dask {self.client.scheduler.address} ({self.workers} threads)"

    def map(self, fn, tasks, progress=None):
        check_map_arguments(fn, tasks, progress)
        from distributed import as_completed

        futures = self.client.map(fn, *zip(*tasks), pure=False) if tasks else []
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut, result in as_completed(futures, with_results=True):
                if progress is not None:
                    progress.update()
                yield index[fut.key], result
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()

    def close(self) -> None:
        if self._own:
            self.client.close()


def make_executor(scheduler: Any = None, workers: int | None = None) -> Executor:
    """A Dask executor when ``scheduler`` is given (address, Client or cluster), otherwise a
    local one with ``workers`` processes (1 to the CPUs available; default: all of them)."""
    if scheduler is not None:
        if workers is not None:
            check_workers(workers)  # a mistake even when the cluster decides
        return DaskExecutor(scheduler)
    return LocalExecutor(workers)


# ------------------------------------------------------------------------------------------
# side by side evaluation of one report's integrals
# ------------------------------------------------------------------------------------------
_SIDE_MODELS: dict[str, Any] = {}


def _side_task(key: str, task: tuple):
    return _SIDE_MODELS[key].evaluate_task(task)


def evaluate_side_by_side(model, tasks: list, workers: int) -> list:
    """Values of law-evaluation tasks, in ``workers`` forked processes when that is safe
    (the forked children inherit the compiled laws), else in this process. The most expensive
    tasks (highest precision, two-dimensional integrals) are started first."""
    workers = min(check_workers(workers), len(tasks))
    if workers <= 1 or not _fork_is_safe() or multiprocessing.current_process().daemon:
        return [model.evaluate_task(t) for t in tasks]
    key = f"{model.name}-{id(model)}"
    _SIDE_MODELS[key] = model
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i][1] * (
        4 if tasks[i][0] in ("kernel", "derivative_kernel", "kernel_rho2") else 1))
    out: list = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                             initializer=die_with_parent) as pool:
        futures = {pool.submit(_side_task, key, tasks[i]): i for i in order}
        for fut, i in futures.items():
            out[i] = fut.result()
    return out


__all__ = ["DaskExecutor", "Executor", "LocalExecutor", "Progress", "evaluate_side_by_side",
           "make_executor"]
