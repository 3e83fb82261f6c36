"""plot_loss and plot_decision_boundary: files that decode, the right model path, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

import pytest

import viz
from autograd import Value
from autograd.grad_mode import is_grad_enabled
from nn.outputs import predict_points

np = pytest.importorskip("numpy")
pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


def _decodes(path) -> tuple[int, int]:
    with Image.open(path) as im:
        im.load()
        grey = np.asarray(im.convert("L"))
    assert (grey < 100).sum() > 500, "axes, text and data should be drawn"
    return im.size


@dataclass
class History:
    loss: list[float]
    metrics: dict[str, list[float]] = field(default_factory=dict)


@pytest.mark.parametrize(
    "history",
    [
        History([1.0, 0.5, 0.2, 0.1], {"accuracy": [0.5, 0.7, 0.9, 1.0]}),
        History([3.0, 1.0, 0.01, 1e-4]),  # spans decades: log scale
        [0.9, 0.8, 0.85, 0.4],
        {"loss": [2.0, 1.0], "accuracy": [0.5, 1.0]},
    ],
)
def test_plot_loss_accepts_histories_and_plain_lists(tmp_path, history):
    out = viz.plot_loss(history, tmp_path / "loss.png")  # the path positionally, as before
    assert os.fspath(out) == out.path == str(tmp_path / "loss.png")
    w, h = _decodes(out)
    assert 600 < w < 2400 and 300 < h < 1000


def test_plot_loss_writes_svg_by_extension_and_refuses_empty(tmp_path):
    viz.plot_loss([1.0, 0.5], tmp_path / "loss.svg")
    assert "<svg" in (tmp_path / "loss.svg").read_text()
    with pytest.raises(ValueError, match="no loss"):
        viz.plot_loss([], tmp_path / "empty.png")


def _blobs(n: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, np.where(X[:, 0] + X[:, 1] > 0, 1, -1)


class PerPoint:
    """A model only callable on one point of Values: tanh(x0 + x1), a ±1 score."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x):
        assert not is_grad_enabled(), "the grid must be evaluated under no_grad"
        self.calls += 1
        a, b = (Value(v) if not isinstance(v, Value) else v for v in x)
        return (a + b).tanh()


class Vectorised(PerPoint):
    """The same model with a batch forward; the per-point path must not be taken."""

    def __call__(self, x):
        raise AssertionError("predict_numpy should have been used")

    def predict_numpy(self, X):  # noqa: N803
        self.calls += 1
        return np.tanh(X.sum(axis=1, keepdims=True))


def test_decision_boundary_per_point_under_no_grad(tmp_path):
    X, y = _blobs()
    model = PerPoint()
    out = viz.plot_decision_boundary(model, X, y, tmp_path / "db.png", resolution=30)
    assert model.calls == 30 * 30 + len(X)
    _decodes(out)


def test_decision_boundary_uses_predict_numpy_when_there(tmp_path):
    X, y = _blobs()
    model = Vectorised()
    viz.plot_decision_boundary(model, X, y, tmp_path / "db.png")
    assert model.calls == 2  # one call for the grid, one for the data


def test_decision_boundary_many_classes_by_argmax(tmp_path):
    rng = np.random.default_rng(1)
    W = np.array([[1.0, 0.0], [-0.5, 0.9], [-0.5, -0.9]])

    class Linear3:
        def predict_numpy(self, X):  # noqa: N803
            return X @ W.T

    X = rng.normal(size=(90, 2))
    y = (X @ W.T).argmax(axis=1)
    _decodes(viz.plot_decision_boundary(Linear3(), X, y, tmp_path / "db3.png"))
    one_hot = np.eye(3)[y]
    _decodes(viz.plot_decision_boundary(Linear3(), X, one_hot, tmp_path / "db3b.png"))


def test_an_nn_mlp_plots_the_same_either_way(tmp_path):
    nn = pytest.importorskip("nn")
    mlp = nn.MLP(2, [6, 1], activation="tanh", output_activation="tanh", seed=0)
    X, y = _blobs(40)
    fast = predict_points(mlp, X)

    class OnlyCallable:
        def __call__(self, x):
            return mlp(x)

    slow = predict_points(OnlyCallable(), X)
    assert fast.shape == slow.shape == (40, 1)
    assert np.allclose(fast, slow, atol=1e-12)
    _decodes(viz.plot_decision_boundary(mlp, X, y, tmp_path / "mlp.png", resolution=40))
    assert all(p.grad == 0.0 for p in mlp.parameters())


def test_decision_boundary_rejects_wrong_shapes_and_labels(tmp_path):
    X, y = _blobs()
    with pytest.raises(ValueError, match="2 columns"):
        viz.plot_decision_boundary(Vectorised(), np.c_[X, X], y, tmp_path / "x.png")
    with pytest.raises(ValueError, match="class indices"):
        viz.plot_decision_boundary(Vectorised(), X, y * 0.5, tmp_path / "x.png")


def test_missing_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    viz.plots.figure_class.cache_clear()  # as in a process where matplotlib never loaded
    try:
        with pytest.raises(ImportError, match=r"pip install 'scalar-autograd\[plot\]'"):
            viz.plot_loss([1.0, 0.5], tmp_path / "loss.png")
    finally:
        viz.plots.figure_class.cache_clear()
    assert not (tmp_path / "loss.png").exists()


# ---- figures are objects; pyplot is never touched -----------------------------------------------


def test_plots_return_figures_that_show_inline_and_write_only_when_asked(tmp_path):
    from matplotlib.figure import Figure

    X, y = _blobs()
    for fig in (viz.plot_loss([1.0, 0.5, 0.2]), viz.plot_decision_boundary(Vectorised(), X, y)):
        assert isinstance(fig, Figure) and fig.path is None
        png = fig._repr_png_()  # what a notebook shows as the cell's value
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        with pytest.raises(TypeError, match="not written to a file"):
            os.fspath(fig)
    assert list(tmp_path.iterdir()) == []
    fig = viz.plot_decision_boundary(Vectorised(), X, y, path=tmp_path / "db.svg")
    assert fig.path == str(tmp_path / "db.svg") and "<svg" in (tmp_path / "db.svg").read_text()
    again = fig.save(tmp_path / "db.png")
    assert again is fig and os.fspath(fig) == str(tmp_path / "db.png")
    _decodes(tmp_path / "db.png")


def test_the_learners_pyplot_backend_and_figures_are_untouched(tmp_path):
    # In a fresh process, as in a notebook: the learner picked a backend and has a figure open.
    script = textwrap.dedent(
        """
        import matplotlib
        matplotlib.use("svg")
        import matplotlib.pyplot as plt
        import numpy as np
        import viz

        mine = plt.figure()
        plt.plot([1, 2, 3])
        before = (matplotlib.get_backend(), plt.get_fignums(), dict(matplotlib.rcParams))
        calls = []
        matplotlib.use = lambda *a, **k: calls.append(a)  # viz must never switch backends
        X = np.random.default_rng(0).normal(size=(30, 2))

        class Model:
            def predict_numpy(self, X):
                return X.sum(axis=1, keepdims=True)

        figs = [viz.plot_loss([1.0, 0.5], "loss.png"),
                viz.plot_decision_boundary(Model(), X, np.sign(X.sum(axis=1)), "db.png")]
        after = (matplotlib.get_backend(), plt.get_fignums(), dict(matplotlib.rcParams))
        assert after == before, (before[:2], after[:2])
        assert calls == [] and plt.gcf() is mine
        assert all(f not in [plt.figure(n) for n in plt.get_fignums()] for f in figs)
        print("untouched")
        """
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root, "MPLBACKEND": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "untouched", done.stderr
    assert (tmp_path / "loss.png").exists() and (tmp_path / "db.png").exists()


def test_boundaries_are_interpolated_curves_not_the_grids_staircase():
    # A circle on a coarse grid: the regions' edges lie on it (interpolated between grid
    # points), not on the grid's half-way staircase around it.
    from matplotlib.contour import ContourSet

    class Circle:
        def predict_numpy(self, X):  # noqa: N803
            return 1.0 - (X**2).sum(axis=1, keepdims=True)

    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(80, 2))
    y = np.where((X**2).sum(axis=1) < 1, 1, -1)
    fig = viz.plot_decision_boundary(Circle(), X, y, resolution=40)
    fills = [c for c in fig.axes[0].collections if isinstance(c, ContourSet) and c.filled]
    points = np.concatenate([p.vertices for c in fills for p in c.get_paths() if len(p.vertices)])
    radius = np.hypot(points[:, 0], points[:, 1])
    edge = radius[radius < 1.5]  # the plot's outer frame is at about 2.2
    assert len(edge) > 50 and np.abs(edge - 1.0).max() < 0.01, np.abs(edge - 1.0).max()


def test_confusion_counts_every_pair_and_writes_only_when_asked(tmp_path):
    fig = viz.plot_confusion([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], title="t")
    assert fig.path is None and fig._repr_png_().startswith(b"\x89PNG")
    image = fig.axes[0].images[0].get_array()
    assert image.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]  # rows: true, columns: predicted
    assert [t.get_text() for t in fig.axes[0].texts] == ["1", "1", "1", "1", "2"]
    out = viz.plot_confusion([0, 1], [1, 1], tmp_path / "c.png", classes=3)
    assert (
        out.path == str(tmp_path / "c.png") and (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    )
    assert out.axes[0].images[0].get_array().shape == (3, 3)
    with pytest.raises(ValueError, match="plot_confusion: pred and target must be equal-length"):
        viz.plot_confusion([0, 1], [1])
