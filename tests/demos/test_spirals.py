"""spirals: three classes learned well above chance, and the regions drawn."""

import pytest
import spirals


def test_spirals_learns_three_classes(out, check_files, capsys):
    result = spirals.main(["--out", str(out), "--points", "60", "--epochs", "20"])

    assert result["accuracy"] >= 0.8  # chance is 1/3
    assert result["loss"][-1] < 0.5 * result["loss"][0]
    assert "(chance: 33%)" in capsys.readouterr().out
    check_files(
        result["files"],
        out,
        [
            "spirals_regions.png",
            "spirals_loss.png",
            "spirals_training.html",
            "spirals_training.gif",
        ],
    )
    assert len(result["history"].snapshots) == 21
    assert "class 2</text>" in (out / "spirals_training.html").read_text(encoding="utf-8")


def test_fast_trains_on_the_tape_to_the_same_numbers(out):
    args = ["--out", str(out), "--points", "30", "--epochs", "3", "--batch-size", "10"]
    fast = spirals.main([*args, "--fast"])
    eager = spirals.main(args)
    assert (fast["engine"], eager["engine"]) == ("tape", "eager")
    assert fast["loss"] == pytest.approx(eager["loss"], rel=0, abs=1e-9)
    assert fast["accuracy"] == eager["accuracy"]
