"""Handwritten digits: an MLP of scalar Values trained on the numpy tape, in seconds.

scikit-learn's bundled 8x8 digits (1,797 images, 10 classes; install the extra with
`pip install -e '.[digits]'`), pixels scaled to [0, 1], split 80/20 into training and test sets
(stratified, seeded). A 64 -> 32 -> 10 tanh network (2,410 parameters, each one a Value) learns
with softmax cross-entropy and Adam on mini-batches, through nn.fit(..., compile=True): each batch
shape is traced once into rows of scalar ops and every step replays them with numpy. Eagerly,
one epoch builds and walks millions of nodes; on the tape it takes a fraction of a second.
Writes:

  digits_confusion.png   test-set confusion matrix (rows: true digit, columns: predicted)
  digits_loss.png        training loss and accuracy per epoch
"""

from __future__ import annotations

import time

import demolib  # first: puts the repo on sys.path when run as a script

from nn import MLP, Adam, cross_entropy, fit

NAME = "digits"


def load(seed: int, test_fraction: float = 0.2) -> tuple[list, list, list, list]:
    """(X_train, y_train, X_test, y_test): pixels in [0, 1], a stratified seeded split."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise SystemExit(
            f"{NAME}: needs scikit-learn for its bundled digits: pip install -e '.[digits]'"
        ) from None
    digits = load_digits()
    X = (digits.data / 16.0).tolist()  # noqa: N806 - the name every ML text uses
    y = digits.target.tolist()
    X_train, X_test, y_train, y_test = train_test_split(  # noqa: N806
        X, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return X_train, y_train, X_test, y_test


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=0)
    p.add_argument("--hidden", type=demolib.positive_int, default=32, help="default: 32")
    p.add_argument("--epochs", type=demolib.positive_int, default=25, help="default: 25")
    p.add_argument("--batch", type=demolib.positive_int, default=32, help="default: 32")
    p.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate (default: 0.01)")
    p.add_argument("--limit", type=demolib.positive_int, help="use only this many images")
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)

    X_train, y_train, X_test, y_test = load(args.seed)  # noqa: N806
    if args.limit:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]  # noqa: N806
    mlp = MLP(64, [args.hidden, 10], activation="tanh", init="xavier", seed=args.seed)
    start = time.perf_counter()
    history = fit(
        mlp,
        X_train,
        y_train,
        loss=cross_entropy,
        optimizer=Adam(mlp.parameters(), lr=args.lr),
        epochs=args.epochs,
        batch_size=args.batch,
        seed=args.seed,
        compile=True,
    )
    seconds = time.perf_counter() - start

    import viz  # here, not at the top: the repo must be on sys.path first

    pred = mlp.predict_numpy(X_test).argmax(axis=1).tolist()
    accuracy = sum(p == t for p, t in zip(pred, y_test)) / len(y_test)
    files = [
        viz.plot_confusion(
            pred,
            y_test,
            out / "digits_confusion.png",
            title=f"digits: test accuracy {accuracy:.1%} ({len(y_test)} images)",
        ),
        viz.plot_loss(history, out / "digits_loss.png", title="digits"),
    ]
    demolib.report(
        NAME,
        f"{args.epochs} epochs on the tape ({seconds:.1f} s), {len(mlp.parameters()):,} "
        f"parameters, loss {history.loss[0]:.3f} -> {history.loss[-1]:.3f}, "
        f"test accuracy {accuracy:.1%}",
        files,
    )
    return {
        "accuracy": accuracy,
        "loss": history.loss,
        "seconds": seconds,
        "parameters": len(mlp.parameters()),
        "files": files,
    }


if __name__ == "__main__":
    main()
