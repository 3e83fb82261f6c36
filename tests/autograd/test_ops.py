"""Table-driven: every op in OPS is checked the moment it is registered."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Value, no_grad
from autograd.backward import VALUE, local_grads
from autograd.codegen import COMPILED_OPS, FLOAT_BACKPROP_SOURCE, SOURCE, Source, as_code
from autograd.codegen import float_backprop as _float_backprop
from autograd.grad_mode import scope
from autograd.namespaces import FLOAT, NUMPY
from autograd.ops import OPS, Op, register
from autograd.value import apply

from .programs import TORCH

CASES = [(name, point) for name, op in OPS.items() for point in op.examples]
# Ops whose rule passes no gradient on purpose (None): central differences do not apply.
NO_GRADIENT = {"stop_gradient", "select"}  # select: none for its index


def _split(op: Op, point: tuple[float, ...]) -> tuple[list[float], list]:
    """Inputs and the constant arg (as a list of zero or one) of an example point."""
    return (list(point[:-1]), [point[-1]]) if op.has_arg else (list(point), [])


def _central(f, xs: list[float], i: int, eps: float = 1e-6) -> float:
    hi = xs[:i] + [xs[i] + eps] + xs[i + 1 :]
    lo = xs[:i] + [xs[i] - eps] + xs[i + 1 :]
    return (f(hi) - f(lo)) / (2 * eps)


def test_every_op_is_fully_described():
    for name, op in OPS.items():
        assert op.name == name
        assert op.doc and op.symbol, name
        assert len(op.examples) >= 2, f"{name}: give at least two example points"
        for point in op.examples:
            xs, args = _split(op, point)
            assert op.arity is None or len(xs) == op.arity, name


@pytest.mark.parametrize(("name", "point"), CASES)
def test_vjp_matches_central_differences(name, point):
    op = OPS[name]
    xs, args = _split(op, point)
    out = op.fwd(FLOAT, *xs, *args)
    for g in (1.0, -2.5):
        analytic = op.vjp(FLOAT, g, out, *xs, *args)
        assert len(analytic) == len(xs)
        for i in range(len(xs)):
            if analytic[i] is None:
                assert name in NO_GRADIENT, f"{name}: vjp gave None for input {i}"
                continue
            numeric = _central(lambda v: op.fwd(FLOAT, *v, *args), xs, i)
            assert analytic[i] == pytest.approx(g * numeric, rel=1e-5, abs=1e-7), (name, i)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_namespaces_agree_forward(name, point):
    op = OPS[name]
    xs, args = _split(op, point)
    expected = op.fwd(FLOAT, *xs, *args)
    on_values = op.fwd(VALUE, *[Value(x) for x in xs], *args)
    assert float(on_values) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    batched = [np.array([x, x]) for x in xs]
    on_arrays = op.fwd(NUMPY, *batched, *args)
    np.testing.assert_allclose(on_arrays, [expected, expected], rtol=1e-12, atol=1e-15)
    assert apply(op, xs, *args).data == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_namespaces_agree_backward(name, point):
    op = OPS[name]
    xs, args = _split(op, point)
    node = apply(op, [Value(x) for x in xs], *args)
    on_floats = local_grads(node, 0.75, FLOAT)
    on_values = local_grads(node, Value(0.75), VALUE)
    out = np.array([node.data, node.data])
    batched = [np.array([x, x]) for x in xs]
    on_arrays = op.vjp(NUMPY, np.array([0.75, 0.75]), out, *batched, *args)
    for got, on_value, want in zip(on_arrays, on_values, on_floats):
        if want is None:  # no gradient, in every namespace
            assert got is None and on_value is None
            continue
        assert float(on_value) == pytest.approx(want, rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(np.broadcast_to(got, (2,)), [want, want], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_second_derivative_matches_differences_of_first(name, point):
    """The VALUE namespace makes vjp rules differentiable: check d/dx of each local grad."""
    op = OPS[name]
    xs, args = _split(op, point)

    def first(v: list[float], i: int) -> float:
        node = apply(op, [Value(x) for x in v], *args)
        return local_grads(node, 1.0, FLOAT)[i]

    for i in range(len(xs)):
        inputs = [Value(x) for x in xs]
        node = apply(op, inputs, *args)
        g_i = local_grads(node, Value(1.0), VALUE)[i]
        if not isinstance(g_i, Value) or not g_i.parents:
            continue  # a constant local derivative (add, sub, ...): nothing to differentiate
        g_i.backward()
        for j in range(len(xs)):
            numeric = _central(lambda v, i=i: first(v, i), xs, j)
            assert inputs[j].grad == pytest.approx(numeric, rel=1e-4, abs=1e-6), (name, i, j)


# Points where rules meet their edge cases (0, where, inf results), on top of the examples.
EDGES = (0.0, -0.0, 1.0, -3.0)


def _edge_points(op: Op) -> list[tuple[float, ...]]:
    points = list(op.examples)
    n = len(op.examples[0])
    points += [(e,) * n for e in EDGES] + [(e, *op.examples[0][1:]) for e in EDGES]
    return points


def _same(a: float, b: float) -> bool:
    return repr(a) == repr(b)  # bit for bit, nan included


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.arity in (1, 2)])
def test_compiled_backward_adds_exactly_what_the_rule_gives(name):
    """Eager backward runs each rule compiled into its loop: the same numbers as calling it."""
    op = OPS[name]
    for point in _edge_points(op):
        xs, args = _split(op, point)
        inputs = [Value(x) for x in xs]
        node = apply(op, [Value(1.0)] * len(xs), *args)  # a node of this op; then set its data
        node._x, node._y = (inputs[0], None) if len(inputs) == 1 else tuple(inputs)
        node.data = op.fwd(FLOAT, *xs, *args)
        for g in (0.75, -2.5):
            for v in inputs:
                v.grad = 0.0
            node.grad = g
            _float_backprop([*inputs, node])
            want = [0.0 if c is None else 0.0 + c for c in local_grads(node, g)]
            got = [v.grad for v in inputs]
            assert all(map(_same, got, want)), (name, point, g, got, want)


def test_every_op_with_one_or_two_inputs_is_compiled():
    assert set(COMPILED_OPS) == {n for n, op in OPS.items() if op.arity in (1, 2)}
    assert "x.grad += (g * b)" in FLOAT_BACKPROP_SOURCE  # mul's rule, as code


def test_rules_written_as_source():
    mul = OPS["mul"].vjp(SOURCE, Source("g"), Source("out"), Source("a"), Source("b"))
    assert [c.text for c in mul] == ["(g * b)", "(g * a)"]
    assert OPS["relu"].fwd(SOURCE, Source("a")).text == "(0.0 if (a < 0) else a)"
    with pytest.raises(TypeError, match="m.where"):
        bool(Source("a") > 0)  # a rule that branches with Python `if` cannot be compiled
    branchy = lambda m, x: x if x > 0 else -x  # noqa: E731
    with pytest.raises(TypeError, match="branchy: its rule cannot be written as code.*m.where"):
        as_code("branchy", branchy, "a")


@pytest.fixture
def cube_op():
    op = register(
        Op(
            "cube_test",
            "³",
            1,
            fwd=lambda m, x: x * x * x,
            vjp=lambda m, g, out, x: (g * 3.0 * x * x,),
            doc="x^3;  d/dx = 3 x^2",
            examples=((1.5,), (-0.5,)),
        )
    )
    yield op
    del OPS[op.name]


def test_an_op_registered_after_import_is_backpropagated_through_its_rule(cube_op):
    x = Value(1.5)
    y = apply(cube_op, [x]) * 2.0
    y.backward()
    assert "cube_test" not in COMPILED_OPS
    assert x.grad == pytest.approx(2.0 * 3.0 * 1.5**2)


# Every Value method the table names, with its op: the lists come from the table, so a new op
# with methods is tested the moment it is registered.
METHODS = [(method, name) for name, op in OPS.items() for method in op.methods]
REFLECTED = {"__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__"}


def _call(method: str, op: Op, xs: list[Value], args: list) -> Value:
    """``xs[0] <op> xs[1]`` through ``method`` (reflected dunders are called on the right
    operand), or ``xs[0].method(*args)``."""
    if method in REFLECTED:
        return getattr(xs[1], method)(xs[0])
    return getattr(xs[0], method)(*xs[1:], *args)


def test_every_method_the_table_names_exists():
    for method, name in METHODS:
        assert hasattr(Value, method), f"{name}: Value has no method {method}"
    assert {name for _, name in METHODS} >= {n for n, op in OPS.items() if op.arity in (1, 2)}


@pytest.mark.parametrize(("method", "name"), METHODS)
def test_methods_run_the_table_forward(method, name):
    """Each method runs its op's forward rule, even where the method shares its name with the
    float function the rule calls (``log``), in both engines (the module runs twice)."""
    op = OPS[name]
    for point in op.examples:
        xs, args = _split(op, point)
        inputs = [Value(x) for x in xs]
        out = _call(method, op, inputs, args)
        assert out.data == op.fwd(FLOAT, *xs, *args)
        assert out.op == name and out.parents == tuple(inputs)
        assert out.arg == (args[0] if args else None)
        assert getattr(Value, method).__name__ == method


def _every_method(x: Value, y: Value) -> list[Value]:
    out = []
    for method, name in METHODS:
        op = OPS[name]
        args = list(op.examples[0][1:]) if op.has_arg else []
        out.append(_call(method, op, [x, y][: op.arity], args))
    return out


def test_methods_record_nothing_under_no_grad_and_tag_scopes():
    x, y = Value(0.7), Value(1.3)
    with no_grad():
        plain = _every_method(x, y)
    assert all(v.op == "" and v.parents == () and v.is_leaf for v in plain)
    with scope("Neuron:n"):
        tagged = _every_method(x, y)
    assert all(v.scope == ("Neuron:n",) and v.parents for v in tagged)
    assert all(v.scope is None for v in _every_method(x, y))
    assert [v.data for v in plain] == [v.data for v in tagged]


def test_namespaces_provide_the_same_functions():
    """A rule may call any function of its namespace: all four must have the same ones."""
    names = {name for name, f in vars(FLOAT).items() if callable(f)}
    for m in (VALUE, NUMPY, SOURCE):
        assert {name for name in dir(m) if callable(getattr(m, name))} >= names, m.name
        assert {name for name, f in vars(m).items() if callable(f)} == names, m.name


def test_every_op_has_a_torch_twin():
    """The torch parity tests cover every op (checked without importing torch)."""
    assert set(TORCH) == set(OPS)


def test_registering_a_duplicate_name_fails():
    with pytest.raises(ValueError, match="already exists"):
        register(OPS["add"])


def test_only_unary_ops_take_a_constant():
    bad = Op(
        "twice_arg",
        "?",
        2,
        fwd=lambda m, a, b, k: a,
        vjp=lambda m, g, o, a, b, k: (g, g),
        doc="x",
        examples=((1.0, 2.0, 3.0),),
        has_arg=True,
    )
    with pytest.raises(ValueError, match="only unary ops"):
        register(bad)
    assert "twice_arg" not in OPS


def test_describe_fills_in_the_constant():
    assert OPS["pow"].describe(2.0) == "**2"
    assert OPS["leaky_relu"].describe(0.01) == "LeakyReLU(0.01)"
    assert OPS["mul"].describe() == "*"


def test_float_namespace_is_total():
    """vjp rules may hit singular points; the float namespace answers like IEEE, never raises."""
    assert FLOAT.div(1.0, 0.0) == math.inf
    assert FLOAT.div(-1.0, 0.0) == -math.inf
    assert math.isnan(FLOAT.div(0.0, 0.0))
    assert FLOAT.pow(0.0, -0.5) == math.inf
    assert math.isnan(FLOAT.pow(-8.0, 1 / 3))
    assert FLOAT.pow(10.0, 400.0) == math.inf
    assert FLOAT.exp(1000.0) == math.inf
    assert FLOAT.log(0.0) == -math.inf
    assert math.isnan(FLOAT.sin(math.inf))
