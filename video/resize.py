"""Resizing of decoded frames when a back-end cannot do it while decoding."""

from __future__ import annotations

import numpy as np
from PIL import Image


def resize_frames(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``[N, H, W, 3]`` uint8 -> ``[N, size[0], size[1], 3]`` with bilinear filtering."""
    h, w = size
    if frames.shape[1:3] == (h, w):
        return frames
    out = np.empty((len(frames), h, w, 3), np.uint8)
    for i, f in enumerate(frames):
        out[i] = np.asarray(Image.fromarray(f).resize((w, h), Image.BILINEAR))
    return out
