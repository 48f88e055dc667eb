"""Tiny data builders shared by tests (a uniquely named module: `conftest` is ambiguous)."""

from __future__ import annotations

import numpy as np


def moving_gradient(n: int = 24, h: int = 32, w: int = 48, seed: int = 0) -> np.ndarray:
    """Frames whose content changes smoothly, so every frame is distinct."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(h, w, 3)).astype(np.float32)
    frames = [np.roll(base, shift=i, axis=1) for i in range(n)]
    return np.stack(frames).astype(np.uint8)


def write_walk_store(ws, name: str = "pixels", videos: int = 3, frames: int = 20, dim: int = 8,
                     shot_len: int = 10, classes: int = 3, seed: int = 0) -> None:
    """An embedding store of ``videos`` videos whose vectors drift slowly (like real video), labelled
    ``c{v % classes}``; frames are 0..frames-1 at 25 fps."""
    import pandas as pd

    from vidsift.embedder.store import write_manifest, write_shard

    store = ws.embeddings(name)
    write_manifest(store, {"name": name, "dim": dim, "unit": "frame", "layer": None, "checkpoint_hash": None})
    rng = np.random.default_rng(seed)
    for v in range(videos):
        idx = np.arange(frames)
        meta = pd.DataFrame({"video_id": f"v{v}", "path": f"/d/v{v}.mp4", "frame": idx, "time": idx / 25.0,
                             "shot": idx // shot_len, "label": f"c{v % classes}"})
        vec = np.cumsum(rng.standard_normal((frames, dim)) * 0.3, axis=0) + rng.standard_normal(dim) * 3
        write_shard(store, f"v{v}", meta, vec)
