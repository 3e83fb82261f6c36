"""Backprop, one node at a time: the steps as data, as a terminal table and as a web page."""

from __future__ import annotations

import html
import json
import math
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from autograd.backward import local_grads
from autograd.files import write_atomic
from autograd.graph import topological_order
from autograd.ops import OPS
from autograd.value import Value

from .dot import PageText, clean_text, draw_dot, fmt
from .render import svg_from_source


@dataclass(frozen=True)
class Share:
    """What one input of a step's node receives."""

    input: Value
    position: int  # which argument of the op (x * x has positions 0 and 1)
    local: float | None  # d(node)/d(input), from the op table; None when the op passes no grad
    contribution: float | None  # local derivative times node.grad: what is added to input.grad
    running: float  # the input's grad after this contribution (this pass only)


@dataclass(frozen=True)
class Step:
    """One node's turn in backward: its grad is complete; it hands a share to each input."""

    index: int  # 1, 2, ... in the order backward runs
    node: Value
    grad: float  # d(root)/d(node)
    shares: tuple[Share, ...]

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The node's inputs, in argument order."""
        return tuple(s.input for s in self.shares)


def backward_steps(root: Value) -> Iterator[Step]:
    """The steps ``root.backward()`` takes, one per node made by an op, in the same order.

    Each step gives every input its local derivative (``local_grads(node, 1.0)``, the op table's
    rule), the contribution backward adds (``local_grads(node, grad)``, computed exactly as
    backward computes it) and the input's running grad. Grads start at zero (as after
    ``zero_grad``) with the seed 1.0 on ``root``; no ``.grad`` is touched.
    """
    grads: dict[Value, float] = {root: 1.0}
    index = 0
    for node in reversed(topological_order(root)):
        if not node.parents:
            continue
        g = grads.get(node, 0.0)
        shares = []
        locals_ = local_grads(node, 1.0)
        for k, (p, local, contribution) in enumerate(
            zip(node.parents, locals_, local_grads(node, g))
        ):
            if contribution is not None:
                grads[p] = grads.get(p, 0.0) + contribution
            shares.append(Share(p, k, _float(local), _float(contribution), grads.get(p, 0.0)))
        index += 1
        yield Step(index, node, g, tuple(shares))


def _float(x: object) -> float | None:
    return None if x is None else float(x)


def _names(order: list[Value]) -> dict[Value, str]:
    """A name for every node: its label, or v<i> by topological position."""
    return {v: clean_text(v.label) or f"v{i}" for i, v in enumerate(order)}


def _chain_rule(node: str, inp: str, share: Share, grad: float, precision: int) -> str:
    """``a.grad += ∂c/∂a · c.grad = -3.0 · 1.0 = -3.0``"""
    if share.local is None:
        return f"{inp}.grad: nothing flows back from {node} ({node} does not depend smoothly on it)"
    local, g, c = (fmt(x, precision) for x in (share.local, grad, share.contribution))
    return f"{inp}.grad += ∂{node}/∂{inp} · {node}.grad = {local} · {g} = {c}"


def print_backward(root: Value, file: TextIO | None = None, precision: int = 4) -> None:
    """Print backward as a table: node, input, ∂node/∂input, node.grad, added, input.grad."""
    order = topological_order(root)
    names = _names(order)
    head = ("step", "node", "op", "input", "∂node/∂input", "node.grad", "added", "input.grad")
    rows = []
    for step in backward_steps(root):
        op = OPS[step.node.op].describe(step.node.arg)
        for k, s in enumerate(step.shares):
            nums = [
                fmt(x, precision) if x is not None else "-"
                for x in (s.local, step.grad, s.contribution)
            ]
            first = (str(step.index), names[step.node], op) if k == 0 else ("", "", "")
            rows.append((*first, names[s.input], *nums, fmt(s.running, precision)))
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    out = file or sys.stdout
    print(f"backward from {names[root]} (seed {names[root]}.grad = 1.0)", file=out)
    for r in [head, tuple("-" * w for w in widths), *rows]:
        cells = [
            cell.rjust(w) if c >= 4 or c == 0 else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(r, widths))
        ]
        print("  ".join(cells).rstrip(), file=out)


def _js_number(x: float) -> float | str:
    """JSON has no nan or inf; the page reads these strings back with Number()."""
    return x if math.isfinite(x) else {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(x)]


def _frame(
    step: Step, n_steps: int, index: dict[Value, int], names: dict[Value, str], p: int
) -> dict:
    """One backward step as the page shows it, numbers formatted as the picture formats them."""
    node, op = step.node, OPS[step.node.op]
    args = ", ".join(names[x] for x in node.parents)
    title = f"Step {step.index} of {n_steps}: {names[node]} = {op.name}({args}) "
    shares = [
        {
            "input": index[s.input],
            "edge": f"e{index[node]}_{s.position}",
            "wrt": f"∂{names[node]}/∂{names[s.input]}",
            "local": "-" if s.local is None else fmt(s.local, p),
            "added": None if s.contribution is None else fmt(s.contribution, p),
            "running": fmt(s.running, p),
            "value": _js_number(s.running),
        }
        for s in step.shares
    ]
    return {
        "node": index[node],
        "title": title + f"passes its grad {fmt(step.grad, p)} back to its inputs",
        "rule": f"{op.name}: {op.doc}",
        "lines": [_chain_rule(names[node], names[s.input], s, step.grad, p) for s in step.shares],
        "shares": shares,
    }


def _page_data(root: Value, order: list[Value], names: dict[Value, str], precision: int) -> dict:
    """Everything the page's script needs: frame 0 is the forward pass with the seed on the
    root, frame k is backward step k."""
    index = {v: i for i, v in enumerate(order)}
    steps = list(backward_steps(root))
    uses = {index[root]: 1}
    for step in steps:
        for s in step.shares:
            if s.contribution is not None:
                uses[index[s.input]] = uses.get(index[s.input], 0) + 1
    seed, r = fmt(1.0, precision), names[root]
    start = {
        "node": None,
        "title": f"Forward pass done: all data known, no grad yet. Seed: {r}.grad = 1",
        "rule": "",
        "lines": [f"{r}.grad = ∂{r}/∂{r} = {seed}"],
        "shares": [],
    }
    frames = [start] + [_frame(step, len(steps), index, names, precision) for step in steps]
    nodes = [
        {"name": names[v], "data": fmt(v.data, precision), "uses": uses.get(i, 0)}
        for i, v in enumerate(order)
    ]
    return {"root": index[root], "seed": seed, "nodes": nodes, "frames": frames}


def _final_grad_text(data: dict) -> dict[int, str]:
    """Each node's grad field as it reads at the last step, so the layout leaves room for it."""
    added: dict[int, list[str]] = {data["root"]: [data["seed"]]}
    total: dict[int, str] = {data["root"]: data["seed"]}
    for frame in data["frames"]:
        for s in frame["shares"]:
            if s["added"] is not None:
                added.setdefault(s["input"], []).append(s["added"])
                total[s["input"]] = s["running"]
    return {
        i: "grad " + (" + ".join(parts) + " = " if len(parts) > 1 else "") + total[i]
        for i, parts in added.items()
    }


_VALUE_NODE = re.compile(r'(<g id="v(\d+)" class="node">)(.*?)(</g>)', re.S)


def _mark_grads(svg: str) -> str:
    """Tag each Value's grad text (its last field) with ``data-grad-of="<node>"`` for the script."""

    def mark(m: re.Match) -> str:
        head, found, tail = m[3].rpartition("<text")
        return f'{m[1]}{head}<text data-grad-of="{m[2]}"{tail}{m[4]}' if found else m[0]

    return _VALUE_NODE.sub(mark, svg)


def backprop_html(
    root: Value, path: str | os.PathLike[str], precision: int = 4, rankdir: str = "LR"
) -> str:
    """Write ONE self-contained page that steps through backward from ``root``; return the path.

    Step 0 is the forward pass (grads empty, the seed 1.0 on the root); each later step is one
    node handing its grad to its inputs: the node is highlighted, its incoming edges carry the
    local derivative and the contribution, grads fill in (as a sum where a node is used more than
    once), and the chain rule is written out. Prev / next / play / a slider / arrow keys. The
    graph is laid out by the embedded Graphviz and inlined, so the page needs no network.
    """
    order = topological_order(root)
    names = _names(order)
    data = _page_data(root, order, names, precision)
    final = _final_grad_text(data)
    # Each input edge belongs to exactly one step, so its label (shown at that step) is fixed
    # and Graphviz can make room for it.
    notes = {
        s["edge"]: (f"{s['wrt']} = {s['local']}", f"adds {s['added'] or 'nothing'}")
        for frame in data["frames"]
        for s in frame["shares"]
    }
    page = PageText(
        names=names,
        grad_text={v: final.get(i, "grad") for i, v in enumerate(order)},
        edge_labels=notes,
        graph_attr={"nodesep": "0.3"},
    )
    graph = draw_dot(root, rankdir, precision, max_nodes=max(500, len(order)), _page=page)
    svg = svg_from_source(graph.source)
    svg = re.sub(r"<!--.*?-->\n?", "", svg[svg.index("<svg") :], flags=re.S)
    parts = {
        "TITLE": html.escape(f"Backprop through {names[root]}"),
        # No '<' inside the script element, so no label can end it or open a comment.
        "DATA": json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"),
        "SVG": _mark_grads(svg),
    }
    # One pass over the template: text we insert is never searched for placeholders again.
    page = re.sub(
        r"\{\{(TITLE|DATA|SVG)\}\}", lambda m: parts[m[1]], _PAGE.read_text(encoding="utf-8")
    )
    path = Path(path)
    write_atomic(path, page, "backprop_html")
    return os.fspath(path)


_PAGE = Path(__file__).with_name("backprop.html")
