"""Demos on a console that cannot show ∂ (Windows' cp1252): ASCII instead of UnicodeEncodeError."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DEMOS = Path(__file__).resolve().parents[2] / "demos"


def _run(args, cwd):
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    env.pop("PYTHONUTF8", None)
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode("cp1252", "replace")
    return done.stdout.decode("cp1252")


def test_the_neuron_demo_prints_backward_in_ascii_under_cp1252(tmp_path):
    out = _run([str(DEMOS / "neuron.py"), "--out", "o"], tmp_path)
    assert "backward from o (seed o.grad = 1.0)" in out
    header = out.splitlines()[1].split()
    assert header == ["step", "node", "op", "input", "dnode/dinput", "node.grad", "added",
                      "input.grad"]  # fmt: skip
    assert "neuron: o = tanh(x1*w1 + x2*w2 + b) = 0.7071" in out
    assert (tmp_path / "o" / "neuron_backprop.html").stat().st_size > 0


@pytest.mark.slow  # about 15 s: five demos in a fresh process
def test_the_tour_runs_under_cp1252(tmp_path):
    # The tour with tiny settings (as tests/demos/test_run_all.py runs it), in a cp1252 process.
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(DEMOS)!r})
        import moons, neuron, run_all, spirals, study_scores, tutorial_xor
        run_all.TOUR = [
            (tutorial_xor, ["--iterations", "5"]),
            (study_scores, ["--epochs", "5"]),
            (neuron, []),
            (moons, ["--steps", "1", "--points", "10"]),
            (spirals, ["--epochs", "1", "--points", "15"]),
        ]
        run_all.main(["--out", "o"])
        """
    )
    out = _run(["-c", script], tmp_path)
    assert "dnode/dinput" in out and "== written to o/" in out and "5 demos in " in out
