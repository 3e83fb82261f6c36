"""The README's python blocks run as written, and print what their comments say."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .test_docs import run_block

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index, tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)  # blocks that write pictures write them here
    try:  # each block on its own, as a reader would paste it
        run_block(BLOCKS[index], f"README.md block {index}", {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
