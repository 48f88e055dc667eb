"""The held-out scene set stays held out: its photos are disjoint from every photo that training
data, tests, the demo and the reproduction use, and it is deterministic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vidsift.errors import BadInputError
from vidsift.reproduce.settings import FULL, QUICK
from vidsift.video.synthetic.heldout import HELDOUT_SCENES, IN_SAMPLE_SCENES, heldout_scene_set
from vidsift.video.synthetic.scenes import SCENES

ROOT = Path(__file__).resolve().parents[2]


def test_heldout_photos_are_disjoint_from_everything_used_in_sample() -> None:
    assert set(HELDOUT_SCENES) <= set(SCENES) and len(HELDOUT_SCENES) == 12
    assert not set(HELDOUT_SCENES) & set(IN_SAMPLE_SCENES)
    assert set(FULL.scenes) | set(QUICK.scenes) <= set(IN_SAMPLE_SCENES)
    # every scene named in the tests, the demo and the generator's defaults is in-sample
    used: set[str] = set()
    for path in [*(ROOT / "tests").rglob("*.py"), ROOT / "Makefile", ROOT / "video/synthetic/write.py"]:
        if path.name == "test_heldout.py" or "test_synthetic" in path.name:
            continue  # these two name every scene on purpose
        text = path.read_text(errors="ignore")
        used |= {s for s in SCENES if re.search(rf"[\"'/]{s}[\"'/_]", text)}
    assert not used & set(HELDOUT_SCENES), f"held-out photos used in sample: {used & set(HELDOUT_SCENES)}"


def test_heldout_set_is_deterministic_and_labelled() -> None:
    kw = dict(scenes=("coins", "moon"), videos_per_scene=2, shots_per_video=2, frames_per_shot=4, size=(16, 16))
    a, b, c = heldout_scene_set(0, **kw), heldout_scene_set(0, **kw), heldout_scene_set(1, **kw)
    assert list(a.videos) == ["coins_0", "coins_1", "moon_0", "moon_1"]
    assert all(np.array_equal(a.videos[k], b.videos[k]) for k in a.videos)
    assert not np.array_equal(a.videos["coins_0"], c.videos["coins_0"])
    frames, labels, shots = a.stacked()
    assert frames.shape == (32, 16, 16, 3) and list(labels[:8]) == ["coins"] * 8
    assert list(shots[:8]) == ["coins_0:0"] * 4 + ["coins_0:1"] * 4


def test_heldout_refuses_in_sample_and_unknown_scenes() -> None:
    with pytest.raises(BadInputError, match="not held out"):
        heldout_scene_set(0, scenes=("astronaut",))
    with pytest.raises(BadInputError, match="unknown scene"):
        heldout_scene_set(0, scenes=("mars",))
