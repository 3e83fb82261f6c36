"""neuron: the lecture's neuron, its grads, the backward table and the pictures."""

import math

import neuron
import pytest

import viz


def test_neuron_prints_its_output_and_backward(out, check_files, capsys):
    result = neuron.main(["--out", str(out)])

    printed = capsys.readouterr().out
    assert "o = tanh(x1*w1 + x2*w2 + b) = 0.7071" in printed
    assert result["output"] == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    # do/dn = 1 - o^2 = 0.5, then the chain rule through + and *, as in the lecture.
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    assert result["grads"] == pytest.approx(expected, abs=1e-12)
    table = printed.splitlines()
    assert table[0] == "backward from o (seed o.grad = 1.0)"
    assert table[3].split() == ["1", "o", "tanh", "n", "0.5000", "1.0000", "0.5000", "0.5000"]
    assert table[-3].split()[-5:] == ["w1", "2.0000", "0.5000", "1.0000", "1.0000"]
    names = ["neuron_graph.svg", "neuron_graph.png", "neuron_backprop.html"]
    check_files(result["files"], out, names)
    svg = (out / "neuron_graph.svg").read_text(encoding="utf-8")
    for text in ("data 0.7071", "grad &#45;1.5000", "x1*w1 + x2*w2"):
        assert f">{text}<" in svg, text


def _aspect(svg_path):
    """height / width of a Graphviz SVG."""
    box = svg_path.read_text(encoding="utf-8").split('viewBox="')[1].split('"')[0].split()
    return float(box[3]) / float(box[2])


def test_rankdir_reaches_the_pictures(out, tmp_path):
    neuron.main(["--out", str(out), "--rankdir", "TB"])
    viz.render(neuron.neuron()[0], tmp_path / "lr.svg")
    assert _aspect(out / "neuron_graph.svg") > 2 * _aspect(tmp_path / "lr.svg")
