"""``import viz`` next to a foreign ``autograd``: the same clear error as ``import nn`` (#20.16)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Foreign packages named autograd: PyPI's HIPS (no Value) and one that has a Value of its own.
FOREIGN = {
    "hips": "def grad(f):\n    return f\n",
    "with-value": "class Value:\n    pass\n\ndef grad(f):\n    return f\n",
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
@pytest.mark.parametrize("statement", ["import viz", "import nn", "from viz import draw_dot"])
def test_a_foreign_autograd_gives_one_clear_error(tmp_path, kind, statement):
    package = tmp_path / "autograd"
    package.mkdir()
    (package / "__init__.py").write_text(FOREIGN[kind])
    prelude = f"import sys; sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT)!r}]\n"
    done = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(statement)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: the 'autograd' package imported from "), last
    assert str(package / "__init__.py") in last and "is not the engine of scalar-autograd" in last
