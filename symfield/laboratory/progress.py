"""A minimal progress bar on stderr (no dependency), for long simulations."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``[#####-----] 3/8 networks, 12.1 s`` redrawn in place; silent when disabled."""

    def __init__(self, total: int, label: str = "networks", enabled: bool = True,
                 stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self.start = time.perf_counter()

    def update(self, steps: int = 1) -> None:
        self.done = min(self.done + steps, self.total)
        if not self.enabled:
            return
        filled = self.width * self.done // self.total
        elapsed = time.perf_counter() - self.start
        remaining = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        self.stream.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] "
                          f"{self.done}/{self.total} {self.label}, {elapsed:.1f} s "
                          f"(~{remaining:.0f} s left)")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
