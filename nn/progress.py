"""How ``fit`` shows its progress, wherever it runs.

- In a Jupyter kernel (notebook, JupyterLab, VS Code, Colab): tqdm's notebook bar, a widget,
  when ipywidgets is installed; tqdm's text bar in the cell's output otherwise. This is the
  choice ``tqdm.auto`` makes, made at each ``fit`` (not once at import) and without the warning
  ``tqdm.auto`` prints when ipywidgets is missing.
- In a terminal (stderr is a TTY): tqdm's usual bar on stderr, redrawn in place.
- Anywhere else (CI, a pipe, a file): plain lines on stderr, one at every tenth of the epochs
  and, in between, at most one every ``LOG_INTERVAL`` seconds; a fit of any length writes at
  most 10 lines plus one a minute.

Every display shows the epoch's loss (the mean over the epoch's batches, as ``History.loss``)
and metrics. ``fit(progress=False)`` shows nothing.

Output never stops training: when the stream fails (a pipe whose reader has gone, as in
``python train.py 2>&1 | head``; a full disk; a closed or missing ``sys.stderr``), the display
goes quiet and ``fit`` carries on. Before each line it writes, the display flushes stdout, so a
program's own prints and the progress lines reach one log file in the order they happened.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from typing import Any, Protocol, TextIO

LOG_INTERVAL = 60.0  # seconds between two log lines that fall between tenths


class Progress(Protocol):
    """What ``fit`` tells a display: one call per finished epoch, then ``close``."""

    def update(self, epoch: int, shown: Mapping[str, float]) -> None: ...

    def close(self) -> None: ...


def progress(epochs: int, enabled: bool = True, desc: str = "fit") -> Progress:
    """The display for a run of ``epochs`` epochs in this environment (see the module doc)."""
    if not enabled or epochs < 1:
        return Silent()
    try:
        if in_notebook():
            return Guarded(NotebookBar(epochs, desc))
        if sys.stderr is None:  # pythonw, a service: nowhere to write
            return Silent()
        if _isatty(sys.stderr):
            from tqdm.std import tqdm

            return Guarded(Bar(tqdm, epochs, desc, sys.stderr))
        return Guarded(LogLines(epochs, desc, sys.stderr))
    except _DISPLAY_ERRORS:  # the stream failed at the first write: train without a display
        return Silent()


# What a failing stream raises: OSError (EPIPE, ENOSPC, EIO), ValueError (a closed file),
# AttributeError or TypeError (sys.stderr replaced by something that is not a stream).
_DISPLAY_ERRORS = (OSError, ValueError, AttributeError, TypeError)


def flush_stdout() -> None:
    """Flush what the program printed so far, so it comes before the next progress line."""
    with contextlib.suppress(_DISPLAY_ERRORS):
        sys.stdout.flush()


class Guarded:
    """A display whose failures never reach ``fit``: the first error makes it quiet."""

    def __init__(self, display: Progress) -> None:
        self.display: Progress | None = display

    def update(self, epoch: int, shown: Mapping[str, float]) -> None:
        if self.display is None:
            return
        try:
            self.display.update(epoch, shown)
        except _DISPLAY_ERRORS:
            self._quiet()

    def close(self) -> None:
        if self.display is None:
            return
        with contextlib.suppress(_DISPLAY_ERRORS):
            self.display.close()
        self.display = None

    def _quiet(self) -> None:
        display, self.display = self.display, None
        bar = getattr(display, "bar", None)
        if bar is not None:
            bar.disable = True  # tqdm writes nothing more, not even at exit


def in_notebook() -> bool:
    """True inside a Jupyter kernel whose front end draws HTML (not a Qt console or Spyder)."""
    zmqshell = sys.modules.get("ipykernel.zmqshell")
    if zmqshell is None:
        return False
    if any(k == "QT_API" or k.startswith("SPYDER") for k in os.environ):
        return False
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return isinstance(shell, zmqshell.ZMQInteractiveShell)


def _notebook_tqdm() -> Any:
    """tqdm's widget bar if ipywidgets imports, else its text bar."""
    import tqdm.notebook

    if tqdm.notebook.IProgress is None:
        from tqdm.std import tqdm as text_bar

        return text_bar
    return tqdm.notebook.tqdm


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


# fit's "loss" is the mean of the epoch's batch losses, taken while it trained: the display says
# so, as every picture says which loss it shows (the pictures quote the loss after the epoch).
NAMES = {"loss": "mean loss"}


def _named(shown: Mapping[str, float]) -> dict[str, float]:
    return {NAMES.get(k, k): v for k, v in shown.items()}


def _postfix(shown: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in _named(shown).items())


class Silent:
    """``progress=False``: shows nothing."""

    def update(self, epoch: int, shown: Mapping[str, float]) -> None:
        pass

    def close(self) -> None:
        pass


class Bar:
    """A tqdm bar (terminal, notebook widget or notebook text), one step per epoch."""

    def __init__(self, tqdm_class: Any, epochs: int, desc: str, file: TextIO) -> None:
        flush_stdout()
        self.bar = tqdm_class(total=epochs, desc=desc, unit="epoch", file=file)

    def update(self, epoch: int, shown: Mapping[str, float]) -> None:
        flush_stdout()
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in _named(shown).items()}, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class NotebookBar(Bar):
    """tqdm's bar in a notebook cell (a widget, or text without ipywidgets). The widget is shown
    with a display id and shown again when the bar closes, so the text a notebook keeps for
    viewers without widgets (a code host's preview) reads the end, "100%", not "0%"."""

    def __init__(self, epochs: int, desc: str) -> None:
        bar_class = _notebook_tqdm()
        self.handle = None
        if bar_class.__module__ == "tqdm.notebook":
            from IPython.display import display

            self.bar = bar_class(total=epochs, desc=desc, unit="epoch", display=False)
            self.handle = display(self.bar.container, display_id=True)
        else:
            super().__init__(bar_class, epochs, desc, sys.stdout)

    def close(self) -> None:
        self.bar.close()
        if self.handle is not None:
            self.handle.update(self.bar.container)


class LogLines:
    """A few whole lines for a log that is read later: every tenth of the run, and between
    tenths at most one per ``interval`` seconds, so a long fit cannot flood it."""

    def __init__(
        self, epochs: int, desc: str, file: TextIO, interval: float = LOG_INTERVAL
    ) -> None:
        self.epochs, self.desc, self.file, self.interval = epochs, desc, file, interval
        self.start = self.last = time.monotonic()
        self.next_tenth = 1

    def update(self, epoch: int, shown: Mapping[str, float]) -> None:
        done, now = epoch + 1, time.monotonic()
        tenth_reached = done * 10 >= self.next_tenth * self.epochs
        if not tenth_reached and now - self.last < self.interval:
            return
        while self.next_tenth * self.epochs <= done * 10:
            self.next_tenth += 1
        self.last = now
        width = len(str(self.epochs))
        flush_stdout()
        print(
            f"{self.desc}: epoch {done:>{width}}/{self.epochs} ({100 * done // self.epochs:>3}%) "
            f"{now - self.start:7.1f} s  {_postfix(shown)}",
            file=self.file,
            flush=True,
        )

    def close(self) -> None:
        pass
