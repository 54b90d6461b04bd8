"""The Gaussian calculus works on :class:`symfield.expectation.Expectation` (the notation lives
beside the symbols, below the calculus, so that the parser and the activations can use it;
new code imports it from there)."""
from __future__ import annotations

from ..expectation import (Expectation, bivariate_expectation, expectation,
                           set_numeric_evaluator, u1, u2)

__all__ = ["Expectation", "bivariate_expectation", "expectation", "set_numeric_evaluator",
           "u1", "u2"]
