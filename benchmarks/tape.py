"""The tape against micrograd, our eager engine and PyTorch on micrograd's moons training step.

Every engine trains the same MLP 2-16-16-1 (ReLU, linear output) from identical weights on the
same 100 moons points: hinge loss + 1e-4 * L2, SGD with lr = 1.0 - 0.9 k / 100, as in
micrograd's demo notebook. Engines are timed in one process, in alternating blocks (each ended by
gc.collect()), as run and with the GC paused during the steps; medians. A second table scales
the network and the batch: ms/step and ns per edge of the scalar graph, eager and tape.
Run: `python benchmarks/tape.py` (needs micrograd: `pip install -e '.[bench]'`; torch optional).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

# numpy's OpenBLAS threads and torch's OpenMP threads fight when one process loads both: at
# 64x400 the tape's matrix products ran 10-20x slower. One BLAS thread for numpy (set before
# numpy loads) only handicaps the tape; PyTorch keeps its default threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from autograd import Value, trace  # noqa: E402
from benchmarks.common import alternate, frozen_heap, machine, table  # noqa: E402
from benchmarks.vs_micrograd import hinge_l2, lr_at, make_step, moons  # noqa: E402
from nn import MLP  # noqa: E402

Step = Callable[[], float]


# ---- the step, once per engine ------------------------------------------------------------------


def tape_step(model: Any, xs: list[list[float]], ys: list[int]) -> tuple[Step, float, Any]:
    """The same step on a tape: (step, seconds to trace and compile, tape)."""
    params = model.parameters()
    x, y = np.array(xs), np.array(ys, dtype=float)
    start = time.perf_counter()
    tape = trace(hinge_l2(model, params), x, y)
    traced = time.perf_counter() - start
    k = [0]

    def step() -> float:
        loss = tape(x, y)
        for p in params:
            p.grad = 0.0
        tape.backward()
        lr = lr_at(k[0])
        for p in params:
            p.data -= lr * p.grad
        k[0] += 1
        return loss

    return step, traced, tape


def torch_batched_step(model: Any, xs: list[list[float]], ys: list[int]) -> Step:
    """PyTorch as people write it: float64 weight matrices, the batch as one tensor."""
    import torch

    params = []
    for w, b, _ in model.to_numpy():
        params += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    opt = torch.optim.SGD(params, lr=1.0)
    k = [0]

    def step() -> float:
        h = torch.relu(x @ params[0].T + params[1])
        h = torch.relu(h @ params[2].T + params[3])
        scores = (h @ params[4].T + params[5])[:, 0]
        data_loss = torch.relu(1 - y * scores).mean()
        loss = data_loss + 1e-4 * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = lr_at(k[0])
        opt.step()
        k[0] += 1
        return loss.item()

    return step


class TorchScalarMLP:
    """micrograd's MLP with every number a one-element float64 tensor: PyTorch's per-op cost."""

    def __init__(self, model: Any) -> None:
        import torch

        def scalar(v: float) -> Any:
            return torch.tensor(v, dtype=torch.float64, requires_grad=True)

        self.layers = [
            [([scalar(w) for w in row], scalar(bias)) for row, bias in zip(w, b)]
            for w, b, _ in model.to_numpy()
        ]

    def __call__(self, x: list[Any]) -> Any:
        for i, layer in enumerate(self.layers):
            out = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
            x = out if i == len(self.layers) - 1 else [o.relu() for o in out]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for w, b in layer for p in [*w, b]]


def torch_scalar_step(model: Any, xs: list[list[float]], ys: list[int]) -> Step:
    import torch

    net = TorchScalarMLP(model)
    params = net.parameters()
    rows = [[torch.tensor(v, dtype=torch.float64) for v in row] for row in xs]
    k = [0]

    def step() -> float:
        scores = list(map(net, rows))
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        loss = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        lr = lr_at(k[0])
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        k[0] += 1
        return loss.item()

    return step


# ---- measuring ----------------------------------------------------------------------------------


def repeated(step: Step, block_seconds: float) -> tuple[Callable[[], None], int]:
    """``step`` run n times per call, n chosen so a call lasts about ``block_seconds``: fast
    engines get long enough blocks, and the block's closing gc.collect() is amortized."""
    step()  # warm up (first calls allocate buffers)
    start = time.perf_counter()
    step()
    n = max(1, round(block_seconds / max(time.perf_counter() - start, 1e-9)))

    def run() -> None:
        for _ in range(n):
            step()

    return run, n


def peak_bytes(step: Step) -> int:
    """Peak memory Python's allocator (and numpy) saw during one step, above where it began."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def load() -> str:
    """The 1-minute load average: other work on the machine skews every number."""
    return f"{os.getloadavg()[0]:.2f}"


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3f}" if ms < 10 else f"{ms:.1f}"


def fmt_ratio(r: float) -> str:
    """A speed ratio: whole numbers from 10 up, one decimal below (0.4x, not 0x)."""
    return f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


# ---- the tables ---------------------------------------------------------------------------------


def moons_table(args: argparse.Namespace) -> dict[str, float]:
    from micrograd.engine import Value as MgValue
    from micrograd.nn import MLP as MgMLP  # noqa: N811

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and args.torch_threads:
        # On a busy 2-core machine two intra-op threads wait on each other: blocks of the
        # batched step swung between 2 and 95 ms/step with 2 threads, 0.8-2.4 ms with 1.
        torch.set_num_threads(args.torch_threads)

    xs, ys = moons()
    load_before = load()

    def mlp(fused: bool = False) -> MLP:
        return MLP(2, [16, 16, 1], seed=0, fused=fused)  # micrograd's draws after seed(0)

    def micrograd() -> Step:
        random.seed(0)
        return make_step(MgValue, MgMLP(2, [16, 16, 1]), xs, ys)[0]

    def builders() -> dict[str, Callable[[], Step]]:
        """Fresh steps from identical weights."""
        engines = {
            "micrograd": micrograd,
            "ours eager": lambda: make_step(Value, mlp(), xs, ys)[0],
            "ours fused": lambda: make_step(Value, mlp(fused=True), xs, ys)[0],
            "ours tape": lambda: tape_step(mlp(), xs, ys)[0],
            "ours tape, fused model": lambda: tape_step(mlp(fused=True), xs, ys)[0],
        }
        if torch is not None:
            engines["PyTorch batched"] = lambda: torch_batched_step(mlp(), xs, ys)
            engines["PyTorch 1-element"] = lambda: torch_scalar_step(mlp(), xs, ys)
        return engines

    # Same numbers first: every engine's losses against micrograd's over the first steps.
    reference = micrograd()
    expected = [reference() for _ in range(args.check_steps)]
    diffs = {}
    for name, build in builders().items():
        step = build()
        diffs[name] = max(abs(step() - e) for e in expected)

    steps = {name: build() for name, build in builders().items()}
    peaks = {
        name: (None if name.startswith("PyTorch") else peak_bytes(step))
        for name, step in steps.items()
    }
    traced = {}
    for name, fused in (("ours tape", False), ("ours tape, fused model", True)):
        runs = [tape_step(mlp(fused), xs, ys) for _ in range(3)]
        traced[name] = (statistics.median(seconds for _, seconds, _ in runs), runs[0][2].stats)

    with frozen_heap():
        runs = {name: repeated(step, args.block_seconds) for name, step in steps.items()}
        timed = {name: run for name, (run, _) in runs.items()}
        per = {name: n for name, (_, n) in runs.items()}
        as_run = alternate(timed, args.blocks, 1, pause_gc=False)
        paused = alternate(timed, args.blocks, 1, pause_gc=True)
    as_run = {k: v / per[k] for k, v in as_run.items()}
    paused = {k: v / per[k] for k, v in paused.items()}

    mg, mg_paused = as_run["micrograd"], paused["micrograd"]
    torch_ms = as_run.get("PyTorch batched")
    eager_step = as_run["ours eager"]
    rows = []
    for name in steps:
        trace_cell = "-"
        if name in traced:
            seconds = traced[name][0]
            trace_cell = f"{seconds * 1e3:.0f} ms = {seconds / eager_step:.1f} eager steps"
        rows.append(
            [
                name,
                fmt_ms(as_run[name]),
                fmt_ratio(mg / as_run[name]),
                fmt_ms(paused[name]),
                fmt_ratio(mg_paused / paused[name]),
                f"{as_run[name] / torch_ms:.2f}x" if torch_ms else "-",
                fmt_bytes(peaks[name]),
                trace_cell,
                f"{diffs[name]:.1e}",
            ]
        )
    print(f"moons step: 100 points, MLP 2-16-16-1, hinge + 1e-4 L2, SGD ({machine()})")
    imported = f"numpy {np.__version__}, micrograd"
    if torch is not None:
        imported += f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    print(f"process imports: autograd, nn, {imported}, stdlib; gc.freeze() after setup")
    print(f"numpy BLAS threads: {blas}; load average before: {load_before}, after: {load()}")
    print(
        table(
            [
                "engine",
                "ms/step",
                "vs micrograd",
                "ms/step GC paused",
                "vs micrograd",
                "vs PyTorch batched",
                "peak memory",
                "trace + compile",
                "max |loss diff|",
            ],
            rows,
        )
    )
    stats = traced["ours tape"][1]
    print(
        f"tape: {stats['nodes']:,} traced nodes, {stats['edges']:,} edges -> {stats['slots']:,} "
        f"slots, {stats['levels']} levels, {stats['kernels']} kernels ({stats['grids']} matrix "
        f"products); peak memory by tracemalloc (PyTorch's C++ allocator is not traced); "
        f"max |loss diff| against micrograd over {args.check_steps} lockstep steps"
    )
    result = {
        "tape_vs_micrograd": mg / as_run["ours tape"],
        "tape_vs_micrograd_paused": mg_paused / paused["ours tape"],
        "trace_in_eager_steps": traced["ours tape"][0] / eager_step,
    }
    if torch_ms:
        result["tape_vs_torch"] = as_run["ours tape"] / torch_ms
    return result


def scaling_table(args: argparse.Namespace) -> float:
    """ms/step and ns per edge, eager and tape, GC paused; returns the tape's ns/edge at the
    largest size."""
    rows, last = [], math.nan
    for width in args.widths:
        for n in args.samples:
            xs, ys = moons(n)
            eager = make_step(Value, MLP(2, [width, width, 1], seed=0), xs, ys)[0]
            tape, seconds, traced = tape_step(MLP(2, [width, width, 1], seed=0), xs, ys)
            edges = traced.stats["edges"]
            del traced
            eager_run, eager_n = repeated(eager, args.block_seconds)
            tape_run, tape_n = repeated(tape, args.block_seconds)
            times = alternate({"eager": eager_run, "tape": tape_run}, args.scaling_blocks, 1, True)
            t_eager, t_tape = times["eager"] / eager_n, times["tape"] / tape_n
            last = t_tape / edges * 1e9
            rows.append(
                [
                    f"{width}x{width}, {n} samples",
                    f"{edges:,}",
                    fmt_ms(t_eager),
                    f"{t_eager / edges * 1e9:.0f}",
                    fmt_ms(t_tape),
                    f"{last:.2f}",
                    f"{t_eager / t_tape:,.0f}x",
                    f"{seconds / t_eager:.1f}",
                ]
            )
            print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    print("\nscaling: MLP 2-w-w-1 on n moons points, the same step; GC paused during steps")
    print(
        table(
            [
                "size",
                "edges",
                "eager ms/step",
                "eager ns/edge",
                "tape ms/step",
                "tape ns/edge",
                "tape speedup",
                "trace + compile (eager steps)",
            ],
            rows,
        )
    )
    return last


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=5, help="alternating blocks per mode")
    parser.add_argument("--block-seconds", type=float, default=0.5, help="target length of a block")
    parser.add_argument(
        "--check-steps", type=int, default=5, help="lockstep steps to compare losses"
    )
    parser.add_argument("--scaling-blocks", type=int, default=3, help="blocks per scaling size")
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--samples", type=int, nargs="+", default=[50, 100, 400])
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch.set_num_threads (default: 1, PyTorch's best here; 0: its own default)",
    )
    args = parser.parse_args(argv)
    try:
        import micrograd  # noqa: F401
    except ImportError:
        sys.exit("micrograd is not installed: pip install -e '.[bench]'")
    result = moons_table(args)
    if not args.no_scaling:
        result["tape_ns_per_edge_largest"] = scaling_table(args)
    return result


if __name__ == "__main__":
    main()
