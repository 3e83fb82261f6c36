"""What every demo shares: the repo on sys.path, the common flags, and how results are printed.

Each demo imports this first, so ``python demos/moons.py`` works from a checkout whether or not
the project is installed: the repo root goes on ``sys.path`` before ``autograd``, ``nn`` or
``viz`` are imported.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parser(doc: str | None, seed: int | None) -> argparse.ArgumentParser:
    """An ArgumentParser whose help is the demo's docstring, with ``--out`` and, for demos that
    draw random numbers (``seed`` not None), ``--seed``. Every demo starts here, so this is also
    where a console that cannot show ∂ (Windows' cp1252) gets ASCII instead of an error."""
    from viz.console import ascii_fallback  # here, not at the top: the repo is on sys.path now

    ascii_fallback(sys.stdout, sys.stderr)
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default="out", help="folder for the pictures (default: out)")
    if seed is not None:
        p.add_argument("--seed", type=int, default=seed, help=f"random seed (default: {seed})")
    return p


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def out_dir(path: str) -> Path:
    """The output folder, created if missing."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def report(name: str, result: str, files: Iterable[str]) -> None:
    """The demo's one-line result, then where its pictures went (one folder: named once)."""
    paths = [Path(f) for f in files]
    folders = {f.parent for f in paths}
    if len(folders) == 1:
        where = f"{folders.pop()}/: {', '.join(f.name for f in paths)}"
    else:
        where = ", ".join(map(str, paths))
    print(f"{name}: {result}")
    print(f"{' ' * len(name)}  wrote {where}")


def train_classifier(
    mlp: Any,
    X: list,  # noqa: N803 - the name every ML text uses
    y: list,
    regions: Path,
    curves: Path,
    title: str,
    **fit_args: Any,
) -> dict:
    """``nn.fit`` timed, then the decision regions and the loss curves drawn; returns the
    training accuracy, the loss per epoch, the seconds ``fit`` took, which engine ran ("tape" with
    ``compile=True``, else "eager"), the two files and the ``History``."""
    import viz  # here, not at the top: the repo must be on sys.path first
    from nn import accuracy, fit, predict

    start = time.perf_counter()
    history = fit(mlp, X, y, **fit_args)
    seconds = time.perf_counter() - start
    files = [
        os.fspath(viz.plot_decision_boundary(mlp, X, y, regions, title=title)),
        os.fspath(viz.plot_loss(history, curves, title=title.split(":")[0])),
    ]
    acc = accuracy(predict(mlp, X), y)
    engine = "tape" if fit_args.get("compile") else "eager"
    return {
        "accuracy": acc,
        "loss": history.loss,
        "seconds": seconds,
        "engine": engine,
        "files": files,
        "history": history,
    }


def loss_summary(history: Any) -> str:
    """The loss from first to last, said the way every picture says it: the last as measured
    after the final epoch (what the plot's title, the page and the GIF quote) when fit recorded
    snapshots, with the mean over that epoch's batches (the progress line's number) beside it."""
    first, mean = history.loss[0], history.loss[-1]
    if history.snapshots:
        after = history.snapshots[-1].loss
        return f"{first:.4g} -> {after:.4g} after the last epoch (mean during it {mean:.4g})"
    return f"{first:.4g} -> {mean:.4g} (mean over the last epoch)"


def replay_training(mlp: Any, history: Any, X: list, y: list, stem: Path) -> list[str]:  # noqa: N803
    """The training page (``<stem>_training.html``) and animation (``<stem>_training.gif``) of
    a ``fit(..., record=k)``; returns the two paths."""
    import viz

    page = viz.training_html(mlp, history, X, y, stem.with_name(stem.name + "_training.html"))
    gif = viz.training_animation(mlp, history, X, y, stem.with_name(stem.name + "_training.gif"))
    return [page.path, gif.path]
