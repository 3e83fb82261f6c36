"""Properties over random architectures and inputs (hypothesis)."""

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from nn import MLP, cross_entropy
from nn.layers import ACTIVATIONS

finite = st.floats(-5, 5, allow_nan=False)
activations = st.sampled_from(list(ACTIVATIONS))


@st.composite
def mlps(draw):
    nin = draw(st.integers(1, 4))
    nouts = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    kwargs = dict(
        activation=draw(activations),
        output_activation=draw(activations),
        bias=draw(st.booleans()),
        init=draw(st.sampled_from(["uniform", "xavier", "he"])),
        leaky_slope=draw(st.floats(0.0, 0.5)),
    )
    mlp = MLP(nin, nouts, seed=draw(st.integers(0, 2**32)), **kwargs)
    for p in mlp.parameters():
        if p.label.endswith(".b"):
            p.data = draw(finite)
    x = draw(st.lists(finite, min_size=nin, max_size=nin))
    return mlp, kwargs, x


def outputs(mlp, x):
    out = mlp(x)
    return [v.data for v in out] if isinstance(out, list) else [out.data]


@settings(max_examples=30, deadline=None)
@given(mlps())
def test_save_load_round_trip(case):
    mlp, _, x = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.json"
        mlp.save(path)
        loaded = MLP.load(path)
    assert loaded.state_dict() == mlp.state_dict()
    assert outputs(loaded, x) == outputs(mlp, x)


@settings(max_examples=30, deadline=None)
@given(mlps())
def test_numpy_and_fused_forwards_agree(case):
    mlp, kwargs, x = case
    expected = outputs(mlp, x)
    np.testing.assert_allclose(mlp.predict_numpy([x])[0], expected, rtol=1e-12, atol=1e-12)
    fused = MLP(mlp.nin, mlp.nouts, fused=True, **kwargs)
    fused.load_state_dict(mlp.state_dict())
    np.testing.assert_allclose(outputs(fused, x), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(-500, 500), min_size=2, max_size=6),
    st.floats(-1000, 1000),
    st.data(),
)
def test_cross_entropy_is_shift_invariant_and_non_negative(logits, shift, data):
    target = data.draw(st.integers(0, len(logits) - 1))
    loss = cross_entropy([Value(z) for z in logits], target).data
    shifted = cross_entropy([Value(z + shift) for z in logits], target).data
    assert loss >= 0.0 and math.isfinite(loss)
    assert shifted == pytest.approx(loss, abs=1e-9 * max(1.0, abs(shift)))
