"""LaTeX rendering of laws and their derivations (standalone documents compile with amsmath)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from ..symbols import LATEX_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from ..laws.base import Law

_SYMBOL_NAMES = {sp.Symbol(name, **assumptions): tex for name, tex, assumptions in ()}


def tex(expr: sp.Expr) -> str:
    """SymPy LaTeX with the project's notation (arcsin, not asin; sigma_w as \\sigma_w)."""
    return sp.latex(expr, inv_trig_style="full", ln_notation=True)


def law_lhs(law: "Law") -> str:
    args = ", ".join(LATEX_NAMES.get(s.name, sp.latex(s)) for s in law.variables)
    return f"{law.latex_name}({args})"


def law_equation(law: "Law") -> str:
    """``\\chi_1(q, \\sigma_w) = ...`` for one law."""
    return f"{law_lhs(law)} = {tex(law.expr)}"


def _escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("^", r"\^{}"), ("&", r"\&"),
                 ("%", r"\%"), ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"),
                 ("~", r"\~{}")):
        text = text.replace(a, b)
    return text


def derivation_body(law: "Law") -> str:
    """The derivation as an ``align*`` environment, one step per line."""
    lines = []
    for step in law.derivation:
        left = tex(step.before)
        right = tex(step.after)
        why = _escape(step.rule + (": " + step.justification if step.justification else ""))
        lines.append(f"{left} &= {right} && \\text{{{why}}}")
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def law_document(law: "Law") -> str:
    """A standalone LaTeX document: the result and its derivation."""
    title = _escape(f"{law.name} for {law.activation.name}")
    return "\n".join([
        r"\documentclass[11pt]{article}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage[margin=2cm,landscape]{geometry}",
        r"\allowdisplaybreaks",
        r"\begin{document}",
        f"\\section*{{{title}}}",
        _escape(law.title) + r"\par",
        r"\[" + law_equation(law) + r"\]",
        r"\subsection*{Derivation}",
        derivation_body(law),
        r"\end{document}",
        "",
    ])
