"""A traced program as a torch.nn.Module (#24.3): parity with the eager engine in float64 on
random programs over every op, on the demos' MLP and on the digits CNN; float32; gradients
from torch's autograd; parameters written back to the Values."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from autograd import Value, trace
from autograd.backward import gradients
from autograd.tape import BatchTape
from nn import MLP, hinge

from .programs import random_program

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

F64 = torch.float64


def near(xs, ys, rel=1e-12, abs=1e-12):
    return xs == pytest.approx(ys, rel=rel, abs=abs)


def samples_near(rng, xs, n):
    """``n`` points near ``xs``: random programs stay in their ops' domains close to where they
    were generated."""
    return [[x + rng.uniform(-1e-3, 1e-3) for x in xs] for _ in range(n)]


@pytest.mark.parametrize("seed", range(40))
def test_random_programs_match_eager_values_and_gradients(seed):
    rng = random.Random(seed)
    program, xs = random_program(rng, 4, 20, stop_gradient=True)
    weight = Value(xs[0], label="w")  # the first input as a parameter, read through a closure

    def fn(b, c, d):
        return program.run_values(weight, b, c, d)

    tape = trace(fn, *xs[1:])
    module = tape.to_torch()
    batch = samples_near(rng, xs[1:], 5)
    args = [torch.tensor(col, dtype=F64, requires_grad=True) for col in zip(*batch)]
    out = module(*args)
    assert out.shape == (5,)
    eager_w, eager_args = 0.0, []
    for sample in batch:
        inputs = [Value(x) for x in sample]
        root = fn(*inputs)
        assert near(out[len(eager_args)].item(), root.data)
        grads = gradients(root)
        eager_w += grads.get(weight, 0.0)
        eager_args.append([grads.get(v, 0.0) for v in inputs])
    out.sum().backward()
    assert module.values == [weight] or module.values == []
    if module.values:
        assert near(module.theta.grad.item(), eager_w, rel=1e-10)
    for k, arg in enumerate(args):
        expected = [row[k] for row in eager_args]
        got = [0.0] * 5 if arg.grad is None else arg.grad.tolist()
        assert near(got, expected, rel=1e-10)


def test_the_moons_mlp_matches_eager_and_trains_in_torch():
    mlp = MLP(2, [16, 16, 1], activation="relu", seed=0)
    module = trace(mlp, [0.1, -0.2]).to_torch()
    assert len(module.values) == len(mlp.parameters()) == 337
    rng = random.Random(0)
    xs = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(16)]
    out = module(torch.tensor(xs, dtype=F64))
    assert out.shape == (16,)
    assert near(out.tolist(), [mlp(x).data for x in xs])
    ys = [1.0 if x[0] * x[1] > 0 else -1.0 for x in xs]
    # the same hinge loss in both engines: gradients to 1e-12
    loss = torch.relu(1 - torch.tensor(ys, dtype=F64) * out).mean()
    loss.backward()
    mlp.zero_grad()
    hinge([mlp(x) for x in xs], ys).backward()
    assert near(module.theta.grad.tolist(), [p.grad for p in module.values], rel=1e-10)


def test_batch_tape_exports_the_model_and_parameters_round_trip():
    mlp = MLP(2, [8, 1], activation="tanh", seed=1)
    xs = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.2]]
    ys = [1.0, -1.0, 1.0]
    tape = BatchTape(mlp, hinge, own_parameters=True)
    tape(xs, ys)
    tape.theta -= 0.1  # trained numbers not yet in the Values: to_torch syncs them first
    module = tape.to_torch()
    assert near(module(torch.tensor(xs, dtype=F64)).tolist(), [mlp(x).data for x in xs])
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        torch.relu(
            1 - torch.tensor(ys, dtype=F64) * module(torch.tensor(xs, dtype=F64))
        ).mean().backward()
        optimizer.step()
    trained = module(torch.tensor(xs, dtype=F64)).tolist()
    assert not near(trained, [mlp(x).data for x in xs])
    module.sync()  # torch's numbers into the Values: eager, viz, the tape see the trained model
    assert [p.data for p in module.values] == module.theta.tolist()
    assert set(module.values) == set(mlp.parameters())
    assert near([mlp(x).data for x in xs], trained)
    tape.load()
    assert near(tape.predict(xs), trained)
    for p in mlp.parameters():
        p.data = 0.25
    module.load()
    assert module.theta.tolist() == [0.25] * len(module.values)


def test_float32_runs_close_to_float64():
    mlp = MLP(3, [16, 16, 2], activation="tanh", seed=2)
    module = trace(mlp, [0.0, 0.0, 0.0]).to_torch()
    x = torch.rand(64, 3, dtype=F64)
    expected = module(x)
    assert expected.shape == (64, 2)
    module32 = module.to(torch.float32)
    got = module32(x.float())
    assert got.dtype == torch.float32 and module32.theta.dtype == torch.float32
    assert torch.allclose(got.double(), expected, rtol=1e-5, atol=1e-5)
    got.sum().backward()
    assert module32.theta.grad.dtype == torch.float32


def test_the_digits_cnn_matches_eager():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demos"))
    import digits_conv

    model = digits_conv.build(seed=0)
    rng = random.Random(1)
    images = [digits_conv.as_image([rng.uniform(0, 16) for _ in range(64)]) for _ in range(3)]
    module = trace(model, images[0]).to_torch()
    assert len(module.values) == len(model.parameters())
    out = module(torch.tensor(images, dtype=F64))
    assert out.shape == (3, 10)
    for row, image in zip(out.tolist(), images):
        assert near(row, [v.data for v in model(image)])
    out[:, 3].sum().backward()
    model.zero_grad()
    for image in images:
        model(image)[3].backward()
    assert near(module.theta.grad.tolist(), [p.grad for p in module.values], rel=1e-10)


def test_shapes_literals_and_constant_rows():
    w = Value(2.0)

    def fn(xs, y):
        c = Value(3.0).exp()  # a row over literals only: the same for every sample
        return [[xs[0] * w + c, xs[1] * y], [y.stop_gradient() * w, c]]

    module = trace(fn, [1.0, 2.0], 0.5).to_torch()
    xs = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=F64, requires_grad=True)
    y = torch.tensor([0.5, -1.0], dtype=F64, requires_grad=True)
    out = module(xs, y)
    assert out.shape == (2, 2, 2)
    e3 = Value(3.0).exp().data
    assert out[1].tolist() == [[3.0 * 2 + e3, -4.0], [-2.0, e3]]
    out[:, 1, 0].sum().backward()  # y.stop_gradient() * w: no gradient to y
    assert y.grad is None or y.grad.tolist() == [0.0, 0.0]
    assert module.theta.grad.tolist() == [-0.5]


def test_clear_errors():
    def branchy(x):
        return x * 2 if x > 0 else -x

    with pytest.raises(ValueError, match="to_torch: the traced function compared Values 1"):
        trace(branchy, 1.0).to_torch()
    module = trace(lambda a, b: a * b, 1.0, 2.0).to_torch()
    with pytest.raises(TypeError, match="TracedModule: expected 2 arguments, as traced, got 1"):
        module(torch.ones(3))
    with pytest.raises(ValueError, match=r"argument 0 has shape \(3, 2\); expected the batch"):
        module(torch.ones(3, 2), torch.ones(3))
    with pytest.raises(ValueError, match=r"argument 1 has shape \(2,\); expected the batch \(3\)"):
        module(torch.ones(3), torch.ones(2))
    with pytest.raises(RuntimeError, match="BatchTape: call it on a batch first"):
        BatchTape(MLP(2, [1]), hinge).to_torch()


def test_the_outgrowing_page_runs_and_prints_what_it_says(tmp_path, monkeypatch):
    import re

    from ..test_docs import run_block

    page = Path(__file__).resolve().parents[2] / "docs" / "outgrowing.md"
    blocks = re.findall(r"```py\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    runnable = [b for b in blocks if not b.startswith("# from ")]
    assert len(runnable) >= 4
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs_outgrowing__"}
    for index, code in enumerate(runnable):
        run_block(code, f"outgrowing.md py block {index}", namespace)


def test_constants_of_the_program_survive_a_trip_through_float32():
    module = trace(lambda x: (x * 0.1 + 0.3).leaky_relu(0.01), 1.0).to_torch()
    module.float()
    assert module(torch.tensor([2.0, -2.0])).dtype == torch.float32
    module.double()  # no parameters to round: the numbers are exactly eager's again
    x = torch.tensor([2.0, -2.0], dtype=F64)
    assert module(x).tolist() == [(Value(v) * 0.1 + 0.3).leaky_relu(0.01).data for v in (2.0, -2.0)]


def test_the_readme_section_runs():
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Outgrowing the scalar engine", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```py\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    exec(compile(code, "README.md, Outgrowing the scalar engine", "exec"), namespace)
    assert namespace["out"].shape == (100,)
    assert "trace(" in code and ".to_torch()" in code
