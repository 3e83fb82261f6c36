"""Value: operators, known numbers, bad input, numerics."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest

from autograd import Value, no_grad
from autograd.value import dot, vsum

# ---- known numbers ---------------------------------------------------------------------------


def test_micrograd_readme_expression():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def test_lecture_neuron():
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071, abs=1e-4)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0), abs=1e-4)


def test_shared_node_accumulates_and_second_backward_doubles_leaves_only():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0
    c.backward()
    assert a.grad == 8.0  # leaves accumulate, as in PyTorch
    assert b.grad == 2.0  # non-leaves hold this pass's d(c)/d(b): no double counting


def test_parents_keep_order_and_multiplicity():
    x, y = Value(2.0), Value(5.0)
    assert (x * x).parents == (x, x)
    assert (y - x).parents == (y, x)
    z = x * x
    z.backward()
    assert x.grad == 4.0


# ---- operators -------------------------------------------------------------------------------


def test_a_node_is_one_object_for_the_garbage_collector():
    # Inputs sit in slots, not in a tuple: a node with one or two inputs is one GC-tracked
    # object (n-ary nodes keep one tuple), and parents still reads as the ordered tuple.
    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    nodes = [x * y, 2 * x, -x, x.tanh(), vsum([x, y, z]), dot([x, y], [y, z])]

    def tracked_besides_values(node: Value) -> list[object]:
        refs = gc.get_referents(node)  # includes the class itself, which is not per node
        return [r for r in refs if gc.is_tracked(r) and not isinstance(r, (Value, type))]

    assert [tracked_besides_values(n) for n in nodes[:4]] == [[], [], [], []]
    assert [type(r) for n in nodes[4:] for r in tracked_besides_values(n)] == [tuple, tuple]
    assert [len(n.parents) for n in nodes] == [2, 2, 1, 1, 3, 4]
    assert nodes[4].parents == (x, y, z) and nodes[5].parents == (x, y, y, z)
    assert not nodes[0].is_leaf and x.is_leaf and x.parents == ()


@pytest.mark.parametrize(
    ("expr", "expected", "dx"),
    [
        (lambda x: x + 2, 5.0, 1.0),
        (lambda x: 2 + x, 5.0, 1.0),
        (lambda x: x - 2, 1.0, 1.0),
        (lambda x: 2 - x, -1.0, -1.0),
        (lambda x: x * 2, 6.0, 2.0),
        (lambda x: 2 * x, 6.0, 2.0),
        (lambda x: x / 2, 1.5, 0.5),
        (lambda x: 2 / x, 2 / 3, -2 / 9),
        (lambda x: x**2, 9.0, 6.0),
        (lambda x: 2**x, 8.0, 8 * math.log(2)),
        (lambda x: x**x, 27.0, 27 * (math.log(3) + 1)),
        (lambda x: -x, -3.0, -1.0),
        (lambda x: +x, 3.0, 1.0),
        (lambda x: abs(-x), 3.0, 1.0),
        (lambda x: np.float64(2.0) * x, 6.0, 2.0),
        (lambda x: x * np.int64(2), 6.0, 2.0),
        (lambda x: True + x, 4.0, 1.0),
    ],
)
def test_operators_and_reflected_operators(expr, expected, dx):
    x = Value(3.0)
    y = expr(x)
    assert isinstance(y, Value)
    y.backward()
    assert y.data == pytest.approx(expected)
    assert x.grad == pytest.approx(dx)


def test_methods_match_math():
    x = 0.7
    for name, fn in [
        ("exp", math.exp),
        ("log", math.log),
        ("sqrt", math.sqrt),
        ("tanh", math.tanh),
        ("sin", math.sin),
        ("cos", math.cos),
        ("sigmoid", lambda v: 1 / (1 + math.exp(-v))),
        ("softplus", lambda v: math.log1p(math.exp(v))),
        ("relu", lambda v: max(v, 0.0)),
    ]:
        assert getattr(Value(x), name)().data == pytest.approx(fn(x), rel=1e-14), name
    assert Value(-2.0).leaky_relu(0.1).data == pytest.approx(-0.2)
    assert Value(-2.0).leaky_relu().data == pytest.approx(-0.02)


def test_comparisons_compare_data_but_equality_is_identity():
    a, b = Value(1.0), Value(1.0)
    assert a <= b and a >= b and not a < b and not a > b
    assert a < 2 and a > 0.5 and 0.5 < a  # noqa: SIM300 - the reflected comparison
    assert a != b and a == a
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1
    assert max([Value(1.0), Value(3.0), Value(2.0)]).data == 3.0
    assert sorted([Value(2.0), Value(1.0)])[0].data == 1.0


def test_float_bool_format_repr():
    x = Value(0.5, label="x")
    assert float(x) == 0.5
    assert bool(x) and not bool(Value(0.0))
    assert f"{x:.2f}" == "0.50"
    assert repr(x) == "Value(data=0.5, grad=0.0, label='x')"
    assert repr(x.tanh()).startswith("Value(data=0.46")
    assert "op='tanh'" in repr(x.tanh())
    assert math.isclose(math.sqrt(Value(4.0)), 2.0)


def test_detach_is_a_fresh_leaf():
    x = Value(2.0, "x")
    y = (x * 3).detach()
    assert y.data == 6.0 and y.is_leaf and y.op == "" and y.parents == ()
    (y * x).backward()
    assert x.grad == 6.0 and y.grad == 2.0


def test_label_arg_and_scope_share_a_slot_and_read_back():
    from autograd.grad_mode import scope

    x = Value(2.0, label="x")
    assert (x.label, x.scope, x.arg) == ("x", None, None)
    with scope("Neuron:n"):
        cube = x**3  # an op with a constant
        square = x * x  # a scope only
        w = Value(1.0, label="w")
    assert (cube.label, cube.scope, cube.arg) == ("", ("Neuron:n",), 3.0)
    assert (square.label, square.scope, square.arg) == ("", ("Neuron:n",), None)
    assert (w.label, w.scope, w.arg) == ("w", ("Neuron:n",), None)
    cube.label, square.label = "cube", "square"
    assert (cube.label, cube.scope, cube.arg) == ("cube", ("Neuron:n",), 3.0)
    assert (square.label, square.scope) == ("square", ("Neuron:n",))
    square.label = ""
    assert (square.label, square.scope) == ("", ("Neuron:n",))
    assert repr(cube) == "Value(data=8.0, grad=0.0, op='pow', label='cube')"
    with pytest.raises(AttributeError):
        cube.arg = 2.0  # the constant belongs to the op that was recorded


def test_sum_builtin_and_nary_helpers():
    from autograd.value import dot, vsum

    xs = [Value(float(i)) for i in range(1, 5)]
    s = vsum(xs)
    assert s.op == "sum" and s.parents == tuple(xs) and s.data == 10.0
    assert vsum([]).data == 0.0
    d = dot(xs[:2], xs[2:])
    assert d.op == "dot" and d.data == 1 * 3 + 2 * 4
    d.backward()
    assert [x.grad for x in xs] == [3.0, 4.0, 1.0, 2.0]
    pair = vsum(xs[:2]) * dot(xs[2:3], xs[3:4])  # n-ary ops on two inputs, kept in _x and _y
    for x in xs:
        x.grad = 0.0
    pair.backward()
    assert [x.grad for x in xs] == [12.0, 12.0, 12.0, 9.0]
    with pytest.raises(ValueError, match="equal length"):
        dot(xs[:1], xs)
    assert sum(xs).data == 10.0


# ---- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", None, [1.0], 1 + 2j, b"1"])
def test_non_numeric_data_is_a_type_error_naming_value(bad):
    with pytest.raises(TypeError, match=r"Value.*" + type(bad).__name__):
        Value(bad)


@pytest.mark.parametrize("bad", ["a", None, [1.0]])
def test_arithmetic_with_non_numbers_is_a_type_error(bad):
    with pytest.raises(TypeError, match=f"Value.*{type(bad).__name__}|{type(bad).__name__}.*Value"):
        Value(1.0) + bad
    with pytest.raises(TypeError, match="Value"):
        bad * Value(1.0)
    with pytest.raises(TypeError, match="compare"):
        _ = Value(1.0) < bad


def test_value_of_a_value_says_what_to_do():
    with pytest.raises(TypeError, match="detach"):
        Value(Value(1.0))


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda x: x.log(), ValueError, r"log: input must be > 0, got -1.0 \(Value 'x'\)"),
        (lambda x: (x * 0).log(), ValueError, r"log: input must be > 0, got -0.0"),
        (lambda x: x.sqrt(), ValueError, r"sqrt: input must be >= 0, got -1.0 \(Value 'x'\)"),
        (lambda x: 1 / (x + 1), ZeroDivisionError, r"div: division by zero, got 1.0 / 0.0"),
        (lambda x: x / 0, ZeroDivisionError, r"div: division by zero.*\(Value 'x'\)"),
        (lambda x: (x * -1000).exp(), OverflowError, r"exp: .*too large.*exp\(1000.0\)"),
        (
            lambda x: (x + 1) ** -1,
            ZeroDivisionError,
            r"pow: 0.0 cannot be raised to a negative power",
        ),
        (
            lambda x: x**0.5,
            ValueError,
            r"pow: negative base with a non-integer exponent.*-1.0 \*\* 0.5",
        ),
        (lambda x: (x * -10) ** 400, OverflowError, r"pow: result is too large"),
        (lambda x: x ** Value(0.5), ValueError, r"pow_value: negative base"),
        (lambda x: (x + 1) ** Value(-2.0), ZeroDivisionError, r"pow_value: 0.0 cannot"),
    ],
)
def test_domain_errors_name_the_op_and_value(make, error, pattern):
    x = Value(-1.0, label="x")
    with pytest.raises(error, match=pattern) as info:
        make(x)
    assert "math domain error" not in str(info.value)


def test_domain_errors_still_raise_under_no_grad():
    with no_grad(), pytest.raises(ValueError, match="log"):
        Value(-1.0).log()


# ---- numerics --------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [-1000.0, -745.0, -50.0, 0.0, 50.0, 710.0, 1000.0])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
def test_saturating_functions_never_overflow(name, x):
    v = Value(x)
    y = getattr(v, name)()
    y.backward()
    assert math.isfinite(y.data) and math.isfinite(v.grad)
    if name == "softplus" and x >= 50:
        assert y.data == pytest.approx(x) and v.grad == pytest.approx(1.0)
    if name == "sigmoid":
        assert 0.0 <= y.data <= 1.0


def test_negative_base_with_value_exponent_follows_pytorch():
    """Real where Python defines it (integer exponent); d/dy is nan there, like PyTorch."""
    x, y = Value(-2.0), Value(3.0)
    z = x**y
    z.backward()
    assert z.data == -8.0
    assert x.grad == pytest.approx(12.0)
    assert math.isnan(y.grad)


def test_zero_base_exponent_gradient_is_zero_like_pytorch():
    x, y = Value(0.0), Value(2.0)
    (x**y).backward()
    assert x.grad == 0.0 and y.grad == 0.0


def test_sqrt_at_zero_has_infinite_gradient_like_pytorch():
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf


def test_relu_and_abs_gradient_at_zero_is_zero():
    for name in ("relu", "__abs__"):
        x = Value(0.0)
        getattr(x, name)().backward()
        assert x.grad == 0.0


def test_engine_needs_only_the_standard_library():
    """numpy is imported lazily (tape replay, numpy namespace); the engine itself never needs it."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from autograd import Value, grad, trace\n"
        "x = Value(2.0); y = (x * x).tanh(); y.backward()\n"
        "assert x.grad > 0 and grad(lambda v: v ** 3)(2.0) == 12.0\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_abs_is_a_method_too():
    """The README lists abs among the ops: ``x.abs()`` works as ``abs(x)`` does (issue 20.8)."""
    x = Value(-2.0, "x")
    y = x.abs()
    assert (y.data, y.op, y.parents) == (2.0, "abs", (x,))
    y.backward()
    assert x.grad == -1.0
    assert Value(0.0).abs().data == 0.0
    assert abs(x).data == x.abs().data
