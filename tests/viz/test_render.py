"""render: every format from the extension, in-process, written atomically."""

from __future__ import annotations

import importlib
import io
import os
import re

import pytest

import viz
from autograd import Value
from autograd.graph import topological_order
from viz.dot import fmt

from .conftest import NumberLabel, micrograd_example, node_texts, scoped_mlp

# The module, not the function viz.render that shadows it as a package attribute.
render_module = importlib.import_module("viz.render")
layout = importlib.import_module("viz.layout")


def test_svg_holds_every_label_data_and_grad(tmp_path):
    loss = micrograd_example()
    out = viz.render(loss, tmp_path / "graph.svg")
    assert out == os.fspath(tmp_path / "graph.svg")
    svg = (tmp_path / "graph.svg").read_text()
    texts = {t for ts in node_texts(svg).values() for t in ts}
    for v in topological_order(loss):
        assert {v.label, f"data {fmt(v.data)}", f"grad {fmt(v.grad)}"} <= texts
    assert 'font-family="Arimo,Helvetica,' in svg  # the drawing font, then same-metric ones


def test_png_decodes_with_dark_text_at_a_sensible_size(tmp_path):
    image = pytest.importorskip("PIL.Image")
    loss = micrograd_example()
    viz.render(loss, tmp_path / "graph.png")
    png = image.open(io.BytesIO((tmp_path / "graph.png").read_bytes()))
    png.load()
    w_pt, h_pt = layout.size_pt(viz.draw_dot(loss).svg())
    # 144 dpi: two pixels per point.
    assert png.size == (round(w_pt * 2), round(h_pt * 2))
    assert 800 < png.size[0] < 4000 and 150 < png.size[1] < 1500
    grey = png.convert("L")
    dark = sum(grey.histogram()[:100])
    assert dark > 2000, "text and outlines should draw thousands of dark pixels"
    assert grey.getpixel((0, 0)) == 255  # white background, not transparent black
    # Higher dpi, more pixels; the same picture.
    viz.render(loss, tmp_path / "big.png", dpi=288)
    assert image.open(tmp_path / "big.png").size[0] == round(w_pt * 4)


def test_huge_pictures_are_scaled_down_not_refused(monkeypatch):
    image = pytest.importorskip("PIL.Image")
    monkeypatch.setattr(layout, "MAX_PIXELS", 1_000_000)  # small, so the test is quick
    svg = '<svg width="4000px" height="2000px" viewBox="0 0 3000 1500"></svg>'
    png = image.open(io.BytesIO(layout.png_from_svg(svg)))
    assert png.size[0] * png.size[1] <= 1_000_000 * 1.01 and png.size[0] == 2 * png.size[1]


@pytest.mark.parametrize("ext", [".dot", ".gv"])
def test_dot_source(tmp_path, ext):
    loss = micrograd_example()
    viz.render(loss, tmp_path / f"graph{ext}", rankdir="TB")
    source = (tmp_path / f"graph{ext}").read_text()
    assert source.startswith("digraph") and "rankdir=TB" in source
    assert source == viz.draw_dot(loss, rankdir="TB").source


def test_draw_options_pass_through_and_digraphs_render_as_given(tmp_path):
    loss = scoped_mlp()
    viz.render(loss, tmp_path / "a.svg", collapse="layer", legend=True)
    assert "Layer layers.0" in (tmp_path / "a.svg").read_text()
    g = viz.draw_dot(loss, collapse="neuron")
    viz.render(g, tmp_path / "b.dot")
    assert (tmp_path / "b.dot").read_text() == g.source
    with pytest.raises(TypeError, match="draw options"):
        viz.render(g, tmp_path / "c.svg", collapse="layer")


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg, \.png"):
        viz.render(micrograd_example(), tmp_path / "graph.jpg")


def test_pdf_without_system_graphviz_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(layout.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="system Graphviz.*\\.svg or \\.png"):
        viz.render(micrograd_example(), tmp_path / "graph.pdf")
    assert not list(tmp_path.iterdir())


def test_pdf_with_system_graphviz(tmp_path):
    if layout.shutil.which("dot") is None:
        pytest.skip("no system Graphviz here")
    viz.render(micrograd_example(), tmp_path / "graph.pdf")
    assert (tmp_path / "graph.pdf").read_bytes()[:5] == b"%PDF-"


def test_writes_are_atomic_and_make_parent_folders(tmp_path, monkeypatch):
    loss = micrograd_example()
    target = tmp_path / "out" / "deep" / "graph.png"
    viz.render(loss, target)
    before = target.read_bytes()
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)

    def broken(svg, dpi):
        raise RuntimeError("rasteriser died")

    monkeypatch.setattr(render_module, "png_from_svg", broken)
    with pytest.raises(RuntimeError, match="died"):
        viz.render(loss, target)
    assert target.read_bytes() == before  # the old picture is untouched
    monkeypatch.setattr(render_module.os, "replace", _fail_replace)
    with pytest.raises(OSError, match="disk full"):
        viz.render(loss, target.with_suffix(".svg"))
    assert sorted(p.name for p in target.parent.iterdir()) == ["graph.png"]  # no temp left


def _fail_replace(src, dst):
    raise OSError("disk full")


# ---- clear errors and deep graphs ---------------------------------------------------------------


def test_nothing_to_draw_is_named(tmp_path):
    with pytest.raises(TypeError, match="render: nothing to draw, got None"):
        viz.render(None, tmp_path / "g.png")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("dpi", [float("nan"), 0, -5, float("inf"), "high", None, True])
def test_a_bad_dpi_is_named(tmp_path, dpi):
    with pytest.raises(ValueError, match=rf"render: dpi must be a positive finite number.*{dpi!r}"):
        viz.render(micrograd_example(), tmp_path / "g.png", dpi=dpi)
    assert not list(tmp_path.iterdir())


def test_a_label_that_is_not_a_string_is_named(tmp_path):
    with pytest.raises(TypeError, match="label must be a str"):  # Value refuses one itself
        Value(1.0, label=123)
    a = NumberLabel(1.0)  # and one that gets past it anyway is named, not a crash inside
    with pytest.raises(
        TypeError, match=r"draw_dot: a Value's label must be a str, got 123 \(int\)"
    ):
        viz.draw_dot(a * 2)
    with pytest.raises(TypeError, match=r"draw_dot: a Value's label must be a str"):
        viz.render(a * 2, tmp_path / "g.svg")


def _chain(n: int) -> Value:
    """x + 1 + 1 + ...: a chain of n Values (each step a constant and a sum)."""
    y = Value(1.0, "x")
    while len(topological_order(y)) + 2 <= n:
        y = y + 1.0
    return y


def test_a_2501_node_chain_renders(tmp_path):
    y = _chain(2501)
    assert len(topological_order(y)) == 2501
    viz.render(y, tmp_path / "chain.svg", max_nodes=3000)
    assert (tmp_path / "chain.svg").read_text().count('class="node"') == 2501 + 1250


@pytest.fixture
def shallow_engine(monkeypatch):
    """The embedded engine with a tiny wasm stack, so a modest chain exhausts it quickly."""
    monkeypatch.setattr(layout, "WASM_STACK", 32 << 10)
    monkeypatch.setattr(layout, "_engine", None)
    yield
    layout._engine = None  # the next test gets a full-size engine


def test_a_graph_too_deep_for_the_embedded_engine_says_why_and_what_to_do(
    tmp_path, monkeypatch, shallow_engine
):
    monkeypatch.setattr(layout.shutil, "which", lambda name: None)  # no system Graphviz
    y = _chain(201)
    with pytest.raises(ValueError) as e:
        viz.render(y, tmp_path / "chain.png")
    message = str(e.value)
    assert message.startswith("render: the embedded Graphviz ran out of call stack")
    for hint in ("collapse='neuron'", "max_nodes", "install Graphviz"):
        assert hint in message
    assert "wasm" not in type(e.value).__module__ and e.value.__cause__ is None
    assert not list(tmp_path.iterdir())
    # The engine recovers (a fresh instance): the next picture lays out as usual.
    viz.render(micrograd_example(), tmp_path / "small.svg")
    assert "<svg" in (tmp_path / "small.svg").read_text()


def test_a_system_graphviz_takes_over_when_present(tmp_path, shallow_engine):
    if layout.shutil.which("dot") is None:
        pytest.skip("no system Graphviz here")
    viz.render(_chain(201), tmp_path / "chain.svg")
    svg = (tmp_path / "chain.svg").read_text()
    assert svg.count('class="node"') == 201 + 100 and 'font-family="Arimo,' in svg


def test_render_of_a_number_names_the_call_and_the_argument(tmp_path):
    with pytest.raises(TypeError, match=r"render: root_or_digraph must be a Value, got float 3.0"):
        viz.render(3.0, tmp_path / "x.png")
    with pytest.raises(TypeError, match="render: nothing to draw, got None"):
        viz.render(None, tmp_path / "x.png")


def test_the_same_figure_gives_the_same_bytes_and_resvg_reads_every_svg(tmp_path):
    import subprocess
    import sys

    resvg_py = pytest.importorskip("resvg_py")
    viz.render(micrograd_example(), tmp_path / "a.svg")
    for _ in range(3):  # the embedded engine's gradient counter moves on between drawings
        viz.draw_dot(scoped_mlp()).svg()
    viz.render(micrograd_example(), tmp_path / "b.svg")
    a, b = (tmp_path / "a.svg").read_bytes(), (tmp_path / "b.svg").read_bytes()
    assert a == b and b"_l_0" in a
    script = (
        "import sys; sys.path.insert(0, 'tests/..'); import viz; "
        "from tests.viz.conftest import micrograd_example; "
        f"viz.render(micrograd_example(), {str(tmp_path / 'c.svg')!r})"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=os.getcwd())
    assert (tmp_path / "c.svg").read_bytes() == a  # another process, the same bytes
    assert re.search(rb'<svg width="[\d.]+px" height="[\d.]+px"', a)
    for svg in (a, viz.draw_dot(scoped_mlp(), collapse="neuron").svg().encode()):
        png = resvg_py.svg_to_bytes(svg_string=svg.decode())  # refused sizes in pt
        assert bytes(png[:8]) == b"\x89PNG\r\n\x1a\n"


def test_resvg_converts_every_svg_in_the_docs():
    from pathlib import Path

    resvg_py = pytest.importorskip("resvg_py")
    svgs = sorted((Path(__file__).resolve().parents[2] / "docs").glob("*.svg"))
    assert svgs
    for path in svgs:
        png = resvg_py.svg_to_bytes(svg_string=path.read_text(encoding="utf-8"))
        assert bytes(png[:8]) == b"\x89PNG\r\n\x1a\n", path.name
