"""Text inside its boxes: the layout's widths and the font the PNG is drawn with agree.

Graphviz sizes each cell from its Helvetica width tables; PNGs are drawn with Arimo (same
metrics), given to the rasteriser as a file, with system fonts skipped. Each text run of every
picture is measured with that same font file against its cell.
"""

from __future__ import annotations

import importlib
import io
import re
from pathlib import Path

import pytest

import viz
from autograd import Value
from autograd.grad_mode import scope

from .conftest import micrograd_example, scoped_mlp, used_twice
from .textfit import overflows

layout = importlib.import_module("viz.layout")
Image = pytest.importorskip("PIL.Image")
pytest.importorskip("fontTools")


def _regular_font() -> str:
    return next(f for f in layout.font_files() if "Italic" not in Path(f).name)


def _labelled_unicode() -> Value:
    """Labels with letters outside ASCII and long dotted names, as tutorials write them."""
    x = Value(2.0, "x₀ (hours)")
    w = Value(-0.5, "layers.0.neurons.12.w.3")
    with scope("MLP:"), scope("Layer:layers.0"), scope("Neuron:neurons.12"):
        y_hat = (w * x).sigmoid()
    y_hat.label = "ŷ"
    loss = (y_hat - Value(1.0, "y")) ** 2
    loss.label = "∂-free loss · ½"
    loss.backward()
    return loss


GRAPHS = {
    "lecture": lambda: viz.draw_dot(micrograd_example()),
    "used-twice TB": lambda: viz.draw_dot(used_twice(), rankdir="TB"),
    "mlp": lambda: viz.draw_dot(scoped_mlp()),
    "mlp by neuron": lambda: viz.draw_dot(scoped_mlp(), collapse="neuron"),
    "mlp by layer, legend": lambda: viz.draw_dot(scoped_mlp(), collapse="layer", legend=True),
    "unicode labels": lambda: viz.draw_dot(_labelled_unicode()),
    "unicode by neuron TB": lambda: viz.draw_dot(_labelled_unicode(), "TB", collapse="neuron"),
}


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_every_text_run_fits_its_cell_in_the_font_the_png_uses(build):
    bad = overflows(build().svg(), _regular_font())
    assert not bad, "\n".join(map(str, bad))


def test_the_backprop_page_picture_keeps_its_text_in_its_boxes(tmp_path):
    page = viz.backprop_html(used_twice())
    svg = re.search(r"<svg.*</svg>", page.html, re.S)[0]
    bad = overflows(svg, _regular_font())
    assert not bad, "\n".join(map(str, bad))


def test_the_check_catches_a_wider_font():
    # DejaVu Sans (what a machine without Helvetica-metric fonts used to fall back to) is wider
    # than the layout assumed: long labels run into their cells' walls.
    matplotlib = pytest.importorskip("matplotlib")
    dejavu = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
    assert overflows(viz.draw_dot(scoped_mlp()).svg(), str(dejavu))


def test_pngs_are_drawn_with_the_bundled_font_and_never_a_system_font(monkeypatch):
    import resvg_py

    seen = {}
    real = resvg_py.svg_to_bytes

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(resvg_py, "svg_to_bytes", spy)
    viz.draw_dot(micrograd_example()).pipe(format="png")
    assert seen["skip_system_fonts"] is True
    assert seen["font_files"] == list(layout.font_files())
    assert all(Path(f).is_file() and "fontpkg_arimo" in f for f in seen["font_files"])
    assert seen["font_family"] == seen["sans_serif_family"] == "Arimo"


def _ink(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as im:
        return sum(im.convert("L").histogram()[:128])


def test_png_text_is_drawn_without_system_fonts(tmp_path):
    # System fonts are skipped (Debian's fonts-liberation is on this machine; it is not used):
    # the text's ink comes from the bundled font alone. Without a font, resvg draws no text,
    # so the same picture with its text removed is the baseline.
    svg = viz.draw_dot(micrograd_example()).svg()
    with_text = _ink(layout.png_from_svg(svg))
    without = _ink(layout.png_from_svg(re.sub(r"<text[^>]*>[^<]*</text>", "", svg)))
    assert with_text > without + 3000, (with_text, without)
    # render() writes that PNG.
    viz.render(micrograd_example(), tmp_path / "g.png")
    assert _ink((tmp_path / "g.png").read_bytes()) == with_text


def test_a_missing_font_package_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fontpkg_arimo", None)
    layout.font_files.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"pip install 'fontpkg-arimo"):
            layout.font_files()
    finally:
        monkeypatch.delitem(sys.modules, "fontpkg_arimo")
        layout.font_files.cache_clear()
