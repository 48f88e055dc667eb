"""VideoIndex: add/remove vs rebuild, save/load, corrupt files, manifests, exclusions, lookups."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from index_testdata import blobs, manifest, store_data, write_store

from vidsift.embedder.store import StoreData, load_store
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.index.build import IndexParams
from vidsift.index.persist import META, read_meta
from vidsift.index.video_index import VideoIndex

VIDEOS = {"vid_a": 120, "vid_b": 80, "vid_c": 100, "vid_d": 60}


def key(hits) -> list[tuple[str, int]]:
    return [(h.video_id, h.frame) for h in hits]


def subset(data: StoreData, videos: list[str]) -> StoreData:
    rows = data.meta["video_id"].isin(videos).to_numpy()
    return StoreData(data.meta[rows].reset_index(drop=True), data.vectors[rows], data.manifest)


@pytest.fixture(scope="module")
def data() -> StoreData:
    return store_data(VIDEOS, blobs(sum(VIDEOS.values()), 16, centers=12, seed=3))


KINDS = [
    IndexParams(kind="flat", metric="cosine"),
    IndexParams(kind="flat", metric="l2"),
    IndexParams(kind="ivf", metric="cosine", nlist=4, nprobe=4),  # nprobe = nlist: exhaustive
    IndexParams(kind="hnsw", metric="l2", hnsw_m=8, ef_search=400, ef_construction=80),
]
KIND_IDS = ["flat-cos", "flat-l2", "ivf-all-lists", "hnsw-wide"]


@pytest.mark.parametrize("params", KINDS, ids=KIND_IDS)
def test_add_and_remove_equal_a_fresh_rebuild(data: StoreData, params: IndexParams) -> None:
    vi = VideoIndex.build(subset(data, ["vid_a", "vid_b"]), params, use_gpu=False)
    assert vi.add(subset(data, ["vid_c", "vid_d"])) == 160
    assert vi.remove("vid_b") == 80
    fresh = VideoIndex.build(subset(data, ["vid_a", "vid_c", "vid_d"]), params, use_gpu=False)
    q = data.vectors[::37]
    got, want = vi.search(q, 8), fresh.search(q, 8)
    for g, w in zip(got, want, strict=True):
        assert key(g) == key(w)
        np.testing.assert_allclose(g.distances, w.distances, rtol=1e-5, atol=1e-5)
    assert "vid_b" not in vi.videos and vi.ntotal == 280


def test_ids_are_never_reused(data: StoreData) -> None:
    vi = VideoIndex.build(subset(data, ["vid_a", "vid_b"]), use_gpu=False)
    top = vi.next_id
    vi.remove("vid_b")
    vi.add(subset(data, ["vid_c"]))
    assert vi.idmap.index.min() == 0 and vi.idmap.index[vi.idmap.video_id == "vid_c"].min() == top
    assert vi.next_id == top + 100


def test_adding_a_video_twice_is_refused(data: StoreData) -> None:
    vi = VideoIndex.build(subset(data, ["vid_a"]), use_gpu=False)
    with pytest.raises(BadInputError, match="vid_a already in the index; remove them first"):
        vi.add(subset(data, ["vid_a", "vid_b"]))


def test_add_from_another_embedder_is_refused(data: StoreData) -> None:
    vi = VideoIndex.build(subset(data, ["vid_a"]), use_gpu=False)
    other = subset(data, ["vid_b"])
    other = StoreData(other.meta, other.vectors, manifest("zca", 16))
    with pytest.raises(WorkspaceError, match="built with 'zca'.*rebuild with --embedder pixels"):
        vi.add(other)


def test_remove_unknown_video(data: StoreData) -> None:
    vi = VideoIndex.build(subset(data, ["vid_a"]), use_gpu=False)
    with pytest.raises(BadInputError, match="video nope is not in the index"):
        vi.remove("nope")


@pytest.mark.parametrize(
    "params",
    [*KINDS, IndexParams(kind="ivfpq", metric="cosine", nlist=4, nprobe=2, m=4, nbits=4)],
    ids=[*KIND_IDS, "ivfpq"],
)
def test_save_load_round_trip(tmp_path: Path, data: StoreData, params: IndexParams) -> None:
    vi = VideoIndex.build(data, params, use_gpu=False)
    vi.remove("vid_c")
    vi.save(tmp_path / "idx")
    back = VideoIndex.load(
        tmp_path / "idx", expected_manifest=manifest("pixels", 16), use_gpu=False
    )
    assert back.params == params and back.next_id == vi.next_id and back.videos == vi.videos
    q = data.vectors[::29]
    for g, w in zip(back.search(q, 6), vi.search(q, 6), strict=True):
        assert list(g) == list(w)
    np.testing.assert_allclose(back.vector_of("vid_a", 5), vi.vector_of("vid_a", 5))


def test_save_replaces_generation_and_keeps_only_the_new_files(
    tmp_path: Path, data: StoreData
) -> None:
    vi = VideoIndex.build(data, use_gpu=False)
    vi.save(tmp_path)
    vi.remove("vid_d")
    vi.save(tmp_path)
    meta = read_meta(tmp_path)
    assert meta["generation"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [META, meta["files"]["index"]["name"], meta["files"]["idmap"]["name"]]
    )
    assert VideoIndex.load(tmp_path, use_gpu=False).ntotal == 300


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_index_file_is_named_and_kept(tmp_path: Path, data: StoreData, damage: str) -> None:
    VideoIndex.build(data, use_gpu=False).save(tmp_path)
    path = tmp_path / read_meta(tmp_path)["files"]["index"]["name"]
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    else:
        raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(
        WorkspaceError,
        match=rf"{path.name}: index file is (truncated or )?corrupt.*vidsift index build --embedder pixels",
    ):
        VideoIndex.load(tmp_path)
    assert path.exists() and path.read_bytes() == bytes(raw)  # never deleted


def test_corrupt_idmap_is_named(tmp_path: Path, data: StoreData) -> None:
    VideoIndex.build(data, use_gpu=False).save(tmp_path)
    path = tmp_path / read_meta(tmp_path)["files"]["idmap"]["name"]
    path.write_bytes(b"not parquet")
    with pytest.raises(WorkspaceError, match=rf"{path.name}: index file is truncated or corrupt"):
        VideoIndex.load(tmp_path)


def test_unreadable_file_with_matching_checksum_is_reported(
    tmp_path: Path, data: StoreData
) -> None:
    """A file FAISS cannot parse (e.g. written by a broken writer) is named even if sizes agree."""
    import json

    from vidsift.index.persist import sha256_of

    VideoIndex.build(data, use_gpu=False).save(tmp_path)
    meta = read_meta(tmp_path)
    path = tmp_path / meta["files"]["index"]["name"]
    path.write_bytes(b"garbage" * 10)
    meta["files"]["index"].update(size=path.stat().st_size, sha256=sha256_of(path))
    (tmp_path / META).write_text(json.dumps(meta))
    with pytest.raises(WorkspaceError, match=rf"{path.name}: FAISS cannot read this index"):
        VideoIndex.load(tmp_path)


def test_failed_save_keeps_the_previous_good_index(
    tmp_path: Path, data: StoreData, monkeypatch
) -> None:
    good = VideoIndex.build(data, use_gpu=False)
    good.save(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())

    def torn_write(index, path):  # writes half a file, then the process "dies"
        Path(path).write_bytes(b"\0" * 100)
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", torn_write)
    changed = VideoIndex.build(subset(data, ["vid_a"]), use_gpu=False)
    with pytest.raises(OSError, match="disk full"):
        changed.save(tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temp files left either
    assert VideoIndex.load(tmp_path, use_gpu=False).ntotal == good.ntotal


def test_missing_index_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(
        WorkspaceError, match="no index here; build it with `vidsift index build --embedder pixels`"
    ):
        VideoIndex.load(tmp_path / "none", expected_manifest=manifest("pixels", 16))


def test_manifest_mismatch_is_refused(tmp_path: Path, data: StoreData) -> None:
    VideoIndex.build(data, use_gpu=False).save(tmp_path)
    with pytest.raises(
        WorkspaceError, match=r"built with 'pixels' \(dim 16\) but the embedder is 'zca' \(dim 16\)"
    ):
        VideoIndex.load(tmp_path, expected_manifest=manifest("zca", 16))
    with pytest.raises(WorkspaceError, match="dim differs"):
        VideoIndex.load(tmp_path, expected_manifest=manifest("pixels", 32))


def test_query_dimension_mismatch_names_both_dims(data: StoreData) -> None:
    vi = VideoIndex.build(data, use_gpu=False)
    with pytest.raises(
        BadInputError, match="queries have dim 8 but the index of 'pixels' has dim 16"
    ):
        vi.search(np.zeros((2, 8), np.float32), 3)
    with pytest.raises(BadInputError, match="NaN"):
        vi.search(np.full((1, 16), np.nan), 3)
    with pytest.raises(BadInputError, match="k must be at least 1"):
        vi.search(data.vectors[:1], 0)


def test_missing_frame_is_named_with_the_valid_range(tmp_path: Path) -> None:
    data = write_store(tmp_path / "store", {"clipA": 10}, stride=5)
    vi = VideoIndex.build(tmp_path / "store", use_gpu=False)
    with pytest.raises(
        BadInputError,
        match=r"video clipA has no frame 7 in the index; indexed frames are 0\.\.45 \(10 frames, every 5th\); nearest: 5, 10",
    ):
        vi.vector_of("clipA", 7)
    with pytest.raises(BadInputError, match="video clipZ is not in the index"):
        vi.vector_of("clipZ", 0)
    np.testing.assert_allclose(
        vi.vector_of("clipA", 45), data.vectors[9] / np.linalg.norm(data.vectors[9]), rtol=1e-5
    )


def test_ivfpq_vector_of_rereads_the_store(tmp_path: Path) -> None:
    data = write_store(tmp_path / "store", {"v1": 150, "v2": 150}, dim=8)
    vi = VideoIndex.build(
        tmp_path / "store",
        IndexParams(kind="ivfpq", nlist=2, nprobe=2, m=2, nbits=4),
        use_gpu=False,
    )
    want = data.vectors[160] / np.linalg.norm(data.vectors[160])
    np.testing.assert_allclose(vi.vector_of("v2", 10), want, rtol=1e-5)


def test_frame_query_finds_itself_first(tmp_path: Path) -> None:
    write_store(tmp_path / "store", {"v1": 50, "v2": 50})
    vi = VideoIndex.build(tmp_path / "store", use_gpu=False)
    hits = vi.search_frame("v1", 20, k=5)
    assert (hits[0].video_id, hits[0].frame) == ("v1", 20)
    assert abs(hits[0].distance) < 1e-5
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert (
        hits[0].time == pytest.approx(20 / 25.0)
        and hits[0].shot == 1
        and hits[0].path == "/videos/v1.mp4"
    )


def test_distances_are_never_negative(tmp_path: Path) -> None:
    """A frame's own vector scores a cosine a hair above 1 in float32; users saw -1.2e-07."""
    write_store(tmp_path / "store", {"v1": 50, "v2": 50}, dim=768)
    vi = VideoIndex.build(tmp_path / "store", use_gpu=False)
    own = [vi.search_frame("v1", f, k=1)[0].distance for f in range(50)]
    assert min(own) == 0.0 and max(own) < 1e-5


def test_exclude_same_video_and_window(tmp_path: Path) -> None:
    write_store(tmp_path / "store", {"v1": 60, "v2": 60, "v3": 60})
    vi = VideoIndex.build(tmp_path / "store", use_gpu=False)
    k = 10
    # random-walk frames: the nearest neighbours of a frame are its own neighbours in time
    plain = vi.search_frame("v2", 30, k=k)
    assert all(h.video_id == "v2" for h in plain)
    windowed = vi.search_frame("v2", 30, k=k, exclude_window=4)
    assert len(windowed) == k
    assert all(not (h.video_id == "v2" and abs(h.frame - 30) <= 4) for h in windowed)
    other = vi.search_frame("v2", 30, k=k, exclude_same_video=True)
    assert len(other) == k and all(h.video_id != "v2" for h in other)
    # same answer as brute force over the allowed rows
    allowed = vi.idmap[vi.idmap.video_id != "v2"].index.to_numpy()
    q = vi.vector_of("v2", 30)
    vecs = np.stack([vi.index.reconstruct(int(i)) for i in allowed])
    want = allowed[np.argsort(1 - vecs @ q, kind="stable")[:k]]
    np.testing.assert_array_equal(other.ids, want)


def test_per_query_exclusions_and_argument_checks(tmp_path: Path) -> None:
    data = write_store(tmp_path / "store", {"v1": 40, "v2": 40})
    vi = VideoIndex.build(tmp_path / "store", use_gpu=False)
    q = data.vectors[[0, 40]]  # frame 0 of v1 and of v2
    hits = vi.search(q, 5, exclude_video=["v1", None])
    assert all(h.video_id == "v2" for h in hits[0]) and key(hits[1])[0] == ("v2", 0)
    hits = vi.search(q, 5, exclude_window=2, query_positions=[("v1", 0), None])
    assert all(not (h.video_id == "v1" and h.frame <= 2) for h in hits[0]) and key(hits[1])[0] == (
        "v2",
        0,
    )
    with pytest.raises(BadInputError, match="exclude_video has 1 entries for 2 queries"):
        vi.search(q, 5, exclude_video=["v1"])
    with pytest.raises(BadInputError, match="exclude_window needs query_positions"):
        vi.search(q, 5, exclude_window=3)
    # k larger than what is left after exclusion: every remaining frame, nothing more
    assert len(vi.search(q[:1], 100, exclude_video="v1")[0]) == 40


def test_hnsw_remove_rebuilds(tmp_path: Path) -> None:
    write_store(tmp_path / "store", {"v1": 30, "v2": 30})
    vi = VideoIndex.build(tmp_path / "store", IndexParams(kind="hnsw", hnsw_m=8), use_gpu=False)
    assert vi.remove("v1") == 30 and vi.ntotal == 30
    assert {h.video_id for h in vi.search_frame("v2", 3, k=30)} == {"v2"}
    assert vi.remove("v2") == 30 and vi.ntotal == 0
    assert vi.search(np.ones((1, 16), np.float32), 3)[0] == []


def test_build_from_store_folder_keeps_store_metadata(tmp_path: Path) -> None:
    write_store(tmp_path / "store", {"v1": 5}, labels={"v1": "cats"})
    vi = VideoIndex.build(tmp_path / "store", use_gpu=False)
    assert vi.store_dir == tmp_path / "store" and vi.name == "pixels"
    assert vi.search_frame("v1", 0, k=1)[0].label == "cats"
    assert load_store(tmp_path / "store").manifest == vi.manifest


def test_empty_store_is_refused(tmp_path: Path) -> None:
    write_store(tmp_path / "store", {})
    with pytest.raises(BadInputError, match="no embeddings to index; run `vidsift embed` first"):
        VideoIndex.build(tmp_path / "store", use_gpu=False)


def test_streaming_build_matches_in_memory_build(tmp_path: Path) -> None:
    """Batches of a few videos, IVF trained on a sample: with every list probed, the results
    (and the ids) are those of the exact in-memory index."""
    store = tmp_path / "store"
    write_store(store, {f"v{i}": 40 + i for i in range(12)}, seed=4)
    params = IndexParams(kind="ivf", nlist=8, nprobe=8)
    streamed = VideoIndex.build_streaming(store, params, use_gpu=False, batch_rows=100)
    exact = VideoIndex.build(store, IndexParams(kind="flat"), use_gpu=False)
    assert streamed.ntotal == exact.ntotal and streamed.idmap.equals(exact.idmap)
    q = load_store(store).vectors[::23]
    for s, e in zip(streamed.search(q, 7), exact.search(q, 7), strict=True):
        assert key(s) == key(e)
    for vid, frame in [("v0", 0), ("v7", 30), ("v11", 50)]:
        assert key(streamed.search_frame(vid, frame, k=1)) == [(vid, frame)]


def test_streaming_ivfpq_build(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_store(store, {f"v{i}": 100 for i in range(6)}, seed=5)
    params = IndexParams(kind="ivfpq", nlist=4, nprobe=4, m=4, nbits=5)
    vi = VideoIndex.build_streaming(store, params, use_gpu=False, batch_rows=150)
    assert vi.ntotal == 600 and vi.params == params
    assert key(vi.search_frame("v3", 50, k=3))[0][0] == "v3"
