"""Reverse-mode autodiff: the chain rule over the op table, run two ways.

``backward`` writes straight into ``.grad`` (the hot loop of training); ``gradients`` keeps the
same chain rule in a dict, so the functional API never touches a caller's ``.grad``. Both take
their local derivatives from ``local_grads``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from .grad_mode import enable_grad
from .graph import _walk, topological_order
from .namespaces import FLOAT, VALUE
from .ops import OPS
from .value import Value, _is_number, _lift, data_of


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


def gradients(root: Value, seed: Any = 1.0, create_graph: bool = False) -> dict[Value, Any]:
    """d(root)/d(node) for every node ``root`` depends on, without touching any ``.grad``.

    With ``create_graph`` the gradients are Values whose own graph can be differentiated again.
    """
    m = FLOAT
    if create_graph:
        m = VALUE
        if not isinstance(seed, Value):
            seed = Value(seed)
    grads: dict[Value, Any] = {root: seed}
    with enable_grad() if create_graph else nullcontext():
        for node in reversed(topological_order(root)):
            if not node.parents:
                continue
            g = grads.get(node)
            if g is None:  # every path to it carried a None gradient
                continue
            for parent, contribution in zip(node.parents, local_grads(node, g, m)):
                if contribution is None:
                    continue
                seen = grads.get(parent)
                grads[parent] = contribution if seen is None else seen + contribution
    return grads


def backward(root: Value, grad: Any = 1.0, create_graph: bool = False) -> None:
    """``root.backward()``: leaves accumulate, every other node gets this pass's gradient.

    This is the hot loop of training, so it writes straight into ``.grad``; ``gradients`` is
    the same chain rule into a dict, for the functional API.
    """
    if not (_is_number(grad) or isinstance(grad, Value)):
        raise TypeError(f"backward: grad must be a number or a Value, got {type(grad).__name__}")
    seed = grad if isinstance(grad, Value) else float(grad)
    if root._x is None:  # a leaf: nothing to walk
        root.grad = root.grad + seed
        return
    order = _walk([root], reset_grads=True)  # every non-leaf .grad starts this pass at 0
    root.grad = seed
    if create_graph:
        with enable_grad():
            _backprop(order, VALUE)
    else:
        _backprop(order, FLOAT)


def _backprop(order: list[Value], m: Any) -> None:
    if m is not FLOAT:  # higher order: the rules run on Values and build a graph
        for node in reversed(order):
            if node._x is not None:
                for parent, contribution in zip(node.parents, local_grads(node, node.grad, m)):
                    if contribution is not None:
                        parent.grad = parent.grad + contribution
        return
    # On floats the same rules as local_grads, read straight from the input slots: this loop runs
    # once per node of every training step.
    for node in reversed(order):
        x, y = node._x, node._y
        if x is None:  # a leaf
            continue
        op = OPS[node.op]
        if y is not None:  # two inputs: most nodes of a network are + and *
            gx, gy = op.vjp(FLOAT, node.grad, node.data, x.data, y.data)
            if gx is not None:
                x.grad += gx
            if gy is not None:
                y.grad += gy
        elif type(x) is tuple:  # n inputs: sum, dot
            contributions = op.vjp(FLOAT, node.grad, node.data, *map(data_of, x))
            for parent, gp in zip(x, contributions):
                if gp is not None:
                    parent.grad += gp
        else:  # one input, and the op's constant when it has one
            data = (x.data, node.arg) if op.has_arg else (x.data,)
            (gx,) = op.vjp(FLOAT, node.grad, node.data, *data)
            if gx is not None:
                x.grad += gx


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
        parts = _pick(gradients(out, 1.0, create_graph=nested), xs, nums, nested)
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
        firsts = _pick(gradients(out, 1.0, create_graph=True), xs, nums, nested=True)
        rows = [_pick(gradients(g, 1.0, create_graph=nested), xs, nums, nested) for g in firsts]
        return rows[0][0] if isinstance(argnums, int) else rows

    return run
