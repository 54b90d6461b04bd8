"""Derived laws for the tests, derived when a test first asks (never at collection)."""
from __future__ import annotations

from functools import lru_cache

import symfield


@lru_cache(maxsize=None)
def law_of(name: str, act: str):
    """symfield.derive(name, act), once per process."""
    return symfield.derive(name, act)


def finite_law(name: str, act: str, *, closed: bool = False):
    """law_of(name, act) for a test about finite laws (closed forms only, with ``closed``):
    a divergent law, or a series or integral form when ``closed``, skips the test saying so.
    The tests parametrise over every law x activation and select here, when they run, since
    which pairs are divergent or closed is what the derivation decides (never at collection)."""
    import pytest

    law = law_of(name, act)
    if law.divergent:
        pytest.skip(f"{name}[{act}] diverges ({law.divergence})")
    if closed and law.form != "closed":
        pytest.skip(f"{name}[{act}] has no closed form (its form: {law.form})")
    return law
