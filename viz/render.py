"""render: a graph to .svg, .png, .dot or .pdf, the format picked from the file's extension."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from autograd.files import write_atomic
from autograd.value import Value

from .dot import draw_dot
from .layout import DPI, check_dpi, png_from_svg, svg_from_source, system_graphviz

FORMATS = (".svg", ".png", ".dot", ".gv", ".pdf")


def _pdf(source: str) -> bytes:
    try:
        return system_graphviz(source, "pdf")
    except RuntimeError as e:
        raise RuntimeError(
            f"render: .pdf needs a system Graphviz (the `dot` program): {e}; install Graphviz "
            "(e.g. apt-get install graphviz) or write .svg or .png, which need nothing installed"
        ) from None


def picture(source: str, ext: str, dpi: float = DPI, who: str = "render") -> bytes:
    """DOT source as the bytes of a ``.svg``, ``.png``, ``.dot``/``.gv`` or ``.pdf`` file."""
    if ext in (".dot", ".gv"):
        return source.encode("utf-8")
    if ext == ".pdf":
        return _pdf(source)
    svg = svg_from_source(source, who=who)
    return svg.encode("utf-8") if ext == ".svg" else png_from_svg(svg, dpi)


def render(
    root_or_digraph: Any, path: str | os.PathLike[str], *, dpi: float = DPI, **draw_kwargs: Any
) -> str:
    """Write the graph of a Value (or a list of them, or a Digraph) to ``path``; return it.

    The format comes from the extension: ``.svg``, ``.png``, ``.dot`` (or ``.gv``) always work,
    laid out in-process by Graphviz compiled to WebAssembly (a system Graphviz takes over for
    graphs too deep for it, when one is installed); ``.pdf`` needs a system Graphviz.
    ``draw_kwargs`` go to :func:`viz.draw_dot` (``rankdir``, ``collapse``, ``max_nodes``,
    ``legend``, ...). PNG text is drawn with the bundled Arimo font, never a system font.
    """
    if not isinstance(root_or_digraph, Value | list | tuple | graphviz.Graph | graphviz.Digraph):
        got = (
            "nothing to draw, got None"
            if root_or_digraph is None
            else (
                f"root_or_digraph must be a Value, got {type(root_or_digraph).__name__} "
                f"{root_or_digraph!r} (a number has no graph: pass the Value itself, not .data)"
            )
        )
        raise TypeError(
            f"render: {got}; pass a Value (e.g. the loss), a list of Values or a graphviz "
            "Digraph, as in render(loss, 'graph.png')"
        )
    try:
        path = Path(path)
    except TypeError:
        msg = f"render: path must be a file name such as 'graph.png', got {path!r}"
        raise TypeError(msg) from None
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"render: cannot write {path.name!r}; use one of {', '.join(FORMATS)}")
    dpi = check_dpi(dpi, "render")
    if isinstance(root_or_digraph, graphviz.Graph | graphviz.Digraph):
        if draw_kwargs:
            raise TypeError(
                f"render: got a Digraph, so draw options {sorted(draw_kwargs)} do not apply"
            )
        source = root_or_digraph.source
    else:
        source = draw_dot(root_or_digraph, **draw_kwargs).source
    write_atomic(path, picture(source, ext, dpi), "render")
    return os.fspath(path)
