"""Does every text run of a Graphviz SVG fit its cell, measured with a given font file?

Graphviz draws a record as one outline with a vertical line between fields; each field's text is
centred in it. A text run fits when, at the width the font gives it, it stays clear of its
cell's walls: the nearest separators left and right of it (at its height) or the outline.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache

SVG_NS = {"svg": "http://www.w3.org/2000/svg"}
CLEARANCE = 1.0  # points between a text's ink box and a wall
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


@cache
def _font(path: str):
    from fontTools.ttLib import TTFont

    font = TTFont(path)
    return font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm


def text_width(text: str, size: float, font_path: str) -> float:
    """The advance width of ``text`` at ``size`` points in the font at ``font_path``."""
    cmap, hmtx, upm = _font(font_path)
    fallback = hmtx[".notdef"][0]
    units = sum(hmtx[cmap[ord(c)]][0] if ord(c) in cmap else fallback for c in text)
    return units * size / upm


@dataclass
class Overflow:
    node: str
    text: str
    left: float
    right: float
    cell: tuple[float, float]

    def __str__(self) -> str:
        return (
            f"{self.node}: {self.text!r} spans {self.left:.1f}..{self.right:.1f}, "
            f"its cell {self.cell[0]:.1f}..{self.cell[1]:.1f}"
        )


def _points(element: ET.Element) -> list[tuple[float, float]]:
    raw = element.get("points") or element.get("d") or ""
    nums = [float(n) for n in _NUMBER.findall(raw)]
    return list(zip(nums[::2], nums[1::2]))


def overflows(svg: str, font_path: str, clearance: float = CLEARANCE) -> list[Overflow]:
    """Every text run in a node of ``svg`` that does not fit its cell in this font."""
    found = []
    root = ET.fromstring(svg.encode())
    for node in root.iterfind(".//svg:g[@class='node']", SVG_NS):
        outline = [
            p
            for tag in ("path", "polygon", "ellipse")
            for el in node.iterfind(f".//svg:{tag}", SVG_NS)
            for p in _points(el)
        ]
        if not outline:
            continue
        lo, hi = min(x for x, _ in outline), max(x for x, _ in outline)
        walls = []  # vertical separators: (x, y from, y to)
        for line in node.iterfind(".//svg:polyline", SVG_NS):
            (x1, y1), (x2, y2) = _points(line)[:2]
            if abs(x1 - x2) < 0.01:
                walls.append((x1, min(y1, y2), max(y1, y2)))
        for t in node.iterfind(".//svg:text", SVG_NS):
            text, size = t.text or "", float(t.get("font-size", "14"))
            x, y = float(t.get("x")), float(t.get("y"))
            width = text_width(text, size, font_path)
            anchor = t.get("text-anchor", "start")
            left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
            top, bottom = y - 0.8 * size, y + 0.2 * size
            beside = [wx for wx, y1, y2 in walls if y1 < bottom and y2 > top]
            cell = (
                max([lo, *(wx for wx in beside if wx <= x)]),
                min([hi, *(wx for wx in beside if wx >= x)]),
            )
            if left < cell[0] + clearance or left + width > cell[1] - clearance:
                found.append(Overflow(node.get("id", "?"), text, left, left + width, cell))
    return found
