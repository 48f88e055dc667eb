"""Export discovered clusters to a folder: tables, thumbnails and contact sheets.

Layout under ``OUT``::

    clusters.csv          one row per frame: cluster, video_id, path, frame, time, timecode, shot,
                          label, distance (to the cluster centre), sorted by cluster then distance;
                          ``time`` is the presentation time in seconds, ``timecode`` HH:MM:SS.mmm
    clusters.json         {"n_clusters", "n_frames", "clusters": [{"cluster", "size", "folder",
                          "members": [rows as in the CSV]}]}
    cluster_000/          the ``max_thumbnails`` frames nearest the centre as JPEG
                          (``0000_<video>_f0000123.jpg``), ``contact_sheet.png`` of them and,
                          with ``clips=True``, one clip per member segment
                          (``clip_0000_<video>_00h00m01s480.mp4``, nearest the centre first)

Clips: a cluster's member frames are merged into segments (``video.segment.merge_frames``, by
``clip_gap``; :func:`cluster_segments`) and ``clip_fn(segment, tmp_path)`` cuts each, with its
audio (``video.cut``); ``max_clips`` caps the clips per cluster (None: every segment).

Security: every file name is built by us (a sanitised stem of the video's file name: only
``[A-Za-z0-9_-]``, at most 60 characters, never ``..`` or a path), and every target is resolved
and checked to lie inside ``OUT`` before anything is written (so ``../../etc/passwd``, absolute
paths or a ``cluster_000`` symlink pointing elsewhere cannot send a write outside ``OUT``).
A non-empty ``OUT`` is refused unless ``force=True``; with ``force`` our own earlier output
(``clusters.csv/json`` and ``cluster_NNN`` folders holding only our file types) is replaced and
nothing else is touched. Every file is written atomically.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.discovery.plots import contact_sheet
from vidsift.errors import BadInputError, VidsiftError
from vidsift.timecode import timecode
from vidsift.video.cut import clip_suffix
from vidsift.video.segment import Segment, merge_frames

__all__ = ["ExportSummary", "cluster_segments", "export_clusters", "fs_timecode", "inside_folder", "safe_stem"]

META = ("video_id", "path", "frame", "time", "shot", "label")
CLUSTER_DIR = re.compile(r"^cluster_\d{3,}$")
OUR_FILES = re.compile(
    r"^(\d{4,}_[A-Za-z0-9_-]+_f\d+\.jpg|contact_sheet\.png"
    r"|clip_\d{4,}_[A-Za-z0-9_-]+_(f\d+|\d{2,}h\d{2}m\d{2}s\d{3})\.(mp4|m4v|mov|mkv))$"
)


@dataclass
class ExportSummary:
    """What :func:`export_clusters` wrote."""

    out_dir: Path
    n_clusters: int
    n_frames: int
    csv_path: Path
    json_path: Path
    cluster_dirs: list[Path] = field(default_factory=list)
    n_thumbnails: int = 0
    n_clips: int = 0
    skipped: list[str] = field(
        default_factory=list
    )  # "path frame N: reason" for failed thumbnails/clips

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "n_clusters": self.n_clusters,
            "n_frames": self.n_frames,
            "csv": str(self.csv_path),
            "json": str(self.json_path),
            "n_thumbnails": self.n_thumbnails,
            "n_clips": self.n_clips,
            "skipped": list(self.skipped),
        }


def safe_stem(path: str, max_len: int = 60) -> str:
    """A file-name-safe stem from a video path: last component, extension dropped, characters
    outside ``[A-Za-z0-9_-]`` replaced by ``_``; never empty, never ``.``/``..``."""
    name = PurePosixPath(str(path).replace("\\", "/")).name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:max_len]
    return stem or "video"


def inside_folder(root: Path, target: Path) -> Path:
    """``target`` resolved; BadInputError unless it lies inside ``root`` (already resolved)."""
    resolved = target.resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise BadInputError(
            f"refusing to write {target}: it resolves to {resolved}, outside the export folder {root}"
        )
    return resolved


def _prepare_out(out_dir: Path, force: bool) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(f"{out_dir} is a file; give a folder to export into")
    out_dir.mkdir(parents=True, exist_ok=True)
    root = out_dir.resolve()
    entries = list(root.iterdir())
    if entries and not force:
        raise BadInputError(
            f"{out_dir} is not empty; choose an empty folder or pass force=True (--force) to replace an earlier export"
        )
    if force:
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink() and CLUSTER_DIR.match(entry.name):
                for f in entry.iterdir():
                    if f.is_file() and not f.is_symlink() and OUR_FILES.match(f.name):
                        f.unlink()
                with contextlib.suppress(OSError):
                    entry.rmdir()  # left in place when it holds files that are not ours
    return root


def _write_jpeg(target: Path, image: np.ndarray) -> None:
    """``target`` must already have passed :func:`inside_folder`."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"thumbnail must be HxWx3, got shape {arr.shape}")
    with atomic_path(target) as tmp:
        Image.fromarray(np.ascontiguousarray(arr[..., :3]).astype(np.uint8)).save(
            tmp, format="JPEG", quality=88
        )


def _write_clip(target: Path, clip_fn: Callable[[Segment, Path], Any], segment: Segment) -> bool:
    """``clip_fn(segment, tmp_path)`` writes a clip to ``tmp_path`` (which ends in ``target``'s
    suffix so writers that pick the container from it work); renamed over ``target`` after.
    ``target`` must already have passed :func:`inside_folder`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".part" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        ok = clip_fn(segment, tmp_path)
        if ok is False or not tmp_path.exists() or tmp_path.stat().st_size == 0:
            return False
        os.replace(tmp_path, target)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def fs_timecode(seconds: float) -> str:
    """A timecode that is safe in a file name and sorts by time: ``00h01m02s500``.

    Example:
        >>> fs_timecode(62.5)
        '00h01m02s500'
    """
    h, m, rest = timecode(seconds).split(":")
    return f"{h}h{m}m{rest.replace('.', 's')}"


def cluster_segments(
    rows: pd.DataFrame,
    clusters: list[int] | None = None,
    by: str = "segment",
    gap: float = 1.0,
    video_end: Mapping[str, float] | None = None,
) -> list[Segment]:
    """Members of clusters as segments: the frame rows (``cluster``, ``video_id``, ``path``,
    ``frame``, ``time``, optional ``distance``, ``shot``, ``label``) of each cluster merged by
    ``video.segment.merge_frames`` with ``group`` = the cluster id; one row stands for the
    time to the video's next stored row (so sparse members do not shrink it). Sorted by cluster,
    then nearest the centre (smallest best distance) first.

    Raises:
        BadInputError: unknown clusters, or rows lacking the columns.
    """
    need = [c for c in ("cluster", "video_id", "path", "frame", "time") if c not in rows.columns]
    if need:
        raise BadInputError(f"cluster rows lack column(s) {', '.join(need)}")
    span = {str(v): _median_gap(g["time"].to_numpy(np.float64)) for v, g in rows.groupby("video_id")}
    part = rows
    if clusters is not None:
        have = set(int(c) for c in rows["cluster"].unique())
        unknown = sorted(set(int(c) for c in clusters) - have)
        if unknown:
            raise BadInputError(
                f"no cluster {', '.join(map(str, unknown))}; the clusters are {min(have)}..{max(have)}"
            )
        part = rows[rows["cluster"].isin([int(c) for c in clusters])]
    keep = [c for c in ("video_id", "path", "frame", "time", "distance", "shot", "label") if c in part.columns]
    frame_rows = part.loc[:, keep].copy()
    frame_rows["video_id"] = frame_rows["video_id"].astype(str)
    frame_rows["group"] = part["cluster"].astype(int).astype(str)
    try:
        segs = merge_frames(frame_rows, by=by, gap=gap, span=span, video_end=video_end)  # type: ignore[arg-type]
    except ValueError as exc:
        raise BadInputError(str(exc)) from None
    return sorted(segs, key=lambda s: (int(s.group), np.inf if s.distance is None else s.distance, s.video_id, s.start))


def _median_gap(times: np.ndarray) -> float:
    gaps = np.diff(np.unique(times))
    return float(np.median(gaps)) if len(gaps) else 0.0


def export_clusters(
    out_dir: str | Path,
    meta: pd.DataFrame,
    labels: np.ndarray,
    distances: np.ndarray,
    thumbnail_fn: Callable[[pd.Series], np.ndarray | None] | None = None,
    force: bool = False,
    clips: bool = False,
    clip_fn: Callable[[Segment, Path], Any] | None = None,
    max_thumbnails: int = 48,
    max_clips: int | None = None,
    sheet_cols: int = 8,
    clip_gap: float = 1.0,
    video_end: Mapping[str, float] | None = None,
) -> ExportSummary:
    """Write the clusters of ``meta`` rows to ``out_dir`` (layout in the module docstring).

    Args:
        meta: one row per frame with columns video_id, path, frame, time, shot, label.
        labels: cluster of each row, int [N].
        distances: distance of each row to its cluster centre [N] (sorts members).
        thumbnail_fn: ``row -> uint8 HxWx3`` (or ``None`` to skip); errors are recorded in
            ``skipped`` and the export goes on.
        clips, clip_fn: with ``clips=True``, ``clip_fn(segment, tmp_path)`` writes the clip of
            each member segment (:func:`cluster_segments` with ``clip_gap``, ``video_end``),
            nearest the centre first, at most ``max_clips`` per cluster (None: all); a clip that
            fails is recorded in ``skipped`` and the export goes on.

    Raises:
        BadInputError: misaligned inputs, ``out_dir`` not empty without ``force``, or a target
            that would resolve outside ``out_dir``.
    """
    labels = np.asarray(labels)
    distances = np.asarray(distances, dtype=np.float64)
    missing = [c for c in META if c not in meta.columns]
    if missing:
        raise BadInputError(f"metadata lacks columns {missing}")
    if not (len(meta) == len(labels) == len(distances)):
        raise BadInputError(
            f"{len(meta)} metadata rows, {len(labels)} labels and {len(distances)} distances must align"
        )
    if len(meta) == 0:
        raise BadInputError("nothing to export: no frames")
    if clips and clip_fn is None:
        raise BadInputError("clips=True needs a clip_fn that writes a clip for a segment")
    if max_clips is not None and max_clips < 0:
        raise BadInputError(f"max_clips must be >= 0, got {max_clips}")
    root = _prepare_out(Path(out_dir), force)

    table = meta.loc[:, list(META)].reset_index(drop=True).copy()
    table.insert(0, "cluster", labels.astype(np.int64))
    table.insert(table.columns.get_loc("time") + 1, "timecode", [timecode(t) for t in table["time"]])
    table["distance"] = distances
    table = table.sort_values(
        ["cluster", "distance", "video_id", "frame"], kind="stable"
    ).reset_index(drop=True)

    csv_path = inside_folder(root, root / "clusters.csv")
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)

    summary = ExportSummary(
        out_dir=root,
        n_clusters=int(table["cluster"].nunique()),
        n_frames=len(table),
        csv_path=csv_path,
        json_path=root / "clusters.json",
    )
    by_cluster: dict[str, list[Segment]] = {}
    if clips:
        for seg in cluster_segments(table, gap=clip_gap, video_end=video_end):
            by_cluster.setdefault(seg.group, []).append(seg)
    clusters_json = []
    for cluster, members in table.groupby("cluster", sort=True):
        folder_name = f"cluster_{int(cluster):03d}"
        folder = root / folder_name
        records = [
            {
                k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
                for k, v in rec.items()
            }
            for rec in members.to_dict("records")
        ]
        clusters_json.append(
            {
                "cluster": int(cluster),
                "size": len(members),
                "folder": folder_name,
                "members": records,
            }
        )
        if thumbnail_fn is None and not clips:
            continue
        folder.mkdir(exist_ok=True)
        inside_folder(root, folder)
        summary.cluster_dirs.append(folder)
        thumbs: list[np.ndarray] = []
        for rank, (_, row) in enumerate(members.head(max_thumbnails).iterrows()):
            stem = f"{safe_stem(row['path'])}_f{int(row['frame']):07d}"
            where = f"{row['path']} frame {int(row['frame'])}"
            if thumbnail_fn is not None:
                target = inside_folder(root, folder / f"{rank:04d}_{stem}.jpg")  # refusal propagates
                try:
                    img = thumbnail_fn(row)
                    if img is not None:
                        _write_jpeg(target, img)
                        thumbs.append(np.asarray(img))
                        summary.n_thumbnails += 1
                except (VidsiftError, OSError, ValueError) as exc:  # one bad video: go on
                    summary.skipped.append(f"{where}: {exc}")
        if clips and clip_fn is not None:
            segs = by_cluster.get(str(int(cluster)), [])
            for rank, seg in enumerate(segs if max_clips is None else segs[:max_clips]):
                name = f"clip_{rank:04d}_{safe_stem(seg.path)}_{fs_timecode(seg.start)}{clip_suffix(seg.path)}"
                target = inside_folder(root, folder / name)
                try:
                    if _write_clip(target, clip_fn, seg):
                        summary.n_clips += 1
                except (VidsiftError, OSError, ValueError) as exc:
                    summary.skipped.append(f"{seg.path} {timecode(seg.start)}-{timecode(seg.end)} clip: {exc}")
        if thumbs:
            contact_sheet(thumbs, inside_folder(root, folder / "contact_sheet.png"), cols=sheet_cols)
    atomic_write_json(
        inside_folder(root, summary.json_path),
        {"n_clusters": summary.n_clusters, "n_frames": summary.n_frames, "clusters": clusters_json},
    )
    return summary
