"""Whether ops record a graph, and in which module scope new nodes are made.

Both live in one context variable (per thread, and per asyncio task), so ``no_grad`` in one
thread never changes what another records. Reading it still costs more than a plain attribute,
so a global count of open contexts lets every op skip the read while none is open anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar, Token

Scope = tuple[str, ...]

# (ops record a graph, module scope path of new nodes)
MODE: ContextVar[tuple[bool, Scope | None]] = ContextVar("autograd_mode", default=(True, None))


class _Anywhere:
    """Whether any grad-mode or scope context is open, in any thread.

    ``open`` is a list with one entry per open context: append and pop are atomic under the
    GIL, so the count stays exact across threads without the cost of a lock, and ``if open:``
    is the cheapest test an op can make.
    """

    def __init__(self) -> None:
        self.open: list[None] = []

    def push(self, enabled: bool, scope: Scope | None) -> Token:
        self.open.append(None)
        return MODE.set((enabled, scope))

    def pop(self, token: Token) -> None:
        MODE.reset(token)
        self.open.pop()


ANYWHERE = _Anywhere()
_OPEN = ANYWHERE.open


class _GradMode(ContextDecorator):
    _mode: bool

    def _recreate_cm(self) -> _GradMode:
        # A decorated function gets a fresh context per call, so recursion and threads never
        # share the saved token.
        return type(self)()

    def __enter__(self) -> None:
        self._token = ANYWHERE.push(self._mode, MODE.get()[1])

    def __exit__(self, *exc: object) -> None:
        ANYWHERE.pop(self._token)


class no_grad(_GradMode):  # noqa: N801 - the name users know from PyTorch
    """Ops inside record nothing: results are plain leaves. Context manager or decorator."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block. Context manager or decorator."""

    _mode = True


def is_grad_enabled() -> bool:
    """True when ops record the graph here."""
    return MODE.get()[0]


def current_scope() -> Scope | None:
    """The module scope path new Values are tagged with here (None outside modules)."""
    return MODE.get()[1]


def enter_scope(name: str) -> Token:
    """Push ``name`` onto the scope path; pass the token to :func:`exit_scope`.

    ``nn.Module.__call__`` uses this pair (cheaper than a ``with`` block) so every Value made
    inside a neuron or a layer knows it, and the visualizer can collapse it into one box. Both
    do ANYWHERE.push/pop's work themselves: modules call them thousands of times a step.
    """
    enabled, outer = MODE.get()
    _OPEN.append(None)
    return MODE.set((enabled, (outer or ()) + (name,)))


def exit_scope(token: Token) -> None:
    """Undo the matching :func:`enter_scope`."""
    MODE.reset(token)
    _OPEN.pop()


@contextmanager
def scope(name: str) -> Iterator[Scope]:
    """Tag every Value made inside with the scope path, e.g. ``("MLP:", "Layer:layers.0")``."""
    token = enter_scope(name)
    try:
        yield MODE.get()[1] or ()
    finally:
        exit_scope(token)
