"""One argument shape of a :class:`~.tape.Tape`: its program, and how arguments meet its rows.

The numpy side of ``Tape`` (``tape.py`` imports this module on the first trace, so the engine
itself needs only the standard library).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..grad_mode import enable_grad
from ..value import Value
from . import pytree
from .program import Program
from .record import Recording
from .runner import Runner
from .watch import ParameterWatch

Args = tuple[tuple[Any, ...], list[Any], list[tuple[int, Value]]]


def flatten_args(args: Sequence[Any]) -> Args:
    """The arguments' shape keys, their numbers (one array or list per argument), and the
    Values among them with their flat positions (which get gradients back)."""
    flats = [pytree.flatten(a) for a in args]
    data, values, offset = [], [], 0
    for f in flats:
        data.append(f.data)
        values += [(offset + pos, v) for pos, v in f.values]
        offset += len(f.data)
    return tuple(f.key for f in flats), data, values


def batch_arrays(batches: Sequence[Any]) -> tuple[list[Any], list[np.ndarray]]:
    """``vmap``'s arguments: the first sample of each (to trace) and each as (samples, numbers)."""
    arrays = [pytree.samples_of(b) for b in batches]
    if len({a.shape[0] for a in arrays}) > 1:
        raise ValueError(
            f"Tape.vmap: every argument needs the same batch size, got "
            f"{[a.shape[0] for a in arrays]}"
        )
    first = [a[0] if a.ndim > 1 else float(a[0]) for a in arrays]
    n = arrays[0].shape[0] if arrays else 1
    return first, [a.reshape(n, -1) for a in arrays]


class Traced:
    """A function traced for one argument shape (``keys``), compiled, with its runner."""

    def __init__(
        self, fn: Callable[..., Any], keys: tuple[Any, ...], data: list[Any], has_aux: bool
    ) -> None:
        self.keys, self.has_aux = keys, has_aux
        example = np.concatenate(data) if data else np.zeros(0)
        rec = Recording(fn, keys, example.size, has_aux, example)
        self.out_key = rec.out_key
        self.program = Program(rec, input_grads=True, seeds=1)
        self.runner = Runner(self.program, ParameterWatch(fn, self.program.params))
        self.scalar = self.out_key == () and not has_aux
        self.n_inputs = example.size
        self.ran = False

    def forward(self, data: list[Any]) -> Any:
        """Replay on one sample: ``data`` holds each argument's numbers."""
        outs = self._run(np.concatenate(data)[:, None] if self.n_inputs else None, 1)[:, 0]
        if self.scalar:
            return float(outs[0])
        if self.has_aux:
            return float(outs[0]), pytree.unflatten(self.out_key, outs[1:].tolist())
        return pytree.unflatten(self.out_key, outs.tolist())

    def forward_batch(self, columns: list[Any]) -> list[Any]:
        """Replay on a batch: ``columns`` holds each argument as (samples, numbers)."""
        n = columns[0].shape[0] if columns else 1
        inputs = np.concatenate(columns, axis=1).T if self.n_inputs else None
        outs = self._run(inputs, n).T.tolist()
        if self.scalar:
            return [o[0] for o in outs]
        if self.has_aux:
            return [(o[0], pytree.unflatten(self.out_key, o[1:])) for o in outs]
        return [pytree.unflatten(self.out_key, o) for o in outs]

    def _run(self, inputs: Any, n: int) -> Any:
        """Forward on ``n`` samples (inputs: one row per input); the outputs, (outputs, n)."""
        self.runner.load()
        with np.errstate(all="ignore"):
            out = self.runner.forward(inputs, n)
        self.ran = True
        return out

    def output_floats(self) -> list[float]:
        return self.runner.buf.per_sample[self.program.out_rows, 0].tolist()

    def backward(self, seed: float) -> Any:
        """Gradients of the output: parameters' into ``runner.grad``; the inputs' returned, one
        row per input (a vector for a batch of one)."""
        if not (self.scalar or self.has_aux):
            raise ValueError(
                "Tape.backward: fn returned several values; backward needs a single Value output"
            )
        with np.errstate(all="ignore"):
            self.runner.backward(seed)
        buf = self.runner.buf
        grads = buf.per_sample_grads[: self.n_inputs]
        return grads[:, 0].copy() if buf.batch == 1 else grads.copy()

    def argument_grads(self, args: Sequence[Any], flat: Any) -> tuple[Any, ...]:
        """Per-argument gradients of one call, each shaped like its argument."""
        grads, start = [], 0
        for arg, key in zip(args, self.keys):
            stop = start + pytree.size(key)
            g = flat[start:stop]
            if isinstance(arg, np.ndarray):
                grads.append(g.reshape(key).copy())
            elif key == ():
                grads.append(float(g[0]))
            else:
                grads.append(pytree.unflatten(key, g.tolist()))
            start = stop
        return tuple(grads)

    def batched_grads(self, flat: Any) -> tuple[Any, ...]:
        """Per-argument gradients of a batch: arrays (samples, *argument shape)."""
        grads, start = [], 0
        n = flat.shape[1]
        for key in self.keys:
            stop = start + pytree.size(key)
            g = flat[start:stop].T.reshape((n, *key)) if key[:1] != (None,) else flat[start:stop].T
            grads.append(g.copy())
            start = stop
        return tuple(grads)


def eager_run(fn: Callable[..., Any], traced: Traced, data: list[Any]) -> Any:
    """Run ``fn`` eagerly on fresh Values: (first output, input Values, output Values)."""
    inputs = [Value(float(x)) for d in data for x in d]
    it = iter(inputs)
    outs: list[Value] = []
    with enable_grad():
        args = [pytree.unflatten(k, it) for k in traced.keys]
        pytree.collect_outputs(fn(*args), traced.has_aux, outs)
    return outs[0], inputs, outs
