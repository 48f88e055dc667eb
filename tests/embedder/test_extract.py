"""Extraction end to end: rows, resume, failures, manifest checks, write errors, thumbnails."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vidsift.embedder.writer  # noqa: F401
from vidsift import embedder
from vidsift.catalog import Catalog
from vidsift.embedder.extract import extract
from vidsift.embedder.store import (
    finished_videos,
    iter_store,
    load_embeddings,
    load_store,
    write_manifest,
)
from vidsift.embedder.thumbnails import thumbnail, thumbnail_path
from vidsift.errors import BadInputError, WorkspaceError
from vidsift.video import open_video
from vidsift.video.scan import scan_folder
from vidsift.workspace import Workspace


def test_extract_writes_one_shard_per_video_and_reports_the_broken_one(scenes: Path, ws: Workspace) -> None:
    report = extract(ws, scenes, "pixels", every=3, progress=False)
    assert len(report.done) == 3 and report.skipped == [] and report.dim == 768
    assert [Path(p).name for p, _ in report.failed] == ["broken.mp4"]
    cat = Catalog(ws.catalog_path)
    broken = [v for v in cat.videos(status=None) if v.status == "error"]
    assert len(broken) == 1 and broken[0].error
    ok = {v.id: v for v in cat.videos()}
    assert finished_videos(ws.embeddings("pixels")) == set(ok)
    assert cat.embed_status("pixels") == {vid: ("ok", None) for vid in ok}

    data = load_embeddings(ws, "pixels")
    assert report.frames == len(data) == sum(len(range(0, v.num_frames, 3)) for v in ok.values())
    for vid, rec in ok.items():
        rows = data.meta[data.meta.video_id == vid]
        with open_video(rec.path) as r:
            want = r.sample_indices(every=3)
            frames = r.get_frames(want, size=(16, 16))
        np.testing.assert_array_equal(rows.frame.to_numpy(), want)
        np.testing.assert_allclose(rows.time.to_numpy(), want / rec.fps)
        starts = np.asarray(rec.shots)
        np.testing.assert_array_equal(rows.shot.to_numpy(), [np.searchsorted(starts, f, "right") - 1 for f in want])
        assert set(rows.label) == {rec.label} and set(rows.path) == {rec.path}
        vecs = data.vectors[rows.index.to_numpy()]
        np.testing.assert_array_equal(vecs, frames.reshape(len(frames), -1).astype(np.float32) / 255)
        # one thumbnail per embedded frame, 32 px tall (never upscaled)
        for f in want:
            assert thumbnail_path(ws.thumbnails, vid, int(f)).is_file()
    assert {r.label for r in ok.values()} == {"astronaut", "coffee", "chelsea"}
    assert max(len(r.shots) for r in ok.values()) == 2  # two generated shots are detected

    manifest = json.loads((ws.embeddings("pixels") / "manifest.json").read_text())
    assert manifest["name"] == "pixels" and manifest["dim"] == 768 and manifest["sampling"] == {"every": 3, "fps": None}

    again = extract(ws, scenes, "pixels", every=3, progress=False)
    assert again.done == [] and len(again.skipped) == 3 and again.frames == 0


def test_local_engine_matches_in_process_decoding_and_batches_across_videos(scenes: Path, tmp_path: Path) -> None:
    a = Workspace.at(tmp_path / "a")
    b = Workspace.at(tmp_path / "b")
    extract(a, scenes, "random:siamese", every=2, workers=0, batch_size=64, progress=False)
    seen: list[tuple[int, int, int, int]] = []
    extract(b, scenes, "random:siamese", every=2, workers=2, batch_size=5, progress=False,
            on_progress=lambda *args: seen.append(args))
    da, db = load_embeddings(a, "random:siamese"), load_embeddings(b, "random:siamese")
    pd.testing.assert_frame_equal(da.meta, db.meta)
    np.testing.assert_allclose(da.vectors, db.vectors, rtol=1e-4, atol=1e-5)
    assert seen[-1][0] == seen[-1][1] == len(db) and seen[-1][2:] == (3, 3)


def test_fps_sampling_and_a_changed_sampling_is_refused(scenes: Path, ws: Workspace) -> None:
    report = extract(ws, scenes, "pixels", fps=5, progress=False, thumbnails=False)
    data = load_embeddings(ws, "pixels")
    assert report.frames == len(data) and set(np.diff(data.meta.frame[data.meta.video_id == data.meta.video_id[0]])) == {5}
    assert not ws.thumbnails.exists()
    with pytest.raises(WorkspaceError, match="sampled with --fps 5, this run asks for --every 2"):
        extract(ws, scenes, "pixels", every=2, progress=False)
    with pytest.raises(BadInputError, match="give one of --every N, --fps F or --keyframes"):
        extract(ws, scenes, "pixels", every=2, fps=3, progress=False)


def test_failed_video_is_recorded_skipped_then_retried(scenes: Path, ws: Workspace) -> None:
    cat = Catalog(ws.catalog_path)
    scan_folder(cat, scenes)
    victim = next(v for v in cat.videos() if v.label == "coffee")
    good = Path(victim.path).read_bytes()
    Path(victim.path).write_bytes(good[: len(good) // 3])  # damaged after it was catalogued

    first = extract(ws, None, "pixels", progress=False)
    assert len(first.done) == 2
    reasons = dict(first.failed)
    assert victim.path in reasons and reasons[victim.path]
    status, error = cat.embed_status("pixels")[victim.id]
    assert status == "error" and error == reasons[victim.path]

    Path(victim.path).write_bytes(good)
    second = extract(ws, None, "pixels", progress=False)
    assert second.done == [] and [p for p, _ in second.previously_failed] == [victim.path]
    assert "--retry-failed" in second.notes[0]

    third = extract(ws, None, "pixels", retry_failed=True, progress=False)
    assert third.done == [victim.path] and cat.embed_status("pixels")[victim.id] == ("ok", None)
    assert len(finished_videos(ws.embeddings("pixels"))) == 3


def test_store_of_another_embedder_is_refused(scenes: Path, ws: Workspace) -> None:
    write_manifest(ws.embeddings("pixels"), {"name": "pixels", "dim": 192, "unit": "frame", "layer": None})
    with pytest.raises(WorkspaceError, match=r"'pixels' \(dim 192\).*dim differs.*delete .*pixels to re-embed"):
        extract(ws, scenes, "pixels", progress=False)
    write_manifest(ws.embeddings("zca"), {"name": "pixels", "dim": 768, "unit": "frame"})
    with pytest.raises(WorkspaceError, match="name differs"):
        extract(ws, scenes, "zca", progress=False)


def test_write_error_is_one_line_and_keeps_earlier_shards(scenes: Path, ws: Workspace, monkeypatch) -> None:
    real_write = embedder.writer.write_shard
    calls = []

    def flaky(store_dir, video_id, meta, vectors):
        calls.append(video_id)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(store_dir, video_id, meta, vectors)

    monkeypatch.setattr(embedder.writer, "write_shard", flaky)
    with pytest.raises(WorkspaceError) as info:
        extract(ws, scenes, "pixels", progress=False, workers=0)
    msg = str(info.value)
    assert "No space left on device" in msg and "1 video(s) finished in this run are kept" in msg and "\n" not in msg
    kept = finished_videos(ws.embeddings("pixels"))
    assert kept == {calls[0]}
    assert len(load_store(ws.embeddings("pixels"))) > 0
    assert not list((ws.embeddings("pixels") / "shards").glob(".*"))  # no temp file left behind

    monkeypatch.setattr(embedder.writer, "write_shard", real_write)
    rerun = extract(ws, scenes, "pixels", progress=False)
    assert len(rerun.done) == 2 and len(rerun.skipped) == 1


def test_clip_embedder_embeds_the_clip_centred_on_each_sampled_frame(scenes: Path, ws: Workspace) -> None:
    import torch

    from vidsift.embedder.registry import get_embedder
    from vidsift.video.clips import centred_clips

    report = extract(ws, scenes, "random:c3d-siamese", every=8, progress=False)
    assert len(report.done) == 3 and not ws.thumbnails.exists()  # no thumbnails for clip units by default
    data = load_embeddings(ws, "random:c3d-siamese")
    rec = Catalog(ws.catalog_path).videos()[0]
    rows = data.meta[data.meta.video_id == rec.id]
    emb = get_embedder("random:c3d-siamese")
    with open_video(rec.path) as r:
        want = r.sample_indices(every=8)
        idx = centred_clips(want, emb.clip_len, r.num_frames)
        clips = np.stack([r.get_frames(row, size=emb.input_size) for row in idx])
    np.testing.assert_array_equal(rows.frame.to_numpy(), want)
    # on CUDA, cuDNN convolutions run in TF32 by default and pick algorithms per batch size
    tol = dict(rtol=1e-2, atol=5e-3) if torch.cuda.is_available() else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(data.vectors[rows.index.to_numpy()], emb.embed(clips), **tol)


def test_zca_is_fitted_once_on_the_catalog_and_saved(scenes: Path, ws: Workspace, tmp_path: Path) -> None:
    extract(ws, scenes / "astronaut", "zca@8", progress=False, thumbnails=False)
    path = ws.embeddings("zca@8") / "zca.npz"
    first = path.read_bytes()
    man = json.loads((ws.embeddings("zca@8") / "manifest.json").read_text())
    assert man["dim"] == 192 and len(man["checkpoint_hash"]) == 64
    # more videos later: the saved whitening is reused, not refitted
    extract(ws, scenes / "coffee", "zca@8", progress=False, thumbnails=False)
    assert path.read_bytes() == first
    data = load_embeddings(ws, "zca@8")
    assert len(set(data.meta.video_id)) == 2
    # the whitening is gone: a refit on today's (larger) corpus differs, the store refuses it
    path.unlink()
    with pytest.raises(WorkspaceError, match="checkpoint_hash differs"):
        extract(ws, scenes / "chelsea", "zca@8", progress=False, thumbnails=False)


def test_iter_store_streams_what_load_store_loads(scenes: Path, ws: Workspace) -> None:
    extract(ws, scenes, "pixels@8", every=2, progress=False, thumbnails=False)
    store = ws.embeddings("pixels@8")
    whole = load_store(store)
    parts = list(iter_store(store, max_rows=5))
    assert len(parts) == 3
    pd.testing.assert_frame_equal(pd.concat([p.meta for p in parts], ignore_index=True), whole.meta)
    np.testing.assert_array_equal(np.concatenate([p.vectors for p in parts]), whole.vectors)
    one = whole.meta.video_id[0]
    assert set(load_embeddings(ws, "pixels@8", [one]).meta.video_id) == {one}


def test_thumbnail_on_demand_is_cached(tiny_video: Path, ws: Workspace) -> None:
    img = thumbnail(ws, tiny_video, "vid", 3)
    assert img.shape == (32, 48, 3) and img.dtype == np.uint8
    path = thumbnail_path(ws.thumbnails, "vid", 3)
    assert path.is_file()
    np.testing.assert_array_equal(thumbnail(ws, "/nonexistent.mp4", "vid", 3), img)  # served from cache
    with pytest.raises(BadInputError, match="does not exist"):
        thumbnail(ws, tiny_video, "vid", 999)


def test_a_decoder_process_that_dies_fails_its_video_only(scenes: Path, ws: Workspace, monkeypatch) -> None:
    import os

    import vidsift.embedder.extract as ex

    real_read = ex.read_video

    def crashing(task):
        if "coffee" in task.path:
            os._exit(3)  # a segfaulting decoder, as seen from the parent
        yield from real_read(task)

    monkeypatch.setattr(ex, "read_video", crashing)  # forked workers inherit the patch
    report = extract(ws, scenes, "pixels", progress=False, workers=1, thumbnails=False)
    reasons = {Path(p).name: r for p, r in report.failed}
    assert reasons["coffee_0.mp4"] == "the decoding process died (exit code 3)"
    assert len(report.done) == 2
