"""Editor-ready files from a list of segments: CSV, CMX3600 EDL, OpenTimelineIO, a contact sheet,
and clips cut from the sources with names from a template.

Every writer takes the same :class:`Event` list, made once by :func:`plan_events` from the
``Segment`` s (search hits, cluster members, duplicate pairs) and what is known about each
source (:class:`Source`: its frame rate, frame count, timeline, audio). That one plan fixes each
event's source frames, so the CSV, the EDL, the OTIO timeline and the cut clips always name the
same frames:

* the event's frames are the first frame shown at or after the segment's start up to the first
  frame at or after its end (exclusive), by the catalog's timeline when there is one (exact for
  variable frame rate), else by ``round(seconds x rate)``; an event is at least one frame long;
* its source timecodes (EDL, OTIO) are those frames' times x the nominal rate, as an editing
  program conforms the file (equal to the frame numbers at a constant rate);
* record times are cumulative, starting at ``01:00:00:00`` (the usual first record timecode),
  at the rate of the first event's source;
* SMPTE timecodes (``HH:MM:SS:FF``) are non-drop-frame at the nominal integer rate
  (``29.97`` counts 30 frame labels a second), as CMX3600 EDLs write them.

EDL layout (CMX3600, what Avid, Premiere, Resolve and OpenTimelineIO's ``cmx_3600`` adapter read)::

    TITLE: vidsift export
    FCM: NON-DROP FRAME

    001  ASTRONAU AA/V  C        00:00:00:10 00:00:01:00 01:00:00:00 01:00:00:15
    * FROM CLIP NAME:  astronaut_0.mp4
    * FROM CLIP: /data/astronaut/astronaut_0.mp4
    * LOC: 00:00:00:12 GREEN   BEST
    * VIDSIFT: GROUP 3 VIDEO 1f2e... DISTANCE 0.2500

Reel names are at most 8 characters of ``[A-Z0-9_]`` from the file name, made unique per source.
The channel is ``AA/V`` (picture and two audio channels) when the source has audio, else ``V``.
An EDL has one record rate; sources at other rates keep their own rate for their source
timecodes (a reader must then be told to accept the record/source length mismatch).

The OTIO file is a ``Timeline`` with one video track of ``Clip`` s, each an
``ExternalReference`` (``file://`` URL, available range = the whole source when its length is
known), a ``source_range`` in ``RationalTime`` at the source's rate, a ``BEST`` marker and the
vidsift fields under ``metadata["vidsift"]``.

Security: clip names come from a template of known fields (:func:`check_template`); every field
value and the whole name are sanitised (``[A-Za-z0-9._-]``, no leading dot, at most 120
characters), and every target is checked to resolve inside the export folder before anything is
written (``discovery.export.inside_folder``). Files are written atomically.
"""

from __future__ import annotations

import csv
import io
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from vidsift.atomic import atomic_path, atomic_write_text
from vidsift.discovery.export import fs_timecode, inside_folder, safe_stem
from vidsift.errors import BadInputError, VidsiftError
from vidsift.timecode import timecode
from vidsift.video.segment import Segment
from vidsift.video.timeline import Timeline

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_TEMPLATE",
    "TEMPLATE_FIELDS",
    "ClipOutcome",
    "Event",
    "Source",
    "check_template",
    "fs_timecode",
    "nominal_rate",
    "plan_events",
    "render_name",
    "smpte",
    "write_clips",
    "write_contact_sheet",
    "write_csv",
    "write_edl",
    "write_otio",
]

EPS = 5e-4  # as video.cut: half a millisecond absorbs HH:MM:SS.mmm rounding
DEFAULT_TEMPLATE = "{video}-{cluster}-{start}"
TEMPLATE_FIELDS: dict[str, str] = {
    "video": "the source's file name without its extension",
    "video_id": "the catalog's content id of the source",
    "cluster": "the segment's group: cluster id, duplicate pair number, query (empty if none)",
    "group": "the same as {cluster}",
    "start": "start as a file-name-safe timecode, 00h01m02s500",
    "end": "end as a file-name-safe timecode",
    "index": "the event number, 1, 2, ... (an integer: {index:03d} pads it)",
    "frame": "the first frame's number (an integer)",
    "label": "the video's catalog label (empty if none)",
}
_INT_FIELDS = {"index", "frame"}
_STANDARD_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0, 120.0)
RECORD_START = 3600.0  # 01:00:00:00


# ------------------------------------------------------------------------------ rates and times


def nominal_rate(fps: float) -> float:
    """A measured or header rate snapped to the standard rate within 0.1 %, else rounded to 1/1000.

    Example:
        >>> nominal_rate(25.0000003), round(nominal_rate(29.97), 5), nominal_rate(12.5)
        (25.0, 29.97003, 12.5)
    """
    if not (fps and np.isfinite(fps) and fps > 0):
        raise BadInputError(f"frame rate {fps} is not a positive number")
    for r in _STANDARD_RATES:
        if abs(fps - r) <= r * 1e-3:
            return r
    return round(float(fps), 3)


def smpte(frames: int, rate: float) -> str:
    """``HH:MM:SS:FF`` of a frame count, non-drop-frame at the nominal integer rate.

    Example:
        >>> smpte(0, 25), smpte(25 * 3661 + 7, 25), smpte(30, 30000 / 1001)
        ('00:00:00:00', '01:01:01:07', '00:00:01:00')
    """
    n = max(1, int(round(rate)))
    f = max(0, int(frames))
    h, rest = divmod(f, 3600 * n)
    m, rest = divmod(rest, 60 * n)
    s, ff = divmod(rest, n)
    return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}"


# ------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class Source:
    """What the writers need to know about one video.

    ``rate``: frames per second (the catalog timeline's measured rate, else the header's);
    ``num_frames``: frames that decode, when known; ``timeline``: the catalog's, when scanned
    (maps seconds to frames exactly, also for variable frame rate); ``exists``: the file is there
    now (a missing one is still listed in CSV/EDL/OTIO, but has no clip); ``note``: what was
    assumed (e.g. a rate nobody could measure).
    """

    path: str
    rate: float
    num_frames: int | None = None
    timeline: Timeline | None = None
    has_audio: bool = False
    exists: bool = True
    note: str | None = None


@dataclass(frozen=True)
class Event:
    """One segment placed on the export's record timeline. ``frame_in``/``frame_out``/``best``:
    decode-order frame numbers (vidsift's); ``src_in``/``src_out``: source timecode frames at
    ``rate`` (``round(seconds x rate)``); ``rec_*``: record frames at ``rec_rate``; every ``*_out``
    is exclusive; ``start``/``end``/``best_time`` are the seconds of those frames."""

    index: int
    segment: Segment
    source: Source
    reel: str
    rate: float  # the source's nominal rate
    frame_in: int
    frame_out: int
    src_in: int
    src_out: int
    best: int
    start: float
    end: float
    best_time: float
    rec_rate: float
    rec_in: int
    rec_out: int

    @property
    def duration(self) -> float:
        return self.end - self.start


def _frame_of(seconds: float, src: Source, rate: float) -> int:
    """The first frame shown at or after ``seconds``."""
    if src.timeline is not None and len(src.timeline):
        return int(np.searchsorted(src.timeline.pts, seconds - EPS, side="left"))
    return int(round(seconds * rate))


def _time_of(frame: int, src: Source, rate: float) -> float:
    tl = src.timeline
    if tl is not None and len(tl):
        return float(tl.pts[frame]) if frame < len(tl) else tl.end
    return frame / rate


def _tc_frame(seconds: float, rate: float) -> int:
    return int(round(seconds * rate))


def _reels(segments: Sequence[Segment]) -> dict[str, str]:
    """A unique reel name (<= 8 characters of [A-Z0-9_]) per video id, from its file name."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for s in segments:
        if s.video_id in out:
            continue
        base = re.sub(r"[^A-Z0-9_]", "_", safe_stem(s.path).upper())[:8] or "AX"
        name, k = base, 1
        while name in used or name in ("AX", "BL", "BLACK", "BARS"):
            k += 1
            tail = str(k)
            name = base[: 8 - len(tail)] + tail
        used.add(name)
        out[s.video_id] = name
    return out


def plan_events(
    segments: Sequence[Segment],
    sources: Mapping[str, Source],
    pad: float = 0.0,
    record_start: float = RECORD_START,
) -> list[Event]:
    """Place ``segments`` (in order) on a record timeline; ``sources`` is keyed by video id.

    ``pad`` seconds are added before and after each segment (editors' handles), kept inside the
    video. Frame mapping and timecodes as in the module docstring.

    Raises:
        BadInputError: no segments, a negative pad, or a segment whose video is not in ``sources``.
    """
    if not segments:
        raise BadInputError("nothing to export: no segments")
    if not pad >= 0:
        raise BadInputError(f"pad must be >= 0 seconds, got {pad}")
    missing = sorted({s.video_id for s in segments} - set(sources))
    if missing:
        raise BadInputError(f"no source information for video(s) {', '.join(missing[:5])}")
    reels = _reels(segments)
    rec_rate = nominal_rate(sources[segments[0].video_id].rate)
    # record_start is a timecode (01:00:00:00): its frame count is at the integer counting rate,
    # 30 labels a second for 29.97 (at the real rate 01:00:00:00 came out as 00:59:56:12)
    rec = int(round(record_start * max(1, round(rec_rate))))
    events: list[Event] = []
    for i, seg in enumerate(segments, 1):
        src = sources[seg.video_id]
        rate = nominal_rate(src.rate)
        n = src.num_frames if src.num_frames else None
        if src.timeline is not None and len(src.timeline):
            n = len(src.timeline)
        start = max(0.0, seg.start - pad)
        end = seg.end + pad
        a = _frame_of(start, src, rate)
        b = _frame_of(end, src, rate)
        if n is not None:
            a = min(a, n - 1)
            b = min(b, n)
        b = max(b, a + 1)
        best = seg.best_frame if seg.best_frame is not None and a <= seg.best_frame < b else a
        if seg.best_frame is None and seg.best_time is not None:
            best = min(max(_frame_of(seg.best_time, src, rate), a), b - 1)
        t_in, t_out = _time_of(a, src, rate), _time_of(b, src, rate)
        src_in = int(round(t_in * rate))
        src_out = max(src_in + 1, int(round(t_out * rate)))
        length = max(1, int(round((src_out - src_in) * rec_rate / rate)))
        events.append(Event(
            index=i, segment=seg, source=src, reel=reels[seg.video_id], rate=rate, frame_in=a, frame_out=b,
            src_in=src_in, src_out=src_out, best=int(best), start=t_in, end=t_out,
            best_time=_time_of(int(best), src, rate), rec_rate=rec_rate, rec_in=rec, rec_out=rec + length,
        ))
        rec += length
    return events


# ------------------------------------------------------------------------------ CSV

CSV_COLUMNS = (
    "index", "group", "video_id", "label", "path", "reel", "rate",
    "start_frame", "end_frame", "best_frame", "start", "end", "best", "duration",
    "start_timecode", "end_timecode", "best_timecode", "src_in", "src_out", "rec_in", "rec_out",
    "distance", "score", "frames", "clip", "clip_mode",
)


def _num(v: float | None, digits: int = 6) -> str:
    """A number with at most ``digits`` decimals and no trailing zeros; "" for None."""
    if v is None:
        return ""
    text = f"{float(v):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def write_csv(path: Path, events: Sequence[Event], clips: Mapping[int, ClipOutcome] | None = None) -> Path:
    """One row per event (columns ``CSV_COLUMNS``): frames (``end_frame`` exclusive), seconds,
    ``HH:MM:SS.mmm`` timecodes, the EDL's SMPTE source/record timecodes, scores and the clip
    written for it (``clip`` relative to the export folder, ``clip_mode`` copy / reencode /
    skipped). Written atomically."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in events:
        s = e.segment
        c = (clips or {}).get(e.index)
        w.writerow([
            e.index, s.group, s.video_id, s.label or "", s.path, e.reel, _num(e.rate, 6),
            e.frame_in, e.frame_out, e.best, _num(e.start), _num(e.end), _num(e.best_time), _num(e.duration),
            timecode(e.start), timecode(e.end), timecode(e.best_time),
            smpte(e.src_in, e.rate), smpte(e.src_out, e.rate), smpte(e.rec_in, e.rec_rate), smpte(e.rec_out, e.rec_rate),
            _num(s.distance), _num(s.score), "" if s.frames is None else s.frames,
            (c.file or "") if c else "", (c.mode if c else ""),
        ])
    atomic_write_text(path, buf.getvalue())
    return path


# ------------------------------------------------------------------------------ EDL


def _edl_text(value: str) -> str:
    """One comment line's text: no line breaks, printable ASCII."""
    return re.sub(r"[^\x20-\x7e]", "?", str(value).replace("\r", " ").replace("\n", " "))


def write_edl(path: Path, events: Sequence[Event], title: str = "vidsift export") -> Path:
    """A CMX3600 EDL, one cut event per segment (layout in the module docstring). Written atomically."""
    lines = [f"TITLE: {_edl_text(title)[:70]}", "FCM: NON-DROP FRAME", ""]
    for e in events:
        s = e.segment
        channel = "AA/V" if e.source.has_audio else "V"
        lines.append(
            f"{e.index:03d}  {e.reel:<8} {channel:<5} C        "
            f"{smpte(e.src_in, e.rate)} {smpte(e.src_out, e.rate)} "
            f"{smpte(e.rec_in, e.rec_rate)} {smpte(e.rec_out, e.rec_rate)}"
        )
        lines.append(f"* FROM CLIP NAME:  {_edl_text(PurePosixPath(s.path.replace(chr(92), '/')).name)}")
        lines.append(f"* FROM CLIP: {_edl_text(s.path.replace(chr(92), '/'))}")
        lines.append(f"* LOC: {smpte(_tc_frame(e.best_time, e.rate), e.rate)} GREEN   BEST")
        extra = [f"GROUP {s.group}" if s.group else "", f"VIDEO {s.video_id}",
                 f"DISTANCE {s.distance:.4f}" if s.distance is not None else "",
                 f"SCORE {s.score:.4f}" if s.score is not None else ""]
        lines.append("* VIDSIFT: " + _edl_text(" ".join(x for x in extra if x)))
        lines.append("")
    atomic_write_text(path, "\n".join(lines))
    return path


# ------------------------------------------------------------------------------ OTIO


def _url(p: str) -> str:
    try:
        return Path(p).absolute().as_uri()
    except ValueError:
        return p


def _vidsift_meta(e: Event) -> dict[str, Any]:
    s = e.segment
    d = {k: v for k, v in s.to_dict().items() if v is not None}
    d.update({"index": e.index, "reel": e.reel, "rate": e.rate, "export_frames": [e.frame_in, e.frame_out],
              "export_best_frame": e.best})
    return d


def write_otio(path: Path, events: Sequence[Event], title: str = "vidsift export") -> Path:
    """An OpenTimelineIO timeline (layout in the module docstring), written atomically."""
    import opentimelineio as otio

    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    rec_rate = events[0].rec_rate if events else 25.0
    tl = otio.schema.Timeline(name=title, global_start_time=RT(events[0].rec_in if events else 0, rec_rate))
    tl.metadata["vidsift"] = {"events": len(events)}
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for e in events:
        s = e.segment
        tl_src = e.source.timeline
        n = _tc_frame(tl_src.end, e.rate) if tl_src is not None and len(tl_src) else e.source.num_frames
        ref = otio.schema.ExternalReference(
            target_url=_url(s.path),
            available_range=TR(RT(0, e.rate), RT(n, e.rate)) if n else None,
        )
        ref.name = PurePosixPath(s.path.replace("\\", "/")).name
        clip = otio.schema.Clip(
            name=f"{e.index:03d} {ref.name}" + (f" [{s.group}]" if s.group else ""),
            media_reference=ref,
            source_range=TR(RT(e.src_in, e.rate), RT(e.src_out - e.src_in, e.rate)),
        )
        clip.metadata["vidsift"] = _vidsift_meta(e)
        clip.metadata["cmx_3600"] = {"reel": e.reel}
        clip.markers.append(otio.schema.Marker(
            name="BEST", marked_range=TR(RT(_tc_frame(e.best_time, e.rate), e.rate), RT(0, e.rate)), color=otio.schema.MarkerColor.GREEN,
        ))
        track.append(clip)
    tl.tracks.append(track)
    with atomic_path(path) as tmp:
        tmp.write_text(otio.adapters.write_to_string(tl, "otio_json"), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ contact sheet


def write_contact_sheet(
    path: Path,
    images: Sequence[np.ndarray | None],
    captions: Sequence[Sequence[str]],
    cols: int = 6,
    cell_height: int = 96,
    pad: int = 4,
) -> Path:
    """A grid of images, each above its caption lines; ``None`` draws a grey "missing" tile.

    Cells are ``cell_height`` tall and as wide as the widest image fitted to that height (aspect
    kept). JPEG or PNG by ``path``'s suffix. Written atomically.
    """
    from PIL import Image, ImageDraw, ImageFont

    if not images:
        raise BadInputError("a contact sheet needs at least one image")
    if len(captions) != len(images):
        raise BadInputError(f"{len(images)} images but {len(captions)} captions")
    cols = max(1, min(int(cols), len(images)))
    widths = [int(round(a.shape[1] * cell_height / max(1, a.shape[0]))) for a in images if a is not None]
    cw = max(widths) if widths else int(cell_height * 4 / 3)
    cw = max(cw, 112)
    font = ImageFont.load_default()
    line_h = 12
    text_h = line_h * max(len(c) for c in captions) + 2
    rows = (len(images) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * (cw + pad) + pad, rows * (cell_height + text_h + pad) + pad), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for i, (img, cap) in enumerate(zip(images, captions, strict=True)):
        r, c = divmod(i, cols)
        x0, y0 = pad + c * (cw + pad), pad + r * (cell_height + text_h + pad)
        if img is None:
            draw.rectangle([x0, y0, x0 + cw - 1, y0 + cell_height - 1], fill=(70, 70, 70))
            draw.text((x0 + 4, y0 + cell_height // 2 - 6), "missing", fill=(220, 220, 220), font=font)
        else:
            arr = np.asarray(img)
            if arr.ndim == 2:
                arr = np.stack([arr] * 3, axis=-1)
            tile = Image.fromarray(np.ascontiguousarray(arr[..., :3]).astype(np.uint8))
            tile.thumbnail((cw, cell_height))
            sheet.paste(tile, (x0 + (cw - tile.width) // 2, y0 + (cell_height - tile.height) // 2))
        for k, text in enumerate(cap):
            text = str(text)
            while len(text) > 1 and draw.textlength(text, font=font) > cw - 2:
                text = text[:-2] + "~"  # cut to the cell's width
            draw.text((x0 + 1, y0 + cell_height + 1 + k * line_h), text, fill=(235, 235, 235), font=font)
    fmt = "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG"
    with atomic_path(path) as tmp:
        sheet.save(tmp, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return path


# ------------------------------------------------------------------------------ clip names


def check_template(template: str) -> str:
    """The template if it only uses known fields and makes a file name (no folders).

    Raises:
        BadInputError: unknown fields, attribute/index access, conversions, path separators or
            ``..``; the message lists the fields.
    """
    known = ", ".join("{" + k + "}" for k in TEMPLATE_FIELDS)
    if not template or not template.strip():
        raise BadInputError(f"--template is empty; use fields {known}")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise BadInputError(f"--template {template!r}: {exc}; use fields {known}") from None
    for literal, name, spec, conv in parts:
        if "/" in literal or "\\" in literal or ".." in literal or "\x00" in literal:
            raise BadInputError(
                f"--template {template!r} would leave the export folder: a clip name cannot hold / \\ or '..'"
            )
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS or conv is not None or (spec and "{" in spec):
            raise BadInputError(f"--template {template!r}: unknown field {{{name}}}; use {known}")
    return template


def _safe_part(value: str, max_len: int = 60) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("._-")[:max_len]


def render_name(template: str, event: Event) -> str:
    """The clip's file stem: ``template`` with the event's fields, each sanitised, and the whole
    name reduced to ``[A-Za-z0-9._-]`` (runs of separators collapsed, no leading dot, at most 120
    characters, never empty).

    Example: ``{video}-{cluster}-{start}`` -> ``astronaut_0-3-00h00m01s480``.
    """
    s = event.segment
    values: dict[str, Any] = {
        "video": safe_stem(s.path), "video_id": _safe_part(s.video_id), "cluster": _safe_part(s.group),
        "group": _safe_part(s.group), "start": fs_timecode(event.start), "end": fs_timecode(event.end),
        "index": event.index, "frame": event.frame_in, "label": _safe_part(s.label or ""),
    }
    try:
        name = check_template(template).format(**values)
    except (ValueError, KeyError, IndexError) as exc:
        raise BadInputError(f"--template {template!r}: {exc}") from None
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    name = re.sub(r"([-_.])[-_.]+", r"\1", name).strip("._-")[:120].rstrip("._-")
    return name or f"clip{event.index:04d}"


# ------------------------------------------------------------------------------ clips


@dataclass
class ClipOutcome:
    """What happened to one event's clip: ``mode`` copy / reencode / skipped, ``file`` relative
    to the export folder, ``reason`` (why this mode, or why skipped)."""

    index: int
    mode: str
    file: str | None = None
    reason: str = ""
    frames: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "mode": self.mode, "file": self.file, "reason": self.reason,
                "frames": self.frames}


Cutter = Callable[[str, Path, float, float], Any]


def write_clips(
    events: Sequence[Event],
    root: Path,
    folder: str = "clips",
    template: str = DEFAULT_TEMPLATE,
    max_clips: int | None = None,
    cutter: Cutter | None = None,
    on_clip: Callable[[int, int], None] | None = None,
) -> list[ClipOutcome]:
    """Cut each event's ``[start, end)`` from its source into ``root/folder/<name><suffix>``.

    ``root`` must be the resolved export folder. Names come from ``template``
    (:func:`render_name`; a repeated name gets ``-2``, ``-3``...), the suffix from
    ``video.cut.clip_suffix``. The first ``max_clips`` events get a clip (all when None). A
    source that is gone or cannot be cut is recorded as ``skipped`` with the reason and the rest
    go on. ``cutter(source, target, start, end)`` defaults to ``video.cut.cut``.

    Raises:
        BadInputError: a bad template, or a target that would resolve outside ``root``.
    """
    from vidsift.errors import VideoError
    from vidsift.video.cut import clip_suffix, cut

    check_template(template)
    if max_clips is not None and max_clips < 0:
        raise BadInputError(f"--max must be >= 0, got {max_clips}")
    cutter = cutter or cut
    todo = list(events) if max_clips is None else list(events)[:max_clips]
    out: list[ClipOutcome] = []
    if not todo:
        return out
    target_dir = inside_folder(root, root / folder)
    target_dir.mkdir(exist_ok=True)
    inside_folder(root, target_dir)
    used: set[str] = set()
    for k, e in enumerate(todo):
        if on_clip is not None:
            on_clip(k, len(todo))
        if not e.source.exists or not Path(e.segment.path).is_file():
            out.append(ClipOutcome(e.index, "skipped", reason=f"{e.segment.path}: source file is missing"))
            continue
        stem = render_name(template, e)
        suffix = clip_suffix(e.segment.path)
        name, n = stem + suffix, 1
        while name.lower() in used:
            n += 1
            name = f"{stem}-{n}{suffix}"
        used.add(name.lower())
        target = inside_folder(root, target_dir / name)
        try:
            res = cutter(e.segment.path, target, e.start, e.end)
        except (VidsiftError, VideoError, OSError, ValueError) as exc:
            out.append(ClipOutcome(e.index, "skipped", reason=str(exc)))
            continue
        mode = getattr(res, "mode", "copy")
        out.append(ClipOutcome(e.index, mode, file=f"{folder}/{name}", reason=getattr(res, "reason", ""),
                               frames=int(getattr(res, "frames", 0))))
    return out
