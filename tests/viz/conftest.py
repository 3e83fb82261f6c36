"""Graphs the viz tests draw, and a reader for the SVG the embedded engine writes."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest

from autograd import Value
from autograd.grad_mode import scope
from autograd.value import dot

SVG_NS = {"svg": "http://www.w3.org/2000/svg"}


def micrograd_example(backward: bool = True) -> Value:
    """The lecture's L = (a*b + c) * f, labelled (and, unless told not to, after backward)."""
    a, b, c, f = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    loss = d * f
    loss.label = "L"
    if backward:
        loss.backward()
    return loss


def used_twice() -> Value:
    """a feeds three ops, c two: grads are sums of contributions."""
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    e = d * c + a**2
    e.label = "e"
    return e


def scoped_mlp(sizes: tuple[int, ...] = (3, 4, 4, 1), seed: int = 0) -> Value:
    """An MLP built the way nn builds one: weights made outside any scope and labelled with their
    dotted names, the forward pass inside MLP / Layer / Neuron scopes; then a loss, backward."""
    rng = random.Random(seed)
    xs = [Value(rng.uniform(-1, 1), f"x{k}") for k in range(sizes[0])]
    layers = [
        [
            (
                [Value(rng.uniform(-1, 1), f"layers.{i}.neurons.{j}.w.{k}") for k in range(nin)],
                Value(0.1, f"layers.{i}.neurons.{j}.b"),
            )
            for j in range(nout)
        ]
        for i, (nin, nout) in enumerate(zip(sizes, sizes[1:]))
    ]
    with scope("MLP:"):
        h = xs
        for i, layer in enumerate(layers):
            with scope(f"Layer:layers.{i}"):
                outs = []
                for j, (w, b) in enumerate(layer):
                    with scope(f"Neuron:neurons.{j}"):
                        z = dot(w, h) + b
                        outs.append(z.tanh() if i < len(layers) - 1 else z)
                h = outs
    loss = (h[0] - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss


class NumberLabel(Value):
    """A Value whose label is a number: Value refuses ``label=123``, a subclass can still hand
    one to the visualizer."""

    __slots__ = ()

    @property
    def label(self) -> int:
        return 123


def node_texts(svg: str) -> dict[str, list[str]]:
    """The text lines of every node in an SVG, by the node's id (``v3``, ``op3``, ``g0``); a box
    with a tooltip holds its text inside a link element."""
    root = ET.fromstring(svg.encode())
    out = {}
    for g in root.iterfind(".//svg:g[@class='node']", SVG_NS):
        out[g.get("id")] = [t.text or "" for t in g.iterfind(".//svg:text", SVG_NS)]
    return out


@pytest.fixture(scope="session", autouse=True)
def warm_engine() -> None:
    """Compile the WebAssembly Graphviz once (about a second) before any timed test."""
    from viz.render import svg_from_source

    svg_from_source("digraph { a }")
