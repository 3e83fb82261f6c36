"""One training step of an MLP, written the way each peer is best used, for the benchmarks.

Every step trains ``MLP(2, [w, w, 1])`` (ReLU hidden layers, linear output) from the weights of
the same ``nn.MLP`` on the same points: mean hinge loss plus 1e-4 times the sum of squared
parameters, SGD with micrograd's schedule (``lr_at``). Each function returns a step: a function
of no arguments that runs forward, backward and the update once and returns the loss (before
the update) as a float, so the tables can check that every engine computes the same numbers.

- ``numpy_best_step``: numpy by hand at its best (one flat parameter array, augmented
  matrices as views, every buffer made once, in-place ufuncs): the limit.
- ``numpy_step``: numpy as most people write it, the inputs prepared once (new arrays each
  step).
- ``torch_step``: PyTorch eager, float64, the batch as one tensor (``torch.optim.SGD``).
- ``torch_compiled_step``: the whole step (``torch.func`` gradients and the update) under
  ``torch.compile``.
- ``jax_step``: the whole step under ``jax.jit``, float64 (``jax_enable_x64``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Step = Callable[[], float]
PENALTY = 1e-4


def lr_at(k: int) -> float:
    """micrograd's demo schedule: 1.0 falling linearly to 0.1 over 100 steps, then again."""
    return 1.0 - 0.9 * (k % 100) / 100


def weights(model: Any) -> list[np.ndarray]:
    """W1, b1, W2, b2, ... of an ``nn.MLP`` as float64 arrays (copies)."""
    out = []
    for w, b, _ in model.to_numpy():
        out += [w.copy(), b.copy()]
    return out


def numpy_step(model: Any, xs: list[list[float]], ys: list[float]) -> Step:
    """The step by hand: what a numpy programmer writes for this network (the limit)."""
    params = weights(model)
    x, y = np.array(xs, dtype=float), np.array(ys, dtype=float)
    n, k = len(y), [0]

    def step() -> float:
        acts, h = [], x
        for i in range(0, len(params) - 2, 2):
            z = h @ params[i].T + params[i + 1]
            acts.append((h, z))
            h = np.maximum(z, 0.0)
        scores = (h @ params[-2].T + params[-1])[:, 0]
        margin = 1.0 - y * scores
        loss = np.maximum(margin, 0.0).mean() + PENALTY * sum((p * p).sum() for p in params)
        g = ((margin > 0) * -y / n)[:, None]  # d loss / d scores
        grads = [g.T @ h, g.sum(axis=0)]
        g = g @ params[-2]
        for i in range(len(acts) - 1, -1, -1):
            h_in, z = acts[i]
            g = g * (z > 0)
            grads = [g.T @ h_in, g.sum(axis=0), *grads]
            if i:
                g = g @ params[2 * i]
        lr = lr_at(k[0])
        k[0] += 1
        for p, gp in zip(params, grads):
            p -= lr * (gp + 2 * PENALTY * p)
        return float(loss)

    return step


def numpy_best_step(model: Any, xs: list[list[float]], ys: list[float]) -> Step:
    """The step by hand at its best (the limit the tables divide by): one flat parameter array,
    each layer an augmented ``[W^T; b]`` matrix that is a view into it (the bias folded into
    the matrix product by a column of ones after each layer's inputs), the gradients in one
    flat array of the same layout, every buffer made once and every ufunc writing in place."""
    blocks = [np.vstack([w.T, b[None, :]]) for w, b, _ in model.to_numpy()]
    theta = np.concatenate([b.ravel() for b in blocks])
    grad, scratch = np.zeros_like(theta), np.empty_like(theta)
    views, gviews, start = [], [], 0
    for b in blocks:
        stop = start + b.size
        views.append(theta[start:stop].reshape(b.shape))
        gviews.append(grad[start:stop].reshape(b.shape))
        start = stop
    n = len(ys)
    ins = [np.ones((n, b.shape[0])) for b in blocks]  # each layer's inputs, then a 1
    ins[0][:, :-1] = np.array(xs, dtype=float)
    zs = [np.empty((n, b.shape[1])) for b in blocks]
    gzs = [np.empty((n, b.shape[1])) for b in blocks]
    masks = [np.empty((n, b.shape[1]), dtype=bool) for b in blocks[:-1]]
    neg_y_over_n = -np.array(ys, dtype=float)[:, None] / n
    y = np.array(ys, dtype=float)[:, None]
    margin, hinge_mask = np.empty((n, 1)), np.empty((n, 1), dtype=bool)
    k = [0]
    last = len(blocks) - 1

    def step() -> float:
        for i, a in enumerate(views):
            np.matmul(ins[i], a, out=zs[i])
            if i < last:
                np.greater(zs[i], 0.0, out=masks[i])
                np.maximum(zs[i], 0.0, out=ins[i + 1][:, :-1])
        np.multiply(y, zs[last], out=margin)  # 1 - y * score
        np.subtract(1.0, margin, out=margin)
        np.greater(margin, 0.0, out=hinge_mask)
        loss = np.maximum(margin, 0.0, out=margin).sum() / n + PENALTY * np.dot(theta, theta)
        np.multiply(hinge_mask, neg_y_over_n, out=gzs[last])
        for i in range(last, -1, -1):
            np.matmul(ins[i].T, gzs[i], out=gviews[i])
            if i:
                np.matmul(gzs[i], views[i][:-1].T, out=gzs[i - 1])
                np.multiply(gzs[i - 1], masks[i - 1], out=gzs[i - 1])
        lr = lr_at(k[0])
        k[0] += 1
        np.multiply(theta, 2 * PENALTY, out=scratch)  # the penalty's gradient, then the update
        np.add(grad, scratch, out=grad)
        np.multiply(grad, lr, out=grad)
        np.subtract(theta, grad, out=theta)
        return float(loss)

    return step


def torch_step(model: Any, xs: list[list[float]], ys: list[float]) -> Step:
    """PyTorch as people write it: float64 weight tensors, the batch as one tensor."""
    import torch

    params = [torch.tensor(p, requires_grad=True) for p in weights(model)]
    x, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    opt = torch.optim.SGD(params, lr=1.0)
    k = [0]

    def step() -> float:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = torch.relu(h @ params[i].T + params[i + 1])
        scores = (h @ params[-2].T + params[-1])[:, 0]
        loss = torch.relu(1 - y * scores).mean() + PENALTY * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.param_groups[0]["lr"] = lr_at(k[0])
        opt.step()
        k[0] += 1
        return loss.item()

    return step


def _loss_of(relu: Callable[[Any], Any]) -> Callable[..., Any]:
    """The loss as a pure function of (params, x, y), for torch.func and jax. ``relu`` must
    have gradient 0 at 0, as ours and torch's do (``jnp.maximum(x, 0)`` gives 0.5 there)."""

    def loss(params: Any, x: Any, y: Any) -> Any:
        h = x
        for i in range(0, len(params) - 2, 2):
            h = relu(h @ params[i].T + params[i + 1])
        scores = (h @ params[-2].T + params[-1])[:, 0]
        penalty = sum((p * p).sum() for p in params)
        return relu(1 - y * scores).mean() + PENALTY * penalty

    return loss


def _functional(
    compile: Callable[[Any], Any], gradients: Callable[..., Any], params: list[Any], x: Any, y: Any,
    rate: Callable[[float], Any],
) -> Step:  # fmt: skip
    """A step that replaces the parameters by ``p - lr * g``, all of it under ``compile``;
    ``gradients(params, x, y)`` gives (loss, grads) and ``rate`` makes the learning rate."""

    @compile
    def update(params: list[Any], x: Any, y: Any, lr: Any) -> tuple[list[Any], Any]:
        loss, grads = gradients(params, x, y)
        return [p - lr * g for p, g in zip(params, grads)], loss

    k = [0]

    def step() -> float:
        nonlocal params
        params, loss = update(params, x, y, rate(lr_at(k[0])))
        k[0] += 1
        return float(loss)

    return step


def torch_compiled_step(model: Any, xs: list[list[float]], ys: list[float]) -> Step:
    """The whole step, gradients and update, compiled by ``torch.compile`` (slow to compile)."""
    import torch

    grad_and_value = torch.func.grad_and_value(_loss_of(torch.relu))
    return _functional(
        torch.compile,
        lambda params, x, y: grad_and_value(params, x, y)[::-1],
        [torch.tensor(p) for p in weights(model)],
        torch.tensor(xs, dtype=torch.float64),
        torch.tensor(ys, dtype=torch.float64),
        lambda lr: torch.tensor(lr, dtype=torch.float64),
    )


def jax_step(model: Any, xs: list[list[float]], ys: list[float]) -> Step:
    """The whole step under ``jax.jit``, in float64 on the CPU."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return _functional(
        jax.jit,
        jax.value_and_grad(_loss_of(jax.nn.relu)),
        [jnp.asarray(p) for p in weights(model)],
        jnp.asarray(np.array(xs, dtype=float)),
        jnp.asarray(np.array(ys, dtype=float)),
        lambda lr: lr,
    )


PEERS: dict[str, Callable[..., Step]] = {
    "numpy at its best": numpy_best_step,
    "numpy by hand": numpy_step,
    "PyTorch eager": torch_step,
    "JAX jit": jax_step,
    "torch.compile": torch_compiled_step,
}
