"""Export writes only under OUT, whatever the video paths say."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vidsift.discovery.export import export_clusters, safe_stem
from vidsift.errors import BadInputError, VideoError
from vidsift.video.segment import Segment

HOSTILE = [
    "../../etc/passwd",
    "/abs/x.mp4",
    "..",
    "we!rd name?*.mp4",
    "C:\\win\\..\\v.avi",
    "a/../../b.mp4",
]


def make_meta(paths: list[str]) -> pd.DataFrame:
    n = len(paths)
    return pd.DataFrame(
        {
            "video_id": [f"id{i}" for i in range(n)],
            "path": paths,
            "frame": np.arange(n) * 3,
            "time": np.arange(n) * 0.1,
            "shot": np.zeros(n, int),
            "label": [None] * n,
        }
    )


def thumb(row: pd.Series) -> np.ndarray:
    return np.full((12, 16, 3), int(row["frame"]) % 255, np.uint8)


def all_files(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, fs in os.walk(root) for f in fs]


def test_safe_stem():
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("/abs/x.mp4") == "x"
    assert safe_stem("..") == "video"
    assert safe_stem("we!rd name?*.mp4") == "we_rd_name"
    assert safe_stem("C:\\win\\..\\v.avi") == "v"
    assert safe_stem(".hidden") == "hidden"
    assert len(safe_stem("a" * 500 + ".mp4")) == 60


def test_export_writes_only_under_out_with_hostile_paths(tmp_path):
    out = tmp_path / "sandbox" / "out"
    meta = make_meta(HOSTILE)
    labels = np.array([0, 0, 1, 1, 2, 2])
    summary = export_clusters(out, meta, labels, np.linspace(0, 1, 6), thumbnail_fn=thumb)
    files = all_files(tmp_path)
    assert files and all(f.resolve().is_relative_to(out.resolve()) for f in files)
    assert not any(
        name.startswith(".") for f in files for name in f.relative_to(out).parts
    )  # no temp left
    assert summary.n_clusters == 3 and summary.n_thumbnails == 6 and summary.skipped == []
    names = sorted(p.name for p in (out / "cluster_000").iterdir())
    assert names == ["0000_passwd_f0000000.jpg", "0001_x_f0000003.jpg", "contact_sheet.png"]
    assert (out / "cluster_002" / "0001_b_f0000015.jpg").exists()
    table = pd.read_csv(out / "clusters.csv")
    assert list(table.columns) == [
        "cluster",
        "video_id",
        "path",
        "frame",
        "time",
        "timecode",
        "shot",
        "label",
        "distance",
    ]
    assert table["path"].tolist() == HOSTILE  # the table keeps the real paths
    doc = json.loads((out / "clusters.json").read_text())
    assert [c["size"] for c in doc["clusters"]] == [2, 2, 2]
    assert doc["clusters"][1]["members"][0]["path"] == ".."


def test_export_refuses_non_empty_out_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    meta = make_meta(["/v/a.mp4", "/v/b.mp4"])
    with pytest.raises(
        BadInputError, match="is not empty; choose an empty folder or pass force=True"
    ):
        export_clusters(out, meta, np.array([0, 1]), np.zeros(2))
    export_clusters(out, meta, np.array([0, 1]), np.zeros(2), thumbnail_fn=thumb, force=True)
    assert (out / "mine.txt").read_text() == "keep"
    # a second forced export with fewer clusters removes our stale folder, nothing else
    export_clusters(out, meta, np.array([0, 0]), np.zeros(2), thumbnail_fn=thumb, force=True)
    assert not (out / "cluster_001").exists() and (out / "mine.txt").exists()
    with pytest.raises(BadInputError, match="is a file"):
        export_clusters(out / "mine.txt", meta, np.array([0, 1]), np.zeros(2))


def test_export_refuses_a_cluster_folder_linking_outside(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "cluster_000").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BadInputError, match="outside the export folder"):
        export_clusters(
            out, make_meta(["/v/a.mp4"]), np.array([0]), np.zeros(1), thumbnail_fn=thumb, force=True
        )
    assert list(elsewhere.iterdir()) == []


def test_export_records_broken_thumbnails_and_writes_clips(tmp_path):
    def flaky(row: pd.Series) -> np.ndarray:
        if row["video_id"] == "id1":
            raise VideoError(row["path"], "cannot decode frame")
        return thumb(row)

    def clip(segment: Segment, target: Path) -> None:
        assert target.suffix == ".mp4" and target.parent.name.startswith("cluster_")
        target.write_bytes(b"\x00\x00\x00\x18ftypmp42")

    out = tmp_path / "out"
    s = export_clusters(
        out,
        make_meta(["/v/a.mp4", "/v/b.mp4"]),
        np.array([0, 0]),
        np.array([0.1, 0.2]),
        thumbnail_fn=flaky,
        clips=True,
        clip_fn=clip,
    )
    assert s.n_thumbnails == 1 and s.n_clips == 2
    assert s.skipped == ["/v/b.mp4 frame 3: /v/b.mp4: cannot decode frame"]
    # one clip per member segment (each video's frames merged), nearest the centre first
    assert sorted(p.name for p in (out / "cluster_000").glob("clip_*")) == [
        "clip_0000_a_00h00m00s000.mp4",
        "clip_0001_b_00h00m00s100.mp4",
    ]
    with pytest.raises(BadInputError, match="clip_fn"):
        export_clusters(
            tmp_path / "o2", make_meta(["/v/a.mp4"]), np.array([0]), np.zeros(1), clips=True
        )


def test_export_checks_alignment(tmp_path):
    with pytest.raises(BadInputError, match="must align"):
        export_clusters(
            tmp_path / "o", make_meta(["/v/a.mp4", "/v/b.mp4"]), np.array([0]), np.zeros(2)
        )
