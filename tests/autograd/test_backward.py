"""backward(), create_graph, the functional API, deep graphs and memory."""

from __future__ import annotations

import gc
import math
import sys
import threading
import weakref

import pytest

from autograd import Value, enable_grad, grad, hessian, no_grad, value_and_grad
from autograd.backward import gradients
from autograd.graph import edges, topological_order


def test_topological_order_is_deterministic_and_parents_first():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order == [a, b, c, d, e]
    pos = {id(n): i for i, n in enumerate(order)}
    for node in order:
        assert all(pos[id(p)] < pos[id(node)] for p in node.parents)
    assert topological_order([e, c]) == order
    assert len(edges(a * a)) == 2


def test_backward_sets_non_leaf_grads_to_this_pass():
    x = Value(2.0)
    y = x * x
    z = y * 3
    z.backward()
    assert (x.grad, y.grad, z.grad) == (12.0, 3.0, 1.0)
    # A second, overlapping root: y's grad becomes d(w)/d(y), not a sum with the old pass.
    w = y + 1
    w.backward()
    assert y.grad == 1.0 and x.grad == 12.0 + 4.0


def test_backward_with_a_seed_and_on_a_leaf():
    x = Value(3.0)
    (x * x).backward(grad=0.5)
    assert x.grad == 3.0
    x.backward()
    assert x.grad == 4.0
    with pytest.raises(TypeError, match="backward: grad"):
        x.backward(grad="one")


def test_no_grad_records_nothing_and_restores():
    x = Value(2.0)
    with no_grad():
        y = x * 3
        with enable_grad():
            z = x * 4
    assert y.parents == () and y.op == "" and y.data == 6.0
    assert z.parents == (x, z.parents[1])
    assert (x * 5).parents[0] is x

    @no_grad()
    def f(v):
        return v * v

    assert f(x).parents == ()
    assert (x * x).parents == (x, x)


def test_no_grad_is_per_thread():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def worker():
        with no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen["main records"] = bool((Value(1.0) * 2).parents)
    release.set()
    t.join()
    assert seen["main records"]


def test_create_graph_gives_differentiable_grads():
    x = Value(1.5)
    y = x**3
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value) and g.data == pytest.approx(3 * 1.5**2)
    x2 = Value(1.5)
    (x2**3).backward(create_graph=True)
    x2.grad.backward()
    # x2.grad was the first derivative (a Value); the second backward added d(6.75)/dx = 2*3*1.5
    assert float(x2.grad) == pytest.approx(6.75 + 9.0)


def test_grad_value_and_grad_and_argnums():
    f = lambda a, b: a * b + a.sin()
    assert grad(f)(2.0, 3.0) == pytest.approx(3 + math.cos(2))
    assert grad(f, argnums=1)(2.0, 3.0) == pytest.approx(2.0)
    val, (da, db) = value_and_grad(f, argnums=(0, 1))(2.0, 3.0)
    assert val == pytest.approx(6 + math.sin(2))
    assert (da, db) == pytest.approx((3 + math.cos(2), 2.0))
    assert grad(f, argnums=-1)(2.0, 3.0) == pytest.approx(2.0)


def test_grad_composes_to_any_order():
    f = lambda x: x**4 + x.sin()
    x = 0.8
    assert grad(f)(x) == pytest.approx(4 * x**3 + math.cos(x))
    assert grad(grad(f))(x) == pytest.approx(12 * x**2 - math.sin(x))
    assert grad(grad(grad(f)))(x) == pytest.approx(24 * x - math.cos(x))
    assert grad(grad(grad(grad(f))))(x) == pytest.approx(24 + math.sin(x))


def test_hessian():
    f = lambda a, b: a * a * b + b.exp() * a
    a, b = 1.5, 0.5
    h = hessian(f, argnums=(0, 1))(a, b)
    assert h[0][0] == pytest.approx(2 * b)
    assert h[0][1] == pytest.approx(2 * a + math.exp(b))
    assert h[1][0] == pytest.approx(h[0][1])
    assert h[1][1] == pytest.approx(math.exp(b) * a)
    assert hessian(f)(a, b) == pytest.approx(2 * b)
    assert grad(lambda x: hessian(lambda y: y**4)(x))(2.0) == pytest.approx(24 * 2.0)


def test_functional_api_never_touches_callers_grads():
    w = Value(2.0, "w")
    w.grad = 7.0
    f = lambda x: w * x * x

    assert grad(f)(3.0) == pytest.approx(12.0)
    assert hessian(f)(3.0) == pytest.approx(4.0)
    assert grad(grad(f))(3.0) == pytest.approx(4.0)
    assert w.grad == 7.0


def test_functional_api_hands_values_and_passes_other_arguments_through():
    seen = []

    def f(x, scale, name):
        seen.append((type(x), type(scale), name))
        return x.exp() * scale

    assert grad(f)(0.0, 2, "label") == pytest.approx(2.0)
    assert seen == [(Value, Value, "label")]
    assert grad(lambda x: 3.0)(1.0) == 0.0
    with pytest.raises(TypeError, match="argument 0 must be a number"):
        grad(f)("a", 1, "b")
    with pytest.raises(ValueError, match="argnums"):
        grad(f, argnums=5)(1.0, 1.0, "c")
    with pytest.raises(TypeError, match="must return a Value or a number"):
        grad(lambda x: "nope")(1.0)


def test_gradients_dict_matches_backward():
    x, y = Value(0.3), Value(-1.2)
    z = (x * y).tanh() + x.exp() * y
    g = gradients(z)
    z.backward()
    assert g[x] == pytest.approx(x.grad) and g[y] == pytest.approx(y.grad)


def test_million_op_chain_backpropagates():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001
    y.backward()
    assert x.grad == pytest.approx(1.0000001**1_000_000)
    assert grad(lambda v: v)(1.0) == 1.0
    del y  # freeing the chain must not recurse either


def test_dropped_graph_is_freed_without_the_cyclic_gc():
    gc.disable()
    try:
        x = Value(1.0)
        root = (x * 2 + 1).tanh() * x
        inner = weakref.ref(root.parents[0])
        node = weakref.ref(root.parents[0].parents[0])
        root.backward()
        del root
        assert inner() is None and node() is None
        assert x.grad != 0.0  # the leaf lives on with its grad
    finally:
        gc.enable()


def test_walks_from_many_threads_agree():
    # Walks mark nodes as they go; threads walking one graph at once must not see each
    # other's marks (a lost mark would repeat a node, and backward would count it twice).
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    xs = [Value(float(i)) for i in range(300)]
    root = xs[0]
    for i, x in enumerate(xs[1:]):
        root = (root * x + xs[i]).tanh() if i % 3 else root + x * x
    reference = topological_order(root)
    results: list[bool] = []

    def walk() -> None:
        results.extend(topological_order(root) == reference for _ in range(100))

    try:
        threads = [threading.Thread(target=walk) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    assert len(results) == 400 and all(results)
    assert len(reference) == len(set(reference))
