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
from .breaking import LINE_UNITS, formula_lines, latex_width
from .prose import bibliography, escape_text, note_latex

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


PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage[margin=1.6cm]{geometry}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
% \sffit{formula}: the formula, scaled down to the line only if no break point was left
\newsavebox{\sfpiece}
\newcommand{\sffit}[1]{\sbox{\sfpiece}{$\displaystyle #1$}%
\ifdim\wd\sfpiece>0.8\linewidth\resizebox{0.8\linewidth}{!}{\usebox{\sfpiece}}%
\else\usebox{\sfpiece}\fi}
"""


#: Macros the layout itself writes around formulas (line breaks, brackets across lines,
#: numbering, citations): never taken from a name.
LAYOUT_MACROS = frozenset({"Bigl", "Bigr", "times", "quad", "qquad", "sffit", "label", "notag",
                           "ref", "cite", "allowbreak", "sloppy", "noindent", "small", "par",
                           "bibitem", "emph"})


class DocumentState:
    """What one document has shown so far: equation labels, each derivation step's label
    (a later derivation cites an earlier step instead of repeating it), and the sources
    cited (for the bibliography)."""

    def __init__(self) -> None:
        self.cited: set[str] = set()
        self.shown: dict[tuple[str, str], str] = {}
        self._labels = 0

    def label(self) -> str:
        self._labels += 1
        return f"eq:{self._labels}"

    def note(self, text: str) -> str:
        return note_latex(text, self.cited)

    def bibliography(self) -> str:
        """The bibliography of what was cited so far (empty when nothing was)."""
        return bibliography(self.cited)

    def end(self) -> str:
        """The bibliography, then the end of the document."""
        return "\n".join(filter(None, [self.bibliography(), r"\end{document}", ""]))


def _state(state: object) -> DocumentState:
    if state is None:
        return DocumentState()
    if not isinstance(state, DocumentState):
        raise InvalidValueError(f"state must be a DocumentState (the document being written) "
                                f"or None (got {quoted(state)})")
    return state


def display(lhs: str, rhs: sp.Basic, label: str | None = None) -> str:
    """``lhs = rhs`` as a displayed equation broken to the line (numbered when labelled)."""
    if not isinstance(lhs, str):
        raise InvalidValueError(f"lhs must be LaTeX text (got {quoted(lhs)})")
    if not isinstance(rhs, sp.Basic):
        raise InvalidValueError(f"rhs must be a SymPy expression (got {quoted(rhs)})")
    if label is not None and not (isinstance(label, str) and re.fullmatch(r"[A-Za-z0-9:_]+", label)):
        raise InvalidValueError(f"label must be letters, digits, ':' and '_' (got {quoted(label)})")
    room = LINE_UNITS
    lhs_width = latex_width(lhs)
    whole = tex(rhs)
    tag = rf"\label{{{label}}}" if label else r"\notag"
    if lhs_width + 2 + latex_width(whole) <= room:
        return rf"\begin{{equation}}\sffit{{{lhs} = {whole}}}{tag}\end{{equation}}"
    # the left-hand side on a line of its own: every line then starts at the left margin;
    # align (not split) so that a result of many lines may continue on the next page
    lines = formula_lines(rhs, room - 3, printer=tex)
    rows = [rf"&\sffit{{{lhs}}}", rf"&\quad= \sffit{{{lines[0]}}}"]
    rows += [rf"&\qquad \sffit{{{line}}}" for line in lines[1:]]
    body = " \\notag\\\\\n".join(rows) + tag
    return f"\\begin{{align}}\n{body}\n\\end{{align}}"


#: Derived results that coincide with a published closed form: (activation, law) -> the
#: source, as a note (cited). Each claim is checked against the published formula, written
#: independently, in tests/test_document_typesetting.py.
LITERATURE_FORMS: dict[tuple[str, str], str] = {
    ("erf", "kernel"): "the arcsine kernel of Williams 1997",
    ("relu", "kernel"): "the arc-cosine kernel of order 1 of Cho & Saul 2009",
    ("relu", "derivative_kernel"): "the arc-cosine kernel of order 0 of Cho & Saul 2009",
}


def _coincidence(law: "Law") -> str | None:
    return LITERATURE_FORMS.get((law.activation.name, law.name))


def derivation_body(law: "Law", state: DocumentState | None = None) -> str:
    """The derivation: each step's rule and note as text, its equation numbered. A run of
    steps the document has already shown (a kernel derived under an earlier law) is cited,
    with only its conclusion repeated."""
    _check_law(law)
    state = _state(state)
    name = sp.Symbol(law.name)
    out: list[str] = []
    repeated: list[tuple[str, str, object]] = []

    def cite_repeated() -> None:
        if not repeated:
            return
        first, last = state.shown[repeated[0][:2]], state.shown[repeated[-1][:2]]
        span = rf"(\ref{{{first}}})" if first == last \
            else rf"(\ref{{{first}}})--(\ref{{{last}}})"
        lhs, _rhs, after = repeated[-1]
        out.append(rf"{{\small\sloppy\noindent As derived in {span}:\par}}")
        out.append(display(lhs, after))
        repeated.clear()

    for k, step in enumerate(law.derivation):
        lhs = law_lhs(law) if step.before == name else tex(step.before)
        key = (lhs, tex(step.after))
        last_step = k == len(law.derivation) - 1
        if last_step and step.before == name and step.after == law.expr and step.rule == "result":
            cite_repeated()
            source = _coincidence(law)
            same = f" It coincides with {state.note(source)}." if source else ""
            out.append(rf"{{\small\sloppy\noindent This is the result, (\ref{{{_result_label(law)}}})"
                       rf" ({state.note(step.justification)}).{same}\par}}")
            continue
        if key in state.shown and step.before != name:
            repeated.append((lhs, key[1], step.after))
            continue
        cite_repeated()
        why = state.note(step.rule) + (": " + state.note(step.justification)
                                       if step.justification else "")
        label = state.label()
        state.shown.setdefault(key, label)
        out.append(rf"{{\small\sloppy\noindent {why}\par}}")
        out.append(display(lhs, step.after, label))
    cite_repeated()
    return "\n".join(out)


def _result_label(law: "Law") -> str:
    # law names are identifiers of the registry; a label takes letters, digits and _ only
    return "result:" + re.sub(r"[^A-Za-z0-9_]", "", law.name)


#: Sectioning commands a law's section may use.
SECTION_LEVELS = ("section", "subsection", "subsubsection", "paragraph")


def law_section(law: "Law", level: str = "section", state: DocumentState | None = None) -> str:
    """A section with the law's result (a numbered equation) and its derivation."""
    _check_law(law)
    if level not in SECTION_LEVELS:
        raise InvalidValueError(f"level must be one of {', '.join(SECTION_LEVELS)} "
                                f"(got {quoted(level)})")
    state = _state(state)
    kind = ("diverges: " + law.divergence) if law.divergent else {
        "closed": "closed form", "series": "exact convergent series over the poles",
        "integral": "exact unevaluated Gaussian expectation"}[law.form]
    return "\n".join([
        rf"\{level}*{{{state.note(law.title)}}}",
        rf"{{\sloppy\textbf{{Convention.}} {state.note(law.convention)}\par}}",
        rf"\textbf{{Result}} ({state.note(kind)}):",
        display(law_lhs(law), law.expr, _result_label(law)),
        r"\textbf{Derivation.}\par",
        derivation_body(law, state),
    ])


def law_document(law: "Law") -> str:
    """A standalone LaTeX document: the result and its derivation."""
    _check_law(law)
    state = DocumentState()
    title = escape_text(f"symfield: {law.name} for {law.activation.name}")
    body = law_section(law, state=state)
    return "\n".join([PREAMBLE, r"\begin{document}", rf"{{\Large {title}}}\par\medskip",
                      body, state.end()])


set_latex_renderers(law_equation, law_document)

__all__ = ["LITERATURE_FORMS", "PREAMBLE", "SECTION_LEVELS", "DocumentState", "SymfieldLatexPrinter",
           "derivation_body", "display", "escape_text", "law_document", "law_equation",
           "law_lhs", "law_section", "tex", "tex_lines"]
