"""The training loop: ``fit`` returns a ``History``; ``predict`` and ``accuracy`` helpers."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd import Value, no_grad
from autograd.gc_pause import gc_paused
from autograd.grad_mode import restores_grad_mode

from . import data, losses
from .live import live_view
from .losses import mse
from .optim import SGD, Optimizer
from .outputs import classes, labels_kind, threshold_for
from .progress import progress as progress_display

Loss = Callable[[Any, Any], Value]
Metric = Callable[[Sequence[Any], Sequence[Any]], float]
Callback = Callable[[int, "History"], "bool | None"]


@dataclass(frozen=True)
class Snapshot:
    """The model at one point of a ``fit(record=k)``: floats only, no graph.

    ``epoch`` 0 is before training, ``k`` after k epochs. ``parameters`` are the values of
    ``model.parameters()``, in that order; ``loss`` and ``metrics`` are measured on the
    training set with exactly those parameters (not the running means of ``History.loss``).
    """

    epoch: int
    parameters: tuple[float, ...]
    loss: float
    metrics: dict[str, float]


@dataclass
class History:
    """Per-epoch records of a ``fit``. ``loss[e]`` is the mean of epoch e's batch losses,
    weighted by batch size (the loss itself for full-batch training), each taken before that
    batch's update; ``metrics`` come from the same predictions; ``val_*`` are measured after
    the epoch on ``validation_data``."""

    loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    val_loss: list[float] = field(default_factory=list)
    val_metrics: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)  # wall time of each epoch
    stopped_early: bool = False  # a callback asked to stop
    snapshots: list[Snapshot] = field(default_factory=list)  # fit(record=k): every k epochs

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.loss)


class NonFiniteLossError(FloatingPointError):
    """``fit`` stopped: a batch's loss was nan or infinite (``check_finite=True``).

    ``epoch`` and ``batch`` count from 1; ``loss`` is the value; ``history`` holds the epochs
    that finished before it. The model's parameters include that batch's update.
    """

    def __init__(self, message: str, epoch: int, batch: int, loss: float, history: History):
        super().__init__(message)
        self.epoch, self.batch, self.loss, self.history = epoch, batch, loss, history


def _floats(out: Any) -> Any:
    """A model output with every Value replaced by its float (lists stay lists)."""
    if isinstance(out, (list, tuple)):
        return [_floats(o) for o in out]
    return float(out)


def predict(model: Callable[[Any], Any], X: Iterable[Any]) -> list[Any]:  # noqa: N803
    """The model's outputs as floats (a list of floats per sample for several outputs),
    computed without recording a graph."""
    with no_grad():
        return [_floats(model(x)) for x in X]


def accuracy(pred: Sequence[Any], target: Sequence[Any], threshold: float | None = None) -> float:
    """The fraction of samples classified right.

    Several outputs per sample: the argmax against a class index. One output: ``pred >
    threshold`` against the label, the threshold defaulting to 0 for ±1 labels (tanh or hinge
    scores) and, for 0/1 labels, 0.5 when every prediction lies in [0, 1] (probabilities), else 0
    (logits). The rule, its ties and the pictures' colours live in ``nn.outputs``.
    """
    # One numpy pass (Values read as their floats): fit(compile=True) calls this every epoch,
    # and a loop per sample cost as much as the epoch's training on the digits.
    scores, target = np.asarray(pred, dtype=float), list(target)
    if len(scores) != len(target):
        raise ValueError(f"accuracy: got {len(scores)} predictions but {len(target)} targets")
    kind = labels_kind(scores[0] if len(scores) else 0.0, target)
    if kind is None:
        raise ValueError("accuracy: targets must be class labels (0/1, -1/+1, or class indices)")
    labels = np.asarray(target, dtype=float)
    if kind == "index":
        right = np.count_nonzero(classes(scores, None) == labels.astype(int))
    else:
        cut = threshold_for(kind, scores, threshold)
        right = np.count_nonzero(classes(scores, cut) == (labels > 0))
    return int(right) / len(target)


METRICS: dict[str, Metric] = {"accuracy": accuracy}


class EagerTrainer:
    """Training steps on the eager engine: a graph of Values per batch, ``backward()``, then
    the optimizer on the Values. ``fit`` drives a trainer; ``fit(compile=True)`` drives a
    :class:`nn.compiled.CompiledTrainer` instead, which keeps the same two methods."""

    def __init__(self, model: Any, loss: Loss, optimizer: Optimizer, pause_gc: bool = True):
        self.model, self.loss, self.optimizer, self.pause_gc = model, loss, optimizer, pause_gc

    def step(self, xs: Sequence[Any], ys: Sequence[Any]) -> tuple[float, list[Any]]:
        """One update from one batch; returns the batch's loss (before the update) and the
        predictions as floats."""
        self.optimizer.zero_grad()
        with gc_paused(self.pause_gc):
            value, preds = eager_step(self.model, self.loss, xs, ys)
        self.optimizer.step()
        return value, preds

    def sync(self) -> None:
        """Make the model's Values current (they always are here)."""

    def scope(self, flops_per_step: float = 0.0) -> contextlib.AbstractContextManager[None]:
        """What ``fit`` runs its loop in (nothing, for floats)."""
        return contextlib.nullcontext()

    def predict(self, X: Any) -> None:  # noqa: N803
        """None: ``fit`` predicts from the model itself."""
        return None


def eager_step(
    model: Callable[[Any], Any], loss: Loss, xs: Sequence[Any], ys: Sequence[Any]
) -> tuple[float, list[Any]]:
    """Forward, loss and backward on one batch; returns the loss and the predictions as floats."""
    preds = [model(x) for x in xs]
    total = loss(preds, ys)
    total.backward()
    return total.data, _floats(preds)


@restores_grad_mode  # a Ctrl-C inside a no_grad block of fit's never leaves recording off
def fit(
    model: Any,
    X: Sequence[Any],  # noqa: N803 - the name every ML text uses
    y: Sequence[Any],
    loss: Loss = mse,
    optimizer: Optimizer | None = None,
    epochs: int = 100,
    batch_size: int | None = None,
    metrics: Iterable[str | tuple[str, Metric]] = ("accuracy",),
    progress: bool = True,
    callbacks: Iterable[Callback] | None = None,
    validation_data: tuple[Sequence[Any], Sequence[Any]] | None = None,
    seed: int | None = 0,
    pause_gc: bool = True,
    compile: bool = False,
    record: int | None = None,
    check_finite: bool = True,
    live: bool = False,
) -> History:
    """Train ``model`` on (X, y) for ``epochs`` passes; returns the per-epoch History.

    ``loss(preds, targets)`` gets a batch (``[model(x) for x in X_batch]``); add a penalty with
    ``loss=lambda p, t: hinge(p, t) + l2(model.parameters(), 1e-4)``. ``optimizer`` defaults to
    ``SGD(model.parameters(), lr=0.1)``. ``batch_size=None`` trains on the whole set each step;
    mini-batches are reshuffled every epoch from ``seed``. ``metrics`` are names from
    ``METRICS`` or ``(name, fn(preds, targets))`` pairs, computed from the predictions made
    during the epoch, one per sample in order (a list of floats, or of lists for several
    outputs; with ``compile=True`` a numpy array shaped the same); "accuracy" is left out when
    the targets are not class labels.
    Each callback runs as ``callback(epoch, history)`` after every epoch; returning True stops.

    Progress (``nn.progress``), with the loss and metrics after each epoch: in a notebook a
    tqdm bar (a widget when ipywidgets is installed, text otherwise); in a terminal the usual
    bar on stderr; elsewhere (CI, a log file) a line on stderr at every tenth of the epochs and
    at most one a minute in between, so a log is never flooded. ``progress=False`` is silent.

    ``check_finite=True`` stops at the first batch whose loss is nan or infinite, raising
    :class:`NonFiniteLossError`, which names the epoch and batch and carries the history so far
    (the parameters then include that batch's update, usually nan). ``check_finite=False``
    keeps going and records the nan or inf losses in the history. An error raised inside a step
    (an op's overflow or domain error) gets a note saying at which epoch and batch.

    ``pause_gc`` turns the cyclic GC off during each step: our graphs hold no cycles, so only
    the collector's scans are saved, never memory. ``compile=True`` traces the model on one
    sample and replays it on each batch with numpy, forward, backward and the optimizer's update
    on arrays (``nn.compiled``; the same numbers to ~1e-12); the model's Values are written back
    before every validation pass, callback and snapshot, and when fit returns or raises.
    ``record=k`` keeps a :class:`Snapshot` in ``history.snapshots`` before training, every
    ``k`` epochs and after the last epoch (for ``viz.training_html``); None keeps none.
    ``live=True`` keeps one inline figure up to date in a notebook (``nn.live``: the loss and,
    for 2-D inputs, the decision regions; redrawn every few epochs, within a small share of
    the training time); outside a notebook it does nothing.
    """
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if len(X) != len(y) or not len(X):
        raise ValueError(f"fit: X has {len(X)} rows and y has {len(y)}; need the same number, > 0")
    for name, value in (("batch_size", batch_size), ("record", record)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ValueError(f"fit: {name} must be None or an int >= 1, got {value!r}")
    loss = loss_function(loss)
    optimizer = optimizer or SGD(model.parameters(), lr=0.1)
    named = _metrics(metrics, predict(model, X[:1])[0], y)
    if compile:
        from .compiled import CompiledTrainer

        trainer: Any = CompiledTrainer(model, loss, optimizer, pause_gc)
    else:
        trainer = EagerTrainer(model, loss, optimizer, pause_gc)
    source = data.Batcher(X, y, batch_size, arrays=compile)  # X and y converted once
    history = History(metrics={name: [] for name, _ in named})
    if validation_data is not None:
        history.val_metrics = {name: [] for name, _ in named}
    if record is not None:
        history.snapshots.append(snapshot(model, loss, named, X, y, 0))
    rng = np.random.default_rng(seed)
    batches = 1 if batch_size is None else -(-len(X) // batch_size)
    display = progress_display(epochs, enabled=progress)
    view = live_view(model, X, y, epochs, enabled=live)
    # A compiled trainer keeps the weights in arrays: write them into the model's Values
    # whenever something can look at them (validation, callbacks, snapshots) and at the end.
    observed = bool(callbacks) or validation_data is not None or record is not None or live
    scope = trainer.scope(_flops_per_step(model, batch_size or len(X)))
    try:
        scope.__enter__()
        for epoch in range(epochs):
            start, total, outs = time.perf_counter(), 0.0, []
            for batch, (xb, yb) in enumerate(source.epoch(rng), 1):
                try:
                    value, out = trainer.step(xb, yb)
                except Exception as e:  # an op's error (overflow, a domain): say where it was
                    e.add_note(f"(in fit, at {_where(epoch, epochs, batch, batches)})")
                    raise
                if check_finite and not math.isfinite(value):
                    trainer.sync()  # the model shows the parameters the error describes
                    raise NonFiniteLossError(
                        f"fit: the loss is {value} at {_where(epoch, epochs, batch, batches)}; "
                        "training stopped (the "
                        "parameters include this batch's update). Lower the learning rate, "
                        "check the data for nan/inf, or pass check_finite=False to keep going",
                        epoch + 1,
                        batch,
                        value,
                        history,
                    )
                total += value * len(xb)
                outs.append(out)
            targets = source.epoch_targets()
            if observed:
                trainer.sync()  # validation, callbacks and snapshots see the model now
            history.loss.append(total / len(X))
            preds = _joined(outs)
            for name, metric in named:
                history.metrics[name].append(metric(preds, targets))
            if validation_data is not None:
                _validate(model, loss, named, validation_data, history)
            history.seconds.append(time.perf_counter() - start)
            display.update(epoch, {"loss": history.loss[-1], **_last(history.metrics)})
            view.update(epoch, history)
            stop = any([cb(epoch, history) for cb in callbacks or ()])  # every callback runs
            last = stop or epoch == epochs - 1
            if record is not None and ((epoch + 1) % record == 0 or last):
                preds = trainer.predict(X)
                history.snapshots.append(snapshot(model, loss, named, X, y, epoch + 1, preds))
            if stop:
                history.stopped_early = True
                break
    finally:
        try:
            trainer.sync()  # however fit ends (the last epoch, a callback, an error, Ctrl-C)
        finally:
            scope.__exit__(None, None, None)
            display.close()
            view.close()
    return history


LOSSES: dict[str, Loss] = {
    "mse": losses.mse,
    "sse": losses.sse,
    "hinge": losses.hinge,
    "binary_cross_entropy": losses.binary_cross_entropy,
    "binary_cross_entropy_with_logits": losses.binary_cross_entropy_with_logits,
    "cross_entropy": losses.cross_entropy,
}


def loss_function(loss: Any) -> Loss:
    """``loss`` itself if it is a function; the loss of that name from ``LOSSES`` if a name."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"fit: unknown loss {loss!r}; known: {', '.join(LOSSES)}")
        return LOSSES[loss]
    if not callable(loss):
        raise TypeError(
            "fit: loss must be a function loss(preds, targets) -> Value or a loss name "
            f"({', '.join(LOSSES)}), got {type(loss).__name__} {loss!r}"
        )
    return loss


def _flops_per_step(model: Any, batch: int) -> float:
    """About how many multiply-adds a step's matrix products make: 3 per weight and sample
    (forward, and the two products of backward)."""
    try:
        return 3.0 * len(model.parameters()) * batch
    except (AttributeError, TypeError):
        return 0.0


def _where(epoch: int, epochs: int, batch: int, batches: int) -> str:
    """Where in a fit an error happened (written only then: a step is too short to spare it)."""
    return f"epoch {epoch + 1}/{epochs}, batch {batch}/{batches}"


def _joined(outs: list[Any]) -> Any:
    """An epoch's predictions in one piece, batch after batch: one array where the trainer
    handed arrays (the compiled one), else one list."""
    if all(isinstance(out, np.ndarray) for out in outs):
        return np.concatenate(outs)
    return [p for out in outs for p in out]


def _last(metrics: dict[str, list[float]]) -> dict[str, float]:
    return {name: values[-1] for name, values in metrics.items()}


def snapshot(
    model: Any,
    loss: Loss,
    named: list[tuple[str, Metric]],
    X: Sequence[Any],  # noqa: N803
    y: Sequence[Any],
    epoch: int,
    preds: list[Any] | None = None,
) -> Snapshot:
    """The model's parameters now, with the loss and metrics they give on (X, y). ``preds``
    are the model's outputs on X, if already computed (by a compiled program). The loss gets
    the predictions as Values, as in training (a custom loss may call their methods)."""
    if preds is None:
        preds = _predict_fast(model, X)
    with no_grad():
        value = float(loss(_as_values(preds), list(y)))
    metrics = {name: float(metric(preds, y)) for name, metric in named}
    params = tuple(float(p.data) for p in model.parameters())
    return Snapshot(epoch, params, value, metrics)


def _as_values(preds: Any) -> Any:
    """Predictions as Values, nested as they are (made under no_grad: no graph)."""
    if isinstance(preds, (list, tuple)):
        return [_as_values(p) for p in preds]
    return Value(float(preds))


def _predict_fast(model: Any, X: Sequence[Any]) -> list[Any]:  # noqa: N803
    """``predict(model, X)``, in one numpy pass where the model offers one (an MLP)."""
    if hasattr(model, "predict_numpy"):
        out = np.asarray(model.predict_numpy(np.asarray(X, dtype=float)), dtype=float)
        return out[:, 0].tolist() if out.shape[1] == 1 else out.tolist()
    return predict(model, X)


def _metrics(
    metrics: Iterable[Any], sample_pred: Any, y: Sequence[Any]
) -> list[tuple[str, Metric]]:
    if isinstance(metrics, (str, bytes)):
        raise TypeError(
            f"fit: metrics must be a list of metric names or (name, fn) pairs, got the string "
            f"{metrics!r}; write metrics=[{metrics!r}]"
        )
    named = []
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise ValueError(f"fit: unknown metric {m!r}; known: {', '.join(METRICS)}")
            if m == "accuracy" and labels_kind(sample_pred, list(y)) is None:
                continue  # regression targets: accuracy means nothing
            named.append((m, METRICS[m]))
        elif isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str) and callable(m[1]):
            named.append(m)
        else:
            raise TypeError(
                f"fit: each metric must be a name from {sorted(METRICS)} or a (name, fn) pair, "
                f"got {m!r}"
            )
    return named


def _validate(
    model: Any, loss: Loss, named: list[tuple[str, Metric]], val: Any, history: History
) -> None:
    xv, yv = val
    with no_grad():
        preds = [model(x) for x in xv]
        history.val_loss.append(float(loss(preds, yv)))
    for name, metric in named:
        history.val_metrics[name].append(metric(_floats(preds), yv))
