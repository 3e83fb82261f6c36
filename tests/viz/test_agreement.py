"""Every picture of one model agrees: class colours (read back from the pixels and the SVG, not
from the code's constants), the final loss they quote, and nothing clipped (#22.2, #22.3, #22.4)."""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import numpy as np
import pytest

import viz
from nn import MLP, SGD, datasets, fit, hinge, mse

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def _trained(labels: str):
    X, y = datasets.moons(60, noise=0.1, seed=3, signed=labels == "pm1")  # noqa: N806
    if labels == "01":
        model = MLP(2, [8, 1], activation="tanh", output_activation="sigmoid", seed=1)
        loss = mse
    else:
        model = MLP(2, [8, 1], activation="tanh", seed=1)
        loss = hinge
    history = fit(model, X, y, loss=loss, optimizer=SGD(model, lr=0.5), epochs=12, record=3,
                  progress=False)  # fmt: skip
    return model, history, X, y


def _mode(colours: list[tuple[int, ...]]) -> np.ndarray:
    return np.array(Counter(colours).most_common(1)[0][0][:3], dtype=float)


def _boundary_colours(model, X, y) -> dict[int, np.ndarray]:  # noqa: N803
    """Each class's colour in plot_decision_boundary, from the pixel at the centre of its dots."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = viz.plot_decision_boundary(model, X, y)
    FigureCanvasAgg(fig).draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    ax = fig.axes[0]
    height = pixels.shape[0]
    out: dict[int, list] = {}
    for (x0, x1), label in zip(X, y):
        px, py = ax.transData.transform((x0, x1))
        r, c = int(round(height - py)), int(round(px))
        out.setdefault(int(label > 0), []).append(tuple(pixels[r, c]))
    return {k: _mode(v) for k, v in out.items()}


def _page_colours(model, history, X, y) -> dict[int, np.ndarray]:  # noqa: N803
    """Each class's colour on the training page: the fill of its data points in the SVG."""
    page = viz.training_html(model, history, X, y)
    out: dict[int, list] = {}
    for i, fill in re.findall(r'<circle class="pt" data-i="(\d+)"[^>]*fill="(#[0-9a-fA-F]{6})"',
                              page.html):  # fmt: skip
        rgb = tuple(int(fill[k : k + 2], 16) for k in (1, 3, 5))
        out.setdefault(int(y[int(i)] > 0), []).append(rgb)
    return {k: _mode(v) for k, v in out.items()}


def _gif_frames(model, history, X, y):  # noqa: N803
    gif = viz.training_animation(model, history, X, y)
    image = Image.open(io.BytesIO(gif.data))
    frames = []
    for k in range(image.n_frames):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGB")))
    return frames


def _gif_colours(model, history, X, y) -> dict[int, np.ndarray]:  # noqa: N803
    """Each class's colour in the GIF's last frame, from the pixel at the centre of its dots."""
    from nn.outputs import plane_for
    from viz.animation import AXES

    frame = _gif_frames(model, history, X, y)[-1]
    h, w, _ = frame.shape
    plane = plane_for(np.asarray(X), 100)
    left, bottom, width, height = AXES
    out: dict[int, list] = {}
    for (x0, x1), label in zip(X, y):
        fx = (x0 - plane.lo[0]) / (plane.hi[0] - plane.lo[0])
        fy = (x1 - plane.lo[1]) / (plane.hi[1] - plane.lo[1])
        c = int((left + fx * width) * w)
        r = int(round(h - (bottom + fy * height) * h))
        out.setdefault(int(label > 0), []).append(tuple(frame[r, c]))
    return {k: _mode(v) for k, v in out.items()}


@pytest.mark.parametrize("labels", ["pm1", "01"])
def test_a_class_has_one_colour_in_every_picture(labels):
    model, history, X, y = _trained(labels)  # noqa: N806
    pictures = {
        "plot_decision_boundary": _boundary_colours(model, X, y),
        "training_html": _page_colours(model, history, X, y),
        "training_animation": _gif_colours(model, history, X, y),
    }
    reference = pictures["training_html"]
    assert np.abs(reference[0] - reference[1]).max() > 100  # two classes that look apart
    for name, colours in pictures.items():
        for k in (0, 1):
            # The GIF shares a palette of 96 colours: a few units off at most.
            assert np.abs(colours[k] - reference[k]).max() <= 24, (name, k, colours, reference)


def test_gif_frames_keep_every_label_and_tick_inside():
    import dataclasses

    model, history, X, y = _trained("pm1")  # noqa: N806
    # The longest title a demo writes: "epoch 10000 · loss after it 0.01765 · accuracy 100%".
    history.snapshots = [
        dataclasses.replace(s, epoch=s.epoch + 10000, loss=0.017654321, metrics={"accuracy": 1.0})
        for s in history.snapshots
    ]
    for frame in _gif_frames(model, history, X, y):
        ink = frame.min(axis=2) < 200  # anything drawn darker than the white background
        edges = [ink[:2].any(), ink[-2:].any(), ink[:, :2].any(), ink[:, -2:].any()]
        assert not any(edges), edges  # top, bottom, left, right


def test_every_picture_quotes_the_same_final_loss():
    model, history, X, y = _trained("pm1")  # noqa: N806
    final = history.snapshots[-1]
    shown = f"{final.loss:.4g}"
    fig = viz.plot_loss(history)
    assert f"last {shown} after epoch {final.epoch}" in fig.axes[0].get_title()
    page = viz.training_html(model, history, X, y)
    data = json.loads(re.search(r'id="training-data">(.*?)</script>', page.html, re.S)[1])
    assert f"{float(data['loss'][-1]):.4g}" == shown and data["epochs"][-1] == final.epoch
    assert "loss after the epoch" in page.html and "loss after epoch ${" in page.html
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demos"))
    import demolib

    assert f"-> {shown} after the last epoch" in demolib.loss_summary(history)


def test_the_confusion_matrix_numbers_each_class_in_its_colour():
    from matplotlib.colors import to_hex

    from nn.outputs import class_colour

    fig = viz.plot_confusion([0, 1, 2, 1], [0, 1, 1, 2])
    ax = fig.axes[0]
    assert [to_hex(t.get_color()) for t in ax.get_xticklabels()] == [
        class_colour(k).lower() for k in range(3)
    ]
