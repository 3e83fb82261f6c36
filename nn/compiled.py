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

BLAS threads. A matrix product split over threads is faster only while every thread has a core
of its own: with one core busy elsewhere (a browser, a notebook kernel, another engineer's
tests), a 64x1000 step took 30x longer on two threads than on one, as each product waited for
the thread that got no core. So ``fit`` chooses the BLAS thread count for its scope
(``threadpoolctl``): one thread unless a step's matrix products are large enough to gain from
more and the machine has idle cores for them (``blas_threads``), then as many as are idle.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd import Value
from autograd.gc_pause import gc_paused
from autograd.tape import BatchTape

from .optim import Optimizer

Loss = Callable[[Any, Any], Value]


class CompiledTrainer:
    """``EagerTrainer``'s methods, ``step``, ``sync`` and ``predict``, on a batched tape and
    arrays. ``scope()`` is what ``fit`` runs its loop in: the BLAS thread count chosen once, and
    numpy's error state (inf and nan are values, as in eager execution) entered once."""

    def __init__(self, model: Any, loss: Loss, optimizer: Optimizer, pause_gc: bool = True):
        self.model, self.loss, self.optimizer, self.pause_gc = model, loss, optimizer, pause_gc
        self.tape = BatchTape(model, loss, parameters=optimizer.params, own_parameters=True)
        self._in_scope = False

    @contextlib.contextmanager
    def scope(self, flops_per_step: float = 0.0) -> Iterator[None]:
        """Run steps with ``blas_threads(flops_per_step)`` BLAS threads and one errstate."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(np.errstate(all="ignore"))
            limits = _thread_limits(blas_threads(flops_per_step))
            if limits is not None:
                stack.enter_context(limits)
            self._in_scope = True
            try:
                yield
            finally:
                self._in_scope = False

    def step(self, xs: Sequence[Any], ys: Sequence[Any]) -> tuple[float, Any]:
        """One update from one batch: the loss before it and the predictions, as a numpy array
        (a row per sample; a vector for one output) where the model's output is flat."""
        tape = self.tape
        with gc_paused(self.pause_gc):
            if self._in_scope:
                value, preds = tape.replay(xs, ys, arrays=True)
            else:
                value, preds = tape.value_and_grad(xs, ys, arrays=True)
            self.optimizer.step_arrays(tape.theta, tape.grad, tape.parameters)
        return value, preds

    def sync(self) -> None:
        """Write the trained parameters (and the last gradients) into the model's Values."""
        if self.tape.program is not None:
            self.tape.sync()

    def predict(self, X: Any) -> list[Any] | None:  # noqa: N803
        """The model's outputs on ``X`` from the compiled program (None before it exists, or
        for samples of another shape)."""
        tape = self.tape
        samples = np.asarray(X, dtype=float)
        if tape.program is None or samples.shape[1:] != tape.sample_shape:
            return None
        return tape.predict(samples)


# A step whose matrix products do less than this many multiply-adds runs on one thread: the
# threads' hand-offs cost more than they save (measured on 2 cores: docs/speed.md).
THREADED_FLOPS = 5e7


def blas_threads(flops_per_step: float) -> int:
    """BLAS threads for steps of ``flops_per_step`` multiply-adds: 1 for small steps or a busy
    machine; else the cores left idle by the load of the last minute."""
    cores = os.cpu_count() or 1
    if cores == 1 or flops_per_step < THREADED_FLOPS:
        return 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on this platform: assume busy, the safe choice
        return 1
    return max(1, min(cores, int(cores - load)))


def _thread_limits(threads: int) -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # installed with the package; a bare checkout runs without the limit
        return None
    return threadpool_limits(limits=threads, user_api="blas")
