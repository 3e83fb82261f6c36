"""Value: one float plus the record of the op and inputs that produced it."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from .grad_mode import ANYWHERE, MODE
from .namespaces import FLOAT, as_code, compile_function
from .ops import (
    ABS,
    ADD,
    COS,
    DIV,
    DOT,
    EXP,
    LEAKY_RELU,
    LOG,
    MAX,
    MUL,
    NEG,
    OPS,
    POW,
    POW_VALUE,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    STOP_GRADIENT,
    SUB,
    SUM,
    TANH,
    Op,
)

_new = object.__new__
# The ``.data`` of a Value, for map(): executors read many inputs' data at once.
data_of = attrgetter("data")


# An op's method, written out per op: its forward rule as code (``(a * b)``: the rule run on
# SOURCE names), the table's domain check if the op has one, then the node (``_RECORD``: the
# body of ``_node`` for one or two inputs). Most of a network's nodes are made here, so it is
# one frame that calls nothing for +, - and * (measured: graph building ~20% faster than
# calling the rule and ``_node``).
_BINARY = """\
def {name}(self, other):
    if type(other) is not Value:
        other = lift(other)
        if other is None:
            return NotImplemented{swap}
    a = self.data
    b = other.data
    data = {forward}"""
_UNARY = """\
def {name}(self):
    a = self.data
    data = {forward}"""
_SWAP = """
    self, other = other, self"""
_CHECK = """
    err = OPS[{op!r}].check(data, {xs})
    if err is not None:
        raise named(OPS[{op!r}], err, ({inputs})) from None"""
_RECORD = """
    v = new(Value)
    v.data = data
    v.grad = 0.0
    v._mark = None
    if anywhere:  # some thread is in no_grad/enable_grad or a scope: read ours
        enabled, v._meta = mode()  # the scope: no label, no constant
        if not enabled:
            v.op = ""
            v._x = v._y = None
            return v
    else:
        v._meta = None
    v.op = {op!r}
    v._x = self
    v._y = {y}
    return v
"""
# The written methods' globals; ``Value`` joins once the class exists.
_SCOPE: dict[str, Any] = {"OPS": OPS, "new": _new, "anywhere": ANYWHERE.open, "mode": MODE.get}


def _method(name: str, op: Op, reflected: bool = False, doc: str | None = None) -> Callable:
    """The method ``name`` for a one- or two-input op of the table (``x.exp()``, ``x * y``;
    ``other <op> self`` when ``reflected``). It runs the op forward on the data (a number
    operand becomes a constant leaf first), checks its domain and records one node."""
    binary = op.arity == 2
    names = "a, b" if binary else "a"
    source = (_BINARY if binary else _UNARY).format(
        name=name,
        forward=as_code(op.name, op.fwd, *names.split(", ")).text,
        swap=_SWAP if reflected else "",
    )
    if op.check is not None:
        source += _CHECK.format(op=op.name, xs=names, inputs="self, other" if binary else "self,")
    source += _RECORD.format(op=op.name, y="other" if binary else "None")
    method = compile_function(source, name, _SCOPE, f"autograd.value: Value.{name}")
    method.__qualname__, method.__doc__ = f"Value.{name}", doc or op.doc
    return method


class _Meta:
    """A node's label, op constant and scope, kept together when it has more than a scope."""

    __slots__ = ("label", "scope", "arg")

    def __init__(self, label: str, scope: tuple[str, ...] | None, arg: Any) -> None:
        self.label, self.scope, self.arg = label, scope, arg


def _pack(label: str, scope: tuple[str, ...] | None, arg: Any) -> Any:
    """What ``Value._meta`` holds for these three fields: the smallest form that says them."""
    if arg is None:
        if not label:
            return scope
        if scope is None and type(label) is str:
            return label
    return _Meta(label, scope, arg)


class Value:
    """A scalar that remembers how it was computed.

    ``data`` is the float; ``grad`` is d(root)/d(this) after ``root.backward()``; ``op`` is the
    name of the op that made it (``''`` for leaves); ``parents`` are its inputs in argument order
    (``x * x`` has ``(x, x)``); ``arg`` is the op's constant, if any (the ``2`` of ``x ** 2``);
    ``label`` is a name for pictures and error messages; ``scope`` is the module path it was made
    in (None outside modules). Nodes hold no closures, so a dropped graph is freed at once.

    The inputs live in two slots, ``_x`` and ``_y``, rather than in a tuple: a tuple would be a
    second object per node for the cyclic GC to count and scan, and a network's graph is almost
    all two-input nodes (one object instead of two halves the collector's work: ``benchmarks/``).
    A leaf has ``_x = None``; a one-input node ``_y = None``; a node with three or more inputs
    (``sum``, ``dot``) keeps their tuple in ``_x``. ``parents`` puts them back in a tuple.
    ``_mark`` is where a graph walk (:mod:`autograd.graph`) notes that it has seen the node.

    ``label``, ``arg`` and ``scope`` share one slot, ``_meta``, since most nodes have none of
    them or only a scope: None, the scope tuple, the label string, or a :class:`_Meta` holding
    all three. Eight slots instead of ten make a node 96 bytes instead of 112, which the cyclic
    GC scans and a training step allocates 65,000 times (measured: ~5% of a step as run).
    """

    __slots__ = ("data", "grad", "op", "_x", "_y", "_meta", "_mark", "__weakref__")
    # numpy scalars defer to our reflected operators instead of building object arrays.
    __array_ufunc__ = None

    data: float
    grad: Any
    op: str
    _x: Value | tuple[Value, ...] | None
    _y: Value | None
    _mark: object
    _meta: Any

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _to_float(data, "Value")
        self.grad = 0.0
        self.op = ""
        self._x = self._y = None
        self._meta = _pack(label, MODE.get()[1] if ANYWHERE.open else None, None)
        self._mark = None

    @property
    def label(self) -> str:
        """A name for pictures and error messages (``""`` for none)."""
        m = self._meta
        if type(m) is str:
            return m
        return m.label if type(m) is _Meta else ""

    @label.setter
    def label(self, label: str) -> None:
        self._meta = _pack(label, self.scope, self.arg)

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The module path the node was made in (None outside modules)."""
        m = self._meta
        if type(m) is tuple:
            return m
        return m.scope if type(m) is _Meta else None

    @property
    def arg(self) -> Any:
        """The op's constant, if it has one (the ``2`` of ``x ** 2``), else None."""
        m = self._meta
        return m.arg if type(m) is _Meta else None

    # ---- arithmetic: each operator is one op from the table ----------------------------------
    __add__ = _method("__add__", ADD)  # self + other
    __radd__ = _method("__radd__", ADD, reflected=True)  # other + self
    __sub__ = _method("__sub__", SUB)
    __rsub__ = _method("__rsub__", SUB, reflected=True)
    __mul__ = _method("__mul__", MUL)
    __rmul__ = _method("__rmul__", MUL, reflected=True)
    __truediv__ = _method("__truediv__", DIV)
    __rtruediv__ = _method("__rtruediv__", DIV, reflected=True)
    __rpow__ = _method("__rpow__", POW_VALUE, reflected=True)  # 2 ** x
    __neg__ = _method("__neg__", NEG)  # -self
    __abs__ = _method("__abs__", ABS)

    def __pow__(self, other: Any) -> Value:  # self ** other
        """``x ** n`` (op "pow", n a constant) or ``x ** y`` (op "pow_value", y a Value).

        A negative base is real only for an integer exponent, as in Python (-2 ** 3 = -8); a
        non-integer one raises ValueError. There d/dy = x^y ln x is nan, as in PyTorch.
        """
        if isinstance(other, Value):
            return _pow_value(self, other)
        if not _is_number(other):
            return NotImplemented
        return _apply(POW, (self,), _to_float(other, "pow exponent"))

    def __pos__(self) -> Value:
        return self

    # ---- functions: one op each ---------------------------------------------------------------
    exp = _method("exp", EXP, doc="e^x.")
    log = _method("log", LOG, doc="Natural log; raises ValueError for x <= 0.")
    sqrt = _method("sqrt", SQRT, doc="Square root; raises ValueError for x < 0.")
    tanh = _method("tanh", TANH, doc="Hyperbolic tangent.")
    sigmoid = _method("sigmoid", SIGMOID, doc="1 / (1 + e^-x), stable for any finite x.")
    relu = _method("relu", RELU, doc="max(x, 0).")
    softplus = _method("softplus", SOFTPLUS, doc="ln(1 + e^x), stable for any finite x.")
    sin = _method("sin", SIN, doc="sin x.")
    cos = _method("cos", COS, doc="cos x.")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        return _apply(LEAKY_RELU, (self,), _to_float(slope, "leaky_relu slope"))

    # ---- autodiff ---------------------------------------------------------------------------
    def backward(self, grad: Any = 1.0, create_graph: bool = False) -> None:
        """Backpropagate from this node: leaves' ``.grad += d(self)/d(leaf)``; every other node's
        ``.grad`` is set to d(self)/d(node) for this pass. With ``create_graph=True`` the grads
        are Values with a graph of their own, so they can be differentiated again."""
        from .backward import backward

        backward(self, grad, create_graph)

    def detach(self) -> Value:
        """The same number as a new leaf with no history."""
        return Value(self.data, self.label)

    stop_gradient = _method(
        "stop_gradient",
        STOP_GRADIENT,
        doc="The same number as a node of the graph that passes no gradient back (unlike "
        "``detach()``, a traced tape recomputes it on every replay).",
    )

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs, in argument order (``x * x`` has ``(x, x)``); ``()`` for a leaf."""
        x = self._x
        if x is None:
            return ()
        if type(x) is tuple:
            return x
        y = self._y
        return (x,) if y is None else (x, y)

    @property
    def is_leaf(self) -> bool:
        """True for Values no op produced: parameters, inputs, constants."""
        return self._x is None

    # ---- Python protocol --------------------------------------------------------------------
    def __float__(self) -> float:
        return float(self.data)

    def __bool__(self) -> bool:
        return _observed(self, "bool", None, self.data != 0)

    def __format__(self, spec: str) -> str:
        return format(self.data, spec)

    # Comparisons compare data; == and hash stay identity so Values can key dicts and sets.
    def __lt__(self, other: Any) -> bool:
        return _observed(self, "<", other, self.data < _data(other))

    def __le__(self, other: Any) -> bool:
        return _observed(self, "<=", other, self.data <= _data(other))

    def __gt__(self, other: Any) -> bool:
        return _observed(self, ">", other, self.data > _data(other))

    def __ge__(self, other: Any) -> bool:
        return _observed(self, ">=", other, self.data >= _data(other))

    def __repr__(self) -> str:
        parts = [f"data={self.data!r}", f"grad={self.grad!r}"]
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"


# Called as observer(value, symbol, other, result) whenever Python control flow reads a Value
# through a comparison or a truth test; the tape uses it to notice data-dependent structure.
DATA_OBSERVERS: list[Callable[[Value, str, Any, bool], None]] = []


def _observed(v: Value, symbol: str, other: Any, result: bool) -> bool:
    for observe in DATA_OBSERVERS:
        observe(v, symbol, other, result)
    return result


def _is_number(x: Any) -> bool:
    return isinstance(x, (float, int, numbers.Real)) and not isinstance(x, Value)


def _to_float(x: Any, what: str) -> float:
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{what}: expected a number, got a Value; use .data or .detach()")
    raise TypeError(f"{what}: expected a real number, got {type(x).__name__} {x!r}")


def _data(x: Any) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real):
        return x
    raise TypeError(f"Value: cannot compare with {type(x).__name__} {x!r}")


def _lift(x: Any) -> Value | None:
    """``x`` as a Value (numbers become constant leaves), or None when it is not a number."""
    if type(x) is Value:
        return x
    if type(x) is float or type(x) is int:
        return _leaf(float(x))
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return _leaf(float(x))
    return None


def _leaf(data: float) -> Value:
    return _node(data, "", (), None)


def _node(data: float, op: str, parents: tuple[Value, ...], arg: Any) -> Value:
    """A new Value recording ``op`` on ``parents``, or a plain leaf inside ``no_grad``."""
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v._mark = None
    scope = None
    if ANYWHERE.open:  # some thread is in no_grad/enable_grad or a scope: read ours
        enabled, scope = MODE.get()
        if not enabled:
            parents = ()
    n = len(parents)
    if n == 0:
        v._meta = scope
        v.op = ""
        v._x = v._y = None
        return v
    v._meta = scope if arg is None else _Meta("", scope, arg)
    v.op = op
    if n == 1:
        v._x, v._y = parents[0], None
    elif n == 2:
        v._x, v._y = parents
    else:
        v._x, v._y = parents, None
    return v


def _apply(op: Op, parents: tuple[Value, ...], arg: Any = None) -> Value:
    """Run ``op`` forward on the parents' data and record the node (unless in ``no_grad``)."""
    xs = list(map(data_of, parents))
    if arg is not None:
        xs.append(arg)
    data = op.fwd(FLOAT, *xs)
    if op.check is not None:
        err = op.check(data, *xs)
        if err is not None:
            raise _named(op, err, parents) from None
    return _node(data, op.name, parents, arg)


_pow_value = _method("__pow__", POW_VALUE)


def _named(op: Op, err: Exception, parents: Sequence[Value]) -> Exception:
    labels = [p.label for p in parents if p.label]
    where = f" (Value {', '.join(map(repr, labels))})" if labels else ""
    return type(err)(f"{op.name}: {err}{where}")


_SCOPE.update(Value=Value, lift=_lift, named=_named)


def apply(op: Op | str, inputs: Sequence[Any], arg: Any = None) -> Value:
    """Apply a table op to Values or numbers: ``apply("tanh", [x])``, ``apply("sum", xs)``."""
    if isinstance(op, str):
        try:
            op = OPS[op]
        except KeyError:
            raise ValueError(f"apply: no op named {op!r}; known: {', '.join(OPS)}") from None
    parents = tuple(_lift_or_raise(x, op.name) for x in inputs)
    if op.arity is not None and len(parents) != op.arity:
        raise ValueError(f"{op.name}: expected {op.arity} inputs, got {len(parents)}")
    if op.has_arg != (arg is not None):
        need = "needs" if op.has_arg else "takes no"
        raise ValueError(f"{op.name}: {need} a constant arg, got {arg!r}")
    return _apply(op, parents, arg)


def _lift_or_raise(x: Any, what: str) -> Value:
    v = _lift(x)
    if v is None:
        raise TypeError(f"{what}: expected a Value or a number, got {type(x).__name__} {x!r}")
    return v


def vsum(values: Iterable[Any]) -> Value:
    """x1 + ... + xn as one n-ary node (one picture box, one backward step); 0 when empty."""
    values = list(values)
    return apply(SUM, values) if values else _leaf(0.0)


def vmax(values: Iterable[Any]) -> Value:
    """max(x1, ..., xn) as one node: the gradient goes to the first largest input (the first
    nan, if any), as with ``torch.max(x, dim)``."""
    values = list(values)
    if not values:
        raise ValueError("vmax: needs at least one input")
    return apply(MAX, values)


def dot(ws: Sequence[Any], xs: Sequence[Any]) -> Value:
    """w1 x1 + ... + wn xn as one node."""
    if len(ws) != len(xs):
        raise ValueError(f"dot: expected inputs of equal length, got {len(ws)} and {len(xs)}")
    parents = (*ws, *xs)
    for p in parents:
        if type(p) is not Value:  # lift numbers; a fused neuron's inputs are already Values
            return apply(DOT, parents)
    return _apply(DOT, parents)


__all__ = ["Value", "apply", "dot", "vmax", "vsum"]
