"""Cut one ``[start, end)`` range of a video file to a new file, with its audio: :func:`cut`.

Why two ways. Copying packets (no decoding) is fast and loses nothing, but a copied video stream
can only begin on a keyframe: every other frame needs earlier ones to decode. So a cut is
**stream-copied** when

* the first frame of the range is a keyframe, and
* no frame of the range needs a frame after the range: in decode order, no packet whose frame
  is shown at or after ``end`` comes before the last packet of the range (B-frames shown before
  ``end`` may reference a P-frame shown after it; copying them without it would break them);

otherwise it is **re-encoded**: video and audio are decoded from the keyframe before ``start``,
the frames of the range kept (audio trimmed to the sample) and encoded again (libx264 or mpeg4,
AAC). :func:`plan_cut` gives the decision and its reason without writing anything.

Times follow vidsift's timeline (``video.timeline``): seconds of presentation time from the
first frame; frame ``f`` belongs to the range when ``start <= t_f < end`` (within half a
millisecond, the rounding of ``HH:MM:SS.mmm``). The keyframes are the container's packet flags,
the same ones the scan stores in ``Timeline.keyframes``; reading them costs one demux pass over
the file's packets, no decoding.

Audio: copied packets are the ones whose middle lies in the range (so the audio matches the
video within one packet, ~21 ms for AAC at 48 kHz); a copied AAC stream starting mid-file may
click for one packet, as any ``ffmpeg -c copy`` cut does. Re-encoded audio is trimmed to the
sample. Only the first video and first audio stream are kept; subtitles and data are dropped.

The output container follows the source (``.mp4``, ``.m4v``, ``.mov``, ``.mkv``); any other
source (``.avi``, ``.mpg``...) is written as Matroska, which takes every codec a copy can carry
(:func:`clip_suffix`). The file appears atomically (``vidsift.atomic``); PyAV only, no ffmpeg
binary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np

from vidsift.atomic import atomic_path
from vidsift.errors import BadInputError, NoVideoStreamError, VideoError
from vidsift.video.streams import stream_kinds, video_stream

__all__ = ["CutPlan", "CutResult", "clip_suffix", "cut", "plan_cut"]

Mode = Literal["auto", "copy", "reencode"]

# A frame belongs to the range when start - EPS <= t < end - EPS: half a millisecond absorbs the
# rounding of times written as HH:MM:SS.mmm.
EPS = 5e-4
_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
# sources whose packets a Matroska clip can carry as they are (global codec headers)
_COPY_INTO_MKV = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}


def clip_suffix(source: str | Path) -> str:
    """The suffix a clip of ``source`` is written with: the source's for MP4/MOV/MKV, else ``.mkv``.

    Example:
        >>> clip_suffix("a/b.MP4"), clip_suffix("c.avi")
        ('.mp4', '.mkv')
    """
    suffix = Path(source).suffix.lower()
    return suffix if suffix in _FORMATS else ".mkv"


@dataclass(frozen=True)
class CutPlan:
    """How a range would be cut: ``mode`` ("copy" or "reencode") and why, the range clamped to
    the video (``start``, ``end``) and the frames in it."""

    mode: Literal["copy", "reencode"]
    reason: str
    start: float
    end: float
    first_frame: int
    frames: int
    has_audio: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CutResult:
    """What :func:`cut` wrote: the plan it followed plus the file."""

    path: Path
    mode: Literal["copy", "reencode"]
    reason: str
    start: float
    end: float
    frames: int
    audio: bool

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        return d


@dataclass
class _Packets:
    """The video stream's packets in decode order: raw pts, keyframe flag, presentation seconds."""

    pts: np.ndarray  # int64, raw stream time-base units
    key: np.ndarray  # bool
    rel: np.ndarray  # float64 seconds from the first shown frame
    origin_pts: int
    time_base: Fraction


def _open(path: str | Path) -> Any:
    p = Path(path)
    if not p.is_file():
        raise VideoError(p, "no such file" if not p.exists() else "not a file")
    try:
        return av.open(str(p))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(p, f"cannot open ({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})") from exc


def _streams(container: Any, path: str | Path) -> tuple[Any, Any | None]:
    video = video_stream(container)
    if video is None:
        raise NoVideoStreamError(path, stream_kinds(container))
    return video, (container.streams.audio[0] if container.streams.audio else None)


def _scan(container: Any, vstream: Any, path: str | Path) -> _Packets:
    """One demux pass over the video packets (no decoding)."""
    pts: list[int] = []
    key: list[bool] = []
    try:
        for pkt in container.demux(vstream):
            if pkt.pts is None or pkt.size == 0:
                continue
            pts.append(int(pkt.pts))
            key.append(bool(pkt.is_keyframe))
    except av.FFmpegError as exc:
        if not pts:
            raise VideoError(path, f"cannot read packets ({exc})") from exc
    if not pts:
        raise VideoError(path, "contains no video packets")
    arr = np.asarray(pts, np.int64)
    tb = vstream.time_base
    origin = int(arr.min())
    return _Packets(arr, np.asarray(key, bool), (arr - origin) * float(tb), origin, tb)


def _check_range(start: float, end: float) -> None:
    if not (np.isfinite(start) and np.isfinite(end)) or start < 0:
        raise BadInputError(f"cut range [{start}, {end}) must be finite seconds >= 0")
    if end <= start:
        raise BadInputError(f"cut range [{start}, {end}) is empty: end must be after start")


def _plan(p: _Packets, start: float, end: float, has_audio: bool) -> tuple[CutPlan, np.ndarray]:
    """The plan and the decode positions of the range's packets (ascending)."""
    inside = (p.rel >= start - EPS) & (p.rel < end - EPS)
    pos = np.flatnonzero(inside)
    if not len(pos):
        raise BadInputError(
            f"no frame in [{start:.3f}, {end:.3f}) s: the video's frames run from 0 to {p.rel.max():.3f} s"
        )
    shown = np.sort(p.rel[pos])
    first_pos = int(pos[np.argmin(p.rel[pos])])
    gap = float(np.median(np.diff(np.unique(p.rel)))) if len(p.rel) > 1 else 0.0
    clamped_end = min(end, float(shown[-1]) + gap) if gap > 0 else end
    start = float(shown[0]) if abs(shown[0] - start) <= EPS else start

    def plan(mode: Literal["copy", "reencode"], reason: str) -> CutPlan:
        return CutPlan(mode, reason, float(start), float(clamped_end), int(np.sum(p.rel < shown[0] - EPS)),
                       len(pos), has_audio)

    if not p.key[first_pos]:
        keys_before = np.flatnonzero(p.key & (p.rel <= shown[0] + EPS))
        kt = float(p.rel[keys_before].max()) if len(keys_before) else 0.0
        return plan("reencode", f"the range starts {shown[0] - kt:.3f} s after the keyframe at {kt:.3f} s"), pos
    last_pos = int(pos.max())
    span = np.arange(first_pos, last_pos + 1)
    after = span[p.rel[span] >= end - EPS]
    if len(after):
        return plan("reencode", f"the frame at {float(p.rel[after[0]]):.3f} s, shown after the range, "
                                "decodes inside it (B-frames)"), pos
    return plan("copy", f"the range starts on the keyframe at {shown[0]:.3f} s"), pos


def plan_cut(source: str | Path, start: float, end: float) -> CutPlan:
    """How :func:`cut` would cut ``[start, end)`` of ``source`` (copy or re-encode, and why).

    Raises:
        VideoError: the file cannot be read or has no video.
        BadInputError: an empty or negative range, or no frame in it.
    """
    _check_range(start, end)
    with _open(source) as c:
        vstream, astream = _streams(c, source)
        return _plan(_scan(c, vstream, source), float(start), float(end), astream is not None)[0]


def cut(
    source: str | Path,
    target: str | Path,
    start: float,
    end: float,
    mode: Mode = "auto",
    codec: str = "auto",
    crf: int = 18,
) -> CutResult:
    """Write the ``[start, end)`` seconds of ``source`` (video and audio) to ``target``.

    ``mode="auto"`` copies packets when the range allows it (module docstring) and re-encodes
    otherwise; ``"reencode"`` always re-encodes; ``"copy"`` refuses a range that cannot be
    copied. ``target``'s suffix picks the container (``.mp4``, ``.mov``, ``.mkv``, ``.m4v``; see
    :func:`clip_suffix`). ``codec``/``crf``: the video encoder for re-encoding (as
    ``video.writer.write_video``). The file appears atomically.

    Raises:
        VideoError: the source cannot be read, or the cut cannot be written.
        BadInputError: an empty range, no frame in it, an unknown mode or target suffix, or
            ``mode="copy"`` for a range that does not start on a keyframe.
    """
    if mode not in ("auto", "copy", "reencode"):
        raise BadInputError(f"cut mode {mode!r}: expected auto, copy or reencode")
    target = Path(target)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise BadInputError(f"clip {target.name}: write .mp4, .m4v, .mov or .mkv")
    _check_range(start, end)
    with _open(source) as c:
        vstream, astream = _streams(c, source)
        packets = _scan(c, vstream, source)
    plan, pos = _plan(packets, float(start), float(end), astream is not None)
    if mode == "copy" and plan.mode != "copy":
        raise BadInputError(f"{source}: cannot stream-copy [{start:.3f}, {end:.3f}): {plan.reason}")
    chosen: Literal["copy", "reencode"] = "reencode" if mode == "reencode" else plan.mode
    reason = "re-encoding was asked for" if mode == "reencode" and plan.mode == "copy" else plan.reason
    suffix = Path(source).suffix.lower()
    if mode == "auto" and chosen == "copy" and not (
        suffix in _FORMATS and _FORMATS[suffix] == fmt or fmt == "matroska" and suffix in _COPY_INTO_MKV
    ):
        # AVI packets lack what MP4/MOV need (ordered B-frame stamps: the muxer refuses them), and
        # MPEG-TS/PS H.264 carries its headers in-band (Annex B): copied into MP4 or MKV without
        # them the clip does not decode
        chosen, reason = "reencode", f"packets of a {suffix or 'raw'} file are re-encoded into {target.suffix}"
    try:
        with atomic_path(target) as tmp:
            if chosen == "copy":
                try:
                    frames = _copy(source, tmp, fmt, packets, pos, plan)
                    if frames == 0:  # the seek found nothing (MPEG-TS): re-encoding decodes from the start
                        raise av.FFmpegError(0, "no packet after seeking")
                except av.FFmpegError as exc:
                    if mode == "copy":
                        raise
                    chosen, reason = "reencode", f"stream copy failed ({exc}); re-encoded"
                    frames = _reencode(source, tmp, fmt, packets, plan, codec, crf)
            else:
                frames = _reencode(source, tmp, fmt, packets, plan, codec, crf)
    except av.FFmpegError as exc:
        raise VideoError(source, f"cannot cut [{start:.3f}, {end:.3f}) to {target.name}: {exc}") from exc
    return CutResult(target, chosen, reason, plan.start, plan.end, frames, plan.has_audio)


def _seek(c: Any, vstream: Any, packets: _Packets, seconds: float) -> None:
    """Position the demuxer at or before ``seconds`` (of the timeline) with a margin of one second."""
    target = packets.origin_pts + int((seconds - 1.0) / float(packets.time_base))
    try:
        c.seek(max(target, packets.origin_pts), stream=vstream, backward=True, any_frame=False)
    except av.FFmpegError:
        c.seek(0)  # a container that cannot seek: demux from the start, filtering below


def _copy(source: str | Path, tmp: Path, fmt: str, packets: _Packets, pos: np.ndarray, plan: CutPlan) -> int:
    want_v = set(packets.pts[pos].tolist())
    shift_v = int(packets.pts[pos].min())
    shift_s = shift_v * float(packets.time_base)  # the cut's zero in the stream's own seconds
    last_v = int(packets.pts[pos].max())
    end_s = plan.end - plan.start + shift_s
    with _open(source) as c, av.open(str(tmp), "w", format=fmt) as out:
        vstream, astream = _streams(c, source)
        ov = out.add_stream_from_template(vstream)
        oa = out.add_stream_from_template(astream) if astream is not None else None
        _seek(c, vstream, packets, plan.start)
        written = 0
        done_v = done_a = False
        for pkt in c.demux(*([vstream] + ([astream] if astream is not None else []))):
            if pkt.pts is None or pkt.size == 0:
                continue
            if pkt.stream is vstream:
                if pkt.pts in want_v:
                    want_v.discard(pkt.pts)
                    pkt.pts -= shift_v
                    if pkt.dts is not None:
                        pkt.dts -= shift_v
                    pkt.stream = ov
                    out.mux(pkt)
                    written += 1
                done_v = not want_v or (pkt.dts is not None and pkt.dts > last_v)
            elif oa is not None:
                tb = float(pkt.time_base)
                mid = (pkt.pts + (pkt.duration or 0) / 2) * tb
                if shift_s - EPS <= mid < end_s - EPS:
                    pkt.pts -= round(shift_s / tb)
                    pkt.dts = pkt.pts
                    pkt.stream = oa
                    out.mux(pkt)
                done_a = pkt.pts * tb >= end_s
            if done_v and (oa is None or done_a):
                break
    return written


def _encoder(out: Any, vstream: Any, codec: str, crf: int, rate: Fraction) -> Any:
    from vidsift.video.writer import encoder_available

    name = codec
    if codec == "auto":
        name = next((n for n in ("libx264", "mpeg4") if encoder_available(n)), "")
        if not name:
            raise BadInputError("this PyAV build has neither libx264 nor mpeg4 encoders")
    elif not encoder_available(codec):
        raise BadInputError(f"encoder {codec!r} is not in this PyAV build; try 'auto'")
    s = out.add_stream(name, rate=rate)
    s.width = vstream.codec_context.width + vstream.codec_context.width % 2
    s.height = vstream.codec_context.height + vstream.codec_context.height % 2
    s.pix_fmt = "yuv420p"
    s.codec_context.time_base = vstream.time_base
    sar = vstream.sample_aspect_ratio or vstream.codec_context.sample_aspect_ratio
    if sar and sar != 1:  # non-square pixels (HDV, DVD) stay shown as the source is
        s.codec_context.sample_aspect_ratio = sar
    if name == "libx264":
        s.options = {"crf": str(int(crf)), "preset": "veryfast", "threads": "1"}
    else:
        q = int(np.clip(round(crf / 6), 2, 31))
        s.options = {"qmin": str(q), "qmax": str(q), "threads": "1"}
    return s


def _video_in_range(source: str | Path, packets: _Packets, zero: float, stop: float, fps: float) -> Iterator[tuple[float, Any]]:
    """``(stream seconds, frame)`` of the decoded frames in ``[zero, stop)``, in presentation order.

    Stamps go through the reader's reorder window (AVI with B-frames hands decode-order stamps to
    frames that arrive in display order). When the seek overshoots the range or finds nothing
    (MPEG-TS seeks by byte position), the file is decoded again from its start."""
    from vidsift.video.backends.pyav_backend import _in_order

    for seek in (True, False):
        with _open(source) as c:
            vstream, _ = _streams(c, source)
            if seek:
                _seek(c, vstream, packets, zero - packets.origin_pts * float(packets.time_base))
            frames = (f for pkt in c.demux(vstream) for f in pkt.decode())
            first = True
            for t, _key, frame in _in_order(frames, 0.0, fps):
                if first and seek and t > zero + EPS:
                    break  # the seek landed after the range's start: decode from the start
                first = False
                if t >= stop - EPS:
                    return
                if t >= zero - EPS:
                    yield t, frame
            else:
                if not (first and seek):  # nothing at all after the seek: decode from the start
                    return


def _reencode(source: str | Path, tmp: Path, fmt: str, packets: _Packets, plan: CutPlan, codec: str, crf: int) -> int:
    from vidsift.video.writer import set_display_rotation

    tb = packets.time_base
    zero = packets.origin_pts * float(tb) + plan.start  # the cut's start in the stream's seconds
    stop = packets.origin_pts * float(tb) + plan.end
    with _open(source) as c, av.open(str(tmp), "w", format=fmt) as out:
        vstream, astream = _streams(c, source)
        rate = vstream.average_rate or vstream.guessed_rate or Fraction(25)
        ov = _encoder(out, vstream, codec, crf, Fraction(rate))
        oa = resampler = None
        if astream is not None:
            sr = astream.codec_context.sample_rate or 48000
            layout = astream.codec_context.layout.name if astream.codec_context.layout else "stereo"
            oa = out.add_stream("aac", rate=sr)
            oa.layout = layout
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=sr)
        written, last_pts = 0, -1
        for t, frame in _video_in_range(source, packets, zero, stop, float(rate)):
            if not written and getattr(frame, "rotation", 0):
                # frames are encoded as stored: the display matrix goes along (before the header)
                set_display_rotation(ov, frame.rotation)
            vf = frame.reformat(width=ov.width, height=ov.height, format="yuv420p")
            vf.pts = last_pts = max(round((t - zero) / float(tb)), last_pts + 1)
            vf.time_base = tb
            out.mux(ov.encode(vf))
            written += 1
        out.mux(ov.encode(None))
        if astream is not None:
            assert oa is not None and resampler is not None
            _seek(c, vstream, packets, plan.start)
            samples = 0
            for pkt in c.demux(astream):
                frames = pkt.decode()
                for frame in frames:
                    if frame.pts is None:
                        continue
                    t = float(frame.pts * frame.time_base)
                    for rf in resampler.resample(frame):
                        samples = _mux_trimmed(out, oa, rf, t, zero, stop, samples)
                        t += rf.samples / rf.sample_rate
                if any(f.pts is not None and float(f.pts * f.time_base) >= stop for f in frames):
                    break
            out.mux(oa.encode(None))
    return written


def _mux_trimmed(out: Any, oa: Any, frame: Any, t: float, zero: float, stop: float, written: int) -> int:
    """Encode the samples of ``frame`` (starting at ``t`` s) that fall in ``[zero, stop)``."""
    sr = frame.sample_rate
    arr = frame.to_ndarray()  # fltp: [channels, samples]
    a = max(0, round((zero - t) * sr))
    b = min(arr.shape[1], round((stop - t) * sr))
    if b <= a:
        return written
    piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr[:, a:b]), format="fltp", layout=frame.layout.name)
    piece.sample_rate = sr
    piece.pts = written
    piece.time_base = Fraction(1, sr)
    out.mux(oa.encode(piece))
    return written + (b - a)
