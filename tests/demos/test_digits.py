"""digits: an MLP trained on the tape learns scikit-learn's 8x8 digits (skipped without sklearn)."""

import pytest

pytest.importorskip("sklearn")

import digits  # noqa: E402


def test_digits_learns_on_the_tape(out, check_files, capsys):
    # A small budget (the demo's default reaches ~98% test accuracy in a few seconds).
    result = digits.main(["--out", str(out), "--epochs", "3", "--hidden", "16", "--limit", "400"])

    assert result["parameters"] == 64 * 16 + 16 + 16 * 10 + 10
    assert result["accuracy"] >= 0.7  # ten classes: chance is 0.1
    assert result["loss"][-1] < 0.5 * result["loss"][0]
    assert f"test accuracy {result['accuracy']:.1%}" in capsys.readouterr().out
    check_files(result["files"], out, ["digits_confusion.png", "digits_loss.png"])


def test_help_describes_the_demo(capsys):
    with pytest.raises(SystemExit) as e:
        digits.main(["--help"])
    assert e.value.code == 0
    assert "8x8 digits" in capsys.readouterr().out
