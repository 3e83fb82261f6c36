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
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .page import HtmlPage, fill_template
from .training_data import DIVERGING, Frames, Network, compute_frames, plane_colours, ramp
from .training_svg import (
    LAYER_NAMES,
    curves_svg,
    diagram_svg,
    histograms_svg,
    legend_html,
    plane_svg,
)


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
    curves, and says why the planes are missing. The output is read as ``nn.outputs``
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
    curves = curves_svg(frames, data)
    histograms = histograms_svg(frames, data)
    parts = {
        "TITLE": html.escape(title),
        "SUBTITLE": html.escape(_subtitle(frames)),
        "DIAGRAM": diagram_svg(frames),
        "PLANE": plane_svg(frames),
        "CURVES": curves,
        "HISTOGRAMS": histograms,
        "LEGEND": legend_html(frames),
        "DIVERGING": ", ".join(DIVERGING),
        "NOTE": html.escape(_note(frames)),
        "DATA": json.dumps(data, separators=(",", ":")).replace("<", "\\u003c"),
        "BLOB": blob,
    }
    page = fill_template("training.html", parts, unit="snapshot")
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
    acts = sorted({LAYER_NAMES.get(a, a) for a in net.activations[:-1]}) or ["no hidden layer"]
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
        left_out = frames.left_out()
        return f"{left_out[0].upper()}{left_out[1:]}." if left_out else ""
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
    fields: list[dict] = []
    offset = 0
    packer = zlib.compressobj(9)
    packed: list[bytes] = []  # compressed as it goes: the raw bytes are never all in memory

    def add(name: str, stack: np.ndarray, res: int, lut: int) -> None:
        nonlocal offset
        stack = stack.reshape(len(stack), -1).astype(np.uint8, copy=False)
        delta = stack.copy()
        delta[1:] -= stack[:-1]  # uint8 arithmetic wraps: differences mod 256
        packed.append(packer.compress(delta.tobytes()))
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
    packed.append(packer.flush())
    return base64.b64encode(b"".join(packed)).decode("ascii"), fields, luts


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
