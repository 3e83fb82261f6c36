"""backward_steps, print_backward and the step-through page."""

from __future__ import annotations

import html
import io
import json
import os
import random
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import viz
from autograd import Value
from autograd.graph import topological_order
from tests.autograd.programs import random_program
from viz import backprop_page
from viz.dot import clean_text, fmt

from .conftest import NumberLabel, micrograd_example, scoped_mlp, used_twice


def _fresh_pair(build):
    """Two identical graphs: one to step through, one to run backward() on."""
    return build(), build()


def _check_steps_match_backward(root: Value, twin: Value) -> None:
    """Contributions, added in step order, give exactly the grads backward() gives."""
    steps = list(viz.backward_steps(root))
    twin.backward()
    order, twin_order = topological_order(root), topological_order(twin)
    got = {v: 0.0 for v in order}
    got[root] = 1.0
    for step in steps:
        assert step.grad == got[step.node]  # the node's grad is complete when its step runs
        for share in step.shares:
            if share.contribution is not None:
                got[share.input] = got[share.input] + share.contribution
            assert share.running == got[share.input]
    for v, w in zip(order, twin_order):
        assert got[v] == w.grad, (v, w)
    # One step per node made by an op, in the order backward visits them.
    assert [s.node for s in steps] == [v for v in reversed(order) if v.parents]
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))


def test_steps_sum_to_backward_on_the_lecture_example():
    _check_steps_match_backward(*_fresh_pair(lambda: micrograd_example(backward=False)))


def test_steps_sum_to_backward_where_nodes_are_used_twice():
    root, twin = _fresh_pair(used_twice)
    _check_steps_match_backward(root, twin)
    steps = list(viz.backward_steps(root))
    a = topological_order(root)[0]
    assert sum(s.input is a for step in steps for s in step.shares) == 3


def test_x_times_x_gives_two_shares_to_x():
    x = Value(3.0, "x")
    (step,) = viz.backward_steps(x * x)
    assert step.inputs == (x, x)
    assert [s.position for s in step.shares] == [0, 1]
    assert [s.running for s in step.shares] == [3.0, 6.0]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_steps_sum_to_backward_on_random_graphs(seed):
    program, inputs = random_program(random.Random(seed), n_ops=10)

    def build():
        return program.run_values(*[Value(x, f"x{k}") for k, x in enumerate(inputs)])

    _check_steps_match_backward(*_fresh_pair(build))


def test_local_derivative_is_from_the_table_and_grads_are_untouched():
    loss = used_twice()
    for step in viz.backward_steps(loss):
        for share in step.shares:
            assert share.contribution == pytest.approx(share.local * step.grad)
    assert all(v.grad == 0.0 for v in topological_order(loss))  # nothing was written
    (step,) = viz.backward_steps(Value(2.0, "a") ** 3)
    assert step.shares[0].local == 12.0


def test_a_leaf_root_has_no_steps():
    assert list(viz.backward_steps(Value(1.0))) == []


def test_print_backward_is_a_table_of_every_share():
    out = io.StringIO()
    loss = micrograd_example()
    viz.print_backward(loss, file=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "backward from L (seed L.grad = 1.0)"
    assert lines[1].split() == ["step", "node", "op", "input", "∂node/∂input", "node.grad",
                                "added", "input.grad"]  # fmt: skip
    rows = [line.split() for line in lines[3:]]
    assert len(rows) == 6  # three binary ops
    assert rows[0] == ["1", "L", "*", "d", "-2.0000", "1.0000", "-2.0000", "-2.0000"]
    assert rows[-1] == ["b", "2.0000", "-2.0000", "-4.0000", "-4.0000"]


def test_print_backward_names_unlabelled_nodes(capsys):
    x = Value(2.0)
    viz.print_backward(x.tanh())
    assert "v1" in capsys.readouterr().out


# ---- the page -----------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Pulls out what the tests read: script blocks, references to other files."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.scripts: dict[str, str] = {}
        self.refs: list[str] = []
        self._script: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.refs += [a[k] for k in ("src", "href") if k in a]
        if tag == "link":
            self.refs.append(a.get("href", ""))
        if tag == "script":
            self._script = a.get("id", "code")
            self.scripts[self._script] = ""

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[self._script] += data


def _page(root: Value, tmp_path, **options) -> tuple[str, dict, _Page]:
    out = viz.backprop_html(root, tmp_path / "bp.html", **options)
    with open(out, encoding="utf-8") as f:
        text = f.read()
    assert text == out.html
    page = _Page(text)
    return text, json.loads(page.scripts["backprop-data"]), page


def test_page_has_one_frame_per_step_after_the_forward_frame(tmp_path):
    root = used_twice()
    text, data, _ = _page(root, tmp_path)
    steps = list(viz.backward_steps(root))
    assert len(data["frames"]) == len(steps) + 1
    first = data["frames"][0]
    assert first["current"] == first["lit"] == first["shares"] == []
    assert "seed" in first["title"].lower()
    order = topological_order(root)
    for frame, step in zip(data["frames"][1:], steps):
        i = order.index(step.node)
        assert frame["current"] == [i] and frame["lit"] == [f"v{i}", f"op{i}", f"o{i}"]
        assert len(frame["shares"]) == len(frame["lines"]) == len(step.shares)


def test_page_is_self_contained(tmp_path):
    text, _, page = _page(micrograd_example(), tmp_path)
    assert page.refs == []  # no src=, no href=, no stylesheet links
    assert "@import" not in text and "url(http" not in text
    # The only URLs are the SVG namespace names, which browsers never fetch.
    assert set(re.findall(r"https?://[^\s\"']+", text)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink",
    }  # fmt: skip


def test_page_writes_the_chain_rule_in_words(tmp_path):
    _, data, _ = _page(micrograd_example(), tmp_path)
    lines = [line for f in data["frames"] for line in f["lines"]]
    assert "d.grad += ∂L/∂d · L.grad = -2.0000 · 1.0000 = -2.0000" in lines
    assert "a.grad += ∂e/∂a · e.grad = -3.0000 · -2.0000 = 6.0000" in lines
    assert data["frames"][1]["rule"].startswith("*: a * b")  # the op table's display name


def test_page_svg_tags_every_value_grad_and_lays_out_the_final_sums(tmp_path):
    root = used_twice()
    text, data, _ = _page(root, tmp_path)
    svg = text[text.index("<svg") : text.index("</svg>") + 6]
    tree = ET.fromstring(svg.encode())
    grads = {t.get("data-grad-of"): t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")
             if t.get("data-grad-of") is not None}  # fmt: skip
    order = topological_order(root)
    assert set(grads) == {str(i) for i in range(len(order))}
    # a (node 0) is used three times: the laid-out text is the sum of its three shares.
    twin = used_twice()
    twin.backward()
    a_grad = topological_order(twin)[0].grad
    assert grads["0"] == f"grad 4.0000 + -6.0000 + 30.0000 = {fmt(a_grad)}" and a_grad == 28.0
    assert data["nodes"][0]["uses"] == 3
    # Every input edge carries its step's local derivative and contribution.
    edge_ids = {s["edge"] for f in data["frames"] for s in f["shares"]}
    for edge in edge_ids:
        assert f'id="{edge}"' in svg
    assert "∂d/∂c = 1.0000" in svg and "adds" in svg


def test_page_names_every_node_and_escapes_labels(tmp_path):
    a = Value(1.0, "</script><b>{x|y}</b>")
    b = Value(2.0)
    root = (a * b).tanh()
    text, data, page = _page(root, tmp_path)
    assert [n["name"] for n in data["nodes"]] == [clean_text(a.label), "v1", "v2", "v3"]
    assert "<b>" not in text and text.count("</script>") == 3  # data, controls, code
    assert page.scripts["backprop-data"].count("\\u003c") >= 2


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_any_labels_keep_the_page_intact(tmp_path_factory, label_a, label_b):
    a, b = Value(1.5, label_a), Value(-0.5, label_b)
    root = a * b + a
    tmp = tmp_path_factory.mktemp("page")
    text, data, page = _page(root, tmp)
    assert len(data["frames"]) == 3 and "code" in page.scripts
    assert data["nodes"][0]["name"] == (clean_text(label_a) or "v0")
    svg = text[text.index("<svg") : text.index("</svg>") + 6]
    ET.fromstring(svg.encode())  # still well-formed


def test_page_handles_non_finite_grads(tmp_path):
    # d/dy x**y = x**y log x is nan for a negative base (as in PyTorch).
    root = Value(-2.0, "x") ** Value(2.0, "y")
    _, data, page = _page(root, tmp_path)
    shares = data["frames"][1]["shares"]
    assert shares[0]["value"] == -4.0 and shares[1]["value"] == "NaN"
    assert shares[1]["running"] == "nan"
    # Strict JSON (JavaScript's JSON.parse has no NaN literal).
    json.loads(page.scripts["backprop-data"], parse_constant=_no_constants)


def _no_constants(name):
    raise AssertionError(f"bare {name} in the page's JSON")


def test_big_graphs_still_make_a_page(tmp_path):
    root = scoped_mlp((3, 8, 8, 1))
    _, data, _ = _page(root, tmp_path)
    assert len(data["frames"]) == 1 + sum(1 for v in topological_order(root) if v.parents)


# ---- names, the page object, size limits, collapsed boxes ---------------------------------------


def _lecture_neuron() -> Value:
    """micrograd's lecture neuron, o = tanh(x1*w1 + x2*w2 + b), labelled as demos/neuron.py does
    (compound labels such as ``x1*w1 + x2*w2``)."""
    demos = str(Path(__file__).resolve().parents[2] / "demos")
    if demos not in sys.path:
        sys.path.insert(0, demos)
    import neuron

    return neuron.neuron()[0]


def test_derivatives_of_compound_names_are_parenthesised_everywhere():
    page = viz.backprop_html(_lecture_neuron())
    data = json.loads(_Page(page.html).scripts["backprop-data"])
    lines = [line for f in data["frames"] for line in f["lines"]]
    # step text and formulas
    assert "n.grad += ∂o/∂n · o.grad = 0.5000 · 1.0000 = 0.5000" in lines
    assert (
        "(x1*w1 + x2*w2).grad += ∂n/∂(x1*w1 + x2*w2) · n.grad = 1.0000 · 0.5000 = 0.5000" in lines
    )
    assert (
        "(x1*w1).grad += ∂(x1*w1 + x2*w2)/∂(x1*w1) · (x1*w1 + x2*w2).grad = 1.0000 · 0.5000 "
        "= 0.5000" in lines
    )
    # edge labels, in the picture
    svg = html.unescape(re.search(r"<svg.*</svg>", page.html, re.S)[0])
    assert "∂n/∂(x1*w1 + x2*w2) = 1.0000" in svg
    assert "∂(x1*w1 + x2*w2)/∂(x1*w1) = 1.0000" in svg
    # nowhere a compound name unbracketed after ∂ or before .grad
    for text in [svg, *lines, *(s["wrt"] for f in data["frames"] for s in f["shares"])]:
        assert not re.search(r"∂x\d\*", text), text
        assert not re.search(r"\*w\d\.grad", text), text


def test_print_backward_parenthesises_compound_names():
    out = io.StringIO()
    viz.print_backward(_lecture_neuron(), file=out)
    assert "backward from o (seed o.grad = 1.0)" in out.getvalue()
    root = Value(1.0, "a") * 2
    root.label = "a*2"
    out = io.StringIO()
    viz.print_backward(root, file=out)
    assert out.getvalue().splitlines()[0] == "backward from a*2 (seed (a*2).grad = 1.0)"


def test_backprop_html_returns_a_page_that_shows_inline_and_writes_only_when_asked(tmp_path):
    root = micrograd_example(backward=False)
    page = viz.backprop_html(root)
    assert isinstance(page, viz.page.HtmlPage) and page.path is None
    assert list(tmp_path.iterdir()) == []
    inline = page._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in inline
    assert html.escape("Backprop through L") in inline
    saved = viz.backprop_html(root, tmp_path / "bp.html")
    assert saved.path == os.fspath(tmp_path / "bp.html") == os.fspath(saved)
    assert (tmp_path / "bp.html").read_text(encoding="utf-8") == saved.html == page.html


def test_big_graphs_are_refused_at_once_with_what_to_do(monkeypatch):
    root = scoped_mlp((3, 24, 24, 1))
    n = len(topological_order(root))
    assert n > 500

    def no_layout(*args, **kwargs):
        raise AssertionError("a graph over max_nodes must be refused before any layout")

    monkeypatch.setattr(backprop_page, "svg_from_source", no_layout)
    with pytest.raises(ValueError, match=rf"backprop_html: the graph has {n} Values, more than "
                       r"max_nodes=500; pass collapse='neuron'"):  # fmt: skip
        viz.backprop_html(root)
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        viz.backprop_html(root, max_nodes=0)
    with pytest.raises(ValueError, match="collapse must be None, 'neuron' or 'layer'"):
        viz.backprop_html(root, collapse="module")
    with pytest.raises(TypeError, match="backprop_html: root must be a Value"):
        viz.backprop_html([root])


def _shown_grads(data: dict) -> dict[int, float]:
    out = {data["root"]: 1.0}
    for frame in data["frames"]:
        for s in frame["shares"]:
            if s["added"] is not None:
                out[s["input"]] = float(s["value"])
    return out


@pytest.mark.parametrize("collapse", ["neuron", "layer"])
def test_collapsed_pages_step_box_by_box_to_backwards_grads(collapse):
    root = scoped_mlp((3, 4, 4, 1))
    order = topological_order(root)
    page = viz.backprop_html(root, collapse=collapse)
    data = json.loads(_Page(page.html).scripts["backprop-data"])
    boxes = {"neuron": 9, "layer": 3}[collapse]
    ops_outside = sum(1 for v in order if v.parents and not v.scope)  # the loss's own ops
    assert len(data["frames"]) == 1 + boxes + ops_outside
    group_frames = [f for f in data["frames"] if f["lit"] and f["lit"][0].startswith("g")]
    assert len(group_frames) == boxes
    # Every Value the page shows ends with the grad backward() gives it.
    shown = {n["id"] for n in data["nodes"]}
    assert {order.index(v) for v in order if v.label.startswith("x")} <= shown
    for i, value in _shown_grads(data).items():
        assert i in shown
        assert value == pytest.approx(order[i].grad, rel=1e-12, abs=1e-12), order[i]
    # A box's turn comes after every box that uses it: its grads are complete by then.
    done: set[int] = {data["root"]}
    for f in data["frames"][1:]:
        assert set(f["current"]) <= done | {s["input"] for g in data["frames"] for s in g["shares"]}
        done |= {s["input"] for s in f["shares"]}
    # The picture tags each box output's grad text, and draws each share's edge.
    tagged = set(re.findall(r'data-grad-of="(\d+)"', page.html))
    assert tagged == {str(i) for i in shown}
    for f in data["frames"]:
        for s in f["shares"]:
            assert f'id="{s["edge"]}"' in page.html


def test_a_collapsed_neuron_writes_its_chain_rule_with_its_short_name():
    root = scoped_mlp((2, 3, 1))
    page = viz.backprop_html(root, collapse="neuron")
    data = json.loads(_Page(page.html).scripts["backprop-data"])
    lines = [line for f in data["frames"] for line in f["lines"]]
    assert any(line.startswith("L0·N0.grad += ∂L1·N0/∂L0·N0 · L1·N0.grad = ") for line in lines)
    assert any(line.startswith("x0.grad += ∂L0·N2/∂x0 · L0·N2.grad = ") for line in lines)
    # local × grad = what the box adds, for a one-output box
    for f in data["frames"]:
        for s in f["shares"]:
            if s["local"] != "-" and s["added"] is not None:
                local, added = float(s["local"]), float(s["added"])
                assert abs(local * float(f["title"].split("grad ")[1].split()[0]) - added) < 2e-4


def test_a_label_that_is_not_a_string_is_named():
    a = NumberLabel(1.0)
    with pytest.raises(TypeError, match=r"backprop_html: a Value's label must be a str, got 123"):
        viz.backprop_html(a * 2)


def test_steps_skip_nodes_no_gradient_reaches_as_the_sweep_does():
    # stop_gradient passes nothing back: x*3 below it gets no gradient, so it takes no step
    # (the engine's chain_rule passes it over); x still gets the grad of the other path.
    x = Value(2.0, "x")
    hidden = x * 3
    hidden.label = "hidden"
    root = hidden.stop_gradient() + x
    steps = list(viz.backward_steps(root))
    assert [s.node.op for s in steps] == ["add", "stop_gradient"]
    assert steps[1].shares[0].local is None and steps[1].shares[0].contribution is None
    assert steps[0].shares[1].running == 1.0
    page = viz.backprop_html(root)
    data = json.loads(_Page(page.html).scripts["backprop-data"])
    assert len(data["frames"]) == 3
    assert "hidden.grad: nothing flows back from" in data["frames"][2]["lines"][0]


def test_one_display_name_per_op_in_the_table_the_page_and_the_graph():
    import io
    import json
    import re

    from autograd.ops import OPS
    from viz.dot import op_name

    from .conftest import node_texts

    x = Value(0.5, "x")
    y = (x.leaky_relu(0.01) + x.sigmoid() * x.relu() - x.tanh()) ** 2
    y.label = "y"
    y.backward()
    order = topological_order(y)
    made = [v for v in order if v.op]
    names = {v.op: OPS[v.op].describe(v.arg) for v in made}
    assert names["leaky_relu"] == "LeakyReLU(0.01)" and names["sigmoid"] == "σ"
    buf = io.StringIO()
    viz.print_backward(y, file=buf)
    table_ops = {
        line[6:].split()[1] for line in buf.getvalue().splitlines()[3:] if line[:4].strip()
    }
    assert table_ops == set(names.values())
    graph_ops = {t[0] for i, t in node_texts(viz.draw_dot(y).svg()).items() if i.startswith("op")}
    assert {g.replace("&#45;", "-") for g in graph_ops} == set(names.values())
    page = viz.backprop_html(y)
    data = json.loads(re.search(r'id="backprop-data">(.*?)</script>', page.html, re.S)[1])
    rules = {f["rule"].split(":")[0] for f in data["frames"][1:]}
    assert rules == set(names.values())
    text = " ".join(f["title"] + f["rule"] for f in data["frames"])
    for op, shown in names.items():  # the page said leaky_relu(x) and sigmoid(x)
        assert op == shown or f"{op}(" not in text, op
    assert all(op_name(v) == names[v.op] for v in made)
