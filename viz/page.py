"""A self-contained HTML page that shows inline in a notebook and can be written to a file.

Every page the library makes (``backprop_html``, ``training_html``) returns one of these: in
Jupyter it is the cell's value and shows as a sandboxed iframe holding the whole page (its
scripts run, nothing reaches the notebook); ``.save(path)`` writes it atomically; when the page
was asked for with a path it has already been written there, and ``os.fspath(page)`` is it.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograd.files import write_atomic

_HERE = Path(__file__).parent


# The buttons and the slider viz/stepper.js wires up, by these ids; ``unit`` names one frame.
_CONTROLS = """\
  <button id="first" title="First {unit} (Home)">|◀</button>
  <button id="prev" title="Previous {unit} (←)">◀ Prev</button>
  <button id="play" title="Play / pause (space)">▶ Play</button>
  <button id="next" title="Next {unit} (→)">Next ▶</button>
  <button id="last" title="Last {unit} (End)">▶|</button>
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="{unit}">"""


def fill_template(name: str, parts: Mapping[str, str], unit: str) -> str:
    """The page template ``viz/<name>`` with each ``{{KEY}}`` replaced by ``parts[KEY]``, and
    the step-through controls both pages share: ``{{CONTROLS}}`` (the buttons and the slider,
    ``unit`` naming a frame: "step", "snapshot") and ``{{STEPPER}}`` (``viz/stepper.js``, which
    wires them up). One pass over the template: text put in is never searched again."""
    parts = {
        **parts,
        "CONTROLS": _CONTROLS.format(unit=unit),
        "STEPPER": (_HERE / "stepper.js").read_text(encoding="utf-8"),
    }
    template = (_HERE / name).read_text(encoding="utf-8")
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m[1]], template)


class Saveable:
    """What every picture, page and animation of the library shares: ``save(path)`` writes it
    (atomically, a regular file only) and returns it; afterwards ``.path`` is where, and
    ``os.fspath(obj)`` and ``str(obj)`` give that path, so code that took the path a writer
    returned keeps working. Subclasses say what their file holds in ``_encode``."""

    path: str | None = None

    def _encode(self, path: str) -> bytes | str:
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str], who: str = "save") -> Any:
        """Write to ``path`` (atomically, a regular file only); return ``self``."""
        self.path = write_atomic(path, self._encode(os.fspath(path)), who)
        return self

    def __fspath__(self) -> str:
        if self.path is None:
            raise TypeError(f"{self!r} was not written to a file; call .save(path) first")
        return self.path

    def __str__(self) -> str:
        return self.path if self.path is not None else repr(self)


class HtmlPage(Saveable):
    """One self-contained page: ``.html`` (the text), ``.path`` (where it was written, or None)."""

    def __init__(self, page: str, title: str = "", height: int = 760) -> None:
        self.html = page
        self.title = title
        self.height = int(height)

    def _encode(self, path: str) -> str:
        return self.html

    def _repr_html_(self) -> str:
        # srcdoc keeps the page whole (no file, no server); the sandbox lets its script run but
        # gives it no access to the notebook around it.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'title="{html.escape(self.title, quote=True)}" sandbox="allow-scripts" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #e2e8f0; '
            'border-radius: 8px;"></iframe>'
        )

    def __repr__(self) -> str:
        where = f" at {self.path!r}" if self.path else " (not saved)"
        return f"<HtmlPage {self.title!r}{where}, {len(self.html):,} characters>"
