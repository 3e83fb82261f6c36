"""The training page as data: what it holds, that it is self-contained, inline and small."""

from __future__ import annotations

import base64
import json
import os
import re
import zlib

import numpy as np
import pytest

import viz
from viz.page import HtmlPage
from viz.training_data import compute_frames

from .test_training_data import drifting, trained


def page_data(page: HtmlPage) -> dict:
    text = re.search(r'id="training-data">(.*?)</script>', page.html, re.S)[1]
    return json.loads(text)


def page_pictures(page: HtmlPage, data: dict) -> dict[str, np.ndarray]:
    """The heat maps as the page's script unpacks them: inflate, then undo the differences."""
    packed = re.search(r'id="training-pictures">(.*?)</script>', page.html, re.S)[1].strip()
    raw = np.frombuffer(zlib.decompress(base64.b64decode(packed)), dtype=np.uint8)
    out = {}
    for f in data["fields"]:
        n = f["res"] ** 2
        stack = raw[f["offset"] : f["offset"] + f["count"] * n].reshape(f["count"], n)
        out[f["id"]] = np.cumsum(stack, axis=0, dtype=np.uint8)  # wraps mod 256, as the script
    return out


def test_the_page_holds_every_snapshot(tmp_path):
    model, history, X, y = trained("moons")
    page = viz.training_html(model, history, X, y, tmp_path / "t.html", resolution=40)
    assert isinstance(page, HtmlPage) and page.path == os.fspath(tmp_path / "t.html")
    assert (tmp_path / "t.html").read_text(encoding="utf-8") == page.html
    data = page_data(page)
    snaps = history.snapshots
    assert data["epochs"] == [s.epoch for s in snaps]
    assert data["loss"] == pytest.approx([s.loss for s in snaps], rel=1e-5)
    assert np.allclose(data["params"], [s.parameters for s in snaps], rtol=1e-5, atol=1e-12)
    assert data["names"] == [n for n, _ in model.named_parameters()]
    assert len(data["boundaries"]) == len(data["marks"]) == len(snaps)
    assert data["kind"] == "binary"


def test_the_diagram_draws_one_edge_per_weight_and_a_bias_per_neuron():
    model, history, X, y = trained("spirals", epochs=3)
    page = viz.training_html(model, history, X, y, resolution=30)
    edges = re.findall(r'<path class="edge" data-p="(\d+)"', page.html)
    weights = sum(len(n.w) for layer in model.layers for n in layer.neurons)
    assert len(edges) == weights == 2 * 8 + 8 * 8 + 8 * 3
    names = [n for n, _ in model.named_parameters()]
    assert sorted(names[int(p)].rsplit(".", 2)[1] for p in edges) == ["w"] * weights
    assert len(re.findall(r'<g class="node"', page.html)) == 2 + 8 + 8 + 3
    biases = re.findall(r'<rect class="bias" data-p="(\d+)"', page.html)
    assert sorted(names[int(p)] for p in biases) == sorted(n for n in names if n.endswith(".b"))
    assert len(re.findall(r'<image class="map"', page.html)) == 2 + 8 + 8 + 3


def test_the_pictures_unpack_to_the_computed_frames():
    model, history, X, y = trained("moons", epochs=6)
    page = viz.training_html(model, history, X, y, resolution=30, neuron_resolution=10)
    data = page_data(page)
    pictures = page_pictures(page, data)
    frames = compute_frames(model, history, X, y, 30, 10)
    assert np.array_equal(pictures["plane"], np.stack(frames.plane_shade))
    for k, layer in enumerate(frames.neuron_shade, start=1):
        for j in range(layer[0].shape[0]):
            assert np.array_equal(pictures[f"n{k}_{j}"], np.stack([s[j] for s in layer]))
    assert pictures["n0_0"].shape == (1, 100)  # the inputs: the same in every frame
    assert len(data["luts"]) == 2 and all(len(t) == 256 * 3 for t in data["luts"])


def test_the_page_needs_no_network_and_shows_inline():
    model, history, X, y = trained("sigmoid", epochs=3)
    page = viz.training_html(model, history, X, y, resolution=20)
    assert not re.search(r"(src|href)=\"(https?:)?//", page.html)
    assert "http://" not in page.html and "https://" not in page.html
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    assert page_data(page)["kind"] == "binary"


def test_regression_draws_a_surface_and_no_boundary():
    model, history, X, y = trained("regression", epochs=4)
    page = viz.training_html(model, history, X, y, resolution=20)
    data = page_data(page)
    assert data["kind"] == "regression"
    assert data["wrong"] == [[] for _ in history.snapshots]
    assert set(data["boundaries"]) == {""}
    assert "output from" in page.html  # the colour scale's legend


def test_inputs_that_are_not_2d_say_why_the_planes_are_missing():
    model, history, X, y = trained("wide", epochs=3)
    page = viz.training_html(model, history, X, y)
    assert "The inputs have 5 features, not 2, so there is no input plane" in page.html
    assert 'id="plane"' not in page.html and "<image" not in page.html
    assert len(re.findall(r'<path class="edge"', page.html)) == 5 * 4 + 4
    data = page_data(page)
    assert data["fields"] == [] and len(data["hist"]) == 2
    assert [len(h) for h in data["hist"]] == [len(history.snapshots)] * 2


def test_the_big_case_stays_under_five_megabytes():
    # MLP(2, [16, 16, 1]) with 101 snapshots: the size the issue sets (the time is measured
    # in benchmarks/training_page.py).
    model, history, X, y = drifting()
    page = viz.training_html(model, history, X, y)
    assert len(page.html.encode()) < 5_000_000
    assert len(re.findall(r'<path class="edge"', page.html)) == 2 * 16 + 16 * 16 + 16


def test_the_title_and_text_are_escaped():
    model, history, X, y = trained("moons", epochs=2)
    page = viz.training_html(model, history, X, y, title="<b>moons</b> & co", resolution=10)
    assert "<title>&lt;b&gt;moons&lt;/b&gt; &amp; co</title>" in page.html
    assert page.title == "<b>moons</b> & co"


def diverged():
    """A history whose fourth snapshot blew up: nan and inf parameters, a nan loss."""
    from nn.train import Snapshot

    model, history, X, y = drifting(snapshots=6)  # noqa: N806
    params = list(history.snapshots[3].parameters)
    params[0], params[5] = float("nan"), float("inf")
    history.snapshots[3] = Snapshot(3, tuple(params), float("nan"), {"accuracy": 0.5})
    return model, history, X, y


def test_a_diverged_snapshot_still_makes_a_page():
    page = viz.training_html(*diverged(), resolution=30)
    data = page_data(page)
    assert data["loss"][3] == "NaN" and data["params"][3][:1] == ["NaN"]
    assert data["params"][3][5] == "Infinity"
    assert len(page_pictures(page, data)["plane"]) == 6
