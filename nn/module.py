"""Module: the base of every network piece. Parameters, names, scopes, state and files.

A module finds its parts by looking at its own attributes: a ``Value`` (or a list of Values) is
a parameter, a ``Module`` (or a list of Modules) is a child, named by the path segment that
reaches it (``layers.0``). Attributes starting with ``_`` are private and never looked at.
Assigning an attribute is what names children and labels parameters (``layers.0.neurons.1.w.2``),
so build parts and assign them; a list mutated in place afterwards is not renamed.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import reprlib
import types
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from autograd import Value
from autograd.files import read_bounded, write_atomic
from autograd.grad_mode import enter_scope, exit_scope

FORMAT = "scalar-autograd"
VERSION = 1
# The largest model file load reads unless told otherwise: about 800,000 weights as save
# writes them, far more than a scalar engine trains. Pass load(..., max_bytes=n) for more.
MAX_BYTES = 16 * 2**20

State = dict[str, Any]  # path -> float (one Value) or list[float] (a list of Values)

# The largest size a config may hold: a width, a channel count, a kernel, a stride or a padding.
# A scalar engine trains nothing near it; the bound keeps a small file from asking for the absurd.
MAX_SIZE = 2**16
# The most Values one layer's forward may make (a padded image, a grid of weighted sums), about
# 1.8 GB at ~180 bytes a Value: a clear ValueError before allocating, not memory exhausted.
MAX_VALUES = 10**7
# How deeply Sequentials may nest in a config (a file of 250 nested ones is refused, not recursed).
MAX_DEPTH = 32


def check_int(who: str, name: str, n: Any, low: int = 1, high: int = MAX_SIZE) -> int:
    """``n`` when it is an int in ``[low, high]`` (a size: nin, channels, kernel, stride, ...);
    otherwise ValueError naming the call, the argument and the value."""
    if not isinstance(n, int) or isinstance(n, bool) or not low <= n <= high:
        raise ValueError(f"{who}: {name} must be an int in [{low}, {high}], got {_short(n)}")
    return n


def check_bool(who: str, name: str, x: Any) -> bool:
    """``x`` when it is True or False (a file's ``"bias": "no"`` is not), else ValueError."""
    if not isinstance(x, bool):
        raise ValueError(f"{who}: {name} must be True or False, got {_short(x)}")
    return x


def check_finite(who: str, name: str, x: Any) -> float:
    """``x`` as a float when it is a finite real number (not a bool, not a string), else
    ValueError."""
    try:
        value = float(x) if _is_real(x) else math.nan
    except OverflowError:  # an int too big for a float: 10**400 in a file
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"{who}: {name} must be a finite number, got {_short(x)}")
    return value


def check_work(who: str, count: int, what: str) -> None:
    """ValueError when a forward would make more than ``MAX_VALUES`` Values, before it does."""
    if count > MAX_VALUES:
        raise ValueError(
            f"{who}: {what} would make {count:,} Values, over the limit of {MAX_VALUES:,} "
            "(nn.module.MAX_VALUES); use a smaller input, padding or kernel"
        )


class _HybridMethod:
    """A method that runs on the class or on an instance, receiving whichever it was called on."""

    def __init__(self, f: Callable[..., Any]) -> None:
        self.f = f
        self.__doc__ = f.__doc__

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        # A bound method (not a partial) keeps the function's name, docstring and signature.
        return types.MethodType(self.f, owner if instance is None else instance)


class Module:
    """A piece of a network: ``module(*args)`` runs ``forward`` inside the module's scope.

    Subclasses implement ``forward`` and, to be saved and rebuilt, ``config()``: the keyword
    arguments (JSON types) that rebuild the architecture.
    """

    _name = ""
    _scope = "Module:"
    _registry: dict[str, type[Module]] = {}  # every public subclass by name: what files rebuild
    # The keys ``config()`` writes: all a saved config may hold (a constructor-only argument such
    # as ``rng`` is refused). None, for a class of yours: any keyword its constructor takes.
    CONFIG_KEYS: ClassVar[tuple[str, ...] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._scope = f"{cls.__name__}:"
        if not cls.__name__.startswith("_"):  # a private base (_Pool2d) is no layer of a file
            Module._registry[cls.__name__] = cls

    @staticmethod
    def class_named(name: str) -> type[Module] | None:
        """The Module subclass called ``name`` (what a saved file's ``"class"`` names), or None."""
        return Module._registry.get(name)

    # ---- calling --------------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Any:
        # Every Value made inside records this module's path, so the visualizer can box it.
        token = enter_scope(self._scope)
        try:
            return self.forward(*args)
        finally:
            exit_scope(token)

    def forward(self, *args: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    @property
    def name(self) -> str:
        """The path segment the parent gave this module (``"layers.0"``); ``""`` for a root."""
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        self._name = name
        self._scope = f"{type(self).__name__}:{name}"

    def __setattr__(self, key: str, value: Any) -> None:
        object.__setattr__(self, key, value)
        members = [] if key.startswith("_") else list(_members(key, value))
        if not members:
            return
        for segment, member in members:
            if isinstance(member, Module):
                member.name = segment
        for name, p in self.named_parameters():
            p.label = name

    # ---- parts ----------------------------------------------------------------------------------
    def _parts(self) -> Iterator[tuple[str, Value | Module]]:
        """(path segment, Value or Module) for every public attribute, lists flattened."""
        for key, value in vars(self).items():
            if not key.startswith("_"):
                yield from _members(key, value)

    def children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their path segments."""
        return ((s, m) for s, m in self._parts() if isinstance(m, Module))

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """Every parameter with its dotted path (``layers.1.neurons.3.w.0``), in attribute order."""
        for segment, member in self._parts():
            if isinstance(member, Module):
                yield from member.named_parameters(f"{prefix}{segment}.")
            else:
                yield prefix + segment, member

    def parameters(self) -> list[Value]:
        """Every parameter, in the order of ``named_parameters``."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def config(self) -> dict[str, Any]:
        """Keyword arguments that rebuild this architecture (needed to save and load)."""
        raise NotImplementedError(f"{type(self).__name__} does not define config()")

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int | None:
        """How many parameters ``cls(**config)`` holds, from the config alone (nothing built),
        or None when the class cannot tell. ``load`` checks a file's state against it before
        building, so a small file cannot ask for a huge model: every class of ours overrides
        it, and so should a class of yours whose config sets its size. ValueError when the
        config's sizes make no sense."""
        return None

    @classmethod
    def check_keys(cls, config: Any) -> dict[str, Any]:
        """``config`` when it is a dict holding only keys of ``CONFIG_KEYS``; else ValueError
        naming the class and the key."""
        if not isinstance(config, dict):
            raise ValueError(f"{cls.__name__}: config must be a dict, got {_short(config)}")
        allowed = cls.CONFIG_KEYS
        keys_owner = next(c for c in cls.__mro__ if "CONFIG_KEYS" in vars(c))
        config_owner = next(c for c in cls.__mro__ if "config" in vars(c))
        if not issubclass(keys_owner, config_owner):
            allowed = None  # a subclass of yours wrote its own config(): its keys are its own
        unknown = [k for k in config if allowed is not None and k not in allowed]
        if unknown:
            raise ValueError(
                f"{cls.__name__}: config key {_short(unknown[0])} is not one a saved "
                f"{cls.__name__} holds ({', '.join(allowed or ()) or 'none'})"
            )
        return config

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # ---- state ----------------------------------------------------------------------------------
    def _groups(self, prefix: str = "") -> Iterator[tuple[str, list[Value], bool]]:
        """(path, Values, is_list) per parameter attribute: the entries of a state dict."""
        for key, value in vars(self).items():
            if key.startswith("_"):
                continue
            if isinstance(value, Value):
                yield prefix + key, [value], False
            elif _is_value_list(value):
                yield prefix + key, list(value), True
            else:  # Modules, and lists mixing Values with other things
                for segment, member in _members(key, value):
                    if isinstance(member, Module):
                        yield from member._groups(f"{prefix}{segment}.")
                    else:
                        yield prefix + segment, [member], False

    def state_dict(self) -> State:
        """Parameter values by attribute path: a float per Value, a list per list of Values
        (``{"layers.0.neurons.0.w": [0.1, -0.3], "layers.0.neurons.0.b": 0.0, ...}``)."""
        return {
            path: [p.data for p in ps] if is_list else ps[0].data
            for path, ps, is_list in self._groups()
        }

    def load_state_dict(self, state: Any) -> None:
        """Copy values in. A missing, extra, non-numeric, non-finite or wrongly sized entry raises
        ValueError before anything is assigned, so the module is left exactly as it was."""
        if not isinstance(state, dict):
            raise ValueError(f"state dict must be a dict, got {type(state).__name__}")
        groups = {path: (ps, is_list) for path, ps, is_list in self._groups()}
        missing = [k for k in groups if k not in state]
        extra = [k for k in state if k not in groups]
        if missing or extra:
            problems = [f"missing {_few(missing)}"] if missing else []
            problems += [f"unexpected {_few(extra)}"] if extra else []
            raise ValueError(f"state dict does not fit {self!r}: {'; '.join(problems)}")
        checked = [
            (ps, _entry(path, state[path], len(ps), is_list))
            for path, (ps, is_list) in groups.items()
        ]
        for ps, values in checked:
            for p, x in zip(ps, values):
                p.data = x

    # ---- files ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write format version, architecture and weights as JSON, atomically: a temporary file in
        the same folder is renamed over ``path``, so an interrupted save leaves the old file."""
        state = self.state_dict()
        for key, entry in state.items():
            if not all(map(math.isfinite, entry if isinstance(entry, list) else [entry])):
                raise ValueError(
                    f"save: parameter {key!r} is not finite ({entry!r}); nothing written"
                )
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "class": type(self).__name__,
            "config": self.config(),
            "state": state,
        }
        write_atomic(path, json.dumps(doc, indent=1, allow_nan=False) + "\n", "save")

    @_HybridMethod
    def load(
        self_or_cls: Any,  # noqa: N805
        path: str | os.PathLike[str],
        max_bytes: int = MAX_BYTES,
    ) -> Any:
        """``Model.load(path)`` rebuilds the model a file describes (``Module.load`` any known
        class); ``model.load(path)`` loads the file's weights into ``model``, which must have the
        same class and config.

        Loading is bounded and checked before anything is built: only a regular file of at most
        ``max_bytes`` bytes is read (default ``MAX_BYTES``, 16 MiB; a device, FIFO or directory
        is refused), and the number of weights in the file must be the number its config
        describes. Any problem with the file raises ValueError naming it, and leaves ``model``
        unchanged.
        """
        where = f"load {os.fspath(path)!r}"
        doc = _read(path, where, max_bytes)
        if isinstance(self_or_cls, Module):
            model = self_or_cls
            if doc["class"] != type(model).__name__ or doc["config"] != model.config():
                raise ValueError(
                    f"{where}: the file holds {doc['class']}({_kwargs(doc['config'])}), "
                    f"not {type(model).__name__}({_kwargs(model.config())})"
                )
        else:
            cls = Module.class_named(doc["class"]) if self_or_cls is Module else self_or_cls
            if cls is None or doc["class"] != cls.__name__:
                raise ValueError(
                    f"{where}: the file holds a {doc['class']}, not a {self_or_cls.__name__}"
                )
            _check_parameter_count(cls, doc, where)
            try:
                model = cls(**doc["config"])
            except (TypeError, ValueError) as e:
                raise ValueError(f"{where}: bad config: {e}") from None
        try:
            model.load_state_dict(doc["state"])
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        return model


# ---- helpers ------------------------------------------------------------------------------------


def _members(key: str, value: Any) -> Iterator[tuple[str, Value | Module]]:
    """The parts an attribute holds: itself, or the Values and Modules of a list, by index."""
    if isinstance(value, (Value, Module)):
        yield key, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            if isinstance(item, (Value, Module)):
                yield f"{key}.{i}", item


def _is_value_list(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and bool(value)
        and all(isinstance(v, Value) for v in value)
    )


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _entry(path: str, entry: Any, size: int, is_list: bool) -> list[float]:
    """A state-dict entry as floats, or ValueError saying what is wrong with it."""
    items = entry
    if not is_list:
        if not _is_real(entry):
            raise ValueError(f"entry {path!r} must be a number, got {_describe(entry)}")
        items = [entry]
    elif not isinstance(entry, list) or len(entry) != size:
        raise ValueError(f"entry {path!r} must be a list of {size} numbers, got {_describe(entry)}")
    elif not all(map(_is_real, entry)):
        bad = next(x for x in entry if not _is_real(x))
        raise ValueError(f"entry {path!r} must hold numbers only, got {_describe(bad)}")
    try:
        values = [float(x) for x in items]
    except OverflowError:  # an integer literal too large for a float
        values = [math.inf]
    if not all(map(math.isfinite, values)):
        raise ValueError(f"entry {path!r} must be finite, got {_describe(entry)}")
    return values


def _check_parameter_count(cls: type[Module], doc: dict[str, Any], where: str) -> None:
    """ValueError when the config holds a key a saved file cannot, a size out of bounds, or more
    parameters than the file's state holds: the model would be built only to fail, at a cost
    the file's size does not bound. (Fewer: the build is bounded, and load_state_dict then
    names the entry that does not fit.)"""
    try:
        expected = cls.parameter_count(cls.check_keys(doc["config"]))
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: bad config: {e}") from None
    if expected is None:
        return
    found = sum(len(v) if isinstance(v, list) else 1 for v in doc["state"].values())
    if expected > found:
        raise ValueError(
            f"{where}: its config describes {cls.__name__}({_kwargs(doc['config'])}) with "
            f"{expected:,} parameters, but its state holds {found:,} numbers; nothing was built"
        )


def _describe(x: Any) -> str:
    if isinstance(x, list):
        return f"a list of {len(x)}"
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def _short(x: Any) -> str:
    """``repr(x)``, a few levels deep and cut to 100 characters: an error quoting a file's value
    stays readable (and a deeply nested one cannot raise RecursionError)."""
    return _cut(_REPR.repr(x))


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 4, 8, 8
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 60


def _cut(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _few(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _kwargs(config: Any) -> str:
    """``config`` as keyword arguments (``nin=2, nouts=[4, 1]``), cut to 300 characters."""
    if not isinstance(config, dict):
        return _short(config)
    return _cut(", ".join(f"{k}={_REPR.repr(v)}" for k, v in config.items()), 300)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


def _read(path: str | os.PathLike[str], where: str, max_bytes: int) -> dict[str, Any]:
    """The document in a model file, with its envelope checked; ValueError says what is wrong."""
    raw = read_bounded(path, max_bytes, "load")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(
            f"{where}: not valid JSON, the file is truncated or corrupt ({e})"
        ) from None
    except RecursionError:
        raise ValueError(f"{where}: not a model file (its JSON is nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f'{where}: not a {FORMAT} model file (no "format": {FORMAT!r})')
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ValueError(
            f"{where}: unknown format version {version!r}; this library reads version {VERSION}"
        )
    expected = {"class": str, "config": dict, "state": dict}
    for key, kind in expected.items():
        if not isinstance(doc.get(key), kind):
            raise ValueError(
                f"{where}: {key!r} must be a JSON {kind.__name__}, got {_describe(doc.get(key))}"
            )
    return doc
