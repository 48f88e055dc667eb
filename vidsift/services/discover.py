"""The discovery use case beyond ``discovery.workflow.run_discovery``: the last assignment of
an embedder, cluster sizes and members, the cached 2-D map, the last run's scores, zipped export."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.services.media import safe_thumbnail
from vidsift.workspace import Workspace, safe_name


def _discovery_dir(ws: Workspace, embedder: str) -> Path:
    return ws.root / "discovery" / safe_name(embedder)


def load_assignments(ws: Workspace, embedder: str) -> pd.DataFrame:
    """The last cluster assignment of ``embedder`` (one row per frame; ``cluster``, ``distance``).

    Raises:
        WorkspaceError: no discovery has been run for this embedder, or the file is unreadable.
    """
    from vidsift.discovery.workflow import assignments_path

    path = assignments_path(ws, embedder)
    if not path.is_file():
        raise WorkspaceError(f"no clusters for '{embedder}' yet; run discovery first")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"{path}: unreadable cluster file ({exc}); run discovery again") from exc


def cluster_sizes(assign: pd.DataFrame) -> pd.DataFrame:
    """``cluster, size`` sorted largest first."""
    sizes = assign.groupby("cluster").size().rename("size").reset_index()
    return sizes.sort_values(["size", "cluster"], ascending=[False, True]).reset_index(drop=True)


def cluster_members(assign: pd.DataFrame, cluster: int, n: int = 12) -> pd.DataFrame:
    """The ``n`` frames of ``cluster`` nearest its centre."""
    rows = assign[assign["cluster"] == int(cluster)]
    return rows.sort_values(["distance", "video_id", "frame"], kind="stable").head(int(n))


def map_cache_exists(ws: Workspace, embedder: str, method: str = "umap") -> bool:
    return (_discovery_dir(ws, embedder) / f"{method}_2d.npz").is_file()


def cluster_map(ws: Workspace, embedder: str, seed: int = 0) -> pd.DataFrame:
    """The 2-D map of the last discovery run: assignment rows with ``x, y, row`` columns.

    Uses (and fills) the same cache as ``run_discovery``'s map, so it is instant after a run.

    Raises:
        WorkspaceError: no clusters yet, or the store changed since they were computed.
    """
    from vidsift.discovery.workflow import project_2d_cached
    from vidsift.embedder.store import load_store

    assign = load_assignments(ws, embedder)
    ids = sorted(assign["video_id"].astype(str).unique())
    data = load_store(ws.embeddings(embedder), ids)
    same = len(data) == len(assign) and (
        data.meta["video_id"].astype(str).to_numpy() == assign["video_id"].astype(str).to_numpy()
    ).all() and (data.meta["frame"].to_numpy() == assign["frame"].to_numpy()).all()
    if not same:
        raise WorkspaceError(
            f"the embeddings of '{embedder}' changed since the clusters were computed; run discovery again"
        )
    if len(data) < 3:
        raise BadInputError(f"a 2-D map needs at least 3 frames; '{embedder}' has {len(data)}")
    coords, idx = project_2d_cached(ws, embedder, data.vectors, seed)
    out = assign.iloc[idx].reset_index(drop=True)
    out["x"], out["y"] = coords[:, 0], coords[:, 1]
    out["row"] = np.arange(len(out))
    return out


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def save_last_run(ws: Workspace, embedder: str, result: dict[str, Any]) -> None:
    """Keep ``run_discovery``'s result beside its clusters so a reload shows the same scores."""
    atomic_write_json(_discovery_dir(ws, embedder) / "last_run.json", _jsonable(result))


def load_last_run(ws: Workspace, embedder: str) -> dict[str, Any] | None:
    path = _discovery_dir(ws, embedder) / "last_run.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def export_zip(ws: Workspace, embedder: str, name: str, max_thumbnails: int = 48) -> tuple[dict[str, Any], Path]:
    """Export the last clusters of ``embedder`` to ``ws.exports/<name>`` and zip that folder.

    ``name`` becomes a safe folder name; an earlier export of the same name is replaced (only our
    own files, see ``discovery.export``). The zip is written atomically beside the folder as
    ``<name>.zip``. Returns ``(export summary, zip path)``.
    """
    from vidsift.discovery.export import META, export_clusters

    folder_name = safe_name(name.strip() or embedder)
    exports = ws.exports
    exports.mkdir(parents=True, exist_ok=True)
    out_dir = exports / folder_name
    if out_dir.resolve().parent != exports.resolve():
        raise BadInputError(f"export name {name!r} must be a plain folder name")
    assign = load_assignments(ws, embedder)

    def thumb(row: pd.Series) -> np.ndarray | None:
        return safe_thumbnail(ws, row["path"], row["video_id"], int(row["frame"]))

    summary = export_clusters(
        out_dir, assign.loc[:, list(META)], assign["cluster"].to_numpy(), assign["distance"].to_numpy(),
        thumbnail_fn=thumb, force=True, max_thumbnails=max_thumbnails,
    )
    zip_path = exports / f"{folder_name}.zip"
    zip_folder(out_dir, zip_path)
    return summary.to_dict(), zip_path


def zip_folder(folder: Path, target: Path) -> Path:
    """Zip the regular files below ``folder`` (symlinks skipped) into ``target`` atomically."""
    folder = Path(folder).resolve()
    with atomic_path(target) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink() and not p.name.startswith(".") and p.resolve().is_relative_to(folder):
                zf.write(p, Path(folder.name) / p.relative_to(folder))
    return target
