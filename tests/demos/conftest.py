"""Demos are scripts in demos/; put that folder on sys.path so tests import them by name."""

import sys
from pathlib import Path

import pytest

DEMOS = Path(__file__).resolve().parents[2] / "demos"
if str(DEMOS) not in sys.path:
    sys.path.insert(0, str(DEMOS))

# What each kind of file starts with (an SVG after its XML prologue and doctype).
SIGNATURES = {
    ".png": b"\x89PNG\r\n\x1a\n",
    ".svg": b"<svg",
    ".html": b"<!DOCTYPE html>",
    ".gif": b"GIF89a",
}


def _check_files(files, folder, names):
    """``files`` are exactly ``names`` in ``folder``, each non-empty and in its format."""
    paths = [Path(f) for f in files]
    assert [p.name for p in paths] == names
    for p in paths:
        assert p.parent == Path(folder), p
        data = p.read_bytes()
        assert data, f"{p} is empty"
        head = data[:2000]
        signature = SIGNATURES[p.suffix]
        found = head.startswith(signature) if p.suffix != ".svg" else signature in head
        assert found, f"{p} does not look like a {p.suffix} file"


@pytest.fixture
def check_files():
    return _check_files


@pytest.fixture
def out(tmp_path):
    """The folder a demo writes to (the demo creates it)."""
    return tmp_path / "out"
