"""Poole et al. 2016, "Exponential expressivity in deep neural networks through transient
chaos" (NeurIPS): the mean-field panels of its Figs. 1 and 2, reproduced from symfield's
derived laws for phi = tanh:

  (a) the length map q -> sigma_w^2 chi0(q) + sigma_b^2 at sigma_b = 0.3 and several
      sigma_w, with the identity line and the fixed points q*;
  (b) the correlation map c -> c' at q = q* for the same sigma_w, with c*;
  (c) the order-to-chaos phase diagram in the (sigma_w^2, sigma_b^2) plane, coloured
      by chi1, with the edge of chaos chi1 = 1.

symfield laws used: ``length_map`` and ``correlation_map`` (``symfield.derive(...).to_numpy()``),
the fixed points and chi1 of ``symfield.dynamics.fixed_points_float64`` and the edge of chaos
of ``symfield.dynamics.critical_line``. Drawn with matplotlib's object interface (the Agg
canvas; no pyplot, no display). Nothing here transcribes a formula from the paper.

    python examples/poole_2016.py [--quick] [-o FILE]

writes examples/figures/poole_2016.png by default (``--quick``: coarse grids, a few seconds)
and prints the fixed points q* the figure shows.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

import symfield
from symfield.dynamics import critical_line, fixed_points_float64

from _cli import figure_arguments  # beside this script

ACTIVATION = "tanh"
SIGMA_WS = (1.0, 2.0, 3.0, 4.0)
SIGMA_B = 0.3
SIGMA_W2_RANGE = (0.25, 5.0)      # phase diagram axes (squared scales, as in the paper)
SIGMA_B2_RANGE = (0.0, 0.5)
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "figures" / "poole_2016.png"


def draw(quick: bool = False) -> tuple[Figure, dict[float, float]]:
    """The three-panel figure and the fixed points q* (sigma_w -> q*) it marks."""
    curve_points, grid = (60, (24, 16)) if quick else (400, (160, 100))
    length_map = symfield.derive("length_map", ACTIVATION).to_numpy()
    correlation_map = symfield.derive("correlation_map", ACTIVATION).to_numpy()
    sigma_ws = np.array(SIGMA_WS)
    fixed = fixed_points_float64(ACTIVATION, sigma_ws, np.full_like(sigma_ws, SIGMA_B))
    q_stars = {float(w): float(q) for w, q in zip(sigma_ws, fixed["q_star"])}

    with matplotlib.rc_context(symfield.plot.STYLE):
        fig = Figure(figsize=(13.5, 4.0), layout="constrained")
        ax_q, ax_c, ax_phase = fig.subplots(1, 3)

        qs = np.linspace(0.0, 15.0, curve_points)
        ax_q.plot(qs, qs, color="0.5", linestyle="--", linewidth=0.8, label="identity")
        for i, w in enumerate(SIGMA_WS):
            ax_q.plot(qs, length_map(q=qs, sigma_w=w, sigma_b=SIGMA_B), color=f"C{i}",
                      label=rf"$\sigma_w={w:g}$")
            ax_q.plot([q_stars[w]], [q_stars[w]], "o", color=f"C{i}", markersize=5)
        ax_q.set(xlim=(0, 15), ylim=(0, 15), xlabel=r"$q^{l-1}$", ylabel=r"$q^{l}$",
                 title=rf"(a) length map, $\sigma_b={SIGMA_B:g}$")
        ax_q.legend(loc="lower right", frameon=False)

        cs = np.linspace(0.0, 1.0, curve_points)
        ax_c.plot(cs, cs, color="0.5", linestyle="--", linewidth=0.8, label="identity")
        for i, (w, c_star) in enumerate(zip(SIGMA_WS, fixed["c_star"])):
            ax_c.plot(cs, correlation_map(c=cs, q=q_stars[w], sigma_w=w, sigma_b=SIGMA_B),
                      color=f"C{i}", label=rf"$\sigma_w={w:g}$")
            ax_c.plot([c_star], [c_star], "o", color=f"C{i}", markersize=5)
        ax_c.set(xlim=(0, 1), ylim=(0, 1), xlabel=r"$c^{l-1}$", ylabel=r"$c^{l}$",
                 title=r"(b) correlation map at $q = q^*$")
        ax_c.legend(loc="lower right", frameon=False)

        w2 = np.linspace(*SIGMA_W2_RANGE, grid[0])
        b2 = np.linspace(*SIGMA_B2_RANGE, grid[1])
        w2_grid, b2_grid = np.meshgrid(w2, b2)          # rows: sigma_b^2
        chi1 = fixed_points_float64(ACTIVATION, np.sqrt(w2_grid), np.sqrt(b2_grid))["chi1"]
        # diverging colours centred on chi1 = 1: blue ordered, red chaotic
        norm = TwoSlopeNorm(vmin=-2.0, vcenter=0.0, vmax=1.25)
        mesh = ax_phase.pcolormesh(w2, b2, np.log2(chi1), shading="nearest", cmap="RdBu_r",
                                   norm=norm, rasterized=True)
        bar = fig.colorbar(mesh, ax=ax_phase, pad=0.02)
        bar.set_label(r"$\log_2 \chi_1$")
        edge = critical_line(ACTIVATION, float(np.sqrt(SIGMA_B2_RANGE[1])))
        ax_phase.plot(edge["sigma_w"] ** 2, edge["sigma_b"] ** 2, color="k", linewidth=1.8,
                      label=r"edge of chaos $\chi_1 = 1$")
        ax_phase.text(1.5, 0.4, "ordered", ha="center", fontsize=11, fontweight="bold")
        ax_phase.text(3.8, 0.1, "chaotic", ha="center", fontsize=11, fontweight="bold")
        ax_phase.set(xlim=SIGMA_W2_RANGE, ylim=SIGMA_B2_RANGE, xlabel=r"$\sigma_w^2$",
                     ylabel=r"$\sigma_b^2$", title=r"(c) order-to-chaos phase diagram")
        ax_phase.legend(loc="upper right", frameon=True, framealpha=0.85)
        fig.suptitle(r"Poole et al. 2016 for $\phi = \tanh$, from symfield's derived laws")
    return fig, q_stars


def main(argv: list[str] | None = None) -> int:
    args, path = figure_arguments(__doc__, DEFAULT_OUTPUT, "coarse grids (a few seconds)", argv)
    fig, q_stars = draw(quick=args.quick)
    for w, q_star in q_stars.items():
        print(f"q* at sigma_w={w:g}, sigma_b={SIGMA_B:g}: {q_star!r}")
    symfield.plot.save(fig, path, dpi=150)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
