"""Open, probe and read videos: frames numbered by what decodes, timed by their timestamps.

    with open_video("clip.mp4") as r:
        for idx, seconds, frames in r.iter_timed(fps=1, size=(128, 128)):
            ...

Frame ``i`` is the ``i``-th picture the decoder outputs and its time is its presentation
timestamp (``video.timeline``); the header's frame count and rate are only estimates
(``info.num_frames``, ``info.fps``). The timeline comes from the catalog when the file was
scanned, otherwise from the first pass that decodes the whole file.

How sampled frames are read is planned per file from the timeline (``iter_reads``): decode
forward dropping what is not wanted, or seek to the keyframe before a wanted frame when the gap
is longer than a seek costs. ``keyframes=True`` decodes keyframes only. A file that breaks part
way keeps the frames before the break; ``problem`` says where and how many were lost. Every
failure is a ``VideoError`` whose message starts with the file's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidsift.errors import BadInputError, NoVideoStreamError, VideoError, VidsiftError
from vidsift.video.backends import BACKENDS, Backend
from vidsift.video.info import VideoInfo
from vidsift.video.timeline import (
    SampleSelector,
    Timeline,
    iter_reads,
    sample_by_every,
    sample_by_rate,
)

# What one seek costs, in frames decoded: a gap longer than this plus the distance from the
# wanted frame back to its keyframe is crossed by seeking. From `python -m bench.sparse`
# (720p H.264, GOP 250, 2 cores): a seek and its decoder flush cost about as much as decoding
# 10-20 frames; 16 sits in the middle and the plan is not sensitive to it within 2x.
SEEK_COST = 16
#: a seek that lands after its frames is retried this many keyframes earlier at most, then the
#: file is read from the start
MAX_SEEK_BACK = 3

Decoded = tuple[int, float, Any]  # (frame, seconds, converted picture)
Convert = Callable[[Any], Any]  # decoded picture -> array (or a pair of arrays)


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


def check_sampling(every: int | None, fps: float | None, keyframes: bool = False) -> tuple[int, float | None]:
    """Validate ``--every`` / ``--fps`` / ``--keyframes`` (at most one); default: every frame."""
    if sum(x is not None for x in (every, fps)) + bool(keyframes) > 1:
        raise BadInputError("give one of --every N, --fps F or --keyframes")
    if fps is not None:
        if not float(fps) > 0:
            raise BadInputError(f"--fps must be positive, got {fps}")
        return 1, float(fps)
    every = 1 if every is None else int(every)
    if every < 1:
        raise BadInputError(f"--every must be at least 1, got {every}")
    return every, None


class VideoReader:
    """Frames of one video as uint8 RGB arrays. Use as a context manager.

    ``timeline``: the file's timeline when already known (the catalog's), else it is measured
    by the first full decode. ``decoder_threads``: threads the decoder may use (0: its own
    choice, about one per core).
    """

    def __init__(self, path: str | Path, backend: str = "auto", timeline: Timeline | None = None,
                 decoder_threads: int = 0) -> None:
        self.path = _check_file(path)
        if backend != "auto" and backend not in BACKENDS:
            raise BadInputError(
                f"unknown video back-end '{backend}'; available: {', '.join(available_backends())}"
            )
        order = [backend] if backend != "auto" else [b for b in ("pyav", "decord") if b in BACKENDS]
        if not order:
            raise VideoError(self.path, "no video back-end is installed (pip install av decord)")
        failed: dict[str, str] = {}
        self._backend: Backend | None = None
        for name in order:
            try:
                b = BACKENDS[name](self.path)
                if decoder_threads:  # before ``info``: its probe starts the first pass
                    b.set_threads(decoder_threads)
                _ = b.info
            except NoVideoStreamError:
                raise
            except VideoError as exc:
                failed[name] = exc.reason
                continue
            except Exception as exc:  # noqa: BLE001 - any failure on a damaged file means unreadable
                failed[name] = f"not a readable video ({type(exc).__name__}: {str(exc)[:120]})"
                continue
            self._backend = b
            break
        if self._backend is None:
            reasons = "; ".join(f"{k}: {v.removeprefix(k + ' ')}" for k, v in failed.items())
            raise VideoError(self.path, next(iter(failed.values())) if len(failed) == 1 else reasons)
        self.info: VideoInfo = self._backend.info
        if self.info.num_frames <= 0:
            raise VideoError(self.path, "contains no frames")
        self._timeline = timeline
        self.problem: str | None = None  # where decoding stopped early, if it did
        self._seek_back = 0  # keyframes before the wanted one that this file's seeks start from

    # -- the timeline ------------------------------------------------------------------------
    @property
    def timeline(self) -> Timeline:
        """Timestamps of every frame that decodes (one decode pass when not known yet)."""
        if self._timeline is None:
            for _ in self._from_start(lambda i, t: False, self._rgb(None)):
                pass
        assert self._timeline is not None
        return self._timeline

    @property
    def num_frames(self) -> int:
        """Frames that decode (not the header's estimate)."""
        return self.timeline.num_frames

    def times(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Presentation times in seconds of the given frames."""
        return self.timeline.times(np.asarray(indices, np.int64))

    # -- conversions: what a decoded picture becomes -------------------------------------------
    def _rgb(self, size: tuple[int, int] | None) -> Convert:
        """RGB ``[H, W, 3]`` at ``size`` (the file's own size when None: the first picture's,
        which a broadcast stream that changes resolution part way keeps for all)."""
        b = self._backend
        size = size or (self.info.height, self.info.width)
        return lambda pic: b.to_array(pic, size)

    def _rgb_twice(self, size: tuple[int, int] | None, extra: tuple[int, int]) -> Convert:
        """The same picture at ``size`` and at ``extra``: two conversions of one decode."""
        b = self._backend
        return lambda pic: (b.to_array(pic, size), b.to_array(pic, extra))

    def _luma(self, size: tuple[int, int]) -> Convert:
        """Grey ``[H, W]`` from the decoder's luma plane (``Backend.to_luma``)."""
        b = self._backend
        return lambda pic: b.to_luma(pic, size)

    # -- decoding passes -----------------------------------------------------------------------
    def _from_start(self, keep: Callable[[int, float], bool], convert: Convert,
                    stop: int | None = None) -> Iterator[Decoded]:
        """Decode from the first frame, numbering by count; yields the frames ``keep`` accepts,
        converted by ``convert`` (``_rgb``, ``_rgb_twice``, ``_luma``).

        A pass that reaches the end (or a break) records the timeline when none was known.
        """
        b = self._backend
        record = self._timeline is None
        pts: list[float] = []
        keys: list[int] = []
        n = 0
        reason = None
        try:
            for t, key, pic in b.decode():
                if stop is not None and n >= stop and not record:
                    return
                if record:
                    pts.append(t)
                    if key or n == 0:
                        keys.append(n)
                if keep(n, t):
                    yield n, t, convert(pic)
                n += 1
        except VideoError as exc:
            reason = exc.reason
        if n == 0:
            raise VideoError(self.path, reason or "no frame could be decoded")
        bad = getattr(b, "bad_packets", 0)
        if reason is not None:
            self.problem = (
                f"decoding stopped after frame {n - 1} ({pts[-1] if pts else 0:.3f} s): {reason}; "
                f"{n} frame(s) kept, about {max(0, self.info.num_frames - n)} lost after it "
                f"(the header estimates {self.info.num_frames})"
            )
        elif bad:
            self.problem = f"{bad} damaged packet(s) skipped while decoding; their frames are missing"
        if record:
            origin = getattr(b, "origin", lambda: 0.0)()
            self._timeline = Timeline(np.asarray(pts), np.asarray(keys), origin=origin,
                                      complete=reason is None, problem=self.problem)

    def _run(self, first: int, wanted: list[int], convert: Convert) -> Iterator[Decoded]:
        """Decode from keyframe ``first`` (a seek) until the last wanted frame; frames are
        identified by their timestamps in the timeline and come out in order."""
        tl = self._timeline
        assert tl is not None
        wanted = sorted(set(wanted))
        if first == 0:
            want = set(wanted)
            yield from self._from_start(lambda i, t: i in want, convert, stop=wanted[-1] + 1)
            return
        b = self._backend
        prev, j = -1, 0  # wanted[j]: the next frame to give
        try:
            for t, _, pic in b.decode(from_seconds=float(tl.pts[first])):
                idx = tl.index_of(t)
                if idx is None:
                    continue
                idx = max(idx, prev + 1)  # equal timestamps: the next frame
                prev = idx
                if idx > wanted[j]:
                    break  # wanted[j] went by without decoding: the seek landed after it
                if idx == wanted[j]:
                    yield idx, t, convert(pic)
                    j += 1
                    if j == len(wanted):
                        return
        except VideoError:
            pass
        # The seek landed after wanted[j]: a container without an index (MPEG-PS, -TS) seeks by
        # bytes and the decoder starts at the next keyframe it meets. Seek from the keyframe
        # before, and from then on start this file's seeks that much earlier; after MAX_SEEK_BACK
        # tries, count from the start (which every miss did before: quadratic on long files).
        rest = wanted[j:]
        if self._seek_back < MAX_SEEK_BACK:
            self._seek_back += 1
            yield from self._run(tl.keyframe_before(rest[0], self._seek_back), rest, convert)
        else:
            missing = set(rest)
            yield from self._from_start(lambda i, t: i in missing, convert, stop=rest[-1] + 1)

    def _keyframes(self, convert: Convert, start: int, stop: int) -> Iterator[Decoded]:
        tl = self.timeline
        b = self._backend
        prev = -1
        for t, _, pic in b.decode(keyframes_only=True):
            idx = tl.index_of(t)
            if idx is None or idx <= prev:
                continue
            prev = idx
            if idx >= stop:
                break
            if idx >= start:
                yield idx, t, convert(pic)

    # -- reading ---------------------------------------------------------------------------
    def sample_indices(self, every: int = 1, fps: float | None = None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frame indices taken every ``every`` frames, or at ``fps`` samples per second of
        presentation time (``video.timeline.sample_by_rate``)."""
        every, fps = check_sampling(None if every == 1 else every, fps)
        if fps is not None:
            return sample_by_rate(self.timeline.pts, fps, start, stop)
        return sample_by_every(self.num_frames, every, start, stop)

    def iter_timed(
        self,
        every: int = 1,
        fps: float | None = None,
        size: tuple[int, int] | None = None,
        batch: int = 64,
        start: int = 0,
        stop: int | None = None,
        keyframes: bool = False,
        extra_size: tuple[int, int] | None = None,
    ) -> Iterator[tuple[np.ndarray, ...]]:
        """Yield ``(indices int64 [B], seconds float64 [B], frames uint8 [B, H, W, 3])`` in order.

        Without a known timeline the file is decoded from the start, dropping frames that are
        not sampled (and the timeline is recorded on the way); with one, the reads are planned.
        With ``extra_size`` each batch has a fourth element, the same frames at that size: a
        second conversion of each decoded picture, not a second decode (the extraction's
        thumbnails). ``frames`` are the same bits with or without it.
        """
        size = _check_size(size)
        convert = self._rgb(size) if extra_size is None else self._rgb_twice(size, _check_size(extra_size))
        try:
            for idx, ts, frames in self._batched(self._sampled(every, fps, convert, start, stop, keyframes), batch):
                yield (idx, ts, frames) if extra_size is None else (idx, ts, *frames)
        except VidsiftError:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged data deep in a decoder
            raise VideoError(self.path, f"decoding failed ({type(exc).__name__}: {str(exc)[:120]})") from exc

    def iter_luma(self, size: tuple[int, int], batch: int = 64) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every frame as grey uint8 ``[B, H, W]`` batches ``(indices, frames)``, read from the
        decoder's luma plane (no RGB conversion; ``Backend.to_luma``). One pass from the first
        frame, which records the timeline on the way when it is not known yet (the scan's pass).
        """
        size = _check_size(size)
        if size is None:
            raise BadInputError("iter_luma needs a frame size (H, W)")
        try:
            for idx, _, frames in self._batched(self._from_start(lambda i, t: True, self._luma(size)), batch):
                yield idx, frames
        except VidsiftError:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged data deep in a decoder
            raise VideoError(self.path, f"decoding failed ({type(exc).__name__}: {str(exc)[:120]})") from exc

    def iter_frames(self, *args, **kwargs) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``iter_timed`` without the times: ``(indices, frames)``."""
        for idx, _, frames in self.iter_timed(*args, **kwargs):
            yield idx, frames

    def _sampled(self, every: int, fps: float | None, convert: Convert, start: int,
                 stop: int | None, keyframes: bool) -> Iterator[Decoded]:
        every, fps = check_sampling(None if every == 1 else every, fps, keyframes)
        if keyframes:
            yield from self._keyframes(convert, int(start), self.num_frames if stop is None else int(stop))
            return
        if self._timeline is None:
            sel = SampleSelector(every, fps, start, stop)
            yield from self._from_start(sel.take, convert, stop=stop)
            return
        want = self.sample_indices(every, fps, start, stop)
        yield from self._planned(want, convert)

    def _planned(self, want: np.ndarray, convert: Convert) -> Iterator[Decoded]:
        for first, wanted in iter_reads(want, self.timeline, SEEK_COST, lambda: self._seek_back):
            yield from self._run(first, wanted, convert)

    @staticmethod
    def _batched(frames: Iterator[Decoded], batch: int) -> Iterator[tuple[np.ndarray, np.ndarray, Any]]:
        """Batches ``(indices, seconds, frames)``; pictures converted to a pair (``_rgb_twice``)
        give a pair of stacked arrays."""
        idx: list[int] = []
        ts: list[float] = []
        buf: list[Any] = []

        def stacked() -> Any:
            return tuple(np.stack(part) for part in zip(*buf, strict=True)) if isinstance(buf[0], tuple) else np.stack(buf)

        for i, t, f in frames:
            idx.append(i)
            ts.append(t)
            buf.append(f)
            if len(buf) == batch:
                yield np.asarray(idx, np.int64), np.asarray(ts, np.float64), stacked()
                idx, ts, buf = [], [], []
        if buf:
            yield np.asarray(idx, np.int64), np.asarray(ts, np.float64), stacked()

    def get_frames(self, indices: Sequence[int], size: tuple[int, int] | None = None) -> np.ndarray:
        """Frames at ``indices`` (any order, repeats allowed), ``[N, H, W, 3]``."""
        size = _check_size(size)
        idx = [int(i) for i in indices]
        n = self.num_frames
        bad = [i for i in idx if not 0 <= i < n]
        if bad:
            raise BadInputError(f"{self.path}: frame {bad[0]} does not exist (valid 0..{n - 1})")
        if not idx:
            h, w = size or (self.info.height, self.info.width)
            return np.zeros((0, h, w, 3), np.uint8)
        want = np.unique(np.asarray(idx, np.int64))
        got: dict[int, np.ndarray] = {}
        try:
            for i, _, f in self._planned(want, self._rgb(size)):
                got[i] = f
        except VidsiftError:
            raise
        except Exception as exc:  # noqa: BLE001 - damaged data deep in a decoder
            raise VideoError(self.path, f"decoding failed ({type(exc).__name__}: {str(exc)[:120]})") from exc
        missing = [i for i in want.tolist() if i not in got]
        if missing:
            raise VideoError(self.path, f"frames {missing[:5]} could not be decoded (it has {n})")
        return np.stack([got[i] for i in idx])

    def get_clip(self, start: int, length: int, stride: int = 1, size: tuple[int, int] | None = None) -> np.ndarray:
        """``length`` frames from ``start`` every ``stride`` frames, ``[T, H, W, 3]``."""
        if length < 1 or stride < 1:
            raise BadInputError(f"clip length and stride must be >= 1 (got {length}, {stride})")
        return self.get_frames(range(start, start + length * stride, stride), size)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(path: str | Path, backend: str = "auto", timeline: Timeline | None = None,
               decoder_threads: int = 0) -> VideoReader:
    """A ``VideoReader``; ``decoder_threads`` > 0 caps the decoder's threads (0: its choice)."""
    return VideoReader(path, backend, timeline, decoder_threads)


def probe(path: str | Path) -> VideoInfo:
    """Header data of a video, after checking that its first frame decodes."""
    with VideoReader(path) as r:
        for _ in r._from_start(lambda i, t: i == 0, r._rgb((16, 16)), stop=1):
            break
        return r.info
