"""Loads are bounded (issue 12, item 10): the file's size, its kind, its nesting and the model
its config describes are checked before anything is built; a failed load changes nothing."""

import json
import os
import threading

import pytest

import nn.layers
import nn.module
from nn import MLP, Layer, Module, Neuron


def doc(cls="MLP", config=None, state=None):
    return {
        "format": "scalar-autograd",
        "version": 1,
        "class": cls,
        "config": config if config is not None else MLP(2, [2, 1]).config(),
        "state": state if state is not None else {},
    }


def write(tmp_path, content):
    path = tmp_path / "m.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def refuse_to_build(monkeypatch):
    """Make building any layer fail the test: the checks must come first."""

    def built(self, *args, **kwargs):
        raise AssertionError(f"{type(self).__name__} was built from a file that must be refused")

    for cls in (nn.layers.MLP, nn.layers.Layer, nn.layers.Neuron):
        monkeypatch.setattr(cls, "__init__", built)


HUGE = [
    ("MLP", {**MLP(2, [2]).config(), "nin": 10000, "nouts": [10000, 10000]}, "200,020,000"),
    ("Layer", {**Layer(2, 2).config(), "nin": 60000, "nout": 60000}, "3,600,060,000"),
    ("Neuron", {**Neuron(2).config(), "nin": 2**16}, "65,537"),
]


@pytest.mark.parametrize("cls, config, count", HUGE, ids=[h[0] for h in HUGE])
def test_a_small_file_cannot_ask_for_a_huge_model(tmp_path, monkeypatch, cls, config, count):
    path = write(tmp_path, doc(cls, config))
    assert path.stat().st_size < 300
    refuse_to_build(monkeypatch)
    for load in (Module.load, getattr(nn.layers, cls).load):
        with pytest.raises(ValueError, match=rf"{count} parameters, but its state holds 0") as e:
            load(path)
        assert str(path) in str(e.value) and "nothing was built" in str(e.value)


def test_a_config_with_nonsense_sizes_is_refused_before_building(tmp_path, monkeypatch):
    refuse_to_build(monkeypatch)
    for config in ({"nin": 2, "nouts": [2, "many"]}, {"nin": -1, "nouts": [1]}, {"nin": 2}):
        path = write(tmp_path, doc("MLP", config))
        with pytest.raises(ValueError, match="bad config"):
            MLP.load(path)


def test_deep_nesting_is_a_value_error_not_a_recursion_error(tmp_path):
    path = write(tmp_path, "[" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply") as e:
        MLP.load(path)
    assert str(path) in str(e.value)
    deep_state = json.dumps(doc()).replace('"state": {}', '"state": ' + "[" * 100_000)
    with pytest.raises(ValueError, match="load"):
        MLP.load(write(tmp_path, deep_state))


def test_a_device_is_refused():
    with pytest.raises(ValueError, match=r"load: '/dev/zero' is a device, not a regular file"):
        MLP.load("/dev/zero")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is a directory, not a regular file"):
        MLP.load(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    errors = []

    def load():
        try:
            MLP.load(fifo)
        except ValueError as e:
            errors.append(e)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "MLP.load blocked on a FIFO"
    assert errors and "is a FIFO (named pipe), not a regular file" in str(errors[0])


def test_the_size_cap_is_documented_and_overridable(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    path = tmp_path / "m.json"
    model.save(path)
    size = path.stat().st_size
    with pytest.raises(ValueError, match=rf"over the limit of {size - 1:,} bytes.*max_bytes="):
        MLP.load(path, max_bytes=size - 1)
    assert MLP.load(path, max_bytes=size).state_dict() == model.state_dict()
    assert nn.module.MAX_BYTES == 16 * 2**20 and "max_bytes" in MLP.load.__doc__
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (nn.module.MAX_BYTES + 1))
    with pytest.raises(ValueError, match="over the limit of 16,777,216 bytes"):
        MLP.load(big)
    for bad in (0, -5, 1.5, True, None):
        with pytest.raises(ValueError, match=r"max_bytes must be an int in \[1, "):
            MLP.load(path, max_bytes=bad)


BAD = [
    ("deep", "[" * 100_000),
    ("config larger than state", doc("MLP", {**MLP(2, [2]).config(), "nin": 3})),
    ("huge int", '{"format": "scalar-autograd", "version": ' + "9" * 5000 + "}"),
    ("bad utf-8", "\udcff"),
    ("short state", doc(state={"layers.0.neurons.0.w": [1.0, 2.0]})),
]


@pytest.mark.parametrize("what, content", BAD, ids=[b[0] for b in BAD])
def test_every_failed_load_names_the_file_and_changes_nothing(tmp_path, what, content):
    if what == "bad utf-8":
        path = tmp_path / "m.json"
        path.write_bytes(b'{"format": "\xff"}')
    else:
        path = write(tmp_path, content)
    model = MLP(2, [2, 1], seed=3)
    before = model.state_dict()
    for load in (MLP.load, model.load, Module.load):
        with pytest.raises(ValueError) as e:
            load(path)
        assert str(path) in str(e.value), str(e.value)
    assert model.state_dict() == before
