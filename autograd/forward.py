"""Forward mode: tangents pushed from the inputs to the outputs, with the same op table.

Reverse mode asks each node "how much does the output move when you move?" and answers for
every input in one sweep from the output back. Forward mode asks each node "how much do you
move when the input moves along ``t``?" and answers for every output in one sweep from the
inputs on. The question a node answers is the same local derivative either way, so no rule is
written twice: the tangent of ``out = op(x1, ..., xn)`` is

    t_out = d(out)/d(x1) * t_1 + ... + d(out)/d(xn) * t_n,

with the local derivatives read from the op's vector-Jacobian rule seeded with 1
(:func:`autograd.backward.local_grads`). On floats that is plain forward mode; when the inputs
or tangents are Values (``grad`` of a ``jvp``, ``jacfwd(jacrev(f))``) the rule runs in the VALUE
namespace, so every tangent is a Value with a graph and can be differentiated again.

``jvp`` runs ``f`` once and then sweeps its graph once, in topological order. ``jacfwd`` sweeps
once per input number, ``jacrev`` runs backward once per output number: the first is cheap for
few inputs and many outputs, the second for many inputs and few outputs (a loss).

Arguments and results are numbers, Values, or (nested) lists and tuples of them; a Jacobian
follows JAX's layout: the output's structure, each number of it replaced by the structure of
the differentiated argument (a tuple of those when ``argnums`` is a tuple, as in ``grad``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .backward import VALUE, _argnums, chain_rule, local_grads, path_order
from .grad_mode import enable_grad
from .graph import topological_order
from .namespaces import FLOAT
from .value import Value, _is_number, _lift

# A tree's shape: None for one number, else (list or tuple, the children's shapes).
Shape = Any


def _flatten(fname: str, what: str, x: Any, leaves: list[Any]) -> Shape:
    """``x``'s shape; its numbers and Values are appended to ``leaves`` in order."""
    if isinstance(x, Value) or _is_number(x):
        leaves.append(x)
        return None
    if isinstance(x, (list, tuple)):
        return type(x), [_flatten(fname, what, item, leaves) for item in x]
    raise TypeError(
        f"{fname}: {what} must be a number, a Value, or a (nested) list or tuple of them, "
        f"got {type(x).__name__} {x!r}"
    )


def _build(shape: Shape, items: Iterator[Any]) -> Any:
    """The tree of ``shape`` holding ``items`` in order."""
    if shape is None:
        return next(items)
    kind, children = shape
    return kind(_build(child, items) for child in children)


def _inputs(leaves: list[Any]) -> list[Value]:
    """Each number as a new Value; Values as they are, except a Value met a second time, which
    gets a node of its own (``x * 1``) so each slot is a separate input of ``f``."""
    seen: set[int] = set()
    xs = []
    for leaf in leaves:
        if isinstance(leaf, Value):
            x = leaf * 1.0 if id(leaf) in seen else leaf
            seen.add(id(leaf))
        else:
            x = Value(leaf)
        xs.append(x)
    return xs


def _outputs(fname: str, out: Any) -> tuple[Shape, list[Value]]:
    leaves: list[Any] = []
    shape = _flatten(fname, "f's result", out, leaves)
    return shape, [_lift(v) for v in leaves]


def _push(
    order: list[Value], seeds: dict[Value, Any], inputs: set[Value], m: Any
) -> dict[Value, Any]:
    """Tangents of every node of ``order`` reached from ``seeds`` (node -> its tangent).

    The forward twin of :func:`autograd.backward.chain_rule`: inputs before the nodes that use
    them; at each node, the local derivatives from the table times the inputs' tangents.
    An input of ``f`` keeps the tangent it is given in ``seeds``, or none (it is independent of
    whatever computed it); a node no tangent reaches is left out.
    """
    tangents = dict(seeds)
    for node in order:
        if node.is_leaf or node in inputs:
            continue
        parents = node.parents
        ts = [tangents.get(p) for p in parents]
        if not any(t is not None for t in ts):
            continue
        total = None
        for d, t in zip(local_grads(node, 1.0, m), ts):
            if d is None or t is None:  # no derivative (stop_gradient), or no tangent
                continue
            term = d * t
            total = term if total is None else total + term
        if total is not None:
            tangents[node] = total
    return tangents


def _result(x: Any, nested: bool) -> Any:
    """A number as the caller should see it: a Value when nested, else a float."""
    return _lift(x) if nested else float(x)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J·tangents)``: the value and the directional derivative, in one run of
    ``f`` and one forward sweep of its graph (JAX's ``jvp``, ``torch.func.jvp``).

    ``primals`` is the tuple of ``f``'s arguments, ``tangents`` a tuple of the same shape (a
    direction for every number). ``f`` receives every number as a Value and may return a
    Value, a number, or a (nested) list or tuple of them; both results have that shape. Floats
    come back, or Values with a graph when any primal or tangent is a Value (so ``grad`` of a
    function that calls ``jvp`` works).
    """
    return _jvp("jvp", f, primals, tangents)


def _jvp(fname: str, f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    if not isinstance(primals, (list, tuple)) or not isinstance(tangents, (list, tuple)):
        bad = tangents if isinstance(primals, (list, tuple)) else primals
        name = "tangents" if bad is tangents else "primals"
        raise TypeError(
            f"{fname}: {name} must be a tuple or list of f's arguments, "
            f"got {type(bad).__name__} {bad!r}"
        )
    if len(primals) != len(tangents):
        raise ValueError(f"{fname}: got {len(primals)} primals but {len(tangents)} tangents")
    p_leaves: list[Any] = []
    t_leaves: list[Any] = []
    shapes = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        shape = _flatten(fname, f"primal {i}", p, p_leaves)
        if _flatten(fname, f"tangent {i}", t, t_leaves) != shape:
            raise ValueError(
                f"{fname}: tangent {i} ({t!r}) does not have the shape of primal {i} ({p!r})"
            )
        shapes.append(shape)
    nested = any(isinstance(x, Value) for x in p_leaves + t_leaves)
    with enable_grad():  # a no_grad around the call does not stop it (as with torch.func)
        xs = _inputs(p_leaves)
        items = iter(xs)
        args = [_build(shape, items) for shape in shapes]
        out_shape, outs = _outputs(fname, f(*args))
        order = topological_order(outs)
        tangent_of = _push(order, dict(zip(xs, t_leaves)), set(xs), VALUE if nested else FLOAT)
    values = [v if nested else v.data for v in outs]
    ts = [_result(tangent_of.get(v, 0.0), nested) for v in outs]
    return _build(out_shape, iter(values)), _build(out_shape, iter(ts))


def _jacobian(fname: str, f: Callable[..., Any], argnums: Any, forward: bool) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        nums = _argnums(fname, argnums, len(args))
        leaves: list[Any] = []
        shapes = {i: _flatten(fname, f"argument {i}", args[i], leaves) for i in nums}
        nested = any(isinstance(x, Value) for x in leaves)
        with enable_grad():
            xs = _inputs(leaves)
            items = iter(xs)
            call = [Value(a) if _is_number(a) else a for a in args]
            for i in nums:
                call[i] = _build(shapes[i], items)
            out_shape, outs = _outputs(fname, f(*call))
            rows = _forward_rows(outs, xs, nested) if forward else _reverse_rows(outs, xs, nested)
        # One row per output number; each row split into the differentiated arguments' shapes.
        entries = []
        for row in rows:
            items = iter(row)
            per_arg = [_build(shapes[i], items) for i in nums]
            entries.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        return _build(out_shape, iter(entries))

    return run


def _forward_rows(outs: list[Value], xs: list[Value], nested: bool) -> list[list[Any]]:
    """The Jacobian by columns: one forward sweep per input, seeded with 1 there."""
    order = topological_order(outs)
    m = VALUE if nested else FLOAT
    columns, inputs = [], set(xs)
    for x in xs:
        tangent_of = _push(order, {x: 1.0}, inputs, m)
        columns.append([_result(tangent_of.get(v, 0.0), nested) for v in outs])
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in outs]


def _reverse_rows(outs: list[Value], xs: list[Value], nested: bool) -> list[list[Any]]:
    """The Jacobian by rows: one backward sweep per output, seeded with 1 there.

    The sweep stops at the inputs (they are not in the order it walks), so an input computed
    from another one passes nothing on to it: each is an independent input, as in ``jvp``.
    """
    inputs = set(xs)
    m = VALUE if nested else FLOAT
    rows = []
    for v in outs:
        grads: dict[Value, Any] = {v: 1.0}
        order = [node for node in path_order(v, xs) if node not in inputs]
        for _ in chain_rule(order, grads, m):
            pass
        rows.append([_result(grads.get(x, 0.0), nested) for x in xs])
    return rows


def jacfwd(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian of ``f`` by forward mode: one tangent sweep per input number, so it suits
    functions with few inputs and many outputs. ``jacfwd(f)(x)`` for a scalar ``x`` and a list
    output is the list of derivatives; for a list ``x`` and a list output a list of rows
    (output-major, as in JAX); a tuple ``argnums`` gives a tuple per output, one entry per
    argument, as ``grad`` does. Composable: ``jacfwd(jacrev(f))`` is the Hessian."""
    return _jacobian("jacfwd", f, argnums, forward=True)


def jacrev(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The Jacobian of ``f`` by reverse mode: one backward sweep per output number, so it suits
    functions with many inputs and few outputs. Same layout as :func:`jacfwd`; for a scalar
    output it is the gradient (``jacrev(f)(xs)`` a list like ``xs``)."""
    return _jacobian("jacrev", f, argnums, forward=False)


def hvp(f: Callable[..., Any]) -> Callable[..., Any]:
    """``hvp(f)(primals, tangents)``: the Hessian of the scalar ``f`` times the direction
    ``tangents``, by forward-over-reverse (a ``jvp`` of the gradient), without building the
    Hessian. ``primals`` is the tuple of ``f``'s arguments; the result has the shape of
    ``tangents`` (a tuple, one entry per argument)."""

    def run(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        n = len(primals) if isinstance(primals, (list, tuple)) else 0
        gradient = jacrev(f, argnums=tuple(range(n)))
        return tuple(_jvp("hvp", gradient, primals, tangents)[1])

    return run


__all__ = ["jvp", "jacfwd", "jacrev", "hvp"]
