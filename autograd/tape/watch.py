"""Noticing a parameter that was replaced after tracing.

A tape reads its parameters from the Values it recorded. Changing ``p.data`` is seen on the
next replay; *replacing* the Value (``layer.w[0] = Value(0.5)``, ``model = MLP(...)``) is not:
the tape would keep reading the old one while eager execution reads the new one. So at trace
time the tape notes where the traced function found each parameter: the path of list items,
dict entries, attributes of modules (objects with a ``parameters`` method) and closure or
global variables that leads from the function to it. A replay checks that every step of those
paths still holds the same object (a few attribute reads per parameter) and raises
:class:`~.errors.StructureError` naming the parameter when one does not.

The same check sees a model whose *structure* changed: a list on those paths that grew or
shrank (a neuron appended to a layer), or a module's other attributes (its activation, its
options) set to something else. The tape would replay the structure it traced, so it says so.
"""

from __future__ import annotations

import functools
import operator
import types
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..value import Value
from .errors import StructureError

# How deep the search for parameters goes from the function (modules nest a few levels).
MAX_DEPTH = 24

# (holder, key, "item" | "attr" | "field", object held, its name); a "field" is an entry of a
# module's attribute dict.
Step = tuple[Any, Any, str, Any, str]


class ParameterWatch:
    """The paths from ``fns`` (a function, or several) to ``params``; :meth:`check` raises if
    one of them changed."""

    def __init__(self, fns: Any, params: list[Value]) -> None:
        wanted = {id(p) for p in params}
        parent: dict[int, tuple[int | None, Step | None]] = {}
        roots = fns if isinstance(fns, tuple) else (fns,)
        queue = deque((obj, 0, None, step) for fn in roots for obj, step in _roots(fn))
        found = []
        while queue:  # breadth first: the shortest path to each parameter
            obj, depth, up, step = queue.popleft()
            key = id(obj)
            if key in parent:
                continue
            parent[key] = (up, step)
            if isinstance(obj, Value):
                if key in wanted:
                    found.append(key)
            elif depth < MAX_DEPTH:
                for child, child_step in _children(obj):
                    child_key = id(child)
                    if child_key in parent:
                        continue
                    if type(child) is Value:  # most of what a model holds: no queue
                        parent[child_key] = (key, child_step)
                        if child_key in wanted:
                            found.append(child_key)
                    else:
                        queue.append((child, depth + 1, key, child_step))
        steps: list[Step] = []
        kept: set[int] = set()
        for key in found:
            node: int | None = key
            while node is not None and node not in kept:
                kept.add(node)
                node, step = parent[node]
                if step is not None:
                    steps.append(step)
        self.steps = steps
        self.getters = [getattr if s[2] == "attr" else operator.getitem for s in steps]
        shapes: dict[int, tuple[Any, str, str, Any]] = {}
        for holder, _, kind, _, name in steps:
            if kind == "field" or isinstance(holder, list):
                shapes.setdefault(id(holder), (holder, name, kind, _shape(holder, kind)))
        self.shapes = list(shapes.values())
        self.holders = [s[0] for s in steps]
        self.keys = [s[1] for s in steps]
        self.held = [s[3] for s in steps]

    def check(self) -> None:
        """Raise StructureError if any step of a path to a parameter holds another object, or
        the model's structure changed (see the module docstring)."""
        for holder, name, kind, shape in self.shapes:
            if _shape(holder, kind) != shape:
                raise StructureError(
                    f"Tape: the model's structure changed since it was traced (at `{name}`: "
                    "a list that grew or shrank, or a module's activation or options set to "
                    "something else); the tape would replay the old structure. Trace again "
                    "(a new trace, or a new fit)."
                )
        try:
            if all(map(operator.is_, map(_get, self.getters, self.holders, self.keys), self.held)):
                return
        except (KeyError, IndexError, AttributeError, ValueError, TypeError):
            pass
        for getter, (holder, key, _, held, name) in zip(self.getters, self.steps):
            try:
                now = getter(holder, key)
            except (KeyError, IndexError, AttributeError, ValueError, TypeError):
                now = None
            if now is not held:
                what = (
                    "the parameter" if isinstance(held, Value) else "the object holding parameters"
                )
                label = f" {held.label!r}" if isinstance(held, Value) and held.label else ""
                raise StructureError(
                    f"Tape: {what}{label} that fn read as `{name}` when traced was replaced by "
                    "another object since; the tape would keep using the old one. Trace again "
                    "(or assign to .data instead of replacing the Value)."
                )

    def __len__(self) -> int:
        return len(self.steps)


def _get(getter: Callable[[Any, Any], Any], holder: Any, key: Any) -> Any:
    return getter(holder, key)


def _roots(fn: Any) -> Iterator[tuple[Any, Step | None]]:
    """What the function reaches directly: itself, and its parts (``_function_parts``)."""
    yield fn, None
    yield from _function_parts(fn, getattr(fn, "__name__", type(fn).__name__))


def _function_parts(fn: Any, name: str) -> Iterator[tuple[Any, Step | None]]:
    """Closure cells, defaults, the globals its code names, a bound method's object, a
    partial's function and arguments. Steps that cannot change (a method's object) are None."""
    if isinstance(fn, functools.partial):
        yield fn.func, None
        for a in fn.args:
            yield a, None
        for k, a in fn.keywords.items():
            yield a, (fn.keywords, k, "item", a, k)
        return
    if isinstance(fn, types.MethodType):
        yield fn.__self__, None
        fn = fn.__func__
    if not isinstance(fn, types.FunctionType):
        return
    for var, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            obj = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        yield obj, (cell, "cell_contents", "attr", obj, var)
    for i, obj in enumerate(fn.__defaults__ or ()):
        yield obj, (fn.__defaults__, i, "item", obj, f"{name}'s default {i}")
    glob = fn.__globals__
    for var in fn.__code__.co_names:
        if var in glob:
            yield glob[var], (glob, var, "item", glob[var], var)


def _children(obj: Any) -> Iterator[tuple[Any, Step | None]]:
    if isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            if _walkable(item):
                yield item, (obj, i, "item", item, f"[{i}]")
    elif isinstance(obj, dict):
        for k, item in obj.items():
            if _walkable(item):
                yield item, (obj, k, "item", item, f"[{k!r}]")
    elif isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
        for child, step in _function_parts(obj, getattr(obj, "__name__", "partial")):
            if _walkable(child):
                yield child, step
    elif _is_module(obj):
        attrs = vars(obj)
        for k, item in attrs.items():
            if not k.startswith("_") and _walkable(item):
                yield item, (attrs, k, "field", item, f"{_label(obj)}.{k}")


def _shape(holder: Any, kind: str) -> Any:
    """What must not change about a holder on a path: a list's length; for a module's
    attribute dict, its other attributes (numbers and strings by value, objects by identity)."""
    if kind != "field":
        return len(holder)
    return tuple(
        (k, v if isinstance(v, (str, int, float, bool, type(None))) else id(v))
        for k, v in holder.items()
        if k.startswith("_") or not _walkable(v)  # what the paths walk is checked there
    )


def _label(obj: Any) -> str:
    name = getattr(obj, "name", "")
    return f"{type(obj).__name__}({name})" if isinstance(name, str) and name else type(obj).__name__


def _is_module(obj: Any) -> bool:
    return callable(getattr(obj, "parameters", None)) and hasattr(obj, "__dict__")


def _walkable(obj: Any) -> bool:
    if isinstance(obj, (Value, list, tuple, dict, functools.partial)):
        return True
    if isinstance(obj, (types.FunctionType, types.MethodType)):
        return True
    if isinstance(obj, (type, types.ModuleType)):
        return False
    return _is_module(obj)
