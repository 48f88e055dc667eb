from __future__ import annotations

import json

import numpy as np

from vidsift.video import detect_shots
from vidsift.video.shots import boundaries_from_differences
from vidsift.video.synthetic.write import make_scene_videos


def test_bikes_exact(real):
    assert detect_shots(real["bikes.mp4"]) == [0, 30, 76, 137, 187, 242]


def test_city_single_cut(real):
    assert detect_shots(real["cityCC0.mpg"]) == [0, 116]


def test_single_shot_footage(real):
    assert detect_shots(real["carphone_pristine.mp4"]) == [0]


def test_generated_scene_cuts(tmp_path):
    vids = make_scene_videos(tmp_path, scenes=("astronaut", "coffee"), videos_per_scene=1, shots_per_video=3, frames_per_shot=15, size=(48, 48))
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    assert truth
    for v in vids:
        assert detect_shots(v.path) == list(v.shot_starts)


def test_threshold_adapts_to_motion():
    rng = np.random.default_rng(0)
    calm = rng.uniform(1, 2, 60)
    busy = rng.uniform(18, 22, 60)  # fast camera motion: large but steady differences
    d = np.concatenate([calm, busy])
    d[29] = 40.0  # a cut in the calm part (frame 30)
    d[89] = 80.0  # a cut in the busy part (frame 90), 4x its neighbourhood
    d[100] = 30.0  # motion burst only 1.5x the neighbourhood: not a cut
    assert boundaries_from_differences(d) == [0, 30, 90]
