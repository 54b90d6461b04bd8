"""The named activations: each one a formula (parsed like any user's) plus metadata.

Nothing here states a closed form: the Gaussian calculus derives every law from phi. A
family is one entry with parameters: symbolic ones (alpha, a, b) stay symbols in the derived
laws and default to the values below; structural ones (the power k, a polynomial's
coefficients) shape the formula and make a new family member (``Activation.with_parameters``).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Callable, Mapping

import numpy as np
import sympy as sp

from ..errors import InvalidValueError, quoted
from ..numbers import to_sympy
from .base import Activation
from .formula import MAX_DEGREE, parse_formula
from .parameters import NAMED_PARAMETERS

#: SELU's constants (Klambauer et al. 2017), as the exact decimals they are published as.
SELU_LAMBDA = "1.0507009873554804934193349852946"
SELU_ALPHA = "1.6732632423543772848170429916717"
#: Largest power of relu_power (its kernel is reached by k + 1 steps of Price's theorem).
MAX_RELU_POWER = 6


@dataclass(frozen=True)
class Parameter:
    """A parameter of a named activation.

    kind: 'real' or 'positive' (a symbol of the derived laws); 'count' (an integer from
    ``minimum`` to ``maximum``) or 'coefficients' (a non-empty list of numbers): structural.
    """

    name: str
    default: object
    kind: str = "real"
    minimum: int = 0
    maximum: int = MAX_DEGREE

    @property
    def structural(self) -> bool:
        return self.kind in ("count", "coefficients")

    def check(self, value: object, activation: str) -> object:
        """A structural value, checked (one-line InvalidValueError saying what is valid)."""
        where = f"{activation}: {self.name}"
        if self.kind == "count":
            number = to_sympy(value, self.name) if not isinstance(value, sp.Basic) else value
            if not (isinstance(number, sp.Integer) or (number.is_number and number.is_integer)) \
                    or not self.minimum <= int(number) <= self.maximum:
                raise InvalidValueError(f"{where} must be an integer from {self.minimum} to "
                                        f"{self.maximum} (got {quoted(value)})")
            return int(number)
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise InvalidValueError(f"{where} must be a list of numbers c0, c1, ... "
                                    f"(phi = c0 + c1 x + ...) (got {quoted(value)})")
        coefficients = tuple(to_sympy(c, self.name) if not isinstance(c, sp.Basic) else c
                             for c in list(value)[: self.maximum + 2])
        if not coefficients:
            raise InvalidValueError(f"{where}: a polynomial needs at least one coefficient "
                                    f"(phi = c0 + c1 x + ..., up to degree {self.maximum})")
        if len(coefficients) > self.maximum + 1:
            raise InvalidValueError(f"{where}: at most {self.maximum + 1} coefficients "
                                    f"(degree {self.maximum})")
        for c in coefficients:
            if not (isinstance(c, sp.Expr) and c.is_number and c.is_real and c.is_finite):
                raise InvalidValueError(f"{where}: coefficients must be finite real numbers "
                                        f"(got {quoted(c)})")
        if all(c == 0 for c in coefficients[1:]):
            raise InvalidValueError(f"{where}: the polynomial does not depend on x (give a "
                                    f"non-zero coefficient of x, x^2, ...)")
        return coefficients


@dataclass(frozen=True)
class Entry:
    """A named activation: its formula (text, or built from the structural values), metadata,
    and optionally a float64 phi (given the parameter values)."""

    name: str
    formula: str | Callable[[Mapping[str, object]], str]
    description: str
    parameters: tuple[Parameter, ...] = ()
    numpy: Callable[[Mapping[str, float]], Callable] | None = None
    aliases: tuple[str, ...] = ()
    family: str | None = None

    def build(self, **structure: object) -> Activation:
        """The family member with these structural values (defaults for the others)."""
        structural = {p.name: p for p in self.parameters if p.structural}
        unknown = set(structure) - set(structural)
        if unknown:
            raise InvalidValueError(f"activation {self.name!r} has no structural parameter "
                                    f"{quoted(sorted(unknown)[0])}")
        values = {name: p.check(structure.get(name, p.default), self.name)
                  for name, p in structural.items()}
        defaults = {name: p.check(p.default, self.name) for name, p in structural.items()}
        text = self.formula(values) if callable(self.formula) else self.formula
        positive = [p.name for p in self.parameters if p.kind == "positive"]
        phi, symbols = parse_formula(text, positive)
        symbolic = {}
        for p in self.parameters:
            if p.structural:
                continue
            symbol = symbols.get(p.name, NAMED_PARAMETERS.get(p.name))
            if symbol is None or NAMED_PARAMETERS.get(p.name, symbol) != symbol:
                raise AssertionError(f"{self.name}: parameter {p.name} is not the named symbol")
            symbolic[p.name] = (symbol, to_sympy(p.default, p.name))
        changed = {k: v for k, v in values.items() if v != defaults[k]}
        name = self.name if not changed else \
            f"{self.name}[{','.join(f'{k}={_show(v)}' for k, v in changed.items())}]"
        numpy_phi = None
        if self.numpy is not None:
            numeric = {**{k: float(v[1]) for k, v in symbolic.items()}, **values}
            numpy_phi = self.numpy(numeric)
        return Activation(name=name, phi=phi, description=self.description, family=self.family,
                          parameters=symbolic, numpy=numpy_phi, formula=text, structure=values,
                          rebuild=partial(_rebuild, self) if structural else None)


def _rebuild(entry: Entry, **structure: object) -> Activation:
    return entry.build(**structure)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ",".join(sp.sstr(v) for v in value) + ")"
    return sp.sstr(value)


# ------------------------------------------------------------------------------------------
# float64 phi (stable forms: logaddexp, expit, expm1; SciPy loads on first use)
# ------------------------------------------------------------------------------------------
def _scipy(name: str) -> Callable:
    def f(u):
        import scipy.special as sc

        return getattr(sc, name)(u)

    return f


def _float(value) -> float:
    return float(sp.S(value)) if not isinstance(value, float) else value


def _ab(p):
    a, b = _float(p["a"]), _float(p["b"])
    return lambda u: a * np.minimum(u, 0.0) + b * np.maximum(u, 0.0)


def _elu(p, scale: float = 1.0):
    alpha = _float(p["alpha"])
    return lambda u: scale * np.where(u > 0, u, alpha * np.expm1(np.minimum(u, 0.0)))


def _selu(p):
    return _elu({"alpha": p["alpha"]}, _float(p["scale"]))


def _gelu(_p):
    ndtr = _scipy("ndtr")
    return lambda u: np.asarray(u, dtype=float) * ndtr(u)


def _silu(_p):
    expit = _scipy("expit")
    return lambda u: np.asarray(u, dtype=float) * expit(u)


def _relu_power(p):
    k = int(p["k"])
    if k == 0:
        return lambda u: np.heaviside(u, 0.5)
    return lambda u: np.maximum(u, 0.0) ** k


def _polynomial(p):
    coefficients = [float(c) for c in p["coefficients"]]
    return lambda u: np.polynomial.polynomial.polyval(np.asarray(u, dtype=float), coefficients)


def _relu_power_formula(values) -> str:
    k = values["k"]
    return "heaviside(x)" if k == 0 else f"max(x, 0)^{k}"


def _polynomial_formula(values) -> str:
    terms = []
    for i, c in enumerate(values["coefficients"]):
        if c == 0:
            continue
        text = f"({sp.sstr(c)})"
        terms.append(text if i == 0 else f"{text}*x^{i}")
    return " + ".join(terms)


_alpha = Parameter("alpha", Fraction(1, 100), "positive")

ENTRIES: tuple[Entry, ...] = (
    # -- smooth, with closed forms or pole series -----------------------------------------
    Entry("erf", "erf(x)", "error function erf(x) (Williams 1997)", numpy=lambda p: _scipy("erf")),
    Entry("tanh", "tanh(x)", "hyperbolic tangent (Poole et al. 2016)", numpy=lambda p: np.tanh),
    Entry("sigmoid", "sigmoid(x)", "logistic sigmoid 1/(1 + exp(-x)) = (1 + tanh(x/2))/2",
          numpy=lambda p: _scipy("expit"), family="logistic"),
    Entry("linear", "x", "identity phi(x) = x (deep linear network; ab_relu with a = b = 1)",
          numpy=lambda p: (lambda u: np.array(u, dtype=float, copy=True)), family="ab_relu"),
    # -- the piecewise-linear family a*min(x, 0) + b*max(x, 0) ------------------------------
    Entry("relu", "relu(x)", "rectified linear unit max(x, 0) (Cho & Saul 2009; ab_relu a=0, b=1)",
          numpy=lambda p: (lambda u: np.maximum(u, 0.0)), family="ab_relu"),
    Entry("leaky_relu", "max(x, 0) + alpha*min(x, 0)",
          "leaky ReLU max(x, 0) + alpha*min(x, 0) (ab_relu a=alpha, b=1)", (_alpha,),
          numpy=lambda p: _ab({"a": p["alpha"], "b": 1}), family="ab_relu"),
    Entry("abs", "abs(x)", "absolute value |x| (ab_relu a=-1, b=1)",
          numpy=lambda p: np.abs, family="ab_relu"),
    Entry("ab_relu", "a*min(x, 0) + b*max(x, 0)",
          "piecewise-linear a*min(x, 0) + b*max(x, 0) (relu, leaky_relu, abs, linear are members)",
          (Parameter("a", Fraction(-1, 2)), Parameter("b", 1)), numpy=_ab, family="ab_relu"),
    # -- smooth rectifiers -----------------------------------------------------------------
    Entry("gelu", "x*Phi(x)", "GELU x*Phi(x), Phi the standard normal CDF (exact, not the tanh "
          "approximation)", numpy=_gelu),
    Entry("silu", "x*sigmoid(x)", "SiLU / swish x*sigmoid(x)", numpy=_silu, aliases=("swish",),
          family="logistic"),
    Entry("softplus", "softplus(x)", "softplus log(1 + exp(x))",
          numpy=lambda p: (lambda u: np.logaddexp(0.0, u)), family="logistic"),
    Entry("mish", "x*tanh(softplus(x))", "mish x*tanh(softplus(x))",
          numpy=lambda p: (lambda u: np.asarray(u, dtype=float) * np.tanh(np.logaddexp(0.0, u)))),
    # -- exponential linear units ----------------------------------------------------------
    Entry("elu", "max(x, 0) + alpha*(exp(min(x, 0)) - 1)",
          "ELU: x for x > 0, alpha*(exp(x) - 1) otherwise", (Parameter("alpha", 1, "positive"),),
          numpy=_elu, family="elu"),
    # The constants stay symbols in the derived laws (their exact decimals, multiplied out,
    # give rationals of hundreds of digits that no document can typeset); they are the
    # parameters' defaults, substituted when a law is evaluated.
    Entry("selu", "scale*(max(x, 0) + alpha*(exp(min(x, 0)) - 1))",
          f"SELU lambda*ELU_alpha with lambda = scale = {SELU_LAMBDA}, alpha = {SELU_ALPHA}",
          (Parameter("scale", Fraction(SELU_LAMBDA), "positive"),
           Parameter("alpha", Fraction(SELU_ALPHA), "positive")),
          numpy=_selu, family="elu"),
    # -- bounded piecewise -----------------------------------------------------------------
    Entry("hard_tanh", "max(-1, min(1, x))", "hard tanh clip(x, -1, 1)",
          numpy=lambda p: (lambda u: np.clip(u, -1.0, 1.0))),
    Entry("sign", "sign(x)", "sign(x) (Amari's microdynamics x(t+1) = sgn(W x(t)))",
          numpy=lambda p: np.sign),
    Entry("step", "heaviside(x)", "Heaviside step H(x) (relu_power with k = 0)",
          numpy=lambda p: (lambda u: np.heaviside(u, 0.5)), family="relu_power"),
    # -- characteristic-function family ----------------------------------------------------
    Entry("sin", "sin(x)", "sine", numpy=lambda p: np.sin),
    Entry("cos", "cos(x)", "cosine", numpy=lambda p: np.cos),
    Entry("exp", "exp(x)", "exponential", numpy=lambda p: np.exp),
    Entry("gaussian", "exp(-x^2)", "Gaussian bump exp(-x^2)",
          numpy=lambda p: (lambda u: np.exp(-np.square(u)))),
    Entry("gabor", "exp(-x^2)*sin(x)", "Gabor exp(-x^2) sin(x)",
          numpy=lambda p: (lambda u: np.exp(-np.square(u)) * np.sin(u))),
    # -- polynomial families ---------------------------------------------------------------
    Entry("relu_power", _relu_power_formula, "max(x, 0)^k (Cho & Saul arc-cosine kernel of order k)",
          (Parameter("k", 2, "count", 0, MAX_RELU_POWER),), numpy=_relu_power,
          family="relu_power"),
    Entry("monomial", lambda v: f"x^{v['k']}", "monomial x^k",
          (Parameter("k", 3, "count", 1, MAX_DEGREE),),
          numpy=lambda p: (lambda u, k=int(p["k"]): np.asarray(u, dtype=float) ** k),
          family="polynomial"),
    Entry("polynomial", _polynomial_formula, "polynomial c0 + c1 x + c2 x^2 + ...",
          (Parameter("coefficients", (0, 1, Fraction(1, 2)), "coefficients", 0, MAX_DEGREE),),
          numpy=_polynomial, family="polynomial"),
)

__all__ = ["ENTRIES", "Entry", "MAX_RELU_POWER", "Parameter", "SELU_ALPHA", "SELU_LAMBDA"]
