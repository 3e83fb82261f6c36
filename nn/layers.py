"""Neuron, Layer and MLP in micrograd's layout: ``mlp.layers[i].neurons[j].w[k]`` and ``.b``."""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from operator import mul
from typing import Any, ClassVar

from autograd import Value
from autograd.namespaces import NUMPY
from autograd.ops import OPS
from autograd.value import dot

from .module import Module, check_bool, check_finite, check_int

# Activation name -> the Value method that applies it; None is linear (no op at all).
ACTIVATIONS: dict[str | None, Callable[..., Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
    "softplus": Value.softplus,
    None: None,
}
INITS = ("uniform", "xavier", "he")
_NICE = {None: "Linear", "relu": "ReLU", "leaky_relu": "LeakyReLU"}


def _activation(name: Any, who: str = "activation") -> str | None:
    """The canonical name ("linear" is None), or ValueError listing the choices."""
    name = None if name == "linear" else name
    if not (name is None or isinstance(name, str)) or name not in ACTIVATIONS:
        known = ", ".join(str(k) for k in ACTIVATIONS if k) + ", linear/None"
        raise ValueError(f"unknown {who} {_short(name)}; choose one of {known}")
    return name


@dataclass(frozen=True)
class NeuronOptions:
    """How every neuron of a Neuron, Layer, MLP or Conv2d is made, checked once, in ``checked``.

    ``activation`` (None = linear), ``bias``, ``init`` ("uniform", "xavier" or "he"), ``fused``
    (one ``dot`` node for the weighted sum) and ``leaky_slope`` (the slope of leaky_relu). A
    saved file holds all but ``init``, which only draws the weights the file then replaces.
    """

    activation: str | None
    bias: bool
    init: str
    fused: bool
    leaky_slope: float

    SAVED: ClassVar[tuple[str, ...]] = ("activation", "bias", "fused", "leaky_slope")

    @classmethod
    def checked(
        cls, who: str, activation: Any, bias: Any, init: Any, fused: Any, leaky_slope: Any
    ) -> NeuronOptions:
        """The options, or ValueError naming ``who``, the argument and the value."""
        if not isinstance(init, str) or init not in INITS:
            raise ValueError(
                f"{who}: unknown init {_short(init)}; choose one of {', '.join(INITS)}"
            )
        try:
            activation = _activation(activation)
        except ValueError as e:
            raise ValueError(f"{who}: {e}") from None
        return cls(
            activation,
            check_bool(who, "bias", bias),
            init,
            check_bool(who, "fused", fused),
            check_finite(who, "leaky_slope", leaky_slope),
        )

    def config(self) -> dict[str, Any]:
        """The options a saved file holds."""
        return {key: getattr(self, key) for key in self.SAVED}

    def act(self) -> Callable[[Value], Value] | None:
        """The activation as a function of one Value; None for linear."""
        if self.activation == "leaky_relu":
            slope = self.leaky_slope
            return lambda v: v.leaky_relu(slope)
        return ACTIVATIONS[self.activation]


def _inputs(x: Any, nin: int, who: str) -> Sequence[Any]:
    """``x`` as a list of ``nin`` numbers or Values, or an error saying what is wrong."""
    if type(x) is not list:
        if isinstance(x, (Set, Mapping)):
            raise TypeError(
                f"{who}: inputs must be an ordered sequence (a list), got a {type(x).__name__} "
                f"{_short(x)}, whose order is arbitrary"
            )
        if isinstance(x, (Value, numbers.Real)):
            x = [x]  # a lone input, for nin == 1
        elif hasattr(x, "tolist"):
            x = x.tolist()  # numpy row: plain floats multiply faster than numpy scalars
            x = x if isinstance(x, list) else [x]
        else:
            try:
                x = list(x)
            except TypeError:
                raise TypeError(
                    f"{who}: expected a list of {nin} inputs, got {type(x).__name__}"
                ) from None
    if len(x) != nin:
        raise ValueError(f"{who}: expected {nin} inputs, got {len(x)}")
    for xi in x:
        if not isinstance(xi, (Value, numbers.Real)):
            raise TypeError(
                f"{who}: inputs must be numbers or Values, got {type(xi).__name__} {xi!r}"
            )
    # Lift plain numbers once, here, as labelled inputs: otherwise every neuron would make its
    # own unlabelled constant for the same number, and pictures would show constants.
    return [xi if isinstance(xi, Value) else Value(xi, f"x{i}") for i, xi in enumerate(x)]


def flat_values(x: Any, who: str, what: str = "numbers or Values", where: str = "") -> list[Any]:
    """The numbers and Values in ``x`` (nested lists, tuples or numpy arrays), in row-major
    order as ``torch.flatten`` gives them (a number alone is a list of one); a TypeError names
    ``who``, ``what`` it expected and where the bad item sits."""
    if hasattr(x, "tolist") and not isinstance(x, Value):
        x = x.tolist()  # numpy arrays and scalars
    if isinstance(x, (list, tuple)):
        return [
            v for i, item in enumerate(x) for v in flat_values(item, who, what, f"{where}[{i}]")
        ]
    if not isinstance(x, (Value, numbers.Real)):
        raise TypeError(
            f"{who}: expected {what}, got {type(x).__name__} {_short(x)} at {where or 'the top'}"
        )
    return [x]


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _stream(who: str, rng: Any, seed: Any) -> random.Random:
    """``rng``, or our own ``random.Random(seed)``: global random state is never touched."""
    if rng is None:
        return random.Random(seed)
    if not (hasattr(rng, "uniform") and hasattr(rng, "gauss")):
        raise TypeError(f"{who}: rng must be a random.Random, got {type(rng).__name__} {rng!r:.40}")
    return rng


def _bias(who: str, config: dict[str, Any]) -> int:
    """1 when a config's neurons have a bias (the default), 0 when not."""
    return int(check_bool(who, "bias", config.get("bias", True)))


def _layer_sizes(who: str, nouts: Any) -> list[int]:
    """``nouts`` as a list of layer sizes, or an error that says how to write them."""
    if isinstance(nouts, (numbers.Number, str, bytes, Mapping, Set)):
        raise TypeError(
            f"{who}: nouts must be a list of layer sizes, the last one the outputs "
            f"(MLP(2, [4]): one layer of 4; MLP(2, [16, 1]): 16 hidden, 1 output), "
            f"got {type(nouts).__name__} {_short(nouts)}"
        )
    try:
        sizes = list(nouts)
    except TypeError:
        raise TypeError(
            f"{who}: nouts must be a list of layer sizes, got {type(nouts).__name__}"
        ) from None
    if not sizes:
        raise ValueError(f"{who}: nouts must list at least one layer size")
    return [check_int(who, f"nouts[{i}]", n) for i, n in enumerate(sizes)]


def _draw(rng: random.Random, init: str, nin: int, nout: int) -> float:
    """One weight: U(-1, 1) (micrograd); Xavier U(±sqrt(6 / (nin + nout))); He N(0, 2 / nin)."""
    if init == "uniform":
        return rng.uniform(-1, 1)
    if init == "xavier":
        a = math.sqrt(6.0 / (nin + nout))
        return rng.uniform(-a, a)
    return rng.gauss(0.0, math.sqrt(2.0 / nin))


class Neuron(Module):
    """act(b + w0 x0 + w1 x1 + ...): micrograd's graph, node for node, in micrograd's order.

    With ``fused=True`` the weighted sum is one ``dot`` node (smaller graph, same numbers).
    """

    CONFIG_KEYS = ("nin", *NeuronOptions.SAVED)

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        bias: bool = True,
        init: str = "uniform",
        seed: int | None = None,
        fused: bool = False,
        leaky_slope: float = 0.01,
        *,
        rng: random.Random | None = None,
        fan_out: int = 1,
    ) -> None:
        options = NeuronOptions.checked("Neuron", activation, bias, init, fused, leaky_slope)
        nin, fan_out = check_int("Neuron", "nin", nin), check_int("Neuron", "fan_out", fan_out)
        self._build(nin, options, _stream("Neuron", rng, seed), fan_out)

    @classmethod
    def made(cls, nin: int, options: NeuronOptions, rng: random.Random, fan_out: int) -> Neuron:
        """A neuron from options a Layer, MLP or Conv2d has already checked."""
        neuron = cls.__new__(cls)
        neuron._build(nin, options, rng, fan_out)
        return neuron

    def _build(self, nin: int, options: NeuronOptions, rng: random.Random, fan_out: int) -> None:
        self.nin = nin
        self.options = options
        self.w = [Value(_draw(rng, options.init, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0) if options.bias else None
        self._act = options.act()

    @property
    def activation(self) -> str | None:
        """The activation's name (None = linear)."""
        return self.options.activation

    @activation.setter
    def activation(self, name: str | None) -> None:  # checked as the constructor checks it
        o = self.options
        self.options = NeuronOptions.checked("Neuron", name, o.bias, o.init, o.fused, o.leaky_slope)
        self._act = self.options.act()

    @property
    def fused(self) -> bool:
        return self.options.fused

    @property
    def leaky_slope(self) -> float:
        return self.options.leaky_slope

    def forward(self, x: Sequence[Any]) -> Value:
        if type(x) is not list or len(x) != self.nin or type(x[0]) is not Value:
            # A Layer hands us a checked list of Values; anything else goes through the checks.
            x = _inputs(x, self.nin, "Neuron")
        if self.options.fused:
            out = dot(self.w, x)
            if self.b is not None:
                out = out + self.b
        else:
            try:
                if self.b is not None:
                    out = sum(map(mul, self.w, x), self.b)  # b + w0*x0 + w1*x1 + ..., as micrograd
                else:
                    products = map(mul, self.w, x)
                    out = sum(products, next(products))
            except TypeError:  # an input that is no number got past the quick check above
                _inputs(x, self.nin, "Neuron")  # raises the error that names it
                raise
        return out if self._act is None else self._act(out)

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, **self.options.config()}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        """``nin + bias``, from a config alone."""
        return check_int(cls.__name__, "nin", config.get("nin")) + _bias(cls.__name__, config)

    def __repr__(self) -> str:
        kind = _NICE.get(self.activation) or str(self.activation).capitalize()
        return f"{kind}Neuron({self.nin})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; one output gives a Value, several a list."""

    CONFIG_KEYS = ("nout", *Neuron.CONFIG_KEYS)

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        bias: bool = True,
        init: str = "uniform",
        seed: int | None = None,
        fused: bool = False,
        leaky_slope: float = 0.01,
        *,
        rng: random.Random | None = None,
    ) -> None:
        options = NeuronOptions.checked("Layer", activation, bias, init, fused, leaky_slope)
        nin, nout = check_int("Layer", "nin", nin), check_int("Layer", "nout", nout)
        self._build(nin, nout, options, _stream("Layer", rng, seed))

    @classmethod
    def made(cls, nin: int, nout: int, options: NeuronOptions, rng: random.Random) -> Layer:
        """A layer from options an MLP has already checked."""
        layer = cls.__new__(cls)
        layer._build(nin, nout, options, rng)
        return layer

    def _build(self, nin: int, nout: int, options: NeuronOptions, rng: random.Random) -> None:
        self.nin, self.nout = nin, nout
        self.neurons = [Neuron.made(nin, options, rng, fan_out=nout) for _ in range(nout)]

    @property
    def activation(self) -> str | None:
        """The neurons' activation (None = linear)."""
        return self.neurons[0].activation

    def forward(self, x: Any) -> Value | list[Value]:
        x = _inputs(x, self.nin, "Layer")
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def config(self) -> dict[str, Any]:
        return {"nout": self.nout, **self.neurons[0].config()}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        """``nout * (nin + bias)``, from a config alone."""
        return check_int(cls.__name__, "nout", config.get("nout")) * Neuron.parameter_count(config)

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class MLP(Module):
    """A multi-layer perceptron: hidden layers use ``activation``, the last ``output_activation``.

    ``nouts`` lists the layer sizes, the last one the outputs: ``MLP(2, [16, 16, 1])`` has two
    hidden layers of 16 and one output (micrograd's signature; ``MLP(2, [4])`` is one layer).
    ``init``: "uniform" (micrograd's U(-1, 1)), "xavier" or "he"; biases start at 0. Weights come
    from ``random.Random(seed)``, drawn layer by layer, neuron by neuron: the same stream as
    micrograd after ``random.seed(seed)``. ``leaky_slope`` is the slope of every leaky_relu layer.
    """

    CONFIG_KEYS = (
        "nin",
        "nouts",
        "activation",
        "output_activation",
        "bias",
        "fused",
        "leaky_slope",
    )

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        bias: bool = True,
        init: str = "uniform",
        seed: int | None = None,
        fused: bool = False,
        leaky_slope: float = 0.01,
    ) -> None:
        nouts = _layer_sizes("MLP", nouts)
        hidden = NeuronOptions.checked("MLP", activation, bias, init, fused, leaky_slope)
        try:
            output = replace(hidden, activation=_activation(output_activation, "output_activation"))
        except ValueError as e:
            raise ValueError(f"MLP: {e}") from None
        rng = random.Random(seed)
        sizes = [check_int("MLP", "nin", nin), *nouts]
        self.nin, self.nouts = nin, nouts
        self._hidden, self._output = hidden, output
        self.layers = [
            Layer.made(sizes[i], sizes[i + 1], hidden if i < len(nouts) - 1 else output, rng)
            for i in range(len(nouts))
        ]

    # The options every layer shares, as the constructor's arguments name them.
    activation = property(lambda self: self._hidden.activation)
    output_activation = property(lambda self: self._output.activation)
    bias = property(lambda self: self._hidden.bias)
    init = property(lambda self: self._hidden.init)
    fused = property(lambda self: self._hidden.fused)
    leaky_slope = property(lambda self: self._hidden.leaky_slope)

    def forward(self, x: Any) -> Value | list[Value]:
        x = _inputs(x, self.nin, "MLP")
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self) -> dict[str, Any]:
        saved = self._hidden.config()
        return {
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": saved.pop("activation"),
            "output_activation": self.output_activation,
            **saved,
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        """The weights and biases of every layer, from a config alone."""
        sizes = [
            check_int("MLP", "nin", config.get("nin")),
            *_layer_sizes("MLP", config.get("nouts")),
        ]
        bias = _bias("MLP", config)
        return sum(n_out * (n_in + bias) for n_in, n_out in zip(sizes, sizes[1:]))

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(map(repr, self.layers))}]"

    # ---- numpy and torch ------------------------------------------------------------------------
    def to_numpy(self) -> list[tuple[Any, Any, str | None]]:
        """Per layer ``(W, b, activation)``: W of shape (nout, nin), b of shape (nout,) (zeros
        without bias), activation an op name from the table or None for linear. A
        "leaky_relu" layer uses slope ``self.leaky_slope``."""
        import numpy as np

        return [
            (
                np.array([[w.data for w in n.w] for n in layer.neurons]),
                np.array([0.0 if n.b is None else n.b.data for n in layer.neurons]),
                layer.activation,
            )
            for layer in self.layers
        ]

    def predict_numpy(self, X: Any) -> Any:  # noqa: N803
        """The forward pass on a batch with numpy: rows of X (n, nin) -> outputs (n, nout).
        Each activation runs through the op table's own rule, ``OPS[name].fwd(NUMPY, z)``."""
        import numpy as np

        a = np.asarray(X, dtype=float)
        if a.ndim != 2 or a.shape[1] != self.nin:
            raise ValueError(
                f"predict_numpy: expected an array of shape (n, {self.nin}), got {a.shape}"
            )
        for w, b, activation in self.to_numpy():
            a = activate_numpy(activation, a @ w.T + b, self.leaky_slope)
        return a

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Sequential`` in float64 (same outputs to ~1e-12)."""
        try:
            import torch
        except ImportError as e:
            raise ImportError(
                "MLP.to_torch needs PyTorch: pip install 'scalar-autograd[torch]'"
            ) from e
        modules: list[Any] = []
        for w, b, activation in self.to_numpy():
            linear = torch.nn.Linear(w.shape[1], w.shape[0], bias=self.bias, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w))
                if self.bias:
                    linear.bias.copy_(torch.from_numpy(b))
            modules.append(linear)
            if activation is not None:
                modules.append(_torch_activation(torch, activation, self.leaky_slope))
        return torch.nn.Sequential(*modules)


def activate_numpy(name: str | None, z: Any, leaky_slope: float = 0.01) -> Any:
    """An activation (a name of ``ACTIVATIONS``; None is linear) on an array, by the op table's
    own forward rule: ``OPS[name].fwd(NUMPY, z)``, with the slope for "leaky_relu"."""
    if name is None:
        return z
    if name == "leaky_relu":
        return OPS[name].fwd(NUMPY, z, leaky_slope)
    return OPS[name].fwd(NUMPY, z)


def _torch_activation(torch: Any, name: str, slope: float) -> Any:
    if name == "leaky_relu":
        return torch.nn.LeakyReLU(slope)
    if name == "softplus":
        # torch returns x itself above the threshold (20 by default): off by up to 2e-9 there.
        return torch.nn.Softplus(threshold=40.0)
    return {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[name]()
