"""Every op at nan and ±inf: the cases, and PyTorch's answers (recorded, so they are checked even
where torch is not installed; a torch test keeps the record true).

Run ``python -m tests.autograd.nonfinite`` (with torch) to write ``nonfinite_torch.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from autograd.ops import OPS, Op

from .programs import TORCH

SPECIALS = (math.nan, math.inf, -math.inf)
RECORD = Path(__file__).with_name("nonfinite_torch.json")


def cases() -> list[tuple[str, str, tuple[float, ...], tuple[Any, ...]]]:
    """(case id, op name, inputs, constant args) for every op: each input in turn, then all of
    them, set to each special value; the other inputs keep the op's first example point."""
    out = []
    for name, op in OPS.items():
        point = op.examples[0]
        xs = list(point[:-1] if op.has_arg else point)
        args = tuple(point[-1:]) if op.has_arg else ()
        seen = set()
        for s in SPECIALS:
            variants = [xs[:i] + [s] + xs[i + 1 :] for i in range(len(xs))]
            variants.append([s] * len(xs))
            for v in variants:
                key = tuple(map(repr, v))
                if key not in seen:
                    seen.add(key)
                    out.append((f"{name}({', '.join(key)})", name, tuple(v), args))
    return out


def torch_answer(op: Op, xs: tuple[float, ...], args: tuple[Any, ...]) -> dict[str, Any]:
    """PyTorch float64's value and gradient (seed 1) for one case, as reprs."""
    import torch

    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = TORCH[op.name](torch, *ts, *args)
    if out.requires_grad:
        out.backward()
    grads = [0.0 if t.grad is None else t.grad.item() for t in ts]
    return {"value": repr(out.item()), "grads": [repr(g) for g in grads]}


def write_record() -> None:
    record = {cid: torch_answer(OPS[name], xs, args) for cid, name, xs, args in cases()}
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(record)} cases to {RECORD}")


if __name__ == "__main__":
    write_record()
