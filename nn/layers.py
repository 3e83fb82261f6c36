"""Neuron, Layer and MLP in micrograd's layout: ``mlp.layers[i].neurons[j].w[k]`` and ``.b``."""

from __future__ import annotations

import inspect
import math
import numbers
import random
from collections.abc import Callable, Mapping, Sequence, Set
from operator import mul
from typing import Any

from autograd import Value
from autograd.namespaces import NUMPY
from autograd.ops import OPS
from autograd.value import dot

from .module import Module

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


def _activation(name: str | None) -> str | None:
    """The canonical name ("linear" is None), or ValueError listing the choices."""
    name = None if name == "linear" else name
    if name not in ACTIVATIONS:
        known = ", ".join(str(k) for k in ACTIVATIONS if k) + ", linear/None"
        raise ValueError(f"unknown activation {name!r}; choose one of {known}")
    return name


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


def _check_size(who: str, name: str, n: Any) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{who}: {name} must be a positive int, got {n!r}")


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
        _check_size("Neuron", "nin", nin)
        if init not in INITS:
            raise ValueError(f"Neuron: unknown init {init!r}; choose one of {', '.join(INITS)}")
        rng = rng or random.Random(seed)  # our own stream: global random state is never touched
        self.nin = nin
        self.activation = _activation(activation)
        self.leaky_slope = float(leaky_slope)
        self.fused = bool(fused)
        self.w = [Value(_draw(rng, init, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0) if bias else None
        act = ACTIVATIONS[self.activation]
        if self.activation == "leaky_relu":
            slope = self.leaky_slope
            act = lambda v: v.leaky_relu(slope)  # noqa: E731
        self._act = act

    def forward(self, x: Sequence[Any]) -> Value:
        if type(x) is not list or len(x) != self.nin or type(x[0]) is not Value:
            # A Layer hands us a checked list of Values; anything else goes through the checks.
            x = _inputs(x, self.nin, "Neuron")
        if self.fused:
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
        return {
            "nin": self.nin,
            "activation": self.activation,
            "bias": self.b is not None,
            "fused": self.fused,
            "leaky_slope": self.leaky_slope,
        }

    def __repr__(self) -> str:
        kind = _NICE.get(self.activation) or str(self.activation).capitalize()
        return f"{kind}Neuron({self.nin})"


class Layer(Module):
    """``nout`` neurons reading the same inputs; one output gives a Value, several a list."""

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
        _check_size("Layer", "nout", nout)
        rng = rng or random.Random(seed)
        self.nin, self.nout = nin, nout
        self.neurons = [
            Neuron(
                nin,
                activation,
                bias,
                init,
                fused=fused,
                leaky_slope=leaky_slope,
                rng=rng,
                fan_out=nout,
            )
            for _ in range(nout)
        ]

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

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(map(repr, self.neurons))}]"


class MLP(Module):
    """A multi-layer perceptron: hidden layers use ``activation``, the last ``output_activation``.

    ``init``: "uniform" (micrograd's U(-1, 1)), "xavier" or "he"; biases start at 0. Weights come
    from ``random.Random(seed)``, drawn layer by layer, neuron by neuron: the same stream as
    micrograd after ``random.seed(seed)``. ``leaky_slope`` is the slope of every leaky_relu layer.
    """

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
        nouts = list(nouts)
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer size")
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        acts = [activation] * (len(nouts) - 1) + [output_activation]
        self.nin, self.nouts, self.init = nin, nouts, init
        self.activation = _activation(activation)
        self.output_activation = _activation(output_activation)
        self.bias, self.fused, self.leaky_slope = bool(bias), bool(fused), float(leaky_slope)
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                acts[i],
                bias,
                init,
                fused=fused,
                leaky_slope=leaky_slope,
                rng=rng,
            )
            for i in range(len(nouts))
        ]

    def forward(self, x: Any) -> Value | list[Value]:
        x = _inputs(x, self.nin, "MLP")
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self) -> dict[str, Any]:
        return {
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self.activation,
            "output_activation": self.output_activation,
            "bias": self.bias,
            "fused": self.fused,
            "leaky_slope": self.leaky_slope,
        }

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


class Sequential(Module):
    """Modules applied in order, each to what the one before returned:
    ``Sequential(Conv2d(1, 8, 3, activation="relu"), MaxPool2d(2), Flatten(), MLP(72, [10]))``.

    ``layers`` is the same list given by keyword; its items may also be specs
    ``{"class": "Conv2d", "config": {...}}``, which is how ``config()`` describes the network and
    how ``Sequential.load`` rebuilds it (every spec is checked before anything is built).
    """

    def __init__(self, *modules: Module, layers: Sequence[Module | dict[str, Any]] | None = None):
        if modules and layers is not None:
            raise TypeError("Sequential: give the modules as arguments or as layers=, not both")
        items = list(modules if layers is None else layers)
        if not items:
            raise ValueError("Sequential: needs at least one module")
        for i, item in enumerate(items):
            if not isinstance(item, Module):
                _check_spec(item, i)
        self.layers = [item if isinstance(item, Module) else _rebuild(item) for item in items]

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def config(self) -> dict[str, Any]:
        return {"layers": [{"class": type(m).__name__, "config": m.config()} for m in self.layers]}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """The parameters the layer specs of ``config`` describe, each counted by its own class
        without building anything (``Module.load`` checks a file against the sum first); None
        when some layer's class cannot tell."""
        layers = config.get("layers")
        if not isinstance(layers, list) or not layers:
            raise ValueError(f"layers must be a non-empty list of layer specs, got {layers!r:.60}")
        total = 0
        for i, spec in enumerate(layers):
            _check_spec(spec, i)
            n = Module.class_named(spec["class"]).parameter_count(spec["config"])
            if n is None:
                return None
            total += n
        return total

    def __repr__(self) -> str:
        lines = [f"({i}): {_short_repr(m)}" for i, m in enumerate(self.layers)]
        return (
            "Sequential(\n" + "".join(f"  {line}\n" for s in lines for line in s.split("\n")) + ")"
        )

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Sequential`` in float64, taking batches: for an image ``x``,
        ``torch_model(tensor([x]))[0]`` equals ``model(x)`` to ~1e-12."""
        try:
            import torch
        except ImportError as e:
            raise ImportError(
                "Sequential.to_torch needs PyTorch: pip install 'scalar-autograd[torch]'"
            ) from e
        parts: list[Any] = []
        for i, layer in enumerate(self.layers):
            if not hasattr(layer, "to_torch"):
                raise TypeError(f"Sequential.to_torch: layer {i} ({layer!r}) has no to_torch()")
            part = layer.to_torch()
            parts += list(part) if isinstance(part, torch.nn.Sequential) else [part]
        return torch.nn.Sequential(*parts)


def _rebuild(spec: dict[str, Any]) -> Module:
    """The layer a checked spec ``{"class": ..., "config": ...}`` describes."""
    return Module.class_named(spec["class"])(**spec["config"])


def _check_spec(spec: Any, i: int) -> None:
    """A layer spec ``{"class": name, "config": {...}}`` naming a known module, or an error."""
    if not isinstance(spec, dict) or set(spec) != {"class", "config"}:
        raise TypeError(
            f"Sequential: layer {i} must be a Module or a spec "
            f'{{"class": ..., "config": {{...}}}}, got {type(spec).__name__} {spec!r:.60}'
        )
    name, config = spec["class"], spec["config"]
    cls = Module.class_named(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Sequential: layer {i}: unknown module class {name!r}")
    if not isinstance(config, dict):
        raise ValueError(f"Sequential: layer {i}: config must be a dict, got {config!r:.60}")


def _short_repr(module: Module) -> str:
    """``repr(module)``, or when that runs past a line (an MLP lists every neuron), the call that
    builds it: ``MLP(nin=64, nouts=[32, 10], activation='tanh')``, defaults left out."""
    text = repr(module)
    if len(text) <= 100 or "\n" in text:
        return text
    try:
        config = module.config()
    except NotImplementedError:
        return text[:97] + "..."
    defaults = {name: p.default for name, p in inspect.signature(type(module)).parameters.items()}
    shown = [f"{k}={v!r}" for k, v in config.items() if k not in defaults or defaults[k] != v]
    return f"{type(module).__name__}({', '.join(shown)})"
