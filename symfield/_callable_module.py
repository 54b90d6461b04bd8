"""Let a subpackage be called like a function.

The public API has ``symfield.activations()`` and ``symfield.laws()`` while ``activations`` and
``laws`` are also subpackages. Making the module objects callable keeps both spellings working
(``symfield.activations()`` and ``symfield.activations.get_activation``) without one shadowing
the other.
"""
from __future__ import annotations

import sys
import types


def make_callable(module_name: str, function_name: str) -> None:
    module = sys.modules[module_name]

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(self, function_name)(*args, **kwargs)

    module.__class__ = CallableModule
