"""backprop_html: one self-contained page that steps through backward, one box a step.

Frame 0 is the forward pass (the seed on the root); every later frame is one box of the picture
handing its grad to its inputs: a Value made by an op (one step of the engine's sweep), or, with
``collapse=``, a whole neuron or layer (all the sweep's steps inside it, as one).
"""

from __future__ import annotations

import heapq
import html
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from autograd.backward import chain_rule
from autograd.ops import OPS
from autograd.value import Value

from .backprop import (
    Step,
    _names,
    backward_steps,
    chain_rule_line,
    derivative,
    expression,
    grad_of,
    op_name,
    term,
)
from .dot import Layout, PageText, draw_dot, fmt, plan
from .groups import Group
from .layout import size_pt, svg_from_source
from .page import HtmlPage, fill_template


@dataclass
class _Share:
    """One input's share in a frame, before the running grads are known."""

    input: Value
    edge: str  # the SVG id of the edge it flows along
    wrt: str  # the derivative's name, e.g. ∂n/∂(x1*w1 + x2*w2)
    local: float | None
    added: float | None
    line: str  # the chain rule written out


@dataclass
class _Frame:
    lit: list[str]  # SVG ids drawn as "current"
    current: list[int]  # Values whose rows are current in the grads table
    title: str
    rule: str
    shares: list[_Share]


def _js_number(x: float) -> float | str:
    """JSON has no nan or inf; the page reads these strings back with Number()."""
    return x if math.isfinite(x) else {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(x)]


def _value_frame(step: Step, layout: Layout, names: dict[Value, str], p: int) -> _Frame:
    """One engine step: a Value made by an op hands its grad to each input."""
    node, op, i = step.node, OPS[step.node.op], layout.index[step.node]
    shares = [
        _Share(
            s.input,
            f"e{i}_{s.position}",
            derivative(names[node], names[s.input]),
            s.local,
            s.contribution,
            chain_rule_line(names[node], names[s.input], s, step.grad, p),
        )
        for s in step.shares
    ]
    return _Frame(
        [f"v{i}", f"op{i}", f"o{i}"],
        [i],
        f"{names[node]} = {expression(node, names)} passes its grad {fmt(step.grad, p)} back to "
        "its inputs",
        f"{op_name(node)}: {op.doc}",
        shares,
    )


def _sums_into_inputs(group: Group, steps: list[Step], layout: Layout) -> dict[Value, Any]:
    """What the sweep's steps inside ``group`` add to each Value outside it (None: nothing)."""
    totals: dict[Value, float | None] = {}
    for step in steps:
        for s in step.shares:
            if layout.member.get(s.input) is group:
                continue
            seen = totals.get(s.input)
            if s.contribution is None:
                totals.setdefault(s.input, None)
            else:
                totals[s.input] = s.contribution if seen is None else seen + s.contribution
    return totals


def _group_frame(
    group: Group, steps: list[Step], layout: Layout, names: dict[Value, str], grads: dict, p: int
) -> _Frame:
    """A collapsed box: every sweep step inside it at once; each input gets the sum of what the
    paths through the box add to it. A box with one output also shows d(output)/d(input)."""
    totals = _sums_into_inputs(group, steps, layout)
    outputs, title = layout.outputs(group), group.title
    shares = []
    if len(outputs) == 1:
        local: dict[Value, Any] = {outputs[0]: 1.0}  # the same sweep, seeded at the output
        for _ in chain_rule(group.members, local):
            pass
        grad = grads.get(outputs[0], 0.0)
        what = f"passes its grad {fmt(grad, p)} back to its inputs"
        for inp, added in totals.items():
            wrt = derivative(title, names[inp])
            line = (
                f"{grad_of(names[inp])} += {wrt} · {grad_of(title)} = "
                f"{_num(local.get(inp), p)} · {fmt(grad, p)} = {_num(added, p)}"
            )
            shares.append(_Share(inp, group.edge_from(layout.box_of(inp)), wrt, local.get(inp),
                                 added, line))  # fmt: skip
    else:
        what = f"passes the grads of its {len(outputs)} outputs back to its inputs"
        for inp, added in totals.items():
            wrt = f"Σ ∂out/∂{term(names[inp])} · out.grad"
            line = f"{grad_of(names[inp])} += {wrt} over {title}'s outputs = {_num(added, p)}"
            shares.append(_Share(inp, group.edge_from(layout.box_of(inp)), wrt, None, added, line))
    rule = (
        f"{group.path}: its {len(steps)} chain-rule steps run as one; each input gets the sum "
        f"over the paths through the box ({len(group.members)} nodes)"
    )
    current = [layout.index[v] for v in outputs]
    return _Frame([group.box], current, f"{title} {what}", rule, shares)


def _num(x: float | None, p: int) -> str:
    return "-" if x is None else fmt(x, p)


def _box_order(layout: Layout, steps: list[Step]) -> list[tuple[str, list[Step]]]:
    """The boxes that take steps, each after every box that uses its Values (so its grad is
    complete when its turn comes), ties in the sweep's order; each with its steps."""
    box_steps: dict[str, list[Step]] = {}
    for step in steps:
        box_steps.setdefault(layout.box_of(step.node), []).append(step)
    position = {box: k for k, box in enumerate(box_steps)}
    producers: dict[str, set[str]] = {box: set() for box in box_steps}
    waiting = dict.fromkeys(box_steps, 0)
    for v in layout.order:
        user = layout.box_of(v)
        for p in v.parents:
            box = layout.box_of(p)
            if (
                box != user
                and box in box_steps
                and user in box_steps
                and box not in producers[user]
            ):
                producers[user].add(box)
                waiting[box] += 1
    ready = [(position[b], b) for b, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, box = heapq.heappop(ready)
        order.append(box)
        for producer in producers[box]:
            waiting[producer] -= 1
            if waiting[producer] == 0:
                heapq.heappush(ready, (position[producer], producer))
    placed = set(order)  # boxes in a cycle (a module used inside itself): in sweep order
    order += [box for box in box_steps if box not in placed]
    return [(box, box_steps[box]) for box in order]


def _frames(root: Value, layout: Layout, names: dict[Value, str], p: int) -> list[_Frame]:
    steps = list(backward_steps(root))
    if not layout.member:
        return [_value_frame(step, layout, names, p) for step in steps]
    groups = {group.box: group for group in layout.groups}
    grads: dict[Value, float] = {root: 1.0}
    frames = []
    for box, box_steps in _box_order(layout, steps):
        if box in groups:
            frame = _group_frame(groups[box], box_steps, layout, names, grads, p)
        else:
            frame = _value_frame(box_steps[0], layout, names, p)
        for s in frame.shares:
            if s.added is not None:
                seen = grads.get(s.input)
                grads[s.input] = s.added if seen is None else seen + s.added
        frames.append(frame)
    return frames


def _page_data(root: Value, layout: Layout, names: dict[Value, str], p: int) -> dict:
    """Everything the page's script needs: frame 0 is the forward pass with the seed on the
    root, frame k is step k; running grads are summed here in the frames' order."""
    frames = _frames(root, layout, names, p)
    index = layout.index
    seed, r = fmt(1.0, p), names[root]
    running: dict[int, float] = {index[root]: 1.0}
    uses = {index[root]: 1}
    out = [
        {
            "lit": [],
            "current": [],
            "title": f"Forward pass done: all data known, no grad yet. Seed: {grad_of(r)} = 1",
            "rule": "",
            "lines": [f"{grad_of(r)} = {derivative(r, r)} = {seed}"],
            "shares": [],
        }
    ]
    for k, frame in enumerate(frames, 1):
        shares = []
        for s in frame.shares:
            i = index[s.input]
            if s.added is not None:
                running[i] = s.added if i not in running else running[i] + s.added
                uses[i] = uses.get(i, 0) + 1
            shares.append(
                {
                    "input": i,
                    "edge": s.edge,
                    "wrt": s.wrt,
                    "local": _num(s.local, p),
                    "added": None if s.added is None else fmt(s.added, p),
                    "running": fmt(running.get(i, 0.0), p),
                    "value": _js_number(running.get(i, 0.0)),
                }
            )
        out.append(
            {
                "lit": frame.lit,
                "current": frame.current,
                "title": f"Step {k} of {len(frames)}: {frame.title}",
                "rule": frame.rule,
                "lines": [s.line for s in frame.shares],
                "shares": shares,
            }
        )
    outputs = {v for group in layout.groups for v in layout.outputs(group)}
    shown = [v for v in layout.order if v not in layout.member or v in outputs]
    nodes = [
        {
            "id": index[v],
            "name": names[v],
            "data": fmt(v.data, p),
            "uses": uses.get(index[v], 0),
            "box": layout.box_of(v),
        }
        for v in shown
    ]
    return {
        "root": index[root],
        "rootBox": layout.box_of(root),
        "seed": seed,
        "nodes": nodes,
        "frames": out,
    }


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


_NODE = re.compile(r'(<g id="([vg])(\d+)" class="node">)(.*?)(</g>)', re.S)


def _mark_grads(svg: str, layout: Layout) -> str:
    """Tag each grad text with ``data-grad-of="<Value index>"`` for the script: a Value's box has
    it last; a collapsed box has a data/grad pair per output after its title and size."""
    groups = {group.box: group for group in layout.groups}

    def mark(m: re.Match) -> str:
        texts = m[4].split("<text")
        if m[2] == "v":
            owners = {len(texts) - 1: m[3]}
        else:
            outputs = layout.outputs(groups[f"g{m[3]}"])
            owners = {4 + 2 * k: str(layout.index[v]) for k, v in enumerate(outputs)}
        for k, owner in owners.items():
            if 0 < k < len(texts):
                texts[k] = f' data-grad-of="{owner}"' + texts[k]
        return m[1] + "<text".join(texts) + m[5]

    return _NODE.sub(mark, svg)


def _edge_labels(data: dict) -> dict[str, tuple[str, ...]]:
    """Each input edge's label: the local derivative and what it adds (all shares along it)."""
    labels: dict[str, tuple[str, ...]] = {}
    for frame in data["frames"]:
        for s in frame["shares"]:
            lines = (f"{s['wrt']} = {s['local']}", f"adds {s['added'] or 'nothing'}")
            labels[s["edge"]] = labels.get(s["edge"], ()) + lines
    return labels


# The room the page gives the picture in a common window (1400 x 1000, beside the step panel).
PANEL = (940.0, 780.0)


def _laid_out(
    root: Value,
    rankdir: str | None,
    precision: int,
    max_nodes: int,
    collapse: str | None,
    params: Any,
    page_text: PageText,
) -> str:
    """The page's SVG: laid out as ``rankdir`` asks, or, for None, left to right unless top to
    bottom fits the panel at a larger scale (a graph far wider than the window)."""

    def svg_for(direction: str) -> str:
        graph = draw_dot(
            root, direction, precision, max_nodes=max_nodes, collapse=collapse, params=params,
            _page=page_text,
        )  # fmt: skip
        svg = svg_from_source(graph.source, who="backprop_html")
        return re.sub(r"<!--.*?-->\n?", "", svg[svg.index("<svg") :], flags=re.S)

    def fit(svg: str) -> float:
        w, h = size_pt(svg)
        return min(PANEL[0] / w, PANEL[1] / h)

    wide = svg_for(rankdir or "LR")
    if rankdir is not None:
        return wide
    w, h = size_pt(wide)
    if w / h < 2.0 * PANEL[0] / PANEL[1]:  # not far wider than the panel: left to right reads
        return wide
    tall = svg_for("TB")
    return tall if fit(tall) > 1.2 * fit(wide) else wide


def backprop_html(
    root: Value,
    path: str | os.PathLike[str] | None = None,
    precision: int = 4,
    rankdir: str | None = None,
    *,
    max_nodes: int = 500,
    collapse: str | None = None,
    params: Any = None,
) -> HtmlPage:
    """ONE self-contained page that steps through backward from ``root``; shown inline in a
    notebook, written to ``path`` when one is given (``os.fspath(page)`` is then that path).

    Step 0 is the forward pass (grads empty, the seed 1.0 on the root); each later step is one
    node handing its grad to its inputs: the node is highlighted, its incoming edges carry the
    local derivative and the contribution, grads fill in (as a sum where a node is used more than
    once), and the chain rule is written out. Prev / next / play / a slider / arrow keys; the
    picture opens fitted to the window, with zoom buttons, + / - / 0 and Ctrl+wheel (or pinch).
    The graph is laid out by the embedded Graphviz and inlined, so the page needs no network.

    ``rankdir`` None (the default) lays the graph out left to right, or top to bottom when
    that leaves its text larger in a window (a long chain, a wide network): the page opens at a
    zoom where box text is readable (about 12 px) on the current node and follows the steps;
    "Fit" (or 0) shows the whole graph.

    Like :func:`viz.draw_dot`, more than ``max_nodes`` boxes raise a ``ValueError`` at once;
    ``collapse="neuron"`` or ``"layer"`` draws each neuron or layer as one box that takes one
    step (its inputs get the sums over the paths inside it).
    """
    if not isinstance(root, Value):
        raise TypeError(f"backprop_html: root must be a Value (the output), got {root!r}")
    layout = plan(root, max_nodes, collapse, params, who="backprop_html")
    names = _names(layout.order)
    for group in layout.groups:  # a box's unlabelled outputs are named after the box
        outputs = layout.outputs(group)
        for k, v in enumerate(outputs):
            if not v.label:
                names[v] = group.title if len(outputs) == 1 else f"{group.title}.{k}"
    data = _page_data(root, layout, names, precision)
    final = _final_grad_text(data)
    page_text = PageText(
        names=names,
        grad_text={v: final.get(i, "grad") for i, v in enumerate(layout.order)},
        edge_labels=_edge_labels(data),
        graph_attr={"nodesep": "0.3"},
    )
    svg = _laid_out(root, rankdir, precision, max_nodes, collapse, params, page_text)
    title = f"Backprop through {names[root]}"
    parts = {
        "TITLE": html.escape(title),
        # No '<' inside the script element, so no label can end it or open a comment.
        "DATA": json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"),
        "SVG": _mark_grads(svg, layout),
    }
    text = fill_template("backprop.html", parts, unit="step")
    page = HtmlPage(text, title=title, height=820)
    if path is not None:
        page.save(path, "backprop_html")
    return page
