"""``symfield.verify``: check a hand calculation against the engine, or against itself.

A claim is parsed safely (:mod:`.parser`), the activation ``phi`` in it is bound to a
registered activation, and the parts are compared (:func:`.equivalence.compare`):

* ``law`` given (or a law name on the left, ``chi_1 = ...``): the claim's result is compared
  with the engine's derived law; in a chain every step must follow from the previous one and
  the last must equal the law;
* an equation ``lhs = rhs``: the two sides are compared;
* a chain (several ``=`` steps, one per line, or an ``align`` block): the verdict names the
  first step that does not follow from the previous one.
"""
from __future__ import annotations

import dataclasses

import sympy as sp
from sympy.core.function import AppliedUndef

from ..activations import Activation, get_activation
from ..errors import SymfieldError, UnknownNameError
from .bind import substitute_activation
from .equivalence import Verdict, compare
from .parser import parse_claim

#: Law names users write on the left of a claim, normalised (lower case, no _ { } \ or spaces).
LABEL_ALIASES = {
    "chi0": "chi0", "chi1": "chi1", "chi2": "chi2",
    "v": "length_map", "mathcalv": "length_map", "lengthmap": "length_map",
    "f": "activity_map", "activitymap": "activity_map",
    "vprime": "length_map_slope", "mathcalvprime": "length_map_slope",
}


def _law_for_label(label: str) -> str:
    from ..laws import laws

    key = "".join(ch for ch in label.lower() if ch not in "_{}\\ ").replace("'", "prime")
    registry = {name.replace("_", ""): name for name in laws()}
    if key in LABEL_ALIASES:
        return LABEL_ALIASES[key]
    if key in registry:
        return registry[key]
    raise UnknownNameError(
        f"the left-hand side {label!r} is not a law name; name the law with law=... or write "
        f"a formula on both sides (laws: {', '.join(laws())})")


def _bind(expr: sp.Expr, act: Activation | None) -> sp.Expr:
    """phi bound to the activation, and every expectation the calculus can evaluate in
    closed form replaced by it (numerics are then needed only for what is left)."""
    if expr.atoms(AppliedUndef):
        if act is None:
            raise SymfieldError("the claim mentions phi: say which activation (activation=...)")
        expr = substitute_activation(expr, act)
    return _closed_expectations(expr)


def _closed_expectations(expr: sp.Expr) -> sp.Expr:
    from ..gaussian.expectation import Expectation
    from ..laws import _ENGINE

    replacements = {}
    for e in expr.atoms(Expectation):
        outcome = _ENGINE.expect(e)
        if outcome.closed and not outcome.divergence and not outcome.value.has(sp.Sum):
            replacements[e] = outcome.value
    return expr.xreplace(replacements) if replacements else expr


def verify(claim: str, law: str | None = None, activation: str | Activation | None = None, *,
           syntax: str = "auto", points: int = 8, dps: int = 50,
           **assumptions: object) -> Verdict:
    """Check ``claim`` (plain math or LaTeX) and return a :class:`Verdict`.

    ``assumptions`` restrict or fix variables for the numerical comparison, e.g.
    ``sigma_b=0`` or ``q=(0.1, 10)``. Raises ``SymfieldError`` for input that cannot be
    parsed or names that do not exist (the CLI turns that into exit code 2).
    """
    parsed = parse_claim(claim, syntax=syntax)
    act = get_activation(activation) if activation is not None else None
    law_name = law
    if parsed.label is not None:
        labelled = _law_for_label(parsed.label)
        if law_name is not None and labelled != law_name.strip().lower():
            raise SymfieldError(f"the claim is about {labelled} but law={law_name!r} was given")
        law_name = labelled
    truth = None
    if law_name is not None:
        if act is None:
            raise SymfieldError(f"which activation is {law_name} for? give activation=...")
        from ..laws import derive

        derived = derive(law_name, act)
        # a pole series is exact but slow to sum at 50 digits: compare with its definition
        truth = derived.definition if derived.form == "series" else derived.expr
    steps = [_bind(e, act) for e in parsed.expressions]
    domain = dict(assumptions) or None

    def check(a, b):
        return compare(a, b, domain=domain, points=points, dps=dps)

    if truth is None and len(steps) == 1:
        return Verdict("undecided", "undecided: a single formula with nothing to compare it "
                       "with; name the law (law=..., activation=...) or write 'lhs = rhs'")
    verdicts = []
    for i in range(len(steps) - 1):
        verdict = check(steps[i], steps[i + 1])
        if verdict.status != "equal":
            return _about_step(verdict, i + 2, parsed.steps[i + 1].text)
        verdicts.append(verdict)
    if truth is None:
        weakest = _weakest(verdicts)
        if len(steps) > 2:
            how = weakest.reason.removeprefix("equal: ")
            return dataclasses.replace(weakest, reason=f"equal: every step follows from the "
                                                       f"previous one (weakest evidence: {how})")
        return weakest
    verdict = check(steps[-1], truth)
    what = f"{law_name} for {act.name}"
    if verdict.status == "equal":
        chain = " every step follows and" if len(steps) > 1 else ""
        how = verdict.reason.removeprefix("equal: ")
        return dataclasses.replace(verdict, reason=f"equal:{chain} the result is the engine's "
                                                   f"{what} ({how})")
    if verdict.status == "not_equal":
        return dataclasses.replace(
            verdict, failed_step=len(steps) if len(steps) > 1 else None,
            reason=f"not equal to the engine's {what}: {verdict.reason.removeprefix('not equal: ')}")
    return dataclasses.replace(verdict, reason=f"{verdict.reason} (comparing with the "
                                               f"engine's {what})")


_STRENGTH = {"identical": 3, "symbolic": 2, "symbolic+numeric": 2, "numeric": 1, "none": 0}


def _weakest(verdicts: list[Verdict]) -> Verdict:
    """The verdict with the least evidence (numeric agreement with the fewest digits)."""
    return min(verdicts, key=lambda v: (_STRENGTH.get(v.method, 0),
                                        v.digits if v.digits is not None else 10**6))


def _about_step(verdict: Verdict, index: int, text: str) -> Verdict:
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    body = verdict.reason.split(": ", 1)[-1]
    if verdict.status == "not_equal":
        reason = f"not equal: step {index} ({shown}) does not follow from step {index - 1}: {body}"
    else:
        reason = f"undecided: cannot tell whether step {index} ({shown}) follows from step " \
                 f"{index - 1}: {body}"
    return dataclasses.replace(verdict, reason=reason, failed_step=index)
