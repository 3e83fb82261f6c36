"""viz on odd numbers (#20.9): nan or inf targets, weights of 1e308, nan in X, fps out of range.
Each gives a clear error naming the call and the argument, or pictures of what is finite that
say what was left out."""

from __future__ import annotations

import math

import numpy as np
import pytest

import viz
from nn import MLP
from nn.train import History, Snapshot

pytest.importorskip("matplotlib")


def _model_and_history(scale: float = 1.0, snapshots: int = 3):
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    start = np.array([p.data for p in model.parameters()])
    history = History()
    for s in range(snapshots):
        params = tuple((start * (scale if s == snapshots - 1 else 1.0)).tolist())
        history.snapshots.append(Snapshot(s, params, 1.0 / (1 + s), {}))
    return model, history


def _data(n=30):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (n, 2))  # noqa: N806
    y = X[:, 0] * 2.0 + X[:, 1]
    return X, y


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_or_inf_regression_targets_draw_the_finite_ones(bad):
    model, history = _model_and_history()
    X, y = _data()  # noqa: N806
    y[3] = bad
    page = viz.training_html(model, history, X, y, resolution=20, neuron_resolution=6)
    assert "NaN" not in page.html.split("<script")[0]  # no nan attribute in the drawing
    assert "1 target that is not a finite number is not drawn" in page.html
    gif = viz.training_animation(model, history, X, y, resolution=20)
    assert gif.frames == 3


def test_weights_of_1e308_still_draw():
    model, history = _model_and_history(scale=1e308)
    X, y = _data()  # noqa: N806
    page = viz.training_html(model, history, X, np.sign(y), resolution=20, neuron_resolution=6)
    assert page.html.startswith("<!DOCTYPE html>")
    viz.training_animation(model, history, X, np.sign(y), resolution=20)


def test_nan_in_x_draws_the_finite_rows_and_says_so():
    model, history = _model_and_history()
    X, y = _data()  # noqa: N806
    X[5, 1] = math.nan
    X[7, 0] = math.inf
    y = np.sign(y)
    gif = viz.training_animation(model, history, X, y, resolution=20)
    assert gif.frames == 3
    page = viz.training_html(model, history, X, y, resolution=20, neuron_resolution=6)
    assert (
        'cx="nan"' not in page.html.lower()
        and "2 rows of X with nan or inf are not drawn" in page.html
    )
    fig = viz.plot_decision_boundary(model, X, y, resolution=20)
    assert "2 rows with nan/inf not drawn" in fig.axes[0].get_title()


@pytest.mark.parametrize("fps", [1e-9, 0.0, -1.0, math.inf, math.nan, 1e9, "fast"])
def test_fps_out_of_range_is_a_clear_error(fps):
    model, history = _model_and_history()
    X, y = _data()  # noqa: N806
    with pytest.raises(
        ValueError, match=r"training_animation: fps must be a number from 0.01 to 100"
    ):
        viz.training_animation(model, history, X, np.sign(y), fps=fps, resolution=20)
