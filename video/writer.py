"""Write frame arrays to a video file: :func:`write_video`, the counterpart of ``video.reader``.

Everything is written with PyAV (no system ffmpeg); libx264 runs with one thread and without
mbtree, so equal frames give byte-identical files on the same PyAV build. Used by the synthetic
data writer (``video.synthetic.write``), clip export (``vidsift.services.discover``) and the tests.

Encoder notes, checked with PyAV 18 (FFmpeg 8, libavcodec 62):

* libx264 is in the wheel and preferred; mpeg4 is the fallback. Frames are encoded as yuv420p
  with a GOP of 12 (``g=12``) so seeking never decodes more than 12 frames, crf 18, one thread.
* yuv420p needs an even width and height: odd frames are **padded** by repeating the last row /
  column (never cropped), so a 33x33 input decodes as 34x34.
* libx264 refuses a 1x1 yuv420p frame; 1x1 works as yuv444p (High 4:4:4).
* ``pix_fmt="gray"`` makes a true monochrome H.264 stream (chroma_format_idc 0), but FFmpeg's
  h264 decoder hands it back as yuv420p with neutral chroma.
* Determinism: libx264 with CRF and its default macroblock-tree rate control gave different
  bytes (and decoded pixels) from run to run on the same input, even with ``threads=1``;
  ``x264-params=mbtree=0`` makes it byte-identical (constant QP or ``asm=0`` also did).
* ``yuv420p10le`` works with libx264 (High 10 profile); it decodes as yuv420p10le.
* Rotation: ``stream.metadata["rotate"]`` is dropped by the muxer; PyAV >= 14's
  ``stream.set_display_rotation(deg)`` writes a display matrix, which decodes as
  ``frame.rotation == deg`` (and a ``DISPLAYMATRIX`` frame side data entry).
* A "header but no frames" mp4 needs ``movflags=empty_moov``; without it FFmpeg's mp4 muxer
  drops the empty track and the file opens with no video stream at all.
* libx265 is in the wheel but crashed the process (``munmap_chunk(): invalid pointer``) when
  encoding gray; it is never used here.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vidsift.atomic import atomic_path
from vidsift.errors import BadInputError, VideoError

__all__ = ["encoder_available", "write_video"]

_GOP = 12


def encoder_available(name: str) -> bool:
    """Whether this PyAV build can encode with codec ``name`` (e.g. "libx264")."""
    try:
        av.codec.Codec(name, "w")
    except Exception:  # PyAV raises several types for unknown codecs
        return False
    return True


def _pick_codec(codec: str) -> str:
    if codec != "auto":
        if not encoder_available(codec):
            raise BadInputError(f"encoder {codec!r} is not in this PyAV build; try 'auto'")
        return codec
    for name in ("libx264", "mpeg4"):
        if encoder_available(name):
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
    sample_aspect: tuple[int, int] | None = None,
) -> Path:
    """Encode ``frames`` (uint8 ``[T, H, W, 3]`` RGB, or ``[T, H, W]`` gray) to ``path``.

    The file appears atomically (temp file + rename), so a crash never leaves half a video that
    a later scan would index. ``codec="auto"`` picks libx264, else mpeg4; for mpeg4, ``crf`` is
    mapped to a fixed quantiser ``q = clip(round(crf / 6), 2, 31)``. 4:2:0 pixel formats need an
    even frame size: odd sizes are padded by repeating the last row/column. ``rotation`` (degrees)
    writes a display matrix (decoders report ``frame.rotation``); ``sample_aspect`` (e.g. (4, 3):
    HDV's 1440x1080 shown 16:9) how wide each pixel is shown. Colour conversion (BT.601) and
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
                   ".avi": "avi", ".ts": "mpegts", ".mts": "mpegts", ".mpg": "mpeg", ".webm": "webm"}.get(path.suffix.lower())
            container = av.open(str(tmp), "w", format=fmt, options=container_options or {})
            try:
                stream = container.add_stream(name, rate=rate)
                stream.width = width
                stream.height = height
                stream.pix_fmt = pix_fmt
                stream.codec_context.time_base = 1 / rate
                stream.options = opts
                if rotation is not None:
                    set_display_rotation(stream, rotation)
                if sample_aspect is not None:
                    from fractions import Fraction

                    stream.codec_context.sample_aspect_ratio = Fraction(*sample_aspect)
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


def set_display_rotation(stream: Any, degrees: float) -> None:
    """Write a display-matrix rotation; fall back to the legacy ``rotate`` tag on old PyAV."""
    if hasattr(stream, "set_display_rotation"):
        stream.set_display_rotation(float(degrees))
    else:  # pragma: no cover - PyAV < 14; FFmpeg's mp4 muxer may drop this tag
        stream.metadata["rotate"] = str(int(degrees) % 360)
