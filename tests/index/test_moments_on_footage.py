"""Moments on real files: generated scene videos with known cuts, scanned (shot detection),
embedded with ``pixels`` and indexed; ``--group shot`` gives back exactly the shots of the ground
truth, with their start and end times, and ``--group segment`` one moment per video."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidsift.embedder.extract import extract
from vidsift.services.indexes import build_workspace_index, search_workspace
from vidsift.video.synthetic.write import make_scene_videos
from vidsift.workspace import Workspace

FPS, SHOT = 10.0, 8


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    root = tmp_path_factory.mktemp("moments")
    make_scene_videos(root / "videos", scenes=("astronaut", "coffee"), videos_per_scene=1, shots_per_video=3,
                      frames_per_shot=SHOT, size=(48, 64), fps=FPS, seed=0)
    truth = json.loads((root / "videos" / "ground_truth.json").read_text())
    ws = Workspace.at(root / "ws")
    extract(ws, root / "videos", "pixels", progress=False, workers=0, thumbnails=False)
    build_workspace_index(ws, "pixels")
    return ws, truth


def _truth_of(truth: dict, path: str) -> dict:
    return next(v for v in truth["videos"] if str(path).endswith(v["path"]))


def test_group_shot_returns_the_known_shots(footage) -> None:
    ws, truth = footage
    videos = {h["video_id"]: h["path"] for h in search_workspace(ws, "pixels", vector=np.ones(768, np.float32), k=100)}
    for vid, path in videos.items():
        starts = [int(s) for s in _truth_of(truth, path)["shot_starts"]]
        n = 3 * SHOT
        # every frame of this video is a hit: the shots come back whole, at their true frames and times
        got = search_workspace(ws, "pixels", video=vid, frame=0, videos=[vid], k=10, group="shot")
        spans = sorted((g["first_frame"], g["last_frame"], g["start"], g["end"]) for g in got)
        bounds = [*starts, n]
        want = [(a, b - 1, a / FPS, b / FPS) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        assert [(a, b) for a, b, _, _ in spans] == [(a, b) for a, b, _, _ in want]
        assert np.allclose([s[2:] for s in spans], [w[2:] for w in want], atol=1e-6)
        assert sum(g["frames"] for g in got) == n


def test_group_segment_merges_a_whole_video_and_filters_by_time(footage) -> None:
    ws, _ = footage
    hits = search_workspace(ws, "pixels", vector=np.ones(768, np.float32), k=1)
    vid = hits[0]["video_id"]
    (moment,) = search_workspace(ws, "pixels", video=vid, frame=0, videos=[vid], k=5, group="segment", gap=0.5)
    assert (moment["first_frame"], moment["last_frame"], moment["start"], moment["end"]) == (0, 3 * SHOT - 1, 0.0, 3 * SHOT / FPS)
    # a time range inside FAISS: only frames from 1.0 s to 1.5 s, one moment of 6 frames
    (part,) = search_workspace(ws, "pixels", video=vid, frame=0, videos=[vid], k=5, group="segment",
                               time_range="1-1.5")
    assert (part["first_frame"], part["last_frame"], part["frames"]) == (10, 15, 6)
