"""Forward mode (jvp, jacfwd, jacrev, hvp): against central differences, against reverse mode,
and against torch.func in float64 where torch is installed; on both engines (conftest)."""

from __future__ import annotations

import math
import random

import pytest

from autograd import Value, grad, hessian, hvp, jacfwd, jacrev, jvp, no_grad
from autograd.value import apply

from .programs import TORCH, random_program

# torch.func calls torch.jit.script internally, which torch 2.13 reports as deprecated.
TORCH_FUNC_WARNING = "ignore:`torch.jit.script` is deprecated:DeprecationWarning"


def outputs(program, *inputs):
    """The program's output nodes one by one (a vector function), on our Values."""
    vals = list(inputs)
    for name, idx, arg in program.body:
        vals.append(apply(name, [vals[i] for i in idx], arg))
    return [vals[i] for i in program.outputs]


def torch_outputs(torch, program, x):
    """The same vector function on a 1-D torch tensor (what torch.func.jacfwd differentiates)."""
    from autograd.ops import OPS

    vals = list(x.unbind())
    for name, idx, arg in program.body:
        extra = [arg] if OPS[name].has_arg else []
        vals.append(TORCH[name](torch, *[vals[i] for i in idx], *extra))
    return torch.stack([vals[i] for i in program.outputs])


def central(f, xs, ts, h=1e-6):
    hi = f(*(Value(x + h * t) for x, t in zip(xs, ts)))
    lo = f(*(Value(x - h * t) for x, t in zip(xs, ts)))
    return (float(hi) - float(lo)) / (2 * h)


# ---- every op, on random programs -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_jvp_of_random_programs_matches_central_differences(seed):
    rng = random.Random(seed)
    program, xs = random_program(rng, 3, 16)
    ts = [rng.uniform(-1, 1) for _ in xs]
    value, tangent = jvp(program.run_values, xs, ts)
    with no_grad():
        assert value == program.run_values(*map(Value, xs)).data
    assert tangent == pytest.approx(central(program.run_values, xs, ts), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("seed", range(60))
def test_jvp_equals_the_gradient_dotted_with_the_tangent(seed):
    rng = random.Random(seed)
    program, xs = random_program(rng, 3, 16, stop_gradient=True)
    ts = [rng.uniform(-1, 1) for _ in xs]
    _, tangent = jvp(program.run_values, xs, ts)
    g = grad(program.run_values, argnums=(0, 1, 2))(*xs)
    assert tangent == pytest.approx(sum(a * b for a, b in zip(g, ts)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(30))
def test_jacfwd_equals_jacrev_and_jacfwd_of_jacrev_is_the_hessian(seed):
    program, xs = random_program(random.Random(seed), 3, 14, stop_gradient=True)
    f = lambda v: outputs(program, *v)
    forward, reverse = jacfwd(f)(xs), jacrev(f)(xs)
    assert len(forward) == len(program.outputs) and all(len(row) == 3 for row in forward)
    for a, b in zip(forward, reverse):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12)
    total = lambda a, b, c: program.run_values(a, b, c)
    h = hessian(total, argnums=(0, 1, 2))(*xs)
    nested = jacfwd(jacrev(total, argnums=(0, 1, 2)), argnums=(0, 1, 2))(*xs)
    for i in range(3):
        assert list(nested[i]) == pytest.approx(h[i], rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("seed", range(20))
def test_hvp_is_the_hessian_times_the_direction(seed):
    rng = random.Random(seed)
    program, xs = random_program(rng, 3, 12, stop_gradient=True)
    v = [rng.uniform(-1, 1) for _ in xs]
    h = hessian(program.run_values, argnums=(0, 1, 2))(*xs)
    expected = [sum(h[i][j] * v[j] for j in range(3)) for i in range(3)]
    assert list(hvp(program.run_values)(xs, v)) == pytest.approx(expected, rel=1e-10, abs=1e-10)


# ---- against torch.func -----------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.filterwarnings(TORCH_FUNC_WARNING)
@pytest.mark.parametrize("seed", range(60))
def test_random_programs_match_torch_func(seed):
    torch = pytest.importorskip("torch")
    rng = random.Random(seed)
    program, xs = random_program(rng, 3, 16, stop_gradient=True)
    ts = [rng.uniform(-1, 1) for _ in xs]
    f64 = dict(dtype=torch.float64)
    x, t = torch.tensor(xs, **f64), torch.tensor(ts, **f64)
    tf = lambda x: torch_outputs(torch, program, x)
    value, tangent = torch.func.jvp(tf, (x,), (t,))
    ours_value, ours_tangent = jvp(lambda v: outputs(program, *v), (xs,), (ts,))
    assert ours_value == pytest.approx(value.tolist(), rel=1e-12, abs=1e-12)
    assert ours_tangent == pytest.approx(tangent.tolist(), rel=1e-12, abs=1e-12)
    f = lambda v: outputs(program, *v)
    for ours, theirs in (
        (jacfwd(f)(xs), torch.func.jacfwd(tf)(x)),
        (jacrev(f)(xs), torch.func.jacrev(tf)(x)),
    ):
        for a, b in zip(ours, theirs.tolist()):
            assert a == pytest.approx(b, rel=1e-12, abs=1e-12)


@pytest.mark.torch
@pytest.mark.filterwarnings(TORCH_FUNC_WARNING)
@pytest.mark.parametrize("seed", range(15))
def test_hessians_and_hvps_match_torch_func(seed):
    torch = pytest.importorskip("torch")
    rng = random.Random(seed)
    program, xs = random_program(rng, 3, 10, stop_gradient=True)
    v = [rng.uniform(-1, 1) for _ in xs]
    x = torch.tensor(xs, dtype=torch.float64)
    tf = lambda x: torch_outputs(torch, program, x).sum()
    theirs = torch.func.jacfwd(torch.func.jacrev(tf))(x)
    f = lambda u: sum(outputs(program, *u))
    ours = jacfwd(jacrev(f))(xs)
    for a, b in zip(ours, theirs.tolist()):
        assert a == pytest.approx(b, rel=1e-10, abs=1e-10)
    t_hvp = torch.func.jvp(torch.func.grad(tf), (x,), (torch.tensor(v, dtype=torch.float64),))[1]
    assert hvp(f)((xs,), (v,))[0] == pytest.approx(t_hvp.tolist(), rel=1e-10, abs=1e-10)


@pytest.mark.torch
@pytest.mark.filterwarnings(TORCH_FUNC_WARNING)
@pytest.mark.parametrize(
    "name, x0", [("sqrt", 0.0), ("relu", 0.0), ("abs", 0.0), ("leaky_relu", 0.0)]
)
def test_tangents_at_domain_edges_follow_torch(name, x0):
    torch = pytest.importorskip("torch")
    arg = [0.1] if name == "leaky_relu" else []
    for t0 in (1.0, 0.0):
        _, ours = jvp(lambda x: apply(name, [x], *arg), (x0,), (t0,))
        x, t = torch.tensor(x0, dtype=torch.float64), torch.tensor(t0, dtype=torch.float64)
        theirs = torch.func.jvp(lambda x: TORCH[name](torch, x, *arg), (x,), (t,))[1].item()
        assert ours == pytest.approx(theirs, nan_ok=True) or (
            math.isnan(ours) and math.isnan(theirs)
        )


# ---- conventions ----------------------------------------------------------------------------


def test_jacobian_layouts_follow_jax():
    up = lambda x: [x, x * x, x.exp()]  # one input, three outputs
    assert jacfwd(up)(1.0) == pytest.approx([1.0, 2.0, math.e])
    assert jacrev(up)(1.0) == pytest.approx([1.0, 2.0, math.e])
    down = lambda xs: xs[0] * xs[1] + xs[2]  # three inputs, one output: the gradient
    assert jacrev(down)([2.0, 3.0, 4.0]) == [3.0, 2.0, 1.0]
    assert jacfwd(down)([2.0, 3.0, 4.0]) == [3.0, 2.0, 1.0]
    two = lambda a, b: (a * b, a + b)  # tuple argnums: a tuple per output; a tuple output stays
    assert jacfwd(two, argnums=(0, 1))(2.0, 5.0) == ((5.0, 2.0), (1.0, 1.0))
    assert jacrev(two, argnums=1)(2.0, 5.0) == (2.0, 1.0)
    assert jacfwd(lambda a, b: a * b, argnums=-1)(2.0, 5.0) == 2.0
    mixed = lambda xs, y: [xs[0] * y, xs[1] * y]  # a list argument and a scalar
    assert jacrev(mixed, argnums=(0, 1))([1.0, 2.0], 3.0) == [([3.0, 0.0], 1.0), ([0.0, 3.0], 2.0)]
    assert jvp(two, (2.0, 5.0), (1.0, 0.0)) == ((10.0, 7.0), (5.0, 1.0))


def test_a_constant_output_has_zero_derivatives():
    assert jvp(lambda x: 3.0, (1.0,), (1.0,)) == (3.0, 0.0)
    assert jacfwd(lambda x: [x, 2.0])(1.0) == [1.0, 0.0]
    assert jacrev(lambda x, y: x * 2, argnums=(0, 1))(1.0, 4.0) == (2.0, 0.0)
    assert jvp(lambda x: x.stop_gradient() * 2, (1.0,), (1.0,)) == (2.0, 0.0)


def test_forward_mode_composes_with_grad():
    f = lambda x: x.sin() * x.exp()
    d = lambda x: jvp(f, (x,), (1.0,))[1]
    x0 = 0.7
    assert d(x0) == pytest.approx(grad(f)(x0), rel=1e-14)
    assert grad(d)(x0) == pytest.approx(grad(grad(f))(x0), rel=1e-13)
    assert jacfwd(grad(f))(x0) == pytest.approx(grad(grad(f))(x0), rel=1e-13)
    assert grad(lambda x: jacfwd(f)(x))(x0) == pytest.approx(grad(grad(f))(x0), rel=1e-13)
    third = jacfwd(jacfwd(jacrev(f)))(x0)
    assert third == pytest.approx(grad(grad(grad(f)))(x0), rel=1e-12)


def test_values_in_give_values_with_a_graph_out_and_leave_grad_alone():
    x = Value(0.5, label="x")
    value, tangent = jvp(lambda u: u * u * u, (x,), (Value(2.0),))
    assert isinstance(value, Value) and isinstance(tangent, Value)
    assert tangent.data == pytest.approx(3 * 0.25 * 2.0)
    tangent.backward()
    assert x.grad == pytest.approx(6 * 0.5 * 2.0)  # d/dx (3 x^2 t) = 6 x t
    y = Value(1.5)
    jacfwd(lambda u: u.tanh())(y)
    assert y.grad == 0.0


def test_one_value_passed_twice_is_two_inputs():
    x = Value(3.0)
    f = lambda a, b: a * a * b
    assert float(jvp(f, (x, x), (1.0, 0.0))[1]) == 2 * 3.0 * 3.0  # d/da only
    for jac in (jacrev, jacfwd):
        assert [float(d) for d in jac(f, argnums=(0, 1))(x, x)] == [18.0, 9.0]
    a = Value(2.0)
    b = a * 3.0  # passed as its own input: its tangent is the one given, not 3 t_a
    assert [float(d) for d in jacrev(lambda u, v: u * v, argnums=(0, 1))(a, b)] == [6.0, 2.0]


def test_inputs_are_independent_of_what_computed_them():
    a = Value(2.0)
    b = a * 3.0  # passed as its own input: its tangent is the one given, not 3 t_a
    assert float(jvp(lambda u, v: u * v, (a, b), (1.0, 0.0))[1]) == 6.0


def test_jvp_works_under_no_grad():
    x = Value(3.0)
    with no_grad():
        assert jvp(lambda x: x * x, (3.0,), (1.0,)) == (9.0, 6.0)
        assert jacrev(lambda x: x * x)(3.0) == 6.0
        tangent = jvp(lambda a, b: a * b, (x, x), (1.0, 0.0))[1]  # two inputs, one Value
    assert float(tangent) == 3.0
    tangent.backward()  # d/da (a * b) = b, which is x again: its graph reaches x
    assert x.grad == 1.0


# ---- errors ---------------------------------------------------------------------------------


def test_domain_errors_are_the_ones_eager_execution_raises():
    with pytest.raises(ValueError, match=r"log: input must be > 0, got -1.0"):
        jvp(lambda x: x.log(), (-1.0,), (1.0,))
    with pytest.raises(ZeroDivisionError, match=r"div: division by zero"):
        jacfwd(lambda x: 1.0 / x)(0.0)
    with pytest.raises(ValueError, match=r"sqrt: input must be >= 0"):
        jacrev(lambda x: x.sqrt())(-2.0)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: jvp(lambda x: x, (1.0,), (1.0, 2.0)),
            ValueError,
            "jvp: got 1 primals but 2 tangents",
        ),
        (lambda: jvp(lambda x: x, 1.0, (1.0,)), TypeError, "jvp: primals must be a tuple or list"),
        (lambda: jvp(lambda x: x, (1.0,), 1.0), TypeError, "jvp: tangents must be a tuple or list"),
        (lambda: jvp(lambda x: x, ("a",), (1.0,)), TypeError, "jvp: primal 0 must be a number"),
        (lambda: jvp(lambda x: x, (1.0,), (None,)), TypeError, "jvp: tangent 0 must be a number"),
        (lambda: jvp(lambda x: x, ([1.0, 2.0],), ([1.0],)), ValueError, "jvp: tangent 0 .* shape"),
        (lambda: jvp(lambda x: "no", (1.0,), (1.0,)), TypeError, "jvp: f's result must be"),
        (lambda: jacfwd(lambda x: x, argnums=2)(1.0), ValueError, "jacfwd: argnums 2 out of range"),
        (lambda: jacrev(lambda x: x)("s"), TypeError, "jacrev: argument 0 must be a number"),
        (lambda: hvp(lambda x: x)((1.0,), ()), ValueError, "hvp: got 1 primals but 0 tangents"),
        (lambda: hvp(lambda x: x)(1.0, (1.0,)), TypeError, "hvp: primals must be a tuple"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()
