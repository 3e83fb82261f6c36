"""A network's output plane over training as an animated GIF (or an MP4 where ffmpeg is).

Each frame is one recorded snapshot: the output over the input plane in the training page's
colours, the decision boundary, the data (misclassified points ringed), and the epoch, loss and
accuracy in the title. Drawn with matplotlib's object API (a ``Figure`` on an Agg canvas, never
pyplot) and assembled with Pillow, which matplotlib already depends on.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .page import Saveable
from .training_data import Frames, class_colour, compute_frames, plane_colours

_MIME = {"gif": "image/gif", "mp4": "video/mp4"}
# Where the plane sits in each frame (figure fractions: left, bottom, width, height), with room
# on every side for the axis labels and the outermost tick labels.
AXES = (0.17, 0.13, 0.76, 0.77)


class Animation(Saveable):
    """An animation's bytes (``.data``, ``.format`` "gif" or "mp4") that a notebook shows
    inline; ``.path`` is where it was written, if anywhere; ``os.fspath`` gives that path."""

    def __init__(self, data: bytes, format: str, poster: bytes, frames: int) -> None:
        self.data, self.format, self.poster, self.frames = data, format, poster, frames

    def _encode(self, path: str) -> bytes:
        return self.data

    def _repr_html_(self) -> str:
        src = f"data:{_MIME[self.format]};base64,{base64.b64encode(self.data).decode('ascii')}"
        if self.format == "mp4":
            return f'<video src="{src}" controls autoplay loop muted playsinline></video>'
        return f'<img src="{src}" alt="training animation, {self.frames} frames">'

    def _repr_png_(self) -> bytes:
        """The last frame, for front ends that show no HTML."""
        return self.poster

    def __repr__(self) -> str:
        where = f" at {self.path!r}" if self.path else " (not saved)"
        return f"<Animation {self.format}, {self.frames} frames, {len(self.data):,} bytes{where}>"


def training_animation(
    model: Any,
    history: Any,
    X: Any,  # noqa: N803 - the data matrix, as in the math
    y: Any,
    path: str | os.PathLike[str] | None = None,
    fps: float = 12.0,
    max_frames: int = 50,
    size: tuple[float, float] = (4.4, 4.0),
    dpi: int = 90,
    resolution: int = 100,
    threshold: float | None = None,
    hold: float = 1.5,
) -> Animation:
    """The output plane and the data at each snapshot of ``fit(..., record=k)``, animated.

    The format follows ``path``'s extension: ``.gif`` (Pillow) or ``.mp4`` (needs a system
    ``ffmpeg``); with no path, a GIF in memory. At most ``max_frames`` snapshots are drawn,
    evenly spaced, always the first and the last; the last is held ``hold`` seconds. Inputs
    must be 2-D. Returns an :class:`Animation` that shows inline in a notebook.
    """
    who = "training_animation"
    fmt = "gif" if path is None else Path(path).suffix.lower().lstrip(".")
    if fmt not in _MIME:
        raise ValueError(f"{who}: path must end in .gif or .mp4, got {os.fspath(path)!r}")
    if fmt == "mp4" and shutil.which("ffmpeg") is None:
        raise RuntimeError(f"{who}: writing .mp4 needs a system ffmpeg on PATH; write a .gif")
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 2:
        raise ValueError(f"{who}: max_frames must be an int >= 2, got {max_frames!r}")
    # A GIF counts frame delays in hundredths of a second, up to 655 s; browsers draw frames
    # shorter than 20 ms at 100 ms. 0.01 to 100 frames a second covers every honest use.
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0.01 <= fps <= 100:
        raise ValueError(
            f"{who}: fps must be a number from 0.01 to 100 (frames a second), got {fps!r}"
        )
    count = len(getattr(history, "snapshots", None) or [])
    picks = _pick(count, max_frames) if count else None
    # Only the frames drawn are computed (the outputs on X are read at every snapshot).
    frames = compute_frames(model, history, X, y, resolution, None, threshold, who, picks)
    if frames.plane is None:
        raise ValueError(
            f"{who}: needs 2-D inputs to draw the output plane, got {frames.X.shape[1]} features; "
            "viz.training_html shows the other pictures"
        )
    images = _draw(frames, list(range(len(frames.snapshots))), size, dpi)
    poster = io.BytesIO()
    images[-1].save(poster, format="png")
    if fmt == "gif":
        keep = (
            []
            if frames.reading.truth is None
            else [class_colour(frames.reading, k) for k in range(frames.reading.n_classes)]
        )
        data = _gif(images, fps, hold, keep)
    else:
        data = _mp4(images, fps, hold)
    out = Animation(data, fmt, poster.getvalue(), len(images))
    if path is not None:
        out.save(path, who)
    return out


def _pick(n: int, most: int) -> list[int]:
    """At most ``most`` of n indices, evenly spaced, first and last included."""
    if n <= most:
        return list(range(n))
    return sorted({int(round(i)) for i in np.linspace(0, n - 1, most)})


def _draw(frames: Frames, picks: list[int], size: tuple[float, float], dpi: int) -> list[Any]:
    """One RGB Pillow image per picked snapshot; the figure is made once and updated."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    plane, reading = frames.plane, frames.reading
    table = plane_colours(reading)
    n = plane.resolution
    extent = (plane.lo[0], plane.hi[0], plane.lo[1], plane.hi[1])
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    left_out = frames.left_out()  # said under the title, which then takes two lines
    left, bottom, width, height = AXES
    ax = fig.add_axes((left, bottom, width, height - (0.07 if left_out else 0.0)))
    image = ax.imshow(
        table[frames.plane_shade[0]].reshape(n, n, 3),
        extent=extent,
        interpolation="bilinear",
        aspect="auto",
    )
    if reading.truth is not None:
        colours = [class_colour(reading, int(k)) for k in reading.truth]
    else:
        target = np.nan_to_num(
            frames.y.reshape(-1), nan=reading.lo, posinf=reading.hi, neginf=reading.lo
        )
        idx = np.clip(np.round((target - reading.lo) / (reading.hi - reading.lo) * 255), 0, 255)
        colours = [table[int(k)] / 255.0 for k in idx]
    drawn = frames.drawn  # finite rows (and targets) only; the title says what is left out
    dots = ax.scatter(
        frames.X[drawn, 0],
        frames.X[drawn, 1],
        s=30,
        c=[c for c, ok in zip(colours, drawn) if ok],
        edgecolors="white",
        linewidths=0.9,
        zorder=3,
    )
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="x0", ylabel="x1")
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9, colors="#475569")
    # Above the plane, from the figure's left edge: "epoch 100 · loss after it 0.01765 ·
    # accuracy 100%" fits the frame's width (the test checks no text reaches an edge).
    title = fig.text(0.03, 0.975, "", ha="left", va="top", fontsize=10, color="#0f172a")
    lines: list[Any] = []
    width, height = plane.hi[0] - plane.lo[0], plane.hi[1] - plane.lo[1]
    out = []
    for s in picks:
        image.set_data(table[frames.plane_shade[s]].reshape(n, n, 3))
        for line in lines:
            line.remove()
        lines = [
            ax.plot(
                plane.lo[0] + p[:, 0] * width,
                plane.hi[1] - p[:, 1] * height,
                color="#111827",
                lw=2.0,
                zorder=2,
            )[0]
            for p in frames.boundaries[s]
        ]
        wrong = np.zeros(len(frames.X), bool)
        wrong[frames.wrong[s]] = True
        wrong = wrong[drawn]
        dots.set_edgecolors(np.where(wrong[:, None], [[0.07, 0.09, 0.15, 1]], [[1, 1, 1, 1]]))
        dots.set_linewidths(np.where(wrong, 2.0, 0.9))
        snap = frames.snapshots[s]
        text = f"epoch {snap.epoch} · loss after it {snap.loss:.4g}"
        if "accuracy" in snap.metrics:
            text += f" · accuracy {snap.metrics['accuracy']:.0%}"
        title.set_text(text + (f"\n({left_out})" if left_out else ""))
        fig.canvas.draw()
        out.append(
            Image.frombuffer(
                "RGBA", fig.canvas.get_width_height(), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
            ).convert("RGB")
        )
    return out


def _gif(images: list[Any], fps: float, hold: float, keep: list[str] = ()) -> bytes:
    """An endlessly looping GIF. Every frame shares one palette (so colours do not flicker)
    of 96 colours taken from the first, middle and last frames, plus the ``keep`` colours
    exactly (the classes', so a class has the colour it has in every other picture): smooth
    shading bands a little, and the file is about a third smaller than with 255."""
    from PIL import Image

    w, h = images[0].size
    sample = Image.new("RGB", (w, h * 3))
    for k, im in enumerate((images[0], images[len(images) // 2], images[-1])):
        sample.paste(im, (0, k * h))
    exact = [int(c[i : i + 2], 16) for c in keep for i in (1, 3, 5)]
    shades = sample.quantize(colors=96 - len(keep), method=Image.Quantize.MEDIANCUT)
    palette = Image.new("P", (1, 1))
    palette.putpalette(exact + shades.getpalette()[: 3 * (96 - len(keep))])
    frames = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    step = int(round(1000 / fps))
    durations = [step] * (len(frames) - 1) + [max(step, int(hold * 1000))]
    buf = io.BytesIO()
    frames[0].save(
        buf,
        format="gif",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        optimize=True,
    )
    return buf.getvalue()


def _mp4(images: list[Any], fps: float, hold: float) -> bytes:
    """H.264 through the system ffmpeg (raw frames on its stdin), the last frame held."""
    w, h = images[0].size
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sides
    extra = max(0, int(round(hold * fps)) - 1)
    with tempfile.TemporaryDirectory(prefix="viz-mp4-") as folder:
        target = os.path.join(folder, "out.mp4")
        command = [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w2}x{h2}",
            "-r",
            f"{fps}",
            "-i",
            "-",
            "-an",
            "-vcodec",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            target,
        ]
        raw = b"".join(im.crop((0, 0, w2, h2)).tobytes() for im in images + [images[-1]] * extra)
        done = subprocess.run(command, input=raw, capture_output=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(
                f"training_animation: ffmpeg failed ({done.returncode}): "
                f"{done.stderr.decode(errors='replace').strip()[:400]}"
            )
        return Path(target).read_bytes()
