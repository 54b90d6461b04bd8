"""symfield: a symbolic derivation engine for the mean-field theory of random deep networks.

Quick use::

    import symfield
    law = symfield.derive("chi1", "erf")      # a Law
    law.expr                                  # 4*sigma_w**2/(pi*sqrt(4*q + 1))
    law.evaluate(dps=50, q=1, sigma_w=1.5)    # certified mpmath number
    law.to_numpy()(q=qs, sigma_w=1.5)         # float64, vectorised

``symfield.registered_activations()`` and ``symfield.registered_laws()`` list what is registered;
``symfield.activation("x*Phi(x)")`` makes an activation from any formula in x.
"""
from __future__ import annotations

from . import activations, laws, symbols, verification
from .activations import Activation, activation, registered_activations
from .errors import InvalidValueError, PrecisionError, SymfieldError, UnknownNameError
from .gaussian import Expectation, GaussianCalculus
from .gaussian.numerics.enclosure import Enclosure, NotEnclosable
from .laws import Law, LawDefinition, derive, registered_laws
from .laws.base import CertifiedValue
from .laws.recursion import nngp_ntk
from .microdynamics import NetworkSpec
from .output import latex as _latex  # noqa: F401  (installs the renderer of Law.latex)
from .verification import verify
from .version import __version__


# Entry points of the later parts, imported on first use (the sampled-network laboratory, the
# dynamics and plotting pull in more than a derivation needs).
def sample_network(*args, **kwargs):
    """A finite random network (see :func:`symfield.laboratory.networks.sample_network`)."""
    from .laboratory.networks import sample_network as impl

    return impl(*args, **kwargs)


def check_law(*args, **kwargs):
    """Check a law against sampled finite networks (see :mod:`symfield.laboratory`)."""
    from .laboratory import check_law as impl

    return impl(*args, **kwargs)


def fixed_point(*args, **kwargs):
    """Fixed points, stability, phase and depth scales (see :mod:`symfield.dynamics`)."""
    from .dynamics import fixed_point as impl

    return impl(*args, **kwargs)


def critical_sigma_w(*args, **kwargs):
    """sigma_w on the edge of chaos for a given sigma_b (see :mod:`symfield.dynamics`)."""
    from .dynamics import critical_sigma_w as impl

    return impl(*args, **kwargs)


def finite_width(*args, **kwargs):
    """The 1/n theory layer by layer: q, chi_par, chi_perp, V, K1 and, given a width, what
    networks show (see :func:`symfield.dynamics.finite_width.finite_width`)."""
    from .dynamics.finite_width import finite_width as impl

    return impl(*args, **kwargs)


def criticality(*args, **kwargs):
    """Universality class and critical point of the 1/n theory (see
    :func:`symfield.dynamics.criticality.criticality`)."""
    from .dynamics.criticality import criticality as impl

    return impl(*args, **kwargs)


def recurrent(*args, **kwargs):
    """A recurrent net x(t+1) = phi(W x(t) + b) with one fixed W against the layered law (see
    :func:`symfield.laboratory.recurrent.recurrent`)."""
    from .laboratory.recurrent import recurrent as impl

    return impl(*args, **kwargs)


def field_kernel(*args, **kwargs):
    """The mean-field kernel Q^depth(x, x'; z1', z2') of a deep random neural field on a ring,
    torus or segment (see :func:`symfield.dynamics.field.field_kernel`)."""
    from .dynamics.field import field_kernel as impl

    return impl(*args, **kwargs)


def field_law(activation: str | Activation) -> Law:
    """The field kernel law of a deep random neural field for ``activation``: the layer map
    derived from the field's microdynamics by the Gaussian calculus (see
    :mod:`symfield.laws.field`)."""
    from .laws.field import field_law as impl

    return impl(activation)


def sample_field(*args, **kwargs):
    """One finite realisation of a random neural field: the last layer's pre-activations
    (see :func:`symfield.laboratory.field.sample_field`)."""
    from .laboratory.field import sample_field as impl

    return impl(*args, **kwargs)


def jacobian_spectrum(*args, **kwargs):
    """The singular-value spectrum of the input-output Jacobian at the fixed point, by free
    probability (see :func:`symfield.dynamics.spectrum.jacobian_spectrum`)."""
    from .dynamics.spectrum import jacobian_spectrum as impl

    return impl(*args, **kwargs)


def fisher_statistics(*args, **kwargs):
    """Fisher information statistics of a random network (see
    :func:`symfield.learning.fisher_statistics`)."""
    from .learning import fisher_statistics as impl

    return impl(*args, **kwargs)


def lazy_training(*args, **kwargs):
    """Train finite networks and measure the lazy (NTK) regime across widths (see
    :func:`symfield.learning.lazy_training`)."""
    from .learning import lazy_training as impl

    return impl(*args, **kwargs)


__all__ = [
    "Activation", "CertifiedValue", "Enclosure", "Expectation", "NotEnclosable", "activation", "GaussianCalculus", "InvalidValueError", "Law",
    "LawDefinition", "NetworkSpec", "PrecisionError", "SymfieldError", "UnknownNameError",
    "activations", "check_law", "critical_sigma_w", "criticality", "derive",
    "finite_width", "fixed_point", "laws", "registered_activations", "registered_laws",
    "verification", "nngp_ntk", "sample_network", "symbols", "verify", "__version__", "fisher_statistics",
    "lazy_training", "recurrent", "field_kernel", "field_law", "sample_field",
    "jacobian_spectrum",
]


def __getattr__(name: str):
    # symfield.plot is the plotting module (matplotlib is imported only when asked for);
    # the dynamics and laboratory packages load on first use too.
    import importlib

    if name == "plot":
        return importlib.import_module(".output.figures", __name__)
    if name in ("dynamics", "laboratory"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'symfield' has no attribute {name!r}")
