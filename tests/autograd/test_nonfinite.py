"""NaN and ±inf through every op, eager and on the tape, against PyTorch float64.

Where the eager engine answers, its value and gradients are PyTorch's. Where it raises, it is a
domain error by design (``log`` of a negative number, ...): the error names the op, and PyTorch's
answer there is not a finite number. The tape answers exactly as eager does, errors included.
"""

from __future__ import annotations

import json
import math

import pytest

from autograd import Value, trace
from autograd.ops import OPS
from autograd.value import apply

from .nonfinite import RECORD, cases, torch_answer

CASES = cases()
IDS = [c[0] for c in CASES]
TORCH_SAYS = json.loads(RECORD.read_text(encoding="utf-8"))


def _same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == theirs or math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-300)


def _eager(name, xs, args):
    inputs = [Value(x) for x in xs]
    out = apply(name, inputs, *args)
    out.backward()
    return out.data, [v.grad for v in inputs]


def test_the_record_covers_every_case():
    assert set(TORCH_SAYS) == set(IDS)
    assert {name for _, name, _, _ in CASES} == set(OPS)


@pytest.mark.parametrize(("cid", "name", "xs", "args"), CASES, ids=IDS)
def test_eager_matches_pytorch_or_raises_a_domain_error(cid, name, xs, args):
    theirs = TORCH_SAYS[cid]
    value = float(theirs["value"])
    try:
        ours, grads = _eager(name, xs, args)
    except (ValueError, ArithmeticError) as e:
        assert str(e).startswith(f"{name}: "), e
        assert not math.isfinite(value), f"{cid}: raised although torch gives {value}"
        return
    assert _same(ours, value), (cid, ours, value)
    for g, t in zip(grads, theirs["grads"]):
        assert _same(g, float(t)), (cid, grads, theirs["grads"])


@pytest.mark.parametrize(("cid", "name", "xs", "args"), CASES, ids=IDS)
def test_the_tape_answers_as_eager_does(cid, name, xs, args):
    op = OPS[name]
    example = op.examples[0][: len(xs)]
    tape = trace(lambda *vs: apply(name, vs, *args), *example)
    try:
        eager = _eager(name, xs, args)
    except (ValueError, ArithmeticError) as e:
        with pytest.raises(type(e), match=f"^{name}: "):
            tape.value_and_grad(*xs)
        return
    value, grads = tape.value_and_grad(*xs)
    assert _same(value, eager[0]), (cid, value, eager[0])
    for g, e in zip(grads, eager[1]):
        assert _same(g, e), (cid, grads, eager[1])


@pytest.mark.torch
@pytest.mark.parametrize(("cid", "name", "xs", "args"), CASES, ids=IDS)
def test_the_record_is_what_pytorch_says(cid, name, xs, args):
    pytest.importorskip("torch")
    assert torch_answer(OPS[name], xs, args) == TORCH_SAYS[cid]
