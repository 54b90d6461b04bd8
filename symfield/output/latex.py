"""LaTeX rendering of laws and their derivations (documents compile with amsmath only).

Notation: arcsin (not asin), the operator names erf/sech, sigma_w as \\sigma_w, Heaviside as
\\Theta, kbar^2 for Poole's normalised curvature. Long right-hand sides are broken across
lines at their top-level sums.

Names are data, not LaTeX: a symbol, function or law name reaches a document as LaTeX only if
it is a plain identifier (letters and digits, with ``_``/``^`` sub- and superscripts and primes)
or one of the project's own names; anything else (``\\input{/etc/passwd}`` as a parameter name)
is printed as escaped text, so no user-chosen macro ever reaches pdflatex.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ..errors import InvalidValueError, quoted
from ..laws.base import set_latex_renderers
from ..microdynamics import NETWORK_LATEX_NAMES
from ..symbols import CANONICAL, LATEX_NAMES

if TYPE_CHECKING:  # pragma: no cover
    from ..laws.base import Law

#: Width (in LaTeX source characters) above which a sum is broken across lines.
BREAK_AT = 150


#: A name SymPy may typeset itself: an identifier with optional sub/superscripts and primes.
#: SymPy turns its parts into fixed macros only (Greek letters, accents such as ``hat``).
SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*'*(?:(?:_|\^|__)[A-Za-z0-9]+'*)*\Z")

#: Macros a law's LaTeX name may use (``\\chi_1``, ``\\mathcal{V}'``, ``\\bar\\kappa^{*2}``).
LAW_NAME_MACROS = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
    "mathcal", "mathrm", "mathbf", "mathit", "bar", "dot", "ddot", "tilde", "hat", "prime",
    "parallel", "perp",
})
_LAW_NAME_TOKEN = re.compile(r"\\([A-Za-z]+)|([A-Za-z0-9 _^{}'()\[\]+\-*/,.|])")


def name_as_text(name: str) -> str:
    """A name that is not a safe identifier, as upright escaped text in math mode."""
    shown = "".join(ch if 32 <= ord(ch) < 127 else f"[U+{ord(ch):04X}]" for ch in name)
    return rf"\text{{{escape_text(shown)}}}"


def safe_law_latex(latex_name: str) -> str:
    """A law's LaTeX name if it uses only whitelisted macros and balanced braces, else text."""
    tokens = _LAW_NAME_TOKEN.findall(latex_name)
    consumed = sum(len(m) + 1 if m else len(ch) for m, ch in tokens)
    depth = 0
    for macro, ch in tokens:
        if macro and macro not in LAW_NAME_MACROS:
            return name_as_text(latex_name)
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return name_as_text(latex_name)
    if consumed != len(latex_name) or depth != 0:
        return name_as_text(latex_name)
    return latex_name


class SymfieldLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer with the project's notation; unsafe names print as text."""

    def __init__(self, settings: Mapping | None = None):
        if settings is not None and not isinstance(settings, Mapping):
            raise InvalidValueError(f"settings must be a mapping of SymPy LaTeX printer "
                                    f"settings (got {quoted(settings)})")
        names = {CANONICAL[n]: t for n, t in LATEX_NAMES.items()}
        names.update(NETWORK_LATEX_NAMES)
        base = {"inv_trig_style": "full", "ln_notation": True, "symbol_names": names}
        base.update(settings or {})
        super().__init__(base)

    # Every name SymPy prints (symbols, undefined functions, class names) passes through
    # _deal_with_super_sub; SymPy itself would copy a name containing '{' verbatim.
    def _deal_with_super_sub(self, string: str, style: str = "plain") -> str:
        if not SAFE_NAME.match(string):
            return name_as_text(string)
        return super()._deal_with_super_sub(string, style=style)

    def _print_Str(self, s):
        return self._deal_with_super_sub(str(s.name))

    def _print_Heaviside(self, expr, exp=None):
        tex = r"\Theta\left(%s\right)" % self._print(expr.args[0])
        return tex if exp is None else r"%s^{%s}" % (tex, exp)

    def _print_Dummy(self, expr):
        return self._print(sp.Symbol(expr.name))

    def _print_sech(self, expr, exp=None):
        arg = self._print(expr.args[0])
        base = r"\operatorname{sech}" + (f"^{{{exp}}}" if exp else "")
        return rf"{base}{{\left({arg} \right)}}"


def tex(expr: sp.Basic) -> str:
    """LaTeX of an expression in the project's notation."""
    if not isinstance(expr, sp.Basic):
        raise InvalidValueError(f"expected a SymPy expression (got {quoted(expr)})")
    return _tex(expr)


@lru_cache(maxsize=8192)
def _tex(expr: sp.Basic) -> str:
    # cached: derivation steps recur across laws and activations
    return SymfieldLatexPrinter().doprint(expr)


def tex_lines(expr: sp.Basic, width: int = BREAK_AT) -> list[str]:
    """LaTeX of ``expr`` split into lines at top-level + signs when it is long."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise InvalidValueError(f"width must be a positive integer (got {quoted(width)})")
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


#: What a derived law offers the renderers (checked, so a wrong argument is one clear line).
_LAW_FIELDS = ("name", "activation", "expr", "variables", "derivation", "title", "latex_name",
               "convention", "form", "divergent")


def _check_law(law: object) -> None:
    if not all(hasattr(law, f) for f in _LAW_FIELDS):
        raise InvalidValueError(f"expected a derived law (symfield.derive(law, activation)), "
                                f"got {quoted(law)}")


def law_lhs(law: "Law") -> str:
    """``\\chi_1(q, \\sigma_w)``: the law's LaTeX name (if whitelisted) and its variables."""
    _check_law(law)
    args = ", ".join(LATEX_NAMES.get(s.name) or tex(s) for s in law.variables)
    return f"{safe_law_latex(law.latex_name)}({args})"


def law_equation(law: "Law") -> str:
    """``\\chi_1(q, \\sigma_w) = ...`` for one law."""
    _check_law(law)
    return f"{law_lhs(law)} = {tex(law.expr)}"


def escape_text(text: str) -> str:
    """Plain text for LaTeX text mode."""
    if not isinstance(text, str):
        raise InvalidValueError(f"expected text (got {quoted(text)})")
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
    _check_law(law)
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


#: Sectioning commands a law's section may use.
SECTION_LEVELS = ("section", "subsection", "subsubsection", "paragraph")


def law_section(law: "Law", level: str = "section") -> str:
    """A section with the law's result and its derivation."""
    _check_law(law)
    if level not in SECTION_LEVELS:
        raise InvalidValueError(f"level must be one of {', '.join(SECTION_LEVELS)} "
                                f"(got {quoted(level)})")
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
    _check_law(law)
    title = escape_text(f"symfield: {law.name} for {law.activation.name}")
    return "\n".join([PREAMBLE, r"\begin{document}", rf"{{\Large {title}}}\par\medskip",
                      law_section(law), r"\end{document}", ""])


set_latex_renderers(law_equation, law_document)

__all__ = ["PREAMBLE", "SECTION_LEVELS", "SymfieldLatexPrinter", "derivation_body", "escape_text",
           "law_document", "law_equation", "law_lhs", "law_section", "tex", "tex_lines"]
