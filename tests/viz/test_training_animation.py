"""The training animation: a looping GIF of the output plane, one frame per snapshot (at most
``max_frames``), shown inline in a notebook, drawn without touching pyplot's state."""

from __future__ import annotations

import io
import os
import shutil

import pytest

import viz
from viz.animation import Animation, _pick

from .test_training_data import trained

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")


def gif_frames(data: bytes) -> list:
    im = Image.open(io.BytesIO(data))
    frames = []
    for k in range(im.n_frames):
        im.seek(k)
        frames.append(im.convert("RGB"))
    return frames


def test_one_frame_per_snapshot_looping(tmp_path):
    model, history, X, y = trained("moons", epochs=6)
    anim = viz.training_animation(model, history, X, y, tmp_path / "t.gif", resolution=30)
    assert isinstance(anim, Animation) and anim.format == "gif"
    assert anim.path == os.fspath(tmp_path / "t.gif") == os.fspath(anim)
    data = (tmp_path / "t.gif").read_bytes()
    assert data == anim.data and data.startswith(b"GIF89a")
    im = Image.open(io.BytesIO(data))
    assert im.n_frames == len(history.snapshots) == anim.frames
    assert im.info.get("loop") == 0
    frames = gif_frames(data)
    assert frames[0].tobytes() != frames[-1].tobytes()


def test_frames_are_thinned_evenly_keeping_the_first_and_last():
    model, history, X, y = trained("spirals", epochs=12)
    anim = viz.training_animation(model, history, X, y, max_frames=5, resolution=20)
    assert anim.frames == 5 and Image.open(io.BytesIO(anim.data)).n_frames == 5
    assert anim.path is None
    with pytest.raises(TypeError, match="was not written to a file"):
        os.fspath(anim)


@pytest.mark.parametrize(
    "n, most, picks",
    [(3, 50, [0, 1, 2]), (101, 5, [0, 25, 50, 75, 100]), (10, 2, [0, 9]), (1, 2, [0])],
)
def test_pick(n, most, picks):
    assert _pick(n, most) == picks


def test_it_shows_inline_in_a_notebook():
    model, history, X, y = trained("regression", epochs=3)
    anim = viz.training_animation(model, history, X, y, resolution=20)
    html = anim._repr_html_()
    assert html.startswith('<img src="data:image/gif;base64,')
    assert anim._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
    assert "gif, 4 frames" in repr(anim)


def test_pyplot_state_is_untouched():
    import matplotlib

    backend = matplotlib.get_backend()
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    model, history, X, y = trained("moons", epochs=2)
    viz.training_animation(model, history, X, y, resolution=20)
    assert plt.get_fignums() == before and matplotlib.get_backend() == backend


@pytest.mark.parametrize(
    "kind, kwargs, error",
    [
        ("wide", {}, "needs 2-D inputs to draw the output plane, got 5 features"),
        ("moons", {"path": "t.png"}, "path must end in .gif or .mp4, got 't.png'"),
        ("moons", {"max_frames": 1}, "max_frames must be an int >= 2, got 1"),
        ("moons", {"fps": 0}, "fps must be a number from 0.01 to 100 .frames a second., got 0"),
    ],
)
def test_bad_arguments_are_named(kind, kwargs, error):
    model, history, X, y = trained(kind, epochs=2)
    with pytest.raises(ValueError, match=error):
        viz.training_animation(model, history, X, y, **kwargs)


def test_mp4_without_ffmpeg_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    model, history, X, y = trained("moons", epochs=2)
    with pytest.raises(RuntimeError, match="needs a system ffmpeg on PATH; write a .gif"):
        viz.training_animation(model, history, X, y, tmp_path / "t.mp4")
    assert not (tmp_path / "t.mp4").exists()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no system ffmpeg")
def test_mp4_where_ffmpeg_is_present(tmp_path):
    model, history, X, y = trained("moons", epochs=4)
    anim = viz.training_animation(model, history, X, y, tmp_path / "t.mp4", resolution=20)
    assert anim.format == "mp4" and (tmp_path / "t.mp4").read_bytes()[4:8] == b"ftyp"
    assert anim._repr_html_().startswith('<video src="data:video/mp4;base64,')
