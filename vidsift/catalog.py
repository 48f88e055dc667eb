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

from vidsift.errors import BadInputError, VideoError
from vidsift.workspace import CATALOG_FILE

#: file extensions a scan picks up
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".flv", ".wmv", ".3gp", ".ogv"}
)

# 2: the decoder's frame count, the header's estimate beside it, the timeline and a note.
SCHEMA_VERSION = 3
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
    scanned_at REAL,
    header_frames INTEGER,
    timeline BLOB,
    note TEXT
);
CREATE INDEX IF NOT EXISTS videos_id ON videos(id);
CREATE TABLE IF NOT EXISTS embed_status (
    video_id TEXT, embedder TEXT, status TEXT, error TEXT, updated_at REAL,
    PRIMARY KEY (video_id, embedder)
);
"""


_COLUMNS = ("path, id, root, label, size, mtime, fps, num_frames, width, height, duration, codec, "
            "rotation, shots, status, error, scanned_at, header_frames, timeline, note")
_SLOTS = ",".join("?" * len(_COLUMNS.split(",")))


def _stale(row: sqlite3.Row) -> bool:
    """A row written before the decoder's timeline was kept (schema 1): probe it again."""
    return row["status"] == "ok" and not row["has_timeline"]


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
    """A catalogued video. ``num_frames`` is what decodes; ``header_frames`` the container's
    estimate; ``fps`` the header's nominal rate (times come from the timeline, never from it);
    ``note`` what the decoder met (a shortfall, damaged packets, an early stop)."""

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
    header_frames: int = 0
    note: str | None = None

    def shot_of(self, frame: int) -> int:
        """Index of the shot that contains ``frame``."""
        s = 0
        for i, start in enumerate(self.shots):
            if frame >= start:
                s = i
        return s

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: the id is ``video_id``, as in the store's Parquet, search hits and CSVs."""
        return {("video_id" if k == "id" else k): getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class ScanReport:
    root: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # what the decoder met, per file

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "added": self.added,
            "updated": self.updated,
            "moved": self.moved,
            "removed": self.removed,
            "unchanged": len(self.unchanged),
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "notes": [{"path": p, "note": n} for p, n in self.notes],
        }


def _unreadable(f: Path, exc: OSError) -> str:
    """Why ``f`` could not be read, in words: a link to nothing names its target."""
    if f.is_symlink() and not f.exists():
        return f"a broken link: its target {os.readlink(f)} does not exist"
    return f"cannot read ({exc.strerror or exc})"


def _is_text(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name (Python's surrogate escapes)
        return False
    return True


def printable_path(path: str) -> str:
    """``path`` for messages: bytes of the name that are not UTF-8 shown as U+FFFD."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def scan_root(folder: str | Path) -> Path:
    """The folder a scan of ``folder`` records its rows under: the folder, or a file's own folder."""
    given = Path(folder).expanduser().resolve()
    return given.parent if given.is_file() else given


def is_workspace(folder: Path) -> bool:
    """A vidsift workspace: its exported clips and sample videos are vidsift's output, not input."""
    return (folder / CATALOG_FILE).is_file()


def find_videos(folder: Path) -> list[Path]:
    """Video files below ``folder`` by extension, sorted; hidden files and folders are skipped,
    and so are workspaces below it (the default workspace, ``./vidsift-workspace``, lies inside
    the folder of videos when vidsift runs there: its clips would come back as new videos)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not is_workspace(Path(dirpath) / d))
        for name in sorted(filenames):
            if not name.startswith(".") and Path(name).suffix.lower() in VIDEO_EXTENSIONS:
                out.append(Path(dirpath) / name)
    return out


def _label_for(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    return rel.parent.name if len(rel.parts) > 1 else None


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
            if row is not None and int(row[0]) > SCHEMA_VERSION:
                raise BadInputError(f"{self.path}: catalog written by a newer vidsift; upgrade vidsift")
            self._migrate(int(row[0]) if row is not None else SCHEMA_VERSION)
            if row is None or int(row[0]) < SCHEMA_VERSION:
                with self._db:
                    self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            raise BadInputError(
                f"{self.path}: not a vidsift catalog ({exc}); move it away and rescan"
            ) from exc

    def _migrate(self, version: int) -> None:
        """Schema 1 -> 2: add the new columns. Rows without a timeline are re-probed by the next
        scan (``_stale``), which fills them in; until then their header count stands.
        Schema 2 -> 3: rows of videos turned a quarter by their display rotation recorded the
        stored width and height; they are re-probed (their timeline dropped) to record the shown ones."""
        have = {r[1] for r in self._db.execute("PRAGMA table_info(videos)")}
        with self._db:
            for col, kind in (("header_frames", "INTEGER"), ("timeline", "BLOB"), ("note", "TEXT")):
                if col not in have:
                    self._db.execute(f"ALTER TABLE videos ADD COLUMN {col} {kind}")
            if version < 3:
                self._db.execute("UPDATE videos SET timeline = NULL WHERE status = 'ok' AND rotation IN (90, 270)")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db

    # -- scanning ---------------------------------------------------------------------------
    def scan(
        self,
        folder: str | Path,
        inspect: Callable[[Path], dict[str, Any]],
        progress: bool = False,
        on_file: Callable[[int, int, str], None] | None = None,
    ) -> ScanReport:
        """Bring the catalog in line with ``folder``: add new, re-probe changed, drop removed files.

        ``inspect(path)`` probes one file (``video.scan.inspect_video`` decodes it): it returns the
        row's data or raises ``VideoError``. The catalog itself only stores; use
        ``video.scan.scan_folder(catalog, folder)``.
        """
        given = Path(folder).expanduser()
        if not given.exists():
            raise BadInputError(f"{given}: no such folder")
        given = given.resolve()
        files = [given] if given.is_file() else find_videos(given)
        root = scan_root(given)
        report = ScanReport(root=str(root))
        known = {r["path"]: r for r in self._rows("WHERE root = ? OR path LIKE ?", (str(root), str(root) + os.sep + "%"))}
        by_id: dict[str, list[str]] = {}
        for r in self._rows(""):
            by_id.setdefault(r["id"], []).append(r["path"])
        seen: set[str] = set()
        iterator: Any = files
        if progress:
            from vidsift.progress import progress_bar

            iterator = progress_bar(files, desc="scan", unit="video")
        for i, f in enumerate(iterator):
            path = str(f)
            seen.add(path)
            if on_file:
                on_file(i, len(files), printable_path(path))
            if not _is_text(path):  # bytes that are not UTF-8: SQLite, JSON and Parquet refuse it
                report.failed.append((printable_path(path), "the file name is not valid UTF-8 text; rename the file"))
                continue
            try:
                st = f.stat()
                old = known.get(path)
                if old and old["size"] == st.st_size and old["mtime"] == st.st_mtime and not _stale(old):
                    report.unchanged.append(path)
                    continue
                vid = content_id(f)
            except OSError as exc:
                why = _unreadable(f, exc)
                self._record_error(path, "?", root, _label_for(f, root), 0, 0.0, why)
                report.failed.append((path, why))
                continue
            # The same content already recorded at a path that no longer exists: a move.
            moved_from = [p for p in by_id.get(vid, []) if p != path and not Path(p).exists()]
            try:
                data = inspect(f)
            except VideoError as exc:
                self._record_error(path, vid, root, _label_for(f, root), st.st_size, st.st_mtime, exc.reason)
                report.failed.append((path, exc.reason))
                continue
            self._record_ok(path, vid, root, _label_for(f, root), st.st_size, st.st_mtime, data)
            if data.get("note"):
                report.notes.append((path, data["note"]))
            if moved_from:
                with self._tx() as db:
                    db.executemany("DELETE FROM videos WHERE path = ?", [(p,) for p in moved_from])
                report.moved.append(path)
                seen.update(moved_from)  # reported as moved, not also as removed
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
        tl = d.get("timeline")
        with self._tx() as db:
            db.execute(
                f"INSERT OR REPLACE INTO videos ({_COLUMNS}) VALUES ({_SLOTS})",
                (path, vid, str(root), label, size, mtime, d["fps"], d["num_frames"], d["width"],
                 d["height"], d["duration"], d["codec"], d["rotation"], json.dumps(d["shots"]),
                 "ok", None, time.time(), d.get("header_frames", d["num_frames"]),
                 tl.to_bytes() if tl is not None else None, d.get("note")),
            )

    def _record_error(self, path, vid, root, label, size, mtime, reason) -> None:
        with self._tx() as db:
            db.execute(
                f"INSERT OR REPLACE INTO videos ({_COLUMNS}) VALUES ({_SLOTS})",
                (path, vid, str(root), label, size, mtime, 0.0, 0, 0, 0, 0.0, "", 0, "[]",
                 "error", reason, time.time(), 0, None, None),
            )

    # -- reading ----------------------------------------------------------------------------
    def _rows(self, where: str, args: tuple = ()) -> list[sqlite3.Row]:
        self._db.row_factory = sqlite3.Row
        # the timeline blob is read only on demand (``timeline_blob``): it can be large
        return self._db.execute(
            f"SELECT {_COLUMNS.replace('timeline', 'timeline IS NOT NULL AS has_timeline')} FROM videos {where} ORDER BY path", args
        ).fetchall()

    def timeline_blob(self, ref: str) -> tuple[bytes, str | None] | None:
        """The stored timeline of a video (by id or path) and its note; None when not measured
        yet. ``video.timeline.Timeline.from_catalog`` turns it into a ``Timeline``."""
        row = self._db.execute("SELECT timeline, note FROM videos WHERE (id = ? OR path = ?) AND timeline IS NOT NULL",
                               (str(ref), str(ref))).fetchone()
        return (row[0], row[1]) if row else None

    @staticmethod
    def _record(r: sqlite3.Row) -> VideoRecord:
        return VideoRecord(
            id=r["id"], path=r["path"], label=r["label"], fps=r["fps"], num_frames=r["num_frames"],
            width=r["width"], height=r["height"], duration=r["duration"], codec=r["codec"],
            rotation=r["rotation"], shots=json.loads(r["shots"] or "[]"), status=r["status"],
            error=r["error"], size=r["size"] or 0,
            header_frames=r["header_frames"] if r["header_frames"] is not None else r["num_frames"],
            note=r["note"],
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

    def copies(self) -> dict[str, list[tuple[str, str | None]]]:
        """Content id -> (path, label) of every readable file with that content, the one
        ``videos`` lists first (a byte-identical copy is one video with several paths)."""
        out: dict[str, list[tuple[str, str | None]]] = {}
        for row in self._rows("WHERE status = 'ok'"):
            out.setdefault(row["id"], []).append((row["path"], row["label"]))
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
