"""Compiled training: ``fit(compile=True)`` runs each step on a batched tape, on arrays.

The model is traced on one sample and replayed on the whole batch at once (every node a vector
over the samples, a layer one matrix product); the loss is traced on the batch's predictions
(``autograd.tape.BatchTape``). While training, the parameters live in one flat array: forward,
backward and the optimizer's update (``Optimizer.step_arrays``: the same numbers as ``step()``)
all run on arrays, with no Python loop over the parameters.

When the Values are current. The model's Values (``.data``, and ``.grad``: the last batch's
gradient) are written back by ``sync()``; ``fit`` calls it before every validation pass,
callback and snapshot, and when it returns (also when it stops on an error or an interrupt).
The step after a ``sync()`` reads the Values again, so changes made to ``.data`` at those
points count, and checks that no parameter was replaced by another Value since tracing.
Between those points, the Values are stale: read them after ``sync()``.

Your own loop::

    trainer = CompiledTrainer(model, loss, Adam(model.parameters(), lr=0.01))
    for xb, yb in datasets.batches(X, y, 32, seed=0):
        value, preds = trainer.step(xb, yb)   # forward, backward, update, on arrays
    trainer.sync()                            # now model's Values hold the trained weights

The model must not branch on the data (``autograd.tape`` explains what a replay can see).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd import Value
from autograd.gc_pause import gc_paused
from autograd.tape import BatchTape

from .optim import Optimizer

Loss = Callable[[Any, Any], Value]


class CompiledTrainer:
    """``EagerTrainer``'s two methods, ``step`` and ``sync``, on a batched tape and arrays."""

    def __init__(self, model: Any, loss: Loss, optimizer: Optimizer, pause_gc: bool = True):
        self.model, self.loss, self.optimizer, self.pause_gc = model, loss, optimizer, pause_gc
        self.tape = BatchTape(model, loss, parameters=optimizer.params, own_parameters=True)

    def step(self, xs: Sequence[Any], ys: Sequence[Any]) -> tuple[float, Any]:
        """One update from one batch: the loss before it and the predictions, as a numpy array
        (a row per sample; a vector for one output) where the model's output is flat."""
        tape = self.tape
        with gc_paused(self.pause_gc):
            value, preds = tape.value_and_grad(xs, ys, arrays=True)
            self.optimizer.step_arrays(tape.theta, tape.grad, tape.parameters)
        return value, preds

    def sync(self) -> None:
        """Write the trained parameters (and the last gradients) into the model's Values."""
        if self.tape.program is not None:
            self.tape.sync()
