"""Pictures of the computation graph and of backprop."""

from .backprop import Share, Step, backprop_html, backward_steps, print_backward
from .dot import draw_dot
from .render import render

__all__ = [
    "draw_dot",
    "render",
    "backward_steps",
    "print_backward",
    "backprop_html",
    "Step",
    "Share",
]
