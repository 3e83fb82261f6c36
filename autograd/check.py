"""Checking analytic gradients against central differences."""

from __future__ import annotations

import math
import numbers
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


def _check_tolerance(who: str, name: str, x: Any, positive: bool) -> None:
    """A step or tolerance: a finite number, > 0 (a step) or >= 0 (a tolerance)."""
    ok = isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)
    if not ok or x < 0 or (positive and x == 0):
        wanted = "> 0" if positive else ">= 0"
        raise ValueError(f"{who}: {name} must be a finite number {wanted}, got {x!r}")


def numerical_grad(f: Callable[..., Any], *inputs: float, eps: float = 1e-6) -> list[float]:
    """Central differences: (f(x + eps) - f(x - eps)) / 2 eps for each input in turn."""
    _check_tolerance("numerical_grad", "eps", eps, positive=True)
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
    _check_tolerance("gradcheck", "eps", eps, positive=True)
    _check_tolerance("gradcheck", "atol", atol, positive=False)
    _check_tolerance("gradcheck", "rtol", rtol, positive=False)
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
