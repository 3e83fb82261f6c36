"""Pictures of the computation graph and of backprop."""

from .dot import draw_dot
from .render import render

__all__ = ["draw_dot", "render"]
