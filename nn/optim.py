"""Optimizers (SGD, Adam; the same arithmetic as ``torch.optim``) and learning-rate schedules.

A schedule is any function ``schedule(step) -> lr`` of the number of steps taken so far; the
optimizer calls it at the start of every step, checks it (a number >= 0) and stores it in
``.lr``.

Each optimizer's update is written once, on arrays, in place into preallocated buffers
(``update``), and runs two ways:

- ``step()``: on the Values, from their ``.grad`` into their ``.data`` (always floats, even
  when a ``backward(create_graph=True)`` left Values in ``.grad``);
- ``step_arrays(theta, grad, order)``: on flat arrays, in place, where a compiled training
  loop keeps the parameters (``autograd.tape.BatchTape(own_parameters=True)``): the same
  numbers, bit for bit, with no Python loop over the parameters.

A step is all or nothing: the learning rate, the gradients and the arrays are checked before
anything is written, so an error leaves parameters, state and step count as they were. The state
(momentum, Adam's moments) carries over between the two ways; it is kept in one storage order
and permuted only when a step runs in another.
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
        # The state (momentum, moments) in one storage order: ``_stored[k]`` is the index of
        # the parameter at position k (None: the order of ``params``). It is permuted only when
        # a step runs in another order, never translated on a read.
        self._state: State = {}
        self._stored: np.ndarray | None = None
        self._layout: tuple[tuple[Value, ...], np.ndarray | None, bool] | None = None
        self._scratch: list[np.ndarray] = []

    # ---- the two ways to step ---------------------------------------------------------------
    def step(self) -> None:
        """Update every parameter's ``.data`` from its ``.grad`` (after setting ``lr`` from the
        schedule)."""
        lr = self._next_lr()
        n = len(self.params)
        theta = np.fromiter((p.data for p in self.params), float, n)
        grad = self._grads()
        self._store_in(None)
        with np.errstate(all="ignore"):  # inf and nan, as on floats
            self.update(theta, grad, lr, self._state)
        for p, x in zip(self.params, theta.tolist()):
            p.data = x
        self._commit(lr)

    def step_arrays(self, theta: np.ndarray, grad: np.ndarray, order: Sequence[Value]) -> None:
        """The same update on flat arrays, in place: ``theta`` holds the Values of ``order``
        (in that order), ``grad`` their gradients (both 1-D float arrays of ``len(order)``).
        Parameters of ``order`` this optimizer does not hold are left alone; each of its own
        must be in ``order``, once."""
        lr = self._next_lr()
        positions, whole = self._layout_of(order)
        _check_arrays(self, theta, grad, len(order))
        with np.errstate(all="ignore"):  # inf and nan, as on floats
            if whole:
                self._store_in(positions)
                self.update(theta, grad, lr, self._state)
            else:
                self._store_in(None)
                mine = theta[positions]
                self.update(mine, grad[positions], lr, self._state)
                theta[positions] = mine
        self._commit(lr)

    def update(self, theta: np.ndarray, grad: np.ndarray, lr: float, state: State) -> None:
        """Update ``theta`` and ``state`` (arrays in one order) in place from ``grad``."""
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

    def _commit(self, lr: float) -> None:
        self.lr = lr
        self.steps += 1

    def _store_in(self, order: np.ndarray | None) -> None:
        """Keep the state in ``order`` (``order[k]``: the parameter at position k; None: the
        order of ``params``), permuting it only if it is stored in another one."""
        if _same(order, self._stored):
            return
        if self._state:
            n = len(self.params)
            to_params = np.arange(n) if self._stored is None else self._stored
            for name, s in self._state.items():
                in_params = np.empty_like(s)
                in_params[to_params] = s
                self._state[name] = in_params if order is None else in_params[order]
        self._stored = order

    def _layout_of(self, order: Sequence[Value]) -> tuple[np.ndarray | None, bool]:
        """Where this optimizer's parameters sit in ``order``: (positions, whole). With
        ``whole`` (the same Values, any order) ``positions[k]`` is the index of the parameter
        at theta's k (None when that is k itself); otherwise ``positions[i]`` is the theta
        position of parameter i. Cached on the Values of ``order``, not on the object: a
        list changed in place gets a new layout."""
        key = order if type(order) is tuple else tuple(order)
        cached = self._layout
        if cached is not None and (cached[0] is key or cached[0] == key):  # identity per item
            return cached[1], cached[2]
        index = {id(p): i for i, p in enumerate(self.params)}
        where: dict[int, int] = {}
        for k, v in enumerate(key):
            if id(v) in where:
                raise ValueError(
                    f"{type(self).__name__}.step_arrays: order holds a parameter twice "
                    f"(positions {where[id(v)]} and {k}: {v!r})"
                )
            where[id(v)] = k
        if len(key) == len(self.params) and all(id(v) in index for v in key):
            positions = np.array([index[id(v)] for v in key], dtype=np.int64)
            if (positions == np.arange(len(positions))).all():
                positions = None
            layout = (key, positions, True)
        else:
            missing = [p for p in self.params if id(p) not in where]
            if missing:
                raise ValueError(
                    f"{type(self).__name__}.step_arrays: {len(missing)} of the optimizer's "
                    "parameters are not among the arrays' (order)"
                )
            positions = np.array([where[id(p)] for p in self.params], dtype=np.int64)
            layout = (key, positions, False)
        self._layout = layout
        return layout[1], layout[2]

    def _vector(self, name: str) -> list[float] | None:
        """A state vector in parameter order, as floats (None before it exists)."""
        s = self._state.get(name)
        if s is None:
            return None
        if self._stored is None:
            return s.tolist()
        in_params = np.empty_like(s)
        in_params[self._stored] = s
        return in_params.tolist()

    def _buffers(self, n: int, count: int) -> list[np.ndarray]:
        """``count`` scratch arrays of ``n`` floats, made once (an update allocates nothing)."""
        if len(self._scratch) < count or self._scratch[0].shape != (n,):
            self._scratch = [np.empty(n) for _ in range(count)]
        return self._scratch


def _check_arrays(opt: Optimizer, theta: Any, grad: Any, n: int) -> None:
    for name, a in (("theta", theta), ("grad", grad)):
        if not isinstance(a, np.ndarray) or a.dtype != np.float64 or a.shape != (n,):
            what = (
                f"{type(a).__name__} of shape {a.shape} and dtype {a.dtype}"
                if isinstance(a, np.ndarray)
                else type(a).__name__
            )
            raise ValueError(
                f"{type(opt).__name__}.step_arrays: {name} must be a float64 array of shape "
                f"({n},) (one entry per parameter of order), got {what} (nothing was updated)"
            )


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

    def update(self, theta: np.ndarray, grad: np.ndarray, lr: float, state: State) -> None:
        mu, wd = self.momentum, self.weight_decay
        s1, s2 = self._buffers(theta.size, 2)
        g = grad
        if wd:  # g = grad + wd * theta
            np.multiply(theta, wd, out=s1)
            g = np.add(grad, s1, out=s1)
        if mu:
            v = state.get("velocity")
            if v is None:  # v = g at first
                v = state["velocity"] = g.copy()
            else:  # v = mu * v + g
                np.multiply(v, mu, out=v)
                np.add(v, g, out=v)
            if self.nesterov:  # g + mu * v
                np.multiply(v, mu, out=s2)
                g = np.add(g, s2, out=s2)
            else:
                g = v
        np.multiply(g, lr, out=s2)  # theta - lr * g
        np.subtract(theta, s2, out=theta)


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

    def update(self, theta: np.ndarray, grad: np.ndarray, lr: float, state: State) -> None:
        (b1, b2), eps, wd = self.betas, self.eps, self.weight_decay
        t = self.steps + 1
        step_size = lr / (1 - b1**t)
        root_bc2 = (1 - b2**t) ** 0.5  # ** 0.5, not sqrt: torch's exact arithmetic
        s1, s2 = self._buffers(theta.size, 2)
        g = grad
        if wd:  # g = grad + wd * theta
            np.multiply(theta, wd, out=s1)
            g = np.add(grad, s1, out=s1)
        if "m" not in state:
            state["m"], state["v"] = np.zeros_like(theta), np.zeros_like(theta)
        m, v = state["m"], state["v"]
        np.subtract(g, m, out=s2)  # m = m + (g - m) * (1 - b1): torch's lerp, in its order
        np.multiply(s2, 1 - b1, out=s2)
        np.add(m, s2, out=m)
        np.multiply(g, 1 - b2, out=s2)  # v = v * b2 + (1 - b2) * g * g
        np.multiply(s2, g, out=s2)
        np.multiply(v, b2, out=v)
        np.add(v, s2, out=v)
        np.sqrt(v, out=s2)  # theta - step_size * (m / (sqrt(v) / root_bc2 + eps))
        np.divide(s2, root_bc2, out=s2)
        np.add(s2, eps, out=s2)
        np.divide(m, s2, out=s2)
        np.multiply(s2, step_size, out=s2)
        np.subtract(theta, s2, out=theta)


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
