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

:func:`analyze` runs them in that order and returns one :class:`Analysis` holding every fact
the lowering reads.

Slot allocation (``slots.Slots``) happens as the kernels are made (``lower.py``), since the
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
from .record import Recording

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
    (the output) reaches it through inputs an op differentiates. The output of an op that
    passes no gradient on (``stop_gradient``) needs none: what reaches it would stop there
    (the max that shifts a log-sum-exp is then not differentiated at all)."""
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
        if not reached[i] or op is None or absorbed[i]:
            continue
        if cut_inputs(op):
            if i not in seeds:
                reached[i] = 0
            continue
        for p in refs_of(i, ins, lin):
            reached[p] = 1
    return bytearray(d and r for d, r in zip(depends, reached))


@dataclass
class Group:
    """Nodes of one kind at one depth: one kernel. ``kind`` is ``("lin", parts)`` or
    ``(op name, arity, batched flag per input, needs-gradient flag per input)``; ``batched``
    says where the outputs live."""

    depth: int
    batched: bool
    kind: tuple[Any, ...]
    members: list[int]


def product_kind(x: int, y: int, batched: bytearray, literals: dict[int, float], out: bool) -> Any:
    """A product's factors with the unbatched one first, and its kind: "shared" (both computed
    once), "weighted" (a shared weight times a per-sample value) or "per_sample" (both batched).

    In a batched node a literal factor of an unbatched weight counts as batched (its row is
    the literal in every column): the zero padding of a convolution's border windows then
    pairs with the same weights as every other window, so the layer stays one matrix product.
    """
    bx, by = batched[x], batched[y]
    if bx and not by:
        return y, x, "weighted"
    if by and not bx:
        return x, y, "weighted"
    if bx:
        return x, y, "per_sample"
    if out and y in literals:
        return x, y, "weighted"
    if out and x in literals:
        return y, x, "weighted"
    return x, y, "shared"


@dataclass
class LinearForm:
    """A linear node split by where its numbers live: products by kind (``"shared"``,
    ``"weighted"``, ``"per_sample"``: see ``product_kind``; the unbatched factor first), and plain
    terms, unbatched (``shared_terms``) and batched (``sample_terms``), each with a coefficient
    (a literal it was multiplied by; 1.0 for none)."""

    products: dict[str, tuple[list[int], list[int]]]
    shared_terms: list[int]
    shared_coefs: list[float]
    sample_terms: list[int]
    sample_coefs: list[float]

    @property
    def kind(self) -> tuple[Any, ...]:
        counts = (len(self.products[k][0]) for k in ("shared", "weighted", "per_sample"))
        return ("lin", *counts, len(self.shared_terms), len(self.sample_terms))


def normalize(node: Linear, rec: Recording, batched: bytearray, out: bool) -> LinearForm:
    """A linear node in :class:`LinearForm`. A product of a literal and a computed value (the
    ``1/n`` of a mean, the ``1e-4`` of a penalty) is a plain term with that coefficient; a
    literal times a parameter stays a product (see ``product_kind``)."""
    literals = rec.literals
    form = LinearForm({k: ([], []) for k in ("shared", "weighted", "per_sample")}, [], [], [], [])
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
        form.sample_terms.append(term)
        form.sample_coefs.append(coef)
    else:
        form.shared_terms.append(term)
        form.shared_coefs.append(coef)


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
            # Inputs that need a gradient and inputs that do not are told apart too: a kernel
            # then writes gradients only where they are wanted (not into a stop_gradient's
            # output read beside a logit, with a scatter-add).
            kind = (
                op.name,
                len(refs),
                tuple(batched[p] for p in refs),
                bytes(map(needs.__getitem__, refs)),
            )
        d = depth[i] = 1 + max(map(dget, refs), default=0)
        groups.setdefault((d, out, (kind, needs[i])), []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2])))
    return [Group(d, out, kind, members) for (d, out, (kind, _)), members in ordered], forms


@dataclass
class Analysis:
    """Everything the passes found, for the lowering: each node's inputs (``inputs_of``), the
    linear nodes and what they absorbed, which nodes are batched and which need a gradient, and
    the groups in the order they run (with each linear node's normal form in ``forms``)."""

    inputs_of: list[list[int]]
    linear: dict[int, Linear]
    absorbed: bytearray
    batched: bytearray
    needs_grad: bytearray
    groups: list[Group]
    forms: dict[int, LinearForm]

    @property
    def levels(self) -> int:
        return max((g.depth for g in self.groups), default=0)


def analyze(rec: Recording, input_grads: Sequence[bool], seeds: Sequence[int]) -> Analysis:
    """Run the passes in order on ``rec``: ``input_grads[k]`` says whether input ``k`` wants a
    gradient (parameters always do), ``seeds`` are the outputs differentiated."""
    ins = rec.input_lists()
    pinned = set(rec.outputs)  # outputs and guarded nodes keep their own slot
    for g in rec.guards:
        pinned.add(g.node)
        if isinstance(g.rhs, int):
            pinned.add(g.rhs)
    lin, absorbed = fuse_linear(rec, ins, use_counts(rec), pinned)
    batched = batched_nodes(rec, ins, lin, absorbed)
    wants = [i for i, pos in rec.inputs.items() if input_grads[pos]] + list(rec.params)
    needs = gradient_nodes(rec, ins, lin, absorbed, wants, seeds)
    groups, forms = schedule(rec, ins, lin, absorbed, batched, needs)
    return Analysis(ins, lin, absorbed, batched, needs, groups, forms)
