"""A small named registry: the one type behind the activation and the law registries.

Names are looked up forgivingly (case, surrounding blanks, '-' for '_'), registered once, and
an unknown name is a one-line :class:`~symfield.errors.UnknownNameError` that lists the valid
ones.
"""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from .errors import UnknownNameError

T = TypeVar("T")

#: Longest user-supplied name quoted back in an error message.
_QUOTE_CHARS = 60


def normalise_name(name: str) -> str:
    """The registry key of a user-typed name: 'Leaky-ReLU ' -> 'leaky_relu'."""
    return name.strip().lower().replace("-", "_")


class Registry(Generic[T]):
    """Entries by name, in registration order; ``kind`` names them in messages."""

    def __init__(self, kind: str, name_of: Callable[[T], str]) -> None:
        self.kind = kind
        self._name_of = name_of
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, entry: T, *aliases: str) -> T:
        """Add ``entry`` (its name, and any aliases, must be new)."""
        name = self._name_of(entry)
        for key in (name, *aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is already registered")
        self._entries[name] = entry
        for alias in aliases:
            self._aliases[alias] = name
        return entry

    def find(self, name: str) -> T | None:
        """The entry called ``name`` (or one of its aliases), or None."""
        key = normalise_name(name)
        return self._entries.get(self._aliases.get(key, key))

    def get(self, name: object) -> T:
        """The entry called ``name``; UnknownNameError listing the valid names otherwise."""
        found = self.find(name) if isinstance(name, str) else None
        if found is None:
            shown = repr(name)
            if len(shown) > _QUOTE_CHARS:
                shown = shown[:_QUOTE_CHARS] + "..."
            raise UnknownNameError(f"unknown {self.kind} {shown}; valid {self.kind}s: "
                                   f"{', '.join(self._entries)}")
        return found

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def as_dict(self) -> dict[str, T]:
        """A copy: name -> entry, in registration order."""
        return dict(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def __iter__(self) -> Iterator[T]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind}: {', '.join(self._entries)})"


__all__ = ["Registry", "normalise_name"]
