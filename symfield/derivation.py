"""Derivation records: each rule the calculus applies leaves a readable ``Step``."""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.str import StrPrinter


class _StepPrinter(StrPrinter):
    """Text of a step: internal dummy symbols print as their names (no leading underscore)."""

    def _print_Dummy(self, expr):
        return expr.name


def text(expr: sp.Basic) -> str:
    """Plain-text form of an expression in a derivation."""
    return _StepPrinter().doprint(expr)


@dataclass(frozen=True)
class Step:
    """One equality ``before = after``, obtained by ``rule`` for the stated reason."""

    before: sp.Expr
    after: sp.Expr
    rule: str
    justification: str = ""

    def __str__(self) -> str:
        why = f"  [{self.rule}: {self.justification}]" if self.justification else f"  [{self.rule}]"
        return f"{text(self.before)} = {text(self.after)}{why}"


@dataclass
class Derivation:
    """An ordered list of steps from a definition to a result."""

    steps: list[Step] = field(default_factory=list)

    def add(self, before: sp.Expr, after: sp.Expr, rule: str, justification: str = "") -> None:
        self.steps.append(Step(before, after, rule, justification))

    def extend(self, steps: "list[Step] | Derivation") -> None:
        self.steps.extend(steps.steps if isinstance(steps, Derivation) else steps)

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    @property
    def rules(self) -> list[str]:
        """The names of the rules used, in order."""
        return [s.rule for s in self.steps]

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps)
