"""BatchTape: a model traced on one sample, replayed on whole batches, against eager."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from autograd import Value
from autograd.tape import BatchTape, StructureError
from autograd.value import vmax
from benchmarks.convnet import ConvNet
from nn import (
    MLP,
    binary_cross_entropy,
    cross_entropy,
    hinge,
    l2,
    mse,
    sse,
)

TOL = 1e-9


def assert_close(tape_values, eager_values, what="item"):
    tape_values, eager_values = list(tape_values), list(eager_values)
    assert len(tape_values) == len(eager_values)
    for i, (t, e) in enumerate(zip(tape_values, eager_values)):
        assert abs(t - e) <= TOL * max(1.0, abs(e)), f"{what} {i}: tape {t!r} vs eager {e!r}"


def eager_step(model, loss, xs, ys):
    """Loss, predictions and parameter gradients of the eager graph (``.grad`` left zeroed)."""
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    preds = [model(x) for x in xs]
    out = loss(preds, ys)
    out.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    flat = [float(v) for p in preds for v in (p if isinstance(p, list) else [p])]
    return out.data, flat, grads


def tape_grads(tape, model):
    where = {id(p): k for k, p in enumerate(tape.parameters)}
    return [float(tape.grad[where[id(p)]]) for p in model.parameters()]


def rows(n, nin, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(n)]


LOSSES = {
    "mse (a mean)": (lambda m: mse, 2, "real"),
    "sse (a sum)": (lambda m: sse, 1, "real"),
    "hinge + l2 (a per-batch term)": (
        lambda m: lambda p, t: hinge(p, t) + l2(m.parameters(), 1e-3),
        1,
        "pm1",
    ),
    "cross_entropy + l2": (
        lambda m: lambda p, t: cross_entropy(p, t) + l2(m.parameters(), 1e-2),
        3,
        "class",
    ),
    "binary_cross_entropy": (lambda m: binary_cross_entropy, 1, "01"),
}


def targets(kind, n, nout, rng):
    if kind == "real":
        return [[rng.uniform(-1, 1) for _ in range(nout)] for _ in range(n)]
    if kind == "pm1":
        return [rng.choice([-1.0, 1.0]) for _ in range(n)]
    if kind == "01":
        return [rng.choice([0.0, 1.0]) for _ in range(n)]
    return [rng.randrange(nout) for _ in range(n)]


@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_over_the_batch_match_the_eager_graph(name):
    make_loss, nout, kind = LOSSES[name]
    out_act = "sigmoid" if kind == "01" else None
    model = MLP(3, [6, 5, nout], activation="tanh", output_activation=out_act, seed=3)
    loss = make_loss(model)
    tape = BatchTape(model, loss)
    rng = random.Random(1)
    for n in (7, 12, 1, 7):  # new batch sizes replay the same model trace
        xs, ys = rows(n, 3, n), targets(kind, n, nout, rng)
        value, preds = tape(xs, ys)
        tape.backward()
        expected, expected_preds, expected_grads = eager_step(model, loss, xs, ys)
        flat = [v for p in preds for v in (p if isinstance(p, list) else [p])]
        assert_close([value], [expected], "loss")
        assert_close(flat, expected_preds, "prediction")
        assert_close(tape_grads(tape, model), expected_grads, "gradient")


def test_the_model_is_traced_once_whatever_the_batch_size():
    calls = []
    model = MLP(2, [4, 1], seed=0)

    def counted(x):
        calls.append(1)
        return model(x)

    tape = BatchTape(counted, hinge)
    for n in (10, 3, 10, 64, 1):
        tape(rows(n, 2, n), [1.0] * n)
        tape.backward()
    assert len(calls) == 1
    assert tape.program.stats["grids"] == 2  # each layer one matrix product


def test_default_parameters_are_read_and_written_like_a_tape():
    model = MLP(2, [3, 1], seed=1)
    tape = BatchTape(model, mse)
    xs, ys = rows(5, 2, 0), [[0.5]] * 5
    tape(xs, ys)
    tape.backward()
    first = [p.grad for p in model.parameters()]
    assert any(first)
    model.layers[0].neurons[0].w[0].data += 1.0  # read on the next call
    value, _ = tape(xs, ys)
    assert_close([value], [eager_step(model, mse, xs, ys)[0]])


def test_owned_parameters_live_in_theta_until_sync():
    model = MLP(2, [3, 1], seed=1)
    params = model.parameters()
    tape = BatchTape(model, mse, own_parameters=True)
    xs, ys = rows(5, 2, 0), [[0.5]] * 5
    tape(xs, ys)
    tape.backward()
    assert all(p.grad == 0.0 for p in params)  # gradients stay in the array
    before = [p.data for p in params]
    where = [tape.parameters.index(p) for p in params]
    tape.theta -= 0.1 * tape.grad  # a step on the array
    assert [p.data for p in params] == before  # the Values wait for sync()
    tape.sync()
    assert_close([p.data for p in params], [tape.theta[k] for k in where])
    assert_close([p.grad for p in params], [tape.grad[k] for k in where])
    params[0].data = 3.0  # changed after a sync: read back on the next call
    value, _ = tape(xs, ys)
    assert tape.theta[where[0]] == 3.0
    assert_close([value], [eager_step(model, mse, xs, ys)[0]])


def test_a_parameter_replaced_in_the_model_is_caught_when_reloaded():
    model = MLP(2, [3, 1], seed=1)
    tape = BatchTape(model, mse, own_parameters=True)
    xs, ys = rows(4, 2, 0), [[0.0]] * 4
    tape(xs, ys)
    tape.sync()
    model.layers[1].neurons[0].b = Value(0.0)
    with pytest.raises(StructureError, match="replaced"):
        tape(xs, ys)


def test_theta_holds_extra_parameters_and_ones_only_the_loss_reads():
    model = MLP(2, [3, 1], seed=2)
    temperature = Value(0.5, label="T")
    unused = Value(1.0, label="unused")

    def loss(preds, ys):
        return mse([p * temperature for p in preds], ys)

    tape = BatchTape(model, loss, parameters=[unused])
    xs, ys = rows(6, 2, 1), [[0.2]] * 6
    tape(xs, ys)
    tape.backward()
    assert temperature in tape.parameters and unused in tape.parameters
    assert unused.grad == 0.0
    expected = temperature.grad
    temperature.grad = 0.0
    for p in model.parameters():
        p.grad = 0.0
    loss([model(x) for x in xs], ys).backward()
    assert_close([expected], [temperature.grad])


def test_a_branch_on_the_data_is_refused_for_the_sample_that_flips():
    model = MLP(1, [1], seed=0)  # w x: its sign flips with x's

    def branchy(x):
        y = model(x)
        return y * 2 if y > 0 else y * 3  # Python control flow on a Value

    tape = BatchTape(branchy, sse)
    xs = [[1.0], [1.1], [1.2]]
    sign = model([1.0]).data > 0
    tape(xs, [0.0, 0.0, 0.0])
    flipped = [[1.0], [-50.0 if sign else 50.0]]
    with pytest.raises(StructureError, match="sample 1"):
        tape(flipped, [0.0, 0.0])


def test_a_domain_error_names_the_op_and_the_sample():
    def model(x):
        return (x[0] - 1).log()

    tape = BatchTape(model, sse)
    tape([[3.0], [4.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"log: input must be > 0, got -1.5 .*sample 2"):
        tape([[3.0], [4.0], [-0.5]], [0.0, 0.0, 0.0])


def test_check_runs_eagerly_beside_the_replay():
    flip = {"on": False}
    model = MLP(2, [3, 1], seed=0)

    def sneaky(x):
        y = model(x)
        return y * 2 if flip["on"] else y  # invisible to the trace: no Value is compared

    tape = BatchTape(sneaky, mse, check=True)
    xs, ys = rows(3, 2, 0), [[0.0]] * 3
    tape(xs, ys)
    tape.backward()
    flip["on"] = True
    with pytest.raises(StructureError, match="eagerly"):
        tape(xs, ys)


# ---- convolutions built from neurons ----------------------------------------------------------


def test_a_convolution_replays_as_one_matrix_product_and_pooling_as_one_kernel():
    net = ConvNet(size=8, cin=2, c1=4, c2=3, classes=3, seed=0)
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(-1, 1, (5, 2, 8, 8)), [0, 1, 2, 0, 1]
    tape = BatchTape(net, cross_entropy)
    value, _ = tape(images, labels)
    tape.backward()
    kinds = [(type(k).__name__, getattr(k, "op", None) and k.op.name) for k in tape.program.kernels]
    layer = [("Grid", None), ("Apply", "relu"), ("Apply", "max")]
    assert kinds == [*layer, *layer, ("Grid", None)]
    conv1, conv2 = tape.program.kernels[0], tape.program.kernels[3]
    assert conv1.a.slots.shape == (4, 18) and conv1.x.slots.shape == (64, 18)  # filters x windows
    assert conv2.a.slots.shape == (3, 36) and conv2.x.slots.shape == (16, 36)
    expected, _, grads = eager_step(net, cross_entropy, images.tolist(), labels)
    assert_close([value], [expected])
    assert_close(tape_grads(tape, net), grads)
    # A new batch whose maxima sit elsewhere (the argmax moves): still the eager numbers.
    images = rng.uniform(-1, 1, (9, 2, 8, 8))
    labels = [k % 3 for k in range(9)]
    value, preds = tape(images, labels)
    tape.backward()
    expected, expected_preds, grads = eager_step(net, cross_entropy, images.tolist(), labels)
    assert_close([value], [expected])
    assert_close([v for p in preds for v in p], expected_preds)
    assert_close(tape_grads(tape, net), grads)
    torch = pytest.importorskip("torch")
    theirs = net.to_torch()(torch.tensor(images)).detach().numpy().ravel()
    assert_close([v for p in preds for v in p], theirs.tolist())


def test_ties_and_nan_in_max_pooling_follow_eager():
    def pool(x):
        return vmax([x[0], x[1], x[2]]) * x[3]

    tape = BatchTape(pool, sse)
    batch = [
        [1.0, 1.0, 0.0, 2.0],
        [0.0, 2.0, 2.0, 1.0],
        [math.nan, 1.0, 5.0, 1.0],
        [3.0, 1.0, 3.0, 1.0],
    ]
    _, preds = tape(batch[:1], [0.0])
    value, preds = tape(batch, [0.0] * 4)
    tape.backward()
    for k, row in enumerate(batch):
        v = vmax(row[:3]) * row[3]
        assert (math.isnan(preds[k]) and math.isnan(v.data)) or preds[k] == v.data
    assert math.isnan(value)
