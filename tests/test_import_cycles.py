"""No import cycles in autograd/, nn/ or viz/, imports inside functions counted (issue 21.2).

Every module is parsed with ``ast``: each ``import`` and ``from ... import`` anywhere in it (at
the top, inside a function, inside a ``try``) is an edge, except under ``if TYPE_CHECKING:``,
which never runs. Relative imports are resolved; ``from pkg import name`` is an edge to the
submodule ``pkg.name`` when there is one, else to ``pkg``. A cycle in that graph is a knot a
reader must hold in their head at once (and an import-order bug waiting for a new import).

Run ``python -m tests.test_import_cycles`` to print every cycle.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograd", "nn", "viz")

Edge = tuple[str, str]


def modules() -> dict[str, Path]:
    """Every module of the packages by dotted name (a package by its ``__init__.py``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            todo.extend(node.orelse)  # the body only runs under a type checker
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported project module: line of the first such import}."""
    known = modules()
    graph: dict[str, dict[str, int]] = {name: {} for name in known}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        package = name if is_package else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            for target in targets:
                if target in known and target != name:
                    graph[name].setdefault(target, node.lineno)
    return graph


def cycles(graph: dict[str, dict[str, int]], ignore: set[Edge] = frozenset()) -> list[list[str]]:
    """Elementary cycles, one shortest cycle through each module that is on one, without the
    edges in ``ignore``; each starts at its smallest module, so the list is stable."""
    edges = {a: [b for b in sorted(bs) if (a, b) not in ignore] for a, bs in graph.items()}
    found: set[tuple[str, ...]] = set()
    for start in sorted(edges):
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue:  # breadth first: the shortest way back to start
            node = queue.popleft()
            if start in edges[node]:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                cycle = path[::-1]
                i = cycle.index(min(cycle))
                found.add(tuple(cycle[i:] + cycle[:i]))
                break
            for nxt in edges[node]:
                if nxt not in parent and nxt != start:
                    parent[nxt] = node
                    queue.append(nxt)
    return [list(c) for c in sorted(found)]


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    """``a (a.py:12) -> b (b.py:30) -> a``: where each module imports the next."""
    known = modules()
    steps = []
    for a, b in zip(cycle, cycle[1:] + cycle[:1]):
        where = known[a].relative_to(ROOT)
        steps.append(f"{a} ({where}:{graph[a][b]} imports {b})")
    return "\n    -> ".join(steps) + f"\n    -> {cycle[0]}"


def test_the_graph_sees_function_level_and_relative_imports():
    graph = import_graph()
    assert "autograd.value" in graph["autograd.backward"]  # from .value import ...
    assert "autograd.codegen" in graph["autograd"]  # from . import codegen
    assert "autograd.version" in graph["nn"]  # inside a function: from autograd.version import
    assert "autograd.tape.to_torch" in graph["autograd.tape.tape"]  # inside a method


def test_a_cycle_is_found_and_printed():
    graph = {"a": {"b": 3}, "b": {"c": 5}, "c": {"a": 7}, "d": {"a": 1}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles(graph, ignore={("b", "c")}) == []


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    message = "\n\n".join(describe(c, graph) for c in found)
    assert not found, f"{len(found)} import cycle(s), imports inside functions counted:\n{message}"


if __name__ == "__main__":
    graph = import_graph()
    for cycle in cycles(graph):
        print(describe(cycle, graph), end="\n\n")
