"""``symfield.plot``: every figure symfield draws, in one namespace.

The drawing helpers and the mean-field figures live in :mod:`symfield.output.plots` (the
laboratory saves its figures through it); the figures of the sampled fields and of the
Jacobian spectrum live beside their computations. This module only gathers them, so that
nothing below it has to import upward."""
from __future__ import annotations

from ..laboratory.field import plot_field_kernel as field_kernel
from .plots import (LABELS, STYLE, check_figure_path, cobweb, depth_scales, figure_formats,
                    phase_diagram, save)
from .spectrum_plot import jacobian_spectrum

__all__ = ["LABELS", "STYLE", "check_figure_path", "cobweb", "depth_scales", "field_kernel",
           "figure_formats", "jacobian_spectrum", "phase_diagram", "save"]
