"""Identities between laws that the engine's results must satisfy, each proved symbolically
where SymPy can and otherwise checked at 50 digits at several points (theory.md section 14).

Every identity is data: a name, a statement, and a function building (lhs, rhs, sampler)
for an activation from the *derived* laws, so a new activation is checked automatically.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import mpmath
import sympy as sp

from ..activations import Activation, get_activation
from ..errors import as_expression
from ..expectation import Expectation
from ..gaussian.integrate import time_limit
from ..gaussian.numerics.evaluate import evaluate_expr
from ..symbols import A, D, L, c, q, q1, q2, rho, sigma_b, sigma_w
from .calculus import derive


@dataclass
class IdentityResult:
    """The outcome of checking one identity for one activation."""

    name: str
    activation: str
    holds: bool | None          # None: not applicable (the reason says why)
    method: str                 # "symbolic", "numeric" or "not applicable"
    reason: str
    lhs: sp.Expr | None = None
    rhs: sp.Expr | None = None
    points: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.holds)


@dataclass(frozen=True)
class Identity:
    name: str
    statement: str
    build: Callable[[Activation], tuple]  # -> (lhs, rhs, sampler) or a str (not applicable)


def _exact(name: str, act) -> sp.Expr:
    """The law's exact form for these checks: the expression, or for a pole series (slowly
    convergent at the edges these identities probe, e.g. c = 1) its equivalent definition."""
    law = derive(name, act)
    return law.definition if law.form == "series" else law.expr


def _limit_at(expr: sp.Expr, var: sp.Symbol, point, direction: str) -> sp.Expr:
    """expr at var = point; a one-sided limit when plain substitution is undefined."""
    value = expr.subs(var, point)
    if value.has(sp.nan, sp.zoo) or (value.is_number and not value.is_finite):
        with time_limit(20):
            value = sp.limit(expr, var, point, direction)
    return value


def _sample_q(rng):
    return {q: sp.Rational(rng.randint(5, 400), 100)}


def _kernel_diagonal(act):
    lhs = _exact("kernel", act).subs({q1: q, q2: q, rho: q}, simultaneous=True)
    return lhs, _exact("chi0", act), _sample_q


def _correlation_slope(act):
    lhs = _limit_at(sp.diff(_exact("correlation_map", act), c), c, 1, "-") \
        * _exact("length_map", act)
    rhs = q * _exact("chi1", act)

    def sampler(rng):
        return {q: sp.Rational(rng.randint(5, 400), 100), sigma_w: sp.Rational(rng.randint(30, 300), 100),
                sigma_b: sp.Rational(rng.randint(0, 100), 100)}
    return lhs, rhs, sampler


def _correlation_curvature(act):
    chi2 = derive("chi2", act)
    if chi2.divergent:
        return "chi2 diverges for this activation (the c-map is not twice differentiable at c = 1)"
    lhs = _limit_at(sp.diff(_exact("correlation_map", act), c, 2), c, 1, "-") \
        * _exact("length_map", act)
    rhs = q**2 * _exact("chi2", act)
    _, _, sampler = _correlation_slope(act)
    return lhs, rhs, sampler


def _distance_slope(act):
    lhs = _limit_at(sp.diff(_exact("distance_map", act), D), D, 0, "+")
    rhs = _exact("chi1", act).subs(q, sigma_w**2 * A + sigma_b**2)

    def sampler(rng):
        return {A: sp.Rational(rng.randint(5, 300), 100), sigma_w: sp.Rational(rng.randint(30, 300), 100),
                sigma_b: sp.Rational(rng.randint(0, 100), 100)}
    return lhs, rhs, sampler


def _distance_at_zero(act):
    _, _, sampler = _distance_slope(act)
    return _limit_at(_exact("distance_map", act), D, 0, "+"), sp.S.Zero, sampler


def _relu_ntk_diagonal(act):
    if act.name != "relu":
        return "stated for ReLU only"
    ntk = derive("ntk", act)
    depths = range(1, 6)
    lhs = sp.Matrix([ntk.at_depth(d).subs({sigma_w: sp.sqrt(2), sigma_b: 0}).subs(
        {q1: 1, q2: 1, rho: 1}) for d in depths])
    return lhs, sp.Matrix(list(depths)), None


IDENTITIES: dict[str, Identity] = {i.name: i for i in (
    Identity("kernel_diagonal", "E[phi(u1) phi(u2)] at q1 = q2 = rho = q equals chi0(q)",
             _kernel_diagonal),
    Identity("correlation_slope",
             "slope of the c-map at c = 1 times q' equals q chi1 (so f'(1) = chi1 at the fixed point)",
             _correlation_slope),
    Identity("correlation_curvature",
             "f''(1) times q' equals q^2 chi2 (so f''(1) = q chi2 at the fixed point)",
             _correlation_curvature),
    Identity("distance_slope", "K'(0) = chi1(sigma_w^2 A + sigma_b^2) for Amari's distance map",
             _distance_slope),
    Identity("distance_at_zero", "K(0) = 0 for Amari's distance map", _distance_at_zero),
    Identity("relu_ntk_diagonal",
             "ReLU NTK on the diagonal with sigma_w^2 = 2, sigma_b = 0, Sigma^1 = 1 equals the depth",
             _relu_ntk_diagonal),
)}


def _symbolic_zero(diff: sp.Expr) -> bool:
    if diff.has(Expectation):
        return False
    try:
        with time_limit(5):
            return sp.simplify(diff) == 0
    except Exception:  # noqa: BLE001 - includes TimeoutError
        return False


def check_identity(name: str, activation: str | Activation, dps: int = 50, points: int = 4,
                   seed: int = 20261128) -> IdentityResult:
    """Prove ``name`` for ``activation`` symbolically, or check it at ``dps`` digits."""
    act = get_activation(activation)
    try:
        identity = IDENTITIES[name]
    except KeyError:
        raise ValueError(f"unknown identity {name!r}; valid: {', '.join(IDENTITIES)}") from None
    built = identity.build(act)
    if isinstance(built, str):
        return IdentityResult(name, act.name, None, "not applicable", built)
    lhs, rhs, sampler = built
    diff = lhs - rhs
    if isinstance(diff, sp.MatrixBase):
        ok = all(sp.simplify(e) == 0 for e in diff)
        return IdentityResult(name, act.name, ok, "symbolic",
                              "holds symbolically" if ok else "fails symbolically", lhs, rhs)
    if _symbolic_zero(diff):
        return IdentityResult(name, act.name, True, "symbolic",
                              "lhs - rhs simplifies to 0", lhs, rhs)
    rng = random.Random(seed)
    checked = []
    tolerance = mpmath.mpf(10) ** (-(dps - 5))
    # a family's parameters (ELU's alpha, ...) are checked at their defaults, like the laws
    # (the defaults are SymPy numbers already; as_expression refuses text, never parses it)
    defaults = {symbol: as_expression(default, symbol.name)
                for symbol, default in act.parameters.values()}
    for _ in range(points):
        point = {**defaults, **sampler(rng)}
        a = evaluate_expr(lhs, point, dps)
        b = evaluate_expr(rhs, point, dps)
        scale = max(abs(a), abs(b), mpmath.mpf(1))
        checked.append((point, a, b))
        if abs(a - b) > tolerance * scale:
            return IdentityResult(name, act.name, False, "numeric",
                                  f"fails at {point}: {mpmath.nstr(a, 20)} != {mpmath.nstr(b, 20)}",
                                  lhs, rhs, checked)
    return IdentityResult(name, act.name, True, "numeric",
                          f"agree to {dps - 5} digits at {points} random points ({dps}-digit "
                          "arithmetic)", lhs, rhs, checked)


def check_all(activation: str | Activation, **kwargs) -> list[IdentityResult]:
    """Every identity for one activation."""
    return [check_identity(name, activation, **kwargs) for name in IDENTITIES]


__all__ = ["IDENTITIES", "Identity", "IdentityResult", "check_all", "check_identity", "L"]
