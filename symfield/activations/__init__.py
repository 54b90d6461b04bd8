"""The activation registry: one entry (or one family member) per activation.

Nothing here states a closed form: the Gaussian calculus derives every law from ``phi``.
"""
from __future__ import annotations

from ..errors import InvalidValueError, UnknownNameError, quoted
from . import piecewise_linear, smooth
from .base import Activation, x

_REGISTRY: dict[str, Activation] = {}


def register(activation: Activation) -> Activation:
    """Add an activation to the registry (its name must be new)."""
    if not isinstance(activation, Activation):
        raise InvalidValueError(f"register takes an Activation (got {quoted(activation)})")
    if activation.name in _REGISTRY:
        raise InvalidValueError(f"activation {quoted(activation.name)} is already registered")
    _REGISTRY[activation.name] = activation
    return activation


for _module in (smooth, piecewise_linear):
    for _entry in _module.ENTRIES:
        register(_entry)


def activations() -> dict[str, Activation]:
    """Every registered activation, by name."""
    return dict(_REGISTRY)


def get_activation(activation: str | Activation) -> Activation:
    """Look up an activation by name (or pass an ``Activation`` through)."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        found = _REGISTRY.get(activation.strip().lower().replace("-", "_"))
        if found is not None:
            return found
    raise UnknownNameError(
        f"unknown activation {quoted(activation)}; valid activations: {', '.join(_REGISTRY)}"
    )


__all__ = ["Activation", "activations", "get_activation", "register", "x"]

from .._callable_module import make_callable  # noqa: E402

make_callable(__name__, "activations")
