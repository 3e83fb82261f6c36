"""Trace a scalar graph once, replay it with numpy: the training loop at tensor speed.

``trace(fn, *example_args)`` runs ``fn`` once on Values and records the graph it builds as flat
rows ``(op, input slots, arg)``. The :class:`Tape` it returns replays those rows on numpy arrays,
forward (``tape(*args)``) and backward (``tape.backward()``).

The schedule. Rows are grouped by (depth, op) and each group runs as one call of the op's rule
from the table, ``OPS[name].fwd(NUMPY, ...)`` and ``OPS[name].vjp(NUMPY, ...)``, so a level of a
network costs a few numpy calls however many scalars it holds; fan-out becomes a scatter-add.
Before grouping, sums are fused: a chain of single-use adds is one n-ary sum, and a sum of
single-use products (the ``b + w0*x0 + w1*x1 + ...`` of a neuron, or a ``dot`` node) is a segment
dot ``Σ a_k b_k + Σ c_l``, so depth does not grow with fan-in. Segment dots whose factors form a
grid (every row of ``a`` meets every row of ``b``: the samples of a batch and the neurons of a
layer) run as one matrix product. Sums and dots are the one place the tape does its own
arithmetic; every other op comes from the table.

What the tape reads on each replay:

- inputs: the arguments (floats, nested lists of floats, numpy arrays, Values);
- parameters: leaves that existed before the call, e.g. a model's weights reached through a
  closure. Read afresh from ``.data`` on every replay, so an optimizer updating ``p.data`` just
  works; ``backward()`` adds into their ``.grad`` as eager ``backward()`` does;
- constants: leaves made during the call (the ``1`` of ``1 + x``), baked in.

Limits. A replay repeats the traced structure, so it is valid only while the structure does not
depend on the data. Comparisons and truth tests on Values during the trace (``x > 0``,
``if v:``, ``max(a, b)``) are recorded and re-checked on every replay: a replay that flips one
raises :class:`StructureError`. Reading ``.data`` or ``float(v)`` cannot be seen (nor can
constants computed from them, or work done under ``no_grad``): use ``check=True``, which runs
``fn`` eagerly beside every replay and raises :class:`StructureError` when they differ. Arguments
of a new shape trace ``fn`` again (one compiled program per shape). Values computed before the
call (not leaves) are refused: the tape could not replay them. Domain errors (log of a negative
number, ...) are raised when they reach the output. A tape is not thread-safe.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .backward import gradients
from .gc_pause import gc_paused
from .grad_mode import current_scope, enable_grad, enter_scope, exit_scope
from .graph import topological_order
from .namespaces import NUMPY
from .ops import OPS, Op
from .value import DATA_OBSERVERS, Value, data_of

if TYPE_CHECKING:
    import numpy

np: Any = None  # numpy, imported by the first trace: the engine itself needs only the stdlib


def _numpy() -> Any:
    global np
    if np is None:
        import numpy

        np = numpy
    return np


class StructureError(RuntimeError):
    """A replay no longer follows the traced graph (a recorded comparison flipped), or, with
    ``check=True``, its results differ from running the function eagerly."""


class Row(NamedTuple):
    """One recorded op: ``node[out] = op(node[inputs[0]], ...; arg)``; nodes are numbered in
    topological order, leaves (inputs, parameters, constants) have no row."""

    out: int
    op: str
    inputs: tuple[int, ...]
    arg: Any


# Relative (and, near zero, absolute) tolerance of check=True against eager.
CHECK_TOLERANCE = 1e-9

_LIN = ("add", "sum", "dot")  # fused into segment dots
_trace_ids = itertools.count()


def trace(
    fn: Callable[..., Any], *example_args: Any, check: bool = False, has_aux: bool = False
) -> Tape:
    """Run ``fn(*example_args)`` once on Values and return a :class:`Tape` that replays it.

    ``fn`` receives every argument as Values of the same shape (a number becomes a Value, a
    nested list or array a nested list of Values) and returns a Value, a number, or a (nested)
    list of them; with ``has_aux=True`` it returns a pair ``(loss, aux)``: ``backward()``
    differentiates the loss and replays return ``(loss, aux)`` as floats (as in JAX).
    With ``check=True`` every replay is verified against eager execution.
    """
    tape = Tape(fn, check=check, has_aux=has_aux)
    tape._program(example_args)
    return tape


class Tape:
    """A function traced into flat rows and compiled into grouped numpy calls.

    ``tape(*args)`` replays the forward pass and returns floats shaped like ``fn``'s output;
    ``tape.backward()`` replays the backward pass of the last call, adding d(output)/d(p) into
    every parameter's ``.grad``; ``tape.value_and_grad(*args)`` does both and also returns the
    gradients with respect to the arguments. Arguments of a new shape trace ``fn`` again.
    """

    def __init__(self, fn: Callable[..., Any], check: bool = False, has_aux: bool = False) -> None:
        self.fn = fn
        self.check = check
        self.has_aux = has_aux
        self._programs: dict[Any, _Program] = {}
        self._last: _Program | None = None
        self._last_values: list[tuple[int, Value]] = []
        self._eager: tuple[Value, list[Value], list[Any]] | None = None

    # ---- replay ---------------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        """``fn(*args)`` replayed: floats, shaped like what ``fn`` returned."""
        program, datas, values = self._program(args)
        out = program.forward(datas)
        self._last, self._last_values = program, values
        if self.check:
            self._eager = _eager_run(self.fn, program, datas)
            _compare("output", program.output_floats(), [v.data for v in self._eager[2]])
        return out

    def backward(self, seed: float = 1.0) -> None:
        """Backward pass of the last call: parameters' ``.grad += seed * d(out)/d(p)``, as eager
        ``backward()`` adds into leaves; Values passed as arguments get theirs too."""
        self._backward(seed)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple[Any, ...]]:
        """``(fn(*args), gradients with respect to each argument)``, each gradient shaped like
        its argument (a float, a nested list, or an array); parameters' ``.grad`` is added to."""
        out = self(*args)
        flat = self._backward(1.0)
        grads = []
        for arg, (start, stop), key in zip(args, self._last.arg_slices, self._last.arg_keys):
            g = flat[start:stop]
            if isinstance(arg, _numpy().ndarray):
                grads.append(g.reshape(key).copy())
            elif key == ():
                grads.append(float(g[0]))
            else:
                grads.append(_build(key, iter(g.tolist())))
        return out, tuple(grads)

    # ---- introspection --------------------------------------------------------------------------
    @property
    def parameters(self) -> list[Value]:
        """The parameters of the last program run (leaves that existed before the call)."""
        return list(self._current().params)

    @property
    def rows(self) -> list[Row]:
        """The recorded rows of the last program run, in topological order."""
        return self._current().rows()

    @property
    def stats(self) -> dict[str, int]:
        """Sizes of the last program: nodes, edges, rows, slots, levels, kernels, ..."""
        return dict(self._current().stats)

    def __repr__(self) -> str:
        name = getattr(self.fn, "__qualname__", repr(self.fn))
        if not self._programs:
            return f"<Tape of {name}: not traced>"
        s = self._current().stats
        return (
            f"<Tape of {name}: {len(self._programs)} shape(s); {s['nodes']:,} nodes -> "
            f"{s['slots']:,} slots in {s['levels']} levels, {s['kernels']} kernels>"
        )

    # ---- internals ------------------------------------------------------------------------------
    def _current(self) -> _Program:
        if self._last is None:
            raise RuntimeError("Tape: nothing traced yet")
        return self._last

    def _program(self, args: Sequence[Any]) -> tuple[_Program, list[Any], list[tuple[int, Value]]]:
        keys, datas, values = _arguments(args)
        key = tuple(keys)
        program = self._programs.get(key)
        if program is None:
            program = _Program(self.fn, keys, datas, self.has_aux)
            self._programs[key] = program
            if self._last is None:
                self._last = program
        return program, datas, values

    def _backward(self, seed: float) -> Any:
        program = self._last
        if program is None or not program.ran:
            raise RuntimeError("Tape.backward: call the tape first (tape(*args)) to replay forward")
        flat = program.backward(float(seed))
        for pos, v in self._last_values:
            v.grad = v.grad + float(flat[pos])
        if self.check:
            root, inputs, _ = self._eager
            expected = gradients(root, float(seed))
            tape_grads = program.grads[program.pslice].tolist()
            _compare(
                "parameter gradient", tape_grads, [expected.get(p, 0.0) for p in program.params]
            )
            _compare("input gradient", flat.tolist(), [expected.get(v, 0.0) for v in inputs])
        return flat


# ---- arguments ----------------------------------------------------------------------------------


def _arguments(args: Sequence[Any]) -> tuple[list[Any], list[Any], list[tuple[int, Value]]]:
    """Each argument's shape key and flat data, and the Values among them (flat position, Value).

    A shape key is the numpy shape of a rectangular argument (``()`` for a number) or, for a
    ragged list, ``(None, child keys)``. Arrays and lists of the same shape share a key.
    """
    np = _numpy()
    keys, datas, values = [], [], []
    offset = 0
    for arg in args:
        if isinstance(arg, np.ndarray) and arg.dtype != object:
            key, data = arg.shape, arg.ravel()
        elif type(arg) is float or (isinstance(arg, numbers.Real) and not isinstance(arg, Value)):
            key, data = (), float(arg)
        else:
            key, data = None, None
            if not isinstance(arg, Value):
                try:
                    a = np.array(arg)
                except (ValueError, TypeError):  # ragged
                    a = None
                if a is not None and a.dtype.kind in "biuf":
                    key, data = a.shape, a.ravel()
            if key is None:
                flat: list[float] = []
                found: list[tuple[int, Value]] = []
                key = _scan(arg, flat, found)
                data = flat
                values.extend((offset + pos, v) for pos, v in found)
        keys.append(key)
        datas.append(data)
        offset += 1 if key == () else len(data)
    return keys, datas, values


def _nest(x: Any, leaf: Callable[[Any], None]) -> Any:
    """The shape key of ``x``, a scalar or (nested) list, tuple or array; ``leaf`` sees every
    scalar in order."""
    if hasattr(x, "tolist") and not isinstance(x, (Value, numbers.Real, list, tuple)):
        x = x.tolist()  # numpy arrays
    if not isinstance(x, (list, tuple)):
        leaf(x)
        return ()
    keys = [_nest(item, leaf) for item in x]
    if not keys:
        return (0,)
    first = keys[0]
    if first[:1] != (None,) and all(k == first for k in keys):
        return (len(keys), *first)
    return (None, tuple(keys))


def _scan(x: Any, flat: list[float], found: list[tuple[int, Value]]) -> Any:
    """Append the numbers in ``x`` to ``flat`` (noting Values in ``found``); return its key."""

    def leaf(v: Any) -> None:
        if isinstance(v, Value):
            found.append((len(flat), v))
            flat.append(v.data)
        elif isinstance(v, numbers.Real):
            flat.append(float(v))
        else:
            raise TypeError(
                "trace: arguments must be numbers, Values, or (nested) lists or arrays of them, "
                f"got {type(v).__name__}"
            )

    return _nest(x, leaf)


def _build(key: Any, items: Iterable[Any]) -> Any:
    """The nested list of shape ``key`` holding ``items`` in order (one item for ``()``)."""
    items = iter(items)
    if key == ():
        return next(items)
    if key[0] is None:
        return [_build(k, items) for k in key[1]]
    return [_build(key[1:], items) for _ in range(key[0])]


def _size(key: Any) -> int:
    if key[:1] == (None,):
        return sum(map(_size, key[1]))
    return math.prod(key)


# ---- recording ----------------------------------------------------------------------------------


def _collect(result: Any, has_aux: bool, flat: list[Value]) -> Any:
    """Flatten what ``fn`` returned into ``flat`` (the loss first, with ``has_aux``); its key."""
    if not has_aux:
        return _flat_outputs(result, flat)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError("trace(has_aux=True): fn must return a pair (loss, aux)")
    if _flat_outputs(result[0], flat) != ():
        raise TypeError("trace(has_aux=True): the first of fn's pair must be one Value, the loss")
    return _flat_outputs(result[1], flat)


def _flat_outputs(out: Any, flat: list[Value]) -> Any:
    """Collect the Values of ``fn``'s result (numbers become constants); return its key."""

    def leaf(v: Any) -> None:
        if isinstance(v, Value):
            flat.append(v)
        elif isinstance(v, numbers.Real):
            flat.append(Value(float(v)))
        else:
            raise TypeError(
                "trace: fn must return Values or numbers (or lists of them), "
                f"got {type(v).__name__}"
            )

    return _nest(out, leaf)


class _Recording:
    """What one run of ``fn`` on Values left behind, as flat rows over numbered nodes."""

    def __init__(
        self, fn: Callable[..., Any], keys: list[Any], datas: list[Any], has_aux: bool
    ) -> None:
        flat = []
        for key, data in zip(keys, datas):
            flat.extend([data] if key == () else data)
        inputs = [Value(float(x)) for x in flat]
        it = iter(inputs)
        structured = [_build(key, it) for key in keys]

        observed: list[tuple[Value, str, Any, bool]] = []

        def observe(v: Value, symbol: str, other: Any, result: bool) -> None:
            observed.append((v, symbol, other, bool(result)))

        outs: list[Value] = []
        with enable_grad():
            # Every Value made during the call carries this scope: that is how constants (made
            # during the call) are told from parameters (made before it).
            token = enter_scope(f"trace#{next(_trace_ids)}")
            prefix = current_scope() or ()
            DATA_OBSERVERS.append(observe)
            try:
                self.out_key = _collect(fn(*structured), has_aux, outs)
            finally:
                DATA_OBSERVERS.remove(observe)
                exit_scope(token)

        extra = [v for v, _, _, _ in observed]
        extra += [o for _, _, o, _ in observed if isinstance(o, Value)]
        order = topological_order(outs + extra)
        index = {v: i for i, v in enumerate(order)}
        self.n = n = len(order)
        position = {v: i for i, v in enumerate(inputs)}
        plen = len(prefix)

        self.ops: list[str | None] = [None] * n
        self.ins: list[tuple[int, ...]] = [()] * n
        self.args: list[Any] = [None] * n
        self.input_pos: dict[int, int] = {}  # node -> flat argument position
        self.params: dict[int, Value] = {}
        self.consts: dict[int, float] = {}
        ops, ins, args, get = self.ops, self.ins, self.args, index.__getitem__
        for i, v in enumerate(order):
            parents = v.parents
            if parents:
                if v.scope is None or v.scope[:plen] != prefix:
                    raise ValueError(
                        f"trace: fn used {v!r}, computed before the call; the tape replays only "
                        "what fn computes. Compute it inside fn, or pass it in as an argument "
                        "(or close over its .detach() to make it a parameter)"
                    )
                ops[i] = v.op
                ins[i] = tuple(map(get, parents))
                args[i] = v.arg
            elif v in position:
                self.input_pos[i] = position[v]
            elif v.scope is not None and v.scope[:plen] == prefix:
                self.consts[i] = v.data
            else:
                self.params[i] = v
        self.n_inputs = len(inputs)
        self.outputs = [index[v] for v in outs]
        self.guards = [
            (index[v], symbol, index[o] if isinstance(o, Value) else float(o or 0.0), result)
            for v, symbol, o, result in observed
            if symbol == "bool" or isinstance(o, (Value, numbers.Real))
        ]


# ---- kernels ------------------------------------------------------------------------------------


class _Ref:
    """Where a kernel's operand lives in the slot array: a slice when the slots are contiguous,
    else an index array. ``add`` scatter-adds a gradient into those slots (summing repeats)."""

    __slots__ = ("shape", "sl", "idx", "uniq", "inv", "needs")

    def __init__(self, slots: numpy.ndarray, needs: bool) -> None:
        flat = slots.ravel()
        self.shape = slots.shape
        self.needs = needs
        self.sl = self.idx = self.uniq = self.inv = None
        if flat.size and flat[-1] - flat[0] == flat.size - 1 and (np.diff(flat) == 1).all():
            self.sl = slice(int(flat[0]), int(flat[-1]) + 1)
        else:
            self.idx = slots
            uniq, inv = np.unique(flat, return_inverse=True)
            if uniq.size < flat.size:
                self.uniq, self.inv = uniq, inv.ravel()

    def get(self, vals: numpy.ndarray) -> numpy.ndarray:
        if self.sl is not None:
            v = vals[self.sl]
            return v.reshape(self.shape) if len(self.shape) > 1 else v
        return vals[self.idx]

    def add(self, grads: numpy.ndarray, g: Any) -> None:
        if self.sl is not None:
            view = grads[self.sl]
            if len(self.shape) > 1:
                view = view.reshape(self.shape)
            view += g
        elif self.uniq is None:
            grads[self.idx] += g
        else:
            w = np.broadcast_to(g, self.shape).ravel()
            grads[self.uniq] += np.bincount(self.inv, weights=w, minlength=self.uniq.size)


class _Apply:
    """One table op over a group of rows: ``out = op.fwd(NUMPY, *xs)``, backward by ``op.vjp``."""

    def __init__(self, op: Op, refs: list[_Ref], arg: Any, out: slice) -> None:
        self.op, self.refs, self.out = op, refs, out
        self.tail = (arg,) if op.has_arg else ()
        self.xs: list[Any] = []

    def forward(self, vals: numpy.ndarray) -> None:
        self.xs = xs = [r.get(vals) for r in self.refs]
        vals[self.out] = self.op.fwd(NUMPY, *xs, *self.tail)

    def backward(self, vals: numpy.ndarray, grads: numpy.ndarray) -> None:
        out = self.out
        gs = self.op.vjp(NUMPY, grads[out], vals[out], *self.xs, *self.tail)
        for r, g in zip(self.refs, gs):
            if g is not None and r.needs:
                r.add(grads, g)


def _plain_sum(c: numpy.ndarray) -> numpy.ndarray:
    return c[..., 0] if c.shape[-1] == 1 else c.sum(axis=-1)


class _Segments:
    """Fused sums: ``out[s] = Σ_k a[s, k] b[s, k] + Σ_l c[s, l]``, one segment per row."""

    def __init__(self, a: _Ref | None, b: _Ref | None, c: _Ref | None, out: slice) -> None:
        self.a, self.b, self.c, self.out = a, b, c, out
        self.ab: tuple[Any, Any] = (None, None)

    def forward(self, vals: numpy.ndarray) -> None:
        out = vals[self.out]
        if self.a is not None:
            a, b = self.ab = self.a.get(vals), self.b.get(vals)
            if a.shape[1] == 1:
                np.multiply(a[:, 0], b[:, 0], out=out)
            else:
                np.einsum("sk,sk->s", a, b, out=out)
            if self.c is not None:
                out += _plain_sum(self.c.get(vals))
        else:
            out[...] = _plain_sum(self.c.get(vals))

    def backward(self, vals: numpy.ndarray, grads: numpy.ndarray) -> None:
        g = grads[self.out][:, None]
        if self.a is not None:
            a, b = self.ab
            if self.a.needs:
                self.a.add(grads, g * b)
            if self.b.needs:
                self.b.add(grads, g * a)
        if self.c is not None and self.c.needs:
            self.c.add(grads, g)


class _Grid:
    """Fused sums on a grid: ``out[i, j] = a[i] · b[j] + Σ_l c[i, j, l]``, one matrix product.

    ``c`` may be shaped (1, J, L) or (I, 1, L) when it repeats along a side (a layer's biases).
    """

    def __init__(self, a: _Ref, b: _Ref, c: _Ref | None, out: slice) -> None:
        self.a, self.b, self.c, self.out = a, b, c, out
        self.shape = (a.shape[0], b.shape[0])
        self.ab: tuple[Any, Any] = (None, None)

    def forward(self, vals: numpy.ndarray) -> None:
        out = vals[self.out].reshape(self.shape)
        a, b = self.ab = self.a.get(vals), self.b.get(vals)
        np.matmul(a, b.T, out=out)
        if self.c is not None:
            out += _plain_sum(self.c.get(vals))

    def backward(self, vals: numpy.ndarray, grads: numpy.ndarray) -> None:
        g = grads[self.out].reshape(self.shape)
        a, b = self.ab
        if self.a.needs:
            self.a.add(grads, g @ b)
        if self.b.needs:
            self.b.add(grads, g.T @ a)
        c = self.c
        if c is not None and c.needs:
            if c.shape[0] == 1:
                g = g.sum(axis=0, keepdims=True)
            if c.shape[1] == 1:
                g = g.sum(axis=1, keepdims=True)
            c.add(grads, g[..., None])


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "bool": lambda a, b: a != 0,
}


# ---- compiling ----------------------------------------------------------------------------------


class _Program:
    """One traced shape: the recording, fused and grouped into kernels over a slot array."""

    def __init__(
        self, fn: Callable[..., Any], keys: list[Any], datas: list[Any], has_aux: bool
    ) -> None:
        _numpy()
        self.has_aux = has_aux
        # Tracing allocates a node per op, and compiling a few objects per node, none of them in
        # cycles: the cyclic GC would only scan them (and everything else alive) again and again.
        with gc_paused():
            self._build(fn, keys, datas, has_aux)

    def _build(
        self, fn: Callable[..., Any], keys: list[Any], datas: list[Any], has_aux: bool
    ) -> None:
        rec = _Recording(fn, keys, datas, has_aux)
        self._rows = (rec.ops, rec.ins, rec.args)
        self.arg_keys = keys
        self.arg_slices, start = [], 0
        for key in keys:
            size = 1 if key == () else _size(key)
            self.arg_slices.append((start, start + size))
            start += size
        self.out_key = rec.out_key
        self.ran = False
        self._compile(rec)

    # ---- build ----
    def _compile(self, rec: _Recording) -> None:
        n, ops, ins = rec.n, rec.ops, rec.ins
        uses = [0] * n
        for parents in ins:
            for p in parents:
                uses[p] += 1
        pinned = set(rec.outputs)
        pinned.update(g[0] for g in rec.guards)
        pinned.update(g[2] for g in rec.guards if isinstance(g[2], int))

        # Fuse: each add/sum/dot becomes (a, b, c) = products a_k b_k and plain terms c_l,
        # absorbing single-use muls and single-use sums it reads.
        lin: dict[int, tuple[list[int], list[int], list[int]]] = {}
        absorbed = bytearray(n)
        for i in range(n):
            op = ops[i]
            if op is None or op not in _LIN:
                continue
            parents = ins[i]
            if op == "dot":
                k = len(parents) // 2
                lin[i] = (list(parents[:k]), list(parents[k:]), [])
                continue
            a: list[int] = []
            b: list[int] = []
            c: list[int] = []
            for p in parents:
                if uses[p] != 1 or p in pinned:
                    c.append(p)
                elif p in lin:
                    pa, pb, pc = lin.pop(p)
                    absorbed[p] = 1
                    if not (a or b or c):  # reuse the chain's lists: a long chain stays linear
                        a, b, c = pa, pb, pc
                    else:
                        a += pa
                        b += pb
                        c += pc
                elif ops[p] == "mul":
                    absorbed[p] = 1
                    a.append(ins[p][0])
                    b.append(ins[p][1])
                else:
                    c.append(p)
            lin[i] = (a, b, c)

        # Depth (leaves 0) and whether a node's gradient is needed (it reads an input or a
        # parameter); group materialized nodes by (depth, kind).
        depth = [0] * n
        needs = bytearray(n)
        for i in rec.input_pos:
            needs[i] = 1
        for i in rec.params:
            needs[i] = 1
        groups: dict[tuple[int, Any], list[int]] = {}
        dget, nget = depth.__getitem__, needs.__getitem__
        for i in range(n):
            op = ops[i]
            if op is None or absorbed[i]:
                continue
            if i in lin:
                a, b, c = lin[i]
                refs = itertools.chain(a, b, c)
                kind: Any = ("lin", len(a), len(c))
            else:
                refs = ins[i]
                kind = (op, len(refs))
            refs = tuple(refs)
            d = depth[i] = 1 + max(map(dget, refs), default=0)
            needs[i] = any(map(nget, refs))
            groups.setdefault((d, kind), []).append(i)

        n_in, n_par = rec.n_inputs, len(rec.params)
        self.slot = slot = np.full(n, -1, dtype=np.intp)
        for i, pos in rec.input_pos.items():
            slot[i] = pos
        is_param = np.zeros(n, dtype=bool)
        is_param[list(rec.params)] = True
        self._next = {
            "param": n_in,
            "const": n_in + n_par,
            "computed": n_in + n_par + len(rec.consts),
        }
        self._is_param = is_param
        self._needs = np.frombuffer(bytes(needs), dtype=np.uint8).astype(bool)

        kernels: list[Any] = []
        levels = 0
        for (d, kind), members in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            levels = max(levels, d)
            if kind[0] == "lin":
                kernels.append(self._lin_kernel(members, lin, kind[1], kind[2]))
            else:
                kernels.append(self._apply_kernel(members, OPS[kind[0]], ins, rec.args))

        # Outputs and guards may read leaves no kernel reads.
        self._assign(np.array([*rec.outputs, *pinned, *rec.params, *rec.consts], dtype=np.intp))

        size = self._next["computed"]
        self.vals = np.zeros(size)
        self.grads = np.zeros(size)
        for i, x in rec.consts.items():
            self.vals[slot[i]] = x
        by_slot = sorted(rec.params.items(), key=lambda kv: slot[kv[0]])
        self.params = [v for _, v in by_slot]
        self.pslice = slice(n_in, n_in + n_par)
        self.kernels = kernels
        self.forwards = [k.forward for k in kernels]
        self.backwards = [k.backward for k in reversed(kernels)]
        self.out_slots = slot[np.array(rec.outputs, dtype=np.intp)]
        self.scalar = self.out_key == () and not self.has_aux
        self._guards(rec)
        del self._next, self._is_param
        self._input_nodes = rec.input_pos
        self.stats = {
            "nodes": n,
            "edges": sum(uses),
            "rows": sum(op is not None for op in ops),
            "fused": sum(absorbed),
            "slots": size,
            "levels": levels,
            "kernels": len(kernels),
            "grids": sum(isinstance(k, _Grid) for k in kernels),
            "inputs": n_in,
            "parameters": n_par,
            "constants": len(rec.consts),
            "guards": len(rec.guards),
        }

    def _assign(self, ids: numpy.ndarray) -> numpy.ndarray:
        """Slots of ``ids`` (any shape); leaves get theirs on first use, in order of use, so the
        operands of a kernel tend to be contiguous. Parameters and constants have regions."""
        slot = self.slot
        flat = ids.ravel()
        missing = flat[slot[flat] < 0]
        if missing.size:
            uniq, first = np.unique(missing, return_index=True)
            uniq = uniq[np.argsort(first)]
            for kind, mask in (("param", self._is_param[uniq]), ("const", ~self._is_param[uniq])):
                chosen = uniq[mask]
                start = self._next[kind]
                slot[chosen] = np.arange(start, start + chosen.size)
                self._next[kind] = start + chosen.size
        return slot[ids]

    def _ref(self, ids: numpy.ndarray) -> _Ref:
        return _Ref(self._assign(ids), bool(self._needs[ids].any()))

    def _outputs(self, members: numpy.ndarray) -> slice:
        start = self._next["computed"]
        self.slot[members] = np.arange(start, start + members.size)
        self._next["computed"] = start + members.size
        return slice(start, start + members.size)

    def _order(self, members: list[int], columns: list[numpy.ndarray]) -> numpy.ndarray:
        """Order members by the slots of the computed nodes they read, so those reads (and the
        writes of this group, which follow member order) are contiguous where possible."""
        key = np.full(len(members), -1, dtype=np.intp)
        for col in columns:
            key = np.maximum(key, self.slot[col])
        return np.argsort(key, kind="stable")

    def _apply_kernel(self, members: list[int], op: Op, ins: list[Any], args: list[Any]) -> _Apply:
        cols = np.array([ins[m] for m in members], dtype=np.intp).reshape(len(members), -1).T
        perm = self._order(members, list(cols))
        cols = cols[:, perm]
        ids = np.array(members, dtype=np.intp)[perm]
        refs = [self._ref(col) for col in cols]
        arg = None
        if op.has_arg:
            values = np.array([args[m] for m in ids.tolist()], dtype=float)
            arg = float(values[0]) if (values == values[0]).all() else values
        return _Apply(op, refs, arg, self._outputs(ids))

    def _lin_kernel(self, members: list[int], lin: dict[int, Any], k: int, l: int) -> Any:  # noqa: E741
        s = len(members)
        a = np.array([lin[m][0] for m in members], dtype=np.intp).reshape(s, k)
        b = np.array([lin[m][1] for m in members], dtype=np.intp).reshape(s, k)
        c = np.array([lin[m][2] for m in members], dtype=np.intp).reshape(s, l)
        ids = np.array(members, dtype=np.intp)
        if k:
            ua, ia = np.unique(a, axis=0, return_inverse=True)
            ub, ib = np.unique(b, axis=0, return_inverse=True)
            cell = ia.ravel() * len(ub) + ib.ravel()
            if len(ua) * len(ub) == s and np.bincount(cell, minlength=s).max() == 1:
                return self._grid_kernel(ids, ua, ub, c, np.argsort(cell))
        perm = self._order(members, [*a.T, *b.T, *c.T])
        a, b, c, ids = a[perm], b[perm], c[perm], ids[perm]
        refs = [self._ref(x) if x.size else None for x in (a, b, c)]
        return _Segments(*refs, self._outputs(ids))

    def _grid_kernel(
        self,
        ids: numpy.ndarray,
        ua: numpy.ndarray,
        ub: numpy.ndarray,
        c: numpy.ndarray,
        perm: numpy.ndarray,
    ) -> _Grid:
        ni, nj = len(ua), len(ub)
        a, b = self._ref(ua), self._ref(ub)
        cref = None
        if c.shape[1]:
            c = c[perm].reshape(ni, nj, -1)
            if (c == c[:1]).all():
                c = c[:1]
            elif (c == c[:, :1]).all():
                c = c[:, :1]
            cref = self._ref(c)
        return _Grid(a, b, cref, self._outputs(ids[perm]))

    def _guards(self, rec: _Recording) -> None:
        """Comparisons seen during the trace, grouped by symbol, to re-check on every replay."""
        self.guards = []
        by_symbol: dict[str, list[tuple[int, Any, bool]]] = {}
        for v, symbol, other, result in rec.guards:
            by_symbol.setdefault(symbol, []).append((v, other, result))
        for symbol, items in by_symbol.items():
            lhs = np.array([self.slot[v] for v, _, _ in items], dtype=np.intp)
            rhs_slots = np.array([self.slot[o] if isinstance(o, int) else -1 for _, o, _ in items])
            rhs_const = np.array([o if isinstance(o, float) else 0.0 for _, o, _ in items])
            expected = np.array([r for _, _, r in items], dtype=bool)
            self.guards.append((symbol, lhs, rhs_slots, rhs_const, expected))

    # ---- replay ----
    def forward(self, datas: list[Any]) -> Any:
        vals = self.vals
        for (start, stop), data in zip(self.arg_slices, datas):
            vals[start:stop] = data
        if self.params:
            vals[self.pslice] = list(map(data_of, self.params))
        with np.errstate(all="ignore"):
            for forward in self.forwards:
                forward(vals)
        self.ran = True
        if self.guards:
            self._check_guards()
        if self.scalar:
            out = float(vals[self.out_slots[0]])
            if not math.isfinite(out):
                self._diagnose()
            return out
        outs = vals[self.out_slots]
        if not np.isfinite(outs).all():
            self._diagnose()
        if self.has_aux:
            return float(outs[0]), _build(self.out_key, outs[1:].tolist())
        return _build(self.out_key, outs.tolist())

    def output_floats(self) -> list[float]:
        return self.vals[self.out_slots].tolist()

    def backward(self, seed: float) -> numpy.ndarray:
        if not (self.scalar or self.has_aux):
            raise ValueError(
                "Tape.backward: fn returned several values; backward needs a single Value output"
            )
        vals, grads = self.vals, self.grads
        grads.fill(0.0)
        grads[self.out_slots[0]] = seed
        with np.errstate(all="ignore"):
            for backward in self.backwards:
                backward(vals, grads)
        if self.params:
            for p, g in zip(self.params, grads[self.pslice].tolist()):
                p.grad += g
        return grads[: self.arg_slices[-1][1] if self.arg_slices else 0]

    def _check_guards(self) -> None:
        vals = self.vals
        for symbol, lhs, rhs_slots, rhs_const, expected in self.guards:
            rhs = np.where(rhs_slots >= 0, vals[rhs_slots], rhs_const)
            now = _COMPARE[symbol](vals[lhs], rhs)
            if not np.array_equal(now, expected):
                j = int(np.flatnonzero(now != expected)[0])
                what = (
                    "a truth test" if symbol == "bool" else f"a comparison `x {symbol} {rhs[j]!r}`"
                )
                raise StructureError(
                    f"Tape: fn made {what} on a Value that was {bool(expected[j])} when traced "
                    f"and is {bool(now[j])} now (x = {vals[lhs[j]]!r}): the graph's structure "
                    "depends on the data, so this replay would be wrong. Write it with ops "
                    "(relu, abs, ...) instead of Python control flow, or call fn eagerly."
                )

    def _diagnose(self) -> None:
        """Raise the error eager execution would have raised for a non-finite output."""
        for k in self.kernels:
            if not isinstance(k, _Apply) or k.op.check is None:
                continue
            out = self.vals[k.out]
            for e in np.flatnonzero(~np.isfinite(out)).tolist():
                xs = [float(x[e]) for x in k.xs]
                tail = [float(np.broadcast_to(t, out.shape)[e]) for t in k.tail]
                err = k.op.check(float(out[e]), *xs, *tail)
                if err is not None:
                    raise type(err)(f"{k.op.name}: {err} (in a tape replay)")

    def rows(self) -> list[Row]:
        ops, ins, args = self._rows
        return [Row(i, op, ins[i], args[i]) for i, op in enumerate(ops) if op is not None]


# ---- check=True ---------------------------------------------------------------------------------


def _eager_run(fn: Callable[..., Any], program: _Program, datas: list[Any]) -> Any:
    """Run ``fn`` eagerly on fresh Values: (first output, input Values, output Values)."""
    inputs = []
    for key, data in zip(program.arg_keys, datas):
        inputs.extend(Value(float(x)) for x in ([data] if key == () else data))
    it = iter(inputs)
    outs: list[Value] = []
    with enable_grad():
        _collect(fn(*[_build(key, it) for key in program.arg_keys]), program.has_aux, outs)
    return outs[0], inputs, outs


def _compare(what: str, tape: list[float], eager: list[Any]) -> None:
    for i, (t, e) in enumerate(zip(tape, eager)):
        e = float(e)
        same = t == e or (math.isnan(t) and math.isnan(e))
        if not same and not abs(t - e) <= CHECK_TOLERANCE * max(1.0, abs(e)):
            raise StructureError(
                f"Tape(check=True): {what} {i} is {t!r} on the tape but {e!r} eagerly: fn's "
                "structure depends on the data in a way the trace could not see (reading "
                ".data or float(v), branching on it, or work under no_grad)"
            )
