"""Three interleaved spirals (CS231n's set): a tanh network learns the three classes.

150 points in three spiral arms, labels 0, 1, 2; a 2 -> 16 -> 16 -> 3 network, tanh hidden
layers and three linear outputs (logits); softmax cross-entropy; Adam on mini-batches of 30,
reshuffled every epoch. --fast trains with nn.fit(..., compile=True), on the numpy tape.
fit records the network after every epoch (--record N: every N), and the training is
replayed. Writes:

  spirals_regions.png    the class each point of the plane gets, with the data on top
  spirals_loss.png       loss and accuracy per epoch
  spirals_training.html  the network learning, snapshot by snapshot: open it in a browser
  spirals_training.gif   the three regions winding into spirals, epoch by epoch
"""

from __future__ import annotations

import demolib  # first: puts the repo on sys.path when run as a script

from nn import MLP, Adam, cross_entropy, datasets

NAME = "spirals"


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=0)
    p.add_argument("--epochs", type=demolib.positive_int, default=60, help="default: 60")
    p.add_argument("--points", type=demolib.positive_int, default=150, help="default: 150")
    p.add_argument("--hidden", type=demolib.positive_int, default=16, help="units per layer (16)")
    p.add_argument("--batch-size", type=demolib.positive_int, default=30, help="default: 30")
    p.add_argument("--lr", type=float, default=0.03, help="Adam's learning rate (0.03)")
    p.add_argument("--fast", action="store_true", help="train on the numpy tape (compile=True)")
    p.add_argument("--record", type=demolib.positive_int, default=1, help="snapshot every N epochs")
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)

    X, y = datasets.spirals(args.points, classes=3, noise=0.2, seed=args.seed)  # noqa: N806
    h = args.hidden
    mlp = MLP(2, [h, h, 3], activation="tanh", seed=args.seed)
    run = demolib.train_classifier(
        mlp,
        X,
        y,
        out / "spirals_regions.png",
        out / "spirals_loss.png",
        f"spirals: MLP 2-{h}-{h}-3 tanh, {args.epochs} epochs",
        loss=cross_entropy,
        optimizer=Adam(mlp, lr=args.lr),
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        compile=args.fast,
        record=args.record,
    )
    run["files"] += demolib.replay_training(mlp, run["history"], X, y, out / NAME)
    demolib.report(
        NAME,
        f"{args.epochs} epochs ({run['engine']}, {run['seconds']:.1f} s), "
        f"cross-entropy {demolib.loss_summary(run['history'])}, "
        f"training accuracy {run['accuracy']:.0%} (chance: 33%)",
        run["files"],
    )
    return run


if __name__ == "__main__":
    main()
