"""Schoenholz et al. 2017, "Deep information propagation" (ICLR), Fig. 1 reproduced from
symfield's derived laws for phi = tanh: the depth scales xi_c (correlations) and xi_q
(lengths) against sigma_w^2 at sigma_b^2 = 0.05, with xi_c diverging at the edge of chaos.

symfield laws used: the fixed points q*, c* and the depth scales xi_c = -1/log chi_c,
xi_q = -1/log V'(q*) of ``symfield.dynamics.fixed_points_float64`` (built from the derived
``length_map``, ``correlation_map``, ``chi1`` and ``length_map_slope``), and the critical
sigma_w of ``symfield.critical_sigma_w`` (chi1 = 1 at q*, solved to 30 verified digits),
drawn as the vertical line. Drawn with matplotlib's object interface (the Agg canvas; no
pyplot, no display). Nothing here transcribes a formula from the paper.

    python examples/schoenholz_2017.py [--quick] [-o FILE]

writes examples/figures/schoenholz_2017.png by default (``--quick``: a coarse grid, a few
seconds) and prints the critical sigma_w the figure marks.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import mpmath
import numpy as np
from matplotlib.figure import Figure

import symfield
from symfield.dynamics import fixed_points_float64

from _cli import figure_arguments  # beside this script

ACTIVATION = "tanh"
SIGMA_B2 = "0.05"                 # a decimal string: critical_sigma_w reads it exactly
SIGMA_W2_RANGE = (1.0, 4.0)
XI_MAX = 1e3                      # xi_c is infinite at the critical point itself
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "figures" / "schoenholz_2017.png"


def draw(quick: bool = False) -> tuple[Figure, mpmath.mpf]:
    """The figure and the critical sigma_w it marks."""
    points = 80 if quick else 1200
    critical = symfield.critical_sigma_w(ACTIVATION, sigma_b2=SIGMA_B2, dps=30)
    w2 = np.linspace(*SIGMA_W2_RANGE, points)
    sigma_b = np.full_like(w2, np.sqrt(float(SIGMA_B2)))
    scales = fixed_points_float64(ACTIVATION, np.sqrt(w2), sigma_b)

    with matplotlib.rc_context(symfield.plot.STYLE):
        fig = Figure(figsize=(5.4, 3.8), layout="constrained")
        ax = fig.subplots()
        for key, colour in (("xi_c", "C3"), ("xi_q", "C0")):
            values = np.where(np.isfinite(scales[key]), scales[key], np.nan)
            ax.plot(w2, np.clip(values, None, XI_MAX), color=colour,
                    label=symfield.plot.LABELS[key])
        ax.axvline(float(critical) ** 2, color="k", linestyle="--", linewidth=0.8,
                   label=rf"$\chi_1 = 1$: $\sigma_w^2 = {float(critical) ** 2:.4f}$")
        ax.set_yscale("log")
        ax.set(xlim=SIGMA_W2_RANGE, xlabel=r"$\sigma_w^2$",
               ylabel=rf"depth scale (layers, capped at {XI_MAX:g})",
               title=rf"Schoenholz et al. 2017, Fig. 1: $\tanh$, $\sigma_b^2 = {SIGMA_B2}$")
        ax.text(1.35, 0.93, "ordered", transform=ax.get_xaxis_transform(), ha="center")
        ax.text(2.3, 0.93, "chaotic", transform=ax.get_xaxis_transform(), ha="center")
        ax.legend(frameon=False)
    return fig, critical


def main(argv: list[str] | None = None) -> int:
    args, path = figure_arguments(__doc__, DEFAULT_OUTPUT, "a coarse grid (a few seconds)", argv)
    fig, critical = draw(quick=args.quick)
    print(f"critical sigma_w at sigma_b^2={SIGMA_B2}: {mpmath.nstr(critical, 25)}")
    symfield.plot.save(fig, path, dpi=150)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
