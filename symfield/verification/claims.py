"""Claims: an expression, an equation, or a chain of equal steps, as typed by a theorist.

This module turns raw text into *parts* (the text of each step, its line, and an optional law
label on the left) without interpreting any formula; :mod:`.parser` parses each part.

Accepted layouts (plain or LaTeX):

    E[phi(u)^2] = 2/pi*asin(2q/(1+2q))               one line, '=' or '=='
    E[phi(u)^2]                                       several lines; each new line continues
    = 2/pi*asin(2q/(1+2q))                            the chain with '= ...', or continues
    = 2/pi*atan(2q/sqrt(1+4q))                        the formula after an operator
    \\begin{align} a &= b \\\\ &= c \\end{align}         rows separated by \\\\, '&' ignored

In LaTeX only ``\\\\`` (and a plain-text newline) separates rows; other newlines are spaces.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

import sympy as sp

from . import limits
from .errors import ParseError, quote

Syntax = Literal["plain", "latex"]

#: Marks a row break (a plain newline or LaTeX's \\) after normalisation.
ROW_BREAK = "\x1e"


@dataclass(frozen=True)
class ClaimStep:
    """One step of a claim: its SymPy expression, the text it came from, and its line."""

    expr: sp.Expr
    text: str
    line: int


@dataclass(frozen=True)
class Claim:
    """A parsed claim: one or more steps that are asserted to be equal, in order.

    ``label`` is set when the left-hand side is not a formula but a name, as in
    ``chi_1 = 4*sigma_w**2/(pi*sqrt(1+4q))`` or ``\\chi_1(q) = ...``: it is the name with
    backslashes, braces and spaces removed (``"chi_1"``), for a caller to look up a law;
    ``label_arguments`` are the names in its parentheses, if any; ``label_error`` is why the
    left-hand side is not a formula (for the message when it is not a law name either).
    ``kind`` counts the label as a side: ``expression`` (one part), ``equation`` (two) or
    ``chain`` (three or more).
    """

    steps: tuple[ClaimStep, ...]
    syntax: Syntax
    source: str
    label: str | None = None
    label_arguments: tuple[str, ...] = field(default=())
    label_error: str | None = None

    @property
    def kind(self) -> Literal["expression", "equation", "chain"]:
        sides = len(self.steps) + (self.label is not None)
        return "expression" if sides == 1 else "equation" if sides == 2 else "chain"

    @property
    def expressions(self) -> tuple[sp.Expr, ...]:
        return tuple(step.expr for step in self.steps)

    @property
    def lhs(self) -> sp.Expr:
        """Left side of an equation without a label (ValueError otherwise)."""
        if self.kind != "equation" or self.label is not None:
            raise ValueError("lhs is defined for an equation between two formulas")
        return self.steps[0].expr

    @property
    def rhs(self) -> sp.Expr:
        """Last step: the right side of an equation (or of a labelled claim)."""
        return self.steps[-1].expr

    def pairs(self) -> list[tuple[ClaimStep, ClaimStep]]:
        """Consecutive steps (previous, next): what a verifier checks, in order."""
        return list(zip(self.steps, self.steps[1:]))


@dataclass(frozen=True)
class Part:
    """The raw text of one step before parsing."""

    text: str
    line: int
    index: int


# -- text normalisation -------------------------------------------------------------------------

_PLAIN_UNICODE = {
    "σ": "sigma", "ρ": "rho", "π": "pi", "φ": "phi", "ϕ": "phi", "κ": "kappa", "α": "alpha",
    "Θ": "Theta", "²": "^2", "³": "^3", "·": "*", "⋅": "*", "×": "*", "−": "-", "–": "-",
    "′": "'", "″": "''", "\u00a0": " ", "𝔼": "E",
}
_LATEX_UNICODE = {
    "σ": r"\sigma ", "ρ": r"\rho ", "π": r"\pi ", "φ": r"\phi ", "ϕ": r"\phi ",
    "κ": r"\kappa ", "α": r"\alpha ", "Θ": r"\Theta ", "²": "^{2}", "³": "^{3}",
    "·": r"\cdot ", "⋅": r"\cdot ", "×": r"\times ", "−": "-", "–": "-", "′": "'", "″": "''",
    "\u00a0": " ", "𝔼": r"\mathbb{E}", "√": r"\sqrt",
}

_LATEX_HINTS = re.compile(r"[\\{}$&]")


def detect_syntax(text: str) -> Syntax:
    """'latex' when the text has backslash commands, braces, $ or &; otherwise 'plain'."""
    return "latex" if _LATEX_HINTS.search(text) else "plain"


def check_characters(text: str, syntax: Syntax) -> str:
    """Map the friendly Unicode symbols (σ, π, ², ·) and reject every other non-ASCII or
    control character, naming it."""
    table = _LATEX_UNICODE if syntax == "latex" else _PLAIN_UNICODE
    out = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        if char in table:
            out.append(table[char])
        elif char in "\n\t" or " " <= char <= "~":
            out.append(char)
        else:
            name = unicodedata.name(char, "unnamed character")
            kind = "control character" if unicodedata.category(char)[0] == "C" else "character"
            shown = "" if kind == "control character" else f"'{char}' "
            raise ParseError(f"the {kind} {shown}(U+{ord(char):04X} {name}) is not allowed; "
                             f"formulas are ASCII (plus σ ρ π φ κ α ² · ×)")
    return "".join(out)


_LATEX_DROP = re.compile(
    r"\\begin\s*\{[A-Za-z*]+\}(?:\{[^{}]*\})?|\\end\s*\{[A-Za-z*]+\}|\\(?:nonumber|notag)\b"
    r"|\\(?:label|tag)\s*\{[^{}]*\}|\$\$?|\\\[|\\\]|\\\(|\\\)")
_LATEX_ENVIRONMENTS = {"align", "align*", "aligned", "equation", "equation*", "gather", "gather*",
                       "split", "multline", "multline*", "eqnarray", "eqnarray*", "displaymath",
                       "math"}
_LATEX_ROW = re.compile(r"\\\\(?:\s*\[[^\]]*\])?")


def normalise(text: str, syntax: Syntax) -> str:
    """Comments, math delimiters and environments removed; rows marked with ROW_BREAK."""
    if syntax == "plain":
        text = re.sub(r"#[^\n]*", "", text)
        return text.replace("\n", ROW_BREAK + "\n")
    text = re.sub(r"(?<!\\)%[^\n]*", "", text)
    for env in re.findall(r"\\(?:begin|end)\s*\{([^{}]*)\}", text):
        if env not in _LATEX_ENVIRONMENTS:
            raise ParseError(f"the LaTeX environment {env} is not supported; use align, "
                             f"equation or gather")
    text = _LATEX_ROW.sub(ROW_BREAK, text)  # first: '\\[2pt]' is not a '\[' delimiter
    text = _LATEX_DROP.sub(" ", text)
    return text.replace("&", " ")


# -- splitting ------------------------------------------------------------------------------------

_ENDS_WITH_OPERATOR = re.compile(r"(?:[-+*/^(\[{,_]|\\cdot|\\times|\\left\s*.)\s*$")
_STARTS_WITH_OPERATOR = re.compile(r"^\s*(?:[-+*/^)\]}]|\\cdot|\\times|\\right)")
_TRAILING_PUNCTUATION = re.compile(r"(?:\s|\\[,;:!]|\\q?quad\b|[.,;])+$")


def split_parts(text: str, syntax: Syntax) -> list[Part]:
    """The steps of a normalised claim, split at top-level '=' signs."""
    pieces: list[tuple[int, int]] = []
    breaks: list[tuple[int, int]] = []  # (position, bracket depth) of each row break
    depth, start, i = 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and syntax == "latex":
            i += 2  # a command or an escaped character: \{ is not a bracket
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ROW_BREAK:
            breaks.append((i, depth))
        elif char == "=" and depth == 0:
            before = text[i - 1] if i else ""
            if before and before in "<>!:":
                what = "assignment expressions (:=) are" if before == ":" else \
                    f"the relation '{before}=' is"
                raise ParseError(f"{what} not allowed; only '=' relations are supported")
            pieces.append((start, i))
            if text[i + 1:i + 2] == "=":
                i += 1
            start = i + 1
        elif char in "<>" and depth == 0:
            raise ParseError(f"the relation '{char}' is not supported; only '=' relations are")
        i += 1
    pieces.append((start, len(text)))

    for position, at_depth in breaks:
        if at_depth == 0:
            _check_row_break(text, pieces, position, syntax)

    parts = []
    for index, (begin, end) in enumerate(pieces):
        raw = text[begin:end]
        if syntax == "latex":
            raw = _TRAILING_PUNCTUATION.sub("", raw.replace(ROW_BREAK, " "))
        clean = raw.replace(ROW_BREAK, " ").replace("\n", " ").strip()
        line = text.count("\n", 0, begin + len(raw) - len(raw.lstrip())) + 1
        if not clean:
            where = "before the first '='" if index == 0 else f"after '=' number {index}"
            raise ParseError(f"the claim has an empty step {where}")
        parts.append(Part(clean, line, index))
    return parts


def _check_row_break(text: str, pieces: list[tuple[int, int]], position: int,
                     syntax: Syntax) -> None:
    """A new row must continue the chain ('= ...') or the formula (after an operator)."""
    begin, end = next((b, e) for b, e in pieces if b <= position <= e)
    before = text[begin:position].replace(ROW_BREAK, " ")
    after_end = text.find(ROW_BREAK, position + 1)
    after = text[position + 1:end if after_end == -1 or after_end > end else after_end]
    if not before.strip() or not after.strip():
        return
    if _ENDS_WITH_OPERATOR.search(before) or _STARTS_WITH_OPERATOR.search(after):
        return
    offset = position + 1 + len(after) - len(after.lstrip())
    line = text.count("\n", 0, offset) + 1
    raise ParseError(f"line {line} starts a new formula: continue a chain "
                     f"with '= ...' or break a long formula after an operator "
                     f"(near {quote(after.strip())})")


# -- labels ---------------------------------------------------------------------------------------

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = re.compile(rf"^({_NAME}'*(?:\^\*)?)\s*(?:\(\s*((?:{_NAME}\s*,\s*)*{_NAME})?\s*\))?$")


def label_of(text: str, syntax: Syntax) -> tuple[str, tuple[str, ...]] | None:
    """(name, argument names) when a left-hand side is a law name such as chi_1(q).

    A known function applied to something (``atan2(0, 0)``, ``sqrt(q)``) is a formula, never
    a label: its own error is the one to report.
    """
    if len(text) > 80:
        return None
    if syntax == "latex":
        text = re.sub(r"\\(?:left|right|mathrm|operatorname|mathcal|text)\b", "", text)
        text = re.sub(r"[\\{}\s]", "", text)
    match = _LABEL.match(text.strip())
    if not match:
        return None
    name = match.group(1)
    if "(" in text and _is_function_name(name.rstrip("'")):
        return None
    arguments = tuple(a.strip() for a in (match.group(2) or "").split(",") if a.strip())
    return name, arguments


def _is_function_name(name: str) -> bool:
    from .names import ACTIVATION_NAMES, FUNCTION_NAMES

    return name in FUNCTION_NAMES or name in ACTIVATION_NAMES or name == "E"


def check_length(text: object) -> str:
    """The claim as a str within the size limit (first check of every entry point)."""
    if not isinstance(text, str):
        raise ParseError(f"a formula must be text (str), got {type(text).__name__}")
    if len(text) > limits.MAX_TEXT_CHARS:
        raise ParseError(f"the claim is too long ({len(text)} characters; limit "
                         f"{limits.MAX_TEXT_CHARS})")
    if not text.strip():
        raise ParseError("the formula is empty")
    return text
