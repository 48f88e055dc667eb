"""A phone's portrait clip is stored sideways with a display matrix: frames, their sizes,
thumbnails and re-encoded clips come out turned as a player shows them (FFmpeg's angle:
counter-clockwise quarter turns), so the models, the page and the exports see it upright."""

from __future__ import annotations

import numpy as np
import pytest

from vidsift.embedder.thumbnails import thumbnail
from vidsift.video.cut import cut
from vidsift.video.reader import open_video
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


def _marked(tmp_path, rotation: int):
    frames = np.zeros((6, 48, 64, 3), np.uint8)
    frames[:, :8, :8] = 255  # a white square at the stored picture's top-left corner
    return write_video(tmp_path / f"r{rotation % 360}.mp4", frames, rotation=rotation)


def _corner(img: np.ndarray) -> tuple[str, str]:
    ys, xs = np.nonzero(img.mean(axis=2) > 128)
    h, w = img.shape[:2]
    return ("top" if ys.mean() < h / 2 else "bottom"), ("left" if xs.mean() < w / 2 else "right")


# where the stored top-left corner is shown, per FFmpeg's display angle
SHOWN = {0: ("top", "left"), 90: ("bottom", "left"), 180: ("bottom", "right"), 270: ("top", "right")}


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_frames_come_out_as_a_player_shows_them(tmp_path, rotation: int) -> None:
    path = _marked(tmp_path, rotation)
    with open_video(path) as r:
        assert r.info.rotation == rotation
        upright = (64, 48) if rotation % 180 else (48, 64)
        assert (r.info.height, r.info.width) == upright
        full = r.get_frames([2])[0]
        small = r.get_frames([2], size=(16, 12))[0]
        assert full.shape == (*upright, 3) and small.shape == (16, 12, 3)
        assert _corner(full) == SHOWN[rotation] and _corner(small) == SHOWN[rotation]
        assert full.flags["C_CONTIGUOUS"]  # torch.from_numpy refuses negative strides
    thumb = thumbnail(Workspace.at(tmp_path / "ws"), path, "v", 2)
    assert (thumb.shape[0] > thumb.shape[1]) == bool(rotation % 180)  # portrait when turned a quarter
    assert _corner(thumb) == SHOWN[rotation]


@pytest.mark.parametrize("rotation", [90, 270])
def test_a_re_encoded_clip_keeps_its_display_rotation(tmp_path, rotation: int) -> None:
    out = cut(_marked(tmp_path, rotation), tmp_path / "clip.mp4", 0.0, 0.16, mode="reencode")
    assert out.mode == "reencode"
    with open_video(out.path) as r:
        assert r.info.rotation == rotation
        assert _corner(r.get_frames([0])[0]) == SHOWN[rotation]


def test_a_portrait_phone_clip_matches_its_upright_copy(tmp_path, cli) -> None:
    """End to end: stored sideways + display matrix vs the same pictures stored upright are
    near-duplicates (sideways, their frames were unrelated pixels)."""
    import json

    from vidsift.video.synthetic.scenes import scene_frames

    stored, _ = scene_frames("astronaut", shots=2, frames_per_shot=30, size=(48, 64))
    write_video(tmp_path / "v" / "phone.mov", stored, rotation=90)
    write_video(tmp_path / "v" / "upright.mp4", np.ascontiguousarray(np.rot90(stored, 1, axes=(1, 2))))
    other, _ = scene_frames("coffee", shots=2, frames_per_shot=30, size=(64, 48))
    write_video(tmp_path / "v" / "other.mp4", other)
    ws = tmp_path / "ws"
    assert cli("embed", tmp_path / "v", "-e", "pixels", "-w", ws).code == 0
    r = cli("duplicates", "-e", "pixels", "--min-seconds", "1", "-w", ws, "--json")
    assert r.code == 0, r
    pairs = [sorted((p["a"]["path"].rsplit("/", 1)[-1], p["b"]["path"].rsplit("/", 1)[-1])) for p in json.loads(r.out)["pairs"]]
    assert pairs == [["phone.mov", "upright.mp4"]]
