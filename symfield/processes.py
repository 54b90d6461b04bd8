"""Worker processes: how many symfield may start, and bound to their parent's life.

Every process or thread pool in symfield (sweeps, fixed-point side-by-side evaluation, the
derivation documents, sampled weights) is sized by :func:`check_workers` (1 to the CPUs this
process may use) and every worker process runs :func:`die_with_parent` first, so that killing
symfield, even with SIGKILL, never leaves workers behind.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time

import numpy as np

from .errors import InvalidValueError, quoted


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one): the bound of
    every thread or process pool in symfield."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity masks on this OS
        return os.cpu_count() or 1


def check_workers(workers: object, name: str = "workers") -> int:
    """A number of worker processes: an int from 1 to the CPUs this process may use
    (``os.sched_getaffinity`` where available). ``None`` means all of them."""
    cpus = available_cpus()
    if workers is None:
        return cpus
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)):
        raise InvalidValueError(f"{name} must be a whole number from 1 to {cpus} (the CPUs "
                                f"available), got {quoted(workers)}")
    if not 1 <= workers <= cpus:
        raise InvalidValueError(f"{name} must be from 1 to {cpus} (the CPUs available to this "
                                f"process), got {int(workers)}")
    return int(workers)


#: prctl option that delivers a signal to this process when its parent thread ends.
_PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent, where the parent cannot be waited on directly.
_PARENT_POLL_SECONDS = 0.5


def _set_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; False where not available.

    The kernel ties the signal to the *thread* that forked this process: symfield starts
    pools from a thread that outlives them (the caller of start()/map(), or a forkserver)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(interval: float = _PARENT_POLL_SECONDS) -> threading.Thread:
    """A daemon thread that ends this process when its parent ends: it waits on the
    multiprocessing parent sentinel when there is one (readable once the parent is gone),
    and also polls ``os.getppid()``, which changes when the process is re-parented."""
    original = os.getppid()
    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None) if parent is not None else None

    def watch() -> None:
        while True:
            if sentinel is not None:
                if multiprocessing.connection.wait([sentinel], timeout=interval):
                    os._exit(1)
            else:
                time.sleep(interval)
            if os.getppid() != original:
                os._exit(1)

    thread = threading.Thread(target=watch, name="symfield-parent-watch", daemon=True)
    thread.start()
    return thread


def _parent_gone() -> bool:
    parent = multiprocessing.parent_process()
    return parent is not None and not parent.is_alive()


def die_with_parent(use_prctl: bool = True) -> None:
    """Initializer of every worker process symfield starts: the worker ends when the process
    that started it does, even when that one is killed with SIGKILL (no cleanup code runs).

    On Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` kills a forked worker at once, whatever it
    is doing; a daemon thread watching the starting process covers the rest: other systems,
    and workers of a fork server, whose OS parent is the server (which itself lives as long
    as its workers do, so the kernel's signal alone would never come)."""
    if use_prctl and _set_parent_death_signal() and _parent_gone():
        os._exit(1)  # the parent died between the fork and the prctl call
    _watch_parent()


__all__ = ["available_cpus", "check_workers", "die_with_parent"]
