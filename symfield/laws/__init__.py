"""The law registry and ``derive``: definitions in, derived laws out."""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..activations import Activation, get_activation, x
from ..derivation import Derivation
from ..errors import UnknownNameError
from ..gaussian.engine import GaussianCalculus
from ..gaussian.simplify import tidy
from ..gaussian.expectation import Expectation
from . import geometry, recursion, single_input, two_input
from .base import Law, LawDefinition

_REGISTRY: dict[str, LawDefinition] = {}
_ENGINE = GaussianCalculus()

#: The generic activation used to display definitions.
varphi = sp.Function("varphi")


def register(law: LawDefinition) -> LawDefinition:
    """Add a law definition to the registry (its name must be new)."""
    if law.name in _REGISTRY:
        raise ValueError(f"law {law.name!r} is already registered")
    _REGISTRY[law.name] = law
    return law


for _module in (single_input, two_input, recursion, geometry):
    for _entry in _module.ENTRIES:
        register(_entry)


def laws() -> dict[str, LawDefinition]:
    """Every registered law, by name."""
    return dict(_REGISTRY)


def get_law(name: str | LawDefinition) -> LawDefinition:
    if isinstance(name, LawDefinition):
        return name
    if isinstance(name, str):
        found = _REGISTRY.get(name.strip().lower().replace("-", "_"))
        if found is not None:
            return found
    raise UnknownNameError(f"unknown law {name!r}; valid laws: {', '.join(_REGISTRY)}")


def _generic_phi(arg: sp.Expr, order: int = 0) -> sp.Expr:
    if order == 0:
        return varphi(arg)
    if arg == x:
        return sp.Derivative(varphi(x), (x, order))
    return sp.Subs(sp.Derivative(varphi(x), (x, order)), x, arg)


def derive(law: str | LawDefinition, activation: str | Activation) -> Law:
    """Derive ``law`` for ``activation`` with the Gaussian calculus."""
    return _derive(get_law(law), get_activation(activation))


@lru_cache(maxsize=None)
def _derive(spec: LawDefinition, act: Activation) -> Law:
    generic = spec.define(_generic_phi)
    definition = spec.define(lambda arg, order=0: act(arg, order))
    derivation = Derivation()
    lhs = sp.Symbol(spec.name)
    derivation.add(lhs, generic, "definition", spec.convention)
    if any(v.name == "C" for v in spec.variables) or spec.name in ("covariance_map", "nngp", "ntk"):
        derivation.extend(two_input.PAIR_MEAN_FIELD_STEPS)
    elif any(v.name == "A" for v in spec.variables):
        derivation.extend(single_input.MEAN_FIELD_STEPS)
    derivation.add(lhs, definition, "activation", f"phi(x) = {sp.sstr(act.phi)}")
    value = definition
    divergences, reasons = [], []
    for e in sorted(definition.atoms(Expectation), key=sp.default_sort_key):
        outcome = _ENGINE.expect(e)
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
    if value.has(Expectation):
        kind = "exact unevaluated Gaussian expectation (" + "; ".join(reasons) + ")"
    elif value.has(sp.Sum):
        kind = "exact convergent series over the poles"
    else:
        kind = "closed form"
    derivation.add(lhs, value, "result", kind)
    params = [sym for sym, _d in act.parameters.values() if value.has(sym) or definition.has(sym)]
    return (spec.law_class or Law)(
        name=spec.name, activation=act, definition=definition, expr=value,
        variables=tuple(spec.variables) + tuple(params), derivation=derivation,
        title=spec.title, latex_name=spec.latex_name, convention=spec.convention,
        divergence="; ".join(dict.fromkeys(divergences)) or None, reasons=reasons, _spec=spec,
    )


__all__ = ["Law", "LawDefinition", "derive", "get_law", "laws", "register", "varphi"]

from .._callable_module import make_callable  # noqa: E402

make_callable(__name__, "laws")
