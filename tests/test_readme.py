"""The README's python blocks run as written, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path):
    code = BLOCKS[index]
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # blocks that write pictures write them here
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README.md block {index}", "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
    # A line `print(...)  # expected output` must print exactly that.
    printed = iter(out.getvalue().splitlines())
    for line in code.splitlines():
        match = re.match(r"\s*print\(.*\)\s+#\s*(.+)$", line)
        if match:
            expected = match.group(1).strip()
            assert next(printed, None) == expected, f"README block {index}: {line.strip()}"
