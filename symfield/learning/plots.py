"""Figures of the learning experiments (matplotlib's object interface, like
``symfield.output.plots``): the pathological Fisher spectrum and the lazy-regime scaling."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..output.plots import _figure, _styled, save

if TYPE_CHECKING:  # pragma: no cover
    from .fisher_check import FisherCheck
    from .lazy import LazyTrainingReport


@_styled
def fisher_spectrum(check: "FisherCheck", path=None):
    """Left: the eigenvalues of F (one network per width) in units of their mean m_lambda,
    against their rank as a fraction of P, with the law's lambda_max and bulk: all but T C of
    the P eigenvalues are exactly 0, so the mean (the line at 1) lies far below every
    nonzero eigenvalue. Right: m_lambda and lambda_max against the width: the mean vanishes
    like 1/n while the largest grows like n (the "pathological" spectrum). Returns the
    Figure (saved when ``path``)."""
    fig, (left, right) = _figure(size=(9.0, 3.6), ncols=2)
    for i, row in enumerate(check.rows):
        colour = f"C{i % 10}"
        spectrum = row.spectrum[row.spectrum > 0]
        mean = row.estimates["m_lambda"].prediction
        ranks = np.arange(1, spectrum.size + 1) / row.parameters
        left.plot(ranks, spectrum / mean, ".", color=colour, markersize=3,
                  label=f"n = {row.width}: {row.parameters - spectrum.size} of "
                        f"P = {row.parameters} are 0")
        left.axhline(row.prediction.lambda_max / mean, color=colour, lw=0.8, ls="--")
        if row.prediction.bulk_eigenvalue is not None:
            left.axhline(row.prediction.bulk_eigenvalue / mean, color=colour, lw=0.8, ls=":")
    left.axhline(1.0, color="k", lw=0.8)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlim(right=1.0)
    left.set_xlabel("rank / P")
    left.set_ylabel(r"eigenvalue of $F$ / $m_\lambda$")
    left.set_title(r"spectrum ($--$ law $\lambda_{max}$, $\cdots$ law bulk, $-$ mean)")
    left.legend(fontsize=7)
    widths = np.array([row.width for row in check.rows], dtype=float)
    for name, label, colour in (("m_lambda", r"$m_\lambda$", "C0"),
                                ("lambda_max", r"$\lambda_{max}$", "C3")):
        means = np.array([row.estimates[name].mean for row in check.rows])
        errors = np.array([row.estimates[name].standard_error for row in check.rows])
        laws = np.array([row.estimates[name].prediction for row in check.rows])
        right.errorbar(widths, means, yerr=errors, fmt="o", color=colour, markersize=4,
                       capsize=2, label=f"{label} sampled")
        right.plot(widths, laws, "-", color=colour, lw=1, label=f"{label} law")
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("width $n$")
    right.set_title(f"{check.activation}: T = {check.samples}, {check.replicas} networks/width")
    right.legend(fontsize=7)
    if path is not None:
        save(fig, path)
    return fig


@_styled
def lazy_scaling(report: "LazyTrainingReport", path=None):
    """Left: every measurement against the width on log-log axes (one point per run, the
    geometric mean per width joined), with the fitted power law and the theory's slope
    through the geometric mean. Right: the training-set distance to the engine's prediction
    along the run, per width (first seed). Returns the Figure (saved when ``path``)."""
    fig, (left, right) = _figure(size=(10.0, 4.2), ncols=2)
    widths = np.array(report.widths, dtype=float)
    for i, name in enumerate(report.fits):
        colour = f"C{i % 10}"
        runs_x = np.array([r.width for r in report.runs], dtype=float)
        runs_y = np.array([r.measurements[name] for r in report.runs])
        keep = runs_y > 0
        left.plot(runs_x[keep], runs_y[keep], ".", color=colour, markersize=3, alpha=0.5)
        means = report.mean(name) if np.all(keep) else None
        fit = report.fits[name]
        label = f"{name.replace('_', ' ')}: {fit.slope:+.2f} [{fit.low:+.2f}, {fit.high:+.2f}]"
        if means is not None:
            left.plot(widths, means, "-", color=colour, lw=1, label=label)
            if fit.theory is not None:
                centre = np.exp(np.mean(np.log(widths)))
                level = np.exp(np.mean(np.log(means)))
                left.plot(widths, level * (widths / centre) ** fit.theory, ":", color=colour,
                          lw=0.8)
    left.set_xscale("log", base=2)
    left.set_yscale("log")
    left.set_xlabel("width $n$")
    left.set_title(f"{report.activation}, {report.parameterization} parameterisation, depth "
                   f"{report.depth} (dotted: theory slope)")
    left.legend(fontsize=6)
    for i, w in enumerate(report.widths):
        run = report.runs_at(w)[0]
        if run.checkpoints.size:
            right.plot(np.maximum(run.checkpoints, 1), run.time_course, "-", color=f"C{i % 10}",
                       lw=1, label=f"n = {w}")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("gradient step $t$")
    right.set_ylabel(r"RMS $f_t - f^{\mathrm{NTK}}_t$ (training points)")
    right.set_title(r"time course against $(I - (I - \eta\Theta/N)^t)$")
    right.legend(fontsize=7)
    if path is not None:
        save(fig, path)
    return fig


__all__ = ["fisher_spectrum", "lazy_scaling"]
