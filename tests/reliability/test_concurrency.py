"""Many concurrent searches against one loaded index (the UI's pattern) equal serial ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from embedder.store import write_manifest, write_shard
from index.workspace import build_workspace_index, clear_cache, search_workspace
from vidsift.workspace import Workspace


def make_ws(root) -> Workspace:
    ws = Workspace.at(root)
    store = ws.embeddings("pixels")
    write_manifest(store, {"name": "pixels", "dim": 16, "unit": "frame", "layer": None, "checkpoint_hash": None})
    rng = np.random.default_rng(0)
    for v in range(8):
        frames = np.arange(150)
        meta = pd.DataFrame({"video_id": f"v{v}", "path": f"/d/v{v}.mp4", "frame": frames, "time": frames / 25.0,
                             "shot": frames // 50, "label": f"c{v % 3}"})
        vec = np.cumsum(rng.standard_normal((150, 16)) * 0.3, axis=0) + rng.standard_normal(16) * 3
        write_shard(store, f"v{v}", meta, vec)
    build_workspace_index(ws, "pixels")
    return ws


def test_threads_get_serial_results(tmp_path):
    ws = make_ws(tmp_path)
    clear_cache()
    queries = [(f"v{q % 8}", (q * 37) % 150, bool(q % 2), (q % 3) * 5) for q in range(240)]

    def one(q):
        vid, frame, excl, window = q
        return search_workspace(ws, "pixels", video=vid, frame=frame, k=10, exclude_same_video=excl, exclude_window=window)

    serial = [one(q) for q in queries]
    clear_cache()  # the threads also race to load the index
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(one, queries))
    assert parallel == serial
    assert all(len(r) == 10 for r in serial)
