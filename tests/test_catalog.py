from __future__ import annotations

import shutil

import pytest
from vidsift_testdata import moving_gradient

from vidsift.catalog import Catalog, content_id
from vidsift.errors import BadInputError
from vidsift.video.scan import inspect_video, scan_folder
from vidsift.video.synthetic.write import make_broken_files, make_scene_videos
from vidsift.video.writer import write_video


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "videos"
    make_scene_videos(root, scenes=("astronaut", "coffee"), videos_per_scene=1, shots_per_video=2, frames_per_shot=10, size=(32, 32))
    make_broken_files(root / "broken")
    return root


def test_scan_records_ok_and_broken(folder, tmp_path):
    cat = Catalog(tmp_path / "ws" / "catalog.sqlite")
    report = scan_folder(cat, folder)
    ok = [v for v in cat.videos() if v.label != "broken"]
    assert sorted(v.label for v in ok) == ["astronaut", "coffee"]
    assert all(v.shots == [0, 10] and v.num_frames == 20 for v in ok)
    # rotated, grayscale and 10-bit files are odd but valid
    assert {v.path.rsplit("/", 1)[-1] for v in cat.videos() if v.label == "broken"} <= {"rotated.mp4", "gray.mp4", "tenbit.mp4"}
    errors = {v.path.rsplit("/", 1)[-1]: v.error for v in cat.videos(status="error")}
    assert errors["audio_only.mp4"] == "has no video stream (only audio)"
    for name in ("zero_bytes.mp4", "text.mp4", "truncated.mp4", "no_frames.mp4", "tiny_1x1.mp4"):
        assert name in errors and errors[name] and "\n" not in errors[name]
    assert {p.rsplit("/", 1)[-1] for p, _ in report.failed} >= set(errors) - {"rotated.mp4", "gray.mp4", "tenbit.mp4"}


def test_rescan_is_idempotent_and_tracks_changes(folder, tmp_path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    scan_folder(cat, folder)
    before = {v.path: v.id for v in cat.videos(status=None)}
    again = scan_folder(cat, folder)
    assert not again.added and not again.updated and not again.removed
    assert {v.path: v.id for v in cat.videos(status=None)} == before
    # new, changed, removed
    write_video(folder / "new" / "n.mp4", moving_gradient(12), fps=10)
    coffee = next(v for v in cat.videos() if v.label == "coffee")
    write_video(coffee.path, moving_gradient(14, seed=3), fps=10)
    astro = next(v for v in cat.videos() if v.label == "astronaut")
    (folder / "astronaut").joinpath(astro.path.rsplit("/", 1)[-1]).unlink()
    r = scan_folder(cat, folder)
    assert [p.rsplit("/", 1)[-1] for p in r.added] == ["n.mp4"]
    assert r.updated == [coffee.path] and r.removed == [astro.path]
    assert cat.get(coffee.path).num_frames == 14 and cat.get(coffee.path).id != coffee.id


def test_ids_survive_a_move(folder, tmp_path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    scan_folder(cat, folder)
    ids = sorted(v.id for v in cat.videos())
    moved = tmp_path / "elsewhere"
    shutil.move(folder, moved)
    r = scan_folder(cat, moved)
    assert len(r.moved) == len(ids)
    assert sorted(v.id for v in cat.videos()) == ids
    assert all(v.path.startswith(str(moved)) for v in cat.videos())


def test_a_rename_inside_the_folder_is_a_move_not_also_a_removal(folder, tmp_path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    scan_folder(cat, folder)
    coffee = next(v for v in cat.videos() if v.label == "coffee")
    renamed = folder / "coffee" / "renamed.mp4"
    shutil.move(coffee.path, renamed)
    r = scan_folder(cat, folder)
    assert r.moved == [str(renamed)] and r.removed == [] and r.added == []
    assert cat.get(coffee.id).path == str(renamed)


def test_a_workspace_inside_the_folder_is_not_scanned(folder, tmp_path):
    """The default workspace is ./vidsift-workspace: run inside the folder of videos, it lies in
    it, and its exported clips must not come back as new videos."""
    from vidsift.workspace import Workspace

    ws = Workspace.at(folder / "vidsift-workspace")
    cat = Catalog(ws.catalog_path)
    first = scan_folder(cat, folder)
    clip = ws.exports / "c1" / "cluster_000" / "clip.mp4"
    clip.parent.mkdir(parents=True)
    shutil.copy(next(v.path for v in cat.videos() if v.label == "coffee"), clip)
    again = scan_folder(cat, folder)
    assert again.added == [] and len(again.unchanged) == len(first.added) + len(first.failed)
    assert all("vidsift-workspace" not in v.path for v in cat.videos(status=None))
    # scanning inside a workspace on purpose (make demo scans its samples) still works
    assert [p.rsplit("/", 1)[-1] for p in scan_folder(cat, ws.exports).added] == ["clip.mp4"]


def test_a_file_name_that_is_not_text_is_reported_and_the_rest_scanned(folder, tmp_path):
    import os

    coffee = next(folder.rglob("coffee*.mp4"))
    bad = os.fsencode(folder) + b"/bad\xff\xfename.mp4"  # Linux allows any bytes in a name
    with open(bad, "wb") as f:
        f.write(coffee.read_bytes())
    cat = Catalog(tmp_path / "catalog.sqlite")
    r = scan_folder(cat, folder)
    assert (str(folder) + "/bad\ufffd\ufffdname.mp4", "the file name is not valid UTF-8 text; rename the file") in r.failed
    assert sorted(v.label for v in cat.videos() if v.label != "broken") == ["astronaut", "coffee"]
    assert not scan_folder(cat, folder).added  # skipped again, nothing half-recorded


def test_a_link_to_nothing_is_named_as_one(folder, tmp_path):
    (folder / "gone.mp4").symlink_to(tmp_path / "moved-away.mp4")
    cat = Catalog(tmp_path / "ws" / "catalog.sqlite")
    report = scan_folder(cat, folder)
    why = dict(report.failed)[str(folder / "gone.mp4")]
    assert why == f"a broken link: its target {tmp_path / 'moved-away.mp4'} does not exist"


def test_content_id_changes_with_content(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"x" * 3_000_000)
    b.write_bytes(b"x" * 2_999_999 + b"y")
    assert content_id(a) != content_id(b)
    c = tmp_path / "c.bin"
    c.write_bytes(a.read_bytes())
    assert content_id(a) == content_id(c)


def test_errors(tmp_path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    with pytest.raises(BadInputError, match="no such folder"):
        scan_folder(cat, tmp_path / "missing")
    with pytest.raises(BadInputError, match="not in the catalog"):
        cat.get("deadbeef")
    bad = tmp_path / "bad.sqlite"
    bad.write_text("this is not sqlite" * 100)
    with pytest.raises(BadInputError, match="not a vidsift catalog"):
        Catalog(bad)


def test_rows_kept_when_scan_dies(folder, tmp_path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    calls = {"n": 0}

    def dying(path):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return inspect_video(path)

    with pytest.raises(KeyboardInterrupt):
        cat.scan(folder, dying)
    assert len(Catalog(tmp_path / "catalog.sqlite").videos(status=None)) == 1


def test_a_schema_2_catalog_re_probes_quarter_turned_videos(tmp_path):
    """Schema 2 recorded a portrait phone clip's stored (sideways) width and height; opening the
    catalog marks those rows for the next scan, which records the shown ones."""
    import sqlite3

    import numpy as np

    root = tmp_path / "v"
    write_video(root / "phone.mp4", np.zeros((6, 48, 64, 3), np.uint8), rotation=90)
    write_video(root / "plain.mp4", np.zeros((6, 48, 64, 3), np.uint8))
    path = tmp_path / "catalog.sqlite"
    with Catalog(path) as cat:
        scan_folder(cat, root)
        assert {v.path.rsplit("/", 1)[-1]: (v.width, v.height) for v in cat.videos()} == {
            "phone.mp4": (48, 64), "plain.mp4": (64, 48)}
    with sqlite3.connect(path) as db:  # as schema 2 left it
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
        db.execute("UPDATE videos SET width = 64, height = 48")
    with Catalog(path) as cat:
        report = scan_folder(cat, root)
        assert [p.rsplit("/", 1)[-1] for p in report.updated] == ["phone.mp4"]
        assert {v.path.rsplit("/", 1)[-1]: (v.width, v.height) for v in cat.videos()} == {
            "phone.mp4": (48, 64), "plain.mp4": (64, 48)}
