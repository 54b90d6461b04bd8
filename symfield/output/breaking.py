"""Long formulas broken into lines that fit the page.

The width of a formula is estimated from its LaTeX (a letter is one unit, about 5.5 pt at
10 pt; sub- and superscripts are smaller, a fraction is as wide as its wider part). A formula
wider than the line is cut at its structure, outermost first: between the terms of a sum,
between the factors of a product (a continued line starts with a times sign), inside the
brackets of a power, a function, a sum over k or an expectation (written with fixed-size
brackets, which may open on one line and close on another). What has no break point left is
a single piece; the document's ``\\sffit`` scales such a piece down to the line, so nothing
ever runs off the page, whatever the estimate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ..expectation import Expectation
from ..errors import InvalidValueError, quoted

#: Line width in estimate units: 80 % of a 520 pt line (the rest is the equation number)
#: at about 7.5 pt per unit (the estimate's typical ratio measured against TeX's boxes).
LINE_UNITS = 56

#: Brace nesting measured structurally (the recursion's depth); deeper text is counted.
MAX_DEPTH = 100
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_]|.", re.DOTALL)
_SPACES = {r"\,": 0.3, r"\;": 0.5, r"\:": 0.4, r"\ ": 0.5, r"\quad": 1.8, r"\qquad": 3.6,
           r"\!": -0.3}
_WORDS = ("\\operatorname", "\\mathrm", "\\mathbb", "\\mathcal", "\\text", "\\mathit",
          "\\texttt", "\\mathbf")
_FUNCTION_NAMES = frozenset({"arcsin", "arccos", "arctan", "sin", "cos", "tan", "sinh", "cosh",
                             "tanh", "exp", "log", "ln", "det", "max", "min", "lim", "sup",
                             "inf", "cot", "sec", "csc"})
_DELIMITED = ("\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr",
              "\\Biggl", "\\Biggr")


def latex_width(latex: str) -> float:
    """Estimated printed width of math-mode LaTeX, in letters."""
    if not isinstance(latex, str):
        raise InvalidValueError(f"expected LaTeX text (got {quoted(latex)})")
    latex = re.sub(r"\\begin\{smallmatrix\}(.*?)\\end\{smallmatrix\}",
                   lambda m: "{" + max(m.group(1).split(r"\\"), key=latex_width) + "}",
                   latex, flags=re.DOTALL)
    tokens = _TOKEN.findall(latex)
    depth = deepest = 0
    for t in tokens:
        depth += {"{": 1, "}": -1}.get(t, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:  # no formula of a law nests this deep: a plain count will do
        return float(len(tokens))
    width, _ = _sequence(tokens, 0, stop=None)
    return width


def _sequence(tokens: list[str], i: int, stop: str | None) -> tuple[float, int]:
    width = 0.0
    while i < len(tokens):
        t = tokens[i]
        if t == stop:
            return width, i + 1
        w, i = _atom(tokens, i)
        width += w
    return width, i


def _group(tokens: list[str], i: int) -> tuple[float, int]:
    """A braced group or a single token."""
    if i >= len(tokens):
        return 0.0, i
    if tokens[i] == "{":
        return _sequence(tokens, i + 1, "}")
    return _atom(tokens, i)


def _atom(tokens: list[str], i: int) -> tuple[float, int]:
    t = tokens[i]
    if t == "{":
        return _sequence(tokens, i + 1, "}")
    if t in ("^", "_"):
        w, j = _group(tokens, i + 1)
        return 0.7 * w, j
    if t in ("\\frac", "\\dfrac", "\\tfrac"):
        a, j = _group(tokens, i + 1)
        b, j = _group(tokens, j)
        return max(a, b) * (0.85 if t != "\\dfrac" else 1.0) + 0.4, j
    if t == "\\sqrt":
        j = i + 1
        if j < len(tokens) and tokens[j] == "[":
            while j < len(tokens) and tokens[j] != "]":
                j += 1
            j += 1
        w, j = _group(tokens, j)
        return w + 1.0, j
    if t in _WORDS:
        if i + 1 < len(tokens) and tokens[i + 1] == "{":
            j, letters = i + 2, 0
            depth = 1
            while j < len(tokens) and depth:
                depth += {"{": 1, "}": -1}.get(tokens[j], 0)
                letters += 0 if tokens[j] in "{}" else 1
                j += 1
            return 0.9 * letters, j
        return 1.0, i + 1
    if t in _DELIMITED:
        return (0.0 if i + 1 < len(tokens) and tokens[i + 1] == "." else 0.7), i + 2
    if t in _SPACES:
        return _SPACES[t], i + 1
    if t in ("\\begin", "\\end"):
        _w, j = _group(tokens, i + 1)
        return 0.0, j
    if t[1:] in _FUNCTION_NAMES:
        return 0.9 * len(t) - 0.6, i + 1
    if t.startswith("\\") and len(t) > 2:
        return (1.5 if t in ("\\sum", "\\prod", "\\int") else 1.0), i + 1
    if t in "+-=<>" or t in ("\\pm", "\\cdot", "\\times", "\\sim", "\\to", "\\leq", "\\geq"):
        return 2.0, i + 1
    if t in ",;":
        return 0.6, i + 1
    if t in "()[]|.'/":
        return 0.6, i + 1
    if t.isspace() or t == "&":
        return 0.0, i + 1
    return 1.0, i + 1


@dataclass(frozen=True)
class Piece:
    """A piece of a formula between break points: its LaTeX, its width, and what starts
    its line when a break falls before it (a times sign before a factor)."""
    latex: str
    joiner: str = " "
    break_prefix: str = ""

    @property
    def width(self) -> float:
        return latex_width(self.latex)


def formula_lines(expr: sp.Basic, width: float = LINE_UNITS, first: float | None = None,
                  printer: Callable[[sp.Basic], str] | None = None) -> list[str]:
    """LaTeX lines of ``expr``, each at most ``width`` units where the structure allows
    (the first at most ``first``: the left-hand side takes the rest). ``printer`` prints a
    subexpression (the documents pass their own notation; SymPy's ``latex`` otherwise)."""
    if not isinstance(expr, sp.Basic):
        raise InvalidValueError(f"expected a SymPy expression (got {quoted(expr)})")
    if printer is not None and not callable(printer):
        raise InvalidValueError(f"printer must be a function (got {quoted(printer)})")
    print_ = printer or sp.latex
    first = width if first is None else first
    pieces = _pieces(expr, width, print_)
    lines: list[str] = []
    current, used, limit = "", 0.0, first
    for piece in pieces:
        w = piece.width
        if current and used + w > limit:
            lines.append(current)
            current, used, limit = piece.break_prefix + piece.latex, w, width
        else:
            current = current + piece.joiner + piece.latex if current else piece.latex
            used += w
    lines.append(current)
    return lines


def _pieces(expr: sp.Basic, width: float, print_) -> list[Piece]:
    whole = print_(expr)
    if latex_width(whole) <= width:
        return [Piece(whole)]
    if isinstance(expr, sp.Add):
        return _sum_pieces(expr, width, print_)
    if isinstance(expr, sp.Mul):
        return _product_pieces(expr, width, print_)
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0 \
            and isinstance(expr.base, (sp.Add, sp.Mul)):
        return _bracketed("", _pieces(expr.base, width, print_), r"\Bigr)^{" + print_(expr.exp) + "}")
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        head = print_(sp.Sum(sp.Symbol("PLACEHOLDERX"), *expr.limits))
        cut = head.rfind("PLACEHOLDERX")
        if cut > 0:
            inner = _pieces(expr.function, width, print_)
            return _bracketed(head[:cut].rstrip() + " ", inner, r"\Bigr)")
    if isinstance(expr, Expectation):
        body = print_(expr.integrand)
        ending = body + r"\right]"
        if whole.endswith(ending) and whole[:-len(ending)].endswith(r"\left["):
            head = whole[:-len(ending) - len(r"\left[")]
            return _bracketed(head, _pieces(expr.integrand, width, print_), r"\Bigr]", "[")
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        arg = print_(expr.args[0])
        for opening in (r"{\left(", r"\left("):
            at = whole.find(opening + arg)
            if at > 0 and whole.rstrip("}").endswith(r"\right)"):
                head = whole[:at]
                return _bracketed(head, _pieces(expr.args[0], width, print_), r"\Bigr)")
    return [Piece(whole)]


def _bracketed(head: str, inner: list[Piece], closing: str, opening: str = "(") -> list[Piece]:
    """``head \\Bigl( inner \\Bigr)``: fixed-size brackets may open and close on
    different lines (``\\left`` and ``\\right`` may not)."""
    first, *rest = inner
    inner = [Piece(head + r"\Bigl" + opening + first.latex, first.joiner, first.break_prefix),
             *rest]
    last = inner[-1]
    inner[-1] = Piece(last.latex + closing, last.joiner, last.break_prefix)
    return inner


def _sum_pieces(expr: sp.Add, width: float, print_) -> list[Piece]:
    out: list[Piece] = []
    for k, term in enumerate(expr.as_ordered_terms()):  # the printers' own order
        negative = term.could_extract_minus_sign()
        body = -term if negative else term
        sign = "-" if negative else ("+" if k else "")
        inner = _pieces(body, width - 2, print_)
        if isinstance(body, sp.Add) and len(inner) == 1:
            inner = [Piece(r"\left(" + inner[0].latex + r"\right)")]
        head = inner[0]
        out.append(Piece((sign + " " if sign else "") + head.latex, " ", ""))
        out.extend(inner[1:])
    return out


def _product_pieces(expr: sp.Mul, width: float, print_) -> list[Piece]:
    numerator, denominator = sp.fraction(expr, exact=True)
    coefficient, factors = numerator.as_coeff_mul()
    pieces: list[Piece] = []
    sign = ""
    if coefficient.is_negative:
        sign, coefficient = "- ", -coefficient
    lead = [] if coefficient == 1 else [print_(coefficient)]
    if denominator != 1:
        below = print_(denominator)
        if latex_width(below) <= width / 2:
            lead = [r"\frac{" + (lead[0] if lead else "1") + "}{" + below + "}"]
            denominator = sp.S.One
    for text in lead:
        pieces.append(Piece(text))
    ordered = sp.Mul(*factors, evaluate=False).as_ordered_factors() if len(factors) > 1 \
        else list(factors)
    for factor in ordered:
        inner = _pieces(factor, width, print_)
        if isinstance(factor, sp.Add) and len(inner) == 1:
            inner = [Piece(r"\left(" + inner[0].latex + r"\right)")]
        elif isinstance(factor, sp.Add):
            inner = _bracketed("", inner, r"\Bigr)")
        first, *rest = inner
        pieces.append(Piece(first.latex, " ", r"\times "))
        pieces.extend(rest)
    if denominator != 1:
        inner = _bracketed("", _pieces(denominator, width, print_), r"\Bigr)^{-1}")
        first, *rest = inner
        pieces.append(Piece(first.latex, " ", r"\times "))
        pieces.extend(rest)
    if not pieces:
        return [Piece(print_(expr))]
    if sign:
        pieces[0] = Piece(sign + pieces[0].latex, pieces[0].joiner, pieces[0].break_prefix)
    return pieces


__all__ = ["LINE_UNITS", "Piece", "formula_lines", "latex_width"]
