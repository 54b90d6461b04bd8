"""The eigenvalue density of J J^T (issue 15), optionally over a sampled histogram.

A matplotlib Figure (object interface, no pyplot) of ``jacobian_spectrum``'s density with its
support edge; given a ``SpectrumCheck`` (``symfield.laboratory.spectrum``) the squared
singular values of the sampled Jacobians are drawn beneath it as a histogram of densities.
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidValueError
from .plots import _check_count, _figure, _styled

__all__ = ["jacobian_spectrum"]


@_styled
def jacobian_spectrum(activation, sigma_w: object = None, sigma_b: object = 0, depth: int = 10,
                      weights: str = "gaussian", *, sampled=None, spectrum=None,
                      points: int = 400, bins: int = 40):
    """Figure of the density of the eigenvalues of J J^T at the fixed point (and, with
    ``sampled`` a SpectrumCheck of the same network, the sampled histogram). ``spectrum``: a
    JacobianSpectrum already computed (then the other arguments but ``activation`` are not
    used)."""
    from ..dynamics.spectrum import JacobianSpectrum
    from ..dynamics.spectrum import jacobian_spectrum as compute
    from ..laboratory.spectrum import SpectrumCheck

    points = _check_count("points", points, 10, 100_000, "points")
    bins = _check_count("bins", bins, 2, 1000, "bins")
    if sampled is not None and not isinstance(sampled, SpectrumCheck):
        raise InvalidValueError("sampled must be a SpectrumCheck "
                                "(symfield.laboratory.spectrum.check_jacobian_spectrum)")
    if spectrum is not None and not isinstance(spectrum, JacobianSpectrum):
        raise InvalidValueError("spectrum must be a JacobianSpectrum "
                                "(symfield.dynamics.spectrum.jacobian_spectrum)")
    report = sampled.prediction if sampled is not None else spectrum if spectrum is not None \
        else compute(activation, sigma_w, sigma_b, depth, weights)
    edge = report.support_edge
    top = 1.08 * edge
    fig, (ax,) = _figure()
    if sampled is not None:
        values = sampled.eigenvalues.ravel()
        top = max(top, 1.02 * float(values.max()))
        ax.hist(values, bins=np.linspace(0.0, top, bins + 1), density=True, color="0.8",
                edgecolor="0.6", linewidth=0.4,
                label=f"sampled: width {sampled.width}, {sampled.networks} networks")
    grid = np.linspace(top / points, top, points)
    ax.plot(grid, report.density(grid), color="C0", lw=1.4, label="free probability")
    ax.axvline(edge, color="C3", lw=0.8, ls="--", label=f"edge {edge:.4g}")
    upper = np.nanmax(report.density(grid[grid > 0.05 * edge]))
    ax.set_ylim(0, 1.3 * upper)
    ax.set_xlim(0, top)
    ax.set_xlabel(r"eigenvalue $\lambda$ of $JJ^T$")
    ax.set_ylabel(r"density $\rho(\lambda)$")
    atom = f", atom {report.atom_at_zero:.3g} at 0" if report.atom_at_zero > 0 else ""
    ax.set_title(f"{report.activation.name}, {report.weights} weights, $L = {report.depth}$, "
                 f"$m_2/m_1^2 - 1 = {float(report.variance_ratio):.4g}${atom}", fontsize=9)
    ax.legend(frameon=False)
    return fig
