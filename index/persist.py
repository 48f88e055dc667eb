"""Index files on disk, written so that a crash or a bad disk never loses the last good index.

Layout of ``<workspace>/indexes/<embedder>/``::

    index.<gen>.faiss     the CPU FAISS index (``faiss.write_index``)
    idmap.<gen>.parquet   one row per index id: id, video_id, path, frame, time, shot, label
    meta.json             written last: generation, file names with size + sha256, params,
                          embedder manifest, next free id

A save writes a *new generation* of the two data files (each through ``atomic_path``), then
replaces ``meta.json`` atomically, and only then deletes the older generation. Whatever moment
a save is interrupted, ``meta.json`` names a complete, matching pair. On load, a file whose size
or checksum differs from ``meta.json`` (torn, truncated, edited) is reported by name and left in
place; nothing here ever deletes the files ``meta.json`` points to.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import faiss
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.errors import WorkspaceError

META = "meta.json"
FORMAT = 1
_GEN_FILE = re.compile(r"^(index|idmap)\.(\d+)\.(faiss|parquet)$")


def rebuild_hint(embedder: str | None) -> str:
    return f"rebuild with `vidsift index build --embedder {embedder or 'NAME'}`"


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _generations(index_dir: Path) -> set[int]:
    if not index_dir.is_dir():
        return set()
    return {int(m.group(2)) for p in index_dir.iterdir() if (m := _GEN_FILE.match(p.name))}


def read_meta(index_dir: str | Path, embedder: str | None = None) -> dict[str, Any]:
    """The parsed ``meta.json`` of an index folder.

    Raises:
        WorkspaceError: no index there, or an unreadable ``meta.json``.
    """
    path = Path(index_dir) / META
    if not path.exists():
        raise WorkspaceError(
            f"{Path(index_dir)}: no index here; build it with `vidsift index build --embedder {embedder or 'NAME'}`"
        )
    try:
        meta = json.loads(path.read_text())
        if not isinstance(meta, dict) or "files" not in meta:
            raise ValueError("not an index meta file")
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"{path}: unreadable index metadata ({exc}); {rebuild_hint(embedder)}"
        ) from exc
    return meta


def save_files(
    index_dir: str | Path, index: faiss.Index, idmap: pd.DataFrame, meta: dict[str, Any]
) -> Path:
    """Write ``index`` + ``idmap`` as a new generation, then ``meta.json``; drop older generations.

    ``idmap`` is indexed by the int64 id. Returns the path of ``meta.json``.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    previous = _generations(index_dir)
    try:
        previous.add(int(json.loads((index_dir / META).read_text()).get("generation", 0)))
    except (OSError, ValueError, AttributeError):
        pass
    gen = max(previous, default=0) + 1
    files: dict[str, dict[str, Any]] = {}

    index_path = index_dir / f"index.{gen}.faiss"
    with atomic_path(index_path) as tmp:
        faiss.write_index(index, str(tmp))
        files["index"] = {
            "name": index_path.name,
            "size": tmp.stat().st_size,
            "sha256": sha256_of(tmp),
        }

    idmap_path = index_dir / f"idmap.{gen}.parquet"
    table = pa.Table.from_pandas(idmap.rename_axis("id").reset_index(), preserve_index=False)
    with atomic_path(idmap_path) as tmp:
        pq.write_table(table, tmp)
        files["idmap"] = {
            "name": idmap_path.name,
            "size": tmp.stat().st_size,
            "sha256": sha256_of(tmp),
        }

    meta_path = index_dir / META
    atomic_write_json(meta_path, {**meta, "format": FORMAT, "generation": gen, "files": files})
    for p in index_dir.iterdir():  # the new meta.json is on disk: older generations are garbage
        m = _GEN_FILE.match(p.name)
        if m and int(m.group(2)) != gen:
            p.unlink(missing_ok=True)
    return meta_path


def _verified(index_dir: Path, entry: dict[str, Any], embedder: str | None) -> Path:
    path = index_dir / str(entry.get("name", "?"))
    if not path.exists():
        raise WorkspaceError(f"{path}: index file is missing; {rebuild_hint(embedder)}")
    size = path.stat().st_size
    if "size" in entry and size != entry["size"]:
        raise WorkspaceError(
            f"{path}: index file is truncated or corrupt ({size} bytes, meta.json says {entry['size']}); "
            f"{rebuild_hint(embedder)}"
        )
    if "sha256" in entry and sha256_of(path) != entry["sha256"]:
        raise WorkspaceError(
            f"{path}: index file is corrupt (checksum differs from meta.json); {rebuild_hint(embedder)}"
        )
    return path


def load_files(
    index_dir: str | Path, embedder: str | None = None, attempts: int = 5
) -> tuple[faiss.Index, pd.DataFrame, dict[str, Any]]:
    """Read and verify an index folder: ``(faiss index, idmap indexed by id, meta)``.

    A save running meanwhile deletes the generation this read started from: when a file goes
    missing or fails its check *and* ``meta.json`` names a newer generation by then, the read
    starts over on that one (up to ``attempts`` times), so a reader sees the old or the new index,
    never an error (see ``vidsift.locks`` for the writers' side).
    """
    index_dir = Path(index_dir)
    for attempt in range(max(1, int(attempts))):
        seen = _generation_now(index_dir)
        try:
            return _load_generation(index_dir, embedder)
        except (WorkspaceError, FileNotFoundError):
            now = _generation_now(index_dir)
            if attempt + 1 >= attempts or now is None or now == seen:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _generation_now(index_dir: Path) -> int | None:
    try:
        return int(json.loads((index_dir / META).read_text()).get("generation", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def _load_generation(
    index_dir: str | Path, embedder: str | None = None
) -> tuple[faiss.Index, pd.DataFrame, dict[str, Any]]:
    """One attempt of ``load_files``: read and verify the generation ``meta.json`` names now.

    Raises:
        WorkspaceError: missing folder/file, size or checksum mismatch, or a file FAISS/Parquet
            cannot parse. The message names the file and says how to rebuild; nothing is deleted.
    """
    index_dir = Path(index_dir)
    meta = read_meta(index_dir, embedder)
    embedder = embedder or (meta.get("manifest") or {}).get("name")
    if meta.get("format", FORMAT) > FORMAT:
        raise WorkspaceError(
            f"{index_dir / META}: written by a newer vidsift (format {meta['format']}); upgrade or {rebuild_hint(embedder)}"
        )
    files = meta["files"]
    index_path = _verified(index_dir, files.get("index", {}), embedder)
    idmap_path = _verified(index_dir, files.get("idmap", {}), embedder)
    try:
        index = faiss.read_index(str(index_path))
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise WorkspaceError(
            f"{index_path}: FAISS cannot read this index ({first[:120]}); {rebuild_hint(embedder)}"
        ) from exc
    try:
        idmap = pq.read_table(idmap_path).to_pandas().set_index("id")
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise WorkspaceError(
            f"{idmap_path}: unreadable id map ({exc}); {rebuild_hint(embedder)}"
        ) from exc
    if index.ntotal != len(idmap):
        raise WorkspaceError(
            f"{index_path}: holds {index.ntotal} vectors but {idmap_path.name} lists {len(idmap)}; {rebuild_hint(embedder)}"
        )
    return index, idmap, meta


def indexed_videos(index_dir: str | Path, embedder: str | None = None) -> dict[str, str]:
    """Video id -> path (as indexed) of every video in the index, read from the id map that
    ``meta.json`` names, without loading (or verifying) the FAISS file: a cheap look for planning
    an update; ``load_files`` does the checks.

    Raises:
        WorkspaceError: no index there, or an unreadable ``meta.json`` or id map.
    """
    index_dir = Path(index_dir)
    meta = read_meta(index_dir, embedder)
    path = index_dir / str((meta.get("files") or {}).get("idmap", {}).get("name", "?"))
    try:
        table = pq.read_table(path, columns=["video_id", "path"])
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise WorkspaceError(f"{path}: unreadable id map ({exc}); {rebuild_hint(embedder)}") from exc
    out: dict[str, str] = {}
    for vid, p in zip(table.column("video_id").to_pylist(), table.column("path").to_pylist(), strict=True):
        out.setdefault(str(vid), str(p))
    return out

