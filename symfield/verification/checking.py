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
import difflib
import threading
from collections import OrderedDict

import sympy as sp
from sympy.core.function import AppliedUndef

from ..activations import Activation, get_activation
from ..errors import SymfieldError, UnknownNameError
from ..expectation import Expectation
from . import limits, sizes
from .bind import substitute_activation
from .equivalence import Verdict, compare
from .errors import ParseError, quote
from .parser import parse_claim

#: Law names users write on the left of a claim, normalised (lower case, no _ { } \ or spaces).
LABEL_ALIASES = {
    "chi0": "chi0", "chi1": "chi1", "chi2": "chi2",
    "v": "length_map", "mathcalv": "length_map", "lengthmap": "length_map",
    "f": "activity_map", "activitymap": "activity_map",
    "vprime": "length_map_slope", "mathcalvprime": "length_map_slope",
}


def _law_for_label(label: str, label_error: str | None = None) -> str:
    from ..laws import registered_laws

    key = "".join(ch for ch in label.lower() if ch not in "_{}\\ ").replace("'", "prime")
    registry = {name.replace("_", ""): name for name in registered_laws()}
    if key in LABEL_ALIASES:
        return LABEL_ALIASES[key]
    if key in registry:
        return registry[key]
    names = ", ".join(registered_laws())
    looks_like_a_law = difflib.get_close_matches(key, [*registry, *LABEL_ALIASES], n=1,
                                                 cutoff=0.6)
    if label_error is not None and not looks_like_a_law:
        # the left side is neither, and reads as a formula: say what is wrong with it
        raise ParseError(f"the left-hand side {label!r} is neither a law name ('symfield list' "
                         f"shows them) nor a formula: {label_error}")
    raise UnknownNameError(
        f"the left-hand side {label!r} is not a law name; name the law with law=... or write "
        f"a formula on both sides (laws: {names})")


def _bind(expr: sp.Expr, act: Activation | None) -> sp.Expr:
    """phi bound to the activation (expectations are kept: see :func:`_closed_expectations`)."""
    if expr.atoms(AppliedUndef):
        if act is None:
            raise SymfieldError("the claim mentions phi: say which activation (activation=...)")
        expr = substitute_activation(expr, act)
    return expr


# -- closed forms from the calculus, in a child process ---------------------------------------

#: Closed forms found so far (or None: the calculus has none), by expectation.
_CLOSED: OrderedDict[Expectation, sp.Expr | None] = OrderedDict()
_CLOSED_SIZE = 512
_CLOSED_LOCK = threading.Lock()
_ENGINE = None


def _engine():
    """The calculus used for claims (its own instance: it only ever runs in child processes,
    so no lock of it is held when one is forked)."""
    global _ENGINE
    if _ENGINE is None:
        from ..gaussian.engine import GaussianCalculus

        _ENGINE = GaussianCalculus()
    return _ENGINE


def _closed_form_in_child(e: Expectation) -> sp.Expr | None:
    outcome = _engine().expect(e)
    if outcome.closed and not outcome.divergence and not outcome.value.has(sp.Sum):
        return outcome.value
    return None


def _closed_expectations(expr: sp.Expr, budget: limits.Budget) -> sp.Expr:
    """Every expectation the calculus evaluates in closed form replaced by it (numerics are
    then needed only for what is left). The calculus runs in a child process with a time
    limit: some small integrands keep it busy for minutes (E[erf(u)^8]), and a closed form is
    only a shortcut."""
    replacements = {}
    for e in sorted(expr.atoms(Expectation), key=sp.default_sort_key):
        with _CLOSED_LOCK:
            known = e in _CLOSED
            value = _CLOSED.get(e)
        if not known:
            try:
                value = limits.run_in_child(_closed_form_in_child, e,
                                            cpu_seconds=limits.ENGINE_SECONDS,
                                            wall_seconds=budget.remaining())
            except limits.OutOfCPU:
                value = None  # the same on any machine: remembered
            except TimeoutError:
                continue  # wall clock: not remembered, it may finish on a quieter machine
            except limits.ChildFailed:
                value = None
            with _CLOSED_LOCK:
                _CLOSED[e] = value
                while len(_CLOSED) > _CLOSED_SIZE:
                    _CLOSED.popitem(last=False)
        if value is not None:
            replacements[e] = value
    return expr.xreplace(replacements) if replacements else expr


def verify(claim: str, law: str | None = None, activation: str | Activation | None = None, *,
           syntax: str = "auto", points: int = 8, dps: int = 50,
           **assumptions: object) -> Verdict:
    """Check ``claim`` (plain math or LaTeX) and return a :class:`Verdict`.

    ``assumptions`` restrict or fix variables for the numerical comparison, e.g.
    ``sigma_b=0`` or ``q=(0.1, 10)``; without them every variable is checked over its whole
    domain (the verdict says which ranges were covered). An expectation that does not exist
    makes the claim ill-posed: "not_equal" with the reason, never "equal". A claim whose
    checking would be too much work (:mod:`.sizes`) is "undecided: too large". Raises
    ``SymfieldError`` for input that cannot be parsed or names that do not exist (the CLI
    turns that into exit code 2).
    """
    _check_effort(points, dps)
    if law is not None and not isinstance(law, str):
        raise SymfieldError(f"law must be a law's name (see symfield.registered_laws()), got "
                            f"{type(law).__name__}")
    budget = limits.Budget(limits.VERIFY_SECONDS)
    parsed = parse_claim(claim, syntax=syntax)
    act = get_activation(activation) if activation is not None else None
    law_name = law
    if parsed.label is not None:
        labelled = _law_for_label(parsed.label, parsed.label_error)
        if law_name is not None and labelled != law_name.strip().lower():
            raise SymfieldError(f"the claim is about {labelled} but law={quote(law_name)} was "
                                f"given")
        law_name = labelled
    truth = None
    if law_name is not None:
        if act is None:
            raise SymfieldError(f"which activation is {quote(law_name)} for? give "
                                f"activation=...")
        from ..laws import derive

        derived = derive(law_name, act)
        # a pole series is exact but slow to sum at 50 digits: compare with its definition
        truth = derived.definition if derived.form == "series" else derived.expr
    bound = [_bind(e, act) for e in parsed.expressions]
    domain = dict(assumptions) or None

    if truth is None and len(bound) == 1:
        return Verdict("undecided", "undecided: a single formula with nothing to compare it "
                       "with; name the law (law=..., activation=...) or write 'lhs = rhs'")
    too_big = sizes.too_large(bound + ([truth] if truth is not None else []))
    if too_big is not None:
        return Verdict("undecided", f"undecided: too large to check: {too_big}")
    try:
        steps = [_closed_expectations(e, budget) for e in bound]
    except limits.OutOfTime as exc:
        return Verdict("undecided", f"undecided: {exc}")

    def check(i: int, a: sp.Expr, b: sp.Expr, original: tuple[sp.Expr, ...]) -> Verdict:
        required = set().union(*(e.atoms(Expectation) for e in original))
        if budget.expired():
            return Verdict("undecided", f"undecided: the check took longer than "
                           f"{budget.seconds:g} s (stopped before step {i + 2})")
        return compare(a, b, domain=domain, points=points, dps=dps, expectations=required,
                       budget=budget)

    verdicts = []
    for i in range(len(steps) - 1):
        verdict = check(i, steps[i], steps[i + 1], (bound[i], bound[i + 1]))
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
    verdict = check(len(steps) - 1, steps[-1], truth, (bound[-1], truth))
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


def _check_effort(points: object, dps: object) -> None:
    for name, value, low, high in (("points", points, 1, limits.MAX_POINTS),
                                   ("dps", dps, 15, limits.MAX_DPS)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            shown = quote(value) if isinstance(value, str) else repr(value)[:40]
            raise SymfieldError(f"{name} must be a whole number from {low} to {high}, "
                                f"got {shown}")


_STRENGTH = {"identical": 3, "symbolic": 2, "symbolic+numeric": 2, "numeric": 1, "none": 0}


def _weakest(verdicts: list[Verdict]) -> Verdict:
    """The verdict with the least evidence (numeric agreement with the fewest digits)."""
    return min(verdicts, key=lambda v: (_STRENGTH.get(v.method, 0),
                                        v.digits if v.digits is not None else 10**6))


def _about_step(verdict: Verdict, index: int, text: str) -> Verdict:
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    body = verdict.reason.split(": ", 1)[-1]
    if verdict.method == "existence":  # about the claim as a whole, not about one step
        reason = verdict.reason
    elif verdict.status == "not_equal":
        reason = f"not equal: step {index} ({shown}) does not follow from step {index - 1}: {body}"
    else:
        reason = f"undecided: cannot tell whether step {index} ({shown}) follows from step " \
                 f"{index - 1}: {body}"
    return dataclasses.replace(verdict, reason=reason, failed_step=index)
