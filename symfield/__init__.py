"""symfield: a symbolic derivation engine for the mean-field theory of random deep networks.

Quick use::

    import symfield
    law = symfield.derive("chi1", "erf")      # a Law
    law.expr                                  # 4*sigma_w**2/(pi*sqrt(4*q + 1))
    law.evaluate(dps=50, q=1, sigma_w=1.5)    # certified mpmath number
    law.to_numpy()(q=qs, sigma_w=1.5)         # float64, vectorised

``symfield.activations()`` and ``symfield.laws()`` list what is registered.
"""
from __future__ import annotations

from . import activations, laws, symbols
from .activations import Activation
from .errors import InvalidValueError, PrecisionError, SymfieldError, UnknownNameError
from .gaussian import Expectation, GaussianCalculus
from .laws import Law, LawDefinition, derive
from .network import NetworkSpec

__version__ = "0.1.0"

# ``activations`` and ``laws`` are callable modules: symfield.activations() lists the
# registered activations, symfield.laws() the laws (see _callable_module.py).


__all__ = [
    "Activation", "Expectation", "GaussianCalculus", "InvalidValueError", "Law",
    "LawDefinition", "NetworkSpec", "PrecisionError", "SymfieldError", "UnknownNameError",
    "activations", "derive", "laws", "symbols", "__version__",
]
