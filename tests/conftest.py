"""Shared test configuration."""

import sys
from pathlib import Path

# The benchmarks and demos are scripts, not packages; make them importable from tests.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
