"""Property-based: random expression DAGs against central differences."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, grad, gradcheck
from autograd.check import numerical_grad

from .programs import random_program

seeds = st.integers(min_value=0, max_value=2**32 - 1)
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@SETTINGS
@given(seed=seeds, n_inputs=st.integers(1, 4), n_ops=st.integers(1, 25))
def test_random_graphs_match_central_differences(seed, n_inputs, n_ops):
    program, xs = random_program(random.Random(seed), n_inputs, n_ops)
    inputs = [Value(x) for x in xs]
    root = program.run_values(*inputs)
    assert root.data == pytest.approx(program.run_floats(*xs), rel=1e-12, abs=1e-12)
    root.backward()
    numeric = numerical_grad(program.run_values, *xs, eps=1e-6)
    for v, n in zip(inputs, numeric):
        assert v.grad == pytest.approx(n, rel=1e-4, abs=1e-5)


@SETTINGS
@given(seed=seeds)
def test_functional_grad_equals_backward(seed):
    program, xs = random_program(random.Random(seed), 3, 15)
    inputs = [Value(x) for x in xs]
    program.run_values(*inputs).backward()
    partials = grad(program.run_values, argnums=(0, 1, 2))(*xs)
    assert list(partials) == pytest.approx([v.grad for v in inputs], rel=1e-12, abs=1e-12)


@SETTINGS
@given(seed=seeds)
def test_second_backward_doubles_leaf_grads(seed):
    program, xs = random_program(random.Random(seed), 2, 10)
    inputs = [Value(x) for x in xs]
    root = program.run_values(*inputs)
    root.backward()
    first = [v.grad for v in inputs]
    inner = {id(n): n.grad for n in root.parents}
    root.backward()
    assert [v.grad for v in inputs] == pytest.approx([2 * g for g in first])
    assert {id(n): n.grad for n in root.parents} == inner


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=seeds)
def test_second_derivatives_match_differences_of_first(seed):
    program, xs = random_program(random.Random(seed), 1, 8)
    d1 = grad(program.run_values)
    d2 = grad(d1)(xs[0])
    eps = 1e-5
    numeric = (d1(xs[0] + eps) - d1(xs[0] - eps)) / (2 * eps)
    assert d2 == pytest.approx(numeric, rel=1e-3, abs=1e-4)


def test_gradcheck_passes_and_fails_with_a_table(monkeypatch):
    from dataclasses import replace

    from autograd.ops import OPS

    f = lambda x, y: (x * y).sin() + x.exp() / y
    assert gradcheck(f, 0.4, 1.3) is True
    wrong = replace(OPS["sin"], vjp=lambda m, g, out, x: (g * m.sin(x),))
    monkeypatch.setitem(OPS, "sin", wrong)
    with pytest.raises(AssertionError, match=r"(?s)gradcheck failed.*analytic.*numeric.*MISMATCH"):
        gradcheck(f, 0.4, 1.3)
