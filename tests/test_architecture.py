"""The import graph of the package: no cycles, and the layers of /work/shared/architecture.md.

Every module of ``symfield`` is parsed with ``ast`` (nothing is imported). An import counts
wherever it is written, inside functions included (an import moved into a function to dodge a
cycle is still a cycle); only ``if TYPE_CHECKING:`` blocks are left out. Importing a submodule
is an edge to that submodule only (Python runs the parent package's ``__init__`` too, but
counting that would tie every module to its package).
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest

import symfield

ROOT = Path(symfield.__file__).resolve().parent

#: Cycles tolerated for now, each the set of modules of one strongly connected component
#: (none today: issue 10 removed the last ones). The test fails on any other cycle, and on an
#: entry here that no longer exists.
KNOWN_CYCLES: set[frozenset[str]] = set()

#: package -> packages it must never import, directly or through other modules.
FORBIDDEN = {
    "symfield.gaussian": ("symfield.laws", "symfield.dynamics", "symfield.output",
                          "symfield.verification", "symfield.cli"),
    # Laws are data over the calculus; how they are shown, swept or sampled sits above them
    # (Law.latex renders through a hook that symfield.output.latex installs).
    "symfield.laws": ("symfield.output", "symfield.dynamics", "symfield.cli",
                      "symfield.laboratory", "symfield.learning"),
    # The sampled networks are the independent witness of the calculus.
    "symfield.laboratory.networks": ("symfield.gaussian", "symfield.laws"),
}


# ------------------------------------------------------------------------------------------
# The graph
# ------------------------------------------------------------------------------------------
def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package __init__)."""
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


MODULES = _modules()


def _known(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is a module of the package."""
    parts = dotted.split(".")
    while parts:
        name = ".".join(parts)
        if name in MODULES:
            return name
        parts.pop()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Imports(ast.NodeVisitor):
    """The modules of the package one module imports (wherever the import is written)."""

    def __init__(self, module: str, is_package: bool):
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: set[str] = set()

    def _absolute(self, name: str | None, level: int) -> str:
        if not level:
            return name or ""
        base = self.package.split(".")
        base = base[:len(base) - (level - 1)]
        return ".".join(base + ([name] if name else []))

    def _add(self, dotted: str) -> None:
        target = _known(dotted)
        if target is not None:
            self.found.add(target)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for statement in node.orelse:
                self.visit(statement)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = self._absolute(node.module, node.level)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            self._add(submodule if submodule in MODULES else source)

    def visit_Call(self, node: ast.Call) -> None:
        # importlib.import_module("x.y") and import_module(".y", __name__) with literal names
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name == "import_module" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            target = node.args[0].value
            level = len(target) - len(target.lstrip("."))
            self._add(self._absolute(target.lstrip(".") or None, level))
        self.generic_visit(node)


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module, (path, is_package) in MODULES.items():
        visitor = _Imports(module, is_package)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        graph[module] = visitor.found - {module}
    return graph


GRAPH = _graph()


def _strongly_connected(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The components with a cycle (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    members = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.add(member)
                        if member == node:
                            break
                    if len(members) > 1:
                        components.append(frozenset(members))
    return components


def _path(graph: dict[str, set[str]], start: str, goals: set[str],
          within: set[str] | None = None) -> list[str] | None:
    """A shortest import path from start to one of goals (through ``within`` only)."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node]):
            if within is not None and nxt not in within:
                continue
            if nxt in goals:
                path = [nxt, node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return path[::-1]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return None


def _cycle(component: frozenset[str]) -> str:
    """One cycle through the component as a path, and all its modules."""
    start = min(component)
    path = " -> ".join(_path(GRAPH, start, {start}, set(component)))
    return f"{path}  (the cycle's component: {', '.join(sorted(component))})"


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# ------------------------------------------------------------------------------------------
# The tests
# ------------------------------------------------------------------------------------------
def test_imports_are_found_wherever_they_are_written():
    source = """
from typing import TYPE_CHECKING
import numpy
from ..normal_form import NormalForm
from . import base
if TYPE_CHECKING:
    from ..engine import GaussianCalculus
else:
    from .. import simplify
def late():
    from ...symbols import q
    return importlib.import_module("..structure", __package__)
"""
    visitor = _Imports("symfield.gaussian.rules.example", is_package=False)
    visitor.visit(ast.parse(source))
    assert visitor.found == {
        "symfield.gaussian.normal_form", "symfield.gaussian.rules.base",
        "symfield.gaussian.simplify", "symfield.symbols", "symfield.gaussian.structure"}
    assert len(MODULES) > 50 and all(GRAPH[m] <= set(MODULES) for m in GRAPH)


def test_no_new_import_cycles():
    components = set(_strongly_connected(GRAPH))
    new = [_cycle(c) for c in sorted(components - KNOWN_CYCLES, key=sorted)]
    assert not new, "import cycles:\n" + "\n".join(new)


def test_every_known_cycle_still_exists():
    gone = [sorted(c) for c in KNOWN_CYCLES - set(_strongly_connected(GRAPH))]
    assert not gone, f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers(package):
    """A package never reaches a forbidden one, directly or through other modules."""
    forbidden = {m for m in MODULES for f in FORBIDDEN[package] if _inside(m, f)}
    violations = []
    for module in sorted(m for m in MODULES if _inside(m, package)):
        path = _path(GRAPH, module, forbidden)
        if path is not None:
            violations.append(" -> ".join(path))
    assert not violations, f"{package} must not import {FORBIDDEN[package]}:\n" + \
        "\n".join(violations)


def test_the_cycle_finder_finds_cycles():
    """A test that cannot fail is a defect: the finder on a small graph with known answers."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e2"}, "e2": {"e"}}
    assert set(_strongly_connected(graph)) == {frozenset("abc"), frozenset({"e", "e2"})}
    assert _path(graph, "a", {"a"}, set("abc")) == ["a", "b", "c", "a"]
    assert _path(graph, "d", {"a"}) is None
