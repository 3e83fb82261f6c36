"""Value: one float plus the record of the op and the inputs that produced it.

Every operator below hands its op from the table to :func:`_op`, which does all there is to
building the graph, in one place:

1. lift a number to a constant leaf (the ``2`` of ``2 * x``),
2. run the op's forward rule on the inputs' floats (``MUL.fwd``: ``a * b``),
3. check the op's domain (``log`` of a negative number raises an error that names it),
4. make one node that remembers the op and its inputs.

``backward()`` (in :mod:`autograd.backward`) later walks those nodes in reverse and applies the
chain rule with each op's local derivative from the same table. This file is the plain engine, the
one to read; :mod:`autograd.codegen` replaces the operators with faster copies compiled from the
same table unless ``AUTOGRAD_PLAIN=1``, and the tests hold the two to the same numbers.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from . import ops
from .grad_mode import GRAD_STATE, OPEN_CONTEXTS
from .namespaces import FLOAT
from .ops import OPS, Op

# The ``.data`` of a Value, for map(): executors read many inputs' data at once.
data_of = attrgetter("data")


class Value:
    """A scalar that remembers how it was computed.

    ``data`` is the float; ``grad`` is d(root)/d(this) after ``root.backward()``; ``op`` is the
    name of the op that made it (``''`` for leaves); ``parents`` are its inputs in argument order
    (``x * x`` has ``(x, x)``); ``arg`` is the op's constant, if any (the ``2`` of ``x ** 2``);
    ``label`` is a name for pictures and error messages; ``scope`` is the module path it was made
    in (None outside modules). Nodes hold no closures, so a dropped graph is freed at once.

    Storage, for the curious (it is what makes a node small): the inputs live in two slots,
    ``_x`` and ``_y``, not in a tuple, since a tuple would be a second object per node for the
    cyclic GC to count and scan. A leaf has ``_x = None``; a one-input node ``_y = None``; a node
    with three or more inputs (``sum``, ``dot``, ``max``) keeps their tuple in ``_x``. ``label``,
    ``arg`` and ``scope`` share one slot, ``_meta`` (None, the scope tuple, the label string, or
    a :class:`_Meta` holding all three). ``_mark`` is where a graph walk notes its progress.
    Eight slots make a node 96 bytes.
    """

    __slots__ = ("data", "grad", "op", "_x", "_y", "_meta", "_mark", "__weakref__")
    # numpy scalars defer to our reflected operators instead of building object arrays.
    __array_ufunc__ = None

    data: float
    grad: Any
    op: str
    _x: Value | tuple[Value, ...] | None
    _y: Value | None
    _meta: Any
    _mark: object

    def __init__(self, data: float, label: str = "") -> None:
        self.data, self.grad, self.op = _to_float(data, "Value"), 0.0, ""
        self._x = self._y = self._mark = None
        self._meta = _pack(_check_label(label), _scope_here(), None)

    # ---- arithmetic: each operator is one op of the table ------------------------------------
    def __add__(self, other: Any) -> Value:  # self + other
        return _op(ops.ADD, (self, other))

    def __radd__(self, other: Any) -> Value:  # other + self
        return _op(ops.ADD, (other, self))

    def __sub__(self, other: Any) -> Value:  # self - other
        return _op(ops.SUB, (self, other))

    def __rsub__(self, other: Any) -> Value:  # other - self
        return _op(ops.SUB, (other, self))

    def __mul__(self, other: Any) -> Value:  # self * other
        return _op(ops.MUL, (self, other))

    def __rmul__(self, other: Any) -> Value:  # other * self
        return _op(ops.MUL, (other, self))

    def __truediv__(self, other: Any) -> Value:  # self / other
        return _op(ops.DIV, (self, other))

    def __rtruediv__(self, other: Any) -> Value:  # other / self
        return _op(ops.DIV, (other, self))

    def __pow__(self, other: Any) -> Value:  # self ** other
        """``x ** n`` (op "pow", n a constant) or ``x ** y`` (op "pow_value", y a Value).

        A negative base is real only for an integer exponent, as in Python (-2 ** 3 = -8); a
        non-integer one raises ValueError. There d/dy = x^y ln x is nan, as in PyTorch.
        """
        if isinstance(other, Value):
            return _op(ops.POW_VALUE, (self, other))
        if not _is_number(other):
            return NotImplemented
        return _op(ops.POW, (self,), _to_float(other, "pow exponent"))

    def __rpow__(self, other: Any) -> Value:  # other ** self
        return _op(ops.POW_VALUE, (other, self))

    def __neg__(self) -> Value:  # -self
        return _op(ops.NEG, (self,))

    def __pos__(self) -> Value:  # +self
        return self

    def __abs__(self) -> Value:  # abs(self)
        return _op(ops.ABS, (self,))

    def abs(self) -> Value:  # x.abs() is abs(x)
        return _op(ops.ABS, (self,))

    # ---- functions: one op each ---------------------------------------------------------------
    def exp(self) -> Value:
        """e^x."""
        return _op(ops.EXP, (self,))

    def log(self) -> Value:
        """Natural log; raises ValueError for x <= 0."""
        return _op(ops.LOG, (self,))

    def sqrt(self) -> Value:
        """Square root; raises ValueError for x < 0."""
        return _op(ops.SQRT, (self,))

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _op(ops.TANH, (self,))

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), stable for any finite x."""
        return _op(ops.SIGMOID, (self,))

    def relu(self) -> Value:
        """max(x, 0); nan passes through, as in PyTorch."""
        return _op(ops.RELU, (self,))

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x if x > 0 else slope * x."""
        return _op(ops.LEAKY_RELU, (self,), _to_float(slope, "leaky_relu slope"))

    def softplus(self) -> Value:
        """ln(1 + e^x), stable for any finite x."""
        return _op(ops.SOFTPLUS, (self,))

    def sin(self) -> Value:
        """sin x."""
        return _op(ops.SIN, (self,))

    def cos(self) -> Value:
        """cos x."""
        return _op(ops.COS, (self,))

    def stop_gradient(self) -> Value:
        """The same number as a node that passes no gradient back. Unlike :meth:`detach` (a new
        leaf), it stays in the graph, so a traced tape recomputes it on every replay."""
        return _op(ops.STOP_GRADIENT, (self,))

    def detach(self) -> Value:
        """The same number as a new leaf with no history."""
        return Value(self.data, self.label)

    # ``backward()`` is defined in autograd/backward.py, beside the chain rule it runs.

    # ---- the record ---------------------------------------------------------------------------
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

    @property
    def label(self) -> str:
        """A name for pictures and error messages (``""`` for none)."""
        m = self._meta
        if type(m) is str:
            return m
        return m.label if type(m) is _Meta else ""

    @label.setter
    def label(self, label: str) -> None:
        self._meta = _pack(_check_label(label), self.scope, self.arg)

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

    # ---- Python protocol ----------------------------------------------------------------------
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


# ---- making a node ----------------------------------------------------------------------


def _op(op: Op, inputs: tuple[Any, ...], arg: Any = None, check: bool = True) -> Value:
    """``op`` on ``inputs`` (Values or numbers) and the op's constant ``arg``: a new node."""
    # 1. A number becomes a constant leaf (the 2 of ``2 * x``); anything else: NotImplemented.
    for v in inputs:
        if not isinstance(v, Value):
            inputs = tuple(map(_lift, inputs))
            if None in inputs:
                return NotImplemented
            break
    # 2. The op's forward rule from the table, on the inputs' floats (MUL's is ``a * b``).
    xs = list(map(data_of, inputs))
    if arg is not None:
        xs.append(arg)
    data = op.fwd(FLOAT, *xs)
    # 3. Its domain check: the log of -1.0 raises an error naming the op and the input.
    if check and op.check is not None:
        err = op.check(data, *xs)
        if err is not None:
            raise _named(op, err, inputs) from None
    # 4. The node: its number, op and inputs (one in _x, two in _x and _y, more as a tuple in
    #    _x). autograd.codegen compiles the lines from ``v =`` on into its operators: one layout.
    x, y = inputs[0], None
    if len(inputs) == 2:
        y = inputs[1]
    elif len(inputs) > 2:
        x = inputs
    v = object.__new__(Value)
    v.data, v.grad, v._mark = data, 0.0, None
    if OPEN_CONTEXTS:  # some thread is inside no_grad(), enable_grad() or a module's scope
        enabled, v._meta = GRAD_STATE.get()  # ... so read ours, and the scope we are in
        if not enabled:  # inside no_grad(): a leaf that remembers nothing
            v.op, v._x, v._y = "", None, None
            return v
    else:
        v._meta = None
    v.op, v._x, v._y = op.name, x, y
    if arg is not None:  # the op's constant (the 2 of x ** 2) is kept beside the scope
        v._meta = _Meta("", v._meta, arg)
    return v


def _named(op: Op, err: Exception, parents: Sequence[Value]) -> Exception:
    """The domain error ``err`` of ``op``, saying which op and which labelled inputs."""
    labels = [p.label for p in parents if p.label]
    where = f" (Value {', '.join(map(repr, labels))})" if labels else ""
    return type(err)(f"{op.name}: {err}{where}")


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
        if scope is None:
            return label
    return _Meta(label, scope, arg)


def _scope_here() -> tuple[str, ...] | None:
    return GRAD_STATE.get()[1] if OPEN_CONTEXTS else None


# ---- numbers in, numbers out ----------------------------------------------------------------

# Called as observer(value, symbol, other, result) whenever Python control flow reads a Value
# through a comparison or a truth test; the tape uses it to notice data-dependent structure.
DATA_OBSERVERS: list[Callable[[Value, str, Any, bool], None]] = []


def _observed(v: Value, symbol: str, other: Any, result: bool) -> bool:
    for observe in DATA_OBSERVERS:
        observe(v, symbol, other, result)
    return result


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, Value)


def _to_float(x: Any, what: str) -> float:
    """``x`` as a float, or an error that names ``what`` and ``x``."""
    if type(x) is float:
        return x
    if isinstance(x, Value):
        raise TypeError(f"{what}: expected a number, got a Value; use .data or .detach()")
    if not isinstance(x, numbers.Real):
        raise TypeError(f"{what}: expected a real number, got {type(x).__name__} {x!r}")
    try:
        return float(x)
    except OverflowError:  # an int beyond the float range (about 1.8e308)
        text = str(x)
        shown = text if len(text) <= 24 else f"{text[:12]}...{text[-6:]} ({len(text)} digits)"
        raise OverflowError(f"{what}: {shown} is too large for a float") from None


def _check_label(label: Any) -> str:
    if not isinstance(label, str):
        raise TypeError(f"Value: label must be a str, got {type(label).__name__} {label!r}")
    return label


def _data(x: Any) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real):
        return x
    raise TypeError(f"Value: cannot compare with {type(x).__name__} {x!r}")


def _lift(x: Any) -> Value | None:
    """``x`` as a Value (a number becomes a constant leaf, as ``Value(x)`` makes it, without
    its checks), or None when it is not a number."""
    if isinstance(x, Value):
        return x
    if type(x) is not float and not _is_number(x):
        return None
    v = object.__new__(Value)
    v.data, v.grad, v.op, v._x, v._y, v._mark = _to_float(x, "Value"), 0.0, "", None, None, None
    v._meta = _scope_here()
    return v


# ---- any op by name, and the n-ary ones -----------------------------------------------------


def apply(op: Op | str, inputs: Sequence[Any], arg: Any = None, check: bool = True) -> Value:
    """Apply a table op to Values or numbers: ``apply("tanh", [x])``, ``apply("sum", xs)``.

    ``check=False`` skips the domain check (the result is inf or nan instead of an error), as a
    backward pass on Values does: a derivative may be infinite where the function is not.
    """
    if isinstance(op, str):
        try:
            op = OPS[op]
        except KeyError:
            raise ValueError(f"apply: no op named {op!r}; known: {', '.join(OPS)}") from None
    inputs = tuple(inputs)
    parents = tuple(map(_lift, inputs))
    if None in parents:
        x = inputs[parents.index(None)]
        raise TypeError(f"{op.name}: expected a Value or a number, got {type(x).__name__} {x!r}")
    if op.arity is not None and len(parents) != op.arity:
        raise ValueError(f"{op.name}: expected {op.arity} inputs, got {len(parents)}")
    if op.has_arg != (arg is not None):
        need = "needs" if op.has_arg else "takes no"
        raise ValueError(f"{op.name}: {need} a constant arg, got {arg!r}")
    return _op(op, parents, arg, check)


def vsum(values: Iterable[Any]) -> Value:
    """x1 + ... + xn as one n-ary node (one picture box, one backward step); 0 when empty."""
    values = list(values)
    return apply(ops.SUM, values) if values else _lift(0.0)


def vmax(values: Iterable[Any]) -> Value:
    """max(x1, ..., xn) as one node: the gradient goes to the first largest input (the first
    nan, if any), as with ``torch.max(x, dim)``."""
    values = list(values)
    if not values:
        raise ValueError("vmax: needs at least one input")
    return apply(ops.MAX, values)


def dot(ws: Sequence[Any], xs: Sequence[Any]) -> Value:
    """w1 x1 + ... + wn xn as one node."""
    if len(ws) != len(xs):
        raise ValueError(f"dot: expected inputs of equal length, got {len(ws)} and {len(xs)}")
    out = _op(ops.DOT, (*ws, *xs))  # numbers become constants, as in ``w * 2``
    return apply(ops.DOT, (*ws, *xs)) if out is NotImplemented else out  # apply names the culprit


__all__ = ["Value", "apply", "dot", "vmax", "vsum"]
