"""Where a kernel's numbers live: the buffers of one batch size, and operands (slots in them).

Numbers live in two arrays (see ``slots.Slots``): ``per_sample``, one row per node that depends
on the inputs and one column per sample, and ``shared``, one entry per node computed once
(parameters, literals and what is computed from them alone); the gradients in
``per_sample_grads`` and ``shared_grads`` beside them. An :class:`Operand` is a set of slots in
one of the two; ``read`` gives a kernel its values (a view where the slots are consecutive, else
a gather into a buffer of its own) and ``sink`` the function that writes a gradient into them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

Call = Callable[[], Any]


@dataclass
class Buffers:
    """The arrays one batch size runs on; ``shared``/``shared_grads`` are the program's own,
    the same arrays for every batch size."""

    batch: int
    per_sample: np.ndarray
    per_sample_grads: np.ndarray
    shared: np.ndarray
    shared_grads: np.ndarray
    forward: list[Call] = field(default_factory=list)
    backward: list[Call] = field(default_factory=list)
    backward_exact: list[Call] = field(default_factory=list)  # every kernel by its rule
    notes: dict[int, Any] = field(default_factory=dict)  # a kernel's inputs, for diagnostics

    def values_in(self, space: str) -> np.ndarray:
        return self.per_sample if space == "b" else self.shared

    def grads_in(self, space: str) -> np.ndarray:
        return self.per_sample_grads if space == "b" else self.shared_grads


@dataclass
class Operand:
    """Slots a kernel reads (any shape), in the per-sample (``"b"``: batched) or the shared
    (``"u"``: unbatched) array.
    ``needs``: a gradient flows into them; ``mode``: how it is written ("assign" or "add")."""

    space: str
    slots: np.ndarray
    needs: bool = False
    mode: str = "add"
    coef: np.ndarray | None = None  # plain terms: the literal each was multiplied by

    @property
    def batched(self) -> bool:
        return self.space == "b"


def contiguous(flat: np.ndarray) -> slice | None:
    """The slice covering ``flat`` when it is consecutive and ascending."""
    n = flat.size
    if n and flat[-1] - flat[0] == n - 1 and (n == 1 or (np.diff(flat) == 1).all()):
        return slice(int(flat[0]), int(flat[-1]) + 1)
    return None


def strided(flat: np.ndarray) -> slice | None:
    """The slice covering ``flat`` when its slots step evenly upward (every tenth: the
    logits of one class in a batch of samples), consecutive ones included."""
    n = flat.size
    if n < 2:
        return contiguous(flat)
    step = int(flat[1] - flat[0])
    if step > 0 and flat[-1] - flat[0] == step * (n - 1) and (np.diff(flat) == step).all():
        return slice(int(flat[0]), int(flat[-1]) + 1, step)
    return None


def read(opd: Operand, buf: Buffers, tail: tuple[int, ...]) -> tuple[np.ndarray, Call | None]:
    """An array of shape ``opd.slots.shape + tail`` holding the operand's values, and the call
    that fills it before each use (None when it is a view: slots that step evenly, or one)."""
    arr = buf.values_in(opd.space)
    flat = opd.slots.ravel()
    shape = opd.slots.shape + tail
    sl = strided(flat)
    if sl is not None:
        return arr[sl].reshape(shape), None
    if flat.size and (flat == flat[0]).all():
        s = int(flat[0])
        return np.broadcast_to(
            arr[s : s + 1].reshape((1,) * len(opd.slots.shape) + tail), shape
        ), None
    rows = (flat.size, buf.batch) if opd.batched else (flat.size,)
    tmp = np.empty(rows)
    return tmp.reshape(shape), partial(np.take, arr, flat, axis=0, out=tmp)


def sink(opd: Operand, buf: Buffers) -> Callable[[Any], None]:
    """A function that writes a gradient shaped like the operand's values into its slots."""
    grads = buf.grads_in(opd.space)
    flat = opd.slots.ravel()
    sl = contiguous(flat)
    shape = opd.slots.shape + ((buf.batch,) if opd.batched else ())
    rows = (flat.size, buf.batch) if opd.batched else (flat.size,)
    sl = sl or strided(flat)
    if sl is not None:
        view = grads[sl].reshape(shape)
        if opd.mode == "assign":
            return partial(np.copyto, view)
        return lambda g: np.add(view, g, out=view)
    if np.unique(flat).size < flat.size:
        return lambda g: np.add.at(grads, flat, np.broadcast_to(g, shape).reshape(rows))
    if opd.mode == "assign":
        return lambda g: grads.__setitem__(flat, np.broadcast_to(g, shape).reshape(rows))

    def add(g: Any) -> None:
        grads[flat] += np.broadcast_to(g, shape).reshape(rows)

    return add


def tail_shape(opd: Operand, out_batched: bool, batch: int) -> tuple[int, ...]:
    if opd.batched:
        return (batch,)
    return (1,) if out_batched else ()


def batch_sum(opd: Operand, out_batched: bool) -> Callable[[Any], Any] | None:
    """Sums a batched gradient over the samples for an unbatched operand of a batched kernel."""
    if out_batched and not opd.batched:
        return partial(np.add.reduce, axis=-1)
    return None
