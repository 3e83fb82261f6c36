"""A small convolutional network written with nothing but Neurons and ``vmax``.

A convolution is one :class:`nn.Neuron` per output channel (``b + w · window``) slid over every
position of a ``[C][H][W]`` image (zero padding: plain 0.0 inputs at the border); max pooling is
the table's n-ary ``max`` over each window. Nothing here tells the tape it is a convolution: a
per-sample trace of it still replays as one matrix product over gathered windows per layer
(im2col) and one kernel per pooling layer (``tests/autograd/test_tape_batch.py`` checks it).
``to_torch`` gives the same network as PyTorch layers, for the benchmarks.
"""

from __future__ import annotations

import random
from typing import Any

from autograd.value import vmax
from nn import Layer, Neuron
from nn.module import Module


class HandConv(Module):
    """``out[o][i][j] = neurons[o](window at (i, j))``: weights in (channel, row, column) order."""

    def __init__(self, cin: int, cout: int, k: int, pad: int, seed: int) -> None:
        rng = random.Random(seed)
        self.cin, self.cout, self.k, self.pad = cin, cout, k, pad
        self.neurons = [Neuron(cin * k * k, activation=None, rng=rng) for _ in range(cout)]

    def forward(self, img: Any) -> list[list[list[Any]]]:
        c, h, w, k, p = len(img), len(img[0]), len(img[0][0]), self.k, self.pad

        def px(ci: int, i: int, j: int) -> Any:
            return img[ci][i][j] if 0 <= i < h and 0 <= j < w else 0.0

        def window(i: int, j: int) -> list[Any]:
            return [px(ci, i + di, j + dj) for ci in range(c) for di in range(k) for dj in range(k)]

        rows, cols = range(-p, h + p - k + 1), range(-p, w + p - k + 1)
        return [[[n(window(i, j)) for j in cols] for i in rows] for n in self.neurons]


def max_pool(maps: list[list[list[Any]]]) -> list[list[list[Any]]]:
    """2x2 max pooling, stride 2, through the table's ``max``."""
    return [
        [
            [
                vmax([m[i][j], m[i][j + 1], m[i + 1][j], m[i + 1][j + 1]])
                for j in range(0, len(m[0]) - 1, 2)
            ]
            for i in range(0, len(m) - 1, 2)
        ]
        for m in maps
    ]


def relu(maps: list[list[list[Any]]]) -> list[list[list[Any]]]:
    return [[[v.relu() for v in row] for row in m] for m in maps]


class ConvNet(Module):
    """conv(cin -> c1, 3x3, pad 1) -> relu -> pool -> conv(c1 -> c2) -> relu -> pool -> dense."""

    def __init__(
        self,
        size: int = 8,
        cin: int = 1,
        c1: int = 8,
        c2: int = 16,
        classes: int = 10,
        seed: int = 0,
    ) -> None:
        self.conv1 = HandConv(cin, c1, 3, 1, seed)
        self.conv2 = HandConv(c1, c2, 3, 1, seed + 1)
        side = size // 4
        self.dense = Layer(c2 * side * side, classes, activation=None, seed=seed + 2)

    def forward(self, img: Any) -> Any:
        h = max_pool(relu(self.conv1(img)))
        h = max_pool(relu(self.conv2(h)))
        return self.dense([v for m in h for row in m for v in row])

    def to_torch(self) -> Any:
        """The same network in PyTorch float64 (Conv2d, ReLU, MaxPool2d, Flatten, Linear)."""
        import torch

        def conv(layer: HandConv) -> Any:
            m = torch.nn.Conv2d(
                layer.cin, layer.cout, layer.k, padding=layer.pad, dtype=torch.float64
            )
            with torch.no_grad():
                w = [[p.data for p in n.w] for n in layer.neurons]
                m.weight.copy_(torch.tensor(w, dtype=torch.float64).reshape(m.weight.shape))
                m.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
            return m

        dense = torch.nn.Linear(
            len(self.dense.neurons[0].w), len(self.dense.neurons), dtype=torch.float64
        )
        with torch.no_grad():
            w = [[p.data for p in n.w] for n in self.dense.neurons]
            dense.weight.copy_(torch.tensor(w, dtype=torch.float64))
            b = [n.b.data for n in self.dense.neurons]
            dense.bias.copy_(torch.tensor(b, dtype=torch.float64))
        pool = torch.nn.MaxPool2d(2)
        return torch.nn.Sequential(
            conv(self.conv1), torch.nn.ReLU(), pool, conv(self.conv2), torch.nn.ReLU(), pool,
            torch.nn.Flatten(), dense,
        )  # fmt: skip
