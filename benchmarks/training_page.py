"""How long the training page and animation take, and how big they are, for the issue's case:
MLP(2, [16, 16, 1]) on 100 moons points, trained 100 epochs with fit(record=1) (101 snapshots).

Targets (issue 16): training_html under 10 s, the page under 5 MB. Prints a table of medians
over a few runs, with the time split into the numpy frames and the rest (SVG, packing, JSON).
Run on demand: python benchmarks/training_page.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import machine  # noqa: E402

import viz  # noqa: E402
from nn import MLP, SGD, datasets, fit, hinge, l2, linear_decay  # noqa: E402
from viz.training_data import compute_frames  # noqa: E402


def trained() -> tuple:
    X, y = datasets.moons(100, noise=0.1, seed=1337, signed=True)  # noqa: N806
    mlp = MLP(2, [16, 16, 1], activation="relu", seed=1337)
    history = fit(
        mlp, X, y, loss=lambda p, t: hinge(p, t) + l2(mlp.parameters(), 1e-4),
        optimizer=SGD(mlp, lr=1.0, schedule=linear_decay(1.0, 0.1, 100)), epochs=100,
        record=1, progress=False, compile=True,
    )  # fmt: skip
    return mlp, history, X, y


def timed(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3, help="runs per measurement (median; 3)")
    args = p.parse_args()
    mlp, history, X, y = trained()  # noqa: N806
    print(f"MLP 2-16-16-1, {len(history.snapshots)} snapshots, {len(X)} points; {machine()}")
    frames_s, _ = timed(lambda: compute_frames(mlp, history, X, y), args.runs)
    page_s, page = timed(lambda: viz.training_html(mlp, history, X, y), args.runs)
    gif_s, gif = timed(lambda: viz.training_animation(mlp, history, X, y), args.runs)
    size = len(page.html.encode())
    rows = [
        ("training_html", f"{page_s:.2f} s", f"{size / 1e6:.2f} MB", "10 s, 5 MB"),
        ("  of which the numpy frames", f"{frames_s:.2f} s", "", ""),
        ("training_animation (GIF)", f"{gif_s:.2f} s", f"{len(gif.data) / 1e6:.2f} MB",
         f"{gif.frames} frames"),
    ]  # fmt: skip
    print(f"{'':<30} {'median':>8} {'size':>9}  target / note")
    for name, t, s, note in rows:
        print(f"{name:<30} {t:>8} {s:>9}  {note}")


if __name__ == "__main__":
    main()
