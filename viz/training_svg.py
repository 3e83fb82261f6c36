"""The training page's pictures as SVG: the network diagram, the output plane, the curves and
the weight histograms. Static parts are drawn here; the page's script updates what changes
from snapshot to snapshot (edge widths, pictures, markers, bars) from the page's data."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from .training_data import Frames, Network, class_colour, plane_colours

LAYER_NAMES = {None: "linear"}


def _f(x: float) -> str:
    """A coordinate: one decimal, no trailing zeros."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def layer_label(net: Network, k: int) -> tuple[str, str]:
    if k == 0:
        return "input", f"{net.sizes[0]} feature{'s' if net.sizes[0] != 1 else ''}"
    act = LAYER_NAMES.get(net.activations[k - 1], net.activations[k - 1])
    name = "output" if k == len(net.sizes) - 1 else f"hidden {k}"
    return name, f"{act} · {net.sizes[k]}"


def diagram_svg(frames: Frames) -> str:
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
                curve = (
                    f"M{_f(x1)} {_f(ya)}C{_f(mid)} {_f(ya)} {_f(mid)} {_f(yb)} {_f(x2)} {_f(yb)}"
                )
                edges.append(
                    f'<path class="edge" data-p="{p}" data-from="{k - 1}_{i}" '
                    f'data-to="{k}_{j}" d="{curve}"/>'
                )
    h = size / 2
    for k, n in enumerate(net.sizes):
        name, detail = layer_label(net, k)
        labels.append(
            f'<text class="col" x="{_f(xs[k])}" y="20">{name}</text>'
            f'<text class="col-sub" x="{_f(xs[k])}" y="36">{html.escape(detail)}</text>'
        )
        for j in range(n):
            bias = -1 if k == 0 else int(net.bias_index[k - 1][j])
            inner = [
                f'<rect class="frame" x="{_f(-h)}" y="{_f(-h)}" width="{_f(size)}" '
                f'height="{_f(size)}" rx="3"/>'
            ]
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
        # The thickest edge fits between neighbouring neurons, however many there are.
        f'<svg id="diagram" data-edge-width="{_f(min(4.5, pitch * 0.2))}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" width="{_f(width)}" '
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


def plane_svg(frames: Frames) -> str:
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
    drawn = frames.drawn
    for i, ((u, v), colour) in enumerate(zip(unit, colours)):
        if not drawn[i]:
            continue
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
        f'<svg id="plane" class="{reading.kind}" '
        f'viewBox="0 0 {_f(left + side + 10)} {_f(top + side + 46)}" '
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
    target = np.nan_to_num(
        frames.y.reshape(-1), nan=reading.lo, posinf=reading.hi, neginf=reading.lo
    )
    idx = np.clip(np.round((target - reading.lo) / (reading.hi - reading.lo) * 255), 0, 255)
    return [_hex(table[int(k)]) for k in idx]


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def _panel(
    name: str, epochs: Sequence[int], values: Sequence[float], x0: float, width: float
) -> tuple[str, list[list[float]]]:
    """One small chart: the values against the epochs, log scale when the values span more
    than two decades; returns the SVG and where the marker sits at each snapshot."""
    height, top, bottom, left = 192.0, 26.0, 38.0, 46.0
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
        return [
            round(x0 + left + (e - e0) / (e1 - e0) * inner_w, 1),
            round(top + (1 - fy) * inner_h, 1),
        ]

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
        f'<text class="axis" x="{_f(x0 + left + inner_w / 2)}" y="{_f(height - 6)}" '
        'text-anchor="middle">epoch</text>'
    )
    parts.append(f'<polyline class="curve" points="{line}"/>')
    parts.append(
        f'<line class="now" x1="0" x2="0" y1="{_f(top)}" y2="{_f(top + inner_h)}"/>'
        '<circle class="now" r="4.5" cx="0" cy="0"/>'
    )
    return f'<g class="panel" data-panel="{html.escape(name)}">{"".join(parts)}</g>', marks


def curves_svg(frames: Frames, data: dict) -> str:
    """The loss and the first metric (accuracy, when there is one), measured at each snapshot
    with exactly its parameters; the marker positions go into ``data["marks"]``."""
    snaps = frames.snapshots
    epochs = [s.epoch for s in snaps]
    panels = [("loss after the epoch", [s.loss for s in snaps])]
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
        '<svg id="curves" viewBox="0 0 520 192" width="520" height="192" role="img" '
        f'aria-label="loss and accuracy">{"".join(svg)}</svg>'
    )


def histograms_svg(frames: Frames, data: dict, bins: int = 21) -> str:
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
            f'<rect class="bar {_bin_sign(edges[b], edges[b + 1])}" x="{_f(10 + b * bar)}" '
            f'width="{_f(bar - 1)}" y="{_f(base)}" height="0"/>'
            for b in range(bins)
        )
        name, _ = layer_label(frames.net, k + 1)
        ticks = [
            (10, "start", float(f"{-top:.2g}")),
            (width / 2, "middle", 0.0),
            (width - 10, "end", float(f"{top:.2g}")),
        ]
        labels = "".join(
            f'<text class="tick" x="{_f(x)}" y="{_f(base + 16)}" text-anchor="{anchor}">'
            f"{_tick_text(t)}</text>"
            for x, anchor, t in ticks
        )
        charts.append(
            f'<figure class="hist"><svg viewBox="0 0 {_f(width)} {_f(height)}" '
            f'width="{_f(width)}" height="{_f(height)}" data-layer="{k}">{bars}'
            f'<line class="axis0" x1="{_f(width / 2)}" x2="{_f(width / 2)}" y1="4" '
            f'y2="{_f(base)}"/>{labels}</svg>'
            f"<figcaption>weights into {name} ({index.size})</figcaption></figure>"
        )
    data["hist"] = hist
    return "".join(charts)


def _bin_sign(lo: float, hi: float) -> str:
    return "neg" if hi <= 0 else "pos" if lo >= 0 else "mid"


def legend_html(frames: Frames) -> str:
    """What the colours mean, for this page's kind of output."""
    reading = frames.reading
    items = []
    if reading.kind == "binary":
        names = ("y = −1", "y = +1") if reading.signed else ("class 0", "class 1")
    else:
        names = tuple(f"class {k}" for k in range(reading.n_classes))
    for k, name in enumerate(names):
        items.append(
            f'<span class="key"><i class="dot" style="background:{class_colour(reading, k)}">'
            f"</i>{name}</span>"
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
