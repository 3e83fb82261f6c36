"""Diagnostics: what a replay checks, and how it says what went wrong.

- :class:`Guards`: the comparisons and truth tests on Values seen while tracing, re-checked
  after every forward pass; a replay that would take the other branch raises StructureError.
- :func:`check_finite` and :func:`diagnose`: after an op whose domain the table checks (log,
  sqrt, div, pow, exp), an inf or a nan may be a domain error; the element is found and the
  error eager execution raises is raised, naming the op (and the sample, in a batch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import StructureError
from .operands import Buffers
from .record import Recording
from .slots import Slots

_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "bool": lambda a, b: a != 0,
}


def check_finite(kernel: Any, arrays: list[np.ndarray], buf: Buffers) -> None:
    """After a checked op (log, sqrt, div, pow, exp): where its result or an input is inf or
    nan, its domain check may fail (and only there: tests/autograd/test_tape_kernels.py holds
    every check of the table to that), so that is when the elements are checked one by one."""
    total = 0.0
    for a in arrays:
        total += np.add.reduce(a, axis=None)
    if not math.isfinite(total):
        diagnose(kernel, buf)


def diagnose(kernel: Any, buf: Buffers) -> None:
    """Raise the error eager execution raises for a non-finite result of ``kernel``, if the
    op's domain check says one is due: the first sample, then the first member, that fails."""
    out = kernel.out_values(buf)
    xs = buf.notes[id(kernel)]
    const = kernel.const
    if isinstance(const, np.ndarray):
        const = const.reshape((-1,) + (1,) * (out.ndim - 1))
    bad = ~np.isfinite(out)
    for x in xs:
        bad |= ~np.isfinite(x)
    bad = np.argwhere(bad)
    if out.ndim == 2:
        bad = bad[np.lexsort((bad[:, 0], bad[:, 1]))]  # sample by sample, as eager runs
    for index in map(tuple, bad.tolist()):
        inputs = [float(np.broadcast_to(x, out.shape)[index]) for x in xs]
        if kernel.op.has_arg:
            inputs.append(float(np.broadcast_to(const, out.shape)[index]))
        err = kernel.op.check(float(out[index]), *inputs)
        if err is not None:
            where = f", sample {index[1]}" if out.ndim == 2 and buf.batch > 1 else ""
            raise type(err)(f"{kernel.op.name}: {err} (in a tape replay{where})") from None


class Guards:
    """The recorded comparisons, grouped by symbol, re-checked on every replay."""

    def __init__(self, rec: Recording, slots: Slots) -> None:
        self.groups = []
        by_symbol: dict[str, list[Any]] = {}
        for g in rec.guards:
            by_symbol.setdefault(g.symbol, []).append(g)
        for symbol, guards in by_symbol.items():
            lhs = [_place(slots, g.node) for g in guards]
            rhs = [_place(slots, g.rhs) if isinstance(g.rhs, int) else g.rhs for g in guards]
            expected = np.array([g.result for g in guards], dtype=bool)
            self.groups.append((symbol, lhs, rhs, expected))

    def __bool__(self) -> bool:
        return bool(self.groups)

    def check(self, buf: Buffers) -> None:
        for symbol, lhs, rhs, expected in self.groups:
            left = _values(buf, lhs)
            right = _values(buf, rhs)
            now = _COMPARE[symbol](left, right)
            wrong = now != expected[:, None]
            if wrong.any():
                g, sample = (int(k) for k in np.argwhere(wrong)[0])
                what = (
                    "a truth test"
                    if symbol == "bool"
                    else f"a comparison `x {symbol} {float(right[g, sample])!r}`"
                )
                where = f" for sample {sample}" if buf.batch > 1 else ""
                raise StructureError(
                    f"Tape: fn made {what} on a Value that was {bool(expected[g])} when traced "
                    f"and is {bool(now[g, sample])} now{where} (x = {float(left[g, sample])!r}): "
                    "the graph's structure depends on the data, so this replay would be wrong. "
                    "Write it with ops (relu, abs, vmax, ...) instead of Python control flow, "
                    "or call fn eagerly."
                )


def _place(slots: Slots, node: int) -> tuple[str, int]:
    row = int(slots.row[node])
    return ("b", row) if row >= 0 else ("u", int(slots.entry[node]))


def _values(buf: Buffers, places: list[Any]) -> np.ndarray:
    """Values of guard operands as (guards, batch): rows, entries or numbers."""
    out = np.empty((len(places), buf.batch))
    for k, p in enumerate(places):
        if p is None:
            out[k] = 0.0
        elif isinstance(p, float):
            out[k] = p
        else:
            space, slot = p
            out[k] = buf.per_sample[slot] if space == "b" else buf.shared[slot]
    return out
