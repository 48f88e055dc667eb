"""PyAV back-end: the fastest for sequential decoding here (~650 vs ~480 frames/s on bikes.mp4).

Frame indices are counted from the start of the stream while decoding, so they agree with
decord's for constant-frame-rate files. Random access seeks to the keyframe before the first
wanted frame and decodes forward, which is correct for any GOP structure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction

import av
import numpy as np

from video.backends.base import Backend
from video.info import MAX_PIXELS, MIN_SIDE, VideoInfo
from vidsift.errors import VideoError


def _rotation(stream: av.video.stream.VideoStream) -> int:
    rot = stream.metadata.get("rotate") if stream.metadata else None
    if rot is not None:
        try:
            return int(float(rot)) % 360
        except ValueError:
            return 0
    return 0


class PyAVBackend(Backend):
    NAME = "pyav"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            self._container = av.open(path, metadata_errors="ignore")
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise VideoError(path, f"not a readable video ({_short(exc)})") from exc
        if not self._container.streams.video:
            self._container.close()
            raise VideoError(path, "has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._info: VideoInfo | None = None

    def _count_frames(self) -> int:
        """Count frames by demuxing only (no decode) when the header does not say."""
        n = 0
        try:
            with av.open(self.path, metadata_errors="ignore") as c:
                for packet in c.demux(video=0):
                    if packet.size and packet.dts is not None:
                        n += 1
        except av.error.FFmpegError:
            pass
        return n

    @property
    def info(self) -> VideoInfo:
        if self._info is None:
            s = self._stream
            cc = s.codec_context
            width, height = int(cc.width or 0), int(cc.height or 0)
            if width <= 0 or height <= 0:
                raise VideoError(self.path, "video stream has no frame size")
            if min(width, height) < MIN_SIDE:
                raise VideoError(self.path, f"frame size {width}x{height} is too small (minimum {MIN_SIDE}x{MIN_SIDE})")
            if width * height > MAX_PIXELS:
                raise VideoError(self.path, f"absurd frame size {width}x{height}")
            rate = s.average_rate or s.guessed_rate or s.base_rate
            fps = float(rate) if rate else 0.0
            n = int(s.frames or 0)
            if n <= 0:
                n = self._count_frames()
            if fps <= 0 or fps > 1000:
                fps = 25.0
            self._info = VideoInfo(
                path=self.path, fps=fps, num_frames=n, width=width, height=height,
                duration=n / fps if fps else 0.0, codec=cc.name or "?",
                rotation=_rotation(s) or self._first_rotation(), backend=self.NAME,
            )
        return self._info

    def _to_array(self, frame: av.VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
        if size is None:
            return frame.to_ndarray(format="rgb24")
        h, w = size
        return frame.reformat(width=w, height=h, format="rgb24").to_ndarray()

    def _reopen(self) -> None:
        self._container.close()
        self._container = av.open(self.path, metadata_errors="ignore")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"

    def _decode_from(self, seek_index: int) -> Iterator[tuple[int, av.VideoFrame]]:
        """Decode forward, yielding (index, frame); seeks to a keyframe at or before ``seek_index``.

        Without a seek the index is the decode count; after a seek it comes from the timestamp,
        which agrees with the count on constant-frame-rate streams.
        """
        if self._started:
            self._reopen()  # a fresh demuxer is cheaper and safer than seeking back to 0
        self._started = True
        s = self._stream
        fps = Fraction(self.info.fps).limit_denominator(1001 * 1000)
        start_pts = self._first_pts()
        use_pts = seek_index > 0 and s.time_base is not None and start_pts is not None
        try:
            if use_pts:
                target = start_pts + int(Fraction(seek_index) / fps / s.time_base)
                self._container.seek(target, stream=s, backward=True, any_frame=False)
            count = 0
            for frame in self._container.decode(s):
                if use_pts:
                    if frame.pts is None:
                        raise VideoError(self.path, "frames carry no timestamps; cannot seek")
                    idx = round(float((frame.pts - start_pts) * s.time_base * fps))
                else:
                    idx = count
                count += 1
                yield idx, frame
        except av.error.FFmpegError as exc:
            raise VideoError(self.path, f"decoding failed ({_short(exc)})") from exc

    _started = False
    _first: int | None = -1

    _rot = 0

    def _first_rotation(self) -> int:
        """Rotation from the display matrix side data (PyAV exposes it on frames)."""
        self._first_pts()
        return self._rot

    def _first_pts(self) -> int | None:
        """Timestamp of the first decoded frame: the stream's start_time is not always it (MPEG-PS)."""
        if self._first == -1:
            self._first = None
            try:
                with av.open(self.path, metadata_errors="ignore") as c:
                    for frame in c.decode(video=0):
                        self._first = frame.pts
                        self._rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                        break
            except av.error.FFmpegError:
                pass
        return self._first

    def iter_range(self, start, stop, size):
        n = self.info.num_frames
        stop = min(stop, n) if n else stop
        for idx, frame in self._decode_from(start):
            if idx < start:
                continue
            if idx >= stop:
                break
            yield idx, self._to_array(frame, size)

    def get_frames(self, indices: Sequence[int], size):
        want = sorted(set(int(i) for i in indices))
        got: dict[int, np.ndarray] = {}
        if want:
            # One forward pass when the wanted frames are dense; a seek per gap otherwise.
            pos = 0
            while pos < len(want):
                first = want[pos]
                for idx, frame in self._decode_from(first):
                    if idx < want[pos]:
                        continue
                    while pos < len(want) and want[pos] < idx:
                        pos += 1  # frame missing from the stream: leave it for the error below
                    if pos >= len(want):
                        break
                    if idx == want[pos]:
                        got[idx] = self._to_array(frame, size)
                        pos += 1
                        if pos >= len(want):
                            break
                        if want[pos] - idx > 2 * max(1, int(self.info.fps)):
                            break  # far gap: cheaper to seek than to decode through it
                else:
                    break
        missing = [i for i in want if i not in got]
        if missing:
            # Timestamps did not map to frame numbers (odd muxing): count frames from the start.
            wanted = set(missing)
            for idx, frame in self._decode_from(0):
                if idx in wanted:
                    got[idx] = self._to_array(frame, size)
                    wanted.discard(idx)
                    if not wanted:
                        break
            missing = sorted(wanted)
        if missing:
            raise VideoError(self.path, f"frames {missing[:5]} could not be decoded (video has {self.info.num_frames})")
        return np.stack([got[int(i)] for i in indices]) if len(indices) else np.zeros((0, 0, 0, 3), np.uint8)

    def close(self) -> None:
        self._container.close()


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
