"""decord back-end: the user's choice and the faster one for random access (sorted batches).

decord can resize while decoding, which is both faster and lighter than resizing afterwards;
a ``VideoReader`` is therefore kept per requested size. Never ask it for a whole video at once
(2.4 GB for 1800 frames, see perf-anchors): frames are fetched in chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

import decord  # noqa: E402  (import errors are handled by the registry)
import numpy as np

from video.backends.base import Backend
from video.info import MAX_PIXELS, MIN_SIDE, VideoInfo
from video.resize import resize_frames
from vidsift.errors import VideoError

CHUNK = 64


class DecordBackend(Backend):
    NAME = "decord"

    def __init__(self, path: str, probe: VideoInfo | None = None) -> None:
        super().__init__(path)
        self._readers: dict[tuple[int, int] | None, decord.VideoReader] = {}
        self._probe = probe
        self._bad_sizes: set[tuple[int, int]] = set()
        self._info: VideoInfo | None = None
        self._reader(None)

    def _reader(self, size: tuple[int, int] | None) -> decord.VideoReader:
        if size not in self._readers:
            kw = {} if size is None else {"height": int(size[0]), "width": int(size[1])}
            try:
                self._readers[size] = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=1, **kw)
            except (decord.DECORDError, RuntimeError, OSError) as exc:
                raise VideoError(self.path, f"decord cannot open it ({str(exc).splitlines()[0][:200]})") from exc
        return self._readers[size]

    @property
    def info(self) -> VideoInfo:
        if self._info is None:
            vr = self._reader(None)
            h, w = vr[0].shape[:2] if len(vr) else (0, 0)
            if min(h, w) < MIN_SIDE:
                raise VideoError(self.path, f"frame size {w}x{h} is too small (minimum {MIN_SIDE}x{MIN_SIDE})")
            if h * w > MAX_PIXELS:
                raise VideoError(self.path, f"absurd frame size {w}x{h}")
            fps = float(vr.get_avg_fps() or 0) or 25.0
            p = self._probe
            self._info = VideoInfo(
                path=self.path, fps=fps, num_frames=len(vr), width=w, height=h,
                duration=len(vr) / fps, codec=p.codec if p else "?",
                rotation=p.rotation if p else 0, backend=self.NAME,
            )
        return self._info

    def _batch(self, indices: list[int], size: tuple[int, int] | None) -> np.ndarray:
        if size is not None and size in self._bad_sizes:
            return resize_frames(self._batch(indices, None), size)
        vr = self._reader(size)
        try:
            return vr.get_batch(indices).asnumpy()
        except (decord.DECORDError, RuntimeError, IndexError) as exc:
            if size is not None and "must exactly match" in str(exc):
                # decord 0.6.0 resizes wrongly for some widths (16, 48, ...): resize afterwards.
                self._bad_sizes.add(size)
                self._readers.pop(size, None)
                return resize_frames(self._batch(indices, None), size)
            raise VideoError(self.path, f"decoding failed ({str(exc).splitlines()[0][:200]})") from exc

    def iter_range(self, start, stop, size):
        stop = min(stop, self.info.num_frames)
        for lo in range(start, stop, CHUNK):
            idx = list(range(lo, min(lo + CHUNK, stop)))
            frames = self._batch(idx, size)
            yield from zip(idx, frames, strict=True)

    def get_frames(self, indices: Sequence[int], size):
        n = self.info.num_frames
        bad = [int(i) for i in indices if not 0 <= int(i) < n]
        if bad:
            raise VideoError(self.path, f"frame {bad[0]} is out of range (video has {n} frames)")
        # Sorted, de-duplicated chunks are much faster for decord than arbitrary order.
        want = sorted(set(int(i) for i in indices))
        got: dict[int, np.ndarray] = {}
        for lo in range(0, len(want), CHUNK):
            part = want[lo : lo + CHUNK]
            got.update(zip(part, self._batch(part, size), strict=True))
        if not len(indices):
            return np.zeros((0, 0, 0, 3), np.uint8)
        return np.stack([got[int(i)] for i in indices])

    def close(self) -> None:
        self._readers.clear()
