"""The embedding store: one Parquet shard per video plus a manifest (design decisions 1, 2, 5).

Layout under ``<workspace>/embeddings/<embedder>/``::

    manifest.json            the embedder's manifest (name, dim, unit, layer, checkpoint hash, ...,
                             ``"time": "pts"``)
    shards/<video_id>.parquet one row per frame (or clip): video_id, path, frame, time, shot, label,
                             vector (fixed-size list of float32)

``frame`` is the frame's index in decode order and ``time`` its presentation timestamp in seconds
from the video's first frame. Stores written before timestamps were kept (no ``"time"`` key in
the manifest) held ``frame / fps`` there; they load as they are, and the next ``vidsift embed``
into them rewrites their times from the catalog's timelines (``migrate_times``). Stores written
before frames were turned as shown (no ``"frames"`` key) get their rotated videos embedded again
and their rows sorted by the next ``vidsift embed`` (``migrate_frames``).

Shards are written atomically, so a shard that exists is complete: that is what makes extraction
resumable after a kill. Parquet is read as-is by pandas, DuckDB and Ray Data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.errors import WorkspaceError

META_COLUMNS = ("video_id", "path", "frame", "time", "shot", "label")
MANIFEST = "manifest.json"
SHARDS = "shards"
# Keys that must agree between a store and whatever reads it (index, query embedder).
IDENTITY_KEYS = ("name", "dim", "unit", "layer", "checkpoint_hash")


@dataclass
class StoreData:
    """Vectors and their metadata, rows aligned."""

    meta: pd.DataFrame
    vectors: np.ndarray  # float32 [N, dim], C-contiguous
    manifest: dict[str, Any]

    def __len__(self) -> int:
        return len(self.meta)


def shard_path(store_dir: str | Path, video_id: str) -> Path:
    return Path(store_dir) / SHARDS / f"{video_id}.parquet"


def write_manifest(store_dir: str | Path, manifest: dict[str, Any]) -> None:
    atomic_write_json(Path(store_dir) / MANIFEST, manifest)


def read_manifest(store_dir: str | Path) -> dict[str, Any]:
    path = Path(store_dir) / MANIFEST
    if not path.exists():
        raise WorkspaceError(
            f"{path}: no embedding store here; run `vidsift embed DIR --embedder NAME` first"
        )
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkspaceError(f"{path}: unreadable manifest ({exc}); delete the folder and re-embed") from exc


def check_manifest(store_manifest: dict[str, Any], expected: dict[str, Any], what: str = "store") -> None:
    """Refuse a store/index whose embedder identity differs from ``expected``."""
    for key in IDENTITY_KEYS:
        if key in expected and key in store_manifest and store_manifest[key] != expected[key]:
            raise WorkspaceError(
                f"{what} was built with '{store_manifest.get('name')}' (dim {store_manifest.get('dim')}) "
                f"but the embedder is '{expected.get('name')}' (dim {expected.get('dim')}): "
                f"{key} differs ({store_manifest[key]!r} vs {expected[key]!r}); "
                f"rebuild with --embedder {expected.get('name')}"
            )


#: Parquet's dictionary page limit, bytes. Dictionary encoding pays on repeated values (the
#: per-shard strings, the shot, ``pixels``' 256 levels: a quarter of the size) but on a model's
#: vectors, which barely repeat, the default 1 MB limit is never reached in a shard, so every float
#: is hashed and the file grows (2000 x 128 random floats: 18.7 vs 2.3 ms, 1.6 vs 1.0 MB). A
#: small limit falls back to plain encoding after ~1000 distinct floats (docs/perf_decoding.md).
DICTIONARY_PAGE_BYTES = 4096


def write_shard(
    store_dir: str | Path,
    video_id: str,
    meta: pd.DataFrame | dict[str, Sequence[Any]],
    vectors: np.ndarray,
) -> Path:
    """Write one video's rows atomically. ``meta`` has the columns of ``META_COLUMNS``."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    missing = [c for c in META_COLUMNS if c not in meta]
    if missing:
        raise ValueError(f"metadata lacks columns {missing}")
    rows = len(meta["frame"])
    if vectors.ndim != 2 or len(vectors) != rows or any(len(meta[c]) != rows for c in META_COLUMNS):
        raise ValueError(f"vectors {vectors.shape} do not match {rows} metadata rows")
    if not np.isfinite(vectors).all():
        raise WorkspaceError(f"video {video_id}: the embedder produced NaN or infinite values")
    dim = vectors.shape[1]
    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    table = pa.table(
        {
            "video_id": pa.array([str(x) for x in meta["video_id"]], pa.string()),
            "path": pa.array([str(x) for x in meta["path"]], pa.string()),
            "frame": pa.array(np.asarray(meta["frame"], np.int64), pa.int64()),
            "time": pa.array(np.asarray(meta["time"], np.float64), pa.float64()),
            "shot": pa.array(np.asarray(meta["shot"], np.int32), pa.int32()),
            "label": pa.array([None if pd.isna(x) else str(x) for x in meta["label"]], pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, dim),
        }
    )
    target = shard_path(store_dir, video_id)
    _write_table(target, table)
    return target


def relocate_shard(store_dir: str | Path, video_id: str, path: str, label: str | None) -> bool:
    """Point a video's shard at the file's new place (a move or rename keeps the content id, so
    the vectors stay): its ``path`` and ``label`` columns, rewritten atomically. False when the
    shard already says so."""
    target = shard_path(store_dir, video_id)
    table = _read_table(target)
    n = table.num_rows
    if n == 0 or (set(table.column("path").to_pylist()) == {path}
                  and set(table.column("label").to_pylist()) == {label}):
        return False
    for name, value in (("path", path), ("label", label)):
        table = table.set_column(table.schema.get_field_index(name), name, pa.array([value] * n, pa.string()))
    _write_table(target, table)
    return True


TIME_LAYOUT = "pts"  # the manifest's "time" key: what the time column holds


def migrate_times(store_dir: str | Path, timelines: dict[str, Any]) -> dict[str, int]:
    """Rewrite the ``time`` column of an old store's shards with presentation timestamps.

    ``timelines`` maps video id -> ``video.timeline.Timeline`` (the catalog's). Shards of videos
    without one, or whose frames lie beyond it, keep their old times and are counted as
    ``kept``; each rewrite is atomic, and the manifest is marked only when every shard was done.
    """
    store_dir = Path(store_dir)
    manifest = read_manifest(store_dir)
    done = kept = 0
    for vid in sorted(finished_videos(store_dir)):
        tl = timelines.get(vid)
        path = shard_path(store_dir, vid)
        table = _read_table(path)
        frames = table.column("frame").to_numpy()
        if tl is None or (len(frames) and int(frames.max()) >= tl.num_frames):
            kept += 1
            continue
        times = pa.array(tl.times(frames), pa.float64())
        _write_table(path, table.set_column(table.schema.get_field_index("time"), "time", times))
        done += 1
    if kept == 0:
        write_manifest(store_dir, {**manifest, "time": TIME_LAYOUT})
    return {"migrated": done, "kept": kept}


FRAMES_LAYOUT = "shown"  # the manifest's "frames" key: frames turned as shown, rows in time order


def migrate_frames(store_dir: str | Path, rotated: Iterable[str]) -> dict[str, int]:
    """Bring a store written before frames were read as a player shows them up to date: the
    shards of ``rotated`` videos (a display rotation: their frames were embedded sideways) are
    removed, so the run that calls this embeds them again; the rows of any other shard that are
    out of time order (sparse reads of MPEG-PS/TS, whose late seeks gave missed frames last) are
    sorted by frame. Each change is atomic; the manifest is marked at the end."""
    store_dir = Path(store_dir)
    rotated = set(rotated)
    dropped = sorted_ = 0
    for vid in sorted(finished_videos(store_dir)):
        path = shard_path(store_dir, vid)
        if vid in rotated:
            path.unlink(missing_ok=True)
            dropped += 1
            continue
        frames = _read_table(path, ["frame"]).column("frame").to_numpy()
        if len(frames) > 1 and (np.diff(frames) < 0).any():
            table = _read_table(path)
            _write_table(path, table.take(pa.array(np.argsort(frames, kind="stable"))))
            sorted_ += 1
    write_manifest(store_dir, {**read_manifest(store_dir), "frames": FRAMES_LAYOUT})
    return {"re_embedded": dropped, "sorted": sorted_}


def finished_videos(store_dir: str | Path) -> set[str]:
    """Ids of videos whose shard is complete (atomic writes make existence enough)."""
    d = Path(store_dir) / SHARDS
    if not d.is_dir():
        return set()
    return {p.stem for p in d.glob("*.parquet") if not p.name.startswith(".")}


def remove_shard(store_dir: str | Path, video_id: str) -> bool:
    p = shard_path(store_dir, video_id)
    if p.exists():
        p.unlink()
        return True
    return False


def shard_paths(store_dir: str | Path, video_ids: Iterable[str]) -> dict[str, str]:
    """Video id -> the file path its shard was embedded from (its first row); ids without a
    shard, or with an empty one, are left out. Reads only the ``path`` column."""
    out: dict[str, str] = {}
    for vid in video_ids:
        path = shard_path(store_dir, vid)
        if path.exists():
            col = _read_table(path, ["path"]).column("path")
            if len(col):
                out[vid] = str(col[0].as_py())
    return out


def _write_table(target: Path, table: pa.Table) -> None:
    """A shard's table written atomically (temporary name, then rename)."""
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)


def _read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns, memory_map=True)
    except (OSError, pa.ArrowInvalid) as exc:
        raise WorkspaceError(f"{path}: corrupt shard ({exc}); delete it and rerun `vidsift embed`") from exc


def load_store(
    store_dir: str | Path, video_ids: Iterable[str] | None = None, with_vectors: bool = True
) -> StoreData:
    """Load vectors + metadata of the given videos (all finished ones when ``None``).

    Rows are ordered by video id, then frame, so two loads of the same store align.
    """
    store_dir = Path(store_dir)
    manifest = read_manifest(store_dir)
    ids = sorted(finished_videos(store_dir) if video_ids is None else set(video_ids))
    dim = int(manifest["dim"])
    metas: list[pd.DataFrame] = []
    vecs: list[np.ndarray] = []
    for vid in ids:
        path = shard_path(store_dir, vid)
        if not path.exists():
            raise WorkspaceError(f"{path}: video {vid} has no shard in this store; run `vidsift embed`")
        table = _read_table(path, None if with_vectors else list(META_COLUMNS))
        metas.append(table.select(list(META_COLUMNS)).to_pandas())
        if with_vectors:
            col = table.column("vector").combine_chunks()
            if col.type.list_size != dim:
                raise WorkspaceError(f"{path}: vectors have dim {col.type.list_size}, manifest says {dim}")
            vecs.append(col.values.to_numpy(zero_copy_only=False).reshape(-1, dim))
    meta = (
        pd.concat(metas, ignore_index=True)
        if metas
        else pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(META_COLUMNS, ["object", "object", "int64", "float64", "int32", "object"], strict=True)})
    )
    if with_vectors:
        vectors = np.ascontiguousarray(np.concatenate(vecs) if vecs else np.zeros((0, dim), np.float32), dtype=np.float32)
    else:
        vectors = np.zeros((len(meta), 0), np.float32)
    order = np.lexsort((meta["frame"].to_numpy(), meta["video_id"].to_numpy()))
    if not np.array_equal(order, np.arange(len(order))):
        meta = meta.iloc[order].reset_index(drop=True)
        vectors = vectors[order]
    return StoreData(meta=meta, vectors=vectors, manifest=manifest)


def load_embeddings(ws: Any, embedder: str, video_ids: Iterable[str] | None = None) -> StoreData:
    """The store of ``embedder`` in workspace ``ws`` (a ``Workspace`` or its folder), loaded.

    Raises:
        WorkspaceError: the embedder has no store there (run ``vidsift embed`` first).
    """
    from vidsift.workspace import Workspace

    ws = ws if isinstance(ws, Workspace) else Workspace.at(ws)
    return load_store(ws.embeddings(embedder), video_ids)


def iter_store(
    store_dir: str | Path, video_ids: Iterable[str] | None = None, max_rows: int = 100_000
) -> Iterator[StoreData]:
    """Stream a large store: ``StoreData`` batches of whole shards, about ``max_rows`` rows each.

    Shards come in video-id order and rows within a batch are ordered like ``load_store``'s, so
    concatenating the batches gives exactly ``load_store(store_dir, video_ids)``.
    """
    store_dir = Path(store_dir)
    read_manifest(store_dir)
    ids = sorted(finished_videos(store_dir) if video_ids is None else set(video_ids))
    group: list[str] = []
    rows = 0
    for vid in ids:
        path = shard_path(store_dir, vid)
        if not path.exists():
            raise WorkspaceError(f"{path}: video {vid} has no shard in this store; run `vidsift embed`")
        group.append(vid)
        rows += pq.ParquetFile(path).metadata.num_rows
        if rows >= max_rows:
            yield load_store(store_dir, group)
            group, rows = [], 0
    if group:
        yield load_store(store_dir, group)
