"""Training made visible: one self-contained page that steps through a ``fit(record=k)``.

At every recorded snapshot the page shows the network as a diagram (every weight an edge whose
thickness is |w| and colour its sign, every bias a square on its neuron), each neuron's
activation over the input plane inside it, the model's output over the plane with the data, and
the loss and accuracy curves with a marker at the snapshot. The numbers come from
:mod:`viz.training_data` (numpy on the recorded parameters; the model is never run or changed);
this module lays them out as SVG, packs the pictures' bytes and fills ``training.html``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .page import HtmlPage
from .training_data import (
    DIVERGING,
    Frames,
    Network,
    class_colour,
    compute_frames,
    plane_colours,
    ramp,
)

_PAGE = Path(__file__).with_name("training.html")
_LAYER_NAMES = {None: "linear"}


def training_html(
    model: Any,
    history: Any,
    X: Any,  # noqa: N803 - the data matrix, as in the math
    y: Any,
    path: str | os.PathLike[str] | None = None,
    title: str | None = None,
    resolution: int = 100,
    neuron_resolution: int = 24,
    threshold: float | None = None,
) -> HtmlPage:
    """A page that replays training snapshot by snapshot; shown inline in a notebook.

    ``history`` comes from ``fit(model, X, y, ..., record=k)``; ``model`` is the trained
    network (an ``nn.MLP``; only its structure and parameter order are read). With 2-D inputs
    the page draws the output over the input plane (``resolution`` pixels a side) and each
    neuron's activation (``neuron_resolution``); otherwise the diagram, weight histograms and
    curves, and says why the planes are missing. The output is read as ``viz.plots.classify``
    reads it: several outputs by argmax; one output against ``threshold`` (default 0.5 when all
    outputs are probabilities, else 0) when y holds class labels; a surface otherwise.

    Controls: slider, first/prev/play/next/last, keys ← → Home End and space. Hovering an edge
    or a neuron shows its weight or bias and the change since the previous snapshot. Colours:
    blue is positive, orange negative, near-white zero (weights, biases, activations and the two
    classes alike); several classes use the Okabe-Ito colours. With ``path`` the page is also
    written there (atomically). Needs a browser with ``DecompressionStream`` (2023 or later).
    """
    frames = compute_frames(model, history, X, y, resolution, neuron_resolution, threshold)
    net = frames.net
    title = title or _default_title(net, len(frames.X), frames.snapshots)
    blob, fields, luts = _pack_pictures(frames)
    data = {
        "epochs": [int(s.epoch) for s in frames.snapshots],
        "loss": [_num(s.loss) for s in frames.snapshots],
        "metrics": [{k: _num(v) for k, v in s.metrics.items()} for s in frames.snapshots],
        "params": [[_num(p) for p in s.parameters] for s in frames.snapshots],
        "names": list(net.names),
        "wrong": [w.tolist() for w in frames.wrong],
        "kind": frames.reading.kind,
        "n": len(frames.X),
        "fields": fields,
        "luts": luts,
        "wmax": _largest(frames, weights=True),
        "bmax": _largest(frames, weights=False),
        "boundaries": _boundary_paths(frames),
        "ranges": _neuron_ranges(frames),
        "marks": [],
        "hist": [],
    }
    curves = _curves_svg(frames, data)
    histograms = _histograms_svg(frames, data)
    parts = {
        "TITLE": html.escape(title),
        "SUBTITLE": html.escape(_subtitle(frames)),
        "DIAGRAM": _diagram_svg(frames),
        "PLANE": _plane_svg(frames),
        "CURVES": curves,
        "HISTOGRAMS": histograms,
        "LEGEND": _legend_html(frames),
        "NOTE": html.escape(_note(frames)),
        "DATA": json.dumps(data, separators=(",", ":")).replace("<", "\\u003c"),
        "BLOB": blob,
    }
    page = re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m[1]], _PAGE.read_text(encoding="utf-8"))
    out = HtmlPage(page, title, height=1000)
    if path is not None:
        out.save(path, "training_html")
    return out


# ---- numbers as the page reads them -------------------------------------------------------------
def _num(x: float, digits: int = 6) -> float | str | None:
    """A float with ``digits`` significant digits; JSON has no nan or inf, so those are strings
    that the page's ``Number()`` reads back."""
    x = float(x)
    if math.isfinite(x):
        return float(f"{x:.{digits}g}")
    return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(x)]


def _largest(frames: Frames, weights: bool) -> float:
    """The largest |weight| (or |bias|) over every snapshot: the thickest edge's value."""
    index = frames.net.weight_index if weights else frames.net.bias_index
    cols = np.concatenate([i.ravel() for i in index])
    cols = cols[cols >= 0]
    if not cols.size:
        return 1.0
    p = np.abs(np.array([s.parameters for s in frames.snapshots], dtype=float)[:, cols])
    top = float(np.nanmax(np.where(np.isfinite(p), p, np.nan))) if np.isfinite(p).any() else 0.0
    return top if top > 0 else 1.0


def _default_title(net: Network, n: int, snapshots: Sequence[Any]) -> str:
    sizes = "-".join(map(str, net.sizes))
    acts = sorted({_LAYER_NAMES.get(a, a) for a in net.activations[:-1]}) or ["no hidden layer"]
    return (
        f"MLP {sizes} ({', '.join(acts)}) learning {n} points: "
        f"{len(snapshots)} snapshots, epochs {snapshots[0].epoch} to {snapshots[-1].epoch}"
    )


def _subtitle(frames: Frames) -> str:
    kind = {
        "binary": "two classes",
        "classes": f"{frames.reading.n_classes} classes (argmax)",
        "regression": "a regression",
    }[frames.reading.kind]
    return (
        f"Each frame is the network at one recorded epoch ({kind}). Edges are weights: blue "
        "positive, orange negative, thicker for larger |w|; the square on a neuron is its bias. "
        "Hover an edge or a neuron for its value and its change since the previous frame."
    )


def _note(frames: Frames) -> str:
    """Why the planes are missing, for inputs that are not 2-D."""
    d = frames.X.shape[1]
    if frames.plane is not None:
        return ""
    return (
        f"The inputs have {d} feature{'s' if d != 1 else ''}, not 2, so there is no input plane "
        "to draw: the neurons' heat maps and the output over the plane need exactly two inputs. "
        "What still applies is shown: the diagram, the weights per layer and the curves."
    )


# ---- the pictures' bytes ------------------------------------------------------------------------
def _pack_pictures(frames: Frames) -> tuple[str, list[dict], list[list[int]]]:
    """Every heat map of every snapshot as bytes, one zlib stream, base64 (the page inflates it
    with the browser's DecompressionStream). Each field lists where its frames start; consecutive
    frames of one field are stored as differences mod 256, which compress several times better
    because a picture changes little from one snapshot to the next."""
    luts = [ramp(DIVERGING).ravel().tolist()]
    if frames.plane is None:
        return "", [], luts
    luts.append(plane_colours(frames.reading).ravel().tolist())
    chunks: list[np.ndarray] = []
    fields: list[dict] = []
    offset = 0

    def add(name: str, stack: np.ndarray, res: int, lut: int) -> None:
        nonlocal offset
        stack = stack.reshape(len(stack), -1).astype(np.uint8)
        delta = stack.copy()
        delta[1:] = stack[1:] - stack[:-1]  # uint8 arithmetic wraps: differences mod 256
        chunks.append(delta.ravel())
        fields.append({"id": name, "res": res, "count": len(stack), "offset": offset, "lut": lut})
        offset += stack.size

    add("plane", np.stack(frames.plane_shade), frames.plane.resolution, 1)
    small = frames.neuron_plane
    for i in range(2):  # the inputs themselves: x0 and x1 across the plane, the same every frame
        u = small.to_unit(small.points())[:, i]
        add(
            f"n0_{i}",
            np.round((u if i == 0 else 1 - u) * 255).astype(np.uint8)[None],
            small.resolution,
            0,
        )
    for k, per_snapshot in enumerate(frames.neuron_shade):
        stack = np.stack(per_snapshot)  # (snapshots, neurons, pixels)
        for j in range(stack.shape[1]):
            add(f"n{k + 1}_{j}", stack[:, j], small.resolution, 0)
    raw = np.concatenate(chunks).tobytes()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii"), fields, luts


def _boundary_paths(frames: Frames) -> list[str]:
    """Each snapshot's decision boundary as SVG path data in plane fractions x 1000 (whole
    numbers keep the page small; the plane's SVG scales them)."""
    if frames.boundaries is None:
        return []
    out = []
    for lines in frames.boundaries:
        parts = []
        for line in lines:
            pts = np.round(line * 1000).astype(int)
            parts.append("M" + "L".join(f"{x} {y}" for x, y in pts))
        out.append("".join(parts))
    return out


def _neuron_ranges(frames: Frames) -> list[list[list]]:
    """Per snapshot, per neuron (layer by layer), the activation's (min, max) over the plane."""
    if frames.neuron_range is None:
        return []
    return [
        [[_num(v, 3) for v in pair] for layer in frames.neuron_range for pair in layer[s]]
        for s in range(len(frames.snapshots))
    ]


# ---- SVG pieces ---------------------------------------------------------------------------------
def _f(x: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _layer_label(net: Network, k: int) -> tuple[str, str]:
    if k == 0:
        return "input", f"{net.sizes[0]} feature{'s' if net.sizes[0] != 1 else ''}"
    act = _LAYER_NAMES.get(net.activations[k - 1], net.activations[k - 1])
    name = "output" if k == len(net.sizes) - 1 else f"hidden {k}"
    return name, f"{act} · {net.sizes[k]}"


def _diagram_svg(frames: Frames) -> str:
    """The network: one column of neurons per layer, one edge per weight, a bias square on every
    neuron that has one, and (2-D inputs) an image slot in each neuron for its heat map."""
    net, planar = frames.net, frames.plane is not None
    tallest = max(net.sizes)
    pitch = min(54.0, max(7.0, 720.0 / tallest))
    size = pitch * (0.8 if planar else 0.62)
    width, top, left, right = 700.0, 58.0, 64.0, 70.0
    height = top + tallest * pitch + 14
    step = (width - left - right) / max(1, len(net.sizes) - 1)
    xs = [left + k * step for k in range(len(net.sizes))]

    def y_of(k: int, j: int) -> float:
        return top + (tallest - net.sizes[k]) * pitch / 2 + (j + 0.5) * pitch

    edges, nodes, labels = [], [], []
    for k in range(1, len(net.sizes)):
        x1, x2 = xs[k - 1] + size / 2, xs[k] - size / 2
        mid = (x1 + x2) / 2
        for j, row in enumerate(net.weight_index[k - 1]):
            for i, p in enumerate(row):
                ya, yb = y_of(k - 1, i), y_of(k, j)
                edges.append(
                    f'<path class="edge" data-p="{p}" data-from="{k - 1}_{i}" data-to="{k}_{j}" '
                    f'd="M{_f(x1)} {_f(ya)}C{_f(mid)} {_f(ya)} {_f(mid)} {_f(yb)} {_f(x2)} {_f(yb)}"/>'
                )
    h = size / 2
    for k, n in enumerate(net.sizes):
        name, detail = _layer_label(net, k)
        labels.append(
            f'<text class="col" x="{_f(xs[k])}" y="20">{name}</text>'
            f'<text class="col-sub" x="{_f(xs[k])}" y="36">{html.escape(detail)}</text>'
        )
        for j in range(n):
            bias = -1 if k == 0 else int(net.bias_index[k - 1][j])
            inner = [f'<rect class="frame" x="{_f(-h)}" y="{_f(-h)}" width="{_f(size)}" '
                     f'height="{_f(size)}" rx="3"/>']  # fmt: skip
            if planar:
                inner.append(
                    f'<image class="map" x="{_f(-h + 1)}" y="{_f(-h + 1)}" width="{_f(size - 2)}" '
                    f'height="{_f(size - 2)}" preserveAspectRatio="none"/>'
                )
            if bias >= 0:
                b = max(6.0, min(10.0, size * 0.28))
                inner.append(
                    f'<rect class="bias" data-p="{bias}" x="{_f(-h - b / 2)}" '
                    f'y="{_f(h - b / 2)}" width="{_f(b)}" height="{_f(b)}" rx="1.5"/>'
                )
            nodes.append(
                f'<g class="node" id="n{k}_{j}" data-layer="{k}" data-j="{j}" data-bias="{bias}" '
                f'transform="translate({_f(xs[k])} {_f(y_of(k, j))})">{"".join(inner)}</g>'
            )
            if k == 0 and n <= 24:
                labels.append(
                    f'<text class="io" x="{_f(xs[0] - h - 8)}" y="{_f(y_of(0, j) + 4)}" '
                    f'text-anchor="end">x{j}</text>'
                )
    last = len(net.sizes) - 1
    if net.sizes[last] <= 24:
        for j in range(net.sizes[last]):
            text = "out" if net.sizes[last] == 1 else f"class {j}"
            labels.append(
                f'<text class="io" x="{_f(xs[last] + h + 8)}" y="{_f(y_of(last, j) + 4)}">'
                f"{text}</text>"
            )
    return (
        f'<svg id="diagram" viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" '
        f'height="{_f(height)}" role="img" aria-label="the network">'
        f'<g id="edges">{"".join(edges)}</g><g id="nodes">{"".join(nodes)}</g>'
        f'<g id="labels">{"".join(labels)}</g></svg>'
    )


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round numbers (1, 2 or 5 times a power of ten apart) inside [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, n)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = [(first + i) * step for i in range(int((hi - lo) / step + 1e-9) + 1)]
    return [round(t, 12) for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]


def _tick_text(t: float) -> str:
    return f"{t:.6g}" if t != 0 else "0"


def _plane_svg(frames: Frames) -> str:
    """The output over the input plane: an image slot, the boundary, the data, the axes."""
    if frames.plane is None:
        return ""
    plane, reading = frames.plane, frames.reading
    side, left, top = 460.0, 52.0, 12.0
    unit = plane.to_unit(frames.X)
    points = []
    colours = (
        [class_colour(reading, int(k)) for k in reading.truth]
        if reading.truth is not None
        else _regression_colours(frames)
    )
    for i, ((u, v), colour) in enumerate(zip(unit, colours)):
        points.append(
            f'<circle class="pt" data-i="{i}" cx="{_f(left + u * side)}" cy="{_f(top + v * side)}" '
            f'r="4.6" fill="{colour}"/>'
        )
    axes = []
    for t in nice_ticks(plane.lo[0], plane.hi[0]):
        x = left + (t - plane.lo[0]) / (plane.hi[0] - plane.lo[0]) * side
        axes.append(
            f'<line class="tick" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(top + side)}" '
            f'y2="{_f(top + side + 5)}"/><text class="tick" x="{_f(x)}" y="{_f(top + side + 19)}" '
            f'text-anchor="middle">{_tick_text(t)}</text>'
        )
    for t in nice_ticks(plane.lo[1], plane.hi[1]):
        y = top + (plane.hi[1] - t) / (plane.hi[1] - plane.lo[1]) * side
        axes.append(
            f'<line class="tick" x1="{_f(left - 5)}" x2="{_f(left)}" y1="{_f(y)}" y2="{_f(y)}"/>'
            f'<text class="tick" x="{_f(left - 8)}" y="{_f(y + 4)}" text-anchor="end">'
            f"{_tick_text(t)}</text>"
        )
    axes.append(
        f'<text class="axis" x="{_f(left + side / 2)}" y="{_f(top + side + 38)}" '
        f'text-anchor="middle">x0</text><text class="axis" x="14" y="{_f(top + side / 2)}" '
        f'text-anchor="middle" transform="rotate(-90 14 {_f(top + side / 2)})">x1</text>'
    )
    scale = side / 1000
    return (
        f'<svg id="plane" viewBox="0 0 {_f(left + side + 10)} {_f(top + side + 46)}" '
        f'width="{_f(left + side + 10)}" height="{_f(top + side + 46)}" role="img" '
        'aria-label="the output over the input plane">'
        f'<image id="plane-image" x="{_f(left)}" y="{_f(top)}" width="{_f(side)}" '
        f'height="{_f(side)}" preserveAspectRatio="none"/>'
        f'<rect class="plane-frame" x="{_f(left)}" y="{_f(top)}" width="{_f(side)}" '
        f'height="{_f(side)}"/>'
        f'<path id="boundary" transform="translate({_f(left)} {_f(top)}) scale({scale})" '
        f'vector-effect="non-scaling-stroke" d=""/>'
        f'<g id="points">{"".join(points)}</g>{"".join(axes)}</svg>'
    )


def _regression_colours(frames: Frames) -> list[str]:
    """Each sample's colour on the regression surface's scale (its target, not the prediction)."""
    reading = frames.reading
    table = plane_colours(reading)
    target = frames.y.reshape(-1)
    idx = np.clip(np.round((target - reading.lo) / (reading.hi - reading.lo) * 255), 0, 255)
    return ["#%02x%02x%02x" % tuple(table[int(k)]) for k in idx]


def _panel(
    name: str, epochs: Sequence[int], values: Sequence[float], x0: float, width: float
) -> tuple[str, list[list[float]]]:
    """One small chart: the values against the epochs, log scale when the values span more
    than two decades; returns the SVG and where the marker sits at each snapshot."""
    height, top, bottom, left = 180.0, 26.0, 30.0, 46.0
    v = np.array(values, dtype=float)
    finite = v[np.isfinite(v)]
    log = bool(finite.size and (finite > 0).all() and finite.max() / finite.min() > 100)
    if name == "accuracy":
        lo, hi = 0.0, 1.0
    elif finite.size:
        lo, hi = float(finite.min()), float(finite.max())
    else:
        lo, hi = 0.0, 1.0
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    e0, e1 = epochs[0], max(epochs[-1], epochs[0] + 1)
    inner_w, inner_h = width - left - 12, height - top - bottom

    def xy(e: float, value: float) -> list[float]:
        t = math.log10(value) if log and value > 0 else value
        fy = (t - lo) / (hi - lo) if math.isfinite(t) else 0.0
        return [round(x0 + left + (e - e0) / (e1 - e0) * inner_w, 1),
                round(top + (1 - fy) * inner_h, 1)]  # fmt: skip

    marks = [xy(e, value) for e, value in zip(epochs, v)]
    line = " ".join(f"{x},{y}" for (x, y), value in zip(marks, v) if math.isfinite(value))
    parts = [
        f'<text class="panel" x="{_f(x0 + left)}" y="16">{html.escape(name)}'
        f"{' (log scale)' if log else ''}</text>",
        f'<rect class="chart" x="{_f(x0 + left)}" y="{_f(top)}" width="{_f(inner_w)}" '
        f'height="{_f(inner_h)}"/>',
    ]
    yticks = (
        [0.0, 0.25, 0.5, 0.75, 1.0]
        if name == "accuracy"
        else [t for t in range(math.ceil(lo), math.floor(hi) + 1)]
        if log
        else nice_ticks(lo, hi, 4)
    )
    for t in yticks:
        y = top + (1 - (t - lo) / (hi - lo)) * inner_h
        text = f"{t:.0%}" if name == "accuracy" else _tick_text(10**t if log else t)
        parts.append(
            f'<line class="grid" x1="{_f(x0 + left)}" x2="{_f(x0 + left + inner_w)}" '
            f'y1="{_f(y)}" y2="{_f(y)}"/><text class="tick" x="{_f(x0 + left - 6)}" '
            f'y="{_f(y + 4)}" text-anchor="end">{text}</text>'
        )
    for t in nice_ticks(e0, e1, 5):
        x = x0 + left + (t - e0) / (e1 - e0) * inner_w
        parts.append(
            f'<text class="tick" x="{_f(x)}" y="{_f(top + inner_h + 16)}" '
            f'text-anchor="middle">{_tick_text(t)}</text>'
        )
    parts.append(
        f'<text class="axis" x="{_f(x0 + left + inner_w / 2)}" y="{_f(height - 1)}" '
        'text-anchor="middle">epoch</text>'
    )
    parts.append(f'<polyline class="curve" points="{line}"/>')
    parts.append(
        f'<line class="now" x1="0" x2="0" y1="{_f(top)}" y2="{_f(top + inner_h)}"/>'
        '<circle class="now" r="4.5" cx="0" cy="0"/>'
    )
    return f'<g class="panel" data-panel="{html.escape(name)}">{"".join(parts)}</g>', marks


def _curves_svg(frames: Frames, data: dict) -> str:
    """The loss and the first metric (accuracy, when there is one), measured at each snapshot
    with exactly its parameters; the marker positions go into ``data["marks"]``."""
    snaps = frames.snapshots
    epochs = [s.epoch for s in snaps]
    panels = [("loss", [s.loss for s in snaps])]
    names = list(snaps[0].metrics)
    if names:
        panels.append((names[0], [s.metrics.get(names[0], math.nan) for s in snaps]))
    width = 520.0 / len(panels)
    svg, marks = [], []
    for k, (name, values) in enumerate(panels):
        part, where = _panel(name, epochs, values, k * width, width)
        svg.append(part)
        marks.append(where)
    data["marks"] = [[m[s] for m in marks] for s in range(len(snaps))]
    return (
        '<svg id="curves" viewBox="0 0 520 180" width="520" height="180" role="img" '
        f'aria-label="loss and accuracy">{"".join(svg)}</svg>'
    )


def _histograms_svg(frames: Frames, data: dict, bins: int = 21) -> str:
    """Per layer, how its weights spread at each snapshot: fixed bins over the largest |w| the
    layer ever has, bar heights per snapshot in ``data["hist"]``."""
    params = np.array([s.parameters for s in frames.snapshots], dtype=float)
    charts, hist = [], []
    width, height, base = 196.0, 92.0, 70.0
    for k, index in enumerate(frames.net.weight_index):
        w = params[:, index.ravel()]
        top = (
            float(np.nanmax(np.abs(np.where(np.isfinite(w), w, np.nan))))
            if np.isfinite(w).any()
            else 1.0
        )
        top = top if top > 0 else 1.0
        edges = np.linspace(-top, top, bins + 1)
        counts = np.array([np.histogram(row[np.isfinite(row)], edges)[0] for row in w])
        peak = max(1, int(counts.max()))
        hist.append([[round(c / peak * (base - 8), 1) for c in row] for row in counts.tolist()])
        bar = (width - 20) / bins
        bars = "".join(
            f'<rect class="bar {"neg" if edges[b + 1] <= 0 else "pos" if edges[b] >= 0 else "mid"}" '
            f'x="{_f(10 + b * bar)}" width="{_f(bar - 1)}" y="{_f(base)}" height="0"/>'
            for b in range(bins)
        )
        name, detail = _layer_label(frames.net, k + 1)
        charts.append(
            f'<figure class="hist"><svg viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" '
            f'height="{_f(height)}" data-layer="{k}">{bars}'
            f'<line class="axis0" x1="{_f(width / 2)}" x2="{_f(width / 2)}" y1="4" y2="{_f(base)}"/>'
            f'<text class="tick" x="10" y="{_f(base + 16)}">{_tick_text(float(f"{-top:.2g}"))}</text>'
            f'<text class="tick" x="{_f(width / 2)}" y="{_f(base + 16)}" text-anchor="middle">0</text>'
            f'<text class="tick" x="{_f(width - 10)}" y="{_f(base + 16)}" text-anchor="end">'
            f"{_tick_text(float(f'{top:.2g}'))}</text></svg>"
            f"<figcaption>weights into {name} ({index.size})</figcaption></figure>"
        )
    data["hist"] = hist
    return "".join(charts)


def _legend_html(frames: Frames) -> str:
    """What the colours mean, for this page's kind of output."""
    reading = frames.reading
    items = []
    if reading.kind == "binary":
        names = ("y = −1", "y = +1") if reading.signed else ("class 0", "class 1")
        for k in range(2):
            items.append(
                f'<span class="key"><i class="dot" style="background:{class_colour(reading, k)}"></i>{names[k]}</span>'
            )
    elif reading.kind == "classes":
        for k in range(reading.n_classes):
            items.append(
                f'<span class="key"><i class="dot" style="background:{class_colour(reading, k)}"></i>class {k}</span>'
            )
    if reading.kind != "regression" and frames.plane is not None:
        items.append('<span class="key"><i class="ring"></i>misclassified</span>')
        items.append('<span class="key"><i class="line"></i>decision boundary</span>')
    if reading.kind == "regression":
        items.append(
            f'<span class="key"><i class="bar seq"></i>output from {reading.lo:.3g} to '
            f"{reading.hi:.3g} (points: their targets)</span>"
        )
    return "".join(items)
