"""The discovery use case: scan/embed a folder if needed, cluster, score, map and export
(``run_discovery``), and what the page and API show afterwards: the last assignment of an
embedder, cluster sizes and members, the cached 2-D map, the last run's scores, zipped export.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vidsift.atomic import atomic_path, atomic_write_json
from vidsift.discovery.evaluate import (
    ALGORITHMS,
    centre_distances,
    cluster,
    evaluate_discovery,
)
from vidsift.discovery.validate import usable_labels
from vidsift.embedder.store import MANIFEST, StoreData, finished_videos, load_embeddings
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.index.build import check_vectors
from vidsift.services.contents import no_store_message
from vidsift.services.media import safe_thumbnail
from vidsift.video.segment import Segment
from vidsift.workspace import Workspace, safe_name

Progress = Callable[[str, float], None]

def _say(on_progress: Progress | None, msg: str, frac: float) -> None:
    if on_progress is not None:
        on_progress(msg, frac)

def plots_dir(ws: Workspace, embedder: str) -> Path:
    d = ws.plots / safe_name(embedder)
    d.mkdir(parents=True, exist_ok=True)
    return d

def assignments_path(ws: Workspace, embedder: str) -> Path:
    return ws.root / "discovery" / safe_name(embedder) / "clusters.parquet"

def load_folder_embeddings(
    ws: Workspace, embedder: str, folder: str | Path | None = None
) -> StoreData:
    """The stored vectors of ``embedder`` that discovery, scores and probes work on: those of the
    videos catalogued under ``folder`` (every stored video when None), checked.

    Raises:
        WorkspaceError: ``embedder`` has no store in ``ws``.
        BadInputError: no embedded frames (of that folder), or NaN/inf vectors (naming the videos).
    """
    store = ws.embeddings(embedder)
    if not (store / MANIFEST).exists():
        raise WorkspaceError(no_store_message(ws, embedder))
    ids = None
    broken = 0
    if folder is not None:
        from vidsift.catalog import Catalog

        have = finished_videos(store)
        cat = Catalog(ws.catalog_path)
        readable = cat.videos(root=folder)
        ids = [v.id for v in readable if v.id in have]
        broken = 0 if readable else len(cat.videos(status="error", root=folder))
    data = load_embeddings(ws, embedder, ids)
    if len(data) == 0:
        if broken:  # embedding again would meet the same files
            raise BadInputError(f"{folder}: no frames to work on: none of its {broken} video file(s) could be "
                                "read (`vidsift videos` shows why)")
        raise BadInputError(
            f"{store}: no embedded frames; run `vidsift embed FOLDER --embedder {embedder}` first"
        )
    check_vectors(data.vectors, meta=data.meta)
    return data

def embed_folder(ws: Workspace, folder: str | Path, embedder: str, every: int | None = None, fps: float | None = None, progress: bool = True) -> dict[str, Any]:
    """Scan + embed ``folder`` (skipping videos already embedded)."""
    from vidsift.embedder.extract import extract

    report = extract(ws, folder, embedder, every=every, fps=fps, progress=progress)
    return report.to_dict() if hasattr(report, "to_dict") else dict(report.__dict__)

def _thumbnail_fn(ws: Workspace) -> Callable[[pd.Series], np.ndarray | None]:
    from vidsift.embedder.thumbnails import thumbnail

    def fn(row: pd.Series) -> np.ndarray | None:
        return thumbnail(ws, row["path"], row["video_id"], int(row["frame"]))

    return fn

def _clip_fn(ws: Workspace) -> Callable[[Segment, Path], Any]:
    """Cuts a member segment with its audio (``video.cut.cut``: stream copy when it starts on a
    keyframe, re-encoded otherwise)."""
    from vidsift.video.cut import cut

    def fn(segment: Segment, target: Path) -> Any:
        return cut(segment.path, target, segment.start, segment.end)

    return fn

def video_ends(ws: Workspace, video_ids: Iterable[str]) -> dict[str, float]:
    """When each video stops (its catalog timeline's end), for the ids whose timeline is stored."""
    from vidsift.catalog import Catalog
    from vidsift.video.timeline import Timeline

    out: dict[str, float] = {}
    if not Path(ws.catalog_path).is_file():
        return out
    with Catalog(ws.catalog_path) as cat:
        for vid in video_ids:
            tl = Timeline.from_catalog(cat, str(vid))
            if tl is not None and len(tl):
                out[str(vid)] = tl.end
    return out

def run_discovery(
    ws: Workspace,
    embedder: str,
    folder: str | Path | None = None,
    algorithm: str = "kmeans",
    k: int | str = "auto",
    seed: int = 0,
    repeats: int = 10,
    export: str | Path | None = None,
    force: bool = False,
    clips: bool = False,
    every: int | None = None,
    fps: float | None = None,
    with_map: bool = True,
    max_clips: int | None = None,
    clip_gap: float = 1.0,
    progress: bool = True,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """The whole job on a folder: scan, embed if needed, cluster, score when labels exist, plot, export.
    The clusters and this result are kept in the workspace (``load_assignments``, ``load_last_run``).

    With ``export`` and ``clips``, each cluster folder gets one clip (with audio) per member
    segment (member frames at most ``clip_gap`` s apart merged), at most ``max_clips`` per
    cluster (None: all); ``vidsift export clusters`` writes the editor files (CSV, EDL, OTIO).
    """
    from vidsift.discovery.plots import plot_cluster_sizes, plot_map

    out: dict[str, Any] = {"embedder": embedder, "algorithm": algorithm, "seed": seed}
    if folder is not None:
        _say(on_progress, "embedding", 0.05)
        out["embedding"] = embed_folder(ws, folder, embedder, every=every, fps=fps, progress=progress)
    _say(on_progress, "loading vectors", 0.3)
    data = load_folder_embeddings(ws, embedder, folder)
    n = len(data)
    if n < 2:
        raise BadInputError(f"the store of '{embedder}' holds {n} frame; clustering needs at least 2")
    _say(on_progress, f"clustering {n} frames ({algorithm})", 0.4)
    est = cluster(data.vectors, k, algorithm, seed)
    labels = np.asarray(est.labels_)
    dist = centre_distances(data.vectors, labels)
    out.update({"k": int(est.n_clusters_), "k_evidence": getattr(est, "k_evidence_", None), "n_frames": n,
                "n_videos": int(data.meta["video_id"].nunique()),
                "sizes": np.bincount(labels, minlength=int(est.n_clusters_)).tolist()})
    assign = data.meta.copy()
    assign["cluster"] = labels
    assign["distance"] = dist
    with atomic_path(assignments_path(ws, embedder)) as tmp:
        assign.to_parquet(tmp, index=False)
    out["assignments"] = str(assignments_path(ws, embedder))

    _say(on_progress, f"scoring ({repeats} repeats)", 0.6)
    lab, _, message = usable_labels(data.meta["label"].to_numpy(), n)
    if lab is not None:
        out["scores"] = evaluate_discovery(data.vectors, data.meta["label"].to_numpy(), k, algorithm,
                                           repeats=repeats, seed=seed, fitted=est)
    else:
        out["scores"] = None
        out["message"] = message

    pdir = plots_dir(ws, embedder)
    plots = {"cluster_sizes": str(plot_cluster_sizes(labels, pdir / f"{algorithm}_cluster_sizes.png"))}
    if with_map and n >= 5:
        _say(on_progress, "2-D map (UMAP)", 0.75)
        coords, idx = project_2d_cached(ws, embedder, data.vectors, seed)
        plots["map_clusters"] = str(plot_map(coords, labels[idx], pdir / f"{algorithm}_map_clusters.png", f"{embedder}: {algorithm} clusters"))
        if lab is not None:
            plots["map_labels"] = str(plot_map(coords, data.meta["label"].to_numpy()[idx], pdir / "map_labels.png", f"{embedder}: labels"))
    out["plots"] = plots
    _save_last_run(ws, embedder, out)  # beside the clusters, for every face (page, API) to show

    if export is not None:
        _say(on_progress, "exporting", 0.85)
        from vidsift.discovery.export import export_clusters

        summary = export_clusters(
            export, data.meta, labels, dist, thumbnail_fn=_thumbnail_fn(ws), force=force, clips=clips,
            clip_fn=_clip_fn(ws) if clips else None, max_clips=max_clips, clip_gap=clip_gap,
            video_end=video_ends(ws, data.meta["video_id"].astype(str).unique()) if clips else None,
        )
        out["export"] = summary.to_dict()
    _say(on_progress, "done", 1.0)
    return out

def project_2d_cached(ws: Workspace, embedder: str, vectors: np.ndarray, seed: int = 0, method: str = "umap") -> tuple[np.ndarray, np.ndarray]:
    from vidsift.discovery.projection import project_2d

    cache = ws.root / "discovery" / safe_name(embedder) / f"{method}_2d.npz"
    return project_2d(vectors, method=method, seed=seed, cache_path=cache)

def _discovery_dir(ws: Workspace, embedder: str) -> Path:
    return ws.root / "discovery" / safe_name(embedder)

def load_assignments(ws: Workspace, embedder: str) -> pd.DataFrame:
    """The last cluster assignment of ``embedder`` (one row per frame; ``cluster``, ``distance``).

    Raises:
        WorkspaceError: no discovery has been run for this embedder, or the file is unreadable.
    """

    path = assignments_path(ws, embedder)
    if not path.is_file():
        raise WorkspaceError(f"{ws.root}: no clusters for '{embedder}' in this workspace yet; "
                             f"run `vidsift discover -e {embedder}` first")
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

def _save_last_run(ws: Workspace, embedder: str, result: dict[str, Any]) -> None:
    """Keep ``run_discovery``'s result beside its clusters so a reload shows the same scores."""
    atomic_write_json(_discovery_dir(ws, embedder) / "last_run.json", _jsonable(result))

def load_last_run(ws: Workspace, embedder: str) -> dict[str, Any] | None:
    path = _discovery_dir(ws, embedder) / "last_run.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

def run_settings(last: dict[str, Any] | None) -> dict[str, Any]:
    """The settings a run was made with (``load_last_run``), as a form starts from them:
    ``algorithm``, ``auto`` (K chosen from the data), ``k`` (2..1000), ``seed``; the defaults
    when there was no run."""
    last = last or {}
    return {
        "algorithm": last["algorithm"] if last.get("algorithm") in ALGORITHMS else "kmeans",
        "auto": not last or last.get("k_evidence") is not None,
        "k": min(max(int(last.get("k") or 8), 2), 1000),
        "seed": int(last.get("seed") or 0),
    }


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
