"""Derived laws for the tests, derived when a test first asks (never at collection)."""
from __future__ import annotations

from functools import lru_cache

import symfield


@lru_cache(maxsize=None)
def law_of(name: str, act: str):
    """symfield.derive(name, act), once per process."""
    return symfield.derive(name, act)
