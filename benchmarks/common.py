"""Timing helpers shared by the benchmarks, and the rules every benchmark here keeps.

- Engines are timed in the same process, in alternating blocks; tables quote medians and ratios.
- Each timed block ends with ``gc.collect()``, so every engine pays for freeing its own graph
  (otherwise one engine's garbage is collected inside the next engine's block).
- Two ratios: as run (GC enabled) and with the GC paused during the steps (the collection still
  inside the block). Say what else the process imported.
- The tape's collection is amortised over a block of steps (a per-step ``gc.collect()`` costs
  more than a step).
- Compare with the limit (numpy written by hand for the same network) and with the peers a user
  would pick (PyTorch eager batched, JAX ``jit``, ``torch.compile``), not only micrograd.
"""

from __future__ import annotations

import gc
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def time_block(step: Callable[[], object], steps: int, pause_gc: bool) -> float:
    """Seconds per step over one block. The block ends with a full collection, so every engine
    pays for freeing its own graph; with ``pause_gc`` the cyclic GC is off during the steps only."""
    was_enabled = gc.isenabled()
    gc.collect()
    start = time.perf_counter()
    if pause_gc:
        gc.disable()
    try:
        for _ in range(steps):
            step()
    finally:
        if was_enabled:
            gc.enable()
    gc.collect()
    return (time.perf_counter() - start) / steps


def alternate(
    engines: dict[str, Callable[[], object]], blocks: int, steps: int, pause_gc: bool
) -> dict[str, float]:
    """Median seconds per step for each engine, timed in alternating blocks. The order rotates
    from block to block (A B C, B C A, C A B, ...), so no engine always runs right after the
    same one (whose caches, heap and CPU frequency it would inherit)."""
    samples: dict[str, list[float]] = {name: [] for name in engines}
    names = list(engines)
    for block in range(blocks):
        k = block % len(names) if names else 0
        for name in names[k:] + names[:k]:
            samples[name].append(time_block(engines[name], steps, pause_gc))
    return {name: statistics.median(ts) for name, ts in samples.items()}


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze what is alive now (modules, models, imported libraries): none of it is garbage, and
    freezing keeps every block's closing collection from scanning it, so each engine pays for
    its own objects only."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def machine() -> str:
    """One line saying where the numbers came from, with the load when they were taken (the
    machine may be shared: the load says how much)."""
    import os

    python = f"{platform.python_implementation()} {platform.python_version()}"
    try:
        load = ", load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        load = ""
    return f"{python}, {platform.machine()}, {os.cpu_count()} cores{load}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with right-aligned columns (the first left-aligned)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))
    )
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def fmt_ms(seconds: float) -> str:
    """Milliseconds, three decimals below 10 ms, one above."""
    ms = seconds * 1e3
    return f"{ms:.3f}" if ms < 10 else f"{ms:.1f}"
