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


@pytest.mark.parametrize("name", ["numpy at its best", "numpy by hand", "PyTorch eager", "JAX jit"])
def test_every_peer_takes_the_same_steps_as_ours(name):
    if not name.startswith("numpy"):
        pytest.importorskip({"PyTorch eager": "torch", "JAX jit": "jax"}[name])
    ours = losses(trainer_step)
    theirs = losses(PEERS[name])
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    assert ours[-1] < ours[0]  # it trains


def test_alternate_rotates_the_order_of_the_engines():
    from benchmarks.common import alternate

    calls: list[str] = []
    alternate({k: (lambda k=k: calls.append(k)) for k in "ABC"}, 3, 1, pause_gc=False)
    assert "".join(calls) == "ABCBCACAB"


def test_every_width_of_the_scaling_table_trains():
    """The scaling table's initialisation trains at every width (U(-1, 1) at 256 wide with lr
    1.0 diverged to 1e91)."""
    for width in (16, 64, 256):
        xs, ys = moons(100)
        step = PEERS["numpy at its best"](mlp(width, "xavier"), xs, ys)
        first = step()
        for _ in range(30):
            last = step()
        assert last < first
