"""Small datasets, generated with numpy from a seed (no downloads), as plain Python lists.

Every generator returns ``(X, y)``: ``X`` a list of rows of floats, ``y`` a list of labels:
floats for two-class sets (0/1, or -1/+1 with ``signed=True`` as micrograd's hinge loss wants)
and regression targets, ints for class indices (``spirals``, ``blobs``). ``np.array(X)`` works.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

Rows = list[list[float]]


def _rng(seed: int | np.random.Generator | None, name: str = "") -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise ValueError(f"{name}: seed must be None, an int >= 0 or a Generator, got {seed!r}")
    return np.random.default_rng(seed)


def _check_int(name: str, arg: str, n: Any, least: int = 1) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < least:
        raise ValueError(f"{name}: {arg} must be an int >= {least}, got {n!r}")


def _check_n(name: str, n: int, least: int = 1) -> None:
    _check_int(name, "n", n, least)


def _check_spread(name: str, arg: str, x: Any) -> None:
    """A noise level or standard deviation: a finite number >= 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0 <= x < math.inf:
        raise ValueError(f"{name}: {arg} must be a finite number >= 0, got {x!r}")


def _shuffled(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, signed: bool
) -> tuple[Rows, list]:
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    if signed:
        y = 2 * y - 1
    return x.tolist(), y.tolist()


def xor() -> tuple[Rows, list[float]]:
    """The first tutorial's set: y = x0 XOR x1; the third input is always 1 (a bias input)."""
    return [[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]], [
        0.0,
        1.0,
        1.0,
        0.0,
    ]


def study_scores(scaled: bool = True) -> tuple[Rows, list[float]]:
    """(hours studied, hours slept) -> test score. Scaled: X by its column maxima, y by 100."""
    x = np.array([[2.0, 9.0], [1.0, 5.0], [3.0, 6.0]])
    y = np.array([92.0, 86.0, 89.0])
    if scaled:
        x, y = x / x.max(axis=0), y / 100
    return x.tolist(), y.tolist()


def moons(
    n: int = 100, noise: float = 0.1, seed: int | None = 0, signed: bool = False
) -> tuple[Rows, list[float]]:
    """Two interleaving half circles (as sklearn's make_moons), Gaussian noise of std ``noise``."""
    _check_n("moons", n, 2)
    _check_spread("moons", "noise", noise)
    rng = _rng(seed, "moons")
    n_out = n // 2
    t_out, t_in = np.linspace(0, math.pi, n_out), np.linspace(0, math.pi, n - n_out)
    x = np.concatenate(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)]),
        ]
    )
    x += rng.normal(0.0, noise, x.shape)
    y = np.concatenate([np.zeros(n_out), np.ones(n - n_out)])
    return _shuffled(x, y, rng, signed)


def circles(
    n: int = 100,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int | None = 0,
    signed: bool = False,
) -> tuple[Rows, list[float]]:
    """A circle (label 0) around a smaller one of radius ``factor`` (label 1), as make_circles."""
    _check_n("circles", n, 2)
    _check_spread("circles", "noise", noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"circles: factor must be in (0, 1), got {factor!r}")
    rng = _rng(seed, "circles")
    n_out = n // 2
    t_out = np.linspace(0, 2 * math.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * math.pi, n - n_out, endpoint=False)
    x = np.concatenate(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            factor * np.column_stack([np.cos(t_in), np.sin(t_in)]),
        ]
    )
    x += rng.normal(0.0, noise, x.shape)
    y = np.concatenate([np.zeros(n_out), np.ones(n - n_out)])
    return _shuffled(x, y, rng, signed)


def spirals(
    n: int = 150, classes: int = 3, noise: float = 0.2, seed: int | None = 0
) -> tuple[Rows, list[int]]:
    """``classes`` interleaved spiral arms (CS231n's set), n points in all, labels 0..classes-1."""
    _check_int("spirals", "classes", classes, 2)
    _check_n("spirals", n, classes)
    _check_spread("spirals", "noise", noise)
    rng = _rng(seed, "spirals")
    xs, ys = [], []
    for k, size in enumerate(np.array_split(np.arange(n), classes)):
        r = np.linspace(0.0, 1.0, len(size))
        t = np.linspace(4.0 * k, 4.0 * (k + 1), len(size)) + rng.normal(0.0, noise, len(size))
        xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(len(size), k))
    return _shuffled(np.concatenate(xs), np.concatenate(ys), rng, signed=False)


def blobs(
    n: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    std: float = 1.0,
    dim: int = 2,
    seed: int | None = 0,
) -> tuple[Rows, list[int]]:
    """Gaussian clusters of std ``std`` round ``centers``: a count (centres drawn uniformly in
    [-10, 10]^dim) or a list of centres, each a list of ``dim`` coordinates."""
    _check_spread("blobs", "std", std)
    rng = _rng(seed, "blobs")
    if isinstance(centers, int) and not isinstance(centers, bool):
        _check_int("blobs", "centers", centers)
        _check_int("blobs", "dim", dim)
        c = rng.uniform(-10.0, 10.0, (centers, dim))
    else:
        c = _centres(centers)
    _check_n("blobs", n, len(c))
    xs, ys = [], []
    for k, size in enumerate(np.array_split(np.arange(n), len(c))):
        xs.append(c[k] + rng.normal(0.0, std, (len(size), c.shape[1])))
        ys.append(np.full(len(size), k))
    return _shuffled(np.concatenate(xs), np.concatenate(ys), rng, signed=False)


def _centres(centers: Any) -> np.ndarray:
    """Given centres as a (k, dim) float array, or ValueError naming what is wrong."""
    try:
        c = np.asarray(centers, dtype=float)
    except (TypeError, ValueError):
        c = None
    if c is None or c.ndim != 2 or not c.size or not np.isfinite(c).all():
        raise ValueError(
            "blobs: centers must be a count >= 1 or a list of centres, each a list of finite "
            f"coordinates of one length, got {centers!r}"
        )
    return c


# ---- handling data ------------------------------------------------------------------------------


def _same_length(name: str, x: Sequence[Any], y: Sequence[Any]) -> None:
    if len(x) != len(y):
        raise ValueError(f"{name}: X has {len(x)} rows but y has {len(y)}")


def train_test_split(
    X: Sequence[Any],  # noqa: N803 - the name every ML text uses
    y: Sequence[Any],
    test_size: float | int = 0.25,
    seed: int | None = 0,
    shuffle: bool = True,
) -> tuple[list, list, list, list]:
    """``X_train, X_test, y_train, y_test``; ``test_size`` a fraction in (0, 1) or a row count."""
    _same_length("train_test_split", X, y)
    n = len(X)
    if isinstance(test_size, int) and not isinstance(test_size, bool):
        n_test = test_size
    elif isinstance(test_size, numbers.Real) and 0 < test_size < 1:  # nan fails this too
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(
            "train_test_split: test_size must be a fraction in (0, 1) or a number of rows, "
            f"got {test_size!r}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size {test_size!r} leaves no train or no test rows of {n}"
        )
    order = _rng(seed, "train_test_split").permutation(n).tolist() if shuffle else list(range(n))
    test, train = order[:n_test], order[n_test:]
    return _rows(X, train), _rows(X, test), _rows(y, train), _rows(y, test)


def _rows(data: Sequence[Any], idx: list[int]) -> list:
    return [data[i].tolist() if hasattr(data[i], "tolist") else data[i] for i in idx]


def standardize(
    X: Sequence[Sequence[float]],  # noqa: N803
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> tuple[Rows, list[float], list[float]]:
    """(X - mean) / std per column; returns ``(X_scaled, mean, std)`` to reuse on test data.
    A constant column gets std 1, so it maps to 0 instead of dividing by zero."""
    a = np.asarray(X, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"standardize: X must be a list of rows, got shape {a.shape}")
    mu = a.mean(axis=0) if mean is None else np.asarray(mean, dtype=float)
    sd = a.std(axis=0) if std is None else np.asarray(std, dtype=float)
    sd = np.where(sd == 0, 1.0, sd)
    return ((a - mu) / sd).tolist(), mu.tolist(), sd.tolist()


def batches(
    X: Sequence[Any],  # noqa: N803 - the name every ML text uses
    y: Sequence[Any],
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
) -> Iterator[tuple[list, list]]:
    """Mini-batches ``(X_batch, y_batch)`` covering every row once; the last may be smaller.
    ``batch_size=None`` gives the whole set, in order. Pass a Generator to vary the shuffle
    from one epoch to the next while staying reproducible."""
    _same_length("batches", X, y)
    n = len(X)
    if batch_size is None:
        yield list(X), list(y)
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be an int >= 1, got {batch_size!r}")
    order = _rng(seed, "batches").permutation(n).tolist() if shuffle else list(range(n))
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield [X[i] for i in idx], [y[i] for i in idx]


class Batcher:
    """A training set prepared once, handing out each epoch's mini-batches by shuffled index.

    ``arrays=False`` hands out lists of the rows as given (what a model of Values takes): the
    same batches, in the same order, as :func:`batches` with the same Generator. ``arrays=True``
    converts X (and y, where it is numbers of one shape) to float arrays once and gathers each
    batch into buffers made once per batch size (what a compiled trainer takes): a batch is
    valid until the next one is handed out. ``batch_size=None`` hands out the whole set, in
    order, without copying.
    """

    def __init__(
        self,
        X: Sequence[Any],  # noqa: N803
        y: Sequence[Any],
        batch_size: int | None,
        arrays: bool = False,
    ) -> None:
        _same_length("Batcher", X, y)
        self.n, self.batch_size, self.arrays = len(X), batch_size, arrays
        self.targets: list[Any] = list(y)
        self.order: list[int] | None = None  # the last epoch's order (None: as given)
        self._buffers: dict[int, tuple[np.ndarray, Any]] = {}
        if arrays:
            self.X: Any = np.asarray(X, dtype=float)
            try:
                ya = np.asarray(y, dtype=float)
            except (TypeError, ValueError):  # ragged or not numbers: gathered as a list
                ya = None
            self.y: Any = ya if ya is not None and ya.shape[:1] == (self.n,) else self.targets
        else:
            self.X, self.y = X if isinstance(X, list) else list(X), self.targets

    def epoch(self, rng: np.random.Generator) -> Iterator[tuple[Any, Any]]:
        """This epoch's batches ``(X_batch, y_batch)``, shuffled by ``rng`` (unless the batch
        is the whole set)."""
        if self.batch_size is None:
            self.order = None
            yield self.X, self.y
            return
        order = rng.permutation(self.n)  # the draw batches() makes
        self.order = listed = order.tolist()
        size = self.batch_size
        for start in range(0, self.n, size):
            if not self.arrays:
                idx = listed[start : start + size]
                yield [self.X[i] for i in idx], [self.y[i] for i in idx]
                continue
            idx = order[start : start + size]
            xb, yb = self._buffer(len(idx))
            np.take(self.X, idx, axis=0, out=xb)
            if isinstance(yb, np.ndarray):
                np.take(self.y, idx, axis=0, out=yb)
            else:
                yb = [self.y[i] for i in listed[start : start + size]]
            yield xb, yb

    def epoch_targets(self) -> list[Any]:
        """The targets of the last epoch, in the order its batches had them."""
        if self.order is None:
            return self.targets
        return [self.targets[i] for i in self.order]

    def _buffer(self, size: int) -> tuple[np.ndarray, Any]:
        buf = self._buffers.get(size)
        if buf is None:
            xb = np.empty((size, *self.X.shape[1:]))
            yb = np.empty((size, *self.y.shape[1:])) if isinstance(self.y, np.ndarray) else None
            buf = self._buffers[size] = (xb, yb)
        return buf
