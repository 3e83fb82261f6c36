"""Backprop, one node at a time: the steps as data and as a terminal table.

The steps come from the engine's one chain-rule sweep (``autograd.backward.chain_rule``), so
what they show is what ``backward()`` computes; ``viz.backprop_page`` turns them into a page.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from autograd.backward import chain_rule, local_grads
from autograd.graph import topological_order
from autograd.value import Value

from .console import for_stream
from .dot import clean_text, fmt, op_name


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
    """The steps ``root.backward()`` takes, one per node a gradient reaches, in the same order.

    They come from ``autograd.backward.chain_rule``, the sweep backward runs: each step gives
    every input its local derivative (``local_grads(node, 1.0)``, the op table's rule), the
    contribution the sweep adds and the input's running grad after it. Grads start at zero (as
    after ``zero_grad``) with the seed 1.0 on ``root``; no ``.grad`` is touched.
    """
    grads: dict[Value, float] = {root: 1.0}
    sweep = chain_rule(topological_order(root), grads)
    for index, (node, grad, contributions) in enumerate(sweep, 1):
        running: dict[Value, float] = {}  # this step's additions, made as the sweep makes them
        shares = []
        for k, (p, local, c) in enumerate(zip(node.parents, local_grads(node, 1.0), contributions)):
            seen = running[p] if p in running else grads.get(p)
            if c is not None:
                seen = running[p] = c if seen is None else seen + c
            shares.append(Share(p, k, _float(local), _float(c), 0.0 if seen is None else seen))
        yield Step(index, node, float(grad), tuple(shares))


def _float(x: object) -> float | None:
    return None if x is None else float(x)


def _names(order: list[Value]) -> dict[Value, str]:
    """A name for every node: its label, or v<i> by topological position."""
    return {v: clean_text(v.label) or f"v{i}" for i, v in enumerate(order)}


# A name that reads as one symbol; any other (``x1*w1 + x2*w2``) is parenthesised in formulas.
_ATOM = re.compile(r"[\w.\[\],·']+")


def term(name: str) -> str:
    """``name`` as one term of a formula: ``x1`` stays, ``x1*w1 + x2*w2`` gets parentheses."""
    return name if _ATOM.fullmatch(name) else f"({name})"


def derivative(of: str, wrt: str) -> str:
    """``∂n/∂(x1*w1 + x2*w2)``: the derivative of one named node with respect to another."""
    return f"∂{term(of)}/∂{term(wrt)}"


def grad_of(name: str) -> str:
    """``(x1*w1).grad``: a named node's grad, as Python would read it."""
    return f"{term(name)}.grad"


_INFIX = {"add", "sub", "mul", "div", "pow", "pow_value"}


def expression(node: Value, names: dict[Value, str]) -> str:
    """How ``node`` was made, with the op's display name: ``x1*w1 + x2*w2 + b`` reads as
    ``(x1*w1 + x2*w2) + b``, ``tanh(n)``, ``n**2``, ``LeakyReLU(0.01)(z)``."""
    args = [term(names[p]) for p in node.parents]
    if node.op in _INFIX and node.op != "pow" and len(args) == 2:
        return f"{args[0]} {op_name(node)} {args[1]}"
    if node.op == "pow":
        return f"{args[0]}{op_name(node)}"
    return f"{op_name(node)}({', '.join(names[p] for p in node.parents)})"


def chain_rule_line(node: str, inp: str, share: Share, grad: float, precision: int) -> str:
    """``a.grad += ∂c/∂a · c.grad = -3.0 · 1.0 = -3.0``"""
    if share.local is None:
        return f"{grad_of(inp)}: nothing flows back from {node} (it passes no gradient to {inp})"
    local, g, c = (fmt(x, precision) for x in (share.local, grad, share.contribution))
    return f"{grad_of(inp)} += {derivative(node, inp)} · {grad_of(node)} = {local} · {g} = {c}"


def print_backward(root: Value, file: TextIO | None = None, precision: int = 4) -> None:
    """Print backward as a table: node, input, ∂node/∂input, node.grad, added, input.grad."""
    order = topological_order(root)
    names = _names(order)
    head = ("step", "node", "op", "input", "∂node/∂input", "node.grad", "added", "input.grad")
    rows = []
    for step in backward_steps(root):
        op = op_name(step.node)
        for k, s in enumerate(step.shares):
            nums = [
                fmt(x, precision) if x is not None else "-"
                for x in (s.local, step.grad, s.contribution)
            ]
            first = (str(step.index), names[step.node], op) if k == 0 else ("", "", "")
            rows.append((*first, names[s.input], *nums, fmt(s.running, precision)))
    out = file or sys.stdout
    # Cells as the console can show them (ASCII on a cp1252 console), so columns stay aligned.
    table = [[for_stream(cell, out) for cell in r] for r in [head, *rows]]
    title = f"backward from {names[root]} (seed {grad_of(names[root])} = 1.0)"
    print(for_stream(title, out), file=out)
    widths = [max(len(r[c]) for r in table) for c in range(len(head))]
    for r in [table[0], ["-" * w for w in widths], *table[1:]]:
        cells = [
            cell.rjust(w) if c >= 4 or c == 0 else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(r, widths))
        ]
        print("  ".join(cells).rstrip(), file=out)
