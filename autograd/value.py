"""Value: one float plus the record of the op and inputs that produced it."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .grad_mode import ANYWHERE, MODE
from .namespaces import FLOAT
from .ops import (
    ABS,
    ADD,
    COS,
    DIV,
    DOT,
    EXP,
    LEAKY_RELU,
    LOG,
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
    SUB,
    SUM,
    TANH,
    Op,
)

_new = object.__new__


class Value:
    """A scalar that remembers how it was computed.

    ``data`` is the float; ``grad`` is d(root)/d(this) after ``root.backward()``; ``op`` is the
    name of the op that made it (``''`` for leaves); ``parents`` are its inputs in argument order
    (``x * x`` has ``(x, x)``); ``arg`` is the op's constant, if any (the ``2`` of ``x ** 2``);
    ``label`` is a name for pictures and error messages; ``scope`` is the module path it was made
    in (None outside modules). Nodes hold no closures, so a dropped graph is freed at once.
    """

    __slots__ = ("data", "grad", "op", "parents", "arg", "label", "scope", "__weakref__")
    # numpy scalars defer to our reflected operators instead of building object arrays.
    __array_ufunc__ = None

    data: float
    grad: Any
    op: str
    parents: tuple[Value, ...]
    arg: Any
    label: str
    scope: tuple[str, ...] | None

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _to_float(data, "Value")
        self.grad = 0.0
        self.op = ""
        self.parents = ()
        self.arg = None
        self.label = label
        self.scope = MODE.get()[1] if ANYWHERE.open else None

    # ---- arithmetic: each dunder is one op from the table --------------------------------------
    def __add__(self, other: Any) -> Value:  # self + other
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(ADD, self, other)

    def __radd__(self, other: Any) -> Value:  # other + self
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(ADD, other, self)

    def __sub__(self, other: Any) -> Value:  # self - other
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(SUB, self, other)

    def __rsub__(self, other: Any) -> Value:  # other - self
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(SUB, other, self)

    def __mul__(self, other: Any) -> Value:  # self * other
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(MUL, self, other)

    def __rmul__(self, other: Any) -> Value:  # other * self
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(MUL, other, self)

    def __truediv__(self, other: Any) -> Value:  # self / other
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: Any) -> Value:  # other / self
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(DIV, other, self)

    def __pow__(self, other: Any) -> Value:  # self ** other
        """``x ** n`` (op "pow", n a constant) or ``x ** y`` (op "pow_value", y a Value).

        A negative base is real only for an integer exponent, as in Python (-2 ** 3 = -8); a
        non-integer one raises ValueError. There d/dy = x^y ln x is nan, as in PyTorch.
        """
        if isinstance(other, Value):
            return _binary(POW_VALUE, self, other)
        if not _is_number(other):
            return NotImplemented
        return _apply(POW, (self,), _to_float(other, "pow exponent"))

    def __rpow__(self, other: Any) -> Value:  # other ** self
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _binary(POW_VALUE, other, self)

    def __neg__(self) -> Value:  # -self
        return _apply(NEG, (self,))

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply(ABS, (self,))

    # ---- functions --------------------------------------------------------------------------
    def exp(self) -> Value:
        """e^x."""
        return _apply(EXP, (self,))

    def log(self) -> Value:
        """Natural log; raises ValueError for x <= 0."""
        return _apply(LOG, (self,))

    def sqrt(self) -> Value:
        """Square root; raises ValueError for x < 0."""
        return _apply(SQRT, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _apply(TANH, (self,))

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), stable for any finite x."""
        return _apply(SIGMOID, (self,))

    def relu(self) -> Value:
        """max(x, 0)."""
        return _apply(RELU, (self,))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        return _apply(LEAKY_RELU, (self,), _to_float(slope, "leaky_relu slope"))

    def softplus(self) -> Value:
        """ln(1 + e^x), stable for any finite x."""
        return _apply(SOFTPLUS, (self,))

    def sin(self) -> Value:
        """sin x."""
        return _apply(SIN, (self,))

    def cos(self) -> Value:
        """cos x."""
        return _apply(COS, (self,))

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

    @property
    def is_leaf(self) -> bool:
        """True for Values no op produced: parameters, inputs, constants."""
        return not self.parents

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
    v.label = ""
    if ANYWHERE.open:  # some thread is in no_grad/enable_grad or a scope: read ours
        enabled, v.scope = MODE.get()
        if not enabled:
            v.op = ""
            v.parents = ()
            v.arg = None
            return v
    else:
        v.scope = None
    v.op = op
    v.parents = parents
    v.arg = arg
    return v


def _apply(op: Op, parents: tuple[Value, ...], arg: Any = None) -> Value:
    """Run ``op`` forward on the parents' data and record the node (unless in ``no_grad``)."""
    xs = [p.data for p in parents]
    if arg is not None:
        xs.append(arg)
    data = op.fwd(FLOAT, *xs)
    if op.check is not None:
        err = op.check(data, *xs)
        if err is not None:
            raise _named(op, err, parents) from None
    return _node(data, op.name, parents, arg)


def _binary(op: Op, a: Value, b: Value) -> Value:
    """``_apply`` for two inputs, without the list: most nodes of a network are + and *."""
    x, y = a.data, b.data
    data = op.fwd(FLOAT, x, y)
    if op.check is not None:
        err = op.check(data, x, y)
        if err is not None:
            raise _named(op, err, (a, b)) from None
    # _node inlined: this function makes most of a network's nodes.
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v.arg = None
    if ANYWHERE.open:  # some thread is in no_grad/enable_grad or a scope: read ours
        enabled, v.scope = MODE.get()
        if not enabled:
            v.op = ""
            v.parents = ()
            return v
    else:
        v.scope = None
    v.op = op.name
    v.parents = (a, b)
    return v


def _named(op: Op, err: Exception, parents: Sequence[Value]) -> Exception:
    labels = [p.label for p in parents if p.label]
    where = f" (Value {', '.join(map(repr, labels))})" if labels else ""
    return type(err)(f"{op.name}: {err}{where}")


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


def dot(ws: Sequence[Any], xs: Sequence[Any]) -> Value:
    """w1 x1 + ... + wn xn as one node."""
    if len(ws) != len(xs):
        raise ValueError(f"dot: expected inputs of equal length, got {len(ws)} and {len(xs)}")
    parents = (*ws, *xs)
    for p in parents:
        if type(p) is not Value:  # lift numbers; a fused neuron's inputs are already Values
            return apply(DOT, parents)
    return _apply(DOT, parents)


__all__ = ["Value", "apply", "dot", "vsum"]
