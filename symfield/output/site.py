"""A static HTML site of the derivations: ``symfield derivations site -o site/``.

Built from the records that ``symfield derivations build`` writes next to the documents
(``derivations/<activation>.json``, see :mod:`symfield.output.documents`), so nothing is
derived again for the text: an index (activations x laws, the form of each result; each cell
links to its law's page), one page per activation (``<activation>.html``: the activation, its
three plots and a table of contents with every law's result, its value at the records'
default point and copy buttons for its LaTeX and SymPy forms) and one page per activation
and law (``<activation>/<law>.html``: the result, the value, the copy buttons, the
derivation steps and the plots). The plots (the length map, the correlation map at q*, the
(sigma_w, sigma_b) phase diagram) are computed with the float64 evaluators on small fixed
grids, each under a CPU-time limit (a plot that runs out of time is left out with a note on
the page).

Mathematics is rendered in the browser by KaTeX, copied into the site from a local
installation (Debian's ``libjs-katex``), so the site works offline. Everything a record holds
reaches the HTML escaped (LaTeX as text that KaTeX parses with ``trust`` off), so a record
cannot inject markup or script.
"""
from __future__ import annotations

import html
import json
import math
import multiprocessing
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from ..activations import registered_activations
from ..errors import InvalidValueError, SymfieldError, quoted
from ..processes import check_workers, die_with_parent
from .documents import RECORD_FORMAT, _known_activations, write_atomically

#: Where Debian's libjs-katex puts KaTeX (katex.min.js, katex.min.css, fonts/).
KATEX_DIR = Path("/usr/share/javascript/katex")
KATEX_PACKAGE = "libjs-katex"
_KATEX_FILES = ("katex.min.js", "katex.min.css")

#: A record larger than this is refused before it is parsed.
MAX_RECORD_BYTES = 64 * 1024 * 1024
#: Names that become file names and anchors.
_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z")

#: CPU seconds one plot may take before it is left out (with a note on the page).
PLOT_SECONDS = 20.0
#: The plots' grids: sigma_w of the map curves, sigma_b of the maps, the phase diagram's axes.
MAP_SIGMA_W = (1.0, 1.5, 2.5)
MAP_SIGMA_B = 0.3
LENGTH_Q = (0.0, 4.0, 81)
CORRELATION_C = (-1.0, 1.0, 81)
PHASE_SIGMA_W = (0.5, 4.0, 36)
PHASE_SIGMA_B = (0.0, 1.0, 21)
PLOT_DPI = 100

#: What the index shows for each form of a result.
FORM_LABELS = {"closed": ("closed", "closed form"),
               "series": ("series", "exact convergent series over the poles"),
               "integral": ("E[·]", "exact unevaluated Gaussian expectation"),
               "divergent": ("∞", "diverges")}
PLOTS = (("length_map", "length map"), ("correlation_map", "correlation map"),
         ("phase_diagram", "phase diagram"))


# ------------------------------------------------------------------------------------------
# records
# ------------------------------------------------------------------------------------------
def _require(mapping: object, key: str, kind: type | tuple, where: str):
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InvalidValueError(f"{where}: {quoted(key)} must be a {names}; run 'symfield "
                                f"derivations build' to regenerate the records")
    return value


def _check_name(name: str, what: str, where: str) -> str:
    if not _SAFE_NAME.match(name):
        raise InvalidValueError(f"{where}: the {what} name {quoted(name)} is not an identifier "
                                f"(letters, digits and _)")
    return name


def _strings(value: object, key: str, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidValueError(f"{where}: {quoted(key)} must be a non-empty list of strings")
    return value


def _label(where: object) -> str:
    """``where`` for a message: a short one-line text as it is, anything else quoted briefly."""
    if isinstance(where, str) and len(where) <= 200 and where.isprintable():
        return where
    return quoted(where)


def _fs_error(path: object, error: OSError) -> InvalidValueError:
    from ..dynamics.storage import quoted_path

    shown = quoted_path(path) if isinstance(path, (str, os.PathLike)) else quoted(path)
    return InvalidValueError(f"cannot read {shown}: {error.strerror or type(error).__name__}")


def _as_path(value: object, what: str) -> Path:
    try:
        return Path(value)
    except TypeError:
        raise InvalidValueError(f"{what} must be a directory name, got {quoted(value)}") from None


def check_record(record: object, where: str = "the record") -> dict:
    """A record as ``documents.activation_record`` writes it, checked field by field (a
    missing or mistyped field is one line naming it)."""
    where = _label(where)
    if not isinstance(record, dict):
        raise InvalidValueError(f"{where}: not a symfield record (expected a JSON object)")
    if record.get("format") != RECORD_FORMAT:
        raise InvalidValueError(f"{where}: record format {quoted(record.get('format'))}, this "
                                f"symfield reads format {RECORD_FORMAT}; run 'symfield "
                                f"derivations build' to regenerate the records")
    _check_name(_require(record, "activation", str, where), "activation", where)
    _require(record, "description", str, where)
    phi = _require(record, "phi", dict, where)
    for key in ("latex", "sympy"):
        _require(phi, key, str, f"{where}, phi")
    for k, parameter in enumerate(_require(record, "parameters", list, where)):
        for key in ("name", "latex", "value", "decimal"):
            _require(parameter, key, str, f"{where}, parameter {k + 1}")
    seen = set()
    for k, law in enumerate(_require(record, "laws", list, where)):
        at = f"{where}, law {k + 1}"
        name = _check_name(_require(law, "name", str, at), "law", at)
        if name in seen:
            raise InvalidValueError(f"{at}: the law {quoted(name)} appears twice")
        seen.add(name)
        at = f"{where}, law {name}"
        for key in ("title", "latex_name", "lhs", "convention"):
            _require(law, key, str, at)
        if law.get("form") not in ("closed", "series", "integral"):
            raise InvalidValueError(f"{at}: form must be closed, series or integral")
        if law.get("divergence") is not None:
            _require(law, "divergence", str, at)
        result = _require(law, "result", dict, at)
        _strings(result.get("lines"), "result.lines", at)
        for key in ("latex", "sympy"):
            _require(result, key, str, f"{at}, result")
        for j, step in enumerate(_require(law, "steps", list, at)):
            where_step = f"{at}, step {j + 1}"
            for key in ("rule", "justification", "lhs"):
                _require(step, key, str, where_step)
            _strings(step.get("rhs"), "rhs", where_step)
        value = _require(law, "value", dict, at)
        _require(value, "at_latex", str, f"{at}, value")
        _require(value, "parameters", list, f"{at}, value")
        if not isinstance(value.get("value"), str) and not isinstance(value.get("error"), str):
            raise InvalidValueError(f"{at}: the value needs a 'value' or an 'error' string")
    return record


def read_record(directory: str | os.PathLike, activation: str) -> dict:
    """The record ``<directory>/<activation>.json`` of a registered activation, checked
    (:func:`check_record`)."""
    (activation,) = _known_activations([activation])
    path = _as_path(directory, "the records' directory") / f"{activation}.json"
    hint = "run 'symfield derivations build' (it writes the records with the documents)"
    try:
        if not path.is_file():
            raise InvalidValueError(f"no record for {activation} in {quoted(str(directory))} "
                                    f"({path.name} is missing); {hint}")
        if path.stat().st_size > MAX_RECORD_BYTES:
            raise InvalidValueError(f"{path} is larger than {MAX_RECORD_BYTES // 2**20} MB: "
                                    f"not a symfield record")
        text = path.read_text(encoding="utf-8")
    except OSError as e:  # a name too long, a lone surrogate, no permission
        raise _fs_error(path, e) from None
    except UnicodeError as e:
        raise InvalidValueError(f"{path} is not a symfield record ({type(e).__name__}); "
                                f"{hint}") from None
    try:
        record = json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        raise InvalidValueError(f"{path} is not a symfield record ({type(e).__name__}: "
                                f"{str(e).splitlines()[0][:120]}); {hint}") from None
    check_record(record, str(path))
    if record["activation"] != activation:
        raise InvalidValueError(f"{path} holds the record of {quoted(record['activation'])}, "
                                f"not of {activation}; {hint}")
    return record


# ------------------------------------------------------------------------------------------
# KaTeX
# ------------------------------------------------------------------------------------------
def katex_directory(path: str | os.PathLike | None = None) -> Path:
    """A KaTeX installation (katex.min.js, katex.min.css, fonts/): ``path``, or Debian's."""
    where = KATEX_DIR if path is None else _as_path(path, "the KaTeX directory")
    try:
        missing = [f for f in _KATEX_FILES if not (where / f).is_file()]
        if not (where / "fonts").is_dir():
            missing.append("fonts/")
    except (OSError, UnicodeError) as e:  # a name too long, a lone surrogate
        raise _fs_error(where, e if isinstance(e, OSError) else OSError()) from None
    if missing:
        how = (f"install Debian's {KATEX_PACKAGE} (apt-get install {KATEX_PACKAGE}) or pass "
               f"the directory of a KaTeX release" if path is None else
               "expected a KaTeX release (katex.min.js, katex.min.css, fonts/)")
        raise InvalidValueError(f"KaTeX not found in {quoted(str(where))} (missing "
                                f"{', '.join(missing)}): {how}")
    return where


def _copy_katex(source: Path, target: Path) -> None:
    """KaTeX's script, style sheet and fonts (symbolic links followed: Debian links them)."""
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    for name in _KATEX_FILES:
        shutil.copyfile(source / name, target / name)
    for font in sorted((source / "fonts").iterdir()):
        if font.is_file() and font.suffix in (".woff2", ".woff", ".ttf"):
            shutil.copyfile(font, target / "fonts" / font.name)


# ------------------------------------------------------------------------------------------
# plots (float64 evaluators on fixed grids)
# ------------------------------------------------------------------------------------------
def map_curves(activation: str) -> dict[str, object]:
    """The plotted data of the maps: V(q) on ``LENGTH_Q`` and the correlation map at q* on
    ``CORRELATION_C``, for each sigma_w of ``MAP_SIGMA_W`` at sigma_b = ``MAP_SIGMA_B``.
    ``q_star[k]`` is NaN (and that correlation curve NaN) where q* does not exist."""
    from ..dynamics.model import mean_field
    from ..dynamics.vectorised import Q_POSITIVE, length_fixed_point

    model = mean_field(activation)
    q = np.linspace(*LENGTH_Q)
    c = np.linspace(*CORRELATION_C)
    sw = np.array(MAP_SIGMA_W)
    with np.errstate(all="ignore"):
        length = model.np("length_map", q=q[None, :], sigma_w=sw[:, None], sigma_b=MAP_SIGMA_B)
        q_star, status, _lo, _hi = length_fixed_point(model, sw, np.full(sw.size, MAP_SIGMA_B))
        q_star = np.where(status == Q_POSITIVE, q_star, np.nan)
        correlation = np.full((sw.size, c.size), np.nan)
        for k in np.flatnonzero(np.isfinite(q_star)):
            correlation[k] = model.np("correlation_map", c=c, q=q_star[k], sigma_w=sw[k],
                                      sigma_b=MAP_SIGMA_B)
    return {"q": q, "length_map": length, "c": c, "correlation_map": correlation,
            "sigma_w": sw, "q_star": q_star}


def phase_grid(activation: str) -> dict[str, np.ndarray]:
    """chi1 at the length fixed point q* over the ``PHASE_SIGMA_W`` x ``PHASE_SIGMA_B`` grid
    (rows: sigma_b); NaN where q* does not exist (q grows without bound)."""
    from ..dynamics.model import mean_field
    from ..dynamics.vectorised import (
        Q_MARGINAL,
        Q_POSITIVE,
        Q_ZERO,
        _zero_q,
        length_fixed_point,
    )

    model = mean_field(activation)
    sw, sb = np.meshgrid(np.linspace(*PHASE_SIGMA_W), np.linspace(*PHASE_SIGMA_B))
    w, b = sw.ravel(), sb.ravel()
    chi1 = np.full(w.size, np.nan)
    with np.errstate(all="ignore"):
        q_star, status, _lo, _hi = length_fixed_point(model, w, b)
        positive = status == Q_POSITIVE
        if positive.any():
            chi1[positive] = model.np("chi1", q=q_star[positive], sigma_w=w[positive])
        # q* = 0, or every q for an affine length map: chi1's q -> 0+ limit
        limit = (status == Q_ZERO) | (status == Q_MARGINAL)
        if limit.any():
            chi1[limit] = _zero_q(model, "chi1", w[limit], b[limit])
    return {"sigma_w": sw, "sigma_b": sb, "chi1": chi1.reshape(sw.shape)}


def _figure(size=(4.6, 3.4)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def _length_map_figure(activation: str, data: Mapping[str, object]):
    from .plots import LABELS

    fig, ax = _figure()
    q = data["q"]
    top = 1.5 * q[-1]
    ax.plot(q, q, color="0.5", linestyle="--", linewidth=0.8, label="identity")
    for k, w in enumerate(data["sigma_w"]):
        ax.plot(q, np.clip(data["length_map"][k], None, 2 * top), color=f"C{k}",
                label=rf"$\sigma_w={w:g}$")
    ax.set_xlim(q[0], q[-1])
    ax.set_ylim(0, top)
    ax.set_xlabel(r"$q^{l}$")
    ax.set_ylabel(r"$q^{l+1}$")
    ax.set_title(rf"{activation}: length map, {LABELS['sigma_b']}$={MAP_SIGMA_B:g}$")
    ax.legend(frameon=False, loc="upper left")
    return fig


def _correlation_map_figure(activation: str, data: Mapping[str, object]):
    fig, ax = _figure()
    c = data["c"]
    ax.plot(c, c, color="0.5", linestyle="--", linewidth=0.8, label="identity")
    for k, w in enumerate(data["sigma_w"]):
        q_star = data["q_star"][k]
        if np.isfinite(q_star):
            ax.plot(c, data["correlation_map"][k], color=f"C{k}",
                    label=rf"$\sigma_w={w:g}$, $q^*={q_star:.3g}$")
        else:
            ax.plot([], [], color=f"C{k}", label=rf"$\sigma_w={w:g}$: no $q^*$")
    ax.set_xlim(c[0], c[-1])
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(r"$c^{l}$")
    ax.set_ylabel(r"$c^{l+1}$")
    ax.set_title(rf"{activation}: correlation map at $q^*$, $\sigma_b={MAP_SIGMA_B:g}$")
    ax.legend(frameon=False, loc="upper left", fontsize=8)
    return fig


def _phase_figure(activation: str, data: Mapping[str, np.ndarray]):
    from matplotlib.colors import TwoSlopeNorm

    fig, ax = _figure((4.8, 3.4))
    sw, sb, chi1 = data["sigma_w"], data["sigma_b"], data["chi1"]
    with np.errstate(all="ignore"):
        # chi1 = +inf (phi' jumps, as for sign) is shown as chaos, clipped like any large value
        shown = np.log10(np.where(chi1 > 0, chi1, np.nan))
    mesh = ax.pcolormesh(sw, sb, np.ma.masked_invalid(np.clip(shown, -1, 1)), shading="nearest",
                         cmap="RdBu_r", norm=TwoSlopeNorm(0.0, -1.0, 1.0), rasterized=True)
    bar = fig.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label(r"$\log_{10}\chi_1$ at $q^*$ (clipped to $\pm1$)")
    finite = np.isfinite(shown)
    if finite.any() and np.nanmin(shown) < 0 < np.nanmax(shown):
        ax.contour(sw, sb, np.where(finite, shown, np.nan), levels=[0.0], colors="k",
                   linewidths=1.6)
        ax.plot([], [], color="k", linewidth=1.6, label=r"edge of chaos $\chi_1=1$")
        ax.legend(loc="lower right", framealpha=0.85, fontsize=8)
    if np.isposinf(chi1).any():
        ax.text(0.02, 0.03, r"$\chi_1=\infty$ in red", transform=ax.transAxes, fontsize=7,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6"})
    no_fixed_point = np.isnan(chi1)
    if no_fixed_point.any():
        ax.contourf(sw, sb, no_fixed_point.astype(float), levels=[0.5, 1.5], colors="none",
                    hatches=["////"])
        ax.text(0.98, 0.97, "hatched: no fixed point", transform=ax.transAxes, ha="right",
                va="top", fontsize=7, bbox={"boxstyle": "round", "facecolor": "white",
                                            "edgecolor": "0.6"})
    ax.set_xlabel(r"$\sigma_w$")
    ax.set_ylabel(r"$\sigma_b$")
    ax.set_title(f"{activation}: order (blue) and chaos (red)")
    return fig


_PLOT_MAKERS = {
    "length_map": (map_curves, _length_map_figure),
    "correlation_map": (map_curves, _correlation_map_figure),
    "phase_diagram": (phase_grid, _phase_figure),
}


def _draw_plots(activation: str, directory: Path, seconds: float) -> dict[str, str]:
    """Plot name -> file name relative to the site, or -> ``"note: why it is missing"``."""
    try:
        import matplotlib
    except ImportError:
        return {name: "note: plots need matplotlib (pip install 'symfield[plot]')"
                for name, _ in PLOTS}
    from ..gaussian.integrate import time_limit
    from .plots import STYLE

    out: dict[str, str] = {}
    computed: dict[object, object] = {}
    for name, _title in PLOTS:
        compute, draw = _PLOT_MAKERS[name]
        try:
            with time_limit(seconds):
                if compute not in computed:
                    computed[compute] = compute(activation)
                with matplotlib.rc_context(STYLE):
                    fig = draw(activation, computed[compute])
                    file = f"plots/{activation}-{name.replace('_', '-')}.png"
                    fig.savefig(directory / file, dpi=PLOT_DPI)
            out[name] = file
        except TimeoutError:
            out[name] = f"note: left out: computing it took more than {seconds:g} s of CPU"
        except SymfieldError as e:
            out[name] = f"note: left out: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    return out


# ------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------
def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _math(latex: str, display: bool = False) -> str:
    """LaTeX for KaTeX to render (escaped: the browser hands KaTeX the text itself)."""
    tag = "div" if display else "span"
    return f'<{tag} class="math{" display" if display else ""}">{_e(latex)}</{tag}>'


def _equation(lhs: str, lines: Sequence[str]) -> str:
    if len(lines) == 1:
        return f"{lhs} = {lines[0]}"
    rows = [f"{lhs} &= {lines[0]}"] + [rf"&\quad {line}" for line in lines[1:]]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _page(title: str, body: str, root: str = "") -> str:
    """A page; ``root`` is the relative path from it to the site's top ("" or "../")."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}katex/katex.min.css">
<link rel="stylesheet" href="{root}site.css">
</head>
<body>
{body}
<script src="{root}katex/katex.min.js"></script>
<script src="{root}site.js"></script>
</body>
</html>
"""


def _phi(record: Mapping) -> str:
    return r"\varphi(x) = " + record["phi"]["latex"]


def _form(law: Mapping) -> str:
    return "divergent" if law["divergence"] is not None else law["form"]


def _copy_block(ident: str, label: str, text: str) -> str:
    return (f'<button type="button" class="copy" data-copy="{_e(ident)}">Copy {_e(label)}'
            f'</button><textarea id="{_e(ident)}" class="copy-source" readonly hidden>'
            f'{_e(text)}</textarea>')


def _law_page_name(activation: str, law: str) -> str:
    """The path of a law's page relative to the site: ``<activation>/<law>.html`` (both are
    checked identifiers, so the path stays inside the site)."""
    return f"{activation}/{law}.html"


def _kind(law: Mapping) -> str:
    form = _form(law)
    return FORM_LABELS[form][1] + (f": {law['divergence']}" if form == "divergent" else "")


def _value(law: Mapping) -> str:
    value = law["value"]
    point = _math(value["at_latex"]) if value["at_latex"] else "the activation's defaults"
    if value["parameters"]:
        point += " (the activation's parameters at their defaults)"
    if "value" in value:
        return (f'<p class="value">Value at {point}: <code class="number">'
                f'{_e(value["value"])}</code> ({_e(str(value.get("dps", "")))} significant '
                f'digits, each confirmed at two working precisions)</p>')
    return f'<p class="value">No value at {point}: {_e(value["error"])}</p>'


def _copies(law: Mapping) -> str:
    name, result = law["name"], law["result"]
    return (f'<p class="copies">{_copy_block(f"latex-{name}", "LaTeX", result["latex"])}\n'
            f'{_copy_block(f"sympy-{name}", "SymPy", result["sympy"])}</p>')


def _result(law: Mapping) -> str:
    return (f'<p class="form form-{_e(_form(law))}"><strong>Result</strong> '
            f'({_e(_kind(law))}):</p>\n'
            f'{_math(_equation(law["lhs"], law["result"]["lines"]), display=True)}')


def _law_summary(activation: str, law: Mapping) -> str:
    """A law on its activation's page: its result, value and copy buttons, and a link to its
    page with the derivation."""
    name = law["name"]
    page = _law_page_name(activation, name)
    return f"""<section class="law" id="{_e(name)}">
<h2><a href="{_e(page)}">{_math(law["latex_name"])}</a>
<span class="law-name">{_e(name)}</span></h2>
<p class="title">{_e(law["title"])}</p>
{_result(law)}
{_value(law)}
{_copies(law)}
<p class="more"><a href="{_e(page)}">Derivation ({len(law["steps"])} steps) and plots</a> ·
<a href="#top">top</a></p>
</section>"""


def _figures(activation: str, plots: Mapping[str, str], root: str = "") -> str:
    figures = []
    for name, title in PLOTS:
        where = plots.get(name, "note: not drawn")
        if where.startswith("note: "):
            figures.append(f'<figure class="plot missing"><figcaption>{_e(title)}: '
                           f'{_e(where[len("note: "):])}</figcaption></figure>')
        else:
            figures.append(f'<figure class="plot"><img src="{_e(root + where)}" '
                           f'alt="{_e(activation)}: {_e(title)}" width="460"><figcaption>'
                           f'{_e(title)}</figcaption></figure>')
    return f'<div class="plots">{"".join(figures)}</div>'


def _law_page(record: Mapping, law: Mapping, plots: Mapping[str, str],
              neighbours: tuple[Mapping | None, Mapping | None] = (None, None)) -> str:
    """One law for one activation: result, value, copy buttons, derivation steps, plots."""
    act, name = record["activation"], law["name"]
    steps = []
    for step in law["steps"]:
        why = step["rule"] + (": " + step["justification"] if step["justification"] else "")
        steps.append(f'<li><p class="why">{_e(why)}</p>'
                     f'{_math(_equation(step["lhs"], step["rhs"]), display=True)}</li>')
    links = []
    for label, other in zip(("previous", "next"), neighbours):
        if other is not None:
            links.append(f'{label}: <a href="{_e(other["name"])}.html">'
                         f'{_math(other["latex_name"])} {_e(other["name"])}</a>')
    body = f"""<header id="top"><p class="crumbs"><a href="../index.html">symfield derivations</a>
› <a href="../{_e(act)}.html">{_e(act)}</a> › {_e(name)}</p>
<h1>{_math(law["latex_name"])} <span class="law-name">{_e(name)}</span> for {_e(act)}</h1>
{_math(_phi(record), display=True)}{_parameters(record)}
<p class="title">{_e(law["title"])}</p>
<p class="convention"><strong>Convention.</strong> {_e(law["convention"])}</p></header>
<main><section class="law" id="{_e(name)}">
{_result(law)}
{_value(law)}
{_copies(law)}
<h2>Derivation ({len(steps)} steps)</h2>
<ol class="steps">
{chr(10).join(steps)}
</ol>
<h2>Plots for {_e(act)}</h2>
{_figures(act, plots, "../")}
</section></main>
<nav class="neighbours">{" · ".join(links)}</nav>"""
    return _page(f"symfield: {name} for {act}", body, root="../")


def _parameters(record: Mapping) -> str:
    if not record["parameters"]:
        return ""
    shown = ",  ".join(_math(f'{p["latex"]} = {p["decimal"]}') for p in record["parameters"])
    return (f'<p class="parameters">Parameters (defaults, used for the values and plots): '
            f'{shown}</p>')


def _activation_page(record: Mapping, plots: Mapping[str, str]) -> str:
    """The activation, its plots and a table of contents with every law's result (the
    derivations are on the laws' own pages)."""
    act = record["activation"]
    contents = " · ".join(f'<a href="{_e(_law_page_name(act, law["name"]))}">'
                          f'{_math(law["latex_name"])}</a>' for law in record["laws"])
    sections = "\n".join(_law_summary(act, law) for law in record["laws"])
    body = f"""<header id="top"><p class="crumbs"><a href="index.html">symfield derivations</a></p>
<h1>{_e(act)}</h1>
{_math(_phi(record), display=True)}
<p class="description">{_e(record["description"])}</p>{_parameters(record)}</header>
<nav class="contents">{contents}</nav>
{_figures(act, plots)}
<main>
{sections}
</main>"""
    return _page(f"symfield: {act}", body)


def _index_page(records: Sequence[Mapping]) -> str:
    law_names: list[str] = []
    heads: dict[str, Mapping] = {}
    for record in records:
        for law in record["laws"]:
            if law["name"] not in heads:
                law_names.append(law["name"])
                heads[law["name"]] = law
    header = "".join(f'<th scope="col" title="{_e(heads[n]["title"])}">'
                     f'<a href="#law-{_e(n)}">{_math(heads[n]["latex_name"])}</a></th>'
                     for n in law_names)
    rows = []
    for record in records:
        act = record["activation"]
        by_name = {law["name"]: law for law in record["laws"]}
        cells = []
        for n in law_names:
            law = by_name.get(n)
            if law is None:
                cells.append('<td class="absent">—</td>')
                continue
            form = _form(law)
            label, what = FORM_LABELS[form]
            cells.append(f'<td class="form-{form}"><a href="{_e(_law_page_name(act, n))}" '
                         f'title="{_e(n)} for {_e(act)}: {_e(what)}">{_e(label)}</a></td>')
        rows.append(f'<tr><th scope="row"><a href="{_e(act)}.html">{_e(act)}</a></th>'
                    f'{"".join(cells)}</tr>')
    activations_list = "\n".join(
        f'<li><a href="{_e(r["activation"])}.html">{_e(r["activation"])}</a>: '
        f'{_math(_phi(r))} <span class="description">'
        f'{_e(r["description"])}</span></li>' for r in records)
    laws_list = "\n".join(
        f'<li id="law-{_e(n)}">{_math(heads[n]["latex_name"])} <span class="law-name">'
        f'{_e(n)}</span>: {_e(heads[n]["title"])}<br><span class="convention">'
        f'{_e(heads[n]["convention"])}</span></li>' for n in law_names)
    legend = " · ".join(f'<span class="form-{f}">{_e(label)}</span> {_e(what)}'
                        for f, (label, what) in FORM_LABELS.items())
    body = f"""<header id="top"><h1>symfield derivations</h1>
<p>Every law derived by the engine's Gaussian calculus for every activation. Each cell links to
the law's page (its result, value and derivation); the form of the result: {legend}.</p></header>
<main>
<div class="table-wrap"><table class="laws">
<thead><tr><th scope="col">activation</th>{header}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></div>
<h2>Activations</h2>
<ul class="activations">
{activations_list}
</ul>
<h2>Laws</h2>
<ul class="law-list">
{laws_list}
</ul>
</main>"""
    return _page("symfield derivations", body)


SITE_CSS = """\
body { font-family: Georgia, 'Times New Roman', serif; margin: 0 auto; max-width: 70rem;
       padding: 1rem 1.5rem 3rem; color: #1b1b1b; line-height: 1.45; }
a { color: #1a4f8b; }
h1 { margin-bottom: 0.2rem; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.2rem; }
.law-name { font-family: monospace; font-size: 0.8em; color: #555; }
.description, .convention, .why { color: #444; }
.why { font-style: italic; margin: 0.6rem 0 0.1rem; }
.katex-display { overflow-x: auto; overflow-y: hidden; padding: 0.2rem 0; margin: 0.3rem 0; }
.math.katex-error { color: #b00020; font-family: monospace; white-space: pre-wrap; }
.contents { line-height: 2; margin: 1rem 0; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.plot { margin: 0; }
.plot img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.plot.missing { border: 1px dashed #bbb; padding: 1rem; max-width: 20rem; color: #555; }
.value code { font-size: 1.05em; }
.copies { display: flex; gap: 0.5rem; }
button.copy { font: inherit; font-size: 0.85em; padding: 0.15rem 0.6rem; cursor: pointer; }
.steps li { margin-bottom: 0.4rem; }
.table-wrap { overflow-x: auto; }
table.laws { border-collapse: collapse; font-size: 0.8rem; }
table.laws th, table.laws td { border: 1px solid #ddd; padding: 0.15rem 0.3rem; text-align: center;
                               white-space: nowrap; }
table.laws td a { text-decoration: none; }
.form-closed { background: #e8f4ea; }
.form-series { background: #e8eef8; }
.form-integral { background: #fbf3e0; }
.form-divergent { background: #f8e6e6; }
.top, .more, .crumbs, .neighbours { font-size: 0.85em; }
.neighbours { margin-top: 2rem; }
"""

SITE_JS = """\
"use strict";
// Render every .math element with KaTeX. A formula KaTeX cannot parse keeps its source,
// marked .katex-error (with KaTeX's message as its title), so a check can count them.
(function () {
  function render(el) {
    var source = el.textContent;
    try {
      katex.render(source, el, {displayMode: el.classList.contains("display"),
                                throwOnError: true, trust: false});
    } catch (e) {
      el.classList.add("katex-error");
      el.textContent = source;
      el.title = String((e && e.message) || e);
    }
  }

  function copied(button, ok) {
    var label = button.textContent;
    button.textContent = ok ? "Copied" : "Select and copy by hand";
    setTimeout(function () { button.textContent = label; }, 1500);
  }

  // The clipboard API where the browser allows it; otherwise select the text and copy it.
  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.value;
    function fallback() {
      source.hidden = false;
      source.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (ok) { source.hidden = true; }
      copied(button, ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); }, fallback);
    } else {
      fallback();
    }
  }

  if (typeof katex === "undefined") {
    console.error("KaTeX did not load: the formulas are shown as LaTeX source");
  } else {
    Array.prototype.forEach.call(document.querySelectorAll(".math"), render);
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
    b.addEventListener("click", function () { copy(b); });
  });
  document.documentElement.setAttribute("data-rendered", "yes");
})();
"""


# ------------------------------------------------------------------------------------------
# building
# ------------------------------------------------------------------------------------------
def _build_activation(records: str, activation: str, output: str,
                      plot_seconds: float) -> dict:
    """One activation's page and plots (in a worker process); returns its record."""
    record = read_record(records, activation)
    directory = Path(output)
    plots = _draw_plots(activation, directory, plot_seconds)
    write_atomically(directory / f"{activation}.html", _activation_page(record, plots))
    (directory / activation).mkdir(exist_ok=True)
    laws = record["laws"]
    for k, law in enumerate(laws):
        neighbours = (laws[k - 1] if k > 0 else None, laws[k + 1] if k + 1 < len(laws) else None)
        write_atomically(directory / _law_page_name(activation, law["name"]),
                         _law_page(record, law, plots, neighbours))
    return record


def build_site(output: str | os.PathLike, records: str | os.PathLike = "derivations",
               only: Iterable[str] | None = None, workers: int | None = None,
               katex: str | os.PathLike | None = None,
               plot_seconds: float = PLOT_SECONDS) -> list[Path]:
    """Write the site into ``output`` from the records in ``records`` (default
    derivations/); ``only``: a list of activation names (default every activation).
    Pages are built in ``workers`` processes (default: every CPU). Returns the pages
    written: the index, the activations' pages, then every law's page. Everything is
    checked before the work starts: the activation names, KaTeX (``katex``: a directory,
    default Debian's), the records, the output directory."""
    from ..dynamics.storage import check_writable_directory

    names = list(registered_activations()) if only is None else _known_activations(only)
    workers = min(len(names), check_workers(workers))
    if isinstance(plot_seconds, bool) or not isinstance(plot_seconds, (int, float)) \
            or not 0 < plot_seconds <= 3600 or not math.isfinite(plot_seconds):
        raise InvalidValueError(f"plot_seconds must be a number of seconds from 0 to 3600 "
                                f"(got {quoted(plot_seconds)})")
    source = katex_directory(katex)
    records_dir = Path(records)
    for name in names:  # missing or malformed records are reported before any work
        read_record(records_dir, name)
    out = check_writable_directory(output, "the site directory")
    (out / "plots").mkdir(exist_ok=True)
    _copy_katex(source, out / "katex")
    write_atomically(out / "site.css", SITE_CSS)
    write_atomically(out / "site.js", SITE_JS)
    jobs = [(str(records_dir), name, str(out), float(plot_seconds)) for name in names]
    if workers == 1:
        built = [_build_activation(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("spawn"),
                                 initializer=die_with_parent) as pool:
            built = list(pool.map(_build_activation, *zip(*jobs)))
    write_atomically(out / "index.html", _index_page(built))
    return [out / "index.html"] + [out / f"{name}.html" for name in names] + [
        out / _law_page_name(record["activation"], law["name"])
        for record in built for law in record["laws"]]


__all__ = ["KATEX_DIR", "KATEX_PACKAGE", "PLOT_SECONDS", "build_site", "check_record",
           "katex_directory", "map_curves", "phase_grid", "read_record"]
