"""Optimizers (SGD, Adam; the same arithmetic as ``torch.optim``) and learning-rate schedules.

A schedule is any function ``schedule(step) -> lr`` of the number of steps taken so far; the
optimizer calls it at the start of every step, checks it (a number >= 0) and stores it in
``.lr``.

Each optimizer's update is written once, on arrays (``update``), and runs two ways:

- ``step()``: on the Values, from their ``.grad`` into their ``.data`` (always floats, even
  when a ``backward(create_graph=True)`` left Values in ``.grad``);
- ``step_arrays(theta, grad, order)``: on flat arrays, in place, where a compiled training
  loop keeps the parameters (``autograd.tape.BatchTape(own_parameters=True)``): the same
  numbers, bit for bit, with no Python loop over the parameters.

A step is all or nothing: the learning rate and the gradients are checked and the new values
computed before anything is written, so an error leaves parameters, state and step count as
they were. The state (momentum, Adam's moments) carries over between the two ways.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from autograd import Value

Schedule = Callable[[int], float]
State = dict[str, np.ndarray]


class Optimizer:
    """Holds the parameters, the step count, the schedule and the state; subclasses define
    ``update(theta, grad, lr, state) -> (new theta, new state)`` on arrays."""

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
        if schedule is not None and not callable(schedule):
            raise TypeError(f"{type(self).__name__}: schedule must be a function of the step")
        self.lr = float(lr)
        self.schedule = schedule
        self.steps = 0
        self._state: State = {}
        self._order: np.ndarray | None = None  # state in param order (None) or theta order
        self._layout: tuple[Any, np.ndarray, bool] | None = None
        self._n = -1

    # ---- the two ways to step ---------------------------------------------------------------
    def step(self) -> None:
        """Update every parameter's ``.data`` from its ``.grad`` (after setting ``lr`` from the
        schedule)."""
        lr = self._next_lr()
        n = len(self.params)
        theta = np.fromiter((p.data for p in self.params), float, n)
        grad = self._grads()
        with np.errstate(all="ignore"):  # inf and nan, as on floats
            new_theta, new_state = self.update(theta, grad, lr, self._state_in(None))
        for p, x in zip(self.params, new_theta.tolist()):
            p.data = x
        self._commit(lr, new_state, None)

    def step_arrays(self, theta: np.ndarray, grad: np.ndarray, order: Sequence[Value]) -> None:
        """The same update on flat arrays, in place: ``theta`` holds the Values of ``order``
        (in that order), ``grad`` their gradients. Parameters of ``order`` this optimizer does
        not hold are left alone; each of its own must be in ``order``."""
        lr = self._next_lr()
        key, positions, whole = self._layout_of(order)
        state = self._state_in(None if not whole else positions)
        with np.errstate(all="ignore"):  # inf and nan, as on floats
            if whole:
                new_theta, new_state = self.update(theta, grad, lr, state)
            else:
                new_theta, new_state = self.update(theta[positions], grad[positions], lr, state)
        if whole:
            np.copyto(theta, new_theta)
        else:
            theta[positions] = new_theta
        self._commit(lr, new_state, positions if whole else None)

    def update(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, state: State
    ) -> tuple[np.ndarray, State]:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Reset every parameter's ``.grad`` to 0."""
        for p in self.params:
            p.grad = 0.0

    # ---- checks, state, layout --------------------------------------------------------------
    def _next_lr(self) -> float:
        if self.schedule is None:
            return self.lr
        lr = self.schedule(self.steps)
        if type(lr) is float and 0.0 <= lr < math.inf:
            return lr
        if (
            isinstance(lr, bool)
            or not isinstance(lr, numbers.Real)
            or not math.isfinite(lr)
            or lr < 0
        ):
            raise ValueError(
                f"{type(self).__name__}: schedule({self.steps}) returned {lr!r}; a learning "
                "rate must be a finite number >= 0 (nothing was updated)"
            )
        return float(lr)

    def _grads(self) -> np.ndarray:
        try:
            return np.fromiter((float(p.grad) for p in self.params), float, len(self.params))
        except (TypeError, ValueError):
            i, p = next((i, p) for i, p in enumerate(self.params) if not _number(p.grad))
            name = f" {p.label!r}" if p.label else ""
            raise TypeError(
                f"{type(self).__name__}.step: parameter {i}{name} has a .grad that is not a "
                f"number: {p.grad!r} (nothing was updated)"
            ) from None

    def _commit(self, lr: float, state: State, order: np.ndarray | None) -> None:
        self.lr = lr
        self._state, self._order = state, order
        self.steps += 1

    def _state_in(self, order: np.ndarray | None) -> State:
        """The state arrays in param order (``order`` None) or in theta order (``order[k]``:
        the parameter at theta's position k)."""
        if not self._state or _same(order, self._order):
            return self._state
        state = {}
        for name, s in self._state.items():
            in_params = s
            if self._order is not None:
                in_params = np.empty_like(s)
                in_params[self._order] = s
            state[name] = in_params if order is None else in_params[order]
        return state

    def _layout_of(self, order: Sequence[Value]) -> tuple[Any, np.ndarray, bool]:
        """Where this optimizer's parameters sit in ``order``: (key, positions, whole). With
        ``whole`` (the same Values, any order) ``positions[k]`` is the parameter at theta's k;
        otherwise ``positions[i]`` is the theta position of parameter i."""
        if self._layout is not None and self._layout[0] is order and len(order) == self._n:
            return self._layout
        index = {id(p): i for i, p in enumerate(self.params)}
        self._n = len(order)
        if len(order) == len(self.params) and all(id(v) in index for v in order):
            layout = (order, np.array([index[id(v)] for v in order], dtype=np.int64), True)
        else:
            where = {id(v): k for k, v in enumerate(order)}
            missing = [p for p in self.params if id(p) not in where]
            if missing:
                raise ValueError(
                    f"{type(self).__name__}.step_arrays: {len(missing)} of the optimizer's "
                    "parameters are not among the arrays' (order)"
                )
            layout = (order, np.array([where[id(p)] for p in self.params], dtype=np.int64), False)
        self._layout = layout
        return layout

    def _vector(self, name: str) -> list[float] | None:
        """A state vector in parameter order, as floats (None before it exists)."""
        state = self._state_in(None)
        return state[name].tolist() if name in state else None


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return a is b or (a.shape == b.shape and bool((a == b).all()))


def _number(x: Any) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


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
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.nesterov = bool(nesterov)

    @property
    def velocity(self) -> list[float] | None:
        """The momentum buffer per parameter (None before the first step with momentum)."""
        return self._vector("velocity")

    def update(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, state: State
    ) -> tuple[np.ndarray, State]:
        mu, wd = self.momentum, self.weight_decay
        g = grad + wd * theta if wd else grad
        if mu:
            v = state.get("velocity")
            v = g.copy() if v is None else mu * v + g
            state = {"velocity": v}
            g = g + mu * v if self.nesterov else v
        return theta - lr * g, state


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
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        for i, beta in enumerate(betas):
            _check_range(self, f"betas[{i}]", beta, 0.0, 1.0)
        _check_range(self, "eps", eps, 0.0)
        if eps == 0:
            # m / (sqrt(v) + 0) is 0 / 0 wherever a gradient has been 0 so far.
            raise ValueError("Adam: eps must be > 0 (it keeps m / sqrt(v) finite), got 0")
        _check_range(self, "weight_decay", weight_decay, 0.0)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    @property
    def m(self) -> list[float]:
        """The first moment per parameter."""
        return self._vector("m") or [0.0] * len(self.params)

    @property
    def v(self) -> list[float]:
        """The second moment per parameter."""
        return self._vector("v") or [0.0] * len(self.params)

    def update(
        self, theta: np.ndarray, grad: np.ndarray, lr: float, state: State
    ) -> tuple[np.ndarray, State]:
        (b1, b2), eps, wd = self.betas, self.eps, self.weight_decay
        t = self.steps + 1
        step_size = lr / (1 - b1**t)
        root_bc2 = (1 - b2**t) ** 0.5  # ** 0.5, not sqrt: torch's exact arithmetic
        g = grad + wd * theta if wd else grad
        m, v = state.get("m"), state.get("v")
        if m is None:
            m, v = np.zeros_like(theta), np.zeros_like(theta)
        m = m + (g - m) * (1 - b1)  # torch's lerp, in the same order
        v = v * b2 + (1 - b2) * g * g
        return theta - step_size * (m / (np.sqrt(v) / root_bc2 + eps)), {"m": m, "v": v}


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
