"""Module: generic parts, state dicts, and safe JSON save/load."""

import json
import os

import pytest

import nn.module
from autograd import Value
from nn import MLP, Layer, Module, Neuron


class Affine(Module):
    """A user-defined module: one scale, one list of offsets, one child neuron."""

    def __init__(self) -> None:
        self.scale = Value(2.0)
        self.offsets = [Value(0.5), Value(-0.5)]
        self.inner = Neuron(2, activation=None, seed=0)
        self.note = "not a parameter"
        self._cache = [Value(9.0)]  # private: never a parameter

    def forward(self, x):
        return self.inner([self.scale * x[0] + self.offsets[0], x[1] + self.offsets[1]])


def test_generic_module_parts():
    m = Affine()
    names = [name for name, _ in m.named_parameters()]
    assert names == ["scale", "offsets.0", "offsets.1", "inner.w.0", "inner.w.1", "inner.b"]
    assert [p.label for p in m.parameters()] == names
    assert m.inner.name == "inner"
    out = m([1.0, 2.0])
    assert out.scope == ("Affine:", "Neuron:inner")
    out.backward()
    assert m.scale.grad == m.inner.w[0].data
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())
    assert m.state_dict() == {
        "scale": 2.0,
        "offsets": [0.5, -0.5],
        "inner.w": [p.data for p in m.inner.w],
        "inner.b": 0.0,
    }


def test_forward_must_be_defined():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must implement forward"):
        Empty()(1.0)
    with pytest.raises(NotImplementedError, match="Empty does not define config"):
        Empty().config()


def test_state_dict_round_trip():
    a, b = MLP(3, [4, 2], seed=1), MLP(3, [4, 2], seed=2)
    state = a.state_dict()
    assert state["layers.0.neurons.1.w"] == [w.data for w in a.layers[0].neurons[1].w]
    assert state["layers.1.neurons.0.b"] == 0.0
    json.dumps(state)  # plain JSON types
    b.load_state_dict(state)
    assert b.state_dict() == state
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]


W0, W1, B = "layers.0.neurons.0.w", "layers.0.neurons.1.w", "layers.1.neurons.0.b"
DROP = object()
BAD_STATES = [
    ("missing", B, DROP, f"missing '{B}'"),
    ("extra", "extra", 1.0, "unexpected 'extra'"),
    ("short", W0, [0.5], "must be a list of 2 numbers, got a list of 1"),
    ("list for b", B, [0.0], "must be a number, got a list of 1"),
    ("string", W1, ["x", 0.0], "numbers only, got str 'x'"),
    ("bool", B, True, "must be a number, got bool True"),
    ("nan", W1, [0.0, float("nan")], "must be finite"),
    ("huge int", B, 10**400, "must be finite, got int 1000"),
]


@pytest.mark.parametrize("what, key, value, match", BAD_STATES, ids=[c[0] for c in BAD_STATES])
def test_load_state_dict_rejects_and_leaves_model_unchanged(what, key, value, match):
    model = MLP(2, [2, 1], seed=5)
    before = model.state_dict()
    state = MLP(2, [2, 1], seed=6).state_dict()
    if value is DROP:
        del state[key]
    else:
        state[key] = value
    with pytest.raises(ValueError, match=match):
        model.load_state_dict(state)
    assert model.state_dict() == before
    with pytest.raises(ValueError, match="state dict must be a dict, got list"):
        model.load_state_dict([1, 2])


def test_save_and_load_round_trip(tmp_path):
    kwargs = dict(activation="leaky_relu", output_activation="tanh", leaky_slope=0.2)
    model = MLP(3, [4, 4, 2], seed=3, **kwargs)
    path = tmp_path / "model.json"
    model.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "scalar-autograd" and doc["version"] == 1 and doc["class"] == "MLP"
    assert doc["config"]["nouts"] == [4, 4, 2]

    loaded = MLP.load(path)
    assert isinstance(loaded, MLP) and loaded.config() == model.config()
    assert loaded.state_dict() == model.state_dict()
    x = [0.3, -1.2, 2.0]
    assert [v.data for v in loaded(x)] == [v.data for v in model(x)]
    assert isinstance(Module.load(str(path)), MLP)  # the class comes from the file

    other = MLP(3, [4, 4, 2], **kwargs)
    assert other.load(path) is other  # on an instance: load the weights in place
    assert other.state_dict() == model.state_dict()


@pytest.mark.parametrize(
    "module",
    [Neuron(3, activation="tanh", bias=False, seed=0), Layer(2, 3, activation="sigmoid", seed=0)],
    ids=["Neuron", "Layer"],
)
def test_save_and_load_other_modules(tmp_path, module):
    module.save(tmp_path / "m.json")
    loaded = type(module).load(tmp_path / "m.json")
    assert repr(loaded) == repr(module) and loaded.state_dict() == module.state_dict()


def test_save_refuses_non_finite_weights(tmp_path):
    model = MLP(2, [1], seed=0)
    model.layers[0].neurons[0].w[1].data = float("inf")
    with pytest.raises(ValueError, match=r"parameter 'layers.0.neurons.0.w' is not finite"):
        model.save(tmp_path / "m.json")
    assert not list(tmp_path.iterdir())


def test_save_is_atomic(tmp_path, monkeypatch):
    """A save that dies while writing leaves the old file whole and no temporary file behind."""
    path = tmp_path / "model.json"
    old = MLP(2, [3, 1], seed=0)
    old.save(path)
    before = path.read_bytes()

    real_fsync = os.fsync

    def crash(fd):
        os.write(fd, b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(nn.module.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3, 1], seed=1).save(path)
    monkeypatch.setattr(nn.module.os, "fsync", real_fsync)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
    assert MLP.load(path).state_dict() == old.state_dict()


def test_save_replaces_existing_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    assert path.stat().st_mode & 0o044  # readable by others as a plain open() would make it
    path.chmod(0o640)
    new = MLP(2, [3, 1], seed=1)
    new.save(path)
    assert MLP.load(path).state_dict() == new.state_dict()
    assert path.stat().st_mode & 0o777 == 0o640


def _write(tmp_path, doc):
    path = tmp_path / "m.json"
    if isinstance(doc, bytes):
        path.write_bytes(doc)
    else:
        path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _good_doc():
    return {
        "format": "scalar-autograd",
        "version": 1,
        "class": "MLP",
        "config": MLP(2, [2, 1]).config(),
        "state": MLP(2, [2, 1], seed=9).state_dict(),
    }


def _edited(**changes):
    doc = _good_doc()
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return doc


BAD_FILES = [
    ("empty", "", "not valid JSON, the file is truncated or corrupt"),
    (
        "truncated",
        json.dumps(_good_doc())[:-40],
        "not valid JSON, the file is truncated or corrupt",
    ),
    ("not UTF-8", b"\xff\xfe{", "not valid JSON"),
    ("NaN", json.dumps(_good_doc()).replace("0.0", "NaN", 1), "NaN is not a number JSON allows"),
    ("a list", "[1, 2]", "not a scalar-autograd model file"),
    ("other format", _edited(format="keras"), "not a scalar-autograd model file"),
    ("new version", _edited(version=2), "unknown format version 2; this library reads version 1"),
    ("no version", _edited(version=None), "unknown format version None"),
    ("no state", _edited(state=None), "'state' must be a JSON dict"),
    ("bad config", _edited(config={"nin": 2}), "bad config"),
    ("wrong class", _edited(**{"class": "Layer"}), "the file holds a Layer, not a MLP"),
    (
        "wrong sizes",
        _edited(config=MLP(2, [3, 1]).config()),
        "with 13 parameters, but its state holds 9 numbers; nothing was built",
    ),
    ("extra entry", _edited(state={**_good_doc()["state"], "x": 1.0}), "unexpected 'x'"),
]


@pytest.mark.parametrize("what, doc, match", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_load_rejects_bad_files(tmp_path, what, doc, match):
    path = _write(tmp_path, doc)
    with pytest.raises(ValueError, match=match) as err:
        MLP.load(path)
    assert str(path) in str(err.value)
    model = MLP(2, [2, 1], seed=4)
    before = model.state_dict()
    with pytest.raises(ValueError):
        model.load(path)
    assert model.state_dict() == before


def test_load_into_a_different_architecture(tmp_path):
    MLP(2, [2, 1], seed=0).save(tmp_path / "m.json")
    model = MLP(2, [2, 1], activation="tanh", seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"holds MLP\(.*activation='relu'.*\), not MLP\(.*'tanh'"):
        model.load(tmp_path / "m.json")
    assert model.state_dict() == before


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "nope.json")


def test_load_unknown_class(tmp_path):
    path = _write(tmp_path, _edited(**{"class": "Transformer"}))
    with pytest.raises(ValueError, match="holds a Transformer, not a Module"):
        Module.load(path)
