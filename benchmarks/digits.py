"""Digits: an epoch of the demo's MLP, ours against numpy at its best, JAX jit and PyTorch.

scikit-learn's 8x8 digits (the ``digits`` extra), split as ``demos/digits.py`` does. The MLP
(64-32-10, tanh, cross-entropy, Adam lr 0.01, batches of 64) trains for epochs through
``fit(compile=True)``, numpy by hand at its best (flat parameters, augmented matrices, buffers
made once), the whole step under ``jax.jit`` (float64) and PyTorch float64, each on one thread,
on the same batches from the same weights; ms per epoch (medians over the epochs after the
first, which holds our trace and JAX's compile).
The digits CNN has its own benchmark, ``benchmarks/conv.py``. Run: `python benchmarks/digits.py`.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.common import fmt_ms, machine, table  # noqa: E402
from nn import MLP, Adam, cross_entropy, fit  # noqa: E402


def load() -> tuple[list, list]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demos"))
    from digits import load as load_digits

    X, y, _, _ = load_digits(0)  # noqa: N806
    return X, y


def batches(n: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """What ``nn.data.batches`` draws from the same generator: a permutation, then slices."""
    order = rng.permutation(n)
    return [order[k : k + size] for k in range(0, n, size)]


def torch_epochs(model: MLP, X: list, y: list, epochs: int, batch: int) -> tuple[list, Any]:  # noqa: N803
    """Seconds per epoch of the same training in PyTorch float64 (1 thread), and its net."""
    import torch

    net = model.to_torch()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.tensor(X, dtype=torch.float64), torch.tensor(y)
    rng, seconds = np.random.default_rng(0), []
    for _ in range(epochs):
        start = time.perf_counter()
        for idx in batches(len(y), batch, rng):
            i = torch.from_numpy(idx)
            loss = torch.nn.functional.cross_entropy(net(xt[i]), yt[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    return seconds, net


def numpy_best_epochs(
    model: MLP,
    X: list,  # noqa: N803
    y: list,
    epochs: int,
    batch: int,  # noqa: N803
) -> tuple[list[float], np.ndarray]:
    """Seconds per epoch of the same training by hand at its best (one flat parameter array,
    each layer an augmented [W^T; b] view into it, buffers made once, ufuncs in place), and
    the trained weights as ``to_numpy`` lays them out, flat."""
    blocks = [np.vstack([w.T, b[None, :]]) for w, b, _ in model.to_numpy()]
    theta = np.concatenate([b.ravel() for b in blocks])
    grad, m, v, s1 = (np.zeros_like(theta) for _ in range(4))
    views, gviews, start = [], [], 0
    for b in blocks:
        views.append(theta[start : start + b.size].reshape(b.shape))
        gviews.append(grad[start : start + b.size].reshape(b.shape))
        start += b.size
    (a0, a1), (g0, g1) = views, gviews
    n, hidden = len(y), a0.shape[1]
    xa = np.ones((n, a0.shape[0]))
    xa[:, :-1] = np.asarray(X, dtype=float)
    ya = np.asarray(y, dtype=np.int64)
    buffers: dict[int, tuple[np.ndarray, ...]] = {}
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01
    rng, seconds, t = np.random.default_rng(0), [], 0
    for _ in range(epochs):
        start_time = time.perf_counter()
        for idx in batches(n, batch, rng):
            k = len(idx)
            if k not in buffers:
                ins1 = np.ones((k, hidden + 1))
                buffers[k] = (
                    np.empty((k, a0.shape[0])), np.empty((k, hidden)), ins1,
                    np.empty((k, a1.shape[1])), np.empty((k, 1)), np.empty((k, a1.shape[1])),
                    np.empty((k, 1)), np.empty((k, hidden)), np.empty((k, hidden)),
                    np.empty(k, dtype=np.int64), np.arange(k),
                )  # fmt: skip
            ins0, z0, ins1, z1, mx, e, se, gh, hh, yb, rows = buffers[k]
            np.take(xa, idx, axis=0, out=ins0)
            np.take(ya, idx, out=yb)
            np.matmul(ins0, a0, out=z0)
            h = ins1[:, :-1]
            np.tanh(z0, out=h)
            np.matmul(ins1, a1, out=z1)
            np.max(z1, axis=1, keepdims=True, out=mx)  # log-softmax, one max per row
            np.subtract(z1, mx, out=e)
            np.exp(e, out=e)
            np.sum(e, axis=1, keepdims=True, out=se)
            np.divide(e, se, out=e)  # softmax - onehot, over the batch
            e[rows, yb] -= 1.0
            e *= 1.0 / k
            np.matmul(ins1.T, e, out=g1)
            np.matmul(e, a1[:-1].T, out=gh)
            np.multiply(h, h, out=hh)  # tanh' = 1 - h^2
            np.subtract(1.0, hh, out=hh)
            np.multiply(gh, hh, out=gh)
            np.matmul(ins0.T, gh, out=g0)
            t += 1  # Adam, as nn.optim (and torch) write it
            step_size, root_bc2 = lr / (1 - b1**t), (1 - b2**t) ** 0.5
            np.subtract(grad, m, out=s1)
            np.multiply(s1, 1 - b1, out=s1)
            np.add(m, s1, out=m)
            np.multiply(grad, 1 - b2, out=s1)
            np.multiply(s1, grad, out=s1)
            np.multiply(v, b2, out=v)
            np.add(v, s1, out=v)
            np.sqrt(v, out=s1)
            np.divide(s1, root_bc2, out=s1)
            np.add(s1, eps, out=s1)
            np.divide(m, s1, out=s1)
            np.multiply(s1, step_size, out=s1)
            np.subtract(theta, s1, out=theta)
        seconds.append(time.perf_counter() - start_time)
    return seconds, np.concatenate([np.concatenate([a[:-1].T.ravel(), a[-1]]) for a in views])


def jax_epochs(
    model: MLP,
    X: list,  # noqa: N803
    y: list,
    epochs: int,
    batch: int,  # noqa: N803
) -> tuple[list[float], np.ndarray]:
    """Seconds per epoch of the same training with the whole step (value, gradients and Adam)
    under ``jax.jit`` in float64 (batches gathered with numpy and handed over), and the
    trained weights, flat as ``to_numpy`` lays them out."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    params = [jnp.asarray(a) for w, b, _ in model.to_numpy() for a in (w.T.copy(), b.copy())]

    def loss(params: list, x: jnp.ndarray, y: jnp.ndarray) -> jnp.ndarray:
        w0, c0, w1, c1 = params
        z = jnp.tanh(x @ w0 + c0) @ w1 + c1
        picked = jnp.take_along_axis(z, y[:, None], axis=1)[:, 0]
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - picked)

    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.01

    @jax.jit
    def step(params: list, m: list, v: list, t: jnp.ndarray, x: jnp.ndarray, y: jnp.ndarray):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        step_size, root_bc2 = lr / (1 - b1**t), (1 - b2**t) ** 0.5
        m = [mi + (g - mi) * (1 - b1) for mi, g in zip(m, grads)]
        v = [vi * b2 + (1 - b2) * g * g for vi, g in zip(v, grads)]
        params = [
            p - step_size * (mi / (jnp.sqrt(vi) / root_bc2 + eps))
            for p, mi, vi in zip(params, m, v)
        ]
        return params, m, v, value

    m = [jnp.zeros_like(p) for p in params]
    v = [jnp.zeros_like(p) for p in params]
    xa, ya = np.asarray(X, dtype=float), np.asarray(y, dtype=np.int64)
    rng, seconds, t = np.random.default_rng(0), [], 0
    for _ in range(epochs):
        start = time.perf_counter()
        for idx in batches(len(y), batch, rng):
            t += 1
            params, m, v, value = step(params, m, v, float(t), xa[idx], ya[idx])
        value.block_until_ready()
        seconds.append(time.perf_counter() - start)
    w0, c0, w1, c1 = (np.asarray(p) for p in params)
    return seconds, np.concatenate([w0.T.ravel(), c0, w1.T.ravel(), c1])


def mlp_table(args: argparse.Namespace, X: list, y: list) -> dict[str, float]:  # noqa: N803
    """Blocks of epochs, alternating: fit(compile=True) without and with its accuracy metric,
    then PyTorch; each fit block's first epoch (the trace) is left out of the medians."""
    make = lambda: MLP(64, [32, 10], activation="tanh", init="xavier", seed=0)  # noqa: E731
    names = ["ours: fit(compile=True)", "ours: fit(compile=True), accuracy each epoch"]
    seconds: dict[str, list[float]] = {name: [] for name in names}
    firsts: dict[str, list[float]] = {name: [] for name in names}
    seconds["numpy at its best"] = []
    try:
        import jax  # noqa: F401

        seconds["JAX jit"] = []
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(1)
        seconds["PyTorch float64, 1 thread"] = []
    except ImportError:
        torch = None
    for _ in range(args.mlp_blocks):
        for name, metrics in zip(names, ((), ("accuracy",))):
            model = make()
            history = fit(
                model, X, y, loss=cross_entropy, optimizer=Adam(model, lr=0.01),
                epochs=args.epochs, batch_size=64, progress=False, compile=True, metrics=metrics,
            )  # fmt: skip
            seconds[name] += history.seconds[1:]
            firsts[name].append(history.seconds[0])
            ours = model
        times, best_w = numpy_best_epochs(make(), X, y, args.epochs, 64)
        seconds["numpy at its best"] += times[1:]
        if "JAX jit" in seconds:
            times, jax_w = jax_epochs(make(), X, y, args.epochs, 64)
            seconds["JAX jit"] += times[1:]
        if torch is not None:
            times, net = torch_epochs(make(), X, y, args.epochs, 64)
            seconds["PyTorch float64, 1 thread"] += times[1:]
    medians = {name: statistics.median(ts) for name, ts in seconds.items()}
    limit, jax_ms = medians["numpy at its best"], medians.get("JAX jit")
    torch_ms = medians.get("PyTorch float64, 1 thread")
    rows = [
        [
            name,
            fmt_ms(t),
            f"{statistics.median(firsts[name]) * 1e3:.0f} ms" if name in firsts else "-",
            f"{t / limit:.2f}x",
            f"{t / jax_ms:.2f}x" if jax_ms else "-",
            f"{t / torch_ms:.2f}x" if torch_ms else "-",
        ]
        for name, t in medians.items()
    ]
    print(
        f"digits MLP 64-32-10 (tanh), cross-entropy, Adam 0.01, batches of 64, {len(y)} images; "
        f"{args.mlp_blocks} alternating blocks of {args.epochs} epochs ({machine()})"
    )
    header = ["engine", "ms/epoch", "first epoch", "x best numpy", "x JAX", "x PyTorch"]
    print(table(header, rows))
    ours_w = np.concatenate([np.concatenate([w.ravel(), b]) for w, b, _ in ours.to_numpy()])
    others = {"numpy at its best": best_w}
    if "JAX jit" in seconds:
        others["JAX jit"] = jax_w
    if torch is not None:
        others["PyTorch"] = np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])
    diffs = ", ".join(f"{k} {float(np.abs(ours_w - w).max()):.1e}" for k, w in others.items())
    print(f"weights after {args.epochs} epochs, same batches: max |ours - peer|: {diffs}")
    return medians


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="MLP epochs per block")
    parser.add_argument("--mlp-blocks", type=int, default=5, help="alternating MLP blocks")
    args = parser.parse_args(argv)
    try:
        X, y = load()  # noqa: N806
    except SystemExit as e:
        print(e)
        return {}
    return mlp_table(args, X, y)


if __name__ == "__main__":
    main()
