"""The single neuron from the lectures: o = tanh(x1*w1 + x2*w2 + b), and backprop through it.

x1 = 2, x2 = 0, w1 = -3, w2 = 1, b = 6.8813735870195432 (chosen so that n = 0.8814 and
o = tanh(n) = 0.7071 = 1/sqrt(2), which makes do/dn = 1 - o^2 = 0.5). Prints backward as a
table, one row per chain-rule step, and writes:

  neuron_graph.svg/png   the graph with data and grad on every node (the README's picture)
  neuron_backprop.html   a page stepping through backward, one node a step
"""

from __future__ import annotations

import os

import demolib  # first: puts the repo on sys.path when run as a script

import viz
from autograd import Value

NAME = "neuron"


def neuron() -> tuple[Value, list[Value]]:
    """The lecture's neuron with every node labelled as in the lecture; returns (o, leaves)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [x1, w1, x2, w2, b]


def main(argv: list[str] | None = None) -> dict:
    p = demolib.parser(__doc__, seed=None)
    p.add_argument(
        "--rankdir",
        choices=("LR", "TB"),
        default=None,
        help="graph direction (default: LR for the pictures; the page picks what reads best)",
    )
    args = p.parse_args(argv)
    out = demolib.out_dir(args.out)

    o, leaves = neuron()
    o.backward()
    viz.print_backward(o)
    files = [
        viz.render(o, out / "neuron_graph.svg", rankdir=args.rankdir or "LR"),
        viz.render(o, out / "neuron_graph.png", rankdir=args.rankdir or "LR"),
        os.fspath(viz.backprop_html(o, out / "neuron_backprop.html", rankdir=args.rankdir)),
    ]
    grads = {v.label: v.grad for v in leaves}
    shown = ", ".join(f"{k} {g:.4f}" for k, g in grads.items())
    demolib.report(NAME, f"o = tanh(x1*w1 + x2*w2 + b) = {o.data:.4f}; grads {shown}", files)
    return {"output": o.data, "grads": grads, "files": files}


if __name__ == "__main__":
    main()
