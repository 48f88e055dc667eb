"""Search restricted to chosen videos, video lookups, and the recall of the automatic index.

Results are checked against brute force on seeded video-shaped vectors (per-video random walks),
never timed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from index_testdata import blobs, store_data, write_store

from vidsift.errors import BadInputError
from vidsift.index import video_index
from vidsift.index.build import IndexParams, build_index, choose_params
from vidsift.index.check import recall_at_k
from vidsift.index.hits import Columns
from vidsift.index.video_index import VideoIndex
from vidsift.services.indexes import build_workspace_index, search_workspace
from vidsift.workspace import Workspace

VIDEOS = {f"vid{i}": n for i, n in enumerate([120, 80, 100, 60, 90, 70])}


def walks(frames: dict[str, int], dim: int, classes: int = 4, seed: int = 0) -> np.ndarray:
    """Video-shaped vectors: each video a random walk around one of ``classes`` centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, dim)).astype(np.float32) * 3
    parts = []
    for n in frames.values():
        walk = np.cumsum(rng.standard_normal((n, dim)).astype(np.float32) * 0.15, axis=0)
        parts.append(centres[rng.integers(classes)] + walk)
    return np.concatenate(parts)


def exact_within(vi: VideoIndex, q: np.ndarray, videos: list[str], k: int) -> list[tuple[str, int]]:
    """Brute force over the indexed vectors of ``videos`` (cosine): (video, frame), nearest first."""
    cols = vi.columns
    ids = np.concatenate([cols.frames_of(cols.code_of[v])[1] for v in videos])
    x = vi.index.reconstruct_batch(ids)
    qn = q / np.linalg.norm(q)
    order = np.argsort(-(x @ qn), kind="stable")[:k]
    pos = cols.positions(ids[order])
    return [(str(cols.video_id[p]), int(cols.frame[p])) for p in pos]


def key(hits) -> list[tuple[str, int]]:
    return [(h.video_id, h.frame) for h in hits]


@pytest.fixture(scope="module")
def vi() -> VideoIndex:
    data = store_data(VIDEOS, walks(VIDEOS, 16, seed=1))
    return VideoIndex.build(data, IndexParams(kind="flat", metric="cosine"), use_gpu=False)


@pytest.mark.parametrize("chosen", [["vid2"], ["vid0", "vid5"], list(VIDEOS)])
def test_filtered_search_is_exact_within_the_videos(vi: VideoIndex, chosen: list[str]) -> None:
    q = vi.vector_of("vid1", 40)
    hits = vi.search(q[None], 7, videos=chosen)[0]
    assert {h.video_id for h in hits} <= set(chosen)
    assert key(hits) == exact_within(vi, q, chosen, 7)


def test_over_fetch_path_gives_the_same_hits(
    vi: VideoIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above SUBSET_MAX_BYTES the search runs inside FAISS with an ID selector: same hits."""
    q = vi.vector_of("vid3", 10)
    small = vi.search(q[None], 9, videos=["vid4", "vid0"])[0]
    monkeypatch.setattr(video_index, "SUBSET_MAX_BYTES", 0)
    large = vi.search(q[None], 9, videos=["vid4", "vid0"])[0]
    assert key(small) == key(large)
    np.testing.assert_allclose(small.distances, large.distances, atol=1e-5)


def test_filter_combines_with_exclusions(vi: VideoIndex) -> None:
    hits = vi.search_frame("vid2", 50, 10, exclude_window=5, videos=["vid2", "vid3"])
    assert len(hits) == 10
    assert all(h.video_id in ("vid2", "vid3") for h in hits)
    assert not any(h.video_id == "vid2" and abs(h.frame - 50) <= 5 for h in hits)
    assert vi.search_frame("vid2", 50, 10, exclude_same_video=True, videos=["vid2"]) == []


def test_filter_with_fewer_frames_than_k(vi: VideoIndex) -> None:
    hits = vi.search(vi.vector_of("vid0", 0)[None], 500, videos=["vid3"])[0]
    assert len(hits) == VIDEOS["vid3"]
    assert sorted(h.frame for h in hits) == list(range(VIDEOS["vid3"]))


def test_filter_on_an_unknown_video_is_refused(vi: VideoIndex) -> None:
    with pytest.raises(BadInputError, match="nope not in the index"):
        vi.search(vi.vector_of("vid0", 0)[None], 3, videos=["nope"])


def test_filter_cache_follows_add_and_remove() -> None:
    data = store_data(VIDEOS, walks(VIDEOS, 16, seed=2))
    vi = VideoIndex.build(data, IndexParams(kind="flat"), use_gpu=False)
    q = vi.vector_of("vid0", 5)[None]
    assert len(vi.search(q, 1000, videos=["vid1", "vid2"])[0]) == 180
    vi.remove("vid1")
    assert len(vi.search(q, 1000, videos=["vid2"])[0]) == 100


def test_grouped_lookups_match_a_scan() -> None:
    """frames_of / first_row on an id map in no particular order, with gaps, equal a plain scan."""
    rng = np.random.default_rng(0)
    n = 500
    idmap = pd.DataFrame(
        {
            "video_id": rng.choice(["b", "a", "c", "d"], n),
            "path": "p",
            "frame": rng.permutation(n),
            "time": 0.0,
            "shot": 0,
            "label": None,
        },
        index=pd.Index(np.sort(rng.choice(5 * n, n, replace=False)), name="id"),
    )
    cols = Columns.from_idmap(idmap)
    for v, code in cols.code_of.items():
        rows = np.flatnonzero(cols.video_id == v)
        order = np.argsort(cols.frame[rows])
        frames, ids = cols.frames_of(code)
        np.testing.assert_array_equal(frames, cols.frame[rows][order])
        np.testing.assert_array_equal(ids, cols.ids[rows][order])
        assert cols.first_row(code) == rows[order][0]
        assert not frames.flags.writeable


def test_automatic_ivf_recall_on_video_shaped_vectors() -> None:
    """The automatic IVF parameters (nlist, nprobe) keep recall@10 >= 0.95 against exact search."""
    frames = {f"v{i}": 500 for i in range(40)}  # 20k frames, 40 videos of 8 classes
    x = walks(frames, 32, classes=8, seed=3)
    params = choose_params(len(x), 32, flat_threshold=1000)
    assert params.kind == "ivf"
    ids = np.arange(len(x))
    approx = build_index(x, params, ids, use_gpu=False)
    exact = build_index(x, IndexParams(kind="flat"), ids, use_gpu=False)
    q = x[np.random.default_rng(0).choice(len(x), 200, replace=False)]
    assert recall_at_k(approx, exact, q, 10, metric="cosine") >= 0.95
    # blobs: the harder, less video-like case still gets most neighbours
    b = blobs(20_000, 32, centers=50, seed=4)
    approx = build_index(b, params, ids, use_gpu=False)
    exact = build_index(b, IndexParams(kind="flat"), ids, use_gpu=False)
    assert recall_at_k(approx, exact, b[:200], 10, metric="cosine") >= 0.9


def test_page_search_with_a_filter_equals_filtering_all_hits(ws: Workspace, tmp_path: Path) -> None:
    write_store(ws.embeddings("pixels"), {"a": 60, "b": 50, "c": 40}, seed=5)
    build_workspace_index(ws, "pixels", use_gpu=False)
    got = search_workspace(ws, "pixels", k=8, videos=["/videos/c.mp4"], video="a", frame=10)
    everything = search_workspace(ws, "pixels", k=150, video="a", frame=10)
    want = [h for h in everything if h["video_id"] == "c"][:8]
    assert [(h["video_id"], h["frame"]) for h in got] == [(h["video_id"], h["frame"]) for h in want]
    assert [h["distance"] for h in got] == pytest.approx([h["distance"] for h in want], abs=1e-5)


def test_direct_flat_search_equals_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    """The BLAS path of a large cosine flat index returns FAISS's hits, with and without gaps."""
    frames = {f"v{i}": 300 for i in range(20)}
    data = store_data(frames, walks(frames, 24, seed=6))
    vi = VideoIndex.build(data, IndexParams(kind="flat", metric="cosine"), use_gpu=False)
    vi.remove("v3")
    q = data.vectors[np.random.default_rng(1).choice(len(data.vectors), 6, replace=False)]
    monkeypatch.setattr(video_index, "DIRECT_FLAT_MIN_ROWS", 1)
    direct = vi.search(q, 15, exclude_window=2, query_positions=[None] * 6)
    monkeypatch.setattr(video_index, "DIRECT_FLAT_MIN_ROWS", 10**9)
    plain = vi.search(q, 15, exclude_window=2, query_positions=[None] * 6)
    for a, b in zip(direct, plain, strict=True):
        assert list(a.ids) == list(b.ids)
        np.testing.assert_allclose(a.distances, b.distances, atol=1e-5)
