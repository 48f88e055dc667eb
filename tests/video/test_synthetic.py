"""Tests for the in-memory generators of ``video.synthetic``: seeded, byte-stable, truthful."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vidsift.errors import BadInputError
from vidsift.video import synthetic as syn
from vidsift.video.synthetic import SCENES, rotating_points, scene_frames, shape_frames

ROOT = Path(__file__).resolve().parents[2]


def _h(*arrays: np.ndarray) -> str:
    d = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        d.update(str((a.shape, a.dtype.str)).encode())
        d.update(a.tobytes())
    return d.hexdigest()[:16]


def _hd(pair: tuple[dict[str, np.ndarray], dict[str, object]]) -> str:
    arrays, labels = pair
    d = hashlib.sha256()
    for k in sorted(arrays):
        d.update(k.encode())
        d.update(_h(arrays[k]).encode())
        lab = labels[k]
        d.update((_h(lab) if isinstance(lab, np.ndarray) else str(lab)).encode())
    return d.hexdigest()[:16]


def _shape(shape: str, motion: str) -> str:
    f, info = shape_frames(shape, motion, seed=2, index=1, frames=6, size=(20, 28))
    return _h(f) + hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:8]


def _scene(scene: str, **kw: object) -> str:
    f, starts = scene_frames(scene, **kw)
    return _h(f, np.array(starts))


SCENE_KW = dict(seed=3, index=1, shots=2, frames_per_shot=5, size=(24, 32))

#: name -> (how to make it, sha256 prefix). The digests were taken from ``video/generate.py`` and
#: ``training/data/synthetic.py`` before their generators moved here (issue #17): a move must not
#: change one byte of any generator's output for a given seed.
CASES: dict[str, tuple[Callable[[], str], str]] = {
    "scene_frames/astronaut": (lambda: _scene("astronaut", **SCENE_KW), "d5dc39e00bb3c407"),
    "scene_frames/china": (lambda: _scene("china", **SCENE_KW), "0a63dcee002ead40"),
    "scene_frames/grace_hopper": (lambda: _scene("grace_hopper", **SCENE_KW), "76caeb8f584ed75d"),
    "scene_frames/text": (lambda: _scene("text", **SCENE_KW), "cc0cc985ad214ca5"),
    "scene_frames/coffee-still": (
        lambda: _scene("coffee", seed=0, shots=1, frames_per_shot=4, size=(33, 47), motion=False),
        "fbba23352d9466ef",
    ),
    **{
        f"shape_frames/{s}-{m}": ((lambda s=s, m=m: _shape(s, m)), digest)
        for (s, m), digest in {
            ("circle", "left-right"): "beede8a9af88d7b8a858927c",
            ("circle", "up-down"): "92e1ea0089792c2735ea1a9e",
            ("circle", "diagonal"): "dff734c112fba44057852366",
            ("circle", "static"): "32ad66882ac20cc414b46783",
            ("square", "left-right"): "9db1a4bffab2b975e585dedf",
            ("square", "up-down"): "d371d314ca9cb9ea8473b1dc",
            ("square", "diagonal"): "d33de12d15fb000cecd9c616",
            ("square", "static"): "fb22108a647f48484308a365",
            ("triangle", "left-right"): "420ac2da75a7c7ce1eb541b6",
            ("triangle", "up-down"): "bf55b8171bfa37160df595b0",
            ("triangle", "diagonal"): "41df24323ed9288c3748dafc",
            ("triangle", "static"): "9b73d6f47ffed518c265b66f",
        }.items()
    },
    "rotating_points/clean": (
        lambda: _h(*rotating_points(n_points=5, n_frames=9)), "1e7cd7b33da17fe3"
    ),
    "rotating_points/noise": (
        lambda: _h(*rotating_points(n_points=7, n_frames=11, degrees_per_frame=3.0, noise=0.2,
                                    seed=4)),
        "d905f9d8638f1618",
    ),
    "grating_videos/default": (
        lambda: _hd(syn.grating_videos(n_scenes=2, videos_per_scene=2, frames=10, size=16, seed=1)),
        "9e0aee893d9d5d05",
    ),
    "grating_videos/shots": (
        lambda: _hd(syn.grating_videos(n_scenes=3, videos_per_scene=1, frames=12, size=16, seed=2,
                                       shots=3, freq=(0.3, 0.9), canvas=40)),
        "34de450543019a0c",
    ),
    "shape_frame_videos": (
        lambda: _hd(syn.shape_frame_videos(videos_per_class=1, frames=5, size=(16, 16), seed=1,
                                           index0=2)),
        "ea621e16c93fcd78",
    ),
    "shape_videos/texture": (
        lambda: _hd(syn.shape_videos(videos_per_class=1, frames=7, size=(16, 20), seed=1,
                                     segment=3)),
        "be00092ad10e595b",
    ),
    "shape_videos/black": (
        lambda: _hd(syn.shape_videos(videos_per_class=2, frames=5, size=(16, 16), seed=0,
                                     index0=3, shapes=("circle",), motions=("static", "diagonal"),
                                     background="black", recolor=False, noise=0.0)),
        "5db493ac94ff1f6a",
    ),
    "drift_videos": (
        lambda: _hd(syn.drift_videos(videos_per_class=2, frames=6, size=(12, 14), seed=5,
                                     index0=1)),
        "9f3ac81921ba057f",
    ),
    "translating_sequence": (
        lambda: _h(syn.translating_sequence(frames=5, size=(10, 12), velocity=(-1, 2), seed=3)),
        "8412e344a8077626",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generators_are_byte_stable(name: str) -> None:
    make, digest = CASES[name]
    assert make() == digest, f"{name} changed its output for a fixed seed"


def test_importing_generators_loads_neither_torch_nor_training() -> None:
    code = ("import sys, video.synthetic, video.synthetic.write; "
            "print(sorted(m for m in ('torch', 'training') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ scenes


def test_scene_frames_are_seeded() -> None:
    kw = dict(shots=2, frames_per_shot=4, size=(16, 24))
    a, starts = scene_frames("astronaut", seed=3, **kw)
    b, _ = scene_frames("astronaut", seed=3, **kw)
    c, _ = scene_frames("astronaut", seed=4, **kw)
    d, _ = scene_frames("astronaut", seed=3, index=1, **kw)
    assert a.dtype == np.uint8 and a.shape == (8, 16, 24, 3)
    assert starts == [0, 4]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a, d)


def test_scene_frames_all_scenes_load() -> None:
    for scene in SCENES:
        f, _ = scene_frames(scene, shots=1, frames_per_shot=1, size=(8, 8), noise=0)
        assert f.shape == (1, 8, 8, 3), scene
        assert f.std() > 0, scene
    with pytest.raises(BadInputError, match="astronaut"):
        scene_frames("nope")


def test_scene_frames_still_camera_only_changes_by_noise_and_gain() -> None:
    f, _ = scene_frames("chelsea", shots=1, frames_per_shot=3, size=(16, 16),
                        motion=False, noise=0, illumination=0)
    assert np.array_equal(f[0], f[1]) and np.array_equal(f[1], f[2])



# ------------------------------------------------------------------ shapes


def test_shape_frames_bad_names() -> None:
    with pytest.raises(BadInputError, match="circle"):
        shape_frames("hexagon", "static")
    with pytest.raises(BadInputError, match="left-right"):
        shape_frames("circle", "spin")



# ------------------------------------------------------------------ rotating points


def test_rotating_points_exact_rotation() -> None:
    X, angles = rotating_points(n_points=28, n_frames=360, degrees_per_frame=5.0, seed=0)
    assert X.shape == (360, 56) and X.dtype == np.float32
    assert np.allclose(angles, 5.0 * np.arange(360))
    pts = X.reshape(360, 28, 2).astype(np.float64)
    rel = pts - pts.mean(axis=1, keepdims=True)
    theta = np.degrees(np.arctan2(rel[..., 1], rel[..., 0]))
    step = (np.diff(theta, axis=0) + 180) % 360 - 180
    assert np.allclose(step, 5.0, atol=1e-3)
    # the cloud comes back to its start after 72 frames and keeps its shape
    assert np.allclose(X[72], X[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(rel, axis=2), np.linalg.norm(rel[0], axis=1), atol=1e-5)


def test_rotating_points_noise_and_seed() -> None:
    clean, _ = rotating_points(n_frames=10)
    noisy, _ = rotating_points(n_frames=10, noise=0.2)
    again, _ = rotating_points(n_frames=10, noise=0.2)
    other, _ = rotating_points(n_frames=10, noise=0.2, seed=1)
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)
    pts = clean.reshape(10, 28, 2)
    spread = np.sqrt(((pts[0] - pts[0].mean(0)) ** 2).sum(1).mean())
    assert 0.1 * spread < np.std(noisy - clean) < 0.3 * spread
    with pytest.raises(BadInputError):
        rotating_points(noise=2.0)


