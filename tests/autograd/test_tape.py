"""The tape: traced replays against the eager engine, its limits, and its schedule."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Value, grad, trace
from autograd.backward import gradients
from autograd.ops import OPS
from autograd.tape import StructureError, Tape
from autograd.value import apply, dot, vmax, vsum

from .programs import random_program

TOL = 1e-9


def close(a: float, b: float) -> bool:
    return abs(a - b) <= TOL * max(1.0, abs(b))


def assert_close(tape_values, eager_values):
    tape_values, eager_values = list(tape_values), list(eager_values)
    assert len(tape_values) == len(eager_values)
    for i, (t, e) in enumerate(zip(tape_values, eager_values)):
        assert close(t, e), f"item {i}: tape {t!r} vs eager {e!r}"


def eager_grads(fn, xs, params=()):
    """Output, input gradients and parameter gradients of eager backward (params' .grad kept)."""
    saved = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    inputs = [Value(x) for x in xs]
    out = fn(*inputs)
    out.backward()
    result = out.data, [v.grad for v in inputs], [p.grad for p in params]
    for p, g in zip(params, saved):
        p.grad = g
    return result


# ---- random graphs and every op ----------------------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n_inputs=st.integers(1, 4), n_ops=st.integers(1, 30))
def test_random_graphs_match_eager(seed, n_inputs, n_ops):
    program, xs = random_program(random.Random(seed), n_inputs, n_ops)
    tape = trace(program.run_values, *xs)
    rng = random.Random(seed + 1)
    for point in (xs, [x + rng.uniform(-1e-3, 1e-3) for x in xs]):
        try:
            out, gin, _ = eager_grads(program.run_values, point)
        except (ArithmeticError, ValueError):
            assume(False)
        value, grads = tape.value_and_grad(*point)
        assert_close([value], [out])
        assert_close(grads, gin)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n_ops=st.integers(1, 25), batch=st.integers(2, 6))
def test_a_batch_of_random_graphs_in_one_trace_matches_eager(seed, n_ops, batch):
    # The same program on several points: every level groups many rows, with fan-out.
    program, xs = random_program(random.Random(seed), 3, n_ops)
    rng = random.Random(seed + 2)
    points = [[x + rng.uniform(-1e-3, 1e-3) for x in xs] for _ in range(batch)]
    flat = [x for point in points for x in point]

    def f(*vs):
        return sum(program.run_values(*vs[3 * b : 3 * b + 3]) * (b + 1) for b in range(batch))

    try:
        out, gin, _ = eager_grads(f, flat)
    except (ArithmeticError, ValueError):
        assume(False)
    value, grads = trace(f, *flat).value_and_grad(*flat)
    assert_close([value], [out])
    assert_close(grads, gin)


def _op_inputs(op):
    """Every example of ``op`` as (inputs, arg), each repeated with small shifts so a group
    holds many rows (and ops with an arg see several different args in one group)."""
    cases = []
    for example in op.examples:
        xs, arg = (example[:-1], example[-1]) if op.has_arg else (example, None)
        fixed = 1 if op.name == "select" else 0  # its index stays an integer
        for shift in (0.0, 0.01, 0.02):
            cases.append(([*xs[:fixed], *(x + shift for x in xs[fixed:])], arg))
    return cases


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_in_the_table_matches_eager(name):
    op = OPS[name]
    cases = _op_inputs(op)
    flat = [x for xs, _ in cases for x in xs]
    weights = [random.Random(i).uniform(0.5, 1.5) for i in range(len(cases))]

    def f(*vs):
        it = iter(vs)
        terms = []
        for (xs, arg), w in zip(cases, weights):
            y = apply(name, [next(it) for _ in xs], arg)
            terms.append(y * w)  # a multi-use-free product: fused into the final sum
        return vsum(terms)

    tape = trace(f, *flat)
    out, gin, _ = eager_grads(f, flat)
    value, grads = tape.value_and_grad(*flat)
    assert_close([value], [out])
    assert_close(grads, gin)


def test_higher_order_gradients_inside_the_traced_function():
    df = grad(lambda t: t**3 * t.sin())  # on a Value it returns a Value with a graph
    tape = trace(df, 1.3)
    for x in (1.3, -0.4, 2.2):
        assert close(tape(x), 3 * x**2 * math.sin(x) + x**3 * math.cos(x))


# ---- networks: parameters, accumulation, updates ------------------------------------------------


class Net:
    """micrograd's MLP layout on our Values (until the tests can use nn.MLP)."""

    def __init__(self, sizes, activation="relu", seed=0, fused=False):
        rng = random.Random(seed)
        self.activation, self.fused = activation, fused
        self.layers = [
            [
                ([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(rng.uniform(-0.1, 0.1)))
                for _ in range(nout)
            ]
            for nin, nout in zip(sizes, sizes[1:])
        ]

    def parameters(self):
        return [p for layer in self.layers for w, b in layer for p in [*w, b]]

    def __call__(self, x):
        for k, layer in enumerate(self.layers):
            last = k == len(self.layers) - 1
            out = []
            for w, b in layer:
                act = dot(w, x) + b if self.fused else sum((wi * xi for wi, xi in zip(w, x)), b)
                if not last:
                    act = getattr(act, self.activation)()
                out.append(act)
            x = out
        return x


def hinge_loss(net, params):
    def loss(xs, ys):
        scores = [net(x)[0] for x in xs]
        data = sum((1 + -y * s).relu() for y, s in zip(ys, scores)) * (1.0 / len(scores))
        return data + 1e-4 * sum(p * p for p in params)

    return loss


def moons_like(n, seed=0):
    rng = random.Random(seed)
    X = [[rng.uniform(-2, 2), rng.uniform(-1, 1)] for _ in range(n)]
    Y = [1.0 if x[1] > 0.3 * math.sin(2 * x[0]) else -1.0 for x in X]
    return X, Y


def eager_step(loss, xs, ys, params):
    for p in params:
        p.grad = 0.0
    out = loss([[Value(a) for a in row] for row in xs], [Value(y) for y in ys])
    out.backward()
    return out.data, [p.grad for p in params]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "softplus"])
@pytest.mark.parametrize("fused", [False, True])
def test_mlp_training_in_lockstep_with_eager(activation, fused):
    X, Y = moons_like(20)
    nets = [Net([2, 6, 5, 1], activation, seed=3, fused=fused) for _ in range(2)]
    eager_params, tape_params = (net.parameters() for net in nets)
    eager_loss, tape_loss = (
        hinge_loss(net, ps) for net, ps in zip(nets, (eager_params, tape_params))
    )
    tape = trace(tape_loss, X, Y)
    assert tape.stats["grids"] >= 3  # each layer is one matrix product
    assert set(tape.parameters) == set(tape_params)
    for step in range(4):
        e_loss, e_grads = eager_step(eager_loss, X, Y, eager_params)
        for p in tape_params:
            p.grad = 0.0
        t_loss = tape(np.array(X), np.array(Y))
        tape.backward()
        assert close(t_loss, e_loss), step
        assert_close([p.grad for p in tape_params], e_grads)
        lr = 0.5
        for pe, pt in zip(eager_params, tape_params):  # parameters change between replays
            pe.data -= lr * pe.grad
            pt.data -= lr * pt.grad


def test_fused_and_unfused_networks_replay_the_same_numbers():
    X, Y = moons_like(15)
    results = []
    for fused in (False, True):
        net = Net([2, 4, 4, 1], "tanh", seed=1, fused=fused)
        params = net.parameters()
        value, _ = trace(hinge_loss(net, params), X, Y).value_and_grad(X, Y)
        results.append((value, [p.grad for p in params]))
    assert close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_backward_accumulates_into_parameters_like_eager():
    p, q = Value(0.7), Value(-1.2)
    f = lambda x: (p * x + q).tanh() * p  # noqa: E731
    tape = trace(f, 0.5)
    out, _, (gp, gq) = eager_grads(f, [0.5], [p, q])
    tape(0.5)
    tape.backward()
    tape.backward()  # a second pass adds again, as eager backward() does
    assert close(p.grad, 2 * gp) and close(q.grad, 2 * gq)
    tape.backward(seed=0.5)
    assert close(p.grad, 2.5 * gp)


def test_values_passed_to_a_replay_get_their_grads():
    tape = trace(lambda x, y: x * y + x, 2.0, 3.0)
    x, y = Value(5.0), Value(7.0)
    assert tape(x, y) == 40.0
    tape.backward()
    assert (x.grad, y.grad) == (8.0, 5.0)


def test_parameters_constants_and_inputs_are_told_apart():
    p = Value(2.0, label="p")

    def f(x):
        c = Value(10.0)  # made during the call: a constant, baked in
        return x * p + c + 1

    tape = trace(f, 1.0)
    assert tape.parameters == [p]
    assert tape.stats["literals"] == 2 and tape.stats["inputs"] == 1
    p.data = 3.0  # read afresh on every replay
    assert tape(1.0) == 14.0


def test_value_and_grad_shapes_follow_the_arguments():
    tape = trace(
        lambda s, xs, m: s * sum(xs) + sum(r[0] * r[1] for r in m), 2.0, [1.0, 2.0], [[1.0, 2.0]]
    )
    value, (gs, gxs, gm) = tape.value_and_grad(2.0, [1.0, 2.0], np.array([[3.0, 4.0]]))
    assert value == 2.0 * 3.0 + 12.0
    assert gs == 3.0 and gxs == [2.0, 2.0]
    assert isinstance(gm, np.ndarray) and gm.tolist() == [[4.0, 3.0]]


def test_several_outputs():
    tape = trace(lambda x: [x * 2, [x + 1, 5]], 1.0)
    assert tape(3.0) == [6.0, [4.0, 5.0]]
    with pytest.raises(ValueError, match="single Value"):
        tape.backward()


# ---- limits: structure, shapes, check=True ------------------------------------------------------


def test_a_flipped_comparison_raises():
    def f(x, y):
        z = x * y
        return z * 2 if z > 0 else -z  # Python control flow on data

    tape = trace(f, 1.0, 2.0)
    assert tape(3.0, 4.0) == 24.0  # same side: fine
    with pytest.raises(StructureError, match="comparison"):
        tape(-3.0, 4.0)


def test_truth_tests_and_comparisons_between_values_are_guarded():
    tape = trace(lambda a, b: max(a, b) * 1.0, 1.0, 2.0)  # max compares two Values
    assert tape(1.5, 2.5) == 2.5
    with pytest.raises(StructureError):
        tape(3.0, 2.0)
    truthy = trace(lambda a: a * 2 if a else a + 1, 1.0)
    with pytest.raises(StructureError, match="truth test"):
        truthy(0.0)


def test_a_guarded_value_need_not_reach_the_output():
    p = Value(1.0)

    def f(x):
        if (p * 3) > 2:  # p * 3 is not part of the result
            return x * 2
        return x * 3

    tape = trace(f, 1.0)
    assert tape(5.0) == 10.0
    p.data = 0.1  # parameters are read afresh, and so are their guards
    with pytest.raises(StructureError):
        tape(5.0)


def test_check_catches_what_the_trace_cannot_see():
    f = lambda x: x * 2 if x.data > 0 else x * 3  # noqa: E731  reading .data is invisible
    unchecked = trace(f, 1.0)
    assert unchecked(-1.0) == -2.0  # silently the traced branch
    checked = trace(f, 1.0, check=True)
    assert checked(2.0) == 4.0
    checked.backward()
    with pytest.raises(StructureError, match="eagerly"):
        checked(-1.0)


def test_check_verifies_parameter_gradients():
    p = Value(0.5)
    tape = trace(lambda x: (p * x).sigmoid() * p, 2.0, check=True)
    tape(3.0)
    tape.backward()  # passes: the tape is right
    assert p.grad != 0.0


def test_new_shapes_retrace_and_shapes_are_cached():
    calls = []

    def f(xs):
        calls.append(len(xs))
        return sum(x * x for x in xs)

    tape = trace(f, [1.0, 2.0])
    assert tape([3.0, 4.0]) == 25.0
    assert tape(np.array([1.0, 2.0, 3.0])) == 14.0  # new shape: traced again
    assert tape([2.0, 2.0, 2.0]) == 12.0  # a list of the same shape shares the trace
    assert calls == [2, 3]
    ragged = trace(lambda rows: sum(sum(r) for r in rows), [[1.0], [2.0, 3.0]])
    assert ragged([[1.0], [1.0, 1.0]]) == 3.0


def test_domain_errors_name_the_op():
    tape = trace(lambda x: (x - 1).log(), 3.0)
    assert close(tape(4.0), math.log(3.0))
    with pytest.raises(ValueError, match="log"):
        tape(0.5)


def test_values_computed_before_the_call_are_refused():
    w = Value(2.0)
    w2 = w * 3
    with pytest.raises(ValueError, match="computed before the call"):
        trace(lambda x: x * w2, 1.0)
    frozen = w2.detach()
    assert trace(lambda x: x * frozen, 1.0).parameters == [frozen]


def test_backward_before_any_replay_is_an_error():
    tape = trace(lambda x: x * 2, 1.0)
    with pytest.raises(RuntimeError, match="call the tape first"):
        tape.backward()


# ---- schedule -----------------------------------------------------------------------------------


def test_fan_in_does_not_make_levels():
    params = [Value(random.Random(i).uniform(-1, 1)) for i in range(500)]
    tape = trace(lambda x: x * 1e-4 * sum(p * p for p in params), 1.0)  # 500 chained adds
    assert tape.stats["levels"] <= 3
    out, _, grads = eager_grads(lambda x: x * 1e-4 * sum(p * p for p in params), [1.0], params)
    tape(1.0)
    before = [p.grad for p in params]
    tape.backward()
    assert_close([p.grad - b for p, b in zip(params, before)], grads)


def test_fan_out_is_summed():
    def f(xs):
        x, y = xs
        terms = [x * x, x * y, y * x, (x * 2).tanh(), (x * 3).tanh(), x.exp(), y.exp()]
        return vsum(terms) * x

    xs = [0.3, -0.8]
    tape = trace(f, xs)
    value, (g,) = tape.value_and_grad(xs)
    out, gin, _ = eager_grads(lambda a, b: f([a, b]), xs)
    assert close(value, out)
    assert_close(g, gin)


def test_rows_record_the_graph():
    tape = trace(lambda x, y: (x * y).tanh() + 1, 1.0, 2.0)
    rows = tape.rows
    assert [r.op for r in rows] == ["mul", "tanh", "add"]
    assert rows[1].inputs == (rows[0].out,)
    assert "Tape of" in repr(tape)


def test_has_aux_returns_the_loss_and_auxiliary_outputs():
    w = Value(0.5)

    def f(xs, ys):
        preds = [(w * x).tanh() for x in xs]
        return sum((p - y) ** 2 for p, y in zip(preds, ys)), preds

    tape = trace(f, [1.0, 2.0], [0.0, 1.0], has_aux=True, check=True)
    loss, preds = tape([1.0, 2.0], [0.0, 1.0])
    assert preds == [math.tanh(0.5), math.tanh(1.0)]
    assert close(loss, preds[0] ** 2 + (preds[1] - 1) ** 2)
    tape.backward()
    assert w.grad != 0.0
    with pytest.raises(TypeError, match="pair"):
        trace(lambda x: x * 2, 1.0, has_aux=True)


def test_degenerate_functions():
    p = Value(2.0)
    assert trace(lambda x: x, 3.0).value_and_grad(5.0) == (5.0, (1.0,))  # identity
    assert trace(lambda x: 7, 3.0).value_and_grad(1.0) == (7.0, (0.0,))  # a constant
    no_args = trace(lambda: p * 3)  # everything through the closure
    assert no_args.value_and_grad() == (6.0, ())
    assert p.grad == 3.0
    assert trace(lambda xs: [x * 2 for x in xs], [])([]) == []


# ---- arguments that are Values -----------------------------------------------------------------


def test_a_bare_value_is_an_argument():
    x = Value(3.0)
    tape = trace(lambda a: a * a, x)
    assert tape(x) == 9.0
    tape.backward()
    assert x.grad == 6.0
    assert tape.value_and_grad(Value(-2.0)) == (4.0, (-4.0,))


def test_a_computed_value_passes_its_gradient_on_as_eager_does():
    def f(a, b):
        return (a * b).tanh() + a * a

    def graph():
        w = Value(0.7, label="w")
        return w, w * 3, (w + 1).sin()  # two computed arguments sharing the leaf w

    w, a, b = graph()
    f(a, b).backward()
    eager = w.grad, a.grad, b.grad

    w, a, b = graph()
    tape = trace(f, 0.1, 0.2)
    tape(a, b)
    tape.backward()
    assert_close([w.grad, a.grad, b.grad], eager)
    tape(a, b)
    tape.backward()  # a second pass adds into the leaf again; computed nodes get this pass's
    assert_close([w.grad, a.grad, b.grad], [2 * eager[0], eager[1], eager[2]])


# ---- parameters replaced after tracing ---------------------------------------------------------


class Box:
    """A module-like holder: what ``parameters()`` returns is what the tape watches."""

    def __init__(self):
        self.w = [Value(0.5), Value(-1.0)]
        self.b = Value(0.25)

    def parameters(self):
        return [*self.w, self.b]

    def __call__(self, x):
        return self.w[0] * x + self.w[1] * x * x + self.b


def test_mutating_a_parameter_is_seen_and_replacing_one_is_refused():
    box = Box()
    tape = trace(lambda x: box(x), 2.0)
    box.w[0].data = 1.5  # changed in place: read on the next replay
    assert tape(2.0) == 1.5 * 2 - 4.0 + 0.25
    box.w[0] = Value(9.0)  # replaced: the tape would keep reading the old Value
    with pytest.raises(StructureError, match="replaced"):
        tape(2.0)


@pytest.mark.parametrize(
    "replace",
    [
        lambda box: setattr(box, "b", Value(1.0)),
        lambda box: setattr(box, "w", [Value(0.5), Value(-1.0)]),
        lambda box: box.w.__setitem__(1, Value(-1.0)),
    ],
    ids=["attribute", "list", "item"],
)
def test_every_way_of_replacing_a_parameter_is_caught(replace):
    box = Box()
    tape = trace(box, 2.0)  # a module-like object itself as the function
    assert tape(1.0) == box(Value(1.0)).data
    replace(box)
    with pytest.raises(StructureError, match="replaced"):
        tape(1.0)


def test_a_closure_rebinding_its_parameter_is_caught():
    p = Value(2.0)

    def f(x):
        return p * x

    tape = trace(f, 1.0)
    assert tape(3.0) == 6.0
    p = Value(5.0)  # noqa: F841 - the closure now reads another Value
    with pytest.raises(StructureError, match="`p`"):
        tape(3.0)


# ---- printing and batches ----------------------------------------------------------------------


def test_str_prints_the_rows_like_a_jaxpr():
    w = Value(0.5, label="w")
    tape = trace(lambda x: (x * w).tanh() + 1, 2.0)
    lines = str(tape).splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert "  %0 = in0" in lines and "  %1 = param w" in lines
    assert any(line.endswith("= mul(%0, %1)") for line in lines)
    assert any("literal 1" in line for line in lines)
    assert lines[-2].startswith("  return %")
    pow_tape = trace(lambda x: x**3, 2.0)
    assert "= pow(%0; 3)" in str(pow_tape)
    assert [r.const for r in pow_tape.rows] == [3.0]


def test_vmap_replays_every_sample_at_once():
    p = Value(0.3)

    def f(x, ys):
        return (x * p).tanh() * ys[0] + vmax([ys[1], x]).stop_gradient() * ys[1]

    tape = trace(f, 0.5, [1.0, 2.0])
    xs = np.array([0.5, -1.0, 2.0, 0.0])
    ys = np.array([[1.0, 2.0], [0.5, -0.5], [3.0, 3.0], [-1.0, 0.0]])
    values, (gx, gy) = tape.vmap_value_and_grad(xs, ys)
    assert gx.shape == (4,) and gy.shape == (4, 2)
    total = 0.0
    for k in range(4):
        x, y = Value(xs[k]), [Value(v) for v in ys[k]]
        out = f(x, y)
        (g,) = [gradients(out).get(v, 0.0) for v in (x,)]
        assert close(values[k], out.data) and close(gx[k], g)
        total += gradients(out).get(p, 0.0)
    assert close(p.grad, total)  # parameters get the sum over the samples
    assert tape.vmap(xs, ys) == values


def test_dead_code_is_not_replayed_and_check_true_says_so():
    """The rule for dead code (#20.12, documented on Tape): what fn does not return is not
    replayed, so its domain error is not raised on the tape; check=True raises it as eager."""
    fn = lambda x: (x.log(), x * 2)[1]  # noqa: E731
    assert trace(fn, 1.0)(-1.0) == -2.0
    with pytest.raises(ValueError, match="^log: input must be > 0"):
        fn(Value(-1.0))
    with pytest.raises(ValueError, match="^log: input must be > 0"):
        trace(fn, 1.0, check=True)(-1.0)
    assert "dead" in " ".join(Tape.__doc__.lower().split())
