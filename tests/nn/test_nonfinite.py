"""NaN and infinity through the losses (against PyTorch float64, eager and tape), and fit
stopping when the loss turns non-finite (issue 12, item 1)."""

import io
import math
import sys

import numpy as np
import pytest

from autograd import Value, trace
from nn import (
    MLP,
    SGD,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    datasets,
    fit,
    hinge,
    l2,
    mse,
    sse,
)
from nn.train import NonFiniteLossError

NAN, INF = math.nan, math.inf
PREDS = [0.3, 0.6, 0.2]

# name -> (our loss of a list of 3 predictions, the same loss in torch: f(t, torch), float64)
LOSSES = {
    "sse": (
        lambda p: sse(p, [1.0, 0.0, 0.5]),
        lambda t, torch: ((t - tensor(torch, [1.0, 0.0, 0.5])) ** 2).sum(),
    ),
    "mse": (
        lambda p: mse(p, [1.0, 0.0, 0.5]),
        lambda t, torch: torch.nn.functional.mse_loss(t, tensor(torch, [1.0, 0.0, 0.5])),
    ),
    "hinge": (
        lambda p: hinge(p, [1, -1, 1]),
        lambda t, torch: torch.relu(1 - tensor(torch, [1.0, -1.0, 1.0]) * t).mean(),
    ),
    "binary_cross_entropy": (
        lambda p: binary_cross_entropy(p, [1.0, 0.0, 1.0]),
        lambda t, torch: torch.nn.functional.binary_cross_entropy(
            t, tensor(torch, [1.0, 0.0, 1.0])
        ),
    ),
    "binary_cross_entropy_with_logits": (
        lambda p: binary_cross_entropy_with_logits(p, [1.0, 0.0, 1.0]),
        lambda t, torch: torch.nn.functional.binary_cross_entropy_with_logits(
            t, tensor(torch, [1.0, 0.0, 1.0])
        ),
    ),
    "cross_entropy": (
        lambda p: cross_entropy(p, 1),
        lambda t, torch: torch.nn.functional.cross_entropy(t[None], torch.tensor([1])),
    ),
    "l2": (lambda p: l2(p, 0.1), lambda t, torch: 0.1 * (t * t).sum()),
}
CASES = [
    (name, special, position)
    for name in LOSSES
    for special in (NAN, INF, -INF)
    for position in range(3)
]


def tensor(torch, xs):
    return torch.tensor(xs, dtype=torch.float64)


def with_special(special, position):
    p = list(PREDS)
    p[position] = special
    return p


def eager(loss, preds):
    """(loss, grads) on Values, or the exception it raised."""
    vs = [Value(x) for x in preds]
    try:
        out = loss(vs)
        out.backward()
    except (ValueError, ArithmeticError) as e:
        return e
    return out.data, [v.grad for v in vs]


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-15)


def assert_same(ours, theirs):
    (value, grads), (t_value, t_grads) = ours, theirs
    assert same(value, t_value), (value, t_value)
    assert all(same(g, t) for g, t in zip(grads, t_grads)), (grads, t_grads)


@pytest.mark.parametrize("name, special, position", CASES)
def test_losses_at_nan_and_inf_match_torch(name, special, position):
    torch = pytest.importorskip("torch")
    loss, reference = LOSSES[name]
    preds = with_special(special, position)
    ours = eager(loss, preds)
    t = torch.tensor(preds, dtype=torch.float64, requires_grad=True)
    try:
        out = reference(t, torch)
        out.backward()
        theirs = (out.item(), t.grad.tolist())
    except RuntimeError as e:  # torch refuses probabilities outside [0, 1], nan included
        theirs = e
    if name == "binary_cross_entropy":
        assert isinstance(theirs, RuntimeError)
        if math.isnan(special):  # ours lets nan through, so that fit can say where it came from
            assert math.isnan(ours[0]) and math.isnan(ours[1][position])
        else:
            assert isinstance(ours, ValueError)
            assert "binary_cross_entropy: predictions must be probabilities in [0, 1]" in str(ours)
        return
    if name == "binary_cross_entropy_with_logits" and special == -INF and position != 1:
        # target 1, logit -inf: the loss's limit is +inf; torch's formula gives nan
        assert ours[0] == INF and math.isnan(theirs[0])
        assert_same((theirs[0], ours[1]), theirs)  # the gradients agree
        return
    assert_same(ours, theirs)


@pytest.mark.parametrize("name, special, position", CASES)
def test_losses_at_nan_and_inf_tape_equals_eager(name, special, position):
    loss = LOSSES[name][0]
    preds = with_special(special, position)
    tape = trace(loss, PREDS)
    ours = eager(loss, preds)
    try:
        value, (grads,) = tape.value_and_grad(preds)
    except ValueError as e:
        # a probability outside [0, 1]: eager checks it; the replay meets log(-inf)
        assert isinstance(ours, ValueError) and name == "binary_cross_entropy", e
        return
    assert_same(ours, (value, grads))


def test_bce_names_a_probability_out_of_range():
    with pytest.raises(ValueError, match=r"got 1\.5 \(prediction 1\)"):
        binary_cross_entropy([Value(0.5), Value(1.5)], [1.0, 0.0])


def diverging():
    """A learning rate that sends the hinge loss to inf within a few batches."""
    X, y = datasets.moons(16, seed=0, signed=True)
    model = MLP(2, [8, 1], seed=0)
    return model, X, y, SGD(model, lr=1e300)


@pytest.mark.parametrize("compile", [False, True])
def test_fit_stops_when_the_loss_turns_non_finite(compile):
    model, X, y, opt = diverging()
    with pytest.raises(NonFiniteLossError) as caught:
        fit(
            model,
            X,
            y,
            loss=hinge,
            optimizer=opt,
            epochs=50,
            batch_size=4,
            progress=False,
            compile=compile,
        )
    e = caught.value
    assert e.loss == INF and (e.epoch, e.batch) == (1, 3) and e.history.epochs == 0
    assert "fit: the loss is inf at epoch 1/50, batch 3/4; training stopped" in str(e)
    assert "check_finite=False" in str(e)
    assert isinstance(e, FloatingPointError)
    # the model shows the parameters the error describes (the compiled trainer synced them)
    assert any(not math.isfinite(p.data) or abs(p.data) > 1e100 for p in model.parameters())


def test_an_error_inside_a_step_says_where_it_happened():
    X, y = datasets.moons(16, seed=0)
    model = MLP(2, [8, 1], seed=0)
    with pytest.raises(OverflowError, match="pow: result is too large") as caught:
        fit(
            model,
            X,
            y,
            loss=mse,
            optimizer=SGD(model, lr=1e100),
            epochs=9,
            batch_size=8,
            progress=False,
        )
    assert any(
        n.startswith("(in fit, at epoch ") and "/9, batch " in n for n in caught.value.__notes__
    )


def test_fit_names_the_batch_where_a_nan_input_enters():
    X, y = datasets.moons(16, seed=0)
    X[13] = [NAN, 0.0]
    order = np.random.default_rng(0).permutation(16).tolist()  # fit's first shuffle, seed=0
    batch = order.index(13) // 4 + 1
    model = MLP(2, [8, 1], seed=0)
    with pytest.raises(NonFiniteLossError, match=rf"loss is nan at epoch 1/5, batch {batch}/4"):
        fit(model, X, y, epochs=5, batch_size=4, progress=False, seed=0)


def test_fit_check_finite_false_keeps_going(monkeypatch):
    model, X, y, opt = diverging()
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    history = fit(
        model, X, y, loss=hinge, optimizer=opt, epochs=6, batch_size=4, check_finite=False
    )
    assert history.epochs == 6
    assert not math.isfinite(history.loss[-1])
    assert "loss nan" in log.getvalue().splitlines()[-1]
