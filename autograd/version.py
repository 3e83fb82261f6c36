"""The version of scalar-autograd, from the installed metadata (PEP 566).

``autograd.__version__``, ``nn.__version__`` and ``viz.__version__`` are all the version of the
one distribution, ``scalar-autograd``, read when first asked for (``importlib.metadata`` costs
more to import than a third of the engine). Run from a checkout that was never installed, it is
the version ``setup.cfg`` names; failing both, ``"0+unknown"``.
"""

from __future__ import annotations

import configparser
import functools
from collections.abc import Callable
from pathlib import Path

DISTRIBUTION = "scalar-autograd"
UNKNOWN = "0+unknown"


@functools.cache
def version() -> str:
    """The installed distribution's version, else the checkout's ``setup.cfg``, else UNKNOWN."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return _checkout_version(Path(__file__).resolve().parents[1] / "setup.cfg") or UNKNOWN


def _checkout_version(setup_cfg: Path) -> str | None:
    config = configparser.ConfigParser()
    try:
        config.read(setup_cfg, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    if config.get("metadata", "name", fallback=None) != DISTRIBUTION:
        return None  # a setup.cfg, but not ours
    return config.get("metadata", "version", fallback=None)


def lazy_version(module: str) -> Callable[[str], str]:
    """A module-level ``__getattr__`` (PEP 562) that answers ``__version__`` on first use."""

    def __getattr__(name: str) -> str:  # noqa: N807 - the name PEP 562 looks for
        if name == "__version__":
            return version()
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
