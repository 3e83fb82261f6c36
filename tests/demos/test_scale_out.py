"""scale_out: a traced program exported to torch and trained on 2 processes with DDP (#24.4)."""

import pytest
import scale_out


@pytest.mark.torch
@pytest.mark.slow
def test_two_processes_give_the_loss_curve_of_one(out, check_files, capsys):
    pytest.importorskip("torch")
    result = scale_out.main(["--out", str(out), "--epochs", "4", "--points", "64", "--check"])

    assert len(result["loss"]) == 4 and result["loss"][-1] < result["loss"][0]
    assert result["loss"] == pytest.approx(result["single_loss"], rel=1e-12, abs=1e-12)
    assert result["gap"] < 1e-12
    printed = capsys.readouterr().out
    assert "trained 4 epochs on 2 processes" in printed
    assert f"accuracy {result['accuracy']:.0%}; one process: the same losses" in printed
    check_files(result["files"], out, ["scale_out_loss.png", "scale_out_boundary.png"])
    # the trained numbers are back in the Values: our engine's prediction is the module's
    mlp = result["model"]
    assert (
        result["accuracy"]
        == sum(
            (mlp(x).data > 0) == (t > 0)
            for x, t in zip(*scale_out.datasets.moons(64, seed=0, signed=True))
        )
        / 64
    )


def test_help_is_the_docstring_and_needs_no_torch(capsys):
    with pytest.raises(SystemExit) as e:
        scale_out.main(["--help"])
    assert e.value.code == 0
    assert "trained on 2 processes" in capsys.readouterr().out


def test_the_batch_must_split_evenly(capsys):
    with pytest.raises(SystemExit):
        scale_out.main(["--batch", "33", "--processes", "2"])
    assert "--batch 33 must be a multiple of --processes 2" in capsys.readouterr().err


def test_the_tour_leaves_it_out_but_says_how_to_run_it(out, monkeypatch, capsys):
    import neuron
    import run_all

    assert scale_out not in [demo for demo, _ in run_all.TOUR]
    monkeypatch.setattr(run_all, "TOUR", [(neuron, [])])
    run_all.main(["--out", str(out)])
    assert (
        "trained on 2 processes: python demos/scale_out.py (needs torch)" in capsys.readouterr().out
    )
