"""Console text: ASCII where the stream's encoding cannot show a character (cp1252 has no ∂)."""

from __future__ import annotations

import io

import pytest

import viz
from viz.console import ascii_fallback, for_stream, to_ascii

from .conftest import micrograd_example


@pytest.mark.parametrize(
    "text, ascii",
    [
        ("∂node/∂input", "dnode/dinput"),
        ("∂(x1*w1)/∂x1 · (x1*w1).grad", "d(x1*w1)/dx1 * (x1*w1).grad"),
        ("ŷ → y", "y -> y"),
        ("loss 1.3 … ±0.1", "loss 1.3 ... +/-0.1"),
        ("L0·N2", "L0*N2"),
        ("数", "?"),
        ("plain", "plain"),
    ],
)
def test_to_ascii(text, ascii):
    assert to_ascii(text) == ascii


def _console(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding)


def test_for_stream_keeps_what_the_encoding_can_show():
    assert for_stream("∂o/∂n é", _console("utf-8")) == "∂o/∂n é"
    assert for_stream("∂o/∂n é", _console("cp1252")) == "do/dn é"  # cp1252 has é
    assert for_stream("∂o/∂n é", _console("ascii")) == "do/dn e"


def test_print_backward_on_a_cp1252_console_writes_ascii():
    out = _console("cp1252")
    viz.print_backward(micrograd_example(), file=out)
    out.flush()
    text = out.buffer.getvalue().decode("cp1252")
    lines = text.splitlines()
    assert lines[0] == "backward from L (seed L.grad = 1.0)"
    assert lines[1].split()[4] == "dnode/dinput"
    # Columns stay aligned: every row is as wide as its dashes say.
    widths = [len(cell) for cell in lines[2].split("  ")]
    assert lines[1].index("node.grad") == sum(widths[:5]) + 2 * 5 + (widths[5] - len("node.grad"))


def test_print_backward_on_a_utf8_console_keeps_the_symbol():
    out = io.StringIO()
    viz.print_backward(micrograd_example(), file=out)
    assert "∂node/∂input" in out.getvalue()


def test_ascii_fallback_reconfigures_only_consoles_that_need_it():
    narrow, wide = _console("cp1252"), _console("utf-8")
    ascii_fallback(narrow, wide)
    narrow.write("∂L/∂a · 2\n")
    narrow.flush()
    assert narrow.buffer.getvalue().decode("cp1252") == "dL/da · 2\n"  # cp1252 has ·
    assert wide.errors == "strict"
