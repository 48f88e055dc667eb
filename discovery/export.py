"""Export discovered clusters to a folder: tables, thumbnails and contact sheets.

Layout under ``OUT``::

    clusters.csv          one row per frame: cluster, video_id, path, frame, time, timecode, shot,
                          label, distance (to the cluster centre), sorted by cluster then distance;
                          ``time`` is the presentation time in seconds, ``timecode`` HH:MM:SS.mmm
    clusters.json         {"n_clusters", "n_frames", "clusters": [{"cluster", "size", "folder",
                          "members": [rows as in the CSV]}]}
    cluster_000/          the ``max_thumbnails`` frames nearest the centre as JPEG
                          (``0000_<video>_f0000123.jpg``), ``contact_sheet.png`` of them and,
                          with ``clips=True``, short clips (``clip_0000_<video>_f0000123.mp4``)

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
from collections.abc import Callable
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

__all__ = ["ExportSummary", "export_clusters", "safe_stem"]

META = ("video_id", "path", "frame", "time", "shot", "label")
CLUSTER_DIR = re.compile(r"^cluster_\d{3,}$")
OUR_FILES = re.compile(
    r"^(\d{4,}_[A-Za-z0-9_-]+_f\d+\.jpg|clip_\d{4,}_[A-Za-z0-9_-]+_f\d+\.mp4|contact_sheet\.png)$"
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


def _inside(root: Path, target: Path) -> Path:
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
    """``target`` must already have passed :func:`_inside`."""
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"thumbnail must be HxWx3, got shape {arr.shape}")
    with atomic_path(target) as tmp:
        Image.fromarray(np.ascontiguousarray(arr[..., :3]).astype(np.uint8)).save(
            tmp, format="JPEG", quality=88
        )


def _write_clip(target: Path, clip_fn: Callable[[pd.Series, Path], Any], row: pd.Series) -> bool:
    """``clip_fn(row, tmp_path)`` writes an MP4 to ``tmp_path`` (which ends in ``.mp4`` so
    writers that pick the container from the suffix work); renamed over ``target`` after.
    ``target`` must already have passed :func:`_inside`."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".part.mp4", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        ok = clip_fn(row, tmp_path)
        if ok is False or not tmp_path.exists() or tmp_path.stat().st_size == 0:
            return False
        os.replace(tmp_path, target)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def export_clusters(
    out_dir: str | Path,
    meta: pd.DataFrame,
    labels: np.ndarray,
    distances: np.ndarray,
    thumbnail_fn: Callable[[pd.Series], np.ndarray | None] | None = None,
    force: bool = False,
    clips: bool = False,
    clip_fn: Callable[[pd.Series, Path], Any] | None = None,
    max_thumbnails: int = 48,
    max_clips: int = 5,
    sheet_cols: int = 8,
) -> ExportSummary:
    """Write the clusters of ``meta`` rows to ``out_dir`` (layout in the module docstring).

    Args:
        meta: one row per frame with columns video_id, path, frame, time, shot, label.
        labels: cluster of each row, int [N].
        distances: distance of each row to its cluster centre [N] (sorts members).
        thumbnail_fn: ``row -> uint8 HxWx3`` (or ``None`` to skip); errors are recorded in
            ``skipped`` and the export goes on.
        clips, clip_fn: with ``clips=True``, ``clip_fn(row, tmp_path)`` writes an MP4 for the
            ``max_clips`` frames nearest each centre.

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
        raise BadInputError("clips=True needs a clip_fn that writes a clip for a row")
    root = _prepare_out(Path(out_dir), force)

    table = meta.loc[:, list(META)].reset_index(drop=True).copy()
    table.insert(0, "cluster", labels.astype(np.int64))
    table.insert(table.columns.get_loc("time") + 1, "timecode", [timecode(t) for t in table["time"]])
    table["distance"] = distances
    table = table.sort_values(
        ["cluster", "distance", "video_id", "frame"], kind="stable"
    ).reset_index(drop=True)

    csv_path = _inside(root, root / "clusters.csv")
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)

    summary = ExportSummary(
        out_dir=root,
        n_clusters=int(table["cluster"].nunique()),
        n_frames=len(table),
        csv_path=csv_path,
        json_path=root / "clusters.json",
    )
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
        _inside(root, folder)
        summary.cluster_dirs.append(folder)
        thumbs: list[np.ndarray] = []
        for rank, (_, row) in enumerate(members.head(max_thumbnails).iterrows()):
            stem = f"{safe_stem(row['path'])}_f{int(row['frame']):07d}"
            where = f"{row['path']} frame {int(row['frame'])}"
            if thumbnail_fn is not None:
                target = _inside(root, folder / f"{rank:04d}_{stem}.jpg")  # refusal propagates
                try:
                    img = thumbnail_fn(row)
                    if img is not None:
                        _write_jpeg(target, img)
                        thumbs.append(np.asarray(img))
                        summary.n_thumbnails += 1
                except (VidsiftError, OSError, ValueError) as exc:  # one bad video: go on
                    summary.skipped.append(f"{where}: {exc}")
            if clips and clip_fn is not None and rank < max_clips:
                target = _inside(root, folder / f"clip_{rank:04d}_{stem}.mp4")
                try:
                    if _write_clip(target, clip_fn, row):
                        summary.n_clips += 1
                except (VidsiftError, OSError, ValueError) as exc:
                    summary.skipped.append(f"{where} clip: {exc}")
        if thumbs:
            contact_sheet(thumbs, _inside(root, folder / "contact_sheet.png"), cols=sheet_cols)
    atomic_write_json(
        _inside(root, summary.json_path),
        {"n_clusters": summary.n_clusters, "n_frames": summary.n_frames, "clusters": clusters_json},
    )
    return summary
