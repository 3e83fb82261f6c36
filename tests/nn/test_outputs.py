"""nn.outputs: the one reader of model outputs (accuracy, the live view and every picture)."""

from __future__ import annotations

import numpy as np
import pytest

from nn import accuracy
from nn.outputs import class_index, classes, labels_kind, margins, threshold_for


def test_the_threshold_follows_the_labels_and_the_outputs():
    assert threshold_for("pm1", [0.2, 0.7]) == 0.0  # tanh scores in [0, 1] still split at 0
    assert threshold_for("01", [0.2, 0.7, 1.0]) == 0.5  # probabilities
    assert threshold_for("01", [-0.3, 0.2, 1.7]) == 0.0  # logits
    assert threshold_for("01", [0.2, float("nan")]) == 0.5  # nan is ignored
    assert threshold_for("01", [-3.0], threshold=0.25) == 0.25


def test_classes_argmax_and_threshold():
    assert classes(np.array([[0.2], [0.7], [0.5]]), 0.5).tolist() == [0, 1, 0]
    assert classes(np.array([[0.1, 0.9, 0.0], [2.0, 1.0, 3.0]]), None).tolist() == [1, 2]
    assert class_index([-1, 1, 1]).tolist() == [0, 1, 1]
    assert class_index([0, 2, 1]).tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match="plot: y must hold class indices"):
        class_index([0.5, 1.0], "plot")


@pytest.mark.parametrize("at", [0.0, 4e-18, -4e-18, 1e-13])
def test_an_output_at_the_threshold_counts_the_same_whatever_rounding_made_it(at):
    # The eager engine computed 4e-18 where the compiled one computed 0.0 (#20.15): both are
    # "at the threshold" and count as class 0, so both engines report the same accuracy.
    assert classes(np.array([[at]]), 0.0).tolist() == [0]
    assert accuracy([at, 0.9], [-1, 1]) == accuracy([0.0, 0.9], [-1, 1]) == 1.0
    assert accuracy(np.array([at, 0.9]), [-1, 1]) == 1.0  # the compiled trainer hands arrays
    tied = np.array([[1.0, 1.0 + at], [0.0, 2.0]])
    assert classes(tied, None).tolist() == [0, 1]  # a near-tie goes to the lowest index


def test_margins_are_positive_where_the_class_wins():
    scores = np.array([[-0.5], [0.0], [2.0]])
    m0, m1 = margins(scores, 0.0)
    assert (m0 > 0).tolist() == [True, True, False] and (m1 > 0).tolist() == [False, False, True]


def test_labels_kind():
    assert labels_kind(0.3, [0, 1, 1]) == "01"
    assert labels_kind(0.3, [-1, 1]) == "pm1"
    assert labels_kind([0.1, 0.2], [0, 2]) == "index"
    assert labels_kind(0.3, [0.5, 1.0]) is None
