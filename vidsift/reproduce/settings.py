"""Sizes of the reproduction (``QUICK`` for the test, ``FULL`` for docs/results.md) and the
training runs it makes. Nothing here is tuned on the scores: every hyper-parameter not listed is
the method's ``cpu`` preset."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vidsift.reproduce.recipes import DRIFT_RUN


@dataclass(frozen=True)
class Settings:
    steps: int
    scenes: tuple[str, ...]
    videos_per_scene: int
    shots_per_video: int
    frames_per_shot: int
    size: tuple[int, int]
    shapes: tuple[str, ...]
    motions: tuple[str, ...]
    videos_per_class: int
    shape_frames: int
    repeats: int
    c3d_steps: int
    ul_epochs: int
    ul_frames: int
    mining_pairs: int
    drift_per_class: int = 8
    drift_steps: int = 1000
    finetune_epochs: int = 10
    real: bool = True
    heldout_seeds: int = 3  # training seeds per method in section 7 (issue #19: mean ± std over >= 3)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)


QUICK = Settings(
    steps=4,
    scenes=("astronaut", "coffee", "chelsea"),
    videos_per_scene=2,
    shots_per_video=2,
    frames_per_shot=12,
    size=(32, 32),
    shapes=("circle", "square"),
    motions=("left-right", "static"),
    videos_per_class=2,
    shape_frames=20,
    repeats=2,
    c3d_steps=3,
    ul_epochs=2,
    ul_frames=90,
    mining_pairs=2000,
    drift_per_class=1,
    drift_steps=3,
    finetune_epochs=2,
    real=False,
    heldout_seeds=2,
    overrides={
        "*": {"batch_size": 8, "num_workers": 0},
        "quadruplet": {"n": 4},
        "quadruplet-mu": {"n": 4},
        "triplet": {"track_len": 4, "frame_size": (32, 32), "patch": 24, "radius": 4},
        "c3d-siamese": {
            "batch_size": 4,
            "frame_size": (32, 32),
            "clip_len": 4,
            "input_size": (24, 24),
        },
        "slow-ae": {"batch_size": 8},
        "infonce": {"widths": (8, 16, 32, 64), "hidden": 64, "proj_dim": 32},
    },
)
FULL = Settings(
    steps=300,
    scenes=("astronaut", "coffee", "chelsea", "rocket", "horse", "camera"),
    videos_per_scene=3,
    shots_per_video=3,
    frames_per_shot=20,
    size=(64, 64),
    shapes=("circle", "square", "triangle"),
    motions=("left-right", "up-down", "diagonal", "static"),
    videos_per_class=3,
    shape_frames=32,
    repeats=10,
    c3d_steps=300,
    ul_epochs=10,
    ul_frames=360,
    mining_pairs=100_000,
)

#: (run name, method, data set, method overrides); checkpoints go to ``ws.checkpoints / name``
RUNS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("slow-ae", "slow-ae", "scenes", {}),
    ("slow-ae-beta0", "slow-ae", "scenes", {"beta": 0.0}),
    ("drlim", "drlim", "scenes", {}),
    ("siamese", "siamese", "scenes", {}),
    ("quadruplet", "quadruplet", "scenes", {}),
    ("quadruplet-mu", "quadruplet-mu", "scenes", {}),
    ("triplet-random", "triplet", "scenes", {"hard_start": 1.0}),
    ("triplet", "triplet", "scenes", {}),
    ("infonce", "infonce", "scenes", {}),
    ("ul", "ul", "scenes", {}),
    ("c3d-siamese", "c3d-siamese", "shapes", {}),
    ("c3d-siamese-drift", "c3d-siamese", "drift", DRIFT_RUN),
)


def steps_of(run: str, s: Settings) -> int:
    """Training steps of ``run`` under ``s``."""
    return {"c3d-siamese": s.c3d_steps, "c3d-siamese-drift": s.drift_steps}.get(run, s.steps)
