"""Near-duplicates (issue #18 item 2): the domain on seeded arrays, end to end on generated
re-encodes / crops / speed changes / trims with the ``pixels`` embedder, and ``vidsift duplicates``."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from vidsift.discovery import duplicates as dup
from vidsift.discovery.duplicates import (
    DuplicatePair,
    candidate_pairs,
    find_duplicates,
    longest_chain,
    peak_matches,
    unit_rows,
)
from vidsift.errors import BadInputError
from vidsift.video.synthetic.variants import (
    Piece,
    make_duplicate_variants,
    retime,
    score_pairs,
    shared_footage,
    true_pairs,
)

FPS = 10.0


def walk(n: int, seed: int, dim: int = 24) -> np.ndarray:
    """A smooth random walk: like video, neighbouring frames are close, distant ones are not."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(n, dim)), axis=0).astype(np.float32)


def run(videos: dict[str, np.ndarray], fps: dict[str, float] | None = None, **kw):
    """find_duplicates over named videos (rows in the given order, times at ``fps``)."""
    ids = np.concatenate([[v] * len(x) for v, x in videos.items()])
    times = np.concatenate([np.arange(len(x)) / (fps or {}).get(v, FPS) for v, x in videos.items()])
    return find_duplicates(np.concatenate(list(videos.values())), ids, times, **kw)


# -- domain on seeded arrays --------------------------------------------------------------------
def test_trimmed_copy_gives_its_exact_ranges_and_unrelated_footage_no_pair() -> None:
    src = walk(80, 0)
    noise = np.random.default_rng(1).normal(scale=0.05, size=(40, 24)).astype(np.float32)
    pairs = run(
        {"a": src, "b": src[20:60] + noise, "c": walk(80, 2), "d": walk(60, 3)}, min_seconds=2.0
    )
    assert len(pairs) == 1
    p = pairs[0]
    assert (p.kind, p.a.video_id, p.b.video_id) == ("videos", "a", "b")
    assert (p.a.first_frame, p.a.last_frame, p.b.first_frame, p.b.last_frame) == (20, 59, 0, 39)
    assert p.a.start == pytest.approx(2.0) and p.a.end == pytest.approx(6.0)
    assert p.b.start == 0.0 and p.b.end == pytest.approx(
        4.0
    )  # the video's end: last frame + one step
    assert p.matched_frames == 40 and 0.95 < p.score <= 1.0
    assert p.a.group == p.b.group == "1" and p.a.score == p.b.score == p.score


def test_files_with_the_same_bytes_are_a_whole_copy_pair() -> None:
    """The catalog holds byte-identical files as one video at several paths: only it knows them."""
    src = walk(40, 0)
    ids, times = np.repeat(["a", "c"], 40), np.r_[np.arange(40), np.arange(40)] / FPS
    paths = np.repeat(["/v/a.mp4", "/v/c.mp4"], 40)
    vectors = np.concatenate([src, walk(40, 5)])
    copies = {"a": [("/v/a.mp4", None), ("/v/backup/a.mp4", "backup")], "c": [("/v/c.mp4", None)]}
    pairs = find_duplicates(vectors, ids, times, paths=paths, copies=copies)
    assert [(p.kind, p.a.path, p.b.path, p.b.label, p.score, p.matched_frames) for p in pairs] == [
        ("copy", "/v/a.mp4", "/v/backup/a.mp4", "backup", 1.0, 40)
    ]
    p = pairs[0]
    assert (p.a.start, p.a.first_frame, p.a.last_frame) == (0.0, 0, 39) and p.a.end == pytest.approx(4.0)
    assert (p.b.start, p.b.end, p.b.video_id, p.a.group) == (p.a.start, p.a.end, "a", "1")
    assert DuplicatePair.from_dict(p.to_dict()) == p
    assert find_duplicates(vectors, ids, times, paths=paths) == []  # without the catalog: one video


@pytest.mark.parametrize("step", [2.0, 0.5])
def test_speed_changes_are_followed(step: float) -> None:
    src = walk(80, 4)
    pairs = run({"a": src, "b": retime(src, step), "c": walk(80, 5)})
    assert [(p.a.video_id, p.b.video_id) for p in pairs] == [("a", "b")]
    p = pairs[0]
    assert p.a.duration == pytest.approx(8.0, abs=0.25)
    assert p.b.duration == pytest.approx(8.0 / step, abs=0.25)


def test_a_speed_beyond_max_speed_is_not_a_pair() -> None:
    src = walk(120, 6)
    assert run({"a": src, "b": retime(src, 4.0)}) == []
    assert len(run({"a": src, "b": retime(src, 4.0)}, max_speed=4.0)) == 1


def test_different_frame_rate_same_speed() -> None:
    src = walk(100, 7)
    pairs = run({"a": src, "b": retime(src, 2.0)}, fps={"b": FPS / 2})
    assert len(pairs) == 1 and pairs[0].b.duration == pytest.approx(pairs[0].a.duration, abs=0.3)


def test_two_copies_in_one_video_give_two_pairs() -> None:
    src, other = walk(40, 8), walk(30, 9)
    pairs = run({"a": src, "b": np.concatenate([src, other, src])})
    across = [p for p in pairs if p.kind == "videos"]
    assert sorted((p.b.first_frame, p.b.last_frame) for p in across) == [(0, 39), (70, 109)]
    within = [p for p in pairs if p.kind == "within"]  # and b repeats itself
    assert [(p.a.first_frame, p.a.last_frame, p.b.first_frame, p.b.last_frame) for p in within] == [
        (0, 39, 70, 109)
    ]


def test_repeat_within_one_video_but_not_the_trivial_diagonal() -> None:
    src = walk(40, 10)
    pairs = run({"v": np.concatenate([src, walk(20, 11), src])})
    assert len(pairs) == 1
    p = pairs[0]
    assert p.kind == "within" and p.a.video_id == p.b.video_id == "v"
    assert (p.a.first_frame, p.a.last_frame, p.b.first_frame, p.b.last_frame) == (0, 39, 60, 99)
    assert p.a.end <= p.b.start
    assert run({"v": walk(200, 12)}) == []  # a long moving video alone: no pair with itself


def test_a_run_with_no_stretch_at_one_speed_is_passed_over(monkeypatch) -> None:
    """Seen on 384 generated shape videos: the heaviest chain of matches between two videos
    zig-zagged, no stretch of it kept one speed, and `vidsift duplicates` stopped with
    "IndexError: index 0 is out of bounds". Such a run is not a copy; the search goes on."""
    # the matches (A time, B time, weight) of that chain, as the store gave them
    ta = np.array([0.08, 0.12, 0.6, 0.64, 0.72, 0.8, 1.2, 1.24])
    tb = np.array([0.0, 0.0, 0.92, 0.92, 1.04, 1.04, 1.2, 1.2])
    w = np.array([0.399, 0.417, 0.633, 0.628, 0.745, 0.743, 0.569, 0.610])
    assert len(dup._straight(ta, tb, w, 0.1, 1.0)) == 0
    straight, calls = dup._straight, []

    def first_has_none(*args):
        calls.append(1)
        return np.zeros(0, np.int64) if len(calls) == 1 else straight(*args)

    monkeypatch.setattr(dup, "_straight", first_has_none)
    src = walk(120, 0)
    # two copies in b: whichever run is passed over, the search goes on and finds copies
    pairs = run({"a": src, "b": np.concatenate([src[10:40], walk(20, 5), src[70:110]])}, min_seconds=2.0)
    assert len(calls) >= 2 and pairs and {(p.a.video_id, p.b.video_id) for p in pairs} == {("a", "b")}


def test_stills_are_not_duplicates() -> None:
    """Black frames / title cards match anything; in a still the order of matches means nothing."""
    rng = np.random.default_rng(13)
    still = np.ones((50, 24), np.float32) * 5 + rng.normal(scale=0.01, size=(50, 24)).astype(
        np.float32
    )
    still2 = still[0] + rng.normal(scale=0.01, size=(50, 24)).astype(np.float32)
    assert (
        run(
            {
                "a": np.concatenate([walk(30, 14), still]),
                "b": np.concatenate([still2, walk(30, 15)]),
            }
        )
        == []
    )


def test_longest_chain_matches_a_plain_dynamic_programme() -> None:
    rng = np.random.default_rng(16)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        ta = rng.integers(0, 15, n) / 4.0
        tb = rng.integers(0, 15, n) / 4.0
        w = rng.uniform(0.1, 1.0, n)
        got = longest_chain(ta, tb, w, max_gap=1.0)
        # reference: the heaviest valid chain by an O(n^2) loop over matches sorted by (ta, tb)
        order = sorted(range(n), key=lambda m: (ta[m], tb[m]))
        best = {}
        for m in order:
            best[m] = w[m] + max(
                [best[p] for p in best if 0 < ta[m] - ta[p] <= 1.0 and 0 <= tb[m] - tb[p] <= 1.0],
                default=0.0,
            )
        assert w[got].sum() == pytest.approx(max(best.values()))
        assert np.all(np.diff(ta[got]) > 0) and np.all(np.diff(tb[got]) >= 0)
        assert np.all(np.diff(ta[got]) <= 1.0) and np.all(np.diff(tb[got]) <= 1.0)


def test_peak_matches_are_the_same_in_small_blocks(monkeypatch) -> None:
    u = unit_rows(np.concatenate([walk(50, 17), walk(50, 17)[::-1] + 0.01]))
    whole = peak_matches(u[:50], u[50:], 0.3)
    t = np.arange(50) / FPS
    within = peak_matches(u[:50], u[:50], 0.3, same=True, times=t, min_seconds=1.0)
    monkeypatch.setattr(dup, "_BLOCK", 7)  # row blocks of 1 row: never one big matrix

    def same(x, y) -> None:
        ox, oy = np.lexsort((x[1], x[0])), np.lexsort((y[1], y[0]))
        np.testing.assert_array_equal(x[0][ox], y[0][oy])
        np.testing.assert_array_equal(x[1][ox], y[1][oy])
        np.testing.assert_allclose(x[2][ox], y[2][oy], atol=1e-5)

    same(whole, peak_matches(u[:50], u[50:], 0.3))
    same(within, peak_matches(u[:50], u[:50], 0.3, same=True, times=t, min_seconds=1.0))
    i, j, s = whole
    assert set(zip(i.tolist(), j.tolist(), strict=True)) >= {
        (k, 49 - k) for k in range(50)
    }  # the reversed copy
    i, j, _ = within
    assert np.all(t[j] - t[i] >= 1.0)


def test_candidate_pairs_against_brute_force() -> None:
    x = unit_rows(np.concatenate([walk(30, 18), walk(30, 18) + 0.02, walk(30, 19), walk(30, 20)]))
    starts = [0, 30, 60, 90, 120]
    owner = np.repeat(np.arange(4), 30)
    sim = x @ x.T
    expected = {  # k covers every other frame: a link counts once from each side
        (v, w)
        for v, w in itertools.combinations(range(4), 2)
        if 2 * (sim[owner == v][:, owner == w] >= 1 - 0.2).sum() >= 2
    }
    assert set(candidate_pairs(x, starts, 0.2, k=120)) == expected
    assert (0, 1) in expected and set(candidate_pairs(x, starts, 0.2, k=2, batch_size=7)) == {
        (0, 1)
    }


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"threshold": 0.0}, "threshold 0.0 is out of range"),
        ({"threshold": 1.5}, "between 0 and 1"),
        ({"min_seconds": -1.0}, "min-seconds -1.0 is negative"),
        ({"max_speed": 0.5}, "max_speed must be 1 or more"),
    ],
)
def test_bad_options_are_refused(kw: dict, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        run({"a": walk(20, 0)}, **kw)


def test_rows_of_a_video_must_be_contiguous() -> None:
    x = walk(6, 0)
    with pytest.raises(ValueError, match="contiguous"):
        find_duplicates(x, ["a", "a", "b", "b", "a", "a"], np.arange(6.0))


def test_pair_dict_round_trip() -> None:
    src = walk(60, 21)
    p = run({"a": src, "b": src + 0.01})[0]
    d = p.to_dict()
    assert set(d) == {"a", "b", "score", "kind", "matched_frames"}
    assert {"video_id", "path", "start", "end", "start_timecode", "end_timecode"} <= set(d["a"])
    assert DuplicatePair.from_dict(json.loads(json.dumps(d))) == p


def test_variant_truth() -> None:
    a = [Piece(0.0, 4.0, "s", 0.0, 4.0)]
    fast = [Piece(0.0, 2.0, "s", 0.0, 4.0)]
    trim = [Piece(0.0, 2.0, "s", 1.0, 3.0)]
    assert shared_footage(a, fast) == [((0.0, 4.0), (0.0, 2.0))]
    assert shared_footage(fast, trim) == [((0.5, 1.5), (0.0, 2.0))]
    assert shared_footage(a, [Piece(0.0, 4.0, "t", 0.0, 4.0)]) == []
    rep = [Piece(0, 2, "s", 0, 2), Piece(2, 3, "m", 0, 1), Piece(3, 5, "s", 0, 2)]
    assert shared_footage(rep, rep, same_video=True) == [((0.0, 2.0), (3.0, 5.0))]


# -- end to end on generated files ----------------------------------------------------------------
@pytest.fixture(scope="module")
def variants_ws(tmp_path_factory):
    """Re-encode, crop, 2x / 0.5x, 15 fps and trim of one clip, an unrelated clip and a clip that
    repeats itself, at 32x32, embedded with pixels (a few seconds)."""
    from vidsift.embedder.extract import extract

    root = tmp_path_factory.mktemp("dups")
    folder, ws = root / "set", root / "ws"
    make_duplicate_variants(
        folder,
        sources=("astronaut",),
        unrelated=("chelsea", "rocket"),
        repeat="camera",
        seconds=4.0,
        size=(32, 32),
    )
    extract(ws, folder, "pixels", progress=False, workers=0, thumbnails=False)
    return folder, ws


def test_end_to_end_on_generated_variants(variants_ws) -> None:
    from vidsift.services.duplicates import (
        duplicates_path,
        find_duplicates,
        load_duplicates,
        pairs_of,
    )

    folder, ws = variants_ws
    truth = json.loads((folder / "ground_truth.json").read_text())
    res = find_duplicates(ws, "pixels")
    assert set(res) == {"embedder", "threshold", "min_seconds", "pairs"}
    assert (res["embedder"], res["threshold"], res["min_seconds"]) == (
        "pixels",
        dup.DEFAULT_THRESHOLD,
        2.0,
    )
    scores = [p["score"] for p in res["pairs"]]
    assert scores == sorted(scores, reverse=True)
    r = score_pairs(res["pairs"], truth, folder, 2.0, max_speed=dup.DEFAULT_MAX_SPEED)
    assert r["false"] == [] and r["precision"] == 1.0  # nothing pairs the unrelated clips
    assert r["recall"] >= 0.8, r["missed"]
    within = [p for p in res["pairs"] if p["kind"] == "within"]
    assert len(within) == 1 and within[0]["a"]["path"].endswith("camera-repeat.mp4")
    assert within[0]["a"]["end"] <= within[0]["b"]["start"]
    kinds = {
        tuple(sorted((p["a"]["path"].rsplit("-", 1)[-1], p["b"]["path"].rsplit("-", 1)[-1])))
        for p in res["pairs"]
        if p["kind"] == "videos"
    }
    for variant in ("reencode.mp4", "crop.mp4", "fast.mp4", "slow.mp4", "fps.mp4", "trim.mp4"):
        assert tuple(sorted(("original.mp4", variant))) in kinds, variant
    assert load_duplicates(ws, "pixels") == res
    assert json.loads(duplicates_path(ws, "pixels").read_text()) == res
    assert pairs_of(res)[0].a.path == res["pairs"][0]["a"]["path"]
    assert true_pairs(truth, 2.0)  # the truth holds pairs at all
    assert not any(p["kind"] == "copy" for p in res["pairs"])


def test_a_byte_identical_file_is_reported_as_a_copy(tmp_path) -> None:
    import shutil

    from vidsift.embedder.extract import extract
    from vidsift.services.duplicates import find_duplicates as find_in_workspace
    from vidsift.video.synthetic.write import make_scene_videos

    folder = tmp_path / "videos"
    make_scene_videos(folder, scenes=("astronaut", "coffee"), videos_per_scene=1, shots_per_video=2,
                      frames_per_shot=15, size=(32, 32))
    original = next(folder.rglob("astronaut*.mp4"))
    (folder / "backup").mkdir()
    shutil.copy(original, folder / "backup" / original.name)
    ws = tmp_path / "ws"
    extract(ws, folder, "pixels", progress=False, workers=0, thumbnails=False)
    res = find_in_workspace(ws, "pixels")
    copies = [p for p in res["pairs"] if p["kind"] == "copy"]
    assert len(copies) == 1 and res["pairs"][0] == copies[0]  # score 1: first
    assert {copies[0]["a"]["path"], copies[0]["b"]["path"]} == {str(original), str(folder / "backup" / original.name)}
    assert copies[0]["matched_frames"] == 30 and copies[0]["b"]["end_timecode"] == "00:00:01.200"


def test_cli_json_table_and_bad_inputs(variants_ws, cli, tmp_path) -> None:
    from vidsift.services.duplicates import duplicates_path

    folder, ws = variants_ws
    r = cli("duplicates", "-e", "pixels", "-w", ws, "--videos", "camera-repeat.mp4", "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert [p["kind"] for p in res["pairs"]] == ["within"]
    trim = str(folder / "astronaut" / "astronaut-trim.mp4")
    r = cli(
        "duplicates",
        "-e",
        "pixels",
        "-w",
        ws,
        "--videos",
        trim,
        "--videos",
        "astronaut-original.mp4",
        "--min-seconds",
        "1.5",
        "--threshold",
        "0.2",
        "--json",
    )
    res = json.loads(r.out)
    assert (res["threshold"], res["min_seconds"]) == (0.2, 1.5)
    assert len(res["pairs"]) == 1 and {
        res["pairs"][0]["a"]["path"],
        res["pairs"][0]["b"]["path"],
    } == {trim, str(folder / "astronaut" / "astronaut-original.mp4")}
    r = cli("duplicates", "-e", "pixels", "-w", ws)
    assert (
        r.code == 0 and "range A" in r.out and "camera-repeat.mp4" in r.out and "00:00:0" in r.out
    )
    saved = duplicates_path(ws, "pixels").read_bytes()
    for args, message in [
        (("--threshold", "1.5"), "threshold 1.5 is out of range"),
        (("--threshold", "0"), "between 0 and 1"),
        (("--min-seconds", "-1"), "min-seconds -1.0 is negative"),
        (("--videos", "nope.mp4"), "no video 'nope.mp4'"),
        (("-e", "zca"), "no embeddings for 'zca'"),
    ]:
        r = cli("duplicates", "-e", "pixels", "-w", ws, *args)
        assert r.code != 0 and r.out == "", (args, r)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (args, r)
    assert duplicates_path(ws, "pixels").read_bytes() == saved  # nothing written by a refused run
    assert not duplicates_path(ws, "zca").exists()
    empty = tmp_path / "empty-ws"
    r = cli("duplicates", "-e", "pixels", "-w", empty)
    assert r.code != 0 and "vidsift embed" in r.err


def test_cli_help_states_the_domain_defaults() -> None:
    from vidsift.cli import duplicates as cli_dup

    assert cli_dup.HELP_THRESHOLD == dup.DEFAULT_THRESHOLD
    assert cli_dup.HELP_MIN_SECONDS == dup.DEFAULT_MIN_SECONDS
