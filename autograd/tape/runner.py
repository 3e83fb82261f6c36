"""The runner: the one place where a compiled program meets its parameters.

Every front end does the same three things around a :class:`~.program.Program`: load the
parameters into its flat array, run it forward and backward on a batch, and hand the gradients
back. :class:`Tape` does them on every call; :class:`BatchTape` for the model and for the loss
program behind it (the *head*: its parameters come from the model's array, not from Values);
``fit(compile=True)`` through a BatchTape that owns its parameters. They all do it here.

A runner does not enter ``np.errstate``: the front end does, once around a whole step (inf and
nan are values in a replay, as in eager execution).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..value import data_of
from .operands import Buffers
from .program import Program
from .watch import ParameterWatch


class Runner:
    """A program with its parameters: ``theta`` (their values, a view into the program's shared
    array) and ``grad`` (their gradients), in the order of ``params``.

    ``watch`` notices a parameter replaced since tracing; it is checked whenever the parameters
    are read from their Values (``load``).
    """

    def __init__(self, program: Program, watch: ParameterWatch | None = None) -> None:
        self.program, self.watch = program, watch
        self.params = program.params
        self.theta: np.ndarray = program.shared[program.param_slice]
        self.grad: np.ndarray = program.shared_grads[program.param_slice]
        self.buf: Buffers | None = None

    # ---- load -----------------------------------------------------------------------------------
    def load(self) -> None:
        """Read every parameter's ``.data`` into ``theta``, first checking that none was
        replaced by another Value (StructureError)."""
        if self.watch is not None:
            self.watch.check()
        if self.params:
            self.theta[...] = list(map(data_of, self.params))

    def load_from(self, theta: np.ndarray, index: np.ndarray | slice) -> None:
        """Read the parameters from another program's array: ``theta[index]``."""
        self.theta[...] = theta[index]

    # ---- run ------------------------------------------------------------------------------------
    def buffers(self, batch: int) -> Buffers:
        """The arrays for ``batch`` samples (the last ones used, if of that size)."""
        buf = self.buf
        if buf is None or buf.batch != batch:
            self.buf = buf = self.program.buffers(batch)
        return buf

    def forward(self, inputs: Any, batch: int) -> np.ndarray:
        """Run forward on ``batch`` samples; ``inputs`` holds one row per input (anything that
        broadcasts to ``(n_inputs, batch)``), or None when already in place. Returns the
        outputs, a view ``(outputs, batch)`` valid until the next run."""
        program = self.program
        buf = self.buffers(batch)
        if inputs is not None and program.n_inputs:
            buf.per_sample[: program.n_inputs] = inputs
        program.forward(buf)
        return buf.per_sample[program.out_rows]

    def backward(self, seed: Any) -> None:
        """Run backward on the last forward's buffers: ``seed`` for each seeded output."""
        self.program.backward(self.buf, seed)

    # ---- hand the gradients back ----------------------------------------------------------------
    def add_grads(self) -> None:
        """``p.grad += d(output)/d(p)`` for every parameter, as eager ``backward()`` adds into
        leaves."""
        for p, g in zip(self.params, self.grad.tolist()):
            p.grad += g

    def write_back(self, grads: bool) -> None:
        """``p.data = theta`` (and, with ``grads``, ``p.grad = grad``) for every parameter: the
        Values show what the arrays hold."""
        if grads:
            for p, x, g in zip(self.params, self.theta.tolist(), self.grad.tolist()):
                p.data = x
                p.grad = g
        else:
            for p, x in zip(self.params, self.theta.tolist()):
                p.data = x
