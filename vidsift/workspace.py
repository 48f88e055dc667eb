"""The workspace: one folder that holds everything a run produces (design decision 1)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = "vidsift-workspace"
#: environment variable naming the workspace (CLI and page alike)
WORKSPACE_ENV = "VIDSIFT_WORKSPACE"


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
        return self.root / "catalog.sqlite"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

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
