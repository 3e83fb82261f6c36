"""In-place forms of a few table rules, for the kernels a network runs most.

The op table's numpy rules return new arrays, which a kernel then copies into its slots. For
the ops below the same arithmetic can write into the slots directly (``out=``): the same numpy
functions in the same order, so the same bits (``tests/autograd/test_tape_kernels.py`` checks
each against the table's rule at ordinary and edge inputs: 0, -0, ±inf, nan). The one
exception is relu's forward, ``maximum(x, 0)``, ten times faster than the rule's ``where``
on a large layer: it gives 0.0 for -0.0 where the rule keeps -0.0. The two are equal numbers,
and no op of the table tells them apart without raising an error (1 / x, log x, x ** -1 raise
at either zero), so results are the same. The table stays the definition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np


@dataclass(frozen=True)
class InPlace:
    """``forward(x, out)`` writes ``op.fwd(NUMPY, x)`` into ``out``; ``backward(g, out, x, dst)``
    returns the call that writes ``op.vjp(NUMPY, g, out, x)[0]`` into ``dst`` (made once per
    set of arrays; either may be None: use the rule)."""

    forward: Callable[[Any, Any], Any] | None
    backward: Callable[[Any, Any, Any, Any], Callable[[], None]] | None
    exact: bool = True  # backward gives the rule's numbers everywhere (else: where finite)


def _tanh_backward(g: Any, out: Any, x: Any, dst: Any) -> Callable[[], None]:
    def run() -> None:  # g * (1.0 - out * out), as the table writes it, one step at a time
        np.multiply(out, out, out=dst)
        np.subtract(1.0, dst, out=dst)
        np.multiply(g, dst, out=dst)

    return run


def _relu_backward(g: Any, out: Any, x: Any, dst: Any) -> Callable[[], None]:
    """where(x <= 0, 0.0, g) without a select: g times a 0/1 mask, the same number wherever g
    is finite (0 * g is -0.0 for a negative g: equal to 0.0, as above). A select on a layer's
    signs is eight times slower than a multiply on a large layer (its branches cannot be
    predicted). Where g holds an inf or a nan the two differ (inf * 0 is nan): the nan then
    reaches the gradients the program returns, and the program, checking those once per
    backward pass, runs the rule itself instead (``Program.backward``). The mask is read off
    the output: relu(x) != 0 exactly where x > 0 or x is nan (whose gradient relu passes on)."""
    keep = np.empty(np.shape(x), dtype=bool)

    def run() -> None:
        np.not_equal(out, 0.0, out=keep)
        np.multiply(g, keep, out=dst)

    return run


def _relu_forward(x: Any, out: Any) -> None:
    # where(x < 0, 0.0, x): maximum keeps x for x > 0 and nan (it propagates nan), 0 below.
    np.maximum(x, 0.0, out=out)


FAST: dict[str, InPlace] = {
    "relu": InPlace(_relu_forward, _relu_backward, exact=False),
    "tanh": InPlace(partial(np.tanh), _tanh_backward),
    "neg": InPlace(partial(np.negative), None),
    "stop_gradient": InPlace(lambda x, out: np.copyto(out, x), None),
}
