"""The tape as a pipeline: record -> passes (one Analysis) -> lower -> program -> runner."""

from __future__ import annotations

import ast
import pathlib

import numpy as np

import autograd.tape as tape_package
from autograd import Value, trace
from autograd.tape.passes import Analysis, analyze
from autograd.tape.record import Recording
from autograd.tape.runner import Runner
from autograd.value import vmax, vsum

TAPE_DIR = pathlib.Path(tape_package.__file__).parent


def _record(fn, n):
    return Recording(fn, [(n,)], n, example=[0.5 * (k + 1) for k in range(n)])


def test_passes_return_one_analysis():
    rec = _record(lambda xs: vsum(x * x for x in xs).tanh(), 3)
    analysis = analyze(rec, [True] * 3, rec.outputs)
    assert isinstance(analysis, Analysis)
    assert analysis.groups and analysis.levels == max(g.depth for g in analysis.groups)
    assert len(analysis.batched) == len(analysis.needs_grad) == rec.n


def test_no_gradient_is_computed_into_a_stop_gradient_output():
    """The shift of a log-sum-exp: its max needs no gradient, nor does the shift itself (#23)."""

    def lse(xs):
        shift = vmax(xs).stop_gradient()
        return vsum((x - shift).exp() for x in xs).log() + shift

    rec = _record(lse, 4)
    analysis = analyze(rec, [True] * 4, rec.outputs)
    for i, op in enumerate(rec.ops):
        if op is not None and op.name in ("max", "stop_gradient"):
            assert not analysis.needs_grad[i], op.name
    xs = [0.3, -1.2, 2.5, 0.9]
    t = trace(lse, xs)
    _, (g,) = t.value_and_grad(xs)
    e = np.exp(np.array(xs) - max(xs))
    np.testing.assert_allclose(g, e / e.sum(), rtol=1e-12)


def test_one_runner_loads_runs_and_writes_back():
    w = Value(0.5)
    t = trace(lambda x: (w * x).tanh(), 2.0)
    runner = t._last.runner
    assert isinstance(runner, Runner) and runner.params == [w]
    w.data = 0.25
    assert t(2.0) == np.tanh(0.5)  # the runner read the new .data
    t.backward()
    assert w.grad == runner.grad[0]


def _imports(path: pathlib.Path) -> set[str]:
    """The tape modules ``path`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module)
            else:
                found.update(alias.name for alias in node.names)
    return found


def test_errors_is_a_leaf_and_no_stage_imports_the_front_end():
    assert _imports(TAPE_DIR / "errors.py") == set()
    for name in ("diagnostics", "watch", "batch", "runner", "program", "traced"):
        assert "tape" not in _imports(TAPE_DIR / f"{name}.py"), name


def test_the_kernels_print_as_what_they_compute():
    from nn import MLP

    model = MLP(2, [4, 1], seed=0)
    t = trace(lambda x: model(x), [0.5, -0.2])
    t([0.1, 0.2])
    # Rows 2 and 11 hold 1.0: below each layer's inputs, the bias rides in its product.
    assert [repr(k) for k in t.kernels] == [
        "Grid(4x2 weights @ 2x1 inputs + bias) -> rows 3:7",
        "Apply(relu x4) -> rows 7:11",
        "Grid(1x4 weights @ 4x1 inputs + bias) -> rows 12:13",
    ]


def test_a_dense_layer_is_one_matrix_product_forward_and_backward():
    from nn import MLP

    model = MLP(2, [4, 1], seed=0)
    t = trace(lambda x: model(x), [0.5, -0.2])
    t([0.1, 0.2])
    buf = t._current().program.buffers(1)
    # [W | b] @ [X; 1] per layer and the relu; backward: per layer, [X; 1] @ g^T for the
    # weights and the bias and W^T @ g for its inputs (a trace's get gradients), and the relu.
    assert (len(buf.forward), len(buf.backward)) == (3, 5)
