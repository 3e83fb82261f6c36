"""Reverse-mode autodiff: the chain rule over the op table, run two ways.

``backward`` writes straight into ``.grad`` (the hot loop of training); ``gradients`` keeps the
same chain rule in a dict, so the functional API never touches a caller's ``.grad``. Both take
their local derivatives from the table: ``gradients`` and higher-order backward call each rule
through ``local_grads``; backward on floats runs a loop compiled from the rules at import
(``FLOAT_BACKPROP_SOURCE``), which adds bit for bit what calling them would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from contextlib import nullcontext
from typing import Any

from .grad_mode import enable_grad
from .graph import _walk, topological_order
from .namespaces import FLOAT, VALUE, as_code, compile_function
from .ops import OPS, Op
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
    if m is FLOAT:
        _float_backprop(order)
        return
    for node in reversed(order):  # higher order: the rules run on Values and build a graph
        if node._x is not None:
            _by_rule(node, m)


def _by_rule(node: Value, m: Any) -> None:
    """Add ``node``'s contributions to its inputs' ``.grad``, calling the op's rule."""
    for parent, contribution in zip(node.parents, local_grads(node, node.grad, m)):
        if contribution is not None:
            parent.grad = parent.grad + contribution


# What a compiled rule may refer to, and the line that loads it: the gradient flowing in, the
# node's value, its inputs' values and its constant.
_LOADS = {"out": "out = node.data", "a": "a = x.data", "b": "b = y.data", "c": "c = node.arg"}


def _compile_float_backprop() -> tuple[Callable[[list[Value]], None], str, tuple[str, ...]]:
    """The backward loop on floats, written from the op table: the hot loop of training.

    Each op with one or two inputs gets a branch holding its vjp rule as code: the rule itself,
    run on ``SOURCE`` names (``MUL.vjp`` gives ``x.grad += (g * b)`` and ``y.grad += (g * a)``),
    so backward calls no function for such a node (measured: ~40% faster than calling the rule).
    Nodes with three or more inputs (sum, dot) call their rule once for all inputs; ops
    registered after import call theirs through :func:`local_grads`. Returns the function, its
    source text (``FLOAT_BACKPROP_SOURCE``, worth a read) and the ops compiled into it.
    """
    two = [op for op in OPS.values() if op.arity == 2]
    one = [op for op in OPS.values() if op.arity == 1]
    lines = [
        "def float_backprop(order):",
        "    for node in reversed(order):",
        "        x = node._x",
        "        if x is None:  # a leaf",
        "            continue",
        "        op = node.op",
        "        g = node.grad",
        "        y = node._y",
        "        if y is not None:  # two inputs",
        *_branches(two, "            "),
        "        elif type(x) is tuple:  # three or more: one call of the rule for all of them",
        "            data = map(data_of, x)",
        "            for p, gp in zip(x, OPS[op].vjp(FLOAT, g, node.data, *data)):",
        "                if gp is not None:",
        "                    p.grad += gp",
        *_branches(one, "        ", first="elif"),
        "",
    ]
    source = "\n".join(lines)
    scope = {"by_rule": _by_rule, "FLOAT": FLOAT, "OPS": OPS, "data_of": data_of}
    backprop = compile_function(source, "float_backprop", scope, "autograd.backward")
    return backprop, source, tuple(op.name for op in two + one)


def _branches(ops: list[Op], indent: str, first: str = "if") -> list[str]:
    """``if op == 'add': ...`` for each op, its rule as code; other ops call their rule."""
    lines = []
    for op in ops:
        names = ["a", "b"][: op.arity] + (["c"] if op.has_arg else [])
        contributions = as_code(op.name, op.vjp, "g", "out", *names)
        code = " ".join(c.text for c in contributions if c is not None)
        body = [load for name, load in _LOADS.items() if re.search(rf"\b{name}\b", code)]
        body += [f"{p}.grad += {c.text}" for p, c in zip("xy", contributions) if c is not None]
        keyword = first if not lines else "elif"
        lines.append(f"{indent}{keyword} op == {op.name!r}:  # {op.doc.splitlines()[0]}")
        lines += [f"{indent}    {line}" for line in body or ["pass"]]
    return [*lines, f"{indent}else:", f"{indent}    by_rule(node, FLOAT)"]


_float_backprop, FLOAT_BACKPROP_SOURCE, COMPILED_OPS = _compile_float_backprop()


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
