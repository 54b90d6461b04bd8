"""LaTeX rendering of laws and their derivations (documents compile with amsmath only).

Notation: arcsin (not asin), the operator names erf/sech, sigma_w as \\sigma_w, Heaviside as
\\Theta, kbar^2 for Poole's normalised curvature. Long right-hand sides are broken across
lines at their top-level sums.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ..symbols import CANONICAL, LATEX_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from ..laws.base import Law

#: Width (in LaTeX source characters) above which a sum is broken across lines.
BREAK_AT = 150


class SymfieldLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the project's notation."""

    def __init__(self, settings=None):
        base = {"inv_trig_style": "full", "ln_notation": True,
                "symbol_names": {CANONICAL[n]: t for n, t in LATEX_NAMES.items()}}
        base.update(settings or {})
        super().__init__(base)

    def _print_Heaviside(self, expr, exp=None):
        tex = r"\Theta\left(%s\right)" % self._print(expr.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_Dummy(self, expr):
        return self._print(sp.Symbol(expr.name))

    def _print_sech(self, expr, exp=None):
        arg = self._print(expr.args[0])
        base = r"\operatorname{sech}" + (f"^{{{exp}}}" if exp else "")
        return rf"{base}{{\left({arg} \right)}}"


@lru_cache(maxsize=8192)
def tex(expr: sp.Basic) -> str:
    """LaTeX of an expression in the project's notation (cached: steps recur across laws)."""
    return SymfieldLatexPrinter().doprint(expr)


def tex_lines(expr: sp.Basic, width: int = BREAK_AT) -> list[str]:
    """LaTeX of ``expr`` split into lines at top-level + signs when it is long."""
    whole = tex(expr)
    if len(whole) <= width or not isinstance(expr, sp.Add):
        return [whole]
    lines, current = [], ""
    for term in sp.Add.make_args(expr):
        piece = tex(term)
        sign = "" if piece.startswith("-") else "+ "
        candidate = (current + " " + sign + piece) if current else piece
        if current and len(candidate) > width:
            lines.append(current)
            current = sign + piece
        else:
            current = candidate
    lines.append(current)
    return lines


def law_lhs(law: "Law") -> str:
    args = ", ".join(LATEX_NAMES.get(s.name, sp.latex(s)) for s in law.variables)
    return f"{law.latex_name}({args})"


def law_equation(law: "Law") -> str:
    """``\\chi_1(q, \\sigma_w) = ...`` for one law."""
    return f"{law_lhs(law)} = {tex(law.expr)}"


def escape_text(text: str) -> str:
    """Plain text for LaTeX text mode."""
    out = []
    specials = {"\\": r"\textbackslash{}", "_": r"\_", "^": r"\^{}", "&": r"\&", "%": r"\%",
                "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\~{}"}
    for ch in text:
        out.append(specials.get(ch, ch))
    return "".join(out)


def align_equation(lhs: str, rhs_lines: list[str]) -> str:
    """One equation of an align* environment, continuation lines indented."""
    first = f"{lhs} &= {rhs_lines[0]}"
    rest = [rf"&\quad {line}" for line in rhs_lines[1:]]
    return " \\\\\n".join([first, *rest])


def derivation_body(law: "Law") -> str:
    """The derivation as an align* environment: each step with its rule as a text line."""
    rows = []
    name = sp.Symbol(law.name)
    for step in law.derivation:
        why = step.rule + (": " + step.justification if step.justification else "")
        lhs = law_lhs(law) if step.before == name else tex(step.before)
        rows.append(rf"\intertext{{\small\textit{{{escape_text(why)}}}}}")
        rows.append(align_equation(lhs, tex_lines(step.after)) + r" \\")
    return "\\begin{align*}\n" + "\n".join(rows) + "\n\\end{align*}"


PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\usepackage[margin=1.6cm]{geometry}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
"""


def law_section(law: "Law", level: str = "section") -> str:
    """A section with the law's result and its derivation."""
    kind = ("diverges: " + law.divergence) if law.divergent else {
        "closed": "closed form", "series": "exact convergent series over the poles",
        "integral": "exact unevaluated Gaussian expectation"}[law.form]
    return "\n".join([
        rf"\{level}*{{{escape_text(law.title)}}}",
        rf"\textbf{{Convention.}} {escape_text(law.convention)}\par",
        rf"\textbf{{Result}} ({escape_text(kind)}):",
        r"\begin{align*}",
        align_equation(law_lhs(law), tex_lines(law.expr)),
        r"\end{align*}",
        r"\textbf{Derivation.}",
        derivation_body(law),
    ])


def law_document(law: "Law") -> str:
    """A standalone LaTeX document: the result and its derivation."""
    title = escape_text(f"symfield: {law.name} for {law.activation.name}")
    return "\n".join([PREAMBLE, r"\begin{document}", rf"{{\Large {title}}}\par\medskip",
                      law_section(law), r"\end{document}", ""])
