"""Workspace functions that the CLI and the page call: build/add/remove/load/search/check."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from index_testdata import manifest, write_store

from vidsift.embedder.store import remove_shard, write_manifest
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.index.persist import read_meta
from vidsift.services.indexes import (
    add_to_workspace_index,
    build_workspace_index,
    check_workspace_index,
    load_workspace_index,
    remove_from_workspace_index,
    search_workspace,
)
from vidsift.workspace import Workspace

KEYS = {"video_id", "path", "frame", "time", "timecode", "shot", "label", "distance"}


def test_build_add_remove_cycle(ws: Workspace) -> None:
    store = ws.embeddings("pixels")
    write_store(store, {"v1": 30, "v2": 20})
    s = build_workspace_index(ws, "pixels")
    assert (s["kind"], s["metric"], s["vectors"], s["videos"], s["dim"]) == (
        "flat",
        "cosine",
        50,
        2,
        16,
    )
    assert ws.indexes("pixels").joinpath("meta.json").exists()

    write_store(
        store, {"v3": 10}, seed=5
    )  # a newly embedded video (the manifest is rewritten, same)
    s = add_to_workspace_index(ws, "pixels")
    assert s["added_videos"] == ["v3"] and s["added_vectors"] == 10 and s["vectors"] == 60
    assert add_to_workspace_index(ws, "pixels")["added_vectors"] == 0

    remove_shard(store, "v1")
    assert add_to_workspace_index(ws, "pixels")["stale_videos"] == ["v1"]
    s = remove_from_workspace_index(ws, "pixels", "/videos/v1.mp4")  # by path
    assert s["removed_video"] == "v1" and s["removed_vectors"] == 30 and s["vectors"] == 30


def test_build_with_overrides(ws: Workspace) -> None:
    write_store(ws.embeddings("pixels"), {"v1": 200, "v2": 200})
    s = build_workspace_index(ws, "pixels", kind="ivf", metric="l2", nlist=4, nprobe=2)
    assert s["kind"] == "ivf" and s["params"]["nlist"] == 4 and s["params"]["nprobe"] == 2
    assert read_meta(ws.indexes("pixels"))["params"]["metric"] == "l2"
    r = check_workspace_index(ws, "pixels", k=10, queries=20)
    assert 0.5 <= r["recall"] <= 1.0 and r["queries"] == 20 and r["reference"] == "store vectors"


def test_no_store_or_index_says_what_to_run(ws: Workspace) -> None:
    with pytest.raises(WorkspaceError, match="no embedding store here; run `vidsift embed"):
        build_workspace_index(ws, "pixels")
    with pytest.raises(WorkspaceError, match="no embeddings and no index for embedder 'pixels' in this workspace; "
                                             "nothing is indexed here yet: `vidsift embed FOLDER"):
        search_workspace(ws, "pixels", video="v1", frame=0)
    write_store(ws.embeddings("pixels"), {"v1": 3})
    with pytest.raises(
        WorkspaceError,
        match="no index for embedder 'pixels'; build it with `vidsift index build --embedder pixels`",
    ):
        search_workspace(ws, "pixels", video="v1", frame=0)
    build_workspace_index(ws, "pixels")
    with pytest.raises(WorkspaceError, match="no embeddings and no index for embedder 'pixles' in this workspace; "
                                             "searchable here: pixels$"):
        search_workspace(ws, "pixles", video="v1", frame=0)


def test_load_is_cached_until_the_index_changes(ws: Workspace) -> None:
    write_store(ws.embeddings("pixels"), {"v1": 10, "v2": 10})
    build_workspace_index(ws, "pixels")
    a = load_workspace_index(ws, "pixels")
    assert load_workspace_index(ws, "pixels") is a
    remove_from_workspace_index(ws, "pixels", "v2")
    b = load_workspace_index(ws, "pixels")
    assert b is not a and b.videos == ["v1"]


def test_index_of_another_embedder_is_refused(ws: Workspace) -> None:
    write_store(ws.embeddings("pixels"), {"v1": 10})
    build_workspace_index(ws, "pixels")
    write_manifest(
        ws.embeddings("pixels"), manifest("pixels", 16, checkpoint_hash="abc123")
    )  # re-embedded
    with pytest.raises(WorkspaceError, match="checkpoint_hash differs"):
        search_workspace(ws, "pixels", video="v1", frame=0)


def test_search_by_frame_path_and_vector(ws: Workspace, tmp_path) -> None:
    data = write_store(ws.embeddings("pixels"), {"v1": 40, "v2": 40})
    build_workspace_index(ws, "pixels")
    rows = search_workspace(ws, "pixels", video="/videos/v2.mp4", frame=12, k=4)
    assert len(rows) == 4 and set(rows[0]) == KEYS
    # the same query by time: frame 12 is shown from 0.48 s until frame 13 at 0.52 s
    for at in (0.48, "0.5", "00:00:00.510"):
        assert search_workspace(ws, "pixels", video="v2", at=at, k=4) == rows
    assert rows[0]["timecode"] == "00:00:00.480"
    # the last frame (39, at 1.56 s) stays on screen for a sampling step, at least 1 s; past that
    # a time is refused rather than answered with the last frame
    assert search_workspace(ws, "pixels", video="v2", at=2.5, k=1)[0]["frame"] == 39
    with pytest.raises(BadInputError, match=r"time 99 s is past the end of video v2: its last indexed frame \(39\) is at 00:00:01\.560"):
        search_workspace(ws, "pixels", video="v2", at=99, k=1)
    assert (rows[0]["video_id"], rows[0]["frame"]) == ("v2", 12) and rows[0][
        "distance"
    ] == pytest.approx(0, abs=1e-5)
    assert [r["distance"] for r in rows] == sorted(r["distance"] for r in rows)

    rows = search_workspace(ws, "pixels", video="v2", frame=12, k=4, exclude_window=3)
    assert (
        all(not (r["video_id"] == "v2" and abs(r["frame"] - 12) <= 3) for r in rows) and len(rows) == 4
    )
    rows = search_workspace(ws, "pixels", video="v2", frame=12, k=4, exclude_same_video=True)
    assert {r["video_id"] for r in rows} == {"v1"}

    np.save(tmp_path / "q.npy", data.vectors[5])
    rows = search_workspace(ws, "pixels", vector=tmp_path / "q.npy", k=1)
    assert (rows[0]["video_id"], rows[0]["frame"]) == ("v1", 5)
    assert search_workspace(ws, "pixels", vector=data.vectors[45], k=1)[0]["frame"] == 5


def test_search_argument_errors(ws: Workspace, tmp_path) -> None:
    write_store(ws.embeddings("pixels"), {"v1": 10})
    build_workspace_index(ws, "pixels")
    with pytest.raises(BadInputError, match=r"exactly one query.*\(got none\)"):
        search_workspace(ws, "pixels")
    with pytest.raises(BadInputError, match="got --video and --vector-file"):
        search_workspace(ws, "pixels", video="v1", frame=1, vector=np.zeros(16))
    with pytest.raises(BadInputError, match="--frame and --at need --video"):
        search_workspace(ws, "pixels", frame=3, vector=np.zeros(16))
    with pytest.raises(BadInputError, match=r"--video needs --frame N or --at TIME: video v1 has frames 0\.\.9"):
        search_workspace(ws, "pixels", video="v1")
    with pytest.raises(BadInputError, match="need a --video/--frame query"):
        search_workspace(ws, "pixels", vector=np.zeros(16), exclude_same_video=True)
    with pytest.raises(BadInputError, match="no video 'nope' in the index for embedder 'pixels'"):
        search_workspace(ws, "pixels", video="nope", frame=1)
    with pytest.raises(
        BadInputError, match="video v1 has no frame 99 in the index; indexed frames are 0..9"
    ):
        search_workspace(ws, "pixels", video="v1", frame=99)
    with pytest.raises(BadInputError, match="the query vector has dim 3 but the index has dim 16; embed it"):
        search_workspace(ws, "pixels", vector=np.zeros(3))
    with pytest.raises(BadInputError, match="holds 2 vectors"):
        search_workspace(ws, "pixels", vector=np.zeros((2, 16)))
    with pytest.raises(BadInputError, match="cannot read a vector"):
        search_workspace(ws, "pixels", vector=tmp_path / "missing.npy")


def test_image_search_without_registry_is_a_clear_error(
    ws: Workspace, tmp_path, monkeypatch
) -> None:
    from PIL import Image

    write_store(ws.embeddings("pixels"), {"v1": 10})
    build_workspace_index(ws, "pixels")
    Image.new("RGB", (20, 10), (200, 10, 10)).save(tmp_path / "q.png")
    from vidsift import embedder

    monkeypatch.setitem(sys.modules, "vidsift.embedder.registry", None)  # import fails
    monkeypatch.delattr(embedder, "registry", raising=False)
    with pytest.raises(BadInputError, match="image search needs the embedder 'pixels'"):
        search_workspace(ws, "pixels", image=tmp_path / "q.png")


def test_image_search_uses_the_registry(ws: Workspace, tmp_path, monkeypatch) -> None:
    import types

    from PIL import Image

    data = write_store(ws.embeddings("pixels"), {"v1": 10})
    build_workspace_index(ws, "pixels")
    seen = {}

    class FakeEmbedder:
        def embed(self, batch: np.ndarray) -> np.ndarray:
            seen["shape"] = batch.shape
            return data.vectors[3:4]

    registry = types.ModuleType("vidsift.embedder.registry")
    registry.get_embedder = lambda m: FakeEmbedder()
    from vidsift import embedder

    monkeypatch.setitem(sys.modules, "vidsift.embedder.registry", registry)
    monkeypatch.setattr(embedder, "registry", registry, raising=False)
    Image.new("RGB", (20, 10)).save(tmp_path / "q.png")
    rows = search_workspace(ws, "pixels", image=tmp_path / "q.png", k=1)
    assert seen["shape"] == (1, 8, 8, 3) and (rows[0]["video_id"], rows[0]["frame"]) == ("v1", 3)
    with pytest.raises(BadInputError, match="no such image file"):
        search_workspace(ws, "pixels", image=tmp_path / "missing.png")


def test_image_search_end_to_end_with_the_pixels_embedder(ws: Workspace, tmp_path) -> None:
    """A real baseline embedder from the registry: an image of a stored frame finds that frame."""
    import pandas as pd
    from PIL import Image

    registry = pytest.importorskip("vidsift.embedder.registry")
    from vidsift.embedder.store import write_shard

    emb = registry.get_embedder("pixels@4")
    rng = np.random.default_rng(0)
    h, w = emb.input_size
    frames = rng.integers(0, 256, (12, h, w, 3), dtype=np.uint8)
    store = ws.embeddings(emb.name)
    write_manifest(store, emb.manifest())
    meta = pd.DataFrame(
        {
            "video_id": "vid",
            "path": "/videos/vid.mp4",
            "frame": range(12),
            "time": np.arange(12) / 25,
            "shot": 0,
            "label": None,
        }
    )
    write_shard(store, "vid", meta, emb.embed(frames))
    build_workspace_index(ws, emb.name)
    Image.fromarray(frames[7]).save(tmp_path / "q.png")
    rows = search_workspace(ws, emb.name, image=tmp_path / "q.png", k=3)
    assert (rows[0]["video_id"], rows[0]["frame"]) == ("vid", 7) and rows[0]["distance"] < 1e-4
