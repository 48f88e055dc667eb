"""`vidsift update`: one command keeps the catalog, the stores and the indexes in line with a folder,
and an interrupted run is finished by the next one (``vidsift.services.update``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from vidsift_testdata import moving_gradient

from vidsift.catalog import content_id
from vidsift.embedder.store import finished_videos
from vidsift.errors import BadInputError
from vidsift.index.persist import indexed_videos
from vidsift.services import indexes
from vidsift.services import update as update_mod
from vidsift.services.update import update_folder
from vidsift.services.watch import folder_state, watch
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


def _video(path: Path, seed: int, frames: int = 6) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, moving_gradient(frames, 32, 32, seed=seed), fps=10)
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    indexes.clear_cache()
    return Workspace.at(tmp_path / "ws")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """a.mp4, b.mp4 and sub/c.mp4 (6 frames of 32x32 each)."""
    root = tmp_path / "videos"
    for i, name in enumerate(("a.mp4", "b.mp4", "sub/c.mp4")):
        _video(root / name, seed=i)
    return root


def _change(folder: Path) -> dict[str, Path]:
    """Delete a, rewrite b with other content (new size and mtime), add d."""
    (folder / "a.mp4").unlink()
    _video(folder / "b.mp4", seed=10, frames=9)
    return {"changed": folder / "b.mp4", "added": _video(folder / "d.mp4", seed=3)}


def _current_ids(*folders: Path) -> set[str]:
    return {content_id(p) for f in folders for p in sorted(f.rglob("*.mp4"))}


def _assert_consistent(ws: Workspace, *folders: Path) -> None:
    """Store, index and search hold exactly the videos now on disk under ``folders``."""
    want = _current_ids(*folders)
    assert finished_videos(ws.embeddings("pixels")) == want
    indexed = indexed_videos(ws.indexes("pixels"))
    assert set(indexed) == want
    assert all(Path(p).exists() for p in indexed.values())
    indexes.clear_cache()
    query = next(p for f in folders for p in sorted(f.rglob("*.mp4")))
    hits = indexes.search_workspace(ws, "pixels", video=str(query.resolve()), frame=0, k=1000)
    assert {h["video_id"] for h in hits} == want
    assert all(Path(h["path"]).exists() for h in hits)


def test_update_scans_the_folder_once_and_reports_a_rename_as_a_move(ws: Workspace, folder: Path, monkeypatch) -> None:
    from vidsift.video import scan

    update_folder(ws, folder, ["pixels"])
    (folder / "b.mp4").rename(folder / "renamed.mp4")
    calls: list[str] = []
    real = scan.scan_folder
    monkeypatch.setattr(scan, "scan_folder", lambda cat, f, **kw: calls.append(str(f)) or real(cat, f, **kw))
    r = update_folder(ws, folder, ["pixels"])
    assert len(calls) == 1  # embedding uses the rows the update's scan just wrote
    assert [Path(p).name for p in r["scan"]["moved"]] == ["renamed.mp4"] and r["scan"]["removed"] == []
    e = r["embedders"]["pixels"]
    assert e["moved"] == [str((folder / "renamed.mp4").resolve())] and e["added"] == e["removed"] == []
    assert e["index"]["action"] == "updated" and not r["nothing_to_do"]
    _assert_consistent(ws, folder)  # the index and the shard name the file where it is now
    assert update_folder(ws, folder, ["pixels"])["nothing_to_do"]


def test_a_move_into_another_label_folder_moves_the_label_too(ws: Workspace, folder: Path) -> None:
    from vidsift.embedder.store import load_store

    update_folder(ws, folder, ["pixels"])
    vid = content_id(folder / "a.mp4")
    (folder / "cats").mkdir()
    (folder / "a.mp4").rename(folder / "cats" / "a.mp4")
    r = update_folder(ws, folder, ["pixels"])
    assert [Path(p).name for p in r["embedders"]["pixels"]["moved"]] == ["a.mp4"]
    meta = load_store(ws.embeddings("pixels"), [vid], with_vectors=False).meta
    assert set(meta["label"]) == {"cats"} and set(meta["path"]) == {str((folder / "cats" / "a.mp4").resolve())}
    indexes.clear_cache()
    hits = indexes.search_workspace(ws, "pixels", video=vid, frame=0, k=3, labels=["cats"])
    assert {h["video_id"] for h in hits} == {vid} and {h["label"] for h in hits} == {"cats"}


def test_a_move_cut_short_before_the_index_is_finished_by_the_next_update(ws: Workspace, folder: Path, monkeypatch) -> None:
    update_folder(ws, folder, ["pixels"])
    (folder / "b.mp4").rename(folder / "b2.mp4")

    def killed(*_a, **_k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(update_mod, "_update_index_rows", killed)
        with pytest.raises(KeyboardInterrupt):
            update_folder(ws, folder, ["pixels"])
    assert {Path(p).name for p in indexed_videos(ws.indexes("pixels")).values()} == {"a.mp4", "b.mp4", "c.mp4"}
    r = update_folder(ws, folder, ["pixels"])  # the scan sees nothing new; the index still names b.mp4
    assert r["scan"]["moved"] == [] and [Path(p).name for p in r["embedders"]["pixels"]["moved"]] == ["b2.mp4"]
    _assert_consistent(ws, folder)


def test_an_index_left_behind_by_a_plain_scan_catches_up(ws: Workspace, folder: Path) -> None:
    """A move seen by `vidsift scan` (not update) is followed by the next update."""
    from vidsift.catalog import Catalog
    from vidsift.video.scan import scan_folder

    update_folder(ws, folder, ["pixels"])
    (folder / "b.mp4").rename(folder / "b2.mp4")
    with Catalog(ws.catalog_path) as cat:
        assert len(scan_folder(cat, folder).moved) == 1
    r = update_folder(ws, folder, ["pixels"])
    assert [Path(p).name for p in r["embedders"]["pixels"]["moved"]] == ["b2.mp4"]
    _assert_consistent(ws, folder)


def test_first_update_embeds_and_builds_the_index(ws: Workspace, folder: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    r = update_folder(ws, folder, ["pixels"], on_progress=lambda *a: seen.append(a))
    assert {stage for stage, _, _ in seen} == {"scan", "embed pixels", "index pixels"}
    assert seen[-1] == ("index pixels", 1, 1) and ("embed pixels", 18, 18) in seen
    e = r["embedders"]["pixels"]
    assert sorted(Path(p).name for p in e["added"]) == ["a.mp4", "b.mp4", "c.mp4"]
    assert e["changed"] == e["removed"] == [] and e["unchanged"] == 0 and e["frames"] == 18
    assert e["index"]["action"] == "built" and e["index"]["videos"] == 3 and e["index"]["vectors"] == 18
    assert not r["nothing_to_do"]
    _assert_consistent(ws, folder)


def test_added_deleted_and_changed_files_leave_exactly_the_current_set(
    ws: Workspace, folder: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"  # a second folder of the same workspace: never touched by the first
    _video(other / "x.mp4", seed=7)
    update_folder(ws, other, ["pixels"])
    update_folder(ws, folder)  # default: every embedder that has a store
    old_a, old_b = content_id(folder / "a.mp4"), content_id(folder / "b.mp4")
    assert (ws.thumbnails / old_a).is_dir()

    new = _change(folder)
    r = update_folder(ws, folder)
    e = r["embedders"]["pixels"]
    assert e["added"] == [str(new["added"].resolve())]
    assert e["changed"] == [str(new["changed"].resolve())]
    assert e["removed"] == [str((folder / "a.mp4").resolve())]
    assert e["unchanged"] == 1  # sub/c.mp4
    assert e["index"] == {**e["index"], "action": "updated", "added_videos": 2, "removed_videos": 2, "videos": 4}
    assert r["removed_thumbnails"] == 2 and not (ws.thumbnails / old_a).exists() and not (ws.thumbnails / old_b).exists()
    _assert_consistent(ws, folder, other)

    again = update_folder(ws, folder)
    assert again["nothing_to_do"]
    e = again["embedders"]["pixels"]
    assert (e["added"], e["changed"], e["removed"], e["unchanged"]) == ([], [], [], 3)
    assert e["index"]["action"] == "unchanged"


def test_a_folder_emptied_of_videos_empties_its_part_of_the_workspace(ws: Workspace, folder: Path) -> None:
    update_folder(ws, folder, ["pixels"])
    for p in list(folder.rglob("*.mp4")):
        p.unlink()
    r = update_folder(ws, folder)
    assert len(r["embedders"]["pixels"]["removed"]) == 3
    assert finished_videos(ws.embeddings("pixels")) == set() and indexed_videos(ws.indexes("pixels")) == {}
    with pytest.raises(BadInputError, match="no video files found"):  # nothing left to say it ever had any
        update_folder(ws, folder)


def _crash_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
    """Make ``owner.name`` raise KeyboardInterrupt (a Ctrl-C) the first time it is called."""
    real = getattr(owner, name)
    calls = {"n": 0}

    def crash(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, crash)


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        (update_mod, "_stale_videos"),  # after the scan: the catalog has moved on, nothing else
        (update_mod, "remove_shard"),  # stale videos out of the index, their shards still in the store
        (indexes, "add_to_workspace_index"),  # everything embedded, the index not told yet
    ],
    ids=["after-scan", "mid-removal", "before-index"],
)
def test_an_interrupted_update_is_finished_by_the_next(
    ws: Workspace, folder: Path, monkeypatch: pytest.MonkeyPatch, owner: object, name: str
) -> None:
    update_folder(ws, folder, ["pixels"])
    new = _change(folder)
    with monkeypatch.context() as m:
        _crash_once(m, owner, name)
        with pytest.raises(KeyboardInterrupt):
            update_folder(ws, folder)
    r = update_folder(ws, folder)
    e = r["embedders"]["pixels"]
    assert r["scan"]["added"] == r["scan"]["removed"] == []  # the catalog knew after the first try
    if name == "add_to_workspace_index":  # only the index was behind
        assert e["added"] == e["changed"] == e["removed"] == []
        assert e["index"]["action"] == "updated" and e["index"]["added_videos"] == 2
    else:  # the stale shards were still there: the rerun reports (and applies) the whole change
        assert e["added"] == [str(new["added"].resolve())] and e["changed"] == [str(new["changed"].resolve())]
        assert e["removed"] == [str((folder / "a.mp4").resolve())]
    _assert_consistent(ws, folder)
    assert update_folder(ws, folder)["nothing_to_do"]


def test_bad_inputs_are_refused_before_any_work(ws: Workspace, folder: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such folder"):
        update_folder(ws, tmp_path / "missing", ["pixels"])
    with pytest.raises(BadInputError, match="is a file; give the folder"):
        update_folder(ws, folder / "a.mp4", ["pixels"])
    with pytest.raises(BadInputError, match="no embedding store in this workspace yet; name an embedder with --embedder"):
        update_folder(ws, folder)
    with pytest.raises(BadInputError, match="unknown embedder 'nope'"):
        update_folder(ws, folder, ["nope"])
    assert not ws.catalog_path.exists()  # refused before the scan
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="no video files found"):
        update_folder(ws, empty, ["pixels"])
    with pytest.raises(BadInputError, match="--interval must be a positive"):
        watch(ws, folder, ["pixels"], interval=0)


def test_watch_updates_once_a_change_has_settled(ws: Workspace, folder: Path) -> None:
    results: list[dict] = []
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the "time" that passes between polls
        waits.append(seconds)
        if len(waits) == 1:
            _video(folder / "d.mp4", seed=3)

    runs = watch(ws, folder, ["pixels"], interval=0.5, iterations=3, on_update=results.append, sleep=sleep)
    # poll 1 sees d.mp4 appear, poll 2 sees it unchanged (settled): update; poll 3: nothing new
    assert runs == 2 and waits == [0.5, 0.5, 0.5]
    assert [Path(p).name for p in results[1]["embedders"]["pixels"]["added"]] == ["d.mp4"]
    _assert_consistent(ws, folder)

    assert watch(ws, folder, interval=5, stop=lambda: True, sleep=sleep) == 1  # one update, no poll
    assert folder_state(folder / "missing") is None


def test_cli_update_json_watch_and_errors(cli, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "ws"
    r = cli("update", folder, "-e", "pixels", "-w", ws, "--json")
    assert r.code == 0, r
    out = json.loads(r.out)
    assert len(out["embedders"]["pixels"]["added"]) == 3 and out["embedders"]["pixels"]["index"]["action"] == "built"

    (folder / "a.mp4").unlink()
    r = cli("update", folder, "-w", ws)
    assert r.code == 0, r
    assert "pixels: 0 added, 0 changed, 1 removed, 0 moved, 2 unchanged, 0 failed; index +0 -1 videos" in r.out
    assert cli("update", folder, "-w", ws).out.splitlines()[-1].startswith("nothing to do in ")

    for args, message in [
        ((tmp_path / "missing", "-e", "pixels"), "no such folder"),
        ((folder, "-e", "nope"), "unknown embedder 'nope'"),
        ((folder, "--watch", "--interval", "0"), "--interval must be a positive"),
    ]:
        r = cli("update", *args, "-w", ws)
        assert r.code == 2 and r.err.startswith("error: ") and message in r.err and r.err.count("\n") == 1, r
    r = cli("update", folder, "-w", tmp_path / "fresh")
    assert r.code == 2 and "name an embedder with --embedder" in r.err

    polls = {"n": 0}

    def sleep(_seconds: float) -> None:
        polls["n"] += 1
        if polls["n"] == 1:
            _video(folder / "e.mp4", seed=4)
        elif polls["n"] == 3:
            raise KeyboardInterrupt  # Ctrl-C while waiting

    monkeypatch.setattr(time, "sleep", sleep)
    r = cli("update", folder, "-w", ws, "--watch", "--interval", "1", "--json")
    assert r.code == 130, r
    lines = [json.loads(line) for line in r.out.splitlines()]
    assert len(lines) == 2 and [Path(p).name for p in lines[1]["embedders"]["pixels"]["added"]] == ["e.mp4"]
    assert r.err.splitlines()[-1].startswith("stopped watching after 2 update(s)")
