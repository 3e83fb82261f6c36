"""Loss functions: each takes predictions and targets and returns one Value.

NaN and infinity. A nan or ±inf prediction gives the loss and gradients PyTorch float64 gives
(nan in, nan out), with two documented exceptions: ``binary_cross_entropy`` of a nan
probability is nan (PyTorch raises), and ``binary_cross_entropy_with_logits`` of a -inf logit
with target 1 is inf, the limit (PyTorch's formula gives nan). ``fit`` stops when a loss turns
non-finite.

Shapes. Elementwise losses (``sse``, ``mse``, ``binary_cross_entropy*``, ``hinge``) take
predictions and targets of the same nested shape: one output (a Value or number), one sample's
outputs (a list), or a batch (a list of those, as ``[model(x) for x in X]`` gives). They flatten
both, pair the elements, and reduce: ``sse`` sums, the others average over all elements.
``cross_entropy`` takes the logits of one sample (a list) and a class index, or a batch of logit
lists and a list of class indices (averaged). A shape mismatch raises ValueError with both sizes.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from autograd import Value
from autograd.value import apply, vmax, vsum

from .layers import flat_values


def _pairs(name: str, pred: Any, target: Any) -> list[tuple[Value, Any]]:
    """(prediction as a Value, target) pairs, or ValueError naming both sizes."""
    p, t = flat_values(pred, name), flat_values(target, name)
    if len(p) != len(t):
        raise ValueError(f"{name}: got {len(p)} predictions but {len(t)} targets")
    if not p:
        raise ValueError(f"{name}: no predictions")
    return [(_lift(pi), ti) for pi, ti in zip(p, t)]


def _check_targets(name: str, pairs: list[tuple[Value, Any]], ok: Any, wanted: str) -> None:
    for _, y in pairs:
        if not ok(float(y)):
            raise ValueError(f"{name}: targets must be {wanted}, got {y!r}")


def _mean(terms: list[Value]) -> Value:
    # Multiplying by 1/n (not dividing by n) is what micrograd's demo does: same floats.
    return vsum(terms) * (1.0 / len(terms))


def sse(pred: Any, target: Any) -> Value:
    """Sum of squared errors: Σ (ŷ - y)^2 (the first tutorial's loss)."""
    return vsum((p - t) ** 2 for p, t in _pairs("sse", pred, target))


def mse(pred: Any, target: Any) -> Value:
    """Mean squared error: (1/n) Σ (ŷ - y)^2."""
    return _mean([(p - t) ** 2 for p, t in _pairs("mse", pred, target)])


def binary_cross_entropy(pred: Any, target: Any, eps: float = 1e-12) -> Value:
    """-(1/n) Σ [y log p + (1 - y) log(1 - p)] on probabilities p.

    p is squeezed into [eps, 1 - eps] (p -> eps + (1 - 2 eps) p) so log never sees 0 and the
    gradient never vanishes; unlike a hard clamp it has no branch on the data, so the graph's
    shape never depends on the numbers (the tape can replay it). A p outside [0, 1] raises
    ValueError, as in PyTorch; a nan p gives nan (PyTorch raises there too).
    """
    pairs = _pairs("binary_cross_entropy", pred, target)
    _check_targets("binary_cross_entropy", pairs, lambda y: 0 <= y <= 1, "in [0, 1]")
    for i, (p, _) in enumerate(pairs):
        if not (0 <= p.data <= 1 or math.isnan(p.data)):  # nan passes through: fit reports it
            raise ValueError(
                f"binary_cross_entropy: predictions must be probabilities in [0, 1], got "
                f"{p.data!r} (prediction {i}); for scores use binary_cross_entropy_with_logits"
            )
    terms = []
    for p, y in pairs:
        q = p * (1.0 - 2.0 * eps) + eps
        terms.append(-(y * q.log() + (1.0 - y) * (1.0 - q).log()))
    return _mean(terms)


def binary_cross_entropy_with_logits(pred: Any, target: Any) -> Value:
    """BCE on logits z: (1/n) Σ [y softplus(-z) + (1 - y) softplus(z)] = BCE(σ(z), y).

    Both terms are >= 0, so nothing cancels: exact to the last digits even where the loss is
    tiny (|z| large, right side), and no overflow for any finite z. d/dz = σ(z) - y. At z = -inf
    with y = 1 the loss is inf, its limit (PyTorch, computing (1 - y) z + softplus(-z), gives
    nan); every other nan or inf agrees with PyTorch.
    """
    pairs = _pairs("binary_cross_entropy_with_logits", pred, target)
    _check_targets("binary_cross_entropy_with_logits", pairs, lambda y: 0 <= y <= 1, "in [0, 1]")
    return _mean([y * (-z).softplus() + (1.0 - y) * z.softplus() for z, y in pairs])


def hinge(pred: Any, target: Any) -> Value:
    """micrograd's max-margin loss on ±1 labels: (1/n) Σ max(0, 1 - y ŷ)."""
    pairs = _pairs("hinge", pred, target)
    _check_targets("hinge", pairs, lambda y: y in (-1.0, 1.0), "-1 or +1")
    return _mean([(1 + -y * p).relu() for p, y in pairs])


def cross_entropy(logits: Any, target: Any) -> Value:
    """Softmax cross-entropy: log Σ_j e^(z_j) - z_target, with log-sum-exp shifted by max z.

    ``logits`` is one sample's list with an int class ``target``, or a batch of such lists with
    a list of classes (averaged over the batch). The shift is a node of the graph (``max`` with
    its gradient stopped), so a traced tape recomputes it on every replay and never overflows
    for finite logits.
    """
    if isinstance(target, (list, tuple)):
        if len(logits) != len(target):
            raise ValueError(
                f"cross_entropy: got {len(logits)} logit rows but {len(target)} targets"
            )
        if not target:
            raise ValueError("cross_entropy: empty batch")
        return _mean([_cross_entropy_one(z, t) for z, t in zip(logits, target)])
    return _cross_entropy_one(logits, target)


def _cross_entropy_one(logits: Any, target: Any) -> Value:
    zs = [_lift(z) for z in flat_values(logits, "cross_entropy")]
    if isinstance(logits, (Value, numbers.Real)) or len(zs) != len(logits):
        raise ValueError(
            "cross_entropy: logits must be one flat list per sample; a batch needs a target list"
        )
    k = _class_index(target, len(zs))
    # Shift by the largest logit: every exponent is <= 0, so exp never overflows and the sum is
    # >= 1, so log never sees 0. The result does not depend on the shift, so no gradient flows
    # through it; it stays in the graph (not a constant) so that a tape replay recomputes it.
    shift = vmax(zs).stop_gradient()
    log_sum = vsum((z - shift).exp() for z in zs).log()
    # log Σ e^(z_j - shift) + (shift - z_t): the large parts cancel before they are added, so
    # logits of 1e16 still give log 2 (lse - z_t would round to 0).
    if isinstance(target, Value):
        # A Value target (a traced tape's input) picks its logit with the table's select op,
        # not by indexing: the graph's shape does not depend on the class, so a replay with
        # other targets stays right, and a -inf logit elsewhere stays out (no -inf * 0).
        return log_sum + (shift - apply("select", [target, *zs]))
    return log_sum + (shift - zs[k])


def _class_index(target: Any, n: int) -> int:
    if isinstance(target, Value):
        target = target.data
    if (
        isinstance(target, bool)
        or not isinstance(target, numbers.Real)
        or not math.isfinite(target)
        or target != int(target)
    ):
        raise ValueError(f"cross_entropy: target must be a class index, got {target!r}")
    if not 0 <= int(target) < n:
        raise ValueError(f"cross_entropy: target {int(target)} out of range for {n} logits")
    return int(target)


def l2(params: Iterable[Value], alpha: float = 1.0) -> Value:
    """L2 penalty: alpha Σ p^2 (micrograd's regularizer, with alpha = 1e-4 in its demo)."""
    return alpha * vsum(p * p for p in params)


def _lift(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)
