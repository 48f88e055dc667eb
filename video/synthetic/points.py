"""Rotating points: the UL-layers paper's 2-D point cloud rotating about its centroid, 5 degrees a
frame (the rotation angle is the only hidden variable)."""

from __future__ import annotations

import numpy as np

from vidsift.errors import BadInputError
from vidsift.video.synthetic.base import keyed_rng

__all__ = ["rotating_points"]


def rotating_points(
    n_points: int = 28,
    n_frames: int = 360,
    degrees_per_frame: float = 5.0,
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The UL-layers paper's synthetic sequence: a random 2-D point cloud rotating in place.

    The only hidden variable is the rotation angle, so a good embedding of these frames should
    be a circle. Points are drawn uniformly in [-1, 1]^2 and rotated about their centroid;
    ``noise`` (the paper uses 0 to 0.4) is the std of Gaussian noise added to every coordinate,
    as a fraction of the cloud's spread (RMS distance of points from the centroid).
    Returns ``X`` float32 ``[n_frames, 2 * n_points]`` laid out ``x0, y0, x1, y1, ...`` and
    ``angles`` float64 ``[n_frames]``, the true angle in degrees (not wrapped: ``t * deg``).
    """
    if n_points < 2 or n_frames < 1:
        raise BadInputError("rotating_points needs n_points >= 2 and n_frames >= 1")
    if not 0 <= noise <= 1:
        raise BadInputError(f"noise is a fraction of the point spread in [0, 1], got {noise}")
    rng = keyed_rng(seed, "points")
    pts = rng.uniform(-1.0, 1.0, size=(n_points, 2))
    centroid = pts.mean(axis=0)
    rel = pts - centroid
    spread = float(np.sqrt((rel**2).sum(axis=1).mean()))
    angles = np.arange(n_frames, dtype=np.float64) * float(degrees_per_frame)
    theta = np.deg2rad(angles)
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    x = centroid[0] + cos * rel[None, :, 0] - sin * rel[None, :, 1]
    y = centroid[1] + sin * rel[None, :, 0] + cos * rel[None, :, 1]
    xy = np.stack([x, y], axis=2)  # [T, N, 2]
    if noise > 0:
        xy = xy + rng.normal(0.0, noise * spread, size=xy.shape)
    return xy.reshape(n_frames, 2 * n_points).astype(np.float32), angles
