"""tutorial_xor: the first tutorial's network trains as the tutorial's numpy code does."""

import numpy as np
import tutorial_xor

from nn import datasets
from tests.nn.test_train import feedforward, tutorial_numpy


def test_xor_learns_the_targets_as_the_numpy_tutorial_does(out, check_files, capsys):
    result = tutorial_xor.main(["--out", str(out)])

    assert [round(p) for p in result["predictions"]] == [0, 1, 1, 0]
    assert result["monotonic"]
    assert result["loss_last"] < 0.01 < 1.0 < result["loss_first"]
    # The tutorial itself, in numpy, from the same np.random.rand draws: the same predictions.
    X, y = datasets.xor()
    rng = np.random.RandomState(1)
    w1, w2 = tutorial_numpy(rng.rand(3, 4), rng.rand(4, 1), np.array(X), np.array(y)[:, None], 1500)
    expected = feedforward(np.array(X), w1, w2)[:, 0]
    np.testing.assert_allclose(result["predictions"], expected, rtol=0, atol=1e-9)

    printed = capsys.readouterr().out
    assert "input      target  prediction" in printed
    assert "1 0 1           1      0.9689" in printed
    assert "predictions round to [0, 1, 1, 0] = targets" in printed
    names = ["xor_loss.png", "xor_graph.svg", "xor_graph.png", "xor_neurons.png"]
    check_files(result["files"], out, [*names, "xor_backprop.html"])


def test_the_drawn_pass_is_the_chosen_sample_before_training(out):
    tutorial_xor.main(["--out", str(out), "--iterations", "3", "--sample", "3"])
    svg = (out / "xor_graph.svg").read_text(encoding="utf-8")
    for label in ("W1[2,3]", "W2[0]", "h3", "ŷ", "y", "loss", "x0"):
        assert f">{label}<" in svg, label
    # Sample 3 is [1, 1, 1] -> 0; its loss is drawn with the untrained weights of seed 1.
    loss = tutorial_xor.forward_pass(tutorial_xor.tutorial_network(1), [1.0, 1.0, 1.0], 0.0)
    assert f">data {loss.data:.4f}<" in svg
    assert loss.data > 0.5  # untrained: the network says ~0.8 where the target is 0
