"""Discovery and evaluation on a workspace: what `vidsift discover` / `evaluate` and the app run.

These functions only join the pieces: the catalog and extraction (when a folder is given), the
embedding store, the clustering estimators, the scores, the plots and the export. Results are
plain dicts (JSON-ready); plots are PNG files under ``<workspace>/plots/<embedder>/``; the last
cluster assignment is kept in ``<workspace>/discovery/<embedder>/clusters.parquet`` for the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vidsift.atomic import atomic_path
from vidsift.discovery.evaluate import (
    centre_distances,
    cluster,
    evaluate_discovery,
    evaluate_retrieval,
    evaluate_temporal_pr,
)
from vidsift.discovery.validate import usable_labels
from vidsift.embedder.store import StoreData, finished_videos, load_embeddings
from vidsift.errors import BadInputError
from vidsift.index.build import check_vectors
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
    ids = None
    if folder is not None:
        from vidsift.catalog import Catalog

        have = finished_videos(store)
        ids = [v.id for v in Catalog(ws.catalog_path).videos(root=folder) if v.id in have]
    data = load_embeddings(ws, embedder, ids)
    if len(data) == 0:
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


def _clip_fn(ws: Workspace) -> Callable[[pd.Series, Path], None]:
    """Writes a short clip around a member frame: the frames shown from ``time - 1 s`` to
    ``time + 1 s`` by their timestamps (seeking by the catalog's timeline)."""
    from vidsift.catalog import Catalog
    from vidsift.video import open_video
    from vidsift.video.timeline import Timeline
    from vidsift.video.writer import write_video

    def fn(row: pd.Series, target: Path, seconds: float = 2.0) -> None:
        with Catalog(ws.catalog_path) as cat:
            timeline = Timeline.from_catalog(cat, str(row["video_id"]))
        with open_video(row["path"], timeline=timeline) as r:
            tl = r.timeline
            t = float(row["time"])
            start, stop = tl.frame_at(t - seconds / 2), tl.frame_at(t + seconds / 2) + 1
            frames = np.concatenate([f for _, f in r.iter_frames(start=start, stop=stop)])
            write_video(target, frames, fps=tl.rate() or r.info.fps)

    return fn


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
    progress: bool = True,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """The whole job on a folder: scan, embed if needed, cluster, score when labels exist, plot, export."""
    from vidsift.discovery.plots import plot_cluster_sizes, plot_map

    out: dict[str, Any] = {"embedder": embedder, "algorithm": algorithm}
    if folder is not None:
        _say(on_progress, "embedding", 0.05)
        out["embedding"] = embed_folder(ws, folder, embedder, every=every, fps=fps, progress=progress)
    _say(on_progress, "loading vectors", 0.3)
    data = load_folder_embeddings(ws, embedder, folder)
    n = len(data)
    if n < 2:
        raise BadInputError(f"the store of '{embedder}' holds {n} frame; clustering needs at least 2")
    _say(on_progress, f"clustering {n} frames", 0.4)
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

    _say(on_progress, "scoring", 0.6)
    lab, _, message = usable_labels(data.meta["label"].to_numpy(), n)
    if lab is not None:
        out["scores"] = evaluate_discovery(data.vectors, data.meta["label"].to_numpy(), int(est.n_clusters_), algorithm, repeats=repeats, seed=seed)
    else:
        out["scores"] = None
        out["message"] = message

    pdir = plots_dir(ws, embedder)
    plots = {"cluster_sizes": str(plot_cluster_sizes(labels, pdir / f"{algorithm}_cluster_sizes.png"))}
    if with_map and n >= 5:
        _say(on_progress, "2-D map", 0.75)
        coords, idx = project_2d_cached(ws, embedder, data.vectors, seed)
        plots["map_clusters"] = str(plot_map(coords, labels[idx], pdir / f"{algorithm}_map_clusters.png", f"{embedder}: {algorithm} clusters"))
        if lab is not None:
            plots["map_labels"] = str(plot_map(coords, data.meta["label"].to_numpy()[idx], pdir / "map_labels.png", f"{embedder}: labels"))
    out["plots"] = plots

    if export is not None:
        _say(on_progress, "exporting", 0.85)
        from vidsift.discovery.export import export_clusters

        summary = export_clusters(export, data.meta, labels, dist, thumbnail_fn=_thumbnail_fn(ws), force=force, clips=clips, clip_fn=_clip_fn(ws) if clips else None)
        out["export"] = summary.to_dict()
    _say(on_progress, "done", 1.0)
    return out


def project_2d_cached(ws: Workspace, embedder: str, vectors: np.ndarray, seed: int = 0, method: str = "umap") -> tuple[np.ndarray, np.ndarray]:
    from vidsift.discovery.projection import project_2d

    cache = ws.root / "discovery" / safe_name(embedder) / f"{method}_2d.npz"
    return project_2d(vectors, method=method, seed=seed, cache_path=cache)


def evaluate_workspace(
    ws: Workspace,
    embedder: str,
    what: str,
    k: int | None = None,
    algorithm: str = "kmeans",
    repeats: int = 10,
    seed: int = 0,
    exclude_same_video: bool = True,
) -> dict[str, Any]:
    """`vidsift evaluate temporal-pr|discovery|retrieval`: scores of one embedder, with plots."""
    from vidsift.discovery.plots import plot_cluster_sizes, plot_pr_curves

    data = load_folder_embeddings(ws, embedder)
    pdir = plots_dir(ws, embedder)
    meta = data.meta
    if what == "temporal-pr":
        scenes = (meta["video_id"].astype(str) + ":" + meta["shot"].astype(str)).to_numpy()
        res = evaluate_temporal_pr(data.vectors, scenes, repeats=repeats, seed=seed)
        plot = plot_pr_curves({embedder: res.pop("pr"), "RANDOM": res.pop("random_pr")}, pdir / "temporal_pr.png")
        return {"embedder": embedder, "evaluation": what, **res, "plots": {"temporal_pr": str(plot)}}
    labels = meta["label"].to_numpy()
    if what == "discovery":
        lab, _, message = usable_labels(labels, len(meta))
        if lab is None:
            raise BadInputError(f"discovery scores need labels (sub-folder names); {message}")
        kk = k if k is not None else len(set(lab.tolist()))
        res = evaluate_discovery(data.vectors, labels, kk, algorithm, repeats=repeats, seed=seed)
        est = cluster(data.vectors, res["k"], algorithm, seed)
        plot = plot_cluster_sizes(est.labels_, pdir / f"{algorithm}_cluster_sizes.png")
        return {"embedder": embedder, "evaluation": what, **res, "plots": {"cluster_sizes": str(plot)}}
    if what == "retrieval":
        groups = meta["video_id"].to_numpy() if exclude_same_video else None
        res = evaluate_retrieval(data.vectors, labels, k=k or 20, exclude_same_group=groups, repeats=repeats, seed=seed)
        if res["rate"] is None:
            raise BadInputError(f"retrieval rate needs labels (sub-folder names); {res['message']}")
        return {"embedder": embedder, "evaluation": what, "exclude_same_video": exclude_same_video, **res}
    raise BadInputError(f"unknown evaluation {what!r}; choose temporal-pr, discovery or retrieval")
