"""A traced program as a ``torch.nn.Module``: the recorded rows replayed with torch on tensors.

The way out for a program that outgrows the scalar engine. ``trace(fn, *example_args)`` keeps
``fn`` as flat rows, ``node = op(inputs; const)``; :func:`to_torch` turns them into a module
whose ``forward`` runs each row's forward rule from the op table (``OPS[name].fwd``) on a
TORCH math namespace, beside FLOAT, VALUE and NUMPY: the same rules, on tensors. Nothing about
an op is written again here, and torch's autograd differentiates what the rules compute.

How it runs. Every node is a row of a ``(nodes, batch)`` tensor: the sample dimension is
batched (JAX's ``vmap`` idea again: ``fn`` was traced on one sample). Rows are grouped as the
tape groups them, by depth and op, so a layer of neurons is one gather and one ``dot`` over the
whole group, not one torch call per scalar: a few calls per level of the graph, which a GPU can
run. The parameters (the Values ``fn`` reached that existed before the call) are one flat
``nn.Parameter``, ``module.theta``, in the order of ``module.values``; ``module.sync()`` writes
it back into the Values (so a model trained in torch is drawn with viz again) and
``module.load()`` reads the Values into it. ``module.to(device, dtype)`` works as for any module.

Where it stops: the rows are the structure of one trace. Comparisons the trace saw (``if v >
0``) cannot be re-checked per sample by torch, so such a program is refused.

This module imports torch; nothing else in autograd does.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import torch

from ..namespaces import FLOAT
from ..ops import OPS
from ..value import Value
from .pytree import Key, size
from .record import Recording, Rows


def _stack(xs: Sequence[Any]) -> Any:
    return torch.stack(torch.broadcast_tensors(*xs))


# The op table's math namespace on tensors (the functions FLOAT, VALUE and NUMPY provide). Total
# like the others: inf and nan where the float would be out of range, no errors.
TORCH = SimpleNamespace(
    name="torch",
    exp=torch.exp,
    log=torch.log,
    sqrt=torch.sqrt,
    tanh=torch.tanh,
    sigmoid=torch.sigmoid,
    softplus=lambda x: torch.logaddexp(torch.zeros_like(x), x),  # no threshold: exact, stable
    sin=torch.sin,
    cos=torch.cos,
    abs=torch.abs,
    sign=torch.sign,
    where=torch.where,
    iszero=lambda x: x == 0,
    div=torch.div,
    pow=torch.pow,
    sum=lambda xs: _stack(xs).sum(0),
    max=lambda xs: torch.max(_stack(xs), 0)[0],  # the (value, index) form: one winner, as ours
    argmax=lambda xs: torch.max(_stack(xs), 0)[1],
)


class TracedModule(torch.nn.Module):
    """A traced program replayed with torch: ``module(*args)`` on a batch of samples.

    Each argument is a tensor with the batch first and one sample shaped like the traced
    example (``(batch,)`` for a number, ``(batch, 1, 8, 8)`` for a one-channel 8x8 image); the
    result has the batch first and one sample shaped like ``fn``'s result (``(batch,)`` for
    one number). ``theta`` holds the parameters (an ``nn.Parameter``), ``values`` the Values
    they came from, in the same order.
    """

    def __init__(
        self, rows: Rows, arg_keys: Sequence[Key], out_key: Key, values: list[Value]
    ) -> None:
        super().__init__()
        self.arg_keys, self.out_key, self.values = tuple(arg_keys), out_key, values
        inputs = sorted(rows.inputs)
        fixed = [*sorted(rows.params), *sorted(rows.literals)]
        # Two tensors hold the nodes: ``b`` those that depend on the arguments, one column per
        # sample; ``u`` the rest (parameters, literals, and what is computed from them alone),
        # one column that broadcasts against the batch, so no weight is copied per sample.
        where = {i: (True, k) for k, i in enumerate(inputs)}
        where.update((i, (False, k)) for k, i in enumerate(fixed))
        count = {True: len(inputs), False: len(fixed)}
        self.register_buffer("input_columns", _index([rows.inputs[i] for i in inputs]), False)
        self.theta = torch.nn.Parameter(torch.tensor([v.data for v in values], dtype=torch.float64))
        literals = [rows.literals[i] for i in sorted(rows.literals)]
        # The numbers baked into the program stay float64 here (not buffers, which .to(dtype)
        # would round for good) and are converted for the dtype and device of each call.
        self.constants = {"literals": torch.tensor(literals, dtype=torch.float64)}
        self._converted: dict[tuple[Any, Any], dict[str, Any]] = {}
        # Rows by depth, op, and which inputs are batched, the depths in order: one gather and
        # one torch call a group.
        depth: dict[int, int] = {}
        groups: dict[tuple[int, str, tuple[bool, ...]], list[Any]] = {}
        for row in rows:
            d = depth[row.out] = 1 + max((depth.get(i, 0) for i in row.inputs), default=0)
            mask = tuple(where[i][0] for i in row.inputs)
            groups.setdefault((d, row.op, mask), []).append(row)
            where[row.out] = (any(mask), -1)  # its row is known once its group is placed
        self.levels: list[list[tuple[str, int, bool, list[tuple[bool, int]], Any]]] = []
        for j, ((d, name, mask), group) in enumerate(sorted(groups.items(), key=lambda g: g[0][0])):
            if d > len(self.levels):
                self.levels.append([])
            for batched in (True, False):
                columns = [c for c, m in enumerate(mask) if m == batched]
                index = [[where[r.inputs[c]][1] for c in columns] for r in group]
                self.register_buffer(f"{'bu'[not batched]}{j}", _index(index, len(columns)), False)
            seen = {True: 0, False: 0}
            order = []
            for m in mask:
                order.append((m, seen[m]))
                seen[m] += 1
            pairs = self._pairs(j, order) if name == "dot" else None
            self.levels[-1].append((name, j, any(mask), order, pairs))
            if OPS[name].has_arg:
                consts = torch.tensor([[float(r.const)] for r in group], dtype=torch.float64)
                self.constants[f"const{j}"] = consts
            for r in group:
                batched = any(mask)
                where[r.out] = (batched, count[batched])
                count[batched] += 1
        outs = [where[i] for i in rows.outputs]
        self.register_buffer("out_b", _index([k for batched, k in outs if batched]), False)
        self.register_buffer("out_u", _index([k for batched, k in outs if not batched]), False)
        ranks = sorted(range(len(outs)), key=lambda o: not outs[o][0])  # batched ones first
        self.register_buffer(
            "out_order", _index(sorted(range(len(outs)), key=ranks.__getitem__)), False
        )
        self.n_rows = len(depth)
        self.constant_ops = {name for _, name, _ in groups if _passes_no_gradient(name)}

    def forward(self, *args: Any) -> Any:
        if len(args) != len(self.arg_keys):
            raise TypeError(
                f"TracedModule: expected {len(self.arg_keys)} arguments, as traced, got {len(args)}"
            )
        theta = self.theta
        first = torch.as_tensor(args[0]) if args else None
        batch = 1 if first is None else first.shape[0] if first.ndim else 0
        columns = []
        for i, (a, key) in enumerate(zip(args, self.arg_keys)):
            a = torch.as_tensor(a)
            if a.ndim == 0 or a.shape[0] != batch or a[0].numel() != size(key):
                raise ValueError(
                    f"TracedModule: argument {i} has shape {tuple(a.shape)}; expected the batch "
                    f"({batch}) first, then {size(key)} numbers a sample (traced shape {key})"
                )
            columns.append(a.reshape(batch, -1))
        flat = torch.cat(columns, 1) if columns else theta.new_zeros((batch, 0))
        b = flat.to(dtype=theta.dtype).T.index_select(0, self.input_columns)
        constants = self._constants_for(theta)
        u = torch.cat([theta, constants["literals"]])[:, None]
        for level in self.levels:
            made: dict[bool, list[Any]] = {True: [], False: []}
            for name, j, batched, order, pairs in level:
                index_b, index_u = getattr(self, f"b{j}"), getattr(self, f"u{j}")
                xb = b.index_select(0, index_b.flatten()).view(*index_b.shape, b.shape[1])
                xu = u.index_select(0, index_u.flatten()).view(*index_u.shape, 1)
                if pairs:
                    out = self._dot(j, pairs, xb, xu)
                else:
                    parts = {True: xb.unbind(1), False: xu.unbind(1)}
                    xs = [parts[m][k] for m, k in order]
                    op = OPS[name]
                    extra = (constants[f"const{j}"],) if op.has_arg else ()
                    out = op.fwd(TORCH, *xs, *extra)
                made[batched].append(out.detach() if name in self.constant_ops else out)
            if made[True]:
                b = torch.cat([b, *made[True]])
            if made[False]:
                u = torch.cat([u, *made[False]])
        out = torch.cat(
            [b.index_select(0, self.out_b), u.index_select(0, self.out_u).expand(-1, batch)]
        )
        out = out.index_select(0, self.out_order).T
        if self.out_key == ():
            return out[:, 0]
        if self.out_key[:1] == (None,):
            return out
        return out.reshape(batch, *self.out_key)

    def _constants_for(self, theta: Any) -> dict[str, Any]:
        key = (theta.device, theta.dtype)
        if key not in self._converted:
            self._converted[key] = {
                name: c.to(device=theta.device, dtype=theta.dtype)
                for name, c in self.constants.items()
            }
        return self._converted[key]

    def _pairs(self, j: int, order: list[tuple[bool, int]]) -> list[tuple[bool, bool, int]]:
        """A dot's products ``w_c * x_c`` sorted by where each side lives (batched or not),
        each kind's columns kept as buffers: weights times inputs is then one batched matrix
        product for a whole layer of neurons, as the tape runs it."""
        n = len(order) // 2
        kinds: dict[tuple[bool, bool], list[tuple[int, int]]] = {}
        for (mw, kw), (mx, kx) in zip(order[:n], order[n:]):
            kinds.setdefault((mw, mx), []).append((kw, kx))
        pairs = []
        for q, ((mw, mx), cols) in enumerate(sorted(kinds.items())):
            self.register_buffer(f"w{j}_{q}", _index([kw for kw, _ in cols]), False)
            self.register_buffer(f"x{j}_{q}", _index([kx for _, kx in cols]), False)
            pairs.append((mw, mx, q))
        return pairs

    def _dot(self, j: int, pairs: list[tuple[bool, bool, int]], xb: Any, xu: Any) -> Any:
        """``dot``'s forward rule (the sum of the products), a kind of pair at a time."""
        source = {True: xb, False: xu}
        total = None
        for mw, mx, q in pairs:
            w = source[mw].index_select(1, getattr(self, f"w{j}_{q}"))
            x = source[mx].index_select(1, getattr(self, f"x{j}_{q}"))
            # weights times a batch of inputs: (1 x n) @ (n x batch), else plain products
            part = torch.bmm(w.transpose(1, 2), x)[:, 0] if not mw and mx else (w * x).sum(1)
            total = part if total is None else total + part
        return total

    def sync(self) -> None:
        """Write ``theta`` into the Values' ``.data`` (as float64 numbers)."""
        for v, x in zip(self.values, self.theta.detach().double().cpu().tolist()):
            v.data = x

    def load(self) -> None:
        """Read the Values' ``.data`` into ``theta`` (after you changed them)."""
        with torch.no_grad():
            self.theta.copy_(torch.tensor([v.data for v in self.values], dtype=torch.float64))

    def extra_repr(self) -> str:
        return (
            f"{self.n_rows:,} rows in {len(self.levels)} levels, {len(self.values):,} parameters; "
            f"arguments {list(self.arg_keys)} -> {self.out_key}"
        )


def _passes_no_gradient(name: str) -> bool:
    """True for an op whose rule sends no gradient to any input (``stop_gradient``): torch
    must see its output as a constant."""
    op = OPS[name]
    example = op.examples[0]
    out = op.fwd(FLOAT, *example)
    return all(g is None for g in op.vjp(FLOAT, 1.0, out, *example))


def _index(xs: list[Any], width: int | None = None) -> Any:
    t = torch.tensor(xs, dtype=torch.int64)
    return t if width is None else t.reshape(len(xs), width)


def to_torch(
    recorded: Recording | Rows, arg_keys: Sequence[Key], out_key: Key, guards: int = 0
) -> TracedModule:
    """The recorded program as a :class:`TracedModule`.

    ``recorded`` is a :class:`~.record.Recording` or the :class:`~.record.Rows` a compiled
    program keeps; ``arg_keys`` the traced arguments' shape keys, ``out_key`` the result's.
    ``guards`` is how many comparisons the trace saw (refused when there are any).
    """
    if guards:
        raise ValueError(
            f"to_torch: the traced function compared Values {guards} time(s) (if v > 0, max(a, "
            "b) on Values, ...), so its structure depends on the data; a torch module replays "
            "one structure for every sample and cannot re-check them. Use the op table's "
            "branch-free forms instead (v.relu(), autograd.value.vmax, ...)"
        )
    rows = Rows(recorded) if isinstance(recorded, Recording) else recorded
    values = [rows.params[i] for i in sorted(rows.params)]
    return TracedModule(rows, arg_keys, out_key, values)


__all__ = ["TORCH", "TracedModule", "to_torch"]
