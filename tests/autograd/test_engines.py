"""The plain engine and the compiled one: readable, separate, and the same to the last bit."""

from __future__ import annotations

import ast
import inspect
import json
import math
import os
import random
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Value, codegen, grad, no_grad, trace
from autograd.backward import topological_sort
from autograd.grad_mode import scope
from autograd.graph import topological_order
from autograd.ops import OPS, Op, register
from autograd.value import apply, dot, vmax, vsum

from .programs import random_program

AUTOGRAD = Path(autograd.__file__).parent
ROOT = AUTOGRAD.parent


def _bits(x: float) -> str:
    return repr(float(x))  # nan, inf and -0.0 included


def _run_program(seed: int) -> list[str]:
    program, xs = random_program(random.Random(seed), 3, 25, stop_gradient=True)
    inputs = [Value(x) for x in xs]
    root = program.run_values(*inputs)
    root.backward()
    root.backward(0.5)  # leaves accumulate, inner nodes reset: both paths
    nodes = topological_order(root)
    return [f"{_bits(v.data)}/{_bits(v.grad)}" for v in nodes]


def _run_network(seed: int) -> list[str]:
    rng = random.Random(seed)
    xs = [Value(rng.uniform(-2, 2)) for _ in range(4)]
    ws = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(5)]
    hidden = [vsum([w * x for w, x in zip(row, xs)]).tanh() for row in ws[:3]]
    fused = dot(ws[3][:3], hidden).relu() + vmax(hidden) * ws[4][0]
    loss = (fused - 0.3) ** 2 + (-fused).sigmoid().log() + abs(hidden[0]) / 3.0 + 2.0 ** ws[4][1]
    loss.backward()
    return [f"{_bits(v.data)}/{_bits(v.grad)}" for v in topological_order(loss)]


def all_bits() -> dict:
    """Every program's and network's numbers in this process's engine, as exact strings."""
    return {
        "engine": autograd.ENGINE,
        "programs": [_run_program(seed) for seed in range(40)],
        "networks": [_run_network(seed) for seed in range(10)],
    }


def _fresh(code: str, plain: bool) -> str:
    """What ``code`` prints in a fresh process on the chosen engine, as a user chooses it."""
    env = {**os.environ, "AUTOGRAD_PLAIN": "1" if plain else "0", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def both_engines() -> dict[str, dict]:
    """``all_bits()`` run by each engine, each in a fresh process."""
    code = "import json, tests.autograd.test_engines as t; print(json.dumps(t.all_bits()))"
    runs = [json.loads(_fresh(code, plain)) for plain in (False, True)]
    return {run["engine"]: run for run in runs}


@pytest.mark.parametrize("seed", range(40))
def test_both_engines_give_the_same_bits_on_random_programs(both_engines, seed):
    assert both_engines["compiled"]["programs"][seed] == both_engines["plain"]["programs"][seed]


@pytest.mark.parametrize("seed", range(10))
def test_both_engines_give_the_same_bits_on_a_network(both_engines, seed):
    assert both_engines["compiled"]["networks"][seed] == both_engines["plain"]["networks"][seed]


def test_engine_says_which_runs_and_the_environment_picks_it():
    assert ("plain" if os.environ.get("AUTOGRAD_PLAIN") == "1" else "compiled") == autograd.ENGINE
    code = "import autograd; print(autograd.ENGINE)"
    assert _fresh(code, plain=True) == "plain"
    assert _fresh(code, plain=False) == "compiled"


def _plain_method(name: str):
    """The plain engine's method ``name`` (kept by codegen while the compiled one is on)."""
    return codegen._PLAIN.get(name) or Value.__dict__[name]


def test_the_plain_operators_are_a_few_lines_of_value_py():
    for method in ("__mul__", "__add__", "tanh", "__rtruediv__", "abs"):
        lines, _ = inspect.getsourcelines(_plain_method(method))
        assert len(lines) <= 15, method
        assert inspect.getsourcefile(_plain_method(method)) == str(AUTOGRAD / "value.py")


METHODS = [(name, op) for op in OPS.values() if codegen._compilable(op) for name in op.methods]


def _slots(v: Value | None, known: tuple[Value, ...]) -> object:
    """Every slot of ``v``; an input given to the method by its position, a constant made from a
    number by its own slots."""
    if v is None or v in known:
        return None if v is None else known.index(v)
    inputs = (v._x, v._y)
    return (_bits(v.data), v.grad, v.op, *[_slots(p, known) for p in inputs], v._meta, v._mark)


@pytest.mark.parametrize(("name", "op"), METHODS, ids=[name for name, _ in METHODS])
def test_compiled_methods_lay_out_the_node_as_the_plain_ones(name, op):
    """One node layout: a compiled method sets every slot as the plain method does, when
    recording, inside ``no_grad`` and inside a module scope, with a Value or a number."""
    compiled, plain = codegen.compile_method(name, op), _plain_method(name)
    assert "v = new(Value)" in inspect.getsource(compiled)  # the lines of value._op
    assert "_mark" not in inspect.getsource(codegen)  # ... and no copy of them in codegen.py
    x, y = Value(0.75, "x"), Value(1.25, "y")
    others = [(y,), (2.0,)] if op.arity == 2 else [()]
    for context in (nullcontext(), no_grad(), scope("layer")):
        with context:
            for other in others:
                want = _slots(plain(x, *other), (x, y))
                assert _slots(compiled(x, *other), (x, y)) == want, (name, context)
    if op.arity == 2:
        assert compiled(x, "text") is NotImplemented and plain(x, "text") is NotImplemented


def test_the_readable_sort_and_the_fast_walk_agree():
    program, xs = random_program(random.Random(7), 3, 60, stop_gradient=True)
    root = program.run_values(*[Value(x) for x in xs])
    assert topological_sort(root) == topological_order(root) == _recursive_order(root)


def test_no_generated_code_outside_codegen():
    """exec/compile live in codegen.py only: the plain engine is code a learner can read."""
    for path in AUTOGRAD.rglob("*.py"):
        if path.name == "codegen.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"exec", "eval", "compile"}, path


def test_no_file_of_the_engine_is_long():
    for path in AUTOGRAD.rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 460, f"{path.relative_to(AUTOGRAD)} has {lines} lines"


def _recursive_order(root: Value) -> list[Value]:
    """The textbook topological sort (micrograd's): depth first, parents in argument order."""
    order, seen = [], set()

    def visit(v: Value) -> None:
        if v not in seen:
            seen.add(v)
            for p in v.parents:
                visit(p)
            order.append(v)

    visit(root)
    return order


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), n_ops=st.integers(1, 40))
def test_walk_order_is_the_recursive_depth_first_order(seed, n_ops):
    program, xs = random_program(random.Random(seed), 3, n_ops, stop_gradient=True)
    root = program.run_values(*[Value(x) for x in xs])
    assert topological_order(root) == topological_sort(root) == _recursive_order(root)


@pytest.fixture
def softsign():
    """An op defined by one table entry and nothing else: x / (1 + |x|)."""
    op = register(
        Op(
            "softsign_test",
            "softsign",
            1,
            fwd=lambda m, x: m.div(x, 1.0 + m.abs(x)),
            vjp=lambda m, g, out, x: (m.div(g, (1.0 + m.abs(x)) * (1.0 + m.abs(x))),),
            doc="x / (1 + |x|);  d/dx = 1 / (1 + |x|)^2",
            examples=((0.5,), (-1.5,)),
        )
    )
    yield op
    del OPS[op.name]


def test_an_op_registered_in_the_table_works_everywhere(softsign):
    import viz

    f = lambda x: apply("softsign_test", [x * x])  # noqa: E731
    x0 = 0.7
    x = Value(x0, "x")  # eager, in this run's engine (the suite runs once per engine)
    y = f(x)
    y.backward()
    assert y.data == pytest.approx(x0**2 / (1 + x0**2))
    assert x.grad == pytest.approx(2 * x0 / (1 + x0**2) ** 2)
    # Higher order: d2/dx2 of x^2 / (1 + x^2) = (2 - 6 x^2) / (1 + x^2)^3
    assert grad(grad(f))(x0) == pytest.approx((2 - 6 * x0**2) / (1 + x0**2) ** 3)
    tape = trace(f, 0.0)
    assert tape(x0) == pytest.approx(x0**2 / (1 + x0**2))
    _, (dx,) = tape.value_and_grad(-x0)
    assert dx == pytest.approx(-2 * x0 / (1 + x0**2) ** 2)
    assert "softsign" in viz.draw_dot(f(Value(x0, "x"))).source


def test_the_compiled_loop_is_written_from_the_rules():
    source = codegen.FLOAT_BACKPROP_SOURCE
    assert "x.grad += (g * b)" in source  # mul's rule, as code
    assert "import re" not in inspect.getsource(codegen)  # names come from Source, not a regex
    assert math.isfinite(len(source))
