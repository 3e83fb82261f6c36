"""Whether ops record a graph, and in which module scope new nodes are made (per thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager


class _State(threading.local):
    # Class attributes are each thread's starting values.
    enabled: bool = True
    scope: tuple[str, ...] | None = None


STATE = _State()


class _Anywhere:
    """How many grad-mode or scope contexts are open in any thread.

    Reading a thread-local costs several times a plain attribute; while this count is zero (the
    usual case) every op knows it records, outside any scope, without reading one.
    """

    def __init__(self) -> None:
        self.open = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.open += 1

    def exit(self) -> None:
        with self.lock:
            self.open -= 1


ANYWHERE = _Anywhere()


class _GradMode(ContextDecorator):
    _mode: bool

    def _recreate_cm(self) -> _GradMode:
        # A decorated function gets a fresh context per call, so recursion and threads
        # never share the saved state.
        return type(self)()

    def __enter__(self) -> None:
        ANYWHERE.enter()
        self._saved = STATE.enabled
        STATE.enabled = self._mode

    def __exit__(self, *exc: object) -> None:
        STATE.enabled = self._saved
        ANYWHERE.exit()


class no_grad(_GradMode):  # noqa: N801 - the name users know from PyTorch
    """Ops inside record nothing: results are plain leaves. Context manager or decorator."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block. Context manager or decorator."""

    _mode = True


def is_grad_enabled() -> bool:
    """True when ops record the graph in this thread."""
    return STATE.enabled


@contextmanager
def scope(name: str) -> Iterator[tuple[str, ...]]:
    """Tag every Value made inside with the scope path (``("layers.0", "neurons.3")``).

    ``nn.Module`` enters one per call so the visualizer can collapse a neuron or a layer into one
    box. Outside any scope a node's ``scope`` is None and costs nothing more.
    """
    ANYWHERE.enter()
    saved = STATE.scope
    STATE.scope = (saved or ()) + (name,)
    try:
        yield STATE.scope
    finally:
        STATE.scope = saved
        ANYWHERE.exit()
