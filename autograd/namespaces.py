"""Math namespaces the op table is written against.

Every rule in :mod:`autograd.ops` calls ``m.exp(x)``, ``m.where(c, a, b)``, ... on a namespace
``m``. Passing a different namespace runs the same rule on a different kind of number:

- ``FLOAT``: plain Python floats (eager forward and backward). Total functions in the IEEE
  sense: they return ``inf``/``nan`` instead of raising, so a vector-Jacobian rule never fails;
  the forward pass checks its domain separately (``Op.check``) and raises a clear error.
- ``VALUE``: Values, so a backward pass records a graph of its own (higher-order gradients).
- ``NUMPY``: numpy arrays (the tape replays whole levels of a graph at once). numpy is imported
  on first use, so the engine itself needs only the standard library.
- ``SOURCE``: Python source text. A rule run on :class:`Source` names returns its own code, which
  the speed layer (:mod:`autograd.codegen`) compiles into Value's operators and into one
  backward loop, instead of calling a rule per node.

All four provide the same functions (a test holds them to it).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

_INF = math.inf
_NAN = math.nan


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)
    return -_INF if x == 0 else _NAN


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else _NAN


def _sigmoid(x: float) -> float:
    # Branch on the sign so exp never sees a large positive argument.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for any finite x.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _trig(fn):
    def total(x: float) -> float:
        try:
            return fn(x)
        except ValueError:  # sin(inf), cos(inf)
            return _NAN

    return total


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _is_odd_integer(n: float) -> bool:
    return float(n).is_integer() and int(n) % 2 == 1


def _pow(x: float, n: float) -> float:
    """x ** n with IEEE results (inf, nan) where Python would raise or go complex."""
    try:
        return math.pow(x, n)
    except ValueError:  # 0 ** negative, or negative ** fraction
        if x == 0:
            return math.copysign(_INF, x) if _is_odd_integer(n) else _INF
        return _NAN
    except OverflowError:
        return -_INF if x < 0 and _is_odd_integer(n) else _INF


def _argmax(xs: Any) -> int:
    """Index of the first nan, else of the first largest item (torch.max(x, dim)'s choice)."""
    best = 0
    for i, x in enumerate(xs):
        if x != x:
            return i
        if x > xs[best]:
            best = i
    return best


def _max(xs: Any) -> float:
    """The largest item; nan if any item is nan (Python's max would depend on the order)."""
    return xs[_argmax(xs)]


FLOAT = SimpleNamespace(
    name="float",
    exp=_exp,
    log=_log,
    sqrt=_sqrt,
    tanh=math.tanh,
    sigmoid=_sigmoid,
    softplus=_softplus,
    sin=_trig(math.sin),
    cos=_trig(math.cos),
    abs=abs,
    sign=lambda x: float((x > 0) - (x < 0)),
    where=lambda cond, a, b: a if cond else b,
    iszero=lambda x: x == 0,
    div=_div,
    pow=_pow,
    sum=sum,  # left to right: the same order as a chain of adds
    max=_max,
    argmax=_argmax,
)


# On Values every function records a node, so a backward pass run on VALUE builds a graph of its
# own (higher-order gradients). Like FLOAT's, these functions are total: a derivative that is
# infinite (d/dx sqrt(x) at 0) is inf or nan as in PyTorch, never a domain error raised from an
# op the user never wrote. Comparisons on Values compare their data (where, sign).
def _total(op_name: str) -> Any:
    def run(*xs: Any) -> Any:
        from . import value  # value.py imports this module: look it up when a rule runs

        return value.apply(op_name, xs, check=False)

    return run


def _total_pow(x: Any, n: Any) -> Any:
    from . import value

    if isinstance(n, value.Value):
        return value.apply("pow_value", (x, n), check=False)
    return value.apply("pow", (x,), float(n), check=False)


VALUE = SimpleNamespace(
    name="value",
    exp=_total("exp"),
    log=_total("log"),
    sqrt=_total("sqrt"),
    tanh=_total("tanh"),
    sigmoid=_total("sigmoid"),
    softplus=_total("softplus"),
    sin=_total("sin"),
    cos=_total("cos"),
    abs=_total("abs"),
    sign=lambda x: float((x > 0) - (x < 0)),
    where=FLOAT.where,
    iszero=lambda x: float(x) == 0.0,
    div=_total("div"),
    pow=_total_pow,
    sum=sum,
    max=lambda xs: _total("max")(*xs),
    argmax=lambda xs: _argmax([float(x) for x in xs]),
)


class Source:
    """An expression as Python source text: ``Source("g") * Source("b")`` is ``(g * b)``.

    Every operation is written out in full parentheses, so the text computes what the rule
    computes on floats, operation for operation, in the same order: the same number, bit for bit.
    ``names`` are the variables the expression reads (``{"g", "b"}``), so whoever compiles it
    knows what to load without reading the text.
    """

    __slots__ = ("text", "names")

    def __init__(self, text: str, names: frozenset[str] | None = None) -> None:
        self.text = text
        self.names = frozenset([text] if text.isidentifier() else ()) if names is None else names

    def __repr__(self) -> str:
        return f"Source({self.text!r})"

    def __bool__(self) -> bool:
        raise TypeError("a rule may not branch on its inputs with Python `if`: use m.where")

    def __neg__(self) -> Source:
        return Source(f"(-{self.text})", self.names)


def _text(x: Any) -> str:
    if isinstance(x, Source):
        return x.text
    if type(x) in (int, float) and math.isfinite(x):
        return repr(x)
    raise TypeError(f"cannot write {x!r} into source code")


def _names(*xs: Any) -> frozenset[str]:
    return frozenset().union(*(x.names for x in xs if isinstance(x, Source)))


def _infix(symbol: str, reflected: bool = False) -> Any:
    if reflected:
        return lambda a, b: Source(f"({_text(b)} {symbol} {_text(a)})", _names(a, b))
    return lambda a, b: Source(f"({_text(a)} {symbol} {_text(b)})", _names(a, b))


for _name, _symbol in (("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/")):
    setattr(Source, f"__{_name}__", _infix(_symbol))
    setattr(Source, f"__r{_name}__", _infix(_symbol, reflected=True))
for _name, _symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
    setattr(Source, f"__{_name}__", _infix(_symbol))


def _calls(name: str) -> Any:
    return lambda *xs: Source(f"{name}({', '.join(map(_text, xs))})", _names(*xs))


# Each function becomes a call to FLOAT's function of the same name (compiled code runs with
# FLOAT's functions as its globals), except the two a network uses per node, written inline
# so compiled code calls nothing for them. FLOAT's functions never raise, so a conditional
# expression that evaluates one branch gives the number FLOAT.where gives after computing both.
SOURCE = SimpleNamespace(
    **{name: _calls(name) for name, f in vars(FLOAT).items() if callable(f)},
)
SOURCE.name = "source"
SOURCE.where = lambda c, a, b: Source(
    f"({_text(a)} if {_text(c)} else {_text(b)})", _names(c, a, b)
)
SOURCE.iszero = lambda x: Source(f"({_text(x)} == 0)", _names(x))


def _numpy_namespace() -> SimpleNamespace:
    import numpy as np

    def sigmoid(x: Any) -> Any:
        # exp(-|x|) never overflows; pick the form that is stable on each side of 0.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def div(a: Any, b: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(a, b)

    def power(x: Any, n: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.power(x, n)

    def log(x: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def sqrt(x: Any) -> Any:
        with np.errstate(invalid="ignore"):
            return np.sqrt(x)

    def exp(x: Any) -> Any:
        with np.errstate(over="ignore"):
            return np.exp(x)

    return SimpleNamespace(
        name="numpy",
        exp=exp,
        log=log,
        sqrt=sqrt,
        tanh=np.tanh,
        sigmoid=sigmoid,
        softplus=lambda x: np.logaddexp(0.0, x),
        sin=np.sin,
        cos=np.cos,
        abs=np.abs,
        sign=lambda x: np.nan_to_num(np.sign(x), nan=0.0),  # sign(nan) = 0, as in PyTorch
        where=np.where,
        iszero=lambda x: np.asarray(x) == 0,
        div=div,
        pow=power,
        sum=lambda xs: np.sum(xs, axis=0),
        max=lambda xs: np.max(np.stack(np.broadcast_arrays(*xs)), axis=0),  # nan propagates
        argmax=lambda xs: np.argmax(np.stack(np.broadcast_arrays(*xs)), axis=0),  # first nan/max
    )


class _LazyNamespace:
    """Builds the numpy namespace on first attribute access."""

    def __getattr__(self, attr: str) -> Any:
        built = _numpy_namespace()
        self.__dict__.update(vars(built))
        return getattr(built, attr)


NUMPY: Any = _LazyNamespace()
