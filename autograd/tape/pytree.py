"""Argument trees: what a traced function takes and returns, flattened to numbers and back.

A traced function takes numbers, Values, and (nested) lists, tuples or numpy arrays of them,
and returns the same kinds of things. The tape works on flat vectors, so every tree is turned
into a *shape key* and its numbers in order:

- ``()``: one number (a float, an int, a Value);
- ``(n, *child)``: a rectangular list or array of ``n`` children with the same key (so a numpy
  array and a nested list of the same shape share a key, and a trace);
- ``(None, (key, key, ...))``: a ragged list, its children's keys one by one.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..value import Value

Key = Any


@dataclass
class Flat:
    """One argument flattened: its shape key, its numbers, and the Values among them (with
    their positions in ``data``), which a replay reads and later passes gradients to."""

    key: Key
    data: Any  # a float array (or a list of floats)
    values: list[tuple[int, Value]]


def key_of(x: Any, leaf: Callable[[Any], None]) -> Key:
    """The shape key of ``x``; ``leaf`` sees every scalar in order."""
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if not isinstance(x, (list, tuple)):
        leaf(x)
        return ()
    keys = [key_of(item, leaf) for item in x]
    if not keys:
        return (0,)
    first = keys[0]
    if first[:1] != (None,) and all(k == first for k in keys):
        return (len(keys), *first)
    return (None, tuple(keys))


def flatten(arg: Any) -> Flat:
    """``arg`` as a shape key and flat float data (numbers) plus the Values it holds."""
    if isinstance(arg, np.ndarray) and arg.dtype.kind in "biuf":  # no copy of a float array
        return Flat(arg.shape, arg.astype(float, copy=False).ravel(), [])
    if isinstance(arg, Value):
        return Flat((), np.array([arg.data]), [(0, arg)])
    if not isinstance(arg, (list, tuple)) and isinstance(arg, numbers.Real):
        return Flat((), np.array([float(arg)]), [])
    if isinstance(arg, (list, tuple)):
        try:
            a = np.array(arg)
        except (ValueError, TypeError):  # ragged
            a = None
        if a is not None and a.dtype.kind in "biuf":
            return Flat(a.shape, a.astype(float).ravel(), [])
    flat: list[float] = []
    values: list[tuple[int, Value]] = []

    def leaf(v: Any) -> None:
        if isinstance(v, Value):
            values.append((len(flat), v))
            flat.append(v.data)
        elif isinstance(v, numbers.Real):
            flat.append(float(v))
        else:
            raise TypeError(
                "trace: arguments must be numbers, Values, or (nested) lists, tuples or arrays "
                f"of them, got {type(v).__name__} {v!r}"
            )

    key = key_of(arg, leaf)
    return Flat(key, np.array(flat, dtype=float), values)


def unflatten(key: Key, items: Iterable[Any]) -> Any:
    """The nested list of shape ``key`` holding ``items`` in order (the item itself for ``()``)."""
    return _unflatten(key, iter(items))


def _unflatten(key: Key, items: Iterator[Any]) -> Any:
    if key == ():
        return next(items)
    if key[0] is None:
        return [_unflatten(k, items) for k in key[1]]
    return [_unflatten(key[1:], items) for _ in range(key[0])]


def size(key: Key) -> int:
    """How many numbers a tree of shape ``key`` holds."""
    if key[:1] == (None,):
        return sum(map(size, key[1]))
    return math.prod(key)


def collect_outputs(result: Any, has_aux: bool, flat: list[Value]) -> Key:
    """Flatten what the traced function returned into ``flat`` (numbers become new Values);
    with ``has_aux`` the result is a pair ``(loss, aux)`` and the loss comes first."""
    if not has_aux:
        return _outputs(result, flat)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError("trace(has_aux=True): fn must return a pair (loss, aux)")
    if _outputs(result[0], flat) != ():
        raise TypeError("trace(has_aux=True): the first of fn's pair must be one Value, the loss")
    return _outputs(result[1], flat)


def _outputs(out: Any, flat: list[Value]) -> Key:
    def leaf(v: Any) -> None:
        if isinstance(v, Value):
            flat.append(v)
        elif isinstance(v, numbers.Real):
            flat.append(Value(float(v)))
        else:
            raise TypeError(
                "trace: fn must return Values or numbers (or lists of them), "
                f"got {type(v).__name__} {v!r}"
            )

    return key_of(out, leaf)


def samples_of(xs: Any) -> np.ndarray:
    """A batch of samples as a float array with the batch first (numbers only)."""
    if isinstance(xs, np.ndarray) and xs.dtype.kind in "biuf":
        a = xs
    else:
        a = _rows(xs) if type(xs) is list else None
        if a is None:
            try:
                a = np.asarray(xs)
            except ValueError:  # ragged
                a = np.empty(0, dtype=object)
        if a.dtype.kind not in "biuf":
            raise TypeError(
                "BatchTape: a batch must be numbers (a list of samples of one shape, or an "
                f"array with the batch first), got {type(xs).__name__} of dtype {a.dtype}"
            )
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"BatchTape: a batch needs at least one sample, got shape {a.shape}")
    return a.astype(float, copy=False)


def _rows(xs: list[Any]) -> np.ndarray | None:
    """A list of equally long lists of numbers as an (n, k) array, twice as fast as asarray;
    None when it is anything else (numpy then decides)."""
    if not xs or type(xs[0]) is not list or set(map(type, xs)) != {list}:
        return None
    lengths = set(map(len, xs))
    k = len(xs[0])
    if lengths != {k} or not k or not {type(x) for x in xs[0]} <= {float, int}:
        return None
    try:
        flat = np.fromiter(itertools.chain.from_iterable(xs), float, len(xs) * k)
    except (TypeError, ValueError):
        return None
    return flat.reshape(len(xs), k)
