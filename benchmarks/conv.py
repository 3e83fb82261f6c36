"""The digits CNN's training step: our eager engine, our tape and PyTorch float64, side by side.

The network is demos/digits_conv.py's (Conv2d(1, 8, 3, padding=1) relu, MaxPool2d(2),
Conv2d(8, 32, 3, padding=1) relu, MaxPool2d(2), Flatten, MLP 128-64-10 tanh), on a batch of
8x8 images (random pixels in [0, 1], random labels: the step's cost does not depend on them).
One step is forward, softmax cross-entropy, backward and an Adam update:

- eager: ``nn.train.EagerTrainer`` (what ``fit`` runs), a graph of Values per step;
- tape: ``nn.compiled.CompiledTrainer`` (what ``fit(compile=True)`` runs), the step replayed on
  arrays; "first step" is its trace + compile + one step;
- PyTorch: ``model.to_torch()`` in float64, the batch as one tensor, ``torch.optim.Adam``.

Every engine starts from the same weights and sees the same batch (the first losses are
printed side by side); one thread each (OpenBLAS and PyTorch). Engines are timed in one process,
in alternating blocks each ended by gc.collect(), as run and with the GC paused during the
steps; medians. Peak memory is the growth of the peak resident set of a fresh process over the
first step and a few more (so PyTorch's C++ allocations count too).
Run: `python benchmarks/conv.py` (needs torch for its column: `pip install -e '.[torch]'`).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# One thread everywhere, set before numpy and torch load: the target is per-thread speed, and
# two libraries' thread pools fight on a shared 2-core machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "demos")]

import numpy as np  # noqa: E402
from digits_conv import build  # noqa: E402 - the demo's network, one definition

from benchmarks.common import fmt_ms, frozen_heap, machine, table, time_block  # noqa: E402
from nn import Adam, cross_entropy  # noqa: E402
from nn.compiled import CompiledTrainer  # noqa: E402
from nn.train import EagerTrainer  # noqa: E402

LR = 0.005
Step = Callable[[], float]


def batch(n: int, seed: int = 0) -> tuple[list[Any], list[int]]:
    rng = random.Random(seed)
    xs = [[[[rng.random() for _ in range(8)] for _ in range(8)]] for _ in range(n)]
    return xs, [rng.randrange(10) for _ in range(n)]


def ours(trainer_class: type, xs: list[Any], ys: list[int]) -> Step:
    model = build(seed=0)
    # pause_gc=False: the timing loop decides when the GC runs (as run, or paused)
    trainer = trainer_class(model, cross_entropy, Adam(model.parameters(), lr=LR), False)
    if trainer_class is CompiledTrainer:  # as fit(compile=True) runs it: arrays made once,
        xa, ya = np.array(xs, dtype=float), np.array(ys, dtype=float)  # inside fit's scope
        trainer.bench_scope = scope = trainer.scope()  # kept: a dropped scope would close
        scope.__enter__()
        return lambda: trainer.step(xa, ya)[0]
    return lambda: trainer.step(xs, ys)[0]


def pytorch(xs: list[Any], ys: list[int]) -> Step:
    import torch

    net = build(seed=0).to_torch()
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys)

    def step() -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def engines(xs: list[Any], ys: list[int], with_torch: bool) -> dict[str, Step]:
    built = {
        "eager": ours(EagerTrainer, xs, ys),
        "tape": ours(CompiledTrainer, xs, ys),
    }
    if with_torch:
        built["PyTorch float64"] = pytorch(xs, ys)
    return built


def timed(steps: dict[str, Step], budget: float, blocks: int, pause_gc: bool) -> dict[str, float]:
    """Median seconds per step, engines in alternating blocks of about ``budget`` seconds."""
    per_block = {}
    for name, step in steps.items():
        step()  # warm up: the tape's first step traces
        start = time.perf_counter()
        step()
        per_block[name] = max(1, round(budget / max(time.perf_counter() - start, 1e-6)))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(blocks):
        for name, step in steps.items():
            samples[name].append(time_block(step, per_block[name], pause_gc))
    return {name: float(np.median(s)) for name, s in samples.items()}


def memory_child(engine: str, n: int) -> None:
    """In a fresh process: the first step (a trace, for the tape) and four more; print the
    growth of the peak resident set over the process as it was before the first step."""
    xs, ys = batch(n)
    step = engines(xs, ys, engine == "PyTorch float64")[engine]
    before = peak_rss_kb()
    for _ in range(5):
        step()
    print(json.dumps({"kB": peak_rss_kb() - before}))


def peak_rss_kb() -> int:
    """This process's peak resident set, in kB. Linux's VmHWM belongs to the process image;
    ru_maxrss would start from the parent's peak, inherited across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_memory(engine: str, n: int) -> int:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", engine, "--batch", str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(json.loads(out.stdout.splitlines()[-1])["kB"]) * 1024


def first_step_seconds(n: int) -> float:
    """The tape's first step: trace + compile + one replay (median of three fresh tapes)."""
    xs, ys = batch(n)
    times = []
    for _ in range(3):
        step = ours(CompiledTrainer, xs, ys)
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def profile_tape(n: int, steps: int = 20, top: int = 15) -> None:
    """Where a tape step's time goes: cumulative time of the busiest functions."""
    xs, ys = batch(n)
    step = ours(CompiledTrainer, xs, ys)
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    print(f"\ntape step profile ({steps} steps, batch {n}), by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32, help="images per step (default: 32)")
    p.add_argument("--blocks", type=int, default=7, help="timed blocks per engine (default: 7)")
    p.add_argument("--block-seconds", type=float, default=0.5, help="default: 0.5")
    p.add_argument("--profile", action="store_true", help="also profile the tape's step")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args.batch)
        return {}
    try:
        import torch

        torch.set_num_threads(1)
        versions = f"numpy {np.__version__}, torch {torch.__version__} (1 thread)"
    except ImportError:
        torch = None
        versions = f"numpy {np.__version__} (torch not installed: no PyTorch column)"

    xs, ys = batch(args.batch)
    load = os.getloadavg()[0]
    first_losses = {name: step() for name, step in engines(xs, ys, torch is not None).items()}
    first = first_step_seconds(args.batch)
    memory = {name: peak_memory(name, args.batch) for name in first_losses}
    steps = engines(xs, ys, torch is not None)
    with frozen_heap():
        as_run = timed(steps, args.block_seconds, args.blocks, pause_gc=False)
        paused = timed(steps, args.block_seconds, args.blocks, pause_gc=True)

    reference = as_run.get("PyTorch float64")
    reference_paused = paused.get("PyTorch float64")
    rows = []
    for name in steps:
        rows.append(
            [
                name,
                fmt_ms(as_run[name]),
                fmt_ms(paused[name]),
                f"{as_run[name] / reference:.1f}x" if reference else "-",
                f"{paused[name] / reference_paused:.1f}x" if reference_paused else "-",
                f"{fmt_ms(first)} ms" if name == "tape" else "-",
                f"{memory[name] / 1e6:.0f} MB",
                f"{first_losses[name]:.12f}",
            ]
        )
    print(
        f"digits CNN training step, batch {args.batch}, Adam, float64 "
        f"({machine()}; load {load:.2f} -> {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d')})"
    )
    print(f"imported: {versions}")
    header = [
        "engine",
        "ms/step",
        "ms/step, GC paused",
        "vs PyTorch",
        "vs PyTorch, paused",
        "first step (trace)",
        "peak memory",
        "first loss",
    ]
    print(table(header, rows))
    if args.profile:
        profile_tape(args.batch)
    result = {f"{name} ms": as_run[name] * 1e3 for name in steps}
    if reference:
        result["tape vs PyTorch"] = as_run["tape"] / reference
    return result


if __name__ == "__main__":
    main()
