"""Math namespaces the op table is written against.

Every rule in :mod:`autograd.ops` calls ``m.exp(x)``, ``m.where(c, a, b)``, ... on a namespace
``m``. Passing a different namespace runs the same rule on a different kind of number:

- ``FLOAT``: plain Python floats (eager forward and backward). Total functions in the IEEE
  sense: they return ``inf``/``nan`` instead of raising, so a vector-Jacobian rule never fails;
  the forward pass checks its domain separately (``Op.check``) and raises a clear error.
- ``NUMPY``: numpy arrays (the tape replays whole levels of a graph at once). numpy is imported
  on first use, so the engine itself needs only the standard library.

Two more live with their one user: ``VALUE`` (Values, so a backward pass records a graph of its
own: higher-order gradients) in :mod:`autograd.backward`, and ``SOURCE`` (Python source text: a
rule run on names returns its own code) in :mod:`autograd.codegen`. All four provide the same
functions (a test holds them to it).
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
