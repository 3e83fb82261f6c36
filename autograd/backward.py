"""Reverse-mode autodiff: the chain rule over the op table.

The whole algorithm is :func:`chain_rule`: visit the nodes from the root back to the inputs (the
reverse of a topological order), and at each node ask its op's rule for the local derivatives,
multiplied by the node's own gradient, and add them to its inputs' gradients. ``backward()``
runs it into the ``.grad`` fields; the functional ``grad`` family runs it into a dict (so a
caller's ``.grad`` is never touched); on Values instead of floats it builds a graph of the
gradient itself, which can be differentiated again (``create_graph=True``, ``grad(grad(f))``).

This is the plain engine, the one to read. Unless ``AUTOGRAD_PLAIN=1``, :mod:`autograd.codegen`
swaps in ``Value.backward`` with the same sweep on floats compiled from the table (a branch per
op, no rule called per node), and the tests hold the two to the same bits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import nullcontext
from typing import Any

from .grad_mode import enable_grad
from .graph import topological_order
from .namespaces import FLOAT, VALUE
from .ops import OPS
from .value import Value, _is_number, _lift, data_of

# Backward writes into the .grad of nodes that other threads may share: one pass at a time, so
# two threads on one graph get exactly what they would get one after the other (as in PyTorch).
ONE_PASS_AT_A_TIME = threading.RLock()


def local_grads(node: Value, g: Any, m: Any = FLOAT) -> tuple[Any, ...]:
    """The contributions ``g * d(node)/d(input)`` to each of ``node``'s inputs, from the table.

    On ``FLOAT`` the rule sees the data; on ``VALUE`` it sees the Values themselves, so the
    result carries a graph. ``local_grads(node, 1.0)`` gives the local derivatives.
    """
    op = OPS[node.op]
    if m is VALUE:
        out, xs = node, list(node.parents)
    else:
        out, xs = node.data, list(map(data_of, node.parents))
    if op.has_arg:
        xs.append(node.arg)
    return op.vjp(m, g, out, *xs)


def chain_rule(
    order: list[Value], grads: MutableMapping[Value, Any], m: Any = FLOAT
) -> Iterator[tuple[Value, Any, tuple[Any, ...]]]:
    """The chain rule, one node at a time, from the last node of ``order`` back to the first.

    ``order`` is a topological order (inputs before the nodes that use them); ``grads`` maps a
    node to d(root)/d(node) so far, holding the seed for the root. For each node made by an op,
    in reverse order, the op's rule gives one contribution per input (``local_grads``); the sweep
    yields ``(node, its grad, contributions)`` and then adds each contribution to its input's
    entry. When a node's turn comes every node that uses it has had its turn, so its grad is
    complete. A node no gradient reached (``grads.get(node)`` is None) is passed over.

    ``backward()`` (``grads`` kept in the ``.grad`` fields), the functional ``grad`` family
    (``grads`` a dict) and ``viz.backward_steps`` all run this one sweep.
    """
    for node in reversed(order):
        if node.is_leaf:
            continue
        g = grads.get(node)
        if g is None:
            continue
        contributions = local_grads(node, g, m)
        yield node, g, contributions
        for parent, contribution in zip(node.parents, contributions):
            if contribution is not None:
                seen = grads.get(parent)
                grads[parent] = contribution if seen is None else seen + contribution


class _GradFields:
    """The gradients as :func:`chain_rule` reads and writes them, kept in each node's ``.grad``."""

    def get(self, node: Value) -> Any:
        return node.grad

    def __setitem__(self, node: Value, grad: Any) -> None:
        node.grad = grad


def backward(self: Value, grad: Any = 1.0, create_graph: bool = False) -> None:
    """Backpropagate from this node: leaves' ``.grad += d(self)/d(leaf)``; every other node's
    ``.grad`` is set to d(self)/d(node) for this pass (0.0 where no gradient reaches it, as
    behind a ``stop_gradient``).

    With ``create_graph=True`` the leaves' grads are Values with a graph of their own, so they
    can be differentiated again; other nodes get the float of theirs. As in PyTorch, a leaf's
    grad then refers back to the leaf (``x.grad`` of ``x * x`` is ``2 x``): a reference cycle,
    freed by the cyclic GC or by resetting the grad (``zero_grad()``).
    """
    seed = _seed(grad)
    with ONE_PASS_AT_A_TIME:
        if self.is_leaf:  # nothing to walk
            self.grad = self.grad + seed
            return
        order = topological_order(self)
        # This pass's gradients start from nothing; leaves keep theirs and accumulate.
        for node in order:
            if not node.is_leaf:
                node.grad = None
        self.grad = seed
        m = VALUE if create_graph else FLOAT
        with enable_grad() if create_graph else nullcontext():
            for _ in chain_rule(order, _GradFields(), m):
                pass
        for node in order:  # floats on inner nodes: a graph there would only make cycles
            if not node.is_leaf:
                node.grad = 0.0 if node.grad is None else float(node.grad)


def _seed(grad: Any) -> Any:
    if isinstance(grad, Value):
        return grad
    if not _is_number(grad):
        raise TypeError(f"backward: grad must be a number or a Value, got {type(grad).__name__}")
    return float(grad)


Value.backward = backward  # type: ignore[method-assign]


def gradients(
    root: Value, seed: Any = 1.0, create_graph: bool = False, wrt: Iterable[Value] | None = None
) -> dict[Value, Any]:
    """d(root)/d(node) for every node ``root`` depends on, without touching any ``.grad``.

    With ``create_graph`` the gradients are Values whose own graph can be differentiated again.
    With ``wrt`` only the nodes on a path from one of those Values to ``root`` are visited.
    """
    m = FLOAT
    if create_graph:
        m = VALUE
        if not isinstance(seed, Value):
            seed = Value(seed)
    order = topological_order(root) if wrt is None else path_order(root, wrt)
    grads: dict[Value, Any] = {root: seed}
    with enable_grad() if create_graph else nullcontext():
        for _ in chain_rule(order, grads, m):
            pass
    return grads


def path_order(root: Value, wrt: Iterable[Value]) -> list[Value]:
    """The nodes of ``topological_order(root)`` on a path from a ``wrt`` Value to ``root``: the
    only ones whose gradients can reach those Values (tinygrad's ``_deepwalk``)."""
    on_path = set(wrt)
    order = []
    for node in topological_order(root):
        if node in on_path or any(p in on_path for p in node.parents):
            on_path.add(node)
            order.append(node)
    return order


# ---- functional API ---------------------------------------------------------------------------


def _argnums(fname: str, argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"{fname}: argnums {argnums!r} out of range for {nargs} arguments")
    return tuple(i % nargs for i in nums)


def _prepare(
    fname: str, args: tuple[Any, ...], argnums: Any
) -> tuple[list[Any], tuple[int, ...], bool]:
    """Every numeric argument as a Value; which to differentiate; whether we are nested.

    Nested means a caller handed us Values (``grad(grad(f))``): then results stay Values with a
    graph, so the caller can differentiate them again; otherwise they are floats.
    """
    nums = _argnums(fname, argnums, len(args))
    for i in nums:
        if not (_is_number(args[i]) or isinstance(args[i], Value)):
            raise TypeError(
                f"{fname}: argument {i} must be a number or a Value, got {type(args[i]).__name__}"
            )
    nested = any(isinstance(a, Value) for a in args)
    xs = [Value(a) if _is_number(a) else a for a in args]
    return xs, nums, nested


def _scalar_output(fname: str, out: Any) -> Value:
    v = _lift(out)
    if v is None:
        raise TypeError(f"{fname}: f must return a Value or a number, got {type(out).__name__}")
    return v


def _pick(grads: dict[Value, Any], xs: list[Any], nums: tuple[int, ...], nested: bool) -> list[Any]:
    picked = [grads.get(xs[i], 0.0) for i in nums]
    return [_lift(g) for g in picked] if nested else [float(g) for g in picked]


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``value_and_grad(f)(x) -> (f(x), f'(x))``; a tuple of partials when ``argnums`` is."""

    def run(*args: Any) -> tuple[Any, Any]:
        xs, nums, nested = _prepare("value_and_grad", args, argnums)
        out = _scalar_output("value_and_grad", f(*xs))
        wrt = [xs[i] for i in nums]
        parts = _pick(gradients(out, 1.0, nested, wrt), xs, nums, nested)
        value = out if nested else out.data
        return value, parts[0] if isinstance(argnums, int) else tuple(parts)

    return run


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``grad(f)(x) -> f'(x)``. Composable: ``grad(grad(f))(x)`` is f''(x). ``f`` receives every
    numeric argument as a Value; the caller's ``.grad`` fields are never touched."""
    vg = value_and_grad(f, argnums)
    return lambda *args: vg(*args)[1]


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Second derivatives: ``[[d2f/da2, d2f/dadb], [d2f/dbda, d2f/db2]]`` for ``argnums=(0, 1)``;
    a single number for an int ``argnums``."""

    def run(*args: Any) -> Any:
        xs, nums, nested = _prepare("hessian", args, argnums)
        out = _scalar_output("hessian", f(*xs))
        wrt = [xs[i] for i in nums]
        firsts = _pick(gradients(out, 1.0, True, wrt), xs, nums, nested=True)
        rows = [_pick(gradients(g, 1.0, nested, wrt), xs, nums, nested) for g in firsts]
        return rows[0][0] if isinstance(argnums, int) else rows

    return run
