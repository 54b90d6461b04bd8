"""Shared test configuration: Hypothesis profiles (engineering notes section 4).

Profiles
--------
``dev``      quick local runs (the default outside CI);
``ci``       reproducible: derandomized, no example database, failing blob printed;
``nightly``  many examples, for scheduled runs.

``HYPOTHESIS_PROFILE`` selects a profile explicitly; otherwise ``ci`` is used when the ``CI``
environment variable is set (any non-empty value), else ``dev``.

Two tiers
---------
The default run (CI's) checks every activation and law cheaply. ``SYMFIELD_FULL=1`` adds the
expensive tier: tests marked ``slow`` (skipped otherwise), and the larger sample sizes that
tests choose with ``support.oracles.FULL``.
"""
from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, Phase, settings

# The shared references and helpers (tests/support/) import as ``support`` whatever pytest's
# import mode.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# too_slow is suppressed in every profile: some strategies solve for the edge of chaos while
# drawing (test_properties_domino), which the health check reads as slow input generation
settings.register_profile("dev", max_examples=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
    # the whole suite runs in CI's time budget on 2 cores: 10 drawn examples per property
    # (most draw 30-digit references); the expensive tier draws 30
    max_examples=30 if os.environ.get("SYMFIELD_FULL") else 10,
    # No shrinking in CI: the references are 30-digit quadratures, and shrinking a failure
    # re-runs them hundreds of times; the failing example is printed as drawn.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.register_profile(
    "nightly",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_profile)


def pytest_collection_modifyitems(config, items):
    """Skip the expensive tier (``slow``) unless SYMFIELD_FULL is set."""
    if os.environ.get("SYMFIELD_FULL"):
        return
    skip = pytest.mark.skip(reason="slow (minutes of CPU): SYMFIELD_FULL=1 runs it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _mpmath_precision_per_test():
    """Every test starts at mpmath's default precision (it is one global: a test that leaves
    it raised would make another's reference computed outside workdps more precise than
    written, or, after an interrupt, less)."""
    import mpmath

    mpmath.mp.prec = 53
    yield
    mpmath.mp.prec = 53


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session):
    """Nothing is derived while tests are collected (issue 10): every xdist worker collects the
    whole suite, so a derivation there is paid once per worker before any test runs, and the
    ids a derivation decides would change with the engine. Tests derive when they run
    (support.laws.law_of); a parametrisation that needs a derived property parametrises over
    all pairs and skips inside."""
    from symfield.laws import calculus

    derive = calculus._derive

    def refuse(spec, act):
        raise RuntimeError(f"derive({spec.name!r}, {act.name!r}) while collecting tests: "
                           "derive inside the test (support.laws.law_of), not at import")

    calculus._derive = refuse
    try:
        yield
    finally:
        calculus._derive = derive
