"""Conv2d and pooling against torch.nn.functional in float64: outputs and gradients to 1e-9,
and to_torch() giving an equivalent torch.nn.Sequential (outputs to 1e-12)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from nn import MLP, AvgPool2d, Conv2d, Flatten, MaxPool2d, Module, Sequential

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
TOL = 1e-9


def values(shape, rng):
    c, h, w = shape
    return [[[Value(rng.gauss(0, 1)) for _ in range(w)] for _ in range(h)] for _ in range(c)]


def datas(x):
    return np.array([[[v.data for v in row] for row in plane] for plane in x])


def floats(out):
    """A model's output (a Value, or nested lists of them) as an array."""
    return np.array(out.data if isinstance(out, Value) else [floats(o) for o in out])


def grads(x):
    return np.array([[[v.grad for v in row] for row in plane] for plane in x])


def backward_through(out, rng):
    """Backpropagate a random weighting of the outputs; returns that weighting for torch."""
    coef = np.array([[[rng.gauss(0, 1) for _ in row] for row in plane] for plane in out])
    loss = sum(v * float(c) for plane, cp in zip(out, coef) for row, cr in zip(plane, cp)
               for v, c in zip(row, cr))  # fmt: skip
    loss.backward()
    return torch.tensor(coef)


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=TOL, atol=TOL)


@st.composite
def conv_cases(draw, largest=6):
    k = draw(st.integers(1, 3))
    p = draw(st.integers(0, 1))
    smallest = max(1, k - 2 * p)
    return {
        "cin": draw(st.integers(1, 3)),
        "cout": draw(st.integers(1, 3)),
        "k": k,
        "s": draw(st.integers(1, 2)),
        "p": p,
        "h": draw(st.integers(smallest, largest)),
        "w": draw(st.integers(smallest, largest)),
        "bias": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def check_conv(case):
    rng = random.Random(case["seed"])
    conv = Conv2d(
        case["cin"], case["cout"], case["k"], case["s"], case["p"], case["bias"], seed=case["seed"]
    )
    x = values((case["cin"], case["h"], case["w"]), rng)
    out = conv(x)
    coef = backward_through(out, rng)

    shape = (case["cout"], case["cin"], case["k"], case["k"])
    weight = torch.tensor([[w.data for w in n.w] for n in conv.neurons], dtype=torch.float64)
    weight = weight.reshape(shape)
    weight.requires_grad_()
    bias = (
        torch.tensor([n.b.data for n in conv.neurons], dtype=torch.float64, requires_grad=True)
        if case["bias"]
        else None
    )
    xt = torch.tensor(datas(x), requires_grad=True)
    expected = F.conv2d(xt[None], weight, bias, stride=case["s"], padding=case["p"])[0]
    (expected * coef).sum().backward()

    close(datas(out), expected)
    close(grads(x), xt.grad)
    close(
        np.array([[w.grad for w in n.w] for n in conv.neurons]), weight.grad.reshape(shape[0], -1)
    )
    if bias is not None:
        close(np.array([n.b.grad for n in conv.neurons]), bias.grad)


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch(case):
    check_conv(case)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(conv_cases(largest=14))
def test_conv2d_matches_torch_on_larger_images(case):
    check_conv(case)


@st.composite
def pool_cases(draw, largest=7):
    k = draw(st.integers(1, 3))
    return {
        "c": draw(st.integers(1, 3)),
        "k": k,
        "s": draw(st.sampled_from([None, 1, 2])),
        "h": draw(st.integers(k, largest)),
        "w": draw(st.integers(k, largest)),
        "seed": draw(st.integers(0, 2**16)),
        "ties": draw(st.booleans()),  # inputs rounded to a few values: ties in most windows
    }


def check_pool(module, functional, case):
    rng = random.Random(case["seed"])
    x = values((case["c"], case["h"], case["w"]), rng)
    if case["ties"]:
        for plane in x:
            for row in plane:
                for v in row:
                    v.data = float(max(round(v.data), 0))  # as after a relu: many zeros
    pool = module(case["k"], case["s"])
    out = pool(x)
    coef = backward_through(out, rng)
    xt = torch.tensor(datas(x), requires_grad=True)
    expected = functional(xt[None], case["k"], case["s"])[0]
    (expected * coef).sum().backward()
    close(datas(out), expected)
    close(grads(x), xt.grad)


@settings(max_examples=40, deadline=None)
@given(pool_cases())
def test_max_pool2d_matches_torch(case):
    check_pool(MaxPool2d, F.max_pool2d, case)


@settings(max_examples=30, deadline=None)
@given(pool_cases())
def test_avg_pool2d_matches_torch(case):
    check_pool(AvgPool2d, F.avg_pool2d, case)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(pool_cases(largest=16))
def test_pooling_matches_torch_on_larger_images(case):
    check_pool(MaxPool2d, F.max_pool2d, case)
    check_pool(AvgPool2d, F.avg_pool2d, case)


# ---- to_torch -----------------------------------------------------------------------------------


def digits_cnn():
    return Sequential(
        Conv2d(1, 8, 3, padding=1, activation="relu", seed=0),
        MaxPool2d(2),
        Conv2d(8, 16, 3, padding=1, activation="relu", seed=1),
        MaxPool2d(2),
        Flatten(),
        MLP(64, [32, 10], activation="tanh", init="xavier", seed=2),
    )


MODELS = {
    "digits cnn": (digits_cnn, (1, 8, 8)),
    "strided, no bias, avg pool": (
        lambda: Sequential(
            Conv2d(2, 3, 3, stride=2, padding=1, bias=False, activation="tanh", seed=3),
            AvgPool2d(2, stride=1),
            Conv2d(3, 2, 1, activation="leaky_relu", leaky_slope=0.2, seed=4),
            Flatten(),
            MLP(12, [4, 3], activation="sigmoid", output_activation="softplus", seed=5),
        ),
        (2, 7, 6),
    ),
    "a conv alone": (lambda: Sequential(Conv2d(3, 2, 2, seed=6)), (3, 4, 5)),
}


@pytest.mark.parametrize("name", MODELS)
def test_to_torch_gives_the_same_outputs(name):
    build, shape = MODELS[name]
    model = build()
    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, size=(3, *shape))
    net = model.to_torch()
    assert isinstance(net, torch.nn.Sequential)
    theirs = net(torch.tensor(batch)).detach().numpy()
    ours = [floats(model(x.tolist())) for x in batch]
    np.testing.assert_allclose(np.array(ours).reshape(theirs.shape), theirs, rtol=0, atol=1e-12)


def test_to_torch_layers_are_the_torch_ones():
    net = digits_cnn().to_torch()
    kinds = [type(m).__name__ for m in net]
    assert kinds == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten",
        "Linear", "Tanh", "Linear",
    ]  # fmt: skip
    assert net[0].weight.dtype == torch.float64
    model = digits_cnn()
    np.testing.assert_array_equal(
        net[3].weight.detach().numpy()[5].ravel(), [w.data for w in model.layers[2].neurons[5].w]
    )


def test_to_torch_names_a_layer_without_one():
    class Doubler(Module):
        def forward(self, x):
            return [2 * v for v in x]

    model = Sequential(Flatten(), Doubler())
    with pytest.raises(TypeError, match=r"Sequential.to_torch: layer 1 \(Doubler\(\)\) has no"):
        model.to_torch()
