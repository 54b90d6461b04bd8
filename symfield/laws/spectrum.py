"""Moments of the squared slope, the input of the Jacobian's spectrum (issue 15).

The input-output Jacobian J = D_L W_L ... D_1 W_1 of a deep network at its fixed point q*
has diagonal factors D_l = diag(phi'(u^l)), u^l ~ N(0, q*). Free probability needs the
distribution of the entries of D^2 only through its moments

    mu_k(q) = E[phi'(sqrt(q) z)^(2k)],   z ~ N(0, 1),

which are defined here as laws in Gaussian expectations and derived by the calculus like every
other law (erf: (4/pi)^k / sqrt(1 + 4 k q); ReLU: 1/2; tanh: a Faddeeva pole series). The
S-transform and the moments of J J^T built from them live in ``symfield.dynamics.spectrum``.
"""
from __future__ import annotations

from ..activations import Activation, x
from ..errors import InvalidValueError, quoted
from ..expectation import expectation
from ..symbols import q
from .base import Law, LawDefinition
from .calculus import derive

#: The moment orders defined as laws (enough for m1, m2, m3 of J J^T).
MOMENT_ORDERS = (1, 2, 3)

_UNSAMPLED = (
    "checked where it acts: the moments of the singular values of sampled input-output "
    "Jacobians (symfield.laboratory.spectrum) are these mu_k composed by free probability, "
    "and tests/test_spectrum_sampled.py compares them")


def _definition(order: int) -> LawDefinition:
    return LawDefinition(
        name=f"derivative_moment{order}",
        title=f"mu_{order}: moment E[phi'(sqrt(q) z)^{2 * order}] of the squared slope "
              "(Jacobian spectrum)",
        latex_name=rf"\mu_{{{order}}}",
        variables=(q,),
        zero_variances=("q",),
        define=lambda phi: expectation(phi(x, 1) ** (2 * order), x, q),
        convention=f"mu_{order}(q) = E[phi'(u)^{2 * order}], u ~ N(0, q): the order-{order} moment "
                   "of the entries of D^2 = diag(phi'(u))^2 (no sigma_w factor)",
        unsampled_reason=_UNSAMPLED,
    )


#: mu_1, mu_2, mu_3 as law definitions, in order.
DERIVATIVE_MOMENTS: tuple[LawDefinition, ...] = tuple(_definition(k) for k in MOMENT_ORDERS)

#: What ``symfield/laws/__init__.py`` registers.
ENTRIES = DERIVATIVE_MOMENTS


def check_moment_order(order: object) -> int:
    """``order`` as an int in MOMENT_ORDERS, or a one-line InvalidValueError."""
    if isinstance(order, bool) or not isinstance(order, int) or order not in MOMENT_ORDERS:
        raise InvalidValueError(f"the moment order must be one of "
                                f"{', '.join(map(str, MOMENT_ORDERS))} (got {quoted(order)})")
    return order


def derivative_moment(activation: str | Activation, order: int) -> Law:
    """mu_order(q) = E[phi'(sqrt(q) z)^(2 order)] derived for ``activation`` (a ``Law``;
    ``law.divergent`` is True, with the reason, where phi' holds a delta function)."""
    return derive(DERIVATIVE_MOMENTS[check_moment_order(order) - 1], activation)


__all__ = ["DERIVATIVE_MOMENTS", "ENTRIES", "MOMENT_ORDERS", "check_moment_order",
           "derivative_moment"]
