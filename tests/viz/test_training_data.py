"""The numbers the training page and animation draw: computed from recorded parameters with
numpy, equal to the model's own forward pass, and never touching the model."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from nn import MLP, SGD, Adam, cross_entropy, datasets, fit, hinge, mse
from nn.outputs import Plane
from nn.train import History, Snapshot
from viz.training_data import (
    compute_frames,
    forward,
    layers_at,
    level_lines,
    network,
    neuron_shade,
    plane_colours,
    read_outputs,
)
from viz.training_svg import nice_ticks


def _regression_set():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 2)).tolist()  # noqa: N806
    return X, [math.sin(2 * a) + b * b for a, b in X]


# name -> (data, model, loss, optimizer, learning rate, fit's other arguments)
CASES = {
    "moons": (  # two classes, labels ±1, linear output, hinge loss
        lambda: datasets.moons(40, noise=0.1, seed=3, signed=True),
        lambda: MLP(2, [6, 6, 1], activation="relu", seed=3),
        *(hinge, SGD, 0.3, {}),
    ),
    "spirals": (  # three classes, argmax
        lambda: datasets.spirals(45, classes=3, seed=1),
        lambda: MLP(2, [8, 8, 3], activation="tanh", seed=1),
        *(cross_entropy, Adam, 0.05, {"batch_size": 15}),
    ),
    "sigmoid": (  # two classes, labels 0/1, probabilities
        lambda: datasets.circles(40, noise=0.05, seed=2),
        lambda: MLP(2, [6, 1], activation="tanh", output_activation="sigmoid", seed=2),
        *(mse, SGD, 0.5, {}),
    ),
    "regression": (  # one output, real targets
        _regression_set,
        lambda: MLP(2, [8, 1], activation="tanh", seed=0),
        *(mse, SGD, 0.1, {}),
    ),
    "wide": (  # five inputs: no plane
        lambda: datasets.blobs(40, centers=2, dim=5, seed=4),
        lambda: MLP(5, [4, 1], activation="relu", output_activation="sigmoid", seed=4),
        *(mse, SGD, 0.5, {}),
    ),
}


@functools.cache
def trained(kind: str = "moons", epochs: int = 12, record: int = 1):
    """A network of ``CASES`` trained with snapshots: (model, history, X, y). Cached: nothing
    here changes the model, and tests that check that build their own."""
    data, make, loss, optimizer, lr, extra = CASES[kind]
    X, y = data()  # noqa: N806
    model = make()
    history = fit(
        model, X, y, loss=loss, optimizer=optimizer(model, lr=lr), epochs=epochs, record=record,
        progress=False, **extra,
    )  # fmt: skip
    return model, history, X, y


def drifting(sizes=(2, 16, 16, 1), snapshots=101, seed=0):
    """A model and a History of parameters that wander like training does, without training:
    for size tests that need many snapshots of a big network quickly."""
    rng = np.random.default_rng(seed)
    X, y = datasets.moons(100, noise=0.1, seed=seed, signed=True)  # noqa: N806
    model = MLP(sizes[0], list(sizes[1:]), activation="relu", seed=seed)
    start = np.array([p.data for p in model.parameters()])
    walk = np.cumsum(rng.normal(0, 0.03, (snapshots, len(start))), axis=0)
    history = History()
    for s in range(snapshots):
        params = start + walk[s]
        history.snapshots.append(
            Snapshot(
                s, tuple(params.tolist()), 1.0 / (1 + s), {"accuracy": min(1.0, 0.5 + s / 100)}
            )
        )
    return model, history, X, y


ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "softplus", None]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_forward_on_recorded_parameters_is_the_models_forward(activation, bias):
    model = MLP(
        3,
        [5, 4, 2],
        activation=activation,
        output_activation="tanh",
        bias=bias,
        seed=7,
        leaky_slope=0.2,
    )
    X = np.random.default_rng(1).normal(size=(30, 3))  # noqa: N806
    net = network(model)
    params = [p.data for p in model.parameters()]
    for (w, b), (mw, mb, _) in zip(layers_at(net, params), model.to_numpy()):
        assert np.array_equal(w, mw) and np.array_equal(b, mb)
    outs = forward(net, params, X)
    assert [o.shape for o in outs] == [(30, 5), (30, 4), (30, 2)]
    assert np.allclose(outs[-1], model.predict_numpy(X), rtol=0, atol=1e-12)


def test_every_snapshot_is_the_model_loaded_with_its_parameters():
    model, history, X, _ = trained("spirals")
    net = network(model)
    copy = MLP(2, [8, 8, 3], activation="tanh")
    for snap in history.snapshots[::4]:
        for p, v in zip(copy.parameters(), snap.parameters):
            p.data = v
        assert np.allclose(
            forward(net, snap.parameters, np.array(X))[-1],
            copy.predict_numpy(X),
            rtol=0,
            atol=1e-12,
        )


def test_the_network_names_every_weight_and_bias_by_its_parameter():
    model = MLP(2, [3, 1], seed=0)
    net = network(model)
    assert net.sizes == (2, 3, 1) and net.activations == ("relu", None)
    assert net.n_weights == 2 * 3 + 3 * 1
    names = [n for n, _ in model.named_parameters()]
    assert list(net.names) == names
    assert names[net.weight_index[0][1][0]] == "layers.0.neurons.1.w.0"
    assert names[net.bias_index[1][0]] == "layers.1.neurons.0.b"
    no_bias = network(MLP(2, [3, 1], bias=False, seed=0))
    assert (no_bias.bias_index[0] == -1).all()


@pytest.mark.parametrize(
    "model, error",
    [
        (object(), "needs a fully connected model"),
        (MLP(2, [3, 1], seed=0).layers[0].neurons[0], "needs a fully connected model"),
    ],
)
def test_models_that_are_not_layers_of_neurons_are_refused(model, error):
    with pytest.raises(TypeError, match=error):
        network(model)


def test_computing_the_frames_changes_nothing():
    model, history, X, y = trained("moons", epochs=4)
    fresh = MLP(2, [6, 6, 1], activation="relu", seed=3)
    for p, q in zip(fresh.parameters(), model.parameters()):
        p.data, p.grad = q.data, 0.25
    before = [(p.data, p.grad, p.label) for p in fresh.parameters()]
    snaps = list(history.snapshots)
    compute_frames(fresh, history, X, y)
    assert [(p.data, p.grad, p.label) for p in fresh.parameters()] == before
    assert history.snapshots == snaps


# ---- reading the output -------------------------------------------------------------------------
def col(*values):
    return [np.array(values, dtype=float)[:, None]]


@pytest.mark.parametrize(
    "y, outputs, n_out, kind, threshold",
    [
        ([-1, 1, 1], col(-0.7, 0.2, 3.0), 1, "binary", 0.0),  # ±1 labels, scores
        ([0, 1, 1], col(0.1, 0.7, 0.9), 1, "binary", 0.5),  # 0/1 labels, probabilities
        ([0, 1, 1], col(-2.0, 0.7, 1.9), 1, "binary", 0.0),  # 0/1 labels, logits
        ([0.3, 1.7, -2.5], col(0.0, 1.0, -2.0), 1, "regression", None),
        ([0, 2, 1], [np.zeros((3, 3))], 3, "classes", None),
        ([[1, 0, 0], [0, 0, 1], [0, 1, 0]], [np.zeros((3, 3))], 3, "classes", None),
    ],
)
def test_outputs_are_read_as_classify_reads_them(y, outputs, n_out, kind, threshold):
    reading = read_outputs(y, outputs, n_out)
    assert (reading.kind, reading.threshold) == (kind, threshold)
    if kind == "classes":
        assert reading.truth.tolist() == [0, 2, 1] and reading.n_classes == 3


def test_the_threshold_is_decided_once_over_every_snapshot():
    # Probabilities at one snapshot, a negative score at another: one rule for all frames.
    assert read_outputs([0, 1], col(0.2, 0.9) + col(-0.1, 0.9), 1).threshold == 0.0
    assert read_outputs([0, 1], col(-3.0, 4.0), 1, threshold=0.5).threshold == 0.5


def test_several_outputs_need_class_labels():
    with pytest.raises(ValueError, match="several outputs need class labels"):
        read_outputs([0.5, 1.5], [np.zeros((2, 2))], 2)


def test_shades_cover_the_colour_table():
    binary = read_outputs([-1, 1], col(-1, 1), 1)
    assert binary.shade(np.array([[-50.0], [0.0], [50.0]])).tolist() == [0, 128, 255]
    prob = read_outputs([0, 1], col(0.0, 1.0), 1)
    assert prob.shade(np.array([[0.0], [0.5], [1.0]])).tolist() == [0, 128, 255]
    classes = read_outputs([0, 1, 2], [np.zeros((3, 3))], 3)
    levels = 256 // 3
    sure = classes.shade(np.array([[9.0, 0, 0], [0, 0, 9.0], [0, 0, 0]]))
    assert sure[0] == levels - 1 and sure[1] == 3 * levels - 1 and sure[2] == 0
    reg = read_outputs([0.0, 2.0], col(0.0, 2.0), 1)
    assert reg.shade(np.array([[-1.0], [1.0], [5.0]])).tolist() == [0, 128, 255]
    for r in (binary, classes, reg):
        assert plane_colours(r).shape == (256, 3)


@pytest.mark.parametrize(
    "activation, values, expected",
    [
        ("tanh", [-1.0, 0.0, 1.0], [0, 128, 255]),
        ("sigmoid", [0.0, 0.5, 1.0], [0, 128, 255]),
        ("relu", [0.0, 1.0, 4.0], [128, 159, 255]),  # scaled by the largest |a|
        (None, [-2.0, 0.0, 1.0], [0, 128, 191]),
    ],
)
def test_neuron_maps_are_scaled_for_their_activation(activation, values, expected):
    shade, lo, hi = neuron_shade(activation, np.array(values))
    assert shade.tolist() == expected
    assert (lo, hi) == (min(values), max(values))


# ---- the plane and its boundary -----------------------------------------------------------------
def test_the_plane_samples_pixel_centres_from_the_top_row():
    plane = Plane((0.0, 0.0), (4.0, 2.0), 4)
    pts = plane.points()
    assert pts[0].tolist() == [0.5, 1.75] and pts[3].tolist() == [3.5, 1.75]
    assert pts[-1].tolist() == [3.5, 0.25]
    assert plane.to_unit(np.array([[0.0, 2.0], [4.0, 0.0]])).tolist() == [[0, 0], [1, 1]]


def test_a_circle_is_one_closed_line_on_the_circle():
    n = 60
    x = np.linspace(-1, 1, n)
    field = np.add.outer(x**2, x**2) - 0.5  # zero on the circle of radius sqrt(0.5)
    lines = level_lines(field)
    assert len(lines) == 1
    line = lines[0]
    assert np.array_equal(line[0], line[-1])  # closed
    xy = -1 + line * (2 / (n - 1))  # (column, row) back to coordinates
    assert np.allclose(np.hypot(xy[:, 0], xy[:, 1]), math.sqrt(0.5), atol=2e-3)


def test_a_line_ends_at_the_border_and_exact_zeros_are_placed():
    field = np.tile(np.array([-2.0, -1.0, 1.0, 3.0]), (3, 1))  # crosses between columns 1 and 2
    (line,) = level_lines(field)
    assert sorted(line[:, 1].tolist()) == [0.0, 1.0, 2.0]
    assert np.allclose(line[:, 0], 1.5)
    assert level_lines(np.ones((5, 5))) == [] and level_lines(np.ones((1, 5))) == []


def test_a_saddle_gives_two_lines():
    field = np.array([[1.0, -1.0], [-1.0, 1.0]])
    assert len(level_lines(field)) == 2
    assert len(level_lines(np.kron(field, np.ones((3, 3))))) == 2


def test_frames_mark_the_misclassified_points_and_the_boundary():
    model, history, X, y = trained("moons")
    frames = compute_frames(model, history, X, y, resolution=40, neuron_resolution=8)
    assert frames.reading.kind == "binary" and frames.reading.signed
    n = len(history.snapshots)
    assert len(frames.plane_shade) == len(frames.boundaries) == len(frames.wrong) == n
    for snap, wrong in zip(history.snapshots, frames.wrong):
        # hinge on ±1 labels: fit's accuracy splits at 0, as the page does
        assert 1 - len(wrong) / len(X) == pytest.approx(snap.metrics["accuracy"])
    assert all(p.min() >= 0 and p.max() <= 1 for lines in frames.boundaries for p in lines)
    assert [len(s) for s in frames.neuron_shade] == [n, n, n]
    assert frames.neuron_shade[0][0].shape == (6, 64)
    assert frames.neuron_range[1][0].shape == (6, 2)


def test_several_classes_have_a_boundary_per_class_pair():
    model, history, X, y = trained("spirals")
    frames = compute_frames(model, history, X, y, resolution=50, neuron_resolution=8)
    assert frames.reading.kind == "classes" and frames.reading.n_classes == 3
    assert frames.boundaries[-1]  # three regions: lines between them
    right = 1 - len(frames.wrong[-1]) / len(X)
    assert right == pytest.approx(history.snapshots[-1].metrics["accuracy"])


def test_inputs_that_are_not_2d_get_no_planes():
    model, history, X, y = trained("wide", epochs=3)
    frames = compute_frames(model, history, X, y)
    assert frames.plane is None and frames.neuron_shade is None and frames.boundaries is None
    assert len(frames.outputs) == len(history.snapshots)


@pytest.mark.parametrize(
    "change, error",
    [
        (lambda m, h, x, y: (m, History(), x, y), "no snapshots; train with fit"),
        (lambda m, h, x, y: (MLP(2, [3, 1]), h, x, y), "holds 67 parameters but the model has 13"),
        (lambda m, h, x, y: (m, h, [r + [0.0] for r in x], y), "X has 3 columns, the model 2"),
        (lambda m, h, x, y: (m, h, x, y[:-1]), "X has 40 rows but y has 39"),
    ],
    ids=["no-snapshots", "other-model", "columns", "rows"],
)
def test_bad_arguments_are_named(change, error):
    args = change(*trained("moons", epochs=2))
    with pytest.raises(ValueError, match=error):
        compute_frames(*args)


@pytest.mark.parametrize(
    "lo, hi, ticks",
    [
        (0, 100, [0, 20, 40, 60, 80, 100]),
        (-1.26, 2.54, [-1, 0, 1, 2]),
        (0.013, 0.048, [0.02, 0.03, 0.04]),
        (3, 3, [3]),
    ],
)
def test_axis_ticks_are_round_numbers(lo, hi, ticks):
    assert nice_ticks(lo, hi) == pytest.approx(ticks)


# ---- bounded work and memory (#20.7) -------------------------------------------------------------


def test_a_101_snapshot_page_of_the_demos_sizes_stays_small(tmp_path):
    import tracemalloc

    import viz

    model, history, X, y = drifting((2, 32, 32, 3), snapshots=101)  # noqa: N806
    y = [i % 3 for i in range(len(X))]
    tracemalloc.start()
    try:
        page = viz.training_html(model, history, X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200e6, f"{peak / 1e6:.0f} MB"
    assert len(page.html) < 20e6


@pytest.mark.parametrize(
    "kwargs, name",
    [({"neuron_resolution": 1000}, "neuron_resolution"), ({"resolution": 1000}, "resolution")],
)
def test_pictures_beyond_the_bound_are_refused_at_once_naming_the_argument(kwargs, name):
    import time

    import viz

    model, history, X, y = drifting((2, 16, 16, 1), snapshots=101 if name == "resolution" else 21)  # noqa: N806
    start = time.perf_counter()
    with pytest.raises(
        ValueError, match=rf"training_html: .* pixels, more than a page holds .*lower {name}"
    ):
        viz.training_html(model, history, X, y, **kwargs)
    assert time.perf_counter() - start < 5.0  # refused before the work, not after


def test_the_animation_computes_only_the_frames_it_draws(monkeypatch):
    import viz
    from viz import training_data

    model, history, X, y = drifting((2, 8, 1), snapshots=1001)  # noqa: N806
    planes = []
    real = training_data._output_on
    monkeypatch.setattr(training_data, "_output_on", lambda *a: planes.append(1) or real(*a))
    gif = viz.training_animation(model, history, X, y, max_frames=20, resolution=40)
    assert gif.frames == 20 and len(planes) == 20
