"""The law registry: every law definition, by name."""
from __future__ import annotations

from ..errors import InvalidValueError, quoted
from ..registry import Registry
from .base import LawDefinition

LAWS: Registry[LawDefinition] = Registry("law", lambda law: law.name)


def register(law: LawDefinition) -> LawDefinition:
    """Add a law definition to the registry (its name must be new)."""
    if not isinstance(law, LawDefinition):
        raise InvalidValueError(f"register takes a LawDefinition (got {quoted(law)})")
    try:
        return LAWS.register(law)
    except ValueError:
        raise InvalidValueError(f"law {quoted(law.name)} is already registered") from None


def registered_laws() -> dict[str, LawDefinition]:
    """Every registered law, by name."""
    return LAWS.as_dict()


def get_law(name: str | LawDefinition) -> LawDefinition:
    """A law definition by name (or pass one through)."""
    return name if isinstance(name, LawDefinition) else LAWS.get(name)


__all__ = ["LAWS", "get_law", "register", "registered_laws"]
