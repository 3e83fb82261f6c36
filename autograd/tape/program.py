"""The runtime program: a recording compiled into kernels, run forward and backward on a batch.

``compile_program(recording)`` runs the passes (``passes.py``), lowers the groups to kernels
(``lower.py``) and keeps what a replay needs: the kernels, the two slot arrays' layouts, the
guards, and the rows for printing. The recording's Values are not kept. A program runs on
:class:`~.kernels.Buffers` of one batch size (made on first use, then reused), with every
input a row of one number per sample; a plain trace runs it on a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..gc_pause import gc_paused
from .diagnostics import Guards
from .kernels import Grid, Kernel
from .lower import Lowering, sink_modes
from .operands import Buffers, contiguous
from .passes import Slots, batched_nodes, fuse_linear, gradient_nodes, schedule, use_counts
from .record import Recording, Rows

# Batch sizes whose buffers a program keeps (fit uses two: the batch and the last one).
KEPT_BATCH_SIZES = 4


class Program:
    """Kernels over two slot arrays, for any batch size.

    ``params`` are the parameters in the order of the unbatched array's first entries
    (``u[:len(params)]``, the flat parameter vector; ``param_order`` lays them out as another
    program has them); ``out_rows`` the batched rows of the outputs; inputs are rows
    ``0 .. n_inputs - 1``. ``input_grads`` says which inputs want gradients; ``seeds`` how many
    outputs get one in ``backward`` (None: all).
    """

    def __init__(
        self,
        rec: Recording,
        input_grads: Sequence[bool] | bool = True,
        extra_params: Sequence[Any] = (),
        seeds: int | None = 1,
        param_order: Sequence[Any] = (),
    ) -> None:
        with gc_paused():
            self._compile(rec, input_grads, extra_params, seeds, param_order)

    def _compile(
        self,
        rec: Recording,
        input_grads: Any,
        extra_params: Sequence[Any],
        seeds: int | None,
        param_order: Sequence[Any],
    ) -> None:
        ins = rec.input_lists()
        uses = use_counts(rec)
        pinned = set(rec.outputs)
        for g in rec.guards:
            pinned.add(g.node)
            if isinstance(g.rhs, int):
                pinned.add(g.rhs)
        lin, absorbed = fuse_linear(rec, ins, uses, pinned)
        batched = batched_nodes(rec, ins, lin, absorbed)
        if isinstance(input_grads, bool):
            input_grads = [input_grads] * rec.n_inputs
        wants = [i for i, pos in rec.inputs.items() if input_grads[pos]] + list(rec.params)
        seed_nodes = rec.outputs if seeds is None else rec.outputs[:seeds]
        needs = gradient_nodes(rec, ins, lin, absorbed, wants, seed_nodes)
        groups, forms = schedule(rec, ins, lin, absorbed, batched, needs)

        graph = set(rec.params.values())
        slots = Slots(rec, batched, [p for p in extra_params if p not in graph], param_order)
        lowering = Lowering(rec, ins, slots, needs)
        kernels: list[Kernel] = [lowering.kernel(g, forms) for g in groups]
        for i in dict.fromkeys(rec.outputs):
            if not batched[i]:
                kernels.append(lowering.broadcast(i))
        slots.finish()
        self.kernels = kernels
        self.params = list(slots.param_order)
        self.n_inputs = rec.n_inputs
        self.out_rows = slots.row[np.array(rec.outputs, dtype=np.int64)]
        self.seed_rows = self.out_rows if seeds is None else self.out_rows[:seeds]
        self.sizes = slots.sizes
        self.clear_rows, self.clear_entries = sink_modes(kernels, self.seed_rows, self.sizes)
        self.seeds_repeat = np.unique(self.seed_rows).size < self.seed_rows.size
        self.seed_slice = contiguous(self.seed_rows)  # a slice is cheaper than an index
        self.u = np.zeros(self.sizes[1])
        self.gu = np.zeros(self.sizes[1])
        literal_entries, self.literal_rows = slots.literal_values()
        for e, x in literal_entries:
            self.u[e] = x
        self.guards = Guards(rec, slots)
        self.rows = Rows(rec)
        self.levels = max((g.depth for g in groups), default=0)
        self.stats = {
            "nodes": rec.n,
            "edges": int(rec.ins.size),
            "rows": sum(op is not None for op in rec.ops),
            "fused": sum(absorbed),
            "slots": self.sizes[0] + self.sizes[1],
            "batched rows": self.sizes[0],
            "levels": self.levels,
            "kernels": len(kernels),
            "grids": sum(isinstance(k, Grid) for k in kernels),
            "inputs": rec.n_inputs,
            "parameters": len(rec.params),
            "literals": len(rec.literals),
            "guards": len(rec.guards),
        }
        self._buffers: dict[int, Buffers] = {}

    @property
    def pslice(self) -> slice:
        return slice(0, len(self.params))

    # ---- buffers --------------------------------------------------------------------------------
    def buffers(self, batch: int) -> Buffers:
        """The arrays and prepared calls for ``batch`` samples (made once per batch size)."""
        buf = self._buffers.pop(batch, None)
        if buf is None:
            buf = self._bind(batch)
            while len(self._buffers) >= KEPT_BATCH_SIZES:
                del self._buffers[next(iter(self._buffers))]
        self._buffers[batch] = buf
        return buf

    def _bind(self, batch: int) -> Buffers:
        nb = self.sizes[0]
        buf = Buffers(batch, np.zeros((nb, batch)), np.zeros((nb, batch)), self.u, self.gu)
        for r, x in self.literal_rows:
            buf.vb[r] = x
        backward = []
        for kernel in self.kernels:
            fwd, bwd = kernel.bind(buf)
            buf.forward += fwd
            backward.append(bwd)
        buf.backward = [c for calls in reversed(backward) for c in calls]
        return buf

    # ---- replay ---------------------------------------------------------------------------------
    def forward(self, buf: Buffers) -> None:
        """Run every kernel; then re-check the guards. Raises the error eager execution would
        raise when a checked op (log, sqrt, div, pow, exp) leaves its domain. Run it inside
        ``np.errstate(all="ignore")``: inf and nan are values here, as in eager execution."""
        for call in buf.forward:
            call()
        if self.guards:
            self.guards.check(buf)

    def backward(self, buf: Buffers, seed: Any) -> None:
        """Gradients of the outputs (``seed`` for each seeded output row, broadcast over the
        batch) into ``buf.gb`` and ``gu``; parameter gradients in ``gu[:len(params)]``. Run it
        inside ``np.errstate(all="ignore")``."""
        gb, gu = buf.gb, self.gu
        if self.clear_rows.size:
            gb[self.clear_rows] = 0.0
        if self.clear_entries.size:
            gu[self.clear_entries] = 0.0
        if self.seeds_repeat:
            gb[self.seed_rows] = 0.0
            np.add.at(gb, self.seed_rows, np.broadcast_to(seed, (len(self.seed_rows), buf.batch)))
        elif self.seed_slice is not None:
            gb[self.seed_slice] = seed
        else:
            gb[self.seed_rows] = seed
        for call in buf.backward:
            call()

    def outputs(self, buf: Buffers) -> np.ndarray:
        """The outputs, shape (outputs, batch)."""
        return buf.vb[self.out_rows]
