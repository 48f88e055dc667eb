"""Seeded, deterministic generated videos whose ground truth is known exactly.

Real footage cannot tell us the "right" scene label, shot boundary or motion class of every frame;
these generators can. Everything is written with PyAV (no system ffmpeg) and derived from a
seed, so the same seed gives byte-identical frame arrays and, because libx264 runs with one
thread and without mbtree, byte-identical files on the same PyAV build.

What is made:

* **scene videos** (:func:`make_scene_videos`): a simulated camera panning, zooming and shaking
  over one photo that ships with scikit-image / scikit-learn / matplotlib, with noise, a slow
  gain change and hard cuts between shots. The sub-folder is the label.
* **shape videos** (:func:`make_shape_videos`): a filled shape moving on a textured, noisy
  background; label ``"<shape>-<motion>"`` (shape x motion classes for action-like discovery).
* **drift videos** (:func:`make_drift_videos`): grey camera pans over a fresh blob texture per
  video; the label is the direction of motion and nothing else
  (``training.data.synthetic.drift_videos``).
* **rotating points** (:func:`rotating_points`): the UL-layers paper's 2-D point cloud rotating
  about its centroid, 5 degrees a frame.
* **broken files** (:func:`make_broken_files`): inputs every reader must survive.

Encoder notes, checked with PyAV 18 (FFmpeg 8, libavcodec 62):

* libx264 is in the wheel and preferred; mpeg4 is the fallback. Frames are encoded as yuv420p
  with a GOP of 12 (``g=12``) so seeking never decodes more than 12 frames, crf 18, one thread.
* yuv420p needs an even width and height: odd frames are **padded** by repeating the last row /
  column (never cropped), so a 33x33 input decodes as 34x34.
* libx264 refuses a 1x1 yuv420p frame; 1x1 works as yuv444p (High 4:4:4), so ``tiny_1x1.mp4``
  is 1x1 in yuv444p.
* ``pix_fmt="gray"`` makes a true monochrome H.264 stream (chroma_format_idc 0), but FFmpeg's
  h264 decoder hands it back as yuv420p with neutral chroma.
* Determinism: libx264 with CRF and its default macroblock-tree rate control gave different
  bytes (and decoded pixels) from run to run on the same input, even with ``threads=1``;
  ``x264-params=mbtree=0`` makes it byte-identical (constant QP or ``asm=0`` also did).
* ``yuv420p10le`` works with libx264 (High 10 profile); it decodes as yuv420p10le.
* Rotation: ``stream.metadata["rotate"]`` is dropped by the muxer; PyAV >= 14's
  ``stream.set_display_rotation(deg)`` writes a display matrix, which decodes as
  ``frame.rotation == deg`` (and a ``DISPLAYMATRIX`` frame side data entry).
* ``truncated.mp4`` is cut from a ``movflags=+faststart`` file (index first): it opens and
  reports its frame count, then decoding fails part-way. Cut with the index at the end, a file
  simply fails to open, like the zero-byte and text files.
* A "header but no frames" mp4 needs ``movflags=empty_moov``; without it FFmpeg's mp4 muxer
  drops the empty track and the file opens with no video stream at all.
* libx265 is in the wheel but crashed the process (``munmap_chunk(): invalid pointer``) when
  encoding gray; it is never used here.
"""

from __future__ import annotations

import functools
import io
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vidsift.atomic import atomic_path, atomic_write_bytes, atomic_write_json
from vidsift.errors import BadInputError, VideoError

__all__ = [
    "KINDS",
    "SCENES",
    "SHAPES",
    "MOTIONS",
    "GeneratedVideo",
    "write_video",
    "scene_frames",
    "make_scene_videos",
    "shape_frames",
    "make_shape_videos",
    "make_drift_videos",
    "rotating_points",
    "save_points",
    "make_broken_files",
    "make",
]

KINDS: tuple[str, ...] = ("scenes", "shapes", "drift", "points", "broken", "all")

_SKIMAGE_SCENES = (
    "astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon", "page", "text",
    "clock", "horse", "hubble_deep_field", "retina", "immunohistochemistry", "cell", "brick",
    "grass", "gravel",
)
_SKLEARN_SCENES = ("china", "flower")
_MPL_SCENES = ("grace_hopper",)
#: Every scene name :func:`scene_frames` accepts (all ship inside installed packages).
SCENES: tuple[str, ...] = _SKIMAGE_SCENES + _SKLEARN_SCENES + _MPL_SCENES
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
MOTIONS: tuple[str, ...] = ("left-right", "up-down", "diagonal", "static")

GROUND_TRUTH = "ground_truth.json"
_GOP = 12


@dataclass(frozen=True)
class GeneratedVideo:
    """One written video and the truth about it, so tests and benchmarks need no guessing."""

    path: Path
    label: str
    num_frames: int
    shot_starts: list[int] = field(default_factory=lambda: [0])
    fps: float = 25.0


# --------------------------------------------------------------------------------------------
# Writing


def _encoder_available(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except Exception:  # PyAV raises several types for unknown codecs
        return False
    return True


def _pick_codec(codec: str) -> str:
    if codec != "auto":
        if not _encoder_available(codec):
            raise BadInputError(f"encoder {codec!r} is not in this PyAV build; try 'auto'")
        return codec
    for name in ("libx264", "mpeg4"):
        if _encoder_available(name):
            return name
    raise BadInputError("this PyAV build has neither libx264 nor mpeg4 encoders")


def _even_dims(pix_fmt: str) -> tuple[bool, bool]:
    """Whether ``pix_fmt`` subsamples chroma vertically / horizontally (needs even H / W)."""
    chroma = [c for c in av.VideoFormat(pix_fmt, 4, 4).components if c.is_chroma]
    return any(c.height != 4 for c in chroma), any(c.width != 4 for c in chroma)


def _pad_even(frames: np.ndarray, even_h: bool, even_w: bool) -> np.ndarray:
    """Repeat the last row / column so subsampled chroma planes cover the whole frame."""
    ph = int(even_h and frames.shape[1] % 2)
    pw = int(even_w and frames.shape[2] % 2)
    if not (ph or pw):
        return frames
    pad = [(0, 0), (0, ph), (0, pw)] + [(0, 0)] * (frames.ndim - 3)
    return np.pad(frames, pad, mode="edge")


def _fps_fraction(fps: float) -> Fraction:
    if not (fps > 0 and np.isfinite(fps)):
        raise BadInputError(f"fps must be a positive number, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float = 25.0,
    codec: str = "auto",
    crf: int = 18,
    *,
    gop: int = _GOP,
    pix_fmt: str = "yuv420p",
    rotation: float | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``frames`` (uint8 ``[T, H, W, 3]`` RGB, or ``[T, H, W]`` gray) to ``path``.

    The file appears atomically (temp file + rename), so a crash never leaves half a video that
    a later scan would index. ``codec="auto"`` picks libx264, else mpeg4; for mpeg4, ``crf`` is
    mapped to a fixed quantiser ``q = clip(round(crf / 6), 2, 31)``. 4:2:0 pixel formats need an
    even frame size: odd sizes are padded by repeating the last row/column. ``rotation`` (degrees)
    writes a display matrix (decoders report ``frame.rotation``). Colour conversion (BT.601) and
    libx264 both run on one thread and x264's mbtree is off, so equal inputs give equal bytes.
    ``T == 0`` writes a header-only file (pair it with ``movflags=empty_moov`` for mp4).
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise BadInputError(f"frames must be uint8, got {frames.dtype}")
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    if not (frames.ndim == 4 and frames.shape[-1] == 3) and frames.ndim != 3:
        raise BadInputError(f"frames must be [T, H, W, 3] or [T, H, W], got shape {frames.shape}")
    if frames.shape[1] < 1 or frames.shape[2] < 1:
        raise BadInputError(f"frames must be at least 1x1, got shape {frames.shape}")
    name = _pick_codec(codec)
    if name == "mpeg4":
        pix_fmt = "yuv420p"  # the only format mpeg4 encodes
    try:
        even = _even_dims(pix_fmt)
    except ValueError as err:
        raise BadInputError(f"unknown pixel format {pix_fmt!r}") from err
    frames = _pad_even(frames, *even)
    height, width = frames.shape[1:3]
    rate = _fps_fraction(fps)
    in_fmt = "gray" if frames.ndim == 3 else "rgb24"

    opts: dict[str, str] = {"g": str(int(gop))}
    if name in ("libx264", "libx264rgb"):
        # mbtree=0: x264's macroblock-tree lookahead gave different bytes from run to run
        # (even with one thread); without it CRF encodes are byte-identical
        opts.update({"crf": str(int(crf)), "threads": "1", "preset": "medium",
                     "x264-params": "mbtree=0"})
    elif name == "mpeg4":
        q = int(np.clip(round(crf / 6), 2, 31))
        opts.update({"qmin": str(q), "qmax": str(q), "threads": "1"})
    else:
        opts["threads"] = "1"

    try:
        with atomic_path(path) as tmp:
            fmt = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska",
                   ".avi": "avi"}.get(path.suffix.lower())
            container = av.open(str(tmp), "w", format=fmt, options=container_options or {})
            try:
                stream = container.add_stream(name, rate=rate)
                stream.width = width
                stream.height = height
                stream.pix_fmt = pix_fmt
                stream.codec_context.time_base = 1 / rate
                stream.options = opts
                if rotation is not None:
                    _set_rotation(stream, rotation)
                container.start_encoding()
                for i, arr in enumerate(frames):
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format=in_fmt)
                    if in_fmt != pix_fmt:
                        # convert here with one swscale thread rather than in PyAV's encode(),
                        # which uses automatic threading, so nothing depends on the core count
                        frame = frame.reformat(format=pix_fmt, threads=1)
                    frame.pts = i
                    frame.time_base = 1 / rate
                    container.mux(stream.encode(frame))
                if len(frames):
                    container.mux(stream.encode(None))
            finally:
                container.close()
    except av.FFmpegError as err:
        raise VideoError(path, f"cannot encode with {name}/{pix_fmt}: {err}") from err
    return path


def _set_rotation(stream: Any, degrees: float) -> None:
    """Write a display-matrix rotation; fall back to the legacy ``rotate`` tag on old PyAV."""
    if hasattr(stream, "set_display_rotation"):
        stream.set_display_rotation(float(degrees))
    else:  # pragma: no cover - PyAV < 14; FFmpeg's mp4 muxer may drop this tag
        stream.metadata["rotate"] = str(int(degrees) % 360)


# --------------------------------------------------------------------------------------------
# Scene videos


def _check_seed(seed: int) -> int:
    if int(seed) < 0:
        raise BadInputError(f"seed must be >= 0, got {seed}")
    return int(seed)


def _rng(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator that depends only on the seed and stable keys (not on call order)."""
    ints = [_check_seed(seed)]
    for k in keys:
        ints.append(zlib.crc32(k.encode()) if isinstance(k, str) else int(k))
    return np.random.default_rng(ints)


def _sklearn_image(name: str) -> np.ndarray:
    """Read scikit-learn's sample photo from its package folder.

    ``sklearn.datasets.load_sample_images`` costs seconds of imports; the JPEGs sit in the
    installed package, so they are opened directly (falling back to the loader if moved).
    """
    import importlib.util

    from PIL import Image

    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "datasets" / "images" / f"{name}.jpg"
        if path.exists():
            with Image.open(path) as im:
                return np.asarray(im.convert("RGB"))
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    return np.asarray(bunch.images[[Path(f).stem for f in bunch.filenames].index(name)])


@functools.lru_cache(maxsize=32)
def _photo(scene: str) -> np.ndarray:
    """The named photo as uint8 RGB ``[h, w, 3]`` (read-only, cached)."""
    if scene in _SKIMAGE_SCENES:
        import skimage.data

        img = np.asarray(getattr(skimage.data, scene)())
    elif scene in _SKLEARN_SCENES:
        img = _sklearn_image(scene)
    elif scene in _MPL_SCENES:
        from matplotlib import cbook
        from PIL import Image

        with Image.open(cbook.get_sample_data(f"{scene}.jpg", asfileobj=False)) as im:
            img = np.asarray(im.convert("RGB"))
    else:
        raise BadInputError(f"unknown scene {scene!r}; valid scenes: {', '.join(SCENES)}")
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    img = np.ascontiguousarray(img[..., :3], dtype=np.uint8)
    img.setflags(write=False)
    return img


@functools.lru_cache(maxsize=64)
def _photo_for(scene: str, out_h: int, out_w: int) -> np.ndarray:
    """The photo as float32 in [0, 1], shrunk so the widest crop is at most ~3x the output.

    Sampling a 500-pixel crop straight down to 64 pixels would alias and shimmer as the camera
    moves; one anti-aliased (Lanczos) shrink per scene keeps bilinear sampling clean and cheap.
    """
    from PIL import Image

    img = _photo(scene)
    ph, pw = img.shape[:2]
    full = min(ph, pw * out_h / out_w)  # tallest crop with the output's aspect that fits
    scale = min(1.0, 3.0 * out_h / full)
    if scale < 1.0:
        shape = (max(2, round(pw * scale)), max(2, round(ph * scale)))
        img = np.asarray(Image.fromarray(img).resize(shape, Image.Resampling.LANCZOS))
    out = img.astype(np.float32) / 255.0
    out.setflags(write=False)
    return out


def _sample(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``img`` on the separable grid ``ys x xs`` (pixel-centre coords)."""
    h, w = img.shape[:2]
    ys = np.clip(ys, 0, h - 1)
    xs = np.clip(xs, 0, w - 1)
    y0 = np.minimum(np.floor(ys).astype(np.int64), h - 2) if h > 1 else np.zeros(len(ys), int)
    x0 = np.minimum(np.floor(xs).astype(np.int64), w - 2) if w > 1 else np.zeros(len(xs), int)
    wy = (ys - y0).astype(np.float32)[:, None, None]
    wx = (xs - x0).astype(np.float32)[None, :, None]
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    rows = img[y0] * (1 - wy) + img[y1] * wy  # [H, w, 3]
    return rows[:, x0] * (1 - wx) + rows[:, x1] * wx


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def scene_frames(
    scene: str,
    seed: int = 0,
    index: int = 0,
    shots: int = 3,
    frames_per_shot: int = 20,
    size: tuple[int, int] = (64, 64),
    motion: bool = True,
    noise: float = 0.02,
    illumination: float = 0.15,
) -> tuple[np.ndarray, list[int]]:
    """Frames of one simulated-camera video over ``scene``'s photo, before any encoding.

    Kept separate from writing so determinism can be checked on exact arrays (encoders may
    differ between builds). Each shot starts at a new random crop (40-70% of the photo's height,
    far from where the last shot ended), then pans (0.3-1% of the crop a frame), zooms (up to
    0.4% a frame) and shakes slightly, all smoothly (``motion=False``: a still crop);
    the gain ramps between ``1 +- illumination`` and Gaussian noise of std ``noise`` (in [0, 1]
    units) is added. ``index`` picks one of several videos of the same scene and seed.
    Returns ``(uint8 [shots * frames_per_shot, H, W, 3], shot_starts)``.
    """
    if shots < 1 or frames_per_shot < 1:
        raise BadInputError("shots and frames_per_shot must be >= 1")
    out_h, out_w = (int(size[0]), int(size[1]))
    if out_h < 1 or out_w < 1:
        raise BadInputError(f"size must be positive (H, W), got {size}")
    if noise < 0 or not 0 <= illumination < 1:
        raise BadInputError("noise must be >= 0 and illumination in [0, 1)")
    img = _photo_for(scene, out_h, out_w)
    rng = _rng(seed, "scene", scene, index)
    ph, pw = img.shape[:2]
    full = min(ph, pw * out_h / out_w)
    n = frames_per_shot
    t = np.arange(n, dtype=np.float64)
    ease = 0.5 - 0.5 * np.cos(np.pi * t / max(n - 1, 1))  # smooth start and stop

    out = np.empty((shots * n, out_h, out_w, 3), np.uint8)
    prev_end: np.ndarray | None = None
    for s in range(shots):
        frac = rng.uniform(0.4, 0.7)
        if motion:  # slow, camera-like rates per frame, so longer shots drift further
            zoom = rng.uniform(0.9, 1.1) * np.exp(rng.uniform(-0.004, 0.004) * t)
        else:
            zoom = np.ones(n)
        ch = np.minimum(frac * full * zoom, 0.98 * full)  # crop height per frame
        cw = ch * out_w / out_h
        # start centre: rejection-sample one far from the previous shot's last centre
        cmax = float(np.max(ch))
        lo = np.array([cmax / 2, cmax * out_w / out_h / 2])
        hi = np.maximum(np.array([ph, pw]) - lo, lo)
        for _ in range(32):
            c0 = rng.uniform(lo, hi)
            if prev_end is None or np.linalg.norm(c0 - prev_end) > 0.35 * cmax:
                break
        if motion:
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(0.003, 0.01) * cmax * (n - 1)
            c1 = np.clip(c0 + dist * np.array([np.sin(ang), np.cos(ang)]), lo, hi)
            centre = c0[None, :] + (c1 - c0)[None, :] * ease[:, None]
            freq = rng.uniform(0.03, 0.12, size=(2, 2))  # cycles per frame, two per axis
            phase = rng.uniform(0, 2 * np.pi, size=(2, 2))
            wave = np.sin(2 * np.pi * freq[None] * t[:, None, None] + phase[None]).sum(2)
            centre = centre + 0.006 * cmax * wave  # hand-held shake
        else:
            centre = np.repeat(c0[None, :], n, axis=0)
        g0, g1 = 1.0 + rng.uniform(-illumination, illumination, size=2)
        gain = g0 + (g1 - g0) * t / max(n - 1, 1)
        unit_y = (np.arange(out_h) + 0.5) / out_h - 0.5
        unit_x = (np.arange(out_w) + 0.5) / out_w - 0.5
        for i in range(n):
            ys = centre[i, 0] + unit_y * ch[i] - 0.5
            xs = centre[i, 1] + unit_x * cw[i] - 0.5
            frame = _sample(img, ys, xs) * np.float32(gain[i])
            if noise > 0:
                frame = frame + rng.normal(0.0, noise, frame.shape).astype(np.float32)
            out[s * n + i] = _to_uint8(frame)
        prev_end = centre[-1]
    return out, [s * n for s in range(shots)]


def _video_record(v: GeneratedVideo, root: Path, **extra: Any) -> dict[str, Any]:
    rec = {
        "path": v.path.relative_to(root).as_posix(),
        "label": v.label,
        "num_frames": v.num_frames,
        "shot_starts": list(v.shot_starts),
        "fps": v.fps,
    }
    rec.update(extra)
    return rec


def make_scene_videos(
    out_dir: str | Path,
    scenes: Sequence[str] = ("astronaut", "coffee", "chelsea", "rocket"),
    videos_per_scene: int = 2,
    shots_per_video: int = 3,
    frames_per_shot: int = 20,
    size: tuple[int, int] = (64, 64),
    fps: float = 25.0,
    seed: int = 0,
    motion: bool = True,
    noise: float = 0.02,
    illumination: float = 0.15,
) -> list[GeneratedVideo]:
    """Write labelled scene videos to ``out_dir/<scene>/<scene>_<k>.mp4`` plus ground truth.

    The folder name is the label (as the catalog reads it), every shot of a video shows the same
    scene, and ``out_dir/ground_truth.json`` records each video's label and exact shot starts so
    retrieval and shot detection can be scored without hand labelling.
    """
    out_dir = Path(out_dir)
    scenes = tuple(scenes)
    bad = [s for s in scenes if s not in SCENES]
    if bad:
        raise BadInputError(f"unknown scene(s) {', '.join(bad)}; valid scenes: {', '.join(SCENES)}")
    if videos_per_scene < 1:
        raise BadInputError("videos_per_scene must be >= 1")
    _check_seed(seed)
    videos: list[GeneratedVideo] = []
    for scene in scenes:
        for k in range(videos_per_scene):
            frames, starts = scene_frames(
                scene, seed=seed, index=k, shots=shots_per_video,
                frames_per_shot=frames_per_shot, size=size, motion=motion, noise=noise,
                illumination=illumination,
            )
            path = write_video(out_dir / scene / f"{scene}_{k}.mp4", frames, fps=fps)
            videos.append(GeneratedVideo(path, scene, len(frames), starts, float(fps)))
    atomic_write_json(out_dir / GROUND_TRUTH, {
        "kind": "scenes",
        "seed": seed,
        "size": list(size),
        "params": {"motion": motion, "noise": noise, "illumination": illumination},
        "videos": [_video_record(v, out_dir) for v in videos],
    })
    return videos


# --------------------------------------------------------------------------------------------
# Shape videos


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
    rng = _rng(seed, "shape", shape, motion, index)
    bg = _background(rng, h, w)
    hue = rng.uniform(0, 1)
    import colorsys

    color = np.array(colorsys.hsv_to_rgb(hue, 0.9, 0.95), np.float32)
    r, cy, cx = _shape_path(rng, motion, frames, h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    out = np.empty((frames, h, w, 3), np.uint8)
    for i in range(frames):
        frame = bg.copy()
        frame[_shape_mask(shape, yy, xx, cy[i], cx[i], r)] = color
        if noise > 0:
            frame += rng.normal(0.0, noise, frame.shape).astype(np.float32)
        out[i] = _to_uint8(frame)
    info = {"shape": shape, "motion": motion, "color": [round(float(c), 4) for c in color],
            "center_y": np.round(cy, 3).tolist(), "center_x": np.round(cx, 3).tolist()}
    return out, info


def make_shape_videos(
    out_dir: str | Path,
    shapes: Sequence[str] = SHAPES,
    motions: Sequence[str] = MOTIONS,
    videos_per_class: int = 1,
    frames: int = 32,
    size: tuple[int, int] = (64, 64),
    seed: int = 0,
    fps: float = 25.0,
) -> list[GeneratedVideo]:
    """Write ``out_dir/<shape>-<motion>/<shape>-<motion>_<k>.mp4`` for every shape x motion.

    Gives action-like classes whose label is known, to check that clustering finds motion and
    not only appearance; ``ground_truth.json`` records shape and motion separately (and the
    shape's centre per frame) so either factor can be scored.
    """
    out_dir = Path(out_dir)
    shapes, motions = tuple(shapes), tuple(motions)
    for s in shapes:
        if s not in SHAPES:
            raise BadInputError(f"unknown shape {s!r}; valid shapes: {', '.join(SHAPES)}")
    for m in motions:
        if m not in MOTIONS:
            raise BadInputError(f"unknown motion {m!r}; valid motions: {', '.join(MOTIONS)}")
    if videos_per_class < 1:
        raise BadInputError("videos_per_class must be >= 1")
    _check_seed(seed)
    videos: list[GeneratedVideo] = []
    records: list[dict[str, Any]] = []
    for shape in shapes:
        for motion in motions:
            label = f"{shape}-{motion}"
            for k in range(videos_per_class):
                arr, info = shape_frames(shape, motion, seed=seed, index=k, frames=frames,
                                         size=size)
                path = write_video(out_dir / label / f"{label}_{k}.mp4", arr, fps=fps)
                v = GeneratedVideo(path, label, len(arr), [0], float(fps))
                videos.append(v)
                records.append(_video_record(v, out_dir, **info))
    atomic_write_json(out_dir / GROUND_TRUTH, {
        "kind": "shapes", "seed": seed, "size": list(size), "videos": records,
    })
    return videos


def make_drift_videos(
    out_dir: str | Path,
    videos_per_class: int = 8,
    frames: int = 32,
    size: tuple[int, int] = (24, 24),
    seed: int = 0,
    fps: float = 25.0,
) -> list[GeneratedVideo]:
    """Write ``out_dir/<drift>/<drift>-<k>.mp4`` for every direction of
    ``training.data.synthetic.DRIFTS`` (up, down, sideways, up-diagonal, down-diagonal).

    Motion-only classes: every video pans over its own texture drawn from one distribution, so
    what two clips of a video share, and what tells the classes apart, is the direction of
    motion (left and right are one class; see ``drift_videos``).
    """
    from training.data.synthetic import drift_videos

    if videos_per_class < 1:
        raise BadInputError("videos_per_class must be >= 1")
    _check_seed(seed)
    out_dir = Path(out_dir)
    arrays, labels = drift_videos(videos_per_class, frames, size, seed=seed)
    videos: list[GeneratedVideo] = []
    records: list[dict[str, Any]] = []
    for vid, arr in arrays.items():
        path = write_video(out_dir / labels[vid] / f"{vid}.mp4", arr, fps=fps)
        v = GeneratedVideo(path, labels[vid], len(arr), [0], float(fps))
        videos.append(v)
        records.append(_video_record(v, out_dir, drift=labels[vid]))
    atomic_write_json(out_dir / GROUND_TRUTH, {
        "kind": "drift", "seed": seed, "size": list(size), "videos": records,
    })
    return videos


# --------------------------------------------------------------------------------------------
# Rotating points (UL-layers paper)


def rotating_points(
    n_points: int = 28,
    n_frames: int = 360,
    degrees_per_frame: float = 5.0,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The UL-layers paper's synthetic sequence: a random 2-D point cloud rotating in place.

    The only hidden variable is the rotation angle, so a good embedding of these frames should
    be a circle. Points are drawn uniformly in [-1, 1]^2 and rotated about their centroid;
    ``noise`` (the paper uses 0 to 0.4) is the std of Gaussian noise added to every coordinate,
    as a fraction of the cloud's spread (RMS distance of points from the centroid).
    Returns ``X`` float32 ``[n_frames, 2 * n_points]`` laid out ``x0, y0, x1, y1, ...`` and
    ``angles`` float64 ``[n_frames]``, the true angle in degrees (not wrapped: ``t * deg``).
    """
    if n_points < 2 or n_frames < 1:
        raise BadInputError("rotating_points needs n_points >= 2 and n_frames >= 1")
    if not 0 <= noise <= 1:
        raise BadInputError(f"noise is a fraction of the point spread in [0, 1], got {noise}")
    rng = _rng(seed, "points")
    pts = rng.uniform(-1.0, 1.0, size=(n_points, 2))
    centroid = pts.mean(axis=0)
    rel = pts - centroid
    spread = float(np.sqrt((rel**2).sum(axis=1).mean()))
    angles = np.arange(n_frames, dtype=np.float64) * float(degrees_per_frame)
    theta = np.deg2rad(angles)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    x = centroid[0] + cos * rel[None, :, 0] - sin * rel[None, :, 1]
    y = centroid[1] + sin * rel[None, :, 0] + cos * rel[None, :, 1]
    xy = np.stack([x, y], axis=2)  # [T, N, 2]
    if noise > 0:
        xy = xy + rng.normal(0.0, noise * spread, size=xy.shape)
    return xy.reshape(n_frames, 2 * n_points).astype(np.float32), angles


def save_points(
    out_dir: str | Path,
    n_points: int = 28,
    n_frames: int = 360,
    degrees_per_frame: float = 5.0,
    noise: float = 0.0,
    seed: int = 0,
) -> Path:
    """Write :func:`rotating_points` to ``out_dir/points.npz`` (X, angles and the parameters).

    Saved so training and benchmark runs read one fixed sequence instead of regenerating it.
    """
    X, angles = rotating_points(n_points, n_frames, degrees_per_frame, noise, seed)
    buf = io.BytesIO()
    np.savez(buf, X=X, angles=angles, n_points=n_points, degrees_per_frame=degrees_per_frame,
             noise=noise, seed=seed)
    target = Path(out_dir) / "points.npz"
    atomic_write_bytes(target, buf.getvalue())
    return target


# --------------------------------------------------------------------------------------------
# Broken files


def _try_write(path: Path, frames: np.ndarray, candidates: Sequence[tuple[str, str]],
               notes: list[str]) -> Path | None:
    for codec, pix_fmt in candidates:
        if not _encoder_available(codec):
            continue
        try:
            return write_video(path, frames, codec=codec, pix_fmt=pix_fmt)
        except Exception as err:  # encoders fail with assorted av errors
            notes.append(f"{path.name}: {codec}/{pix_fmt} failed: {err}")
    return None


def make_broken_files(out_dir: str | Path, seed: int = 0) -> dict[str, Path]:
    """Write files that readers and the catalog must reject cleanly or handle correctly.

    Keys (only those this PyAV build could make): ``zero_bytes`` (empty), ``truncated`` (a valid
    16-frame video, index first, cut at a random 40-60% of its bytes: it opens and reports 16
    frames, then decoding fails part-way), ``text`` (a text file named .mp4), ``no_frames``
    (an mp4 with a video stream and zero frames), ``tiny`` (1x1 frames in yuv444p: libx264 will
    not take 1x1 yuv420p), ``rotated`` (64x48 with a 90 degree display matrix), ``gray``
    (monochrome H.264) and ``tenbit`` (yuv420p10le H.264). What could not be made is listed in
    ``out_dir/broken.json`` under ``notes``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed, "broken")
    base, _ = shape_frames("circle", "diagonal", seed=seed, index=0, frames=16, size=(32, 48))
    files: dict[str, Path] = {}
    notes: list[str] = []

    files["zero_bytes"] = out_dir / "zero_bytes.mp4"
    atomic_write_bytes(files["zero_bytes"], b"")

    # faststart puts the index first, so the cut file still opens and claims 16 frames but
    # decoding fails part-way (a cut file with its index at the end just fails to open)
    whole = write_video(out_dir / ".whole.mp4", base, container_options={"movflags": "+faststart"})
    data = whole.read_bytes()
    whole.unlink()
    cut = int(len(data) * rng.uniform(0.4, 0.6))
    files["truncated"] = out_dir / "truncated.mp4"
    atomic_write_bytes(files["truncated"], data[:cut])

    files["text"] = out_dir / "text.mp4"
    atomic_write_bytes(files["text"], b"This is not a video. vidsift test file.\n" * 8)

    try:
        files["no_frames"] = write_video(
            out_dir / "no_frames.mp4", np.zeros((0, 32, 32, 3), np.uint8),
            container_options={"movflags": "empty_moov"},
        )
    except Exception as err:
        notes.append(f"no_frames.mp4: {err}")

    tiny = _try_write(out_dir / "tiny_1x1.mp4", base[:, :1, :1],
                      [("libx264", "yuv444p"), ("mpeg4", "yuv420p")], notes)
    if tiny is None:
        tiny = _try_write(out_dir / "tiny_1x1.mkv", base[:, :1, :1], [("ffv1", "yuv444p")], notes)
    if tiny is not None:
        files["tiny"] = tiny

    try:
        rot_frames, _ = shape_frames("triangle", "up-down", seed=seed, frames=12, size=(48, 64))
        files["rotated"] = write_video(out_dir / "rotated.mp4", rot_frames, rotation=90)
    except Exception as err:
        notes.append(f"rotated.mp4: {err}")

    gray = base.mean(axis=3).round().astype(np.uint8)
    made = _try_write(out_dir / "gray.mp4", gray, [("libx264", "gray"), ("mpeg4", "yuv420p")],
                      notes)
    if made is not None:
        files["gray"] = made

    made = _try_write(out_dir / "tenbit.mp4", base, [("libx264", "yuv420p10le")], notes)
    if made is not None:
        files["tenbit"] = made
    else:
        notes.append("tenbit.mp4: no 10-bit encoder in this PyAV build; skipped")

    atomic_write_json(out_dir / "broken.json", {
        "kind": "broken", "seed": seed, "truncated_at": cut, "original_bytes": len(data),
        "original_frames": len(base),
        "files": {k: v.name for k, v in files.items()}, "notes": notes,
    })
    return files


# --------------------------------------------------------------------------------------------
# One entry point for the CLI


def _summary(kind: str, out_dir: Path, videos: list[GeneratedVideo]) -> dict[str, Any]:
    return {
        "kind": kind,
        "out_dir": str(out_dir),
        "videos": len(videos),
        "frames": sum(v.num_frames for v in videos),
        "labels": sorted({v.label for v in videos}),
        "ground_truth": str(out_dir / GROUND_TRUTH),
    }


def make(kind: str, out_dir: str | Path, seed: int = 0, small: bool = False) -> dict[str, Any]:
    """Generate one kind of data set (or ``"all"``, each in ``out_dir/<kind>``).

    ``small=True`` makes test-sized data (seconds on one core). Returns a JSON-ready summary
    for the CLI to print.
    """
    if kind not in KINDS:
        raise BadInputError(f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    out_dir = Path(out_dir)
    _check_seed(seed)
    if kind == "all":
        parts = {k: make(k, out_dir / k, seed=seed, small=small) for k in KINDS if k != "all"}
        return {"kind": "all", "out_dir": str(out_dir), "parts": parts}
    if kind == "scenes":
        if small:
            videos = make_scene_videos(out_dir, scenes=("astronaut", "coffee"),
                                       videos_per_scene=2, shots_per_video=2, frames_per_shot=8,
                                       size=(32, 32), seed=seed)
        else:
            videos = make_scene_videos(out_dir, videos_per_scene=3, frames_per_shot=25,
                                       size=(96, 128), seed=seed)
        return _summary(kind, out_dir, videos)
    if kind == "shapes":
        if small:
            videos = make_shape_videos(out_dir, shapes=("circle", "square"),
                                       motions=("left-right", "static"), frames=12,
                                       size=(32, 32), seed=seed)
        else:
            videos = make_shape_videos(out_dir, videos_per_class=2, seed=seed)
        return _summary(kind, out_dir, videos)
    if kind == "drift":
        if small:
            videos = make_drift_videos(out_dir, videos_per_class=2, frames=12, size=(24, 24), seed=seed)
        else:
            videos = make_drift_videos(out_dir, seed=seed)
        return _summary(kind, out_dir, videos)
    if kind == "points":
        n_frames = 72 if small else 360
        path = save_points(out_dir, n_frames=n_frames, seed=seed)
        return {"kind": kind, "out_dir": str(out_dir), "path": str(path), "n_points": 28,
                "n_frames": n_frames, "degrees_per_frame": 5.0}
    files = make_broken_files(out_dir, seed=seed)
    notes = json.loads((out_dir / "broken.json").read_text())["notes"]
    return {"kind": kind, "out_dir": str(out_dir),
            "files": {k: str(v) for k, v in files.items()}, "notes": notes}
