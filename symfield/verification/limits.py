"""How much work a claim may cause, and how the rest is bounded in any thread.

User text is hostile until proven otherwise. Every size bound below stops a class of
denial-of-service input (huge powers, deep nesting, long literals, high-degree moments)
*before* SymPy, ANTLR or the Gaussian calculus spends time on it, so that what is accepted
is bounded by its size, on any machine and in any thread, not by a clock.

What size cannot predict — SymPy's ``simplify`` and the calculus on some small integrands
(E[erf(u)^8] takes ~17 s) — runs in a forked child that is killed when its CPU time is up
(:func:`run_in_child`), which works in every thread and does not depend on the load. Numbers
too extreme to compute at a point are refused before computing (``numeric.check_magnitudes``).
The comparison as a whole also carries a cooperative :class:`Budget`, checked between points
and steps; in the main thread a SIGALRM :func:`deadline` additionally interrupts a single
long evaluation.
"""
from __future__ import annotations

import contextlib
import math
import os
import pickle
import select
import signal
import threading
import time
from typing import Callable, Iterator, TypeVar

import mpmath

# -- parsing ----------------------------------------------------------------------------------
#: Whole claim (all lines of a chain together).
MAX_TEXT_CHARS = 5000
#: One LaTeX expression after the pre-pass.
MAX_LATEX_CHARS = 2000
#: Tokens ANTLR may read for one formula (an expectation's integrand counts on its own) and
#: for a whole claim. SymPy's ANTLR parser costs ~2.5 ms of CPU per token (2-core machine,
#: 2026): 400 tokens is ~1 s, a whole claim ~4 s.
MAX_LATEX_TOKENS = 400
MAX_CLAIM_LATEX_TOKENS = 1600
#: Brackets ((, [, {) open at the same time.
MAX_BRACKET_DEPTH = 40
#: Nodes of the syntax tree (Python AST for plain text, SymPy tree for LaTeX).
MAX_NODES = 2000
#: Nesting of operators and calls in the syntax tree (chains of + or * do not nest).
MAX_TREE_DEPTH = 60
#: Digits in one number literal.
MAX_LITERAL_DIGITS = 100
#: Largest |exponent| of a power with a numeric exponent, also after SymPy combines nested
#: powers ((q^1000)^1000 is q^1000000); also bounds the exponent's denominator.
MAX_EXPONENT = 1000
#: Largest exact rational produced while building (numerator or denominator bits, ~300
#: digits): SymPy factorises integers under roots, ~0.2 s at 1000 digits, ~2 s at 2400.
MAX_NUMBER_BITS = 1024

# -- checking ---------------------------------------------------------------------------------
#: Largest polynomial degree of an expectation's integrand in its integration variables
#: (powers of functions of them count too: erf(u)^50 has degree 50). Moments up to this
#: degree take the calculus well under a second; E[u1^1000 u2^1000] took over 10 minutes.
MAX_INTEGRAND_DEGREE = 40
#: Largest number of terms an integrand has once multiplied out ((1 + u + u^2)^16: 153).
MAX_EXPANDED_TERMS = 200
#: Expectations in one claim (each may need a quadrature at every point).
MAX_EXPECTATIONS = 12
#: Largest precision and number of points a caller may ask for.
MAX_DPS = 300
MAX_POINTS = 100
#: CPU-time allowance of the calculus for one expectation (a forked child, killed after it):
#: a closed form is only a shortcut, the quadrature decides without it.
ENGINE_SECONDS = 10.0
#: Wall-clock allowance of one whole ``verify`` call (cooperative: checked between points and
#: steps; each step in between is bounded by the sizes above).
VERIFY_SECONDS = 300.0

T = TypeVar("T")


class OutOfTime(Exception):
    """A :class:`Budget` ran out; the message says what was being done."""


class Budget:
    """A wall-clock allowance that the work checks at safe points (any thread).

    Unlike an alarm, nothing is interrupted: the work calls :meth:`check` between bounded
    steps (points of a comparison, steps of a chain), so each step's size bound plus this
    budget bound the whole.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._end = None if seconds is None else time.monotonic() + max(seconds, 0.0)

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None for no limit."""
        return None if self._end is None else max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def check(self, doing: str) -> None:
        """Raise :class:`OutOfTime` if the allowance is spent."""
        if self.expired():
            raise OutOfTime(f"{doing} took longer than {self.seconds:g} s")


@contextlib.contextmanager
def deadline(seconds: float | None) -> Iterator[bool]:
    """Raise ``TimeoutError`` in the block after ``seconds`` of wall-clock time.

    Yields True when the limit is armed. SIGALRM only works in the main thread; elsewhere the
    block runs without an interrupt and the context yields False (callers then rely on size
    bounds and a :class:`Budget`). An enclosing deadline keeps running: its remaining time is
    restored (and fires immediately if it expired meanwhile).
    """
    if seconds is None or threading.current_thread() is not threading.main_thread() \
            or seconds <= 0:
        yield False
        return
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()

    def on_alarm(signum, frame):
        raise TimeoutError(f"time limit of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    limit = seconds if not outer_remaining else min(seconds, outer_remaining)
    # the alarm may fire inside an mpmath workdps's entry or exit, which would leave the
    # inner precision as mpmath's global one: restore it
    precision = mpmath.mp.prec
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        mpmath.mp.prec = precision
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


# -- a child process with a hard kill ---------------------------------------------------------

class ChildFailed(RuntimeError):
    """The function raised in the child (message: its type and text) or the child died."""


class OutOfCPU(TimeoutError):
    """The child used up its CPU allowance (the same on any machine load)."""


_PR_SET_PDEATHSIG = 1
#: Exit status of a child that ran out of CPU time.
_OUT_OF_CPU = 75
#: A child that uses no CPU (a lock inherited in the locked state) is killed after this many
#: wall-clock seconds per CPU second allowed, at least _WALL_MINIMUM.
_WALL_PER_CPU = 10.0
_WALL_MINIMUM = 60.0


def can_fork() -> bool:
    """Whether :func:`run_in_child` really isolates the work (POSIX fork available)."""
    return hasattr(os, "fork")


def run_in_child(function: Callable[..., T], *args: object, cpu_seconds: float,
                 wall_seconds: float | None = None) -> T:
    """``function(*args)`` computed in a forked child, killed after ``cpu_seconds`` of CPU.

    CPU time, not wall-clock time, so that what is computed does not depend on how busy the
    machine is (the kernel enforces it: RLIMIT_CPU). A child that stops using CPU (a lock
    inherited from another thread at the fork) is killed after ``wall_seconds`` (default:
    ten times the CPU allowance, at least a minute). Works in any thread: the caller waits
    on a pipe; the child also dies with its parent. The result comes back pickled, so it
    must be picklable; it is our own child's output, never user text. Raises
    ``TimeoutError`` when time is up and :class:`ChildFailed` when the function raised (its
    type and message are kept) or the child died. Without ``fork`` (Windows) the function
    runs here under a wall-clock :func:`deadline`, which only interrupts in the main thread.
    """
    if wall_seconds is None:
        wall_seconds = max(_WALL_MINIMUM, _WALL_PER_CPU * cpu_seconds)
    if not can_fork():
        with deadline(min(cpu_seconds * _WALL_PER_CPU, wall_seconds)):
            return function(*args)
    parent = os.getpid()
    prctl = _prctl()  # looked up here: the child should not import anything
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, report, and leave without running any cleanup
        status = 1
        try:
            os.close(read_end)
            _confine(parent, prctl, cpu_seconds)
            try:
                payload = (True, function(*args))
                data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                message = " ".join(str(exc).split())[:300]
                data = pickle.dumps((False, f"{type(exc).__name__}: {message}"))
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        data = _read_until_eof(read_end, time.monotonic() + max(wall_seconds, 0.0))
    finally:
        os.close(read_end)
        status = _reap(pid)
    if status is not None and (os.WIFSIGNALED(status) and os.WTERMSIG(status) in
                               (signal.SIGKILL, signal.SIGXCPU)
                               or os.WIFEXITED(status) and os.WEXITSTATUS(status) == _OUT_OF_CPU):
        raise OutOfCPU(f"the worker process used more than {cpu_seconds:g} s of CPU time")
    if not data:
        raise ChildFailed("the worker process died without an answer")
    ok, value = pickle.loads(data)  # our own child's bytes, never user text
    if not ok:
        raise ChildFailed(value)
    return value


def _confine(parent: int, prctl, cpu_seconds: float) -> None:
    """In the child: die with the parent, stop after the CPU allowance, dump no core."""
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    try:
        import resource

        soft = max(1, math.ceil(cpu_seconds))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        signal.signal(signal.SIGXCPU, lambda signum, frame: os._exit(_OUT_OF_CPU))
    except (ImportError, ValueError, OSError):  # no resource limits: the wall clock decides
        pass


def _read_until_eof(fd: int, end: float) -> bytes:
    chunks = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the worker process ran out of time")
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int) -> int | None:
    """Kill the child if it is still running and collect it (no zombie left); its status."""
    try:
        for _ in range(50):  # it closed the pipe: it is exiting
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            time.sleep(0.001)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    return None


_PRCTL: list = []


def _prctl():
    """libc's prctl, or None (not Linux); looked up once."""
    if not _PRCTL:
        try:
            import ctypes

            _PRCTL.append(ctypes.CDLL(None, use_errno=True).prctl)
        except (OSError, AttributeError):
            _PRCTL.append(None)
    return _PRCTL[0]


