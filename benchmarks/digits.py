"""Digits: an epoch of the demo's MLP, ours against PyTorch float64.

scikit-learn's 8x8 digits (the ``digits`` extra), split as ``demos/digits.py`` does. The MLP
(64-32-10, tanh, cross-entropy, Adam lr 0.01, batches of 64) trains for epochs through
``fit(compile=True)`` and through PyTorch float64 on one thread, on the same batches from the
same weights; ms per epoch (medians over the epochs after the first, which holds our trace).
The digits CNN has its own benchmark, ``benchmarks/conv.py``. Run: `python benchmarks/digits.py`.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.common import fmt_ms, machine, table  # noqa: E402
from nn import MLP, Adam, cross_entropy, fit  # noqa: E402


def load() -> tuple[list, list]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demos"))
    from digits import load as load_digits

    X, y, _, _ = load_digits(0)  # noqa: N806
    return X, y


def batches(n: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """What ``nn.data.batches`` draws from the same generator: a permutation, then slices."""
    order = rng.permutation(n)
    return [order[k : k + size] for k in range(0, n, size)]


def torch_epochs(model: MLP, X: list, y: list, epochs: int, batch: int) -> tuple[list, Any]:  # noqa: N803
    """Seconds per epoch of the same training in PyTorch float64 (1 thread), and its net."""
    import torch

    net = model.to_torch()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y)
    rng, seconds = np.random.default_rng(0), []
    for _ in range(epochs):
        start = time.perf_counter()
        for idx in batches(len(y), batch, rng):
            i = torch.from_numpy(idx)
            loss = torch.nn.functional.cross_entropy(net(xt[i]), yt[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    return seconds, net


def mlp_table(args: argparse.Namespace, X: list, y: list) -> dict[str, float]:  # noqa: N803
    """Blocks of epochs, alternating: fit(compile=True) without and with its accuracy metric,
    then PyTorch; each fit block's first epoch (the trace) is left out of the medians."""
    make = lambda: MLP(64, [32, 10], activation="tanh", init="xavier", seed=0)  # noqa: E731
    names = ["ours: fit(compile=True)", "ours: fit(compile=True), accuracy each epoch"]
    seconds: dict[str, list[float]] = {name: [] for name in names}
    firsts: dict[str, list[float]] = {name: [] for name in names}
    try:
        import torch

        torch.set_num_threads(1)
        seconds["PyTorch float64, 1 thread"] = []
    except ImportError:
        torch = None
    for _ in range(args.mlp_blocks):
        for name, metrics in zip(names, ((), ("accuracy",))):
            model = make()
            history = fit(
                model, X, y, loss=cross_entropy, optimizer=Adam(model, lr=0.01),
                epochs=args.epochs, batch_size=64, progress=False, compile=True, metrics=metrics,
            )  # fmt: skip
            seconds[name] += history.seconds[1:]
            firsts[name].append(history.seconds[0])
            ours = model
        if torch is not None:
            times, net = torch_epochs(make(), X, y, args.epochs, 64)
            seconds["PyTorch float64, 1 thread"] += times[1:]
    medians = {name: statistics.median(ts) for name, ts in seconds.items()}
    torch_ms = medians.get("PyTorch float64, 1 thread")
    rows = [
        [
            name,
            fmt_ms(t),
            f"{statistics.median(firsts[name]) * 1e3:.0f} ms" if name in firsts else "-",
            f"{t / torch_ms:.2f}x" if torch_ms else "-",
        ]
        for name, t in medians.items()
    ]
    print(
        f"digits MLP 64-32-10 (tanh), cross-entropy, Adam 0.01, batches of 64, {len(y)} images; "
        f"{args.mlp_blocks} alternating blocks of {args.epochs} epochs ({machine()})"
    )
    print(table(["engine", "ms/epoch", "first epoch", "x PyTorch"], rows))
    if torch is not None:
        ours_w = np.concatenate([np.concatenate([w.ravel(), b]) for w, b, _ in ours.to_numpy()])
        theirs = np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])
        diff = float(np.abs(ours_w - theirs).max())
        print(
            f"weights after {args.epochs} epochs, same batches: max |ours - PyTorch| = {diff:.1e}"
        )
    return medians


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="MLP epochs per block")
    parser.add_argument("--mlp-blocks", type=int, default=5, help="alternating MLP blocks")
    args = parser.parse_args(argv)
    try:
        X, y = load()  # noqa: N806
    except SystemExit as e:
        print(e)
        return {}
    return mlp_table(args, X, y)


if __name__ == "__main__":
    main()
