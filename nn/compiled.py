"""Compiled training: ``fit(compile=True)`` runs each step on a traced tape instead of Values.

The batch's forward pass and loss are traced once per batch shape, with the batch and its
targets as the tape's inputs, and every step replays forward and backward with numpy. The loss
must not branch on the data (``autograd.tape`` explains what a replay can and cannot see).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from autograd import Value
from autograd.gc_pause import gc_paused
from autograd.tape import Tape

from .optim import Optimizer

Loss = Callable[[Any, Any], Value]


class CompiledTrainer:
    """``EagerTrainer``'s two methods, ``step`` and ``sync``, on a tape."""

    def __init__(self, model: Any, loss: Loss, optimizer: Optimizer, pause_gc: bool = True):
        self.model, self.loss, self.optimizer, self.pause_gc = model, loss, optimizer, pause_gc

        def forward(xs: Any, ys: Any) -> tuple[Value, list[Any]]:
            preds = [model(x) for x in xs]
            return loss(preds, ys), preds

        self.tape = Tape(forward, has_aux=True)

    def step(self, xs: Sequence[Any], ys: Sequence[Any]) -> tuple[float, Any]:
        """One update from one batch: the loss before it and the predictions, as floats."""
        self.optimizer.zero_grad()
        with gc_paused(self.pause_gc):
            value, preds = self.tape(xs, ys)
            self.tape.backward()
        self.optimizer.step()
        return value, preds

    def sync(self) -> None:
        """Make the model's Values current (the tape reads and writes them on every step)."""
