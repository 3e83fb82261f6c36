"""Whether ops record a graph, and in which module scope new nodes are made.

Both live in one context variable, ``GRAD_STATE`` (per thread, and per asyncio task), so
``no_grad`` in one thread never changes what another records. Reading it costs more than a
plain attribute, so ``OPEN_CONTEXTS``, a global count of open contexts, lets every op skip the
read while none is open anywhere.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import ContextDecorator, contextmanager
from contextvars import ContextVar, Token
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
Scope = tuple[str, ...]
State = tuple[bool, Scope | None]

# (ops record a graph, module scope path of new nodes)
GRAD_STATE: ContextVar[State] = ContextVar("autograd_grad_state", default=(True, None))

# One entry per open grad-mode or scope context, in any thread: append and pop are atomic under
# the GIL, so the count stays exact across threads without a lock, and ``if OPEN_CONTEXTS:``
# is the cheapest test an op can make.
OPEN_CONTEXTS: list[None] = []


def push_state(enabled: bool, scope: Scope | None) -> Token[State]:
    """Make ``(enabled, scope)`` the state here; undo it with :func:`pop_state`."""
    OPEN_CONTEXTS.append(None)
    return GRAD_STATE.set((enabled, scope))


def pop_state(token: Token[State], previous: State | None = None) -> None:
    """Undo the matching :func:`push_state`. A token from another context (a context manager
    shared across asyncio tasks) cannot be reset; then ``previous`` is put back instead."""
    try:
        GRAD_STATE.reset(token)
    except ValueError:
        if previous is None:
            raise
        GRAD_STATE.set(previous)
    finally:
        OPEN_CONTEXTS.pop()


class _GradMode(ContextDecorator):
    """``with no_grad():`` / ``@no_grad()``. One object may be entered again while it is open
    (nested) and reused afterwards; each thread keeps its own stack of what to restore."""

    _mode: bool

    def __init__(self) -> None:
        self._local = threading.local()

    def _recreate_cm(self) -> _GradMode:
        # A decorated function gets a fresh context per call, so recursion and threads never
        # share what is to be restored.
        return type(self)()

    def __enter__(self) -> None:
        stack = self._local.__dict__.setdefault("stack", [])
        previous = GRAD_STATE.get()
        stack.append((push_state(self._mode, previous[1]), previous))

    def __exit__(self, *exc: object) -> None:
        token, previous = self._local.stack.pop()
        pop_state(token, previous)


class no_grad(_GradMode):  # noqa: N801 - the name users know from PyTorch
    """Ops inside record nothing: results are plain leaves. Context manager or decorator;
    reentrant and reusable."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block. Context manager or decorator."""

    _mode = True


def is_grad_enabled() -> bool:
    """True when ops record the graph here."""
    return GRAD_STATE.get()[0]


def current_scope() -> Scope | None:
    """The module scope path new Values are tagged with here (None outside modules)."""
    return GRAD_STATE.get()[1]


def enter_scope(name: str) -> Token[State]:
    """Push ``name`` onto the scope path; pass the token to :func:`exit_scope`.

    ``nn.Module.__call__`` uses this pair (cheaper than a ``with`` block) so every Value made
    inside a neuron or a layer knows it, and the visualizer can collapse it into one box. Both
    do push_state/pop_state's work themselves: modules call them thousands of times a step.
    """
    enabled, outer = GRAD_STATE.get()
    OPEN_CONTEXTS.append(None)
    return GRAD_STATE.set((enabled, (outer or ()) + (name,)))


def exit_scope(token: Token[State]) -> None:
    """Undo the matching :func:`enter_scope`."""
    try:
        GRAD_STATE.reset(token)
    finally:
        OPEN_CONTEXTS.pop()


@contextmanager
def scope(name: str) -> Iterator[Scope]:
    """Tag every Value made inside with the scope path, e.g. ``("MLP:", "Layer:layers.0")``."""
    token = enter_scope(name)
    try:
        yield GRAD_STATE.get()[1] or ()
    finally:
        exit_scope(token)


def restores_grad_mode(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``fn`` so the grad mode is, when it returns or raises, what it was when called.

    A ``with no_grad():`` block restores the mode in ``__exit__``; a KeyboardInterrupt that
    lands as ``__exit__`` starts (CPython raises it where a function starts) skips that, and
    every op after it would record nothing. ``nn.fit`` runs under this, so a Ctrl-C anywhere in
    it never leaves recording switched off.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        state = GRAD_STATE.get()
        try:
            return fn(*args, **kwargs)
        finally:
            GRAD_STATE.set(state)

    return wrapper
