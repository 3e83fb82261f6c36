"""Losses: hand-computed values, gradients, PyTorch parity, stability and bad inputs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value, trace
from nn import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    l2,
    mse,
    sse,
)


def values(xs):
    return [Value(x) for x in xs]


def test_sse_by_hand():
    pred = values([0.5, 2.0, -1.0])
    loss = sse(pred, [1.0, 2.0, 1.0])
    assert loss.data == 0.25 + 0.0 + 4.0
    loss.backward()
    assert [p.grad for p in pred] == [-1.0, 0.0, -4.0]  # 2 (ŷ - y)


def test_mse_by_hand():
    pred = values([0.5, 2.0, -1.0, 3.0])
    loss = mse(pred, [1.0, 2.0, 1.0, 3.0])
    assert loss.data == pytest.approx((0.25 + 4.0) / 4, abs=1e-15)
    loss.backward()
    assert [p.grad for p in pred] == pytest.approx([-0.25, 0.0, -1.0, 0.0], abs=1e-15)


def test_shapes_one_output_one_sample_and_batches():
    assert sse(Value(3.0), 1.0).data == 4.0  # one output
    assert sse([Value(3.0), Value(0.0)], [1.0, 1.0]).data == 5.0  # a sample's outputs
    batch = [[Value(3.0), Value(0.0)], [Value(1.0), Value(2.0)]]
    assert sse(batch, [[1.0, 1.0], [1.0, 0.0]]).data == 9.0  # a batch of those
    assert mse(batch, np.array([[1.0, 1.0], [1.0, 0.0]])).data == 9.0 / 4
    assert sse(2.0, 1).data == 1.0  # plain numbers are fine too


def test_hinge_is_micrograds():
    scores = values([0.3, -2.0, 1.5, -0.2])
    labels = [1, -1, -1, 1]
    loss = hinge(scores, labels)
    expected = sum(max(0.0, 1 - y * s.data) for s, y in zip(scores, labels)) / 4
    assert loss.data == pytest.approx(expected, abs=1e-15)
    loss.backward()
    assert [s.grad for s in scores] == [-0.25, 0.0, 0.25, -0.25]


def test_l2():
    ps = values([1.0, -2.0, 0.5])
    penalty = l2(ps, 1e-4)
    assert penalty.data == pytest.approx(1e-4 * 5.25, abs=1e-18)
    penalty.backward()
    assert [p.grad for p in ps] == pytest.approx([2e-4, -4e-4, 1e-4], abs=1e-18)


def test_binary_cross_entropy_by_hand():
    p = values([0.9, 0.2])
    loss = binary_cross_entropy(p, [1.0, 0.0])
    assert loss.data == pytest.approx(-(math.log(0.9) + math.log(0.8)) / 2, abs=1e-11)


@pytest.mark.parametrize("p", [0.0, 1.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_binary_cross_entropy_never_takes_log_of_zero(p, y):
    x = Value(p)
    loss = binary_cross_entropy(x, y)
    # log(1 - q) near q = 1 is as exact as 1 - q can be: about 1e-4 relative at 1e-12
    assert math.isfinite(loss.data) and loss.data <= -math.log(1e-12) * 1.001
    loss.backward()
    assert math.isfinite(x.grad)


@pytest.mark.parametrize("z", [-1000.0, -30.0, 0.0, 30.0, 1000.0])
def test_bce_with_logits_is_stable(z):
    for y in (0.0, 1.0):
        x = Value(z)
        loss = binary_cross_entropy_with_logits(x, y)
        # softplus(z) - y z without cancellation: to the last digit even where it is tiny
        expected = max(z, 0.0) - y * z + math.log1p(math.exp(-abs(z)))
        assert loss.data == pytest.approx(expected, rel=1e-15, abs=1e-300)
        loss.backward()
        assert x.grad == pytest.approx(
            1 / (1 + math.exp(-z)) - y if abs(z) < 700 else float(z > 0) - y
        )


def test_cross_entropy_by_hand():
    logits = values([1.0, 2.0, 0.5])
    loss = cross_entropy(logits, 1)
    e = [math.exp(z.data) for z in logits]
    assert loss.data == pytest.approx(-math.log(e[1] / sum(e)), abs=1e-15)
    loss.backward()
    softmax = [x / sum(e) for x in e]
    assert [z.grad for z in logits] == pytest.approx(
        [softmax[0], softmax[1] - 1, softmax[2]], abs=1e-15
    )


def test_cross_entropy_is_stable_for_huge_logits():
    logits = values([1000.0, -1000.0, 999.0])
    loss = cross_entropy(logits, 2)
    assert loss.data == pytest.approx(math.log1p(math.exp(1.0)), abs=1e-12)
    loss.backward()
    assert all(math.isfinite(z.grad) for z in logits)
    assert cross_entropy(values([-1000.0, 1000.0]), 1).data == 0.0


def test_cross_entropy_batch_is_the_mean():
    rows = [values([1.0, 2.0]), values([0.0, -1.0, 3.0][:2])]
    single = [cross_entropy(r, t).data for r, t in zip(rows, [0, 1])]
    assert cross_entropy(rows, [0, 1]).data == pytest.approx(sum(single) / 2, abs=1e-15)
    assert cross_entropy(rows, [0.0, 1.0]).data == pytest.approx(sum(single) / 2, abs=1e-15)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sse(values([1.0, 2.0]), [1.0]), "sse: got 2 predictions but 1 targets"),
        (lambda: mse(values([1.0]), [1.0, 2.0, 3.0]), "mse: got 1 predictions but 3 targets"),
        (lambda: mse([], []), "mse: no predictions"),
        (lambda: hinge(values([1.0, 2.0]), [1, 0]), "hinge: targets must be -1 or \\+1, got 0"),
        (lambda: binary_cross_entropy(Value(0.5), 2.0), "targets must be in \\[0, 1\\], got 2.0"),
        (
            lambda: binary_cross_entropy_with_logits(values([1.0]), [-1.0]),
            "in \\[0, 1\\], got -1.0",
        ),
        (lambda: binary_cross_entropy(values([0.5] * 3), [1.0] * 2), "got 3 predictions but 2"),
        (lambda: cross_entropy(values([1.0, 2.0]), 2), "target 2 out of range for 2 logits"),
        (lambda: cross_entropy(values([1.0, 2.0]), -1), "target -1 out of range"),
        (lambda: cross_entropy(values([1.0, 2.0]), 0.5), "target must be a class index, got 0.5"),
        (lambda: cross_entropy(values([1.0, 2.0]), True), "target must be a class index, got True"),
        (lambda: cross_entropy([values([1.0, 2.0])] * 3, [0, 1]), "got 3 logit rows but 2 targets"),
        (lambda: cross_entropy([values([1.0, 2.0])] * 2, 0), "one flat list per sample"),
        (lambda: cross_entropy(Value(1.0), 0), "one flat list per sample"),
        (lambda: cross_entropy([], []), "empty batch"),
        (lambda: cross_entropy(values([1.0, 2.0]), math.nan), "class index, got nan"),
        (lambda: cross_entropy(values([1.0, 2.0]), math.inf), "class index, got inf"),
        (lambda: cross_entropy([values([1.0, 2.0])], [math.nan]), "class index, got nan"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_non_numbers_are_rejected():
    with pytest.raises(TypeError, match="expected numbers or Values, got str"):
        sse(["a"], [1.0])


# ---- PyTorch parity -----------------------------------------------------------------------------

PRED = [0.1, 0.35, 0.5, 0.8, 0.999]
TARGET = [0.0, 1.0, 1.0, 0.0, 1.0]


def _against_torch(ours, theirs, pred, target):
    torch = pytest.importorskip("torch")
    x = values(pred)
    loss = ours(x, target)
    loss.backward()
    t = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    ref = theirs(t, torch.tensor(target, dtype=torch.float64))
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), abs=1e-10)
    np.testing.assert_allclose([v.grad for v in x], t.grad.numpy(), rtol=0, atol=1e-10)


@pytest.mark.torch
def test_mse_matches_torch():
    torch = pytest.importorskip("torch")
    _against_torch(mse, torch.nn.functional.mse_loss, PRED, TARGET)


@pytest.mark.torch
def test_bce_matches_torch():
    torch = pytest.importorskip("torch")
    _against_torch(binary_cross_entropy, torch.nn.functional.binary_cross_entropy, PRED, TARGET)


@pytest.mark.torch
def test_bce_with_logits_matches_torch():
    torch = pytest.importorskip("torch")
    logits = [-40.0, -2.5, 0.0, 1.3, 50.0]
    f = torch.nn.functional.binary_cross_entropy_with_logits
    _against_torch(binary_cross_entropy_with_logits, f, logits, TARGET)


@pytest.mark.torch
def test_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rows = [[1.0, -2.0, 0.5], [300.0, 299.0, -5.0], [0.0, 0.0, 0.0]]
    targets = [2, 1, 0]
    ours = [values(r) for r in rows]
    loss = cross_entropy(ours, targets)
    loss.backward()
    t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.tensor(targets))
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), abs=1e-12)
    np.testing.assert_allclose([[v.grad for v in r] for r in ours], t.grad.numpy(), atol=1e-12)


# ---- the shift of cross_entropy is part of the graph (issue 12, item 3) -------------------------

CE_TAPE = trace(cross_entropy, [0.0, 0.0, 0.0], 0)  # traced where every logit is 0


def eager_cross_entropy(logits, target):
    zs = values(logits)
    loss = cross_entropy(zs, target)
    loss.backward()
    return loss.data, [z.grad for z in zs]


def test_cross_entropy_replayed_with_logits_larger_than_at_trace_time():
    assert CE_TAPE([1000.0, 0.0, 0.0], 1) == 1000.0 == eager_cross_entropy([1000, 0, 0], 1)[0]
    assert CE_TAPE([1000.0, 0.0, 0.0], 0) == 0.0 == eager_cross_entropy([1000, 0, 0], 0)[0]


def test_cross_entropy_shift_is_a_max_node_that_passes_no_gradient():
    loss = cross_entropy(values([1.0, 3.0, 2.0]), 0)
    ops = [v.op for v in _nodes(loss)]
    assert "max" in ops and "stop_gradient" in ops


def _nodes(root):
    seen, stack = set(), [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            yield v
            stack.extend(v.parents)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e4, 1e4), min_size=3, max_size=3),
    st.integers(0, 2),
)
def test_cross_entropy_tape_equals_eager_at_any_logits(logits, target):
    value, (grads, _) = CE_TAPE.value_and_grad(logits, target)
    e_value, e_grads = eager_cross_entropy(logits, target)
    assert value == pytest.approx(e_value, rel=1e-12, abs=1e-12)
    assert grads == pytest.approx(e_grads, rel=1e-9, abs=1e-12)


def test_cross_entropy_of_huge_equal_logits_is_log_2():
    """log-sum-exp without the cancellation (#20.11): lse - z_t rounded 1e16 + log 2 - 1e16 to 0."""
    assert cross_entropy([1e16, 1e16], 0).data == pytest.approx(math.log(2), rel=1e-15)
    assert cross_entropy([[1e16, 1e16]], [Value(1.0)]).data == pytest.approx(math.log(2))


def test_the_tape_picks_the_target_logit_without_multiplying():
    """A -inf logit that is not the target gives what eager gives, not nan (#20.4)."""
    logits = [0.0, -math.inf, 1.0]
    eager = cross_entropy(logits, 0).data
    tape = trace(lambda z, t: cross_entropy(z, t), [0.5, 0.2, 0.1], 2.0)
    assert eager == pytest.approx(1.3132616875182228)
    assert tape(logits, 0.0) == pytest.approx(eager, rel=1e-15)
    _, (g, _) = tape.value_and_grad(logits, 0.0)
    e = np.exp(np.array(logits) - 1.0)
    np.testing.assert_allclose(g, e / e.sum() - [1.0, 0.0, 0.0], rtol=1e-12)


def test_select_is_an_op_of_the_table_usable_eagerly():
    from autograd.value import apply

    xs = [Value(0.5), Value(-math.inf), Value(3.0)]
    out = apply("select", [Value(2.0), *xs])
    out.backward()
    assert out.data == 3.0 and [x.grad for x in xs] == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError, match=r"select: index must be an integer in \[0, 3\)"):
        apply("select", [Value(3.0), *xs])
