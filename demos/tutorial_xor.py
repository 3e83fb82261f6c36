"""The first tutorial's network, built from Values: 3 -> 4 -> 1, sigmoid, no biases.

Inputs [[0,0,1], [0,1,1], [1,0,1], [1,1,1]] (the third input is always 1), targets [0,1,1,0].
Sum-of-squares loss and 1500 iterations of gradient descent with learning rate 1.0, which is
the tutorial's `weights += d_weights`; the weights start as its np.random.rand(3, 4) and
np.random.rand(4, 1). Prints the predictions against the targets and writes:

  xor_loss.png       the loss per iteration (it falls at every step)
  xor_graph.svg/png  one forward pass: one sample through the untrained network, with its loss
  xor_neurons.png    the same graph with each neuron drawn as one box
  xor_backprop.html  a page stepping through backward on that graph, one node a step
"""

from __future__ import annotations

import os

import demolib  # first: puts the repo on sys.path when run as a script
import numpy as np

import viz
from autograd import Value
from nn import MLP, SGD, datasets, fit, predict, sse

NAME = "tutorial_xor"


def tutorial_network(seed: int) -> MLP:
    """The tutorial's 3-4-1 sigmoid network, weights drawn as np.random.rand draws them.

    Weights are labelled as the tutorial names them: W1[i,j] joins input i to hidden unit j,
    W2[j] joins hidden unit j to the output."""
    rng = np.random.RandomState(seed)
    w1, w2 = rng.rand(3, 4), rng.rand(4, 1)
    mlp = MLP(3, [4, 1], activation="sigmoid", output_activation="sigmoid", bias=False)
    state = {f"layers.0.neurons.{j}.w": w1[:, j].tolist() for j in range(4)}
    state["layers.1.neurons.0.w"] = w2[:, 0].tolist()
    mlp.load_state_dict(state)
    for j, neuron in enumerate(mlp.layers[0].neurons):
        for i, w in enumerate(neuron.w):
            w.label = f"W1[{i},{j}]"
    for j, w in enumerate(mlp.layers[1].neurons[0].w):
        w.label = f"W2[{j}]"
    return mlp


def forward_pass(mlp: MLP, x: list[float], target: float) -> Value:
    """One sample through the network and its squared error, backward done, nodes labelled."""
    inputs = [Value(v, label=f"x{i}") for i, v in enumerate(x)]
    hidden = mlp.layers[0](inputs)
    for j, h in enumerate(hidden):
        h.label = f"h{j}"
    y_hat = mlp.layers[1](hidden)
    y_hat.label = "ŷ"
    loss = (y_hat - Value(target, label="y")) ** 2
    loss.label = "loss"
    loss.backward()
    return loss


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=1)
    p.add_argument("--iterations", type=demolib.positive_int, default=1500, help="default: 1500")
    p.add_argument("--lr", type=float, default=1.0, help="learning rate (default: 1.0)")
    p.add_argument(
        "--sample", type=int, choices=range(4), default=2, help="which row to draw (default: 2)"
    )
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)
    X, y = datasets.xor()  # noqa: N806 - the name every ML text uses
    mlp = tutorial_network(args.seed)

    loss = forward_pass(mlp, X[args.sample], y[args.sample])
    files = [
        viz.render(loss, out / "xor_graph.svg", params=mlp),
        viz.render(loss, out / "xor_graph.png", params=mlp),
        viz.render(loss, out / "xor_neurons.png", params=mlp, collapse="neuron"),
        os.fspath(viz.backprop_html(loss, out / "xor_backprop.html")),
    ]

    history = fit(mlp, X, y, loss=sse, optimizer=SGD(mlp, lr=args.lr), epochs=args.iterations)
    files.insert(0, os.fspath(viz.plot_loss(history, out / "xor_loss.png", title="XOR tutorial")))
    predictions = predict(mlp, X)
    print("input      target  prediction")
    for x, t, pred in zip(X, y, predictions):
        print(f"{' '.join(f'{v:g}' for v in x):<9}  {t:>6g}  {pred:>10.4f}")

    losses = history.loss
    monotonic = all(b < a for a, b in zip(losses, losses[1:]))
    rounded = [round(v) for v in predictions]
    verdict = "= targets" if rounded == [round(t) for t in y] else f"!= targets {y}"
    fall = "falls at every step" if monotonic else "does not fall at every step"
    demolib.report(
        NAME,
        f"{args.iterations} iterations, loss {losses[0]:.4f} -> {losses[-1]:.4f} ({fall}); "
        f"predictions round to {rounded} {verdict}",
        files,
    )
    return {
        "predictions": predictions,
        "targets": y,
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "monotonic": monotonic,
        "files": files,
    }


if __name__ == "__main__":
    main()
