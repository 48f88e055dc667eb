"""The workspace: one folder that holds everything a run produces (design decision 1)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_WORKSPACE = "vidsift-workspace"
#: environment variable naming the workspace (CLI and page alike)
WORKSPACE_ENV = "VIDSIFT_WORKSPACE"
#: the workspace's catalog file; its presence marks a folder as a workspace (scans skip them)
CATALOG_FILE = "catalog.sqlite"


def safe_name(name: str) -> str:
    """A file-system-safe folder name for an embedder or method name (``random:alexnet`` ...)."""
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name).strip(".") or "_"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def at(cls, root: str | Path | None = None) -> Workspace:
        ws = cls(Path(root if root is not None else DEFAULT_WORKSPACE).expanduser().resolve())
        ws.root.mkdir(parents=True, exist_ok=True)
        return ws

    @property
    def catalog_path(self) -> Path:
        return self.root / CATALOG_FILE

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def run(self, name: str) -> RunDir:
        """The run folder ``checkpoints/<name>`` (the embedder ``ckpt:<name>``), as given."""
        return RunDir(self.checkpoints / name)

    def training_run(self, method: str, preset: str) -> RunDir:
        """Where ``vidsift train METHOD FOLDER --preset PRESET`` writes: ``checkpoints/<method>-<preset>``."""
        return self.run(safe_name(f"{method}-{preset}"))

    def runs(self) -> list[RunDir]:
        """Every folder under ``checkpoints/``, by name (``[]`` without one); filter with
        ``has_checkpoint`` or the file properties."""
        if not self.checkpoints.is_dir():
            return []
        return [RunDir(d) for d in sorted(self.checkpoints.iterdir()) if d.is_dir()]

    def embeddings(self, embedder: str) -> Path:
        return self.root / "embeddings" / safe_name(embedder)

    def indexes(self, embedder: str) -> Path:
        return self.root / "indexes" / safe_name(embedder)

    @property
    def thumbnails(self) -> Path:
        return self.root / "thumbnails"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def samples(self) -> Path:
        return self.root / "samples"


#: what the use cases accept for a workspace: one, or its folder
WorkspaceLike = Workspace | str | Path


@dataclass(frozen=True)
class RunDir:
    """One run folder (``<ws>/checkpoints/<name>/``) and the names of the files in it.

    The names are the on-disk format (old runs must keep loading): they are spelled here and
    nowhere else in code. A training run holds ``last.pt``, ``config.json`` and ``log.jsonl``; a
    fine-tune run adds ``random-init.pt``; a run started in the background (page, ``vidsift
    jobs``) adds ``ui_job.json`` and ``ui_train.out``.
    """

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def checkpoint(self) -> Path:
        """The latest checkpoint (``training.checkpoint`` format), rewritten atomically."""
        return self.path / "last.pt"

    @property
    def baseline(self) -> Path:
        """Fine-tune runs: the same network fine-tuned from random init."""
        return self.path / "random-init.pt"

    @property
    def config(self) -> Path:
        """The run's ``TrainConfig`` as JSON, written beside the checkpoint."""
        return self.path / "config.json"

    @property
    def log(self) -> Path:
        """One JSON object a line (``step``, ``loss``, ...), appended while training; see ``read_log``."""
        return self.path / "log.jsonl"

    @property
    def job(self) -> Path:
        """The background training job of this run (pid, command, ...)."""
        return self.path / "ui_job.json"

    @property
    def job_output(self) -> Path:
        """The background job's stdout and stderr."""
        return self.path / "ui_train.out"

    @property
    def has_checkpoint(self) -> bool:
        return self.checkpoint.is_file()


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a ``log.jsonl`` in file order; ``[]`` when the file does not exist.

    The trainer appends while the page and ``vidsift jobs`` read, and a crash can cut a line, so
    a line counts only when it is a whole JSON object (UTF-8). Anything else is skipped, wherever
    it is: blank lines, a partly written last line, garbled lines, JSON that is not an object. A
    cut line is never mistaken for a record, since no proper prefix of a JSON object is one.
    Records are not sorted, merged or de-duplicated (a fine-tune log holds two runs' steps).

    Raises:
        OSError: the file exists but cannot be read (a folder, no permission).
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    records: list[dict[str, Any]] = []
    for line in data.split(b"\n"):
        try:
            rec = json.loads(line.decode("utf-8"))
        except ValueError:  # blank, cut, garbled, not UTF-8 (UnicodeDecodeError is a ValueError)
            continue
        if isinstance(rec, dict):
            records.append(rec)
    return records
