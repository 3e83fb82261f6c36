"""The tape's inner parts: in-place rules, domain checks, passes, kernels, the recording."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from autograd import Value, trace
from autograd.namespaces import FLOAT, NUMPY
from autograd.ops import OPS
from autograd.tape.adapters import FAST
from autograd.tape.passes import cut_inputs, fuse_linear, use_counts
from autograd.tape.record import Recording

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e300, -1e300, 5e-324, math.inf, -math.inf, math.nan]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


# relu's in-place rules give 0.0 for -0.0 and -0.0 for 0.0 in places (adapters.py says why
# those are the same numbers); every other bit is the table's.
SIGNED_ZERO_ONLY = {"relu"}


@pytest.mark.parametrize("name", sorted(FAST))
def test_in_place_rules_give_the_tables_bits(name):
    op, fast = OPS[name], FAST[name]
    x = np.array(EDGES).reshape(3, 4)
    g = np.array(list(reversed(EDGES))).reshape(3, 4)
    with np.errstate(all="ignore"):
        out = np.asarray(op.fwd(NUMPY, x), dtype=float)
        if fast.forward is not None:
            mine = np.empty_like(x)
            fast.forward(x, mine)
            if name in SIGNED_ZERO_ONLY:
                assert np.array_equal(mine, out, equal_nan=True)
                assert same_bits(mine[x != 0], out[x != 0])
            else:
                assert same_bits(mine, out)
        if fast.backward is not None:
            for grad in (g, np.where(np.isfinite(g), g, 0.5)):  # with and without inf and nan
                (expected,) = op.vjp(NUMPY, grad, out, x)
                expected = np.asarray(expected, dtype=float)
                mine = np.empty_like(x)
                fast.backward(grad, out, x, mine)()
                if not fast.exact and not np.isfinite(grad).all():
                    # It may differ from the rule only by a nan where the rule has a number
                    # (inf * 0): the program's one check per backward pass sees the nan and
                    # runs the rule instead (test_an_infinite_gradient_through_relu...).
                    same = (mine == expected) | (np.isnan(mine) & np.isnan(expected))
                    assert np.isnan(mine[~same]).all()
                    continue
                if name in SIGNED_ZERO_ONLY:
                    assert np.array_equal(mine, expected, equal_nan=True)
                    assert same_bits(mine[mine != 0], expected[expected != 0])
                else:
                    assert same_bits(mine, expected)


@pytest.mark.parametrize("name", [n for n, op in OPS.items() if op.check is not None])
def test_domain_checks_fail_only_where_a_number_is_not_finite(name):
    """The tape looks for domain errors only where a result or an input is inf or nan; every
    check of the table must keep to that (a new one that does not needs the tape's attention)."""
    op = OPS[name]
    arity = op.arity or 2
    values = EDGES + [2.0, 3.0, -3.0, 0.25]
    consts = [2.0, 3.0, -1.0, 0.5, -0.5, 0.0] if op.has_arg else [None]
    for xs in itertools.product(values, repeat=arity):
        for c in consts:
            args = [*xs, c] if op.has_arg else list(xs)
            out = op.fwd(FLOAT, *args)
            if op.check(out, *args) is not None:
                assert not all(map(math.isfinite, [out, *xs])), (name, args, out)


def test_only_stop_gradient_cuts_its_input():
    assert [name for name, op in OPS.items() if cut_inputs(op)] == ["stop_gradient"]


def test_recording_keeps_rows_as_arrays_and_tells_leaves_apart():
    p = Value(2.0, label="p")
    rec = Recording(lambda x: (x * p + 1) ** 2, [()], 1, example=[3.0])
    assert rec.n == 6 and list(rec.inputs.values()) == [0]
    assert list(rec.params.values()) == [p] and list(rec.literals.values()) == [1.0]
    names = [op.name if op else None for op in rec.ops]
    assert names.count("mul") == 1 and names.count("pow") == 1
    assert list(rec.consts.values()) == [2.0]
    assert rec.ins.dtype == np.int64 and rec.ptr[-1] == rec.ins.size


def test_a_neurons_chain_of_adds_is_one_linear_node():
    ws = [Value(0.1 * k) for k in range(5)]
    b = Value(0.5)
    rec = Recording(
        lambda xs: sum((w * x for w, x in zip(ws, xs)), b), [(5,)], 5, example=[1.0] * 5
    )
    ins = rec.input_lists()
    lin, absorbed = fuse_linear(rec, ins, use_counts(rec), set(rec.outputs))
    assert len(lin) == 1
    (node,) = lin.values()
    assert len(node.a) == 5 and node.c == [i for i, v in rec.params.items() if v is b]
    assert sum(absorbed) == 9  # four partial sums and five products


def test_gradients_assign_first_and_never_go_stale():
    """Replays reuse their arrays; a gradient never carries over from one replay to the next."""
    p = Value(0.3)

    def f(x, y):
        a = x * p
        return a * a + (a + y).tanh() + (x * y).sin()

    tape = trace(f, 0.5, 0.2)
    for x, y in [(0.5, 0.2), (2.0, -1.0), (-0.7, 3.0)]:
        xv, yv = Value(x), Value(y)
        out = f(xv, yv)
        out.backward()
        p.grad = 0.0
        value, grads = tape.value_and_grad(x, y)
        assert value == pytest.approx(out.data, rel=1e-12)
        assert grads == pytest.approx((xv.grad, yv.grad), rel=1e-12)
        assert p.grad == pytest.approx(
            2 * (x * 0.3) * x + x * (1 - math.tanh(x * 0.3 + y) ** 2), rel=1e-12
        )


def test_stats_say_what_was_compiled():
    w = [Value(0.1), Value(0.2)]
    tape = trace(lambda xs: (w[0] * xs[0] + w[1] * xs[1]).tanh(), [1.0, 2.0])
    stats = tape.stats
    assert stats["parameters"] == 2 and stats["inputs"] == 2
    assert stats["fused"] == 2 and stats["kernels"] == 2 and stats["grids"] == 1
    assert "Tape of" in repr(tape) and "2 kernels" in repr(tape)


def test_the_recording_is_freed_once_compiled():
    """A tape keeps rows as arrays; the Values made while tracing go as soon as it is built."""
    import gc
    import weakref

    from autograd.tape import BatchTape

    made = []
    w = Value(0.5)

    def f(x):
        y = (x * w).tanh()
        made.append(weakref.ref(y))
        return y * 2

    gc.disable()  # our graphs hold no cycles: reference counting alone must free them
    try:
        tape = trace(f, 1.0)
        batch = BatchTape(
            lambda s: f(s[0]), lambda ps, ys: sum((p - t) ** 2 for p, t in zip(ps, ys))
        )
        batch([[1.0], [2.0]], [0.0, 1.0])
        assert [ref() for ref in made] == [None, None]
    finally:
        gc.enable()
    assert tape(1.0) == 2 * math.tanh(0.5)


@pytest.mark.parametrize("x", [-1.0, 0.0, 2.0])
def test_an_infinite_gradient_through_relu_gives_the_rules_numbers(x):
    """relu's in-place backward multiplies by a mask (inf * 0 = nan where the rule gives 0);
    the program checks its results once per pass and reruns the rule there."""
    w = Value(1.0)
    fn = lambda v: (v * w).relu() * math.inf + v  # noqa: E731
    tape = trace(fn, 0.5)
    value, (g,) = tape.value_and_grad(x)
    v, wv = Value(x), Value(1.0)
    out = (v * wv).relu() * math.inf + v
    out.backward()
    assert same_bits(np.array([g]), np.array([v.grad]))
    assert same_bits(np.array([value]), np.array([out.data]))


def _stacked_kernels(tape):
    from autograd.tape.kernels import Apply

    program = tape._last.program
    buf = tape._last.runner.buf
    return [k for k in program.kernels if isinstance(k, Apply) and k._stacked(buf) is not None]


@pytest.mark.parametrize(
    "row", [[0.5, 2.0, -1.0, 2.0], [0.5, math.nan, 3.0, math.nan], [-math.inf, 1.0, 0.0, 1.0]]
)
def test_max_over_a_row_runs_as_one_block_with_the_rules_numbers(row):
    from autograd.value import vmax

    fn = lambda xs: vmax(xs) * 3.0  # noqa: E731
    tape = trace(fn, [0.1, 0.2, 0.3, 0.4])
    value, (g,) = tape.value_and_grad(row)
    assert _stacked_kernels(tape)
    xs = [Value(x) for x in row]
    out = fn(xs)
    out.backward()
    assert same_bits(np.array([value]), np.array([out.data]))
    assert same_bits(np.asarray(g), np.array([x.grad for x in xs]))


def test_select_runs_as_one_block_and_names_a_bad_index_as_eager_does():
    from autograd.value import apply

    fn = lambda i, xs: apply("select", [i, *xs]) * 2.0  # noqa: E731
    tape = trace(fn, 1.0, [0.5, -2.0, 4.0])
    tape(0.0, [0.5, -2.0, 4.0])
    assert _stacked_kernels(tape)
    for i in (0.0, 1.0, 2.0):
        value, (_, g) = tape.value_and_grad(i, [0.5, -math.inf, 4.0])
        xs = [Value(x) for x in (0.5, -math.inf, 4.0)]
        out = fn(Value(i), xs)
        out.backward()
        assert same_bits(np.array([value]), np.array([out.data]))
        assert same_bits(np.asarray(g), np.array([x.grad for x in xs]))
    for bad in (1.5, 3.0, -1.0, math.nan):
        with pytest.raises(ValueError, match=r"^select: index must be an integer in \[0, 3\)"):
            tape(bad, [0.5, -2.0, 4.0])
