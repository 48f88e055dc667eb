"""Search results grouped into moments (``--group segment|shot|video``): seeded vectors with a
known layout through the id map, so every segment's frames, times and rank are known in advance.

Layout (dim 8, query = e0; "near" frames lie close to e0, every other frame near -e0):

* ``a``: 300 frames at 25 fps, every frame (row span 0.04 s); frames 100-199 near (distance
  ~0), shots of 50 frames, so the near run is shots 2 and 3;
* ``b``: 100 rows, every 2nd frame (span 0.08 s); rows 20-39 (frames 40-78, 1.60-3.12 s) near,
  distance ~0.02;
* ``c``: 50 rows, every frame; rows 10-14 (0.40-0.56 s) and 30-32 (1.20-1.28 s) near, distance
  ~0.06: 0.6 s of silence between them, so they join with ``gap`` 1.0 and not with 0.5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from index_testdata import manifest
from typer.testing import CliRunner

from vidsift.cli import app
from vidsift.embedder.store import StoreData, write_manifest, write_shard
from vidsift.errors import BadInputError
from vidsift.index.build import IndexParams
from vidsift.index.video_index import VideoIndex
from vidsift.services import indexes as services_indexes
from vidsift.services.indexes import build_workspace_index, search_grouped, search_workspace
from vidsift.workspace import Workspace

DIM = 8
Q = np.eye(DIM, dtype=np.float32)[0]


def layout(seed: int = 0) -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    rng = np.random.default_rng(seed)

    def vectors(n: int, near: np.ndarray, offset: float) -> np.ndarray:
        noise = rng.standard_normal((n, DIM)).astype(np.float32) * 0.002
        noise[:, 0] = 0
        x = np.tile(-Q, (n, 1)) + noise * 50  # far: around -e0
        x[near] = Q + noise[near]
        x[near, 1] += offset  # distance from the query grows with the offset
        return x

    out = {}
    for vid, rows, stride, near, offset in (
        ("a", 300, 1, np.arange(100, 200), 0.0),
        ("b", 100, 2, np.arange(20, 40), 0.2),
        ("c", 50, 1, np.r_[10:15, 30:33], 0.36),
    ):
        frames = np.arange(rows) * stride
        meta = pd.DataFrame(
            {
                "video_id": vid,
                "path": f"/videos/{vid}.mp4",
                "frame": frames,
                "time": frames / 25.0,
                "shot": frames // 50 if vid == "a" else 0,
                "label": {"a": "cats", "b": "dogs", "c": "cats"}[vid],
            }
        )
        out[vid] = (meta, vectors(rows, near, offset))
    return out


@pytest.fixture(scope="module")
def vi() -> VideoIndex:
    parts = layout()
    data = StoreData(
        meta=pd.concat([m for m, _ in parts.values()], ignore_index=True),
        vectors=np.concatenate([x for _, x in parts.values()]),
        manifest=manifest("pixels", DIM),
    )
    return VideoIndex.build(data, IndexParams(kind="flat"), use_gpu=False)


def moments(vi: VideoIndex, k: int, by: str, gap: float = 1.0, **kw: object) -> list:
    return search_grouped(
        lambda n: vi.search(Q[None], n, max_distance=0.5, **kw)[0], k, by, gap, vi.ntotal
    )


def test_segments_are_the_known_runs(vi: VideoIndex) -> None:
    segs = moments(vi, 3, "segment")
    got = [(s.video_id, s.first_frame, s.last_frame, s.frames) for s in segs]
    assert got == [("a", 100, 199, 100), ("b", 40, 78, 20), ("c", 10, 32, 8)]
    a, b, c = segs
    assert (a.start, a.end) == pytest.approx((4.0, 8.0))  # 199/25 + one row (0.04 s)
    assert (b.start, b.end) == pytest.approx((1.6, 3.2))  # span = b's stride 0.08 s, from the id map
    assert (c.start, c.end) == pytest.approx((0.4, 1.32))
    assert a.distance < b.distance < c.distance and a.label == "cats" and b.label == "dogs"
    assert a.best_frame in range(100, 200) and a.best_time == pytest.approx(a.best_frame / 25)
    # a smaller gap splits c at its 0.6 s of silence
    split = moments(vi, 10, "segment", gap=0.5)
    got = [(s.video_id, s.first_frame, s.last_frame) for s in split]
    assert got[:2] == [("a", 100, 199), ("b", 40, 78)]
    assert sorted(got[2:]) == [("c", 10, 14), ("c", 30, 32)]  # same offset: noise orders them


def test_k_counts_moments_and_the_search_goes_deeper(vi: VideoIndex) -> None:
    """The 30 nearest frames (k * GROUP_DEPTH) are all in a: one moment; the search asks for
    120 (a and b), then all 450 frames (the 128 near ones pass max_distance): 3 moments."""
    asked: list[int] = []

    def search(n: int):
        asked.append(n)
        return vi.search(Q[None], n, max_distance=0.5)[0]

    assert len(search_grouped(search, 3, "segment", 1.0, vi.ntotal)) == 3
    assert asked == [30, 120, 450]  # 4x deeper, capped at the 450 frames there are
    asked.clear()
    assert len(search_grouped(search, 1, "segment", 1.0, vi.ntotal)) == 1 and asked == [10]
    # fewer moments than k exist: everything that passes, once the search runs dry
    assert len(moments(vi, 50, "segment")) == 3


def test_going_deeper_never_answers_with_fewer_moments() -> None:
    """Three near runs (rows 0-9, 30-39, 60-69) with medium frames between them and far ones after:
    the 40 nearest frames (k = 4) make 3 moments; 160 fill the gaps and make one. The answer
    keeps the 3."""
    rows = np.arange(200)
    x = np.tile(-Q, (200, 1))
    near = np.r_[0:10, 30:40, 60:70]
    between = np.r_[10:30, 40:60]
    x[near] = Q
    x[between] = Q
    x[between, 1] = 0.3 + rows[between] * 1e-3  # nearer the closer to row 0: rows 10-19 come first
    meta = pd.DataFrame({"video_id": "x", "path": "/videos/x.mp4", "frame": rows, "time": rows / 25.0,
                         "shot": 0, "label": None})
    one = VideoIndex.build(StoreData(meta=meta, vectors=x, manifest=manifest("pixels", DIM)),
                           IndexParams(kind="flat"), use_gpu=False)
    asked: list[int] = []

    def search(n: int):
        asked.append(n)
        return one.search(Q[None], n)[0]

    segs = search_grouped(search, 4, "segment", 0.2, one.ntotal)
    assert asked == [40, 160, 200]
    assert [(s.first_frame, s.last_frame) for s in sorted(segs, key=lambda s: s.first_frame)] == [
        (0, 19), (30, 39), (60, 69)]
    assert len(search(200).segments("segment", 0.2)) == 1  # what the deepest search alone gives


def test_shot_and_video_groups(vi: VideoIndex) -> None:
    shots = moments(vi, 10, "shot")
    assert [(s.video_id, s.first_frame, s.last_frame) for s in shots] == [
        ("a", 100, 149), ("a", 150, 199), ("b", 40, 78), ("c", 10, 32)]
    assert [s.frames for s in shots] == [50, 50, 20, 8]
    videos = moments(vi, 10, "video")
    assert [(s.video_id, s.frames) for s in videos] == [("a", 100), ("b", 20), ("c", 8)]


def test_groups_with_filters(vi: VideoIndex) -> None:
    from vidsift.index.filters import Filter

    cats = moments(vi, 5, "segment", filter=Filter(labels=("cats",), time_range=(0.0, 6.0)))
    assert [(s.video_id, s.first_frame, s.last_frame) for s in cats] == [("a", 100, 150), ("c", 10, 32)]
    assert cats[0].end == pytest.approx(6.04)  # the last passing row + its span


def test_catalog_duration_caps_the_last_moment(vi: VideoIndex) -> None:
    """A real duration shorter than the last row + span ends the moment there; one before the
    video's last indexed row (another time base) is ignored."""

    def search(n: int):
        return vi.search(Q[None], n, max_distance=0.5, filter=None, videos=["c"])[0]

    def durations(ends: dict[str, float]):
        return lambda ids: {v: ends[v] for v in ids if v in ends}

    # c's near rows reach 1.28 s; move the query's run to the end: search within c's last rows
    (c,) = search_grouped(search, 1, "segment", 1.0, 50, durations({"c": 1.30}))
    assert c.end == pytest.approx(1.32)  # 1.30 is before c's last row (1.96 s): not c's end
    (c,) = search_grouped(search, 1, "segment", 1.0, 50, durations({"c": 1.999}))
    assert c.end == pytest.approx(1.32)  # the cap only bites at the video's end
    assert vi.columns.video_end(vi.columns.code_of["c"]) == pytest.approx(2.0)
    hits = vi.search(-Q[None], 50, videos=["c"])[0]  # far frames: c's rows 33-49 among them
    (tail,) = [s for s in hits.segments("video", 1.0, {"c": 1.99})]
    assert tail.end == pytest.approx(1.99)
    (tail,) = [s for s in hits.segments("video", 1.0, {"c": 1.5})]  # before the last row: ignored
    assert tail.end == pytest.approx(2.0)


# ------------------------------------------------------------------ workspace + CLI

runner = CliRunner()


@pytest.fixture
def laid_out(ws: Workspace, tmp_path: Path) -> tuple[Workspace, Path]:
    store = ws.embeddings("pixels")
    write_manifest(store, manifest("pixels", DIM))
    for vid, (meta, x) in layout().items():
        write_shard(store, vid, meta, x)
    build_workspace_index(ws, "pixels", use_gpu=False)
    q = tmp_path / "q.npy"
    np.save(q, Q)
    return ws, q


def test_service_and_cli_json_with_group(laid_out: tuple[Workspace, Path]) -> None:
    ws, q = laid_out
    rows = search_workspace(ws, "pixels", vector=q, k=3, group="segment", max_distance=0.5)
    assert [(r["rank"], r["video_id"], r["first_frame"], r["last_frame"], r["frames"]) for r in rows] == [
        (1, "a", 100, 199, 100), (2, "b", 40, 78, 20), (3, "c", 10, 32, 8)]
    assert rows[0]["start_timecode"] == "00:00:04.000" and rows[0]["end_timecode"] == "00:00:08.000"
    r = runner.invoke(app, ["search", "-e", "pixels", "-w", str(ws.root), "--vector-file", str(q),
                            "-k", "3", "--group", "segment", "--max-distance", "0.5", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == json.loads(json.dumps(rows))
    r = runner.invoke(app, ["search", "-e", "pixels", "-w", str(ws.root), "--vector-file", str(q),
                            "-k", "4", "--group", "segment", "--gap", "0.5", "--max-distance", "0.5",
                            "--label", "cats"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.strip().splitlines()[1:]
    assert len(lines) == 3  # a, c 10-14, c 30-32: one line each
    assert "note: 4 asked: the nearest frames fall into only 3 moments" in r.stderr
    assert "00:00:04.000 - 00:00:08.000" in lines[0] and lines[0].split()[-2:] == ["a", "/videos/a.mp4"]
    assert any("00:00:00.400 - 00:00:00.600" in line and " 5 " in line for line in lines[1:])
    assert any("00:00:01.200 - 00:00:01.320" in line and " 3 " in line for line in lines[1:])
    # without --group: the hit dicts, unchanged
    r = runner.invoke(app, ["search", "-e", "pixels", "-w", str(ws.root), "--vector-file", str(q),
                            "-k", "3", "--json"])
    assert set(json.loads(r.stdout)[0]) == {"video_id", "path", "frame", "time", "timecode", "shot",
                                            "label", "distance"}


def test_group_by_frame_query_and_bad_group(laid_out: tuple[Workspace, Path]) -> None:
    ws, _ = laid_out
    rows = search_workspace(ws, "pixels", video="a", frame=150, k=2, group="video",
                            exclude_same_video=True, max_distance=0.5)
    assert [(r["video_id"], r["frames"]) for r in rows] == [("b", 20), ("c", 8)]
    with pytest.raises(BadInputError, match="--group 'scenes': use one of segment, shot, video"):
        search_workspace(ws, "pixels", video="a", frame=150, group="scenes")
    services_indexes.clear_cache()


def test_fewer_than_asked_says_why() -> None:
    from vidsift.services.search import fewer_than_asked

    assert fewer_than_asked(12, 12, "segment") is None and fewer_than_asked(12, 0, "segment") is None
    assert fewer_than_asked(12, 6, "segment") == (
        "12 asked: the nearest frames fall into only 6 moments (hits at most the gap apart are one)")
    assert fewer_than_asked(12, 11, "shot") == "12 asked: the nearest frames fall into only 11 shots"
