"""Translating textures: random noise whose content moves a fixed number of pixels a frame, so
the true optical flow of every pixel is known (for the patch tracker's tests)."""

from __future__ import annotations

import numpy as np

__all__ = ["translating_sequence"]


def translating_sequence(
    frames: int = 10,
    size: tuple[int, int] = (64, 64),
    velocity: tuple[int, int] = (1, 2),
    seed: int = 0,
) -> np.ndarray:
    """uint8 [frames, H, W, 3]: a random texture whose content moves by ``velocity`` (dy, dx)
    pixels a frame (frame t = big texture cropped at offset t * velocity), for tracker tests."""
    rng = np.random.default_rng(seed)
    h, w = size
    vy, vx = velocity
    big = rng.integers(0, 256, size=(h + abs(vy) * frames + 1, w + abs(vx) * frames + 1, 3))
    big = big.astype(np.uint8)
    oy = abs(vy) * frames if vy > 0 else 0
    ox = abs(vx) * frames if vx > 0 else 0
    out = np.empty((frames, h, w, 3), np.uint8)
    for t in range(frames):
        # content moving by +v means the window moves by -v over the texture
        y, x = oy - vy * t, ox - vx * t
        out[t] = big[y : y + h, x : x + w]
    return out
