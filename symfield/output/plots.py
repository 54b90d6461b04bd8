"""Pictures of the dynamics: phase diagrams, cobwebs of the maps, depth scales.

Figures are built with matplotlib's object interface (``matplotlib.figure.Figure``, drawn
by the Agg canvas), never through pyplot, so no display or global state is touched; every
function returns the Figure (``fig.savefig("x.png")`` or :func:`save`). Axes use the project's
notation: sigma_w, sigma_b, q, c, xi_c. All numbers come from :mod:`symfield.dynamics`.

Requires matplotlib (``pip install 'symfield[plot]'``).
"""
from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InvalidValueError, quoted
from ..numbers import MAX_SCALE

#: Largest grid of a picture (points per axis of a phase diagram, points of a curve).
MAX_RESOLUTION = 2000
MAX_CURVE_POINTS = 100_000
#: Highest resolution of a saved figure (dots per inch; print quality is 300 to 600).
MAX_DPI = 2400

#: Publication defaults: serif text, mathtext in Computer Modern, thin frames.
STYLE = {
    "font.family": "serif",
    "mathtext.fontset": "cm",
    "font.size": 10,
    "axes.labelsize": 11,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "axes.linewidth": 0.8,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
}

LABELS = {
    "sigma_w": r"$\sigma_w$", "sigma_b": r"$\sigma_b$", "q": r"$q$", "c": r"$c$",
    "q_star": r"$q^*$", "c_star": r"$c^*$", "chi1": r"$\chi_1$", "chi_c": r"$\chi_c$",
    "xi_c": r"$\xi_c$", "xi_q": r"$\xi_q$", "xi_grad": r"$|\xi_\nabla|$",
}


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise InvalidValueError("plots need matplotlib: pip install 'symfield[plot]'") from None
    return matplotlib, Figure


def _styled(function):
    """Run a plotting function under the publication style (rc parameters are read when
    artists are created, so the whole function runs inside the context)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        matplotlib, _ = _matplotlib()
        with matplotlib.rc_context(STYLE):
            return function(*args, **kwargs)

    return wrapper


def _figure(size=(5.0, 3.8), ncols: int = 1):
    _, Figure = _matplotlib()
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, (list(np.atleast_1d(axes)))


def figure_formats() -> dict[str, str]:
    """File suffixes matplotlib can write (without the dot) -> description."""
    _matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    return dict(FigureCanvasBase.get_supported_filetypes())


def check_figure_path(path: str | Path, what: str = "the figure") -> Path:
    """A figure file checked before anything is computed: a suffix matplotlib can write and
    a file that can be created (see ``dynamics.storage.check_writable_file``)."""
    from ..dynamics.storage import check_writable_file, quoted_path

    if not isinstance(path, (str, os.PathLike)):
        raise InvalidValueError(f"{what} must be a file name (a str or a Path), "
                                f"got {quoted(path)}")
    try:  # a lone surrogate cannot be a file name: os.stat would raise UnicodeEncodeError
        os.fsencode(path)
    except UnicodeError:
        raise InvalidValueError(f"cannot write {what} {quoted(str(path))}: the file name is "
                                "not valid Unicode (a lone surrogate)") from None
    check_writable_file(path, what)
    formats = figure_formats()
    suffix = Path(str(path)).suffix.lower().lstrip(".")
    if suffix not in formats:
        problem = (f"{quoted('.' + suffix)} is not a format matplotlib writes" if suffix else
                   "no suffix to tell the format")
        raise InvalidValueError(f"cannot write {what} {quoted_path(path)}: {problem}; end the "
                                f"name with one of .{', .'.join(sorted(formats))}")
    return Path(path)


def save(fig, path: str | Path, dpi: int = 200) -> Path:
    """Write a figure (format from the suffix: png, pdf, svg, ...)."""
    matplotlib, Figure = _matplotlib()
    if not isinstance(fig, Figure):
        raise InvalidValueError(f"fig must be a matplotlib Figure (as the plot functions "
                                f"return), got {quoted(fig)}")
    dpi = _finite("dpi", dpi, 1, MAX_DPI)
    path = check_figure_path(path)
    with matplotlib.rc_context(STYLE):
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def _check_count(name: str, value: object, low: int, high: int, unit: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise InvalidValueError(f"{name} must be from {low} to {high} {unit}, got "
                                f"{quoted(value)}")
    return int(value)


def _finite(name: str, value: object, low: float, high: float) -> float:
    """A finite number in [low, high] (NaN and infinities are refused)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, (bool, str, bytes)) or not low <= number <= high:
        raise InvalidValueError(f"{name} must be a finite number from {low:g} to {high:g}, "
                                f"got {quoted(value)}")
    return number


def _range(value, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidValueError(f"{name} must be a (low, high) pair") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InvalidValueError(f"{name} must be a finite range low < high (got "
                                f"{quoted(value) if isinstance(value, str) else (lo, hi)})")
    if hi > MAX_SCALE:
        raise InvalidValueError(f"{name} ranges up to at most {MAX_SCALE:g} (got {hi:g})")
    return lo, hi


# ------------------------------------------------------------------------------------------
# phase diagram
# ------------------------------------------------------------------------------------------
def _check_phase_result(result: object, colour: object) -> None:
    """A precomputed sweep the phase diagram can draw: a SweepResult over the axes sigma_w
    and sigma_b, with columns chi1, phase and ``colour``."""
    from ..dynamics import SweepResult

    if not isinstance(result, SweepResult):
        raise InvalidValueError(f"result must be a SweepResult (from symfield.dynamics.sweep) "
                                f"or None, got {quoted(result)}")
    if list(result.spec.axis_names) != ["sigma_w", "sigma_b"]:  # the grid's layout
        raise InvalidValueError(f"result must be a sweep over the axes sigma_w, sigma_b (in "
                                f"this order), not {', '.join(result.spec.axis_names) or 'none'}")
    missing = [name for name in ("chi1", "phase", colour) if name not in result.columns]
    if missing:
        raise InvalidValueError(f"result lacks the column(s) {', '.join(map(quoted, missing))}; "
                                f"sweep chi1, phase and {quoted(colour)}")


@_styled
def phase_diagram(activation, sigma_w: Sequence[float] = (0.5, 4.0),
                  sigma_b: Sequence[float] = (0.0, 1.0), resolution: int | tuple = 120, *,
                  colour: str = "xi_c", chi1_levels: Sequence[float] = (0.5, 0.75, 1.25, 1.5, 2.0),
                  xi_max: float = 100.0, executor=None, scheduler=None, workers: int | None = 1,
                  progress: bool | None = False, result=None):
    """The (sigma_w, sigma_b) phase diagram: ``colour`` (default xi_c) as colour, contours of
    chi1, the edge of chaos chi1 = 1 (bold) and the ordered/chaotic regions labelled.

    The grid (``resolution`` points per axis, or a (n_w, n_b) pair) is computed with a float64
    sweep on the given executor (local processes, or Dask at ``scheduler``), or taken from
    ``result`` (a SweepResult over sigma_w, sigma_b with chi1, phase and ``colour``).
    Returns the matplotlib Figure.
    """
    from matplotlib.colors import LogNorm

    from ..dynamics import critical_line, sweep
    from ..dynamics.sweeps import FIXED_POINT_QUANTITIES

    (w_lo, w_hi), (b_lo, b_hi) = _range(sigma_w, "sigma_w"), _range(sigma_b, "sigma_b")
    if w_lo <= 0 or b_lo < 0:
        raise InvalidValueError("sigma_w must be > 0 and sigma_b >= 0")
    try:
        n_w, n_b = (resolution, resolution) if np.ndim(resolution) == 0 else resolution
    except (TypeError, ValueError):
        raise InvalidValueError(f"the resolution is a number of points per axis or a pair of "
                                f"them, got {quoted(resolution)}") from None
    for n in (n_w, n_b):
        _check_count("the resolution", n, 2, MAX_RESOLUTION, "points per axis")
    n_w, n_b = int(n_w), int(n_b)
    colours = [name for name in FIXED_POINT_QUANTITIES if name != "phase"]
    if not isinstance(colour, str) or colour not in colours:
        raise InvalidValueError(f"colour must be a fixed-point quantity ({', '.join(colours)}), "
                                f"got {quoted(colour)}")
    if not isinstance(chi1_levels, (list, tuple, np.ndarray)):
        raise InvalidValueError(f"chi1_levels must be a list of numbers, got "
                                f"{quoted(chi1_levels)}")
    chi1_levels = [_finite("each of chi1_levels", v, 0.0, 1e6) for v in chi1_levels]
    xi_max = _finite("xi_max", xi_max, 1e-2, 1e12)
    if result is not None:
        _check_phase_result(result, colour)
    if result is None:
        result = sweep(activation, ["chi1", colour, "phase"],
                       sigma_w=np.linspace(w_lo, w_hi, int(n_w)),
                       sigma_b=np.linspace(b_lo, b_hi, int(n_b)), executor=executor,
                       scheduler=scheduler, workers=workers, progress=progress)
    axes = result.axes
    sw, sb = axes["sigma_w"], axes["sigma_b"]
    chi1 = result.grid("chi1").T             # rows: sigma_b, columns: sigma_w
    value = np.abs(result.grid(colour).T) if colour == "xi_grad" else result.grid(colour).T
    phase = result.grid("phase").T

    fig, (ax,) = _figure((5.4, 4.0))
    # depth scales diverge at the edge of chaos: +inf (and anything larger) shows as xi_max;
    # NaN (no fixed point) stays blank
    shown = np.clip(value, None, xi_max) if colour.startswith("xi") else value
    positive = shown[np.isfinite(shown) & (shown > 0)]
    norm = LogNorm(vmin=max(positive.min(), 1e-2), vmax=positive.max()) \
        if colour.startswith("xi") and positive.size else None
    mesh = ax.pcolormesh(sw, sb, np.ma.masked_invalid(shown), shading="nearest", cmap="viridis",
                         norm=norm, rasterized=True)
    bar = fig.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label(LABELS.get(colour, colour) + (f" (capped at {xi_max:g})"
                                                if colour.startswith("xi") else ""))
    divergent = phase == "divergent"
    if divergent.any():
        ax.contourf(sw, sb, divergent.astype(float), levels=[0.5, 1.5], colors="none",
                    hatches=["////"])
        ax.text(0.98, 0.97, "no fixed point\n($q$ diverges)", transform=ax.transAxes,
                ha="right", va="top", fontsize=8,
                bbox=dict(boxstyle="round", facecolor="white", edgecolor="0.6"))
    finite_chi = np.where(np.isfinite(chi1), chi1, np.nan)
    levels = sorted(v for v in chi1_levels if np.nanmin(finite_chi) < v < np.nanmax(finite_chi))
    if levels:
        lines = ax.contour(sw, sb, finite_chi, levels=levels, colors="0.85", linewidths=0.6)
        ax.clabel(lines, fmt=lambda v: rf"$\chi_1={v:g}$", fontsize=7)
    line = critical_line(activation, b_hi)
    if line["sigma_w"].size == 1:
        ax.plot(line["sigma_w"], line["sigma_b"], marker="*", color="crimson", markersize=11,
                linestyle="none", label=r"edge of chaos $\chi_1=1$", clip_on=False)
    else:
        ax.plot(line["sigma_w"], line["sigma_b"], color="crimson", linewidth=1.8,
                label=r"edge of chaos $\chi_1=1$")
    for name in ("ordered", "chaotic"):
        mask = phase == name
        if mask.sum() >= 4:
            jj, ii = np.nonzero(mask)
            ax.text(sw[int(np.median(ii))], sb[int(np.median(jj))], name, ha="center",
                    va="center", color="white", fontsize=10, fontweight="bold")
    ax.set_xlim(w_lo, w_hi)
    ax.set_ylim(b_lo, b_hi)
    ax.set_xlabel(LABELS["sigma_w"])
    ax.set_ylabel(LABELS["sigma_b"])
    ax.set_title(f"{result.spec.activation}: phase diagram")
    ax.legend(loc="lower right", frameon=True, framealpha=0.85)
    return fig


# ------------------------------------------------------------------------------------------
# cobwebs
# ------------------------------------------------------------------------------------------
def _cobweb_path(fn, start: float, steps: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [start], [start]
    x = start
    for _ in range(steps):
        y = float(fn(np.array([x]))[0])
        if not np.isfinite(y):
            break
        xs += [x, y]
        ys += [y, y]
        x = y
    return np.array(xs), np.array(ys)


def _draw_cobweb(ax, curve_x, curve_y, path, star, labels, title):
    lo, hi = min(curve_x.min(), curve_y.min()), max(curve_x.max(), curve_y.max())
    ax.plot([lo, hi], [lo, hi], color="0.5", linewidth=0.8, linestyle="--", label="identity")
    ax.plot(curve_x, curve_y, color="C0", linewidth=1.6, label="map")
    ax.plot(path[0], path[1], color="C3", linewidth=0.9, label="iterates")
    if star is not None:
        ax.plot([star], [star], marker="o", color="k", markersize=5, linestyle="none",
                label="fixed point")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)


@_styled
def cobweb(activation, sigma_w: object = None, sigma_b: object = 0, *, maps: str = "both",
           start_q: float | None = None, start_c: float | None = None, steps: int = 12,
           sigma_w2: object = None, sigma_b2: object = None, points: int = 200):
    """Cobweb plots of the length map q -> V(q) and/or the correlation map c -> f(c) at q*.

    ``maps`` is "length", "correlation" or "both". Iteration starts at ``start_q`` (default
    2 q* + 0.5) and ``start_c`` (default 0.9 in the chaotic phase, 0.1 otherwise). Returns the
    matplotlib Figure.
    """
    from ..dynamics import fixed_point
    from ..dynamics.model import mean_field, parse_scales

    if maps not in ("length", "correlation", "both"):
        raise InvalidValueError(f"maps must be length, correlation or both (got {quoted(maps)})")
    if not isinstance(steps, int) or not 0 <= steps <= 10_000:
        raise InvalidValueError(f"steps must be an integer from 0 to 10000 (got {quoted(steps)})")
    points = _check_count("points", points, 2, MAX_CURVE_POINTS, "points")
    if start_q is not None:
        start_q = _finite("start_q", start_q, 0.0, 1e12)
    if start_c is not None:
        start_c = _finite("start_c", start_c, -1.0, 1.0)
    model = mean_field(activation)
    scales = parse_scales(sigma_w, sigma_b, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    report = fixed_point(model.activation, sigma_w2=scales.sigma_w2, sigma_b2=scales.sigma_b2,
                         dps=15)
    f = scales.floats()
    q_star = float(report.q_star) if report.q_star is not None else 1.0
    which = ["length", "correlation"] if maps == "both" else [maps]
    fig, axes = _figure((4.2 * len(which), 3.8), ncols=len(which))
    scale_text = rf"$\sigma_w={f['sigma_w']:.4g},\ \sigma_b={f['sigma_b']:.4g}$"
    for ax, kind in zip(axes, which):
        if kind == "length":
            q0 = float(start_q) if start_q is not None else 2 * q_star + 0.5
            top = max(q0, q_star) * 1.15 + 1e-3
            qs = np.linspace(1e-9, top, points)

            def vmap(x):
                return model.np("length_map", q=np.maximum(x, 1e-300), sigma_w=f["sigma_w"],
                                sigma_b=f["sigma_b"])

            path = _cobweb_path(vmap, q0, steps)
            _draw_cobweb(ax, qs, vmap(qs), path, q_star if report.q_star is not None else None,
                         (r"$q^{l}$", r"$q^{l+1}$"), "length map " + scale_text)
        else:
            if q_star <= 0:
                raise InvalidValueError("q* = 0: the correlation map is the identity there")
            c0 = float(start_c) if start_c is not None else (0.9 if report.phase == "chaotic"
                                                             else 0.1)
            cs = np.linspace(-1.0 if not model.odd else 0.0, 1.0, points)

            def cmap(x):
                return model.np("correlation_map", c=x, q=q_star, sigma_w=f["sigma_w"],
                                sigma_b=f["sigma_b"])

            path = _cobweb_path(cmap, c0, steps)
            _draw_cobweb(ax, cs, cmap(cs), path, float(report.c_star),
                         (r"$c^{l}$", r"$c^{l+1}$"),
                         rf"correlation map at $q^*={q_star:.4g}$")
    fig.suptitle(f"{model.name}: cobweb ({report.phase} phase)")
    return fig


# ------------------------------------------------------------------------------------------
# depth scales
# ------------------------------------------------------------------------------------------
@_styled
def depth_scales(activation, sigma_b: float = 0.3, sigma_w: Sequence[float] = (0.5, 4.0),
                 points: int = 300, *, xi_max: float = 1e3):
    """xi_q, xi_c and |xi_grad| against sigma_w at fixed sigma_b (log scale), with the
    critical sigma_w marked. Returns the matplotlib Figure."""
    from ..dynamics import critical_point
    from ..dynamics.model import mean_field
    from ..dynamics.vectorised import fixed_points_float64

    w_lo, w_hi = _range(sigma_w, "sigma_w")
    if w_lo <= 0:
        raise InvalidValueError("sigma_w must be > 0")
    points = _check_count("points", points, 2, MAX_CURVE_POINTS, "points")
    sb = _finite("sigma_b", sigma_b, 0.0, MAX_SCALE)
    xi_max = _finite("xi_max", xi_max, 1e-2, 1e12)
    model = mean_field(activation)
    ws = np.linspace(w_lo, w_hi, points)
    result = fixed_points_float64(model, ws, np.full_like(ws, sb))
    fig, (ax,) = _figure((5.0, 3.6))
    for key, style in (("xi_q", dict(color="C0")), ("xi_c", dict(color="C3")),
                       ("xi_grad", dict(color="C2", linestyle=":"))):
        values = np.abs(result[key]) if key == "xi_grad" else result[key]
        values = np.where(np.isfinite(values), values, np.nan)
        ax.plot(ws, np.clip(values, None, xi_max), label=LABELS[key], **style)
    try:
        crit = float(critical_point(model.activation, repr(sb), dps=15).sigma_w)
        if w_lo <= crit <= w_hi:
            ax.axvline(crit, color="k", linestyle="--", linewidth=0.8)
            ax.text(crit, 0.98, r" $\chi_1=1$", transform=ax.get_xaxis_transform(), va="top",
                    fontsize=8)
    except InvalidValueError:
        pass  # no edge of chaos at this sigma_b (ReLU with sigma_b > 0)
    ax.set_yscale("log")
    ax.set_xlabel(LABELS["sigma_w"])
    ax.set_ylabel(r"depth scale $\xi$ (layers)")
    ax.set_title(rf"{model.name}: depth scales at $\sigma_b={sb:g}$")
    ax.legend(frameon=False)
    return fig


__all__ = ["LABELS", "STYLE", "check_figure_path", "cobweb", "depth_scales", "figure_formats",
           "phase_diagram", "save"]
