"""Hours studied and hours slept -> test score: the second tutorial's regression.

Three students, (2 h, 9 h) -> 92, (1 h, 5 h) -> 86, (3 h, 6 h) -> 89. Inputs are scaled by
their column maxima and scores by 100, so the sigmoid output (0..1) can reach them. A 2 -> 3 -> 1
network, sigmoid in both layers, mean squared error, plain gradient descent. Prints what it
predicts for a student it has not seen and writes:

  study_scores_loss.png   the loss per epoch
"""

from __future__ import annotations

import os

import demolib  # first: puts the repo on sys.path when run as a script

import viz
from nn import MLP, SGD, datasets, fit, mse, predict

NAME = "study_scores"


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=0)
    p.add_argument("--epochs", type=demolib.positive_int, default=2000, help="default: 2000")
    p.add_argument("--lr", type=float, default=3.0, help="learning rate (default: 3.0)")
    p.add_argument("--studied", type=float, default=4.0, help="the new student's hours (4)")
    p.add_argument("--slept", type=float, default=8.0, help="the new student's sleep (8)")
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)

    X, y = datasets.study_scores()  # noqa: N806 - the name every ML text uses
    raw_x, raw_y = datasets.study_scores(scaled=False)
    top = [max(col) for col in zip(*raw_x)]  # the scale the dataset divided by
    mlp = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=args.seed)
    history = fit(mlp, X, y, loss=mse, optimizer=SGD(mlp, lr=args.lr), epochs=args.epochs)
    files = [os.fspath(viz.plot_loss(history, out / "study_scores_loss.png", title="Study scores"))]

    fitted = [100 * s for s in predict(mlp, X)]
    new = [args.studied / top[0], args.slept / top[1]]
    score = 100 * predict(mlp, [new])[0]
    demolib.report(
        NAME,
        f"{args.epochs} epochs, MSE {history.loss[0]:.4f} -> {history.loss[-1]:.2e}; fits "
        f"{'/'.join(f'{s:g}' for s in raw_y)} as {'/'.join(f'{s:.1f}' for s in fitted)}; "
        f"studied {args.studied:g} h, slept {args.slept:g} h -> predicted score {score:.1f}",
        files,
    )
    return {
        "fitted": fitted,
        "targets": raw_y,
        "prediction": score,
        "loss_first": history.loss[0],
        "loss_last": history.loss[-1],
        "files": files,
    }


if __name__ == "__main__":
    main()
