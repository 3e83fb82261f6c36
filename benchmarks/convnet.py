"""The small convolutional network the tape benchmarks and tests use: built from neurons.

``nn.Conv2d`` is one :class:`nn.Neuron` per output channel slid over every window of a
``[C][H][W]`` image (its zero padding a frame of constant zeros) and ``nn.MaxPool2d`` is the
table's n-ary ``max`` over each window. Nothing tells the tape it is a convolution: a per-sample
trace of it still replays as one matrix product over gathered windows per layer (im2col) and one
kernel per pooling layer (``tests/autograd/test_tape_batch.py`` checks it). ``to_torch`` gives
the same network as PyTorch layers, for the benchmarks.
"""

from __future__ import annotations

from nn import MLP, Conv2d, Flatten, MaxPool2d, Sequential


def ConvNet(  # noqa: N802 - it stands for the network's class in the benchmarks
    size: int = 8, cin: int = 1, c1: int = 8, c2: int = 16, classes: int = 10, seed: int = 0
) -> Sequential:
    """conv(cin -> c1, 3x3, pad 1) -> relu -> pool -> conv(c1 -> c2) -> relu -> pool -> dense."""
    side = size // 4
    return Sequential(
        Conv2d(cin, c1, 3, padding=1, activation="relu", seed=seed, fused=False),
        MaxPool2d(2),
        Conv2d(c1, c2, 3, padding=1, activation="relu", seed=seed + 1, fused=False),
        MaxPool2d(2),
        Flatten(),
        MLP(c2 * side * side, [classes], seed=seed + 2),
    )
