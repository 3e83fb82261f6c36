"""fit(live=True): nothing outside a notebook; in one, one figure updated in place (nn.live).

The real kernel runs in tests/test_notebooks.py (lesson 04, and the cost on the moons demo)."""

from __future__ import annotations

import io
import sys

import pytest

import nn.live
from nn import MLP, SGD, datasets, fit, hinge


def test_outside_a_notebook_live_does_nothing_and_prints_nothing(monkeypatch, capsys):
    X, y = datasets.xor()  # noqa: N806
    quiet = fit(MLP(3, [2, 1], seed=0), X, y, epochs=5, progress=False)
    live = fit(MLP(3, [2, 1], seed=0), X, y, epochs=5, progress=False, live=True)
    assert capsys.readouterr() == ("", "")
    assert live.loss == quiet.loss
    assert isinstance(nn.live.live_view(None, X, y, 5, enabled=True), nn.live.Off)


def test_in_a_notebook_one_figure_is_shown_then_updated(monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def display(obj, display_id=False):
        shown.append(("display", obj))
        return Handle()

    monkeypatch.setattr(nn.live, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    X, y = datasets.moons(40, noise=0.1, seed=0, signed=True)  # noqa: N806
    model = MLP(2, [8, 1], seed=0)
    made = []
    real = nn.live.live_view
    monkeypatch.setattr(
        "nn.train.live_view", lambda *a, **k: made.append(real(*a, **k)) or made[-1]
    )
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    fit(model, X, y, loss=hinge, optimizer=SGD(model, lr=0.3), epochs=30, live=True)
    (view,) = made
    assert [kind for kind, _ in shown][:1] == ["display"]
    assert all(kind == "update" for kind, _ in shown[1:])  # one figure, updated in place
    assert view.drawings == len(shown) >= 2  # the first epoch and the last at least
    assert all(obj.data[:8] == b"\x89PNG\r\n\x1a\n" for _, obj in shown)
