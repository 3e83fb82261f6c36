"""The runtime program: a recording compiled into kernels, run forward and backward on a batch.

``Program(recording)`` runs the passes (``passes.analyze``), lowers the groups to kernels
(``lower.py``) and keeps what a replay needs: the kernels, the two slot arrays' layouts, the
guards, and the rows for printing. The recording's Values are not kept. A program runs on
:class:`~.kernels.Buffers` of one batch size (made on first use, then reused), with every
input a row of one number per sample; a plain trace runs it on a batch of one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..gc_pause import gc_paused
from .diagnostics import Guards
from .kernels import Kernel
from .linear import Grid
from .lower import Lowering, sink_modes
from .operands import Buffers, contiguous
from .passes import analyze
from .record import Recording, Rows
from .slots import Slots

# Batch sizes whose buffers a program keeps (fit uses two: the batch and the last one).
KEPT_BATCH_SIZES = 4


class Program:
    """Kernels over two slot arrays, for any batch size.

    ``params`` are the parameters in the order of the shared array's first entries
    (``shared[param_slice]``, the flat parameter vector; ``param_order`` lays them out as another
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
        if isinstance(input_grads, bool):
            input_grads = [input_grads] * rec.n_inputs
        seed_nodes = rec.outputs if seeds is None else rec.outputs[:seeds]
        wanted = np.flatnonzero(np.array(input_grads, dtype=bool))
        # The inputs whose gradients the program returns (None: none).
        self.input_grad_rows = contiguous(wanted) or (wanted if wanted.size else None)
        self.inexact = False  # some kernel's backward differs from its rule where not finite
        analysis = analyze(rec, input_grads, seed_nodes)  # not kept: big, and only for lowering
        batched = analysis.batched
        graph = set(rec.params.values())
        slots = Slots(rec, batched, [p for p in extra_params if p not in graph], param_order)
        lowering = Lowering(rec, analysis, slots)
        kernels: list[Kernel] = [lowering.kernel(g, analysis.forms) for g in analysis.groups]
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
        self.shared = np.zeros(self.sizes[1])
        self.shared_grads = np.zeros(self.sizes[1])
        literal_entries, self.literal_rows = slots.literal_values()
        for e, x in literal_entries:
            self.shared[e] = x
        self.guards = Guards(rec, slots)
        self.rows = Rows(rec)
        self.levels = analysis.levels
        self.stats = {
            "nodes": rec.n,
            "edges": int(rec.ins.size),
            "rows": sum(op is not None for op in rec.ops),
            "fused": sum(analysis.absorbed),
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
    def param_slice(self) -> slice:
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
        per_sample, grads = np.zeros((nb, batch)), np.zeros((nb, batch))
        buf = Buffers(batch, per_sample, grads, self.shared, self.shared_grads)
        for r, x in self.literal_rows:
            buf.per_sample[r] = x
        backward = []
        for kernel in self.kernels:
            fwd, bwd = kernel.bind(buf)
            buf.forward += fwd
            backward.append(bwd)
        buf.backward = [c for calls in reversed(backward) for c in calls]
        buf.backward_exact = [getattr(c, "exact", c) for c in buf.backward]
        self.inexact = any(hasattr(c, "exact") for c in buf.backward)
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
        batch); see ``_backward``. A few kernels take a faster path that gives the rule's
        numbers wherever the gradient is finite (relu's backward); the gradients the program
        returns (the parameters' and the wanted inputs') are checked once, and where one is
        not finite the pass runs again with every kernel's rule, so results are the rule's."""
        self._backward(buf, seed, buf.backward)
        if self.inexact and not self._finite_results(buf):
            self._backward(buf, seed, buf.backward_exact)

    def _finite_results(self, buf: Buffers) -> bool:
        total = float(np.add.reduce(self.shared_grads[self.param_slice], axis=None))
        if self.input_grad_rows is not None:
            total += float(np.add.reduce(buf.per_sample_grads[self.input_grad_rows], axis=None))
        return math.isfinite(total)

    def _backward(self, buf: Buffers, seed: Any, calls: list[Any]) -> None:
        """One backward pass by ``calls``, into ``buf.per_sample_grads`` and ``shared_grads``
        (parameter gradients in ``shared_grads[param_slice]``). Run it inside
        ``np.errstate(all="ignore")``."""
        grads = buf.per_sample_grads
        if self.clear_rows.size:
            grads[self.clear_rows] = 0.0
        if self.clear_entries.size:
            self.shared_grads[self.clear_entries] = 0.0
        if self.seeds_repeat:
            grads[self.seed_rows] = 0.0
            seeds = np.broadcast_to(seed, (len(self.seed_rows), buf.batch))
            np.add.at(grads, self.seed_rows, seeds)
        elif self.seed_slice is not None:
            grads[self.seed_slice] = seed
        else:
            grads[self.seed_rows] = seed
        for call in calls:
            call()

    def outputs(self, buf: Buffers) -> np.ndarray:
        """The outputs, shape (outputs, batch)."""
        return buf.per_sample[self.out_rows]
