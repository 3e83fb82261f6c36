"""Where every node lives: rows of the per-sample array, entries of the shared one.

:class:`Slots` hands out slots while the groups are lowered to kernels (``lower.py``): leaves
get theirs on first use and a kernel's outputs consecutive ones, so operands tend to be
contiguous (views, not gathers). The one stateful step between the pure passes and the kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .record import Recording, literal_key


class Slots:
    """Where every node lives.

    Two arrays hold a program's numbers: the *batched* one has a row per node that depends on
    the inputs (one column per sample), the *unbatched* one an entry per parameter, literal and
    node computed from them alone. Regions, in order: batched: inputs (row = flat argument
    position), literals promoted to rows, computed; unbatched: parameters, literals, computed.
    Leaves get their slots on first use, so a kernel's operands tend to be contiguous; a
    kernel's outputs get consecutive slots in the order of its members.
    """

    def __init__(
        self,
        rec: Recording,
        batched: bytearray,
        extra_params: Sequence[Any],
        param_order: Sequence[Any] = (),
    ) -> None:
        self.rec = rec
        self.batched = batched
        self.row = np.full(rec.n, -1, dtype=np.int64)  # batched row (inputs, computed)
        self.entry = np.full(rec.n, -1, dtype=np.int64)  # unbatched entry
        for i, pos in rec.inputs.items():
            self.row[i] = pos
        distinct = {literal_key(x) for x in rec.literals.values()}
        self.n_params = len(rec.params) + len(extra_params)
        self.next_param = 0
        self.literal_entry: dict[bytes, int] = {}
        self.literal_row: dict[bytes, int] = {}
        self.next_literal_entry = self.n_params
        self.next_entry = self.n_params + len(distinct)
        self.next_literal_row = rec.n_inputs
        self.next_row = rec.n_inputs + len(distinct)
        self.extra_params = list(extra_params)
        self.ones_rows: list[int] = []  # rows of 1.0 a layer's bias is folded in by
        if param_order:  # parameters laid out as another program has them
            node_of = {id(p): i for i, p in rec.params.items()}
            nodes = [node_of[id(p)] for p in param_order if id(p) in node_of]
            self.entry[nodes] = np.arange(len(nodes))
            self.next_param = len(nodes)

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """Batched rows of ``ids`` (any shape): inputs, computed nodes, literals (promoted)."""
        out = self.row[ids]
        missing = out < 0
        if missing.any():
            for i in np.unique(ids[missing]).tolist():
                self.row[i] = self._literal_row(i)
            out = self.row[ids]
        return out

    def entries(self, ids: np.ndarray) -> np.ndarray:
        """Unbatched entries of ``ids`` (any shape): parameters and literals get theirs on first
        use, in order of use."""
        out = self.entry[ids]
        missing = out < 0
        if missing.any():
            flat = ids[missing].ravel()
            uniq, first = np.unique(flat, return_index=True)
            for i in uniq[np.argsort(first)].tolist():
                self.entry[i] = self._leaf_entry(i)
            out = self.entry[ids]
        return out

    def outputs(self, members: np.ndarray, batched: bool) -> slice:
        """Consecutive slots for a kernel's outputs, in member order."""
        if batched:
            start = self.next_row
            self.row[members] = np.arange(start, start + members.size)
            self.next_row += members.size
        else:
            start = self.next_entry
            self.entry[members] = np.arange(start, start + members.size)
            self.next_entry += members.size
        return slice(start, start + members.size)

    def ones_row(self) -> int:
        """A row of 1.0 after the last rows handed out: below a layer's inputs, it folds the
        layer's bias into its matrix product (``Grid``)."""
        self.ones_rows.append(self.next_row)
        self.next_row += 1
        return self.next_row - 1

    def _leaf_entry(self, i: int) -> int:
        rec = self.rec
        if i in rec.params:
            self.next_param += 1
            return self.next_param - 1
        if i in rec.literals:
            key = literal_key(rec.literals[i])
            if key not in self.literal_entry:
                self.literal_entry[key] = self.next_literal_entry
                self.next_literal_entry += 1
            return self.literal_entry[key]
        raise AssertionError(f"node {i} has no unbatched entry")  # computed before use

    def _literal_row(self, i: int) -> int:
        if i not in self.rec.literals:
            raise AssertionError(f"node {i} has no batched row")
        key = literal_key(self.rec.literals[i])
        if key not in self.literal_row:
            self.literal_row[key] = self.next_literal_row
            self.next_literal_row += 1
        return self.literal_row[key]

    def finish(self) -> None:
        """Give the parameters no kernel read (and the extras) their entries, after the rest."""
        for i in self.rec.params:
            if self.entry[i] < 0:
                self.entry[i] = self._leaf_entry(i)
        self.param_order: list[Any] = [None] * self.n_params
        for i, p in self.rec.params.items():
            self.param_order[int(self.entry[i])] = p
        for k, p in enumerate(self.extra_params):
            self.param_order[self.next_param + k] = p
        for i in self.rec.literals:  # literals only an output or a guard reads
            if self.entry[i] < 0:
                self.entry[i] = self._leaf_entry(i)

    def literal_values(self) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """(entry, value) and (row, value) of every literal slot, to fill once."""
        values = {literal_key(x): x for x in self.rec.literals.values()}
        return (
            [(e, values[k]) for k, e in self.literal_entry.items()],
            [(r, values[k]) for k, r in self.literal_row.items()]
            + [(r, 1.0) for r in self.ones_rows],
        )

    @property
    def sizes(self) -> tuple[int, int]:
        return self.next_row, self.next_entry
