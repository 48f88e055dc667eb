"""Writer stage of extraction: embedded rows -> one Parquet shard per video, written atomically.

Rows of a video can arrive in any order and interleaved with other videos (batches span videos;
Ray does not keep order). A video's shard is written once all its rows are in, sorted by frame,
with ``time`` = the frame's presentation timestamp from the reader, the shot (from the catalog's shot starts) and the label. Because
``embedder.store.write_shard`` is atomic, a shard that exists is complete: a rerun skips it.

Writes (Parquet encoding, fsync, the catalog's status row) run on one background thread, in
order, so the model does not wait for the disk; they release the GIL. The first write error
stops all later writes and is raised to the caller at its next call (or at ``close``).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.embedder.store import shard_path, write_shard
from vidsift.errors import WorkspaceError


@dataclass
class _Pending:
    expected: int
    frames: list[np.ndarray] = field(default_factory=list)
    times: list[np.ndarray] = field(default_factory=list)
    note: str | None = None
    vectors: list[np.ndarray] = field(default_factory=list)
    rows: int = 0
    ended: bool = False


def shots_of(frames: np.ndarray, shot_starts: list[int]) -> np.ndarray:
    """Index of the shot that holds each frame (shot starts ascending, first is 0)."""
    if not shot_starts:
        return np.zeros(len(frames), np.int32)
    starts = np.asarray(sorted(shot_starts), np.int64)
    return np.clip(np.searchsorted(starts, frames, side="right") - 1, 0, None).astype(np.int32)


#: the collapse report's sample (``ShardWriter.sample``): rows per video, videos
SAMPLE_ROWS, SAMPLE_VIDEOS = 32, 64


class ShardWriter:
    """Collects each video's rows and writes its shard when the last one is in."""

    def __init__(
        self, store_dir: str | Path, embedder: str, records: dict[str, Any], catalog: Any, dim: int,
        background: bool = True,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.embedder = embedder
        self.records = records
        self.catalog = catalog
        self.dim = int(dim)
        self.pending: dict[str, _Pending] = {}
        self.done: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.partial: list[tuple[str, str]] = []
        #: a few rows of the first ``SAMPLE_VIDEOS`` written videos (by id): the collapse report
        #: reads them here instead of reading the store back
        self.sample: dict[str, np.ndarray] = {}
        self.frames_written = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="vidsift-writer") if background else None
        self._futures: list[Future] = []
        self._error: BaseException | None = None

    # -- background work ---------------------------------------------------------------------
    def _submit(self, fn: Any, *args: Any) -> None:
        if self._pool is None:
            self._guarded(fn, *args)
            self.check()
        else:
            self._futures.append(self._pool.submit(self._guarded, fn, *args))
            self.check()

    def _guarded(self, fn: Any, *args: Any) -> None:
        if self._error is not None:
            return  # after a failed write nothing more is written
        try:
            fn(*args)
        except BaseException as exc:
            self._error = exc

    def check(self) -> None:
        """Raise the first background error, if any."""
        self._futures = [f for f in self._futures if not f.done()]
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Wait for all writes; raise the first error."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._futures = []
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop after the write in progress (on an error elsewhere); nothing more is written."""
        if self._error is None:
            self._error = RuntimeError("aborted")
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- rows --------------------------------------------------------------------------------
    def start(self, video_id: str, expected: int) -> None:
        self.pending[video_id] = _Pending(int(expected))
        self._maybe_finish(video_id)

    def add(self, video_id: str, frames: np.ndarray, times: np.ndarray, vectors: np.ndarray) -> None:
        p = self.pending.get(video_id)
        if p is None:  # the video failed already; late rows are dropped
            return
        p.frames.append(np.asarray(frames, np.int64))
        p.times.append(np.asarray(times, np.float64))
        p.vectors.append(np.asarray(vectors, np.float32))
        p.rows += len(frames)
        self._maybe_finish(video_id)

    def end(self, video_id: str, rows: int | None = None, note: str | None = None) -> None:
        """The reader is done with ``video_id``: ``rows`` were sent (default: as planned)."""
        p = self.pending.get(video_id)
        if p is not None:
            p.ended = True
            if rows is not None and rows != p.expected:
                if rows == 0:
                    self.fail(video_id, note or "no sampled frame could be decoded")
                    return
                p.expected = int(rows)
            p.note = note
            if p.rows > p.expected:
                self.fail(video_id, f"reader produced {p.rows} rows, expected {p.expected}")
                return
            self._maybe_finish(video_id)

    def fail(self, video_id: str, reason: str) -> None:
        self.pending.pop(video_id, None)
        rec = self.records[video_id]
        self.failed.append((rec.path, reason))
        self._submit(self.catalog.set_embed_status, video_id, self.embedder, "error", reason)

    def open_videos(self) -> list[str]:
        return list(self.pending)

    def _maybe_finish(self, video_id: str) -> None:
        p = self.pending[video_id]
        if p.ended and p.rows == p.expected:
            self._write(video_id, p)

    def _write(self, video_id: str, p: _Pending) -> None:
        rec = self.records[video_id]
        frames = np.concatenate(p.frames) if p.frames else np.zeros(0, np.int64)
        times = np.concatenate(p.times) if p.times else np.zeros(0, np.float64)
        vectors = np.concatenate(p.vectors) if p.vectors else np.zeros((0, self.dim), np.float32)
        order = np.argsort(frames, kind="stable")
        frames, times, vectors = frames[order], times[order], vectors[order]
        if len(np.unique(frames)) != len(frames):
            self.fail(video_id, "reader produced duplicate frames")
            return
        if not np.isfinite(vectors).all():
            self.fail(video_id, "the embedder produced NaN or infinite values")
            return
        meta = {
            "video_id": [video_id] * len(frames),
            "path": [rec.path] * len(frames),
            "frame": frames,
            "time": times,
            "shot": shots_of(frames, list(rec.shots)),
            "label": [rec.label] * len(frames),
        }
        self.pending.pop(video_id, None)
        self._submit(self._write_now, video_id, meta, vectors, p.note)

    def _keep_sample(self, video_id: str, vectors: np.ndarray) -> None:
        """Keep up to ``SAMPLE_ROWS`` evenly spaced rows of ``video_id`` while it is among the
        ``SAMPLE_VIDEOS`` smallest ids written (the same videos whatever order they finish in)."""
        if len(self.sample) >= SAMPLE_VIDEOS and video_id > max(self.sample):
            return
        step = max(1, -(-len(vectors) // SAMPLE_ROWS))
        self.sample[video_id] = np.array(vectors[::step])
        if len(self.sample) > SAMPLE_VIDEOS:
            del self.sample[max(self.sample)]

    def sampled_vectors(self) -> np.ndarray:
        """The kept rows, videos in id order (``[0, dim]`` when none was written)."""
        rows = [self.sample[v] for v in sorted(self.sample)]
        return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)

    def _write_now(self, video_id: str, meta: dict[str, Any], vectors: np.ndarray, note: str | None = None) -> None:
        rec = self.records[video_id]
        try:
            write_shard(self.store_dir, video_id, meta, vectors)
        except OSError as exc:
            raise WorkspaceError(
                f"{shard_path(self.store_dir, video_id)}: cannot write the shard of {rec.path} "
                f"({exc.strerror or exc}); {len(self.done)} video(s) finished in this run are kept; "
                "free disk space or fix permissions and rerun"
            ) from None
        self.catalog.set_embed_status(video_id, self.embedder, "ok", note)
        self._keep_sample(video_id, vectors)
        self.frames_written += len(vectors)
        self.done.append(rec.path)
        if note:
            self.partial.append((rec.path, note))
