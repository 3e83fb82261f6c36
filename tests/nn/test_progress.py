"""fit's progress in each environment: terminal bar, quiet log lines, silence.

The notebook bars (widget, and text without ipywidgets) run in a real kernel in
tests/test_notebooks.py.
"""

import contextlib
import io
import os
import sys

import pytest

from nn import MLP, datasets, fit
from nn import progress as progress_module
from nn.progress import Bar, LogLines, Silent, in_notebook, progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def tiny_fit(epochs, progress=True):
    X, y = datasets.xor()
    return fit(MLP(3, [2, 1], seed=0), X, y, epochs=epochs, progress=progress)


def test_a_terminal_gets_the_tqdm_bar_on_stderr(monkeypatch):
    err, out = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdout", out)
    tiny_fit(3)
    shown = err.getvalue()
    assert "\r" in shown and "fit: 100%" in shown and "3/3" in shown and "mean loss=" in shown
    assert out.getvalue() == ""  # stdout stays for the program's own output


def test_progress_false_is_silent_everywhere(monkeypatch):
    for stream in (Terminal(), io.StringIO()):
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(sys, "stdout", stream)
        tiny_fit(3, progress=False)
        assert stream.getvalue() == ""


def test_a_log_gets_at_most_ten_whole_lines(monkeypatch):
    log = io.StringIO()  # not a TTY: CI, a file, a pipe
    monkeypatch.setattr(sys, "stderr", log)
    history = tiny_fit(200)
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 10
    assert [line.split()[2] for line in lines] == [f"{k}/200" for k in range(20, 201, 20)]
    assert lines[-1].startswith("fit: epoch 200/200 (100%)")
    assert f"mean loss {history.loss[-1]:.4g}" in lines[-1] and "accuracy" in lines[-1]


@pytest.mark.parametrize(
    "epochs, expected", [(1, [1]), (3, [1, 2, 3]), (15, [2, 3, 5, 6, 8, 9, 11, 12, 14, 15])]
)
def test_log_lines_fall_on_tenths(epochs, expected):
    log = io.StringIO()
    display = LogLines(epochs, "fit", log, interval=1e9)
    for epoch in range(epochs):
        display.update(epoch, {"loss": 0.5})
    assert [int(line.split()[2].split("/")[0]) for line in log.getvalue().splitlines()] == expected


def test_between_tenths_a_log_line_at_most_once_per_interval(monkeypatch):
    clock = iter(range(0, 10_000, 7))  # every epoch takes 7 seconds
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: float(next(clock)))
    log = io.StringIO()
    display = LogLines(1000, "fit", log, interval=60.0)
    for epoch in range(50):  # 350 s, all before the first tenth (epoch 100)
        display.update(epoch, {"loss": 0.5})
    lines = log.getvalue().splitlines()
    assert [int(line.split()[2].split("/")[0]) for line in lines] == [9, 18, 27, 36, 45]


def test_the_choice_of_display(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not in_notebook()  # pytest is no Jupyter kernel
    assert isinstance(progress(10, enabled=False), Silent)
    assert isinstance(progress(0), Silent)
    assert isinstance(progress(10).display, LogLines)
    monkeypatch.setattr(sys, "stderr", Terminal())
    bar = progress(10)
    assert isinstance(bar.display, Bar)
    bar.close()
    monkeypatch.setattr(sys, "stderr", None)  # pythonw: no stderr at all
    assert isinstance(progress(10), Silent)


# ---- output never stops training (#20.3) --------------------------------------------------------


class BrokenPipe(io.StringIO):
    """stderr piped into ``head``, which has exited: every write raises BrokenPipeError."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


class FullDisk(io.StringIO):
    """stderr redirected to a file on a full disk: the first writes work, then ENOSPC."""

    def __init__(self, room=40):
        super().__init__()
        self.room = room

    def write(self, text):
        if self.tell() + len(text) > self.room:
            raise OSError(28, "No space left on device")
        return super().write(text)


def _closed():
    stream = io.StringIO()
    stream.close()
    return stream


@pytest.mark.parametrize("make", [BrokenPipe, FullDisk, _closed], ids=["pipe", "full", "closed"])
@pytest.mark.parametrize("tty", [False, True], ids=["log", "terminal"])
def test_a_failing_stderr_never_stops_training(monkeypatch, make, tty):
    stream = make()
    if tty:
        stream.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", stream)
    quiet = tiny_fit(200, progress=False)
    history = tiny_fit(200)  # the display goes quiet; training finishes
    assert history.epochs == 200 and history.loss == quiet.loss


def test_a_full_disk_for_real(monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is Linux's")
    full = open("/dev/full", "w", buffering=1)  # noqa: SIM115 - its close fails too
    monkeypatch.setattr(sys, "stderr", full)
    try:
        assert tiny_fit(50).epochs == 50
    finally:
        monkeypatch.undo()
        with contextlib.suppress(OSError):
            full.close()


def test_the_programs_own_lines_come_before_the_progress_lines():
    # `make demo > log 2>&1`: stdout is block-buffered there, stderr is not; both to one file.
    import subprocess
    import tempfile

    script = (
        "from nn import MLP, datasets, fit\n"
        "print('== header ==')\n"
        "X, y = datasets.xor()\n"
        "fit(MLP(3, [2, 1], seed=0), X, y, epochs=20)\n"
        "print('== after ==')\n"
    )
    with tempfile.TemporaryFile("w+") as log:
        env = {**os.environ, "PYTHONUNBUFFERED": ""}
        env.pop("PYTHONUNBUFFERED")
        subprocess.run([sys.executable, "-c", script], stdout=log, stderr=log, check=True, env=env)
        log.seek(0)
        lines = log.read().splitlines()
    assert lines[0] == "== header ==" and lines[-1] == "== after ==", lines
    assert all(line.startswith("fit: epoch") for line in lines[1:-1]) and len(lines) == 12
