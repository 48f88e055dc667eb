"""Real-footage quirks through the whole product: scan, shots, embed, search and export.

For every file of the quirks corpus (``quirks.py``) and a partly broken one: the catalog's
frame count and every stored time are the decoder's (``decoder_truth``, which uses PyAV alone),
never the header's estimate or ``frame / fps``.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
from quirks import EXPECTED, decoder_truth, make_quirks

from vidsift.catalog import Catalog
from vidsift.embedder.extract import extract
from vidsift.embedder.store import load_embeddings
from vidsift.services.discover import _clip_fn
from vidsift.services.indexes import build_workspace_index, search_workspace
from vidsift.video import open_video
from vidsift.video.scan import scan_folder
from vidsift.video.shots import detect_shots, shot_table
from vidsift.video.timeline import Timeline
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


def _truncated(path: Path) -> Path:
    """A 40-frame MP4 with its index first, cut at 60 % of its bytes: opens, then breaks."""
    full = path.with_name("full.mp4")
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (40, 48, 64, 3), dtype=np.uint8)  # noise: bytes spread evenly
    write_video(full, frames, fps=25, container_options={"movflags": "+faststart"})
    data = full.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    full.unlink()
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("quirks")
    files = make_quirks(root / "videos")
    files["partly_broken.mp4"] = _truncated(root / "videos" / "partly_broken.mp4")
    ws = Workspace.at(root / "ws")
    with Catalog(ws.catalog_path) as cat:
        report = scan_folder(cat, root / "videos")
        records = {Path(r.path).name: r for r in cat.videos(status=None)}
        timelines = {name: Timeline.from_catalog(cat, r.id) for name, r in records.items()}
    embed = extract(ws, root / "videos", "pixels", progress=False)
    build_workspace_index(ws, "pixels")
    truth = {name: decoder_truth(p) for name, p in files.items() if name != "partly_broken.mp4"}
    return {"files": files, "ws": ws, "scan": report, "records": records, "timelines": timelines,
            "embed": embed, "truth": truth, "store": load_embeddings(ws, "pixels").meta}


QUIRKS = sorted(EXPECTED)


@pytest.mark.parametrize("name", QUIRKS)
def test_catalog_counts_and_times_are_the_decoders(corpus, name):
    rec, tl, truth = corpus["records"][name], corpus["timelines"][name], corpus["truth"][name]
    assert rec.status == "ok", rec.error
    assert rec.num_frames == truth.count
    assert rec.header_frames == truth.header_frames or truth.header_frames == 0
    # bframes.avi: AVI gives decode-order stamps; display order is ascending (see quirks.py)
    assert np.allclose(tl.pts, np.sort(truth.pts), atol=1e-6)
    assert tl.keyframes[0] == 0 and tl.complete


def test_header_overcount_is_a_note_not_a_failure(corpus):
    for name in ("header_overcount.avi", "header_overcount.mp4"):
        rec = corpus["records"][name]
        assert rec.num_frames < rec.header_frames and "decode" in rec.note
        assert any(Path(p).name == name for p, _ in corpus["scan"].notes)


@pytest.mark.parametrize("name", QUIRKS)
def test_embedded_rows_are_every_decoded_frame_at_its_pts(corpus, name):
    truth, rec = corpus["truth"][name], corpus["records"][name]
    rows = corpus["store"][corpus["store"].video_id == rec.id].sort_values("frame")
    assert rows.frame.tolist() == list(range(truth.count))
    assert np.allclose(rows.time.to_numpy(), np.sort(truth.pts), atol=1e-6)


def test_no_video_failed(corpus):
    assert corpus["embed"].failed == [] and not corpus["scan"].failed


@pytest.mark.parametrize("name", QUIRKS)
def test_shots_and_their_times(corpus, name):
    truth = corpus["truth"][name]
    with open_video(corpus["files"][name]) as r:
        starts = detect_shots(r)
        table = shot_table(starts, r.timeline)
    assert starts == ([0, EXPECTED[name]["cut_frame"]] if "cut_frame" in EXPECTED[name] else [0])
    assert starts == corpus["records"][name].shots
    times = np.sort(truth.pts)
    assert [s["start"] for s in table] == pytest.approx([times[s] for s in starts], abs=1e-6)
    assert table[-1]["end_frame"] == truth.count - 1


@pytest.mark.parametrize("name", QUIRKS)
def test_search_by_frame_and_by_time(corpus, name):
    rec, ws = corpus["records"][name], corpus["ws"]
    times = np.sort(corpus["truth"][name].pts)
    f = rec.num_frames // 2
    k = len(corpus["files"]) + 2  # frame 0 is the same picture in every file
    by_frame = search_workspace(ws, "pixels", video=rec.id, frame=f, k=k)
    by_time = search_workspace(ws, "pixels", video=rec.id, at=float(times[f]), k=k)
    assert by_frame == by_time
    # the query frame itself comes first, or tied at distance 0 with the same picture in a
    # sibling file (bframes.mp4 and bframes.avi hold one stream)
    me = [h for h in by_frame if (h["video_id"], h["frame"]) == (rec.id, f)]
    assert me and me[0]["distance"] == pytest.approx(0, abs=1e-5)
    assert me[0]["time"] == pytest.approx(times[f], abs=1e-6)


@pytest.mark.parametrize("name", ["vfr.mp4", "start_offset.ts", "header_overcount.avi", "bframes.avi", "with_audio.mp4"])
def test_clip_export_cuts_by_timestamp(corpus, name, tmp_path):
    """A cluster member's segment is cut by presentation time: exactly its frames come out."""
    from vidsift.video.segment import Segment

    rec = corpus["records"][name]
    times = np.sort(corpus["truth"][name].pts)
    n = len(times)
    first, last = max(0, n // 2 - 3), min(n - 1, n // 2 + 3)
    end = times[last + 1] if last + 1 < n else times[last] + 0.04
    seg = Segment(rec.id, rec.path, float(times[first]), float(end), first, last)
    target = tmp_path / "clip.mp4"
    _clip_fn(corpus["ws"])(seg, target)
    with av.open(str(target)) as c:
        assert sum(1 for _ in c.decode(video=0)) == last - first + 1


@pytest.mark.parametrize("name", ["vfr.mp4", "start_offset.ts", "header_overcount.avi", "bframes.avi", "with_audio.mp4"])
def test_clip_from_a_keyframe_decodes_every_frame_it_claims(corpus, name, tmp_path):
    """From the second keyframe, into the container an export picks: copied or re-encoded, the clip
    decodes to the frames its result counts (a TS copied without its in-band headers would not)."""
    from vidsift.video.cut import clip_suffix, cut

    rec, tl = corpus["records"][name], corpus["timelines"][name]
    k = tl.keyframes[1] if len(tl.keyframes) > 1 else tl.keyframes[0]
    start = float(tl.pts[k])
    res = cut(rec.path, tmp_path / f"clip{clip_suffix(rec.path)}", start, start + 0.2)
    with av.open(str(res.path)) as c:
        assert sum(1 for _ in c.decode(video=0)) == res.frames > 0, res


def test_partly_broken_file_keeps_what_decoded(corpus):
    rec = corpus["records"]["partly_broken.mp4"]
    assert rec.status == "ok" and 0 < rec.num_frames < 40 == rec.header_frames
    # FFmpeg's MP4 demuxer ends cleanly at the cut: the shortfall is said with where it starts
    assert f"the header estimates 40 frames; {rec.num_frames} decode (the last at" in rec.note
    tl = corpus["timelines"]["partly_broken.mp4"]
    assert np.allclose(tl.pts, np.arange(rec.num_frames) / 25)
    rows = corpus["store"][corpus["store"].video_id == rec.id]
    assert rows.frame.tolist() == list(range(rec.num_frames))


def test_sparse_reads_match_sequential_decoding(corpus):
    """Planned reads (seek or decode forward), keyframes-only and ``--fps`` on VFR footage all
    return the frames a plain sequential decode gives at those indices."""
    path = corpus["files"]["vfr.mp4"]
    times = np.sort(corpus["truth"]["vfr.mp4"].pts)
    with open_video(path) as r:
        full = np.concatenate([f for _, f in r.iter_frames(size=(24, 32))])
    with open_video(path, timeline=corpus["timelines"]["vfr.mp4"]) as r:
        idx, ts, frames = (np.concatenate(x) for x in zip(*r.iter_timed(fps=2, size=(24, 32)), strict=True))
        # at 2 samples/s: for each tick k/2 s the first frame at or after it
        ticks = np.arange(0, times[-1] + 0.5, 0.5)
        expect = np.unique(np.searchsorted(times, ticks - 1e-6))
        assert idx.tolist() == expect[expect < len(times)].tolist()
        assert np.allclose(ts, times[idx]) and np.array_equal(frames, full[idx])
        keys = np.concatenate([i for i, _ in r.iter_frames(keyframes=True)])
        assert keys.tolist() == r.timeline.keyframes.tolist()
        picked = r.get_frames([25, 3, 17, 3], size=(24, 32))
        assert np.array_equal(picked, full[[25, 3, 17, 3]])


def test_decoder_error_part_way_keeps_the_frames_before_it(tiny_video):
    """A container that stops delivering packets part way (the decoder raising) keeps what
    decoded, and ``problem`` says where it stopped and how many frames are lost."""
    from vidsift.errors import VideoError

    with open_video(tiny_video) as r:
        decode = r._backend.decode

        def breaking(*args, **kwargs):
            for k, item in enumerate(decode(*args, **kwargs)):
                if k == 7:
                    raise VideoError(r.path, "decoding failed (Invalid data found when processing input)")
                yield item

        r._backend.decode = breaking
        idx = np.concatenate([i for i, _ in r.iter_frames(every=2)])
        assert idx.tolist() == [0, 2, 4, 6] and r.num_frames == 7 and not r.timeline.complete
        assert r.problem.startswith("decoding stopped after frame 6 (0.600 s): decoding failed")
        assert "7 frame(s) kept, about 17 lost" in r.problem


def test_a_store_written_with_frame_over_fps_times_is_migrated(corpus):
    """Stores from before timestamps (manifest without "time") load as they are; the next
    embed into them rewrites their times from the catalog's timelines."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from vidsift.embedder.store import MANIFEST, shard_path

    ws, rec = corpus["ws"], corpus["records"]["vfr.mp4"]
    store = ws.embeddings("pixels")
    manifest = json.loads((store / MANIFEST).read_text())
    (store / MANIFEST).write_text(json.dumps({k: v for k, v in manifest.items() if k != "time"}))
    path = shard_path(store, rec.id)
    table = pq.read_table(path)
    old = table.column("frame").to_numpy() / rec.fps  # what 0.1 stored
    pq.write_table(table.set_column(table.schema.get_field_index("time"), "time", pa.array(old)), path)
    stale = load_embeddings(ws, "pixels").meta
    assert np.allclose(stale[stale.video_id == rec.id].time, old)  # the old layout still loads

    report = extract(ws, corpus["files"]["vfr.mp4"].parent, "pixels", progress=False)
    assert report.migrated == {"migrated": len(corpus["records"]), "kept": 0} and not report.done
    rows = load_embeddings(ws, "pixels").meta
    assert np.allclose(rows[rows.video_id == rec.id].time, np.sort(corpus["truth"]["vfr.mp4"].pts))
    assert json.loads((store / MANIFEST).read_text())["time"] == "pts"


def test_training_on_a_real_folder_uses_decoded_counts(corpus, tmp_path, capsys):
    """`vidsift train quadruplet FOLDER` on a folder holding an AVI whose header over-counts
    (and one unreadable file) trains; the broken file is left out with one line."""
    import shutil

    from vidsift.services.train import train_workspace

    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ("header_overcount.avi", "vfr.mp4", "bframes.mp4", "start_offset.ts"):
        shutil.copy(corpus["files"][name], folder / name)
    (folder / "notes.mp4").write_text("not a video")
    ws = Workspace.at(tmp_path / "ws")
    result = train_workspace(ws, "quadruplet", folder, preset="cpu", steps=2, batch_size=4, progress=False)
    assert result.step == 2
    err = capsys.readouterr().err
    assert "note: left out" in err and "notes.mp4" in err


def test_cluster_export_lists_every_frame_with_its_time(corpus, tmp_path):
    from vidsift.services.discover import run_discovery

    out = tmp_path / "export"
    run_discovery(corpus["ws"], "pixels", k=3, export=out, repeats=1)
    table = pd.read_csv(out / "clusters.csv")
    store = corpus["store"]
    assert len(table) == len(store)
    merged = table.merge(store, on=["video_id", "frame"], suffixes=("", "_store"))
    assert len(merged) == len(store) and np.allclose(merged.time, merged.time_store)
    ms = (merged.time * 1000).round().astype(int)
    assert (merged.timecode == [f"00:00:{m // 1000:02d}.{m % 1000:03d}" for m in ms]).all()
