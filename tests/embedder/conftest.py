"""Fixtures for the embedder tests: tiny labelled scene videos, a broken file, a workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vidsift.video.synthetic.write import make_scene_videos
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


@pytest.fixture(scope="session")
def scenes_src(tmp_path_factory) -> Path:
    """3 videos (labels astronaut, coffee, chelsea), 2 shots x 8 frames of 32x32 each, 25 fps,
    plus ``broken.mp4`` (text) at the top level."""
    root = tmp_path_factory.mktemp("scenes")
    make_scene_videos(root, scenes=("astronaut", "coffee", "chelsea"), videos_per_scene=1,
                      shots_per_video=2, frames_per_shot=8, size=(32, 32), seed=0)
    (root / "ground_truth.json").unlink()
    (root / "broken.mp4").write_bytes(b"not a video\n" * 20)
    return root


@pytest.fixture
def scenes(scenes_src: Path, tmp_path: Path) -> Path:
    """A private copy of ``scenes_src`` (tests may damage files in it)."""
    dst = tmp_path / "videos"
    shutil.copytree(scenes_src, dst)
    return dst


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.at(tmp_path / "ws")


def gradient_frames(n: int, h: int = 32, w: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(h, w, 3)).astype(np.uint8)
    return np.stack([np.roll(base, shift=i, axis=1) for i in range(n)])


@pytest.fixture(scope="session")
def many_videos(tmp_path_factory) -> Path:
    """24 small videos (16 frames each): enough work to kill a run part-way."""
    root = tmp_path_factory.mktemp("many")
    for i in range(24):
        write_video(root / f"v{i:02d}.mp4", gradient_frames(16, seed=i), fps=10)
    return root
