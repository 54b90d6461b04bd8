"""The Gaussian calculus: expectations, the rules that evaluate them, and numerics."""
from .engine import GaussianCalculus, Outcome
from .expectation import Expectation, bivariate_expectation, expectation, u1, u2

__all__ = ["Expectation", "GaussianCalculus", "Outcome", "bivariate_expectation",
           "expectation", "u1", "u2"]
