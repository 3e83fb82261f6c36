"""The docs run as written: every ``python`` block of a page runs, in order, in one namespace, and
prints what its comments say; every ``py`` block that starts ``# from <file>`` is that file's
code, word for word."""

from __future__ import annotations

import contextlib
import io
import os
import re
import textwrap
from pathlib import Path

import pytest

from autograd.ops import OPS

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"```(python|py)\n(.*?)```", re.S)


def _blocks(page: Path, kind: str) -> list[str]:
    return [code for lang, code in FENCE.findall(page.read_text(encoding="utf-8")) if lang == kind]


def test_the_reading_path_exists():
    assert {p.name for p in PAGES} >= {"engine.md", "adding-an-op.md"}


def run_block(code: str, name: str, namespace: dict) -> None:
    """Run one block of a page in ``namespace``; every line ``print(...)  # text`` must print
    exactly ``text``, in order."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, name, "exec"), namespace)
    printed = iter(out.getvalue().splitlines())
    for line in code.splitlines():
        match = re.match(r"\s*print\(.*\)\s+#\s*(.+)$", line)
        if match:
            assert next(printed, None) == match.group(1).strip(), f"{name}: {line.strip()}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_runs_and_prints_what_it_says(page, tmp_path):
    namespace = {"__name__": f"__docs_{page.stem}__"}
    cwd = os.getcwd()
    os.chdir(tmp_path)  # blocks that write files write them here
    table = dict(OPS)  # a page may register an op to show how: it is gone afterwards
    try:
        for index, code in enumerate(_blocks(page, "python")):
            run_block(code, f"{page.name} block {index}", namespace)
    finally:
        os.chdir(cwd)
        OPS.clear()
        OPS.update(table)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_quoted_code_is_the_real_code(page):
    for code in _blocks(page, "py"):
        first, _, body = code.partition("\n")
        match = re.fullmatch(r"# from (\S+)", first.strip())
        if not match:
            continue
        source = (ROOT / match.group(1)).read_text(encoding="utf-8")
        assert body.rstrip() in source or textwrap.dedent(body).rstrip() in source, (
            f"{page.name}: the code quoted from {match.group(1)} is not in that file any more"
        )
