"""micrograd's demo as a script: a 2 -> 16 -> 16 -> 1 ReLU network separates two moons.

100 points of sklearn-style moons (noise 0.1) with labels -1 and +1; max-margin (hinge) loss
plus 1e-4 times the sum of squared parameters; SGD on the whole set with a learning rate
falling linearly from 1.0 to 0.1 (1.0 - 0.9 k/100 over the default 100 steps), which reaches
100% training accuracy. --fast trains with nn.fit(..., compile=True): the graph is traced once
and replayed with numpy. fit records the network after every step (--record N: every N), and
the training is replayed. Writes:

  moons_boundary.png     the decision regions with the points on top
  moons_loss.png         loss and accuracy per step
  moons_training.html    the network learning, snapshot by snapshot: open it in a browser
  moons_training.gif     the decision boundary bending into shape, step by step
"""

from __future__ import annotations

import demolib  # first: puts the repo on sys.path when run as a script

from nn import MLP, SGD, datasets, hinge, l2, linear_decay

NAME = "moons"


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=1337)
    p.add_argument("--steps", type=demolib.positive_int, default=100, help="default: 100")
    p.add_argument("--points", type=demolib.positive_int, default=100, help="default: 100")
    p.add_argument("--fast", action="store_true", help="train on the numpy tape (compile=True)")
    p.add_argument("--record", type=demolib.positive_int, default=1, help="snapshot every N steps")
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)

    X, y = datasets.moons(args.points, noise=0.1, seed=args.seed, signed=True)  # noqa: N806
    mlp = MLP(2, [16, 16, 1], activation="relu", seed=args.seed)
    run = demolib.train_classifier(
        mlp,
        X,
        y,
        out / "moons_boundary.png",
        out / "moons_loss.png",
        f"moons: MLP 2-16-16-1, {args.steps} steps",
        loss=lambda pred, target: hinge(pred, target) + l2(mlp.parameters(), 1e-4),
        optimizer=SGD(mlp, lr=1.0, schedule=linear_decay(1.0, 0.1, args.steps)),
        epochs=args.steps,
        compile=args.fast,
        record=args.record,
    )
    run["files"] += demolib.replay_training(mlp, run["history"], X, y, out / NAME)
    demolib.report(
        NAME,
        f"{args.steps} steps ({run['engine']}, {run['seconds']:.1f} s), {len(mlp.parameters())} "
        f"parameters, loss {demolib.loss_summary(run['history'])}, "
        f"training accuracy {run['accuracy']:.0%}",
        run["files"],
    )
    return run


if __name__ == "__main__":
    main()
