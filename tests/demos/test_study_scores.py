"""study_scores: the regression fits the three students and scores a new one sensibly."""

import pytest
import study_scores


def test_fits_the_scores_and_predicts_a_new_student(out, check_files, capsys):
    result = study_scores.main(["--out", str(out)])

    assert result["targets"] == [92.0, 86.0, 89.0]
    assert result["fitted"] == pytest.approx(result["targets"], abs=2.0)
    assert result["loss_last"] < 1e-3 < 0.1 < result["loss_first"]
    # More study and a good night: a high score, inside what a sigmoid can say.
    assert 85.0 < result["prediction"] < 100.0
    printed = capsys.readouterr().out
    assert f"predicted score {result['prediction']:.1f}" in printed
    check_files(result["files"], out, ["study_scores_loss.png"])


def test_the_new_student_is_scaled_as_the_training_data(out):
    # A new student equal to a training row gets that row's fitted score.
    result = study_scores.main(["--out", str(out), "--studied", "3", "--slept", "6"])
    assert result["prediction"] == pytest.approx(result["fitted"][2], abs=1e-9)
