"""Optimizers and schedules: by hand, against torch.optim, and their bad inputs."""

import math

import numpy as np
import pytest

from autograd import Value
from nn import MLP, SGD, Adam, linear_decay, step_decay

START = [0.5, -1.5, 2.0, 0.0]
P = Value(1.0)


def grads_at(step, params):
    """A made-up gradient field that changes with the step and the parameters."""
    return [math.sin(p + step) + 0.1 * p * step for p in params]


def run_ours(make, steps=6):
    params = [Value(x) for x in START]
    opt = make(params)
    for k in range(steps):
        opt.zero_grad()
        assert all(p.grad == 0.0 for p in params)
        for p, g in zip(params, grads_at(k, [p.data for p in params])):
            p.grad = g
        opt.step()
    return [p.data for p in params]


def run_torch(make, steps=6, scheduler=None):
    torch = pytest.importorskip("torch")
    params = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    opt = make([params])
    sched = scheduler(opt) if scheduler else None
    for k in range(steps):
        opt.zero_grad()
        params.grad = torch.tensor(grads_at(k, params.detach().tolist()), dtype=torch.float64)
        opt.step()
        if sched:
            sched.step()
    return params.detach().tolist()


def test_sgd_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1)
    p.grad = 2.0
    opt.step()
    assert p.data == 1.0 - 0.1 * 2.0
    opt.zero_grad()
    assert p.grad == 0.0


def test_momentum_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.5, momentum=0.9)
    p.grad = 1.0
    opt.step()  # v = 1
    p.grad = 1.0
    opt.step()  # v = 0.9 + 1
    assert p.data == pytest.approx(1.0 - 0.5 * 1.0 - 0.5 * 1.9, abs=1e-15)


def test_adam_first_step_is_lr_times_sign():
    """After bias correction the first Adam step is lr * g / (|g| + eps)."""
    ps = [Value(1.0), Value(-1.0)]
    opt = Adam(ps, lr=0.01)
    ps[0].grad, ps[1].grad = 3.0, -0.5
    opt.step()
    assert ps[0].data == pytest.approx(1.0 - 0.01, abs=1e-9)
    assert ps[1].data == pytest.approx(-1.0 + 0.01, abs=1e-9)


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.8, weight_decay=0.01),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.2, weight_decay=0.1),
]
ADAM_CASES = [
    dict(lr=1e-3),
    dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.05, weight_decay=0.01),
]


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: SGD(ps, **kwargs))
    theirs = run_torch(lambda ps: torch.optim.SGD(ps, **kwargs))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: Adam(ps, **kwargs), steps=10)
    theirs = run_torch(lambda ps: torch.optim.Adam(ps, **kwargs), steps=10)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


@pytest.mark.torch
def test_step_decay_matches_torch_steplr():
    torch = pytest.importorskip("torch")
    ours = run_ours(lambda ps: SGD(ps, lr=0.3, momentum=0.5, schedule=step_decay(0.3, 0.5, 2)))
    theirs = run_torch(
        lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.5),
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    )
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


def test_linear_decay_is_micrograds_demo():
    schedule = linear_decay(1.0, 0.1, 100)
    assert [schedule(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert schedule(100) == schedule(500) == pytest.approx(0.1, abs=1e-15)


def test_schedule_sets_lr_before_each_step():
    p = Value(0.0)
    opt = SGD([p], lr=99.0, schedule=step_decay(1.0, 0.1, 2))
    seen = []
    for _ in range(5):
        p.grad = 1.0
        opt.step()
        seen.append(opt.lr)
    assert seen == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])
    assert opt.steps == 5
    assert p.data == pytest.approx(-(1 + 1 + 0.1 + 0.1 + 0.01))


def test_optimizer_takes_a_module():
    mlp = MLP(2, [3, 1], seed=0)
    opt = Adam(mlp)
    assert opt.params == mlp.parameters()


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: SGD([], lr=0.1), ValueError, "SGD: got an empty parameter list"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "parameters must be Values, got float"),
        (lambda: SGD([P, P], lr=0.1), ValueError, "a parameter appears more than once"),
        (lambda: SGD([P], lr=-1.0), ValueError, "SGD: lr must be a number >= 0, got -1.0"),
        (lambda: SGD([P], lr="fast"), ValueError, "lr must be a number"),
        (lambda: SGD([P], lr=0.1, momentum=-0.5), ValueError, "momentum must be a number >= 0"),
        (lambda: SGD([P], lr=0.1, nesterov=True), ValueError, "nesterov needs a momentum > 0"),
        (
            lambda: Adam([P], betas=(0.9, 1.0)),
            ValueError,
            r"betas\[1\] must be a number in \[0, 1\)",
        ),
        (lambda: Adam([P], betas=(0.9,)), ValueError, "betas must be a pair"),
        (lambda: Adam([P], eps=-1e-8), ValueError, "Adam: eps must be a number >= 0"),
        (lambda: Adam([P], weight_decay=-1), ValueError, "weight_decay must be a number >= 0"),
        (lambda: linear_decay(1.0, 0.1, 0), ValueError, "steps must be >= 1"),
        (lambda: step_decay(1.0, 0.5, 0), ValueError, "every must be >= 1"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ---- on arrays: the same numbers, the same state ----------------------------------------------


def run_arrays(make, steps=6, switch_at=None):
    """The same run as ``run_ours``, with the parameters in one array in a shuffled order
    (as a compiled program lays them out); from ``switch_at`` on, steps go through the Values."""
    params = [Value(x) for x in START]
    opt = make(params)
    order = [params[i] for i in (2, 0, 3, 1)]
    theta = np.array([p.data for p in order])
    for k in range(steps):
        if switch_at is not None and k >= switch_at:
            if k == switch_at:
                for p, x in zip(order, theta.tolist()):
                    p.data = x
            for p, g in zip(params, grads_at(k, [p.data for p in params])):
                p.grad = g
            opt.step()
            continue
        values = dict(zip(map(id, order), theta.tolist()))
        g = grads_at(k, [values[id(p)] for p in params])
        grad = np.array([g[params.index(p)] for p in order])
        opt.step_arrays(theta, grad, order)
    if switch_at is None or switch_at >= steps:
        for p, x in zip(order, theta.tolist()):
            p.data = x
    return [p.data for p in params]


ALL_CASES = [(SGD, kw) for kw in SGD_CASES] + [(Adam, kw) for kw in ADAM_CASES]
SCHEDULED = [
    (SGD, dict(lr=0.3, momentum=0.5, schedule=step_decay(0.3, 0.5, 2))),
    (Adam, dict(lr=0.1, schedule=linear_decay(0.1, 0.01, 5))),
]


@pytest.mark.parametrize("cls, kwargs", ALL_CASES + SCHEDULED, ids=str)
def test_array_steps_give_the_same_numbers_as_value_steps(cls, kwargs):
    expected = run_ours(lambda ps: cls(ps, **kwargs), steps=8)
    assert run_arrays(lambda ps: cls(ps, **kwargs), steps=8) == expected  # bit for bit
    for switch in (1, 4):  # momentum and moments carry over from arrays to Values
        assert run_arrays(lambda ps: cls(ps, **kwargs), steps=8, switch_at=switch) == expected


def test_step_arrays_updates_only_the_optimizers_own_parameters():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    opt = SGD([c, a], lr=0.5, momentum=0.9)
    theta, grad = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])
    opt.step_arrays(theta, grad, [a, b, c])
    assert theta.tolist() == [0.5, 2.0, 2.5]
    with pytest.raises(ValueError, match="not among"):
        opt.step_arrays(np.zeros(2), np.zeros(2), [a, b])


def test_optimizers_write_floats_after_backward_with_create_graph():
    for make in (lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps, lr=0.1)):
        p = Value(1.5)
        opt = make([p])
        (p * p * p).backward(create_graph=True)
        assert isinstance(p.grad, Value)
        opt.step()
        assert type(p.data) is float


@pytest.mark.parametrize(
    "schedule, match",
    [
        (lambda k: math.nan, r"schedule\(0\) returned nan"),
        (lambda k: -0.1, r"schedule\(0\) returned -0.1"),
        (lambda k: "fast", r"schedule\(0\) returned 'fast'"),
        (lambda k: math.inf, r"schedule\(0\) returned inf"),
    ],
    ids=["nan", "negative", "not a number", "inf"],
)
def test_a_bad_learning_rate_from_a_schedule_changes_nothing(schedule, match):
    for cls in (SGD, Adam):
        ps = [Value(1.0), Value(2.0)]
        opt = cls(ps, lr=0.1, schedule=schedule)
        for p in ps:
            p.grad = 1.0
        with pytest.raises(ValueError, match=match):
            opt.step()
        with pytest.raises(ValueError, match=match):
            opt.step_arrays(np.array([1.0, 2.0]), np.ones(2), ps)
        assert [p.data for p in ps] == [1.0, 2.0] and opt.steps == 0


def test_an_optimizer_step_is_all_or_nothing():
    ps = [Value(1.0), Value(2.0), Value(3.0)]
    opt = Adam(ps, lr=0.1)
    ps[0].grad, ps[1].grad, ps[2].grad = 1.0, 1.0, None  # the last one is broken
    with pytest.raises(TypeError, match=r"parameter 2 has a .grad that is not a number: None"):
        opt.step()
    assert [p.data for p in ps] == [1.0, 2.0, 3.0]
    assert opt.steps == 0 and opt.m == [0.0, 0.0, 0.0]


def test_adam_needs_a_positive_eps():
    with pytest.raises(ValueError, match="Adam: eps must be > 0"):
        Adam([P], eps=0)
    ps = [Value(1.0)]
    opt = Adam(ps, eps=1e-12)
    ps[0].grad = 0.0
    opt.step()  # a zero gradient at the first step: 0 / (0 + eps), not a ZeroDivisionError
    assert ps[0].data == 1.0


# ---- step_arrays: checked arguments, one storage order (#20.10, #21.5, #23.4) ------------------


def test_step_arrays_refuses_a_grad_of_the_wrong_shape():
    ps = [Value(0.1), Value(0.2), Value(0.3)]
    opt = SGD(ps, lr=1.0)
    theta = np.array([0.1, 0.2, 0.3])
    for bad in (np.array([1.0]), np.ones((3, 1)), np.ones(4), [1.0, 1.0, 1.0]):
        with pytest.raises(ValueError, match=r"SGD.step_arrays: grad must be a float64 array"):
            opt.step_arrays(theta, bad, ps)
    assert theta.tolist() == [0.1, 0.2, 0.3] and opt.steps == 0


def test_step_arrays_refuses_an_order_with_a_parameter_twice():
    a, b = Value(1.0), Value(2.0)
    opt = SGD([a, b], lr=0.5)
    with pytest.raises(ValueError, match=r"order holds a parameter twice \(positions 0 and 2"):
        opt.step_arrays(np.ones(3), np.ones(3), [a, b, a])


def test_step_arrays_sees_an_order_list_changed_in_place():
    """A layout cached on the list object would send the momentum to the wrong parameters."""
    a, b = Value(1.0), Value(2.0)
    opt, twin = SGD([a, b], lr=0.1, momentum=0.9), SGD([a, b], lr=0.1, momentum=0.9)
    order = [a, b]
    theta, grad = np.array([1.0, 2.0]), np.array([1.0, -1.0])
    opt.step_arrays(theta, grad, order)
    order.reverse()  # the same list, now [b, a]: the arrays follow it
    theta2, grad2 = theta[::-1].copy(), grad[::-1].copy()
    opt.step_arrays(theta2, grad2, order)
    expected = np.array([1.0, 2.0])
    twin.step_arrays(expected, np.array([1.0, -1.0]), [a, b])
    twin.step_arrays(expected, np.array([1.0, -1.0]), [a, b])
    assert theta2[::-1].tolist() == expected.tolist()


def test_the_state_keeps_one_storage_order_and_updates_in_place():
    ps = [Value(x) for x in (0.5, -1.0, 2.0)]
    opt = Adam(ps, lr=0.1)
    order = (ps[2], ps[0], ps[1])
    theta, grad = np.array([2.0, 0.5, -1.0]), np.array([0.3, -0.2, 0.1])
    opt.step_arrays(theta, grad, order)
    m, v = opt._state["m"], opt._state["v"]
    for _ in range(3):
        opt.step_arrays(theta, grad, order)
    assert opt._state["m"] is m and opt._state["v"] is v  # no copies, no translation per step
    assert opt.m == [m[1], m[2], m[0]]  # read in parameter order
    assert not hasattr(opt, "_state_in")
