"""Plain-text formulas: ``ast.parse`` plus a whitelist walk that builds SymPy objects.

The text is never evaluated. Python's parser only gives the *shape* of the formula; the walk
accepts numbers, names from :mod:`.names`, + - * / ** (``^`` means power), unary +/-, positional
calls of whitelisted functions and ``E[...]`` expectations, and rejects every other node with a
message that names it. Conveniences handled before parsing: ``phi'(u)`` (derivatives of the
activation), ``2q`` and ``(a)(b)`` (juxtaposition is ordinary multiplication, so ``1/2q`` is
q/2: write ``1/(2q)``).
"""
from __future__ import annotations

import ast
import re

import sympy as sp

from . import build, limits
from .errors import ParseError, quote

#: phi' -> dphi, phi'' -> d2phi (the prime count becomes the derivative order).
_PRIMED_PHI = re.compile(r"(?<![\w.])(?:var)?phi\s*('+)")
#: A number literal directly followed by a name or '(' (2q, 2.5(1+q)): insert '*'.
_NUMBER_THEN_FACTOR = re.compile(
    r"(?<![\w.])(\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"(?![\d.]|[eE][+-]?\d)\s*(?=[A-Za-z(])")
#: ')' directly followed by '(' or a name: insert '*'.
_PAREN_THEN_FACTOR = re.compile(
    r"\)\s*(?=(?!(?:for|if|else|and|or|not|in|is|lambda)\b)[A-Za-z(])")

_DERIVATIVE_NAMES = {1: "dphi", 2: "d2phi", 3: "d3phi", 4: "d4phi"}

#: Node types that are rejected, with the words used in the message.
_FORBIDDEN = {
    ast.Attribute: "attribute access ('.') is",
    ast.Lambda: "lambda expressions are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.NamedExpr: "assignment expressions (:=) are",
    ast.Starred: "starred arguments are",
    ast.IfExp: "conditional expressions are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and'/'or' are",
    ast.List: "lists are",
    ast.Tuple: "tuples (a comma outside a function call) are",
    ast.Set: "sets are",
    ast.Dict: "dictionaries are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Slice: "slices are",
    ast.Subscript: "subscripts are",
}

_HINTS = {
    ast.Subscript: "; square brackets are only for expectations E[...]",
    ast.Compare: "; only '=' between the sides of an equation is allowed",
    ast.Starred: "; functions take plain positional arguments",
}

_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
              ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}


def prepare(text: str) -> str:
    """The conveniences of the plain syntax, as text rewrites before ``ast.parse``."""
    def primes(match: re.Match) -> str:
        order = len(match.group(1))
        if order not in _DERIVATIVE_NAMES:
            raise ParseError(f"derivatives of phi beyond order {max(_DERIVATIVE_NAMES)} "
                             f"are not supported")
        return _DERIVATIVE_NAMES[order]

    text = _PRIMED_PHI.sub(primes, text)
    text = text.replace("^", "**")
    text = _NUMBER_THEN_FACTOR.sub(r"\1*", text)
    return _PAREN_THEN_FACTOR.sub(")*", text)


def parse_plain(text: str) -> sp.Expr:
    """A SymPy expression from one plain-text formula (no '=' in it)."""
    source = prepare(text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        detail = re.sub(r"\s*\((?:detected at|<unknown>).*\)$", "", exc.msg or "invalid syntax")
        raise ParseError(f"syntax error{where}: {detail} in {quote(text.strip())}") from None
    except (RecursionError, MemoryError):
        raise ParseError("the formula is nested too deeply") from None
    except ValueError as exc:  # e.g. null bytes (normally caught earlier)
        raise ParseError(f"the formula cannot be read: {exc}") from None
    node_count = sum(1 for _ in ast.walk(tree))
    if node_count > limits.MAX_NODES:
        raise ParseError(f"the formula is too large ({node_count} syntax nodes; "
                         f"limit {limits.MAX_NODES})")
    return _Walker(source).build(tree.body, 0)


class _Walker:
    """Builds SymPy objects from a whitelisted Python AST; evaluates nothing."""

    def __init__(self, source: str) -> None:
        self.source = source

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > limits.MAX_TREE_DEPTH:
            raise ParseError(f"the formula is nested too deeply (limit {limits.MAX_TREE_DEPTH})")
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name):
            return build.symbol(node.id)
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return build.negate(self.build(node.operand, depth + 1))
            if isinstance(node.op, ast.UAdd):
                return self.build(node.operand, depth + 1)
            word = "'not'" if isinstance(node.op, ast.Not) else "the operator '~'"
            raise ParseError(f"{word} is not allowed{self._at(node)}; operators are + - * / ** ^")
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Subscript) and _is_name(node.value, "E"):
            return self._expectation(node, depth)
        for kind, words in _FORBIDDEN.items():
            if isinstance(node, kind):
                hint = _HINTS.get(kind, "")
                raise ParseError(f"{words} not allowed{self._at(node)}{hint}")
        raise ParseError(f"{type(node).__name__} is not allowed in a formula{self._at(node)}")

    # -- pieces -------------------------------------------------------------------------------
    def _constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise ParseError(f"the constant {value!r} is not allowed{self._at(node)}")
        if isinstance(value, (str, bytes)):
            raise ParseError(f"strings are not allowed{self._at(node)}")
        if isinstance(value, complex):
            raise ParseError(f"imaginary numbers are not allowed{self._at(node)}")
        literal = ast.get_source_segment(self.source, node) or ""
        return build.number(literal)

    def _binary(self, node: ast.BinOp, depth: int) -> sp.Expr:
        op = type(node.op)
        if op in _OPERATORS:
            raise ParseError(f"the operator '{_OPERATORS[op]}' is not allowed{self._at(node)}; "
                             f"operators are + - * / ** ^")
        if op is ast.Pow:
            if _is_name(node.left, "kappa"):
                return build.kappa_power(self.build(node.right, depth + 1))
            return build.power(self.build(node.left, depth + 1), self.build(node.right, depth + 1))
        # Walk a left-leaning chain a + b - c + ... iteratively: long sums do not nest.
        family = (ast.Add, ast.Sub) if op in (ast.Add, ast.Sub) else (ast.Mult, ast.Div)
        operands: list[tuple[type, ast.AST]] = []
        current: ast.AST = node
        while isinstance(current, ast.BinOp) and isinstance(current.op, family):
            operands.append((type(current.op), current.right))
            current = current.left
        result = self.build(current, depth + 1)
        for op_type, right in reversed(operands):
            value = self.build(right, depth + 1)
            if op_type is ast.Add:
                result = build.add(result, value)
            elif op_type is ast.Sub:
                result = build.add(result, build.negate(value))
            elif op_type is ast.Mult:
                result = build.multiply(result, value)
            else:
                result = build.divide(result, value)
        return result

    def _call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            raise ParseError(f"only named functions can be called{self._at(node)}, "
                             f"e.g. sqrt(q)")
        name = node.func.id
        if node.keywords:
            raise ParseError(f"keyword arguments are not allowed{self._at(node)}")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise ParseError(f"starred arguments are not allowed{self._at(node)}")
        if name == "E":
            raise ParseError("E is Euler's number; write an expectation with square brackets, "
                             "e.g. E[phi(u)^2]")
        if name in build.SYMBOLS:
            raise ParseError(f"{name} is not a function; write {name}*(...) for a product")
        known = build.function_spec(name) is not None or name in build.ACTIVATION_NAMES
        if name.startswith("_") or not known:
            return build.call(name, [])  # raises 'unknown function' before touching the args
        args = [self.build(arg, depth + 1) for arg in node.args]
        return build.call(name, args)

    def _expectation(self, node: ast.Subscript, depth: int) -> sp.Expr:
        inner = node.slice
        if isinstance(inner, (ast.Slice, ast.Tuple)):
            raise ParseError("write an expectation as E[integrand], e.g. E[phi(u)^2]")
        return build.expectation(self.build(inner, depth + 1))

    def _at(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source, node)
        return f" (in {quote(segment)})" if segment else ""


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name
