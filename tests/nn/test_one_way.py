"""nn, one way each (issue 21, item 5): one neuron-options object, one size check with one
message, each class counting its own parameters, Sequential in its own module; and the clear
errors for obviously wrong argument types (issue 20, item 8)."""

from __future__ import annotations

import importlib.util
import math
import re

import pytest

from nn import MLP, AvgPool2d, Conv2d, Flatten, Layer, MaxPool2d, Module, Neuron, Sequential
from nn.layers import NeuronOptions
from nn.module import MAX_SIZE

EXAMPLES = [
    Neuron(3, activation="tanh", seed=0),
    Layer(3, 2, bias=False, seed=0),
    MLP(3, [4, 2], activation="leaky_relu", output_activation="sigmoid", leaky_slope=0.2, seed=0),
    Conv2d(2, 3, 2, stride=2, padding=1, activation="relu", seed=0),
    MaxPool2d(2),
    AvgPool2d(3, stride=1),
    Flatten(),
    Sequential(Conv2d(1, 2, 3, seed=0), MaxPool2d(2), Flatten(), MLP(2, [1], seed=1)),
]
IDS = [type(m).__name__ for m in EXAMPLES]


@pytest.mark.parametrize("module", EXAMPLES, ids=IDS)
def test_a_saved_config_holds_exactly_the_keys_a_file_may_hold(module):
    assert list(module.config()) == list(type(module).CONFIG_KEYS)
    rebuilt = type(module)(**module.config())
    assert rebuilt.config() == module.config()


@pytest.mark.parametrize("module", EXAMPLES, ids=IDS)
def test_each_class_counts_its_own_parameters(module):
    cls = type(module)
    assert cls.parameter_count(module.config()) == len(module.parameters())
    owner = next(c for c in cls.__mro__ if "parameter_count" in vars(c))
    assert owner is not Module and owner.__module__.startswith("nn.")
    assert importlib.util.find_spec("nn.sizes") is None  # no table keyed by class name


def test_sequential_lives_in_its_own_module():
    assert Sequential.__module__ == "nn.sequential"


def test_neurons_layers_mlps_and_convolutions_share_one_options_object():
    assert isinstance(EXAMPLES[0].options, NeuronOptions)
    assert all(n.options is EXAMPLES[1].neurons[0].options for n in EXAMPLES[1].neurons)
    mlp = EXAMPLES[2]
    hidden, output = mlp.layers[0].neurons[0].options, mlp.layers[1].neurons[0].options
    assert (hidden.activation, output.activation) == ("leaky_relu", "sigmoid")
    assert hidden.leaky_slope == output.leaky_slope == mlp.leaky_slope == 0.2
    conv = EXAMPLES[3]
    assert all(n.options is conv.options for n in conv.neurons)
    assert (conv.options.init, conv.options.fused) == ("he", True)  # Conv2d's own defaults


BUILDERS = {
    "Neuron": lambda **kw: Neuron(2, **kw),
    "Layer": lambda **kw: Layer(2, 2, **kw),
    "MLP": lambda **kw: MLP(2, [2], **kw),
    "Conv2d": lambda **kw: Conv2d(1, 1, 2, **kw),
}
BAD_OPTIONS = [
    ({"leaky_slope": math.nan}, "{who}: leaky_slope must be a finite number, got nan"),
    ({"leaky_slope": "0.1"}, "{who}: leaky_slope must be a finite number, got '0.1'"),
    ({"bias": "no"}, "{who}: bias must be True or False, got 'no'"),
    ({"fused": None}, "{who}: fused must be True or False, got None"),
    ({"init": "normal"}, "{who}: unknown init 'normal'; choose one of uniform, xavier, he"),
    ({"activation": "swish"}, "{who}: unknown activation 'swish'; choose one of"),
    ({"activation": ["relu"]}, "{who}: unknown activation ['relu']; choose one of"),
]


@pytest.mark.parametrize("who", BUILDERS)
@pytest.mark.parametrize(("kwargs", "message"), BAD_OPTIONS)
def test_every_constructor_refuses_bad_options_in_the_same_words(who, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message.format(who=who))):
        BUILDERS[who](**kwargs)


SIZES = [
    (lambda: Neuron(0), "Neuron: nin"),
    (lambda: Neuron(2, fan_out=-2), "Neuron: fan_out"),
    (lambda: Layer(2, MAX_SIZE + 1), "Layer: nout"),
    (lambda: Layer(0, 2), "Layer: nin"),
    (lambda: MLP(True, [2]), "MLP: nin"),
    (lambda: MLP(2, [2, 0]), "MLP: nouts[1]"),
    (lambda: Conv2d(1, 1, 3, stride=10**9), "Conv2d: stride"),
    (lambda: MaxPool2d(2, stride=2.0), "MaxPool2d: stride"),
]


@pytest.mark.parametrize(("build", "name"), SIZES)
def test_one_size_check_with_one_message(build, name):
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} must be an int in \[1, 65536\]"):
        build()


# ---- issue 20, item 8: obviously wrong argument types ------------------------------------------


def test_mlp_with_an_int_for_the_layer_sizes_says_to_give_a_list():
    # micrograd and torchvision.ops.MLP take a list; an int would leave open whether MLP(2, 4)
    # means one layer of 4 outputs or a hidden layer of 4, so it is refused, saying how.
    with pytest.raises(TypeError) as e:
        MLP(2, 4)
    message = str(e.value)
    assert message.startswith("MLP: nouts must be a list of layer sizes")
    assert "MLP(2, [4])" in message and "got int 4" in message
    for bad in ("44", {"a": 1}, {4}, 4.0, None):
        with pytest.raises(TypeError, match="MLP: nouts must be a list of layer sizes"):
            MLP(2, bad)
    assert MLP(2, (4, 1)).nouts == [4, 1]  # a tuple is a list of sizes too


@pytest.mark.parametrize(
    ("build", "kind", "message"),
    [
        (lambda: Layer(2, [3]), ValueError, "Layer: nout must be an int in [1, 65536], got [3]"),
        (lambda: Neuron("3"), ValueError, "Neuron: nin must be an int in [1, 65536], got '3'"),
        (lambda: Neuron(2, rng=3), TypeError, "Neuron: rng must be a random.Random, got int"),
        (lambda: Sequential(layers="abc"), TypeError, "Sequential: layers must be a list of"),
        (lambda: Sequential(layers=Flatten()), TypeError, "Sequential: layers must be a list of"),
        (lambda: MaxPool2d("2"), ValueError, "MaxPool2d: kernel_size must be an int in [1, 655"),
    ],
)
def test_other_constructors_name_the_call_the_argument_and_the_value(build, kind, message):
    with pytest.raises(kind, match=re.escape(message)):
        build()


def test_a_class_instead_of_a_module_in_a_sequential_says_to_call_it():
    with pytest.raises(TypeError, match=r"layer 1 is the class Flatten, not a module: call it"):
        Sequential(MaxPool2d(2), Flatten)


class Wider(MLP):
    """A subclass of yours that saves one more key: its own config() decides what it holds."""

    def __init__(self, nin, nouts, note="", **kwargs):
        super().__init__(nin, nouts, **kwargs)
        self.note = note

    def config(self):
        return {**super().config(), "note": self.note}


def test_a_subclass_that_writes_its_own_config_loads_with_its_own_keys(tmp_path):
    Wider(2, [1], note="mine", seed=0).save(tmp_path / "w.json")
    assert Module.load(tmp_path / "w.json").note == "mine"
    assert Wider.check_keys({"note": "x"}) == {"note": "x"}
    with pytest.raises(ValueError, match="config key 'note' is not one a saved MLP holds"):
        MLP.check_keys({"note": "x"})
