"""Neuron, Layer, MLP: layout, names, scopes, initialisation, inputs, numpy and torch export."""

import random

import numpy as np
import pytest

from autograd import Value
from autograd.graph import topological_order
from nn import MLP, Layer, Neuron
from nn.layers import ACTIVATIONS

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ALL_ACTIVATIONS = [a for a in ACTIVATIONS if a is not None] + [None]


def test_layout_is_micrograds():
    mlp = MLP(3, [4, 4, 1], seed=0)
    assert [len(layer.neurons) for layer in mlp.layers] == [4, 4, 1]
    assert len(mlp.layers[1].neurons[2].w) == 4
    assert isinstance(mlp.layers[1].neurons[2].b, Value)
    assert len(mlp.parameters()) == (3 + 1) * 4 + (4 + 1) * 4 + (4 + 1)
    neuron = mlp.layers[0].neurons[0]
    assert neuron.parameters() == [*neuron.w, neuron.b]  # micrograd's order: w then b


def test_named_parameters_and_labels():
    mlp = MLP(3, [4, 4, 1], seed=0)
    names = [name for name, _ in mlp.named_parameters()]
    assert names[:4] == [f"layers.0.neurons.0.w.{k}" for k in range(3)] + ["layers.0.neurons.0.b"]
    assert "layers.1.neurons.3.w.0" in names and names[-1] == "layers.2.neurons.0.b"
    assert len(set(names)) == len(names)
    assert all(p.label == name for name, p in mlp.named_parameters())
    assert Neuron(2).w[1].label == "w.1"


def test_module_names_and_scopes():
    mlp = MLP(3, [4, 4, 1], seed=0)
    assert mlp.name == "" and mlp.layers[1].name == "layers.1"
    assert mlp.layers[0].neurons[3].name == "neurons.3"
    assert [name for name, _ in mlp.children()] == ["layers.0", "layers.1", "layers.2"]
    out = mlp(XS[0])
    scopes = {v.scope for v in topological_order(out) if v.op}
    assert ("MLP:", "Layer:layers.0", "Neuron:neurons.3") in scopes
    assert out.scope == ("MLP:", "Layer:layers.2", "Neuron:neurons.0")
    assert all(p.scope is None for p in mlp.parameters())  # made outside any call
    assert Value(1.0).scope is None  # every scope was closed again


def test_scope_closed_when_forward_raises():
    with pytest.raises(ValueError):
        MLP(3, [2], seed=0)([1.0, 2.0])
    assert Value(1.0).scope is None


@pytest.mark.parametrize("bias", [True, False])
def test_neuron_builds_micrograds_graph(bias):
    n = Neuron(3, activation="tanh", bias=bias, seed=1)
    x = [Value(0.5), Value(-2.0), Value(1.5)]
    out = n(x)
    assert out.op == "tanh"
    act = out.parents[0]
    # b + w0 x0 + w1 x1 + w2 x2, left to right: the last add's right input is w2 * x2
    assert act.op == "add" and act.parents[1].op == "mul"
    assert act.parents[1].parents == (n.w[2], x[2])
    first = act.parents[0].parents[0]
    if bias:
        assert first.parents[0] is n.b and first.parents[1].parents == (n.w[0], x[0])
    else:
        assert first.op == "mul" and first.parents == (n.w[0], x[0])
    expected = (0.0 if not bias else n.b.data) + sum(w.data * xi.data for w, xi in zip(n.w, x))
    assert out.data == pytest.approx(np.tanh(expected), abs=1e-15)


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_activations(activation):
    n = Neuron(2, activation=activation, seed=3, leaky_slope=0.2)
    for x in ([1.0, -2.0], [-3.0, 0.5], [3.0, 2.0]):
        z = n.b.data + n.w[0].data * x[0] + n.w[1].data * x[1]
        expected = {
            "relu": max(z, 0.0),
            "tanh": np.tanh(z),
            "sigmoid": 1 / (1 + np.exp(-z)),
            "leaky_relu": z if z > 0 else 0.2 * z,
            "softplus": np.log1p(np.exp(z)),
            None: z,
        }[activation]
        assert n(x).data == pytest.approx(expected, abs=1e-14)
    assert Neuron(2, activation="linear").activation is None


def test_repr():
    assert repr(MLP(2, [2, 1], seed=0)) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    )
    assert repr(Neuron(3, activation="tanh")) == "TanhNeuron(3)"
    assert repr(Neuron(3, activation="leaky_relu")) == "LeakyReLUNeuron(3)"


def test_seed_reproduces_and_global_random_is_untouched():
    state = random.getstate()
    a, b, c = MLP(3, [4, 2], seed=7), MLP(3, [4, 2], seed=7), MLP(3, [4, 2])
    assert random.getstate() == state
    assert a.state_dict() == b.state_dict() != c.state_dict()


@pytest.mark.parametrize("init", ["uniform", "xavier", "he"])
def test_init_scales(init):
    mlp = MLP(100, [50], init=init, seed=0)
    w = np.array([w.data for n in mlp.layers[0].neurons for w in n.w])
    bound = {"uniform": 1.0, "xavier": np.sqrt(6 / 150), "he": None}[init]
    if bound is not None:
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
        assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    else:
        assert w.std() == pytest.approx(np.sqrt(2 / 100), rel=0.05)
    assert all(n.b.data == 0.0 for n in mlp.layers[0].neurons)


def test_micrograd_demo_matches_micrograd():
    """Same seed, same weights; micrograd's demo loss and a few SGD steps agree to 1e-9."""
    mg_nn = pytest.importorskip("micrograd.nn")
    from nn import datasets, hinge, l2

    state = random.getstate()
    try:
        random.seed(1337)
        theirs = mg_nn.MLP(2, [16, 16, 1])
    finally:
        random.setstate(state)
    ours = MLP(2, [16, 16, 1], seed=1337)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    X, y = datasets.moons(40, seed=3, signed=True)

    def their_loss():
        scores = [theirs(list(map(mg_nn.Value, x))) for x in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in theirs.parameters())

    for k in range(3):
        a = hinge([ours(x) for x in X], y) + l2(ours.parameters(), 1e-4)
        b = their_loss()
        assert a.data == pytest.approx(b.data, abs=1e-9)
        ours.zero_grad()
        theirs.zero_grad()
        a.backward()
        b.backward()
        lr = 1.0 - 0.9 * k / 100
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert p.grad == pytest.approx(q.grad, abs=1e-9)
            p.data -= lr * p.grad
            q.data -= lr * q.grad


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_fused_equals_unfused(activation, bias):
    kwargs = dict(activation=activation, output_activation="tanh", bias=bias, seed=5)
    plain, fused = MLP(3, [5, 2], **kwargs), MLP(3, [5, 2], fused=True, **kwargs)
    for layer in fused.layers:  # biases start at 0; make them matter
        for n in layer.neurons:
            if n.b is not None:
                n.b.data = 0.1 * n.w[0].data
    plain.load_state_dict(fused.state_dict())
    for x in XS:
        a, b = plain(x), fused(x)
        for u, v in zip(a, b):
            assert u.data == pytest.approx(v.data, abs=1e-12)
        (a[0] * a[1]).backward()
        (b[0] * b[1]).backward()
    for p, q in zip(plain.parameters(), fused.parameters()):
        assert p.grad == pytest.approx(q.grad, abs=1e-12)
    ops = {v.op for v in topological_order(fused(XS[0]))}
    assert "dot" in ops and "mul" not in ops


@pytest.mark.parametrize(
    "x",
    [
        [1, 2, 3],
        (1.0, 2.0, 3.0),
        np.array([1.0, 2.0, 3.0]),
        [np.float32(1.0), np.int64(2), 3.0],
        [Value(1.0), 2.0, Value(3.0)],
    ],
    ids=["ints", "tuple", "numpy row", "numpy scalars", "Values"],
)
def test_input_kinds(x):
    mlp = MLP(3, [4, 1], seed=0)
    assert mlp(x).data == pytest.approx(mlp([1.0, 2.0, 3.0]).data, abs=1e-15)


def test_input_gradients_flow_to_value_inputs():
    mlp = MLP(2, [3, 1], activation="tanh", seed=0)
    x = [Value(0.3), Value(-0.7)]
    mlp(x).backward()
    assert x[0].grad != 0.0 and x[1].grad != 0.0


def test_outputs_one_value_or_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(MLP(2, [1, 3], seed=0)([1.0, 2.0]), list)  # a 1-wide hidden layer works
    assert isinstance(Neuron(1)(2.0), Value)  # a lone input, for nin == 1


@pytest.mark.parametrize(
    "module, x, error, match",
    [
        (MLP(3, [2]), [1.0, 2.0], ValueError, "MLP: expected 3 inputs, got 2"),
        (MLP(3, [2]), [1.0, 2.0, 3.0, 4.0], ValueError, "expected 3 inputs, got 4"),
        (Layer(2, 3), [1.0], ValueError, "Layer: expected 2 inputs, got 1"),
        (Neuron(2), [1.0, 2.0, 3.0], ValueError, "Neuron: expected 2 inputs, got 3"),
        (Neuron(2), np.zeros(3), ValueError, "Neuron: expected 2 inputs, got 3"),
        (MLP(2, [2]), [1.0, "a"], TypeError, "inputs must be numbers or Values, got str"),
        # a Value first takes the neuron's quick path; the error must still name the input
        (Neuron(2), [Value(1.0), "a"], TypeError, "Neuron: inputs must be numbers or Values"),
        (Neuron(2, bias=False), [Value(1.0), "a"], TypeError, "Neuron: inputs must be numbers"),
        (MLP(2, [2]), None, TypeError, "expected a list of 2 inputs, got NoneType"),
        (MLP(2, [2]), 1.0, ValueError, "expected 2 inputs, got 1"),
        # issue 12, item 13: an unordered input would pair weights with inputs at random
        (MLP(2, [2]), {1.0, 2.0}, TypeError, "MLP: inputs must be an ordered sequence"),
        (Layer(2, 2), frozenset({1.0, 2.0}), TypeError, "Layer: .* got a frozenset"),
        (Neuron(2), {1.0, 2.0}, TypeError, r"Neuron: .* got a set \{1.0, 2.0\}, whose order"),
        (MLP(2, [2]), {"a": 1.0, "b": 2.0}, TypeError, "MLP: .* got a dict"),
        (MLP(2, [2]), set(range(100, 200)), TypeError, r"got a set \{100, .*\.\.\., whose"),
    ],
)
def test_bad_inputs(module, x, error, match):
    with pytest.raises(error, match=match):
        module(x)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Neuron(0), "nin must be an int in \\[1, 65536\\]"),
        (lambda: Neuron(2.5), "nin must be an int in \\[1, 65536\\]"),
        (lambda: Layer(2, 0), "nout must be an int in \\[1, 65536\\]"),
        (lambda: MLP(2, []), "at least one layer"),
        (lambda: MLP(2, [3], activation="swish"), "unknown activation 'swish'"),
        (lambda: MLP(2, [3], init="normal"), "unknown init 'normal'"),
    ],
)
def test_bad_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("bias", [True, False])
def test_to_numpy(bias):
    mlp = MLP(3, [4, 2], activation="leaky_relu", output_activation="sigmoid", bias=bias, seed=0)
    (w0, b0, a0), (w1, b1, a1) = mlp.to_numpy()
    assert w0.shape == (4, 3) and b0.shape == (4,) and w1.shape == (2, 4) and b1.shape == (2,)
    assert (a0, a1) == ("leaky_relu", "sigmoid")
    assert w0[3, 1] == mlp.layers[0].neurons[3].w[1].data
    if not bias:
        assert not b0.any() and not b1.any()


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_predict_numpy_matches_forward(activation):
    kwargs = dict(activation=activation, output_activation="tanh", leaky_slope=0.3)
    mlp = MLP(3, [5, 4, 2], seed=2, **kwargs)
    for layer in mlp.layers:
        for n in layer.neurons:
            n.b.data = 0.2 * n.w[-1].data
    got = mlp.predict_numpy(np.array(XS))
    assert got.shape == (4, 2)
    expected = [[v.data for v in mlp(x)] for x in XS]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"shape \(n, 3\), got \(4, 2\)"):
        mlp.predict_numpy(np.zeros((4, 2)))


@pytest.mark.torch
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_to_torch_matches(activation, bias):
    torch = pytest.importorskip("torch")
    mlp = MLP(3, [5, 4, 2], activation=activation, output_activation="sigmoid", bias=bias, seed=4)
    for layer in mlp.layers:
        for n in layer.neurons:
            if n.b is not None:
                n.b.data = 0.3 * n.w[0].data
    seq = mlp.to_torch()
    assert isinstance(seq, torch.nn.Sequential)
    got = seq(torch.tensor(XS, dtype=torch.float64)).detach().numpy()
    expected = [[v.data for v in mlp(x)] for x in XS]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_to_torch_without_torch(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'scalar-autograd\[torch\]'"):
        MLP(2, [1]).to_torch()
