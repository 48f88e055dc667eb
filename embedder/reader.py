"""Reader stage of extraction: one video -> chunks of sampled frames (or clips) at the input size.

The reader, mapper (the embedder) and writer (``embedder.writer``) are separate so that each can
run where it fits (clip-retrieval's split): the local engine runs ``read_video`` in worker
processes ahead of the model, the Ray engine in Ray tasks. Both see the same messages::

    ("start", video_id, n)                   n sampled frames (rows) are planned
    ("chunk", video_id, frames int64 [B], times float64 [B], pixels uint8 [B, H, W, 3] | [B, T, H, W, 3])
    ("end", video_id, rows, note)            rows were sent; note says why fewer than n, or None

``frames`` are the sampled frame indices (the centre frame of each clip for clip embedders) in
decode order and ``times`` their presentation timestamps in seconds (``video.timeline``). The
plan comes from the catalog's timeline of the file, so ``n`` is exact unless decoding fails where
the scan did not; then the rows that decoded are kept and ``note`` says how many were lost.
Thumbnails of every sampled frame are written here too when asked: for frame embedders from the
same decoded pictures, converted a second time at the thumbnail size (the embedding input is the
same bits with or without them); for clip embedders from a second decode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.thumbnails import thumbnail_path, thumbnail_size, write_jpeg
from vidsift.video.clips import centred_clips
from vidsift.video.timeline import Timeline


@dataclass(frozen=True)
class VideoTask:
    """Everything a reader needs for one video (picklable: it crosses process boundaries)."""

    video_id: str
    path: str
    size: tuple[int, int]
    unit: str = "frame"
    clip_len: int = 1
    every: int = 1
    fps: float | None = None
    keyframes: bool = False
    chunk: int = 64
    timeline: Timeline | None = None  # the catalog's; measured by decoding when None
    thumbnails_dir: str | None = None  # <workspace>/thumbnails when thumbnails are wanted
    thumbnail_height: int = 96
    decoder_threads: int = 0  # FFmpeg threads (0: its choice); see docs/perf_decoding.md
    source_size: tuple[int, int] | None = None  # (H, W) of the file, from the catalog: sizes the engine


def expected_rows(timeline: Timeline | None, num_frames: int, every: int = 1, fps: float | None = None,
                  keyframes: bool = False) -> int:
    """How many frames the reader samples, from the timeline when known (exact), else an
    estimate from the frame count (for progress bars; the reader decides)."""
    from vidsift.video.timeline import sample_by_every, sample_by_rate

    if timeline is not None:
        if keyframes:
            return len(timeline.keyframes)
        if fps is not None:
            return len(sample_by_rate(timeline.pts, fps))
        return len(sample_by_every(timeline.num_frames, every))
    if num_frames <= 0:
        return 0
    return (num_frames + max(1, every) - 1) // max(1, every)


def read_video(task: VideoTask) -> Iterator[tuple[Any, ...]]:
    """Decode one video into reader messages; raises ``VideoError`` when nothing can be read."""
    from vidsift.video import open_video

    with open_video(task.path, timeline=task.timeline, decoder_threads=task.decoder_threads) as r:
        if task.keyframes:
            want = r.timeline.keyframes
        else:
            want = r.sample_indices(task.every, task.fps)
        yield ("start", task.video_id, len(want))
        sent: list[np.ndarray] = []
        if task.unit == "frame":
            # thumbnails from the same decode as the embedding input (one more conversion of
            # each picture): a second pass of seeks cost 2-5x the decode on long GOPs
            thumbs = Thumbnails(r, task, want) if task.thumbnails_dir is not None else None
            extra = thumbs.size if thumbs is not None and thumbs.todo else None
            try:
                for idx, times, frames, *small in r.iter_timed(
                    every=task.every, fps=task.fps, size=task.size, batch=task.chunk, keyframes=task.keyframes,
                    extra_size=extra,
                ):
                    if small:
                        thumbs.add(idx, small[0])  # type: ignore[union-attr]
                    sent.append(idx)
                    yield ("chunk", task.video_id, idx, times, frames)
            finally:
                if thumbs is not None:
                    thumbs.close()
        else:
            for msg in _read_clips(r, task, want):
                sent.append(msg[2])
                yield msg
        rows = np.concatenate(sent) if sent else np.zeros(0, np.int64)
        if task.unit != "frame" and task.thumbnails_dir is not None and len(rows):
            write_video_thumbnails(r, task, rows)
        note = r.problem
        if len(rows) < len(want):
            lost = np.setdiff1d(want, rows)
            t = r.times(lost[:1])[0] if len(lost) else 0.0
            note = (f"{len(lost)} of {len(want)} sampled frames could not be decoded "
                    f"(first lost: frame {int(lost[0])} at {t:.3f} s)" + (f"; {note}" if note else ""))
    yield ("end", task.video_id, len(rows), note)


def _read_clips(r: Any, task: VideoTask, want: np.ndarray) -> Iterator[tuple[Any, ...]]:
    n = r.num_frames
    cache: dict[int, np.ndarray] = {}
    for lo in range(0, len(want), task.chunk):
        centres = want[lo : lo + task.chunk]
        idx = centred_clips(centres, task.clip_len, n)
        needed = np.unique(idx)
        missing = [int(i) for i in needed if int(i) not in cache]
        got: dict[int, np.ndarray] = {i: cache[i] for i in needed.tolist() if i in cache}
        if missing:
            for i, f in zip(missing, r.get_frames(missing, size=task.size), strict=True):
                got[i] = f
        clips = np.stack([np.stack([got[int(i)] for i in row]) for row in idx])
        yield ("chunk", task.video_id, centres, r.times(centres), clips)
        cache = got


class Thumbnails:
    """JPEG thumbnails of a video's sampled frames that have none yet, written on a thread
    beside the decoder (JPEG encoding and file writes release the GIL), at most ~3 batches of
    frames in memory. ``add`` the frames at ``size`` as they decode, then ``close``."""

    def __init__(self, r: Any, task: VideoTask, want: np.ndarray) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.root, self.video_id = Path(task.thumbnails_dir or "."), task.video_id
        self.todo = {int(i) for i in want if not thumbnail_path(self.root, task.video_id, int(i)).exists()}
        self.size = thumbnail_size(r.info.display_width, r.info.height, task.thumbnail_height)
        self.written = 0
        self._pending: list[Any] = []
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="vidsift-thumbs") if self.todo else None
        if self.todo:
            thumbnail_path(self.root, task.video_id, 0).parent.mkdir(parents=True, exist_ok=True)

    def add(self, idx: np.ndarray, frames: np.ndarray) -> None:
        if self._pool is None:
            return
        self._pending.append(self._pool.submit(self._write, idx, frames))
        if len(self._pending) > 2:
            self.written += self._pending.pop(0).result()

    def close(self) -> int:
        """Wait for the writes; returns how many thumbnails were written (raises a write error)."""
        try:
            while self._pending:
                self.written += self._pending.pop(0).result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        return self.written

    def _write(self, idx: np.ndarray, frames: np.ndarray) -> int:
        n = 0
        for i, f in zip(idx.tolist(), frames, strict=True):
            if i in self.todo:
                write_jpeg(thumbnail_path(self.root, self.video_id, i), f, mkdir=False)
                n += 1
        return n


def write_video_thumbnails(r: Any, task: VideoTask, want: np.ndarray) -> int:
    """JPEG thumbnails of the sampled frames that have none yet (a second decode, 32 frames at
    a time: clip embedders, whose reads are not the frames themselves); returns how many."""
    thumbs = Thumbnails(r, task, want)
    todo = sorted(thumbs.todo)
    try:
        for i in range(0, len(todo), 32):
            thumbs.add(np.asarray(todo[i : i + 32]), r.get_frames(todo[i : i + 32], size=thumbs.size))
    finally:
        written = thumbs.close()
    return written
