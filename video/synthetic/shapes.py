"""Shape videos: a filled shape moving on a textured, noisy background; label ``<shape>-<motion>``.

Shape x motion classes for action-like discovery. Two appearances:

* :func:`shape_frames` (and :func:`shape_frame_videos`, all classes in memory): background and
  colour fixed per video;
* :func:`shape_videos`: the same shapes and paths, with background, colour and gain redrawn every
  few frames inside a video, so only shape and motion are shared across a video.
"""

from __future__ import annotations

import colorsys
from typing import Any

import numpy as np

from vidsift.errors import BadInputError
from vidsift.video.synthetic.base import keyed_rng, to_uint8

__all__ = ["MOTIONS", "SHAPES", "shape_frame_videos", "shape_frames", "shape_videos"]

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
MOTIONS: tuple[str, ...] = ("left-right", "up-down", "diagonal", "static")


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth, low-saturation colour texture so the shape is not on a flat field."""
    from skimage.transform import resize

    coarse = rng.normal(0.0, 1.0, size=(max(2, h // 8), max(2, w // 8), 3)).astype(np.float32)
    tex = resize(coarse, (h, w, 3), order=3, mode="reflect", anti_aliasing=False)
    tex = tex.mean(axis=2, keepdims=True) * 0.8 + tex * 0.2  # mostly gray
    tex = 0.5 + 0.12 * tex / (np.abs(tex).max() + 1e-6)
    return tex.astype(np.float32)


def _shape_mask(shape: str, yy: np.ndarray, xx: np.ndarray, cy: float, cx: float,
                r: float) -> np.ndarray:
    if shape == "circle":
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    if shape == "square":
        half = r * 0.85
        return (np.abs(yy - cy) <= half) & (np.abs(xx - cx) <= half)
    if shape == "triangle":  # upward, circumradius 1.15 r
        ang = np.deg2rad([-90.0, 30.0, 150.0])
        vy = cy + 1.15 * r * np.sin(ang)
        vx = cx + 1.15 * r * np.cos(ang)
        inside = np.ones(yy.shape, bool)
        for i in range(3):
            j = (i + 1) % 3
            cross = (vx[j] - vx[i]) * (yy - vy[i]) - (vy[j] - vy[i]) * (xx - vx[i])
            inside &= cross >= 0
        return inside
    raise BadInputError(f"unknown shape {shape!r}; valid shapes: {', '.join(SHAPES)}")


def _shape_path(rng: np.random.Generator, motion: str, frames: int, h: int,
                w: int) -> tuple[float, np.ndarray, np.ndarray]:
    """``(radius, centre_y [frames], centre_x [frames])`` of a shape doing ``motion`` in an
    ``h x w`` frame: one smooth back-and-forth cycle over the video with a random phase (draws
    the phase, then a start point used by the axes that do not move)."""
    r = 0.18 * min(h, w)
    margin = 1.2 * r + 1
    ay, ax = h / 2 - margin, w / 2 - margin  # motion amplitudes
    phase = rng.uniform(0, 2 * np.pi)
    t = np.arange(frames)
    wave = np.sin(2 * np.pi * t / frames + phase)
    cy0 = rng.uniform(margin, h - margin)
    cx0 = rng.uniform(margin, w - margin)
    if motion == "left-right":
        cy, cx = np.full(frames, cy0), w / 2 + ax * wave
    elif motion == "up-down":
        cy, cx = h / 2 + ay * wave, np.full(frames, cx0)
    elif motion == "diagonal":
        cy, cx = h / 2 + ay * wave, w / 2 + ax * wave
    else:
        cy, cx = np.full(frames, cy0), np.full(frames, cx0)
    return r, cy, cx


def shape_frames(
    shape: str,
    motion: str,
    seed: int = 0,
    index: int = 0,
    frames: int = 32,
    size: tuple[int, int] = (64, 64),
    noise: float = 0.03,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Frames of one shape video, before encoding, plus its parameters (colour, path).

    Motions are one smooth back-and-forth cycle over the video with a random phase, so the class
    is the direction of motion, not where the shape starts; ``static`` stays put and only the
    per-frame noise changes. Returns ``(uint8 [frames, H, W, 3], info)``.
    """
    if shape not in SHAPES:
        raise BadInputError(f"unknown shape {shape!r}; valid shapes: {', '.join(SHAPES)}")
    if motion not in MOTIONS:
        raise BadInputError(f"unknown motion {motion!r}; valid motions: {', '.join(MOTIONS)}")
    if frames < 1:
        raise BadInputError("frames must be >= 1")
    h, w = int(size[0]), int(size[1])
    if h < 8 or w < 8:
        raise BadInputError(f"shape videos need a size of at least 8x8, got {size}")
    rng = keyed_rng(seed, "shape", shape, motion, index)
    bg = _background(rng, h, w)
    hue = rng.uniform(0, 1)
    color = np.array(colorsys.hsv_to_rgb(hue, 0.9, 0.95), np.float32)
    r, cy, cx = _shape_path(rng, motion, frames, h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    out = np.empty((frames, h, w, 3), np.uint8)
    for i in range(frames):
        frame = bg.copy()
        frame[_shape_mask(shape, yy, xx, cy[i], cx[i], r)] = color
        if noise > 0:
            frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
        out[i] = to_uint8(frame)
    info = {"shape": shape, "motion": motion, "color": [round(float(c), 4) for c in color],
            "center_y": np.round(cy, 3).tolist(), "center_x": np.round(cx, 3).tolist()}
    return out, info


def shape_frame_videos(
    videos_per_class: int = 3,
    frames: int = 24,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    index0: int = 0,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """:func:`shape_frames` for every shape x motion, in memory (background and colour
    fixed per video): ``({"<shape>-<motion>-<k>": uint8 [frames, H, W, 3]}, {id: "<shape>-<motion>"})``
    with ``k`` in ``index0 .. index0 + videos_per_class - 1``."""
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for shape in SHAPES:
        for motion in MOTIONS:
            for k in range(index0, index0 + videos_per_class):
                vid = f"{shape}-{motion}-{k}"
                arrays[vid], _ = shape_frames(
                    shape, motion, seed=seed, index=k, frames=frames, size=size
                )
                labels[vid] = f"{shape}-{motion}"
    return arrays, labels


def shape_videos(
    videos_per_class: int = 3,
    frames: int = 24,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    index0: int = 0,
    shapes: tuple[str, ...] | None = None,
    motions: tuple[str, ...] | None = None,
    segment: int = 4,
    gain: float = 0.3,
    background: str = "texture",
    recolor: bool = True,
    noise: float = 0.03,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Moving-shape videos whose appearance nuisance changes WITHIN a video:
    ``({video_id: uint8 [frames, H, W, 3]}, {video_id: "<shape>-<motion>"})``.

    Video ``"<shape>-<motion>-<k>"`` for every shape x motion (default: all of
    :data:`SHAPES` / :data:`MOTIONS`) and ``k`` in ``index0 .. index0 + videos_per_class - 1``
    (a disjoint ``index0`` gives held-out videos of the same classes). The shape and its path
    (:func:`shape_frames`' one back-and-forth cycle with a random phase) stay fixed for the whole
    video; every ``segment`` frames the nuisance is redrawn: the background (a new
    :func:`shape_frames` texture with ``background="texture"``, always black with ``"black"``),
    the shape's colour (a random hue with ``recolor``, else one red for every video) and a
    global gain in ``[1 - gain, 1 + gain]``. ``noise`` is per-pixel Gaussian noise of every frame.
    ``segment >= frames`` gives one draw per video, i.e. ``shape_frames``' per-video appearance.

    Why the nuisance varies within a video: in :func:`shape_frames` background and
    colour are fixed per video and differ between videos of one class, so "same video vs
    different video" (what Paul et al.'s pair mining teaches) is answered by appearance alone,
    which has nothing to do with the shape x motion label. Here two non-overlapping volumes of
    one video share only the shape and its motion (and path), as in ``video.synthetic.gratings.grating_videos``, whose
    flickering gain/tint is a nuisance that within-video pairs can teach invariance to.
    Deterministic in ``seed`` and independent of call order (each video has its own generator).

    Raises:
        ValueError: ``segment``, ``frames`` or ``videos_per_class`` < 1, unknown ``background``.
    """
    shapes = tuple(shapes or SHAPES)
    motions = tuple(motions or MOTIONS)
    h, w = int(size[0]), int(size[1])
    if min(segment, frames, videos_per_class) < 1:
        raise ValueError("segment, frames and videos_per_class must be >= 1")
    if background not in ("texture", "black"):
        raise ValueError(f"background must be 'texture' or 'black', got {background!r}")
    red = np.array(colorsys.hsv_to_rgb(0.0, 0.9, 0.95), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    arrays: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    for shape in shapes:
        for motion in motions:
            for k in range(index0, index0 + videos_per_class):
                rng = keyed_rng(seed, "segmented-shape", shape, motion, k)
                r, cy, cx = _shape_path(rng, motion, frames, h, w)
                out = np.empty((frames, h, w, 3), np.uint8)
                for a in range(0, frames, segment):
                    if background == "texture":
                        bg = _background(rng, h, w)
                    else:
                        bg = np.zeros((h, w, 3), np.float32)
                    hue = rng.uniform(0, 1)
                    color = np.array(colorsys.hsv_to_rgb(hue, 0.9, 0.95), np.float32)
                    color = color if recolor else red
                    g = 1.0 + rng.uniform(-gain, gain)
                    for i in range(a, min(a + segment, frames)):
                        frame = bg.copy()
                        frame[_shape_mask(shape, yy, xx, cy[i], cx[i], r)] = color
                        frame *= g
                        if noise > 0:
                            frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
                        out[i] = to_uint8(frame)
                vid = f"{shape}-{motion}-{k}"
                arrays[vid] = out
                labels[vid] = f"{shape}-{motion}"
    return arrays, labels
