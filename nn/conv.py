"""Convolutions made of neurons: ``Conv2d`` slides one ``Neuron`` per output channel over an image.

An image is a nested list ``[channels][height][width]`` of numbers or Values. At every position
the convolution cuts out the window under its kernel, ``in_channels * k * k`` Values in
(channel, row, column) order, and hands that window to each output channel's neuron:
``out[o][i][j] = act(b_o + w_o · window(i, j))``. The same weight Values feed every position, so
the graph shows the weight sharing, and ``backward()`` adds each position's share into the one
``.grad`` of every weight. ``conv.neurons[o].w`` is ``torch_conv.weight[o].flatten()``.

Pooling reduces each window of each channel to one Value: ``MaxPool2d`` with the table's n-ary
``max`` op (the gradient goes to the first largest input, as in ``torch.max_pool2d``) and
``AvgPool2d`` with a sum and a division. ``Flatten`` turns ``[C][H][W]`` into the flat list an
``MLP`` reads. Shapes, zero padding and strides are PyTorch's.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable
from typing import Any

from autograd import Value
from autograd.grad_mode import enter_scope, exit_scope
from autograd.value import vmax, vsum

from .layers import Neuron, NeuronOptions, _bias, _torch_activation, flat_values
from .module import Module, check_int, check_work

Image = list[list[list[Any]]]  # [channels][height][width]
_HINT = " (an image is [channels][height][width]: put a one-channel image in a list of one)"


def _conv_sizes(who: str, *sizes: Any) -> tuple[int, int, int, int, int]:
    """(in_channels, out_channels, kernel_size, stride, padding), checked: ints in bounds, and
    a padding that leaves even a 1x1 image within ``MAX_VALUES`` once padded."""
    c_in, c_out, k, s = (
        check_int(who, name, n)
        for name, n in zip(("in_channels", "out_channels", "kernel_size", "stride"), sizes)
    )
    p = check_int(who, "padding", sizes[4], low=0)
    check_work(who, c_in * (1 + 2 * p) ** 2, f"padding={p} of even a 1x1 input")
    return c_in, c_out, k, s, p


class Conv2d(Module):
    """A 2-d convolution: output channel ``o`` is ``neurons[o]`` applied to every window.

    ``kernel_size``, ``stride`` and ``padding`` are ints (square kernels, as the digits CNN
    needs); the input is padded with zeros. An input of ``H x W`` gives ``H' x W'`` with
    ``H' = (H + 2 padding - kernel_size) // stride + 1``, as in PyTorch.

    ``init``: "he" (the default: N(0, 2 / fan_in), for relu networks), "xavier" or "uniform";
    biases start at 0. ``fused=True`` (the default) makes each window's weighted sum one ``dot``
    node (the same numbers) instead of a chain of ``2 * in_channels * k * k`` products and sums.
    """

    CONFIG_KEYS = (
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        *NeuronOptions.SAVED,
    )

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        activation: str | None = None,
        seed: int | None = None,
        *,
        init: str = "he",
        fused: bool = True,
        leaky_slope: float = 0.01,
    ) -> None:
        options = NeuronOptions.checked("Conv2d", activation, bias, init, fused, leaky_slope)
        _conv_sizes("Conv2d", in_channels, out_channels, kernel_size, stride, padding)
        rng = random.Random(seed)  # our own stream: global random state is never touched
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.options = options
        fan_in, fan_out = in_channels * kernel_size**2, out_channels * kernel_size**2
        self.neurons = [Neuron.made(fan_in, options, rng, fan_out) for _ in range(out_channels)]

    @property
    def init(self) -> str:
        """How the weights were drawn: "he", "xavier" or "uniform"."""
        return self.options.init

    @property
    def activation(self) -> str | None:
        """The neurons' activation (None = linear)."""
        return self.options.activation

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(H', W') for an ``height x width`` input, or ValueError when the kernel does not fit."""
        k, s, p = self.kernel_size, self.stride, self.padding
        if height + 2 * p < k or width + 2 * p < k:
            raise ValueError(
                f"Conv2d: a {height}x{width} input with padding {p} is smaller than the "
                f"{k}x{k} kernel"
            )
        return (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1

    def forward(self, x: Any) -> Image:
        image = _image(x, "Conv2d", self.in_channels)
        height, width = len(image[0]), len(image[0][0])
        rows, cols = self.output_size(height, width)
        k, s, p = self.kernel_size, self.stride, self.padding
        # Before anything is allocated: the padded image, the windows and the weighted sums.
        padded_size = self.in_channels * (height + 2 * p) * (width + 2 * p)
        sums = rows * cols * self.out_channels * (self.in_channels * k * k + 2)
        check_work("Conv2d", padded_size + sums, f"a {height}x{width} input")
        padded = _pad(image, p)
        out: Image = [[[None] * cols for _ in range(rows)] for _ in self.neurons]
        for i in range(rows):
            for j in range(cols):
                r, c = i * s, j * s
                window = [
                    v for plane in padded for line in plane[r : r + k] for v in line[c : c + k]
                ]
                for o, neuron in enumerate(self.neurons):
                    # The neuron at this position gets a scope of its own, so that
                    # draw_dot(collapse="neuron") boxes each position's weighted sum apart.
                    token = enter_scope(f"Neuron:{neuron.name} at ({i}, {j})")
                    try:
                        out[o][i][j] = neuron.forward(window)
                    finally:
                        exit_scope(token)
        return out

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            **self.options.config(),
        }

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        """``out_channels * (in_channels * kernel_size ** 2 + bias)``, from a config alone:
        ``Module.load`` checks a file against it before building anything (and refuses sizes
        no input could run with, such as a padding of 10**9)."""
        sizes = ("in_channels", "out_channels", "kernel_size", "stride", "padding")
        defaults = {"stride": 1, "padding": 0}
        c_in, c_out, k, _, _ = _conv_sizes(
            "Conv2d", *(config.get(name, defaults.get(name)) for name in sizes)
        )
        return c_out * (c_in * k * k + _bias("Conv2d", config))

    def __repr__(self) -> str:
        shown = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"]
        defaults = {"stride": 1, "padding": 0, "bias": True, "activation": None}
        config = self.config()
        shown += [f"{key}={config[key]!r}" for key, d in defaults.items() if config[key] != d]
        return f"Conv2d({', '.join(shown)})"

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Conv2d`` in float64 (followed by the activation, if any, in a
        ``torch.nn.Sequential``); it takes batches ``(N, C, H, W)``."""
        torch = _torch("Conv2d")
        k, options = self.kernel_size, self.options
        conv = torch.nn.Conv2d(
            self.in_channels,
            self.out_channels,
            k,
            stride=self.stride,
            padding=self.padding,
            bias=options.bias,
            dtype=torch.float64,
        )
        with torch.no_grad():
            weights = [[w.data for w in n.w] for n in self.neurons]
            conv.weight.copy_(torch.tensor(weights, dtype=torch.float64).reshape(conv.weight.shape))
            if conv.bias is not None:
                conv.bias.copy_(torch.tensor([n.b.data for n in self.neurons], dtype=torch.float64))
        if options.activation is None:
            return conv
        return torch.nn.Sequential(
            conv, _torch_activation(torch, options.activation, options.leaky_slope)
        )


class _Pool2d(Module):
    """Each ``kernel_size x kernel_size`` window of each channel, ``stride`` apart (default:
    ``kernel_size``, so windows tile the image), reduced to one Value."""

    reduce: Callable[[list[Value], int], Value]

    CONFIG_KEYS = ("kernel_size", "stride")

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        self.kernel_size, self.stride = self._sizes(kernel_size, stride)

    @classmethod
    def _sizes(cls, kernel_size: Any, stride: Any) -> tuple[int, int]:
        """(kernel_size, stride), checked; the stride defaults to the kernel size."""
        kernel_size = check_int(cls.__name__, "kernel_size", kernel_size)
        return kernel_size, kernel_size if stride is None else check_int(
            cls.__name__, "stride", stride
        )

    def forward(self, x: Any) -> Image:
        who = type(self).__name__
        image = _image(x, who)
        k, s = self.kernel_size, self.stride
        height, width = len(image[0]), len(image[0][0])
        if height < k or width < k:
            raise ValueError(f"{who}: a {height}x{width} input is smaller than the {k}x{k} window")
        rows, cols = range(0, height - k + 1, s), range(0, width - k + 1, s)
        return [
            [
                [
                    self.reduce([v for line in plane[r : r + k] for v in line[c : c + k]], k)
                    for c in cols
                ]
                for r in rows
            ]
            for plane in image
        ]

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size, "stride": self.stride}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        """Pooling learns nothing: 0 (once the sizes are checked)."""
        cls._sizes(config.get("kernel_size"), config.get("stride"))
        return 0

    def __repr__(self) -> str:
        stride = "" if self.stride == self.kernel_size else f", stride={self.stride}"
        return f"{type(self).__name__}({self.kernel_size}{stride})"


class MaxPool2d(_Pool2d):
    """The largest Value of each window, one ``max`` node: the gradient goes to the first
    largest input in row-major order, as ``torch.nn.functional.max_pool2d`` does (a window
    holding several nans sends it to the first nan; torch picks the last)."""

    @staticmethod
    def reduce(window: list[Value], k: int) -> Value:
        return vmax(window)

    def to_torch(self) -> Any:
        """The equivalent ``torch.nn.MaxPool2d``."""
        return _torch("MaxPool2d").nn.MaxPool2d(self.kernel_size, self.stride)


class AvgPool2d(_Pool2d):
    """The mean of each window: (x1 + ... + xn) / n, one sum node and one division."""

    @staticmethod
    def reduce(window: list[Value], k: int) -> Value:
        return vsum(window) / (k * k)

    def to_torch(self) -> Any:
        """The equivalent ``torch.nn.AvgPool2d``."""
        return _torch("AvgPool2d").nn.AvgPool2d(self.kernel_size, self.stride)


class Flatten(Module):
    """``[C][H][W]`` (any nesting of lists) to one flat list, in row-major order as
    ``torch.flatten``: what an ``MLP`` after the convolutions reads."""

    CONFIG_KEYS = ()

    def forward(self, x: Any) -> list[Any]:
        return flat_values(x, "Flatten", "nested lists of numbers or Values")

    def config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        """Flattening learns nothing: 0."""
        return 0

    def to_torch(self) -> Any:
        """``torch.nn.Flatten()``: flattens every dimension after the batch's."""
        return _torch("Flatten").nn.Flatten()


# ---- images -------------------------------------------------------------------------------------


def _as_list(x: Any) -> Any:
    """Lists stay; numpy arrays become nested lists of floats; tuples become lists."""
    if isinstance(x, list):
        return x
    if hasattr(x, "tolist") and not isinstance(x, Value):
        return x.tolist()
    if isinstance(x, tuple):
        return list(x)
    return x


def _is_number(v: Any) -> bool:
    return isinstance(v, (Value, numbers.Real))


def _image(x: Any, who: str, channels: int | None = None) -> Image:
    """``x`` as ``[C][H][W]`` lists of Values (numbers lifted once, labelled ``x[c,i,j]``), or an
    error that names the call, the place and the bad value."""
    x = _as_list(x)
    if not isinstance(x, list) or not x:
        raise TypeError(
            f"{who}: expected an image [channels][height][width] (nested lists), got {_describe(x)}"
        )
    if channels is not None and len(x) != channels:
        raise ValueError(f"{who}: expected {channels} input channels, got {len(x)}")
    planes = [_as_list(plane) for plane in x]
    for c, plane in enumerate(planes):
        if not isinstance(plane, list) or not plane:
            raise TypeError(
                f"{who}: channel {c} must be a list of rows, got {_describe(plane)}"
                f"{_HINT if _is_number(plane) else ''}"
            )
        if len(plane) != len(planes[0]):
            raise ValueError(
                f"{who}: ragged input: channel {c} has {len(plane)} rows, "
                f"channel 0 has {len(planes[0])}"
            )
    first_row = _as_list(planes[0][0])
    width = len(first_row) if isinstance(first_row, list) else 0
    return [
        [_pixels(line, who, c, i, width) for i, line in enumerate(plane)]
        for c, plane in enumerate(planes)
    ]


def _pixels(line: Any, who: str, c: int, i: int, width: int) -> list[Value]:
    """Row ``[c][i]`` as ``width`` Values, or an error naming the row or the bad pixel."""
    line = _as_list(line)
    where = f"[{c}][{i}]"
    if not isinstance(line, list) or not line:
        raise TypeError(
            f"{who}: row {where} must be a list of pixels, got {_describe(line)}"
            f"{_HINT if _is_number(line) else ''}"
        )
    if len(line) != width:
        raise ValueError(
            f"{who}: ragged input: row {where} has {len(line)} pixels, row [0][0] has {width}"
        )
    out = []
    for j, v in enumerate(line):
        if type(v) is not Value:
            if not _is_number(v):
                raise TypeError(
                    f"{who}: pixels must be numbers or Values, got {_describe(v)} at {where}[{j}]"
                )
            v = Value(v, f"x[{c},{i},{j}]")
        out.append(v)
    return out


def _pad(image: Image, p: int) -> Image:
    """The image with ``p`` rows and columns of zeros around every channel. The zeros are Values
    (one per padded pixel) that the weights multiply like any pixel: every window then has the
    same products, which is what a traced tape turns into one matrix product."""
    if not p:
        return image
    width = len(image[0][0]) + 2 * p

    def zeros(n: int) -> list[Value]:
        return [Value(0.0) for _ in range(n)]

    return [
        [zeros(width) for _ in range(p)]
        + [zeros(p) + line + zeros(p) for line in plane]
        + [zeros(width) for _ in range(p)]
        for plane in image
    ]


def _describe(x: Any) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def _torch(who: str) -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            f"{who}.to_torch needs PyTorch: pip install 'scalar-autograd[torch]'"
        ) from e
    return torch
