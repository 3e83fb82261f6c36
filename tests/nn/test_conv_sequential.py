"""Sequential: a conv net as one module — parameters, names, state, files, repr, training."""

from __future__ import annotations

import json
import random

import pytest

from autograd import Value
from nn import (
    MLP,
    Adam,
    AvgPool2d,
    Conv2d,
    Flatten,
    MaxPool2d,
    Module,
    Sequential,
    cross_entropy,
    fit,
)


def cnn(seed=0):
    """A small conv net on 1 x 6 x 6 images: 3 x 3 x 3 features -> 4 classes."""
    return Sequential(
        Conv2d(1, 3, 3, padding=1, activation="relu", seed=seed),
        MaxPool2d(2),
        Conv2d(3, 2, 2, stride=1, activation="tanh", seed=seed + 1),
        AvgPool2d(2, stride=1),
        Flatten(),
        MLP(2, [5, 4], activation="tanh", seed=seed + 2),
    )


def images(n, seed=0, size=6):
    rng = random.Random(seed)
    return [[[[rng.uniform(0, 1) for _ in range(size)] for _ in range(size)]] for _ in range(n)]


def outputs(model, x):
    return [v.data for v in model(x)]


def test_layers_run_in_order():
    model = cnn()
    x = images(1)[0]
    expected = x
    for layer in model.layers:
        expected = layer(expected)
    assert outputs(model, x) == [v.data for v in expected]
    assert len(model(x)) == 4  # the MLP after Flatten gives the class scores


def test_parameters_and_names_follow_the_layers():
    model = cnn()
    expected = [p for layer in model.layers for p in layer.parameters()]
    assert model.parameters() == expected
    assert len(expected) == 3 * 10 + 2 * 13 + (2 * 5 + 5) + (5 * 4 + 4)
    names = [name for name, _ in model.named_parameters()]
    assert names[0] == "layers.0.neurons.0.w.0"
    assert "layers.2.neurons.1.b" in names
    assert names[-1] == "layers.5.layers.1.neurons.3.b"
    assert all(p.label == name for name, p in model.named_parameters())
    assert [name for name, _ in model.children()] == [f"layers.{i}" for i in range(6)]


def test_zero_grad_resets_every_layer():
    model = cnn()
    loss = cross_entropy(model(images(1)[0]), 2)
    loss.backward()
    assert any(p.grad for p in model.layers[0].parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip():
    a, b = cnn(seed=0), cnn(seed=10)
    x = images(1)[0]
    assert outputs(a, x) != outputs(b, x)
    state = a.state_dict()
    assert state["layers.0.neurons.2.w"] == [w.data for w in a.layers[0].neurons[2].w]
    b.load_state_dict(state)
    assert outputs(a, x) == outputs(b, x)


def test_save_and_load_rebuild_the_whole_network(tmp_path):
    model = cnn(seed=3)
    path = tmp_path / "cnn.json"
    model.save(path)
    doc = json.loads(path.read_text())
    assert doc["class"] == "Sequential"
    assert [layer["class"] for layer in doc["config"]["layers"]] == [
        "Conv2d",
        "MaxPool2d",
        "Conv2d",
        "AvgPool2d",
        "Flatten",
        "MLP",
    ]
    x = images(1, seed=5)[0]
    for loaded in (Sequential.load(path), Module.load(path)):
        assert isinstance(loaded, Sequential)
        assert repr(loaded) == repr(model)
        assert outputs(loaded, x) == outputs(model, x)
    other = cnn(seed=9)
    assert other.load(path) is other
    assert outputs(other, x) == outputs(model, x)


def test_load_refuses_another_architecture_and_changes_nothing(tmp_path):
    path = tmp_path / "cnn.json"
    cnn().save(path)
    smaller = Sequential(Conv2d(1, 3, 3, padding=1, seed=0), Flatten())
    before = smaller.state_dict()
    with pytest.raises(ValueError, match="the file holds Sequential"):
        smaller.load(path)
    assert smaller.state_dict() == before


def test_load_names_an_unknown_layer_class(tmp_path):
    path = tmp_path / "cnn.json"
    cnn().save(path)
    doc = json.loads(path.read_text())
    doc["config"]["layers"][1]["class"] = "Dropout"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="layer 1: unknown module class 'Dropout'"):
        Sequential.load(path)


def test_sequentials_nest():
    inner = Sequential(Conv2d(1, 2, 3, activation="relu", seed=0), MaxPool2d(2))
    model = Sequential(inner, Flatten(), MLP(8, [3], seed=1))
    assert model.parameters()[0].label == "layers.0.layers.0.neurons.0.w.0"
    rebuilt = Sequential(**json.loads(json.dumps(model.config())))
    rebuilt.load_state_dict(model.state_dict())
    x = images(1)[0]
    assert outputs(rebuilt, x) == outputs(model, x)
    assert repr(model).splitlines()[1:4] == [
        "  (0): Sequential(",
        "    (0): Conv2d(1, 2, kernel_size=3, activation='relu')",
        "    (1): MaxPool2d(2)",
    ]


def test_repr_shows_the_layers():
    assert repr(cnn()) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 3, kernel_size=3, padding=1, activation='relu')\n"
        "  (1): MaxPool2d(2)\n"
        "  (2): Conv2d(3, 2, kernel_size=2, activation='tanh')\n"
        "  (3): AvgPool2d(2, stride=1)\n"
        "  (4): Flatten()\n"
        # an MLP's own repr lists every neuron: past a line, the call that builds it instead
        "  (5): MLP(nin=2, nouts=[5, 4], activation='tanh')\n"
        ")"
    )
    small = Sequential(Flatten(), MLP(2, [2], seed=0))
    assert (
        repr(small).splitlines()[2] == "  (1): MLP of [Layer of [LinearNeuron(2), LinearNeuron(2)]]"
    )


BAD = [
    ((), {}, ValueError, "Sequential: needs at least one module"),
    ((Flatten(),), {"layers": [Flatten()]}, TypeError, "not both"),
    ((lambda x: x,), {}, TypeError, "Sequential: layer 0 must be a Module or a spec"),
    ((), {"layers": [{"class": "Flatten"}]}, TypeError, "layer 0 must be a Module or a spec"),
    ((), {"layers": [{"class": "Nope", "config": {}}]}, ValueError, "unknown module class"),
    ((), {"layers": [{"class": "Flatten", "config": []}]}, ValueError, "config must be a dict"),
    ((), {"layers": [{"class": "MaxPool2d", "config": {"size": 2}}]}, ValueError, "key 'size'"),
]


@pytest.mark.parametrize(("args", "kwargs", "kind", "message"), BAD)
def test_bad_layers_are_named(args, kwargs, kind, message):
    with pytest.raises(kind, match=message):
        Sequential(*args, **kwargs)


def test_specs_are_checked_before_anything_is_built(monkeypatch):
    built = []
    monkeypatch.setattr(Flatten, "__init__", lambda self: built.append(self))
    with pytest.raises(ValueError, match="layer 1: unknown"):
        Sequential(layers=[{"class": "Flatten", "config": {}}, {"class": "?", "config": {}}])
    assert built == []


def test_fit_trains_a_conv_net_on_images():
    # Two classes: a bright left half or a bright right half.
    rng = random.Random(0)
    X, y = [], []  # noqa: N806
    for k in range(24):
        left = k % 2
        X.append(
            [[[rng.uniform(0.6, 1) if (c < 3) == left else rng.uniform(0, 0.3) for c in range(6)]
              for _ in range(6)]]
        )  # fmt: skip
        y.append(left)
    model = Sequential(
        Conv2d(1, 2, 3, stride=2, activation="relu", seed=0),
        MaxPool2d(2),
        Flatten(),
        MLP(2, [2], seed=1),
    )
    history = fit(
        model,
        X,
        y,
        loss=cross_entropy,
        optimizer=Adam(model.parameters(), lr=0.05),
        epochs=15,
        batch_size=8,
        progress=False,
    )
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert history.metrics["accuracy"][-1] == 1.0
    assert isinstance(model(X[0])[0], Value)


def test_parameter_count_comes_from_the_config_alone():
    model = cnn()
    assert Sequential.parameter_count(model.config()) == len(model.parameters())
    for layer in model.layers:
        assert type(layer).parameter_count(layer.config()) == len(layer.parameters())
    huge = {"layers": [{"class": "Conv2d", "config": {"in_channels": 1000, "out_channels": 1000,
                                                      "kernel_size": 3}}]}  # fmt: skip
    assert Sequential.parameter_count(huge) == 1000 * (1000 * 9 + 1)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "layers must be a non-empty list"),
        ({"layers": [{"class": "Nope", "config": {}}]}, "unknown module class"),
        ({"layers": [{"class": "Conv2d", "config": {"in_channels": 0}}]}, "in_channels must be"),
    ],
)
def test_parameter_count_names_a_bad_config(config, message):
    with pytest.raises(ValueError, match=message):
        Sequential.parameter_count(config)


def test_load_refuses_a_small_file_describing_a_huge_network_before_building(tmp_path, monkeypatch):
    path = tmp_path / "cnn.json"
    cnn().save(path)
    doc = json.loads(path.read_text())
    doc["config"]["layers"][0]["config"]["out_channels"] = 60000
    path.write_text(json.dumps(doc))
    built = []
    monkeypatch.setattr(Conv2d, "__init__", lambda self, *a, **k: built.append(self))
    with pytest.raises(ValueError, match="describes Sequential.* but its state holds"):
        Sequential.load(path)
    with pytest.raises(ValueError, match="describes Sequential"):
        Module.load(path)
    assert built == []
