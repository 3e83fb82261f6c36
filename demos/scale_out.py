"""Outgrowing the scalar engine: the moons network exported to torch, trained on 2 processes.

The network of demos/moons.py (MLP 2-16-16-1, relu), every number a Value, is traced on one
sample and exported with tape.to_torch(): a torch.nn.Module that replays the recorded rows on
tensors, a batch at a time. torch then trains it with DistributedDataParallel over --processes
processes (the gloo backend on this machine's loopback, 127.0.0.1, started with
torch.multiprocessing): every process takes its share of each batch and DDP averages the
gradients, so each step is the step one process would take on the whole batch. The trained
numbers go back into the Values (module.sync()), and our own engine scores and draws them.
With --check the same training runs in this one process too and the two loss curves are
compared (equal up to float rounding). Needs torch (pip install torch); not part of `make demo`.
Writes:

  scale_out_loss.png       the loss per epoch, as the processes computed it together
  scale_out_boundary.png   the decision regions of the trained Values, drawn by viz
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import demolib  # first: puts the repo on sys.path when run as a script

from autograd import trace
from nn import MLP, datasets

NAME = "scale_out"


def build(seed: int) -> tuple[MLP, Any]:
    """The moons network as Values, and its traced program as a torch module (float64)."""
    mlp = MLP(2, [16, 16, 1], activation="relu", fused=True, seed=seed)
    return mlp, trace(mlp, [0.0, 0.0]).to_torch()


def train(
    rank: int, world: int, port: int, config: dict[str, Any], result: str | None = None
) -> dict[str, Any]:
    """Train on process ``rank`` of ``world`` (``world == 1``: here, without DDP). Every
    process shuffles alike and takes samples ``rank, rank + world, ...`` of each batch; the
    loss of each step is averaged over the processes. Rank 0 saves the losses and the trained
    parameters to ``result`` (when given) and returns them."""
    import torch

    torch.set_num_threads(1)  # the processes share the machine's cores
    _, module = build(config["seed"])
    x, y = (torch.tensor(a, dtype=torch.float64) for a in (config["X"], config["y"]))
    model: Any = module
    if world > 1:
        import torch.distributed as dist

        dist.init_process_group(
            "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
        )
        model = torch.nn.parallel.DistributedDataParallel(module, forward_sync_buffers=False)
    optimizer = torch.optim.SGD(module.parameters(), lr=config["lr"], momentum=0.9)
    losses = []
    batch = config["batch"]
    for epoch in range(config["epochs"]):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        total = 0.0
        for start in range(0, len(x), batch):
            mine = order[start : start + batch][rank::world]
            loss = torch.relu(1 - y[mine] * model(x[mine])).mean()  # hinge, as moons.py
            optimizer.zero_grad()
            loss.backward()  # DDP: the gradients averaged over the processes here
            optimizer.step()
            step_loss = loss.detach()
            if world > 1:
                dist.all_reduce(step_loss)
                step_loss /= world
            total += step_loss.item()
        losses.append(total / -(-len(x) // batch))
    out = {"loss": losses, "theta": module.theta.detach().tolist()}
    if world > 1:
        dist.destroy_process_group()
    if rank == 0 and result is not None:
        torch.save(out, result)
    return out


def free_port() -> int:
    """A free TCP port on the loopback, for the processes to meet on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distributed(world: int, config: dict[str, Any]) -> dict[str, Any]:
    """``train`` on ``world`` processes started with torch.multiprocessing; rank 0's result."""
    import torch
    import torch.multiprocessing as mp

    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo on the loopback only
    with tempfile.TemporaryDirectory() as folder:
        result = str(Path(folder) / "rank0.pt")
        mp.spawn(train, args=(world, free_port(), config, result), nprocs=world, join=True)
        return torch.load(result)


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=0)
    p.add_argument("--processes", type=demolib.positive_int, default=2, help="default: 2")
    p.add_argument("--epochs", type=demolib.positive_int, default=40, help="default: 40")
    p.add_argument("--points", type=demolib.positive_int, default=128, help="default: 128")
    p.add_argument("--batch", type=demolib.positive_int, default=32, help="default: 32")
    p.add_argument("--lr", type=float, default=0.05, help="SGD's learning rate (0.05)")
    p.add_argument("--check", action="store_true", help="also train in one process, compare")
    args = p.parse_args(argv)
    if args.batch % args.processes:
        p.error(f"--batch {args.batch} must be a multiple of --processes {args.processes}")
    try:
        import torch  # noqa: F401
    except ImportError:
        p.error("needs torch: pip install torch (or the project's torch extra)")
    out = demolib.out_dir(args.out)

    X, y = datasets.moons(args.points, noise=0.1, seed=args.seed, signed=True)  # noqa: N806
    config = dict(X=X, y=y, seed=args.seed, epochs=args.epochs, batch=args.batch, lr=args.lr)
    mlp, module = build(args.seed)
    start = time.perf_counter()
    run = distributed(args.processes, config)
    seconds = time.perf_counter() - start

    with torch.no_grad():
        module.theta.copy_(torch.tensor(run["theta"], dtype=torch.float64))
    module.sync()  # the trained numbers back into the Values: our engine scores and draws them
    accuracy = sum((mlp(x).data > 0) == (t > 0) for x, t in zip(X, y)) / len(y)
    result = {"loss": run["loss"], "accuracy": accuracy, "seconds": seconds, "model": mlp}
    check = ""
    if args.check:
        single = train(0, 1, 0, config)
        gap = max(abs(a - b) for a, b in zip(single["loss"], run["loss"]))
        result["single_loss"], result["gap"] = single["loss"], gap
        check = f"; one process: the same losses to {gap:.1e}"

    import viz  # here, not at the top: the repo must be on sys.path first

    title = f"moons on {args.processes} processes (torch DDP)"
    files = [
        os.fspath(viz.plot_loss(run["loss"], out / "scale_out_loss.png", title=title)),
        os.fspath(
            viz.plot_decision_boundary(
                mlp, X, y, out / "scale_out_boundary.png", title=f"{title}: back in Values"
            )
        ),
    ]
    demolib.report(
        NAME,
        f"{module!r}".replace("\n", " ")
        + f" trained {args.epochs} epochs on {args.processes} processes ({seconds:.1f} s), "
        f"loss {run['loss'][0]:.3f} -> {run['loss'][-1]:.3f}, accuracy {accuracy:.0%}{check}",
        files,
    )
    result["files"] = files
    return result


if __name__ == "__main__":
    main()
