"""gradcheck and numerical_grad refuse steps and tolerances that make no sense (issue 12,
item 13): eps=0 would divide by zero, a nan tolerance would pass or fail everything."""

import math

import pytest

from autograd import gradcheck
from autograd.check import numerical_grad


def f(x):
    return x * x


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eps": 0}, "gradcheck: eps must be a finite number > 0, got 0"),
        ({"eps": 0.0}, "gradcheck: eps must be a finite number > 0, got 0.0"),
        ({"eps": -1e-6}, "gradcheck: eps must be a finite number > 0, got -1e-06"),
        ({"eps": math.nan}, "gradcheck: eps must be a finite number > 0, got nan"),
        ({"eps": math.inf}, "gradcheck: eps must be a finite number > 0, got inf"),
        ({"eps": "1e-6"}, "gradcheck: eps must be a finite number > 0, got '1e-6'"),
        ({"eps": True}, "gradcheck: eps must be a finite number > 0, got True"),
        ({"atol": -1.0}, "gradcheck: atol must be a finite number >= 0, got -1.0"),
        ({"atol": math.nan}, "gradcheck: atol must be a finite number >= 0, got nan"),
        ({"rtol": math.inf}, "gradcheck: rtol must be a finite number >= 0, got inf"),
    ],
)
def test_gradcheck_refuses_bad_steps_and_tolerances(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gradcheck(f, 1.5, **kwargs)


def test_numerical_grad_refuses_a_zero_step():
    with pytest.raises(ValueError, match="numerical_grad: eps must be a finite number > 0, got 0"):
        numerical_grad(f, 1.5, eps=0)


def test_zero_tolerances_are_allowed():
    assert gradcheck(lambda x: x * 3.0, 1.5, atol=1e-6, rtol=0)
    assert numerical_grad(f, 1.5, eps=1e-3) == pytest.approx([3.0])
