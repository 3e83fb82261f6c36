"""fit(compile=True): the weights live in an array while training; what the model's Values hold
at every point a user can look at them, and a loop of one's own on the CompiledTrainer."""

from __future__ import annotations

import random

import numpy as np
import pytest

from autograd import Value
from autograd.tape import StructureError
from nn import MLP, SGD, Adam, cross_entropy, datasets, fit, hinge, l2
from nn.compiled import CompiledTrainer

TOL = 1e-9


def close(a, b):
    return all(abs(x - y) <= TOL * max(1.0, abs(y)) for x, y in zip(a, b, strict=True))


def blobs(n=24, seed=0):
    rng = random.Random(seed)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]  # noqa: N806
    y = [int(a + b > 0) + int(a > 1) for a, b in X]
    return X, y


def train(compile, callbacks=lambda model: [], epochs=4, optimizer="adam"):
    """The same small run, eager or compiled; ``callbacks(model)`` makes fit's callbacks."""
    X, y = blobs()  # noqa: N806
    model = MLP(2, [6, 3], activation="tanh", seed=5)
    params = model.parameters()
    opt = Adam(params, lr=0.05) if optimizer == "adam" else SGD(params, lr=0.1, momentum=0.9)
    history = fit(
        model,
        X,
        y,
        loss=lambda p, t: cross_entropy(p, t) + l2(params, 1e-3),
        optimizer=opt,
        epochs=epochs,
        batch_size=10,  # 24 rows: batches of 10, 10 and 4
        progress=False,
        compile=compile,
        callbacks=callbacks(model),
    )
    return model, history


def test_callbacks_see_the_weights_of_that_epoch():
    seen = {False: [], True: []}
    for compile in (False, True):

        def look(model, compile=compile):
            return [
                lambda epoch, history: seen[compile].append([p.data for p in model.parameters()])
            ]

        train(compile, callbacks=look)
    assert len(seen[True]) == len(seen[False]) == 4
    for eager, compiled in zip(seen[False], seen[True]):
        assert close(compiled, eager)


def test_weights_changed_in_a_callback_are_read_back():
    def shrink(model):
        def callback(epoch, history):
            if epoch == 1:
                for p in model.parameters():
                    p.data *= 0.5

        return [callback]

    results = []
    for compile in (False, True):
        model, history = train(compile, callbacks=shrink)
        results.append((history.loss, [p.data for p in model.parameters()]))
    assert close(results[1][0], results[0][0])
    assert close(results[1][1], results[0][1])


def test_a_parameter_replaced_in_a_callback_stops_the_next_step():
    X, y = blobs()  # noqa: N806
    model = MLP(2, [4, 3], seed=1)

    def replace(epoch, history):
        model.layers[0].neurons[0].w[0] = Value(0.0)

    with pytest.raises(StructureError, match="replaced"):
        fit(
            model,
            X,
            y,
            loss=cross_entropy,
            epochs=3,
            progress=False,
            compile=True,
            callbacks=[replace],
        )


def test_the_model_is_current_when_fit_stops_with_an_error():
    class StopError(Exception):
        pass

    def fail(model):
        def callback(epoch, history):
            if epoch == 2:
                made.append(model)
                raise StopError

        return [callback]

    results = []
    for compile in (False, True):
        made = []
        with pytest.raises(StopError):
            train(compile, callbacks=fail, optimizer="sgd")
        results.append([p.data for p in made[0].parameters()])
    assert close(results[1], results[0])


def test_grads_after_fit_are_the_last_batchs_as_in_eager():
    grads = []
    for compile in (False, True):
        model, _ = train(compile)
        grads.append([p.grad for p in model.parameters()])
    assert close(grads[1], grads[0])


def test_the_model_is_traced_once_for_every_batch_size():
    calls = []
    model = MLP(2, [5, 3], seed=0)

    class Counted:
        def parameters(self):
            return model.parameters()

        def __call__(self, x):
            calls.append(1)
            return model(x)

    X, y = blobs(25)  # noqa: N806
    counted = Counted()
    fit(
        counted,
        X,
        y,
        loss=cross_entropy,
        optimizer=Adam(model, lr=0.01),
        epochs=3,
        batch_size=8,
        progress=False,
        compile=True,
        metrics=(),
    )
    # fit itself calls the model once to look at an output (its metrics); the tape once.
    assert len(calls) == 2


def test_a_loop_of_ones_own():
    X, y = datasets.moons(40, noise=0.1, seed=0, signed=True)  # noqa: N806
    model = MLP(2, [8, 1], seed=0)
    params = model.parameters()
    trainer = CompiledTrainer(model, lambda p, t: hinge(p, t) + l2(params, 1e-4), SGD(model, 0.5))
    rng = np.random.default_rng(0)
    first = None
    for _ in range(30):
        for xb, yb in datasets.batches(X, y, 16, seed=rng):
            value, preds = trainer.step(xb, yb)
            first = value if first is None else first
    before = [p.data for p in params]
    trainer.sync()
    assert [p.data for p in params] != before  # the Values were stale until sync()
    assert value < first


def test_an_interrupt_between_the_program_and_its_runner_changes_no_weight(monkeypatch):
    """Set-up interrupted right after the model's program exists (before the runner that loads
    it): fit's final sync must neither raise nor write the program's zeros (#20.1 kept)."""
    import autograd.tape.batch as batch_module
    from nn import MLP, datasets, fit

    X, y = datasets.moons(8, seed=0)
    model = MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch_module, "Runner", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit(model, X, y, epochs=1, progress=False, compile=True)
    assert [p.data for p in model.parameters()] == before
