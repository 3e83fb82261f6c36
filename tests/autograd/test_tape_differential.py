"""Eager, tape and PyTorch on random programs at edge inputs: 0, -0, ±inf, nan, huge, ties.

Every op of the table appears (``max`` and ``stop_gradient`` included). For each program and
each point, eager execution is the reference: the tape (one sample, and all points at once
with ``vmap``) must give the same values and gradients, nan where eager gives nan, or raise
the same kind of error; PyTorch float64 must agree with eager wherever eager does not raise.

Size: with PyTorch installed (CI's second pass) the full run, 300 programs; without it (the
base install of ``make test``) 40 programs, eager against the tape only. ``AUTOGRAD_FULL_TESTS=1``
forces the full run.
"""

from __future__ import annotations

import math
import os
import random

import numpy as np
import pytest

from autograd import Value, trace
from autograd.backward import gradients
from autograd.namespaces import FLOAT
from autograd.ops import OPS

from .programs import TORCH, Program, random_program

try:
    import torch
except ImportError:  # the base install
    torch = None

FULL = torch is not None or os.environ.get("AUTOGRAD_FULL_TESTS") == "1"
PROGRAMS = 300 if FULL else 40
EDGES = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e300, -1e300, 5e-324]
TOL = 1e-9


def same(a: float, b: float) -> bool:
    """Equal as the tests mean it: both nan, the same infinity, or within 1e-9."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= TOL * max(1.0, abs(b))


def edge_points(rng: random.Random, xs: list[float], n: int) -> list[list[float]]:
    """The program's own point, then points with coordinates swapped for edge values or tied
    with another coordinate (for ``max``)."""
    points = [list(xs)]
    for _ in range(n):
        p = list(xs)
        for i in range(len(p)):
            r = rng.random()
            if r < 0.35:
                p[i] = rng.choice(EDGES)
            elif r < 0.5 and len(p) > 1:
                p[i] = p[rng.randrange(len(p))]
        points.append(p)
    return points


def live(program: Program) -> Program:
    """The program without the instructions its outputs do not use: a tape replays what the
    outputs depend on (so eager execution would raise errors in dead code it never replays)."""
    n = program.n_inputs
    used = set(program.outputs)
    for k in range(len(program.body) - 1, -1, -1):
        if n + k in used:
            used.update(program.body[k][1])
    keep = [k for k in range(len(program.body)) if n + k in used]
    new = {i: i for i in range(n)}
    for j, k in enumerate(keep):
        new[n + k] = n + j
    body = [
        (name, tuple(new[i] for i in idx), arg)
        for name, idx, arg in (program.body[k] for k in keep)
    ]
    return Program(n, body, tuple(new[i] for i in program.outputs))


def eager(program, point):
    """(output, input gradients) on Values, or the error eager execution raises. Gradients by
    the chain-rule sweep (``gradients``): see the xfail below for ``backward()``."""
    inputs = [Value(x) for x in point]
    try:
        out = program.run_values(*inputs)
    except (ArithmeticError, ValueError) as e:
        return e
    grads = gradients(out)
    return out.data, [grads.get(v, 0.0) for v in inputs]


def ordinary(program, point) -> bool:
    """Every value on the way between 1e-100 and 1e100 in size (or 0, ±inf, nan). Outside
    that, PyTorch's formulas and ours under- or overflow in different places (the derivative
    of a / b at b = 1e161, say), so only the tape is held to eager there."""
    vals = list(point)
    for name, idx, arg in program.body:
        op = OPS[name]
        vals.append(op.fwd(FLOAT, *[vals[i] for i in idx], *([arg] if op.has_arg else [])))
    return all(x == 0 or not math.isfinite(x) or 1e-100 < abs(x) < 1e100 for x in vals)


def on_torch(program, point):
    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = program.run_torch(*xs)
    if out.requires_grad:  # not when every path to the inputs passes a stop_gradient
        out.backward()
    return out.item(), [0.0 if x.grad is None else x.grad.item() for x in xs]


def check_case(program, points):
    tape = trace(program.run_values, *points[0])
    results = [eager(program, p) for p in points]
    fine = []
    for point, expected in zip(points, results):
        if isinstance(expected, Exception):
            try:
                got = tape(*point)
            except (ArithmeticError, ValueError) as e:
                assert type(e) is type(expected), f"at {point}: tape {e!r}, eager {expected!r}"
            else:
                pytest.fail(f"at {point}: eager raised {expected!r}, the tape gave {got!r}")
            continue
        fine.append((point, expected))
        value, grads = tape.value_and_grad(*point)
        where = f"at {point}: tape {value!r}, {grads!r}; eager {expected!r}"
        assert same(value, expected[0]), where
        assert all(map(same, grads, expected[1])), where
        if torch is not None and ordinary(program, point):
            theirs = on_torch(program, point)
            where = f"at {point}: torch {theirs!r}; eager {expected!r}"
            assert same(theirs[0], expected[0]), where
            assert all(map(same, theirs[1], expected[1])), where
    if len(fine) > 1:  # the points eager runs, as one batch: every slot a vector over them
        batch = np.array([p for p, _ in fine]).T
        values, grads = tape.vmap_value_and_grad(*batch)
        for k, (point, expected) in enumerate(fine):
            where = f"vmap at {point}: {values[k]!r} vs eager {expected!r}"
            assert same(values[k], expected[0]), where
            assert all(same(float(g[k]), e) for g, e in zip(grads, expected[1])), where


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_at_edge_inputs(chunk):
    for seed in range(chunk, PROGRAMS, 4):
        rng = random.Random(seed)
        program, xs = random_program(rng, rng.randint(1, 4), rng.randint(1, 14), stop_gradient=True)
        check_case(live(program), edge_points(rng, xs, 6))


def test_every_op_is_in_the_torch_table():
    assert set(TORCH) == set(OPS)


@pytest.mark.parametrize("x", EDGES, ids=repr)
def test_abs_gradient_at_edges_is_the_same_on_the_tape(x):
    tape = trace(lambda a: abs(a), 1.0)
    v = Value(x)
    abs(v).backward()
    value, (g,) = tape.value_and_grad(x)
    assert same(value, abs(x)) and same(g, v.grad)
    assert not math.isnan(g)  # sign(nan) is 0 in every namespace, as in PyTorch


def test_backward_passes_nothing_through_a_stop_gradient():
    x = Value(math.inf)
    (-x).sin().stop_gradient().backward()  # sin(-inf) is nan, and so is its derivative
    assert x.grad == 0.0
