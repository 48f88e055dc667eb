"""The catalog: an SQLite file in the workspace listing videos, their probe data, shots and status.

A video's id is derived from its content (size + SHA-1 of its first and last MiB), so moving a
folder keeps ids and everything computed from them. Each file's row is committed as soon as it is
probed, so a scan that is killed or meets a broken file never loses rows already recorded; a broken
file gets a row with ``status = 'error'`` and the reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video.info import VIDEO_EXTENSIONS
from vidsift.errors import BadInputError, VideoError

SCHEMA_VERSION = 1
_MIB = 1 << 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS videos (
    path TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    root TEXT,
    label TEXT,
    size INTEGER,
    mtime REAL,
    fps REAL, num_frames INTEGER, width INTEGER, height INTEGER, duration REAL,
    codec TEXT, rotation INTEGER,
    shots TEXT,
    status TEXT NOT NULL,
    error TEXT,
    scanned_at REAL
);
CREATE INDEX IF NOT EXISTS videos_id ON videos(id);
CREATE TABLE IF NOT EXISTS embed_status (
    video_id TEXT, embedder TEXT, status TEXT, error TEXT, updated_at REAL,
    PRIMARY KEY (video_id, embedder)
);
"""


def content_id(path: str | Path) -> str:
    """Stable id from size + first and last MiB: survives moves and renames, changes with content."""
    p = Path(path)
    size = p.stat().st_size
    h = hashlib.sha1(str(size).encode())
    with open(p, "rb") as f:
        h.update(f.read(_MIB))
        if size > _MIB:
            f.seek(max(_MIB, size - _MIB))
            h.update(f.read(_MIB))
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class VideoRecord:
    id: str
    path: str
    label: str | None
    fps: float
    num_frames: int
    width: int
    height: int
    duration: float
    codec: str
    rotation: int
    shots: list[int] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None
    size: int = 0

    def shot_of(self, frame: int) -> int:
        """Index of the shot that contains ``frame``."""
        s = 0
        for i, start in enumerate(self.shots):
            if frame >= start:
                s = i
        return s

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class ScanReport:
    root: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "added": self.added,
            "updated": self.updated,
            "moved": self.moved,
            "removed": self.removed,
            "unchanged": len(self.unchanged),
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
        }


def find_videos(folder: Path) -> list[Path]:
    """Video files below ``folder`` by extension, sorted, hidden files and folders skipped."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in VIDEO_EXTENSIONS:
                out.append(Path(dirpath) / name)
    return out


def _label_for(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    return rel.parent.name if len(rel.parts) > 1 else None


def inspect_video(path: str | Path, timeout: float | None = None) -> dict[str, Any]:
    """Probe data and shots of one file; raises ``VideoError`` when it is not usable.

    ``timeout`` (seconds) bounds the decode; by default it scales with the file size
    (60 s + 10 s per MiB), so only a file that makes the decoder loop is stopped.
    """
    if timeout is None:
        timeout = 60.0 + 10.0 * Path(path).stat().st_size / _MIB
    from video.guard import time_limit
    from video.reader import VideoReader
    from video.shots import detect_shots

    with time_limit(timeout, path), VideoReader(path) as r:
        # Generous: ~30 frames/s at worst on a loaded laptop, plus start-up.
        r.get_frames([0], size=(16, 16))
        shots = detect_shots(r)
        return {**r.info.to_dict(), "shots": shots}


class Catalog:
    """The SQLite catalog. Safe to open from several processes (WAL, busy timeout)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                self._db.commit()
            elif int(row[0]) > SCHEMA_VERSION:
                raise BadInputError(f"{self.path}: catalog written by a newer vidsift; upgrade vidsift")
        except sqlite3.DatabaseError as exc:
            raise BadInputError(
                f"{self.path}: not a vidsift catalog ({exc}); move it away and rescan"
            ) from exc

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    # -- scanning ---------------------------------------------------------------------------
    def scan(
        self,
        folder: str | Path,
        progress: bool = False,
        on_file: Callable[[int, int, str], None] | None = None,
    ) -> ScanReport:
        """Bring the catalog in line with ``folder``: add new, re-probe changed, drop removed files."""
        root = Path(folder).expanduser()
        if not root.exists():
            raise BadInputError(f"{root}: no such folder")
        root = root.resolve()
        files = [root] if root.is_file() else find_videos(root)
        if root.is_file():
            root = root.parent
        report = ScanReport(root=str(root))
        known = {r["path"]: r for r in self._rows("WHERE root = ? OR path LIKE ?", (str(root), str(root) + os.sep + "%"))}
        by_id: dict[str, list[str]] = {}
        for r in self._rows(""):
            by_id.setdefault(r["id"], []).append(r["path"])
        seen: set[str] = set()
        iterator: Any = files
        if progress:
            from tqdm import tqdm

            iterator = tqdm(files, desc="scan", unit="video")
        for i, f in enumerate(iterator):
            path = str(f)
            seen.add(path)
            if on_file:
                on_file(i, len(files), path)
            try:
                st = f.stat()
                old = known.get(path)
                if old and old["size"] == st.st_size and old["mtime"] == st.st_mtime:
                    report.unchanged.append(path)
                    continue
                vid = content_id(f)
            except OSError as exc:
                self._record_error(path, "?", root, _label_for(f, root), 0, 0.0, f"cannot read ({exc.strerror})")
                report.failed.append((path, f"cannot read ({exc.strerror})"))
                continue
            # The same content already recorded at a path that no longer exists: a move.
            moved_from = [p for p in by_id.get(vid, []) if p != path and not Path(p).exists()]
            try:
                data = inspect_video(f)
            except VideoError as exc:
                self._record_error(path, vid, root, _label_for(f, root), st.st_size, st.st_mtime, exc.reason)
                report.failed.append((path, exc.reason))
                continue
            self._record_ok(path, vid, root, _label_for(f, root), st.st_size, st.st_mtime, data)
            if moved_from:
                with self._tx() as db:
                    db.executemany("DELETE FROM videos WHERE path = ?", [(p,) for p in moved_from])
                report.moved.append(path)
            elif old:
                report.updated.append(path)
            else:
                report.added.append(path)
        for path in known:
            if path not in seen and not Path(path).exists():
                with self._tx() as db:
                    db.execute("DELETE FROM videos WHERE path = ?", (path,))
                report.removed.append(path)
        return report

    def _record_ok(self, path, vid, root, label, size, mtime, d) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO videos VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (path, vid, str(root), label, size, mtime, d["fps"], d["num_frames"], d["width"],
                 d["height"], d["duration"], d["codec"], d["rotation"], json.dumps(d["shots"]),
                 "ok", None, time.time()),
            )

    def _record_error(self, path, vid, root, label, size, mtime, reason) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO videos VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (path, vid, str(root), label, size, mtime, 0.0, 0, 0, 0, 0.0, "", 0, "[]",
                 "error", reason, time.time()),
            )

    # -- reading ----------------------------------------------------------------------------
    def _rows(self, where: str, args: tuple = ()) -> list[sqlite3.Row]:
        self._db.row_factory = sqlite3.Row
        return self._db.execute(f"SELECT * FROM videos {where} ORDER BY path", args).fetchall()

    @staticmethod
    def _record(r: sqlite3.Row) -> VideoRecord:
        return VideoRecord(
            id=r["id"], path=r["path"], label=r["label"], fps=r["fps"], num_frames=r["num_frames"],
            width=r["width"], height=r["height"], duration=r["duration"], codec=r["codec"],
            rotation=r["rotation"], shots=json.loads(r["shots"] or "[]"), status=r["status"],
            error=r["error"], size=r["size"] or 0,
        )

    def videos(self, status: str | None = "ok", root: str | Path | None = None) -> list[VideoRecord]:
        """Catalogued videos, one per content id (the first path when a file is duplicated)."""
        clauses, args = [], []
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        if root is not None:
            r = str(Path(root).expanduser().resolve())
            clauses.append("(root = ? OR path LIKE ?)")
            args += [r, r + os.sep + "%"]
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        out, seen = [], set()
        for row in self._rows(where, tuple(args)):
            key = row["id"] if row["status"] == "ok" else row["path"]
            if key not in seen:
                seen.add(key)
                out.append(self._record(row))
        return out

    def get(self, ref: str | Path) -> VideoRecord:
        """A video by id, or by path (as given or resolved)."""
        ref = str(ref)
        rows = self._rows("WHERE id = ? OR path = ?", (ref, ref))
        if not rows and Path(ref).exists():
            rows = self._rows("WHERE path = ?", (str(Path(ref).resolve()),))
        if not rows:
            raise BadInputError(f"{ref}: not in the catalog; run `vidsift scan FOLDER` first")
        return self._record(rows[0])

    # -- per-embedder status ----------------------------------------------------------------
    def set_embed_status(self, video_id: str, embedder: str, status: str, error: str | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO embed_status VALUES (?,?,?,?,?)",
                (video_id, embedder, status, error, time.time()),
            )

    def embed_status(self, embedder: str) -> dict[str, tuple[str, str | None]]:
        rows = self._db.execute(
            "SELECT video_id, status, error FROM embed_status WHERE embedder = ?", (embedder,)
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}
