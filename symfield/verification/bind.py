"""Give the unspecified activation ``phi`` of a parsed formula a concrete form."""
from __future__ import annotations

import sympy as sp

from ..activations import Activation, get_activation
from .names import phi, x


def substitute_activation(expr: sp.Expr, activation: Activation | str | sp.Expr) -> sp.Expr:
    """``expr`` with phi replaced by an activation and its derivatives evaluated.

    ``activation`` is a registered name ("erf", "relu", ...), an ``Activation``, or a SymPy
    expression in ``symfield.activations.x``. phi'(u) = Derivative(phi(x), x) at u becomes
    the activation's (distributional) derivative at u, e.g. Heaviside(u) for ReLU.
    """
    if isinstance(activation, (str, Activation)):
        body = get_activation(activation).phi
    elif isinstance(activation, sp.Expr):
        body = activation
    else:
        raise TypeError("activation must be a name, an Activation or a SymPy expression in x")
    replaced = expr.replace(phi, lambda argument: body.subs(x, argument))
    return replaced.replace(lambda e: isinstance(e, (sp.Derivative, sp.Subs)),
                            lambda e: e.doit())
