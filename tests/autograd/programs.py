"""Random expression DAGs as little programs, runnable on our Values, on floats and on torch.

A program is a list of instructions ``(op name, input indices, arg)`` over a growing list of
values whose first entries are the inputs. The generator only emits instructions that stay
inside every op's domain and away from kinks and singularities, so central differences are a
fair oracle.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from autograd.namespaces import FLOAT
from autograd.ops import OPS
from autograd.value import apply

Instruction = tuple[str, tuple[int, ...], Any]

POW_EXPONENTS = (2.0, 3.0, -1.0, 0.5, 1.5, -0.5)


@dataclass
class Program:
    n_inputs: int
    body: list[Instruction]
    outputs: tuple[int, ...]  # summed into the root

    def run_values(self, *inputs: Any) -> Any:
        """Run on our Values (or any objects our ``apply`` accepts)."""
        vals = list(inputs)
        for name, idx, arg in self.body:
            vals.append(apply(name, [vals[i] for i in idx], arg))
        return _total([vals[i] for i in self.outputs])

    def run_floats(self, *inputs: float) -> float:
        vals = list(inputs)
        for name, idx, arg in self.body:
            vals.append(_fwd_float(name, [vals[i] for i in idx], arg))
        return _total([vals[i] for i in self.outputs])

    def run_torch(self, *inputs: Any) -> Any:
        import torch

        vals = list(inputs)
        for name, idx, arg in self.body:
            vals.append(
                TORCH[name](torch, *[vals[i] for i in idx], *([arg] if OPS[name].has_arg else []))
            )
        return _total([vals[i] for i in self.outputs])


def _total(xs: list[Any]) -> Any:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def _fwd_float(name: str, xs: list[float], arg: Any) -> float:
    op = OPS[name]
    return op.fwd(FLOAT, *xs, *([arg] if op.has_arg else []))


def _safe(name: str, xs: list[float], arg: Any, out: float) -> bool:
    """In the domain, finite, moderate, and out of reach of kinks for finite differences."""
    if not math.isfinite(out) or abs(out) > 1e3:
        return False
    if name in ("relu", "abs", "leaky_relu") and abs(xs[0]) < 1e-2:
        return False
    if name in ("log", "sqrt") and xs[0] < 0.1:
        return False
    if name == "div" and abs(xs[1]) < 0.1:
        return False
    if name == "pow" and (abs(xs[0]) < 0.1 or (xs[0] < 0 and not float(arg).is_integer())):
        return False
    if name == "pow_value" and (xs[0] < 0.1 or abs(xs[1]) > 4):
        return False
    if name == "max" and len(xs) > 1 and _gap_at_top(xs) < 1e-2:
        return False  # a near tie: a small step would move the gradient to another input
    return not (name == "exp" and xs[0] > 5)


def _gap_at_top(xs: list[float]) -> float:
    top = sorted(xs, reverse=True)
    return top[0] - top[1]


def random_program(
    rng: random.Random, n_inputs: int = 3, n_ops: int = 12, stop_gradient: bool = False
) -> tuple[Program, list[float]]:
    """A random DAG over ``n_inputs`` inputs drawn in [-2, 2], with inputs to run it at.

    ``stop_gradient`` ops are left out unless asked for: central differences see through them.
    """
    inputs = [rng.uniform(-2.0, 2.0) for _ in range(n_inputs)]
    vals = list(inputs)
    body: list[Instruction] = []
    # select is left out: a random index is almost never an integer in range (its own tests in
    # test_ops and test_nonfinite cover it); leaving it out keeps the seeded programs as they were.
    names = [n for n in OPS if n != "select" and (stop_gradient or n != "stop_gradient")]
    attempts = 0
    while len(body) < n_ops and attempts < n_ops * 50:
        attempts += 1
        name = rng.choice(names)
        op = OPS[name]
        if op.arity is None:
            k = 2 * rng.randint(1, 3) if name == "dot" else rng.randint(2, 4)
        else:
            k = op.arity
        # Prefer recent values, so the graph grows deep as well as wide.
        idx = tuple(max(0, len(vals) - 1 - int(rng.expovariate(0.5))) for _ in range(k))
        arg = None
        if name == "pow":
            arg = rng.choice(POW_EXPONENTS)
        elif name == "leaky_relu":
            arg = rng.choice((0.01, 0.1, 0.3))
        xs = [vals[i] for i in idx]
        if op.check is not None and op.check(
            _fwd_float(name, xs, arg), *xs, *([arg] if op.has_arg else [])
        ):
            continue
        out = _fwd_float(name, xs, arg)
        if not _safe(name, xs, arg, out):
            continue
        body.append((name, idx, arg))
        vals.append(out)
    last = len(vals) - 1
    outputs = tuple(sorted({last, max(0, last - 1), max(0, last - 3)}))
    return Program(n_inputs, body, outputs), inputs


def _torch_dot(torch: Any, *wx: Any) -> Any:
    n = len(wx) // 2
    return torch.dot(torch.stack(list(wx[:n])), torch.stack(list(wx[n:])))


# The same ops in PyTorch, for parity tests.
def _torch_select(t: Any, i: Any, xs: Any) -> Any:
    """x_i by torch.where (nan for an index out of range or not an integer), as the op does."""
    out = t.full_like(xs[0], math.nan)
    for k in range(len(xs) - 1, -1, -1):
        out = t.where(i == k, xs[k], out)
    return out


TORCH = {
    "add": lambda t, a, b: a + b,
    "sub": lambda t, a, b: a - b,
    "mul": lambda t, a, b: a * b,
    "div": lambda t, a, b: a / b,
    "neg": lambda t, x: -x,
    "pow": lambda t, x, n: x**n,
    "pow_value": lambda t, x, y: x**y,
    "exp": lambda t, x: t.exp(x),
    "log": lambda t, x: t.log(x),
    "sqrt": lambda t, x: t.sqrt(x),
    "tanh": lambda t, x: t.tanh(x),
    "sigmoid": lambda t, x: t.sigmoid(x),
    "relu": lambda t, x: t.relu(x),
    "leaky_relu": lambda t, x, s: t.nn.functional.leaky_relu(x, s),
    "softplus": lambda t, x: t.nn.functional.softplus(x),
    "sin": lambda t, x: t.sin(x),
    "cos": lambda t, x: t.cos(x),
    "abs": lambda t, x: t.abs(x),
    "sum": lambda t, *xs: t.stack(list(xs)).sum(),
    "dot": _torch_dot,
    "stop_gradient": lambda t, x: x.detach(),
    "max": lambda t, *xs: t.max(t.stack(list(xs)), 0)[0],  # the (value, index) form: one winner
    "select": lambda t, i, *xs: _torch_select(t, i, xs),
}
