"""plot_loss and plot_decision_boundary: files that decode, the right model path, clear errors."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pytest

import viz
from autograd import Value
from autograd.grad_mode import is_grad_enabled
from viz.plots import class_index, classify

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
    out = viz.plot_loss(history, tmp_path / "loss.png")
    assert out == str(tmp_path / "loss.png")
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
    fast = viz.plots._predict_grid(mlp, X)

    class OnlyCallable:
        def __call__(self, x):
            return mlp(x)

    slow = viz.plots._predict_grid(OnlyCallable(), X)
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


def test_classify_thresholds_probabilities_at_half_and_scores_at_zero():
    probs = np.array([[0.2], [0.7], [0.5]])
    classes, column, threshold = classify(probs)
    assert threshold == 0.5 and classes.tolist() == [0, 1, 0] and column is not None
    classes, _, threshold = classify(np.array([[-0.3], [0.2], [1.7]]))
    assert threshold == 0.0 and classes.tolist() == [0, 1, 1]
    classes, column, threshold = classify(np.array([[0.1, 0.9, 0.0], [2.0, 1.0, 3.0]]))
    assert classes.tolist() == [1, 2] and column is None and threshold is None
    assert class_index([-1, 1, 1]).tolist() == [0, 1, 1]
    assert class_index([0, 2, 1]).tolist() == [0, 2, 1]


def test_missing_matplotlib_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'scalar-autograd\[plot\]'"):
        viz.plot_loss([1.0, 0.5], tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()
