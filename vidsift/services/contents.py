"""What a workspace holds: its embedding stores and indexes (names and versions), and opening one.

The use-case layer (design decision 9): the CLI, the page and the API call these; the faces hold
no logic of their own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from vidsift.errors import BadInputError
from vidsift.workspace import DEFAULT_WORKSPACE, WORKSPACE_ENV, Workspace


def default_workspace(env: dict[str, str] | None = None) -> str:
    """The workspace the page opens first: ``$VIDSIFT_WORKSPACE`` or ``./vidsift-workspace``."""
    env = os.environ if env is None else env
    return env.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE


def open_workspace(path: str | Path) -> Workspace:
    """``Workspace.at(path)`` with a readable error for an unusable path.

    Raises:
        BadInputError: empty path, or a path that is a file.
    """
    text = str(path).strip()
    if not text:
        raise BadInputError("give a workspace folder (e.g. ./vidsift-workspace)")
    p = Path(text).expanduser()
    if p.exists() and not p.is_dir():
        raise BadInputError(f"{p}: is a file; the workspace must be a folder")
    try:
        return Workspace.at(p)
    except OSError as exc:
        raise BadInputError(f"{p}: cannot use this folder as a workspace ({exc.strerror})") from exc


def _manifest_name(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and "manifest" in data and "files" in data:  # an index meta.json
        data = data.get("manifest") or {}
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else None


def stores(ws: Workspace) -> list[str]:
    """Names of the embedders with an embedding store in the workspace, sorted."""
    root = ws.root / "embeddings"
    if not root.is_dir():
        return []
    names = {_manifest_name(d / "manifest.json") for d in root.iterdir() if (d / "manifest.json").is_file()}
    return sorted(n for n in names if n)


def no_store_message(ws: Workspace, embedder: str) -> str:
    """What to do when ``embedder`` has no store in ``ws``: the command that makes one, and the
    embedders that are stored here (a typo or another workspace is the usual cause)."""
    have = stores(ws)
    there = f" (embedded here: {', '.join(have)})" if have else ""
    return (f"{ws.root}: no embeddings for embedder '{embedder}' in this workspace{there}; "
            f"run `vidsift embed FOLDER --embedder {embedder}` first")


def no_index_message(ws: Workspace, embedder: str, has_store: bool) -> str:
    """What to do when ``embedder`` has no index: build it from its store, or, when there is no
    store either (a typo, another workspace), the embedders that can be searched here."""
    if has_store:
        return (f"{ws.indexes(embedder)}: no index for embedder '{embedder}'; "
                f"build it with `vidsift index build --embedder {embedder}`")
    have = indexed_embedders(ws)
    there = (f"searchable here: {', '.join(have)}" if have else
             "nothing is indexed here yet: `vidsift embed FOLDER --embedder NAME`, then `vidsift index build --embedder NAME`")
    return f"{ws.root}: no embeddings and no index for embedder '{embedder}' in this workspace; {there}"


def indexed_embedders(ws: Workspace) -> list[str]:
    """Names of the embedders with a saved index in the workspace, sorted."""
    root = ws.root / "indexes"
    if not root.is_dir():
        return []
    names = {_manifest_name(d / "meta.json") for d in root.iterdir() if (d / "meta.json").is_file()}
    return sorted(n for n in names if n)


def index_version(ws: Workspace, embedder: str) -> tuple[int, int] | None:
    """(mtime_ns, size) of the index's ``meta.json`` — changes whenever the index is saved."""
    try:
        st = os.stat(ws.indexes(embedder) / "meta.json")
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def store_version(ws: Workspace, embedder: str) -> tuple[int, int]:
    """(number of shards, newest shard mtime_ns): changes when videos are embedded or removed."""
    d = ws.embeddings(embedder) / "shards"
    if not d.is_dir():
        return (0, 0)
    stamps = [p.stat().st_mtime_ns for p in d.glob("*.parquet") if not p.name.startswith(".")]
    return (len(stamps), max(stamps, default=0))
