"""The near-duplicates use case: find, keep and reload the pairs of ranges whose frames match in order.

``find_duplicates`` loads an embedder's store (all videos, or the chosen ones), runs
``discovery.duplicates.find_duplicates`` on it and saves the result atomically as
``<workspace>/discovery/<embedder>/duplicates.json``, so the page and a later ``load_duplicates``
show the last run without recomputing. The CLI (``vidsift duplicates``) and the page call these
same functions. The result's JSON shape (other tools rely on it)::

    {"embedder": E, "threshold": D, "min_seconds": S,
     "pairs": [{"a": Segment.to_dict(), "b": Segment.to_dict(), "score": float,
                "kind": "videos" | "within" | "copy", "matched_frames": int}, ...]}   # score, best first

``"copy"``: two files with the same bytes (the catalog's copies of one content id), whole.

Each segment dict carries ``video_id``, ``path``, ``start``, ``end`` (seconds, end exclusive),
their timecodes, ``first_frame`` / ``last_frame`` and the best-matching frame: enough to play the
two ranges side by side.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vidsift.atomic import atomic_write_json
from vidsift.discovery.duplicates import (
    DEFAULT_MIN_SECONDS,
    DEFAULT_THRESHOLD,
    DuplicatePair,
    check_options,
)
from vidsift.discovery.duplicates import find_duplicates as find_pairs
from vidsift.embedder.store import MANIFEST, load_store
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.services.search import match_video
from vidsift.workspace import Workspace, safe_name

__all__ = [
    "DEFAULT_MIN_SECONDS",
    "DEFAULT_THRESHOLD",
    "duplicates_path",
    "find_duplicates",
    "load_duplicates",
    "pairs_of",
    "resolve_videos",
]

RESULT_FILE = "duplicates.json"


def _ws(ws: Workspace | str | Path) -> Workspace:
    return ws if isinstance(ws, Workspace) else Workspace.at(ws)


def duplicates_path(ws: Workspace | str | Path, embedder: str) -> Path:
    """Where the last ``find_duplicates`` result of ``embedder`` is kept."""
    return _ws(ws).root / "discovery" / safe_name(embedder) / RESULT_FILE


def resolve_videos(
    ids: Sequence[str], paths: dict[str, str], refs: Sequence[str], embedder: str
) -> list[str]:
    """Video ids meant by ``refs``: each an id, a stored path, a unique id prefix (4+ characters)
    or a unique file name, among ``ids`` (``paths``: id -> stored path).

    Raises:
        BadInputError: a reference that matches no video, or several.
    """
    out: list[str] = []
    for ref in refs:
        text = str(ref)
        found = match_video(text, {v: paths[v] for v in ids if v in paths})
        if len(found) > 1:
            raise BadInputError(
                f"video {text!r} matches {len(found)} videos ({', '.join(found[:4])}); give the full id or path"
            )
        if not found:
            example = next(iter(paths.items()), ("ID", "PATH"))
            raise BadInputError(
                f"no video {text!r} in the '{embedder}' embeddings; give a video id or its path as stored "
                f"(e.g. {example[0]} or {example[1]}), or embed it first with `vidsift embed`"
            )
        out.append(found[0])
    return sorted(set(out))


def find_duplicates(
    ws: Workspace | str | Path,
    embedder: str,
    threshold: float | None = None,
    min_seconds: float | None = None,
    videos: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Pairs of ranges (across videos, or twice in one video) whose frames match in order for
    ``min_seconds`` or more, from the stored frames of ``embedder``; saved, then returned.

    Args:
        threshold: cosine distance (0..1) between centred, normalised frame vectors at or below
            which two frames match; ``None``: ``DEFAULT_THRESHOLD``.
        min_seconds: shortest run (the longer of its two ranges); ``None``: ``DEFAULT_MIN_SECONDS``.
        videos: compare only these videos (ids or paths; one video finds its own repeats);
            default every video of the store.

    Raises:
        BadInputError: an option out of range, an unknown video (nothing is written).
        WorkspaceError: no store for ``embedder`` (run ``vidsift embed`` first), or a corrupt one.
    """
    ws = _ws(ws)
    thr = DEFAULT_THRESHOLD if threshold is None else threshold
    min_seconds = DEFAULT_MIN_SECONDS if min_seconds is None else min_seconds
    check_options(thr, min_seconds)
    store = ws.embeddings(embedder)
    if not (store / MANIFEST).is_file():
        raise WorkspaceError(
            f"no embeddings for '{embedder}' in {ws.root}; run `vidsift embed FOLDER --embedder {embedder}` first"
        )
    ids = None
    if videos:
        meta = load_store(store, with_vectors=False).meta
        first = meta.drop_duplicates("video_id")
        paths = dict(zip(first["video_id"].astype(str), first["path"].astype(str), strict=True))
        ids = resolve_videos(list(paths), paths, list(videos), embedder)
    data = load_store(store, ids)
    m = data.meta
    pairs = find_pairs(
        data.vectors,
        m["video_id"].to_numpy(),
        m["time"].to_numpy(),
        m["frame"].to_numpy(),
        m["path"].to_numpy(),
        m["label"].to_numpy(),
        threshold=float(thr),
        min_seconds=float(min_seconds),
        copies=_copies(ws),
    )
    result = {
        "embedder": embedder,
        "threshold": float(thr),
        "min_seconds": float(min_seconds),
        "pairs": [p.to_dict() for p in pairs],
    }
    atomic_write_json(duplicates_path(ws, embedder), result)
    return result


def _copies(ws: Workspace) -> dict[str, list[tuple[str, str | None]]]:
    """Video id -> (path, label) of each file with the same bytes: the catalog holds them as one
    video, so their frames are stored once and only the catalog knows the other paths."""
    if not ws.catalog_path.is_file():
        return {}
    from vidsift.catalog import Catalog

    with Catalog(ws.catalog_path) as cat:
        return {vid: places for vid, places in cat.copies().items() if len(places) > 1}


def load_duplicates(ws: Workspace | str | Path, embedder: str) -> dict[str, Any] | None:
    """The last ``find_duplicates`` result of ``embedder`` (same shape), or ``None`` before any.

    Raises:
        WorkspaceError: the saved file is unreadable (run ``vidsift duplicates`` again).
    """
    path = duplicates_path(ws, embedder)
    if not path.is_file():
        return None
    try:
        result = json.loads(path.read_text())
        if not isinstance(result, dict) or not isinstance(result.get("pairs"), list):
            raise ValueError("not a duplicates result")
    except (OSError, ValueError) as exc:
        raise WorkspaceError(
            f"{path}: unreadable duplicates result ({exc}); run `vidsift duplicates --embedder {embedder}` again"
        ) from exc
    return result


def pairs_of(result: dict[str, Any]) -> list[DuplicatePair]:
    """The pairs of a result as ``DuplicatePair`` records (``.a`` / ``.b`` are ``Segment``s)."""
    return [DuplicatePair.from_dict(p) for p in result["pairs"]]
