"""Hostile model files (issue 20, items 5 and 6): every failure is a ValueError naming the file
and the key, every size is bounded at load, and the work a loaded model asks for is bounded
before anything is allocated."""

from __future__ import annotations

import json
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nn.module
from nn import MLP, AvgPool2d, Conv2d, Flatten, Layer, MaxPool2d, Module, Neuron, Sequential

MiB = 2**20


def doc(cls, config, state=None):
    return {"format": "scalar-autograd", "version": 1, "class": cls, "config": config,
            "state": state if state is not None else {}}  # fmt: skip


def write(tmp_path, content, name="m.json"):
    path = Path(tmp_path) / name
    # '"1e400"' is written as the bare number 1e400, which Python's JSON reads as inf.
    path.write_text(json.dumps(content).replace('"1e400"', "1e400"))
    return path


def small_cnn():
    return Sequential(Conv2d(1, 1, 2, seed=0), MaxPool2d(2), Flatten(), MLP(1, [1], seed=1))


def refused(path, *words):
    """The ValueError loading ``path`` raises, checked to name the file and ``words``."""
    with pytest.raises(ValueError) as e:
        Module.load(path)
    message = str(e.value)
    assert str(path) in message, message
    for word in words:
        assert word in message, message
    return message


def peak_while(f):
    tracemalloc.start()
    try:
        f()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


# ---- item 5: sizes are bounded at load, work before it is allocated -----------------------------


def test_a_small_file_with_padding_1e9_is_refused_at_load(tmp_path):
    content = small_cnn().config()
    content["layers"][0]["config"]["padding"] = 10**9
    path = write(tmp_path, doc("Sequential", content, small_cnn().state_dict()))
    assert path.stat().st_size < 1000  # the file had 577 bytes
    peak = peak_while(lambda: refused(path, "padding", "10000000", "layer 0"))
    assert peak < 1 * MiB


@pytest.mark.parametrize(
    ("key", "value"),
    [("padding", 5000), ("padding", 2**16 + 1), ("stride", 10**9), ("kernel_size", 10**6),
     ("in_channels", 10**9), ("out_channels", 2**16 + 1)],
)  # fmt: skip
def test_every_conv_size_is_bounded_at_load(tmp_path, key, value):
    config = {**Conv2d(1, 1, 1).config(), key: value}
    path = write(tmp_path, doc("Conv2d", config, Conv2d(1, 1, 1).state_dict()))
    assert peak_while(lambda: refused(path, key)) < 1 * MiB


@pytest.mark.parametrize("cls", ["MaxPool2d", "AvgPool2d"])
@pytest.mark.parametrize("key", ["kernel_size", "stride"])
def test_pool_sizes_are_bounded_at_load(tmp_path, cls, key):
    config = {"kernel_size": 2, "stride": 2, key: 10**9}
    refused(write(tmp_path, doc("Sequential", {"layers": [{"class": cls, "config": config}]})), key)


def test_widths_are_bounded_at_load_whatever_the_state_holds(tmp_path):
    for cls, config in [
        ("Neuron", {**Neuron(1).config(), "nin": 2**16 + 1}),
        ("Layer", {**Layer(1, 1).config(), "nout": 10**12}),
        ("MLP", {**MLP(1, [1]).config(), "nouts": [1, 10**9]}),
    ]:
        refused(write(tmp_path, doc(cls, config)), "must be an int in [1, 65536]")


def test_a_padding_no_input_could_run_with_is_refused_at_construction():
    with pytest.raises(ValueError, match=r"Conv2d: padding=5000 of even a 1x1 input would make"):
        Conv2d(1, 1, 1, padding=5000)
    Conv2d(1, 1, 1, padding=1000)  # 2001 x 2001 padded: within the limit


def test_the_first_forward_refuses_a_huge_grid_before_allocating_it():
    conv = Conv2d(1, 1000, 3, padding=1, seed=0)
    image = [[[0.5] * 100 for _ in range(100)]]
    peak = [0]

    def run():
        with pytest.raises(
            ValueError, match=r"Conv2d: a 100x100 input would make [\d,]+ Values, ov"
        ):
            conv(image)

    peak[0] = peak_while(run)
    assert peak[0] < 8 * MiB  # the 10,000 input Values; the refused grid needs ~1.5 GB
    assert len(Conv2d(1, 2, 3, padding=1, seed=0)([[[0.5] * 8] * 8])[0]) == 8  # small runs


def test_a_loaded_model_with_a_big_padding_fails_clearly_at_its_first_forward(tmp_path):
    model = Sequential(Conv2d(1, 1, 1, padding=1000, seed=0))
    model.save(tmp_path / "m.json")
    loaded = Module.load(tmp_path / "m.json")
    with pytest.raises(ValueError, match="a 2x2 input would make 16,032,016 Values"):
        loaded([[[0.0, 1.0], [2.0, 3.0]]])


# ---- item 6: every hostile file is a ValueError naming the file and the key ---------------------

NEURON = Neuron(2).config()
NEURON_STATE = Neuron(2, seed=0).state_dict()


def nested(depth):
    spec = {"class": "Flatten", "config": {}}
    for _ in range(depth - 1):
        spec = {"class": "Sequential", "config": {"layers": [spec]}}
    return doc("Sequential", {"layers": [spec]})


HOSTILE = [
    ("rng", doc("Neuron", {**NEURON, "rng": 1}, NEURON_STATE), ["'rng'"]),
    ("fan_out", doc("Neuron", {**NEURON, "init": "xavier", "fan_out": -2}, NEURON_STATE),
     ["'init'"]),
    ("seed in MLP", doc("MLP", {**MLP(2, [1]).config(), "seed": 3}, MLP(2, [1]).state_dict()),
     ["'seed'"]),
    ("250 nested", nested(250), ["nest more than 32"]),
    ("private class", doc("Sequential", {"layers": [{"class": "_Pool2d",
                                                     "config": {"kernel_size": 2}}]}),
     ["unknown module class '_Pool2d'"]),
    ("nan slope", doc("Neuron", {**NEURON, "leaky_slope": "nan"}, NEURON_STATE),
     ["leaky_slope must be a finite number, got 'nan'"]),
    ("inf slope", doc("Neuron", {**NEURON, "leaky_slope": "1e400"}, NEURON_STATE), ["leaky_slope"]),
    ("huge int slope", doc("Neuron", {**NEURON, "leaky_slope": 10**400}, NEURON_STATE),
     ["leaky_slope must be a finite number"]),
    ("bias string", doc("Neuron", {**NEURON, "bias": "no"}, NEURON_STATE), ["bias", "'no'"]),
    ("fused number", doc("Neuron", {**NEURON, "fused": 1}, NEURON_STATE), ["fused"]),
    ("activation list", doc("Neuron", {**NEURON, "activation": ["relu"]}, NEURON_STATE),
     ["activation"]),
    ("nouts int", doc("MLP", {**MLP(2, [1]).config(), "nouts": 1}, MLP(2, [1]).state_dict()),
     ["nouts must be a list"]),
    ("layers dict", doc("Sequential", {"layers": {"0": {"class": "Flatten", "config": {}}}}),
     ["layers"]),
    ("spec config list", doc("Sequential", {"layers": [{"class": "Flatten", "config": []}]}),
     ["config must be a dict"]),
    ("Module itself", doc("Module", {}), ["Module"]),
    ("flatten key", doc("Flatten", {"x": 1}), ["'x'"]),
]  # fmt: skip


@pytest.mark.parametrize(("what", "content", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_value_errors_naming_the_file_and_the_key(tmp_path, what, content, words):
    refused(write(tmp_path, content), *words)


def test_the_private_pool_base_is_no_layer_class():
    assert Module.class_named("_Pool2d") is None
    assert Module.class_named("MaxPool2d") is MaxPool2d


def test_nesting_up_to_the_bound_still_loads(tmp_path):
    assert nn.module.MAX_DEPTH == 32
    model = Module.load(write(tmp_path, nested(32)))
    assert isinstance(model, Sequential)


# ---- the fuzz: random hostile files, every failure a ValueError, under a budget -----------------

SIZES = st.sampled_from(
    [0, 1, 2, 3, -1, 2**16, 2**16 + 1, 10**9, 10**18, 10**400, 2.0, 1e308, True, "2", None]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | SIZES
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                   max_size=3),
    max_leaves=8,
)  # fmt: skip
EXAMPLES = [
    Neuron(2, seed=0), Layer(2, 2, seed=0), MLP(2, [2, 1], seed=0),
    Conv2d(1, 2, 2, padding=1, seed=0), MaxPool2d(2), AvgPool2d(2, stride=1), Flatten(),
    Sequential(Conv2d(1, 1, 2, seed=0), MaxPool2d(2), Flatten(), MLP(1, [1], seed=1)),
]  # fmt: skip
CLASSES = [type(m).__name__ for m in EXAMPLES] + ["_Pool2d", "Module", "Value", ""]


@st.composite
def specs(draw, depth):
    """A layer spec: a real one, mutated, or nonsense; Sequentials nest up to ``depth``."""
    if depth > 0 and draw(st.integers(0, 3)) == 0:
        layers = draw(st.lists(specs(depth - 1), max_size=3))
        return {"class": "Sequential", "config": {"layers": layers}}
    example = draw(st.sampled_from(EXAMPLES))
    spec = {"class": type(example).__name__, "config": mutated(draw, example.config())}
    if draw(st.integers(0, 9)) == 0:
        spec["class"] = draw(st.sampled_from(CLASSES) | st.text(max_size=6) | JSON)
    if draw(st.integers(0, 19)) == 0:
        spec = draw(JSON)
    return spec


def mutated(draw, config):
    config = dict(config)
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["set", "size", "drop", "add"]))
        key = draw(st.sampled_from(sorted(config))) if config else "nin"
        if action == "set":
            config[key] = draw(JSON)
        elif action == "size":
            config[key] = draw(SIZES)
        elif action == "drop":
            config.pop(key, None)
        else:
            config[draw(st.sampled_from(["rng", "seed", "init", "fan_out", "x"]))] = draw(JSON)
    return config


@st.composite
def hostile_docs(draw):
    example = draw(st.sampled_from(EXAMPLES))
    if isinstance(example, Sequential) and draw(st.booleans()):
        depth = draw(st.sampled_from([1, 3, 40, 300]))
        if depth < 40:
            config = {"layers": draw(st.lists(specs(depth), min_size=0, max_size=4))}
        else:  # a chain near or past MAX_DEPTH
            config = nested(depth)["config"]
    else:
        config = mutated(draw, example.config())
    # Mostly the example's own state, so that the config, not the count, has to be refused.
    state = draw(st.sampled_from([example.state_dict()] * 3 + [{}, {"x": 1.0}]))
    content = doc(type(example).__name__, config, state)
    if draw(st.integers(0, 9)) == 0:
        content["class"] = draw(st.sampled_from(CLASSES))
    return content


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=hostile_docs())
def test_fuzz_random_hostile_files_fail_only_with_value_errors_naming_the_file(content):
    with tempfile.TemporaryDirectory() as folder:
        path = write(folder, content)
        outcome: list[object] = []

        def load():
            try:
                outcome.append(Module.load(path))
            except ValueError as e:
                outcome.append(e)

        start = time.perf_counter()
        peak = peak_while(load)
        seconds = time.perf_counter() - start
    assert seconds < 1.0, f"load took {seconds:.2f} s"
    assert peak < 50 * MiB, f"load peaked at {peak / MiB:.1f} MiB"
    (result,) = outcome
    if isinstance(result, ValueError):
        assert str(path) in str(result), str(result)
    else:
        assert isinstance(result, Module)
