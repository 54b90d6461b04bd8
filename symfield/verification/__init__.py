"""Checking hand calculations: a safe parser for formulas and an equivalence checker.

    >>> from symfield.verification import parse_expression, compare
    >>> a = parse_expression("(2/pi)*asin(2q/(1+2q))")
    >>> b = parse_expression(r"\\frac{2}{\\pi}\\arctan\\frac{2q}{\\sqrt{1+4q}}")
    >>> compare(a, b).status
    'equal'

User text is never evaluated (no eval/exec/sympify/parse_expr): see :mod:`.parser`.
"""
from .bind import substitute_activation
from .checking import verify
from .claims import Claim, ClaimStep, detect_syntax
from .domains import Interval
from .equivalence import Counterexample, Verdict, compare
from .errors import ParseError
from .names import FUNCTION_NAMES, INTEGRATION_VARIABLES, SYMBOLS, phi
from .parser import parse_claim, parse_expression

__all__ = [
    "Claim", "ClaimStep", "Counterexample", "FUNCTION_NAMES", "INTEGRATION_VARIABLES",
    "Interval", "ParseError", "SYMBOLS", "Verdict", "compare", "detect_syntax",
    "parse_claim", "parse_expression", "phi", "substitute_activation", "verify",
]
