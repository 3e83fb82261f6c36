"""Handwritten digits with a convolutional network made of neurons, trained on the tape.

A convolution is one neuron slid across the image: each of Conv2d's output channels is an
nn.Neuron whose 3x3 window of weights meets every position, so the same weight Values feed the
whole feature map. The network, every number a Value:

  Conv2d(1, 8, 3, padding=1) relu -> MaxPool2d(2) -> Conv2d(8, 32, 3, padding=1) relu
  -> MaxPool2d(2) -> Flatten -> MLP 128 -> 64 (tanh) -> 10

trained with softmax cross-entropy and Adam (learning rate falling linearly to 0) through
nn.fit(..., compile=True), on scikit-learn's bundled 8x8 digits and the held-out split of
demos/digits.py (install the extra with `pip install -e '.[digits]'`), then scored on every test
image in one replay (Tape(model).vmap). That demo's MLP is trained too, so both test accuracies
print side by side. Writes:

  digits_conv_filters.png    the first layer's eight learned 3x3 filters
  digits_conv_maps.png       one test digit through the network, feature map by feature map
  digits_conv_confusion.png  test-set confusion matrix (rows: true digit, columns: predicted)
  digits_conv_pool.svg/.png  one pooled output (one channel, one position): a max over four
                             neuron boxes, each the same filter at a neighbouring position
  digits_conv_neuron.png     the winning box opened: one neuron at one position, every node
  (and demos/digits.py's digits_confusion.png and digits_loss.png, for the MLP)
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import demolib  # first: puts the repo on sys.path when run as a script
import digits

from autograd.tape import Tape
from nn import (
    MLP,
    Adam,
    Conv2d,
    Flatten,
    MaxPool2d,
    Sequential,
    cross_entropy,
    fit,
    linear_decay,
)

NAME = "digits_conv"
SIDE = 8  # the digits are 8x8


def build(seed: int = 0) -> Sequential:
    """The network above, its weights drawn from ``seed``."""
    return Sequential(
        Conv2d(1, 8, 3, padding=1, activation="relu", seed=seed),
        MaxPool2d(2),
        Conv2d(8, 32, 3, padding=1, activation="relu", seed=seed + 1),
        MaxPool2d(2),
        Flatten(),
        MLP(32 * 2 * 2, [64, 10], activation="tanh", init="xavier", fused=True, seed=seed + 2),
    )


def as_image(pixels: list[float]) -> list[list[list[float]]]:
    """64 pixels, row by row, as a one-channel image [1][8][8]."""
    return [[pixels[r * SIDE : (r + 1) * SIDE] for r in range(SIDE)]]


def floats(image: Any) -> list[Any]:
    """Nested lists of Values as nested lists of floats."""
    return [floats(x) for x in image] if isinstance(image, list) else float(image)


# ---- pictures: viz's matplotlib figures (object API, no pyplot state; written atomically) -------


def plot_filters(model: Sequential, path: Path) -> str:
    from viz.plots import figure_class

    conv = model.layers[0]
    k = conv.kernel_size
    filters = [[[w.data for w in n.w[r * k : (r + 1) * k]] for r in range(k)] for n in conv.neurons]
    top = max(abs(w) for f in filters for row in f for w in row)
    fig = figure_class()(figsize=(1.3 * len(filters), 1.9), layout="constrained")
    axes = fig.subplots(1, len(filters))
    for o, (ax, f) in enumerate(zip(axes, filters)):
        image = ax.imshow(f, cmap="RdBu_r", vmin=-top, vmax=top)
        ax.set_title(f"neurons.{o}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, ax=list(axes), fraction=0.02, pad=0.02)
    fig.suptitle("first layer: eight 3x3 filters (one neuron each, the same at every position)")
    return str(fig.save(path, NAME))


def plot_feature_maps(model: Sequential, pixels: list[float], label: int, path: Path) -> str:
    """The digit, what every layer up to Flatten makes of it, and the class probabilities."""
    from viz.plots import figure_class

    x: Any = as_image(pixels)
    stages = []
    for k, layer in enumerate(model.layers[:4]):
        x = layer(x)
        stages.append((f"({k}) {layer!r}", floats(x)))
    scores = [float(s) for s in model.layers[5](model.layers[4](x))]
    shift = max(scores)
    exps = [math.exp(s - shift) for s in scores]
    probs = [e / sum(exps) for e in exps]

    fig = figure_class()(figsize=(11, 9.5), layout="constrained")
    rows = fig.subfigures(len(stages) + 1, 1, height_ratios=[1.4, 1, 1, 1.6, 1.6])
    top = rows[0].subplots(1, 2, width_ratios=[1, 3])
    top[0].imshow(as_image(pixels)[0], cmap="gray_r")
    top[0].set_title(f"input: a test {label}", fontsize=10)
    top[0].set_xticks([])
    top[0].set_yticks([])
    top[1].bar(range(10), probs, color=["#d97706" if d == label else "#64748b" for d in range(10)])
    top[1].set_xticks(range(10))
    top[1].set_ylim(0, 1)
    top[1].set_title("softmax of the MLP's 10 outputs", fontsize=10)
    for row, (name, maps) in zip(rows[1:], stages):
        per_row = min(len(maps), 16)
        axes = row.subplots(math.ceil(len(maps) / per_row), per_row, squeeze=False).ravel()
        high = max(max(max(line) for line in m) for m in maps) or 1.0
        for ax, m in zip(axes, maps):
            ax.imshow(m, cmap="magma", vmin=0, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
        size = f"{len(maps)} maps of {len(maps[0])}x{len(maps[0][0])}"
        row.suptitle(f"{name}: {size}", fontsize=10)
    return str(fig.save(path, NAME))


def draw_graphs(model: Sequential, pixels: list[float], out: Path) -> list[str]:
    """One pooled output of the first block (collapsed: a box per neuron per position) and the
    box that won its max, opened up. Backpropagated from the pooled output, so the grads show
    where max pooling sends the gradient: all of it to the winner."""
    import viz  # here, not at the top: the repo must be on sys.path first

    maps = model.layers[1](model.layers[0](as_image(pixels)))
    i = j = 1  # a central window: no padding in sight
    channel = max(range(len(maps)), key=lambda o: maps[o][i][j].data)
    pooled = maps[channel][i][j]
    model.zero_grad()  # training left the last step's gradients there
    pooled.backward()
    winner = max(pooled.parents, key=lambda v: v.data)
    collapsed = viz.draw_dot(pooled, collapse="neuron", params=model)
    files = [
        viz.render(collapsed, out / "digits_conv_pool.svg"),
        viz.render(collapsed, out / "digits_conv_pool.png"),
        viz.render(viz.draw_dot(winner, params=model), out / "digits_conv_neuron.png"),
    ]
    return [str(f) for f in files]


# ---- the demo -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=0)
    p.add_argument("--epochs", type=demolib.positive_int, default=20, help="default: 20")
    p.add_argument("--batch", type=demolib.positive_int, default=32, help="default: 32")
    p.add_argument("--lr", type=float, default=0.005, help="Adam's first learning rate (0.005)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="check the pipeline in seconds: 2 epochs on 192 images (one batch shape), 100 "
        "test images, a short MLP (the accuracies then mean little)",
    )
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)

    X_train, y_train, X_test, y_test = digits.load(args.seed)  # noqa: N806
    epochs, baseline = args.epochs, ["--out", str(out), "--seed", str(args.seed)]
    if args.quick:
        X_train, y_train, X_test, y_test = (  # noqa: N806
            X_train[:200],
            y_train[:200],
            X_test[:100],
            y_test[:100],
        )
        epochs, baseline = 2, [*baseline, "--epochs", "2", "--limit", "192"]
    mlp = digits.main(baseline)  # demos/digits.py's MLP, on the same split

    model = build(args.seed)
    steps = epochs * math.ceil(len(X_train) / args.batch)
    optimizer = Adam(model.parameters(), lr=args.lr, schedule=linear_decay(args.lr, 0.0, steps))
    start = time.perf_counter()
    history = fit(
        model,
        [as_image(x) for x in X_train],
        y_train,
        loss=cross_entropy,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=args.batch,
        seed=args.seed,
        compile=True,
    )
    seconds = time.perf_counter() - start

    # Every test image in one replay: the model traced on one image, each slot a vector.
    scores = Tape(model).vmap([as_image(x) for x in X_test])
    pred = [max(range(10), key=s.__getitem__) for s in scores]
    accuracy = sum(p == t for p, t in zip(pred, y_test)) / len(y_test)
    shown = next(k for k, (p, t) in enumerate(zip(pred, y_test)) if p == t)
    import viz  # here, not at the top: the repo must be on sys.path first

    files = [
        plot_filters(model, out / "digits_conv_filters.png"),
        plot_feature_maps(model, X_test[shown], y_test[shown], out / "digits_conv_maps.png"),
        viz.plot_confusion(
            pred,
            y_test,
            out / "digits_conv_confusion.png",
            title=f"digits, conv net: test accuracy {accuracy:.1%} ({len(y_test)} images)",
        ),
        *draw_graphs(model, X_test[shown], out),
    ]
    demolib.report(
        NAME,
        f"{epochs} epochs on the tape ({seconds:.1f} s), {len(model.parameters()):,} parameters, "
        f"loss {history.loss[0]:.3f} -> {history.loss[-1]:.3f}, test accuracy {accuracy:.1%} "
        f"(the MLP of demos/digits.py: {mlp['accuracy']:.1%})",
        files,
    )
    return {
        "accuracy": accuracy,
        "mlp_accuracy": mlp["accuracy"],
        "loss": history.loss,
        "seconds": seconds,
        "parameters": len(model.parameters()),
        "model": model,
        "files": files,
    }


if __name__ == "__main__":
    main()
