"""``fit(..., live=True)``: one inline figure kept up to date while a model trains.

In a Jupyter kernel the view shows one PNG (the loss so far and, for 2-D inputs, the decision
regions with the data, in the colours of every other picture: ``nn.outputs``) and redraws it in
place, through a display id, so the cell's output never grows. It draws after the first epoch,
then only while the drawings so far, and one more like the last, stay within ``BUDGET`` of the
training time so far, and always after the last epoch: drawing costs about ``BUDGET`` of the
training time, plus the final picture. Outside a notebook it does nothing and prints nothing
(the progress bar or log lines still report). matplotlib and IPython are imported only when a
view is shown.
"""

from __future__ import annotations

import io
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import outputs
from .progress import in_notebook

BUDGET = 0.07  # the share of training time the drawings may take (the first one included)
GRID = 48  # points a side of the decision-region grid


class Off:
    """``live=False``, or not in a notebook: shows nothing."""

    seconds = 0.0
    drawings = 0

    def update(self, epoch: int, history: Any) -> None:
        pass

    def close(self) -> None:
        pass


def live_view(model: Any, X: Sequence[Any], y: Sequence[Any], epochs: int, enabled: bool) -> Any:  # noqa: N803
    """What ``fit`` updates each epoch: a :class:`LiveView` in a notebook, else :class:`Off`."""
    if not enabled or epochs < 1 or not in_notebook():
        return Off()
    return LiveView(model, X, y, epochs)


class LiveView:
    """One figure in the cell's output, redrawn in place as training goes (see the module doc).
    ``seconds`` is the time spent drawing, ``drawings`` how many times it drew."""

    def __init__(self, model: Any, X: Sequence[Any], y: Sequence[Any], epochs: int) -> None:  # noqa: N803
        self.model, self.epochs = model, epochs
        self.seconds, self.drawings, self.handle = 0.0, 0, None
        self.cost = 0.0  # what the last drawing took
        self.since = time.perf_counter()  # when training resumed after the last drawing
        self.trained = 0.0  # training time so far, drawings left out
        rows = np.asarray(X, dtype=float) if _numeric(X) else None
        self.X = rows if rows is not None and rows.ndim == 2 and rows.shape[1] == 2 else None
        self.y = np.asarray(y, dtype=float).reshape(len(y), -1) if self.X is not None else None
        self.plane = outputs.plane_for(self.X, GRID) if self.X is not None else None

    def update(self, epoch: int, history: Any) -> None:
        now = time.perf_counter()
        self.trained += now - self.since
        last = epoch + 1 >= self.epochs
        if self.drawings and not last and self.seconds + self.cost > BUDGET * self.trained:
            self.since = now
            return
        self._draw(epoch, history)
        end = time.perf_counter()
        self.cost = end - now
        self.seconds += self.cost
        self.since = end

    def close(self) -> None:
        """Nothing to release: the figure stays in the cell as it was last drawn."""

    def _draw(self, epoch: int, history: Any) -> None:
        from IPython.display import Image, display

        png = self._png(epoch, history)
        if self.handle is None:
            self.handle = display(Image(data=png), display_id=True)
        else:
            self.handle.update(Image(data=png))
        self.drawings += 1

    def _png(self, epoch: int, history: Any) -> bytes:
        """The figure as PNG: made at the first drawing, its artists updated after that."""
        if not hasattr(self, "fig"):
            self._make_figure()
        loss = np.asarray(history.loss, dtype=float)
        self.curve.set_data(np.arange(1, len(loss) + 1), loss)
        finite = loss[np.isfinite(loss)]
        log = bool(finite.size and (finite > 0).all() and finite.max() / finite.min() > 100)
        self.loss_ax.set_yscale("log" if log else "linear")
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
            self.loss_ax.set_ylim((lo / 1.2, hi * 1.2) if log else (lo - pad, hi + pad))
        self.loss_ax.set_title(
            f"loss, mean over epoch {epoch + 1}/{self.epochs}: {loss[-1]:.4g}", fontsize=10
        )
        if self.plane is not None:
            self._regions(history)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()

    def _make_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        planar = self.plane is not None
        self.fig = Figure(figsize=(8.4 if planar else 4.4, 3.2), dpi=72)
        FigureCanvasAgg(self.fig)
        axes = self.fig.subplots(1, 2 if planar else 1, squeeze=False)[0]
        self.fig.subplots_adjust(left=0.09 if planar else 0.16, right=0.97, bottom=0.15, top=0.88,
                                 wspace=0.25)  # fmt: skip
        self.loss_ax = axes[0]
        (self.curve,) = self.loss_ax.plot([], [], color="#334155", lw=1.8)
        self.loss_ax.set(xlim=(0.5, max(self.epochs, 2) + 0.5), xlabel="epoch")
        self.loss_ax.grid(alpha=0.3)
        self.regions_ax = axes[1] if planar else None
        self.image = None

    def _regions(self, history: Any) -> None:
        """The classes the model gives the plane now, with the data on top."""
        ax, plane, X = self.regions_ax, self.plane, self.X  # noqa: N806
        n = plane.resolution
        scores = outputs.predict_points(self.model, plane.points())
        on_data = outputs.predict_points(self.model, X[np.isfinite(X).all(axis=1)])
        y = self.y
        if y.shape[1] > 1 or scores.shape[1] > 1:
            truth, cut = (y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0].astype(int)), None
        else:
            kind = outputs.labels_kind(0.0, y[:, 0].tolist())
            if kind is None:  # regression: no classes to colour
                ax.set_axis_off()
                return
            truth = outputs.class_index(y[:, 0], "fit(live=True)")
            cut = outputs.threshold_for(kind, on_data)
        classes = outputs.classes(scores, cut).reshape(n, n)
        top = max(int(classes.max()), int(truth.max())) + 1
        colours = np.array([_rgb(outputs.class_colour(k)) for k in range(top)])
        wash = (255 - (255 - colours[classes]) * 0.35).astype(np.uint8)
        if self.image is None:
            extent = (plane.lo[0], plane.hi[0], plane.lo[1], plane.hi[1])
            self.image = ax.imshow(wash, extent=extent, aspect="auto", interpolation="nearest")
            ax.scatter(X[:, 0], X[:, 1], s=12, c=[outputs.class_colour(k) for k in truth],
                       edgecolors="white", linewidths=0.5)  # fmt: skip
            ax.set(xlim=extent[:2], ylim=extent[2:], xticks=[], yticks=[])
        else:
            self.image.set_data(wash)
        acc = history.metrics.get("accuracy")
        ax.set_title("regions now" + (f", accuracy {acc[-1]:.0%}" if acc else ""), fontsize=10)


def _numeric(X: Sequence[Any]) -> bool:  # noqa: N803
    try:
        np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def _rgb(colour: str) -> list[int]:
    return [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
