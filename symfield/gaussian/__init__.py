"""The Gaussian calculus: expectations, the rules that evaluate them, and numerics."""
from .engine import GaussianCalculus, Outcome
from ..expectation import Expectation, bivariate_expectation, expectation, u1, u2
from .numerics import evaluate as _evaluate  # noqa: F401  (installs evalf's numeric evaluator)

__all__ = ["Expectation", "GaussianCalculus", "Outcome", "bivariate_expectation",
           "expectation", "u1", "u2"]
