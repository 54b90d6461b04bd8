"""Step notes, titles and conventions typeset: prose as text, formulas as inline mathematics.

The engine writes its notes in plain ASCII ("chi1 = sigma_w^2 E[phi'(u)^2], u ~ N(0, q)"):
the same text serves the terminal, the JSON records and the documents. Here a note is cut
into prose words and formula runs; a formula is rebuilt as LaTeX token by token from a
whitelist (known names become fixed macros, other identifiers upright text, operators and
brackets themselves), so nothing in a note, including a user's formula or parameter names,
can reach pdflatex as a macro. A run that does not parse (unbalanced brackets, a character
outside the whitelist) is printed as escaped text, as before.

Names of the literature in a note ("Poole et al. 2016", "Price's theorem") are cited from
:data:`BIBLIOGRAPHY`.
"""
from __future__ import annotations

import re

from ..errors import InvalidValueError, quoted

#: key -> bibliography entry (LaTeX text).
BIBLIOGRAPHY: dict[str, str] = {
    "price1958": r"R.~Price, A useful theorem for nonlinear devices having Gaussian inputs, "
                 r"\emph{IRE Trans.\ Inform.\ Theory} 4 (1958) 69--72.",
    "stein1981": r"C.~M.~Stein, Estimation of the mean of a multivariate normal distribution, "
                 r"\emph{Ann.\ Statist.} 9 (1981) 1135--1151.",
    "mehler1866": r"F.~G.~Mehler, Ueber die Entwicklung einer Function von beliebig vielen "
                  r"Variablen nach Laplaceschen Functionen h\"oherer Ordnung, \emph{J.\ reine "
                  r"angew.\ Math.} 66 (1866) 161--176.",
    "faddeeva": r"The Faddeeva function $w(z) = e^{-z^2}\operatorname{erfc}(-iz)$: "
                r"NIST Digital Library of Mathematical Functions, \S7.2; J.~A.~C.~Weideman, "
                r"Computation of the complex error function, \emph{SIAM J.\ Numer.\ Anal.} "
                r"31 (1994) 1497--1518.",
    "isserlis1918": r"L.~Isserlis, On a formula for the product-moment coefficient of any "
                    r"order of a normal frequency distribution, \emph{Biometrika} 12 (1918) "
                    r"134--139.",
    "williams1997": r"C.~K.~I.~Williams, Computing with infinite networks, \emph{NIPS} 9 (1997).",
    "chosaul2009": r"Y.~Cho and L.~K.~Saul, Kernel methods for deep learning, \emph{NIPS} 22 "
                   r"(2009).",
    "poole2016": r"B.~Poole, S.~Lahiri, M.~Raghu, J.~Sohl-Dickstein and S.~Ganguli, "
                 r"Exponential expressivity in deep neural networks through transient chaos, "
                 r"\emph{NIPS} 29 (2016).",
    "schoenholz2017": r"S.~S.~Schoenholz, J.~Gilmer, S.~Ganguli and J.~Sohl-Dickstein, Deep "
                      r"information propagation, \emph{ICLR} (2017).",
    "amari2018": r"S.~Amari, R.~Karakida and M.~Oizumi, Statistical neurodynamics of deep "
                 r"networks: geometry of signal spaces, arXiv:1808.07169 (2018); Fisher "
                 r"information and natural gradient learning of random deep networks, "
                 r"\emph{AISTATS} (2019).",
    "karakida2019": r"R.~Karakida, S.~Akaho and S.~Amari, Universal statistics of Fisher "
                    r"information in deep neural networks: mean field approach, \emph{AISTATS} "
                    r"(2019).",
    "jacot2018": r"A.~Jacot, F.~Gabriel and C.~Hongler, Neural tangent kernel: convergence and "
                 r"generalization in neural networks, \emph{NeurIPS} 31 (2018).",
    "roberts2022": r"D.~A.~Roberts, S.~Yaida and B.~Hanin, \emph{The Principles of Deep "
                   r"Learning Theory}, Cambridge University Press (2022).",
}

#: A phrase of a note that names a source, and the key it cites (the year, if written, is
#: part of the phrase: the bibliography gives it).
_CITED = [
    (r"Price's theorem", "price1958"),
    (r"Stein's lemma", "stein1981"),
    (r"Mehler(?:/Hermite)?(?: expansion| series)?", "mehler1866"),
    (r"Faddeeva(?: series| function| coefficients)?", "faddeeva"),
    (r"Isserlis", "isserlis1918"),
    (r"Williams(?: 1997)?", "williams1997"),
    (r"Cho (?:&|and) Saul(?: 2009)?", "chosaul2009"),
    (r"Poole et al\.(?: \d{4})?", "poole2016"),
    (r"Schoenholz et al\.(?: \d{4})?", "schoenholz2017"),
    (r"Karakida et al\.(?: \d{4})?", "karakida2019"),
    (r"Jacot et al\.(?: \d{4})?", "jacot2018"),
    (r"Amari(?:'s)?", "amari2018"),
    (r"Roberts,? Yaida (?:&|and) Hanin(?: \d{4})?", "roberts2022"),
]
_CITATION = re.compile("|".join(f"(?P<c{i}>{p})" for i, (p, _k) in enumerate(_CITED)))

#: Longest formula and deepest bracket nesting typeset as mathematics (beyond: as text).
MAX_FORMULA_CHARS = 2000
MAX_FORMULA_DEPTH = 30

#: Names with a fixed rendering in a formula.
_NAMES = {
    "rho": r"\rho", "sigma_w": r"\sigma_w", "sigma_b": r"\sigma_b", "phi": r"\varphi",
    "varphi": r"\varphi", "Phi": r"\Phi", "pi": r"\pi", "oo": r"\infty", "inf": r"\infty",
    "chi_par": r"\chi_\parallel", "chi_perp": r"\chi_\perp", "kbar": r"\bar\kappa",
    "qtilde": r"\tilde q", "E": r"\mathbb{E}", "exp": r"\exp", "log": r"\log", "sin": r"\sin",
    "cos": r"\cos", "tanh": r"\tanh", "sinh": r"\sinh", "cosh": r"\cosh", "arcsin": r"\arcsin",
    "arccos": r"\arccos", "asin": r"\arcsin", "acos": r"\arccos", "det": r"\det",
    "Max": r"\max", "Min": r"\min", "max": r"\max", "min": r"\min", "sum": r"\sum",
    "Heaviside": r"\Theta", "erf": r"\operatorname{erf}", "erfc": r"\operatorname{erfc}",
    "sech": r"\operatorname{sech}", "Abs": r"\operatorname{abs}", "abs": r"\operatorname{abs}",
    "sign": r"\operatorname{sign}", "sgn": r"\operatorname{sgn}", "Var": r"\operatorname{Var}",
    "Cov": r"\operatorname{Cov}", "diag": r"\operatorname{diag}", "Re": r"\operatorname{Re}",
    "Im": r"\operatorname{Im}", "sigmoid": r"\operatorname{sigmoid}",
    "softplus": r"\operatorname{softplus}", "relu": r"\operatorname{relu}",
}
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
          "lambda", "mu", "nu", "xi", "tau", "upsilon", "chi", "psi", "omega", "Gamma", "Delta",
          "Theta", "Lambda", "Xi", "Sigma", "Upsilon", "Psi", "Omega", "sigma")
_NAMES.update({g: "\\" + g for g in _GREEK})

#: Words of more than one letter that are formulas, not prose, when they stand alone.
_MATH_WORDS = frozenset(_GREEK) | {"rho", "phi", "varphi", "Phi", "sigma_w", "sigma_b", "pi",
                                    "oo", "chi_par", "chi_perp", "kbar", "qtilde"}
#: Short English words that are never formulas.
_PROSE_WORDS = frozenset({"a", "an", "as", "at", "be", "by", "do", "if", "in", "is", "it", "of",
                          "on", "or", "so", "to", "we", "no", "and", "the"})

_TOKEN = re.compile(r"""
    (?P<word>_?[A-Za-z][A-Za-z0-9]*(?:_(?:\{[A-Za-z0-9+\-]*\}|[A-Za-z0-9]+))*)
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<op>\*\*|->|>=|<=|\+-|\.\.\.|[-+*/=<>^~|!'.,;:()\[\]{}_])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE)
_WORD = re.compile(r"[A-Za-z]+(?:-(?:[A-Za-z]+|[0-9]+))*(?:'s)?")
_ABBREVIATION = re.compile(r"(?:[A-Za-z]\.){2,}[A-Za-z]?")


def escape_text(text: str) -> str:
    """Plain text for LaTeX text mode."""
    if not isinstance(text, str):
        raise InvalidValueError(f"expected text (got {quoted(text)})")
    specials = {"\\": r"\textbackslash{}", "_": r"\_", "^": r"\^{}", "&": r"\&", "%": r"\%",
                "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\~{}"}
    return "".join(specials.get(ch, ch) for ch in text)


def note_latex(text: str, cited: set[str] | None = None) -> str:
    """Text-mode LaTeX for an ASCII note: prose escaped, formulas as ``$...$``, sources
    cited with ``\\cite`` (their keys added to ``cited`` when given)."""
    if not isinstance(text, str):
        raise InvalidValueError(f"expected text (got {quoted(text)})")
    out, start = [], 0
    for match in _CITATION.finditer(text):
        out.append(_prose_and_formulas(text[start:match.start()]))
        key = _CITED[int(match.lastgroup[1:])][1]
        if cited is not None:
            cited.add(key)
        out.append(escape_text(match.group(0)) + rf"~\cite{{{key}}}")
        start = match.end()
    out.append(_prose_and_formulas(text[start:]))
    return "".join(out)


def _is_prose(chunk: str, following: str | None) -> bool:
    """A chunk (text between spaces) is prose when, without its brackets, quotes and
    punctuation, it is an English word (hyphenated or possessive), not a symbol's name."""
    core = _core(chunk)
    if _ABBREVIATION.fullmatch(core):
        return True
    if not _WORD.fullmatch(core) or core in _MATH_WORDS:
        return False
    if len(core) == 1:
        # "a" is an article before a word ("a delta at u = 0"), a symbol elsewhere ("a x")
        after = _core(following) if following else ""
        return core == "a" and chunk == "a" and re.fullmatch(r"[A-Za-z]{2,}", after) is not None
    return True


def _core(chunk: str) -> str:
    return chunk.strip("()[]'\"").rstrip(",;:.").strip("()[]'\"")


def _prose_and_formulas(text: str) -> str:
    """Consecutive formula chunks form one formula; its trailing punctuation and brackets
    it does not match stay text."""
    chunks = text.split(" ")
    kinds = [bool(c) and not _is_prose(c, chunks[i + 1] if i + 1 < len(chunks) else None)
             for i, c in enumerate(chunks)]
    out: list[str] = []
    i = 0
    while i < len(chunks):
        if not kinds[i]:
            out.append(escape_text(chunks[i]))
            i += 1
            continue
        j = i
        # a semicolon or colon ends a formula ("x'_j; u_i sums n terms")
        while j + 1 < len(chunks) and kinds[j + 1] and chunks[j][-1:] not in (";", ":"):
            j += 1
        out.append(_formula_span(" ".join(chunks[i:j + 1])))
        i = j + 1
    return " ".join(out)


def _formula_span(span: str) -> str:
    """A run of formula chunks: unmatched brackets at its ends and trailing punctuation
    printed as text around the formula."""
    lead = trail = ""
    while span:
        if span[-1] in ",;:" or (span.endswith(".") and not span.endswith("...")):
            span, trail = span[:-1], span[-1] + trail
            continue
        opened, closed = _unmatched(span)
        unmatched = set(opened) | set(closed)
        if len(span) - 1 in unmatched or span[-1] == " ":
            span, trail = span[:-1], span[-1] + trail
        elif 0 in unmatched or span[0] == " ":
            span, lead = span[1:], lead + span[0]
        else:
            break
    opened, closed = _unmatched(span)
    if opened or closed:  # a bracket the formula does not match: text, formulas around it
        k = min(opened + closed)
        return (escape_text(lead) + _formula_span(span[:k]) + escape_text(span[k])
                + _formula_span(span[k + 1:]) + escape_text(trail))
    if not span.strip():
        return escape_text(lead + span + trail)
    body = _formula_as_text(span)
    return escape_text(lead) + body + escape_text(trail)


def _unmatched(text: str) -> tuple[list[int], list[int]]:
    """Positions of the opening and closing brackets that have no partner."""
    stack: list[int] = []
    closed: list[int] = []
    for k, ch in enumerate(text):
        if ch in "([{":
            stack.append(k)
        elif ch in ")]}":
            if stack:
                stack.pop()
            else:
                closed.append(k)
    return stack, closed


def _formula_as_text(formula: str) -> str:
    try:
        return "$" + formula_latex(formula) + "$"
    except ValueError:
        return escape_text(formula)


def formula_latex(formula: str) -> str:
    """Math-mode LaTeX for an ASCII formula ("sigma_w^2 E[phi'(u)^2]"); ValueError when it
    cannot be rebuilt from the whitelist (the caller prints it as text)."""
    if not isinstance(formula, str):
        raise InvalidValueError(f"expected a formula as text (got {quoted(formula)})")
    if len(formula) > MAX_FORMULA_CHARS:
        raise ValueError("too long to typeset as a formula")
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(formula)]
    if any(kind == "other" for kind, _ in tokens):
        raise ValueError("a character outside the whitelist")
    # every bracket closed by its own kind: "(}" balances in count but leaves TeX a stray }
    pairs, stack = {")": "(", "]": "[", "}": "{"}, []
    for _kind, t in tokens:
        if t in ("(", "[", "{"):
            stack.append(t)
            if len(stack) > MAX_FORMULA_DEPTH:
                raise ValueError("brackets nested too deeply")
        elif t in pairs:
            if not stack or stack.pop() != pairs[t]:
                raise ValueError("unbalanced brackets")
    if stack:
        raise ValueError("unbalanced brackets")
    tokens = [t for t in tokens if t[0] != "space"]
    return _render(tokens)


def _render(tokens: list[tuple[str, str]]) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, t = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else None
        previous = tokens[i - 1][1] if i else None
        if kind == "word":
            if t.startswith("_") and previous in ("}", ")", "'"):
                out.append("_{" + _word(t[1:], subscript=True) + "}")  # W^{l+1}_ji
            elif t == "sqrt" and nxt == "(":
                end = _closing(tokens, i + 1)
                out.append(r"\sqrt{" + _render(tokens[i + 2:end]) + "}")
                i = end + 1
                continue
            elif t == "N" and nxt == "(":
                out.append(r"\mathcal{N}")
            else:
                out.append(_word(t))
        elif kind == "number":
            out.append(t)
        elif t == "'" and out and _scripted(out[-1]):
            out.append("{}'")  # a prime after a sub- or superscript: delta^L_k'
        elif t == "_" and nxt is not None and tokens[i + 1][0] in ("number", "word"):
            if out and _scripted(out[-1]) and out[-1].rstrip("}").count("_{"):
                raise ValueError("a second subscript on the same base")
            base = len(out) - 1
            while base > 0 and out[base] == "'":
                base -= 1
            if out and "_{" in out[base] and not out[base].startswith(("^{", "_{", "{")):
                # K1'_12: K_{1}' is the base of _12
                out[base:] = ["{" + "".join(out[base:]) + "}"]
            out.append("_{" + _word(nxt, subscript=True) if tokens[i + 1][0] == "word" else "_{" + nxt)
            out.append("}")
            i += 2
            continue
        elif t == "*" and (nxt is None or nxt in (",", ";", ")", "]", "=", "'")):
            out.append("^{*}")  # q*, c*: a fixed point
        elif t in ("^", "**"):
            if out and _scripted(out[-1]) and "^" in out[-1]:
                raise ValueError("a second exponent on the same base")
            exponent, i = _exponent(tokens, i + 1)
            # ('l_i' comes back as the exponent "l}_{i": the subscript rides along)
            subscript_follows = "}_{" in exponent or (i < len(tokens)
                                                      and tokens[i][1].startswith("_"))
            if subscript_follows and out and "_{" in out[-1] \
                    and not out[-1].startswith(("^{", "_{", "{")):
                out[-1] = "{" + out[-1] + "}"  # K1^l_i: K_{1} is the base of ^l and _i
            out.append("^{" + exponent + "}")
            continue
        elif t == "[" and nxt == "[":
            end = _closing(tokens, i)
            out.append(_matrix(tokens[i + 1:end]))
            i = end + 1
            continue
        elif t == ",":
            out.append(r",\allowbreak")  # a long formula in a note may break after a comma
        else:
            out.append({"*": r"\,", "~": r"\sim ", "->": r"\to ", ">=": r"\geq ",
                        "<=": r"\leq ", "+-": r"\pm ", "...": r"\dots ", "'": "'",
                        "_": r"\_"}.get(t, t))
        i += 1
    return " ".join(out).replace(" '", "'").replace(" ^", "^").replace(" _", "_")


def _scripted(piece: str) -> bool:
    """Whether a rendered piece ends in a sub- or superscript group."""
    return piece.startswith(("^{", "_{")) or ("}_{" in piece and piece.endswith("}"))


def _closing(tokens: list[tuple[str, str]], i: int) -> int:
    """Index of the bracket that closes the one at ``i``."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j][1]
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(t, 0)
        if depth == 0:
            return j
    raise ValueError("unbalanced brackets")


def _exponent(tokens: list[tuple[str, str]], i: int) -> tuple[str, int]:
    """The exponent after ``^`` (a number, a name, a bracketed group, or a sign and one of
    those) and the index after it."""
    if i >= len(tokens):
        raise ValueError("an exponent is missing")
    sign = ""
    if tokens[i][1] in ("-", "+"):
        sign, i = tokens[i][1], i + 1
        if i >= len(tokens):
            raise ValueError("an exponent is missing")
    kind, t = tokens[i]
    if t in ("(", "{"):
        end = _closing(tokens, i)
        inner = tokens[i + 1:end]
        body = _render(inner)
        # f^(1) is a derivative order (kept in brackets); (...)^(-1/2) a plain exponent
        if t == "(" and len(inner) == 1 and not sign:
            body = "(" + body + ")"
        return sign + body, end + 1
    if kind == "number":
        return sign + t, i + 1
    if kind == "word":
        base, _, sub = t.partition("_")
        if sub and not t.startswith("_"):  # u^l_i: the exponent l, then the subscript i
            return sign + _word(base) + "}_{" + _word(sub, subscript=True), i + 1
        return sign + _word(t), i + 1
    raise ValueError("an exponent is missing")


def _matrix(tokens: list[tuple[str, str]]) -> str:
    """[[a, b], [c, d]] as a small matrix."""
    rows, i = [], 0
    while i < len(tokens):
        if tokens[i][1] == ",":
            i += 1
            continue
        if tokens[i][1] != "[":
            raise ValueError("not a matrix")
        end = _closing(tokens, i)
        cells, cell = [], []
        for tok in tokens[i + 1:end]:
            if tok[1] == "," and not _open_inside(cell):
                cells.append(_render(cell))
                cell = []
            else:
                cell.append(tok)
        cells.append(_render(cell))
        rows.append(" & ".join(cells))
        i = end + 1
    return r"\left(\begin{smallmatrix}" + r" \\ ".join(rows) + r"\end{smallmatrix}\right)"


def _open_inside(tokens: list[tuple[str, str]]) -> bool:
    return sum({"(": 1, "[": 1, ")": -1, "]": -1}.get(t, 0) for _k, t in tokens) > 0


_DIGITS = re.compile(r"([A-Za-z]+?)([0-9]+)\Z")


def _word(word: str, subscript: bool = False) -> str:
    """One identifier: a known name's macro, letters+digits as a subscript (q1 -> q_1,
    chi1 -> chi_1), a_b as a subscript, d<name> as a differential; anything else upright."""
    word = word.lstrip("_")
    if word in _NAMES:
        return _NAMES[word]
    if "_" in word:
        base, _, sub = word.partition("_")
        if len(base) > 1 and base not in _GREEK and not _DIGITS.match(base) \
                and len(sub.strip("{}")) > 2 and sub not in ("par", "perp"):
            return r"\mathrm{" + word.replace("_", r"\_") + "}"  # a name: leaky_relu
        shown = _word(base)
        if "_" in shown:   # K1_i: K_{1} already has a subscript, so the group takes the next
            shown = "{" + shown + "}"
        if sub.startswith("{") and sub.endswith("}"):
            return shown + "_{" + _formula_inside(sub[1:-1]) + "}"
        return shown + "_{" + _word(sub, subscript=True) + "}"
    digits = _DIGITS.match(word)
    if digits and (digits.group(1) in _NAMES or len(digits.group(1)) == 1
                   or digits.group(1) in ("chi", "mu", "qtilde", "K")):
        return _word(digits.group(1)) + "_{" + digits.group(2) + "}"
    if subscript or len(word) == 1:
        if word in ("par", "parallel"):
            return r"\parallel"
        if word == "perp":
            return r"\perp"
        return word
    if word[0] == "d" and (word[1:] in _NAMES or len(word) == 2):
        return "d" + _word(word[1:])
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", word):
        raise ValueError("not an identifier")
    return r"\mathrm{" + word + "}"


def _formula_inside(text: str) -> str:
    return _render([(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)
                    if m.lastgroup != "space"])


def bibliography(cited: set[str] | frozenset[str]) -> str:
    """The ``thebibliography`` of the cited keys, in the order of :data:`BIBLIOGRAPHY`."""
    keys = [k for k in BIBLIOGRAPHY if k in cited]
    if not keys:
        return ""
    items = "\n".join(rf"\bibitem{{{k}}} {BIBLIOGRAPHY[k]}" for k in keys)
    return "\\begin{thebibliography}{99}\n" + items + "\n\\end{thebibliography}"


__all__ = ["BIBLIOGRAPHY", "bibliography", "escape_text", "formula_latex", "note_latex"]
