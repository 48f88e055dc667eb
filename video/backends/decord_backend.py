"""decord back-end: the fallback for files PyAV cannot open.

decord numbers frames by its own index and gives each a timestamp; both are used as they are,
so a file read with decord is numbered consistently with itself. Frames are fetched in chunks:
never ask decord for a whole video at once (2.4 GB for 1800 frames, see perf-anchors).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

import decord  # noqa: E402  (import errors are handled by the registry)
import decord.logging
import numpy as np

from vidsift.errors import VideoError
from vidsift.video.backends.base import Backend
from vidsift.video.info import MAX_PIXELS, MIN_SIDE, VideoInfo
from vidsift.video.resize import resize_frames

CHUNK = 64

# decord's FFmpeg would print its complaints ("moov atom not found", damaged macroblocks) to the
# terminal, through the progress bars; what matters reaches the user as a ``VideoError``.
decord.logging.set_level(decord.logging.QUIET)
_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """File descriptor 2 pointed at /dev/null: decord's C++ logger writes "ERROR opening: ..."
    there for every file it cannot open, a second report of the failure we report in one line.
    Only around opening a file, which is quick; Python's own ``sys.stderr`` is flushed first.
    One thread at a time: two overlapping redirections could restore /dev/null for good."""
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 to silence
            yield
            return
        try:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 2)
                try:
                    yield
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)


class DecordBackend(Backend):
    NAME = "decord"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            with _quiet_native_stderr():
                self._vr = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=1)
        except (decord.DECORDError, RuntimeError, OSError) as exc:
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            # "Error reading PATH..." says nothing the message does not (it starts with the path)
            said = f" ({detail})" if detail and self.path not in detail else ""
            raise VideoError(self.path, f"decord cannot open it{said}") from exc
        self._info: VideoInfo | None = None
        self._times: np.ndarray | None = None

    @property
    def info(self) -> VideoInfo:
        if self._info is None:
            vr = self._vr
            h, w = vr[0].shape[:2] if len(vr) else (0, 0)
            if min(h, w) < MIN_SIDE:
                raise VideoError(self.path, f"frame size {w}x{h} is too small (minimum {MIN_SIDE}x{MIN_SIDE})")
            if h * w > MAX_PIXELS:
                raise VideoError(self.path, f"absurd frame size {w}x{h}")
            fps = float(vr.get_avg_fps() or 0) or 25.0
            self._info = VideoInfo(
                path=self.path, fps=fps, num_frames=len(vr), width=w, height=h,
                duration=len(vr) / fps, codec="?", rotation=0, backend=self.NAME,
            )
        return self._info

    def _frame_times(self) -> np.ndarray:
        if self._times is None:
            n = len(self._vr)
            ts = np.asarray(self._vr.get_frame_timestamp(list(range(n))), np.float64).reshape(n, -1)[:, 0]
            self._times = np.maximum.accumulate(ts - ts[0]) if n else ts
        return self._times

    def decode(self, from_seconds: float | None = None, keyframes_only: bool = False) -> Iterator[tuple[float, bool, np.ndarray]]:
        try:
            times = self._frame_times()
            keys = set(int(k) for k in self._vr.get_key_indices())
            order = sorted(keys) if keyframes_only else range(len(times))
            first = 0
            if from_seconds is not None and from_seconds > 0:
                before = [k for k in keys if times[k] <= from_seconds + 1e-6]
                first = max(before) if before else 0
            todo = [int(i) for i in order if i >= first]
            for lo in range(0, len(todo), CHUNK):
                part = todo[lo : lo + CHUNK]
                for i, f in zip(part, self._vr.get_batch(part).asnumpy(), strict=True):
                    yield float(times[i]), i in keys, f
        except (decord.DECORDError, RuntimeError, IndexError) as exc:
            raise VideoError(self.path, f"decoding failed ({str(exc).splitlines()[0][:200]})") from exc

    def to_array(self, picture: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
        if size is None:
            return picture
        return resize_frames(picture[None], size)[0]

    def close(self) -> None:
        self._vr = None  # type: ignore[assignment]
