"""A scalar reverse-mode autodiff engine: Values, backward(), and the functional API."""

from .backward import grad, hessian, value_and_grad
from .check import gradcheck
from .grad_mode import enable_grad, no_grad
from .tape import trace
from .value import Value
from .version import lazy_version as _lazy_version

__getattr__ = _lazy_version(__name__)  # __version__, from the metadata on first use

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "grad",
    "value_and_grad",
    "hessian",
    "gradcheck",
    "trace",
]
