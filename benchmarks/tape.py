"""The tape against the peers a user would pick, on micrograd's moons step and as it scales.

Every engine trains the same MLP 2-w-w-1 (ReLU, linear output) from identical weights on the
same moons points: hinge loss + 1e-4 * L2, SGD with lr = 1.0 - 0.9 k / 100 (micrograd's demo).
Ours runs through ``fit(compile=True)`` (a steady epoch: one step on the whole set, plus fit's
own work) and through the ``CompiledTrainer`` step fit drives; the peers are numpy written by
hand (the limit), PyTorch eager (float64, 1 thread), JAX ``jit`` of the whole step (float64,
1 thread) and, with ``--torch-compile``, ``torch.compile`` of the whole step (its compile takes
~30 s). Engines are timed in one process, in alternating blocks that end with gc.collect(),
as run and with the GC paused during the steps; medians. Losses are checked in lockstep first.
Run: `python benchmarks/tape.py` (`pip install -e '.[bench]'` brings micrograd and jax).
"""

from __future__ import annotations

import os

# One thread everywhere: numpy's BLAS, XLA's and (below) PyTorch's. Set before they load.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from autograd import Value  # noqa: E402
from benchmarks.common import alternate, fmt_ms, frozen_heap, machine, table  # noqa: E402
from benchmarks.peers import PEERS, Step, lr_at  # noqa: E402
from benchmarks.vs_micrograd import make_step, moons  # noqa: E402
from nn import MLP, SGD, fit, hinge, l2  # noqa: E402
from nn.compiled import CompiledTrainer  # noqa: E402

OURS = ("ours: fit(compile=True)", "ours: CompiledTrainer.step")
LIMIT = "numpy at its best"


def mlp(width: int, init: str = "uniform") -> MLP:
    """micrograd's draws (U(-1, 1) after random.seed(0)) for the moons step; the scaling
    table uses Xavier's, with which every width trains (U(-1, 1) at 256 wide and lr 1.0
    diverges: a loss of 1e91 after 100 steps)."""
    return MLP(2, [width, width, 1], seed=0, init=init)


def loss_of(params: list[Value]) -> Callable[[Any, Any], Value]:
    return lambda p, t: hinge(p, t) + l2(params, 1e-4)


def trainer_step(model: MLP, xs: list[list[float]], ys: list[float]) -> Step:
    """The step fit(compile=True) runs per batch, on the batch as fit hands it over (arrays
    made once), inside the scope fit runs its loop in (one errstate, BLAS threads chosen)."""
    params = model.parameters()
    trainer = CompiledTrainer(
        model, loss_of(params), SGD(params, lr=1.0, schedule=lr_at), pause_gc=False
    )
    x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
    trainer.bench_scope = scope = trainer.scope()  # kept: a dropped scope would close
    scope.__enter__()  # left open for the process: the benchmark's loop is fit's loop
    return lambda: trainer.step(x, y)[0]


class FitEpochs:
    """``fit(compile=True)`` for ``epochs`` epochs of one step each; ``per_step`` holds the
    steady time of an epoch (all of fit's own work, without the first epoch's trace)."""

    def __init__(self, width: int, xs: list[list[float]], ys: list[float], epochs: int) -> None:
        self.width, self.xs, self.ys, self.epochs = width, xs, ys, epochs
        self.per_step: list[float] = []

    def __call__(self) -> float:
        model = mlp(self.width)
        params = model.parameters()
        opt = SGD(params, lr=1.0, schedule=lr_at)
        start = time.perf_counter()
        history = fit(
            model, self.xs, self.ys, loss=loss_of(params), optimizer=opt, epochs=self.epochs,
            progress=False, compile=True, metrics=(),
        )  # fmt: skip
        total = time.perf_counter() - start
        self.per_step.append((total - history.seconds[0]) / (self.epochs - 1))
        return history.loss[-1]


def first_losses(make: Callable[[], Step], n: int) -> tuple[list[float], float]:
    """The first ``n`` losses of a fresh step, and the seconds its first call took (trace and
    compile, or jit: measured here, on the first instance, before any cache is warm)."""
    start = time.perf_counter()
    step = make()
    losses = [step()]
    first = time.perf_counter() - start
    return losses + [step() for _ in range(n - 1)], first


def repeated(step: Step, block_seconds: float) -> tuple[Callable[[], None], int]:
    """``step`` run n times per call, n chosen so a call lasts about ``block_seconds``."""
    step()  # warm up (first calls allocate buffers, jit compiles)
    start = time.perf_counter()
    step()
    n = max(1, round(block_seconds / max(time.perf_counter() - start, 1e-9)))

    def run() -> None:
        for _ in range(n):
            step()

    return run, n


def peak_bytes(step: Step) -> int:
    """Peak memory Python's allocator and numpy saw during one step, above where it began."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None else f"{a / b:.2f}x"


def peers(args: argparse.Namespace) -> dict[str, Callable[..., Step]]:
    """The peers installed here (numpy always), in the order of the tables."""
    found = {name: PEERS[name] for name in ("numpy at its best", "numpy by hand")}
    try:
        import torch

        torch.set_num_threads(1)
        found["PyTorch eager"] = PEERS["PyTorch eager"]
        if args.torch_compile:
            found["torch.compile"] = PEERS["torch.compile"]
    except ImportError:
        pass
    try:
        import jax  # noqa: F401

        found["JAX jit"] = PEERS["JAX jit"]
    except ImportError:
        pass
    return found


# ---- the moons step ------------------------------------------------------------------------


def moons_table(args: argparse.Namespace) -> dict[str, float]:
    xs, ys = moons()
    builders: dict[str, Callable[[], Step]] = {
        name: (lambda make=make: make(mlp(16), xs, ys)) for name, make in peers(args).items()
    }
    builders[OURS[1]] = lambda: trainer_step(mlp(16), xs, ys)
    context: dict[str, Callable[[], Step]] = {
        "ours: eager (Values)": lambda: make_step(Value, mlp(16), xs, ys)[0]
    }
    try:
        import random

        from micrograd.engine import Value as MgValue
        from micrograd.nn import MLP as MgMLP  # noqa: N811

        def micrograd() -> Step:
            random.seed(0)
            return make_step(MgValue, MgMLP(2, [16, 16, 1]), xs, ys)[0]

        context["micrograd"] = micrograd
    except ImportError:
        pass

    reference, _ = first_losses(builders[LIMIT], args.check_steps)
    diffs, setup = {}, {}
    for name, build in {**builders, **context}.items():
        losses, setup[name] = first_losses(build, args.check_steps)
        diffs[name] = max(abs(a - b) for a, b in zip(losses, reference))
    fitted = FitEpochs(16, xs, ys, args.fit_epochs)
    diffs[OURS[0]] = diffs[OURS[1]]  # the same steps; checked again in tests/nn/test_compiled.py
    steps = {name: build() for name, build in {**builders, **context}.items()}
    peaks = {name: peak_bytes(steps[name]) for name in (OURS[1], LIMIT)}

    with frozen_heap():
        runs = {name: repeated(step, args.block_seconds) for name, step in steps.items()}
        timed: dict[str, Callable[[], object]] = {name: run for name, (run, _) in runs.items()}
        timed[OURS[0]] = fitted
        as_run = alternate(timed, args.blocks, 1, pause_gc=False)
        fit_as_run = statistics.median(fitted.per_step)
        fitted.per_step.clear()
        paused = alternate(timed, args.blocks, 1, pause_gc=True)
        fit_paused = statistics.median(fitted.per_step)
    per = {name: n for name, (_, n) in runs.items()}
    as_run = {k: v / per[k] for k, v in as_run.items() if k in per} | {OURS[0]: fit_as_run}
    paused = {k: v / per[k] for k, v in paused.items() if k in per} | {OURS[0]: fit_paused}
    setup[OURS[0]] = setup[OURS[1]]

    order = [OURS[0], OURS[1], *[n for n in builders if n not in OURS], *context]
    limit, jax_ms, torch_ms = (as_run.get(k) for k in (LIMIT, "JAX jit", "PyTorch eager"))
    rows = [
        [
            name,
            fmt_ms(as_run[name]),
            fmt_ms(paused[name]),
            ratio(as_run[name], limit),
            ratio(as_run[name], jax_ms),
            ratio(as_run[name], torch_ms),
            f"{setup[name] * 1e3:,.0f} ms" if name not in context else "-",
            fmt_bytes(peaks.get(name)),
            f"{diffs[name]:.1e}",
        ]
        for name in order
    ]
    print(f"moons step: 100 points, MLP 2-16-16-1, hinge + 1e-4 L2, SGD ({machine()})")
    print(f"process imports: {imports()}; gc.freeze() after setup; load {load()}")
    header = [
        "engine",
        "ms/step",
        "GC paused",
        "x best numpy",
        "x JAX",
        "x PyTorch",
        "first step",
        "peak memory",
        "max |loss diff|",
    ]
    print(table(header, rows))
    print(
        "first step: trace + compile (ours; the fit row shares the trainer's), jit (JAX, "
        "torch.compile) or nothing; peak memory by tracemalloc (PyTorch and XLA allocate "
        f"outside it); loss diff against numpy at its best over {args.check_steps} lockstep "
        "steps; as run: the GC as a user has it (our trainer does not pause it)"
    )
    return {name: as_run[name] for name in order}


# ---- scaling -------------------------------------------------------------------------------

FIRST_EPOCH = """
import json, os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, {root!r})
from benchmarks.tape import loss_of, mlp
from benchmarks.vs_micrograd import moons
from benchmarks.peers import lr_at
from nn import SGD, fit
def peak():  # this process's high-water mark of resident memory, in bytes
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
xs, ys = moons({n})
model = mlp({width}, "xavier")
before = peak()
params = model.parameters()
start = time.perf_counter()
fit(model, xs, ys, loss=loss_of(params), optimizer=SGD(params, 1.0, schedule=lr_at),
    epochs=1, progress=False, compile=True, metrics=())
seconds = time.perf_counter() - start
print(json.dumps([seconds, before, peak()]))
"""


def first_epoch(width: int, n: int) -> tuple[float, int, int]:
    """A fresh process: (seconds for fit's first epoch: model, trace, compile and one step;
    peak RSS before it; peak RSS after it), with the model already made."""
    code = FIRST_EPOCH.format(root=str(ROOT), n=n, width=width)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, before, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, before, peak


def scaling_table(args: argparse.Namespace) -> list[dict[str, Any]]:
    found = peers(args)
    compared = [k for k in (LIMIT, "JAX jit", "torch.compile") if k in found]
    results = []
    rows = []
    for width in args.widths:
        for n in args.samples:
            xs, ys = moons(n)
            steps = {name: make(mlp(width, "xavier"), xs, ys) for name, make in found.items()}
            steps["ours"] = trainer_step(mlp(width, "xavier"), xs, ys)
            runs = {name: repeated(step, args.block_seconds) for name, step in steps.items()}
            with frozen_heap():
                times = alternate(
                    {k: r for k, (r, _) in runs.items()}, args.scaling_blocks, 1, True
                )
            ms = {k: times[k] / runs[k][1] for k in times}
            seconds, before, peak = first_epoch(width, n)
            results.append({"width": width, "samples": n, **ms, "first": seconds, "rss": peak})
            rows.append(
                [
                    f"{width}x{width}, {n} samples",
                    fmt_ms(ms["ours"]),
                    *[fmt_ms(ms[k]) for k in found],
                    *[ratio(ms["ours"], ms[k]) for k in compared],
                    f"{seconds:.2f} s",
                    f"{fmt_bytes(before)} -> {fmt_bytes(peak)}",
                ]
            )
            print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    print(
        "\nscaling: MLP 2-w-w-1 (Xavier init) on n moons points, the same step; GC paused "
        f"during steps ({machine()})"
    )
    header = ["size", "ours ms", *[f"{k} ms" for k in found], *[f"ours x {k}" for k in compared]]
    header += ["first epoch", "peak RSS"]
    print(table(header, rows))
    print(
        "ours: the CompiledTrainer step fit runs (arrays made once, as fit hands them); first "
        "epoch: fit(compile=True, epochs=1) in a fresh process: trace, compile and one step; "
        "peak RSS of that process before the model is traced -> after the epoch"
    )
    return results


def imports() -> str:
    mods = ["autograd", "nn", f"numpy {np.__version__}"]
    for name in ("torch", "jax", "micrograd"):
        if name in sys.modules:
            mods.append(f"{name} {getattr(sys.modules[name], '__version__', '')}".strip())
    return ", ".join(mods) + ", stdlib"


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=7, help="alternating blocks per mode")
    parser.add_argument("--block-seconds", type=float, default=0.4, help="length of a block")
    parser.add_argument("--check-steps", type=int, default=5, help="lockstep steps to compare")
    parser.add_argument("--fit-epochs", type=int, default=400, help="epochs in a fit block")
    parser.add_argument("--scaling-blocks", type=int, default=5, help="blocks per scaling size")
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--samples", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    parser.add_argument(
        "--torch-compile", action="store_true", help="add torch.compile rows (~30 s to compile)"
    )
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"moons": moons_table(args)}
    if not args.no_scaling:
        result["scaling"] = scaling_table(args)
    return result


if __name__ == "__main__":
    main()
