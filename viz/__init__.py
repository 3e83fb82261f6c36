"""Pictures of the computation graph and of backprop, with no system Graphviz needed.

- ``draw_dot(root)``: the graph as a ``graphviz.Digraph`` (shown inline in Jupyter)
- ``render(root, "graph.svg")``: .svg, .png, .dot (and .pdf where Graphviz is installed)
- ``backward_steps(root)``, ``print_backward(root)``, ``backprop_html(root)``: backprop one node
  at a time, as data, as a table and as a self-contained page (inline in a notebook)
- ``plot_loss(history)``, ``plot_decision_boundary(model, X, y)``, ``plot_confusion(pred,
  target)``: matplotlib Figures
- ``training_html(model, history, X, y)``, ``training_animation(model, history, X, y, "t.gif")``:
  a ``fit(..., record=k)`` replayed snapshot by snapshot, as a page and as a GIF
"""

from typing import Any

try:  # ours, not another package of the same name (PyPI's HIPS autograd, a local folder)
    import autograd as _autograd

    _ours = _autograd.Value.__module__ == "autograd.value"
except (ImportError, AttributeError):
    _ours = False
if not _ours:
    from nn import clash  # noqa: F401 - raises the error that names that autograd and the fix

from .animation import Animation, training_animation
from .backprop import Share, Step, backward_steps, print_backward
from .backprop_page import backprop_html
from .dot import Graph, draw_dot
from .plots import plot_confusion, plot_decision_boundary, plot_loss
from .render import render
from .training import training_html


def __getattr__(name: str) -> Any:
    """``viz.__version__``: the version of scalar-autograd, from its metadata on first use."""
    from autograd.version import lazy_version

    return lazy_version(__name__)(name)


__all__ = [
    "draw_dot",
    "Graph",
    "render",
    "backward_steps",
    "print_backward",
    "backprop_html",
    "Step",
    "Share",
    "plot_loss",
    "plot_decision_boundary",
    "plot_confusion",
    "training_html",
    "training_animation",
    "Animation",
]
