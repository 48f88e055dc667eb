"""Seeded synthetic frame embeddings with known structure, and a store written from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vidsift.embedder.store import write_manifest, write_shard
from vidsift.workspace import Workspace


def frames(
    n_classes: int = 4,
    videos_per_class: int = 6,
    frames_per_video: int = 5,
    dim: int = 16,
    kind: str = "perfect",
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(vectors [N, dim], labels [N], video_ids [N])``.

    ``perfect``: class centres 10 apart, unit noise. ``random``: Gaussian noise, no structure.
    ``video``: a random centre per *video* (labels carry no signal, but frames of one video are
    near each other: a frame-level split would score far above chance).
    """
    rng = np.random.default_rng(seed)
    n_videos = n_classes * videos_per_class
    vid = np.repeat(np.arange(n_videos), frames_per_video)
    cls = vid % n_classes
    if kind == "perfect":
        X = (rng.normal(size=(n_classes, dim)) * 10)[cls] + rng.normal(size=(len(vid), dim))
    elif kind == "random":
        X = rng.normal(size=(len(vid), dim))
    elif kind == "video":
        X = (rng.normal(size=(n_videos, dim)) * 10)[vid] + rng.normal(size=(len(vid), dim))
    else:
        raise ValueError(kind)
    labels = np.array([f"class{c}" for c in cls], dtype=object)
    return X.astype(np.float32), labels, np.array([f"v{v:03d}" for v in vid])


def write_store(ws: Workspace, X: np.ndarray, labels: np.ndarray, video_ids: np.ndarray, name: str = "pixels") -> None:
    store = ws.embeddings(name)
    write_manifest(store, {"name": name, "dim": int(X.shape[1]), "unit": "frame", "layer": None, "checkpoint_hash": None})
    for v in np.unique(video_ids):
        m = video_ids == v
        n = int(m.sum())
        lab = labels[m][0]
        meta = pd.DataFrame({
            "video_id": v, "path": f"/data/{lab}/{v}.mp4", "frame": np.arange(n),
            "time": np.arange(n) / 25.0, "shot": 0, "label": lab,
        })
        write_shard(store, v, meta, X[m])
