"""Seeded synthetic videos whose ground truth is known exactly, as arrays + labels in memory.

Real footage cannot tell us the "right" scene label, shot boundary or motion class of every frame;
these generators can. Each returns uint8 frames ``[T, H, W, 3]`` (points: float32 coordinates)
with their labels, derived only from a seed and stable keys, so the same seed gives
byte-identical arrays. One module per kind:

* ``scenes``: a camera panning, zooming and shaking over a photo, with shots (:func:`scene_frames`)
* ``gratings``: a window panning over coloured-grating canvases with flicker (:func:`grating_videos`)
* ``shapes``: a shape moving on a textured background, ``<shape>-<motion>`` classes
  (:func:`shape_frames`, :func:`shape_frame_videos`, :func:`shape_videos`)
* ``drift``: grey pans whose class is the direction of motion (:func:`drift_videos`)
* ``points``: the UL-layers paper's rotating 2-D point cloud (:func:`rotating_points`)
* ``translation``: a texture translating by a fixed velocity (:func:`translating_sequence`)

``video.synthetic.write`` is the one writer that puts them on disk (video files, ground truth,
broken files); nothing here imports torch at import time.
"""

from vidsift.video.synthetic.drift import DRIFTS, drift_videos
from vidsift.video.synthetic.gratings import grating_canvas, grating_videos
from vidsift.video.synthetic.points import rotating_points
from vidsift.video.synthetic.scenes import SCENES, scene_frames
from vidsift.video.synthetic.shapes import (
    MOTIONS,
    SHAPES,
    shape_frame_videos,
    shape_frames,
    shape_videos,
)
from vidsift.video.synthetic.translation import translating_sequence

__all__ = [
    "DRIFTS",
    "MOTIONS",
    "SCENES",
    "SHAPES",
    "drift_videos",
    "grating_canvas",
    "grating_videos",
    "rotating_points",
    "scene_frames",
    "shape_frame_videos",
    "shape_frames",
    "shape_videos",
    "translating_sequence",
]
