"""Our engine against the `micrograd` package on micrograd's moons training step.

Both engines train the same MLP 2-16-16-1 (ReLU, linear output; ours is nn.MLP) from
identical weights on the same 100 moons points: hinge loss + 1e-4 * L2, SGD with
lr = 1.0 - 0.9 k / 100, as in micrograd's demo notebook. Timed in one process, in alternating
blocks, medians; each block ends with gc.collect(). Run: `make bench`.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Value  # noqa: E402
from autograd.graph import topological_order  # noqa: E402
from benchmarks.common import alternate, frozen_heap, machine, table  # noqa: E402
from nn import MLP  # noqa: E402


def moons(
    n: int = 100, noise: float = 0.1, seed: int = 1337
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, labels -1/+1 (micrograd's demo uses the same shape)."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * (i % (n // 2)) / (n // 2 - 1)
        if i < n // 2:
            x, y, label = math.cos(t), math.sin(t), -1
        else:
            x, y, label = 1 - math.cos(t), 0.5 - math.sin(t), 1
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(label)
    return xs, ys


def our_mlp_like(theirs: object) -> MLP:
    """Our nn.MLP with the weights of a micrograd MLP (same layout, same graph)."""
    ours = MLP(2, [16, 16, 1])
    for our_layer, their_layer in zip(ours.layers, theirs.layers):
        for our_n, their_n in zip(our_layer.neurons, their_layer.neurons):
            for w, v in zip(our_n.w, their_n.w):
                w.data = v.data
            our_n.b.data = their_n.b.data
    return ours


def lr_at(k: int) -> float:
    """micrograd's demo schedule: 1.0 falling linearly to 0.1 over 100 steps, then again."""
    return 1.0 - 0.9 * (k % 100) / 100


def hinge_l2(model: object, params: list) -> Callable[[list, list], object]:
    """micrograd's demo loss as a function of the batch (input Values, labels ±1): mean hinge
    loss plus 1e-4 times the sum of squared parameters. Works on any Value class."""

    def loss(inputs: list, ys: list) -> object:
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg = 1e-4 * sum(p * p for p in params)
        return data_loss + reg

    return loss


def make_step(value_cls: type, model: object, xs: list[list[float]], ys: list[int]):
    """micrograd's demo training step, written once for any Value class with its API."""
    params = model.parameters()
    loss_of = hinge_l2(model, params)
    k = [0]

    def loss_fn():
        return loss_of([list(map(value_cls, row)) for row in xs], ys)

    def step() -> float:
        loss = loss_fn()
        for p in params:
            p.grad = 0.0
        loss.backward()
        lr = lr_at(k[0])
        for p in params:
            p.data -= lr * p.grad
        k[0] += 1
        return loss.data

    return step, loss_fn


def bytes_per_node(loss_fn) -> tuple[float, int]:
    """Memory the forward graph holds, per node, as tracemalloc counts it."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    loss = loss_fn()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    nodes = len(topological_order(loss)) if isinstance(loss, Value) else _count_micrograd(loss)
    return used / nodes, nodes


def _count_micrograd(root: object) -> int:
    seen, stack = set(), [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            stack.extend(v._prev)
    return len(seen)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=7, help="alternating blocks per mode")
    parser.add_argument("--steps", type=int, default=3, help="training steps per block")
    parser.add_argument(
        "--check-steps", type=int, default=20, help="lockstep steps to compare losses"
    )
    args = parser.parse_args(argv)

    try:
        from micrograd import nn as micrograd_nn
        from micrograd.engine import Value as MgValue
    except ImportError:
        sys.exit("micrograd is not installed: run `make bench`, which installs it into .venv")

    xs, ys = moons()

    def fresh() -> tuple:
        random.seed(0)  # micrograd's MLP draws its weights from the global random module
        theirs = micrograd_nn.MLP(2, [16, 16, 1])
        ours = our_mlp_like(theirs)
        return make_step(MgValue, theirs, xs, ys), make_step(Value, ours, xs, ys)

    (mg_step, _), (our_step, _) = fresh()
    diff = max(abs(mg_step() - our_step()) for _ in range(args.check_steps))

    (mg_step, mg_loss), (our_step, our_loss) = fresh()
    engines = {"micrograd": mg_step, "ours": our_step}
    with frozen_heap():
        as_run = alternate(engines, args.blocks, args.steps, pause_gc=False)
        paused = alternate(engines, args.blocks, args.steps, pause_gc=True)
    mg_bytes, mg_nodes = bytes_per_node(mg_loss)
    our_bytes, our_nodes = bytes_per_node(our_loss)

    rows = []
    for name, nbytes, nodes in (("micrograd", mg_bytes, mg_nodes), ("ours", our_bytes, our_nodes)):
        rows.append(
            [
                name,
                f"{as_run[name] * 1e3:.1f}",
                f"{as_run['micrograd'] / as_run[name]:.1f}x",
                f"{paused[name] * 1e3:.1f}",
                f"{paused['micrograd'] / paused[name]:.1f}x",
                f"{nodes}",
                f"{nbytes:.0f}",
            ]
        )
    print(f"moons step: 100 points, MLP 2-16-16-1, hinge + 1e-4 L2, SGD ({machine()})")
    print("process imports: autograd, nn (numpy, tqdm), micrograd, stdlib; gc.freeze() after setup")
    print(
        table(
            [
                "engine",
                "ms/step",
                "vs micrograd",
                "ms/step GC paused",
                "vs micrograd",
                "nodes",
                "bytes/node",
            ],
            rows,
        )
    )
    print(f"max |loss difference| over {args.check_steps} lockstep steps: {diff:.3g}")
    return {
        "speedup_as_run": as_run["micrograd"] / as_run["ours"],
        "speedup_paused": paused["micrograd"] / paused["ours"],
        "bytes_per_node": our_bytes,
        "loss_diff": diff,
    }


if __name__ == "__main__":
    main()
