"""The op table: every operation is defined once, here.

An :class:`Op` holds the forward rule ``fwd(m, *xs)`` and the vector-Jacobian rule
``vjp(m, g, out, *xs)``, both written against a math namespace ``m`` (see
:mod:`autograd.namespaces`). ``xs`` are the op's inputs, followed by its constant ``arg`` for ops
that take one (the exponent of ``pow``, the slope of ``leaky_relu``); ``out`` is the forward
result and ``g`` the gradient flowing into it. ``vjp`` returns one gradient per input Value
(``None`` for none). Eager backward, higher-order backward, the tape and the visualizer all read
these records; nothing else defines an op.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from operator import mul
from typing import Any

Check = Callable[..., "ArithmeticError | ValueError | None"]


@dataclass(frozen=True)
class Op:
    """One primitive operation: its name, how it is drawn, its forward and backward rules.

    ``arity`` is the number of input Values (``None`` for n-ary ops). ``has_arg`` says the op
    carries one constant that is not a Value. ``check(out, *xs)`` returns the error a forward
    pass on floats must raise (its message without the op name), or None. ``examples`` are
    input points (with the arg last, when there is one) at which the tests check the rules.
    ``methods`` names the ``Value`` methods that run the op (``("__mul__", "__rmul__")``); any
    op, with or without methods, runs as ``autograd.value.apply(name, inputs)``.
    """

    name: str
    symbol: str
    arity: int | None
    fwd: Callable[..., Any]
    vjp: Callable[..., tuple[Any, ...]]
    doc: str
    examples: tuple[tuple[float, ...], ...]
    has_arg: bool = False
    check: Check | None = None
    methods: tuple[str, ...] = ()

    def describe(self, arg: Any = None) -> str:
        """The op's label for a picture, with its constant filled in (``**2``, ``leaky(0.01)``)."""
        return self.symbol.format(arg=_short(arg)) if self.has_arg else self.symbol


def _short(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add ``op`` to the table; every executor and every table-driven test picks it up."""
    if op.name in OPS:
        raise ValueError(f"register: an op named {op.name!r} already exists")
    if op.has_arg and op.arity != 1:
        # Executors pass the constant after the single input; keeping it to unary ops lets the
        # hot binary path skip the check.
        raise ValueError(
            f"register: only unary ops take a constant arg, {op.name!r} has arity {op.arity}"
        )
    OPS[op.name] = op
    return op


# ---- domain checks (forward pass on floats only) ------------------------------------------


def _nonzero_divisor(out: float, a: float, b: float) -> ZeroDivisionError | None:
    return ZeroDivisionError(f"division by zero, got {a!r} / {b!r}") if b == 0 else None


def _pow_domain(out: float, x: float, n: float) -> ArithmeticError | ValueError | None:
    if x == 0 and n < 0:
        return ZeroDivisionError(f"0.0 cannot be raised to a negative power, got {x!r} ** {n!r}")
    if x < 0 and math.isfinite(n) and not float(n).is_integer():  # (-8) ** inf is IEEE's
        return ValueError(
            f"negative base with a non-integer exponent has no real result, got {x!r} ** {n!r}"
        )
    if math.isinf(out) and math.isfinite(x) and math.isfinite(n):
        return OverflowError(f"result is too large for a float, got {x!r} ** {n!r}")
    return None


def _positive(out: float, x: float) -> ValueError | None:
    return ValueError(f"input must be > 0, got {x!r}") if x <= 0 else None


def _non_negative(out: float, x: float) -> ValueError | None:
    return ValueError(f"input must be >= 0, got {x!r}") if x < 0 else None


def _exp_range(out: float, x: float) -> OverflowError | None:
    if math.isinf(out) and math.isfinite(x):
        return OverflowError(f"result is too large for a float, got exp({x!r})")
    return None


# ---- the rules ------------------------------------------------------------------------------


def _pow_base_grad(m: Any, g: Any, x: Any, n: Any) -> Any:
    # d/dx x^n = n x^(n-1); PyTorch defines it as 0 when n == 0 (x^-1 would be inf at x = 0).
    return m.where(m.iszero(n), 0.0 * g, g * n * m.pow(x, n - 1))


def _dot_fwd(m: Any, *wx: Any) -> Any:
    n = len(wx) // 2
    return m.sum(list(map(mul, wx[:n], wx[n:])))


def _max_vjp(m: Any, g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
    # All of g goes to one input, as torch.max(x, dim) and max_pool2d do: the first maximal one,
    # or the first nan (which is what the output is then).
    k = m.argmax(xs)
    return tuple(m.where(k == i, g, 0.0) for i in range(len(xs)))


def _select_fwd(m: Any, i: Any, *xs: Any) -> Any:
    # x_i picked with where, never by multiplying with a 0/1 mask: an infinite input that is not
    # picked stays out of the result (-inf * 0 would be nan). An index that is not an integer
    # in range picks nothing: nan, which the domain check names.
    out = math.nan
    for k in range(len(xs) - 1, -1, -1):
        out = m.where(m.iszero(i - k), xs[k], out)
    return out


def _select_vjp(m: Any, g: Any, out: Any, i: Any, *xs: Any) -> tuple[Any, ...]:
    # All of g goes to the picked input; the index gets none (it is not differentiable).
    return (None, *(m.where(m.iszero(i - k), g, 0.0) for k in range(len(xs))))


def _index_domain(out: float, i: float, *xs: float) -> ValueError | None:
    if not (0 <= i < len(xs) and float(i).is_integer()):
        return ValueError(f"index must be an integer in [0, {len(xs)}), got {i!r}")
    return None


def _dot_vjp(m: Any, g: Any, out: Any, *wx: Any) -> tuple[Any, ...]:
    # map with a bound multiply: a fused neuron has dozens of inputs, and this runs per input.
    n = len(wx) // 2
    times_g = partial(mul, g)
    return (*map(times_g, wx[n:]), *map(times_g, wx[:n]))


ADD = register(
    Op(
        "add",
        "+",
        2,
        fwd=lambda m, a, b: a + b,
        vjp=lambda m, g, out, a, b: (g, g),
        doc="a + b;  d/da = 1, d/db = 1",
        examples=((1.5, -2.0), (0.3, 0.7)),
        methods=("__add__", "__radd__"),
    )
)
SUB = register(
    Op(
        "sub",
        "-",
        2,
        fwd=lambda m, a, b: a - b,
        vjp=lambda m, g, out, a, b: (g, -g),
        doc="a - b;  d/da = 1, d/db = -1",
        examples=((1.5, -2.0), (0.3, 0.7)),
        methods=("__sub__", "__rsub__"),
    )
)
MUL = register(
    Op(
        "mul",
        "*",
        2,
        fwd=lambda m, a, b: a * b,
        vjp=lambda m, g, out, a, b: (g * b, g * a),
        doc="a * b;  d/da = b, d/db = a",
        examples=((1.5, -2.0), (0.3, 0.7)),
        methods=("__mul__", "__rmul__"),
    )
)
DIV = register(
    Op(
        "div",
        "/",
        2,
        fwd=lambda m, a, b: m.div(a, b),
        vjp=lambda m, g, out, a, b: (m.div(g, b), -m.div(g * out, b)),
        doc="a / b;  d/da = 1/b, d/db = -a/b^2",
        examples=((1.5, -2.0), (0.3, 0.7)),
        check=_nonzero_divisor,
        methods=("__truediv__", "__rtruediv__"),
    )
)
NEG = register(
    Op(
        "neg",
        "neg",
        1,
        fwd=lambda m, x: -x,
        vjp=lambda m, g, out, x: (-g,),
        doc="-x;  d/dx = -1",
        examples=((1.5,), (-0.4,)),
        methods=("__neg__",),
    )
)
POW = register(
    Op(
        "pow",
        "**{arg}",
        1,
        fwd=lambda m, x, n: m.pow(x, n),
        vjp=lambda m, g, out, x, n: (_pow_base_grad(m, g, x, n),),
        doc="x^n for a constant n;  d/dx = n x^(n-1)",
        examples=((1.7, 2), (0.6, -1.5), (-1.2, 3), (2.5, 0.5)),
        has_arg=True,
        check=_pow_domain,
        methods=("__pow__",),
    )
)
POW_VALUE = register(
    Op(
        "pow_value",
        "**",
        2,
        fwd=lambda m, x, y: m.pow(x, y),
        # d/dy x^y = x^y log x: nan for a negative base (as in PyTorch), 0 where x = 0 and y > 0.
        vjp=lambda m, g, out, x, y: (
            _pow_base_grad(m, g, x, y),
            m.where(m.iszero(x), 0.0 * g, g * out * m.log(x)),
        ),
        doc="x^y for a Value y;  d/dx = y x^(y-1), d/dy = x^y log x",
        examples=((1.5, 2.3), (0.7, -0.4), (2.0, 3.0)),
        check=_pow_domain,
        methods=("__rpow__",),
    )
)
EXP = register(
    Op(
        "exp",
        "exp",
        1,
        fwd=lambda m, x: m.exp(x),
        vjp=lambda m, g, out, x: (g * out,),
        doc="e^x;  d/dx = e^x",
        examples=((0.5,), (-1.3,), (3.0,)),
        check=_exp_range,
        methods=("exp",),
    )
)
LOG = register(
    Op(
        "log",
        "log",
        1,
        fwd=lambda m, x: m.log(x),
        vjp=lambda m, g, out, x: (m.div(g, x),),
        doc="ln x;  d/dx = 1/x",
        examples=((0.5,), (3.0,)),
        check=_positive,
        methods=("log",),
    )
)
SQRT = register(
    Op(
        "sqrt",
        "sqrt",
        1,
        fwd=lambda m, x: m.sqrt(x),
        vjp=lambda m, g, out, x: (m.div(g, 2.0 * out),),
        doc="sqrt(x);  d/dx = 1 / (2 sqrt(x))",
        examples=((0.5,), (3.0,)),
        check=_non_negative,
        methods=("sqrt",),
    )
)
TANH = register(
    Op(
        "tanh",
        "tanh",
        1,
        fwd=lambda m, x: m.tanh(x),
        vjp=lambda m, g, out, x: (g * (1.0 - out * out),),
        doc="tanh x;  d/dx = 1 - tanh(x)^2",
        examples=((0.5,), (-1.3,), (2.0,)),
        methods=("tanh",),
    )
)
SIGMOID = register(
    Op(
        "sigmoid",
        "σ",
        1,
        fwd=lambda m, x: m.sigmoid(x),
        vjp=lambda m, g, out, x: (g * out * (1.0 - out),),
        doc="σ(x) = 1 / (1 + e^-x);  d/dx = σ(x) (1 - σ(x))",
        examples=((0.5,), (-1.3,), (4.0,)),
        methods=("sigmoid",),
    )
)
RELU = register(
    Op(
        "relu",
        "ReLU",
        1,
        # PyTorch's arithmetic: x < 0 gives 0, anything else (nan, -0.0) passes through; the
        # gradient is cut only where x <= 0, so a nan input gets the gradient (torch: 1).
        fwd=lambda m, x: m.where(x < 0, 0.0, x),
        vjp=lambda m, g, out, x: (m.where(x <= 0, 0.0, g),),
        doc="max(x, 0);  d/dx = 0 if x <= 0 else 1 (nan passes through, as in PyTorch)",
        examples=((0.5,), (-1.3,)),
        methods=("relu",),
    )
)
LEAKY_RELU = register(
    Op(
        "leaky_relu",
        "LeakyReLU({arg})",
        1,
        fwd=lambda m, x, slope: m.where(x > 0, x, slope * x),
        vjp=lambda m, g, out, x, slope: (m.where(x > 0, g, slope * g),),
        doc="x if x > 0 else slope x;  d/dx = 1 if x > 0 else slope",
        examples=((0.5, 0.01), (-1.3, 0.01), (-0.4, 0.2)),
        has_arg=True,
        methods=("leaky_relu",),
    )
)
SOFTPLUS = register(
    Op(
        "softplus",
        "softplus",
        1,
        fwd=lambda m, x: m.softplus(x),
        vjp=lambda m, g, out, x: (g * m.sigmoid(x),),
        doc="ln(1 + e^x);  d/dx = σ(x)",
        examples=((0.5,), (-1.3,), (3.0,)),
        methods=("softplus",),
    )
)
SIN = register(
    Op(
        "sin",
        "sin",
        1,
        fwd=lambda m, x: m.sin(x),
        vjp=lambda m, g, out, x: (g * m.cos(x),),
        doc="sin x;  d/dx = cos x",
        examples=((0.5,), (-1.3,), (3.0,)),
        methods=("sin",),
    )
)
COS = register(
    Op(
        "cos",
        "cos",
        1,
        fwd=lambda m, x: m.cos(x),
        vjp=lambda m, g, out, x: (-g * m.sin(x),),
        doc="cos x;  d/dx = -sin x",
        examples=((0.5,), (-1.3,), (3.0,)),
        methods=("cos",),
    )
)
ABS = register(
    Op(
        "abs",
        "abs",
        1,
        fwd=lambda m, x: m.abs(x),
        vjp=lambda m, g, out, x: (g * m.sign(x),),
        doc="|x|;  d/dx = sign(x) (0 at 0, as in PyTorch)",
        examples=((0.5,), (-1.3,)),
        methods=("__abs__", "abs"),
    )
)
SUM = register(
    Op(
        "sum",
        "Σ",
        None,
        fwd=lambda m, *xs: m.sum(xs),
        vjp=lambda m, g, out, *xs: (g,) * len(xs),
        doc="x1 + x2 + ... + xn in one node;  d/dxi = 1",
        examples=((1.5, -2.0, 0.25), (0.3, 0.7)),
    )
)
DOT = register(
    Op(
        "dot",
        "·",
        None,
        fwd=_dot_fwd,
        vjp=_dot_vjp,
        doc="w1 x1 + ... + wn xn in one node, inputs (w1..wn, x1..xn);  d/dwi = xi, d/dxi = wi",
        examples=((1.5, -2.0, 0.25, 0.5), (0.3, 0.7, -1.1, 2.0, 0.4, -0.6)),
    )
)
MAX = register(
    Op(
        "max",
        "max",
        None,
        fwd=lambda m, *xs: m.max(xs),
        vjp=_max_vjp,
        doc="max(x1, ..., xn);  d/dxi = 1 for the first largest xi (the first nan, if any), else 0",
        examples=((1.5, -2.0, 0.25), (0.3, 0.7), (-1.0, -0.5, -3.0, 2.0)),
    )
)
SELECT = register(
    Op(
        "select",
        "select",
        None,
        fwd=_select_fwd,
        vjp=_select_vjp,
        doc="x_i of (i, x0, ..., xn-1) for an integer i in [0, n);  d/dxk = 1 if k == i else 0, "
        "none for i",
        examples=((1.0, 0.5, -2.0, 3.0), (0.0, 1.5, 2.5)),
        check=_index_domain,
    )
)
STOP_GRADIENT = register(
    Op(
        "stop_gradient",
        "stop∇",
        1,
        fwd=lambda m, x: x,
        vjp=lambda m, g, out, x: (None,),
        doc="x, with no gradient flowing back;  d/dx = 0 (JAX's stop_gradient)",
        examples=((1.5,), (-0.4,)),
        methods=("stop_gradient",),
    )
)
