"""How many parameters a saved config describes, worked out without building anything.

``Module.load`` compares this count with the numbers the file's state holds before it builds
the model, so a small file whose config says ``nin=10000, nouts=[10000, 10000]`` is refused at
once instead of building 200 million Values. Our layers are counted here; any other class says
its own count by overriding ``Module.parameter_count`` (or is built from its config as is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _size(config: dict[str, Any], key: str) -> int:
    n = config.get(key)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{key} must be a positive int, got {n!r}")
    return n


def _neuron(config: dict[str, Any]) -> int:
    return _size(config, "nin") + bool(config.get("bias", True))


def _layer(config: dict[str, Any]) -> int:
    return _size(config, "nout") * _neuron(config)


def _mlp(config: dict[str, Any]) -> int:
    nouts = config.get("nouts")
    if not isinstance(nouts, list) or not nouts:
        raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
    sizes = [_size(config, "nin")] + [_size({"nout": n}, "nout") for n in nouts]
    bias = bool(config.get("bias", True))
    return sum(n_out * (n_in + bias) for n_in, n_out in zip(sizes, sizes[1:]))


COUNTS: dict[str, Callable[[dict[str, Any]], int]] = {
    "Neuron": _neuron,
    "Layer": _layer,
    "MLP": _mlp,
}


def parameter_count(cls: type, config: dict[str, Any]) -> int | None:
    """The number of parameters ``cls(**config)`` holds, for our own layer classes; None for
    any other class. ValueError when the config's sizes are not positive ints."""
    count = COUNTS.get(cls.__name__) if cls.__module__ == "nn.layers" else None
    return None if count is None else count(config)
