"""moons: micrograd's demo reaches high accuracy; --fast uses the tape or says why it cannot."""

import moons
import pytest


def test_moons_separates_the_classes(out, check_files, capsys):
    # A smaller budget than the demo's 100 steps on 100 points: 60 points, 20 steps.
    result = moons.main(["--out", str(out), "--points", "60", "--steps", "20", "--seed", "0"])

    assert result["accuracy"] >= 0.95
    assert len(result["loss"]) == 20
    assert result["loss"][-1] < 0.25 * result["loss"][0]
    assert f"training accuracy {result['accuracy']:.0%}" in capsys.readouterr().out
    check_files(
        result["files"],
        out,
        ["moons_boundary.png", "moons_loss.png", "moons_training.html", "moons_training.gif"],
    )
    snaps = result["history"].snapshots
    assert [s.epoch for s in snaps] == list(range(21))  # before training and after every step
    page = (out / "moons_training.html").read_text(encoding="utf-8")
    assert page.count('<path class="edge"') == 2 * 16 + 16 * 16 + 16


def test_record_thins_the_snapshots(out):
    result = moons.main(["--out", str(out), "--points", "20", "--steps", "7", "--record", "3"])
    assert [s.epoch for s in result["history"].snapshots] == [0, 3, 6, 7]


def test_fast_trains_on_the_tape_to_the_same_numbers(out):
    args = ["--out", str(out), "--points", "30", "--steps", "5"]
    fast = moons.main([*args, "--fast"])
    eager = moons.main(args)
    assert fast["loss"] == pytest.approx(eager["loss"], rel=0, abs=1e-9)
    assert fast["accuracy"] == eager["accuracy"]


def test_fast_runs_the_full_demo_to_100_percent(out, capsys):
    result = moons.main(["--out", str(out), "--fast"])
    assert result["accuracy"] == 1.0
    assert "100 steps (tape, " in capsys.readouterr().out


def test_bad_steps_are_refused(capsys):
    with pytest.raises(SystemExit) as e:
        moons.main(["--steps", "0"])
    assert e.value.code == 2
    assert "--steps: must be >= 1, got 0" in capsys.readouterr().err
