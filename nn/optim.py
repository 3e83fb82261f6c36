"""Optimizers (SGD, Adam; the same arithmetic as ``torch.optim``) and learning-rate schedules.

A schedule is any function ``schedule(step) -> lr`` of the number of steps taken so far; the
optimizer calls it at the start of every ``step()`` and stores the result in ``.lr``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from autograd import Value

Schedule = Callable[[int], float]


class Optimizer:
    """Holds the parameters, the step count and the schedule; subclasses define ``update``."""

    def __init__(
        self, params: Iterable[Value] | Any, lr: float, schedule: Schedule | None = None
    ) -> None:
        if hasattr(params, "parameters"):
            params = params.parameters()  # a Module
        self.params: list[Value] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not all(isinstance(p, Value) for p in self.params):
            bad = next(p for p in self.params if not isinstance(p, Value))
            raise TypeError(
                f"{type(self).__name__}: parameters must be Values, got {type(bad).__name__}"
            )
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{type(self).__name__}: a parameter appears more than once")
        _check_range(self, "lr", lr, 0.0)
        self.lr = float(lr)
        self.schedule = schedule
        self.steps = 0

    def step(self) -> None:
        """Update every parameter from its ``.grad`` (after setting ``lr`` from the schedule)."""
        if self.schedule is not None:
            self.lr = float(self.schedule(self.steps))
        self.update()
        self.steps += 1

    def update(self) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` to 0."""
        for p in self.params:
            p.grad = 0.0


class SGD(Optimizer):
    """g = grad + wd p;  v = μ v + g (v = g at first);  p -= lr (g + μ v if nesterov else v)."""

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        _check_range(self, "momentum", momentum, 0.0)
        _check_range(self, "weight_decay", weight_decay, 0.0)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov needs a momentum > 0")
        self.momentum, self.weight_decay, self.nesterov = (
            float(momentum),
            float(weight_decay),
            nesterov,
        )
        self.velocity: list[float] | None = None

    def update(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if mu == 0 and wd == 0:  # plain gradient descent: the common case, kept tight
            for p in self.params:
                p.data -= lr * p.grad
            return
        grads = [float(p.grad) + wd * p.data if wd else float(p.grad) for p in self.params]
        if mu:
            if self.velocity is None:
                self.velocity = list(grads)
            else:
                self.velocity = [mu * v + g for v, g in zip(self.velocity, grads)]
            grads = (
                [g + mu * v for g, v in zip(grads, self.velocity)]
                if self.nesterov
                else self.velocity
            )
        for p, g in zip(self.params, grads):
            p.data -= lr * g


class Adam(Optimizer):
    """m = lerp(m, g, 1 - β1);  v = β2 v + (1 - β2) g^2;
    p -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps), with g = grad + wd p."""

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        for i, beta in enumerate(betas):
            _check_range(self, f"betas[{i}]", beta, 0.0, 1.0)
        _check_range(self, "eps", eps, 0.0)
        _check_range(self, "weight_decay", weight_decay, 0.0)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def update(self) -> None:
        (b1, b2), eps, wd = self.betas, self.eps, self.weight_decay
        t = self.steps + 1
        step_size = self.lr / (1 - b1**t)
        root_bc2 = (1 - b2**t) ** 0.5  # ** 0.5, not sqrt: torch's exact arithmetic
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = float(p.grad) + wd * p.data if wd else float(p.grad)
            m[i] += (g - m[i]) * (1 - b1)  # torch's lerp, in the same order
            v[i] = v[i] * b2 + (1 - b2) * g * g
            p.data -= step_size * (m[i] / (math.sqrt(v[i]) / root_bc2 + eps))


def _check_range(opt: Optimizer, name: str, x: Any, low: float, high: float = math.inf) -> None:
    """ValueError unless ``low <= x < high`` (x a finite number)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not low <= x < high:
        bound = f"in [{low:g}, {high:g})" if high != math.inf else f">= {low:g}"
        raise ValueError(f"{type(opt).__name__}: {name} must be a number {bound}, got {x!r}")


# ---- schedules ----------------------------------------------------------------------------------


def linear_decay(start: float, end: float, steps: int) -> Schedule:
    """lr(k) = start - (start - end) k / steps, then ``end``; micrograd's demo: (1.0, 0.1, 100)."""
    if steps < 1:
        raise ValueError(f"linear_decay: steps must be >= 1, got {steps!r}")
    return lambda k: start - (start - end) * min(k, steps) / steps


def step_decay(start: float, gamma: float, every: int) -> Schedule:
    """lr(k) = start gamma^(k // every): multiply by ``gamma`` every ``every`` steps (StepLR)."""
    if every < 1:
        raise ValueError(f"step_decay: every must be >= 1, got {every!r}")
    return lambda k: start * gamma ** (k // every)
