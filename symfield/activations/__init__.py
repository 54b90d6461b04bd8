"""The activation registry: named activations (formulas plus metadata) and formulas typed by
users.

    symfield.registered_activations()                       # every named activation, by name
    symfield.activation("gelu")                  # a named one
    symfield.activation("leaky_relu", alpha=0.2) # with a parameter fixed
    symfield.activation("relu_power", k=3)       # a family member
    symfield.activation("x*Phi(x)")              # any formula in x
    symfield.activation("a*erf(b*x) + c", a=2)   # free names are parameters

Nothing here states a closed form: the Gaussian calculus derives every law from ``phi``. The
named entries are parsed on first use (the parser lives in ``symfield.verify``, which is
loaded after this package).
"""
from __future__ import annotations

import threading
from functools import lru_cache

from ..errors import InvalidValueError, UnknownNameError, quoted
from ..registry import Registry, normalise_name
from .base import Activation, x
from .formula import parameter_name, parse_formula

_REGISTRY: Registry[Activation] = Registry("activation", lambda a: a.name)
_LOCK = threading.RLock()
_LOADED = False


def _registry() -> Registry[Activation]:
    """The registry, with the named entries parsed in on first use."""
    global _LOADED
    if not _LOADED:
        with _LOCK:
            if not _LOADED:
                from .catalogue import ENTRIES

                for entry in ENTRIES:
                    _REGISTRY.register(entry.build(), *entry.aliases)
                _LOADED = True
    return _REGISTRY


def register(activation: Activation, *aliases: str) -> Activation:
    """Add an activation to the registry (its name and aliases must be new)."""
    if not isinstance(activation, Activation):
        raise InvalidValueError(f"register takes an Activation (got {quoted(activation)})")
    try:
        return _registry().register(activation, *aliases)
    except ValueError:
        raise InvalidValueError(f"activation {quoted(activation.name)} is already registered") from None


def registered_activations() -> dict[str, Activation]:
    """Every registered activation, by name."""
    return _registry().as_dict()


def get_activation(activation: str | Activation) -> Activation:
    """An activation by name, or from a formula in x (an ``Activation`` passes through):
    what every API function and CLI command taking an activation looks it up with."""
    if isinstance(activation, Activation):
        return activation
    if not isinstance(activation, str):
        raise UnknownNameError(
            f"unknown activation {quoted(activation)}; valid activations: "
            f"{', '.join(_registry().names())} (or a formula in x, e.g. 'x*Phi(x)')")
    return globals()["activation"](activation)


def activation(spec: str | Activation, **parameters: object) -> Activation:
    """A named activation, a family member, or a formula in x, with parameters fixed.

    ``spec`` is a registered name ('gelu', 'leaky_relu', 'swish'), an ``Activation``, or a
    formula ('x*Phi(x)', 'a*erf(b*x) + c'). Keyword arguments fix parameters: symbolic ones
    (alpha, a, b, or a formula's free names) are substituted; structural ones (k,
    coefficients) make the family member. Bad input is a one-line error saying what is
    valid."""
    if isinstance(spec, Activation):
        return spec.with_parameters(**parameters) if parameters else spec
    if not isinstance(spec, str):
        raise InvalidValueError(f"an activation is a name or a formula in x (got {quoted(spec)})")
    found = _registry().find(spec)
    if found is not None:
        return found.with_parameters(**parameters) if parameters else found
    if normalise_name(spec).isidentifier() and spec.strip() != "x":
        raise UnknownNameError(
            f"unknown activation {quoted(spec)}; valid activations: "
            f"{', '.join(_registry().names())}; or a formula in x, e.g. 'x*Phi(x)'")
    base = formula_activation(spec.strip())
    if not parameters:
        return base
    renamed = {}
    for name, value in parameters.items():
        key = name if name in base.parameters else parameter_name(name)
        if key not in base.parameters:
            valid = ", ".join(base.parameters) or "none"
            raise InvalidValueError(f"the formula {quoted(spec)} has no parameter "
                                    f"{quoted(name)}; its parameters: {valid}")
        renamed[key] = value
    return base.with_parameters(**renamed)


@lru_cache(maxsize=256)
def formula_activation(text: str) -> Activation:
    """The activation of a formula in x (cached: the same text is the same object, so its
    derivations are shared). Free names are parameters defaulting to 1."""
    phi, symbols = parse_formula(text)
    return Activation(name=text, phi=phi, description=f"formula phi(x) = {text}",
                      parameters={name: (symbol, 1) for name, symbol in symbols.items()},
                      formula=text)


__all__ = ["Activation", "activation", "formula_activation", "get_activation", "register",
           "registered_activations", "x"]
