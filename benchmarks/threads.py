"""The BLAS thread cliff: a compiled step with one core kept busy by another process.

numpy's BLAS starts as many threads as there are cores. When another process holds one of
them, each matrix product waits for the thread that got no core: a 64x1000 step took 30x
longer. ``fit(compile=True)`` chooses the thread count for its scope (``nn.compiled``:
threadpoolctl). This times the CompiledTrainer step at 64x1000 in one process, in alternating
blocks: inside fit's scope and with BLAS's default threads, each with and without a busy loop
(``python -c "while 1: pass"``) running beside it, against the step pinned to one thread on
a quiet core. Run: `python benchmarks/threads.py` (do not pin OPENBLAS_NUM_THREADS).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from benchmarks.common import fmt_ms, machine, table  # noqa: E402
from benchmarks.peers import lr_at  # noqa: E402
from benchmarks.tape import loss_of, mlp  # noqa: E402
from benchmarks.vs_micrograd import moons  # noqa: E402
from nn import SGD  # noqa: E402
from nn.compiled import CompiledTrainer, blas_threads  # noqa: E402


def median_step(trainer: CompiledTrainer, x: np.ndarray, y: np.ndarray, steps: int) -> float:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        trainer.step(x, y)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=40, help="steps per block")
    parser.add_argument("--blocks", type=int, default=5)
    args = parser.parse_args(argv)
    xs, ys = moons(args.samples)
    x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
    model = mlp(args.width, "xavier")
    params = model.parameters()
    trainer = CompiledTrainer(
        model, loss_of(params), SGD(params, lr=1.0, schedule=lr_at), pause_gc=False
    )
    trainer.step(x, y)  # trace and compile
    flops = 3.0 * len(params) * len(y)
    samples: dict[str, list[float]] = {}

    def run(name: str, busy: bool, how: str) -> None:
        loop = None
        if busy:
            loop = subprocess.Popen([sys.executable, "-c", "while 1: pass"])
            time.sleep(0.2)
        try:
            if how == "pinned":
                with threadpool_limits(1, user_api="blas"), np.errstate(all="ignore"):
                    t = median_step(trainer, x, y, args.steps)
            elif how == "fit's scope":
                with trainer.scope(flops):
                    t = median_step(trainer, x, y, args.steps)
            else:
                t = median_step(trainer, x, y, args.steps)
        finally:
            if loop is not None:
                loop.kill()
                loop.wait()
        samples.setdefault(name, []).append(t)

    cases = [
        ("one BLAS thread, no busy loop", False, "pinned"),
        ("fit's scope, one core busy", True, "fit's scope"),
        ("BLAS default threads, one core busy", True, "default"),
        ("fit's scope, no busy loop", False, "fit's scope"),
    ]
    for block in range(args.blocks):
        k = block % len(cases)
        for name, busy, how in cases[k:] + cases[:k]:
            run(name, busy, how)
    ms = {name: statistics.median(ts) for name, ts in samples.items()}
    pinned = ms[cases[0][0]]
    print(
        f"BLAS threads: CompiledTrainer step, MLP 2-{args.width}-{args.width}-1 on "
        f"{args.samples} points ({machine()}); fit chooses {blas_threads(flops)} thread(s) now"
    )
    rows = [[name, fmt_ms(t), f"{t / pinned:.2f}x"] for name, t in ms.items()]
    print(table(["case", "ms/step", "x pinned"], rows))
    return ms


if __name__ == "__main__":
    main()
