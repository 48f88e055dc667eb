"""Editor-ready exports of what a user found: search results, clusters, duplicate pairs.

Every source becomes a list of ``Segment`` s (``segments_from_search``, ``segments_from_clusters``,
``segments_from_duplicates``, or ``segments_from_file`` for the JSON that ``vidsift search --json``
and ``vidsift duplicates --json`` print), and :func:`export_segments` writes the chosen formats of
them into one folder (docs/export.md)::

    OUT/segments.csv        one row per segment: frames, seconds, timecodes, scores, its clip
    OUT/segments.edl        CMX3600, one event per segment
    OUT/segments.otio       OpenTimelineIO timeline, one clip per segment
    OUT/contact_sheet.png   the best frame of each segment with its timecode
    OUT/clips/<name>.mp4    each segment cut from its source with audio (name from a template)
    OUT/export.json         what was written, what was skipped and why

The CLI (``vidsift export``) and the page call these same functions. Nothing is written until
the arguments are checked; a folder that is not empty is refused unless ``force`` (then the
files an earlier export listed in its ``export.json`` are replaced, nothing else is touched);
every target must resolve inside the folder; every file is written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from vidsift.atomic import atomic_write_json
from vidsift.discovery.editorial import (
    DEFAULT_TEMPLATE,
    ClipOutcome,
    Event,
    Source,
    check_template,
    plan_events,
    write_clips,
    write_contact_sheet,
    write_csv,
    write_edl,
    write_otio,
)
from vidsift.discovery.export import cluster_segments, inside_folder
from vidsift.errors import BadInputError, VidsiftError
from vidsift.services.discover import load_assignments, video_ends
from vidsift.timecode import timecode
from vidsift.video.segment import Segment, merge_frames
from vidsift.workspace import Workspace, safe_name

__all__ = [
    "DEFAULT_TEMPLATE",
    "FORMATS",
    "MANIFEST",
    "export_segments",
    "export_segments_zip",
    "parse_formats",
    "segments_from_clusters",
    "segments_from_duplicates",
    "segments_from_file",
    "segments_from_search",
]

FORMATS: tuple[str, ...] = ("csv", "edl", "otio", "sheet", "clips")
MANIFEST = "export.json"
FILES = {"csv": "segments.csv", "edl": "segments.edl", "otio": "segments.otio", "sheet": "contact_sheet.png"}
CLIPS_DIR = "clips"
DEFAULT_RATE = 25.0
Progress = Callable[[str, float], None]


# ------------------------------------------------------------------------------ sources -> segments


def _is_segment_dict(d: Mapping[str, Any]) -> bool:
    return "start" in d and "end" in d and "first_frame" in d


def segments_from_search(
    results: Sequence[Mapping[str, Any]], gap: float | None = None, span: Mapping[str, float] | None = None
) -> list[Segment]:
    """Segments of a search result: segment dicts (``vidsift search --group ... --json``) are
    taken as they are; hit dicts (``video_id, path, frame, time, distance``...) become one
    segment each (group = rank 1, 2, ...), or, with ``gap``, are merged per video like
    ``search --group segment``. A hit covers ``span[video_id]`` seconds (the time between
    stored rows) when given, else one frame (the export makes every event at least one frame).

    Raises:
        BadInputError: an empty list, or entries that are neither hits nor segments.
    """
    if not results:
        raise BadInputError("nothing to export: the search result is empty")
    if all(isinstance(r, Mapping) and _is_segment_dict(r) for r in results):
        return [_segment(r, i) for i, r in enumerate(results)]
    need = ("video_id", "path", "frame", "time")
    for i, r in enumerate(results):
        if not isinstance(r, Mapping) or any(k not in r for k in need):
            raise BadInputError(
                f"search result entry {i + 1} is neither a hit ({', '.join(need)}) nor a segment "
                "(start, end, first_frame, last_frame); give the JSON of `vidsift search --json`"
            )
    if gap is not None:
        import pandas as pd

        rows = pd.DataFrame([{k: r.get(k) for k in (*need, "distance", "label")} for r in results])
        rows["video_id"] = rows["video_id"].astype(str)
        rows["distance"] = pd.to_numeric(rows["distance"], errors="coerce").fillna(0.0)
        try:
            return merge_frames(rows, by="segment", gap=float(gap), span=span)
        except ValueError as exc:
            raise BadInputError(str(exc)) from None
    out = []
    for rank, r in enumerate(results, 1):
        t = float(r["time"])
        step = float(span.get(str(r["video_id"]), 0.0)) if span else 0.0
        out.append(Segment(
            video_id=str(r["video_id"]), path=str(r["path"]), start=t, end=t + step,
            first_frame=int(r["frame"]), last_frame=int(r["frame"]), best_frame=int(r["frame"]),
            best_time=t, distance=None if r.get("distance") is None else float(r["distance"]),
            group=str(rank), label=None if r.get("label") is None else str(r["label"]), frames=1,
        ))
    return out


def _segment(d: Mapping[str, Any], i: int) -> Segment:
    try:
        return Segment.from_dict(d)
    except ValueError as exc:
        raise BadInputError(f"segment {i + 1}: {exc}") from None


def segments_from_duplicates(data: Mapping[str, Any]) -> list[Segment]:
    """Two segments per duplicate pair of ``vidsift duplicates --json`` (``{"pairs": [{"a": ...,
    "b": ..., "score", "kind", "matched_frames"}]}``), in pair order, group = the pair number
    (1, 2, ...), score = the pair's score.

    Raises:
        BadInputError: no pairs, or a pair without two segments.
    """
    pairs = data.get("pairs") if isinstance(data, Mapping) else None
    if isinstance(pairs, list) and not pairs:
        raise BadInputError("nothing to export: that duplicates run found no pairs (raise --threshold "
                            "or lower --min-seconds of `vidsift duplicates` to find more)")
    if not isinstance(pairs, list):
        raise BadInputError('nothing to export: the duplicates JSON has no "pairs" list')
    out: list[Segment] = []
    for i, pair in enumerate(pairs, 1):
        if not isinstance(pair, Mapping) or not isinstance(pair.get("a"), Mapping) or not isinstance(pair.get("b"), Mapping):
            raise BadInputError(f'duplicate pair {i} needs segments "a" and "b"')
        score = pair.get("score")
        for side in ("a", "b"):
            seg = _segment(pair[side], i - 1)
            changes: dict[str, Any] = {"group": str(i)}
            if score is not None:
                changes["score"] = float(score)
            if pair.get("matched_frames") is not None and seg.frames is None:
                changes["frames"] = int(pair["matched_frames"])
            out.append(replace(seg, **changes))
    return out


def segments_from_clusters(
    ws: Workspace,
    embedder: str,
    clusters: Iterable[int] | None = None,
    by: str = "segment",
    gap: float = 1.0,
) -> list[Segment]:
    """The members of the last discovery run's clusters of ``embedder`` as segments (group = the
    cluster id): member frames of one video at most ``gap`` s apart merged (``by="shot"``: one
    segment per shot, ``"video"``: per video). Cluster by cluster, nearest the centre first.

    Raises:
        WorkspaceError: no discovery run for ``embedder``.
        BadInputError: an unknown cluster or grouping.
    """
    assign = load_assignments(ws, embedder)
    wanted = None if clusters is None else [int(c) for c in clusters] or None
    ends = video_ends(ws, assign["video_id"].astype(str).unique())
    segs = cluster_segments(assign, wanted, by=by, gap=gap, video_end=ends)
    if not segs:
        raise BadInputError(f"the clusters of '{embedder}' have no members to export")
    return segs


def segments_from_file(path: str | Path, gap: float | None = None) -> tuple[str, list[Segment]]:
    """``(kind, segments)`` from a JSON file: ``vidsift duplicates --json`` (kind "duplicates"),
    ``vidsift search --json`` hits or segments (kind "search"), or ``{"segments": [...]}``.

    Raises:
        BadInputError: the file is missing, not JSON, or not one of these shapes.
    """
    p = Path(path)
    if not p.is_file():
        raise BadInputError(f"{p}: no such file; give the JSON of `vidsift search --json` or `vidsift duplicates --json`, or `clusters`")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInputError(f"{p}: not a JSON file ({exc})") from None
    if isinstance(data, Mapping) and "pairs" in data:
        return "duplicates", segments_from_duplicates(data)
    if isinstance(data, Mapping):
        for key in ("segments", "results", "hits"):
            if isinstance(data.get(key), list):
                return "search", segments_from_search(data[key], gap=gap)
    if isinstance(data, list):
        return "search", segments_from_search(data, gap=gap)
    raise BadInputError(
        f'{p}: expected a list of search results or segments, or {{"pairs": [...]}} from vidsift duplicates'
    )


# ------------------------------------------------------------------------------ the export


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """``"csv,edl"`` or ``["csv", "edl"]`` -> ``("csv", "edl")`` in a fixed order; ``all`` = every one.

    Raises:
        BadInputError: an unknown or empty format list.
    """
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    names = {f.strip().lower() for f in items if f and f.strip()}
    if "all" in names:
        names = set(FORMATS)
    bad = sorted(names - set(FORMATS))
    if bad or not names:
        raise BadInputError(f"--format {','.join(bad) or '(none)'}: choose from {', '.join(FORMATS)} or all")
    return tuple(f for f in FORMATS if f in names)


def _prepare(out_dir: Path, force: bool) -> Path:
    """The resolved export folder, created; refused (nothing written) when it is a file, not
    empty without ``force``, or cannot be created or written."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(f"{out_dir} is a file; give a folder to export into")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise BadInputError(f"{out_dir} is not empty; choose an empty folder or pass --force to replace an earlier export")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"cannot create the export folder {out_dir}: {exc.strerror or exc}") from None
    root = out_dir.resolve()
    if not os.access(root, os.W_OK | os.X_OK):
        raise BadInputError(f"cannot write into the export folder {out_dir}: permission denied")
    if force:
        _remove_previous(root)
    return root


def _remove_previous(root: Path) -> None:
    """Remove the regular files an earlier export listed in its manifest (inside ``root`` only)."""
    try:
        old = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    files = old.get("files", []) if isinstance(old, Mapping) else []
    for rel in files if isinstance(files, list) else []:
        target = root / str(rel)
        with contextlib.suppress(OSError, BadInputError):
            if target.is_file() and not target.is_symlink():
                inside_folder(root, target).unlink()
    with contextlib.suppress(OSError):
        (root / CLIPS_DIR).rmdir()  # only when empty


def _sources(ws: Workspace | None, segments: Sequence[Segment]) -> tuple[dict[str, Source], list[str]]:
    """Per video: rate, frames and timeline from the catalog (as scanned), audio and existence
    from the file; a source neither catalogued nor present gets 25 fps and a note."""
    import av

    from vidsift.catalog import Catalog
    from vidsift.video.streams import video_stream
    from vidsift.video.timeline import Timeline

    out: dict[str, Source] = {}
    notes: list[str] = []
    cat = Catalog(ws.catalog_path) if ws is not None and Path(ws.catalog_path).is_file() else None
    try:
        for seg in segments:
            if seg.video_id in out:
                continue
            rate: float | None = None
            frames: int | None = None
            timeline = None
            if cat is not None:
                with contextlib.suppress(VidsiftError):
                    rec = cat.get(seg.video_id)
                    rate, frames = (rec.fps or None), (rec.num_frames or None)
                    timeline = Timeline.from_catalog(cat, seg.video_id)
                    if timeline is not None and timeline.rate() > 0:
                        rate = timeline.rate()
            exists = Path(seg.path).is_file()
            has_audio = False
            if exists:
                try:
                    with av.open(seg.path) as c:
                        has_audio = bool(c.streams.audio)
                        v = video_stream(c)
                        if rate is None and v is not None:
                            r = v.average_rate or v.guessed_rate
                            rate = float(r) if r else None
                            frames = frames or (int(v.frames) or None)
                except (av.FFmpegError, OSError, ValueError):
                    pass
            note = None
            if not rate:
                rate = DEFAULT_RATE
                note = f"{seg.path}: frame rate unknown (not catalogued, file missing or unreadable); {DEFAULT_RATE:g} fps assumed"
                notes.append(note)
            out[seg.video_id] = Source(seg.path, float(rate), frames, timeline, has_audio, exists, note)
    finally:
        if cat is not None:
            cat.close()
    return out, notes


def _caption(e: Event) -> list[str]:
    from vidsift.discovery.editorial import smpte
    from vidsift.discovery.export import safe_stem

    s = e.segment
    head = f"#{e.index}" + (f" [{s.group}]" if s.group else "")
    return [f"{head} {safe_stem(s.path, 40)}", f"{smpte(e.best, e.rate)}  f{e.best}", timecode(e.best_time)]


def export_segments(
    ws: Workspace | None,
    segments: Sequence[Segment],
    out_dir: str | Path,
    formats: str | Iterable[str] = FORMATS,
    max_clips: int | None = None,
    template: str = DEFAULT_TEMPLATE,
    force: bool = False,
    pad: float = 0.0,
    title: str = "vidsift export",
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Write ``segments`` to ``out_dir`` in ``formats`` (layout in the module docstring).

    ``max_clips``: cut only the first N segments (None: all); ``template``: clip names from
    ``{video} {video_id} {cluster} {group} {start} {end} {index} {frame} {label}``; ``pad``: seconds
    added before and after each segment; ``ws``: the workspace whose catalog gives rates and
    timelines and whose thumbnails fill the contact sheet (None: read the files).

    Returns a summary: ``out_dir``, ``formats``, ``n_segments``, ``files`` (relative paths),
    ``clips`` (per segment: mode copy/reencode/skipped, file, reason), ``n_clips``, ``n_copied``,
    ``n_reencoded``, ``skipped`` (one line each) and ``notes``.

    Raises:
        BadInputError: no segments, an unknown format, a bad template, ``max_clips`` < 0, a
            folder that is a file, not empty (without ``force``) or cannot be written; nothing
            is written then.
    """
    def say(msg: str, frac: float) -> None:
        if on_progress is not None:
            on_progress(msg, frac)

    fmts = parse_formats(formats)
    check_template(template)
    if max_clips is not None and int(max_clips) < 0:
        raise BadInputError(f"--max must be >= 0, got {max_clips}")
    if not pad >= 0:
        raise BadInputError(f"--pad must be >= 0 seconds, got {pad}")
    if not segments:
        raise BadInputError("nothing to export: no segments")
    say("reading sources", 0.02)
    sources, notes = _sources(ws, segments)
    events = plan_events(list(segments), sources, pad=pad)
    root = _prepare(Path(out_dir).expanduser(), force)

    written: list[str] = []
    clips: list[ClipOutcome] = []
    if "clips" in fmts:
        def on_clip(k: int, n: int) -> None:
            say(f"clip {k + 1}/{n}", 0.05 + 0.75 * k / max(1, n))

        clips = write_clips(events, root, CLIPS_DIR, template, max_clips, on_clip=on_clip)
        written += [c.file for c in clips if c.file]
    by_index = {c.index: c for c in clips}
    if "csv" in fmts:
        say("CSV", 0.82)
        write_csv(inside_folder(root, root / FILES["csv"]), events, by_index)
        written.append(FILES["csv"])
    if "edl" in fmts:
        say("EDL", 0.85)
        write_edl(inside_folder(root, root / FILES["edl"]), events, title)
        written.append(FILES["edl"])
    if "otio" in fmts:
        say("OTIO", 0.88)
        write_otio(inside_folder(root, root / FILES["otio"]), events, title)
        written.append(FILES["otio"])
    if "sheet" in fmts:
        say("contact sheet", 0.9)
        images = [_best_image(ws, e) for e in events]
        write_contact_sheet(inside_folder(root, root / FILES["sheet"]), images, [_caption(e) for e in events])
        written.append(FILES["sheet"])
    skipped = [f"clip #{c.index}: {c.reason}" for c in clips if c.mode == "skipped"]
    summary: dict[str, Any] = {
        "out_dir": str(root),
        "formats": list(fmts),
        "n_segments": len(events),
        "files": written,
        "clips": [c.to_dict() for c in clips],
        "n_clips": sum(c.mode != "skipped" for c in clips),
        "n_copied": sum(c.mode == "copy" for c in clips),
        "n_reencoded": sum(c.mode == "reencode" for c in clips),
        "skipped": skipped,
        "notes": notes,
        "template": template,
    }
    atomic_write_json(inside_folder(root, root / MANIFEST), summary | {"files": [*written, MANIFEST]})
    summary["files"] = [*written, MANIFEST]
    for rel in summary["files"]:  # atomic writes make 0600 temp files; exports are for sharing
        with contextlib.suppress(OSError):
            os.chmod(root / rel, 0o644)
    say("done", 1.0)
    return summary


def _best_image(ws: Workspace | None, e: Event) -> Any:
    """The event's best frame as a thumbnail: the workspace's cached one when there is one, else
    decoded from the file at thumbnail size (and not cached: an export writes only into its
    folder); None when neither works (the sheet draws a "missing" tile)."""
    from vidsift.embedder.thumbnails import (
        THUMBNAIL_HEIGHT,
        read_jpeg,
        thumbnail_path,
        thumbnail_size,
    )
    from vidsift.video import open_video

    if ws is not None:
        cached = thumbnail_path(ws.thumbnails, e.segment.video_id, e.best)
        if cached.is_file():
            with contextlib.suppress(OSError, ValueError):
                return read_jpeg(cached)
    if not e.source.exists:
        return None
    try:
        with open_video(e.segment.path, timeline=e.source.timeline) as r:
            size = thumbnail_size(r.info.display_width, r.info.height, THUMBNAIL_HEIGHT)
            return r.get_frames([e.best], size=size)[0]
    except (VidsiftError, OSError, ValueError):
        return None


def export_segments_zip(
    ws: Workspace, segments: Sequence[Segment], name: str, **kwargs: Any
) -> tuple[dict[str, Any], Path]:
    """For the page: :func:`export_segments` into ``ws.exports/<name>`` (an earlier export of
    that name replaced) and that folder zipped beside it as ``<name>.zip``.
    Returns ``(summary, zip path)``."""
    from vidsift.services.discover import zip_folder

    folder = safe_name(name.strip() or "export")
    exports = ws.exports
    exports.mkdir(parents=True, exist_ok=True)
    out_dir = exports / folder
    if out_dir.resolve().parent != exports.resolve():
        raise BadInputError(f"export name {name!r} must be a plain folder name")
    kwargs.setdefault("force", True)
    summary = export_segments(ws, segments, out_dir, **kwargs)
    return summary, zip_folder(out_dir, exports / f"{folder}.zip")
