"""Kernels: one group of rows run as a few numpy calls, forward and backward.

A kernel reads its *operands* (slots of the batched or the unbatched array, ``operands.py``)
and writes its outputs (consecutive slots). ``bind(buffers)`` turns a kernel into prepared
calls on views of those arrays, so a replay is a list of calls and no bookkeeping:

- :class:`Apply`: an op of the table, ``out = op.fwd(NUMPY, *xs)``, backward by ``op.vjp``;
- :class:`~.linear.Sums` and :class:`~.linear.Grid` (in ``linear.py``): fused linear nodes
  ``Σ a_k b_k + Σ c_l``, a few numpy calls per group, or one matrix product;
- :class:`Broadcast`: an unbatched value copied into a row (an output that is the same for
  every sample).

Gradients flowing into an unbatched operand from a batched kernel are summed over the batch
first: a weight's gradient is the sum of its per-sample gradients, as eager backward adds them.
A gradient *assigns* into slots it is the first to reach and *adds* into the others, so the
gradient arrays need no clearing between replays (``lower.sink_modes`` decides).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ..namespaces import NUMPY
from ..ops import Op
from .adapters import FAST
from .diagnostics import check_finite
from .operands import Buffers, Call, Operand, batch_sum, contiguous, read, sink, tail_shape


class Kernel:
    """A group's computation; ``operands()`` lists what it reads (for gradient bookkeeping)."""

    out: slice
    out_batched: bool
    backward_needed: bool = True

    def operands(self) -> list[Operand]:
        raise NotImplementedError

    def bind(self, buf: Buffers) -> tuple[list[Call], list[Call]]:
        raise NotImplementedError

    def out_values(self, buf: Buffers) -> np.ndarray:
        return (buf.per_sample if self.out_batched else buf.shared)[self.out]

    def out_grads(self, buf: Buffers) -> np.ndarray:
        return (buf.per_sample_grads if self.out_batched else buf.shared_grads)[self.out]

    def __repr__(self) -> str:
        """``Grid(16x2 weights @ 2 rows) -> rows 2:18``: what it computes, where it writes."""
        where = "rows" if self.out_batched else "entries"
        return (
            f"{type(self).__name__}({self.describe()}) -> {where} {self.out.start}:{self.out.stop}"
        )

    def describe(self) -> str:
        return ""


class Apply(Kernel):
    """One table op over a group of rows: ``out = op.fwd(NUMPY, *xs)``, back by ``op.vjp``.

    ``const`` is the op's constant (a float, or one per member); ``checked`` asks for a test of
    the outputs after each forward (``op.check`` then names the error, as eager would)."""

    def __init__(self, op: Op, xs: list[Operand], const: Any, out: slice, batched: bool) -> None:
        self.op, self.xs, self.out, self.out_batched = op, xs, out, batched
        self.const = const
        self.checked = op.check is not None

    def operands(self) -> list[Operand]:
        return self.xs

    def describe(self) -> str:
        n = self.out.stop - self.out.start
        return f"{self.op.name} x{n}"

    def _const(self, n: int) -> tuple[Any, ...]:
        if not self.op.has_arg:
            return ()
        c = self.const
        if isinstance(c, np.ndarray) and self.out_batched:
            c = c.reshape(n, 1)
        return (c,)

    def bind(self, buf: Buffers) -> tuple[list[Call], list[Call]]:
        out = self.out_values(buf)
        xs, fills = [], []
        for opd in self.xs:
            x, fill = read(opd, buf, tail_shape(opd, self.out_batched, buf.batch))
            xs.append(x)
            if fill is not None:
                fills.append(fill)
        buf.notes[id(self)] = xs
        tail = self._const(out.shape[0])
        stacked = self._stacked(buf)
        if stacked is not None:  # max or select over one block of slots: a call or two
            forward = [*fills, _stacked_forward(self, xs, stacked, out, buf)]
            backward = []
            if self.backward_needed and any(o.needs for o in self.xs):
                backward.append(self._stacked_backward(buf, xs, stacked, out))
            return forward, backward
        fast = FAST.get(self.op.name)
        if fast is not None and fast.forward is not None and len(xs) == 1 and not tail:
            run: Call = partial(fast.forward, xs[0], out)
        else:
            fwd = self.op.fwd

            def run() -> None:
                out[...] = fwd(NUMPY, *xs, *tail)

        forward = [*fills, run]
        if self.checked:
            forward.append(partial(check_finite, self, [out, *xs], buf))
        backward = []
        if self.backward_needed and any(o.needs for o in self.xs):
            backward.append(self._backward(buf, xs, tail, out, fast))
        return forward, backward

    def _stacked(self, buf: Buffers) -> np.ndarray | None:
        """For max and select: their (value) inputs as one (inputs, members[, batch]) view,
        where the slots allow it (each member's inputs consecutive: a row of logits)."""
        first = STACKED.get(self.op.name)
        opds = self.xs[first:] if first is not None else []
        if len(opds) < 2 or len({o.space for o in opds}) != 1 or self.const is not None:
            return None
        if opds[0].batched != self.out_batched:
            return None
        slots = np.stack([o.slots for o in opds]).T.copy()  # (members, inputs)
        if contiguous(slots.ravel()) is None:
            return None
        tail = tail_shape(opds[0], self.out_batched, buf.batch)
        view, fill = read(Operand(opds[0].space, slots), buf, tail)
        if fill is not None:
            return None
        return np.moveaxis(view, 1, 0)

    def _stacked_backward(self, buf: Buffers, xs: list[Any], stacked: Any, out: Any) -> Call:
        """The gradient into the one input each member picked (max: the first largest, or the
        first nan; select: the index), by an indexed add: as the rule's where(k == i, g, 0)
        added into each input, without the zeros. Falls back to the rule where the inputs'
        gradient modes differ."""
        first = STACKED[self.op.name]
        opds = self.xs[first:]
        modes = {o.mode for o in opds}
        if len(modes) != 1 or not all(o.needs for o in opds):
            return self._backward(buf, xs, (), out, None)
        slots = np.stack([o.slots for o in opds]).T.copy()
        grads = buf.grads_in(opds[0].space)[contiguous(slots.ravel())]
        g_all = np.moveaxis(grads.reshape(stacked.shape[1], stacked.shape[0], -1), 1, 0)
        g = self.out_grads(buf).reshape(stacked.shape[1], -1)
        rows = np.arange(g.shape[0])[:, None]
        cols = np.arange(g.shape[1])[None, :]
        picked = np.empty(g.shape, dtype=np.int64)
        assign = modes == {"assign"}
        name = self.op.name

        def back() -> None:
            if name == "max":
                np.argmax(stacked.reshape(g_all.shape), axis=0, out=picked)
            else:
                np.copyto(picked, xs[0].reshape(g.shape), casting="unsafe")
            if assign:
                g_all[...] = 0.0
            g_all[picked, rows, cols] += g

        return back

    def _backward(self, buf: Buffers, xs: list[Any], tail: tuple[Any, ...], out: Any, fast: Any):
        g = self.out_grads(buf)
        sinks = [
            (i, sink(o, buf), batch_sum(o, self.out_batched))
            for i, o in enumerate(self.xs)
            if o.needs
        ]
        vjp = self.op.vjp

        def back() -> None:
            gs = vjp(NUMPY, g, out, *xs, *tail)
            for i, write, reduce in sinks:
                gi = gs[i]
                if gi is None:  # no gradient this time: a first write must still clear
                    gi = 0.0
                if reduce is not None:
                    if np.shape(gi) != g.shape:
                        gi = np.broadcast_to(gi, g.shape)
                    gi = reduce(gi)
                write(gi)

        if fast is not None and fast.backward is not None and len(xs) == 1 and not tail:
            _, write, reduce = sinks[0]
            opd = self.xs[0]
            sl = contiguous(opd.slots.ravel())
            if reduce is None and opd.mode == "assign" and sl is not None:
                dst = buf.grads_in(opd.space)[sl]
                run = fast.backward(g, out, xs[0], dst.reshape(g.shape))
                if not fast.exact:  # the program reruns the rule where this one may differ
                    run.exact = back  # type: ignore[attr-defined]
                return run
        return back


# n-ary ops that run on their inputs as one block (max; select after its index): where they
# start. Each gives the rule's numbers: np.max and np.argmax over the block are the rule's
# stack-then-reduce, and select takes the indexed input where the index is valid.
STACKED = {"max": 0, "select": 1}


def _stacked_forward(kernel: Apply, xs: list[Any], stacked: Any, out: Any, buf: Buffers) -> Call:
    if kernel.op.name == "max":
        return partial(np.max, stacked, axis=0, out=out)
    fwd = kernel.op.fwd
    index = xs[0]
    picked = np.empty(np.shape(out), dtype=np.int64)
    ok = np.empty(np.shape(out), dtype=bool)
    rows = np.arange(out.shape[0]).reshape((-1,) + (1,) * (out.ndim - 1))
    cols = np.arange(out.shape[1])[None, :] if out.ndim == 2 else None
    k = stacked.shape[0]

    def run() -> None:
        np.copyto(picked, index, casting="unsafe")
        np.equal(picked, index, out=ok)  # an integer ...
        np.logical_and(ok, picked >= 0, out=ok)  # ... in range
        np.logical_and(ok, picked < k, out=ok)
        if ok.all():
            out[...] = stacked[picked, rows] if cols is None else stacked[picked, rows, cols]
            return
        out[...] = fwd(NUMPY, *xs)  # the rule: nan where the index is not valid, and the
        check_finite(kernel, [out], buf)  # domain check names it

    return run


class Broadcast(Kernel):
    """An unbatched value as a row (the same number for every sample), and its gradient back."""

    def __init__(self, src: Operand, out: slice) -> None:
        self.src, self.out, self.out_batched = src, out, True

    def operands(self) -> list[Operand]:
        return [self.src]

    def bind(self, buf: Buffers) -> tuple[list[Call], list[Call]]:
        x, fill = read(self.src, buf, (1,))
        out = buf.per_sample[self.out]
        fwd = [f for f in (fill, partial(np.copyto, out, x)) if f is not None]
        bwd = []
        if self.src.needs:
            g = buf.per_sample_grads[self.out]
            write = sink(self.src, buf)
            bwd.append(lambda: write(g.sum(axis=1)))
        return fwd, bwd
