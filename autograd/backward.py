"""Reverse-mode autodiff: the chain rule over the op table.

``c.backward()`` does two things, both in this file: it puts the nodes of the graph in a
topological order (:func:`topological_sort`: every node after its inputs), then runs the chain
rule (:func:`chain_rule`): from the root back to the inputs, each node's op hands each of its
inputs ``g * d(node)/d(input)``, which is added to that input's gradient. The functional ``grad``
family and ``viz.backward_steps`` run the same sweep into a dict (a caller's ``.grad`` is never
touched); on Values instead of floats (the ``VALUE`` namespace below) it builds a graph of the
gradient itself, which can be differentiated again (``create_graph=True``, ``grad(grad(f))``).

This is the plain engine, the one to read. Unless ``AUTOGRAD_PLAIN=1``, :mod:`autograd.codegen`
swaps in ``Value.backward`` with the same sweep on floats compiled from the table (a branch per
op, no rule called per node), and the tests hold the two to the same bits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import nullcontext
from types import SimpleNamespace
from typing import Any

from .grad_mode import enable_grad
from .namespaces import FLOAT
from .ops import OPS
from .value import Value, _is_number, _lift, apply, data_of

# Backward writes into the .grad of nodes that other threads may share: one pass at a time, so
# two threads on one graph get exactly what they would get one after the other (as in PyTorch).
ONE_PASS_AT_A_TIME = threading.RLock()


def backward(self: Value, grad: Any = 1.0, create_graph: bool = False) -> None:
    """Backpropagate: every leaf's ``.grad += d(self)/d(leaf)``; every other node's ``.grad`` is
    set to d(self)/d(node) for this pass (0.0 where no gradient reaches it).

    With ``create_graph=True`` the leaves' grads are Values with a graph of their own (a leaf's
    grad then refers back to the leaf, as in PyTorch: a cycle the GC or ``zero_grad()`` frees).
    """
    seed = _seed(grad)
    with ONE_PASS_AT_A_TIME:
        order = topological_sort(self)
        grads = {}  # d(self)/d(node) so far; leaves start from the .grad they hold
        for node in order:
            if node.is_leaf:
                grads[node] = node.grad
        grads[self] = grads[self] + seed if self.is_leaf else seed
        with enable_grad() if create_graph else nullcontext():
            for _ in chain_rule(order, grads, VALUE if create_graph else FLOAT):
                pass
        for node in order:  # floats on inner nodes: a graph there would only make cycles
            node.grad = grads[node] if node.is_leaf else float(grads.get(node, 0.0))


def topological_sort(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each after its inputs: a depth-first search (inputs in
    argument order) with its own stack instead of recursion, so any depth works."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))  # popped again once all its inputs are in the order
            for parent in reversed(node.parents):
                stack.append((parent, False))
    return order


def chain_rule(
    order: list[Value], grads: MutableMapping[Value, Any], m: Any = FLOAT
) -> Iterator[tuple[Value, Any, tuple[Any, ...]]]:
    """The chain rule, node by node, from the last node of ``order`` (a topological order) back
    to the first. ``grads`` maps a node to d(root)/d(node) so far; it holds the seed.

    When a node's turn comes, every node that uses it has had its turn: its grad is complete.
    Its op's rule gives one contribution per input; the sweep yields ``(node, grad,
    contributions)``, then adds each to its input's grad. Nodes no gradient reached are skipped.
    """
    for node in reversed(order):
        g = grads.get(node)
        if node.is_leaf or g is None:
            continue
        contributions = local_grads(node, g, m)
        yield node, g, contributions
        for parent, contribution in zip(node.parents, contributions):
            if contribution is None:  # the op passes no gradient to this input
                continue
            if parent in grads:
                grads[parent] += contribution
            else:
                grads[parent] = contribution


def local_grads(node: Value, g: Any, m: Any = FLOAT) -> tuple[Any, ...]:
    """``g * d(node)/d(input)`` for each input of ``node``, from its op's rule in the table: on
    floats (``FLOAT``), or on Values (``VALUE``) so that the result carries a graph."""
    op = OPS[node.op]
    if m is VALUE:
        out, xs = node, list(node.parents)
    else:
        out, xs = node.data, list(map(data_of, node.parents))
    if op.has_arg:
        xs.append(node.arg)
    return op.vjp(m, g, out, *xs)


def _seed(grad: Any) -> Any:
    if type(grad) is float or isinstance(grad, Value):
        return grad
    if not _is_number(grad):
        raise TypeError(f"backward: grad must be a number or a Value, got {type(grad).__name__}")
    return float(grad)


Value.backward = backward  # type: ignore[method-assign]


# ---- the rules on Values: gradients with a graph of their own -------------------------------

# On Values every function records a node, so a backward pass run on VALUE builds a graph of its
# own (higher-order gradients). Like FLOAT's, these functions are total: a derivative that is
# infinite (d/dx sqrt(x) at 0) is inf or nan as in PyTorch, never a domain error raised from an
# op the user never wrote (``check=False``). Comparisons on Values compare their data.


def _total(op_name: str) -> Callable[..., Value]:
    return lambda *xs: apply(op_name, xs, check=False)


def _total_pow(x: Any, n: Any) -> Value:
    if isinstance(n, Value):
        return apply("pow_value", (x, n), check=False)
    return apply("pow", (x,), float(n), check=False)


VALUE = SimpleNamespace(
    name="value",
    exp=_total("exp"),
    log=_total("log"),
    sqrt=_total("sqrt"),
    tanh=_total("tanh"),
    sigmoid=_total("sigmoid"),
    softplus=_total("softplus"),
    sin=_total("sin"),
    cos=_total("cos"),
    abs=_total("abs"),
    sign=FLOAT.sign,
    where=FLOAT.where,
    iszero=lambda x: float(x) == 0.0,
    div=_total("div"),
    pow=_total_pow,
    sum=sum,
    max=lambda xs: apply("max", xs, check=False),
    argmax=lambda xs: FLOAT.argmax([float(x) for x in xs]),
)


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
    order = topological_sort(root) if wrt is None else path_order(root, wrt)
    grads: dict[Value, Any] = {root: seed}
    with enable_grad() if create_graph else nullcontext():
        for _ in chain_rule(order, grads, m):
            pass
    return grads


def path_order(root: Value, wrt: Iterable[Value]) -> list[Value]:
    """The nodes of ``topological_sort(root)`` on a path from a ``wrt`` Value to ``root``: the
    only ones whose gradients can reach those Values (tinygrad's ``_deepwalk``)."""
    on_path = set(wrt)
    order = []
    for node in topological_sort(root):
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
