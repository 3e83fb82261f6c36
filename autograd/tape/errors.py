"""What a replay raises when it no longer follows the traced graph, and ``check=True``'s test.

A leaf module (standard library only): every part of the tape that raises or checks imports it,
and it imports none of them.
"""

from __future__ import annotations

import math
from typing import Any


class StructureError(RuntimeError):
    """A replay no longer follows the traced graph (a recorded comparison flipped, or a
    parameter was replaced, or the model's structure changed), or, with ``check=True``, its
    results differ from running the function eagerly."""


# Relative (and, near zero, absolute) tolerance of check=True against eager execution.
CHECK_TOLERANCE = 1e-9

FN_CAUSE = (
    "fn's structure depends on the data in a way the trace could not see (reading .data or "
    "float(v), branching on it, or work under no_grad)"
)


def check_close(
    what: str, tape: list[float], eager: list[Any], who: str = "Tape", cause: str = FN_CAUSE
) -> None:
    """StructureError at the first number where a replay and eager execution differ by more
    than ``CHECK_TOLERANCE`` (nan matches nan): ``check=True``'s test, for ``who``."""
    for i, (t, e) in enumerate(zip(tape, eager)):
        e = float(e)
        same = t == e or (math.isnan(t) and math.isnan(e))
        if not same and not abs(t - e) <= CHECK_TOLERANCE * max(1.0, abs(e)):
            raise StructureError(
                f"{who}(check=True): {what} {i} is {t!r} on the tape but {e!r} eagerly: {cause}"
            )
