"""Digits: an epoch of the demo's MLP and a step of a small CNN, ours against PyTorch float64.

scikit-learn's 8x8 digits (the ``digits`` extra), split as ``demos/digits.py`` does. The MLP
(64-32-10, tanh, cross-entropy, Adam lr 0.01, batches of 64) trains for epochs through
``fit(compile=True)`` and through PyTorch float64 on one thread, on the same batches from the
same weights; ms per epoch (medians over the epochs after the first, which holds our trace).
The CNN (``benchmarks/convnet.py``: two 3x3 convolutions of neurons and ``vmax`` pooling, then a
dense layer) takes training steps on batches of 64 images, ours on the batched tape and
PyTorch float64 (Conv2d, MaxPool2d) on one thread, in alternating blocks; ms per step, our
trace and compile time, peak memory. Run: `python benchmarks/digits.py`.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.common import alternate, fmt_ms, frozen_heap, machine, table  # noqa: E402
from benchmarks.convnet import ConvNet  # noqa: E402
from nn import MLP, Adam, cross_entropy, fit  # noqa: E402
from nn.compiled import CompiledTrainer  # noqa: E402


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


def cnn_table(args: argparse.Namespace, X: list, y: list) -> dict[str, float]:  # noqa: N803
    images = np.asarray(X, dtype=float).reshape(-1, 1, 8, 8)
    rng = np.random.default_rng(1)
    idx = rng.permutation(len(y))[: args.cnn_batch]
    xb, yb = images[idx], [y[i] for i in idx]
    net = ConvNet(size=8, cin=1, c1=8, c2=16, classes=10, seed=0)
    trainer = CompiledTrainer(net, cross_entropy, Adam(net, lr=0.01))
    tracemalloc.start()
    start = time.perf_counter()
    trainer.step(xb, yb)
    first = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    steps: dict[str, Any] = {"ours: CompiledTrainer.step": lambda: trainer.step(xb, yb)}
    try:
        import torch

        torch.set_num_threads(1)
        tnet = ConvNet(size=8, cin=1, c1=8, c2=16, classes=10, seed=0).to_torch()
        opt = torch.optim.Adam(tnet.parameters(), lr=0.01)
        xt, yt = torch.tensor(xb), torch.tensor(yb)

        def torch_step() -> None:
            loss = torch.nn.functional.cross_entropy(tnet(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()

        steps["PyTorch float64, 1 thread"] = torch_step
    except ImportError:
        pass
    for step in steps.values():
        step()
    with frozen_heap():
        times = alternate(steps, args.blocks, args.cnn_steps, pause_gc=True)
    ours = times["ours: CompiledTrainer.step"]
    stats = trainer.tape.program.stats
    rows = [
        [name, fmt_ms(t), f"{t / times.get('PyTorch float64, 1 thread', t):.2f}x"]
        for name, t in times.items()
    ]
    print(
        f"\ndigits CNN: conv 1->8 3x3, relu, maxpool 2, conv 8->16 3x3, relu, maxpool 2, dense "
        f"64->10; cross-entropy, Adam; a training step on {args.cnn_batch} images"
    )
    print(table(["engine", "ms/step", "x PyTorch"], rows))
    print(
        f"ours: first step (trace + compile + step) {first:.2f} s, peak memory {peak / 1e6:.0f} MB "
        f"(tracemalloc); {stats['nodes']:,} traced nodes per sample -> {stats['kernels']} kernels "
        f"({stats['grids']} matrix products)"
    )
    return {"cnn ours": ours, **times}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="MLP epochs per block")
    parser.add_argument("--mlp-blocks", type=int, default=5, help="alternating MLP blocks")
    parser.add_argument("--blocks", type=int, default=5, help="alternating CNN blocks")
    parser.add_argument("--cnn-steps", type=int, default=5, help="CNN steps per block")
    parser.add_argument("--cnn-batch", type=int, default=64, help="images per CNN step")
    args = parser.parse_args(argv)
    try:
        X, y = load()  # noqa: N806
    except SystemExit as e:
        print(e)
        return {}
    return {**mlp_table(args, X, y), **cnn_table(args, X, y)}


if __name__ == "__main__":
    main()
