"""The held-out scene set: camera videos over photos nothing in vidsift was trained or tuned on.

Design decision 10 ("unseen data decides"): a claim about an encoder is measured on videos AND
subjects it never saw. The photos split in two:

* ``IN_SAMPLE_SCENES``: every photo that training data, presets, tests, the demo and
  ``vidsift reproduce`` use (``make_scene_videos``' default four, reproduce's six). Encoders are
  trained on these; presets may be chosen by looking at them.
* ``HELDOUT_SCENES``: twelve other photos shipped in scikit-image, scikit-learn and matplotlib
  (colour photos, micrographs, a clock, textures), used only to score. Nothing may be tuned on
  them; ``tests/video/test_heldout.py`` checks the two sets stay disjoint from what the
  reproduction, the demo and the default generator use.

:func:`heldout_scene_set` makes several wandering-camera videos per photo (``scene_frames``:
pans, zooms, shake, noise, illumination drift, hard cuts between shots), with a seed key of its
own so its camera paths are not those of any training video even for a shared seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vidsift.errors import BadInputError
from vidsift.video.synthetic.scenes import SCENES, scene_frames

__all__ = ["HELDOUT_SCENES", "IN_SAMPLE_SCENES", "HeldoutSet", "heldout_scene_set"]

#: photos used to train, tune, test and demonstrate (reproduce's FULL set is the widest)
IN_SAMPLE_SCENES: tuple[str, ...] = ("astronaut", "coffee", "chelsea", "rocket", "horse", "camera")
#: photos used only to score (subjects no encoder, preset or test was fitted on)
HELDOUT_SCENES: tuple[str, ...] = (
    "china", "flower", "grace_hopper", "hubble_deep_field", "retina", "immunohistochemistry",
    "coins", "moon", "clock", "brick", "grass", "gravel",
)
#: added to the seed so held-out camera paths differ from in-sample ones of the same seed
_SEED_OFFSET = 7_000_003


@dataclass(frozen=True)
class HeldoutSet:
    """Frames (``{video id: uint8 [T, H, W, 3]}``), each video's photo and shot starts."""

    videos: dict[str, np.ndarray]
    labels: dict[str, str]
    shot_starts: dict[str, list[int]] = field(default_factory=dict)

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All frames ``[N, H, W, 3]``, their photo label ``[N]`` and ``video:shot`` id ``[N]``."""
        frames, labels, shots = [], [], []
        for vid, arr in self.videos.items():
            starts = self.shot_starts.get(vid, [0])
            shot = np.searchsorted(np.asarray(starts), np.arange(len(arr)), side="right") - 1
            frames.append(arr)
            labels += [self.labels[vid]] * len(arr)
            shots += [f"{vid}:{s}" for s in shot]
        return np.concatenate(frames), np.asarray(labels), np.asarray(shots)


def heldout_scene_set(
    seed: int = 0,
    scenes: Sequence[str] = HELDOUT_SCENES,
    videos_per_scene: int = 3,
    shots_per_video: int = 2,
    frames_per_shot: int = 16,
    size: tuple[int, int] = (64, 64),
) -> HeldoutSet:
    """Wandering-camera videos over the held-out photos (``videos_per_scene`` camera paths each).

    Raises:
        BadInputError: an unknown scene, a scene of ``IN_SAMPLE_SCENES`` (that would not be
            held out), or sizes below 1.
    """
    scenes = tuple(scenes)
    bad = [s for s in scenes if s not in SCENES]
    if bad:
        raise BadInputError(f"unknown scene(s) {', '.join(bad)}; valid scenes: {', '.join(SCENES)}")
    seen = [s for s in scenes if s in IN_SAMPLE_SCENES]
    if seen:
        raise BadInputError(
            f"scene(s) {', '.join(seen)} are used for training and tuning, so they are not held out; "
            f"choose from {', '.join(HELDOUT_SCENES)}"
        )
    if videos_per_scene < 1 or shots_per_video < 1 or frames_per_shot < 2:
        raise BadInputError("videos_per_scene and shots_per_video must be >= 1, frames_per_shot >= 2")
    videos: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    starts: dict[str, list[int]] = {}
    for scene in scenes:
        for k in range(videos_per_scene):
            frames, shot_starts = scene_frames(
                scene, seed=int(seed) + _SEED_OFFSET, index=k, shots=shots_per_video,
                frames_per_shot=frames_per_shot, size=size,
            )
            vid = f"{scene}_{k}"
            videos[vid], labels[vid], starts[vid] = frames, scene, list(shot_starts)
    return HeldoutSet(videos, labels, starts)
