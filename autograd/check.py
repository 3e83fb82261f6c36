"""Checking analytic gradients against central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .backward import grad
from .grad_mode import no_grad
from .value import Value, _to_float


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree; the message holds the per-input table."""


def evaluate(f: Callable[..., Any], *inputs: float) -> float:
    """f at plain numbers (each handed to ``f`` as a Value), as a float, recording nothing."""
    with no_grad():
        return float(f(*(Value(x) for x in inputs)))


def numerical_grad(f: Callable[..., Any], *inputs: float, eps: float = 1e-6) -> list[float]:
    """Central differences: (f(x + eps) - f(x - eps)) / 2 eps for each input in turn."""
    xs = [_to_float(x, "numerical_grad input") for x in inputs]
    out = []
    for i, x in enumerate(xs):
        hi = evaluate(f, *xs[:i], x + eps, *xs[i + 1 :])
        lo = evaluate(f, *xs[:i], x - eps, *xs[i + 1 :])
        out.append((hi - lo) / (2 * eps))
    return out


def gradcheck(
    f: Callable[..., Any],
    *inputs: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """True when every partial of ``f`` matches central differences within
    ``atol + rtol * |numeric|``; otherwise raises :class:`GradcheckError` with a table."""
    if not inputs:
        raise ValueError("gradcheck: needs at least one input")
    xs = [_to_float(x, "gradcheck input") for x in inputs]
    analytic = grad(f, argnums=tuple(range(len(xs))))(*xs)
    numeric = numerical_grad(f, *xs, eps=eps)
    rows, ok = [], True
    for i, (x, a, n) in enumerate(zip(xs, analytic, numeric)):
        good = abs(a - n) <= atol + rtol * abs(n)
        ok &= good
        verdict = "ok" if good else "MISMATCH"
        rows.append(f"{i:>5}  {x:>14.6g}  {a:>16.9g}  {n:>16.9g}  {abs(a - n):>10.3g}  {verdict}")
    if ok:
        return True
    header = f"{'input':>5}  {'value':>14}  {'analytic':>16}  {'numeric':>16}  {'abs err':>10}"
    raise GradcheckError("gradcheck failed:\n" + "\n".join([header, *rows]))
