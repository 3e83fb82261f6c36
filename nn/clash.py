"""Make sure the ``autograd`` that ``nn`` and ``viz`` import is ours.

PyPI's ``autograd`` (HIPS) has the same top-level name as our engine, and pip installs both into
the same ``site-packages/autograd`` folder without a word: whichever came last wins, the other
breaks, and the first sign would be ``cannot import name 'Value' from 'autograd'``. Importing
this module runs the check (``nn`` imports it first; ``viz`` when its own import of
``autograd`` fails) and says instead which ``autograd`` was found, that ours comes from the
distribution ``scalar-autograd``, and how to fix it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

DISTRIBUTION = "scalar-autograd"  # autograd.version holds it too, but that may be the foreign one


def is_ours(autograd: ModuleType) -> bool:
    """True for scalar-autograd's engine: its ``Value`` class comes from ``autograd.value``."""
    value = getattr(autograd, "Value", None)
    return isinstance(value, type) and value.__module__ == "autograd.value"


def check_autograd() -> None:
    """Import ``autograd``; raise ImportError saying what to do when it is not ours."""
    try:
        autograd = importlib.import_module("autograd")
    except ImportError as e:
        if e.name != "autograd":
            raise  # ours, broken inside: its own error says more
        raise ImportError(
            f"no module named 'autograd': the engine of {DISTRIBUTION} is missing; reinstall "
            f"it: pip install --force-reinstall {DISTRIBUTION}"
        ) from e
    if not is_ours(autograd):
        raise ImportError(foreign_message(autograd))


def foreign_message(autograd: ModuleType) -> str:
    """What went wrong and how to fix it, naming the file of the foreign ``autograd``."""
    where = getattr(autograd, "__file__", None) or ", ".join(getattr(autograd, "__path__", []))
    return (
        f"the 'autograd' package imported from {where} is not the engine of {DISTRIBUTION} "
        f"(nn and viz need it): another package, most likely PyPI's 'autograd' (HIPS), uses the "
        f"same name, and pip lets one overwrite the other. Fix: give {DISTRIBUTION} a virtual "
        f"environment of its own (python -m venv .venv && .venv/bin/pip install {DISTRIBUTION}, "
        f"or -e . from a checkout), or, in this one, pip uninstall autograd {DISTRIBUTION} and "
        f"then pip install {DISTRIBUTION} again."
    )


check_autograd()
