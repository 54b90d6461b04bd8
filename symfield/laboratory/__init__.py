"""The sampled-network laboratory: the derived laws against finite random networks.

- :mod:`symfield.laboratory.networks` - finite random networks in numpy (passes, exact
  forward-mode derivatives, geometry measurements, independent replicas, explicit seeds): the
  independent witness, which never imports the Gaussian calculus or the laws;
- the cross-checks, which may import both the laws and ``networks``:
  :func:`check_law` - one law against R independent sampled networks, with a z-test, by the
  plan kind its definition names (``LawDefinition.sampled_check``; the kinds: :mod:`.plans`);
  :func:`check_width_scaling` - a power law in the width (the domino off-diagonal ~ n^-1/2);
  :func:`simulate` - the per-layer table behind ``symfield simulate``.

The cross-checks load on first use, so that importing ``symfield.laboratory.networks`` (which
imports this package first) loads nothing symbolic.
"""
from __future__ import annotations

import importlib

#: Public name -> the module of this package that defines it.
_EXPORTS = {
    "DEFAULT_REPLICAS": "checks", "DEFAULT_Z": "checks", "check_law": "checks",
    "supported_laws": "checks", "sampling_refusal": "checks", "PLAN_KINDS": "plans",
    "PlanKind": "plans",
    "Predictor": "predictions", "LawCheck": "report", "Row": "report",
    "ScalingCheck": "report", "check_width_scaling": "scaling", "Quantity": "table",
    "SimulationTable": "table", "simulate": "table",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
