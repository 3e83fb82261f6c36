"""``trace`` and :class:`Tape`: a function of Values, traced once and replayed with numpy.

This module imports numpy only when a function is first traced, so ``from autograd import
trace`` works with the standard library alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..backward import chain_rule, gradients
from ..grad_mode import enable_grad
from ..graph import topological_order
from ..value import Value, data_of

if TYPE_CHECKING:
    from .program import Program
    from .watch import ParameterWatch


class StructureError(RuntimeError):
    """A replay no longer follows the traced graph (a recorded comparison flipped, or a
    parameter was replaced), or, with ``check=True``, its results differ from running the
    function eagerly."""


# Relative (and, near zero, absolute) tolerance of check=True against eager execution.
CHECK_TOLERANCE = 1e-9


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
    ...) raise the error eager execution raises. Values computed before the call (not leaves)
    cannot be replayed and are refused. A tape is not thread-safe.
    """

    def __init__(self, fn: Callable[..., Any], check: bool = False, has_aux: bool = False) -> None:
        self.fn, self.check, self.has_aux = fn, check, has_aux
        self._shapes: dict[Any, _Traced] = {}
        self._last: _Traced | None = None
        self._last_values: list[tuple[int, Value]] = []
        self._eager: tuple[Value, list[Value], list[Value]] | None = None

    # ---- replay ---------------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        """``fn(*args)`` replayed: floats, shaped like what ``fn`` returned."""
        traced, data, values = self._traced(args)
        out = traced.forward(data)
        self._last, self._last_values = traced, values
        if self.check:
            self._eager = _eager_run(self.fn, traced, data)
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
        flat, param_grads = traced.backward(1.0)
        for p, g in zip(traced.program.params, param_grads):
            p.grad += g
        return values, traced.batched_grads(flat)

    def _batch(self, batches: Sequence[Any]) -> tuple[_Traced, Any]:
        from .batch import samples_of

        arrays = [samples_of(b) for b in batches]
        if len({a.shape[0] for a in arrays}) > 1:
            raise ValueError(
                f"Tape.vmap: every argument needs the same batch size, got "
                f"{[a.shape[0] for a in arrays]}"
            )
        traced, _, _ = self._traced([a[0] if a.ndim > 1 else float(a[0]) for a in arrays])
        self._last, self._last_values = traced, []
        n = arrays[0].shape[0] if arrays else 1
        return traced, [a.reshape(n, -1) for a in arrays]

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
    def _current(self) -> _Traced:
        if self._last is None:
            raise RuntimeError("Tape: nothing traced yet")
        return self._last

    def _traced(self, args: Sequence[Any]) -> tuple[_Traced, Any, list[tuple[int, Value]]]:
        from . import pytree

        flats = [pytree.flatten(a) for a in args]
        keys = tuple(f.key for f in flats)
        data, values, offset = [], [], 0
        for f in flats:
            data.append(f.data)
            values += [(offset + pos, v) for pos, v in f.values]
            offset += len(f.data)
        traced = self._shapes.get(keys)
        if traced is None:
            traced = _Traced(self.fn, keys, data, self.has_aux)
            self._shapes[keys] = traced
            if self._last is None:
                self._last = traced
        return traced, data, values

    def _backward(self, seed: float) -> Any:
        traced = self._last
        if traced is None or not traced.ran:
            raise RuntimeError("Tape.backward: call the tape first (tape(*args)) to replay forward")
        flat, param_grads = traced.backward(float(seed))
        for p, g in zip(traced.program.params, param_grads):
            p.grad += g
        _flow(self._last_values, flat)
        if self.check:
            root, inputs, _ = self._eager
            expected = gradients(root, float(seed))
            check_close(
                "parameter gradient",
                param_grads,
                [expected.get(p, 0.0) for p in traced.program.params],
            )
            check_close("input gradient", flat.tolist(), [expected.get(v, 0.0) for v in inputs])
        return flat


class _Traced:
    """One argument shape of a tape: its program and how arguments map onto its input rows."""

    def __init__(
        self, fn: Callable[..., Any], keys: tuple[Any, ...], data: list[Any], has_aux: bool
    ) -> None:
        import numpy as np

        from .program import Program
        from .record import Recording
        from .watch import ParameterWatch

        self.np = np
        self.keys, self.has_aux = keys, has_aux
        example = np.concatenate(data) if data else np.zeros(0)
        rec = Recording(fn, keys, example.size, has_aux, example)
        self.out_key = rec.out_key
        self.program: Program = Program(rec, input_grads=True, seeds=1)
        self.watch: ParameterWatch = ParameterWatch(fn, self.program.params)
        self.scalar = self.out_key == () and not has_aux
        self.buf = self.program.buffers(1)
        self.n_inputs = example.size
        self.ran = False

    def forward(self, data: list[Any]) -> Any:
        """Replay on one sample: ``data`` holds each argument's numbers."""
        outs = self._run(self.np.concatenate(data)[:, None] if self.n_inputs else None, 1)[:, 0]
        if self.scalar:
            return float(outs[0])
        from .pytree import unflatten

        if self.has_aux:
            return float(outs[0]), unflatten(self.out_key, outs[1:].tolist())
        return unflatten(self.out_key, outs.tolist())

    def forward_batch(self, columns: list[Any]) -> list[Any]:
        """Replay on a batch: ``columns`` holds each argument as (samples, numbers)."""
        n = columns[0].shape[0] if columns else 1
        inputs = self.np.concatenate(columns, axis=1).T if self.n_inputs else None
        outs = self._run(inputs, n).T.tolist()
        if self.scalar:
            return [o[0] for o in outs]
        from .pytree import unflatten

        if self.has_aux:
            return [(o[0], unflatten(self.out_key, o[1:])) for o in outs]
        return [unflatten(self.out_key, o) for o in outs]

    def _run(self, inputs: Any, n: int) -> Any:
        """Forward on ``n`` samples (inputs: one row per input); the outputs, (outputs, n)."""
        program = self.program
        self.buf = buf = program.buffers(n)
        if inputs is not None:
            buf.vb[: self.n_inputs] = inputs
        if self.watch:
            self.watch.check()
        params = program.params
        if params:
            program.u[: len(params)] = list(map(data_of, params))
        with self.np.errstate(all="ignore"):
            program.forward(buf)
        self.ran = True
        return buf.vb[program.out_rows]

    def batched_grads(self, flat: Any) -> tuple[Any, ...]:
        """Per-argument gradients of a batch: arrays (samples, *argument shape)."""
        from .pytree import size

        grads, start = [], 0
        n = flat.shape[1]
        for key in self.keys:
            stop = start + size(key)
            g = flat[start:stop].T.reshape((n, *key)) if key[:1] != (None,) else flat[start:stop].T
            grads.append(g.copy())
            start = stop
        return tuple(grads)

    def output_floats(self) -> list[float]:
        return self.buf.vb[self.program.out_rows, 0].tolist()

    def backward(self, seed: float) -> tuple[Any, list[float]]:
        if not (self.scalar or self.has_aux):
            raise ValueError(
                "Tape.backward: fn returned several values; backward needs a single Value output"
            )
        program = self.program
        with self.np.errstate(all="ignore"):
            program.backward(self.buf, seed)
        grads = self.buf.gb[: self.n_inputs]
        flat = grads[:, 0].copy() if self.buf.batch == 1 else grads.copy()
        return flat, program.gu[: len(program.params)].tolist()

    def argument_grads(self, args: Sequence[Any], flat: Any) -> tuple[Any, ...]:
        from .pytree import size, unflatten

        grads, start = [], 0
        for arg, key in zip(args, self.keys):
            stop = start + size(key)
            g = flat[start:stop]
            if isinstance(arg, self.np.ndarray):
                grads.append(g.reshape(key).copy())
            elif key == ():
                grads.append(float(g[0]))
            else:
                grads.append(unflatten(key, g.tolist()))
            start = stop
        return tuple(grads)


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


# ---- check=True ---------------------------------------------------------------------------------


def _eager_run(fn: Callable[..., Any], traced: _Traced, data: list[Any]) -> Any:
    """Run ``fn`` eagerly on fresh Values: (first output, input Values, output Values)."""
    from .pytree import collect_outputs, unflatten

    inputs = [Value(float(x)) for d in data for x in d]
    it = iter(inputs)
    outs: list[Value] = []
    with enable_grad():
        collect_outputs(fn(*[unflatten(k, it) for k in traced.keys]), traced.has_aux, outs)
    return outs[0], inputs, outs


_FN_CAUSE = (
    "fn's structure depends on the data in a way the trace could not see (reading .data or "
    "float(v), branching on it, or work under no_grad)"
)


def check_close(
    what: str, tape: list[float], eager: list[Any], who: str = "Tape", cause: str = _FN_CAUSE
) -> None:
    """StructureError at the first number where a replay and eager execution differ by more
    than ``CHECK_TOLERANCE`` (nan matches nan): ``check=True``'s test, for ``who``."""
    for i, (t, e) in enumerate(zip(tape, eager)):
        e = float(e)
        same = t == e or (math.isnan(t) and math.isnan(e))
        if not same and not abs(t - e) <= CHECK_TOLERANCE * max(1.0, abs(e)):
            raise StructureError(
                f"{who}(check=True): {what} {i} is {t!r} on the tape but {e!r} eagerly: {cause}"
            )
