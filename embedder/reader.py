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
Thumbnails of every sampled frame are written here too when asked, from a second decode at the
thumbnail size: the embedding input never depends on whether thumbnails are on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
            for idx, times, frames in r.iter_timed(every=task.every, fps=task.fps, size=task.size,
                                                   batch=task.chunk, keyframes=task.keyframes):
                sent.append(idx)
                yield ("chunk", task.video_id, idx, times, frames)
        else:
            for msg in _read_clips(r, task, want):
                sent.append(msg[2])
                yield msg
        rows = np.concatenate(sent) if sent else np.zeros(0, np.int64)
        if task.thumbnails_dir is not None and len(rows):
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


def write_video_thumbnails(r: Any, task: VideoTask, want: np.ndarray) -> int:
    """JPEG thumbnails of the sampled frames that have none yet; returns how many were written.

    JPEG encoding and file writes release the GIL, so they run on a thread beside the decoder.
    """
    from concurrent.futures import ThreadPoolExecutor

    from vidsift.embedder.thumbnails import thumbnail_path, thumbnail_size, write_jpeg

    root = Path(task.thumbnails_dir or ".")
    todo = [int(i) for i in want if not thumbnail_path(root, task.video_id, int(i)).exists()]
    if not todo:
        return 0
    size = thumbnail_size(r.info.width, r.info.height, task.thumbnail_height)
    todo_set = set(todo)
    thumbnail_path(root, task.video_id, 0).parent.mkdir(parents=True, exist_ok=True)
    stream = ((np.asarray(todo[i : i + 32]), r.get_frames(todo[i : i + 32], size=size)) for i in range(0, len(todo), 32))

    def write(idx: np.ndarray, frames: np.ndarray) -> int:
        n = 0
        for i, f in zip(idx.tolist(), frames, strict=True):
            if i in todo_set:
                write_jpeg(thumbnail_path(root, task.video_id, i), f, mkdir=False)
                n += 1
        return n

    written = 0
    with ThreadPoolExecutor(1, thread_name_prefix="vidsift-thumbs") as pool:
        pending: list[Any] = []
        for idx, frames in stream:
            pending.append(pool.submit(write, idx, frames))
            if len(pending) > 2:  # bounded: at most ~3 batches of frames in memory
                written += pending.pop(0).result()
        written += sum(f.result() for f in pending)
    return written
