"""Tiny videos WITH an audio track, for the clip cutter and export tests.

``video.writer.write_video`` writes pictures only; editors' exports must carry sound, so these
files add a sine tone (AAC) beside a libx264 picture stream. Each frame has a distinct colour
(red channel = 4 x frame index) so a test can tell which frames a cut kept.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 44100


def frame_picture(i: int, size: int = 64) -> np.ndarray:
    arr = np.zeros((size, size, 3), np.uint8)
    arr[..., 0] = (4 * i) % 256
    arr[..., 2] = 255 - (4 * i) % 256
    arr[: size // 4, : (i % size) + 1, 1] = 255  # a growing bar: motion for the encoder
    return arr


def write_av_video(
    path: str | Path,
    frames: int = 40,
    fps: int = 25,
    gop: int = 10,
    bframes: int = 0,
    audio: bool = True,
    size: int = 64,
    tone: float = 440.0,
) -> Path:
    """``frames`` frames at ``fps`` with a keyframe every ``gop`` frames (no scene-cut keyframes),
    ``bframes`` B-frames between references, and a stereo AAC sine tone as long as the video."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width = vs.height = size
        vs.pix_fmt = "yuv420p"
        vs.codec_context.time_base = Fraction(1, fps)
        params = f"mbtree=0:scenecut=0:keyint={gop}:min-keyint={gop}:bframes={bframes}:b-adapt=0"
        vs.options = {"threads": "1", "crf": "18", "x264-params": params}
        astream = None
        total = int(round(frames / fps * SAMPLE_RATE))
        wave = (0.3 * np.sin(2 * np.pi * tone * np.arange(total) / SAMPLE_RATE)).astype(np.float32)
        if audio:
            astream = c.add_stream("aac", rate=SAMPLE_RATE)
            astream.layout = "stereo"
        vi = ai = 0
        while vi < frames or (astream is not None and ai < total):
            if vi < frames and (astream is None or ai >= total or vi / fps <= ai / SAMPLE_RATE):
                f = av.VideoFrame.from_ndarray(frame_picture(vi, size), format="rgb24")
                f.pts, f.time_base = vi, Fraction(1, fps)
                c.mux(vs.encode(f))
                vi += 1
            else:
                chunk = wave[ai : ai + 1024]
                af = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
                af.sample_rate, af.pts, af.time_base = SAMPLE_RATE, ai, Fraction(1, SAMPLE_RATE)
                assert astream is not None
                c.mux(astream.encode(af))
                ai += len(chunk)
        c.mux(vs.encode(None))
        if astream is not None:
            c.mux(astream.encode(None))
    return path


def stream_durations(path: str | Path) -> dict[str, float]:
    """Seconds of each stream as decoded: video = frames x frame length (from the timestamps),
    audio = decoded samples / rate. Also ``frames`` and the first frame's red value."""
    out: dict[str, float] = {}
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        times, reds = [], []
        for f in c.decode(v):
            times.append(float(f.pts * f.time_base))
            reds.append(int(f.to_ndarray(format="rgb24")[32, 32, 0]))
        gap = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
        out["video"] = (max(times) - min(times) + gap) if times else 0.0
        out["frames"] = float(len(times))
        out["first_red"] = float(reds[0]) if reds else -1.0
        if c.streams.audio:
            c.seek(0)
    with av.open(str(path)) as c:
        if c.streams.audio:
            a = c.streams.audio[0]
            n = sum(f.samples for f in c.decode(a))
            out["audio"] = n / a.codec_context.sample_rate
    return out
