"""The library use case: scan a folder, list the catalogued videos (as records or as rows for a
table), the shots of a file, and the folder that holds the catalog."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vidsift.catalog import ScanReport, VideoRecord
from vidsift.errors import BadInputError
from vidsift.services.contents import stores
from vidsift.workspace import Workspace


def library_rows(ws: Workspace) -> list[dict[str, Any]]:
    """One dict per catalogued file (errors included) for the Library table.

    Keys: ``video_id, name, path, label, duration, frames, fps, size, shots, status, error,
    embedded`` (embedders whose store holds the video).
    """
    from vidsift.catalog import Catalog
    from vidsift.embedder.store import finished_videos

    cat = Catalog(ws.catalog_path)
    try:
        videos = cat.videos(status=None)
    finally:
        cat.close()
    done = {name: finished_videos(ws.embeddings(name)) for name in stores(ws)}
    rows = []
    for v in videos:
        rows.append({
            "video_id": v.id,
            "name": Path(v.path).name,
            "path": v.path,
            "label": v.label,
            "duration": round(float(v.duration), 2),
            "frames": int(v.num_frames),
            "fps": round(float(v.fps), 2),
            "size": f"{v.width}x{v.height}" if v.width else "",
            "shots": len(v.shots),
            "status": v.status,
            "error": v.error or "",
            "embedded": ", ".join(n for n, ids in done.items() if v.id in ids),
        })
    return rows


def default_folder(ws: Workspace) -> str:
    """The folder that holds every catalogued video (their common parent), or ''."""
    from vidsift.catalog import Catalog

    cat = Catalog(ws.catalog_path)
    try:
        paths = [str(Path(v.path).parent) for v in cat.videos(status=None)]
    finally:
        cat.close()
    if not paths:
        return ""
    try:
        return os.path.commonpath(paths)
    except ValueError:  # different drives
        return paths[0]


def scan(
    ws: Workspace, folder: str | Path, progress: bool = False,
    on_file: Callable[[int, int, str], None] | None = None,
) -> tuple[ScanReport, list[VideoRecord]]:
    """Scan ``folder`` into the workspace's catalog; returns the report and the folder's videos
    (broken ones included, with their error).

    Raises:
        BadInputError: the folder does not exist, or holds no video files at all.
    """
    from vidsift.catalog import Catalog
    from vidsift.video.scan import scan_folder

    with Catalog(ws.catalog_path) as cat:
        report = scan_folder(cat, folder, progress=progress, on_file=on_file)
        videos = cat.videos(status=None, root=report.root)
    if not videos and not report.failed:
        raise BadInputError(f"{report.root}: no video files found (looked for .mp4, .mkv, .avi, .mov, .mpg, ...)")
    return report, videos


def videos(ws: Workspace, labels: Sequence[str] | None = None, errors_only: bool = False) -> list[VideoRecord]:
    """The catalogued videos, broken ones included (with their error); only those with one of
    ``labels`` when given, only the broken ones with ``errors_only``.

    Raises:
        BadInputError: a label no catalogued video has (the known ones are listed).
    """
    from vidsift.catalog import Catalog

    with Catalog(ws.catalog_path) as cat:
        out = cat.videos(status=None)
    if labels:
        known = sorted({v.label for v in out if v.label})
        unknown = [lab for lab in labels if lab not in known]
        if unknown:
            raise BadInputError(f"no catalogued video has label {unknown[0]!r}; labels here: "
                                f"{', '.join(known) if known else 'none (videos directly in the scanned folder)'}")
        out = [v for v in out if v.label in set(labels)]
    return [v for v in out if v.status != "ok"] if errors_only else out


def shots(path: str | Path) -> tuple[list[dict[str, Any]], str | None]:
    """The shots of one video file (start/end frame, seconds, timecodes; ``video.shots``) and
    what the decoder met (None when it decoded cleanly)."""
    from vidsift.video import open_video
    from vidsift.video.shots import detect_shots, shot_table

    with open_video(path) as r:
        return shot_table(detect_shots(r), r.timeline), r.problem
