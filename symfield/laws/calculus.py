"""``derive``: a law's definition in, a derived law out.

The definition is instantiated twice — with a generic varphi, for display, and with the
activation's derivatives — and every Gaussian expectation in it is handed to the calculus;
the steps the rules leave become the law's derivation.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation, get_activation, x
from ..derivation import Derivation
from ..gaussian.engine import GaussianCalculus
from ..expectation import Expectation
from ..gaussian.simplify import tidy
from ..symbols import TextFreeFunction
from .base import Law, LawDefinition, has_series, set_deriver
from .registry import get_law

#: One engine for every derivation: its memo of sub-results is shared across laws.
ENGINE = GaussianCalculus()

#: The generic activation used to display definitions.
varphi = TextFreeFunction("varphi")


def _generic_phi(arg: sp.Expr, order: int = 0) -> sp.Expr:
    if order == 0:
        return varphi(arg)
    if arg == x:
        return sp.Derivative(varphi(x), (x, order))
    return sp.Subs(sp.Derivative(varphi(x), (x, order)), x, arg)


def derive(law: str | LawDefinition, activation: str | Activation) -> Law:
    """Derive ``law`` for ``activation`` with the Gaussian calculus."""
    return _derive(get_law(law), get_activation(activation))


def _kind(value: sp.Expr, reasons: list[str]) -> str:
    if value.has(Expectation):
        return "exact unevaluated Gaussian expectation (" + "; ".join(reasons) + ")"
    if has_series(value):
        return "exact convergent series over the poles"
    return "closed form"


@lru_cache(maxsize=None)
def _derive(spec: LawDefinition, act: Activation) -> Law:
    generic = spec.define(_generic_phi)
    definition = spec.define(lambda arg, order=0: act(arg, order))
    derivation = Derivation()
    lhs = sp.Symbol(spec.name)
    derivation.add(lhs, generic, "definition", spec.convention)
    derivation.extend(list(spec.prelude_steps()))
    derivation.add(lhs, definition, "activation", f"phi(x) = {sp.sstr(act.phi)}")
    value = definition
    divergences, reasons = [], []
    for e in sorted(definition.atoms(Expectation), key=sp.default_sort_key):
        outcome = ENGINE.expect(e)
        derivation.extend(outcome.steps)
        if outcome.divergence:
            divergences.append(outcome.divergence)
        if not outcome.closed:
            if outcome.reason:
                reasons.append(outcome.reason)
            if outcome.divergence and outcome.value is sp.nan:
                value = sp.nan
                continue
        value = value.xreplace({e: outcome.value})
    if not value.has(Expectation) and not value.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        value = tidy(value)
    derivation.add(lhs, value, "result", _kind(value, reasons))
    params = [sym for sym, _d in act.parameters.values() if value.has(sym) or definition.has(sym)]
    return (spec.law_class or Law)(
        name=spec.name, activation=act, definition=definition, expr=value,
        variables=tuple(spec.variables) + tuple(params), derivation=derivation,
        title=spec.title, latex_name=spec.latex_name, convention=spec.convention,
        divergence="; ".join(dict.fromkeys(divergences)) or None, reasons=reasons, _spec=spec,
    )


set_deriver(derive)

__all__ = ["ENGINE", "derive", "varphi"]
