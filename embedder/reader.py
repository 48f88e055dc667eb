"""Reader stage of extraction: one video -> chunks of sampled frames (or clips) at the input size.

The reader, mapper (the embedder) and writer (``embedder.writer``) are separate so that each can
run where it fits (clip-retrieval's split): the local engine runs ``read_video`` in worker
processes ahead of the model, the Ray engine in Ray tasks. Both see the same messages::

    ("start", video_id, n)                   n sampled frames (rows) will follow
    ("chunk", video_id, frames int64 [B], pixels uint8 [B, H, W, 3] | [B, T, H, W, 3])
    ("end", video_id)

``frames`` are the sampled frame indices (the centre frame of each clip for clip embedders).
Thumbnails of every sampled frame are written here too when asked, from a second decode at the
thumbnail size: the embedding input never depends on whether thumbnails are on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError

# Sampled clips whose frames span at most this many times their count are decoded sequentially;
# sparser ones by sorted random access.
DENSE_RATIO = 3


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
    chunk: int = 64
    thumbnails_dir: str | None = None  # <workspace>/thumbnails when thumbnails are wanted
    thumbnail_height: int = 96


def clip_indices(centres: np.ndarray, clip_len: int, num_frames: int) -> np.ndarray:
    """``[N, T]`` frame indices of the clip centred on each frame, clamped inside the video.

    The clip starts ``T // 2`` frames before its centre and is shifted (not cut) at either end;
    a video shorter than ``T`` repeats its last frame.

    Example:
        >>> clip_indices(np.array([0, 5, 9]), 4, 10).tolist()
        [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    """
    centres = np.asarray(centres, np.int64)
    start = np.clip(centres - clip_len // 2, 0, max(0, num_frames - clip_len))
    idx = start[:, None] + np.arange(clip_len, dtype=np.int64)[None, :]
    return np.minimum(idx, num_frames - 1)


def expected_rows(num_frames: int, video_fps: float, every: int = 1, fps: float | None = None) -> int:
    """How many frames the reader samples (an estimate for progress bars; the reader decides)."""
    if num_frames <= 0:
        return 0
    if fps is not None and video_fps > 0:
        times = np.arange(0.0, num_frames / video_fps, 1.0 / fps)
        return int(len(np.unique(np.clip(np.round(times * video_fps), 0, num_frames - 1))))
    return (num_frames + max(1, every) - 1) // max(1, every)


def read_video(task: VideoTask) -> Iterator[tuple[Any, ...]]:
    """Decode one video into reader messages; raises ``VideoError`` when it cannot be read."""
    from video import open_video

    with open_video(task.path) as r:
        want = r.sample_indices(task.every, task.fps)
        yield ("start", task.video_id, len(want))
        if task.unit == "frame":
            for idx, frames in r.iter_frames(every=task.every, fps=task.fps, size=task.size, batch=task.chunk):
                yield ("chunk", task.video_id, idx, frames)
        else:
            yield from _read_clips(r, task, want)
        if task.thumbnails_dir is not None:
            write_video_thumbnails(r, task, want)
    yield ("end", task.video_id)


def _read_clips(r: Any, task: VideoTask, want: np.ndarray) -> Iterator[tuple[Any, ...]]:
    n = r.info.num_frames
    cache: dict[int, np.ndarray] = {}
    for lo in range(0, len(want), task.chunk):
        centres = want[lo : lo + task.chunk]
        idx = clip_indices(centres, task.clip_len, n)
        needed = np.unique(idx)
        missing = [int(i) for i in needed if int(i) not in cache]
        got: dict[int, np.ndarray] = {i: cache[i] for i in needed.tolist() if i in cache}
        if missing:
            first, last = missing[0], missing[-1]
            if last - first + 1 <= DENSE_RATIO * len(missing):
                wanted = set(missing)
                for fidx, frames in r.iter_frames(size=task.size, batch=256, start=first, stop=last + 1):
                    for i, f in zip(fidx.tolist(), frames, strict=True):
                        if i in wanted:
                            got[i] = f
            else:
                for i, f in zip(missing, r.get_frames(missing, size=task.size), strict=True):
                    got[i] = f
        if len(got) != len(needed):
            from vidsift.errors import VideoError

            lost = sorted(set(needed.tolist()) - set(got))
            raise VideoError(task.path, f"frames {lost[:3]} could not be decoded")
        clips = np.stack([np.stack([got[int(i)] for i in row]) for row in idx])
        yield ("chunk", task.video_id, centres, clips)
        cache = got


def thumbnail_size(width: int, height: int, target_height: int = 96) -> tuple[int, int]:
    """(H, W) of a thumbnail: ``target_height`` tall (never upscaled), aspect kept, W even."""
    h = min(int(target_height), int(height))
    w = max(2, int(round(width * h / max(1, height) / 2)) * 2)
    return max(1, h), w


def write_video_thumbnails(r: Any, task: VideoTask, want: np.ndarray) -> int:
    """JPEG thumbnails of the sampled frames that have none yet; returns how many were written.

    JPEG encoding and file writes release the GIL, so they run on a thread beside the decoder.
    """
    from concurrent.futures import ThreadPoolExecutor

    from embedder.thumbnails import thumbnail_path, write_jpeg

    root = Path(task.thumbnails_dir or ".")
    todo = [int(i) for i in want if not thumbnail_path(root, task.video_id, int(i)).exists()]
    if not todo:
        return 0
    size = thumbnail_size(r.info.width, r.info.height, task.thumbnail_height)
    todo_set = set(todo)
    thumbnail_path(root, task.video_id, 0).parent.mkdir(parents=True, exist_ok=True)
    if len(todo) == len(want):
        stream = r.iter_frames(every=task.every, fps=task.fps, size=size, batch=32)
    else:
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


def check_sampling(every: int | None, fps: float | None) -> tuple[int, float | None]:
    """Validate ``--every`` / ``--fps`` (at most one); default: every frame."""
    if every is not None and fps is not None:
        raise BadInputError("give --every N or --fps F, not both")
    if fps is not None:
        if not float(fps) > 0:
            raise BadInputError(f"--fps must be positive, got {fps}")
        return 1, float(fps)
    every = 1 if every is None else int(every)
    if every < 1:
        raise BadInputError(f"--every must be at least 1, got {every}")
    return every, None
