"""Training pictures with matplotlib (the ``plot`` extra): loss curves and decision boundaries."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from .page import Saveable

# The loss curve's colour, and the metrics' after it (classes have theirs in nn.outputs).
LINE_COLOURS = ("#334155", "#0072B2", "#009E73", "#CC79A7", "#E69F00")


def reader() -> Any:
    """``nn.outputs``, the one reader of model outputs (threshold, classes, plane, colours),
    imported at first use: importing viz does not import nn."""
    from nn import outputs

    return outputs


@cache
def figure_class() -> type:
    """The Figure subclass viz's plots return, made once matplotlib is imported (it is optional)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError("viz plots need matplotlib: pip install 'scalar-autograd[plot]'") from e

    class PlotFigure(Saveable, Figure):
        """A matplotlib ``Figure`` that shows inline in a notebook (as PNG) and, once written with
        ``path=`` or :meth:`save`, stands for its file: ``.path``, ``os.fspath(fig)``."""

        def _encode(self, path: str) -> bytes:
            """The figure in the format the extension names (PNG without one)."""
            buf = io.BytesIO()
            fmt = Path(path).suffix.lstrip(".").lower() or "png"
            self.savefig(buf, format=fmt, dpi=144, bbox_inches="tight")
            return buf.getvalue()

        def save(self, path: str | os.PathLike[str], who: str = "plot") -> Figure:
            """Write the figure atomically in the format the extension names; return it."""
            return super().save(path, who)

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=110, bbox_inches="tight")
            return buf.getvalue()

    return PlotFigure


def _figure(**kwargs: Any) -> Any:
    """A new figure made with matplotlib's object API: pyplot, its backend and its list of
    figures are never touched, so the learner's own ``plt.plot(...); plt.show()`` still works."""
    return figure_class()(**kwargs)


def _curves(history: Any) -> tuple[list[float], dict[str, list[float]]]:
    if hasattr(history, "loss"):
        return [float(x) for x in history.loss], {
            k: [float(x) for x in v] for k, v in (getattr(history, "metrics", None) or {}).items()
        }
    if isinstance(history, Mapping):
        rest = {k: [float(x) for x in v] for k, v in history.items() if k != "loss"}
        return [float(x) for x in history["loss"]], rest
    return [float(x) for x in history], {}


def plot_loss(
    history: Any, path: str | os.PathLike[str] | None = None, title: str = "Training"
) -> Any:
    """Loss per epoch (log scale when it spans decades), metrics on a second panel.

    The line is ``History.loss``: each epoch's mean batch loss, taken while it trained. A
    history with snapshots (``fit(record=k)``) adds the loss measured after those epochs, and
    the title quotes the last of those, as the training page, its GIF and the demos do.

    Returns a matplotlib ``Figure`` (a notebook shows it inline); with ``path`` it is also
    written there, in the format the extension names, and ``os.fspath(fig)`` is that path.
    ``history`` is an object with ``.loss`` (and optionally ``.metrics``, a dict of lists), such
    as the one ``nn.fit`` returns, a dict with a ``"loss"`` key, or a plain sequence of losses.
    """
    loss, metrics = _curves(history)
    if not loss:
        raise ValueError("plot_loss: the history has no loss values")
    # fit(record=k) also measured the loss after epochs (the model as it then was): draw those
    # and quote the last, as the training page, the GIF and the demos do.
    after = [(s.epoch, float(s.loss)) for s in getattr(history, "snapshots", None) or ()]
    panels = 2 if metrics else 1
    fig = _figure(figsize=(6.4 * panels, 4.0))
    axes = fig.subplots(1, panels, squeeze=False)
    epochs = range(1, len(loss) + 1)
    ax = axes[0][0]
    ax.plot(
        epochs,
        loss,
        color=LINE_COLOURS[0],
        lw=2,
        marker="o" if len(loss) <= 30 else None,
        ms=4,
        label="mean over the epoch, while training",
    )
    if after:
        ax.plot(
            [e for e, _ in after],
            [v for _, v in after],
            ls="none",
            marker=".",
            ms=5 if len(after) <= 60 else 3,
            color=LINE_COLOURS[1],
            label="after the epoch",
        )
        ax.legend(frameon=False, fontsize=8)
        last = f"last {after[-1][1]:.4g} after epoch {after[-1][0]}"
    else:
        last = f"last {loss[-1]:.4g}, mean over epoch {len(loss)}"
    shown = loss + [v for _, v in after]
    positive = [x for x in shown if x > 0]
    if len(positive) == len(shown) and max(positive) / min(positive) > 100:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss ({last})")
    for k, (name, values) in enumerate(metrics.items()):
        axes[0][1].plot(
            range(1, len(values) + 1),
            values,
            lw=2,
            label=name,
            color=LINE_COLOURS[(k + 1) % len(LINE_COLOURS)],
        )
    if metrics:
        axes[0][1].set(xlabel="epoch", title=f"{title}: metrics")
        axes[0][1].legend(frameon=False)
    for a in axes[0]:
        a.grid(alpha=0.3)
        a.spines[["top", "right"]].set_visible(False)
    return fig.save(path, "plot_loss") if path is not None else fig


def plot_decision_boundary(
    model: Any,
    X: Any,  # noqa: N803 - the data matrix, as in the math
    y: Any,
    path: str | os.PathLike[str] | None = None,
    resolution: int = 200,
    title: str = "Decision boundary",
    threshold: float | None = None,
) -> Any:
    """The model's decision regions over 2-D inputs with the data on top.

    Returns a matplotlib ``Figure`` (a notebook shows it inline); with ``path`` it is also
    written there and ``os.fspath(fig)`` is that path. The grid (``resolution`` points a side,
    over the data's box padded by 10 %) is evaluated under ``no_grad`` with
    ``model.predict_numpy`` when the model has one, else one call per point. Outputs are read
    as ``nn.outputs`` reads them for ``nn.accuracy`` and every other picture (argmax for several
    outputs; one output split at ``threshold``, by default 0 for -1/+1 labels and 0.5 or 0 for
    0/1 labels: probabilities or logits), and each class has its colour from there. Region edges
    are contours of the outputs, interpolated between grid points, so a boundary is drawn as the
    curve it is, not as the grid's staircase. ``y`` holds class indices, labels ±1, or one-hot
    rows.
    """
    import numpy as np

    read = reader()
    who = "plot_decision_boundary"
    X = np.asarray(X, dtype=float)  # noqa: N806
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{who}: X must have 2 columns, got shape {X.shape}")
    if (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or not 2 <= resolution <= 1000
    ):
        raise ValueError(f"{who}: resolution must be an int in 2..1000, got {resolution!r}")
    y = np.asarray(y, dtype=float).reshape(len(X), -1)
    truth = y.argmax(axis=1) if y.shape[1] > 1 else read.class_index(y[:, 0], who)
    signed = y.shape[1] == 1 and bool(np.isin(y[:, 0], (-1.0, 1.0)).all())  # hinge-style labels
    finite = np.isfinite(X).all(axis=1)
    plane = read.plane_for(X, resolution)
    points = plane.points()
    on_data = read.predict_points(model, X[finite])
    kind = "index" if on_data.shape[1] > 1 else ("pm1" if signed else "01")
    cut = None if kind == "index" else read.threshold_for(kind, on_data, threshold)
    scores = read.predict_points(model, points)
    fig = _figure(figsize=(6.4, 5.6))
    ax = fig.add_subplot()
    gx, gy = points[:, 0].reshape(resolution, -1), points[:, 1].reshape(resolution, -1)
    for k, margin in enumerate(read.margins(scores, cut)):
        # Where class k wins, margin > 0; the filled contour's edge is the interpolated zero line.
        margin = margin.reshape(gx.shape)
        if np.any(margin > 0):
            top = float(np.nanmax(margin)) + 1.0
            ax.contourf(
                gx, gy, margin, levels=[0.0, top], colors=[read.class_colour(k)], alpha=0.22
            )
            ax.contour(gx, gy, margin, levels=[0.0], colors="#334155", linewidths=1.2)
    for k in np.unique(truth):
        mask = (truth == k) & finite
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            s=26,
            color=read.class_colour(k),
            edgecolor="white",
            linewidth=0.7,
            label=("y = -1", "y = +1")[k] if signed else f"class {k}",
            zorder=3,
        )
    right = read.classes(on_data, cut) == truth[finite]
    accuracy = float(np.mean(right)) if len(right) else float("nan")
    left_out = "" if finite.all() else f", {int((~finite).sum())} rows with nan/inf not drawn"
    ax.set(
        xlim=(plane.lo[0], plane.hi[0]),
        ylim=(plane.lo[1], plane.hi[1]),
        xlabel="x0",
        ylabel="x1",
        title=f"{title} (accuracy {accuracy:.0%}{left_out})",
    )
    ax.legend(frameon=True, framealpha=0.85, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    return fig.save(path, who) if path is not None else fig


def plot_confusion(
    pred: Sequence[int],
    target: Sequence[int],
    path: str | os.PathLike[str] | None = None,
    classes: int | None = None,
    title: str = "Confusion matrix",
) -> Any:
    """How often each true class (rows) was predicted as each class (columns), with the count in
    every cell that has one. ``pred`` and ``target`` are class indices; ``classes`` defaults to
    one more than the largest. Returns a matplotlib ``Figure``; ``path`` also writes it."""
    import numpy as np

    pred, target = np.asarray(pred, dtype=int), np.asarray(target, dtype=int)
    if pred.shape != target.shape or pred.ndim != 1 or not len(pred):
        raise ValueError(
            f"plot_confusion: pred and target must be equal-length lists of class indices, "
            f"got shapes {pred.shape} and {target.shape}"
        )
    if (pred < 0).any() or (target < 0).any():
        raise ValueError("plot_confusion: class indices must be >= 0")
    n = classes or int(max(pred.max(), target.max())) + 1
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (target, pred), 1)
    fig = _figure(figsize=(5.6, 5), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues")
    top = counts.max()
    for i, j in zip(*np.nonzero(counts)):
        colour = "white" if counts[i, j] > top / 2 else "black"
        ax.text(j, i, int(counts[i, j]), ha="center", va="center", color=colour, fontsize=8)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title=title)
    if n <= len(reader().CLASS_COLOURS):  # each class's number in its colour, as in every picture
        for k, (xt, yt) in enumerate(zip(ax.get_xticklabels(), ax.get_yticklabels())):
            xt.set_color(reader().class_colour(k))
            yt.set_color(reader().class_colour(k))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return fig.save(path, "plot_confusion") if path is not None else fig
