"""Size and time limits of the parser, and a SIGALRM deadline that nests.

The limits exist because user text is hostile until proven otherwise: every bound below stops a
class of denial-of-service input (huge powers, deep nesting, long literals) *before* SymPy or
ANTLR spends time on it.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Iterator

#: Whole claim (all lines of a chain together).
MAX_TEXT_CHARS = 5000
#: One LaTeX expression: SymPy's ANTLR parser costs up to ~4 ms per character.
MAX_LATEX_CHARS = 2000
#: Brackets ((, [, {) open at the same time.
MAX_BRACKET_DEPTH = 40
#: Nodes of the syntax tree (Python AST for plain text, SymPy tree for LaTeX).
MAX_NODES = 2000
#: Nesting of operators and calls in the syntax tree (chains of + or * do not nest).
MAX_TREE_DEPTH = 60
#: Digits in one number literal.
MAX_LITERAL_DIGITS = 100
#: Largest |exponent| of a power with a numeric exponent (also bounds the denominator).
MAX_EXPONENT = 1000
#: Largest exact rational produced while building (numerator or denominator bits, ~300
#: digits): SymPy factorises integers under roots, ~0.2 s at 1000 digits, ~2 s at 2400.
MAX_NUMBER_BITS = 1024
#: Wall-clock budget of one LaTeX parse through ANTLR (main thread only).
LATEX_SECONDS = 3.0


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[bool]:
    """Raise ``TimeoutError`` in the block after ``seconds`` of wall-clock time.

    Yields True when the limit is armed. SIGALRM only works in the main thread; elsewhere the
    block runs without a limit and the context yields False, so callers can skip work they
    cannot bound. An enclosing deadline keeps running: its remaining time is restored (and
    fires immediately if it expired meanwhile).
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield False
        return
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()

    def on_alarm(signum, frame):
        raise TimeoutError(f"time limit of {seconds:g} s exceeded")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    limit = seconds if not outer_remaining else min(seconds, outer_remaining)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
