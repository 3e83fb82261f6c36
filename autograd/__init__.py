"""A scalar reverse-mode autodiff engine: Values, backward(), and the functional API.

``autograd.ENGINE`` says which engine runs: ``"compiled"`` (the default: Value's operators and
backward loop compiled from the op table, :mod:`autograd.codegen`) or ``"plain"`` (the readable
engine of :mod:`autograd.value` and :mod:`autograd.backward`, with ``AUTOGRAD_PLAIN=1`` in the
environment at import). Both give the same numbers, bit for bit.
"""

import os as _os

from . import codegen as _codegen
from .backward import grad, hessian, value_and_grad
from .check import gradcheck
from .forward import hvp, jacfwd, jacrev, jvp
from .grad_mode import enable_grad, no_grad
from .tape import trace
from .value import Value
from .version import version as _version

if _os.environ.get("AUTOGRAD_PLAIN", "").strip() in ("", "0"):
    _codegen.install()


def __getattr__(name: str) -> str:
    if name == "ENGINE":
        return _codegen.engine()
    if name == "__version__":  # scalar-autograd's, from its installed metadata, on first use
        return _version()
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")


__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "grad",
    "value_and_grad",
    "hessian",
    "jvp",
    "jacfwd",
    "jacrev",
    "hvp",
    "gradcheck",
    "trace",
    "ENGINE",
]
