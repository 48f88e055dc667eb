"""PyAV back-end: the default one (fastest here for sequential decoding, ~650 vs ~480 frames/s
on bikes.mp4, and the only one that sees every stream's timestamps as FFmpeg gives them).

Timestamps are ``frame.pts * time_base`` minus the earliest one (the stream's ``start_time`` is
not always the first frame's: MPEG-PS, B-frame delays). Containers without a presentation time
per packet (H.264 with B-frames in AVI) hand the decoder's output frames their *decode-order*
stamps, so times come out shuffled (1, 3, 2, 5, 4, ... frames); the decoder's output order is
the display order, so the stamps are put back in ascending order over a small window
(``_in_order``), which leaves well-formed streams untouched. Packets that fail to decode
are skipped and counted (a damaged stretch loses only its own pictures); the container failing
to deliver packets ends the stream with a ``VideoError`` after what decoded. Scaling happens in
libswscale (one ``VideoReformatter`` per file), not on full-size RGB copies; shot detection
reads the luma plane directly (``to_luma``). A file is opened once per pass: the frames the
origin probe decodes start the first pass.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Iterator
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from vidsift.errors import NoVideoStreamError, VideoError
from vidsift.video.backends.base import Backend
from vidsift.video.info import MAX_PIXELS, MIN_SIDE, VideoInfo
from vidsift.video.isobmff import missing_index_reason
from vidsift.video.streams import stream_kinds, video_stream

# Packets in a row that may fail to decode before the stream is given up on.
MAX_BAD_PACKETS = 64
# Frames held back to put timestamps in presentation order (see ``_in_order``). B-frame reorder
# delays are at most 4 in H.264 / HEVC streams seen here; 8 leaves room at small memory cost.
REORDER = 8
# Source pictures of at most this many pixels are converted on one libswscale thread: below it
# handing slices to threads costs more than the work, in CPU and mostly by the clock too (CPU per
# picture, one thread vs FFmpeg's choice on 2 cores: 128x96 -> 64x64 21 vs 76 us, 640x360 150 vs
# 262 us; same bits), and a model beside the decoder keeps its core. Larger pictures keep
# FFmpeg's choice, faster by the clock (720p -> 64x64: 400 vs 506 us). docs/perf_decoding.md.
SWS_ONE_THREAD_PIXELS = 640 * 360
# Pixel formats whose first plane is 8-bit luma: ``to_luma`` reads it in place.
LUMA8 = frozenset({
    "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p", "yuvj440p",
    "yuv411p", "yuvj411p", "yuv410p", "nv12", "nv21", "nv16", "nv24", "gray", "yuva420p",
})


def _rotation(stream: av.video.stream.VideoStream) -> int:
    """The legacy ``rotate`` tag as FFmpeg's display-matrix angle (counter-clockwise): the tag
    says how far to turn the picture clockwise."""
    rot = stream.metadata.get("rotate") if stream.metadata else None
    if rot is not None:
        try:
            return -int(float(rot)) % 360
        except ValueError:
            return 0
    return 0


def _sar(stream: Any) -> float:
    """The stream's sample aspect ratio (1.0 when unset, 0/1, or absurd)."""
    r = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    try:
        value = float(r) if r else 1.0
    except (ZeroDivisionError, TypeError, ValueError):
        return 1.0
    return value if 0.1 <= value <= 10 else 1.0


class PyAVBackend(Backend):
    NAME = "pyav"

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            self._container = av.open(path, metadata_errors="ignore")
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            why = missing_index_reason(path) if isinstance(exc, av.error.InvalidDataError) else None
            raise VideoError(path, f"not a readable video ({why or _short(exc)})") from exc
        stream = video_stream(self._container)
        if stream is None:
            kinds = stream_kinds(self._container)
            self._container.close()
            raise NoVideoStreamError(path, kinds)
        self._stream_index = stream.index
        self._stream = stream
        self._stream.thread_type = "AUTO"
        self._info: VideoInfo | None = None
        self._started = False  # the open container has been read from
        self._origin: float | None = None  # raw seconds of the first decoded frame
        self._primed: list[av.VideoFrame] = []  # the frames the origin probe decoded ...
        self._rest: Iterator[av.VideoFrame] | None = None  # ... and the rest of that pass
        self._rot = 0
        self._quarter = 0  # quarter turns (counter-clockwise) from stored to shown: set by ``info``
        self.bad_packets = 0  # packets that failed to decode in the last pass
        # One libswscale context for the whole file: ``VideoFrame.reformat`` builds a new one per
        # frame, whose filter set-up cost more than the scaling (720p -> 16x16: 2.3 s vs 1.2 s
        # for 300 frames, bikes.mp4 12x; docs/perf_decoding.md). Same pixels either way. One per
        # output size and format: a picture converted to two sizes (frames and their thumbnails)
        # would otherwise rebuild the context at every call.
        self._sws_by: dict[tuple[Any, ...], VideoReformatter] = {}
        self._threads = 0  # decoder threads; 0: FFmpeg's choice (about one per core)

    def _count_packets(self) -> int:
        """Frames by demuxing only (no decode), when the header does not say: an estimate."""
        n = 0
        try:
            with av.open(self.path, metadata_errors="ignore") as c:
                for packet in c.demux(c.streams[self._stream_index]):
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
                n = self._count_packets()
            if fps <= 0 or fps > 1000:
                fps = 25.0
            self.origin()  # also reads the display rotation of the first frame
            rotation = _rotation(s) or self._rot
            # pictures come out turned as a player shows them (a phone's portrait clip is stored
            # sideways with a display matrix): quarter turns counter-clockwise, as FFmpeg's angle
            self._quarter = rotation // 90 % 4 if rotation % 90 == 0 else 0
            sar = _sar(s)
            if self._quarter % 2:
                width, height, sar = height, width, 1 / sar
            self._info = VideoInfo(
                path=self.path, fps=fps, num_frames=n, width=width, height=height,
                duration=n / fps if fps else 0.0, codec=cc.name or "?",
                rotation=rotation, backend=self.NAME, sar=sar,
            )
        return self._info

    def origin(self) -> float:
        """Raw time (s) of the first frame shown: what frame times are relative to (the
        earliest stamp among the first frames, which B-frame reordering may shuffle, up to the
        first damaged packet). The probe decodes those frames from the open container and keeps
        them: the first pass from the start continues from there (``decode``) instead of
        opening the file a second time (one open and ``REORDER`` decoded frames a video: 7-9 %
        of decoding 150-frame clips; docs/perf_decoding.md)."""
        if self._origin is None:
            stamps: list[float] = []
            frames = self._frames()
            self._started = True  # the container has been read: any other pass reopens it
            try:
                for k, frame in enumerate(frames):
                    if k == 0:
                        self._rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                    self._primed.append(frame)
                    t = _seconds(frame)
                    if not self.bad_packets and t is not None:
                        stamps.append(t)
                    if k + 1 >= REORDER:
                        break
                self._rest = frames
            except av.error.FFmpegError:
                self._primed = []
            self._origin = min(stamps) if stamps else 0.0
        return self._origin

    def _reopen(self) -> None:
        self._container.close()
        self._container = av.open(self.path, metadata_errors="ignore")
        self._stream = self._container.streams[self._stream_index]
        self._stream.thread_type = "AUTO"
        if self._threads:
            self._stream.codec_context.thread_count = self._threads

    def set_threads(self, n: int) -> None:
        """Decoder threads (0: FFmpeg's choice): for the open container when nothing was decoded
        from it yet (set it before ``info``, whose probe starts the first pass), else from the
        next pass (a fresh demuxer)."""
        self._threads = max(0, int(n))
        if not self._started:
            self._stream.codec_context.thread_count = self._threads

    def decode(self, from_seconds: float | None = None, keyframes_only: bool = False) -> Iterator[tuple[float, bool, av.VideoFrame]]:
        origin = self.origin()
        fps = self.info.fps
        primed, rest = self._primed, self._rest
        self._primed, self._rest = [], None
        seek = from_seconds is not None and from_seconds > 0
        try:
            if rest is not None and not seek and not keyframes_only:
                # the probe's pass, continued (its bad packets counted in this pass)
                yield from _in_order(itertools.chain(primed, rest), origin, fps)
                return
            self._reopen()  # a fresh demuxer is cheaper and safer than seeking back to 0
            s = self._stream
            s.codec_context.skip_frame = "NONKEY" if keyframes_only else "DEFAULT"
            self.bad_packets = 0
            if seek and s.time_base is not None:
                target = int((origin + from_seconds) / float(s.time_base))
                self._container.seek(target, stream=s, backward=True, any_frame=False)
            yield from _in_order(self._frames(), origin, fps)
        except av.error.FFmpegError as exc:
            raise VideoError(self.path, f"decoding failed ({_short(exc)})") from exc

    def _frames(self) -> Iterator[av.VideoFrame]:
        bad_run = 0
        for packet in self._container.demux(self._stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                # A damaged packet loses its own picture(s); the decoder resyncs at the next one.
                self.bad_packets += 1
                bad_run += 1
                if bad_run > MAX_BAD_PACKETS:
                    raise
                continue
            bad_run = 0
            yield from frames

    def _convert(self, picture: av.VideoFrame, size: tuple[int, int] | None, fmt: str) -> np.ndarray:
        """``picture`` in ``fmt`` at ``size`` (None: its own) through libswscale, one reformatter
        per (size, format) so that two outputs of one picture keep their contexts."""
        key = (size, fmt)
        if key not in self._sws_by:
            self._sws_by[key] = VideoReformatter()
        threads = 1 if picture.width * picture.height <= SWS_ONE_THREAD_PIXELS else 0
        if size is None:
            return self._sws_by[key].reformat(picture, format=fmt, threads=threads).to_ndarray()
        h, w = size
        return self._sws_by[key].reformat(picture, width=w, height=h, format=fmt, threads=threads).to_ndarray()

    def to_array(self, picture: av.VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
        """RGB at ``size`` as a player shows the picture: scaled to the stored orientation's
        size, then turned by the display rotation (``info`` gives the turned width and height)."""
        q = self._quarter
        if not q:
            return self._convert(picture, size, "rgb24")
        stored = size if size is None or q == 2 else (size[1], size[0])
        return np.ascontiguousarray(np.rot90(self._convert(picture, stored, "rgb24"), q))

    def to_luma(self, picture: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
        """The decoder's luma plane at ``size`` without converting the picture: ``2H x 2W``
        samples spread evenly over the frame (plain strided views when the frame divides evenly,
        as 720p does for 72x128), averaged 2x2. A 720p frame costs ~50 us this way; libswscale's
        grey downscale costs 200-1500 us (docs/perf_decoding.md). Pictures smaller than twice
        ``size`` or in other formats (10-bit, RGB) are scaled to grey by libswscale."""
        h, w = size
        H, W = picture.height, picture.width
        if picture.format.name not in LUMA8 or H < 2 * h or W < 2 * w:
            return self._convert(picture, size, "gray")
        plane = picture.planes[0]
        y = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        g = y[_spread(H, 2 * h)][:, _spread(W, 2 * w)].astype(np.uint16)
        return ((g[0::2, 0::2] + g[1::2, 0::2] + g[0::2, 1::2] + g[1::2, 1::2] + 2) >> 2).astype(np.uint8)

    def close(self) -> None:
        self._container.close()


def _in_order(frames: Iterator[av.VideoFrame], origin: float, fps: float) -> Iterator[tuple[float, bool, av.VideoFrame]]:
    """``(seconds, keyframe, frame)`` with each frame given the smallest stamp of a window of
    ``REORDER`` frames: stamps of frames that arrive in display order with decode-order stamps
    come out ascending, and ascending stamps are unchanged. A frame without a stamp gets one
    nominal frame after the previous one."""
    held: deque[av.VideoFrame] = deque()
    stamps: list[float] = []
    last = -np.inf

    def release() -> tuple[float, bool, av.VideoFrame]:
        nonlocal last
        frame = held.popleft()
        t = max(heapq.heappop(stamps), last)  # never backwards, even across a broken window
        last = t
        return t - origin, bool(frame.key_frame), frame

    for frame in frames:
        t = _seconds(frame)
        if t is None:
            t = (max(stamps) if stamps else (last if last > -np.inf else origin)) + 1.0 / fps
        held.append(frame)
        heapq.heappush(stamps, t)
        if len(held) > REORDER:
            yield release()
    while held:
        yield release()


def _seconds(frame: av.VideoFrame) -> float | None:
    """The frame's stamp in seconds, None without one: ``float(pts * time_base)`` to the bit
    (Python's int / int is correctly rounded, as the Fraction's float is), without building
    the three Fractions a frame that took (~3 % of decoding small frames)."""
    pts, tb = frame.pts, frame.time_base
    if pts is None or tb is None:
        return None
    return (pts * tb.numerator) / tb.denominator


def _spread(n: int, k: int) -> slice | np.ndarray:
    """``k`` sample positions evenly over ``n`` pixels, at the centres of ``k`` equal cells."""
    if n % k == 0:
        return slice((n // k) // 2, n, n // k)
    return ((np.arange(k) + 0.5) * (n / k)).astype(np.intp)


def _short(exc: BaseException) -> str:
    """FFmpeg's own words for ``exc`` ("Invalid data found when processing input"), without the
    errno and the path that ``str(exc)`` repeats (the message already starts with the path)."""
    reason = getattr(exc, "strerror", None) if isinstance(exc, av.error.FFmpegError) else None
    text = str(reason or exc)
    return text.splitlines()[0][:200] if text else type(exc).__name__
