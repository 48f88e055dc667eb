"""A "quirks corpus": tiny videos with the oddities real footage has and a video tool must handle.

Every file is written with PyAV (no system ffmpeg), deterministically (one encoder thread,
x264's mbtree off, ``fflags=+bitexact`` so Matroska/WebM get no random UIDs), and is a few
dozen frames of 64x48 unless the quirk is the size. The whole corpus takes about a second.

The content is smooth (a drifting diagonal gradient and a square moving one pixel a frame), so
shot detection has structure to see but no cut, except ``vfr.mp4`` which has one hard cut at
``EXPECTED["vfr.mp4"]["cut_frame"]``. A block in the top-left corner burns in the frame index as
brightness (``16 + 6 * (i % 40)``).

:func:`decoder_truth` is what a product reading these files must agree with: the presentation
times FFmpeg's decoder emits for the first video stream, relative to the first decoded frame.
It uses PyAV alone and nothing from vidsift.

What each file is, as checked with PyAV 18.1 (FFmpeg 8, libavcodec 62):

``vfr.mp4``
    H.264, frame durations drawn from {1, 2, 3, 5} x 1/30 s in a 1/90000 time base; the
    container's average rate is not the true spacing. One hard cut at frame 15.
``start_offset.ts``
    H.264 in MPEG-TS whose first frame is at 10 s (like a cut broadcast). TS has no frame count:
    ``stream.frames == 0``.
``odd_size.mkv``
    33x25 FFV1 in yuv420p (FFV1 allows odd sizes with subsampled chroma; libx264 does not).
``ten_bit.mp4``
    H.264 High 10, decodes as ``yuv420p10le``.
``gray.mkv``
    FFV1 ``gray``: decodes as ``gray`` (one plane, no chroma). libx264's gray is *not* used:
    FFmpeg's h264 decoder hands monochrome H.264 back as yuv420p with neutral chroma.
``yuv444.mp4``
    H.264 High 4:4:4, ``yuv444p``.
``bframes.mp4``
    H.264 with 3 B-frames (pyramid): packets arrive in decode order, dts order != pts order.
``bframes.avi``
    The same stream in AVI, which stores no presentation times: the AVI demuxer gives packet
    ``k`` (decode order) ``pts = k + 1``, so frames come out of the decoder in the right
    (display) order but their ``frame.pts`` are a permutation of 1..24 (1, 3, 2, 5, 4, ...)
    and the first is 1/25 s. Decoder pts are **not monotonic** here; the display time of output
    frame ``k`` is ``k / 25``. A real file that does this: musicalgestures'
    ``examples/pianist.avi`` (H.264 + B-frames in AVI, 2925 frames, decoded pts 1, 4, 3, 5, 2, ...).
``two_video_streams.mkv``
    Stream 0: 64x48 H.264, 24 frames at 25 fps, default disposition. Stream 1: 32x24 MPEG-4
    Part 2, 10 frames at 10 fps, different content, not default. Use stream 0.
``with_audio.mp4``
    AAC mono (48 kHz) as **stream 0**, H.264 video as stream 1; audio as long as the video
    (0.96 s). A tool that opens ``streams[0]`` gets audio.
``one_frame.mp4``
    A single H.264 frame.
``vp9.webm``
    VP9 (libvpx-vp9) in WebM (1/1000 time base).
``mjpeg.avi``
    Motion JPEG in AVI, full-range ``yuvj420p``.
``hd1080.mp4``
    1920x1080 H.264, 6 frames (x264 ``ultrafast`` to stay fast).
``header_overcount.avi``
    MPEG-4 Part 2 in AVI, 12 frames at pts 0, 2, 3, 4, 7, ... 47 in a 1/25 time base. FFmpeg's
    AVI muxer fills each pts gap with an empty ("null") chunk, so the header and the index say
    48 frames while 12 decode, at their real (gappy) times; frame 1 decodes at 2/25 s, so
    "time = index / fps" is wrong from the second frame on. Real AVIs shipped in packages do
    exactly this with one null chunk at index 1 (musicalgestures' ``dancer.avi``: header 1572,
    1571 decode; gradio's ``media_assets/videos/b.avi``: header 151, 150 decode). Same
    mechanism as a Cinepak AVI whose index lists 444 entries of which 68 decode.
``header_overcount.mp4``
    H.264 in MP4, 12 samples written (``stream.frames == 12``, 12 packets demux), then the edit
    list (``elst``) is patched to end at frame 11: FFmpeg marks the last packet discard and
    11 frames decode, cleanly. Editors that trim a clip leave files like this (header N, N - 1
    decoded). Corrupting the last sample instead makes the h264 decoder raise
    ``InvalidDataError`` rather than drop the frame.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from vidsift.video.writer import encoder_available

__all__ = ["QUIRKS", "EXPECTED", "SKIPPED", "Truth", "make_quirks", "decoder_truth", "quirk_frames"]

_W, _H = 64, 48
_FPS = 25
_X264 = {"threads": "1", "preset": "veryfast", "crf": "18", "x264-params": "mbtree=0"}
# MPEG-4 Part 2 and MJPEG: a fixed, good quantiser (their default rate control smears 64x48)
_Q = {"threads": "1", "qmin": "2", "qmax": "3"}
_Q_CODECS = ("mpeg4", "mjpeg")
# Matroska / WebM write random segment and track UIDs unless told to be bit-exact
_BITEXACT = {"fflags": "+bitexact"}

# frame durations of vfr.mp4 in units of 1/30 s (29 steps -> 30 frames), fixed so no RNG is involved
_VFR_STEPS = (1, 3, 1, 2, 5, 1, 1, 2, 3, 1, 5, 2, 1, 1, 3, 2, 1, 5, 1, 2, 1, 3, 1, 1, 2, 5, 1, 3, 2)
_VFR_UNIT = 3000  # 1/30 s in a 1/90000 time base
_VFR_CUT = 15
# pts of header_overcount.avi in a 1/25 time base: 12 frames, gaps the AVI muxer fills
_AVI_PTS = (0, 2, 3, 4, 7, 8, 9, 17, 20, 30, 46, 47)
_START_S = 10


# --------------------------------------------------------------------------------------------
# Content


def quirk_frames(n: int, h: int = _H, w: int = _W, *, cut_at: int | None = None) -> np.ndarray:
    """``n`` RGB frames ``[n, h, w, 3]`` uint8 that change smoothly (no cut unless ``cut_at``).

    A diagonal gradient drifts 2 px a frame, a square moves 1 px a frame, and a top-left block
    holds the frame index as brightness ``16 + 6 * (i % 40)``. From ``cut_at`` on, a different
    scene (other colours, the gradient running the other way) makes one hard cut.
    """
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((n, h, w, 3), np.uint8)
    side = max(2, min(h, w) // 4)
    mark = max(2, min(h, w) // 4)
    for i in range(n):
        scene = int(cut_at is not None and i >= cut_at)
        phase = (x + (y if scene == 0 else -y) * 0.7 + 2.0 * i) / max(w, 8) * 2 * np.pi
        g = 0.5 + 0.35 * np.sin(phase)
        rgb = np.stack(
            [g, 1 - g, 0.3 + 0.4 * g] if scene == 0 else [0.2 + 0.2 * g, 0.9 * g, 1 - g], axis=-1
        )
        frame = (rgb * 255).astype(np.uint8)
        top, left = (h - side) // 2, (i + (w // 3 if scene else 0)) % max(1, w - side)
        frame[top : top + side, left : left + side] = (
            (240, 240, 40) if scene == 0 else (30, 30, 200)
        )
        frame[:mark, :mark] = 16 + 6 * (i % 40)
        out[i] = frame
    return out


def _gray(frames: np.ndarray) -> np.ndarray:
    lum = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.clip(np.rint(lum), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Writing


def _add_video(
    container: Any,
    codec: str,
    frames: np.ndarray,
    tb: Fraction,
    pix_fmt: str,
    options: dict[str, str],
    rate: Fraction | None = None,
) -> Any:
    stream = container.add_stream(codec, rate=rate)
    stream.height, stream.width = frames.shape[1:3]
    stream.pix_fmt = pix_fmt
    stream.time_base = tb
    stream.codec_context.time_base = tb
    stream.options = options
    return stream


def _video_packets(stream: Any, frames: np.ndarray, pts: Iterable[int]) -> Iterable[Any]:
    """Encode ``frames`` at ``pts`` (in the stream's codec time base), then flush."""
    tb = stream.codec_context.time_base
    in_fmt = "gray" if frames.ndim == 3 else "rgb24"
    for arr, p in zip(frames, pts, strict=True):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format=in_fmt)
        if stream.pix_fmt != in_fmt:
            # one swscale thread, so nothing depends on the core count
            frame = frame.reformat(format=stream.pix_fmt, threads=1)
        frame.pts, frame.time_base = p, tb
        yield from stream.encode(frame)
    yield from stream.encode(None)


def _write(
    path: Path,
    codec: str,
    frames: np.ndarray,
    *,
    pix_fmt: str = "yuv420p",
    pts: Iterable[int] | None = None,
    tb: Fraction = Fraction(1, _FPS),
    options: dict[str, str] | None = None,
    fmt: str | None = None,
) -> Path:
    """Write one video stream; ``pts`` defaults to 0, 1, 2, ... in ``tb``."""
    opts = dict(_X264 if codec == "libx264" else _Q if codec in _Q_CODECS else {"threads": "1"})
    opts.update(options or {})
    rate = Fraction(_FPS) if tb == Fraction(1, _FPS) else None
    with av.open(str(path), "w", format=fmt, options=_BITEXACT) as container:
        stream = _add_video(container, codec, frames, tb, pix_fmt, opts, rate)
        container.mux(
            list(_video_packets(stream, frames, range(len(frames)) if pts is None else pts))
        )
    return path


def _make_vfr(path: Path) -> Path:
    pts = np.concatenate([[0], np.cumsum(_VFR_STEPS)]) * _VFR_UNIT
    frames = quirk_frames(len(pts), cut_at=_VFR_CUT)
    return _write(path, "libx264", frames, pts=pts.tolist(), tb=Fraction(1, 90000))


def _make_start_offset(path: Path) -> Path:
    start = _START_S * _FPS
    frames = quirk_frames(20)
    return _write(path, "libx264", frames, pts=range(start, start + len(frames)), fmt="mpegts")


def _make_odd_size(path: Path) -> Path:
    return _write(path, "ffv1", quirk_frames(16, 25, 33), pix_fmt="yuv420p")


def _make_ten_bit(path: Path) -> Path:
    return _write(path, "libx264", quirk_frames(16), pix_fmt="yuv420p10le")


def _make_gray(path: Path) -> Path:
    return _write(path, "ffv1", _gray(quirk_frames(16)), pix_fmt="gray")


def _make_yuv444(path: Path) -> Path:
    return _write(path, "libx264", quirk_frames(16), pix_fmt="yuv444p")


def _make_bframes(path: Path) -> Path:
    return _write(path, "libx264", quirk_frames(24), options={"bf": "3", "g": "24"})


def _make_bframes_avi(path: Path) -> Path:
    return _write(path, "libx264", quirk_frames(24), options={"bf": "3", "g": "24"})


def _make_two_video_streams(path: Path) -> Path:
    main, other = quirk_frames(24), quirk_frames(10, 24, 32, cut_at=0)
    with av.open(str(path), "w", options=_BITEXACT) as container:
        s0 = _add_video(
            container, "libx264", main, Fraction(1, 25), "yuv420p", dict(_X264), Fraction(25)
        )
        s1 = _add_video(
            container, "mpeg4", other, Fraction(1, 10), "yuv420p", dict(_Q), Fraction(10)
        )
        s0.disposition = av.stream.Disposition.default
        s1.disposition = av.stream.Disposition(0)
        container.mux(list(_video_packets(s0, main, range(len(main)))))
        container.mux(list(_video_packets(s1, other, range(len(other)))))
    return path


def _make_with_audio(path: Path) -> Path:
    frames, rate = quirk_frames(24), 48000
    samples = len(frames) * rate // _FPS
    t = np.arange(samples, dtype=np.float32) / rate
    tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    with av.open(str(path), "w", options=_BITEXACT) as container:
        audio = container.add_stream("aac", rate=rate, layout="mono")  # stream 0 is audio
        video = _add_video(
            container, "libx264", frames, Fraction(1, _FPS), "yuv420p", dict(_X264), Fraction(_FPS)
        )
        packets = []
        for start in range(0, samples, 1024):
            chunk = av.AudioFrame.from_ndarray(
                tone[None, start : start + 1024], format="fltp", layout="mono"
            )
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, start, Fraction(1, rate)
            packets += audio.encode(chunk)
        packets += audio.encode(None)
        packets += _video_packets(video, frames, range(len(frames)))
        # mux in time order so the file is interleaved like a camera's
        packets.sort(key=lambda p: float((p.dts or 0) * p.time_base))
        container.mux(packets)
    return path


def _make_one_frame(path: Path) -> Path:
    return _write(path, "libx264", quirk_frames(1))


def _make_vp9(path: Path) -> Path:
    opts = {
        "threads": "1",
        "deadline": "realtime",
        "cpu-used": "8",
        "b": "200k",
        "lag-in-frames": "0",
    }
    return _write(path, "libvpx-vp9", quirk_frames(16), options=opts)


def _make_mjpeg(path: Path) -> Path:
    return _write(path, "mjpeg", quirk_frames(16), pix_fmt="yuvj420p")


def _make_hd1080(path: Path) -> Path:
    return _write(path, "libx264", quirk_frames(6, 1080, 1920), options={"preset": "ultrafast"})


def _make_header_overcount_avi(path: Path) -> Path:
    return _write(path, "mpeg4", quirk_frames(len(_AVI_PTS)), pts=_AVI_PTS)


def _mp4_boxes(data: bytes | bytearray, start: int, end: int) -> Iterable[tuple[str, int, int]]:
    """(type, offset, size) of every box under the containers on the way to ``elst``."""
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack(">I4s", data[i : i + 8])
        if size < 8:  # 0 (to end of file) and 1 (64-bit size) are never written for these files
            raise ValueError(f"unexpected mp4 box size {size} at {i}")
        yield kind.decode("latin-1"), i, size
        if kind in (b"moov", b"trak", b"edts"):
            yield from _mp4_boxes(data, i + 8, i + size)
        i += size


def _make_header_overcount_mp4(path: Path) -> Path:
    n = 12
    _write(path, "libx264", quirk_frames(n), options={"bf": "0"})
    data = bytearray(path.read_bytes())
    boxes = {kind: (off, size) for kind, off, size in _mp4_boxes(data, 0, len(data))}
    mvhd, elst = boxes["mvhd"][0], boxes["elst"][0]
    if (
        data[mvhd + 8] != 0
        or data[elst + 8] != 0
        or struct.unpack(">I", data[elst + 12 : elst + 16])[0] != 1
    ):
        raise ValueError("expected version-0 mvhd/elst with one edit; the mp4 muxer changed")
    timescale = struct.unpack(">I", data[mvhd + 20 : mvhd + 24])[0]
    # the edit ends where the last frame starts, so that frame is outside the presentation
    data[elst + 16 : elst + 20] = struct.pack(">I", (n - 1) * timescale // _FPS)
    path.write_bytes(bytes(data))
    return path


@dataclass(frozen=True)
class _Quirk:
    make: Callable[[Path], Path]
    encoders: tuple[str, ...]


_MAKERS: dict[str, _Quirk] = {
    "vfr.mp4": _Quirk(_make_vfr, ("libx264",)),
    "start_offset.ts": _Quirk(_make_start_offset, ("libx264",)),
    "odd_size.mkv": _Quirk(_make_odd_size, ("ffv1",)),
    "ten_bit.mp4": _Quirk(_make_ten_bit, ("libx264",)),
    "gray.mkv": _Quirk(_make_gray, ("ffv1",)),
    "yuv444.mp4": _Quirk(_make_yuv444, ("libx264",)),
    "bframes.mp4": _Quirk(_make_bframes, ("libx264",)),
    "bframes.avi": _Quirk(_make_bframes_avi, ("libx264",)),
    "two_video_streams.mkv": _Quirk(_make_two_video_streams, ("libx264", "mpeg4")),
    "with_audio.mp4": _Quirk(_make_with_audio, ("libx264", "aac")),
    "one_frame.mp4": _Quirk(_make_one_frame, ("libx264",)),
    "vp9.webm": _Quirk(_make_vp9, ("libvpx-vp9",)),
    "mjpeg.avi": _Quirk(_make_mjpeg, ("mjpeg",)),
    "hd1080.mp4": _Quirk(_make_hd1080, ("libx264",)),
    "header_overcount.avi": _Quirk(_make_header_overcount_avi, ("mpeg4",)),
    "header_overcount.mp4": _Quirk(_make_header_overcount_mp4, ("libx264",)),
}

#: Every quirk file name, in a fixed order.
QUIRKS: tuple[str, ...] = tuple(_MAKERS)

#: Quirks this PyAV build cannot write, with the reason (they are left out of make_quirks).
SKIPPED: dict[str, str] = {
    name: f"encoder {enc!r} is not in this PyAV build"
    for name, q in _MAKERS.items()
    for enc in q.encoders
    if not encoder_available(enc)
}


def _vfr_times() -> list[float]:
    return (np.concatenate([[0], np.cumsum(_VFR_STEPS)]) / 30).tolist()


#: What is known by construction. ``frames``: frames the decoder emits; ``header_frames``:
#: ``stream.frames`` (``None``: not checked); ``start``: first pts in seconds as demuxed;
#: ``times``: every frame's time relative to the first, when not 0, 1/25, 2/25, ...
EXPECTED: dict[str, dict[str, Any]] = {
    "vfr.mp4": {
        "frames": 30,
        "header_frames": 30,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
        "times": _vfr_times(),
        "cut_frame": _VFR_CUT,
    },
    "start_offset.ts": {
        "frames": 20,
        "header_frames": 0,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": float(_START_S),
    },
    "odd_size.mkv": {
        "frames": 16,
        "header_frames": 0,
        "size": (33, 25),
        "codec": "ffv1",
        "pix_fmt": "yuv420p",
        "start": 0.0,
    },
    "ten_bit.mp4": {
        "frames": 16,
        "header_frames": 16,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p10le",
        "start": 0.0,
    },
    "gray.mkv": {
        "frames": 16,
        "header_frames": 0,
        "size": (_W, _H),
        "codec": "ffv1",
        "pix_fmt": "gray",
        "start": 0.0,
    },
    "yuv444.mp4": {
        "frames": 16,
        "header_frames": 16,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv444p",
        "start": 0.0,
    },
    "bframes.mp4": {
        "frames": 24,
        "header_frames": 24,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
        "max_b_frames": 3,
    },
    "bframes.avi": {
        "frames": 24,
        "header_frames": 24,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 1 / _FPS,  # the AVI demuxer's pts = decode index + 1
        "times": None,  # decoder pts are a permutation of the display times, see the docstring
        "display_times": (np.arange(24) / _FPS).tolist(),
        "pts_monotonic": False,
    },
    "two_video_streams.mkv": {
        "frames": 24,
        "header_frames": 0,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
        "second_stream": {"frames": 10, "size": (32, 24), "codec": "mpeg4"},
    },
    "with_audio.mp4": {
        "frames": 24,
        "header_frames": 24,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
        "audio_stream_index": 0,
        "audio_seconds": 24 / _FPS,
    },
    "one_frame.mp4": {
        "frames": 1,
        "header_frames": 1,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
    },
    "vp9.webm": {
        "frames": 16,
        "header_frames": 0,
        "size": (_W, _H),
        "codec": "vp9",
        "pix_fmt": "yuv420p",
        "start": 0.0,
    },
    "mjpeg.avi": {
        "frames": 16,
        "header_frames": 16,
        "size": (_W, _H),
        "codec": "mjpeg",
        "pix_fmt": "yuvj420p",
        "start": 0.0,
    },
    "hd1080.mp4": {
        "frames": 6,
        "header_frames": 6,
        "size": (1920, 1080),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
    },
    "header_overcount.avi": {
        "frames": len(_AVI_PTS),
        "header_frames": _AVI_PTS[-1] + 1,
        "size": (_W, _H),
        "codec": "mpeg4",
        "pix_fmt": "yuv420p",
        "start": 0.0,
        "times": [p / _FPS for p in _AVI_PTS],
    },
    "header_overcount.mp4": {
        "frames": 11,
        "header_frames": 12,
        "packets": 12,
        "size": (_W, _H),
        "codec": "h264",
        "pix_fmt": "yuv420p",
        "start": 0.0,
    },
}


def make_quirks(out_dir: Path) -> dict[str, Path]:
    """Write every quirk this PyAV build can encode into ``out_dir``; name -> path.

    Names in :data:`SKIPPED` are left out. Existing files are overwritten.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {name: q.make(out_dir / name) for name, q in _MAKERS.items() if name not in SKIPPED}


# --------------------------------------------------------------------------------------------
# Truth


@dataclass(frozen=True)
class Truth:
    """What FFmpeg's decoder emits for the first video stream of a file.

    ``pts``: seconds of every decoded frame in output order, relative to the first one (not
    sorted, and not always increasing: see ``bframes.avi`` in the module docstring);
    ``start``: the first frame's pts in seconds as decoded (not relative); ``header_frames``:
    the container's frame count (``stream.frames``, 0 when the container has none).
    """

    pts: np.ndarray
    count: int
    header_frames: int
    width: int
    height: int
    start: float
    codec: str
    pix_fmt: str


def decoder_truth(path: Path) -> Truth:
    """Decode every frame of the first video stream of ``path`` with PyAV; see :class:`Truth`."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        raw: list[float] = []
        pix_fmt, size = "", (0, 0)
        for frame in container.decode(stream):
            if frame.pts is None:
                raise ValueError(f"{path}: frame {len(raw)} has no pts")
            raw.append(float(frame.pts * frame.time_base))
            pix_fmt, size = frame.format.name, (frame.width, frame.height)
        pts = np.asarray(raw, dtype=np.float64)
        return Truth(
            pts=pts - pts[0] if len(pts) else pts,
            count=len(pts),
            header_frames=int(stream.frames),
            width=size[0] or stream.codec_context.width,
            height=size[1] or stream.codec_context.height,
            start=float(pts[0]) if len(pts) else float("nan"),
            codec=stream.codec_context.name,
            pix_fmt=pix_fmt or str(stream.codec_context.pix_fmt),
        )
