"""Pixels that are not square (HDV 1440x1080 and DVD 720x480 are shown 16:9): thumbnails, made
while embedding or on demand, have the shape a player shows, not the stored one."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vidsift.embedder.thumbnails import thumbnail, thumbnail_size
from vidsift.video.reader import open_video
from vidsift.video.synthetic.scenes import scene_frames
from vidsift.video.writer import write_video
from vidsift.workspace import Workspace


def test_thumbnails_have_the_shape_a_player_shows(tmp_path, cli) -> None:
    frames, _ = scene_frames("rocket", shots=1, frames_per_shot=12, size=(108, 144))  # stored 4:3
    path = write_video(tmp_path / "v" / "hdv.mp4", frames, sample_aspect=(4, 3))  # shown 16:9
    square = write_video(tmp_path / "v" / "square.mp4", frames)
    with open_video(path) as r:
        assert r.info.sar == 4 / 3 and (r.info.display_width, r.info.height) == (192, 108)
    with open_video(square) as r:
        assert r.info.sar == 1.0 and r.info.display_width == 144
    ws = Workspace.at(tmp_path / "ws")
    assert thumbnail_size(192, 108) == (96, 170)
    assert thumbnail(ws, path, "hdv", 3).shape == (96, 170, 3)
    assert thumbnail(ws, square, "sq", 3).shape == (96, 128, 3)
    # the thumbnails `vidsift embed` writes from the same decode
    r = cli("embed", tmp_path / "v", "-e", "pixels", "-w", tmp_path / "ws2")
    assert r.code == 0, r
    shapes = [np.asarray(Image.open(p)).shape for p in (tmp_path / "ws2" / "thumbnails").rglob("3.jpg")]
    assert sorted(shapes) == [(96, 128, 3), (96, 170, 3)]


def test_a_re_encoded_clip_keeps_the_pixel_shape(tmp_path) -> None:
    from vidsift.video.cut import cut

    frames, _ = scene_frames("rocket", shots=1, frames_per_shot=25, size=(108, 144))
    path = write_video(tmp_path / "hdv.mp4", frames, sample_aspect=(4, 3))
    out = cut(path, tmp_path / "clip.mp4", 0.2, 0.8, mode="reencode")
    with open_video(out.path) as r:
        assert r.info.sar == 4 / 3
