"""The update use case: bring a workspace in line with a folder of videos in one command.

    result = update_folder(ws, "clips/")                  # every embedder that has a store
    result = update_folder(ws, "clips/", ["pixels"])      # or the ones named (a store is created)
    watch(ws, "clips/", interval=10, on_update=print)     # again whenever the folder changes (services.watch)

One run, in this order:

1. **scan** the folder into the catalog (``video.scan.scan_folder``): new files are probed, a file
   whose size or mtime changed is probed again under its new content id, the rows of files no
   longer on disk are dropped. The catalog commits file by file.
2. for each embedder:

   a. **stale videos**: the ids in its store or its index that no catalog row holds any more and
      whose stored path lies under the folder: deleted, moved out of the folder, or changed (a
      changed file has a new id; its old id is stale). A video whose content is still catalogued
      anywhere (a copy, a move inside the folder) is kept.
   b. **moved** videos (a rename or a move inside the folder keeps the content id, and so the
      vectors) get the catalog's new path and label in their shards, then in the index;
      stale ones are **removed** from the index, then their shards from the store (the
      index's changes are one save);
   c. **embed** what the store lacks (``embedder.extract.extract``, which skips finished shards),
      sampled as the store already is (``--every`` / ``--fps`` / ``--keyframes`` of its manifest);
   d. **index**: add the store's videos the index lacks; an embedder with a store but no index
      gets one built (``build_index=False`` leaves it without).
3. the thumbnails of removed videos that no store holds any more are deleted.

Resumable: every step reads what is on disk now (the catalog, the shards, the index's id map),
never a note of what an earlier run meant to do, and every write is atomic (catalog rows, shards,
index generations). So a run interrupted anywhere leaves a workspace that searches consistently,
and the next run finds the same stale ids, the same missing shards and the same unindexed videos
and finishes the job. The index loses a stale video before its shard does, so it never names a
video the store has lost. Two updates of one workspace run one after the other (a job lock).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vidsift.catalog import Catalog, ScanReport
from vidsift.embedder.store import (
    MANIFEST,
    finished_videos,
    read_manifest,
    relocate_shard,
    remove_shard,
    shard_paths,
)
from vidsift.errors import BadInputError
from vidsift.index.persist import META, indexed_videos, read_meta
from vidsift.services.contents import stores
from vidsift.workspace import Workspace, WorkspaceLike

#: (stage, done, total): stage is "scan", "embed NAME" (frames) or "index NAME" (0/1 then 1/1)
UpdateProgress = Callable[[str, int, int], None]



def update_folder(
    ws: WorkspaceLike,
    folder: str | Path,
    embedders: Sequence[str] | None = None,
    on_progress: UpdateProgress | None = None,
    *,
    build_index: bool = True,
    progress: bool = False,
    workers: int | None = None,
    batch_size: int = 64,
    device: str | None = None,
) -> dict[str, Any]:
    """Scan ``folder``, embed what is new or changed, drop what is gone, and bring each index in
    step (see the module docstring for the steps and why a rerun repairs an interrupted run).

    Args:
        embedders: the embedders to update (a store is created for one that has none); default:
            every embedder that already has a store in the workspace.
        on_progress: called with ``(stage, done, total)`` as the work goes (for the page).
        build_index: build the index of an embedder that has a store but no index.
        progress: show progress bars on stderr (the CLI).
        workers / batch_size / device: passed to the embedding (``vidsift embed``'s options).

    Returns:
        ``{"folder", "workspace", "scan": ScanReport.to_dict(), "embedders": {name: {"added",
        "changed", "removed": [paths], "unchanged": n, "failed": [{"path", "reason"}], "frames",
        "store", "index": {"action": "built"|"updated"|"unchanged"|"none", "added_videos",
        "removed_videos", "videos", "vectors", ...}}}, "removed_thumbnails": n,
        "nothing_to_do": bool, "seconds"}``. ``changed`` paths were re-embedded because their
        content changed; ``removed`` ones are gone (or moved out of the folder).

    Raises:
        BadInputError: the folder does not exist or is a file, holds no videos and never did,
            an unknown embedder, or no embedder given and no store in the workspace.
        WorkspaceError: a store or index that cannot be used (another embedder's, corrupt).
    """
    from vidsift.locks import job_lock

    t0 = time.perf_counter()
    ws = ws if isinstance(ws, Workspace) else Workspace.at(ws)
    root = _check_folder(folder)
    names = _embedders(ws, embedders)
    with job_lock(ws, "update", on_wait=None if progress else (lambda _who: None)):
        result = _update_locked(ws, root, names, on_progress, build_index, progress, workers, batch_size, device)
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result


def _update_locked(
    ws: Workspace, root: Path, names: list[str], on_progress: UpdateProgress | None, build_index: bool,
    progress: bool, workers: int | None, batch_size: int, device: str | None,
) -> dict[str, Any]:
    from vidsift.video.scan import scan_folder

    def on_file(i: int, n: int, _path: str) -> None:
        if on_progress is not None:
            on_progress("scan", i, n)

    with Catalog(ws.catalog_path) as cat:
        known_before = bool(cat.videos(status=None, root=root))
        report: ScanReport = scan_folder(cat, root, progress=progress, on_file=on_file)
        here = cat.videos(status=None, root=root)
        catalogued = {v.id for v in cat.videos(status=None)}
        places = cat.copies()
        moved_ids = {cat.get(p).id for p in report.moved}
    if on_progress is not None:
        on_progress("scan", len(here), len(here))

    stale_of = {name: _stale_videos(ws, name, root, catalogued) for name in names}
    removed_ids = {vid for stale in stale_of.values() for vid in stale}
    if not here and not known_before and not removed_ids:
        raise BadInputError(f"{root}: no video files found (looked for .mp4, .mkv, .avi, .mov, .mpg, ...)")

    per: dict[str, dict[str, Any]] = {}
    for name in names:
        stale = stale_of[name]
        moves = _moves(ws, name, places, moved_ids)
        # moved: the shards before the index, so an interrupted run leaves the index behind and
        # the next one finds the move there; stale: the index first, so it never names a lost shard
        done = finished_videos(ws.embeddings(name))
        shards_moved = [v for v in sorted(moves) if v in done and relocate_shard(ws.embeddings(name), v, *moves[v])]
        index_removed, index_moved = _update_index_rows(ws, name, stale, moves)
        for vid in sorted(stale):
            remove_shard(ws.embeddings(name), vid)
        entry = _embed(ws, root, name, bool(here), on_progress, progress, workers, batch_size, device)
        embedded = set(entry.pop("embedded"))
        old_paths = set(stale.values())
        entry["changed"] = sorted(embedded & old_paths)
        entry["added"] = sorted(embedded - old_paths)
        entry["removed"] = sorted(old_paths - embedded)
        entry["moved"] = sorted(moves[v][0] for v in set(index_moved) | set(shards_moved))
        entry["index"] = _index(ws, name, index_removed, build_index, on_progress, moved=len(index_moved))
        per[name] = {k: entry[k] for k in ("added", "changed", "removed", "moved", "unchanged", "failed",
                                            "frames", "store", "index", "notes")}

    thumbs = _remove_thumbnails(ws, removed_ids)
    scan = report.to_dict()
    busy = any(scan[k] for k in ("added", "updated", "moved", "removed")) or thumbs or any(
        e["added"] or e["changed"] or e["removed"] or e["moved"] or e["index"]["action"] in ("built", "updated")
        for e in per.values()
    )
    return {
        "folder": str(root),
        "workspace": str(ws.root),
        "scan": scan,
        "embedders": per,
        "removed_thumbnails": thumbs,
        "nothing_to_do": not busy,
    }


# -- checks -----------------------------------------------------------------------------------
def _check_folder(folder: str | Path) -> Path:
    p = Path(folder).expanduser()
    if not p.exists():
        raise BadInputError(f"{p}: no such folder; give the folder of videos to keep up to date")
    if not p.is_dir():
        raise BadInputError(f"{p}: is a file; give the folder that holds it (vidsift update keeps whole folders)")
    return p.resolve()


def _embedders(ws: Workspace, embedders: Sequence[str] | None) -> list[str]:
    """The embedders to update, each checked before any work starts."""
    have = stores(ws)
    if not embedders:
        if not have:
            raise BadInputError(
                f"{ws.root}: no embedding store in this workspace yet; name an embedder with --embedder "
                "(e.g. --embedder pixels; see `vidsift embedders`)"
            )
        return have
    from vidsift.embedder.registry import get_embedder

    names: list[str] = []
    for raw in embedders:
        name = str(raw).strip()
        if name in names:
            continue
        if not (ws.embeddings(name) / MANIFEST).exists():
            name = get_embedder(name, ws).name  # an unknown name fails here, before the scan
        names.append(name)
    return names


# -- steps ------------------------------------------------------------------------------------
def _under(path: str, root: Path) -> bool:
    r = str(root)
    return path == r or path.startswith(r.rstrip(os.sep) + os.sep)


def _stale_videos(ws: Workspace, name: str, root: Path, catalogued: set[str]) -> dict[str, str]:
    """Video id -> stored path of the videos of ``name``'s store or index that lie under ``root``
    and that no catalog row holds any more."""
    store_dir, index_dir = ws.embeddings(name), ws.indexes(name)
    found = shard_paths(store_dir, finished_videos(store_dir) - catalogued)
    if (index_dir / META).exists():
        indexed = indexed_videos(index_dir, name)
        found.update({v: p for v, p in indexed.items() if v not in catalogued and v not in found})
    return {v: p for v, p in found.items() if _under(p, root)}


Place = tuple[str, "str | None"]  # (path, label) of a catalogued file


def _moves(ws: Workspace, name: str, places: dict[str, list[Place]], moved: set[str]) -> dict[str, Place]:
    """Video id -> its new (path, label), for the videos of ``name``'s index, or the store's
    videos this scan saw move, whose stored path no catalogued copy has any more. The index is
    checked whole (one file): a move seen by an earlier ``vidsift scan``, or by an update cut
    short, is still found there, since the shards follow a move before the index does."""
    stored: dict[str, str] = {}
    index_dir = ws.indexes(name)
    if (index_dir / META).exists():
        stored.update(indexed_videos(index_dir, name))
    store_dir = ws.embeddings(name)
    stored.update(shard_paths(store_dir, (moved & finished_videos(store_dir)) - set(stored)))
    out: dict[str, Place] = {}
    for vid, path in stored.items():
        copies = places.get(vid)
        if copies and path not in {p for p, _ in copies}:
            out[vid] = copies[0]  # the copy ``Catalog.videos`` lists
    return out


def _update_index_rows(ws: Workspace, name: str, stale: dict[str, str], moves: dict[str, Place]) -> tuple[int, list[str]]:
    """Drop the stale videos from the index and point moved ones at their new place, in one
    atomic save: (videos removed, ids moved)."""
    index_dir = ws.indexes(name)
    if not (stale or moves) or not (index_dir / META).exists():
        return 0, []
    if not (set(stale) | set(moves)) & set(indexed_videos(index_dir, name)):
        return 0, []
    from vidsift.index.video_index import VideoIndex
    from vidsift.locks import job_lock

    store_dir = ws.embeddings(name)
    with job_lock(ws, f"index-{name}"):  # the key services.indexes uses: one writer per index
        expected = read_manifest(store_dir) if (store_dir / MANIFEST).exists() else None
        vi = VideoIndex.load(index_dir, expected_manifest=expected)
        gone = [v for v in sorted(stale) if v in vi.columns.code_of]
        for vid in gone:
            vi.remove(vid)
        moved = vi.relocate(moves)
        if gone or moved:
            vi.save(index_dir)
    return len(gone), moved


def _embed(
    ws: Workspace, root: Path, name: str, has_videos: bool, on_progress: UpdateProgress | None,
    progress: bool, workers: int | None, batch_size: int, device: str | None,
) -> dict[str, Any]:
    """Embed the folder's videos the store lacks, sampled as the store already is."""
    from vidsift.embedder.extract import extract

    store_dir = ws.embeddings(name)
    entry: dict[str, Any] = {"embedded": [], "unchanged": 0, "failed": [], "frames": 0,
                             "store": str(store_dir), "notes": []}
    if not has_videos:  # everything under the folder is gone: nothing to embed
        return entry
    sampling: dict[str, Any] = {}
    if (store_dir / MANIFEST).exists():
        sampling = read_manifest(store_dir).get("sampling") or {}
    fps = sampling.get("fps")
    every = None if fps or sampling.get("keyframes") else sampling.get("every")

    def frames(done: int, total: int, _videos_done: int, _videos: int) -> None:
        if on_progress is not None:
            on_progress(f"embed {name}", done, total)

    r = extract(ws, root, name, every=every, fps=fps, keyframes=bool(sampling.get("keyframes")),
                batch_size=batch_size, workers=workers, progress=progress, on_progress=frames, device=device,
                rescan=False)  # scanned just before
    entry.update(
        embedded=list(r.done),
        unchanged=len(r.skipped),
        failed=[{"path": p, "reason": why} for p, why in [*r.failed, *r.previously_failed]],
        frames=r.frames,
        notes=r.notes,
    )
    return entry


def _index(
    ws: Workspace, name: str, removed: int, build: bool, on_progress: UpdateProgress | None, moved: int = 0
) -> dict[str, Any]:
    """Add the store's unindexed videos to the index, or build one when there is none."""
    from vidsift.services.indexes import add_to_workspace_index, build_workspace_index

    store_dir, index_dir = ws.embeddings(name), ws.indexes(name)
    finished = finished_videos(store_dir)
    stage = f"index {name}"
    if (index_dir / META).exists():
        indexed = set(indexed_videos(index_dir, name))
        if finished - indexed:
            if on_progress is not None:
                on_progress(stage, 0, 1)
            s = add_to_workspace_index(ws, name)
            out = {"action": "updated", "added_videos": len(s["added_videos"]), "removed_videos": removed,
                   "videos": s["videos"], "vectors": s["vectors"], "path": s["path"]}
            if s.get("stale_videos"):
                out["stale_videos"] = s["stale_videos"]
        else:
            meta = read_meta(index_dir, name)
            out = {"action": "updated" if removed or moved else "unchanged", "added_videos": 0, "removed_videos": removed,
                   "videos": len(indexed), "vectors": int(meta.get("ntotal", 0)), "path": str(index_dir)}
    elif build and finished:
        if on_progress is not None:
            on_progress(stage, 0, 1)
        s = build_workspace_index(ws, name)
        out = {"action": "built", "added_videos": s["videos"], "removed_videos": 0, "videos": s["videos"],
               "vectors": s["vectors"], "path": s["path"]}
    else:
        return {"action": "none", "added_videos": 0, "removed_videos": 0, "videos": 0, "vectors": 0, "path": None,
                "moved_videos": 0}
    if on_progress is not None:
        on_progress(stage, 1, 1)
    return {**out, "moved_videos": moved}


def _remove_thumbnails(ws: Workspace, removed: set[str]) -> int:
    """Delete the thumbnails of removed videos that no store of the workspace holds any more."""
    if not removed:
        return 0
    held: set[str] = set()
    for name in stores(ws):
        held |= finished_videos(ws.embeddings(name))
    n = 0
    for vid in sorted(removed - held):
        d = ws.thumbnails / vid
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n


__all__ = ["UpdateProgress", "update_folder"]
