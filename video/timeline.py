"""A video's timeline as the decoder gives it: one presentation timestamp per decoded frame.

Container headers estimate a frame count and a rate; both are often wrong on real footage (an
MP4 that lists one frame more than decodes, an AVI whose index holds "null" entries that repeat
the previous picture, variable-frame-rate phone video, MPEG-TS cut from a broadcast that starts
at 600 s). vidsift therefore numbers frames by decoding (design decision 2):

* frame ``i`` is the ``i``-th picture the decoder outputs (presentation order, counted from 0);
* its time is its presentation timestamp in seconds, relative to the first decoded frame;
* AVI null entries produce no picture, so they are not frames: the next real frame keeps its
  own (later) timestamp, and the held picture is simply on screen longer;
* ``keyframes`` are the indices of frames that decode without earlier ones: random access seeks
  to the one at or before the wanted frame and decodes forward.

``Timeline`` is built once per file by the scan (which decodes every frame for shot detection
anyway) and stored in the catalog, so sampling at ``--fps`` and seeking never need the header.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Two timestamps closer than this are the same instant (float rounding of rational time bases).
EPS = 1e-6


@dataclass(frozen=True)
class Timeline:
    """Presentation times (seconds from the first frame) and keyframe indices of decoded frames.

    ``complete`` is False when decoding stopped early (a damaged file); ``problem`` then says
    where and why. ``origin`` is the first frame's raw timestamp in seconds (non-zero for
    streams cut from a broadcast); it is what seeking adds back.
    """

    pts: np.ndarray  # float64 [N], non-decreasing
    keyframes: np.ndarray  # int64 [K], ascending, 0 first when N > 0
    origin: float = 0.0
    complete: bool = True
    problem: str | None = None
    _sorted: bool = field(default=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pts", np.asarray(self.pts, np.float64))
        object.__setattr__(self, "keyframes", np.asarray(self.keyframes, np.int64))

    def __len__(self) -> int:
        return len(self.pts)

    @property
    def num_frames(self) -> int:
        return len(self.pts)

    @property
    def duration(self) -> float:
        """Time from the first frame to the last one (one frame's length is not known)."""
        return float(self.pts[-1]) if len(self.pts) else 0.0

    @property
    def end(self) -> float:
        """When the last frame stops being shown: its time plus the median frame gap (the
        video's length as players report it)."""
        if not len(self.pts):
            return 0.0
        rate = self.rate()
        return float(self.pts[-1]) + (1.0 / rate if rate > 0 else 0.0)

    def times(self, indices: np.ndarray | list[int]) -> np.ndarray:
        """Seconds of the given frames."""
        return self.pts[np.asarray(indices, np.int64)]

    def frame_at(self, seconds: float) -> int:
        """The frame on screen at ``seconds``: the last one whose time is <= it (0 before the first)."""
        i = int(np.searchsorted(self.pts, float(seconds) + EPS, side="right")) - 1
        return min(max(i, 0), max(0, len(self.pts) - 1))

    def index_of(self, seconds: float) -> int | None:
        """The frame whose time is ``seconds`` (within half the smallest frame gap), else None."""
        if not len(self.pts):
            return None
        i = int(np.searchsorted(self.pts, seconds - EPS, side="left"))
        for j in (i, i - 1):
            if 0 <= j < len(self.pts) and abs(self.pts[j] - seconds) <= 1e-3:
                return j
        return None

    def keyframe_before(self, index: int, back: int = 0) -> int:
        """The last keyframe at or before ``index``, or ``back`` keyframes before that (0 when
        there is none)."""
        k = int(np.searchsorted(self.keyframes, int(index), side="right")) - 1 - max(0, int(back))
        return int(self.keyframes[k]) if k >= 0 else 0

    def rate(self) -> float:
        """Frames per second measured from the timestamps (median frame gap), 0 if unknown."""
        if len(self.pts) < 2:
            return 0.0
        gap = float(np.median(np.diff(self.pts)))
        return 1.0 / gap if gap > 0 else 0.0

    # -- storage (the catalog keeps it as one compressed blob) ---------------------------------
    def to_bytes(self) -> bytes:
        head = np.asarray([len(self.pts), len(self.keyframes), self.origin, float(self.complete)], np.float64)
        raw = head.tobytes() + self.pts.tobytes() + self.keyframes.astype(np.int64).tobytes()
        return zlib.compress(raw, 6)

    @classmethod
    def from_catalog(cls, catalog: Any, ref: str) -> Timeline | None:
        """The timeline the catalog stored for a video (by id or path), None when not measured."""
        found = catalog.timeline_blob(ref)
        return cls.from_bytes(found[0], problem=found[1]) if found else None

    @classmethod
    def from_bytes(cls, blob: bytes, problem: str | None = None) -> Timeline:
        raw = zlib.decompress(blob)
        head = np.frombuffer(raw[:32], np.float64)
        n, k = int(head[0]), int(head[1])
        pts = np.frombuffer(raw[32 : 32 + 8 * n], np.float64).copy()
        keys = np.frombuffer(raw[32 + 8 * n : 32 + 8 * n + 8 * k], np.int64).copy()
        return cls(pts=pts, keyframes=keys, origin=float(head[2]), complete=bool(head[3]), problem=problem)


def sample_by_every(n: int, every: int, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Every ``every``-th frame index in ``[start, stop)``."""
    stop = n if stop is None else min(int(stop), n)
    return np.arange(int(start), stop, int(every), dtype=np.int64)


def sample_by_rate(pts: np.ndarray, fps: float, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Frames at ``fps`` samples per second of presentation time: for each tick ``k / fps`` the
    first frame whose time is at or after it, each frame once.

    This is the same rule ``SampleSelector`` applies while streaming, so a sparse plan made from
    a stored timeline and a sequential decode pick the same frames.

    Example (variable frame rate: a frame held for 2.5 s is taken once):
        >>> sample_by_rate(np.array([0.0, 0.5, 3.0, 3.5]), 1.0).tolist()
        [0, 1, 2]
    """
    pts = np.asarray(pts, np.float64)
    stop = len(pts) if stop is None else min(int(stop), len(pts))
    if stop <= start or not len(pts):
        return np.zeros(0, np.int64)
    ticks = np.arange(0.0, float(pts[stop - 1]) + EPS + 1.0 / fps, 1.0 / fps)
    idx = np.unique(np.searchsorted(pts, ticks - EPS, side="left"))
    return idx[(idx >= start) & (idx < stop)].astype(np.int64)


class SampleSelector:
    """Streaming form of ``sample_by_every`` / ``sample_by_rate``: ``take(index, seconds)`` says
    whether a frame, seen in decode order, is sampled."""

    def __init__(self, every: int = 1, fps: float | None = None, start: int = 0, stop: int | None = None) -> None:
        self.every, self.fps, self.start, self.stop = int(every), fps, int(start), stop
        self._next_tick = 0.0

    def take(self, index: int, seconds: float) -> bool:
        if index < self.start or (self.stop is not None and index >= self.stop):
            return False
        if self.fps is None:
            return (index - self.start) % self.every == 0
        if seconds + EPS >= self._next_tick:
            # the first tick strictly after this frame: a long frame covers several ticks once
            self._next_tick = (np.floor((seconds + EPS) * self.fps) + 1) / self.fps
            return True
        return False


def plan_reads(wanted: np.ndarray, timeline: Timeline, seek_cost: float) -> list[tuple[int, list[int]]]:
    """Split sorted wanted frames into decode runs ``(first frame to decode, wanted frames)``
    (all of :func:`iter_reads`, for a seek that lands where it is sent)."""
    return list(iter_reads(wanted, timeline, seek_cost))


def iter_reads(wanted: np.ndarray, timeline: Timeline, seek_cost: float,
               back: Callable[[], int] = lambda: 0) -> Iterator[tuple[int, list[int]]]:
    """Decode runs ``(first frame to decode, wanted frames)`` of sorted wanted frames, one at a
    time.

    Cost model, in frames decoded: continuing forward from the current position to frame ``w``
    costs ``w - pos``; seeking costs ``seek_cost`` plus ``w - k``, ``k`` the keyframe a seek for
    ``w`` starts from: ``back()`` keyframes before the one at or before ``w`` (a reader that
    learnt that this file's seeks land late asks for earlier ones; read when each gap is
    decided). Each gap is decided on its own (the choice does not change later costs), so the
    greedy plan is the cheapest under the model. ``seek_cost`` is measured by ``bench/sparse.py``.
    """
    run: tuple[int, list[int]] | None = None
    pos = -1  # nothing decoded yet: the first run starts at a keyframe
    for w in np.asarray(wanted, np.int64).tolist():
        k = timeline.keyframe_before(w, back())
        if run is not None and pos <= w and (w - pos) <= seek_cost + (w - k):
            run[1].append(w)
        else:
            if run is not None:
                yield run  # read before the next start is chosen: back() may have grown
                k = timeline.keyframe_before(w, back())
            run = (k, [w])
        pos = w + 1
    if run is not None:
        yield run
