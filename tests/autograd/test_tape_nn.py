"""The tape on nn's networks and losses, and fit(compile=True), against eager execution."""

from __future__ import annotations

import random

import numpy as np
import pytest

from autograd import Value, trace
from autograd.tape import StructureError
from nn import (
    MLP,
    SGD,
    Adam,
    Neuron,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    fit,
    hinge,
    l2,
    mse,
    sse,
)

TOL = 1e-9


def assert_close(tape_values, eager_values):
    for i, (t, e) in enumerate(zip(tape_values, eager_values, strict=True)):
        assert abs(t - e) <= TOL * max(1.0, abs(e)), f"item {i}: tape {t!r} vs eager {e!r}"


def data(n, nin, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(n)]


def eager(model, loss_fn, xs, ys):
    """Eager loss and parameter gradients (the parameters' .grad is left zeroed)."""
    model.zero_grad()
    xv = [[Value(v) for v in row] for row in xs]
    out = loss_fn(xv, ys)
    out.backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    return out.data, grads


def on_tape(tape, model, xs, ys):
    model.zero_grad()
    value = tape(xs, ys)
    tape.backward()
    grads = [p.grad for p in model.parameters()]
    model.zero_grad()
    return value, grads


ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "softplus", None]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("fused", [False, True])
def test_every_activation_matches_eager(activation, fused):
    model = MLP(
        3, [5, 4, 2], activation=activation, output_activation=activation, seed=1, fused=fused
    )
    loss_fn = lambda xs, ys: mse([model(x) for x in xs], ys)  # noqa: E731
    xs, ys = data(12, 3, 0), [[0.5, -0.5]] * 12
    tape = trace(loss_fn, xs, ys)
    for seed in (0, 1):  # the traced batch and another one
        batch = data(12, 3, seed)
        value, grads = on_tape(tape, model, batch, ys)
        expected, expected_grads = eager(model, loss_fn, batch, ys)
        assert_close([value], [expected])
        assert_close(grads, expected_grads)


def _labels(kind, n, rng):
    if kind == "pm1":
        return [rng.choice([-1.0, 1.0]) for _ in range(n)]
    if kind == "01":
        return [rng.choice([0.0, 1.0]) for _ in range(n)]
    if kind == "class":
        return [rng.randrange(3) for _ in range(n)]
    return [rng.uniform(-1, 1) for _ in range(n)]


LOSSES = [
    ("sse", sse, None, "real", 1),
    ("mse", mse, None, "real", 1),
    ("hinge", hinge, None, "pm1", 1),
    ("binary_cross_entropy", binary_cross_entropy, "sigmoid", "01", 1),
    ("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits, None, "01", 1),
    ("cross_entropy", cross_entropy, None, "class", 3),
]


@pytest.mark.parametrize("name, loss, out_act, kind, nout", LOSSES, ids=[c[0] for c in LOSSES])
def test_every_loss_with_targets_as_inputs_matches_eager(name, loss, out_act, kind, nout):
    model = MLP(2, [6, nout], activation="tanh", output_activation=out_act, seed=2)
    params = model.parameters()

    def loss_fn(xs, ys):
        return loss([model(x) for x in xs], ys) + l2(params, 1e-3)

    rng = random.Random(0)
    tape = trace(loss_fn, data(10, 2, 0), _labels(kind, 10, rng))
    for seed in range(3):  # new inputs and new targets (new classes for cross_entropy)
        xs, ys = data(10, 2, seed), _labels(kind, 10, rng)
        value, grads = on_tape(tape, model, xs, ys)
        expected, expected_grads = eager(model, loss_fn, xs, ys)
        assert_close([value], [expected])
        assert_close(grads, expected_grads)


def test_cross_entropy_with_value_targets_matches_int_targets():
    zs = [Value(0.3), Value(-1.2), Value(2.0)]
    for k in range(3):
        by_int = cross_entropy(zs, k)
        by_value = cross_entropy(zs, Value(float(k)))
        assert by_value.data == by_int.data
        by_int.backward()
        first = [z.grad for z in zs]
        for z in zs:
            z.grad = 0.0
        by_value.backward()
        assert [z.grad for z in zs] == first
        for z in zs:
            z.grad = 0.0


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_compile_trains_like_eager(optimizer):
    X = data(30, 2, 3)  # noqa: N806
    y = [int(x[0] * x[1] > 0) + int(x[0] > 1) for x in X]  # three classes
    histories, weights = [], []
    for compile in (False, True):
        model = MLP(2, [8, 3], activation="tanh", seed=4)
        params = model.parameters()
        opt = SGD(params, lr=0.2, momentum=0.5) if optimizer == "sgd" else Adam(params, lr=0.02)
        history = fit(
            model,
            X,
            y,
            loss=lambda p, t, ps=params: cross_entropy(p, t) + l2(ps, 1e-4),
            optimizer=opt,
            epochs=4,
            batch_size=8,  # 30 rows: the last batch of 6 is a second trace
            progress=False,
            compile=compile,
        )
        histories.append(history)
        weights.append([p.data for p in params])
    eager_h, tape_h = histories
    assert_close(tape_h.loss, eager_h.loss)
    assert tape_h.metrics["accuracy"] == eager_h.metrics["accuracy"]
    assert_close(weights[1], weights[0])


def test_fit_compile_with_array_inputs_and_hinge():
    X = np.array(data(20, 2, 5))  # noqa: N806
    y = [1.0 if a + b > 0 else -1.0 for a, b in X]
    results = []
    for compile in (False, True):
        model = MLP(2, [6, 1], seed=6)
        history = fit(model, X, y, loss=hinge, epochs=3, progress=False, compile=compile)
        results.append((history.loss, [p.data for p in model.parameters()]))
    assert_close(results[1][0], results[0][0])
    assert_close(results[1][1], results[0][1])


def test_fused_and_unfused_mlps_give_the_same_tape_results():
    xs, ys = data(16, 3, 7), _labels("pm1", 16, random.Random(7))
    results = []
    for fused in (False, True):
        model = MLP(3, [6, 5, 1], seed=8, fused=fused)
        tape = trace(lambda a, b, m=model: hinge([m(x) for x in a], b), xs, ys)
        results.append(on_tape(tape, model, xs, ys))
    assert_close([results[1][0]], [results[0][0]])
    assert_close(results[1][1], results[0][1])


# ---- a model whose structure changed after tracing (#20.17) -------------------------------------


def _changes():
    def activation(m):
        m.layers[0].neurons[0].activation = "tanh"

    def neuron(m):
        m.layers[-1].neurons.append(Neuron(3, seed=9))

    return {"activation": activation, "added neuron": neuron}


@pytest.mark.parametrize("change", ["activation", "added neuron"])
def test_the_tape_says_when_the_model_changed_after_tracing(change):
    model = MLP(2, [3, 1], seed=0)
    tape = trace(lambda x: model(x), [0.5, -0.2])
    tape([0.1, 0.2])
    _changes()[change](model)
    with pytest.raises(StructureError, match="the model's structure changed since it was traced"):
        tape([0.1, 0.2])


def test_fit_compiled_says_when_the_model_changed_between_fits():
    from nn import datasets
    from nn.compiled import CompiledTrainer

    X, y = datasets.moons(8, seed=0)
    model = MLP(2, [3, 1], seed=0)
    trainer = CompiledTrainer(model, mse, SGD(model, lr=0.1))
    trainer.step(X, y)
    trainer.sync()
    _changes()["activation"](model)
    with pytest.raises(StructureError, match="structure changed"):
        trainer.step(X, y)
