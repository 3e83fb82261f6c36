"""Collapsed boxes: the Values a neuron or a layer made, drawn (and stepped) as one box."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from autograd.value import Value

# The module-scope entry a collapsed box ends at (see autograd.grad_mode.scope).
COLLAPSE_MARKERS = {"neuron": "Neuron:", "layer": "Layer:"}


@dataclass(eq=False)  # identity: groups key dicts
class Group:
    """Values drawn as one box: a neuron's or a layer's subgraph. ``box`` is its id in the SVG."""

    box: str
    key: tuple[str, ...]
    members: list[Value]

    @property
    def path(self) -> str:
        """The module's full name, e.g. ``Neuron layers.0.neurons.2`` (the box's tooltip)."""
        kind = self.key[-1].split(":", 1)[0]
        path = ".".join(name for entry in self.key if (name := entry.split(":", 1)[-1]))
        return f"{kind} {path}".strip()

    def edge_from(self, tail: str) -> str:
        """The SVG id of the edge from box ``tail`` (``v3`` or ``g1``) into this box."""
        return f"{self.box}_from_{tail}"

    @property
    def title(self) -> str:
        """A short name for the box: ``L0·N2`` for layer 0's neuron 2 (the initial of each
        module's class and its index; a module named otherwise keeps its name)."""
        parts = [_short_name(entry) for entry in self.key if entry.split(":", 1)[-1]]
        return "·".join(parts) or self.key[-1].split(":", 1)[0]


def _short_name(entry: str) -> str:
    """``Neuron:neurons.2`` -> ``N2``; a position kept: ``Neuron:neurons.5 at (2, 2)`` ->
    ``N5 at (2, 2)`` (a convolution's neuron, one box per window)."""
    kind, name = entry.split(":", 1)
    base, at, where = name.partition(" at ")
    last = base.rsplit(".", 1)[-1]
    short = f"{kind[:1]}{last}" if last.isdigit() else last
    return f"{short} at {where}" if at else short


def _group_key(scope: tuple[str, ...] | None, marker: str) -> tuple[str, ...] | None:
    for i, entry in enumerate(scope or ()):
        if entry.startswith(marker):
            return scope[: i + 1]
    return None


def collapse_groups(
    order: list[Value], kinds: Mapping[Value, str], collapse: str
) -> dict[Value, Group]:
    """Each Value that belongs in a box, and its box (``collapse`` is "neuron" or "layer").

    A Value belongs to the box of its scope (cut at the first ``Neuron:`` or ``Layer:`` entry).
    Parameters and constants made outside any module (a neuron makes its weights in
    ``__init__``) join a box when every use of them is inside it; inputs stay in sight.
    Boxes are numbered ``g0``, ``g1``, ... in the order their first member appears in ``order``.
    """
    marker = COLLAPSE_MARKERS[collapse]
    groups: dict[tuple[str, ...], Group] = {}
    member: dict[Value, Group] = {}
    for v in order:
        key = _group_key(v.scope, marker)
        if key is not None:
            if key not in groups:
                groups[key] = Group(f"g{len(groups)}", key, [])
            member[v] = groups[key]
    users: dict[Value, set[Group | None]] = {}
    for v in order:
        for p in v.parents:
            if p not in member and kinds[p] in ("parameter", "constant"):
                users.setdefault(p, set()).add(member.get(v))
    for leaf, boxes in users.items():
        if len(boxes) == 1 and None not in boxes:
            member[leaf] = next(iter(boxes))
    for v in order:  # members in topological order
        if v in member:
            member[v].members.append(v)
    return member
