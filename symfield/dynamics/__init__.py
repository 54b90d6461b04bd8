"""Dynamics of the mean-field maps: fixed points and their stability, phases, the edge of
chaos, depth scales, and sweeps over (sigma_w, sigma_b) on local processes or a Dask cluster.

    >>> import symfield
    >>> r = symfield.fixed_point("tanh", sigma_w=2.5, sigma_b=0.3, dps=30)
    >>> r.phase, r.q_star, r.c_star, r.xi_c            # doctest: +SKIP
    >>> symfield.critical_sigma_w("tanh", sigma_b2="0.05")  # doctest: +SKIP

Everything is computed from the derived laws (``symfield.derive``); see the modules
``fixed_points`` (reports), ``edge`` (edge of chaos), ``depth`` (depth scales), ``vectorised``
(float64 grid solvers), ``sweeps``, ``executors``, ``storage`` and ``model`` (the laws of
one activation, compiled).
"""
from __future__ import annotations

from .depth import EdgePowerLaw, depth_scales, edge_power_law, iterate_correlation_map
from .edge import (CriticalPoint, EdgeOfChaos, critical_line, critical_point, critical_sigma_w,
                   edge_of_chaos)
from .executors import DaskExecutor, Executor, LocalExecutor, make_executor
from .fixed_points import CONVENTIONS, QUANTITIES, FixedPointReport, fixed_point
from .sweeps import FIXED_POINT_QUANTITIES, SweepResult, sweep
from .vectorised import PHASE_NAMES, fixed_points_float64 as _fixed_points_float64


def fixed_points_float64(activation, sigma_w, sigma_b=0.0):
    """Every fixed-point quantity in float64 over broadcast arrays of sigma_w and sigma_b
    (phases as integer codes, see PHASE_NAMES; NaN where a quantity does not exist)."""
    from .model import mean_field

    return _fixed_points_float64(mean_field(activation), sigma_w, sigma_b)


__all__ = [
    "CONVENTIONS", "CriticalPoint", "DaskExecutor", "EdgeOfChaos", "EdgePowerLaw", "Executor",
    "FIXED_POINT_QUANTITIES", "FixedPointReport", "LocalExecutor", "PHASE_NAMES", "QUANTITIES",
    "SweepResult", "critical_line", "critical_point", "critical_sigma_w", "depth_scales",
    "edge_of_chaos", "edge_power_law", "fixed_point", "fixed_points_float64",
    "iterate_correlation_map", "make_executor", "sweep",
]
