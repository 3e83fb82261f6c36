"""``trace`` and :class:`Tape`: a function of Values, traced once and replayed with numpy.

This module imports numpy only when a function is first traced, so ``from autograd import
trace`` works with the standard library alone.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..backward import chain_rule, gradients
from ..graph import topological_order
from ..value import Value
from .errors import CHECK_TOLERANCE, StructureError, check_close

if TYPE_CHECKING:
    from .traced import Traced

__all__ = ["CHECK_TOLERANCE", "StructureError", "Tape", "check_close", "trace"]


def _numpy_side() -> types.ModuleType:
    """The tape's numpy side (``traced.py``), imported on the first trace: the one import this
    module makes inside a function, so ``from autograd import trace`` needs only the standard
    library."""
    from . import traced

    return traced


def trace(
    fn: Callable[..., Any], *example_args: Any, check: bool = False, has_aux: bool = False
) -> Tape:
    """Run ``fn(*example_args)`` once on Values and return a :class:`Tape` that replays it.

    ``fn`` receives every argument as Values of the same shape (a number or a Value becomes a
    Value, a nested list or array a nested list of Values) and returns a Value, a number, or a
    (nested) list of them; with ``has_aux=True`` it returns a pair ``(loss, aux)``:
    ``backward()`` differentiates the loss and replays return ``(loss, aux)`` as floats (as in
    JAX). With ``check=True`` every replay is verified against eager execution.
    """
    tape = Tape(fn, check=check, has_aux=has_aux)
    tape._traced(example_args)
    return tape


class Tape:
    """A function traced into rows and compiled into grouped numpy kernels.

    ``tape(*args)`` replays the forward pass and returns floats shaped like ``fn``'s output;
    ``tape.backward()`` replays the backward pass of the last call, adding d(output)/d(p) into
    every parameter's ``.grad``; ``tape.value_and_grad(*args)`` does both and also returns the
    gradients with respect to the arguments. Arguments of a new shape trace ``fn`` again.

    What a replay reads: the arguments; the *parameters* (Values that existed before the call,
    e.g. a model's weights reached through a closure), read afresh from ``.data``, so an
    optimizer changing ``p.data`` just works; *literals* (Values made during the call with no
    history, like the ``1`` of ``1 + x``) are baked in. A Value passed as an argument gets its
    gradient as eager ``backward()`` would give it: added into a leaf's ``.grad``; through a
    computed Value into the leaves it was computed from.

    Limits. A replay repeats the traced structure, so it is valid only while the structure
    does not depend on the data. Comparisons and truth tests on Values during the trace
    (``x > 0``, ``if v:``, ``max(a, b)``) are re-checked on every replay: a replay that flips
    one raises :class:`StructureError`. So does a parameter *replaced* by another Value since
    tracing (where fn reached it through attributes, list items, closure or global variables).
    Reading ``.data`` or ``float(v)`` cannot be seen (nor constants computed from them, nor work
    under ``no_grad``): use ``check=True``, which runs ``fn`` eagerly beside every replay and
    raises :class:`StructureError` when they differ. Domain errors (log of a negative number,
    ...) raise the error eager execution raises, in everything the outputs depend on. Dead
    code is the one difference, by rule: work whose result ``fn`` does not return is not
    replayed (as ``jax.jit`` drops it), so a domain error there raises eagerly and not on the
    tape (``trace(lambda x: (x.log(), x * 2)[1], 1.0)(-1.0)`` is -2.0; eagerly, an error);
    ``check=True`` runs ``fn`` eagerly too and raises it. Values computed before the call (not
    leaves) cannot be replayed and are refused. A tape is not thread-safe.
    """

    def __init__(self, fn: Callable[..., Any], check: bool = False, has_aux: bool = False) -> None:
        self.fn, self.check, self.has_aux = fn, check, has_aux
        self._shapes: dict[Any, Traced] = {}
        self._last: Traced | None = None
        self._last_values: list[tuple[int, Value]] = []
        self._eager: tuple[Value, list[Value], list[Value]] | None = None

    # ---- replay ---------------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        """``fn(*args)`` replayed: floats, shaped like what ``fn`` returned."""
        traced, data, values = self._traced(args)
        out = traced.forward(data)
        self._last, self._last_values = traced, values
        if self.check:
            self._eager = _numpy_side().eager_run(self.fn, traced, data)
            check_close("output", traced.output_floats(), [v.data for v in self._eager[2]])
        return out

    def backward(self, seed: float = 1.0) -> None:
        """Backward pass of the last call: parameters' ``.grad += seed * d(out)/d(p)``, as eager
        ``backward()`` adds into leaves; Values passed as arguments get theirs too."""
        self._backward(seed)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple[Any, ...]]:
        """``(fn(*args), gradients with respect to each argument)``, each gradient shaped like
        its argument (a float, a nested list, or an array); parameters' ``.grad`` is added to."""
        out = self(*args)
        flat = self._backward(1.0)
        return out, self._last.argument_grads(args, flat)

    def vmap(self, *batches: Any) -> list[Any]:
        """``[fn(*sample) for sample in zip(*batches)]`` in one replay (JAX's ``vmap``): each
        argument has a leading batch axis (a list of per-sample arguments, or an array with the
        batch first). ``fn`` is traced on the first sample and replayed on all of them at once,
        every slot a vector over the samples; results as floats, one per sample."""
        traced, columns = self._batch(batches)
        return traced.forward_batch(columns)

    def vmap_value_and_grad(self, *batches: Any) -> tuple[list[Any], tuple[Any, ...]]:
        """``vmap`` and each sample's gradient with respect to each argument (arrays with the
        batch first, shaped like the arguments); parameters' ``.grad`` gets the gradients
        summed over the samples, as one eager ``backward()`` of their sum would give."""
        traced, columns = self._batch(batches)
        values = traced.forward_batch(columns)
        flat = traced.backward(1.0)
        traced.runner.add_grads()
        return values, traced.batched_grads(flat)

    def _batch(self, batches: Sequence[Any]) -> tuple[Traced, Any]:
        first, columns = _numpy_side().batch_arrays(batches)
        traced, _, _ = self._traced(first)
        self._last, self._last_values = traced, []
        return traced, columns

    def to_torch(self) -> Any:
        """The last traced program as a ``torch.nn.Module`` on batches (needs torch; see
        :mod:`autograd.tape.to_torch`): arguments and result with the batch first."""
        from .to_torch import to_torch

        traced = self._current()
        rows, guards = traced.program.rows, traced.program.stats["guards"]
        if self.has_aux:
            raise ValueError("Tape.to_torch: a function traced with has_aux=True is not supported")
        return to_torch(rows, traced.keys, traced.out_key, guards)

    # ---- introspection --------------------------------------------------------------------------
    @property
    def parameters(self) -> list[Value]:
        """The parameters of the last program run (leaves that existed before the call)."""
        return [p for p in self._current().program.params]

    @property
    def rows(self) -> list[Any]:
        """The recorded rows of the last program run: ``Row(out, op, inputs, const)``."""
        return list(self._current().program.rows)

    @property
    def kernels(self) -> list[Any]:
        """The kernels of the last program run, in the order they run (each prints as what it
        computes and where it writes: ``Grid(16x2 weights @ 2x1 inputs + bias) -> rows 2:18``)."""
        return list(self._current().program.kernels)

    @property
    def stats(self) -> dict[str, int]:
        """Sizes of the last program: nodes, edges, rows, slots, levels, kernels, ..."""
        return dict(self._current().program.stats)

    def __str__(self) -> str:
        """The recorded program, one row a line (``%5 = mul(%1, %3)``), like a jaxpr."""
        if self._last is None:
            return repr(self)
        return str(self._last.program.rows)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", type(self.fn).__name__)
        if self._last is None:
            return f"<Tape of {name}: not traced>"
        s = self._last.program.stats
        return (
            f"<Tape of {name}: {len(self._shapes)} shape(s); {s['nodes']:,} nodes -> "
            f"{s['slots']:,} slots in {s['levels']} levels, {s['kernels']} kernels>"
        )

    # ---- internals ------------------------------------------------------------------------------
    def _current(self) -> Traced:
        if self._last is None:
            raise RuntimeError("Tape: nothing traced yet")
        return self._last

    def _traced(self, args: Sequence[Any]) -> tuple[Traced, Any, list[tuple[int, Value]]]:
        numpy_side = _numpy_side()
        keys, data, values = numpy_side.flatten_args(args)
        traced = self._shapes.get(keys)
        if traced is None:
            traced = numpy_side.Traced(self.fn, keys, data, self.has_aux)
            self._shapes[keys] = traced
            if self._last is None:
                self._last = traced
        return traced, data, values

    def _backward(self, seed: float) -> Any:
        traced = self._last
        if traced is None or not traced.ran:
            raise RuntimeError("Tape.backward: call the tape first (tape(*args)) to replay forward")
        flat = traced.backward(float(seed))
        traced.runner.add_grads()
        _flow(self._last_values, flat)
        if self.check:
            root, inputs, _ = self._eager
            expected = gradients(root, float(seed))
            check_close(
                "parameter gradient",
                traced.runner.grad.tolist(),
                [expected.get(p, 0.0) for p in traced.program.params],
            )
            check_close("input gradient", flat.tolist(), [expected.get(v, 0.0) for v in inputs])
        return flat


def _flow(values: list[tuple[int, Value]], flat: Any) -> None:
    """Hand the gradients at Values passed as arguments on, as one eager backward would: a
    leaf's ``.grad`` is added to; a computed Value's gradient flows on into its graph (its own
    ``.grad``, like every node's there, is set to this pass's gradient)."""
    if not values:
        return
    grads: dict[Value, Any] = {}
    for pos, v in values:
        grads[v] = grads.get(v, 0.0) + float(flat[pos])
    computed = [v for v in grads if not v.is_leaf]
    if computed:
        order = topological_order(computed)
        for _ in chain_rule(order, grads):
            pass
        for node in order:
            if not node.is_leaf:
                node.grad = grads.get(node, 0.0)
    for v, g in grads.items():
        if v.is_leaf:
            v.grad = v.grad + g
