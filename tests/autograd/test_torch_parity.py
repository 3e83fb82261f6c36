"""Parity with PyTorch autograd (float64) on random DAGs and higher derivatives."""

from __future__ import annotations

import random

import pytest

from autograd import Value, grad

from .programs import TORCH, random_program

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


@pytest.mark.parametrize("seed", range(150))
def test_random_dag_matches_torch(seed):
    program, xs = random_program(random.Random(seed), 3, 20, stop_gradient=True)
    ours = [Value(x) for x in xs]
    root = program.run_values(*ours)
    root.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    t_root = program.run_torch(*theirs)
    if t_root.requires_grad:  # not when every path to the root is cut by stop_gradient
        t_root.backward()
    assert root.data == pytest.approx(t_root.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(ours, theirs):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_second_and_third_derivatives_match_torch(seed):
    program, xs = random_program(random.Random(seed), 1, 8, stop_gradient=True)
    ours = [grad(program.run_values)]
    ours.append(grad(ours[0]))
    ours.append(grad(ours[1]))
    x = torch.tensor(xs[0], dtype=torch.float64, requires_grad=True)
    y = program.run_torch(x)
    expected = []
    for _ in range(3):
        y = (
            torch.autograd.grad(y, x, create_graph=True, allow_unused=True)[0]
            if (y.requires_grad)
            else None
        )
        if y is None:
            y = torch.zeros((), dtype=torch.float64, requires_grad=True)
        expected.append(y.item())
    got = [d(xs[0]) for d in ours]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-10)


def test_mixed_partials_match_torch():
    from autograd import hessian

    f = lambda a, b: (a * b).tanh() * a.exp() + (a / b).sin()
    h = hessian(f, argnums=(0, 1))(0.3, 1.7)
    a = torch.tensor(0.3, dtype=torch.float64)
    b = torch.tensor(1.7, dtype=torch.float64)
    tf = lambda a, b: torch.tanh(a * b) * torch.exp(a) + torch.sin(a / b)
    th = torch.autograd.functional.hessian(tf, (a, b))
    got = [float(h[i][j]) for i in range(2) for j in range(2)]
    assert got == pytest.approx([th[i][j].item() for i in range(2) for j in range(2)], rel=1e-10)


def test_edge_semantics_match_torch():
    """Gradients at kinks and singular points follow PyTorch's conventions."""
    cases = [
        ("relu", 0.0),
        ("abs", 0.0),
        ("sqrt", 0.0),
        ("leaky_relu", 0.0),
    ]
    for name, x0 in cases:
        v = Value(x0)
        if name == "leaky_relu":
            out = v.leaky_relu(0.1)
        elif name == "abs":
            out = abs(v)
        else:
            out = getattr(v, name)()
        out.backward()
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        arg = [0.1] if name == "leaky_relu" else []
        TORCH[name](torch, t, *arg).backward()
        assert v.grad == t.grad.item(), name
    base, exp_ = Value(-2.0), Value(3.0)
    (base**exp_).backward()
    tb = torch.tensor(-2.0, dtype=torch.float64, requires_grad=True)
    te = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    (tb**te).backward()
    assert base.grad == tb.grad.item()
    assert str(exp_.grad) == str(te.grad.item()) == "nan"
