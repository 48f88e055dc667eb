"""Filtered search inside FAISS (videos, labels, time range): every kind of index against brute
force over the filtered subset, on seeded video-shaped vectors; the filter validators.

The exact-over-subset route (small selections) is switched off with ``SUBSET_MAX_BYTES = 0`` where
a test is about the FAISS selector route.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from index_testdata import manifest, write_store
from typer.testing import CliRunner

from vidsift.cli import app
from vidsift.embedder.store import StoreData
from vidsift.errors import BadInputError
from vidsift.index import video_index
from vidsift.index.build import IndexParams
from vidsift.index.filters import (
    Filter,
    check_max_distance,
    parse_time_range,
    selection,
    videos_matching,
)
from vidsift.index.video_index import VideoIndex
from vidsift.services.indexes import build_workspace_index, search_workspace
from vidsift.services.search import check_group, check_time_range, indexed_labels
from vidsift.workspace import Workspace

# 12 videos of 150-250 frames (~2100 frames), every 2nd decoded frame at 25 fps (0.08 s a row)
FRAMES = {f"v{i:02d}": n for i, n in enumerate([150, 220, 180, 250, 160, 200, 170, 240, 190, 210, 150, 230])}
LABELS = {v: ("cats", "dogs", "birds")[i % 3] for i, v in enumerate(FRAMES)}
LABELS["v11"] = None  # one unlabelled video
DIM = 16
KINDS = {
    "flat": IndexParams(kind="flat"),
    "ivf-exhaustive": IndexParams(kind="ivf", nlist=16, nprobe=16),
    "ivf": IndexParams(kind="ivf", nlist=16, nprobe=1),
    "hnsw": IndexParams(kind="hnsw", hnsw_m=16, ef_search=32, ef_construction=80),
    "ivfpq": IndexParams(kind="ivfpq", nlist=8, nprobe=1, m=4, nbits=6),
}


def video_data(seed: int = 0) -> StoreData:
    """Per-video random walks around one of 4 class centres; labels and times in the meta."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((4, DIM)).astype(np.float32) * 3
    metas, parts = [], []
    for vid, n in FRAMES.items():
        frames = np.arange(n) * 2
        metas.append(
            pd.DataFrame(
                {
                    "video_id": vid,
                    "path": f"/clips/{LABELS[vid] or 'misc'}/{vid}.mp4",
                    "frame": frames,
                    "time": frames / 25.0,
                    "shot": frames // 40,
                    "label": LABELS[vid],
                }
            )
        )
        walk = np.cumsum(rng.standard_normal((n, DIM)).astype(np.float32) * 0.2, axis=0)
        parts.append(centres[rng.integers(4)] + walk)
    return StoreData(
        meta=pd.concat(metas, ignore_index=True),
        vectors=np.ascontiguousarray(np.concatenate(parts), np.float32),
        manifest=manifest("pixels", DIM),
    )


@pytest.fixture(scope="module")
def data() -> StoreData:
    return video_data()


@pytest.fixture(scope="module")
def indexes(data: StoreData) -> dict[str, VideoIndex]:
    return {name: VideoIndex.build(data, p, use_gpu=False) for name, p in KINDS.items()}


def brute_force(data: StoreData, q: np.ndarray, keep: np.ndarray, k: int) -> list[int]:
    """Ids (= store rows) of the k nearest rows among ``keep`` by cosine, nearest first."""
    x = data.vectors / np.linalg.norm(data.vectors, axis=1, keepdims=True)
    score = x @ (q / np.linalg.norm(q))
    rows = np.flatnonzero(keep)
    return [int(r) for r in rows[np.argsort(-score[rows], kind="stable")[:k]]]


FILTERS = {
    "two videos": Filter(videos=("v03", "v08")),
    "one label": Filter(labels=("dogs",)),
    "two labels": Filter(labels=("cats", "dogs")),  # 2/3 of the frames
    "time range": Filter(time_range=(2.0, 5.5)),
    "open start": Filter(time_range=(None, 1.0)),
    "all three": Filter(videos=("v01", "v02", "v04", "v07"), labels=("dogs", "birds"), time_range=(3.0, None)),
}


def passing(data: StoreData, f: Filter) -> np.ndarray:
    """The filter evaluated by hand on the store's meta (independent of ``Filter.mask``)."""
    m = data.meta
    keep = np.ones(len(m), bool)
    if f.videos:
        keep &= m["video_id"].isin(f.videos).to_numpy()
    if f.labels:
        keep &= m["label"].isin(f.labels).to_numpy()
    if f.time_range:
        a, b = f.time_range
        t = m["time"].to_numpy()
        keep &= (t >= (a if a is not None else -np.inf)) & (t <= (b if b is not None else np.inf))
    return keep


@pytest.mark.parametrize("fname", list(FILTERS))
@pytest.mark.parametrize("kind", ["flat", "ivf-exhaustive", "hnsw"])
def test_filtered_faiss_search_equals_brute_force(
    data: StoreData, indexes: dict[str, VideoIndex], kind: str, fname: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(video_index, "SUBSET_MAX_BYTES", 0)  # the FAISS selector route
    vi, f = indexes[kind], FILTERS[fname]
    keep = passing(data, f)
    q = data.vectors[np.random.default_rng(7).choice(len(data.vectors), 8, replace=False)]
    got = vi.search(q, 10, filter=f)
    for qi, hits in zip(q, got, strict=True):
        want = brute_force(data, qi, keep, 10)
        assert len(hits) == 10
        assert keep[hits.ids].all()
        assert list(hits.ids) == want  # HNSW scans its storage under a filter: exact too
        assert list(hits.distances) == sorted(hits.distances)


@pytest.mark.parametrize("kind", ["ivf", "hnsw", "ivfpq"])
def test_narrow_filters_still_return_exactly_k(
    data: StoreData, indexes: dict[str, VideoIndex], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nprobe 1 of 16 (8) lists rarely holds k passing frames of a narrow filter: the IVF search
    probes more, so k come back whenever k frames pass, and all of them when fewer."""
    monkeypatch.setattr(video_index, "SUBSET_MAX_BYTES", 0)
    vi = indexes[kind]
    q = data.vectors[[0, 900, 1700]]
    narrow = Filter(videos=("v05",), time_range=(4.0, 5.0))  # 13 frames: 4.00 .. 4.96 s
    keep = passing(data, narrow)
    assert keep.sum() == 13
    for hits in vi.search(q, 10, filter=narrow):
        assert len(hits) == 10 and keep[hits.ids].all()
    for hits in vi.search(q, 50, filter=narrow):
        assert sorted(hits.ids) == list(np.flatnonzero(keep))
    for hits in vi.search(q, 25, filter=Filter(labels=("birds",))):
        assert len(hits) == 25 and {h.label for h in hits} == {"birds"}


def test_exact_route_and_faiss_route_agree(
    data: StoreData, indexes: dict[str, VideoIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    vi = indexes["flat"]
    q = data.vectors[[5, 600, 1999]]
    f = Filter(labels=("cats",), time_range=(1.0, 6.0))
    exact = vi.search(q, 12, filter=f)  # small selection: exact over the subset
    monkeypatch.setattr(video_index, "SUBSET_MAX_BYTES", 0)
    vi._subset = None
    inside = vi.search(q, 12, filter=f)
    for a, b in zip(exact, inside, strict=True):
        assert list(a.ids) == list(b.ids)
        np.testing.assert_allclose(a.distances, b.distances, atol=1e-5)


def test_filtered_search_ignores_a_gpu_copy(
    data: StoreData, indexes: dict[str, VideoIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FAISS GPU indexes ignore selectors silently; a filtered search must use the CPU index."""

    class NoGpu:
        def search(self, *a: object, **kw: object) -> None:
            raise AssertionError("a filtered search reached the GPU index")

    vi = VideoIndex.build(data, IndexParams(kind="flat"), use_gpu=False)
    vi.use_gpu, vi._gpu_index = True, NoGpu()
    monkeypatch.setattr(video_index, "SUBSET_MAX_BYTES", 0)
    hits = vi.search(data.vectors[:1], 5, filter=Filter(labels=("dogs",)))[0]
    assert len(hits) == 5 and {h.label for h in hits} == {"dogs"}


def test_filter_with_exclusions_and_max_distance(indexes: dict[str, VideoIndex]) -> None:
    vi = indexes["flat"]
    f = Filter(videos=("v01", "v04"))
    hits = vi.search_frame("v01", 100, 15, exclude_window=10, filter=f)
    assert len(hits) == 15 and {h.video_id for h in hits} <= {"v01", "v04"}
    assert not any(h.video_id == "v01" and abs(h.frame - 100) <= 10 for h in hits)
    near = vi.search_frame("v01", 100, 15, filter=f, max_distance=0.01)
    assert 0 < len(near) < 15 and max(near.distances) <= 0.01
    assert list(near.ids) == list(vi.search_frame("v01", 100, 15, filter=f).ids[: len(near)])
    # the videos= shortcut intersects filter.videos
    both = vi.search_frame("v01", 100, 5, videos=["v04", "v06"], filter=f)
    assert {h.video_id for h in both} == {"v04"}
    assert vi.search_frame("v01", 100, 5, videos=["v06"], filter=f) == []


def test_filter_mask_and_selectors(data: StoreData, indexes: dict[str, VideoIndex]) -> None:
    cols = indexes["flat"].columns
    for f in FILTERS.values():
        np.testing.assert_array_equal(f.mask(cols), passing(data, f))
    assert Filter().mask(cols).all() and not Filter().active
    assert indexed_labels(indexes["flat"]) == ["birds", "cats", "dogs"]
    assert Filter(videos=("b", "a", "a")) == Filter(videos=("a", "b"))  # canonical, hashable
    # contiguous ids -> a range selector; ids with holes -> a bitmap over every id ever given
    run = selection(np.arange(10, 20), 100)
    assert run.bitmap is None and run.selector.is_member(19) and not run.selector.is_member(20)
    holes = selection(np.array([3, 64, 65, 99]), 100)
    assert [i for i in range(100) if holes.selector.is_member(i)] == [3, 64, 65, 99]


def test_bad_filters_are_refused(indexes: dict[str, VideoIndex]) -> None:
    vi = indexes["flat"]
    q = vi.vector_of("v00", 0)[None]
    with pytest.raises(BadInputError, match="label.s. fish not in the index .*known labels: birds, cats, dogs"):
        vi.search(q, 3, filter=Filter(labels=("fish",)))
    with pytest.raises(BadInputError, match="video.s. nope not in the index"):
        vi.search(q, 3, filter=Filter(videos=("nope",)))
    with pytest.raises(BadInputError, match="max distance -0.5 is not a distance"):
        vi.search(q, 3, max_distance=-0.5)
    with pytest.raises(BadInputError, match="matches no indexed video"):
        videos_matching(vi.columns, "/elsewhere/*.mp4")
    assert videos_matching(vi.columns, "/clips/dogs/*") == ["v01", "v04", "v07", "v10"]
    assert videos_matching(vi.columns, "v1?") == ["v10", "v11"]
    assert videos_matching(vi.columns, "v11.mp4") == ["v11"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("10-20", (10.0, 20.0)),
        ("00:01:00-00:02:30.5", (60.0, 150.5)),
        ("1:00 - 1:30", (60.0, 90.0)),
        ("30-", (30.0, None)),
        ("-1:00", (None, 60.0)),
        ("2.5s-4s", (2.5, 4.0)),
        ((1, None), (1.0, None)),
        (None, None),
    ],
)
def test_time_range_forms(text: object, want: object) -> None:
    assert parse_time_range(text) == want  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("5-5", "is empty: it ends"),
        ("20-10", "is reversed"),
        ("-", "open on both sides"),
        ("10", "give START-END"),
        ("1-2-3", "give START-END"),
        ("a-b", "is not a time"),
        ((3.0, 1.0), "is reversed"),
    ],
)
def test_bad_time_ranges(text: object, match: str) -> None:
    with pytest.raises(BadInputError, match=match):
        parse_time_range(text)  # type: ignore[arg-type]


def test_page_helpers_share_the_validators() -> None:
    assert check_time_range("  ") is None and check_time_range("3-") == (3.0, None)
    with pytest.raises(BadInputError, match="is reversed"):
        check_time_range("9-3")
    assert check_max_distance(None) is None and check_max_distance("0.25") == 0.25
    for bad in (math.nan, -1, "x", math.inf):
        with pytest.raises(BadInputError, match="not a distance"):
            check_max_distance(bad)
    assert check_group(None) == (None, 1.0) and check_group("segment", 0) == ("segment", 0.0)
    with pytest.raises(BadInputError, match="--group 'scene': use one of segment, shot, video"):
        check_group("scene")
    with pytest.raises(BadInputError, match="--gap -1.0: give a number of seconds >= 0"):
        check_group("segment", -1.0)
    with pytest.raises(BadInputError, match="use it with --group segment"):
        check_group("shot", 2.0)


# ------------------------------------------------------------------ workspace + CLI

runner = CliRunner()


@pytest.fixture
def labelled_ws(ws: Workspace) -> Workspace:
    write_store(
        ws.embeddings("pixels"),
        {"a": 60, "b": 50, "c": 40, "d": 45},
        seed=5,
        labels={"a": "cats", "b": "dogs", "c": "cats"},
    )
    build_workspace_index(ws, "pixels", use_gpu=False)
    return ws


def cli(ws: Workspace, *args: object) -> object:
    return runner.invoke(
        app, ["search", "--embedder", "pixels", "-w", str(ws.root), *[str(a) for a in args]]
    )


def test_service_filters_match_filtering_all_hits(labelled_ws: Workspace) -> None:
    ws = labelled_ws
    everything = search_workspace(ws, "pixels", video="a", frame=10, k=200)
    got = search_workspace(
        ws, "pixels", video="a", frame=10, k=6, labels=["cats"], time_range="0.4-1.2",
        videos=["/videos/?.mp4"],
    )
    want = [h for h in everything if h["label"] == "cats" and 0.4 <= h["time"] <= 1.2][:6]
    assert [(h["video_id"], h["frame"]) for h in got] == [(h["video_id"], h["frame"]) for h in want]
    cut = search_workspace(ws, "pixels", video="a", frame=10, k=200, max_distance=0.05)
    assert cut == [h for h in everything if h["distance"] <= 0.05]


def test_cli_filters_json(labelled_ws: Workspace) -> None:
    r = cli(labelled_ws, "--video", "a", "--frame", "10", "-k", "8", "--label", "cats",
            "--label", "dogs", "--time-range", "-1.0", "--videos", "[ab]", "--json")
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 8
    assert {x["video_id"] for x in rows} <= {"a", "b"} and all(x["time"] <= 1.0 for x in rows)
    r = cli(labelled_ws, "--video", "a", "--frame", "10", "--max-distance", "0", "--json")
    assert r.exit_code == 0 and [(x["video_id"], x["frame"]) for x in json.loads(r.stdout)] == [("a", 10)]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--videos", "nope"], "no video 'nope' in the index"),
        (["--videos", "zz*"], "'zz\\*' matches no indexed video"),
        (["--label", "fish"], "label.s. fish not in the index .*known labels: cats, dogs"),
        (["--time-range", ""], "time range '' is empty"),
        (["--time-range", "4-2"], "is reversed"),
        (["--time-range", "2-2"], "is empty"),
        (["--max-distance", "-0.1"], "not a distance"),
        (["--max-distance", "nan"], "not a distance"),
        (["--group", "scene"], "--group 'scene': use one of"),
        (["--group", "segment", "--gap", "-1"], "--gap -1.0: give a number of seconds"),
        (["--gap", "2"], "use it with --group segment"),
    ],
)
def test_bad_search_input_is_one_line(labelled_ws: Workspace, args: list[str], match: str) -> None:
    kwargs: dict[str, object] = {}
    names = {"--videos": "videos", "--label": "labels", "--time-range": "time_range",
             "--max-distance": "max_distance", "--group": "group", "--gap": "gap"}
    for opt, value in zip(args[::2], args[1::2], strict=True):
        if names[opt] in ("videos", "labels"):
            kwargs[names[opt]] = [value]
        elif names[opt] in ("max_distance", "gap"):
            kwargs[names[opt]] = float(value)
        else:
            kwargs[names[opt]] = value
    with pytest.raises(BadInputError, match=match):
        search_workspace(labelled_ws, "pixels", video="a", frame=10, k=3, **kwargs)
    before = sorted(p.relative_to(labelled_ws.root) for p in labelled_ws.root.rglob("*"))
    r = cli(labelled_ws, "--video", "a", "--frame", "10", *args)
    # `vidsift.cli.main` prints a VidsiftError as one line and exits 2; CliRunner hands it back
    assert r.exit_code != 0 and isinstance(r.exception, BadInputError), r.output
    assert re.search(match, str(r.exception)) and "\n" not in str(r.exception)
    assert sorted(p.relative_to(labelled_ws.root) for p in labelled_ws.root.rglob("*")) == before
