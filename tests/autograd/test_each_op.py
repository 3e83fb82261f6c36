"""Each op of the table, end to end: the engine, grad(grad(...)), the tape, the picture, PyTorch.

Every test here is parametrized by op name alone (``[cube]``), so ``-k cube`` selects one op.
``make check-op OP=cube`` runs these with the table-driven tests of test_ops.py and
test_nonfinite.py for that op, on the compiled engine and then on the plain one
(docs/adding-an-op.md).
"""

from __future__ import annotations

import pytest

from autograd import Value, grad, trace
from autograd.namespaces import FLOAT
from autograd.ops import OPS, Op
from autograd.value import apply

from .programs import TORCH

NAMES = list(OPS)


def _split(op: Op, point: tuple[float, ...]) -> tuple[list[float], tuple]:
    return (list(point[:-1]), point[-1:]) if op.has_arg else (list(point), ())


def _eager(op: Op, xs: list[float], args: tuple) -> tuple[float, list[float]]:
    """The op on Values in this process's engine: its value and each input's gradient."""
    inputs = [Value(x) for x in xs]
    out = apply(op, inputs, *args)
    out.backward()
    return out.data, [v.grad for v in inputs]


def _central(f, xs: list[float], i: int, eps: float = 1e-6) -> float:
    """d f(*xs) / d xs[i] by central differences."""
    hi, lo = list(xs), list(xs)
    hi[i] += eps
    lo[i] -= eps
    return (float(f(*hi)) - float(f(*lo))) / (2 * eps)


def _function(op: Op, args: tuple):
    """The op as a function of its inputs (Values or numbers), its constant fixed."""
    return lambda *v: apply(op, v, *args)


def _partial(f, i: int):
    """d f / d (input i), as a function: ``grad`` composes."""
    return lambda *v: grad(f, argnums=i)(*v)


@pytest.mark.parametrize("name", NAMES)
def test_the_engine_runs_it_forward_and_backward(name):
    op = OPS[name]
    for point in op.examples:
        xs, args = _split(op, point)
        value, grads = _eager(op, xs, args)
        assert value == pytest.approx(op.fwd(FLOAT, *xs, *args))
        for i, g in enumerate(grads):
            if op.vjp(FLOAT, 1.0, value, *xs, *args)[i] is None:
                assert g == 0.0  # the op passes no gradient to this input
                continue
            numeric = _central(_function(op, args), xs, i)
            assert g == pytest.approx(numeric, rel=1e-5, abs=1e-7), (name, point, i)


@pytest.mark.parametrize("name", NAMES)
def test_grad_of_grad_is_the_derivative_of_the_gradient(name):
    op = OPS[name]
    for point in op.examples:
        xs, args = _split(op, point)
        for i in range(len(xs)):
            if op.vjp(FLOAT, 1.0, 0.0, *xs, *args)[i] is None:
                continue
            first = _partial(_function(op, args), i)
            second = grad(first, argnums=i)(*xs)
            numeric = _central(first, xs, i)
            assert second == pytest.approx(numeric, rel=1e-4, abs=1e-6), (name, point, i)


@pytest.mark.parametrize("name", NAMES)
def test_the_tape_replays_it_as_the_engine_runs_it(name):
    op = OPS[name]
    xs0, args = _split(op, op.examples[0])
    tape = trace(_function(op, args), *xs0)
    for point in op.examples:
        xs, _ = _split(op, point)
        value, grads = tape.value_and_grad(*xs)
        want_value, want_grads = _eager(op, xs, args)
        assert value == pytest.approx(want_value, rel=1e-9, abs=1e-12), (name, point)
        assert list(grads) == pytest.approx(want_grads, rel=1e-9, abs=1e-12), (name, point)


@pytest.mark.parametrize("name", NAMES)
def test_the_picture_labels_it(name):
    import viz

    op = OPS[name]
    xs, args = _split(op, op.examples[0])
    y = apply(op, [Value(x, f"x{i}") for i, x in enumerate(xs)], *args)
    assert op.describe(*args) in viz.draw_dot(y).source


@pytest.mark.parametrize("name", NAMES)
def test_its_pytorch_twin_agrees(name):
    torch = pytest.importorskip("torch")
    op = OPS[name]
    assert name in TORCH, f"{name}: add its PyTorch twin to TORCH in tests/autograd/programs.py"
    for point in op.examples:
        xs, args = _split(op, point)
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        out = TORCH[name](torch, *ts, *args)
        if out.requires_grad:
            out.backward()
        value, grads = _eager(op, xs, args)
        assert value == pytest.approx(out.item(), rel=1e-12), (name, point)
        theirs = [0.0 if t.grad is None else t.grad.item() for t in ts]
        assert grads == pytest.approx(theirs, rel=1e-12, abs=1e-15), (name, point)
