"""Compile passes over a recording: pure functions from rows to facts about them.

1. ``use_counts``: how many times each node is read.
2. ``fuse_linear``: sums, chains of adds and single-use products become one *linear node*
   ``Σ a_k b_k + Σ c_l`` (the ``b + w0*x0 + w1*x1 + ...`` of a neuron is one), so depth does
   not grow with fan-in and a layer can become one matrix product.
3. ``batched_nodes``: which nodes depend on the inputs. With a batch, each of them holds one
   number per sample (a row of the batched array); the rest (parameters, literals and what is
   computed from them alone) are computed once.
4. ``gradient_nodes``: which nodes need a gradient: they depend on a leaf that wants one, and
   the output reaches them through inputs an op differentiates (``stop_gradient`` cuts).
5. ``schedule``: levels by depth, grouped by kind, so each group runs as one kernel.

Slot allocation (:class:`Slots`) happens as the kernels are made (``lower.py``), since the
kernels decide which orders make their operands contiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ..namespaces import FLOAT
from ..ops import Op
from .record import Recording, literal_key

LINEAR = frozenset(("add", "sum", "dot"))


@dataclass
class Linear:
    """A fused node: ``Σ_k a[k] * b[k] + Σ_l c[l]`` over node ids."""

    a: list[int]
    b: list[int]
    c: list[int]

    def refs(self) -> list[int]:
        return [*self.a, *self.b, *self.c]


def use_counts(rec: Recording) -> list[int]:
    """How many times each node is read by a row (a node used twice by one row counts twice)."""
    return np.bincount(rec.ins, minlength=rec.n).tolist()


def fuse_linear(
    rec: Recording, ins: list[list[int]], uses: list[int], pinned: set[int]
) -> tuple[dict[int, Linear], bytearray]:
    """Linear nodes and the nodes they absorbed (which get no slot and no kernel).

    Each add, sum and dot becomes a linear node; it absorbs an input that is read once and not
    pinned (an output or a guarded node): a product (its factors join ``a`` and ``b``) or
    another linear node (its terms join in). A long chain of adds thus stays one node.
    """
    lin: dict[int, Linear] = {}
    absorbed = bytearray(rec.n)
    ops = rec.ops
    for i in range(rec.n):
        op = ops[i]
        if op is None or op.name not in LINEAR:
            continue
        parents = ins[i]
        if op.name == "dot":
            k = len(parents) // 2
            lin[i] = Linear(parents[:k], parents[k:], [])
            continue
        node = Linear([], [], [])
        for p in parents:
            if uses[p] != 1 or p in pinned:
                node.c.append(p)
            elif p in lin:
                inner = lin.pop(p)
                absorbed[p] = 1
                if not (node.a or node.b or node.c):  # take the chain's lists: stays linear
                    node = inner
                else:
                    node.a += inner.a
                    node.b += inner.b
                    node.c += inner.c
            elif ops[p] is not None and ops[p].name == "mul":
                absorbed[p] = 1
                node.a.append(ins[p][0])
                node.b.append(ins[p][1])
            else:
                node.c.append(p)
        lin[i] = node
    return lin, absorbed


def refs_of(i: int, ins: list[list[int]], lin: dict[int, Linear]) -> list[int]:
    """The nodes a materialized node reads: a linear node's terms, or a row's inputs."""
    node = lin.get(i)
    return node.refs() if node is not None else ins[i]


def batched_nodes(
    rec: Recording, ins: list[list[int]], lin: dict[int, Linear], absorbed: bytearray
) -> bytearray:
    """1 for every node that depends on an input (absorbed products included)."""
    batched = bytearray(rec.n)
    for i in rec.inputs:
        batched[i] = 1
    get = batched.__getitem__
    for i in range(rec.n):
        if rec.ops[i] is None:
            continue
        batched[i] = any(map(get, ins[i] if absorbed[i] or i not in lin else lin[i].refs()))
    return batched


@cache
def cut_inputs(op: Op) -> bool:
    """True when ``op`` passes no gradient to any input (``stop_gradient``): its vjp gives None
    for every input at every example of the table."""
    for example in op.examples:
        xs = list(example)
        out = op.fwd(FLOAT, *xs)
        if any(g is not None for g in op.vjp(FLOAT, 1.0, out, *xs)):
            return False
    return True


def gradient_nodes(
    rec: Recording,
    ins: list[list[int]],
    lin: dict[int, Linear],
    absorbed: bytearray,
    wants: Sequence[int],
    seeds: Sequence[int],
) -> bytearray:
    """1 for every node whose gradient is needed: it depends on a leaf in ``wants`` and a seed
    (the output) reaches it through inputs an op differentiates."""
    depends = bytearray(rec.n)
    for i in wants:
        depends[i] = 1
    get = depends.__getitem__
    for i in range(rec.n):
        if rec.ops[i] is not None and not absorbed[i]:
            depends[i] = any(map(get, refs_of(i, ins, lin)))
    reached = bytearray(rec.n)
    for i in seeds:
        reached[i] = 1
    for i in range(rec.n - 1, -1, -1):
        op = rec.ops[i]
        if not reached[i] or op is None or absorbed[i] or cut_inputs(op):
            continue
        for p in refs_of(i, ins, lin):
            reached[p] = 1
    return bytearray(d and r for d, r in zip(depends, reached))


@dataclass
class Group:
    """Nodes of one kind at one depth: one kernel. ``kind`` is ``("lin", parts)`` or
    ``(op name, arity, batched flag per input)``; ``batched`` says where the outputs live."""

    depth: int
    batched: bool
    kind: tuple[Any, ...]
    members: list[int]


def product_kind(x: int, y: int, batched: bytearray, literals: dict[int, float], out: bool) -> Any:
    """A product's factors with the unbatched one first, and its kind: "uu", "ub" or "bb".

    In a batched node a literal factor of an unbatched weight counts as batched (its row is
    the literal in every column): the zero padding of a convolution's border windows then
    pairs with the same weights as every other window, so the layer stays one matrix product.
    """
    bx, by = batched[x], batched[y]
    if bx and not by:
        return y, x, "ub"
    if by and not bx:
        return x, y, "ub"
    if bx:
        return x, y, "bb"
    if out and y in literals:
        return x, y, "ub"
    if out and x in literals:
        return y, x, "ub"
    return x, y, "uu"


@dataclass
class LinearForm:
    """A linear node split by where its numbers live: products by kind (``"uu"``, ``"ub"``,
    ``"bb"``: unbatched factor first), and plain terms, unbatched (``cu``) and batched
    (``cb``), each with a coefficient (a literal it was multiplied by; 1.0 for none)."""

    products: dict[str, tuple[list[int], list[int]]]
    cu: list[int]
    cu_coef: list[float]
    cb: list[int]
    cb_coef: list[float]

    @property
    def kind(self) -> tuple[Any, ...]:
        counts = (len(self.products[k][0]) for k in ("uu", "ub", "bb"))
        return ("lin", *counts, len(self.cu), len(self.cb))


def normalize(node: Linear, rec: Recording, batched: bytearray, out: bool) -> LinearForm:
    """A linear node in :class:`LinearForm`. A product of a literal and a computed value (the
    ``1/n`` of a mean, the ``1e-4`` of a penalty) is a plain term with that coefficient; a
    literal times a parameter stays a product (see ``product_kind``)."""
    literals = rec.literals
    form = LinearForm({k: ([], []) for k in ("uu", "ub", "bb")}, [], [], [], [])
    for x, y in zip(node.a, node.b):
        if (x in literals) != (y in literals):
            term, coef = (y, literals[x]) if x in literals else (x, literals[y])
            if term not in rec.params:
                _plain(form, term, coef, batched)
                continue
        a, b, kind = product_kind(x, y, batched, literals, out)
        form.products[kind][0].append(a)
        form.products[kind][1].append(b)
    for c in node.c:
        _plain(form, c, 1.0, batched)
    return form


def _plain(form: LinearForm, term: int, coef: float, batched: bytearray) -> None:
    if batched[term]:
        form.cb.append(term)
        form.cb_coef.append(coef)
    else:
        form.cu.append(term)
        form.cu_coef.append(coef)


def schedule(
    rec: Recording,
    ins: list[list[int]],
    lin: dict[int, Linear],
    absorbed: bytearray,
    batched: bytearray,
    needs: bytearray,
) -> tuple[list[Group], dict[int, Any]]:
    """Groups in the order they run (by depth) and each linear node in normal form. Nodes
    that need a gradient and nodes that do not go to different groups, so a kernel runs
    backward for all its members or none (a member no gradient reaches must send none on:
    its zero times an infinite derivative would be nan)."""
    depth = [0] * rec.n
    dget = depth.__getitem__
    groups: dict[tuple[int, bool, Any], list[int]] = {}
    forms: dict[int, Any] = {}
    for i in range(rec.n):
        op = rec.ops[i]
        if op is None or absorbed[i]:
            continue
        out = bool(batched[i])
        if i in lin:
            form = forms[i] = normalize(lin[i], rec, batched, out)
            kind: Any = form.kind
            refs = lin[i].refs()
        else:
            refs = ins[i]
            kind = (op.name, len(refs), tuple(batched[p] for p in refs))
        d = depth[i] = 1 + max(map(dget, refs), default=0)
        groups.setdefault((d, out, (kind, needs[i])), []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2])))
    return [Group(d, out, kind, members) for (d, out, (kind, _)), members in ordered], forms


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
            [(r, values[k]) for k, r in self.literal_row.items()],
        )

    @property
    def sizes(self) -> tuple[int, int]:
        return self.next_row, self.next_entry
