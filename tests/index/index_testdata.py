"""Helpers for the index tests: seeded clustered vectors and tiny embedding stores.

(Named uniquely because tests folders have no ``__init__.py``.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vidsift.embedder.store import StoreData, load_store, write_manifest, write_shard


def blobs(n: int, d: int, centers: int = 20, spread: float = 0.15, seed: int = 0) -> np.ndarray:
    """Gaussian blobs around random unit centres (make_blobs-like), float32 [n, d]."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, d)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    x = c[rng.integers(0, centers, n)] + spread / np.sqrt(d) * rng.standard_normal((n, d)).astype(
        np.float32
    )
    return np.ascontiguousarray(x, dtype=np.float32)


def manifest(name: str = "pixels", dim: int = 16, **extra: object) -> dict:
    m = {
        "name": name,
        "dim": dim,
        "unit": "frame",
        "input_size": [8, 8],
        "layer": "pixels",
        "checkpoint_hash": None,
        "preprocessing": "none",
    }
    m.update(extra)
    return m


def write_store(
    store_dir: Path,
    frames_per_video: dict[str, int],
    dim: int = 16,
    seed: int = 0,
    stride: int = 1,
    name: str = "pixels",
    labels: dict[str, str] | None = None,
) -> StoreData:
    """Write one shard per video (frames 0, stride, 2*stride, ...) + manifest; return the store."""
    write_manifest(store_dir, manifest(name, dim))
    rng = np.random.default_rng(seed)
    for vid, n in frames_per_video.items():
        frames = np.arange(n) * stride
        meta = pd.DataFrame(
            {
                "video_id": [vid] * n,
                "path": [f"/videos/{vid}.mp4"] * n,
                "frame": frames,
                "time": frames / 25.0,
                "shot": frames // 20,
                "label": [(labels or {}).get(vid)] * n,
            }
        )
        # a slow random walk: neighbouring frames are near each other, like real video
        vectors = np.cumsum(rng.standard_normal((n, dim)).astype(np.float32) * 0.3, axis=0)
        vectors += rng.standard_normal(dim).astype(np.float32) * 3
        write_shard(store_dir, vid, meta, vectors)
    return load_store(store_dir)


def store_data(
    frames_per_video: dict[str, int], vectors: np.ndarray, name: str = "pixels"
) -> StoreData:
    """An in-memory StoreData over given vectors, rows split into videos in order."""
    rows = []
    for vid, n in frames_per_video.items():
        for f in range(n):
            rows.append((vid, f"/videos/{vid}.mp4", f, f / 25.0, f // 20, None))
    meta = pd.DataFrame(rows, columns=["video_id", "path", "frame", "time", "shot", "label"])
    assert len(meta) == len(vectors)
    return StoreData(
        meta=meta,
        vectors=np.ascontiguousarray(vectors, np.float32),
        manifest=manifest(name, vectors.shape[1]),
    )
