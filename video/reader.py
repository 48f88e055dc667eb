"""Open, probe and read videos, choosing the back-end per file and per access pattern.

The preferred back-end per access pattern is measured (``PREFERENCE``, ``bench/decode.py``). A file
that one back-end cannot open, or numbers differently (decord shifts MPEG-PS), is read with the
other. Every
failure is a ``VideoError`` whose message starts with the file's path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from video.backends import BACKENDS, Backend
from video.info import VideoInfo
from vidsift.errors import BadInputError, VideoError, VidsiftError

# Sampling sparser than this many frames apart is served by random access instead of decoding
# everything in between.
SPARSE_STEP = 12

# Back-end preference per access pattern, from `python -m bench.decode` on this machine class
# (bikes.mp4, 2 cores): PyAV 613 vs decord 204 frames/s sequential, 290 vs 40 for 60 sorted random
# frames (PyAV seeks to the keyframe and decodes forward). decord stays the fallback for files PyAV
# cannot read; VIDSIFT_RANDOM_BACKEND=decord makes it first for random access (long-GOP files).
PREFERENCE = {
    "sequential": ("pyav", "decord"),
    "random": (os.environ.get("VIDSIFT_RANDOM_BACKEND", "pyav"), "decord", "pyav"),
}


def available_backends() -> list[str]:
    return sorted(BACKENDS)


def _check_file(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise VideoError(p, "no such file")
    if p.is_dir():
        raise VideoError(p, "is a folder, not a video file")
    if p.stat().st_size == 0:
        raise VideoError(p, "empty file (0 bytes)")
    return str(p)


def _check_size(size: tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    h, w = (int(size[0]), int(size[1]))
    if not (1 <= h <= 8192 and 1 <= w <= 8192):
        raise BadInputError(f"frame size {h}x{w} is out of range (1..8192)")
    return h, w


class VideoReader:
    """Frames of one video as uint8 RGB arrays. Use as a context manager."""

    def __init__(self, path: str | Path, backend: str = "auto") -> None:
        self.path = _check_file(path)
        if backend != "auto" and backend not in BACKENDS:
            raise BadInputError(
                f"unknown video back-end '{backend}'; available: {', '.join(available_backends())}"
            )
        self._choice = backend
        self._opened: dict[str, Backend] = {}
        self._failed: dict[str, str] = {}
        self._verified: dict[str, bool] = {}
        order = [backend] if backend != "auto" else [b for b in ("pyav", "decord") if b in BACKENDS]
        if not order:
            raise VideoError(self.path, "no video back-end is installed (pip install av decord)")
        first = self._open(order[0]) or (self._open(order[1]) if len(order) > 1 else None)
        if first is None:
            reasons = "; ".join(f"{k}: {v}" for k, v in self._failed.items())
            raise VideoError(self.path, reasons.split(": ", 1)[-1] if len(self._failed) == 1 else reasons)
        self.info = first.info
        if self.info.num_frames <= 0:
            raise VideoError(self.path, "contains no frames")

    def _open(self, name: str) -> Backend | None:
        if name in self._opened:
            return self._opened[name]
        if name in self._failed or name not in BACKENDS:
            return None
        try:
            kwargs = {"probe": self.info} if name == "decord" and hasattr(self, "info") else {}
            b = BACKENDS[name](self.path, **kwargs)
            _ = b.info
        except VideoError as exc:
            self._failed[name] = exc.reason
            return None
        except Exception as exc:  # noqa: BLE001 - any failure on a damaged file means unreadable
            self._failed[name] = f"not a readable video ({type(exc).__name__}: {str(exc)[:120]})"
            return None
        self._opened[name] = b
        return b

    def _backend_for(self, pattern: str) -> Backend:
        if self._choice != "auto":
            return self._opened[self._choice]
        for name in dict.fromkeys(PREFERENCE[pattern]):
            b = self._open(name)
            if b is not None and self._agrees(name, b):
                return b
        return next(iter(self._opened.values()))

    def _agrees(self, name: str, b: Backend) -> bool:
        """Whether a second back-end numbers frames like the first one did for this file.

        decord shifts MPEG-PS files (cityCC0.mpg) by 12 frames; comparing two small frames once
        per file catches that before any of its frames are used.
        """
        if name in self._verified:
            return self._verified[name]
        ok = b.info.num_frames == self.info.num_frames
        ref_name = next(iter(self._opened))
        if ok and name != ref_name:
            probe_idx = [0, self.info.num_frames // 2]
            try:
                ref = self._opened[ref_name].get_frames(probe_idx, (32, 32)).astype(np.int16)
                got = b.get_frames(probe_idx, (32, 32)).astype(np.int16)
                ok = float(np.abs(ref - got).mean()) < 3.0
            except Exception:  # noqa: BLE001 - a back-end that fails here is simply not used
                ok = False
        self._verified[name] = ok
        return ok

    # -- reading ---------------------------------------------------------------------------
    def sample_indices(self, every: int = 1, fps: float | None = None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frame indices taken every ``every`` frames, or at ``fps`` samples per second."""
        n = self.info.num_frames
        stop = n if stop is None else min(int(stop), n)
        if fps is not None:
            if not fps > 0:
                raise BadInputError(f"--fps must be positive, got {fps}")
            times = np.arange(start / self.info.fps, stop / self.info.fps, 1.0 / fps)
            idx = np.unique(np.clip(np.round(times * self.info.fps).astype(np.int64), start, max(start, stop - 1)))
            return idx[idx < stop]
        if int(every) < 1:
            raise BadInputError(f"--every must be at least 1, got {every}")
        return np.arange(start, stop, int(every), dtype=np.int64)

    def iter_frames(
        self, *args, **kwargs
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(indices int64 [B], frames uint8 [B, H, W, 3])`` in order, streaming.

        Arguments as ``_iter_frames``: ``every``, ``fps``, ``size`` (H, W), ``batch``, ``start``, ``stop``.
        """
        try:
            yield from self._iter_frames(*args, **kwargs)
        except VidsiftError:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged data deep in a decoder
            raise VideoError(self.path, f"decoding failed ({type(exc).__name__}: {str(exc)[:120]})") from exc

    def _iter_frames(
        self,
        every: int = 1,
        fps: float | None = None,
        size: tuple[int, int] | None = None,
        batch: int = 64,
        start: int = 0,
        stop: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        size = _check_size(size)
        want = self.sample_indices(every, fps, start, stop)
        if len(want) == 0:
            return
        steps = np.diff(want)
        sparse = len(steps) > 0 and float(np.median(steps)) >= SPARSE_STEP
        if sparse:
            for lo in range(0, len(want), batch):
                part = want[lo : lo + batch]
                yield part, self.get_frames(part, size)
            return
        wanted = set(want.tolist())
        backend = self._backend_for("sequential")
        idx_buf: list[int] = []
        buf: list[np.ndarray] = []
        for i, frame in backend.iter_range(int(want[0]), int(want[-1]) + 1, size):
            if i in wanted:
                idx_buf.append(i)
                buf.append(frame)
                if len(buf) == batch:
                    yield np.asarray(idx_buf, np.int64), np.stack(buf)
                    idx_buf, buf = [], []
        if buf:
            yield np.asarray(idx_buf, np.int64), np.stack(buf)

    def get_frames(self, indices: Sequence[int], size: tuple[int, int] | None = None) -> np.ndarray:
        """Frames at ``indices`` (random access), ``[N, H, W, 3]``."""
        size = _check_size(size)
        n = self.info.num_frames
        idx = [int(i) for i in indices]
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise BadInputError(f"{self.path}: frame {bad[0]} does not exist (valid 0..{n - 1})")
        if not idx:
            h, w = size or (self.info.height, self.info.width)
            return np.zeros((0, h, w, 3), np.uint8)
        backend = self._backend_for("random")
        try:
            return self._guarded(backend.get_frames, idx, size)
        except VideoError:
            # One back-end failing on a file another can read: fall back, remember the choice.
            others = [b for n, b in self._opened.items() if b is not backend and self._verified.get(n, True)]
            if self._choice != "auto" or not others:
                raise
            self._verified[backend.NAME] = False
            return self._guarded(others[0].get_frames, idx, size)

    def _guarded(self, fn, *args):
        try:
            return fn(*args)
        except VidsiftError:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged data deep in a decoder
            raise VideoError(self.path, f"decoding failed ({type(exc).__name__}: {str(exc)[:120]})") from exc

    def get_clip(self, start: int, length: int, stride: int = 1, size: tuple[int, int] | None = None) -> np.ndarray:
        """``length`` frames from ``start`` every ``stride`` frames, ``[T, H, W, 3]``."""
        if length < 1 or stride < 1:
            raise BadInputError(f"clip length and stride must be >= 1 (got {length}, {stride})")
        return self.get_frames(range(start, start + length * stride, stride), size)

    def close(self) -> None:
        for b in self._opened.values():
            b.close()
        self._opened.clear()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(path: str | Path, backend: str = "auto") -> VideoReader:
    return VideoReader(path, backend)


def probe(path: str | Path) -> VideoInfo:
    """Metadata of a video, after checking that its first frame decodes."""
    with VideoReader(path) as r:
        r.get_frames([0], size=(16, 16))
        return r.info
