"""digits_conv: a conv net of neurons trained on the tape (skipped without scikit-learn)."""

import pytest

pytest.importorskip("sklearn")

import digits_conv  # noqa: E402

from nn import Conv2d, Sequential  # noqa: E402

PICTURES = [
    "digits_conv_filters.png",
    "digits_conv_maps.png",
    "digits_conv_confusion.png",
    "digits_conv_pool.svg",
    "digits_conv_pool.png",
    "digits_conv_neuron.png",
]


def test_quick_run_trains_and_draws_everything(out, check_files, capsys):
    result = digits_conv.main(["--out", str(out), "--quick"])

    model = result["model"]
    assert isinstance(model, Sequential) and isinstance(model.layers[0], Conv2d)
    assert result["parameters"] == 8 * 10 + 32 * 73 + 128 * 64 + 64 + 64 * 10 + 10
    assert result["loss"][-1] < result["loss"][0]
    assert result["accuracy"] >= 0.3  # two short epochs on 192 images; chance is 0.1
    printed = capsys.readouterr().out
    assert f"test accuracy {result['accuracy']:.1%}" in printed
    assert f"(the MLP of demos/digits.py: {result['mlp_accuracy']:.1%})" in printed
    check_files(result["files"], out, PICTURES)
    svg = (out / "digits_conv_pool.svg").read_text()
    # collapsed: one box per neuron per position, four of them under the max
    assert svg.count("Neuron layers.0.neurons.") == 4 and ">max<" in svg


def test_the_network_reads_8x8_digits():
    model = digits_conv.build(seed=0)
    scores = model(digits_conv.as_image([0.5] * 64))
    assert len(scores) == 10


def test_help_describes_the_demo(capsys):
    with pytest.raises(SystemExit) as e:
        digits_conv.main(["--help"])
    assert e.value.code == 0
    assert "one neuron slid across the image" in capsys.readouterr().out
