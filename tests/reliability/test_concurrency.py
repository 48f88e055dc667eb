"""Many concurrent searches against one loaded index (the UI's pattern) equal serial ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from vidsift_testdata import write_walk_store

from vidsift.services.indexes import build_workspace_index, clear_cache, search_workspace
from vidsift.workspace import Workspace


def make_ws(root) -> Workspace:
    ws = Workspace.at(root)
    write_walk_store(ws, videos=8, frames=150, dim=16, shot_len=50)
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
