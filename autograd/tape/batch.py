"""BatchTape: trace a model on one sample, replay it on a whole batch at once.

``loss([model(x) for x in xs], ys)`` is what a training step computes. Traced as one function,
its graph grows with the batch (samples x network). A BatchTape traces it in two parts:

- the *model* on one sample: a program whose every input and every node that depends on it
  is a row with one number per sample, so one replay runs the whole batch (JAX's ``vmap``
  idea on our tape) and a layer of neurons over the same inputs is one matrix product. Its
  size does not depend on the batch; a new batch size needs no new trace of it.
- the *loss* on the batch's predictions and targets, as the user wrote it (means, sums, an
  L2 penalty on the parameters: whatever it computes, exactly as the eager graph does). It
  is a few nodes per sample (6 for ``hinge``, about 100 for a 10-class ``cross_entropy``),
  traced once per batch size.

The predictions flow from the first into the second, and their gradients back. Gradients of
the parameters are summed over the samples inside the model's kernels, as eager backward adds
the per-sample contributions, plus what the loss adds (a penalty's gradient).

Where the parameters live. By default a BatchTape reads the parameters' ``.data`` on every call
and adds into their ``.grad`` on ``backward()``, like :class:`~.tape.Tape`. With
``own_parameters=True`` they live in one flat array while you train, ``tape.theta`` (in the
order of ``tape.parameters``), with the gradients in ``tape.grad``: update ``theta`` in place
(``nn``'s optimizers do it with ``step_arrays``), call ``tape.sync()`` to write ``theta`` and
``grad`` into the Values when you want to look at them, and ``tape.load()`` after you change
the Values yourself. ``load()`` also checks that no parameter was replaced since tracing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..gc_pause import gc_paused
from ..grad_mode import enable_grad
from ..value import Value
from . import pytree
from .errors import check_close
from .operands import contiguous
from .program import Program
from .pytree import samples_of
from .record import Recording
from .runner import Runner
from .watch import ParameterWatch

Model = Callable[[Any], Any]
Loss = Callable[[Any, Any], Value]

KEPT_HEADS = 4  # loss programs kept, one per batch size (fit uses two)


class BatchTape:
    """``loss([model(x) for x in xs], ys)`` and its gradients, traced once on one sample.

    ``tape(xs, ys)`` returns ``(loss, predictions)`` as floats (predictions one per sample,
    shaped like ``model``'s output); ``tape.backward()`` the gradients of the loss. ``xs`` is a
    batch of samples of one shape (a list of rows, or an array with the batch first), ``ys``
    the targets in whatever form ``loss`` takes them. ``parameters`` adds Values to keep in
    ``theta`` even if the graph does not read them (an optimizer's, so one array serves both).
    ``check=True`` runs the step eagerly beside every replay and raises StructureError where
    they differ.
    """

    def __init__(
        self,
        model: Model,
        loss: Loss,
        parameters: Sequence[Value] = (),
        own_parameters: bool = False,
        check: bool = False,
    ) -> None:
        self.model, self.loss = model, loss
        self.extra = list(parameters)
        self.own_parameters, self.check = own_parameters, check
        self.program: Program | None = None
        self.runner: Runner | None = None
        self._sample_shape: Any = None
        self._heads: dict[Any, _Head] = {}
        self._last: _Head | None = None
        self._loaded = False  # theta holds the parameters (sync may write them back)
        self._grad_ready = False  # grad holds a whole backward pass (sync may write it back)

    # ---- the parameters -------------------------------------------------------------------------
    @property
    def parameters(self) -> tuple[Value, ...]:
        """The Values ``theta`` holds, in its order (the same tuple until the model is traced
        again, so an optimizer's ``step_arrays`` can keep its layout)."""
        self._program()
        return self._parameters

    @property
    def theta(self) -> np.ndarray:
        """The parameters as one flat array (a view the replays read: update it in place)."""
        return self._runner().theta

    @theta.setter
    def theta(self, values: Any) -> None:  # ``tape.theta -= lr * tape.grad`` works in place
        self.theta[...] = values

    @property
    def grad(self) -> np.ndarray:
        """The gradient of the last ``backward()``, in ``parameters`` order."""
        return self._runner().grad

    def load(self) -> None:
        """Read the Values' ``.data`` into ``theta`` (after you changed them), first checking
        that each is still the Value the model and loss hold (StructureError if replaced)."""
        self._runner().load()
        self._loaded = True

    def sync(self) -> None:
        """Write ``theta`` into the Values' ``.data`` and ``grad`` into their ``.grad``. The next
        call reads them back (you may change them in between) and checks none was replaced.

        Only what the arrays really hold is written: nothing before the parameters were loaded
        (an interrupt during set-up leaves the model as it was), and the gradients only after a
        whole backward pass (an interrupt inside one leaves ``.grad`` as it was)."""
        if self.program is None:
            raise RuntimeError("BatchTape: call it on a batch first (nothing is traced yet)")
        if not self._loaded or self.runner is None:  # set-up interrupted: nothing to write
            return
        self.runner.write_back(grads=self._grad_ready)
        self._loaded = False

    def to_torch(self) -> Any:
        """The model (not the loss) as a ``torch.nn.Module`` on batches (needs torch; see
        :mod:`autograd.tape.to_torch`), its parameters first synced into the Values."""
        from .to_torch import to_torch

        self.sync()
        rec = self.recording
        return to_torch(rec, [self._sample_shape], self.out_key, len(rec.guards))

    def _program(self) -> Program:
        return self._runner().program

    def _runner(self) -> Runner:
        if self.runner is None:
            raise RuntimeError("BatchTape: call it on a batch first (nothing is traced yet)")
        return self.runner

    # ---- replay ---------------------------------------------------------------------------------
    def __call__(self, xs: Any, ys: Any) -> tuple[float, list[Any]]:
        """The loss on the batch and the model's predictions, as floats."""
        with np.errstate(all="ignore"):
            return self._call(xs, ys)

    def value_and_grad(self, xs: Any, ys: Any, arrays: bool = False) -> tuple[float, Any]:
        """``tape(xs, ys)`` and ``tape.backward()`` in one call (a training step's work). With
        ``arrays`` the predictions come as one numpy array, a row per sample (a vector for one
        output), where the model's output is a number or a flat list."""
        with np.errstate(all="ignore"):
            return self.replay(xs, ys, arrays)

    def replay(self, xs: Any, ys: Any, arrays: bool = False) -> tuple[float, Any]:
        """``value_and_grad`` for a loop that has entered ``np.errstate(all="ignore")`` once
        around all its steps (``fit`` does)."""
        value, preds = self._call(xs, ys, arrays)
        self._backward(1.0)
        return value, preds

    @property
    def sample_shape(self) -> Any:
        """The shape of one sample the model was traced on (None before it was)."""
        return self._sample_shape

    def _call(self, xs: Any, ys: Any, arrays: bool = False) -> tuple[float, Any]:
        samples, targets, head = self._prepare(xs, ys)
        self._grad_ready = False
        out = self._forward(samples)
        value = head.forward(out, targets.data, self.runner.theta)
        self._last = head
        if self.check:
            self._eager = _eager_step(self, xs, ys, value, out)
        return value, self._predictions(out, arrays)

    def backward(self, seed: float = 1.0) -> None:
        """Gradients of the last call's loss: into ``grad`` (and, unless ``own_parameters``,
        added into each parameter's ``.grad``)."""
        if self._last is None:
            raise RuntimeError("BatchTape.backward: call the tape on a batch first")
        with np.errstate(all="ignore"):
            self._backward(float(seed))

    def _backward(self, seed: float) -> None:
        head, runner = self._last, self.runner
        grad = runner.grad
        runner.backward(head.backward(seed))
        if self.n_graph_params < grad.size:  # no model kernel writes these: clear, then add
            grad[self.n_graph_params :] = 0.0
        head.add_parameter_grads(grad)
        if self.check:
            _compare_grads(self, seed)
        self._grad_ready = True
        if not self.own_parameters:
            runner.add_grads()

    def predict(self, xs: Any) -> list[Any]:
        """The model's outputs on a batch, as floats, without the loss."""
        samples = samples_of(xs)
        if self.program is None or samples.shape[1:] != self._sample_shape:
            raise RuntimeError("BatchTape.predict: call the tape on a batch of this shape first")
        if not self.own_parameters or not self._loaded:
            self.load()
        with np.errstate(all="ignore"):
            return self._predictions(self._forward(samples))

    def _prepare(self, xs: Any, ys: Any) -> tuple[np.ndarray, pytree.Flat, _Head]:
        """The batch as arrays, the programs for it (traced if new), the parameters loaded."""
        samples = samples_of(xs)
        targets = pytree.flatten(ys)
        if self.program is None or samples.shape[1:] != self._sample_shape:
            self._compile(samples)
        if not self.own_parameters or not self._loaded:
            self.load()
        head = self._heads.get((samples.shape[0], targets.key))
        if head is None:
            head = self._head(samples, targets, self._forward(samples))
        return samples, targets, head

    def _forward(self, samples: np.ndarray) -> np.ndarray:
        n = samples.shape[0]
        return self.runner.forward(samples.reshape(n, -1).T, n)

    def _predictions(self, out: np.ndarray, arrays: bool = False) -> Any:
        key = self.out_key
        if key == ():
            return out[0].copy() if arrays else out[0].tolist()
        if len(key) == 1:
            return out.T.copy() if arrays else out.T.tolist()
        return [pytree.unflatten(key, column) for column in out.T.tolist()]

    # ---- tracing --------------------------------------------------------------------------------
    def _compile(self, samples: np.ndarray) -> None:
        """Trace the model on the first sample and compile it."""
        with gc_paused():
            shape = samples.shape[1:]
            sample = samples[0].ravel()
            self.recording = Recording(self.model, [shape], sample.size, example=sample)
            self.out_key = self.recording.out_key
            self._make_program(self.extra)
            self._sample_shape = shape  # last: an interrupt before it means "trace again"

    def _make_program(self, extra: Sequence[Value]) -> None:
        if self.program is not None and self._loaded:
            self.sync()  # trained numbers not yet in the Values must not go with the old arrays
        self._loaded = self._grad_ready = False  # before the new (zero) arrays exist
        self.runner = None
        rec = self.recording
        graph = set(rec.params.values())
        extra = [p for p in dict.fromkeys(extra) if p not in graph]
        self.program = Program(rec, input_grads=False, extra_params=extra, seeds=None)
        self.n_graph_params = len(rec.params)
        watch = ParameterWatch((self.model, self.loss), self.program.params)
        self.runner = Runner(self.program, watch)
        self._parameters = tuple(self.program.params)
        self._heads = {}

    def _head(self, samples: np.ndarray, targets: pytree.Flat, out: np.ndarray) -> _Head:
        """Trace the loss on this batch size: placeholders for the predictions (holding the
        model's outputs, so comparisons in the loss see real numbers) and the targets."""
        n = samples.shape[0]
        key = self.out_key
        preds_key = (n, *key) if key[:1] != (None,) else (None, (key,) * n)
        example = np.concatenate([out.T.ravel(), np.asarray(targets.data, dtype=float)])
        with gc_paused():
            rec = Recording(self.loss, [preds_key, targets.key], example.size, example=example)
            if rec.out_key != ():
                raise TypeError("BatchTape: loss must return one Value")
            known = set(self.program.params)
            missing = [p for p in rec.params.values() if p not in known]
            if missing:  # the loss reads parameters the model does not: theta must hold them
                self._make_program([*self.program.params[self.n_graph_params :], *missing])
                self.load()
                out = self._forward(samples)
            head = _Head(rec, self.program, out.shape[0], out.size)
        while len(self._heads) >= KEPT_HEADS:
            del self._heads[next(iter(self._heads))]
        self._heads[(n, targets.key)] = head
        return head


class _Head:
    """The loss traced on one batch size: its program and where it meets the model's (its
    parameters are read from the model's ``theta``; its gradients added into its ``grad``)."""

    def __init__(self, rec: Recording, model: Program, n_outputs: int, n_preds: int) -> None:
        wants = [True] * n_preds + [False] * (rec.n_inputs - n_preds)  # not the targets
        program = Program(rec, input_grads=wants, seeds=1, param_order=model.params)
        self.runner = Runner(program)
        buf = self.runner.buffers(1)  # a loss program always runs on one column
        self.n_outputs, self.n_preds = n_outputs, n_preds
        position = {id(p): i for i, p in enumerate(model.params)}
        index = np.array([position[id(p)] for p in program.params], dtype=np.int64)
        self.index = contiguous(index) or index
        # Views made once: where the predictions and targets go, where the loss and the
        # predictions' gradients come from.
        inputs = buf.per_sample[: program.n_inputs, 0]
        self.preds_in = inputs[:n_preds].reshape(-1, n_outputs)  # (samples, outputs), a view
        self.targets_in = inputs[n_preds:]
        self.loss_row = int(program.out_rows[0])
        self.pred_grads = buf.per_sample_grads[:n_preds, 0].reshape(-1, n_outputs).T

    def forward(self, preds: np.ndarray, targets: Any, theta: np.ndarray) -> float:
        """The loss on the model's outputs ``preds`` (outputs x batch) and the targets."""
        runner = self.runner
        if runner.theta.size:
            runner.load_from(theta, self.index)
        self.preds_in[...] = preds.T
        self.targets_in[...] = targets
        runner.program.forward(runner.buf)
        return float(runner.buf.per_sample[self.loss_row, 0])

    def backward(self, seed: float) -> np.ndarray:
        """The loss's gradient for every prediction, shaped (outputs, batch)."""
        self.runner.backward(seed)
        return self.pred_grads

    def add_parameter_grads(self, grad: np.ndarray) -> None:
        """Add the loss's own parameter gradients (a penalty's) into the model's ``grad``."""
        if self.runner.grad.size:
            grad[self.index] += self.runner.grad


# ---- check=True ---------------------------------------------------------------------------------


def _eager_step(tape: BatchTape, xs: Any, ys: Any, value: float, out: np.ndarray) -> Any:
    """The same step on Values; raises StructureError where the replay differs."""
    with enable_grad():
        preds = [tape.model(x) for x in samples_of(xs).tolist()]
        root = tape.loss(preds, ys)
    flat: list[Value] = []
    for p in preds:
        pytree.collect_outputs(p, False, flat)
    eager_out = np.array([v.data for v in flat]).reshape(out.shape[1], -1).T
    _check_close("loss", [value], [root.data])
    _check_close("prediction", out.ravel().tolist(), eager_out.ravel().tolist())
    return root


def _compare_grads(tape: BatchTape, seed: float) -> None:
    from ..backward import gradients

    grads = gradients(tape._eager, seed)
    params = tape.program.params
    _check_close("parameter gradient", tape.grad.tolist(), [grads.get(p, 0.0) for p in params])


def _check_close(what: str, tape: list[float], eager: list[float]) -> None:
    check_close(what, tape, eager, "BatchTape", _BATCH_CAUSE)


_BATCH_CAUSE = "the model or the loss depends on the data in a way the trace could not see"
