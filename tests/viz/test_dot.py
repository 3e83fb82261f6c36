"""draw_dot: what every box shows, colours by kind, escaping, the node limit and collapse."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import graphviz
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import viz
from autograd import Value
from autograd.grad_mode import scope
from autograd.graph import topological_order
from autograd.ops import OPS
from viz.dot import KINDS, clean_text, fmt, is_parameter_label, kind_of

from .conftest import micrograd_example, node_texts, scoped_mlp, used_twice


def test_svg_shows_every_label_data_grad_and_op():
    loss = micrograd_example()
    g = viz.draw_dot(loss)
    texts = node_texts(g.svg())
    for i, v in enumerate(topological_order(loss)):
        assert texts[f"v{i}"] == [v.label, f"data {fmt(v.data)}", f"grad {fmt(v.grad)}"]
        if v.parents:
            assert texts[f"op{i}"] == [OPS[v.op].describe(v.arg)]
    assert "data -8.0000" in texts["v6"] and "grad 6.0000" in texts["v0"]


def test_unlabelled_nodes_skip_the_label_field_and_show_grad_can_hide_grads():
    x = Value(3.0, "x")
    y = x * 2 + 1
    y.backward()
    texts = node_texts(viz.draw_dot(y, show_grad=False, precision=2).svg())
    assert texts["v0"] == ["x", "data 3.00"]
    assert texts["v1"] == ["data 2.00"]  # the constant 2
    assert all(not any(t.startswith("grad") for t in ts) for ts in texts.values())


def test_op_labels_come_from_the_table_with_their_constant():
    x = Value(0.5, "x")
    y = (x**2).leaky_relu(0.1).tanh()
    texts = node_texts(viz.draw_dot(y).svg())
    assert [texts[f"op{i}"] for i in (1, 2, 3)] == [["**2"], ["LeakyReLU(0.1)"], ["tanh"]]
    assert OPS["leaky_relu"].describe(0.1) == "LeakyReLU(0.1)"


def test_root_may_be_a_list_and_every_root_is_an_output():
    a, b = Value(1.0, "a"), Value(2.0, "b")
    s, p = a + b, a * b
    g = viz.draw_dot([s, p])
    order = topological_order([s, p])
    outputs = [line for line in g.body if KINDS["output"][1] in line]
    assert len(outputs) == 2 and len(order) == 4
    with pytest.raises(TypeError, match="Value or a list of Values"):
        viz.draw_dot([s, 3.0])


@pytest.mark.parametrize(
    ("label", "is_param"),
    [("w", True), ("b", True), ("w1", True), ("w[2]", True), ("bias", True), ("weight", True),
     ("layers.0.neurons.3.w.1", True), ("neurons.2.b", True), ("w.0", True),
     ("x", False), ("x1", False), ("a", False), ("L", False), ("web", False), ("bx", False)],
)  # fmt: skip
def test_parameter_labels(label, is_param):
    assert is_parameter_label(label) is is_param


def test_kinds_follow_the_documented_rule():
    w, x = Value(0.5, "w"), Value(2.0, "x")
    y = w * x + 1
    y.label = "y"
    roots = [y]
    one = y.parents[1]
    assert [kind_of(v, roots) for v in (w, x, one, y.parents[0], y)] == [
        "parameter", "input", "constant", "intermediate", "output",
    ]  # fmt: skip
    # An explicit params set (or a Module with .parameters()) overrides the label rule.
    assert kind_of(x, roots, {x}) == "parameter" and kind_of(w, roots, {x}) == "input"
    source = viz.draw_dot(y, params=[x]).source
    assert source.count(KINDS["parameter"][1]) == 1


def test_grad_sign_tints_and_their_absence():
    loss = micrograd_example()
    tinted = viz.draw_dot(loss).source
    assert "gradientangle" in tinted and "#fecaca" in tinted and "#bbf7d0" in tinted
    assert "gradientangle" not in viz.draw_dot(loss, show_grad=False).source
    svg = viz.draw_dot(loss).svg()
    assert 'offset="1"' in svg  # the tint fades in towards the grad end


def test_legend_is_drawn_on_request():
    loss = micrograd_example()
    assert "cluster_legend" not in viz.draw_dot(loss).source
    texts = node_texts(viz.draw_dot(loss, legend=True).svg())
    shown = {t for ts in texts.values() for t in ts}
    assert set(KINDS) | {"grad > 0", "grad < 0"} <= shown
    doc = viz.draw_dot.__doc__ or ""  # the docstring is the legend too
    assert all(word in doc for word in ("parameter", "input", "constant", "intermediate", "output"))


@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_every_rankdir_lays_out(rankdir):
    texts = node_texts(viz.draw_dot(micrograd_example(), rankdir=rankdir).svg())
    assert texts["v0"] == ["a", "data 2.0000", "grad 6.0000"]


def test_bad_arguments_are_named():
    loss = micrograd_example()
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_dot(loss, rankdir="XY")
    with pytest.raises(ValueError, match="collapse"):
        viz.draw_dot(loss, collapse="block")


def test_numbers_keep_two_significant_digits_and_no_minus_zero():
    assert fmt(-0.0) == "0.0000" and fmt(1.5) == "1.5000" and fmt(0.0012) == "0.0012"
    assert fmt(7.37e-05) == "7.370e-05" and fmt(2.5e7) == "2.500e+07"
    assert fmt(float("nan")) == "nan" and fmt(float("-inf")) == "-inf"
    assert fmt(Value(2.0)) == "2.0000"  # grads may be Values after create_graph=True


# ---- escaping -----------------------------------------------------------------------------------

NASTY = [
    '"{|}<>', "<b>bold</b>", "a\\", "\\N \\G \\l \\n", "&amp; &#45; &", "x\ny\tz",
    "{ a | <p> b }", "</script><!--", "{{SVG}}", "  spaced   out  ", "😀 ∂L/∂w", "\x00\x1b[31m",
]  # fmt: skip


def _check_labels(labels: list[str]) -> None:
    """Every label is one intact text line in a well-formed SVG, exactly as cleaned."""
    xs = [Value(float(k), label) for k, label in enumerate(labels)]
    root = xs[0]
    for x in xs[1:]:
        root = root + x
    root.label = labels[0] + "!"
    texts = node_texts(viz.draw_dot(root).svg())
    order = topological_order(root)
    for i, v in enumerate(order):
        expect = [clean_text(v.label)] if clean_text(v.label) else []
        assert texts[f"v{i}"] == [*expect, f"data {fmt(v.data)}", f"grad {fmt(v.grad)}"]


def test_nasty_labels_never_break_the_picture():
    _check_labels(NASTY)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=24), min_size=1, max_size=4))
def test_any_label_survives_dot_and_svg(labels):
    _check_labels(labels)


# ---- size limit and collapse --------------------------------------------------------------------


def test_too_many_nodes_is_a_clear_error_suggesting_collapse():
    x = Value(0.5, "x")
    for _ in range(30):
        x = x * 1.01
    n = len(topological_order(x))
    with pytest.raises(ValueError, match=rf"has {n} Values, more than max_nodes=20.*collapse="):
        viz.draw_dot(x, max_nodes=20)
    assert viz.draw_dot(x, max_nodes=n)


def test_collapse_neuron_draws_one_box_per_neuron_with_its_output():
    loss = scoped_mlp()
    order = topological_order(loss)
    full = viz.draw_dot(loss)
    boxed = viz.draw_dot(loss, collapse="neuron")
    texts = node_texts(boxed.svg())
    groups = {k: v for k, v in texts.items() if k.startswith("g")}
    assert len(groups) == 4 + 4 + 1
    titles = {ts[0] for ts in groups.values()}
    assert {"L0·N0", "L0·N3", "L1·N2", "L2·N0"} <= titles
    # The full module path is the box's tooltip.
    svg = boxed.svg()
    assert 'xlink:title="Neuron layers.0.neurons.0"' in svg
    assert 'xlink:title="Neuron layers.2.neurons.0"' in svg
    # Each neuron's box shows its output: the tanh (or, in the last layer, the sum) node.
    outs = [v for v in order if v.scope and v.scope[-1].startswith("Neuron:") and v.op in ("tanh",)]
    shown = {t for ts in groups.values() for t in ts}
    for v in outs:
        assert f"data {fmt(v.data)}" in shown and f"grad {fmt(v.grad)}" in shown
    # Weights used only inside one neuron go into its box; inputs x0..x2 stay outside.
    labels = {t for k, ts in texts.items() if k.startswith("v") for t in ts}
    assert {"x0", "x1", "x2", "loss"} <= labels
    assert not any(".w." in t for t in labels)
    assert {groups[k][1] for k in groups} == {"4 params · 7 nodes", "5 params · 8 nodes",
                                              "5 params · 7 nodes"}  # fmt: skip
    assert len(boxed.body) < len(full.body) / 3


def test_collapse_layer_draws_one_box_per_layer_listing_each_output():
    loss = scoped_mlp()
    texts = node_texts(viz.draw_dot(loss, collapse="layer").svg())
    groups = {k: v for k, v in texts.items() if k.startswith("g")}
    assert sorted(ts[0] for ts in groups.values()) == ["L0", "L1", "L2"]
    first = next(ts for ts in groups.values() if ts[0] == "L0")
    assert sum(t.startswith("data") for t in first) == 4  # one row per neuron output
    # 4 neurons x (3 weights, a bias, dot, +, tanh); the inputs stay outside, in sight.
    assert first[1] == "16 params · 28 nodes"
    assert {"x0", "x1", "x2"} <= {ts[0] for k, ts in texts.items() if k.startswith("v")}


def test_collapse_lifts_the_node_limit_and_says_so_when_still_too_big():
    loss = scoped_mlp((2, 8, 8, 1))
    with pytest.raises(ValueError, match="collapse="):
        viz.draw_dot(loss, max_nodes=50)
    assert viz.draw_dot(loss, max_nodes=50, collapse="neuron")
    with pytest.raises(ValueError, match="boxes with collapse='neuron'.*collapse='layer'"):
        viz.draw_dot(loss, max_nodes=10, collapse="neuron")
    assert viz.draw_dot(loss, max_nodes=10, collapse="layer")


def test_collapse_leaves_unscoped_graphs_alone():
    loss = micrograd_example()
    assert viz.draw_dot(loss, collapse="neuron").source == viz.draw_dot(loss).source


def test_collapsed_root_inside_a_neuron_is_marked_as_output():
    w, x = Value(0.3, "w"), Value(2.0, "x")
    with scope("Neuron:n"):
        y = (w * x).tanh()
    y.backward()
    g = viz.draw_dot(y, collapse="neuron")
    (box,) = [line for line in g.body if line.lstrip().startswith("g0")]
    assert KINDS["output"][1] in box and 'label="{ n |' in box and 'tooltip="Neuron n"' in box


# ---- the Digraph and Jupyter --------------------------------------------------------------------


@pytest.fixture
def no_system_graphviz(monkeypatch):
    """Make sure nothing below reaches for a system ``dot``."""
    monkeypatch.setenv("PATH", "")


def test_digraph_displays_in_jupyter_without_system_graphviz(no_system_graphviz):
    g = viz.draw_dot(used_twice())
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    ET.fromstring(bundle["image/svg+xml"].encode())
    assert g._repr_mimebundle_(include=["image/png"]) == {}
    assert g._repr_svg_() == bundle["image/svg+xml"]
    assert g.pipe(format="svg", encoding="utf-8").startswith("<?xml")
    assert g.pipe(format="png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_digraph_render_writes_svg_and_png_without_system_graphviz(no_system_graphviz, tmp_path):
    g = viz.draw_dot(used_twice())
    out = g.render(tmp_path / "graph", format="png", cleanup=True)
    assert out.endswith("graph.png") and (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "graph").exists()  # cleanup removed the DOT source
    out = g.render(outfile=tmp_path / "g.svg", format="svg")
    assert "<svg" in (tmp_path / "g.svg").read_text()


def _across(svg: str, rankdir: str) -> dict[str, float]:
    """Each node's position across the flow (y for LR, x for TB), by its id."""
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.w3.org/2000/svg"}
    out = {}
    for g in ET.fromstring(svg.encode()).iterfind(".//s:g[@class='node']", ns):
        first = g.find(".//s:text", ns)
        if first is not None:
            out[g.get("id")] = float(first.get("y" if rankdir == "LR" else "x"))
    return out


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_neurons_are_drawn_in_index_order_collapsed_and_open(rankdir):
    from nn import MLP

    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -0.5])
    svg = viz.draw_dot(out, collapse="neuron", params=model, rankdir=rankdir).svg()
    texts, at = node_texts(svg), _across(svg, rankdir)
    for layer in (0, 1):
        boxes = {int(t[0].split("N")[-1]): box for box, t in texts.items()
                 if t and t[0].startswith(f"L{layer}·N")}  # fmt: skip
        assert sorted(boxes) == list(range(16))
        positions = [at[boxes[k]] for k in range(16)]
        assert positions == sorted(positions), (layer, positions)
    # Drawn open: each neuron's output Value, in index order too.
    model = MLP(3, [4, 1], seed=0)
    out = model([0.5, -0.5, 1.0])
    hidden = [v for v in topological_order(out) if v.op == "tanh" or v.op == "relu"]
    svg = viz.draw_dot(out, rankdir=rankdir).svg()
    order, at = topological_order(out), _across(svg, rankdir)
    last = {}
    for v in order:
        if v.scope and len(v.scope) == 3 and v.scope[1] == "Layer:layers.0":
            last[v.scope[2]] = order.index(v)
    positions = [at[f"v{last[f'Neuron:neurons.{j}']}"] for j in range(4)]
    assert positions == sorted(positions), positions
    assert hidden  # the network has a hidden layer to order


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_a_convolutions_pixels_are_drawn_in_grid_order(rankdir):
    import random
    import re

    from nn import Conv2d, MaxPool2d

    rng = random.Random(0)
    conv, pool = Conv2d(1, 8, 3, padding=1, seed=0), MaxPool2d(2)
    image = [[[rng.random() for j in range(8)] for i in range(8)]]  # as the digits demo's
    out = pool(conv(image))[5][1][1]  # one pooled output: a 4 x 4 patch of pixels feeds it
    svg = viz.draw_dot(out, collapse="neuron", params=conv, rankdir=rankdir).svg()
    import xml.etree.ElementTree as ET

    ns = {"s": "http://www.w3.org/2000/svg"}
    at = {}
    for g in ET.fromstring(svg.encode()).iterfind(".//s:g[@class='node']", ns):
        texts = [t for t in g.iterfind(".//s:text", ns)]
        m = texts and re.fullmatch(r"x\[0,(\d+),(\d+)\]", texts[0].text or "")
        if m:
            at[int(m[1]), int(m[2])] = (float(texts[0].get("x")), float(texts[0].get("y")))
    assert len(at) == 16
    rows, cols = sorted({i for i, _ in at}), sorted({j for _, j in at})
    flow = 0 if rankdir == "LR" else 1  # the coordinate along the flow: x for LR, y for TB
    for i in rows:  # along a row, columns in order, along the flow
        line = [at[i, j][flow] for j in cols]
        assert all(a < b for a, b in zip(line, line[1:])), (i, line)  # a grid, not a column
    for j in cols:  # down a column, rows in order, across the flow
        line = [at[i, j][1 - flow] for i in rows]
        assert all(a < b for a, b in zip(line, line[1:])), (j, line)
