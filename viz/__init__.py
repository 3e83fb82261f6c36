"""Pictures of the computation graph and of backprop."""

from .backprop import Share, Step, backprop_html, backward_steps, print_backward
from .dot import draw_dot
from .plots import plot_decision_boundary, plot_loss
from .render import render

__all__ = [
    "draw_dot",
    "render",
    "backward_steps",
    "print_backward",
    "backprop_html",
    "Step",
    "Share",
    "plot_loss",
    "plot_decision_boundary",
]
