"""The benchmarks compare like with like: every engine's step computes the same losses.

No timing here (benchmarks measure speed, tests never do): only that the peers written in
``benchmarks/peers.py`` and our compiled step train the same network to the same numbers, so
the tables' ratios compare the same work.
"""

from __future__ import annotations

import pytest

from benchmarks.peers import PEERS
from benchmarks.tape import mlp, trainer_step
from benchmarks.vs_micrograd import moons

STEPS = 4


def losses(make) -> list[float]:
    xs, ys = moons(30)
    step = make(mlp(8), xs, ys)
    return [step() for _ in range(STEPS)]


@pytest.mark.parametrize("name", ["numpy by hand", "PyTorch eager", "JAX jit"])
def test_every_peer_takes_the_same_steps_as_ours(name):
    if name != "numpy by hand":
        pytest.importorskip({"PyTorch eager": "torch", "JAX jit": "jax"}[name])
    ours = losses(trainer_step)
    theirs = losses(PEERS[name])
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    assert ours[-1] < ours[0]  # it trains
