"""A conv net on the traced tape equals the eager engine (1e-9), max pooling included; and
fit(compile=True) trains it to the same parameters as eager fit."""

from __future__ import annotations

import random

import numpy as np

from autograd import Value, trace
from nn import MLP, SGD, AvgPool2d, Conv2d, Flatten, MaxPool2d, Sequential, cross_entropy, fit

TOL = 1e-9


def cnn():
    return Sequential(
        Conv2d(1, 3, 3, padding=1, activation="relu", seed=0),
        MaxPool2d(2),
        Conv2d(3, 4, 2, stride=1, padding=1, activation="tanh", seed=1),
        AvgPool2d(2, stride=1),
        Flatten(),
        MLP(4 * 2 * 2, [6, 3], activation="tanh", seed=2),
    )


def batch(n, seed):
    rng = random.Random(seed)
    xs = [[[[rng.uniform(-1, 1) for _ in range(4)] for _ in range(4)]] for _ in range(n)]
    return xs, [rng.randrange(3) for _ in range(n)]


def loss_of(model):
    return lambda xs, ys: cross_entropy([model(x) for x in xs], ys)


def eager(model, xs, ys):
    """Loss, parameter gradients and input gradients on the eager engine."""
    model.zero_grad()
    xv = [[[[Value(p) for p in row] for row in plane] for plane in x] for x in xs]
    loss = loss_of(model)(xv, ys)
    loss.backward()
    params = [p.grad for p in model.parameters()]
    model.zero_grad()
    inputs = [[[[p.grad for p in row] for row in plane] for plane in x] for x in xv]
    return loss.data, params, np.array(inputs)


def first_pool_argmax(model, x):
    """Which input wins each window of the first max pool, for one image."""
    feature = model.layers[0](x)
    out = model.layers[1](feature)
    return [[row.parents.index(max(row.parents, key=lambda v: v.data)) for row in line]
            for plane in out for line in plane]  # fmt: skip


def assert_close(ours, eager_values, what):
    ours, eager_values = np.asarray(ours, dtype=float), np.asarray(eager_values, dtype=float)
    scale = np.maximum(1.0, np.abs(eager_values))
    worst = float(np.max(np.abs(ours - eager_values) / scale))
    assert worst <= TOL, f"{what}: tape and eager differ by {worst:.3g} (relative)"


def test_traced_conv_net_replays_fresh_images_like_eager():
    model = cnn()
    traced_on = batch(4, seed=0)
    tape = trace(loss_of(model), *traced_on)
    fresh = batch(4, seed=1)
    moved = [
        first_pool_argmax(model, a) != first_pool_argmax(model, b)
        for a, b in zip(traced_on[0], fresh[0])
    ]
    assert any(moved), "the replay must move some max pooling argmax to test anything"
    for xs, ys in (fresh, traced_on, batch(4, seed=2)):
        model.zero_grad()
        value, (input_grads, _) = tape.value_and_grad(xs, ys)
        param_grads = [p.grad for p in model.parameters()]
        model.zero_grad()
        expected_value, expected_params, expected_inputs = eager(model, xs, ys)
        assert_close(value, expected_value, "loss")
        assert_close(param_grads, expected_params, "parameter gradients")
        assert_close(input_grads, expected_inputs, "input gradients")


def test_traced_outputs_follow_the_max_when_it_moves():
    model = Sequential(Conv2d(1, 2, 2, seed=3), MaxPool2d(2, stride=1))
    tape = trace(lambda x: model(x), [[[0.0] * 4 for _ in range(4)]])
    for seed in range(3):
        x = batch(1, seed)[0][0]
        expected = [[[v.data for v in row] for row in plane] for plane in model(x)]
        assert_close(tape(x), expected, "outputs")


def test_fit_compiled_trains_like_eager():
    X, y = batch(12, seed=4)  # noqa: N806
    runs = []
    for compiled in (False, True):
        model = cnn()
        history = fit(
            model,
            X,
            y,
            loss=cross_entropy,
            optimizer=SGD(model.parameters(), lr=0.2, momentum=0.9),
            epochs=3,
            batch_size=4,
            progress=False,
            compile=compiled,
        )
        runs.append((history.loss, [p.data for p in model.parameters()]))
    (eager_loss, eager_params), (tape_loss, tape_params) = runs
    assert_close(tape_loss, eager_loss, "loss per epoch")
    assert_close(tape_params, eager_params, "trained parameters")
    assert eager_loss[-1] < eager_loss[0]
