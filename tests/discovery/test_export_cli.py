"""`vidsift export`: formats, --max, clip names from --template, refusals that write nothing,
missing sources skipped, duplicates and clusters as sources (tiny generated videos with audio)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import pandas as pd
import pytest
from av_testdata import write_av_video

from vidsift.services.discover import assignments_path
from vidsift.services.exports import segments_from_duplicates, segments_from_search
from vidsift.workspace import Workspace


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("vids")
    return {"a": write_av_video(root / "alpha.mp4", frames=40, gop=10),
            "b": write_av_video(root / "beta shot.mp4", frames=30, gop=10)}


def seg(vid: str, path: Path | str, start: float, end: float, group: str = "1", **kw) -> dict:
    return {"video_id": vid, "path": str(path), "start": start, "end": end, "first_frame": round(start * 25),
            "last_frame": round(end * 25) - 1, "group": group, **kw}


@pytest.fixture
def search_json(videos, tmp_path) -> Path:
    p = tmp_path / "search.json"
    p.write_text(json.dumps([
        seg("va", videos["a"], 0.4, 0.8, best_frame=12, distance=0.1, label="dogs"),
        seg("vb", videos["b"], 0.24, 0.6, distance=0.2),
        seg("vg", tmp_path / "gone.mp4", 1.0, 2.0, group="2", distance=0.3),
    ]))
    return p


def files_under(root: Path) -> list[str]:
    return sorted(str(Path(d, f).relative_to(root)) for d, _, fs in os.walk(root) for f in fs)


def test_export_all_formats(cli, search_json, tmp_path):
    out = tmp_path / "out"
    r = cli("export", search_json, out, "-w", tmp_path / "no-ws", "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    assert res["n_segments"] == 3 and res["source"] == "search"
    assert files_under(out) == ["clips/alpha-1-00h00m00s400.mp4", "clips/beta_shot-1-00h00m00s240.mp4",
                                "contact_sheet.png", "export.json", "segments.csv", "segments.edl", "segments.otio"]
    assert [c["mode"] for c in res["clips"]] == ["copy", "reencode", "skipped"]
    assert res["skipped"] == [f"clip #3: {tmp_path / 'gone.mp4'}: source file is missing"]
    assert not (tmp_path / "no-ws").exists()  # no workspace made as a side effect
    rows = pd.read_csv(out / "segments.csv")
    assert rows["clip_mode"].fillna("").tolist() == ["copy", "reencode", "skipped"]
    assert rows["start_timecode"].tolist() == ["00:00:00.400", "00:00:00.240", "00:00:01.000"]
    with av.open(str(out / rows["clip"][0])) as c:
        assert len(c.streams.video) == 1 and len(c.streams.audio) == 1
    edl = (out / "segments.edl").read_text()
    assert edl.count("* FROM CLIP:") == 3 and "001  ALPHA    AA/V" in edl


def test_formats_max_and_template(cli, search_json, tmp_path):
    out = tmp_path / "out"
    r = cli("export", search_json, out, "--format", "csv,clips", "--max", "1",
            "--template", "{index:03d}_{label}_{video}_{end}", "-w", tmp_path)
    assert r.code == 0, r
    assert "1 clips (1 stream-copied, 0 re-encoded)" in r.out
    assert files_under(out) == ["clips/001_dogs_alpha_00h00m00s800.mp4", "export.json", "segments.csv"]


@pytest.mark.parametrize("args, message", [
    (["--template", "../{video}"], "would leave the export folder"),
    (["--template", "{video.__class__}"], "unknown field"),
    (["--format", "csv,pdf"], "choose from csv, edl, otio, sheet, clips"),
    (["--max", "-1"], "--max must be >= 0"),
])
def test_refusals_write_nothing(cli, search_json, tmp_path, args, message):
    out = tmp_path / "out"
    r = cli("export", search_json, out, *args)
    assert r.code != 0 and message in r.err and len(r.err.strip().splitlines()) == 1
    assert not out.exists()


def test_non_empty_folder_needs_force(cli, search_json, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    r = cli("export", search_json, out)
    assert r.code != 0 and "is not empty" in r.err and "--force" in r.err
    assert files_under(out) == ["notes.txt"]
    assert cli("export", search_json, out, "--force", "--format", "clips").code == 0
    assert "clips/alpha-1-00h00m00s400.mp4" in files_under(out)
    # a second forced export replaces the first one's files, not the user's
    assert cli("export", search_json, out, "--force", "--format", "csv", "--template", "x{index}").code == 0
    assert files_under(out) == ["export.json", "notes.txt", "segments.csv"]
    (tmp_path / "file").write_text("")
    r = cli("export", search_json, tmp_path / "file")
    assert r.code != 0 and "is a file" in r.err


def test_unwritable_folder(cli, search_json, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        r = cli("export", search_json, locked / "out")
        assert r.code != 0 and "cannot create the export folder" in r.err
    finally:
        locked.chmod(0o700)


def test_hostile_names_stay_inside(cli, videos, tmp_path):
    p = tmp_path / "s.json"
    p.write_text(json.dumps([seg("../../x", videos["a"], 0.4, 0.8, group="../../../etc")]))
    out = tmp_path / "sandbox" / "out"
    r = cli("export", p, out, "--template", "{group}-{video_id}-{video}", "--format", "clips")
    assert r.code == 0, r
    assert files_under(tmp_path / "sandbox") == ["out/clips/etc-x-alpha.mp4", "out/export.json"]


def test_duplicates_json(cli, videos, tmp_path):
    pairs = {"pairs": [{"a": seg("va", videos["a"], 0.0, 0.4), "b": seg("vb", videos["b"], 0.4, 0.8),
                        "score": 0.97, "kind": "near", "matched_frames": 10}]}
    segs = segments_from_duplicates(pairs)
    assert [(s.video_id, s.group, s.score, s.frames) for s in segs] == [("va", "1", 0.97, 10), ("vb", "1", 0.97, 10)]
    p = tmp_path / "dups.json"
    p.write_text(json.dumps(pairs))
    r = cli("export", p, tmp_path / "out", "--format", "csv,edl", "--json")
    assert r.code == 0, r
    assert json.loads(r.out)["source"] == "duplicates"
    assert pd.read_csv(tmp_path / "out" / "segments.csv")["score"].tolist() == [0.97, 0.97]
    p.write_text(json.dumps({"pairs": []}))  # a run that found none: say so, and what finds more
    r = cli("export", p, tmp_path / "o2")
    assert r.code != 0 and "that duplicates run found no pairs (raise --threshold" in r.err
    p.write_text(json.dumps({"pairs": "x"}))
    r = cli("export", p, tmp_path / "o3")
    assert r.code != 0 and 'has no "pairs" list' in r.err


def test_search_hits(videos):
    hits = [{"video_id": "va", "path": str(videos["a"]), "frame": f, "time": f / 25, "distance": d}
            for f, d in ((10, 0.0), (11, 0.1), (30, 0.2))]
    segs = segments_from_search(hits)
    assert [(s.group, s.start, s.end) for s in segs] == [("1", 0.4, 0.4), ("2", 0.44, 0.44), ("3", 1.2, 1.2)]
    merged = segments_from_search(hits, gap=0.5, span={"va": 0.04})
    assert [(s.first_frame, s.last_frame) for s in merged] == [(10, 11), (30, 30)]


def test_clusters(cli, videos, tmp_path):
    ws = Workspace.at(tmp_path / "ws")
    frames = [0, 5, 10, 15, 20, 25]
    rows = pd.DataFrame({
        "video_id": ["va"] * 6 + ["vb"] * 6,
        "path": [str(videos["a"])] * 6 + [str(videos["b"])] * 6,
        "frame": frames * 2, "time": [f / 25 for f in frames] * 2, "shot": 0, "label": None,
        "cluster": [0, 0, 1, 1, 0, 0] + [1] * 6, "distance": [0.1 * i for i in range(12)],
    })
    path = assignments_path(ws, "pixels")
    path.parent.mkdir(parents=True)
    rows.to_parquet(path, index=False)
    r = cli("export", "clusters", tmp_path / "out", "-e", "pixels", "-w", ws.root, "--cluster", "0",
            "--format", "csv,clips", "--gap", "0.3", "--json")
    assert r.code == 0, r
    res = json.loads(r.out)
    csv = pd.read_csv(tmp_path / "out" / "segments.csv")
    assert csv["group"].tolist() == [0, 0] and csv["start_frame"].tolist() == [0, 20]
    assert csv["end_frame"].tolist() == [10, 30]  # each member stands for the 0.2 s to the next row
    assert [c["mode"] for c in res["clips"]] == ["copy", "copy"]
    r = cli("export", "clusters", tmp_path / "o2", "-e", "pixels", "-w", ws.root, "--cluster", "9")
    assert r.code != 0 and "no cluster 9" in r.err
    r = cli("export", "clusters", tmp_path / "o3", "-w", ws.root)
    assert r.code != 0 and "needs -e EMBEDDER" in r.err


def test_discover_export_clips_are_member_segments_with_audio(videos, tmp_path):
    """`vidsift discover --export --clips`: one clip per member segment, no cap of 5, with audio."""
    import numpy as np

    from vidsift.discovery.export import export_clusters
    from vidsift.services.discover import _clip_fn

    frames = np.arange(0, 40, 5)
    meta = pd.DataFrame({"video_id": "va", "path": str(videos["a"]), "frame": frames, "time": frames / 25,
                         "shot": 0, "label": None})
    labels = np.array([0, 0, 1, 1, 0, 0, 0, 0])  # cluster 0: [0, 0.4) and [0.8, 1.6)
    s = export_clusters(tmp_path / "out", meta, labels, np.linspace(0, 1, 8), clips=True,
                        clip_fn=_clip_fn(Workspace.at(tmp_path / "ws")), clip_gap=0.1)
    assert s.n_clips == 3 and s.skipped == []
    names = sorted(p.name for p in (tmp_path / "out" / "cluster_000").glob("clip_*"))
    assert names == ["clip_0000_alpha_00h00m00s000.mp4", "clip_0001_alpha_00h00m00s800.mp4"]
    with av.open(str(tmp_path / "out" / "cluster_000" / names[1])) as c:
        assert c.streams.audio and c.streams.video[0].frames == 20


def test_clips_folder_linking_outside_is_refused(cli, search_json, tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "clips").symlink_to(elsewhere, target_is_directory=True)
    r = cli("export", search_json, out, "--force", "--format", "clips")
    assert r.code != 0 and "outside the export folder" in r.err
    assert list(elsewhere.iterdir()) == []
