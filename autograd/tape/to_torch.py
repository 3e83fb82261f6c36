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
        params = sorted(rows.params)
        literals = sorted(rows.literals)
        position = {node: k for k, node in enumerate([*inputs, *params, *literals])}
        self.register_buffer("input_columns", _index([rows.inputs[i] for i in inputs]), False)
        self.theta = torch.nn.Parameter(torch.tensor([v.data for v in values], dtype=torch.float64))
        self.register_buffer(
            "literal_values", torch.tensor([rows.literals[i] for i in literals]), False
        )
        # Rows by (depth, op, number of inputs), the depths in order: one torch call a group.
        depth: dict[int, int] = {}
        groups: dict[tuple[int, str, int], list[Any]] = {}
        for row in rows:
            d = depth[row.out] = 1 + max((depth.get(i, 0) for i in row.inputs), default=0)
            groups.setdefault((d, row.op, len(row.inputs)), []).append(row)
        self.levels: list[list[tuple[str, int, int]]] = []
        next_position = len(position)
        for j, ((d, name, k), group) in enumerate(sorted(groups.items(), key=lambda g: g[0][0])):
            if d > len(self.levels):
                self.levels.append([])
            self.levels[-1].append((name, j, k))
            self.register_buffer(
                f"ins{j}", _index([position[i] for r in group for i in r.inputs]), False
            )
            if OPS[name].has_arg:
                consts = torch.tensor([[float(r.const)] for r in group], dtype=torch.float64)
                self.register_buffer(f"const{j}", consts, False)
            for r in group:
                position[r.out] = next_position
                next_position += 1
        self.register_buffer("output_rows", _index([position[i] for i in rows.outputs]), False)
        self.n_rows = next_position - len(inputs) - len(params) - len(literals)
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
        flat = flat.to(dtype=theta.dtype)
        vals = torch.cat(
            [
                flat.T.index_select(0, self.input_columns),
                theta[:, None].expand(-1, batch),
                self.literal_values.to(theta.dtype)[:, None].expand(-1, batch),
            ]
        )
        for level in self.levels:
            made = []
            for name, j, k in level:
                op = OPS[name]
                xs = vals.index_select(0, getattr(self, f"ins{j}")).reshape(-1, k, batch)
                extra = (getattr(self, f"const{j}").to(theta.dtype),) if op.has_arg else ()
                out = op.fwd(TORCH, *xs.unbind(1), *extra)
                made.append(out.detach() if name in self.constant_ops else out)
            vals = torch.cat([vals, *made])
        out = vals.index_select(0, self.output_rows).T
        if self.out_key == ():
            return out[:, 0]
        if self.out_key[:1] == (None,):
            return out
        return out.reshape(batch, *self.out_key)

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


def _index(xs: list[int]) -> Any:
    return torch.tensor(xs, dtype=torch.int64)


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
