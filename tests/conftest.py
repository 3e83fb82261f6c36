"""Shared test configuration."""

import sys
from pathlib import Path

# The benchmarks and demos are scripts, not packages; make them importable from tests.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_report_header(config) -> str:
    """Which engine this run tests: ``AUTOGRAD_PLAIN=1`` (read at import) picks the plain one."""
    import autograd

    return f"autograd engine: {autograd.ENGINE} (AUTOGRAD_PLAIN=1 runs the plain one)"
