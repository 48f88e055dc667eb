"""Tests for writing videos (``video.writer``) and the generated data sets on disk
(``video.synthetic.write``): decoded back with PyAV, the truth they claim must hold."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from vidsift.errors import BadInputError, VideoError
from vidsift.video.synthetic import rotating_points, scene_frames, shape_frames
from vidsift.video.synthetic.write import (
    GROUND_TRUTH,
    KINDS,
    make,
    make_broken_files,
    make_drift_videos,
    make_scene_videos,
    make_shape_videos,
    save_points,
)
from vidsift.video.writer import write_video


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def count_frames(path: Path) -> int:
    """Frames decodable before an error; raises if the file cannot be opened at all."""
    n = 0
    with av.open(str(path)) as c:
        try:
            for _ in c.decode(video=0):
                n += 1
        except av.FFmpegError:
            pass
    return n


def frame_diffs(frames: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))


# ------------------------------------------------------------------ write_video


def test_write_video_roundtrip_pads_odd_size(tmp_path: Path) -> None:
    frames, _ = scene_frames("coffee", shots=1, frames_per_shot=6, size=(33, 47))
    out = write_video(tmp_path / "v.mp4", frames, fps=10)
    assert out == tmp_path / "v.mp4"
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]  # no temp file left behind
    dec = decode(out)
    assert dec.shape == (6, 34, 48, 3)  # padded to even, never cropped
    assert np.abs(dec[:, :33, :47].astype(int) - frames).mean() < 10
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.average_rate == 10 and s.codec_context.name == "h264"


def test_write_video_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError):
        write_video(tmp_path / "a.mp4", np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(BadInputError):
        write_video(tmp_path / "b.mp4", np.zeros((2, 8, 8, 4), np.uint8))
    with pytest.raises(BadInputError, match="encoder"):
        write_video(tmp_path / "c.mp4", np.zeros((2, 8, 8, 3), np.uint8), codec="nope")
    with pytest.raises(BadInputError, match="pixel format"):
        write_video(tmp_path / "d.mp4", np.zeros((2, 8, 8, 3), np.uint8), pix_fmt="nope")
    with pytest.raises(VideoError, match="e.mp4"):  # libx264 cannot write rgb24
        write_video(tmp_path / "e.mp4", np.zeros((2, 8, 8, 3), np.uint8), pix_fmt="rgb24")
    assert not list(tmp_path.iterdir())


def test_write_video_mpeg4_fallback(tmp_path: Path) -> None:
    frames, _ = shape_frames("circle", "static", frames=4, size=(16, 16))
    out = write_video(tmp_path / "m.mp4", frames, codec="mpeg4")
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "mpeg4"
    assert decode(out).shape == (4, 16, 16, 3)


# ------------------------------------------------------------------ scenes


def test_make_scene_videos(tmp_path: Path) -> None:
    videos = make_scene_videos(tmp_path, scenes=("astronaut", "coffee"),
                               videos_per_scene=2, shots_per_video=3, frames_per_shot=8,
                               size=(32, 32), fps=25, seed=1)
    assert len(videos) == 4
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    records = {r["path"]: r for r in truth["videos"]}
    assert set(records) == {f"{s}/{s}_{k}.mp4" for s in ("astronaut", "coffee") for k in (0, 1)}
    for v in videos:
        assert v.path.parent.name == v.label and v.path.parent.parent == tmp_path
        assert v.num_frames == 24 and v.shot_starts == [0, 8, 16] and v.fps == 25.0
        rec = records[v.path.relative_to(tmp_path).as_posix()]
        assert rec["label"] == v.label and rec["shot_starts"] == [0, 8, 16]
        frames = decode(v.path)
        assert frames.shape == (24, 32, 32, 3)
        d = frame_diffs(frames)
        cuts = [s - 1 for s in v.shot_starts[1:]]
        within = np.delete(d, cuts)
        assert d[cuts].min() > 3 * within.mean(), (v.path, d.round(1))
    # frames of the same scene video differ between the two videos of one scene
    assert not np.array_equal(decode(videos[0].path), decode(videos[1].path))


def test_same_seed_same_files(tmp_path: Path) -> None:
    kw = dict(scenes=("rocket",), videos_per_scene=1, shots_per_video=2, frames_per_shot=4,
              size=(16, 16), seed=7)
    a = make_scene_videos(tmp_path / "a", **kw)
    b = make_scene_videos(tmp_path / "b", **kw)
    assert a[0].path.read_bytes() == b[0].path.read_bytes()
    s1 = make_shape_videos(tmp_path / "s1", shapes=("square",), motions=("diagonal",),
                           frames=6, size=(16, 16), seed=7)
    s2 = make_shape_videos(tmp_path / "s2", shapes=("square",), motions=("diagonal",),
                           frames=6, size=(16, 16), seed=7)
    assert s1[0].path.read_bytes() == s2[0].path.read_bytes()


def test_make_scene_videos_rejects_unknown_scene(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="valid scenes"):
        make_scene_videos(tmp_path, scenes=("astronaut", "mars"))
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ shapes


def test_make_shape_videos(tmp_path: Path) -> None:
    videos = make_shape_videos(tmp_path, shapes=("circle", "triangle"),
                               motions=("left-right", "up-down", "static"), frames=10,
                               size=(32, 32), seed=0)
    labels = sorted(v.label for v in videos)
    assert labels == sorted(f"{s}-{m}" for s in ("circle", "triangle")
                            for m in ("left-right", "up-down", "static"))
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    for rec in truth["videos"]:
        assert rec["label"] == f"{rec['shape']}-{rec['motion']}"
        assert Path(rec["path"]).parent.name == rec["label"]
        cx, cy = np.ptp(rec["center_x"]), np.ptp(rec["center_y"])
        moving = {"left-right": (True, False), "up-down": (False, True), "static": (False, False)}
        assert (cx > 5, cy > 5) == moving[rec["motion"]], rec["label"]
    for v in videos:
        frames = decode(v.path)
        assert frames.shape == (10, 32, 32, 3) and v.num_frames == 10
        drift = np.abs(frames[5].astype(int) - frames[0]).mean()
        if v.label.endswith("static"):
            assert drift < 6, v.label
        else:
            assert drift > 6, v.label


# ------------------------------------------------------------------ rotating points


def test_save_points(tmp_path: Path) -> None:
    path = save_points(tmp_path, n_frames=20, seed=2)
    assert path == tmp_path / "points.npz"
    data = np.load(path)
    X, angles = rotating_points(n_frames=20, seed=2)
    assert np.array_equal(data["X"], X) and np.array_equal(data["angles"], angles)


# ------------------------------------------------------------------ broken files


def test_make_broken_files(tmp_path: Path) -> None:
    files = make_broken_files(tmp_path, seed=0)
    assert set(files) == {"zero_bytes", "truncated", "text", "no_frames", "tiny", "rotated",
                          "gray", "tenbit", "audio_only", "cover_only"}
    for path in files.values():
        assert path.exists() and path.parent == tmp_path
    assert files["zero_bytes"].stat().st_size == 0
    for kind in ("zero_bytes", "text"):
        with pytest.raises(av.FFmpegError):
            av.open(str(files[kind])).close()
    info = json.loads((tmp_path / "broken.json").read_text())
    try:
        n = count_frames(files["truncated"])
    except av.FFmpegError:
        n = 0
    assert n < info["original_frames"]
    with av.open(str(files["no_frames"])) as c:
        assert len(c.streams.video) == 1
        assert sum(1 for _ in c.decode(video=0)) == 0
    tiny = decode(files["tiny"])
    assert tiny.shape[1:3] == (1, 1) and len(tiny) > 0
    with av.open(str(files["rotated"])) as c:
        frame = next(c.decode(video=0))
        assert frame.rotation == 90 and (frame.height, frame.width) == (48, 64)
    gray = decode(files["gray"])
    assert np.abs(gray[..., 0].astype(int) - gray[..., 2]).max() <= 2  # no colour
    with av.open(str(files["tenbit"])) as c:
        assert next(c.decode(video=0)).format.name == "yuv420p10le"
    with av.open(str(files["audio_only"])) as c:
        assert not c.streams.video and len(c.streams.audio) == 1
    with av.open(str(files["cover_only"])) as c:
        assert len(c.streams.audio) == 1 and "attached_pic" in repr(c.streams.video[0].disposition)


# ------------------------------------------------------------------ make


def test_make_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="scenes, shapes, drift, points, broken, all"):
        make("nope", tmp_path)


def test_make_all_small(tmp_path: Path) -> None:
    summary = make("all", tmp_path, seed=0, small=True)
    assert set(summary["parts"]) == set(KINDS) - {"all"}
    json.dumps(summary)  # JSON-ready for the CLI
    assert (tmp_path / "scenes" / "ground_truth.json").exists()
    assert (tmp_path / "shapes" / "ground_truth.json").exists()
    assert (tmp_path / "points" / "points.npz").exists()
    assert (tmp_path / "broken" / "zero_bytes.mp4").exists()
    assert summary["parts"]["scenes"]["labels"] == ["astronaut", "coffee"]
    assert summary["parts"]["broken"]["notes"] == []


def test_make_drift_videos(tmp_path: Path) -> None:
    videos = make_drift_videos(tmp_path, videos_per_class=1, frames=6, size=(24, 24), seed=2)
    assert sorted(v.label for v in videos) == sorted(
        ["up", "down", "sideways", "up-diagonal", "down-diagonal"]
    )
    gt = json.loads((tmp_path / GROUND_TRUTH).read_text())
    assert gt["kind"] == "drift" and len(gt["videos"]) == 5
    up = next(v for v in videos if v.label == "up")
    assert up.path.parent.name == "up" and up.num_frames == 6
    from vidsift.video.reader import open_video

    with open_video(up.path) as r:
        assert r.info.num_frames == 6 and (r.info.height, r.info.width) == (24, 24)
    with pytest.raises(BadInputError, match="videos_per_class"):
        make_drift_videos(tmp_path / "x", videos_per_class=0)
