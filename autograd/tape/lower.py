"""Lowering: each scheduled group becomes a kernel over slots (``slots.Slots`` hands them out).

Member order matters: a kernel's outputs get consecutive slots in member order, so ordering the
members by the slots they read makes the next level's reads contiguous (views, not gathers).
A linear group whose products pair every row of weights with every row of inputs becomes a
:class:`~.linear.Grid` (one matrix product); a dense layer, and a convolution built from one
neuron slid over an image, both do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import Apply, Broadcast, Kernel
from .linear import Grid, Sums
from .operands import Operand, contiguous
from .passes import Analysis, Group, LinearForm, cut_inputs
from .record import Recording
from .slots import Slots


class Lowering:
    """Turns groups into kernels, in schedule order, assigning slots as it goes."""

    def __init__(self, rec: Recording, analysis: Analysis, slots: Slots) -> None:
        self.rec, self.ins, self.slots = rec, analysis.inputs_of, slots
        self.needs = np.frombuffer(bytes(analysis.needs_grad), dtype=np.uint8).astype(bool)

    def operand(self, ids: np.ndarray, batched: bool) -> Operand:
        slots = self.slots.rows(ids) if batched else self.slots.entries(ids)
        return Operand("b" if batched else "u", slots, bool(self.needs[ids].any()))

    def order(self, reads: np.ndarray) -> np.ndarray:
        """Members (rows of ``reads``, the nodes each reads) sorted by the latest slot they
        read, so reads follow the writes before them."""
        if not reads.shape[1]:
            return np.arange(reads.shape[0])
        key = np.maximum(self.slots.row[reads], self.slots.entry[reads]).max(axis=1)
        return np.argsort(key, kind="stable")

    def kernel(self, group: Group, forms: dict[int, Any]) -> Kernel:
        members = np.array(group.members, dtype=np.int64)
        if group.kind[0] == "lin":
            kernel = self.linear(members, forms, group.batched)
        else:
            kernel = self.apply(members, group)
        kernel.backward_needed = bool(self.needs[members].any())
        return kernel

    def apply(self, members: np.ndarray, group: Group) -> Apply:
        op = self.rec.ops[int(members[0])]
        cols = np.array([self.ins[m] for m in members.tolist()], dtype=np.int64)
        perm = self.order(cols.reshape(len(members), -1))
        cols = cols.reshape(len(members), -1).T
        cols, members = cols[:, perm], members[perm]
        flags = group.kind[2]
        xs = [self.operand(col, bool(b)) for col, b in zip(cols, flags)]
        if cut_inputs(op):  # stop_gradient: nothing flows back through it
            for x in xs:
                x.needs = False
        const = None
        if op.has_arg:
            values = np.array([self.rec.consts[m] for m in members.tolist()], dtype=float)
            same = (values == values[0]) | (np.isnan(values) & np.isnan(values[0]))
            const = float(values[0]) if same.all() else values
        return Apply(op, xs, const, self.slots.outputs(members, group.batched), group.batched)

    def linear(self, members: np.ndarray, forms: dict[int, LinearForm], batched: bool) -> Kernel:
        s = len(members)
        ids = members.tolist()
        parts = {}
        for name in ("shared", "weighted", "per_sample"):
            a = np.array([forms[m].products[name][0] for m in ids], dtype=np.int64).reshape(s, -1)
            b = np.array([forms[m].products[name][1] for m in ids], dtype=np.int64).reshape(s, -1)
            if a.shape[1]:
                parts[name] = (a, b)
        terms = {
            "shared_terms": _terms(
                [forms[m].shared_terms for m in ids], [forms[m].shared_coefs for m in ids], s
            ),
            "sample_terms": _terms(
                [forms[m].sample_terms for m in ids], [forms[m].sample_coefs for m in ids], s
            ),
        }
        if batched and list(parts) == ["weighted"]:
            grid = self.grid(members, *parts["weighted"], terms)
            if grid is not None:
                return grid
        reads = [x for a, b in parts.values() for x in (a, b)] + [c for c, _ in terms.values()]
        perm = self.order(np.concatenate(reads, axis=1))
        members = members[perm]
        ops = {}
        for name, (a, b) in parts.items():
            a, b = self.sorted_terms(a[perm], b[perm], name)
            ops[name] = (self.operand(a, name == "per_sample"), self.operand(b, name != "shared"))
        cs = {}
        for name, (c, coef) in terms.items():
            if c.shape[1]:
                cs[name] = self.operand(c[perm], name == "sample_terms")
                cs[name].coef = None if coef is None else coef[perm]
        return Sums(ops, cs, self.slots.outputs(members, batched), batched)

    def sorted_terms(self, a: np.ndarray, b: np.ndarray, name: str) -> tuple[Any, Any]:
        """A lone member's products ordered by the first factor's slot (a sum's order only
        changes its last bits), so a penalty over all parameters reads them as one slice."""
        if a.shape[0] != 1 or name == "per_sample":
            return a, b
        order = np.argsort(self.slots.entries(a)[0], kind="stable")
        return a[:, order], b[:, order]

    def grid(
        self,
        members: np.ndarray,
        a: np.ndarray,
        x: np.ndarray,
        terms: dict[str, tuple[np.ndarray, np.ndarray | None]],
    ) -> Grid | None:
        s = len(members)
        ua, ia = np.unique(a, axis=0, return_inverse=True)
        # Inputs compared by row, not node: literals of one value share a row (the zero
        # padding a convolution makes anew for every window and filter).
        ux, ix = np.unique(self.slots.rows(x), axis=0, return_inverse=True)
        ni, nj = len(ua), len(ux)
        cell = ia.ravel() * nj + ix.ravel()
        if ni * nj != s or np.bincount(cell, minlength=s).max() != 1:
            return None
        perm = np.argsort(cell)
        ones = self.fold_bias(ua, ux, terms)  # first: it places the weights
        wa = self.operand(ua, False)
        wx = Operand("b", ux, bool(self.needs[x].any()))
        cs = []
        for name, (c, coef) in terms.items():
            if not c.shape[1]:
                cs.append(None)
                continue
            c = c[perm].reshape(ni, nj, -1)
            coef = None if coef is None else coef[perm].reshape(ni, nj, -1)
            for side in (0, 1):  # a term repeated along a side (a bias) is stored once
                same = (c == c.take([0], axis=side)).all()
                if same and (coef is None or (coef == coef.take([0], axis=side)).all()):
                    c = c.take([0], axis=side)
                    coef = None if coef is None else coef.take([0], axis=side)
            opd = self.operand(c, name == "sample_terms")
            opd.coef = coef
            cs.append(opd)
        return Grid(wa, wx, cs[0], cs[1], self.slots.outputs(members[perm], True), ones)

    def fold_bias(self, ua: np.ndarray, ux: np.ndarray, terms: dict[str, Any]) -> int | None:
        """Lay a dense layer out so its bias rides in its matrix product, as hand-written numpy
        does: the weights column by column, the biases next ([W^T; b], one block of the
        parameters), and a row of 1.0 below the inputs ([X; 1]). The row's number, or None
        where the layout is not free to choose (weights already placed, inputs not the last
        rows); ``Grid`` checks the block before it uses it."""
        c, coef = terms.get("shared_terms", (None, None))
        if ux.shape[0] != 1 or c is None or c.shape[1] != 1 or coef is not None:
            return None
        rows = contiguous(ux.ravel())
        if rows is None or rows.stop != self.slots.next_row:
            return None
        leaves = np.concatenate([ua.ravel(), c.ravel()])  # distinct parameters, not yet placed
        if np.unique(leaves).size != leaves.size or (self.slots.entry[leaves] >= 0).any():
            return None
        if not all(i in self.rec.params for i in leaves.tolist()):
            return None
        self.slots.entries(ua.T)
        return self.slots.ones_row()

    def broadcast(self, node: int) -> Broadcast:
        """A row for an unbatched output (programs return rows)."""
        src = self.operand(np.array([node]), False)
        out = self.slots.outputs(np.array([node]), True)
        kernel = Broadcast(src, out)
        kernel.backward_needed = bool(self.needs[node])
        return kernel


def sink_modes(
    kernels: list[Kernel], seed_rows: np.ndarray, sizes: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Decide, for every operand a gradient flows into, whether it assigns or adds, and which
    slots must be cleared before each backward pass (those first reached by an add).

    Backward runs the kernels in reverse, after the seeds are written into the output rows. An
    operand assigns when it is the first to reach every one of its slots, each once; otherwise
    it adds, and its slots not reached before are cleared at the start.
    """
    seen = {"b": np.zeros(sizes[0], dtype=bool), "u": np.zeros(sizes[1], dtype=bool)}
    clear: dict[str, list[np.ndarray]] = {"b": [], "u": []}
    seen["b"][seed_rows] = True
    for kernel in reversed(kernels):
        if not kernel.backward_needed:
            continue
        for opd in kernel.operands():
            if not opd.needs:
                continue
            flat = opd.slots.ravel()
            mask = seen[opd.space]
            before = mask[flat]
            unique = np.unique(flat).size == flat.size
            if unique and not before.any():
                opd.mode = "assign"
            else:
                opd.mode = "add"
                clear[opd.space].append(np.unique(flat[~before]))
            mask[flat] = True
    return tuple(
        np.unique(np.concatenate(clear[k])) if clear[k] else np.zeros(0, dtype=np.int64)
        for k in ("b", "u")
    )


def _terms(nodes: list[list[int]], coefs: list[list[float]], s: int) -> tuple[Any, Any]:
    """Plain terms as an (S, L) array of nodes and their coefficients (None when all 1)."""
    c = np.array(nodes, dtype=np.int64).reshape(s, -1)
    coef = np.array(coefs, dtype=float).reshape(s, -1)
    return c, (None if (coef == 1.0).all() else coef)
