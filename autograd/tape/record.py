"""The recording: run the function once on Values and keep what it did as flat rows.

Nodes are numbered in topological order. A node made by an op is a *row*: ``node = op(inputs;
const)``, where ``const`` is the op's constant, if it has one (the ``2`` of ``x ** 2``). Every
other node is a leaf, of one of three kinds:

- an *input*: a number of the call's arguments (a flat position in them);
- a *parameter*: a Value that existed before the call (a model's weight reached through a
  closure), read afresh on every replay;
- a *literal*: a Value made during the call with no history (the ``1`` of ``1 + x``), a number
  baked into the program.

Comparisons and truth tests on Values during the call are kept as *guards*, re-checked on every
replay. The rows are kept as arrays (a few bytes a node); the Values are dropped once compiled.
"""

from __future__ import annotations

import itertools
import math
import numbers
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..grad_mode import current_scope, enable_grad, enter_scope, exit_scope
from ..graph import topological_order
from ..ops import OPS, Op
from ..value import DATA_OBSERVERS, Value
from .pytree import Key, collect_outputs, unflatten

_trace_ids = itertools.count()


@dataclass(frozen=True)
class Guard:
    """``node <symbol> rhs`` was ``result`` when traced (``rhs`` a node, a float, or None for a
    truth test, symbol "bool")."""

    node: int
    symbol: str
    rhs: int | float | None
    result: bool


class Recording:
    """What one run of ``fn`` on Values left behind.

    ``ops[i]`` is the op of row ``i`` (None for a leaf); its inputs are
    ``inputs_of(i) = ins[ptr[i]:ptr[i + 1]]``; ``consts[i]`` its op constant. Leaves are in
    ``inputs`` (node -> flat argument position), ``params`` (node -> Value) and ``literals``
    (node -> float).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        keys: Sequence[Key],
        n_inputs: int,
        has_aux: bool = False,
        example: Sequence[float] | None = None,
    ) -> None:
        data = [0.0] * n_inputs if example is None else list(map(float, example))
        input_values = [Value(x) for x in data]
        items = iter(input_values)
        arguments = [unflatten(key, items) for key in keys]

        observed: list[tuple[Value, str, Any, bool]] = []

        def observe(v: Value, symbol: str, other: Any, result: bool) -> None:
            observed.append((v, symbol, other, bool(result)))

        outs: list[Value] = []
        with enable_grad():
            # Every Value made during the call carries this scope: that is how literals (made
            # during the call) are told from parameters (made before it).
            token = enter_scope(f"trace#{next(_trace_ids)}")
            prefix = current_scope() or ()
            DATA_OBSERVERS.append(observe)
            try:
                self.out_key = collect_outputs(fn(*arguments), has_aux, outs)
            finally:
                DATA_OBSERVERS.remove(observe)
                exit_scope(token)
        self._number(input_values, outs, observed, prefix)

    def _number(
        self,
        input_values: list[Value],
        outs: list[Value],
        observed: list[tuple[Value, str, Any, bool]],
        prefix: tuple[str, ...],
    ) -> None:
        guarded = [v for v, _, _, _ in observed]
        guarded += [o for _, _, o, _ in observed if isinstance(o, Value)]
        order = topological_order(outs + guarded)
        self.n = n = len(order)
        index = dict(zip(order, range(n)))
        position = dict(zip(input_values, range(len(input_values))))
        self.n_inputs = len(input_values)
        self.ops: list[Op | None] = [None] * n
        self.consts: dict[int, float] = {}
        self.inputs: dict[int, int] = {}
        self.params: dict[int, Value] = {}
        self.literals: dict[int, float] = {}
        ops, consts, op_of = self.ops, self.consts, OPS.__getitem__
        counts = [0] * (n + 1)
        flat_ins: list[Any] = []
        get = index.__getitem__
        # Values made during the call carry the trace's own scope name at this depth.
        depth, mark = len(prefix) - 1, prefix[-1]
        for i, v in enumerate(order):
            name = v.op
            if name:
                scope = v.scope
                if scope is None or len(scope) <= depth or scope[depth] != mark:
                    raise ValueError(
                        f"trace: fn used {v!r}, computed before the call; the tape replays only "
                        "what fn computes. Compute it inside fn, or pass it in as an argument "
                        "(or close over its .detach() to make it a parameter)"
                    )
                op = ops[i] = op_of(name)
                parents = v.parents
                counts[i + 1] = len(parents)
                flat_ins.append(map(get, parents))
                if op.has_arg:
                    consts[i] = v.arg
            elif v in position:
                self.inputs[i] = position[v]
            else:
                scope = v.scope
                if scope is not None and len(scope) > depth and scope[depth] == mark:
                    self.literals[i] = v.data
                else:
                    self.params[i] = v
        self.ptr = np.cumsum(counts)
        self.ins = np.fromiter(itertools.chain.from_iterable(flat_ins), np.int64, self.ptr[-1])
        self.outputs = [index[v] for v in outs]
        self.guards = [
            Guard(index[v], symbol, index[o] if isinstance(o, Value) else _float_or_none(o), r)
            for v, symbol, o, r in observed
            if symbol == "bool" or isinstance(o, (Value, numbers.Real))
        ]

    def inputs_of(self, i: int) -> list[int]:
        return self.ins[self.ptr[i] : self.ptr[i + 1]].tolist()

    def input_lists(self) -> list[list[int]]:
        """Every node's inputs, as Python lists (empty for leaves): what the passes walk."""
        ins, ptr = self.ins.tolist(), self.ptr.tolist()
        return [ins[ptr[i] : ptr[i + 1]] for i in range(self.n)]


def _float_or_none(x: Any) -> float | None:
    return None if x is None else float(x)


def literal_key(x: float) -> bytes:
    """Literals with the same bits share a slot (0.0 and -0.0 stay apart; nans of one kind
    share)."""
    return struct.pack("<d", x)


@dataclass(frozen=True)
class Row:
    """One recorded op: ``node[out] = op(node[inputs[0]], ...; const)``."""

    out: int
    op: str
    inputs: tuple[int, ...]
    const: Any


class Rows:
    """The recorded program kept after compiling: ops, inputs and constants as arrays, the leaf
    kinds by node, printable like a jaxpr (one row a line)."""

    def __init__(self, rec: Recording) -> None:
        names = sorted({op.name for op in rec.ops if op is not None})
        code = {name: k for k, name in enumerate(names)}
        self.names = names
        self.codes = np.array(
            [-1 if op is None else code[op.name] for op in rec.ops], dtype=np.int16
        )
        self.ptr, self.ins = rec.ptr, rec.ins
        self.consts = dict(rec.consts)
        self.inputs, self.params, self.literals = rec.inputs, rec.params, rec.literals
        self.outputs = list(rec.outputs)

    def __iter__(self) -> Any:
        for i, c in enumerate(self.codes.tolist()):
            if c >= 0:
                ins = tuple(self.ins[self.ptr[i] : self.ptr[i + 1]].tolist())
                yield Row(i, self.names[c], ins, self.consts.get(i))

    def __len__(self) -> int:
        return int((self.codes >= 0).sum())

    def __str__(self) -> str:
        """One line a node, in order: leaves (``%3 = in0``, ``param w``, ``literal 1``) and
        rows (``%5 = mul(%3, %4)``, ``%6 = pow(%5; 2)``), then what the function returns. A
        long program shows its first and last lines (``list(rows)`` has them all)."""
        return self.listing(LISTED_LINES)

    def listing(self, limit: int | None = None) -> str:
        """The program as text, with at most ``limit`` node lines (None: every one)."""
        lines = {i: f"in{pos}" for i, pos in self.inputs.items()}
        lines.update((i, f"param {p.label}".rstrip()) for i, p in self.params.items())
        lines.update((i, f"literal {_show(x)}") for i, x in self.literals.items())
        for row in self:
            operands = ", ".join(f"%{j}" for j in row.inputs)
            const = "" if row.const is None else f"; {_show(row.const)}"
            lines[row.out] = f"{row.op}({operands}{const})"
        body = [f"  %{i} = {text}" for i, text in sorted(lines.items())]
        if limit is not None and len(body) > limit:
            head, tail = body[: limit - limit // 4], body[len(body) - limit // 4 :]
            skipped = len(body) - len(head) - len(tail)
            body = [
                *head,
                f"  ... {skipped:,} more lines (list(tape.rows) has every row) ...",
                *tail,
            ]
        outs = ", ".join(f"%{i}" for i in self.outputs)
        return "{\n" + "\n".join(body) + f"\n  return {outs}\n}}"


# How many node lines ``str(tape)`` shows before it elides the middle of a long program.
LISTED_LINES = 120


def _show(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) and math.isfinite(x) else repr(x)
