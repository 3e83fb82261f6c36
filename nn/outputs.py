"""How a model's outputs are read: classes, threshold, order, colours.

One reader for everything that turns outputs into classes: ``nn.accuracy`` (eager and
compiled training alike), the live view, and every picture of ``viz`` (the decision boundary,
the confusion matrix, the training page and its GIF). So a class has one colour everywhere, an
output sitting at the threshold counts the same everywhere, and the accuracy a picture prints
is the one ``fit`` reported.

- Labels: class indices 0, 1, ... (several outputs, argmax), 0/1 or -1/+1 (one output).
- One output: class 1 above the threshold. The threshold is 0 for -1/+1 labels (tanh or hinge
  scores); for 0/1 labels 0.5 when every output lies in [0, 1] (probabilities), else 0 (logits).
  ``threshold=`` overrides it.
- Ties: outputs within ``TIE`` of the threshold, or of the best score, count as at it (one
  output: class 0; several: the lowest index). The eager engine and the compiled one round
  differently by ~1e-12, so an output that is 0 in one may be 4e-18 in the other.
- The plane the pictures sample (:class:`Plane`): the data's box padded by 10 % on every side.
- Colours: ``CLASS_COLOURS[k]`` for class k (Okabe-Ito, apart for colour-blind readers); class 0
  (the negative class of -1/+1 labels) is vermillion, class 1 blue, as negative and positive
  numbers are drawn in the training page's neuron maps.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CLASS_COLOURS = (
    "#D55E00",
    "#0072B2",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
TIE = 1e-9  # outputs this close to the threshold (or to the best score) count as at it
PAD = 0.1  # the pictures' plane reaches this fraction of the data's extent past it


def class_colour(k: int) -> str:
    """The colour of class k in every picture."""
    return CLASS_COLOURS[int(k) % len(CLASS_COLOURS)]


def _is_label(y: Any) -> bool:
    return isinstance(y, numbers.Real) and not isinstance(y, bool) and float(y).is_integer()


def labels_kind(pred: Any, target: Sequence[Any]) -> str | None:
    """ "index" (several outputs, class indices), "01" or "pm1" (one output), or None (the
    targets are not class labels). ``pred`` is one sample's output."""
    if not len(target):
        return None
    labels = np.asarray(target) if type(target[0]) in (int, float) else None
    if labels is not None and labels.dtype.kind in "iuf":  # one numpy pass
        whole = np.isfinite(labels) & (np.floor(labels) == labels)
        if labels.dtype.kind == "f" and not whole.all():
            return None
        values = set(np.unique(labels).tolist())
    elif all(_is_label(t) for t in target):
        values = {float(t) for t in target}
    else:
        return None
    if isinstance(pred, (list, tuple)) or np.ndim(pred) == 1:  # one row of several outputs
        return "index"
    if values <= {0.0, 1.0}:
        return "01"
    return "pm1" if values <= {-1.0, 1.0} else None


def class_index(labels: Any, who: str = "viz") -> np.ndarray:
    """Labels as class numbers 0, 1, ...: -1/+1 labels become 0 and 1, class indices stay."""
    labels = np.asarray(labels, dtype=float)
    if np.isin(labels, (-1.0, 1.0)).all():
        return (labels > 0).astype(int)
    if not (np.isfinite(labels).all() and np.isin(labels % 1, 0.0).all() and (labels >= 0).all()):
        raise ValueError(f"{who}: y must hold class indices 0, 1, ... or labels -1/+1")
    return labels.astype(int)


def threshold_for(kind: str, scores: Any, threshold: float | None = None) -> float:
    """Where one output splits class 0 from class 1 (see the module doc); ``scores`` are the
    outputs the rule looks at (nan and inf are ignored)."""
    if threshold is not None:
        return float(threshold)
    if kind == "pm1":
        return 0.0
    s = np.asarray(scores, dtype=float).reshape(-1)
    s = s[np.isfinite(s)]
    return 0.5 if bool(np.all((s >= 0) & (s <= 1))) else 0.0


def classes(scores: Any, threshold: float | None) -> np.ndarray:
    """The class of each row of outputs (n, k): argmax for several outputs (near-ties to the
    lowest index), ``output > threshold`` for one (near-ties to class 0)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    with np.errstate(invalid="ignore"):
        if scores.shape[1] > 1:
            best = np.nanmax(np.where(np.isnan(scores), -np.inf, scores), axis=1, keepdims=True)
            return np.argmax(scores >= best - TIE * np.maximum(1.0, np.abs(best)), axis=1)
        cut = 0.0 if threshold is None else float(threshold)
        return (scores[:, 0] > cut + TIE * max(1.0, abs(cut))).astype(int)


def margins(scores: np.ndarray, threshold: float | None) -> list[np.ndarray]:
    """Per class, how far it leads (positive where it wins): one output gives [class 0's,
    class 1's] (minus and plus the output less the threshold); several give each output less the
    best of the others. Contoured at 0 these draw the decision boundary."""
    if scores.shape[1] == 1:
        lead = scores[:, 0] - (0.0 if threshold is None else threshold)
        return [np.where(lead == 0, 1e-12, -lead), lead]
    out = []
    for k in range(scores.shape[1]):
        others = np.delete(scores, k, axis=1).max(axis=1)
        out.append(scores[:, k] - others)
    return out


def predict_points(model: Any, points: np.ndarray) -> np.ndarray:
    """The model's outputs on rows of inputs as an (n, outputs) array, without building a
    graph: one vectorised call where the model has ``predict_numpy``, else one call a row."""
    from autograd import Value, no_grad

    with no_grad():
        if hasattr(model, "predict_numpy"):
            out = np.asarray(model.predict_numpy(points), dtype=float)
        else:
            rows = []
            for p in points:
                o = model([float(v) for v in p])
                values = o if isinstance(o, (list, tuple)) else [o]
                rows.append([v.data if isinstance(v, Value) else float(v) for v in values])
            out = np.asarray(rows, dtype=float)
    return out.reshape(len(points), -1)


@dataclass(frozen=True)
class Plane:
    """A square grid over the data's bounding box (padded by ``PAD``), sampled at pixel
    centres. Row 0 is the top of the picture (largest x1), as images and SVG count rows."""

    lo: tuple[float, float]
    hi: tuple[float, float]
    resolution: int

    def points(self) -> np.ndarray:
        """The (resolution**2, 2) grid points, row by row from the top."""
        n = self.resolution
        x0 = self.lo[0] + (np.arange(n) + 0.5) * (self.hi[0] - self.lo[0]) / n
        x1 = self.hi[1] - (np.arange(n) + 0.5) * (self.hi[1] - self.lo[1]) / n
        g0, g1 = np.meshgrid(x0, x1)
        return np.column_stack([g0.ravel(), g1.ravel()])

    def to_unit(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Points as fractions of the plane's width and height, y down (0..1 inside)."""
        lo, hi = np.array(self.lo), np.array(self.hi)
        u = (np.asarray(X, dtype=float) - lo) / (hi - lo)
        return np.column_stack([u[:, 0], 1.0 - u[:, 1]])


def plane_for(X: np.ndarray, resolution: int) -> Plane:  # noqa: N803
    """The grid the pictures use: the finite data's box padded by ``PAD`` on every side."""
    X = np.asarray(X, dtype=float)  # noqa: N806
    finite = X[np.isfinite(X).all(axis=1)]
    if not len(finite):
        raise ValueError("the inputs X have no row of finite numbers to draw")
    lo, hi = finite.min(axis=0), finite.max(axis=0)
    pad = PAD * (hi - lo) + 1e-9
    return Plane(
        (float(lo[0] - pad[0]), float(lo[1] - pad[1])),
        (float(hi[0] + pad[0]), float(hi[1] + pad[1])),
        int(resolution),
    )
