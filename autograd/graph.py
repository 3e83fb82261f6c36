"""Walking the graph: one iterative topological sort shared by backward, the tape and viz."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .value import Value


def _roots(roots: Value | Iterable[Value]) -> list[Value]:
    from .value import Value

    return [roots] if isinstance(roots, Value) else list(roots)


def topological_order(roots: Value | Iterable[Value]) -> list[Value]:
    """Every node reachable from ``roots``, each after all of its parents.

    The order is the one a recursive depth-first search would give (parents visited in argument
    order), found with an explicit stack, so a graph of any depth works.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    visit, emit = seen.add, order.append  # bound once: this loop runs once per node
    for root in _roots(roots):
        if root in seen:
            continue
        visit(root)
        stack = [(root, iter(root.parents))]
        push = stack.append
        while stack:
            node, pending = stack[-1]
            for parent in pending:
                if parent not in seen:
                    visit(parent)
                    if parent.parents:
                        push((parent, iter(parent.parents)))
                        break
                    emit(parent)
            else:
                stack.pop()
                emit(node)
    return order


def edges(roots: Value | Iterable[Value]) -> list[tuple[Value, Value]]:
    """(input, output) pairs, one per use: ``x * x`` gives the edge (x, x*x) twice."""
    return [(parent, node) for node in topological_order(roots) for parent in node.parents]
