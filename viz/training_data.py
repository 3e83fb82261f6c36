"""What the training page and animation draw, computed with numpy from recorded parameters.

A ``fit(..., record=k)`` keeps each snapshot's parameters as floats. This module turns them back
into the network's numbers without touching the model: the weight matrices of every layer
(:func:`layers_at`), every neuron's activation over a grid of inputs (:func:`forward`), the
output read as a picture (:func:`read_outputs`: class regions, a probability or a regression
surface) and the boundary between classes as polylines (:func:`level_lines`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd.ops import OPS

from .plots import reader

if TYPE_CHECKING:
    from nn.outputs import Plane

# Colour stops, from -1 (or 0) to +1: vermillion for negative, blue for positive (the pair that
# stays apart for every common colour-vision deficiency; nn.outputs gives classes 0 and 1 the
# same two), near-white at zero.
DIVERGING = ("#8a3c00", "#D55E00", "#f2b48a", "#f7f5f2", "#8cb9dd", "#0072B2", "#08306b")
# A sequential map for regression surfaces (viridis's ends and middle).
SEQUENTIAL = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")


@dataclass(frozen=True)
class Network:
    """A fully connected network as the page draws it: sizes, activations and, for every weight
    and bias, its position in ``model.parameters()`` (bias -1 where a neuron has none)."""

    sizes: tuple[int, ...]  # (inputs, layer 1, ..., outputs)
    activations: tuple[str | None, ...]  # one per layer; None is linear
    leaky_slope: float
    weight_index: tuple[np.ndarray, ...]  # per layer, (nout, nin) ints
    bias_index: tuple[np.ndarray, ...]  # per layer, (nout,) ints, -1 for no bias
    names: tuple[str, ...]  # every parameter's dotted name, in parameters() order

    @property
    def n_weights(self) -> int:
        """How many weights (edges of the diagram) the network has."""
        return sum(w.size for w in self.weight_index)


def network(model: Any, who: str = "training_html") -> Network:
    """The structure of an MLP-like model: ``model.layers`` (or the model itself, a Layer), each
    with ``.neurons`` holding ``.w`` (Values), ``.b`` (a Value or None) and ``.activation``."""
    layers = getattr(model, "layers", None)
    if layers is None and hasattr(model, "neurons"):
        layers = [model]
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError(
            f"{who}: needs a fully connected model (an nn.MLP or Layer: layers of neurons with "
            f".w and .b), got {type(model).__name__}"
        )
    params = list(model.parameters())
    position = {id(p): i for i, p in enumerate(params)}
    named = getattr(model, "named_parameters", None)
    names = [n for n, _ in named()] if named else [f"p{i}" for i in range(len(params))]
    sizes = [len(layers[0].neurons[0].w)]
    weight_index, bias_index, activations = [], [], []
    for k, layer in enumerate(layers):
        nin = len(layer.neurons[0].w)
        if nin != sizes[-1]:
            raise TypeError(
                f"{who}: layer {k} reads {nin} inputs but the layer before gives {sizes[-1]}"
            )
        try:
            w = [[position[id(v)] for v in n.w] for n in layer.neurons]
            b = [-1 if n.b is None else position[id(n.b)] for n in layer.neurons]
        except KeyError:
            raise TypeError(
                f"{who}: layer {k} has a weight that is not in model.parameters()"
            ) from None
        acts = {n.activation for n in layer.neurons}
        if len(acts) != 1 or (acts - {None}) - set(OPS):
            raise TypeError(
                f"{who}: layer {k} must use one activation from the op table, "
                f"got {sorted(map(str, acts))}"
            )
        weight_index.append(np.array(w, dtype=np.int64))
        bias_index.append(np.array(b, dtype=np.int64))
        activations.append(acts.pop())
        sizes.append(len(layer.neurons))
    slope = float(getattr(model, "leaky_slope", getattr(layers[0].neurons[0], "leaky_slope", 0.01)))
    return Network(
        tuple(sizes),
        tuple(activations),
        slope,
        tuple(weight_index),
        tuple(bias_index),
        tuple(names),
    )


def layers_at(net: Network, parameters: Sequence[float]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer (W of shape (nout, nin), b of shape (nout,)) for one snapshot's parameters."""
    p = np.append(np.asarray(parameters, dtype=float), 0.0)  # index -1: a missing bias is 0
    return [(p[w], p[b]) for w, b in zip(net.weight_index, net.bias_index)]


def forward(net: Network, parameters: Sequence[float], X: np.ndarray) -> list[np.ndarray]:  # noqa: N803
    """Every layer's output for the rows of X: ``[a1, ..., aL]``, each of shape (n, nout).
    The same arithmetic as ``MLP.predict_numpy``, on recorded parameters instead of the model's."""
    from nn.layers import activate_numpy  # at first use: importing viz does not import nn

    a, out = X, []
    with np.errstate(over="ignore", invalid="ignore"):
        for (w, b), act in zip(layers_at(net, parameters), net.activations):
            a = activate_numpy(act, a @ w.T + b, net.leaky_slope)
            out.append(a)
    return out


def _output_on(net: Network, parameters: Sequence[float], points: np.ndarray) -> np.ndarray:
    """The network's output on many points, a block of rows at a time, so the hidden layers'
    activations never exist for the whole plane at once (a 1000 x 1000 plane is a million)."""
    block = 1 << 15
    return np.concatenate(
        [forward(net, parameters, points[k : k + block])[-1] for k in range(0, len(points), block)]
    )


# ---- reading the output -------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """How the page reads the network's output, decided once for all snapshots.

    ``kind`` is "classes" (several outputs: argmax), "binary" (one output against
    ``threshold``: 0.5 for probabilities, 0 for scores and logits) or "regression" (one output,
    targets that are not class labels, drawn between ``lo`` and ``hi``). ``truth`` holds each
    sample's class (None for regression); ``n_classes`` the number of classes drawn.
    """

    kind: str
    threshold: float | None
    truth: np.ndarray | None
    n_classes: int
    lo: float = 0.0
    hi: float = 1.0
    signed: bool = False  # two classes labelled -1 / +1 (hinge style)

    def classes(self, out: np.ndarray) -> np.ndarray | None:
        """Each row's class from the network's outputs (n, nout); None for regression."""
        if self.kind == "regression":
            return None
        return reader().classes(out, self.threshold)

    def shade(self, out: np.ndarray) -> np.ndarray:
        """One byte per row for the output plane's colour table (see :func:`plane_colours`).

        binary: 0..255 from sure-negative through the threshold (128) to sure-positive;
        classes: class * levels + confidence level; regression: 0..255 from lo to hi."""
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kind == "binary":
                s = out[:, 0]
                v = 2.0 * s - 1.0 if self.threshold == 0.5 else np.tanh(s)
                return _byte((np.nan_to_num(v, nan=0.0) + 1.0) / 2.0)
            if self.kind == "classes":
                levels = 256 // self.n_classes
                z = out - out.max(axis=1, keepdims=True)
                p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
                k = self.n_classes
                sure = (p.max(axis=1) - 1.0 / k) / (1.0 - 1.0 / k)
                level = np.round(np.nan_to_num(sure) * (levels - 1)).astype(int)
                return (out.argmax(axis=1) * levels + np.clip(level, 0, levels - 1)).astype(
                    np.uint8
                )
            return _byte((out[:, 0] - self.lo) / (self.hi - self.lo))

    def margins(self, out: np.ndarray) -> list[np.ndarray]:
        """Fields whose zero level is the decision boundary (none for regression): the output
        minus the threshold; for several classes, each class's lead over the best other one
        (classes 0 .. K-2: every boundary touches one of them)."""
        if self.kind == "regression":
            return []
        return (
            reader().margins(out, self.threshold)[1:]
            if self.kind == "binary"
            else (reader().margins(out, None)[:-1])
        )


def _byte(u: np.ndarray) -> np.ndarray:
    """Fractions in [0, 1] (clipped; nan as 0.5) as bytes 0..255."""
    u = np.clip(np.nan_to_num(np.asarray(u, dtype=float), nan=0.5), 0.0, 1.0)
    return np.round(u * 255.0).astype(np.uint8)


def _labels(y: Any) -> tuple[np.ndarray | None, bool]:
    """Class per sample from class indices, 0/1 or ±1 labels, or one-hot rows; (None, False)
    when y holds other numbers (regression). The flag says the labels are ±1."""
    rows = np.asarray(y, dtype=float)
    if rows.ndim == 2 and rows.shape[1] > 1:
        return rows.argmax(axis=1), False
    flat = rows.reshape(-1)
    if not np.isfinite(flat).all():
        return None, False
    signed = bool(np.isin(flat, (-1.0, 1.0)).all())
    try:
        return reader().class_index(flat), signed
    except ValueError:
        return None, False


def read_outputs(
    y: Any, outputs: Sequence[np.ndarray], n_outputs: int, threshold: float | None = None
) -> Reading:
    """Decide how to read the output from the targets and every output the pictures will show.

    Several outputs: classes by argmax. One output and class labels (0/1 or ±1): two classes,
    split at ``threshold``, by default as :func:`viz.plots.classify` splits them: 0.5 when every
    output lies in [0, 1] (a probability), else 0 (a score or logit), judged over all snapshots
    at once so the rule never changes between frames. Otherwise a regression surface, coloured
    over the range of the targets and the outputs at the last snapshot.
    """
    truth, signed = _labels(y)
    if n_outputs > 1:
        if truth is None:
            raise ValueError(
                "training_html: several outputs need class labels (indices or one-hot)"
            )
        return Reading("classes", None, truth, max(n_outputs, int(truth.max()) + 1))
    if truth is not None and truth.max() <= 1:
        every = np.concatenate([o[:, 0] for o in outputs])
        threshold = reader().threshold_for("pm1" if signed else "01", every, threshold)
        return Reading("binary", threshold, truth, 2, signed=signed)
    target = np.asarray(y, dtype=float).reshape(-1)
    target = target[np.isfinite(target)]  # nan or inf targets are left out (and said so)
    last = outputs[-1][:, 0][np.isfinite(outputs[-1][:, 0])]
    if not target.size:
        target = last if last.size else np.zeros(1)
    lo, hi = float(target.min()), float(target.max())
    if last.size:
        lo, hi = min(lo, float(np.percentile(last, 1))), max(hi, float(np.percentile(last, 99)))
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    return Reading("regression", None, None, 0, lo, hi)


# ---- colours ------------------------------------------------------------------------------------
def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def ramp(stops: Sequence[str], n: int = 256) -> np.ndarray:
    """An (n, 3) uint8 colour table: the stops spread evenly, linear in between."""
    rgb = np.array([_rgb(c) for c in stops])
    at = np.linspace(0.0, len(stops) - 1, n)
    k = np.minimum(at.astype(int), len(stops) - 2)
    t = (at - k)[:, None]
    return np.round(rgb[k] * (1 - t) + rgb[k + 1] * t).astype(np.uint8)


def _wash(table: np.ndarray, strength: float) -> np.ndarray:
    """The colours mixed with white, so points drawn on top stand out."""
    return np.round(255.0 - (255.0 - table.astype(float)) * strength).astype(np.uint8)


def plane_colours(reading: Reading) -> np.ndarray:
    """The (256, 3) colour table for :meth:`Reading.shade` bytes."""
    if reading.kind == "binary":
        return _wash(ramp((class_colour(reading, 0), "#ffffff", class_colour(reading, 1))), 0.6)
    if reading.kind == "classes":
        levels = 256 // reading.n_classes
        table = np.full((256, 3), 255, dtype=np.uint8)
        for k in range(reading.n_classes):
            colour = class_colour(reading, k)
            table[k * levels : (k + 1) * levels] = ramp(("#ffffff", colour), levels)
        return _wash(table, 0.6)
    return ramp(SEQUENTIAL)


def class_colour(reading: Reading, k: int) -> str:
    """The colour of class k, as every picture draws it (``nn.outputs.class_colour``)."""
    return reader().class_colour(k)


# ---- neuron heat maps ---------------------------------------------------------------------------
def neuron_shade(activation: str | None, a: np.ndarray) -> tuple[np.ndarray, float, float]:
    """One neuron's activation over the plane as bytes for the DIVERGING table, with its range.

    tanh is drawn on its own scale (-1..1), sigmoid around 0.5 (0..1); unbounded activations
    (relu, linear, ...) symmetric around 0, scaled by the largest |a| on the plane at that
    snapshot, so a neuron's pattern shows however large its numbers grow."""
    finite = a[np.isfinite(a)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (math.nan, math.nan)
    if activation == "tanh":
        v = a
    elif activation == "sigmoid":
        v = 2.0 * a - 1.0
    else:
        scale = max(abs(lo), abs(hi)) if finite.size else 1.0
        v = a / (scale if scale > 0 else 1.0)
    return _byte((v + 1.0) / 2.0), lo, hi


# ---- boundaries ---------------------------------------------------------------------------------
def level_lines(field: np.ndarray) -> list[np.ndarray]:
    """Where a 2-D field crosses zero, as polylines of (column, row) points (marching squares).

    Grid point (i, j) sits at column j, row i; crossings are placed by linear interpolation
    along the grid edges; a saddle cell is split by the sign of its centre. Each crossing is
    named by its grid edge, so segments join into polylines exactly, with no rounding."""
    f = np.where(np.isfinite(field), field, 0.0)
    rows, cols = f.shape
    if rows < 2 or cols < 2:
        return []
    above = f > 0
    a, b, c, d = f[:-1, :-1], f[:-1, 1:], f[1:, 1:], f[1:, :-1]  # corners: tl, tr, br, bl
    sa, sb, sc, sd = above[:-1, :-1], above[:-1, 1:], above[1:, 1:], above[1:, :-1]
    # Which edges of each cell are crossed: top, right, bottom, left.
    crossed = np.stack([sa != sb, sb != sc, sd != sc, sa != sd], axis=-1)
    count = crossed.sum(axis=-1)
    segments: list[tuple[tuple, tuple]] = []
    for i, j in zip(*np.nonzero(count)):
        edges = [e for e in range(4) if crossed[i, j, e]]
        keys = [_edge_key(i, j, e) for e in edges]
        if len(keys) == 2:
            segments.append((keys[0], keys[1]))
            continue
        centre = (a[i, j] + b[i, j] + c[i, j] + d[i, j]) / 4 > 0
        # Join the crossings that keep the centre on the side of the corners that share its sign.
        if centre == sa[i, j]:
            segments += [(keys[0], keys[1]), (keys[2], keys[3])]  # top-right, bottom-left
        else:
            segments += [(keys[0], keys[3]), (keys[1], keys[2])]  # top-left, right-bottom
    point = {key: _crossing(f, key) for seg in segments for key in seg}
    return [np.array([point[k] for k in chain]) for chain in _chains(segments)]


def _edge_key(i: int, j: int, edge: int) -> tuple[str, int, int]:
    """A grid edge's name: ("h", i, j) runs from (i, j) to (i, j+1); ("v", i, j) to (i+1, j)."""
    return (("h", i, j), ("v", i, j + 1), ("h", i + 1, j), ("v", i, j))[edge]


def _crossing(f: np.ndarray, key: tuple[str, int, int]) -> tuple[float, float]:
    """Where the field is zero along a grid edge, as (column, row)."""
    kind, i, j = key
    p = f[i, j]
    q = f[i, j + 1] if kind == "h" else f[i + 1, j]
    with np.errstate(over="ignore", invalid="ignore"):  # fields near 1e308: p - q overflows
        t = 0.5 if p == q else p / (p - q)
    t = 0.5 if not math.isfinite(t) else min(1.0, max(0.0, float(t)))
    return (j + t, float(i)) if kind == "h" else (float(j), i + t)


def _chains(segments: list[tuple[tuple, tuple]]) -> list[list[tuple]]:
    """Segments that share end points joined into the fewest chains (open or closed)."""
    ends: dict[tuple, list[int]] = {}
    for n, (p, q) in enumerate(segments):
        ends.setdefault(p, []).append(n)
        ends.setdefault(q, []).append(n)
    used = [False] * len(segments)

    def walk(start: tuple, n: int) -> list[tuple]:
        chain = [start]
        point = start
        while n is not None and not used[n]:
            used[n] = True
            p, q = segments[n]
            point = q if p == point else p
            chain.append(point)
            n = next((m for m in ends[point] if not used[m]), None)
        return chain

    chains = []
    # Open chains start at an end point used once; what is left are closed loops.
    for key, members in ends.items():
        if len(members) == 1 and not used[members[0]]:
            chains.append(walk(key, members[0]))
    for n, (p, _) in enumerate(segments):
        if not used[n]:
            chains.append(walk(p, n))
    return chains


# ---- every snapshot at once ---------------------------------------------------------------------
@dataclass
class Frames:
    """Everything drawn at every snapshot, computed from the recorded parameters alone.

    ``outputs[s]`` is the network's output on X at snapshot s; ``wrong[s]`` the samples it
    misclassifies there (empty for regression). With 2-D inputs (``plane`` not None):
    ``plane_shade[s]`` one byte per pixel of the output plane (see :meth:`Reading.shade`),
    ``boundaries[s]`` the decision boundary as polylines in plane fractions (0..1, y down),
    ``neuron_shade[layer][s]`` each neuron's activation map (neurons, pixels) as bytes for the
    diverging table and ``neuron_range[layer][s]`` its (min, max) over the plane.
    """

    net: Network
    snapshots: list[Any]
    X: np.ndarray
    y: np.ndarray  # the targets as floats: (n,), or (n, classes) for one-hot rows
    reading: Reading
    outputs: list[np.ndarray]
    wrong: list[np.ndarray]
    plane: Plane | None = None
    plane_shade: list[np.ndarray] | None = None
    boundaries: list[list[np.ndarray]] | None = None
    neuron_plane: Plane | None = None
    neuron_shade: list[list[np.ndarray]] | None = None
    neuron_range: list[list[np.ndarray]] | None = None

    @property
    def drawn(self) -> np.ndarray:
        """Which samples the plane can draw: a finite row of X and, for a regression, a finite
        target (class labels are always finite)."""
        ok = np.isfinite(self.X).all(axis=1)
        if self.reading.kind == "regression":
            ok &= np.isfinite(self.y.reshape(len(self.X), -1)).all(axis=1)
        return ok

    def left_out(self) -> str:
        """What the pictures leave out, in words ("" when nothing)."""
        rows = int((~np.isfinite(self.X).all(axis=1)).sum())
        targets = 0
        if self.reading.kind == "regression":
            targets = int((~np.isfinite(self.y.reshape(len(self.X), -1)).all(axis=1)).sum())
        parts = []
        if rows:
            parts.append(f"{rows} row{'s' if rows > 1 else ''} of X with nan or inf")
        if targets:
            parts.append(f"{targets} target{'s' if targets > 1 else ''} that "
                         f"{'are' if targets > 1 else 'is'} not a finite number")  # fmt: skip
        return " and ".join(parts) + (
            f" {'are' if rows + targets > 1 else 'is'} not drawn" if parts else ""
        )


def as_matrix(X: Any, who: str) -> np.ndarray:  # noqa: N803
    """The inputs as an (n, d) float array, or a ValueError naming the bad shape."""
    try:
        rows = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{who}: X must be rows of numbers ({e})") from None
    if rows.ndim == 1:
        rows = rows[:, None]
    if rows.ndim != 2 or not len(rows):
        raise ValueError(f"{who}: X must be a non-empty list of rows, got shape {rows.shape}")
    return rows


def snapshots_of(history: Any, net: Network, who: str) -> list[Any]:
    """``history.snapshots``, checked against the model they will be drawn on."""
    snaps = list(getattr(history, "snapshots", None) or [])
    if not snaps:
        raise ValueError(f"{who}: the history has no snapshots; train with fit(..., record=1)")
    for s in snaps:
        if len(s.parameters) != len(net.names):
            raise ValueError(
                f"{who}: snapshot of epoch {s.epoch} holds {len(s.parameters)} parameters but "
                f"the model has {len(net.names)}; pass the model that was trained"
            )
    return snaps


# The most heat-map pixels (one byte each) a page or an animation holds over all its frames, and
# the most one snapshot's neuron maps may have (computed as floats before they become bytes):
# a page of 101 snapshots of a 2-32-32-3 network at the default resolutions holds about 5 M.
MAX_PIXELS = 40_000_000
MAX_MAP_PIXELS = 4_000_000


def _check_size(
    net: Network, snapshots: int, resolution: int, neuron_resolution: int | None, who: str
) -> None:
    """A clear error before any work when the pictures would not fit the bounds above."""
    neurons = sum(net.sizes[1:])
    maps = neurons * neuron_resolution**2 if neuron_resolution else 0
    total = snapshots * (resolution**2 + maps)
    if maps <= MAX_MAP_PIXELS and total <= MAX_PIXELS:
        return
    what = f"{resolution}x{resolution} output plane"
    if maps:
        what += f" + {neurons} neuron maps of {neuron_resolution}x{neuron_resolution}"
    room = min(MAX_MAP_PIXELS, MAX_PIXELS / snapshots - resolution**2) / neurons
    fix = (
        f"lower neuron_resolution to {int(room**0.5)} or less"
        if maps and room >= 4
        else "lower resolution"
    )
    raise ValueError(
        f"{who}: {snapshots} snapshots x ({what}) is {total:,} pixels, more than a page holds "
        f"({MAX_PIXELS:,} in all, {MAX_MAP_PIXELS:,} neuron-map pixels a snapshot); {fix}, or "
        "keep fewer snapshots (fit(..., record=k) with a larger k)"
    )


def compute_frames(
    model: Any,
    history: Any,
    X: Any,  # noqa: N803
    y: Any,
    resolution: int = 100,
    neuron_resolution: int | None = 24,
    threshold: float | None = None,
    who: str = "training_html",
    picks: Sequence[int] | None = None,
) -> Frames:
    """Every picture's numbers at every snapshot (or only at the snapshots ``picks`` names: the
    frames an animation draws); planes only for 2-D inputs, neuron maps only when
    ``neuron_resolution`` is not None. The outputs on X are read at every snapshot, so the
    threshold is the same whichever frames are drawn. Planes are computed one snapshot at a
    time and kept as bytes; the pictures of all frames together are bounded by
    :data:`MAX_PIXELS` and one snapshot's neuron maps by :data:`MAX_MAP_PIXELS`, or a
    ValueError says which argument to lower. The model is only read (its structure and
    parameter order), never run or changed."""
    net = network(model, who)
    every = snapshots_of(history, net, who)
    X = as_matrix(X, who)  # noqa: N806
    if X.shape[1] != net.sizes[0]:
        raise ValueError(f"{who}: X has {X.shape[1]} columns, the model {net.sizes[0]} inputs")
    if len(np.asarray(y, dtype=float)) != len(X):
        raise ValueError(f"{who}: X has {len(X)} rows but y has {len(np.asarray(y))}")
    for name, n in (("resolution", resolution), ("neuron_resolution", neuron_resolution)):
        if n is None and name == "neuron_resolution":
            continue
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 1000:
            raise ValueError(f"{who}: {name} must be an int in 2..1000, got {n!r}")
    with np.errstate(invalid="ignore"):
        every_out = [forward(net, s.parameters, X)[-1] for s in every]
    reading = read_outputs(y, every_out, net.sizes[-1], threshold)
    picks = list(range(len(every))) if picks is None else list(picks)
    snaps = [every[i] for i in picks]
    outputs = [every_out[i] for i in picks]
    planar = X.shape[1] == 2
    if planar:
        _check_size(net, len(snaps), resolution, neuron_resolution, who)
    plane = reader().plane_for(X, resolution) if planar else None
    wrong = []
    for out in outputs:
        classes = reading.classes(out)
        wrong.append(
            np.zeros(0, int) if classes is None else np.nonzero(classes != reading.truth)[0]
        )
    frames = Frames(net, snaps, X, np.asarray(y, dtype=float), reading, outputs, wrong)
    if plane is None:
        return frames
    n = plane.resolution
    frames.plane = plane
    frames.plane_shade, frames.boundaries = [], []
    points = plane.points()
    for s in snaps:  # one snapshot at a time: only its bytes and lines are kept
        out = _output_on(net, s.parameters, points)
        frames.plane_shade.append(reading.shade(out))
        # Grid points sit at pixel centres: half a pixel in, so the lines meet the picture.
        frames.boundaries.append(
            [
                (line + 0.5) / n
                for m in reading.margins(out)
                for line in level_lines(m.reshape(n, n))
            ]
        )
        del out
    if neuron_resolution is None:
        return frames
    small = reader().plane_for(X, neuron_resolution)
    frames.neuron_plane = small
    shades: list[list[np.ndarray]] = [[] for _ in net.activations]
    ranges: list[list[np.ndarray]] = [[] for _ in net.activations]
    for s in snaps:
        for k, (a, act) in enumerate(
            zip(forward(net, s.parameters, small.points()), net.activations)
        ):
            maps = [neuron_shade(act, a[:, j]) for j in range(a.shape[1])]
            shades[k].append(np.stack([m[0] for m in maps]))
            ranges[k].append(np.array([(m[1], m[2]) for m in maps]))
    frames.neuron_shade, frames.neuron_range = shades, ranges
    return frames
