"""The laws: definitions in Gaussian expectations (one registry) and ``derive``.

Each module holds definitions as data — single-input laws, two-input laws, the depth
recursions, the geometry of the signal space; ``derive(law, activation)`` lets the Gaussian
calculus decide how to evaluate them.
"""
from __future__ import annotations

from . import finite_width, finite_width_pair, fisher, geometry, recursion, single_input, spectrum, two_input
from .base import Law, LawDefinition
from .calculus import derive, varphi
from .registry import LAWS, get_law, register, registered_laws

for _module in (single_input, two_input, recursion, geometry, fisher, finite_width,
                finite_width_pair, spectrum):
    for _entry in _module.ENTRIES:
        register(_entry)

__all__ = ["LAWS", "Law", "LawDefinition", "derive", "get_law", "register", "registered_laws",
           "varphi"]
