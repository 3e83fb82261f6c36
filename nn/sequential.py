"""Sequential: modules applied in order, and the saved spec ``{"class": ..., "config": ...}``
that describes each of them in a file."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from .module import MAX_DEPTH, Module, _short


class Sequential(Module):
    """Modules applied in order, each to what the one before returned:
    ``Sequential(Conv2d(1, 8, 3, activation="relu"), MaxPool2d(2), Flatten(), MLP(72, [10]))``.

    ``layers`` is the same list given by keyword; its items may also be specs
    ``{"class": "Conv2d", "config": {...}}``, which is how ``config()`` describes the network and
    how ``Sequential.load`` rebuilds it (every spec is checked before anything is built: its
    class, the keys of its config, its sizes, and how deeply Sequentials nest, at most
    ``nn.module.MAX_DEPTH``).
    """

    CONFIG_KEYS = ("layers",)

    def __init__(self, *modules: Module, layers: Sequence[Module | dict[str, Any]] | None = None):
        if modules and layers is not None:
            raise TypeError("Sequential: give the modules as arguments or as layers=, not both")
        items = modules if layers is None else layers
        if isinstance(items, (str, bytes, dict)) or not isinstance(items, Sequence):
            raise TypeError(f"Sequential: layers must be a list of modules, got {_short(items)}")
        items = list(items)
        if not items:
            raise ValueError("Sequential: needs at least one module")
        specs = [item for item in items if not isinstance(item, Module)]
        if specs:
            _check_depth({"layers": specs})
        for i, item in enumerate(items):
            if not isinstance(item, Module):
                _check_spec(item, i)
        self.layers = [
            item if isinstance(item, Module) else _rebuild(item, i) for i, item in enumerate(items)
        ]

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
            raise ValueError(
                f"layers must be a non-empty list of layer specs, got {_short(layers)}"
            )
        _check_depth(config)
        total = 0
        for i, spec in enumerate(layers):
            layer = _check_spec(spec, i)
            try:
                n = layer.parameter_count(spec["config"])
            except (TypeError, ValueError) as e:
                raise ValueError(f"Sequential: layer {i}: {e}") from None
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


def _rebuild(spec: dict[str, Any], i: int) -> Module:
    """The layer a checked spec ``{"class": ..., "config": ...}`` describes."""
    cls = Module.class_named(spec["class"])
    assert cls is not None  # _check_spec made sure
    try:
        return cls(**spec["config"])
    except (TypeError, ValueError) as e:
        kind = TypeError if isinstance(e, TypeError) else ValueError
        raise kind(f"Sequential: layer {i}: {e}") from None


def _check_spec(spec: Any, i: int) -> type[Module]:
    """The class of a layer spec ``{"class": name, "config": {...}}`` naming a known module
    whose config holds only the keys a saved one can; otherwise an error naming layer ``i``."""
    if isinstance(spec, type) and issubclass(spec, Module):
        raise TypeError(
            f"Sequential: layer {i} is the class {spec.__name__}, not a module: call it "
            f"({spec.__name__}(...))"
        )
    if not isinstance(spec, dict) or set(spec) != {"class", "config"}:
        raise TypeError(
            f"Sequential: layer {i} must be a Module or a spec "
            f'{{"class": ..., "config": {{...}}}}, got {type(spec).__name__} {_short(spec)}'
        )
    name, config = spec["class"], spec["config"]
    cls = Module.class_named(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"Sequential: layer {i}: unknown module class {_short(name)}")
    if not isinstance(config, dict):
        raise ValueError(f"Sequential: layer {i}: config must be a dict, got {_short(config)}")
    try:
        cls.check_keys(config)
    except ValueError as e:
        raise ValueError(f"Sequential: layer {i}: {e}") from None
    return cls


def _check_depth(config: dict[str, Any]) -> None:
    """ValueError when Sequential specs nest more than ``MAX_DEPTH`` deep (walked without
    recursion: a file of a thousand nested Sequentials is refused, not a RecursionError)."""
    stack = [(config, 1)]
    while stack:
        config, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(
                f"Sequential: specs nest more than {MAX_DEPTH} Sequentials deep "
                "(nn.module.MAX_DEPTH)"
            )
        layers = config.get("layers")
        for spec in layers if isinstance(layers, list) else ():
            nested = isinstance(spec, dict) and spec.get("class") == "Sequential"
            if nested and isinstance(spec.get("config"), dict):
                stack.append((spec["config"], depth + 1))


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
