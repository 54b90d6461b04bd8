"""The documents in ``derivations/``: one per activation (every law) and an overview.

Generated deterministically from the engine, so a test can demand that the committed files
equal what the engine produces now (they never go stale). Deterministic needs one care: some
SymPy normal forms (powsimp, factor_terms) iterate over sets, so the *form* of a result (not
its value) can depend on Python's string-hash seed. The documents are therefore derived in
fresh worker processes (one per activation: SymPy's caches carry forms from one derivation
to the next) started with a fixed ``PYTHONHASHSEED``.

Next to each activation's document, the same pass writes ``<activation>.json``: the same
derivations as data (each law's steps and result as LaTeX, the result as SymPy text, its
value at :data:`DEFAULT_POINT`), from which ``symfield derivations site`` builds the HTML
site without deriving anything again. The staleness check covers these records too.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Mapping

import mpmath
import sympy as sp

from ..activations import Activation, get_activation, registered_activations
from ..errors import InvalidValueError, SymfieldError, quoted
from ..laws import derive, registered_laws
from ..processes import check_workers, die_with_parent
from ..symbols import LATEX_NAMES
from .latex import (PREAMBLE, DocumentState, display, escape_text, law_equation, law_lhs,
                    law_section, safe_law_latex, tex, tex_lines)

CONVENTIONS = r"""\section*{Conventions}
\begin{tabular}{ll}
$q, q_1, q_2$ & pre-activation variances (the argument of every $\chi$)\\
$\rho$, $c = \rho/\sqrt{q_1 q_2}$ & pre-activation covariance and correlation\\
$\sigma_w, \sigma_b$ & $W_{ij}\sim\mathcal N(0,\sigma_w^2/n)$, $b_i\sim\mathcal N(0,\sigma_b^2)$\\
$A, C, D$ & Amari's post-activation activity, overlap, distance; $q=\sigma_w^2A+\sigma_b^2$\\
$\chi_0(q)$ & $\mathbb E[\varphi(\sqrt q z)^2]$ (no $\sigma_w^2$)\\
$\chi_1(q), \chi_2(q)$ & $\sigma_w^2\mathbb E[\varphi'(\sqrt q z)^2]$, $\sigma_w^2\mathbb E[\varphi''(\sqrt q z)^2]$ (with $\sigma_w^2$)\\
$\bar\kappa^2$ & Poole's normalised curvature $N\kappa^2$ (pre-activation unless stated)\\
$\Theta(x)$ & the Heaviside step; derivatives are distributional ($\mathrm{ReLU}''=\delta$)\\
\end{tabular}
"""


def activation_document(act: Activation) -> str:
    """Every law for one activation (an Activation or its name), with derivations; a law
    whose derivation repeats steps shown under an earlier law cites them."""
    act = get_activation(act)
    state = DocumentState()
    title = escape_text(f"symfield derivations: {act.name}")
    parts = [PREAMBLE, r"\begin{document}", rf"{{\Large {title}}}\par\medskip",
             rf"$\varphi(x) = {tex(act.phi)}$: {state.note(act.description)}.\par", CONVENTIONS]
    for name in registered_laws():
        parts.append(law_section(derive(name, act), state=state))
    parts.append(state.end())
    return "\n".join(parts)


def overview_rows(act: Activation) -> dict[str, str]:
    """For each law, this activation's display in the overview (LaTeX)."""
    act = get_activation(act)
    rows = {}
    for name in registered_laws():
        law = derive(name, act)
        lhs = rf"\text{{{escape_text(act.name)}:}}\quad {law_lhs(law)}"
        rows[name] = display(lhs, law.expr) if not law.divergent else \
            rf"\begin{{equation*}}{lhs} = +\infty\ \text{{(divergent)}}\end{{equation*}}"
    return rows


def overview_document(rows_by_activation: dict[str, dict[str, str]] | None = None) -> str:
    """All activations side by side, law by law, with the conventions. ``rows_by_activation``
    (activation name -> law name -> LaTeX display, as :func:`overview_rows` makes them) saves
    deriving them again; it must cover every activation and law."""
    if rows_by_activation is None:
        rows_by_activation = {n: overview_rows(a) for n, a in registered_activations().items()}
    elif not isinstance(rows_by_activation, Mapping) or any(
            not isinstance(rows_by_activation.get(a), Mapping)
            or any(not isinstance(rows_by_activation[a].get(n), str) for n in registered_laws())
            for a in registered_activations()):
        raise InvalidValueError("rows_by_activation must map every activation name to "
                                "overview_rows(activation)")
    state = DocumentState()
    parts = [PREAMBLE, r"\begin{document}",
             r"{\Large symfield: the laws for every activation}\par\medskip",
             "Each result below was derived by the engine's Gaussian calculus; the per-activation "
             "documents hold the derivations.\\par", CONVENTIONS]
    for name, spec in registered_laws().items():
        parts.append(rf"\section*{{{state.note(spec.title)}}}")
        parts.append(rf"{{\sloppy\textit{{{state.note(spec.convention)}}}\par}}")
        parts.extend(rows_by_activation[a][name] for a in registered_activations())
    parts.append(state.end())
    return "\n".join(parts)


#: Where the records show each law's value: every variable a law may have, as exact text
#: (a law takes the ones it needs; the activation's own parameters keep their defaults).
DEFAULT_POINT = {"q": "1", "q1": "1", "q2": "3/4", "rho": "1/2", "c": "1/2", "sigma_w": "3/2",
                 "sigma_b": "3/10", "A": "1/2", "C": "1/4", "D": "1/2", "L": "3",
                 "kappa2": "1", "g": "1", "delta_ab": "1", "qtilde": "1", "qtilde12": "1",
                 "n": "100"}
#: Variables that are counts (evaluate takes them as integers).
_INTEGER_VARIABLES = frozenset({"L", "delta_ab", "n"})
#: Significant digits of the recorded values (certified, so the same on every machine).
RECORD_DPS = 15
#: Version of the record layout; readers refuse records of another version.
RECORD_FORMAT = 1


def _value_at_default_point(law) -> dict[str, object]:
    shown = [s for s in law.variables if s.name in DEFAULT_POINT]
    at = {s.name: DEFAULT_POINT[s.name] for s in shown}
    at_latex = r",\ ".join(f"{LATEX_NAMES.get(s.name) or tex(s)} = {tex(sp.Rational(at[s.name]))}"
                            for s in shown)
    entry: dict[str, object] = {"at": at, "at_latex": at_latex, "dps": RECORD_DPS,
                                "parameters": sorted(law.parameter_defaults())}
    arguments = {k: int(v) if k in _INTEGER_VARIABLES else v for k, v in at.items()}
    try:
        value = law.evaluate(dps=RECORD_DPS, **arguments)
    except SymfieldError as e:
        entry["error"] = str(e).splitlines()[0] if str(e).strip() else type(e).__name__
    else:
        entry["value"] = mpmath.nstr(value, RECORD_DPS) if mpmath.isfinite(value) else str(value)
    return entry


def _law_record(law) -> dict[str, object]:
    name = sp.Symbol(law.name)
    steps = [{"rule": step.rule, "justification": step.justification,
              "lhs": law_lhs(law) if step.before == name else tex(step.before),
              "rhs": tex_lines(step.after)} for step in law.derivation]
    return {
        "name": law.name, "title": law.title, "latex_name": safe_law_latex(law.latex_name),
        "lhs": law_lhs(law), "variables": [s.name for s in law.variables],
        "convention": law.convention, "form": law.form, "divergence": law.divergence,
        "result": {"lines": tex_lines(law.expr), "latex": law_equation(law),
                   "sympy": sp.sstr(law.expr)},
        "steps": steps, "value": _value_at_default_point(law),
    }


def activation_record(act: Activation) -> str:
    """Every law for one activation as data (JSON text): the record the site is built from."""
    act = get_activation(act)
    parameters = [{"name": name, "latex": tex(symbol), "value": sp.sstr(default),
                   "decimal": mpmath.nstr(mpmath.mpf(sp.Float(default, 30)), RECORD_DPS)}
                  for name, (symbol, default) in act.parameters.items()]
    record = {"format": RECORD_FORMAT, "activation": act.name, "description": act.description,
              "phi": {"latex": tex(act.phi), "sympy": sp.sstr(act.phi)},
              "parameters": parameters,
              "laws": [_law_record(derive(name, act)) for name in registered_laws()]}
    return json.dumps(record, indent=1, ensure_ascii=False) + "\n"


def _for_activation(name: str) -> tuple[str, str, dict[str, str], str]:
    act = registered_activations()[name]
    return name, activation_document(act), overview_rows(act), activation_record(act)


def _in_a_fresh_process(name: str) -> tuple[str, str, dict[str, str], str]:
    """One activation's document, derived in a process of its own: SymPy's caches keep the
    forms of earlier results, so in a shared worker what a document looks like would depend
    on which activations that worker derived before (and so on the pool's timing)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                             initializer=die_with_parent) as pool:
        return pool.submit(_for_activation, name).result()


#: The string-hash seed of the processes that derive the documents (see the module docstring).
DOCUMENT_HASH_SEED = "0"


@contextlib.contextmanager
def _hash_seed_for_new_processes(seed: str):
    """Set PYTHONHASHSEED for processes started inside the block (spawned processes read
    it at start-up), and put the caller's value back afterwards."""
    before = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = seed
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = before


def generated_documents(workers: int | None = None,
                        only: Iterable[str] | None = None) -> dict[str, str]:
    """File name -> content for every document in derivations/ and every activation's
    record (with ``only``, a list of activation names: just their documents and records,
    without the overview, which needs them all).

    Each activation is derived in a fresh worker process started with the fixed hash seed,
    so the output is the same whatever the number of workers, their timing and this
    process's own seed."""
    names = list(registered_activations()) if only is None else _known_activations(only)
    results = _derived(names, workers)
    docs = {} if only is not None else {
        "overview.tex": overview_document({n: rows for n, _doc, rows, _rec in results})}
    for n, doc, _rows, record in results:
        docs[f"{n}.tex"] = doc
        docs[f"{n}.json"] = record
    return docs


def _derived(names: list[str], workers: int | None) -> list[tuple[str, str, dict, str]]:
    """(name, document, overview rows, record) per activation, each from a fresh process."""
    workers = min(len(names), check_workers(workers))
    with _hash_seed_for_new_processes(DOCUMENT_HASH_SEED), \
            ThreadPoolExecutor(max_workers=workers) as threads:
        return list(threads.map(_in_a_fresh_process, names))


def overview_rows_of(text: str) -> dict[str, dict[str, str]]:
    """The rows of an overview document (activation -> law -> display), read back from its
    text, so that a build of some activations replaces just their rows. InvalidValueError
    when the text is not an overview laid out for the registered laws and activations (the
    rows read back must write the same text again)."""
    laws, acts = list(registered_laws()), list(registered_activations())
    lines = text.split("\n")
    sections = [k for k, line in enumerate(lines)
                if line.startswith(r"\section*{") and not line.startswith(r"\section*{Conventions")]
    rows: dict[str, dict[str, str]] = {a: {} for a in acts}
    try:
        if len(sections) != len(laws):
            raise ValueError("one section per law")
        ends = sections[1:] + [len(lines)]
        for law, section, section_end in zip(laws, sections, ends):
            starts = []
            k = section + 2     # after the title and the convention
            for act in acts:
                marker = r"\text{" + escape_text(act) + ":}"
                while marker not in lines[k]:
                    k += 1
                start = k if lines[k].startswith("\\begin{") else k - 1   # an align's first line
                if not lines[start].startswith("\\begin{") or (starts and start <= starts[-1]):
                    raise ValueError(f"the row of {act} under {law}")
                starts.append(start)
                k += 1
            # the last row ends where the document's closing part begins (after the last law)
            last_end = section_end if law != laws[-1] else _closing_line(lines, starts[-1])
            for act, start, end in zip(acts, starts, starts[1:] + [last_end]):
                rows[act][law] = "\n".join(lines[start:end])
    except (ValueError, IndexError):
        rows = None
    if rows is None or overview_document(rows) != text:
        raise InvalidValueError("the overview is not the one the engine lays out for the "
                                "registered laws and activations: build every activation")
    return rows


def _closing_line(lines: list[str], start: int) -> int:
    """The line after the last row of the document (its closing part: notes, end)."""
    k = start
    env = lines[k][len("\\begin{"):lines[k].index("}")]
    while "\\end{" + env + "}" not in lines[k]:
        k += 1
    return k + 1


def _known_activations(only: object) -> list[str]:
    known = registered_activations()
    if isinstance(only, str) or not isinstance(only, Iterable):
        raise InvalidValueError(f"only must be a list of activation names, got {quoted(only)}")
    names = list(only)
    for n in names:
        if not isinstance(n, str) or n not in known:
            raise InvalidValueError(f"unknown activation {quoted(n)}; the activations are: "
                                    f"{', '.join(known)}")
    if not names:
        raise InvalidValueError("only must name at least one activation")
    return list(dict.fromkeys(names))


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)  # mkstemp creates files readable by the owner only
    os.replace(tmp, path)


def build(directory: str | Path, only: Iterable[str] | None = None,
          workers: int | None = None) -> list[Path]:
    """Regenerate every document in ``directory``; returns the paths written. The directory
    is created (or found unusable) before minutes of derivations, not after.

    With ``only`` (activation names): just their documents and records, and their rows of
    the overview, the other rows read back from the overview in place (a fix that touches
    one activation costs minutes, not the whole build)."""
    directory = _directory(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InvalidValueError(f"cannot create the directory {quoted(str(directory))}: "
                                f"{e.strerror or type(e).__name__}") from None
    if only is None:
        docs = generated_documents(workers=workers)
    else:
        names = _known_activations(only)
        overview = directory / "overview.tex"
        if not overview.is_file():
            raise InvalidValueError(f"{quoted(str(overview))} is missing: build every "
                                    f"activation first")
        rows = overview_rows_of(overview.read_text(encoding="utf-8"))   # before the work
        docs = {}
        for n, doc, new_rows, record in _derived(names, workers):
            docs[f"{n}.tex"], docs[f"{n}.json"], rows[n] = doc, record, new_rows
        docs["overview.tex"] = overview_document(rows)
    written = []
    for name, text in docs.items():
        path = directory / name
        write_atomically(path, text)
        written.append(path)
    return written


def stale(directory: str | Path, only: Iterable[str] | None = None) -> list[str]:
    """Names of documents in ``directory`` that differ from what the engine produces now
    (with ``only``: just those activations' documents)."""
    directory = _directory(directory)
    if not directory.is_dir():
        raise InvalidValueError(f"{quoted(str(directory))} is not a directory")
    out = []
    for name, text in generated_documents(only=only).items():
        path = directory / name
        # a FIFO or device in place of a document would block read_text: stale, unread
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out.append(name)
    return out


def _directory(directory: object) -> Path:
    if not isinstance(directory, (str, os.PathLike)) or not str(directory).strip() \
            or "\x00" in str(directory):
        raise InvalidValueError(f"expected a directory path (got {quoted(directory)})")
    return Path(directory)


__all__ = ["DEFAULT_POINT", "RECORD_DPS", "RECORD_FORMAT", "activation_document",
           "activation_record", "build", "generated_documents", "overview_document",
           "overview_rows_of", "stale"]
