"""The tour (`make demo`): every demo in turn, in under a minute on two cores.

1. tutorial_xor   the first tutorial's 3-4-1 sigmoid network, 1500 iterations
2. study_scores   hours studied and slept -> test score, a small regression
3. neuron         the lecture's neuron; backward printed step by step
4. moons          micrograd's demo, 100 steps to 100% training accuracy, replayed as a page
5. spirals        three classes, cross-entropy and Adam, on the numpy tape (--fast)

Each prints a one-line result; at the end a table lists the pictures and pages written.
--full runs every demo with its own defaults (spirals then trains eagerly, as moons does).
"""

from __future__ import annotations

import time
from pathlib import Path

import demolib  # first: puts the repo on sys.path when run as a script
import moons
import neuron
import spirals
import study_scores
import tutorial_xor

# (demo, arguments for the tour); --full drops the arguments.
TOUR = [
    (tutorial_xor, []),
    (study_scores, []),
    (neuron, []),
    (moons, []),
    (spirals, ["--fast"]),
]
KINDS = {".svg": "SVG", ".png": "PNG", ".html": "HTML", ".gif": "GIF"}


def size(n: int) -> str:
    """A byte count as people read it: 812 B, 57.0 kB, 1.2 MB."""
    if n < 1000:
        return f"{n} B"
    return f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1_000_000:.1f} MB"


def file_table(files: list[str]) -> list[str]:
    """Lines of a table: each file, its kind and its size."""
    paths = [Path(f) for f in files]
    width = max(len(str(p)) for p in paths)
    lines = [f"{'file':<{width}}  kind  {'size':>9}", f"{'-' * width}  ----  {'-' * 9}"]
    for p in paths:
        kind = KINDS.get(p.suffix.lower(), p.suffix.lstrip(".").upper())
        lines.append(f"{str(p):<{width}}  {kind:<4}  {size(p.stat().st_size):>9}")
    return lines


def others() -> list[str]:
    """Demos in this folder that the tour leaves out (run them alone)."""
    toured = {Path(demo.__file__).name for demo, _ in TOUR}
    skip = toured | {Path(__file__).name, Path(demolib.__file__).name}
    return sorted(p.name for p in Path(__file__).parent.glob("*.py") if p.name not in skip)


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=None)
    p.add_argument("--full", action="store_true", help="each demo with its own defaults")
    args = p.parse_args(argv)

    start = time.perf_counter()
    files: list[str] = []
    seconds: dict[str, float] = {}
    for k, (demo, tour_args) in enumerate(TOUR, 1):
        name = demo.NAME
        summary = (demo.__doc__ or "").splitlines()[0]
        print(f"\n== {k}/{len(TOUR)} {name}: {summary}")
        begin = time.perf_counter()
        result = demo.main(["--out", args.out, *([] if args.full else tour_args)])
        seconds[name] = time.perf_counter() - begin
        files += result["files"]
    total = time.perf_counter() - start

    print(f"\n== written to {args.out}/")
    print("\n".join(file_table(files)))
    times = ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items())
    print(f"\n{len(TOUR)} demos in {total:.1f} s ({times})")
    print(f"Step through backprop: open {Path(args.out) / 'neuron_backprop.html'} in a browser.")
    print(f"Watch moons learn: open {Path(args.out) / 'moons_training.html'} in a browser.")
    print("The same moons training on the numpy tape: python demos/moons.py --fast")
    print("Exported to torch, trained on 2 processes: python demos/scale_out.py (needs torch)")
    if others():
        print(f"Not in the tour, run alone: {', '.join(f'demos/{n}' for n in others())}")
    return {"files": files, "seconds": seconds, "total": total}


if __name__ == "__main__":
    main()
