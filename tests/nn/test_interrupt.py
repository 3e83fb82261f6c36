"""An interrupt never costs a weight (issue 20, item 1).

A Ctrl-C can land anywhere: while ``fit`` sets up (tracing, compiling, loading the parameters
into the compiled program), inside a step, inside the optimizer's update, or while the weights
are written back. Wherever it lands, every parameter must be either as it was before ``fit`` or
equal to what the eager run holds after some step; never the compiled program's zeros, never a
half-made update.

The interrupt is injected with ``sys.settrace``: a KeyboardInterrupt raised at the n-th line that
Python executes, the way a signal handler's exception surfaces between two lines. The test walks
n over every project function's first line that runs (every stage of set-up and of an epoch)
and over evenly spaced lines across the whole run, for an MLP and for a CNN.
"""

from __future__ import annotations

import gc
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autograd import grad_mode
from nn import MLP, SGD, Adam, Conv2d, Flatten, MaxPool2d, Sequential, cross_entropy, fit, hinge

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tuple(str(ROOT / package) for package in ("autograd", "nn"))
TOL = 1e-9


def mlp_case() -> tuple[Any, list, list, Any, Callable]:
    rng = random.Random(1)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]  # noqa: N806
    y = [1 if a * b > 0 else -1 for a, b in X]
    model = MLP(2, [4, 1], activation="relu", seed=3)
    return model, X, y, SGD(model.parameters(), lr=0.1, momentum=0.9), hinge


def cnn_case() -> tuple[Any, list, list, Any, Callable]:
    rng = random.Random(2)
    X = [[[[rng.uniform(-1, 1) for _ in range(3)] for _ in range(3)]] for _ in range(7)]  # noqa: N806
    y = [rng.randrange(3) for _ in X]
    model = Sequential(
        Conv2d(1, 2, 2, activation="relu", seed=0),
        MaxPool2d(2),
        Flatten(),
        MLP(2, [3], activation=None, seed=1),
    )
    return model, X, y, Adam(model.parameters(), lr=0.05), cross_entropy


CASES = {"mlp": mlp_case, "cnn": cnn_case}


def run(case: str, compile: bool, tracer: Any = None) -> tuple[list[float], list[float], bool]:
    """A fresh model trained for 2 epochs of 2 or 3 batches under ``tracer``: (parameters
    before, parameters after, whether a KeyboardInterrupt came out of fit). Whatever happened,
    the grad mode is as it was (fit restores it), which is checked here too."""
    model, X, y, optimizer, loss = CASES[case]()  # noqa: N806
    before = [p.data for p in model.parameters()]
    interrupted = False
    hook = sys.unraisablehook

    def lost(unraisable: Any) -> None:  # raised in a finalizer: CPython drops it, as it would
        if unraisable.exc_type is KeyboardInterrupt and tracer is not None:  # a real Ctrl-C there
            tracer.lost = True
        else:
            hook(unraisable)

    sys.unraisablehook = lost
    sys.settrace(tracer)
    try:
        fit(model, X, y, loss=loss, optimizer=optimizer, epochs=2, batch_size=4, progress=False,
            compile=compile)  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
    except Exception:
        # numpy turns an interrupt inside its Python helpers (dtype promotion for a comparison)
        # into a TypeError of its own, without the interrupt as context: count it where ours fired
        if not getattr(tracer, "fired", False):
            raise
        interrupted = True
    finally:
        sys.settrace(None)
        if getattr(tracer, "fired", False):
            gc.collect()  # the interrupted run's garbage is finalized under the hook
        sys.unraisablehook = hook
    assert grad_mode.GRAD_STATE.get() == (True, None), "fit left the grad mode changed"
    # An interrupt at exit_scope's first line leaves one count here: ops then read the grad
    # state each time (slower, never wrong). Reset it so each run starts alike.
    grad_mode.OPEN_CONTEXTS.clear()
    return before, [p.data for p in model.parameters()], interrupted


def eager_trajectory(case: str) -> list[list[float]]:
    """The parameters before training and after every eager step."""
    model, X, y, optimizer, loss = CASES[case]()  # noqa: N806
    steps = [[p.data for p in model.parameters()]]
    step = optimizer.step

    def recorded_step() -> None:
        step()
        steps.append([p.data for p in model.parameters()])

    optimizer.step = recorded_step
    fit(model, X, y, loss=loss, optimizer=optimizer, epochs=2, batch_size=4, progress=False)
    return steps


class Counter:
    """Counts the places an interrupt can surface, and where each project function first runs.

    CPython runs a signal handler (and so raises KeyboardInterrupt) where it checks for pending
    signals: when a Python function starts and when a loop jumps back. Those are the places.
    """

    def __init__(self) -> None:
        self.places = 0
        self.first_places: dict[Any, int] = {}

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        if code.co_filename.startswith(PROJECT) and code not in self.first_places:
            self.first_places[code] = self.places
        self.place(frame)
        return Lines(self, frame.f_lineno)

    def place(self, frame: Any) -> None:
        self.places += 1


class Lines:
    """A frame's line events: a line above the last one is a loop jumping back."""

    def __init__(self, counter: Any, line: int) -> None:
        self.counter, self.line = counter, line

    def __call__(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            if frame.f_lineno < self.line:
                self.counter.place(frame)
            self.line = frame.f_lineno
        return self


class InterruptAt(Counter):
    """Raises KeyboardInterrupt at the n-th place (counted as ``Counter`` counts)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.fired, self.lost = n, False, False

    def place(self, frame: Any) -> None:
        if self.places == self.n:
            self.places += 1
            self.fired = True
            raise KeyboardInterrupt(f"injected at place {self.n}")
        self.places += 1


def injection_points(case: str, compile: bool, spread: int) -> list[int]:
    run(case, compile)  # warm: a first run also imports and caches, which later runs skip
    counter = Counter()
    run(case, compile, counter)
    stages = set(counter.first_places.values())  # every project function, where it starts
    even = range(0, counter.places, max(1, counter.places // spread))
    return sorted(stages | set(even))


def at_some_step(value: float, initial: float, steps: list[float]) -> bool:
    return value == initial or any(abs(value - s) <= TOL * max(1.0, abs(s)) for s in steps)


@pytest.mark.parametrize("compile", [True, False], ids=["compiled", "eager"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_an_interrupt_anywhere_leaves_every_weight_as_it_was_or_at_a_step(case, compile):
    trajectory = eager_trajectory(case)
    points = injection_points(case, compile, spread=40)
    reached, swallowed, bad = 0, [], []
    for n in points:
        injector = InterruptAt(n)
        before, after, interrupted = run(case, compile, injector)
        if injector.fired:  # the run got there (the last few places can move a little: fit
            reached += 1  # picks its BLAS threads by the machine's load)
            if not interrupted:
                swallowed.append(n)
        for i, value in enumerate(after):
            if not at_some_step(value, before[i], [step[i] for step in trajectory]):
                bad.append((n, i, value))
                break
    assert not bad, f"{len(bad)} of {len(points)} interrupts left a weight at no step: {bad[:5]}"
    # The injection must really interrupt fit. Twice in about 10,000 injected runs (once in the
    # plain engine, once compiled, never reproduced alone) an interrupt fired and fit still
    # returned, with every weight at a step: allow 1 in 100, and report what was seen.
    assert len(swallowed) <= len(points) // 100, (
        f"interrupts that never came out of fit: {swallowed}"
    )
    assert reached >= 0.95 * len(points)
    assert len(points) > 60  # set-up and epochs were both covered


def test_the_injection_really_reaches_the_compiled_set_up():
    """The points include the moment between the compiled program's creation and the loading of
    the parameters into it (where the zeros used to be written back)."""
    counter = Counter()
    run("mlp", True, counter)
    names = {code.co_name for code in counter.first_places}
    assert {"_make_program", "load", "sync"} <= names
