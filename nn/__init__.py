"""Neural networks built from Values: modules, losses, optimizers, datasets, a training loop."""

from typing import Any

from . import clash  # noqa: F401 - first: says so clearly when 'autograd' is not ours (HIPS)
from . import data as datasets
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .layers import MLP, Layer, Neuron
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    l2,
    mse,
    sse,
)
from .module import Module
from .optim import SGD, Adam, Optimizer, linear_decay, step_decay
from .sequential import Sequential
from .train import History, NonFiniteLossError, Snapshot, accuracy, fit, predict


def __getattr__(name: str) -> Any:
    """``nn.__version__``: the version of scalar-autograd, from its metadata on first use."""
    from autograd.version import lazy_version

    return lazy_version(__name__)(name)


__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Sequential",
    "Conv2d",
    "MaxPool2d",
    "AvgPool2d",
    "Flatten",
    "Optimizer",
    "SGD",
    "Adam",
    "linear_decay",
    "step_decay",
    "sse",
    "mse",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "hinge",
    "cross_entropy",
    "l2",
    "datasets",
    "fit",
    "History",
    "NonFiniteLossError",
    "Snapshot",
    "predict",
    "accuracy",
]
