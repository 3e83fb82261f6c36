"""Datasets: plain lists, seeded, the shapes and labels promised; the helpers and their errors."""

import numpy as np
import pytest

from nn import datasets

GENERATORS = {
    "moons": lambda seed: datasets.moons(60, noise=0.1, seed=seed),
    "circles": lambda seed: datasets.circles(60, noise=0.05, seed=seed),
    "spirals": lambda seed: datasets.spirals(60, classes=3, seed=seed),
    "blobs": lambda seed: datasets.blobs(60, centers=4, seed=seed),
}


def is_rows_of_floats(rows, width):
    return isinstance(rows, list) and all(
        isinstance(r, list) and len(r) == width and all(type(v) is float for v in r) for r in rows
    )


def test_xor_is_the_tutorials():
    X, y = datasets.xor()
    assert X == [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
    assert y == [0, 1, 1, 0]
    assert is_rows_of_floats(X, 3) and all(type(v) is float for v in y)


def test_study_scores():
    X, y = datasets.study_scores()
    np.testing.assert_allclose(X, [[2 / 3, 1.0], [1 / 3, 5 / 9], [1.0, 6 / 9]], atol=1e-15)
    assert y == pytest.approx([0.92, 0.86, 0.89])
    raw_X, raw_y = datasets.study_scores(scaled=False)
    assert raw_X == [[2, 9], [1, 5], [3, 6]] and raw_y == [92, 86, 89]


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_seeded_plain_lists(name):
    make = GENERATORS[name]
    X, y = make(0)
    assert is_rows_of_floats(X, 2) and len(X) == len(y) == 60
    assert make(0) == (X, y) and make(1) != (X, y)
    assert np.array(X).shape == (60, 2)


def test_moons_labels_and_shape():
    X, y = datasets.moons(101, noise=0.0, seed=0)
    assert sorted(set(y)) == [0.0, 1.0] and y.count(1.0) == 51
    a = np.array(X)
    upper = a[np.array(y) == 0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)  # noise 0: on the unit circle
    _, signed = datasets.moons(10, signed=True)
    assert set(signed) == {-1.0, 1.0}


def test_circles_radii():
    X, y = datasets.circles(40, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*np.array(X).T)
    assert np.allclose(r[np.array(y) == 0], 1.0) and np.allclose(r[np.array(y) == 1], 0.3)


def test_spirals_and_blobs_have_int_classes():
    _, y = datasets.spirals(61, classes=4)
    assert sorted(set(y)) == [0, 1, 2, 3] and all(type(v) is int for v in y)
    X, y = datasets.blobs(30, centers=[[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]], std=0.1)
    a, labels = np.array(X), np.array(y)
    assert a.shape == (30, 3)
    assert np.allclose(a[labels == 1].mean(axis=0), 10.0, atol=0.1)


def test_train_test_split():
    X, y = [[float(i)] for i in range(10)], list(range(10))
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.3, seed=1)
    assert len(X_te) == 3 and len(X_tr) == 7
    assert sorted(y_tr + y_te) == y
    assert all(row == [float(t)] for row, t in zip(X_tr + X_te, y_tr + y_te))  # rows stay paired
    assert datasets.train_test_split(X, y, test_size=2, shuffle=False)[1] == [[0.0], [1.0]]
    from_numpy = datasets.train_test_split(np.array(X), np.array(y), seed=1)
    assert from_numpy == datasets.train_test_split(X, y, seed=1)
    assert type(from_numpy[0][0][0]) is float and type(from_numpy[2][0]) is int


def test_standardize():
    X = [[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]]
    Xs, mean, std = datasets.standardize(X)
    assert mean == [3.0, 5.0] and std[1] == 1.0  # a constant column is not divided by 0
    assert np.allclose(np.array(Xs).mean(axis=0), 0) and np.allclose(np.array(Xs)[:, 0].std(), 1)
    again, _, _ = datasets.standardize([[3.0, 6.0]], mean, std)  # test data, train statistics
    assert again == [[0.0, 1.0]]


def test_batches_cover_every_row_once():
    X, y = [[float(i)] for i in range(10)], list(range(10))
    got = list(datasets.batches(X, y, batch_size=4, seed=0))
    assert [len(b[1]) for b in got] == [4, 4, 2]
    assert sorted(t for _, yb in got for t in yb) == y
    assert all(row == [float(t)] for xb, yb in got for row, t in zip(xb, yb))
    assert [b[1] for b in datasets.batches(X, y, 4, shuffle=False)][0] == [0, 1, 2, 3]
    assert list(datasets.batches(X, y)) == [(X, y)]  # None: the whole set
    rng = np.random.default_rng(0)
    first, second = (list(datasets.batches(X, y, 5, seed=rng)) for _ in range(2))
    assert first != second  # a shared Generator reshuffles every epoch


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: datasets.moons(1), "moons: n must be an int >= 2, got 1"),
        (lambda: datasets.circles(10, factor=1.5), "factor must be in \\(0, 1\\)"),
        (lambda: datasets.spirals(10, classes=1), "spirals: classes must be an int >= 2, got 1"),
        (lambda: datasets.blobs(2, centers=3), "blobs: n must be an int >= 3"),
        (lambda: datasets.train_test_split([[1.0]] * 3, [1, 2]), "X has 3 rows but y has 2"),
        (lambda: datasets.train_test_split([[1.0]] * 3, [1] * 3, test_size=3), "leaves no train"),
        (
            lambda: datasets.train_test_split([[1.0]] * 3, [1] * 3, test_size=0.0),
            "test_size must be a fraction in \\(0, 1\\) or a number of rows, got 0.0",
        ),
        (lambda: datasets.standardize([1.0, 2.0]), "X must be a list of rows"),
        (lambda: list(datasets.batches([[1.0]], [1.0], batch_size=0)), "batch_size must be"),
        (lambda: list(datasets.batches([[1.0]], [1.0, 2.0], 1)), "X has 1 rows but y has 2"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


NAN, INF = float("nan"), float("inf")
X3, Y3 = [[1.0]] * 3, [1.0] * 3

# issue 12, item 13: arguments out of range name the call, the argument and the value
OUT_OF_RANGE = [
    (lambda: datasets.moons(10, noise=-1), "moons: noise must be a finite number >= 0, got -1"),
    (lambda: datasets.moons(10, noise=NAN), "moons: noise must be a finite number >= 0, got nan"),
    (lambda: datasets.moons(10, noise=INF), "moons: noise must be a finite number >= 0, got inf"),
    (lambda: datasets.moons(10, noise="big"), "moons: noise must be a finite number"),
    (lambda: datasets.moons(2.5), "moons: n must be an int >= 2, got 2.5"),
    (lambda: datasets.moons(10, seed=-3), "moons: seed must be None, an int >= 0 or a Generator"),
    (lambda: datasets.moons(10, seed="a"), "moons: seed must be None, an int >= 0"),
    (lambda: datasets.circles(10, noise=-1), "circles: noise must be a finite number >= 0, got -1"),
    (lambda: datasets.circles(10, factor=NAN), "circles: factor must be in \\(0, 1\\), got nan"),
    (lambda: datasets.circles(10, factor=0), "circles: factor must be in \\(0, 1\\), got 0"),
    (lambda: datasets.circles(True), "circles: n must be an int >= 2, got True"),
    (lambda: datasets.spirals(10, classes=0), "spirals: classes must be an int >= 2, got 0"),
    (lambda: datasets.spirals(10, classes=2.5), "spirals: classes must be an int >= 2, got 2.5"),
    (lambda: datasets.spirals(10, classes="3"), "spirals: classes must be an int >= 2, got '3'"),
    (lambda: datasets.spirals(10, noise=-0.1), "spirals: noise must be a finite number >= 0"),
    (lambda: datasets.spirals(2, classes=3), "spirals: n must be an int >= 3, got 2"),
    (lambda: datasets.blobs(10, centers=0), "blobs: centers must be an int >= 1, got 0"),
    (lambda: datasets.blobs(10, centers=-2), "blobs: centers must be an int >= 1, got -2"),
    (lambda: datasets.blobs(10, centers=True), "blobs: centers must be a count >= 1 or a list"),
    (lambda: datasets.blobs(10, centers=[]), "blobs: centers must be a count >= 1 or a list"),
    (lambda: datasets.blobs(10, centers=[[0, 0], [1]]), "blobs: centers must be a count"),
    (lambda: datasets.blobs(10, centers=[[0, NAN]]), "blobs: centers must be a count"),
    (lambda: datasets.blobs(10, centers=2.5), "blobs: centers must be a count >= 1 or a list"),
    (lambda: datasets.blobs(10, std=-1), "blobs: std must be a finite number >= 0, got -1"),
    (lambda: datasets.blobs(10, std=NAN), "blobs: std must be a finite number >= 0, got nan"),
    (lambda: datasets.blobs(10, dim=0), "blobs: dim must be an int >= 1, got 0"),
    (
        lambda: datasets.train_test_split(X3, Y3, test_size=NAN),
        "train_test_split: test_size must be a fraction in \\(0, 1\\) or a number of rows, got nan",
    ),
    (lambda: datasets.train_test_split(X3, Y3, test_size=1.5), "test_size must be a fraction"),
    (lambda: datasets.train_test_split(X3, Y3, test_size=INF), "test_size must be a fraction"),
    (lambda: datasets.train_test_split(X3, Y3, test_size=True), "test_size must be a fraction"),
    (lambda: datasets.train_test_split(X3, Y3, test_size="1"), "test_size must be a fraction"),
    (lambda: datasets.train_test_split(X3, Y3, test_size=-1), "test_size -1 leaves no train"),
    (lambda: datasets.train_test_split(X3, Y3, seed=-1), "train_test_split: seed must be"),
]


@pytest.mark.parametrize("call, match", OUT_OF_RANGE)
def test_arguments_out_of_range_name_the_call_and_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_edge_values_that_are_in_range_still_work():
    assert len(datasets.moons(4, noise=0)[0]) == 4
    assert len(datasets.blobs(3, centers=1, std=0, dim=1)[0][0]) == 1
    assert datasets.blobs(4, centers=[[0.0, 0.0, 1.0], [5.0, 5.0, 5.0]], std=0)[0][0][2] in (1, 5)
    X_train, X_test, _, _ = datasets.train_test_split(X3, Y3, test_size=0.5)
    assert (len(X_train), len(X_test)) == (1, 2)
